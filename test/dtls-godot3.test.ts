/**
 * DTLS interop with a real Godot DTLS stack: Debian's godot3-server (Godot 3.2.3, mbedTLS 2.16) running
 * test/peers/godot3/peer.gd as a DTLS tunnel, whose DTLSServer / PacketPeerDTLS / UDPServer wrap a plain upstream
 * ENet peer (python3-enet) exactly the way Godot 4's ENet does DTLS: one datagram, one record.
 *
 *   python3-enet client -> tunnel (Godot DTLS client) -> our DTLS server
 *   our DTLS client -> tunnel (Godot DTLS server, long certificate chain) -> python3-enet server
 *
 * A recording relay between the tunnel and us shows the wire. godot3's mbedTLS is older than Godot 4's,
 * so the checks are "DTLS 1.2 with an ECDHE AEAD suite", not one exact suite.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'crypto';
import { ENetPacketPeer, GodotError, setErrorReporter } from '../src';
import { RecordingHost } from './helpers/recording-host';
import { PyPeer, PyReceiveEvent, b64, eventBytes, patternBytes, pumpUntil, sha256hex } from './helpers/py-peer';
import { Godot3Peer, UdpRelay, freeUdpPort } from './helpers/godot3-peer';
import {
  CONTENT,
  ECDHE_AEAD_SUITES,
  HANDSHAKE,
  clientOptions,
  handshakeType,
  usePki,
  parseRecords,
  serverHelloCipher,
  serverOptions,
} from './helpers/dtls';

const RELIABLE = ENetPacketPeer.FLAG_RELIABLE;
const UNSEQUENCED = ENetPacketPeer.FLAG_UNSEQUENCED;
const MIB = 1 << 20;
const TIMEOUT_MS = 15000;

const pki = usePki();

const reported: string[] = [];
setErrorReporter((message) => reported.push(message));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startTunnel(args: string[]): Promise<Godot3Peer> {
  const tunnel = Godot3Peer.startWith([...args, '--lifetime=60']);
  cleanups.push(() => tunnel.stop());
  const ready = await tunnel.waitEvent((e) => e.ev === 'ready', 'the tunnel to start', () => undefined);
  expect(ready.err).toBe(0);
  return tunnel;
}

async function startPython(): Promise<PyPeer> {
  const py = await PyPeer.start();
  cleanups.push(() => py.close());
  return py;
}

function recordingHost(): RecordingHost {
  const host = new RecordingHost();
  cleanups.push(() => host.destroy());
  return host;
}

/** The handshake as Godot does it, then one DTLS 1.2 application-data record per datagram. */
function checkWire(relay: UdpRelay, serverIsGodot: boolean): void {
  const parsed = relay.datagrams.map((d) => ({ dir: d.dir, size: d.bytes.length, records: parseRecords(d.bytes) }));
  const fromServer = parsed.filter((d) => d.dir === 'fromServer');
  // The server answers the first ClientHello with a cookie, whoever the server is.
  expect(handshakeType(fromServer[0].records[0])).toBe(HANDSHAKE.HELLO_VERIFY_REQUEST);
  const serverHello = fromServer.flatMap((d) => d.records).find((r) => handshakeType(r) === HANDSHAKE.SERVER_HELLO);
  expect(serverHello?.version).toBe(0xfefd);
  expect(ECDHE_AEAD_SUITES[serverHelloCipher(serverHello!)]).toBeDefined();
  if (serverIsGodot) {
    // mbedTLS sends its whole flight in one datagram: with the long chain, more than ENet's 4096 bytes.
    expect(Math.max(...fromServer.map((d) => d.size))).toBeGreaterThan(4096);
  }
  const first = parsed.findIndex((d) => d.records.some((r) => r.type === CONTENT.APPLICATION_DATA));
  const after = parsed.slice(first);
  expect(after.length).toBeGreaterThan(700);
  for (const d of after) expect(d.records.map((r) => [r.type, r.version, r.epoch])).toEqual([[CONTENT.APPLICATION_DATA, 0xfefd, 1]]);
}

describe('python3-enet client -> Godot DTLS client (tunnel) -> our DTLS server', () => {
  test('connect, 1 MiB reliable each way, unreliable traffic, disconnect', async () => {
    const server = recordingHost();
    expect(server.conn.createHostBound('127.0.0.1', 0, 8)).toBe(GodotError.OK);
    expect(server.conn.dtlsServerSetup(serverOptions(pki))).toBe(GodotError.OK);
    const relay = await UdpRelay.start(server.conn.getLocalPort());
    cleanups.push(() => relay.close());
    const localPort = await freeUdpPort();
    const tunnel = await startTunnel(['--role=dtls-initiator', `--local-port=${localPort}`, `--dtls-port=${relay.port}`,
      '--hostname=localhost', `--ca=${pki.files.ca}`]);
    const py = await startPython();
    await py.request({ op: 'host', peers: 1 });
    const { peer } = await py.request({ op: 'connect', port: localPort, channels: 2 });
    const pump = server.pump;

    await py.waitEvent((e) => e.ev === 'connect', TIMEOUT_MS, pump);
    await pumpUntil(() => server.connects.length === 1, pump, TIMEOUT_MS, 'our CONNECT');
    await tunnel.waitEvent((e) => e.ev === 'status' && e.status === 'connected', 'Godot to report the DTLS connection', pump);
    const ours = server.connects[0].peer;

    // 1 MiB each way, reliable.
    const sent = await py.request({ op: 'send', peer, channel: 0, flags: RELIABLE, size: MIB });
    const big = randomBytes(MIB);
    ours.send(1, big, RELIABLE);
    await pumpUntil(() => server.received.some((g) => g.data.length === MIB), pump, TIMEOUT_MS, '1 MiB from python');
    expect(sha256hex(server.received.find((g) => g.data.length === MIB)!.data)).toBe(sent.sha256);
    expect(sha256hex(patternBytes(MIB, 0))).toBe(sent.sha256);
    const back = (await py.waitEvent((e) => e.ev === 'receive' && e.len === MIB, TIMEOUT_MS, pump)) as PyReceiveEvent;
    expect(back.sha256).toBe(sha256hex(big));

    // Unreliable traffic both ways.
    await py.request({ op: 'send', peer, channel: 1, flags: UNSEQUENCED, data: b64('from python'), repeat: 20 });
    for (let i = 0; i < 20; i++) ours.send(1, Buffer.from(`from us ${i}`), UNSEQUENCED);
    await pumpUntil(() => server.received.some((g) => g.data.toString() === 'from python'), pump, TIMEOUT_MS, 'unreliable from python');
    const unreliable = (await py.waitEvent((e) => e.ev === 'receive' && e.len < 20, TIMEOUT_MS, pump)) as PyReceiveEvent;
    expect(eventBytes(unreliable).toString()).toMatch(/^from us \d+$/);
    expect(unreliable.flags & UNSEQUENCED).toBe(UNSEQUENCED);

    // Python disconnects: we see it, and the session is closed with it.
    await py.request({ op: 'disconnect', peer, data: 42 });
    await pumpUntil(() => server.disconnects.length === 1, pump, TIMEOUT_MS, 'our DISCONNECT');
    expect(server.disconnects[0].data).toBe(42);
    expect(server.conn.getCounters()?.dtls).toMatchObject({ sessions: 0, handshakesCompleted: 1, handshakesFailed: 0 });
    checkWire(relay, false);
  }, 60000);
});

describe('our DTLS client -> Godot DTLS server (tunnel) -> python3-enet server', () => {
  test('connect through a flight larger than 4096 bytes, 1 MiB reliable each way, unreliable traffic, disconnect', async () => {
    const py = await startPython();
    const { port: enetPort } = await py.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 4 });
    const dtlsPort = await freeUdpPort();
    const tunnel = await startTunnel(['--role=dtls-terminator', `--dtls-port=${dtlsPort}`, `--enet-port=${enetPort}`,
      `--key=${pki.files.serverKey}`, `--cert=${pki.files.bigChain}`]);
    const relay = await UdpRelay.start(dtlsPort);
    cleanups.push(() => relay.close());
    const client = recordingHost();
    expect(client.conn.createHost(1)).toBe(GodotError.OK);
    const ours = client.conn.connectToHost('127.0.0.1', relay.port, 2);
    expect(client.conn.dtlsClientSetup('localhost', clientOptions(pki))).toBe(GodotError.OK);
    const pump = client.pump;

    const connected = await py.waitEvent((e) => e.ev === 'connect', TIMEOUT_MS, pump);
    await pumpUntil(() => client.connects.length === 1, pump, TIMEOUT_MS, 'our CONNECT');
    await tunnel.waitEvent((e) => e.ev === 'status' && e.status === 'connected', 'Godot to report the DTLS connection', pump);
    const peer = (connected as { peer: number }).peer;

    const big = randomBytes(MIB);
    ours!.send(0, big, RELIABLE);
    const sent = await py.request({ op: 'send', peer, channel: 1, flags: RELIABLE, size: MIB });
    const got = (await py.waitEvent((e) => e.ev === 'receive' && e.len === MIB, TIMEOUT_MS, pump)) as PyReceiveEvent;
    expect(got.sha256).toBe(sha256hex(big));
    await pumpUntil(() => client.received.some((g) => g.data.length === MIB), pump, TIMEOUT_MS, '1 MiB from python');
    expect(sha256hex(client.received.find((g) => g.data.length === MIB)!.data)).toBe(sent.sha256);

    await py.request({ op: 'send', peer, channel: 1, flags: 0, data: b64('unreliable from python'), repeat: 20 });
    for (let i = 0; i < 20; i++) ours!.send(1, Buffer.from(`from us ${i}`), UNSEQUENCED);
    await pumpUntil(() => client.received.some((g) => g.data.toString() === 'unreliable from python'), pump, TIMEOUT_MS,
      'unreliable from python');
    const unreliable = (await py.waitEvent((e) => e.ev === 'receive' && e.len < 20, TIMEOUT_MS, pump)) as PyReceiveEvent;
    expect(eventBytes(unreliable).toString()).toMatch(/^from us \d+$/);

    // We disconnect; python sees it.
    ours!.peerDisconnect(9);
    const gone = await py.waitEvent((e) => e.ev === 'disconnect', TIMEOUT_MS, pump);
    expect((gone as { data: number }).data).toBe(9);
    await pumpUntil(() => client.disconnects.length === 1, pump, TIMEOUT_MS, 'our DISCONNECT');
    expect(client.conn.getCounters()?.dtls).toMatchObject({ handshakesCompleted: 1, handshakesFailed: 0, invalidDropped: 0 });
    checkWire(relay, true);
  }, 60000);

  test("Godot's server certificate is checked: a client expecting another name fails, saying why", async () => {
    const py = await startPython();
    const { port: enetPort } = await py.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 4 });
    const dtlsPort = await freeUdpPort();
    await startTunnel(['--role=dtls-terminator', `--dtls-port=${dtlsPort}`, `--enet-port=${enetPort}`,
      `--key=${pki.files.serverKey}`, `--cert=${pki.files.serverCert}`]);
    const client = recordingHost();
    expect(client.conn.createHost(1)).toBe(GodotError.OK);
    client.conn.connectToHost('127.0.0.1', dtlsPort);
    expect(client.conn.dtlsClientSetup('other.example', clientOptions(pki))).toBe(GodotError.OK);
    reported.length = 0;
    await pumpUntil(() => client.errorEvents > 0, client.pump, TIMEOUT_MS, 'EVENT_ERROR');
    expect(client.connects).toHaveLength(0);
    expect(reported[0]).toMatch(/certificate verification failed: .*not for the expected name.*"other\.example"/);
  }, 60000);
});
