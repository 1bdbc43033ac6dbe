/**
 * DTLS between our own client and server (dtls_layer.c on Node's OpenSSL), on real UDP loopback: Godot's
 * crypto classes, the setup calls and their error returns, the wire (read by test/helpers/dtls.ts, not by
 * the addon), certificate verification, and hostile traffic. Interop with a real Godot DTLS stack is in
 * dtls-godot3.test.ts.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'child_process';
import { createHash, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  CompressionMode,
  CryptoKey,
  ENetConnection,
  ENetMultiplayerPeer,
  ENetPacketPeer,
  EventType,
  GodotError,
  TLSOptions,
  TransferMode,
  X509Certificate,
  setErrorReporter,
} from '../src';
import { RecordingHost } from './helpers/recording-host';
import { pumpUntil } from './helpers/py-peer';
import {
  CONTENT,
  ECDHE_AEAD_SUITES,
  HANDSHAKE,
  RawSocket,
  certificate,
  clientOptions,
  handshakeType,
  helloVerifyCookie,
  key,
  usePki,
  parseRecords,
  serverHelloCipher,
  serverOptions,
  withCookie,
} from './helpers/dtls';
import { REPO_ROOT } from './helpers/loopback';
import { UdpRelay } from './helpers/godot3-peer';
import * as scene from './helpers/scene';

scene.closePeersAfterEach();

const { OK, FAILED, ERR_UNAVAILABLE, ERR_UNCONFIGURED, ERR_INVALID_PARAMETER } = GodotError;
const RELIABLE = ENetPacketPeer.FLAG_RELIABLE;
const UNSEQUENCED = ENetPacketPeer.FLAG_UNSEQUENCED;
const DEADLINE_MS = 5000;

const pki = usePki();

let reported: string[] = [];
setErrorReporter((message) => reported.push(message));
function takeReports(): string[] {
  const taken = reported;
  reported = [];
  return taken;
}

const live: Array<{ destroy(): void }> = [];
afterEach(async () => {
  for (const thing of live.splice(0)) thing.destroy();
  reported = [];
});

function track<T extends { destroy(): void } | { close(): Promise<void> }>(thing: T): T {
  live.push('destroy' in thing ? thing : { destroy: () => void (thing as { close(): Promise<void> }).close() });
  return thing;
}

function dtlsServer(options: TLSOptions = serverOptions(pki), maxPeers = 32): RecordingHost {
  const server = track(new RecordingHost());
  expect(server.conn.createHostBound('127.0.0.1', 0, maxPeers)).toBe(OK);
  expect(server.conn.dtlsServerSetup(options)).toBe(OK);
  return server;
}

interface Client {
  host: RecordingHost;
  peer: ENetPacketPeer;
}

function dtlsClient(port: number, hostname = 'localhost', options: TLSOptions = clientOptions(pki), bindPort = -1): Client {
  const host = track(new RecordingHost());
  expect(bindPort >= 0 ? host.conn.createHostBound('127.0.0.1', bindPort, 1) : host.conn.createHost(1)).toBe(OK);
  const peer = host.conn.connectToHost('127.0.0.1', port);
  if (peer === null) throw new Error('connectToHost failed');
  expect(host.conn.dtlsClientSetup(hostname, options)).toBe(OK);
  return { host, peer };
}

const pumpAll = (...hosts: RecordingHost[]) => () => {
  for (const host of hosts) host.pump();
};

async function connect(server: RecordingHost, client: Client): Promise<ENetPacketPeer> {
  const before = server.connects.length;
  await pumpUntil(() => client.host.connects.length > 0 && server.connects.length > before, pumpAll(server, client.host),
    DEADLINE_MS, 'the DTLS connection');
  return server.connects[server.connects.length - 1].peer;
}

/** Pumps `hosts` for `ms` (to show that something does not happen). */
async function pumpFor(ms: number, ...hosts: RecordingHost[]): Promise<void> {
  const until = Date.now() + ms;
  await pumpUntil(() => Date.now() >= until, pumpAll(...hosts), ms + 1000, `${ms} ms`);
}

function sha(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every datagram after the handshake is exactly one DTLS 1.2 application-data record of epoch 1. */
function expectOneRecordPerDatagram(relay: UdpRelay): number {
  let checked = 0;
  let handshakeOver = false;
  for (const { bytes } of relay.datagrams) {
    const records = parseRecords(bytes);
    if (!handshakeOver) {
      handshakeOver = records.some((r) => r.type === CONTENT.APPLICATION_DATA);
      if (!handshakeOver) continue;
    }
    expect(records.map((r) => [r.type, r.version, r.epoch])).toEqual([[CONTENT.APPLICATION_DATA, 0xfefd, 1]]);
    checked++;
  }
  return checked;
}

// ------------------------------------------------------------------------------------------------

describe('X509Certificate, CryptoKey, TLSOptions', () => {
  test('a certificate chain round-trips through PEM strings and files, own certificate first', () => {
    const chain = new X509Certificate();
    expect(chain.loadFromString(pki.bigChainPem)).toBe(OK);
    const pem = chain.saveToString();
    expect(pem.match(/-----BEGIN CERTIFICATE-----/g)).toHaveLength(3);
    expect(pem.replace(/\s/g, '')).toBe(pki.bigChainPem.replace(/\s/g, ''));
    const file = path.join(pki.dir, 'saved-chain.pem');
    expect(chain.save(file)).toBe(OK);
    const again = new X509Certificate();
    expect(again.load(file)).toBe(OK);
    expect(again.saveToString()).toBe(pem);
  });

  test('a DER file loads; a missing file is ERR_INVALID_PARAMETER, garbage FAILED, an empty one saves nothing', () => {
    const der = path.join(pki.dir, 'server.der');
    fs.writeFileSync(der, Buffer.from(pki.serverCertPem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
    const fromDer = new X509Certificate();
    expect(fromDer.load(der)).toBe(OK);
    expect(fromDer.saveToString().replace(/\s/g, '')).toBe(pki.serverCertPem.replace(/\s/g, ''));
    expect(new X509Certificate().load(path.join(pki.dir, 'missing.pem'))).toBe(ERR_INVALID_PARAMETER);
    expect(new X509Certificate().loadFromString('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')).toBe(FAILED);
    expect(new X509Certificate().loadFromString('not a certificate')).toBe(FAILED);
    expect(new X509Certificate().saveToString()).toBe('');
    expect(takeReports()).toHaveLength(4);
  });

  test('keys are written the way mbedTLS writes them; public-only keys stay public', () => {
    const rsa = key(pki.serverKeyPem);
    expect(rsa.isPublicOnly()).toBe(false);
    expect(rsa.saveToString()).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    const publicPem = rsa.saveToString(true);
    expect(publicPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const ec = key(fs.readFileSync(path.join(pki.dir, 'ca.key'), 'utf8'));
    expect(ec.saveToString()).toMatch(/^-----BEGIN EC PRIVATE KEY-----\n/);

    const pub = new CryptoKey();
    expect(pub.loadFromString(publicPem, true)).toBe(OK);
    expect(pub.isPublicOnly()).toBe(true);
    expect(pub.saveToString(true)).toBe(publicPem);
    expect(pub.saveToString()).toBe(''); // no private half to write
    expect(new CryptoKey().loadFromString(pki.serverKeyPem, true)).toBe(FAILED); // as mbedtls_pk_parse_public_key
    expect(new CryptoKey().loadFromString(publicPem)).toBe(FAILED);
    expect(new CryptoKey().load(path.join(pki.dir, 'missing.key'))).toBe(ERR_INVALID_PARAMETER);

    const file = path.join(pki.dir, 'saved.key');
    expect(rsa.save(file)).toBe(OK);
    const again = new CryptoKey();
    expect(again.load(file)).toBe(OK);
    expect(again.saveToString()).toBe(rsa.saveToString());
  });

  test("TLSOptions: Godot's three factories and getters, no public constructor", () => {
    const ca = certificate(pki.caPem);
    const client = TLSOptions.client(ca, 'example.org');
    expect([client.isServer(), client.isUnsafeClient(), client.getCommonNameOverride()]).toEqual([false, false, 'example.org']);
    expect(client.getTrustedCaChain()).toBe(ca);
    expect(TLSOptions.client().getTrustedCaChain()).toBeNull();
    const unsafe = TLSOptions.clientUnsafe();
    expect([unsafe.isServer(), unsafe.isUnsafeClient(), unsafe.getTrustedCaChain()]).toEqual([false, true, null]);
    const k = key(pki.serverKeyPem);
    const c = certificate(pki.serverCertPem);
    const server = TLSOptions.server(k, c);
    expect([server.isServer(), server.getPrivateKey(), server.getOwnCertificate()]).toEqual([true, k, c]);
    expect(() => TLSOptions.client('ca.pem' as unknown as X509Certificate)).toThrow(TypeError);
    expect(() => TLSOptions.server(c as unknown as CryptoKey, c)).toThrow(TypeError);
    expect(() => new (TLSOptions as unknown as new () => TLSOptions)()).toThrow(TypeError);
  });
});

describe("setup: Godot's error returns", () => {
  test('without a host: ERR_UNCONFIGURED', () => {
    expect(new ENetConnection().dtlsServerSetup(serverOptions(pki))).toBe(ERR_UNCONFIGURED);
    expect(new ENetConnection().dtlsClientSetup('localhost', clientOptions(pki))).toBe(ERR_UNCONFIGURED);
    expect(takeReports()).toHaveLength(2);
  });

  test("options of the wrong side, or none (Godot's default client_options is null): ERR_INVALID_PARAMETER", () => {
    const host = track(new ENetConnection());
    expect(host.createHostBound('127.0.0.1', 0)).toBe(OK);
    expect(host.dtlsServerSetup(null)).toBe(ERR_INVALID_PARAMETER);
    expect(host.dtlsServerSetup(clientOptions(pki))).toBe(ERR_INVALID_PARAMETER);
    expect(host.dtlsClientSetup('localhost')).toBe(ERR_INVALID_PARAMETER);
    expect(host.dtlsClientSetup('localhost', serverOptions(pki))).toBe(ERR_INVALID_PARAMETER);
    expect(takeReports()).toHaveLength(4);
    expect(host.getCounters()?.dtls).toBeNull();
  });

  test('a key that does not match the certificate, or no key: ERR_INVALID_PARAMETER with the reason', () => {
    const host = track(new ENetConnection());
    expect(host.createHostBound('127.0.0.1', 0)).toBe(OK);
    const otherKey = key(fs.readFileSync(path.join(pki.dir, 'ca.key'), 'utf8'));
    expect(host.dtlsServerSetup(TLSOptions.server(otherKey, certificate(pki.serverCertPem)))).toBe(ERR_INVALID_PARAMETER);
    expect(takeReports()).toEqual([expect.stringMatching(/does not match the certificate/)]);
    expect(host.dtlsServerSetup(TLSOptions.server(new CryptoKey(), certificate(pki.serverCertPem)))).toBe(ERR_INVALID_PARAMETER);
    expect(host.dtlsServerSetup(TLSOptions.server(key(pki.serverKeyPem), new X509Certificate()))).toBe(ERR_INVALID_PARAMETER);
  });

  test('no name to verify: ERR_INVALID_PARAMETER (clientUnsafe needs none)', () => {
    const host = track(new ENetConnection());
    expect(host.createHost(1)).toBe(OK);
    expect(host.dtlsClientSetup('', clientOptions(pki))).toBe(ERR_INVALID_PARAMETER);
    expect(host.dtlsClientSetup('', TLSOptions.clientUnsafe())).toBe(OK);
  });

  test('a second setup: FAILED (the socket is already upgraded, as in Godot)', () => {
    const server = track(new ENetConnection());
    expect(server.createHostBound('127.0.0.1', 0)).toBe(OK);
    expect(server.dtlsServerSetup(serverOptions(pki))).toBe(OK);
    expect(server.dtlsServerSetup(serverOptions(pki))).toBe(FAILED);
    expect(server.dtlsClientSetup('localhost', clientOptions(pki))).toBe(FAILED);
    const client = track(new ENetConnection());
    expect(client.createHost(1)).toBe(OK);
    expect(client.dtlsClientSetup('localhost', clientOptions(pki))).toBe(OK);
    expect(client.dtlsClientSetup('localhost', clientOptions(pki))).toBe(FAILED);
    expect(server.getCounters()?.dtls).toMatchObject({ sessions: 0, pendingHandshakes: 0 });
  });

  test('arguments of the wrong type throw', () => {
    const host = track(new ENetConnection());
    expect(host.createHost(1)).toBe(OK);
    expect(() => host.dtlsServerSetup({} as TLSOptions)).toThrow(TypeError);
    expect(() => host.dtlsClientSetup(5 as unknown as string, clientOptions(pki))).toThrow(TypeError);
    expect(() => host.dtlsClientSetup('localhost', 'options' as unknown as TLSOptions)).toThrow(TypeError);
  });

  test('a Node without OpenSSL 3: both setups return ERR_UNAVAILABLE, plain ENet keeps working', () => {
    // GODOT_ENET_NO_OPENSSL plays a runtime whose OpenSSL symbols are missing (Node --without-ssl, BoringSSL).
    const script = `
      const { ENetConnection, TLSOptions, setErrorReporter } = require(${JSON.stringify(REPO_ROOT)});
      const reports = []; setErrorReporter((m) => reports.push(m));
      const server = new ENetConnection(); server.createHostBound('127.0.0.1', 0);
      const client = new ENetConnection(); client.createHost(1);
      const results = [server.dtlsServerSetup(null), client.dtlsClientSetup('localhost', TLSOptions.clientUnsafe())];
      const peer = client.connectToHost('127.0.0.1', server.getLocalPort());
      let connected = 0; const deadline = Date.now() + 5000;
      while (connected < 2 && Date.now() < deadline) {
        if (server.service(1)[0] === 1) connected++;
        if (client.service(1)[0] === 1) connected++;
      }
      console.log(JSON.stringify({ results, reports, connected }));`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, GODOT_ENET_NO_OPENSSL: '1' } });
    expect(run.status).toBe(0);
    const out = JSON.parse(run.stdout) as { results: number[]; reports: string[]; connected: number };
    expect(out.results).toEqual([ERR_UNAVAILABLE, ERR_UNAVAILABLE]);
    expect(out.reports).toEqual([expect.stringMatching(/DTLS is not available/), expect.stringMatching(/DTLS is not available/)]);
    expect(out.connected).toBe(2);
  });
});

describe('our client and our server', () => {
  test('connect after a cookie exchange; ECDHE+AEAD; every later datagram is one DTLS 1.2 record; 1 MiB each way', async () => {
    const server = dtlsServer();
    const relay = track(await UdpRelay.start(server.conn.getLocalPort()));
    const client = dtlsClient(relay.port);
    const serverPeer = await connect(server, client);

    // The handshake on the wire: a HelloVerifyRequest first, then a ServerHello with an ECDHE AEAD suite.
    const fromServer = relay.datagrams.filter((d) => d.dir === 'fromServer').map((d) => parseRecords(d.bytes));
    expect(handshakeType(fromServer[0][0])).toBe(HANDSHAKE.HELLO_VERIFY_REQUEST);
    const serverHello = fromServer[1][0];
    expect(handshakeType(serverHello)).toBe(HANDSHAKE.SERVER_HELLO);
    expect(ECDHE_AEAD_SUITES[serverHelloCipher(serverHello)]).toBeDefined();
    expect(server.conn.getCounters()?.dtls).toMatchObject({ sessions: 1, pendingHandshakes: 0, helloVerifyRequests: 1, handshakesCompleted: 1 });

    const big = [randomBytes(1 << 20), randomBytes(1 << 20)];
    client.peer.send(0, big[0], RELIABLE);
    serverPeer.send(0, big[1], RELIABLE);
    client.peer.send(1, Buffer.from('unsequenced'), UNSEQUENCED);
    serverPeer.send(1, Buffer.from('unreliable'), 0);
    await pumpUntil(() => server.received.length >= 2 && client.host.received.length >= 2, pumpAll(server, client.host), 20000,
      '1 MiB each way');
    expect(server.received.map((g) => sha(g.data)).sort()).toEqual([sha(big[0]), sha(Buffer.from('unsequenced'))].sort());
    expect(client.host.received.map((g) => sha(g.data)).sort()).toEqual([sha(big[1]), sha(Buffer.from('unreliable'))].sort());
    expect(expectOneRecordPerDatagram(relay)).toBeGreaterThan(1500);
  }, 30000);

  test.each([
    CompressionMode.COMPRESS_NONE,
    CompressionMode.COMPRESS_RANGE_CODER,
    CompressionMode.COMPRESS_FASTLZ,
    CompressionMode.COMPRESS_ZLIB,
    CompressionMode.COMPRESS_ZSTD,
  ])('compression mode %i inside DTLS', async (mode) => {
    const server = dtlsServer();
    server.conn.compress(mode);
    const relay = track(await UdpRelay.start(server.conn.getLocalPort()));
    const client = dtlsClient(relay.port);
    client.host.conn.compress(mode);
    const serverPeer = await connect(server, client);
    const text = Buffer.from('"position":[1,2,3],"velocity":[0,0,0],'.repeat(100));
    client.peer.send(0, text, RELIABLE);
    serverPeer.send(1, text.subarray(0, 900), UNSEQUENCED);
    await pumpUntil(() => server.received.length >= 1 && client.host.received.length >= 1, pumpAll(server, client.host),
      DEADLINE_MS, 'a packet each way');
    expect(server.received[0].data.equals(text)).toBe(true);
    expect(client.host.received[0].data.equals(text.subarray(0, 900))).toBe(true);
    expect(expectOneRecordPerDatagram(relay)).toBeGreaterThan(1);
    if (mode !== CompressionMode.COMPRESS_NONE) {
      // Compressed before encryption: the 3900-byte packet fits one small record instead of three full ones.
      const sizes = relay.datagrams.filter((d) => d.dir === 'fromClient').map((d) => d.bytes.length);
      expect(Math.max(...sizes)).toBeLessThan(1000);
    }
  });

  test('ENetMultiplayerPeer on both ends (setup on .host right after createServer / createClient, as in Godot)', async () => {
    const server = new ENetMultiplayerPeer();
    const client = new ENetMultiplayerPeer();
    live.push({ destroy: () => server.close() }, { destroy: () => client.close() });
    expect(server.createServer(0, 4)).toBe(OK);
    expect(server.host?.dtlsServerSetup(serverOptions(pki))).toBe(OK);
    const port = server.host?.getLocalPort() ?? 0;
    expect(client.createClient('127.0.0.1', port)).toBe(OK);
    expect(client.host?.dtlsClientSetup('localhost', clientOptions(pki))).toBe(OK);
    const joined: number[] = [];
    const left: number[] = [];
    server.on('peer_connected', (id: number) => joined.push(id));
    server.on('peer_disconnected', (id: number) => left.push(id));
    let clientConnected = false;
    client.on('peer_connected', () => (clientConnected = true));
    const poll = () => {
      server.poll();
      if (client.getConnectionStatus() !== 0) client.poll();
    };
    await pumpUntil(() => joined.length === 1 && clientConnected, poll, DEADLINE_MS, 'peer_connected on both ends');
    expect(joined[0]).toBe(client.getUniqueId());

    client.setTransferMode(TransferMode.TRANSFER_MODE_RELIABLE);
    client.putPacket(Buffer.from('hello server'));
    server.setTargetPeer(joined[0]);
    server.setTransferMode(TransferMode.TRANSFER_MODE_UNRELIABLE);
    server.putPacket(Buffer.from('hello client'));
    await pumpUntil(() => server.getAvailablePacketCount() > 0 && client.getAvailablePacketCount() > 0, poll, DEADLINE_MS,
      'a packet each way');
    expect(server.getPacket().toString()).toBe('hello server');
    expect(client.getPacket().toString()).toBe('hello client');

    client.close();
    await pumpUntil(() => left.length === 1, () => server.poll(), DEADLINE_MS, 'peer_disconnected');
    // The end of the ENet connection closed its DTLS session.
    expect(server.host?.getCounters()?.dtls).toMatchObject({ sessions: 0, handshakesCompleted: 1 });
  });

  test('SceneMultiplayer on top: clients meet through the relay and send bytes, all over DTLS', async () => {
    const server = scene.sceneServer();
    expect(server.peer.host?.dtlsServerSetup(serverOptions(pki))).toBe(OK);
    const clients = [scene.sceneClient(server.port), scene.sceneClient(server.port)];
    for (const client of clients) expect(client.peer.host?.dtlsClientSetup('localhost', clientOptions(pki))).toBe(OK);
    const [a, b] = clients;
    await scene.pumpUntil([server, a, b], () => a.mp.getPeers().length === 2 && b.mp.getPeers().length === 2, 'everyone to meet');
    const got: string[] = [];
    b.mp.on('peer_packet', (id: number, data: Buffer) => got.push(`${id === a.mp.getUniqueId() ? 'a' : id}:${data.toString()}`));
    server.mp.on('peer_packet', (id: number, data: Buffer) => got.push(`server<${id === a.mp.getUniqueId() ? 'a' : id}:${data.toString()}`));
    expect(a.mp.sendBytes(Buffer.from('to b'), b.mp.getUniqueId())).toBe(OK);
    expect(a.mp.sendBytes(Buffer.from('to server'), 1)).toBe(OK);
    await scene.pumpUntil([server, a, b], () => got.length === 2, 'two packets');
    expect(got.sort()).toEqual(['a:to b', 'server<a:to server']);
    expect(server.peer.host?.getCounters()?.dtls).toMatchObject({ sessions: 2, handshakesCompleted: 2 });
  });

  test('the end of an ENet connection closes its session with close_notify; the client reports it once', async () => {
    const server = dtlsServer();
    const client = dtlsClient(server.conn.getLocalPort());
    const serverPeer = await connect(server, client);
    serverPeer.peerDisconnect(7);
    await pumpUntil(() => client.host.disconnects.length === 1 && client.host.errorEvents === 1, pumpAll(server, client.host),
      DEADLINE_MS, 'DISCONNECT, then the close_notify');
    expect(client.host.disconnects[0].data).toBe(7);
    expect(server.conn.getCounters()?.dtls?.sessions).toBe(0);
    expect(client.host.conn.getCounters()?.dtls).toMatchObject({ sessions: 0, sessionsClosed: 1 });
    expect(takeReports()).toEqual([expect.stringMatching(/closed the session \(close_notify\)/)]);
  });
});

describe('certificate verification', () => {
  async function expectRejected(server: RecordingHost, client: Client, reason: RegExp): Promise<void> {
    const connected = server.connects.length;
    await pumpUntil(() => client.host.errorEvents > 0, pumpAll(server, client.host), DEADLINE_MS, 'EVENT_ERROR');
    await pumpFor(300, server, client.host);
    expect(client.host.connects).toHaveLength(0);
    expect(server.connects).toHaveLength(connected);
    const reports = takeReports();
    expect(reports.length).toBeGreaterThan(0);
    for (const report of reports) expect(report).toMatch(reason);
    expect(client.host.conn.getCounters()?.dtls?.handshakesFailed).toBeGreaterThan(0);
  }

  test('a certificate for another name fails the connection: EVENT_ERROR saying so', async () => {
    const server = dtlsServer(serverOptions(pki, pki.otherCertPem));
    const client = dtlsClient(server.conn.getLocalPort(), 'localhost');
    await expectRejected(server, client, /certificate verification failed: .*not for the expected name.*"localhost"/);
  });

  test('a chain that does not lead to the trusted CA fails: EVENT_ERROR saying so', async () => {
    const server = dtlsServer(serverOptions(pki, pki.rogueCertPem));
    const client = dtlsClient(server.conn.getLocalPort(), 'localhost');
    await expectRejected(server, client, /certificate verification failed: .*not trusted/);
  });

  test('client() without a chain trusts only the CAs Node trusts: our test CA is not one of them', async () => {
    const server = dtlsServer();
    const client = dtlsClient(server.conn.getLocalPort(), 'localhost', TLSOptions.client());
    await expectRejected(server, client, /not trusted/);
  });

  test('the failing client starts over with its next datagram, as Godot (ENet retransmits the CONNECT)', async () => {
    const server = dtlsServer(serverOptions(pki, pki.rogueCertPem));
    const client = dtlsClient(server.conn.getLocalPort(), 'localhost');
    await pumpUntil(() => client.host.errorEvents >= 2, pumpAll(server, client.host), DEADLINE_MS, 'a second EVENT_ERROR');
    expect(server.conn.getCounters()?.dtls?.helloVerifyRequests).toBeGreaterThanOrEqual(2);
  });

  test('clientUnsafe() without a chain accepts any certificate', async () => {
    const server = dtlsServer(serverOptions(pki, pki.rogueCertPem));
    await connect(server, dtlsClient(server.conn.getLocalPort(), 'whatever', TLSOptions.clientUnsafe()));
  });

  test('clientUnsafe(chain) still verifies the chain, but not the name (as Godot)', async () => {
    const rogue = dtlsServer(serverOptions(pki, pki.rogueCertPem));
    const rejected = dtlsClient(rogue.conn.getLocalPort(), 'localhost', TLSOptions.clientUnsafe(certificate(pki.caPem)));
    await expectRejected(rogue, rejected, /not trusted/);
    const other = dtlsServer(serverOptions(pki, pki.otherCertPem));
    await connect(other, dtlsClient(other.conn.getLocalPort(), 'localhost', TLSOptions.clientUnsafe(certificate(pki.caPem))));
  });

  test('commonNameOverride replaces the hostname; an IP hostname is checked against the IP names', async () => {
    const other = dtlsServer(serverOptions(pki, pki.otherCertPem));
    await connect(other, dtlsClient(other.conn.getLocalPort(), 'localhost', clientOptions(pki, 'other.example')));
    const server = dtlsServer();
    await connect(server, dtlsClient(server.conn.getLocalPort(), '127.0.0.1'));
    const wrongIp = dtlsClient(server.conn.getLocalPort(), '127.0.0.2');
    await expectRejected(server, wrongIp, /not for the expected name.*"127\.0\.0\.2"/);
  });

  test('an ENetMultiplayerPeer client against an untrusted server never connects; its poll goes on', async () => {
    const server = dtlsServer(serverOptions(pki, pki.rogueCertPem));
    const client = new ENetMultiplayerPeer();
    live.push({ destroy: () => client.close() });
    expect(client.createClient('127.0.0.1', server.conn.getLocalPort())).toBe(OK);
    expect(client.host?.dtlsClientSetup('localhost', clientOptions(pki))).toBe(OK);
    client.getPeer(1)?.setTimeout(32, 500, 1000);
    let connected = false;
    client.on('peer_connected', () => (connected = true));
    await pumpUntil(() => client.getConnectionStatus() === 0, () => {
      server.pump();
      if (client.getConnectionStatus() !== 0) client.poll();
    }, DEADLINE_MS, 'ENet to give up the connection');
    expect(connected).toBe(false);
    expect(takeReports().filter((r) => /not trusted/.test(r)).length).toBeGreaterThan(0);
  });
});

describe('hostile traffic', () => {
  /** A seeded generator, so a failure can be replayed. */
  function prng(seed: number): (n: number) => number {
    return (n) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % n;
    };
  }

  /** Truncated, bit-flipped, length-lying copies of `samples`, and noise. */
  function mangle(samples: Buffer[], count: number, next: (n: number) => number): Buffer[] {
    const out: Buffer[] = [Buffer.alloc(0), Buffer.from([22]), Buffer.from('hello, is this DTLS?')];
    for (let i = 0; i < count; i++) {
      const sample = samples[next(samples.length)];
      const kind = next(4);
      if (kind === 0) {
        out.push(sample.subarray(0, next(sample.length)));
      } else if (kind === 1) {
        out.push(randomBytes(1 + next(1500)));
      } else {
        const copy = Buffer.from(sample);
        if (kind === 2) for (let f = 0; f <= next(4); f++) copy[next(copy.length)] ^= 1 << next(8);
        else if (copy.length > 13) copy.writeUInt16BE(next(65536), 11);
        out.push(copy);
      }
    }
    return out;
  }

  test('garbage and mangled handshake datagrams are dropped and counted; sessions and the server go on (fuzzed)', async () => {
    const server = dtlsServer();
    const relay = track(await UdpRelay.start(server.conn.getLocalPort()));
    const first = dtlsClient(relay.port);
    const firstPeer = await connect(server, first);
    first.peer.send(0, Buffer.from('a record to mangle'), RELIABLE);
    await pumpUntil(() => server.received.length === 1, pumpAll(server, first.host), DEADLINE_MS, 'a packet');
    const handshake = relay.datagrams.filter((d) => parseRecords(d.bytes)[0].type !== CONTENT.APPLICATION_DATA).map((d) => d.bytes);
    const next = prng(20240611);

    // From a stranger: every kind of handshake datagram, mangled, and noise.
    const stranger = track(await RawSocket.open());
    for (const datagram of mangle(handshake, 800, next)) {
      await stranger.send(datagram, server.conn.getLocalPort());
      server.pump();
    }
    // Into the established session, from the client's own address: mangled records of the session and of
    // the later handshake flights (a ClientHello with a valid cookie would rightly start a new session).
    const records = relay.datagrams.filter((d) => d.dir === 'fromClient' && handshakeType(parseRecords(d.bytes)[0]) !== HANDSHAKE.CLIENT_HELLO)
      .map((d) => d.bytes);
    for (const datagram of mangle(records, 400, next)) {
      if (datagram.length > 13 && datagram[0] === 22 && datagram[13] === HANDSHAKE.CLIENT_HELLO) continue;
      await relay.inject(datagram);
      server.pump();
    }
    await pumpFor(300, server, first.host);
    const dtls = server.conn.getCounters()?.dtls;
    expect(dtls?.invalidDropped).toBeGreaterThan(400);
    expect(dtls).toMatchObject({ sessions: 1, pendingHandshakes: 0, handshakesCompleted: 1 });
    expect(server.errorEvents).toBe(0);

    // The session still carries traffic both ways, and a new client still connects.
    first.peer.send(0, Buffer.from('still here'), RELIABLE);
    firstPeer.send(0, Buffer.from('me too'), RELIABLE);
    await pumpUntil(() => server.received.length === 2 && first.host.received.length === 1, pumpAll(server, first.host),
      DEADLINE_MS, 'traffic after the fuzzing');
    expect(server.received[1].data.toString()).toBe('still here');
    await connect(server, dtlsClient(server.conn.getLocalPort()));
  }, 30000);

  test('a client answered with mangled server flights survives, counts them, and fails cleanly (fuzzed)', async () => {
    const server = dtlsServer();
    const relay = track(await UdpRelay.start(server.conn.getLocalPort()));
    await connect(server, dtlsClient(relay.port));
    const flights = relay.datagrams.filter((d) => d.dir === 'fromServer').slice(0, 3).map((d) => d.bytes);
    const evil = track(await RawSocket.open());
    const victim = dtlsClient(evil.port);
    const next = prng(777);
    let answered = 0;
    for (const datagram of mangle(flights, 600, next)) {
      victim.host.pump(); // a first ClientHello tells the evil server where to answer
      if (evil.received.length === 0) {
        await pumpUntil(() => evil.received.length > 0, pumpAll(victim.host), DEADLINE_MS, 'a ClientHello');
      }
      await evil.send(datagram, victim.host.conn.getLocalPort());
      answered++;
    }
    await pumpFor(300, victim.host);
    expect(answered).toBeGreaterThan(600);
    expect(victim.host.connects).toHaveLength(0);
    const dtls = victim.host.conn.getCounters()?.dtls;
    expect((dtls?.invalidDropped ?? 0) + (dtls?.handshakesFailed ?? 0)).toBeGreaterThan(100);
  }, 30000);

  test('a handshake flood: 16 handshakes start per receive round, the rest wait; sessions up to the peer count; unclaimed ones dropped after 8 s', async () => {
    const server = dtlsServer(serverOptions(pki), 41);
    const port = server.conn.getLocalPort();
    const counters = () => server.conn.getCounters()?.dtls;
    const catcher = track(await RawSocket.open());
    const capture = dtlsClient(catcher.port);
    await pumpUntil(() => catcher.received.length > 0, pumpAll(capture.host), DEADLINE_MS, 'a ClientHello');
    const clientHello = catcher.received[0];

    // 40 "clients" that answer their cookie but never finish the handshake. Cookies cost the server no
    // state: all 40 get one in the same round.
    const flood = await Promise.all(Array.from({ length: 40 }, () => RawSocket.open()));
    flood.forEach((socket) => track(socket));
    for (const socket of flood) await socket.send(clientHello, port);
    expect(server.conn.service(0)[0]).toBe(EventType.EVENT_NONE);
    await pumpUntil(() => flood.every((s) => s.received.length === 1), () => undefined, DEADLINE_MS, '40 HelloVerifyRequests');
    expect(counters()).toMatchObject({ helloVerifyRequests: 40, sessions: 0 });

    // All 40 echo their cookie at once: one receive round (one service call) starts 16 handshakes, the
    // others wait for the next rounds.
    for (const socket of flood) await socket.send(withCookie(clientHello, helloVerifyCookie(socket.received[0])), port);
    const sessionsAfterEachRound: number[] = [];
    for (let round = 0; round < 4; round++) {
      expect(server.conn.service(0)[0]).toBe(EventType.EVENT_NONE);
      sessionsAfterEachRound.push(counters()?.sessions ?? -1);
    }
    expect(sessionsAfterEachRound).toEqual([16, 32, 40, 40]);
    expect(counters()).toMatchObject({ pendingHandshakes: 40, handshakesDeferred: 24, handshakesRefused: 0 });
    const answered = (socket: RawSocket) => socket.received.some((d) => handshakeType(parseRecords(d)[0]) === HANDSHAKE.SERVER_HELLO);
    await pumpUntil(() => flood.every(answered), pumpAll(server), DEADLINE_MS, '40 ServerHellos');

    // Stalled handshakes do not block a real client while there is room (41 peers) ...
    const first = dtlsClient(port);
    await connect(server, first);
    // ... but the next one finds every session taken, until the unclaimed ones are dropped after 8 s.
    const last = dtlsClient(port);
    await pumpFor(1000, server, first.host, last.host);
    expect(last.host.connects).toHaveLength(0);
    await pumpUntil(() => counters()?.sessionsExpired === 40, pumpAll(server, first.host), 12000, 'the flood to expire');
    last.host.destroy(); // its ClientHello retransmissions have backed off to several seconds by now
    await connect(server, dtlsClient(port));
    expect(counters()).toMatchObject({ sessions: 2, pendingHandshakes: 0, handshakesCompleted: 2 });
  }, 40000);

  test('a client that restarts from the same address and port gets a fresh handshake, not a stall', async () => {
    const server = dtlsServer();
    const relay = track(await UdpRelay.start(server.conn.getLocalPort()));
    const before = dtlsClient(relay.port);
    const oldPeer = await connect(server, before);
    // The new client's host exists before the old one goes: ENet seeds its connect ids with the host's
    // address and the second, and a reused allocation would make the new CONNECT look like a duplicate.
    const after = dtlsClient(relay.port);
    // The client vanishes without a word (its close_notify is lost) ...
    relay.cut = true;
    before.host.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    relay.cut = false;
    // ... and comes back from the same address and port (the relay's), with a new handshake.
    const newPeer = await connect(server, after);
    expect(newPeer).not.toBe(oldPeer);
    expect(server.conn.getCounters()?.dtls).toMatchObject({ sessions: 1, handshakesCompleted: 2, helloVerifyRequests: 2, sessionsClosed: 0 });
    // The old ENet connection ending later does not close the new session.
    oldPeer.reset();
    after.peer.send(0, Buffer.from('new session'), RELIABLE);
    await pumpUntil(() => server.received.length === 1, pumpAll(server, after.host), DEADLINE_MS, 'a packet on the new session');
    expect(server.conn.getCounters()?.dtls?.sessions).toBe(1);
  });

  test('refusing new connections: no handshake starts (not even a cookie); established sessions go on', async () => {
    const server = dtlsServer();
    const established = dtlsClient(server.conn.getLocalPort());
    const peer = await connect(server, established);
    server.conn.refuseNewConnections(true);
    const refused = dtlsClient(server.conn.getLocalPort());
    await pumpFor(1200, server, established.host, refused.host);
    expect(refused.host.connects).toHaveLength(0);
    const counters = server.conn.getCounters()?.dtls;
    expect(counters?.handshakesRefused).toBeGreaterThan(0);
    expect(counters?.helloVerifyRequests).toBe(1);
    peer.send(0, Buffer.from('still served'), RELIABLE);
    await pumpUntil(() => established.host.received.length === 1, pumpAll(server, established.host), DEADLINE_MS, 'a packet');
    server.conn.refuseNewConnections(false);
    await connect(server, refused);
  });

  test('ENetMultiplayerPeer.setRefuseNewConnections reaches the DTLS layer, as in Godot', async () => {
    const server = new ENetMultiplayerPeer();
    live.push({ destroy: () => server.close() });
    expect(server.createServer(0, 4)).toBe(OK);
    expect(server.host?.dtlsServerSetup(serverOptions(pki))).toBe(OK);
    server.setRefuseNewConnections(true);
    const client = dtlsClient(server.host?.getLocalPort() ?? 0);
    const until = Date.now() + 600;
    await pumpUntil(() => Date.now() >= until, () => {
      server.poll();
      client.host.pump();
    }, DEADLINE_MS, '600 ms');
    expect(server.host?.getCounters()?.dtls).toMatchObject({ helloVerifyRequests: 0, sessions: 0 });
    expect(server.host?.getCounters()?.dtls?.handshakesRefused).toBeGreaterThan(0);
  });
});
