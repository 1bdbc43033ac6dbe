/**
 * The required mitigations of enet-engine.md §A.7, each shown to work on the wire: against the real
 * upstream peer (test/peers/enet_peer.py, libenet 1.3.17), raw UDP from node's dgram, and a
 * hand-written ENet client (test/helpers/enet-wire.ts) for datagrams no real ENet would send.
 * Measured numbers are printed with console.log.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { ChildProcess, fork } from 'child_process';
import { randomBytes } from 'crypto';
import * as dgram from 'dgram';
import { readFileSync } from 'fs';
import * as path from 'path';
import { ENetConnection, EventType, HostStatistic } from '../src/enet/ENetConnection';
import { ENetPacketPeer, PeerState, PeerStatistic } from '../src/enet/ENetPacketPeer';
import { GodotError, setErrorReporter } from '../src/core/errors';
import { Got, RecordingHost } from './helpers/recording-host';
import {
  CMD,
  EnetWireClient,
  FLAG_ACKNOWLEDGE,
  HEADER_COMPRESSED,
  HEADER_SENT_TIME,
  NO_PEER,
  connectCommand,
  fragmentCommand,
  fragmentPacket,
  pingCommand,
  sendReliableCommand,
} from './helpers/enet-wire';
import {
  ENET_FLAG,
  PyDatagramEvent,
  PyEvent,
  PyPeer,
  PyReceiveEvent,
  b64,
  eventBytes,
  patternBytes,
  pumpUntil,
  sha256hex,
} from './helpers/py-peer';

const { RELIABLE, UNRELIABLE_FRAGMENT } = ENET_FLAG;

const reported: string[] = [];
setErrorReporter((message) => {
  reported.push(message);
});
afterEach(() => {
  if (reported.length > 0) console.log(`library errors reported during the test:\n  ${reported.join('\n  ')}`);
  reported.length = 0;
});

const isReceive = (e: PyEvent): e is PyReceiveEvent => e.ev === 'receive';

/**
 * Unreliable delivery is only owed while the sender's packet throttle is full (32): below that ENet
 * drops some unreliable packets at the sender on purpose, which a loaded test machine can cause.
 */
async function pyFullThrottle(py: PyPeer, key: number, pump: () => void = () => undefined): Promise<void> {
  const deadline = Date.now() + 15000;
  for (;;) {
    const info = await py.request({ op: 'peer_info', peer: key });
    if ((info.packetThrottle as number) >= ENetPacketPeer.PACKET_THROTTLE_SCALE) return;
    if (Date.now() > deadline) throw new Error(`python's packet throttle stayed at ${info.packetThrottle}`);
    await py.request({ op: 'ping', peer: key });
    await pumpUntil(() => false, pump, 20, 'a moment').catch(() => undefined);
  }
}

/** A python client connected to our server `ours`. */
async function pyClient(ours: RecordingHost, opts: { mtu?: number; data?: number; channels?: number } = {}): Promise<{ py: PyPeer; key: number; peer: ENetPacketPeer }> {
  const py = await PyPeer.start();
  await py.request({ op: 'host', bind: null, port: 0, peers: 2 });
  if (opts.mtu !== undefined) {
    await py.request({ op: 'mtu', value: opts.mtu });
    // libenet 1.3.17 copies host->mtu into a peer only when the peer is reset (the host creates its
    // peers reset), so reset the idle peers for the new MTU to be the one their CONNECT proposes.
    for (let slot = 0; slot < 2; slot++) await py.request({ op: 'reset', peer: slot });
  }
  const before = ours.connects.length;
  const reply = await py.request({
    op: 'connect', address: '127.0.0.1', port: ours.conn.getLocalPort(), channels: opts.channels ?? 8, data: opts.data ?? 1,
  });
  await pumpUntil(() => ours.connects.length > before, ours.pump, 5000, 'CONNECT at ours');
  await py.waitEvent((e) => e.ev === 'connect', 5000, ours.pump);
  return { py, key: reply.peer as number, peer: ours.connects[ours.connects.length - 1].peer };
}

/** Sends `count` numbered reliable messages from python and checks they all arrive at ours, in order. */
async function pyStream(ours: RecordingHost, py: PyPeer, key: number, channel: number, count: number, start: number,
  during: () => void = () => undefined, ms = 20000): Promise<void> {
  await py.request({ op: 'send_seq', peer: key, channel, flags: RELIABLE, count, size: 32, start });
  await pumpUntil(() => ours.received.filter((g) => g.channel === channel).length >= count, () => {
    during();
    ours.pump();
  }, ms, `${count} stream messages at ours`);
  const got = ours.take((g) => g.channel === channel);
  expect(got.length).toBe(count);
  for (let i = 0; i < count; i++) {
    if (got[i].data.readUInt32BE(0) !== start + i) throw new Error(`message ${got[i].data.readUInt32BE(0)} where ${start + i} was due`);
  }
}

function udpSocket(type: 'udp4' | 'udp6'): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => resolve(s));
  });
}

function sendUdp(s: dgram.Socket, data: Buffer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => s.send(data, port, address, (err) => (err ? reject(err) : resolve())));
}

// ---------------------------------------------------------------------------------------------------

describe('mitigation 1: our socket layer replaces the header\'s (patch 0016), dual-stack with an IPv4 fallback', () => {
  test('an in-process host runs on our socket layer with a dual-stack IPv6 socket', async () => {
    const ours = new RecordingHost();
    try {
      expect(ours.conn.createHostBound('*', 0, 4)).toBe(GodotError.OK);
      const c = ours.conn.getCounters();
      console.log(`default host counters: ${JSON.stringify(c)}`);
      expect(c?.socketLayer).toBe(true);
      expect(c?.socketFamily).toBe(6);
      // Dual-stack: an IPv4 peer reaches the "*" socket, and is reported as a.b.c.d.
      const { py, peer } = await pyClient(ours);
      try {
        expect(peer.getRemoteAddress()).toBe('127.0.0.1');
      } finally {
        await py.close();
      }
      // IPv6 loopback works on the same kind of host (ours <-> ours).
      const v6 = new RecordingHost();
      try {
        expect(v6.conn.createHostBound('::1', 0, 2)).toBe(GodotError.OK);
        const client = new RecordingHost();
        try {
          expect(client.conn.createHost(1)).toBe(GodotError.OK);
          const cp = client.conn.connectToHost('::1', v6.conn.getLocalPort(), 2, 66);
          expect(cp).not.toBeNull();
          await pumpUntil(() => v6.connects.length > 0 && client.connects.length > 0, () => {
            v6.pump();
            client.pump();
          }, 5000, 'IPv6 connect');
          expect(v6.connects[0].data).toBe(66);
          expect(v6.connects[0].peer.getRemoteAddress()).toBe('::1');
          expect(cp?.getRemoteAddress()).toBe('::1');
        } finally {
          client.destroy();
        }
      } finally {
        v6.destroy();
      }
    } finally {
      ours.destroy();
    }
  });

  test('with GODOT_ENET_IPV4_ONLY=1 hosts fall back to AF_INET: a python peer connects and exchanges data both ways, "::1" cannot be bound', async () => {
    const child: ChildProcess = fork(path.join(__dirname, 'fixtures', 'mitigations', 'ipv4-only-host.js'), [], {
      env: { ...process.env, GODOT_ENET_IPV4_ONLY: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const messages: any[] = [];
    child.on('message', (m) => messages.push(m));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const next = async (pred: (m: any) => boolean, what: string, ms = 10000): Promise<any> => {
      let found: any;
      await pumpUntil(() => (found = messages.find(pred)) !== undefined, () => undefined, ms, what);
      messages.splice(messages.indexOf(found), 1);
      return found;
    };
    const pyServer = await PyPeer.start();
    const pyClientPeer = await PyPeer.start();
    try {
      const ready = await next((m) => m.type === 'ready', 'the child to start');
      console.log(`IPv4-only child: ${JSON.stringify(ready)}`);
      expect(ready.env).toBe('1');
      expect(ready.serverResult).toBe(GodotError.OK);
      expect(ready.counters.socketLayer).toBe(true);
      expect(ready.counters.socketFamily).toBe(4);
      expect(ready.v6Result).toBe(GodotError.ERR_CANT_CREATE);

      // A python client against the child's server.
      await pyClientPeer.request({ op: 'host', bind: null, port: 0, peers: 2 });
      const reply = await pyClientPeer.request({ op: 'connect', address: '127.0.0.1', port: ready.serverPort, channels: 4, data: 4444 });
      const sc = await next((m) => m.type === 'event' && m.host === 'server' && m.event === 'connect', 'CONNECT at the child server');
      expect(sc.data).toBe(4444);
      expect(sc.address).toBe('127.0.0.1');
      await pyClientPeer.waitEvent((e) => e.ev === 'connect', 5000);
      for (const [channel, flags, size] of [[0, RELIABLE, 100], [1, 0, 200], [2, RELIABLE, 5000], [3, UNRELIABLE_FRAGMENT, 3000]]) {
        const data = randomBytes(size);
        if (flags !== RELIABLE) await pyFullThrottle(pyClientPeer, reply.peer as number);
        await pyClientPeer.request({ op: 'send', peer: reply.peer, channel, flags, data: b64(data) });
        const got = await next((m) => m.type === 'event' && m.event === 'receive' && m.channel === channel, `packet on ${channel} at the child`);
        expect(Buffer.from(got.data, 'base64').equals(data)).toBe(true);
        expect(got.flags).toBe(flags === UNRELIABLE_FRAGMENT ? UNRELIABLE_FRAGMENT : flags);
        const echo = await pyClientPeer.waitEvent((e) => isReceive(e) && e.channel === channel, 5000);
        if (!isReceive(echo)) throw new Error('unreachable');
        expect(eventBytes(echo).equals(data)).toBe(true);
      }

      // The child as a client of a python server, over its AF_INET socket.
      const h = await pyServer.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 2 });
      child.send({ cmd: 'connect', port: h.port, data: 5555 });
      const cl = await next((m) => m.type === 'client', 'the child client');
      expect(cl.result).toBe(GodotError.OK);
      expect(cl.started).toBe(true);
      expect(cl.counters.socketFamily).toBe(4);
      const pc = await pyServer.waitEvent((e) => e.ev === 'connect', 5000);
      if (pc.ev !== 'connect') throw new Error('unreachable');
      expect(pc.data).toBe(5555);
      const cc = await next((m) => m.type === 'event' && m.host === 'client' && m.event === 'connect', 'CONNECT at the child client');
      expect(cc.address).toBe('127.0.0.1');
      expect(cc.port).toBe(h.port);
      const data = randomBytes(4000);
      await pyServer.request({ op: 'send', peer: pc.peer, channel: 1, flags: RELIABLE, data: b64(data) });
      const got = await next((m) => m.type === 'event' && m.host === 'client' && m.event === 'receive', 'packet at the child client');
      expect(Buffer.from(got.data, 'base64').equals(data)).toBe(true);
      child.send({ cmd: 'send', host: 'client', channel: 2, flags: RELIABLE, data: b64(data) });
      const back = await pyServer.waitEvent((e) => isReceive(e) && e.channel === 2, 5000);
      if (!isReceive(back)) throw new Error('unreachable');
      expect(eventBytes(back).equals(data)).toBe(true);
      expect(messages.filter((m) => m.event === 'error')).toEqual([]);
    } finally {
      child.send({ cmd: 'quit' });
      const bye = await next((m) => m.type === 'bye', 'the child to quit', 5000).catch(() => null);
      if (bye === null) child.kill('SIGKILL');
      await exited;
      await Promise.all([pyServer.close(), pyClientPeer.close()]);
    }
  }, 30000);
});

// ---------------------------------------------------------------------------------------------------

describe('mitigation 1: oversized datagrams are skipped (MSG_TRUNC -> -2), not a service error', () => {
  test('5000 B and 65000 B datagrams over IPv4 and IPv6 are counted and dropped while a reliable stream flows', async () => {
    const ours = new RecordingHost();
    const u4 = await udpSocket('udp4');
    const u6 = await udpSocket('udp6');
    let client: { py: PyPeer; key: number; peer: ENetPacketPeer } | undefined;
    try {
      expect(ours.conn.createHostBound('*', 0, 4)).toBe(GodotError.OK);
      const port = ours.conn.getLocalPort();
      client = await pyClient(ours);
      const { py, key } = client;
      let oversized = 0;
      const blast = async (): Promise<void> => {
        for (const size of [5000, 65000]) {
          await sendUdp(u4, randomBytes(size), port, '127.0.0.1');
          await sendUdp(u6, randomBytes(size), port, '::1');
          oversized += 2;
        }
      };
      await blast();
      // A stream from python, with more oversized datagrams landing while it is in flight.
      await py.request({ op: 'send_seq', peer: key, channel: 3, flags: RELIABLE, count: 3000, size: 32, start: 0 });
      for (let k = 0; k < 8; k++) {
        await blast();
        ours.pump();
      }
      await pumpUntil(() => ours.received.filter((g) => g.channel === 3).length >= 3000, ours.pump, 20000, 'the stream');
      const stream = ours.take((g) => g.channel === 3);
      expect(stream.map((g) => g.data.readUInt32BE(0))).toEqual([...Array(3000).keys()]);
      await pumpUntil(() => (ours.conn.getCounters()?.oversizedDropped ?? 0) >= oversized, ours.pump, 5000, 'the oversized datagrams');
      // The stream still flows afterwards too.
      await pyStream(ours, py, key, 4, 500, 10000);
      const c = ours.conn.getCounters();
      console.log(`oversized: sent ${oversized} datagrams of 5000/65000 B; counters ${JSON.stringify(c)}`);
      expect(c?.oversizedDropped).toBe(oversized);
      expect(c?.serviceErrors).toBe(0);
      expect(ours.errorEvents).toBe(0);
      expect(client.peer.getState()).toBe(PeerState.STATE_CONNECTED);
      expect(py.unconsumed('disconnect')).toEqual([]);
    } finally {
      u4.close();
      u6.close();
      await client?.py.close();
      ours.destroy();
    }
  }, 40000);
});

// ---------------------------------------------------------------------------------------------------

describe('mitigation 2: the A.3 MTU hole is closed (whole datagrams are read whatever the host MTU)', () => {
  test('a python client with MTU 1500 exchanges 200 KB fragmented packets with our server both ways', async () => {
    const ours = new RecordingHost();
    let client: { py: PyPeer; key: number; peer: ENetPacketPeer } | undefined;
    try {
      expect(ours.conn.createHostBound('*', 0, 4)).toBe(GodotError.OK);
      client = await pyClient(ours, { mtu: 1500 });
      const { py, key, peer } = client;
      const info = await py.request({ op: 'peer_info', peer: key });
      console.log(`MTU: python client proposed 1500, negotiated python ${info.mtu} / ours ${peer.getTotals().mtu}`);
      expect(info.mtu).toBe(1500);
      expect(peer.getTotals().mtu).toBe(1500);

      // python -> ours: 200 KB in fragments that fill 1500-byte datagrams (more than our host MTU).
      const size = 200_000;
      for (const channel of [1, 2]) {
        const reply = await py.request({ op: 'send', peer: key, channel, flags: RELIABLE, size });
        await pumpUntil(() => ours.received.some((g) => g.channel === channel), ours.pump, 10000, `200 KB on channel ${channel} at ours`);
        const [g] = ours.take((x) => x.channel === channel);
        expect(g.data.length).toBe(size);
        expect(sha256hex(g.data)).toBe(reply.sha256);
      }
      // ours -> python, watched on python's side: our datagrams are up to 1500 bytes.
      await py.request({ op: 'capture', on: true });
      const from = py.events.length;
      const out = randomBytes(size);
      expect(peer.send(3, out, RELIABLE)).toBe(GodotError.OK);
      const e = await py.waitEvent((x) => isReceive(x) && x.channel === 3, 10000, ours.pump);
      if (!isReceive(e)) throw new Error('unreachable');
      expect(e.sha256).toBe(sha256hex(out));
      await py.request({ op: 'capture', on: false });
      const largest = Math.max(...py.events.slice(from).filter((x): x is PyDatagramEvent => x.ev === 'datagram').map((d) => d.len));
      console.log(`MTU: largest datagram from our server to the MTU-1500 client: ${largest} B`);
      expect(largest).toBe(1500);
      expect(ours.errorEvents).toBe(0);
    } finally {
      await client?.py.close();
      ours.destroy();
    }
  }, 30000);
});

// ---------------------------------------------------------------------------------------------------

describe('mitigation 4: retransmit backoff and timeouts (dead peers found in seconds, few datagrams)', () => {
  async function frozenClient(configure?: (peer: ENetPacketPeer) => void): Promise<{ seconds: number; datagrams: number; rto: number }> {
    const ours = new RecordingHost();
    let client: { py: PyPeer; key: number; peer: ENetPacketPeer } | undefined;
    try {
      expect(ours.conn.createHostBound('*', 0, 4)).toBe(GodotError.OK);
      client = await pyClient(ours);
      const { py, peer } = client;
      configure?.(peer);
      // Warm up: a real RTT estimate.
      for (let i = 0; i < 20; i++) peer.send(0, randomBytes(100), RELIABLE);
      await pumpUntil(() => py.unconsumed('receive').length >= 20, ours.pump, 5000, 'warm-up traffic');
      const rto = peer.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME) + 4 * peer.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME_VARIANCE);
      await py.request({ op: 'freeze' });
      ours.pump();
      ours.conn.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS);
      const t0 = Date.now();
      // 50 reliable packets queued for the vanished peer (as in the A.3 measurement).
      for (let i = 0; i < 50; i++) expect(peer.send(1, randomBytes(100), RELIABLE)).toBe(GodotError.OK);
      await pumpUntil(() => ours.disconnects.length > 0, ours.pump, 35000, 'DISCONNECT at ours');
      const seconds = (ours.disconnects[0].at - t0) / 1000;
      const datagrams = ours.conn.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS);
      expect(ours.disconnects[0].peer).toBe(peer);
      expect(ours.disconnects[0].data).toBe(0);
      expect(ours.conn.getCounters()?.timeouts).toBe(1);
      expect(ours.errorEvents).toBe(0);
      return { seconds, datagrams, rto };
    } finally {
      await client?.py.close();
      ours.destroy();
    }
  }

  test('default timeouts: a frozen python client is dropped in < 10 s with few datagrams sent to it', async () => {
    const r = await frozenClient();
    console.log(`backoff, default timeouts: frozen client detected after ${r.seconds.toFixed(2)} s (first RTO ${r.rto} ms); ` +
      `our server sent ${r.datagrams} datagrams to it meanwhile (unpatched zpl: 30.0 s, 3,563 datagrams; upstream: 5.1 s, 243)`);
    expect(r.seconds).toBeLessThan(10);
    expect(r.datagrams).toBeGreaterThan(0);
    expect(r.datagrams).toBeLessThan(300);
  }, 45000);

  test('setTimeout(32, 2000, 4000): the frozen client is dropped after timeout_min, within ~4.5 s', async () => {
    const r = await frozenClient((peer) => peer.setTimeout(32, 2000, 4000));
    console.log(`backoff, setTimeout(32, 2000, 4000): frozen client detected after ${r.seconds.toFixed(2)} s (first RTO ${r.rto} ms), ${r.datagrams} datagrams`);
    // Not before timeout_min (less a few ms: the oldest unacknowledged command may predate the freeze).
    expect(r.seconds).toBeGreaterThan(1.9);
    expect(r.seconds).toBeLessThan(4.5);
  }, 30000);
});

// ---------------------------------------------------------------------------------------------------

describe('mitigation 6: fragment validation (fragmentLength 0, totalLength < fragmentCount)', () => {
  const ours = new RecordingHost();
  let wire: EnetWireClient;
  let wirePeer: ENetPacketPeer;
  let fragmentSize = 0;

  beforeAll(async () => {
    expect(ours.conn.createHostBound('*', 0, 8)).toBe(GodotError.OK);
    wire = await EnetWireClient.create();
    const verify = await wire.connect(ours.conn.getLocalPort(), { channelCount: 16, data: 0xf00d, mtu: 1392 }, ours.pump);
    expect(verify.channelCount).toBe(16);
    expect(verify.mtu).toBe(1392);
    await pumpUntil(() => ours.connects.length > 0, ours.pump, 5000, 'CONNECT of the wire client at ours');
    wirePeer = ours.connects[0].peer;
    fragmentSize = verify.mtu - 4 - 24;
  });

  afterAll(async () => {
    await wire?.close();
    ours.destroy();
  });

  const acked = (channel: number, seq: number): boolean => wire.acks.some(([c, s]) => c === channel && s === seq);

  test('the hand-written client is a real ENet peer: connect data, address, and a valid fragmented packet IS delivered', async () => {
    expect(ours.connects[0].data).toBe(0xf00d);
    expect(wirePeer.getRemoteAddress()).toBe('127.0.0.1');
    expect(wirePeer.getRemotePort()).toBe(wire.localPort);
    expect(wirePeer.getChannels()).toBe(16);
    const payload = randomBytes(3000);
    for (const cmd of fragmentPacket({ reliable: true, channel: 0, startSeq: 1, payload, fragmentSize })) wire.sendCommands([cmd]);
    await pumpUntil(() => ours.received.some((g) => g.channel === 0), ours.pump, 5000, 'the valid fragmented packet');
    const [g] = ours.take((x) => x.channel === 0);
    expect(g.peer).toBe(wirePeer);
    expect(g.flags).toBe(RELIABLE);
    expect(g.data.equals(payload)).toBe(true);
    await pumpUntil(() => acked(0, 1) && acked(0, 2) && acked(0, 3), ours.pump, 5000, 'ACKs of the three fragments');
    // And an unreliable fragmented one.
    const u = randomBytes(2500);
    for (const cmd of fragmentPacket({ reliable: false, channel: 6, startSeq: 1, reliableSeq: 0, payload: u, fragmentSize })) wire.sendCommands([cmd]);
    await pumpUntil(() => ours.received.some((x) => x.channel === 6), ours.pump, 5000, 'the valid unreliable fragmented packet');
    const [gu] = ours.take((x) => x.channel === 6);
    expect(gu.flags).toBe(UNRELIABLE_FRAGMENT);
    expect(gu.data.equals(u)).toBe(true);
  });

  /**
   * Each would complete (and be delivered) on ENet without the 1.3.18 validation: a 10-byte packet
   * made of nothing, or a 1-byte packet claimed to be 2 fragments.
   */
  function malformed(): Array<{ name: string; channel: number; reliable: boolean; cmds: Buffer[] }> {
    return [
      { name: 'reliable, fragmentLength 0', channel: 1, reliable: true, cmds: [
        fragmentCommand({ reliable: true, channel: 1, reliableSeq: 1, startSeq: 1, fragmentCount: 1, fragmentNumber: 0, totalLength: 10, fragmentOffset: 0, data: Buffer.alloc(0) }),
      ] },
      { name: 'reliable, totalLength 1 < fragmentCount 2', channel: 2, reliable: true, cmds: [0, 1].map((n) =>
        fragmentCommand({ reliable: true, channel: 2, reliableSeq: 1 + n, startSeq: 1, fragmentCount: 2, fragmentNumber: n, totalLength: 1, fragmentOffset: 0, data: Buffer.from([0x5a]) })) },
      { name: 'unreliable, fragmentLength 0', channel: 3, reliable: false, cmds: [
        fragmentCommand({ reliable: false, channel: 3, reliableSeq: 0, startSeq: 1, fragmentCount: 1, fragmentNumber: 0, totalLength: 10, fragmentOffset: 0, data: Buffer.alloc(0) }),
      ] },
      { name: 'unreliable, totalLength 1 < fragmentCount 2', channel: 4, reliable: false, cmds: [0, 1].map((n) =>
        fragmentCommand({ reliable: false, channel: 4, reliableSeq: 0, startSeq: 1, fragmentCount: 2, fragmentNumber: n, totalLength: 1, fragmentOffset: 0, data: Buffer.from([0x5a]) })) },
      { name: 'reliable, fragmentCount 1,000,000, totalLength 10', channel: 5, reliable: true, cmds: [
        fragmentCommand({ reliable: true, channel: 5, reliableSeq: 1, startSeq: 1, fragmentCount: 1_000_000, fragmentNumber: 0, totalLength: 10, fragmentOffset: 0, data: Buffer.alloc(10, 1) }),
      ] },
    ];
  }

  test('control: libenet 1.3.17 (no fragment validation) accepts and delivers the same malformed fragments', async () => {
    const py = await PyPeer.start();
    const w = await EnetWireClient.create();
    try {
      const h = await py.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 2 });
      const verify = await w.connect(h.port as number, { channelCount: 16, data: 0xf00d }, () => undefined);
      const ce = await py.waitEvent((e) => e.ev === 'connect', 5000);
      if (ce.ev !== 'connect') throw new Error('unreachable');
      expect(ce.data).toBe(0xf00d);
      expect(verify.channelCount).toBe(16);
      for (const b of malformed()) for (const cmd of b.cmds) w.sendCommands([cmd]);
      const marker = randomBytes(50);
      w.sendCommands([sendReliableCommand(8, 1, marker)]);
      const m = await py.waitEvent((e) => isReceive(e) && e.channel === 8, 5000);
      if (!isReceive(m)) throw new Error('unreachable');
      expect(eventBytes(m).equals(marker)).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const delivered = py.unconsumed('receive').filter((e) => e.channel >= 1 && e.channel <= 5)
        .map((e) => `channel ${e.channel}: ${e.len} B`).sort();
      console.log(`libenet 1.3.17 delivered the malformed fragments as: ${delivered.join(', ')}`);
      expect(delivered).toEqual(['channel 1: 10 B', 'channel 2: 1 B', 'channel 3: 10 B', 'channel 4: 1 B']);
      // and acknowledged the reliable ones, the million-fragment one included
      for (const channel of [1, 2, 5]) expect(w.acks.some(([c]) => c === channel)).toBe(true);
    } finally {
      await w.close();
      await py.close();
    }
  });

  test('malformed fragments are rejected: no receive event, no ACK; a legal huge fragmentCount is still accepted', async () => {
    const bad = malformed();
    for (const b of bad) for (const cmd of b.cmds) wire.sendCommands([cmd]);
    // Legal, although absurd: a million fragments of a 1,000,000-byte packet. ENet must accept it
    // (and acknowledge it) -- the validation only rejects what cannot be a real packet.
    wire.sendCommands([fragmentCommand({ reliable: true, channel: 7, reliableSeq: 1, startSeq: 1, fragmentCount: 1_000_000,
      fragmentNumber: 0, totalLength: 1_000_000, fragmentOffset: 0, data: Buffer.from([7]) })]);
    // A valid packet after them, on a fresh channel: once it is here, everything before was handled.
    const marker = randomBytes(50);
    wire.sendCommands([sendReliableCommand(8, 1, marker)]);
    await pumpUntil(() => ours.received.some((g) => g.channel === 8) && acked(8, 1) && acked(7, 1), ours.pump, 5000,
      'the marker packet and the ACK of the legal fragment');
    await pumpUntil(() => false, ours.pump, 300, 'settling').catch(() => undefined);
    expect(ours.take((g) => g.channel === 8)[0].data.equals(marker)).toBe(true);
    const delivered = ours.received.filter((g) => g.channel >= 1 && g.channel <= 5).map((g) => `channel ${g.channel}: ${g.data.length} B`);
    expect(delivered).toEqual([]);
    const ackedBad = bad.filter((b) => b.reliable).filter((b) => wire.acks.some(([c]) => c === b.channel)).map((b) => b.name);
    expect(ackedBad).toEqual([]);
    expect(wirePeer.getState()).toBe(PeerState.STATE_CONNECTED);
  });

  const FLOOD_PER_KIND = 500;
  const BITMAP_BYTES = Math.ceil(1_000_000 / 32) * 4;
  // The reliable half alone: incomplete unreliable packets are dropped once newer ones arrive, so
  // only the reliable ones are sure to pile up on an ENet that accepts them.
  const WOULD_BE_MIB = (FLOOD_PER_KIND * BITMAP_BYTES) / 2 ** 20;

  /**
   * FLOOD_PER_KIND reliable (channel 9) and as many unreliable (channel 10) fragment commands, each
   * starting a new packet of 1,000,000 fragments and 10 bytes. Each datagram also carries a PING
   * first; its ACK proves the datagram reached the command loop of the connected peer. Resolves once
   * every ping is acknowledged.
   */
  async function fragmentFlood(w: EnetWireClient, pump: () => void, pingBase: number): Promise<number> {
    let ping = pingBase;
    for (let i = 0; i < FLOOD_PER_KIND; i++) {
      w.sendCommands([pingCommand(ping++), fragmentCommand({ reliable: true, channel: 9, reliableSeq: 1 + i, startSeq: 1 + i,
        fragmentCount: 1_000_000, fragmentNumber: 0, totalLength: 10, fragmentOffset: 0, data: Buffer.from([1]) })]);
      w.sendCommands([pingCommand(ping++), fragmentCommand({ reliable: false, channel: 10, reliableSeq: 0, startSeq: 1 + i,
        fragmentCount: 1_000_000, fragmentNumber: 0, totalLength: 10, fragmentOffset: 0, data: Buffer.from([1]) })]);
      // Paced by the peer's own ACKs, so that no socket buffer overflows however slow the peer is (libenet
      // asks for only 256 KiB, and a python peer on a loaded machine falls behind any fixed pace).
      if (i % 25 === 24) {
        const sent = ping;
        await pumpUntil(() => w.controlAcks.has(sent - 1), pump, 10000, `the ACK of ping ${sent - 1}`);
      }
    }
    const pings = ping - pingBase;
    await pumpUntil(() => [...Array(pings).keys()].every((k) => w.controlAcks.has(pingBase + k)), pump, 10000,
      `ACKs of all ${pings} pings`);
    return pings;
  }

  function rssOf(pid: number): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m === null) throw new Error('no VmRSS');
    return Number(m[1]) * 1024;
  }

  test('control: the same flood makes libenet 1.3.17 (no validation) allocate the bitmaps', async () => {
    const py = await PyPeer.start();
    const w = await EnetWireClient.create();
    try {
      const h = await py.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 2 });
      await w.connect(h.port as number, { channelCount: 16 }, () => undefined);
      await py.waitEvent((e) => e.ev === 'connect', 5000);
      const pid = py.pid as number;
      const before = rssOf(pid);
      const pings = await fragmentFlood(w, () => undefined, 1000);
      const grownMiB = (rssOf(pid) - before) / 2 ** 20;
      console.log(`fragment flood against libenet 1.3.17: ${pings} datagrams processed, python RSS grew ${grownMiB.toFixed(1)} MiB ` +
        `(bitmaps of the ${FLOOD_PER_KIND} reliable ones: ${WOULD_BE_MIB.toFixed(0)} MiB)`);
      expect(grownMiB).toBeGreaterThan(WOULD_BE_MIB * 0.75);
      expect(w.acks.filter(([c]) => c === 9).length).toBe(FLOOD_PER_KIND);
    } finally {
      await w.close();
      await py.close();
    }
  }, 30000);

  test('a flood of million-fragment commands with tiny totalLength allocates nothing (no ~122 KB bitmap each)', async () => {
    const rssBefore = process.memoryUsage().rss;
    const pings = await fragmentFlood(wire, ours.pump, 1000);
    const grownMiB = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
    console.log(`fragment flood against ours: ${pings} datagrams processed (every ping acknowledged); ` +
      `RSS grew ${grownMiB.toFixed(1)} MiB (accepting the reliable ones alone would allocate ${WOULD_BE_MIB.toFixed(0)} MiB of bitmaps)`);
    expect(ours.received.filter((g) => g.channel === 9 || g.channel === 10)).toEqual([]);
    expect(wire.acks.filter(([c]) => c === 9)).toEqual([]);
    expect(grownMiB).toBeLessThan(WOULD_BE_MIB / 4);
    expect(wirePeer.getState()).toBe(PeerState.STATE_CONNECTED);
  }, 30000);

  test('the server stays healthy: a legitimate python client connects and exchanges data', async () => {
    const { py, key, peer } = await pyClient(ours, { data: 31337 });
    try {
      expect(ours.connects[ours.connects.length - 1].data).toBe(31337);
      await pyStream(ours, py, key, 2, 1000, 0);
      const out = randomBytes(100_000);
      expect(peer.send(1, out, RELIABLE)).toBe(GodotError.OK);
      const e = await py.waitEvent((x) => isReceive(x) && x.channel === 1, 5000, ours.pump);
      if (!isReceive(e)) throw new Error('unreachable');
      expect(e.sha256).toBe(sha256hex(out));
      expect(ours.errorEvents).toBe(0);
      // The crafted peer is still there too.
      const more = randomBytes(2000);
      for (const cmd of fragmentPacket({ reliable: true, channel: 11, startSeq: 1, payload: more, fragmentSize })) wire.sendCommands([cmd]);
      await pumpUntil(() => ours.received.some((g) => g.channel === 11), ours.pump, 5000, 'another valid packet from the wire client');
      expect(ours.take((g) => g.channel === 11)[0].data.equals(more)).toBe(true);
    } finally {
      await py.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------

describe('mitigation 3: negative service results are transient (counted, never EVENT_ERROR)', () => {
  /** 2,000 datagrams ENet must survive: noise, truncations, bad headers, bad commands, oversize. */
  function garbage(i: number): Buffer {
    const u16 = (v: number): Buffer => {
      const b = Buffer.alloc(2);
      b.writeUInt16BE(v & 0xffff);
      return b;
    };
    switch (i % 10) {
      case 0: return randomBytes(1 + (i % 200)); // noise
      case 1: return Buffer.from([0x8f]); // shorter than a header
      case 2: return Buffer.concat([u16(NO_PEER | HEADER_SENT_TIME), u16(i), pingCommand(1)]); // no peer, not a CONNECT
      case 3: return Buffer.concat([u16(NO_PEER | HEADER_SENT_TIME), u16(i), connectCommand({ channelCount: 0 }, randomBytes(4))]); // 0 channels
      case 4: return Buffer.concat([u16(NO_PEER | HEADER_SENT_TIME), u16(i), connectCommand({ channelCount: 4 }, randomBytes(4)), pingCommand(2)]); // trailing bytes
      case 5: return Buffer.concat([u16((i % 8) | HEADER_COMPRESSED | HEADER_SENT_TIME), u16(i), randomBytes(40)]); // compressed, no compressor
      case 6: return Buffer.concat([u16((i % 8) | ((i % 4) << 12) | HEADER_SENT_TIME), u16(i), sendReliableCommand(0, 1, randomBytes(20))]); // someone else's peer id
      case 7: return Buffer.concat([u16(NO_PEER), Buffer.from([0x0f | FLAG_ACKNOWLEDGE, 0xff, 0, 1])]); // unknown command type 15
      case 8: { // a SEND_RELIABLE claiming 65535 bytes of data
        const c = sendReliableCommand(0, 1, randomBytes(8));
        c.writeUInt16BE(0xffff, 4);
        return Buffer.concat([u16(3 | HEADER_SENT_TIME), u16(i), c]);
      }
      default: // now and then oversized, or exactly ENet's buffer size; otherwise noise
        return randomBytes(i % 50 === 9 ? 5000 : i % 50 === 19 ? 4096 : 1 + (i % 100));
    }
  }

  test('2,000 garbage datagrams between two services: service() never returns EVENT_ERROR, a python stream continues', async () => {
    const ours = new RecordingHost();
    const u4 = await udpSocket('udp4');
    let client: { py: PyPeer; key: number; peer: ENetPacketPeer } | undefined;
    try {
      expect(ours.conn.createHostBound('*', 0, 8)).toBe(GodotError.OK);
      const port = ours.conn.getLocalPort();
      client = await pyClient(ours);
      const { py, key, peer } = client;
      await pyStream(ours, py, key, 1, 500, 0);
      let oversized = 0;
      let total = 0;
      const burst = async (): Promise<void> => {
        const sends: Promise<void>[] = [];
        for (let i = 0; i < 2000; i++) {
          const g = garbage(i);
          if (g.length > 4096) oversized++;
          total++;
          sends.push(sendUdp(u4, g, port, '127.0.0.1'));
        }
        await Promise.all(sends);
      };

      // Burst 1 while nothing else is in flight: the next service reads a full batch of 256
      // datagrams (unpatched zpl returns -1 there, which Godot reports as EVENT_ERROR).
      ours.pump();
      ours.conn.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_PACKETS);
      await burst();
      const first = ours.step();
      const firstRead = ours.conn.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_PACKETS);
      expect(first).not.toBe(EventType.EVENT_ERROR);
      // 256 reads, less the oversized datagrams among them (skipped before they are counted).
      expect(firstRead).toBeGreaterThanOrEqual(256 - 30);
      expect(firstRead).toBeLessThanOrEqual(256);
      ours.pump();

      // Burst 2 lands while python streams to us.
      await py.request({ op: 'send_seq', peer: key, channel: 2, flags: RELIABLE, count: 1000, size: 32, start: 0 });
      await burst();
      await pumpUntil(() => ours.received.filter((g) => g.channel === 2).length >= 1000, ours.pump, 15000, 'the stream');
      const stream = ours.take((g) => g.channel === 2);
      expect(stream.map((g) => g.data.readUInt32BE(0))).toEqual([...Array(1000).keys()]);
      const c = ours.conn.getCounters();
      console.log(`garbage: ${total} datagrams (${oversized} oversized) in 2 bursts; the first service after a burst read ${firstRead}; ` +
        `${ours.serviceCalls} service calls, ${ours.errorEvents} EVENT_ERROR; counters ${JSON.stringify(c)}`);
      expect(ours.errorEvents).toBe(0);
      expect(c?.oversizedDropped).toBeGreaterThan(0);
      expect(c?.oversizedDropped).toBeLessThanOrEqual(oversized);
      expect(peer.getState()).toBe(PeerState.STATE_CONNECTED);
      expect(ours.connects.length).toBe(1); // no garbage CONNECT made a peer
      expect(py.unconsumed('disconnect')).toEqual([]);
    } finally {
      u4.close();
      await client?.py.close();
      ours.destroy();
    }
  }, 40000);
});

// ---------------------------------------------------------------------------------------------------

describe('mitigation 7 and Godot defaults: IPv4 peers as a.b.c.d, MTU 1392 on the wire', () => {
  test('our client proposes MTU 1392 in its CONNECT and sees the python server as 127.0.0.1', async () => {
    const ours = new RecordingHost();
    const py = await PyPeer.start();
    try {
      expect(ours.conn.createHost(1)).toBe(GodotError.OK);
      const h = await py.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 2 });
      await py.request({ op: 'capture', on: true });
      const peer = ours.conn.connectToHost('127.0.0.1', h.port as number, 0, 7);
      if (peer === null) throw new Error('connectToHost failed');
      const ce = await py.waitEvent((e) => e.ev === 'connect', 5000, ours.pump);
      if (ce.ev !== 'connect') throw new Error('unreachable');
      await pumpUntil(() => ours.connects.length > 0, ours.pump, 5000, 'CONNECT at ours');
      const first = py.events.find((e): e is PyDatagramEvent => e.ev === 'datagram');
      if (first === undefined) throw new Error('no datagram captured');
      const bytes = Buffer.from(first.data, 'base64');
      // header: peerID 0xFFF with SENT_TIME, sentTime; then the CONNECT command.
      expect(bytes.readUInt16BE(0) & 0x8fff).toBe(0x8fff);
      expect(bytes[4] & 0x0f).toBe(CMD.CONNECT);
      expect(bytes.length).toBe(4 + 48);
      const mtu = bytes.readUInt32BE(4 + 8);
      const channelCount = bytes.readUInt32BE(4 + 16);
      const data = bytes.readUInt32BE(4 + 44);
      const info = await py.request({ op: 'peer_info', peer: ce.peer });
      console.log(`CONNECT from our client: mtu ${mtu}, channelCount ${channelCount}, data ${data}; python peer mtu ${info.mtu}`);
      expect(mtu).toBe(1392);
      expect(channelCount).toBe(255);
      expect(data).toBe(7);
      expect(info.mtu).toBe(1392);
      expect(peer.getTotals().mtu).toBe(1392);
      expect(peer.getRemoteAddress()).toBe('127.0.0.1');
      expect(ce.address).toBe('127.0.0.1');
    } finally {
      await py.close();
      ours.destroy();
    }
  });

  test('our server reports the python client as 127.0.0.1 (not ::ffff:127.0.0.1), on a dual-stack socket', async () => {
    const ours = new RecordingHost();
    try {
      expect(ours.conn.createHostBound('*', 0, 4)).toBe(GodotError.OK);
      expect(ours.conn.getCounters()?.socketFamily).toBe(6);
      const { py, peer, key } = await pyClient(ours);
      try {
        expect(peer.getRemoteAddress()).toBe('127.0.0.1');
        const info = await py.request({ op: 'peer_info', peer: key });
        expect(peer.getRemotePort()).toBeGreaterThan(0);
        expect(info.address).toBe('127.0.0.1');
      } finally {
        await py.close();
      }
    } finally {
      ours.destroy();
    }
  });
});
