import { CryptoKey } from './CryptoKey';
import { X509Certificate } from './X509Certificate';
import { checkString } from '../core/validate';

enum Mode {
  CLIENT,
  CLIENT_UNSAFE,
  SERVER,
}

const createToken = Symbol('TLSOptions');

/**
 * Godot's TLSOptions: how a DTLS (or TLS) endpoint authenticates. Made only by its three factories,
 * as in Godot; ENetConnection.dtlsServerSetup / dtlsClientSetup take it.
 */
export class TLSOptions {
  readonly #mode: Mode;
  readonly #trustedChain: X509Certificate | null;
  readonly #commonNameOverride: string;
  readonly #privateKey: CryptoKey | null;
  readonly #ownCertificate: X509Certificate | null;

  private constructor(token: symbol, mode: Mode, trustedChain: X509Certificate | null, commonNameOverride: string,
    privateKey: CryptoKey | null, ownCertificate: X509Certificate | null) {
    if (token !== createToken) throw new TypeError('TLSOptions: use TLSOptions.client(), clientUnsafe() or server()');
    this.#mode = mode;
    this.#trustedChain = trustedChain;
    this.#commonNameOverride = commonNameOverride;
    this.#privateKey = privateKey;
    this.#ownCertificate = ownCertificate;
  }

  /**
   * A client that verifies the server: its certificate chain must lead to `trustedChain` (default: the
   * CA certificates Node trusts), and the certificate must be for `commonNameOverride` if given, else
   * for the hostname passed to dtlsClientSetup.
   */
  static client(trustedChain: X509Certificate | null = null, commonNameOverride = ''): TLSOptions {
    checkCertificate('TLSOptions.client', 'trustedChain', trustedChain, true);
    checkString('TLSOptions.client', 'commonNameOverride', commonNameOverride);
    return new TLSOptions(createToken, Mode.CLIENT, trustedChain, commonNameOverride, null, null);
  }

  /**
   * A client that does not check the server's name, and checks nothing at all without `trustedChain`
   * (then anyone in the path can read and change the traffic: for testing only). With `trustedChain` the
   * chain is still verified, as in Godot.
   */
  static clientUnsafe(trustedChain: X509Certificate | null = null): TLSOptions {
    checkCertificate('TLSOptions.clientUnsafe', 'trustedChain', trustedChain, true);
    return new TLSOptions(createToken, Mode.CLIENT_UNSAFE, trustedChain, '', null, null);
  }

  /** A server with its private key and certificate (chain: own certificate first, all of it is sent). */
  static server(key: CryptoKey, certificate: X509Certificate): TLSOptions {
    if (!(key instanceof CryptoKey)) throw new TypeError('TLSOptions.server: key must be a CryptoKey');
    checkCertificate('TLSOptions.server', 'certificate', certificate, false);
    return new TLSOptions(createToken, Mode.SERVER, null, '', key, certificate);
  }

  isServer(): boolean {
    return this.#mode === Mode.SERVER;
  }

  isUnsafeClient(): boolean {
    return this.#mode === Mode.CLIENT_UNSAFE;
  }

  getCommonNameOverride(): string {
    return this.#commonNameOverride;
  }

  getTrustedCaChain(): X509Certificate | null {
    return this.#trustedChain;
  }

  getPrivateKey(): CryptoKey | null {
    return this.#privateKey;
  }

  getOwnCertificate(): X509Certificate | null {
    return this.#ownCertificate;
  }
}

function checkCertificate(method: string, name: string, value: unknown, nullable: boolean): void {
  if (nullable && value == null) return;
  if (!(value instanceof X509Certificate)) {
    throw new TypeError(`${method}: ${name} must be an X509Certificate${nullable ? ' or null' : ''}`);
  }
}
