import * as crypto from 'crypto';
import { GodotError, reportError } from '../core/errors';
import { checkBool, checkString } from '../core/validate';
import { readFileOrReport, writeFileOrReport } from './files';

/**
 * Godot's CryptoKey: a private key (with its public half), or only a public key. TLSOptions.server
 * takes a private one. Create it empty, then load it.
 */
export class CryptoKey {
  #key: crypto.KeyObject | null = null;

  /**
   * Loads a key from a file, PEM or DER; `publicOnly` expects a public key. ERR_INVALID_PARAMETER if the
   * file cannot be read, FAILED if it holds no such key (encrypted keys are not supported, as in Godot).
   */
  load(path: string, publicOnly = false): GodotError {
    checkString('CryptoKey.load', 'path', path);
    checkBool('CryptoKey.load', 'publicOnly', publicOnly);
    const bytes = readFileOrReport('CryptoKey.load', path);
    if (bytes === null) return GodotError.ERR_INVALID_PARAMETER;
    return this.#take('load', parseKey(bytes, publicOnly), publicOnly);
  }

  /** Loads a key from a PEM string; `publicOnly` expects a public key. FAILED if it holds no such key. */
  loadFromString(stringKey: string, publicOnly = false): GodotError {
    checkString('CryptoKey.loadFromString', 'stringKey', stringKey);
    checkBool('CryptoKey.loadFromString', 'publicOnly', publicOnly);
    return this.#take('loadFromString', parseKey(Buffer.from(stringKey, 'utf8'), publicOnly), publicOnly);
  }

  /** Writes the key as PEM (only its public half with `publicOnly`). ERR_INVALID_PARAMETER if the file cannot be written. */
  save(path: string, publicOnly = false): GodotError {
    checkString('CryptoKey.save', 'path', path);
    checkBool('CryptoKey.save', 'publicOnly', publicOnly);
    const pem = this.saveToString(publicOnly);
    return pem === '' ? GodotError.FAILED : writeFileOrReport('CryptoKey.save', path, pem, publicOnly ? 0o644 : 0o600);
  }

  /**
   * The key as PEM, in the forms Godot (mbedTLS) writes: "RSA PRIVATE KEY" / "EC PRIVATE KEY" for those
   * kinds, PKCS#8 for others, "PUBLIC KEY" with `publicOnly`. "" (and an error) if there is no such key.
   */
  saveToString(publicOnly = false): string {
    checkBool('CryptoKey.saveToString', 'publicOnly', publicOnly);
    const key = this.#key;
    if (key === null || (key.type === 'public' && !publicOnly)) {
      reportError(`CryptoKey.saveToString: ${key === null ? 'the key is empty' : 'only a public key is loaded'}`);
      return '';
    }
    if (publicOnly) return (key.type === 'public' ? key : crypto.createPublicKey(key)).export({ type: 'spki', format: 'pem' }).toString();
    const type = key.asymmetricKeyType === 'rsa' ? 'pkcs1' : key.asymmetricKeyType === 'ec' ? 'sec1' : 'pkcs8';
    return key.export({ type, format: 'pem' } as crypto.KeyExportOptions<'pem'>).toString();
  }

  /** Whether only a public key is loaded (or nothing). */
  isPublicOnly(): boolean {
    return this.#key === null || this.#key.type === 'public';
  }

  /** @internal The loaded key as Node sees it, or null. */
  static keyObjectOf(key: CryptoKey): crypto.KeyObject | null {
    return key.#key;
  }

  #take(method: string, key: crypto.KeyObject | null, publicOnly: boolean): GodotError {
    if (key === null) {
      reportError(`CryptoKey.${method}: no ${publicOnly ? 'public' : 'private'} key could be parsed`);
      return GodotError.FAILED;
    }
    this.#key = key;
    return GodotError.OK;
  }
}

// A private key (PEM, or DER as PKCS#8, PKCS#1 or SEC1), or with `publicOnly` a public key (PEM, or DER
// as SPKI or PKCS#1) and nothing else, as mbedTLS's parsers do.
function parseKey(bytes: Buffer, publicOnly: boolean): crypto.KeyObject | null {
  const pem = bytes.toString('latin1').includes('-----BEGIN');
  if (pem && publicOnly === /PRIVATE KEY-----/.test(bytes.toString('latin1'))) return null;
  const types = pem ? [undefined] : publicOnly ? ['spki', 'pkcs1'] : ['pkcs8', 'pkcs1', 'sec1'];
  for (const type of types) {
    const input = { key: bytes, format: pem ? 'pem' : 'der', type } as crypto.PrivateKeyInput & crypto.PublicKeyInput;
    try {
      return publicOnly ? crypto.createPublicKey(input) : crypto.createPrivateKey(input);
    } catch {
      // not in this form
    }
  }
  return null;
}
