import * as crypto from 'crypto';
import { GodotError, reportError } from '../core/errors';
import { checkString } from '../core/validate';
import { readFileOrReport, writeFileOrReport } from './files';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g;

/**
 * Godot's X509Certificate: one certificate, or a chain of them (the own certificate first, then the
 * certificates that signed it), as TLSOptions uses them for DTLS. Create it empty, then load it.
 */
export class X509Certificate {
  #chain: crypto.X509Certificate[] = [];

  /**
   * Loads the certificate(s) of a file: PEM (one or more) or DER (one). ERR_INVALID_PARAMETER if the
   * file cannot be read, FAILED if it holds no certificate. Certificates that do not parse are skipped,
   * as Godot does.
   */
  load(path: string): GodotError {
    checkString('X509Certificate.load', 'path', path);
    const bytes = readFileOrReport('X509Certificate.load', path);
    if (bytes === null) return GodotError.ERR_INVALID_PARAMETER;
    const text = bytes.toString('latin1');
    return this.#take('load', text.includes('-----BEGIN') ? parsePem(text) : parseDer(bytes));
  }

  /** Loads the certificate(s) of a PEM string. FAILED if it holds no certificate. */
  loadFromString(string: string): GodotError {
    checkString('X509Certificate.loadFromString', 'string', string);
    return this.#take('loadFromString', parsePem(string));
  }

  /** Writes the certificate(s) as PEM. ERR_INVALID_PARAMETER if the file cannot be written. */
  save(path: string): GodotError {
    checkString('X509Certificate.save', 'path', path);
    const pem = this.saveToString();
    return pem === '' ? GodotError.FAILED : writeFileOrReport('X509Certificate.save', path, pem);
  }

  /** The certificate(s) as PEM, own first; "" (and an error) if nothing is loaded. */
  saveToString(): string {
    if (this.#chain.length === 0) {
      reportError('X509Certificate.saveToString: the certificate is empty');
      return '';
    }
    return this.#chain.map((certificate) => toPem(certificate.raw)).join('');
  }

  /** @internal The loaded chain (own certificate first), as Node sees it; empty if nothing is loaded. */
  static chainOf(certificate: X509Certificate): readonly crypto.X509Certificate[] {
    return certificate.#chain;
  }

  #take(method: string, chain: crypto.X509Certificate[]): GodotError {
    if (chain.length === 0) {
      reportError(`X509Certificate.${method}: no certificate could be parsed`);
      return GodotError.FAILED;
    }
    this.#chain = chain;
    return GodotError.OK;
  }
}

function parsePem(text: string): crypto.X509Certificate[] {
  return (text.match(PEM_CERTIFICATE) ?? []).flatMap((block) => parseDer(block));
}

function parseDer(bytes: Buffer | string): crypto.X509Certificate[] {
  try {
    return [new crypto.X509Certificate(bytes)];
  } catch {
    return [];
  }
}

function toPem(der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}
