/**
 * What the DTLS tests need: certificates made on the spot with the openssl CLI (no private key is
 * committed), a reader of DTLS records written in the test from RFC 6347 (independent of the addon), a
 * ClientHello editor for the handshake floods, and raw UDP sockets. The recording relay is godot3-peer's
 * UdpRelay.
 */
import { execFileSync } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { afterAll, beforeAll } from '@jest/globals';
import { CryptoKey, TLSOptions, X509Certificate } from '../../src';

// ------------------------------------------------------------------------------------------------
// Certificates

export interface Pki {
  dir: string;
  /** The test CA that signed the server certificates. */
  caPem: string;
  /** CN=localhost, SAN DNS:localhost + IP:127.0.0.1, RSA 2048, signed by the CA. */
  serverKeyPem: string;
  serverCertPem: string;
  /** The same key and name, self-signed by a CA nobody trusts. */
  rogueCaPem: string;
  rogueCertPem: string;
  /** CN=other.example (SAN DNS:other.example), signed by the CA. */
  otherCertPem: string;
  /** A chain (leaf, two intermediates) so large that an mbedTLS server's flight exceeds 4096 bytes. */
  bigChainPem: string;
  /** Paths of the same, for godot3-server (which loads from files). */
  files: Record<'ca' | 'serverKey' | 'serverCert' | 'bigChain', string>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function caCertificate(dir: string, name: string, subject: string, signer: string | null): void {
  openssl(dir, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`]);
  const extensions = 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n';
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, extensions);
  if (signer !== null) {
    signCertificate(dir, name, subject, signer, ext);
    return;
  }
  const config = path.join(dir, `${name}.cnf`);
  fs.writeFileSync(config, `[req]\ndistinguished_name=dn\nx509_extensions=v3\n[dn]\n[v3]\n${extensions}`);
  openssl(dir, ['req', '-x509', '-new', '-key', `${name}.key`, '-subj', subject, '-days', '2', '-config', config,
    '-out', `${name}.pem`]);
}

function signCertificate(dir: string, name: string, subject: string, signer: string, extFile: string): void {
  openssl(dir, ['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`]);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${signer}.pem`, '-CAkey', `${signer}.key`,
    '-set_serial', String(1000 + Math.floor(Math.random() * 1e9)), '-days', '2', '-extfile', extFile, '-out', `${name}.pem`]);
}

function leafCertificate(dir: string, name: string, key: string, subject: string, san: string, signer: string): void {
  if (key !== name) fs.copyFileSync(path.join(dir, `${key}.key`), path.join(dir, `${name}.key`));
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n` +
    `extendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
  signCertificate(dir, name, subject, signer, ext);
}

/** Makes the test PKI in a fresh temporary directory (about a second). */
export function makePki(): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'godot-enet-dtls-'));
  caCertificate(dir, 'ca', '/CN=godot-enet test CA', null);
  caCertificate(dir, 'rogue', '/CN=Rogue CA', null);
  openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'server.key']);
  leafCertificate(dir, 'server', 'server', '/CN=localhost', 'DNS:localhost,IP:127.0.0.1', 'ca');
  leafCertificate(dir, 'rogue-server', 'server', '/CN=localhost', 'DNS:localhost,IP:127.0.0.1', 'rogue');
  leafCertificate(dir, 'other', 'server', '/CN=other.example', 'DNS:other.example', 'ca');
  // The big chain: two intermediates and a leaf with a long list of names, all under the same CA.
  caCertificate(dir, 'inter1', '/CN=godot-enet intermediate 1', 'ca');
  caCertificate(dir, 'inter2', '/CN=godot-enet intermediate 2', 'inter1');
  const names = Array.from({ length: 120 }, (_, i) => `DNS:name-${i}.padding.godot-enet.test`).join(',');
  leafCertificate(dir, 'big', 'server', '/CN=localhost', `DNS:localhost,IP:127.0.0.1,${names}`, 'inter2');
  const read = (file: string) => fs.readFileSync(path.join(dir, file), 'utf8');
  const bigChainPem = read('big.pem') + read('inter2.pem') + read('inter1.pem');
  fs.writeFileSync(path.join(dir, 'big-chain.pem'), bigChainPem);
  return {
    dir,
    caPem: read('ca.pem'),
    serverKeyPem: read('server.key'),
    serverCertPem: read('server.pem'),
    rogueCaPem: read('rogue.pem'),
    rogueCertPem: read('rogue-server.pem'),
    otherCertPem: read('other.pem'),
    bigChainPem,
    files: {
      ca: path.join(dir, 'ca.pem'),
      serverKey: path.join(dir, 'server.key'),
      serverCert: path.join(dir, 'server.pem'),
      bigChain: path.join(dir, 'big-chain.pem'),
    },
  };
}

/** The test PKI of the calling test file: filled in before its tests, removed after them. */
export function usePki(): Pki {
  const pki = {} as Pki;
  beforeAll(() => {
    Object.assign(pki, makePki());
  });
  afterAll(() => {
    if (pki.dir !== undefined) fs.rmSync(pki.dir, { recursive: true, force: true });
  });
  return pki;
}

export function certificate(pem: string): X509Certificate {
  const certificate = new X509Certificate();
  if (certificate.loadFromString(pem) !== 0) throw new Error('test certificate did not load');
  return certificate;
}

export function key(pem: string): CryptoKey {
  const key = new CryptoKey();
  if (key.loadFromString(pem) !== 0) throw new Error('test key did not load');
  return key;
}

export function serverOptions(pki: Pki, certPem = pki.serverCertPem): TLSOptions {
  return TLSOptions.server(key(pki.serverKeyPem), certificate(certPem));
}

export function clientOptions(pki: Pki, commonNameOverride = ''): TLSOptions {
  return TLSOptions.client(certificate(pki.caPem), commonNameOverride);
}

// ------------------------------------------------------------------------------------------------
// DTLS records (RFC 6347 §4.1), read independently of the addon.

export const CONTENT = { CHANGE_CIPHER_SPEC: 20, ALERT: 21, HANDSHAKE: 22, APPLICATION_DATA: 23 } as const;
export const HANDSHAKE = { CLIENT_HELLO: 1, SERVER_HELLO: 2, HELLO_VERIFY_REQUEST: 3 } as const;

export interface DtlsRecord {
  type: number;
  version: number;
  epoch: number;
  sequence: number;
  body: Buffer;
}

/** The records of one datagram; throws if the datagram is not a whole number of records. */
export function parseRecords(datagram: Buffer): DtlsRecord[] {
  const records: DtlsRecord[] = [];
  let at = 0;
  while (at < datagram.length) {
    if (datagram.length - at < 13) throw new Error(`${datagram.length - at} stray byte(s) after ${records.length} record(s)`);
    const length = datagram.readUInt16BE(at + 11);
    if (at + 13 + length > datagram.length) throw new Error('a record runs past the datagram');
    records.push({
      type: datagram[at],
      version: datagram.readUInt16BE(at + 1),
      epoch: datagram.readUInt16BE(at + 3),
      sequence: datagram.readUIntBE(at + 5, 6),
      body: datagram.subarray(at + 13, at + 13 + length),
    });
    at += 13 + length;
  }
  return records;
}

/** The handshake message type of an unencrypted handshake record, or -1. */
export function handshakeType(record: DtlsRecord): number {
  return record.type === CONTENT.HANDSHAKE && record.epoch === 0 && record.body.length >= 12 ? record.body[0] : -1;
}

/** The cipher suite a ServerHello record chose (its first fragment must hold it). */
export function serverHelloCipher(record: DtlsRecord): number {
  const body = record.body.subarray(12); // handshake header
  const sessionIdLength = body[2 + 32];
  return body.readUInt16BE(2 + 32 + 1 + sessionIdLength);
}

/** IANA numbers of the suites Godot and we may agree on: ECDHE with AES-GCM or ChaCha20-Poly1305. */
export const ECDHE_AEAD_SUITES: Record<number, string> = {
  0xc02b: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  0xc02c: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  0xc02f: 'ECDHE-RSA-AES128-GCM-SHA256',
  0xc030: 'ECDHE-RSA-AES256-GCM-SHA384',
  0xcca8: 'ECDHE-RSA-CHACHA20-POLY1305',
  0xcca9: 'ECDHE-ECDSA-CHACHA20-POLY1305',
};

/** The cookie of a HelloVerifyRequest datagram. */
export function helloVerifyCookie(datagram: Buffer): Buffer {
  const [record] = parseRecords(datagram);
  if (handshakeType(record) !== HANDSHAKE.HELLO_VERIFY_REQUEST) throw new Error('not a HelloVerifyRequest');
  const body = record.body.subarray(12);
  return Buffer.from(body.subarray(3, 3 + body[2]));
}

/** A ClientHello datagram (one record, one unfragmented message) carrying `cookie`, as its second try. */
export function withCookie(clientHello: Buffer, cookie: Buffer): Buffer {
  const [record] = parseRecords(clientHello);
  const header = record.body.subarray(0, 12);
  const body = record.body.subarray(12);
  const cookieAt = 2 + 32 + 1 + body[2 + 32];
  const newBody = Buffer.concat([body.subarray(0, cookieAt), Buffer.from([cookie.length]), cookie,
    body.subarray(cookieAt + 1 + body[cookieAt])]);
  const newHeader = Buffer.from(header);
  newHeader.writeUIntBE(newBody.length, 1, 3); // length
  newHeader.writeUInt16BE(1, 4); // message_seq
  newHeader.writeUIntBE(0, 6, 3); // fragment_offset
  newHeader.writeUIntBE(newBody.length, 9, 3); // fragment_length
  const recordHeader = Buffer.from(clientHello.subarray(0, 13));
  recordHeader.writeUIntBE(1, 5, 6); // sequence number
  recordHeader.writeUInt16BE(12 + newBody.length, 11);
  return Buffer.concat([recordHeader, newHeader, newBody]);
}

// ------------------------------------------------------------------------------------------------
// Raw UDP sockets for the tests that speak (or mangle) DTLS by hand.

export class RawSocket {
  readonly received: Buffer[] = [];

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (message) => this.received.push(Buffer.from(message)));
  }

  static async open(): Promise<RawSocket> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new RawSocket(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(bytes: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
