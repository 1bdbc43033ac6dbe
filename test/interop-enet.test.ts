/**
 * Interop of our ENetConnection (zpl enet.c 2.1.2 + our patches and socket layer) with real upstream
 * ENet: test/peers/enet_peer.py over Debian's python3-enet / libenet7 1.3.17, in both arrangements
 * (ours as server with python clients, python as server with ours as client). This is the A.3 matrix
 * of enet-engine.md, run against the addon.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'crypto';
import { ENetConnection, EventType, HostStatistic } from '../src/enet/ENetConnection';
import { ENetPacketPeer, PeerState, PeerStatistic } from '../src/enet/ENetPacketPeer';
import { GodotError, setErrorReporter } from '../src/core/errors';
import { Got, RecordingHost } from './helpers/recording-host';
import {
  ENET_FLAG,
  PyDatagramEvent,
  PyDisconnectEvent,
  PyEvent,
  PyPeer,
  PyReceiveEvent,
  b64,
  eventBytes,
  patternBytes,
  pumpUntil,
  sha256hex,
} from './helpers/py-peer';

const { RELIABLE, UNSEQUENCED, UNRELIABLE_FRAGMENT } = ENET_FLAG;
const CHANNELS = [0, 1, 5, 200];

const reported: string[] = [];
setErrorReporter((message) => {
  reported.push(message);
});

const isReceive = (e: PyEvent): e is PyReceiveEvent => e.ev === 'receive';

/** The kinds of send a Godot user can make, and the flags ENet gives the packet on the other side. */
interface Kind {
  name: string;
  flags: number;
  size: number;
  expect: number;
}
const KINDS: Kind[] = [
  { name: 'reliable', flags: RELIABLE, size: 100, expect: RELIABLE },
  { name: 'unreliable (flags 0)', flags: 0, size: 200, expect: 0 },
  { name: 'unsequenced', flags: UNSEQUENCED, size: 300, expect: UNSEQUENCED },
  { name: 'unreliable fragment, 4000 B', flags: UNRELIABLE_FRAGMENT, size: 4000, expect: UNRELIABLE_FRAGMENT },
  // Small enough for one datagram: ENet sends it as a plain unreliable packet.
  { name: 'unreliable-fragment flag, 500 B', flags: UNRELIABLE_FRAGMENT, size: 500, expect: 0 },
  // Larger than the MTU without the unreliable-fragment flag: ENet sends reliable fragments.
  { name: 'unreliable, 4000 B', flags: 0, size: 4000, expect: RELIABLE },
  { name: 'unsequenced, 4000 B', flags: UNSEQUENCED, size: 4000, expect: RELIABLE },
  { name: 'reliable, 5000 B', flags: RELIABLE, size: 5000, expect: RELIABLE },
  { name: 'reliable + unreliable-fragment, 4000 B', flags: RELIABLE | UNRELIABLE_FRAGMENT, size: 4000, expect: RELIABLE },
  { name: 'unsequenced + unreliable-fragment, 4000 B', flags: UNSEQUENCED | UNRELIABLE_FRAGMENT, size: 4000, expect: UNRELIABLE_FRAGMENT },
  { name: 'empty reliable', flags: RELIABLE, size: 0, expect: RELIABLE },
];

function seqPayload(index: number, body: Buffer): Buffer {
  const b = Buffer.alloc(4 + body.length);
  b.writeUInt32BE(index >>> 0, 0);
  body.copy(b, 4);
  return b;
}

/** Waits until python reports `count` receives on `channel` after index `from` of its event list. */
async function pyReceives(py: PyPeer, channel: number, count: number, pump: () => void, ms: number, from = 0): Promise<PyReceiveEvent[]> {
  let found: PyReceiveEvent[] = [];
  let scanned = from;
  await pumpUntil(() => {
    for (; scanned < py.events.length; scanned++) {
      const e = py.events[scanned];
      if (isReceive(e) && e.channel === channel) found.push(e);
    }
    return found.length >= count;
  }, pump, ms, `${count} packets on channel ${channel} at python (have ${found.length})`);
  found = found.slice(0, count);
  return found;
}

// ---------------------------------------------------------------------------------------------------

/**
 * ENet's packet throttle drops unreliable packets at the sender on purpose when the RTT worsens (on
 * a loaded test machine it can). Unreliable delivery is only owed while the sender's throttle is
 * full (PACKET_THROTTLE_SCALE): then its drop test can never fire. These wait for that, pinging so
 * that fresh RTT samples let the throttle recover.
 */
const FULL_THROTTLE = ENetPacketPeer.PACKET_THROTTLE_SCALE;

async function oursFullThrottle(peers: ENetPacketPeer[], pump: () => void): Promise<void> {
  let lastPing = 0;
  await pumpUntil(() => peers.every((p) => p.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE) >= FULL_THROTTLE), () => {
    if (Date.now() - lastPing >= 20) {
      lastPing = Date.now();
      for (const p of peers) p.ping();
    }
    pump();
  }, 15000, 'our packet throttle to be full');
}

async function pyFullThrottle(py: PyPeer, key: number, pump: () => void): Promise<void> {
  const deadline = Date.now() + 15000;
  for (;;) {
    const info = await py.request({ op: 'peer_info', peer: key });
    if ((info.packetThrottle as number) >= FULL_THROTTLE) return;
    if (Date.now() > deadline) throw new Error(`python's packet throttle stayed at ${info.packetThrottle}`);
    await py.request({ op: 'ping', peer: key });
    await pumpUntil(() => false, pump, 20, 'a moment').catch(() => undefined);
  }
}

function expectKind(kind: Kind, sentChannel: number, got: { channel: number; flags: number; len: number }): void {
  expect({ kind: kind.name, channel: got.channel, flags: got.flags, len: got.len })
    .toEqual({ kind: kind.name, channel: sentChannel, flags: kind.expect, len: kind.size });
}

/** Every kind on every channel, one packet at a time (each waited for): ours -> python, then back. */
async function eachKindOneByOne(ours: RecordingHost, ourPeer: ENetPacketPeer, py: PyPeer, pyPeerKey: number): Promise<void> {
  for (const channel of CHANNELS) {
    for (const kind of KINDS) {
      const data = randomBytes(kind.size);
      if (kind.expect !== RELIABLE) await oursFullThrottle([ourPeer], ours.pump);
      expect(ourPeer.send(channel, data, kind.flags)).toBe(GodotError.OK);
      ours.conn.flush();
      const sha = sha256hex(data);
      const e = await py.waitEvent((x) => isReceive(x) && x.sha256 === sha && x.channel === channel, 5000, ours.pump);
      if (!isReceive(e)) throw new Error('unreachable');
      expectKind(kind, channel, e);
      expect(eventBytes(e).equals(data)).toBe(true);
      expect(e.peer).toBe(pyPeerKey);
    }
  }
  for (const channel of CHANNELS) {
    for (const kind of KINDS) {
      const data = randomBytes(kind.size);
      if (kind.expect !== RELIABLE) await pyFullThrottle(py, pyPeerKey, ours.pump);
      await py.request({ op: 'send', peer: pyPeerKey, channel, flags: kind.flags, data: b64(data) });
      await pumpUntil(() => ours.received.some((g) => g.data.equals(data) && g.channel === channel), ours.pump, 5000,
        `${kind.name} on channel ${channel} at ours`);
      const [g] = ours.take((x) => x.data.equals(data) && x.channel === channel);
      expectKind(kind, channel, { channel: g.channel, flags: g.flags, len: g.data.length });
      expect(g.peer).toBe(ourPeer);
    }
  }
}

function burst(): Array<{ kind: Kind; channel: number; data: Buffer }> {
  const out: Array<{ kind: Kind; channel: number; data: Buffer }> = [];
  for (const channel of CHANNELS) for (const kind of KINDS) out.push({ kind, channel, data: randomBytes(kind.size) });
  return out;
}

/**
 * Every kind on every channel queued at once, then one service: on a lossless loopback link every
 * packet arrives, as it does between two upstream peers (1.3.16+ sends reliable and unreliable
 * commands from one queue, in the order they were queued). zpl 2.1.2 keeps two queues and sent the
 * reliable commands first, so an unreliable packet queued before a multi-datagram reliable one on
 * the same channel reached the receiver behind that channel's reliable sequence and was discarded.
 */
async function burstOursToPython(ours: RecordingHost, ourPeer: ENetPacketPeer, py: PyPeer, pyPeerKey: number): Promise<void> {
  const sent = burst();
  await oursFullThrottle([ourPeer], ours.pump);
  for (const s of sent) expect(ourPeer.send(s.channel, s.data, s.kind.flags)).toBe(GodotError.OK);
  ours.conn.flush();
  const from = py.events.length;
  const arrived = (s: { data: Buffer; channel: number }): PyReceiveEvent | undefined => {
    const sha = sha256hex(s.data);
    return py.events.slice(from).find((x): x is PyReceiveEvent => isReceive(x) && x.sha256 === sha && x.channel === s.channel);
  };
  await pumpUntil(() => sent.every((s) => arrived(s) !== undefined), ours.pump, 3000, 'the whole burst at python').catch(() => undefined);
  const missing = sent.filter((s) => arrived(s) === undefined).map((s) => `${s.kind.name} on channel ${s.channel}`);
  expect(missing).toEqual([]);
  for (const s of sent) {
    const e = arrived(s) as PyReceiveEvent;
    expectKind(s.kind, s.channel, e);
    expect(e.peer).toBe(pyPeerKey);
  }
  expectSequenced(sent, (s) => py.events.indexOf(arrived(s) as PyReceiveEvent));
}

/**
 * ENet's sequencing: on each channel, reliable packets arrive in order, and a (sequenced) unreliable
 * packet arrives after every reliable packet queued before it and before every one queued after
 * it. Only unsequenced packets may overtake. So the arrival order of the rest is the queue order.
 */
function expectSequenced(sent: Array<{ kind: Kind; channel: number; data: Buffer }>, arrival: (s: { kind: Kind; channel: number; data: Buffer }) => number): void {
  for (const channel of CHANNELS) {
    const queued = sent.filter((s) => s.channel === channel && s.kind.expect !== UNSEQUENCED);
    const byArrival = [...queued].sort((a, b) => arrival(a) - arrival(b));
    expect(byArrival.map((s) => s.kind.name)).toEqual(queued.map((s) => s.kind.name));
  }
}

async function burstPythonToOurs(ours: RecordingHost, ourPeer: ENetPacketPeer, py: PyPeer, pyPeerKey: number): Promise<void> {
  const sent = burst();
  await pyFullThrottle(py, pyPeerKey, ours.pump);
  await py.request({
    op: 'send_batch',
    peer: pyPeerKey,
    packets: sent.map((s) => ({ channel: s.channel, flags: s.kind.flags, data: b64(s.data) })),
  });
  const arrived = (s: { data: Buffer; channel: number }): Got | undefined =>
    ours.received.find((g) => g.data.equals(s.data) && g.channel === s.channel);
  await pumpUntil(() => sent.every((s) => arrived(s) !== undefined), ours.pump, 3000, 'the whole burst at ours').catch(() => undefined);
  const missing = sent.filter((s) => arrived(s) === undefined).map((s) => `${s.kind.name} on channel ${s.channel}`);
  expect(missing).toEqual([]);
  for (const s of sent) {
    const g = arrived(s) as Got;
    expectKind(s.kind, s.channel, { channel: g.channel, flags: g.flags, len: g.data.length });
    expect(g.peer).toBe(ourPeer);
  }
  expectSequenced(sent, (s) => ours.received.indexOf(arrived(s) as Got));
  ours.take((g) => sent.some((s) => s.data.equals(g.data)));
}

async function oneMiBBothWays(ours: RecordingHost, ourPeer: ENetPacketPeer, py: PyPeer, pyPeerKey: number): Promise<void> {
  const size = 1 << 20;
  const out = randomBytes(size);
  expect(ourPeer.send(2, out, RELIABLE)).toBe(GodotError.OK);
  const e = await py.waitEvent((x) => isReceive(x) && x.len === size, 20000, ours.pump);
  if (!isReceive(e)) throw new Error('unreachable');
  expect(e.sha256).toBe(sha256hex(out));
  expect(e.flags).toBe(RELIABLE);
  expect(e.channel).toBe(2);

  const reply = await py.request({ op: 'send', peer: pyPeerKey, channel: 3, flags: RELIABLE, size });
  await pumpUntil(() => ours.received.some((g) => g.data.length === size), ours.pump, 20000, '1 MiB packet at ours');
  const [g] = ours.take((x) => x.data.length === size);
  expect(sha256hex(g.data)).toBe(reply.sha256);
  expect(sha256hex(g.data)).toBe(sha256hex(patternBytes(size, 3)));
  expect(g.flags).toBe(RELIABLE);
  expect(g.channel).toBe(3);
}

async function streamBothWays(ours: RecordingHost, ourPeer: ENetPacketPeer, py: PyPeer, pyPeerKey: number, count: number): Promise<void> {
  const body = Buffer.from('0123456789abcdef');
  // ours -> python, channel 1
  const from = py.events.length;
  const t0 = Date.now();
  for (let i = 0; i < count; i++) expect(ourPeer.send(1, seqPayload(i, body), RELIABLE)).toBe(GodotError.OK);
  const got = await pyReceives(py, 1, count, ours.pump, 60000, from);
  const t1 = Date.now();
  for (let i = 0; i < count; i++) {
    const data = eventBytes(got[i]);
    if (data.readUInt32BE(0) !== i || !data.subarray(4).equals(body) || got[i].flags !== RELIABLE) {
      throw new Error(`python got message ${data.readUInt32BE(0)} (flags ${got[i].flags}) where ${i} was due`);
    }
  }
  // python -> ours, channel 4
  await py.request({ op: 'send_seq', peer: pyPeerKey, channel: 4, flags: RELIABLE, count, size: 16 });
  await pumpUntil(() => ours.received.filter((g) => g.channel === 4).length >= count, ours.pump, 60000,
    `${count} messages at ours`);
  const t2 = Date.now();
  const mine = ours.take((g) => g.channel === 4);
  expect(mine.length).toBe(count);
  const pat = patternBytes(16, 4);
  for (let i = 0; i < count; i++) {
    const d = mine[i].data;
    if (d.readUInt32BE(0) !== i || !d.subarray(4).equals(pat) || mine[i].flags !== RELIABLE) {
      throw new Error(`ours got message ${d.readUInt32BE(0)} where ${i} was due`);
    }
  }
  console.log(`${count} reliable messages in order: ours->python ${t1 - t0} ms, python->ours ${t2 - t1} ms`);
}

// ---------------------------------------------------------------------------------------------------

describe('ours as server, upstream ENet (python3-enet) as client', () => {
  const ours = new RecordingHost();
  let py: PyPeer;
  let port = 0;
  let ourPeer: ENetPacketPeer;
  let pyKey = -1;

  async function connectPy(client: PyPeer, data: number): Promise<{ peer: ENetPacketPeer; key: number }> {
    const before = ours.connects.length;
    const reply = await client.request({ op: 'connect', address: '127.0.0.1', port, channels: 255, data });
    await pumpUntil(() => ours.connects.length > before, ours.pump, 5000, 'CONNECT at ours');
    const ce = await client.waitEvent((e) => e.ev === 'connect' && e.peer === reply.peer, 5000, ours.pump);
    if (ce.ev !== 'connect') throw new Error('unreachable');
    expect(ce.port).toBe(port);
    const c = ours.connects[ours.connects.length - 1];
    expect(c.data).toBe(data);
    return { peer: c.peer, key: reply.peer as number };
  }

  beforeAll(async () => {
    expect(ours.conn.createHostBound('*', 0, 32)).toBe(GodotError.OK);
    port = ours.conn.getLocalPort();
    py = await PyPeer.start();
    const h = await py.request({ op: 'host', bind: null, port: 0, peers: 4 });
    expect(h.enet_version).toBe('1.3.17');
  });

  afterAll(async () => {
    await py?.close();
    ours.destroy();
  });

  test('connect data 0xC0FFEE arrives exactly; the python peer is 127.0.0.1 with 255 channels', async () => {
    ({ peer: ourPeer, key: pyKey } = await connectPy(py, 0xc0ffee));
    expect(ourPeer.getRemoteAddress()).toBe('127.0.0.1');
    expect(ourPeer.getRemotePort()).toBeGreaterThan(0);
    expect(ourPeer.getChannels()).toBe(255);
    expect(ourPeer.getState()).toBe(PeerState.STATE_CONNECTED);
    const info = await py.request({ op: 'peer_info', peer: pyKey });
    expect(info.state).toBe('connected');
    expect(info.port).toBe(port);
    expect(info.channelCount).toBe(255);
  });

  test('every packet kind on channels 0, 1, 5, 200, both ways, byte-exact, flags as ENet assigns them', async () => {
    await eachKindOneByOne(ours, ourPeer, py, pyKey);
  }, 30000);

  test('a burst of every kind on every channel, queued before one service, arrives complete at upstream', async () => {
    await burstOursToPython(ours, ourPeer, py, pyKey);
  });

  test('a burst of every kind on every channel, queued by upstream at once, arrives complete at ours', async () => {
    await burstPythonToOurs(ours, ourPeer, py, pyKey);
  });

  test('1 MiB reliable packets both ways (sha256)', async () => {
    await oneMiBBothWays(ours, ourPeer, py, pyKey);
  }, 45000);

  test('20 000 reliable messages arrive complete and in order, both ways', async () => {
    await streamBothWays(ours, ourPeer, py, pyKey, 20000);
  }, 120000);

  test('broadcast reaches several python clients', async () => {
    const extra = await Promise.all([PyPeer.start(), PyPeer.start(), PyPeer.start()]);
    try {
      const keys: number[] = [];
      const ourPeers = [ourPeer];
      for (const [i, c] of extra.entries()) {
        await c.request({ op: 'host', bind: null, port: 0, peers: 2 });
        const connected = await connectPy(c, 100 + i);
        keys.push(connected.key);
        ourPeers.push(connected.peer);
      }
      const everyone = [py, ...extra];
      const reliable = randomBytes(3000); // fragmented
      const unreliable = randomBytes(300);
      await oursFullThrottle(ourPeers, ours.pump);
      ours.conn.broadcast(7, reliable, RELIABLE);
      ours.conn.broadcast(8, unreliable, 0);
      ours.conn.flush();
      for (const c of everyone) {
        const r = await c.waitEvent((e) => isReceive(e) && e.channel === 7, 5000, ours.pump);
        const u = await c.waitEvent((e) => isReceive(e) && e.channel === 8, 5000, ours.pump);
        if (!isReceive(r) || !isReceive(u)) throw new Error('unreachable');
        expect(eventBytes(r).equals(reliable)).toBe(true);
        expect(r.flags).toBe(RELIABLE);
        expect(eventBytes(u).equals(unreliable)).toBe(true);
        expect(u.flags).toBe(0);
      }
      // The extra clients leave with disconnect data of their own.
      for (const [i, c] of extra.entries()) {
        const before = ours.disconnects.length;
        await c.request({ op: 'disconnect', peer: keys[i], data: 900 + i });
        await pumpUntil(() => ours.disconnects.length > before, ours.pump, 5000, 'DISCONNECT at ours');
        expect(ours.disconnects[ours.disconnects.length - 1].data).toBe(900 + i);
      }
    } finally {
      await Promise.all(extra.map((c) => c.close()));
    }
  }, 30000);

  test('disconnect data 777 both ways', async () => {
    // ours -> python
    ourPeer.peerDisconnect(777);
    const d = (await py.waitEvent((e) => e.ev === 'disconnect' && e.peer === pyKey, 5000, ours.pump)) as PyDisconnectEvent;
    expect(d.data).toBe(777);
    await pumpUntil(() => ours.disconnects.some((x) => x.peer === ourPeer), ours.pump, 5000, 'our DISCONNECT event');
    expect(ourPeer.isActive()).toBe(false);

    // python -> ours, on a fresh connection
    const again = await connectPy(py, 0xc0ffee);
    expect(again.peer).not.toBe(ourPeer);
    await py.request({ op: 'disconnect', peer: again.key, data: 777 });
    await pumpUntil(() => ours.disconnects.some((x) => x.peer === again.peer), ours.pump, 5000, 'DISCONNECT at ours');
    expect(ours.disconnects.find((x) => x.peer === again.peer)?.data).toBe(777);
    await py.waitEvent((e) => e.ev === 'disconnect' && e.peer === again.key, 5000, ours.pump);
    expect(ours.errorEvents).toBe(0);
  });
});

describe('upstream ENet (python3-enet) as server, ours as client', () => {
  const ours = new RecordingHost();
  let py: PyPeer;
  let pyPort = 0;
  let ourPeer: ENetPacketPeer;
  let pyKey = -1;

  async function connectOurs(data: number): Promise<void> {
    const peer = ours.conn.connectToHost('127.0.0.1', pyPort, 0, data);
    if (peer === null) throw new Error('connectToHost failed');
    ourPeer = peer;
    const ce = await py.waitEvent((e) => e.ev === 'connect', 5000, ours.pump);
    if (ce.ev !== 'connect') throw new Error('unreachable');
    pyKey = ce.peer;
    expect(ce.data).toBe(data);
    expect(ce.address).toBe('127.0.0.1');
    expect(ce.channels).toBe(255);
    await pumpUntil(() => ours.connects.some((c) => c.peer === peer), ours.pump, 5000, 'our CONNECT event');
    // The initiating side's CONNECT event carries 0, as in Godot.
    expect(ours.connects.find((c) => c.peer === peer)?.data).toBe(0);
  }

  beforeAll(async () => {
    expect(ours.conn.createHost(1)).toBe(GodotError.OK);
    py = await PyPeer.start();
    const h = await py.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 8 });
    pyPort = h.port as number;
  });

  afterAll(async () => {
    await py?.close();
    ours.destroy();
  });

  test('connect data 0xC0FFEE arrives exactly; the server is 127.0.0.1', async () => {
    await connectOurs(0xc0ffee);
    expect(ourPeer.getRemoteAddress()).toBe('127.0.0.1');
    expect(ourPeer.getRemotePort()).toBe(pyPort);
    expect(ourPeer.getChannels()).toBe(255);
  });

  test('every packet kind on channels 0, 1, 5, 200, both ways, byte-exact, flags as ENet assigns them', async () => {
    await eachKindOneByOne(ours, ourPeer, py, pyKey);
  }, 30000);

  test('a burst of every kind on every channel, queued before one service, arrives complete at upstream', async () => {
    await burstOursToPython(ours, ourPeer, py, pyKey);
  });

  test('a burst of every kind on every channel, queued by upstream at once, arrives complete at ours', async () => {
    await burstPythonToOurs(ours, ourPeer, py, pyKey);
  });

  test('1 MiB reliable packets both ways (sha256)', async () => {
    await oneMiBBothWays(ours, ourPeer, py, pyKey);
  }, 45000);

  test('20 000 reliable messages arrive complete and in order, both ways', async () => {
    await streamBothWays(ours, ourPeer, py, pyKey, 20000);
  }, 120000);

  test('disconnect data 777 both ways', async () => {
    ourPeer.peerDisconnect(777);
    const d = (await py.waitEvent((e) => e.ev === 'disconnect' && e.peer === pyKey, 5000, ours.pump)) as PyDisconnectEvent;
    expect(d.data).toBe(777);
    const first = ourPeer;
    await pumpUntil(() => ours.disconnects.some((x) => x.peer === first), ours.pump, 5000, 'our DISCONNECT event');

    await connectOurs(0xc0ffee);
    await py.request({ op: 'disconnect', peer: pyKey, data: 777 });
    const second = ourPeer;
    await pumpUntil(() => ours.disconnects.some((x) => x.peer === second), ours.pump, 5000, 'DISCONNECT at ours');
    expect(ours.disconnects.find((x) => x.peer === second)?.data).toBe(777);
    expect(ours.errorEvents).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------

/** Compressible, text-like bytes (what a game sends far more often than noise). */
function compressible(size: number): Buffer {
  const words = ['position', 'velocity', 'player', 'health', 'ammo', 'state', 'idle', 'running', 'jump'];
  const parts: string[] = [];
  let total = 0;
  for (let i = 0; total < size; i++) {
    const w = `${words[(i * 7) % words.length]}=${i % 100};`;
    parts.push(w);
    total += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

describe('range coder (COMPRESS_RANGE_CODER against upstream enet_host_compress_with_range_coder)', () => {
  test('ours as server: both directions, including fragmented packets, compressed on the wire', async () => {
    const ours = new RecordingHost();
    const py = await PyPeer.start();
    try {
      expect(ours.conn.createHostBound('*', 0, 4)).toBe(GodotError.OK);
      ours.conn.compress(ENetConnection.COMPRESS_RANGE_CODER);
      expect(ours.conn.getCompressionMode()).toBe(ENetConnection.COMPRESS_RANGE_CODER);
      await py.request({ op: 'host', bind: null, port: 0, peers: 2 });
      await py.request({ op: 'compress', mode: 'range' });
      const reply = await py.request({ op: 'connect', address: '127.0.0.1', port: ours.conn.getLocalPort(), channels: 4, data: 1 });
      await pumpUntil(() => ours.connects.length > 0, ours.pump, 5000, 'CONNECT at ours');
      await py.waitEvent((e) => e.ev === 'connect', 5000, ours.pump);
      await checkCompressedBothWays(ours, ours.connects[0].peer, py, reply.peer as number);
    } finally {
      await py.close();
      ours.destroy();
    }
  }, 40000);

  test('ours as client: both directions, including fragmented packets, compressed on the wire', async () => {
    const ours = new RecordingHost();
    const py = await PyPeer.start();
    try {
      expect(ours.conn.createHost(1)).toBe(GodotError.OK);
      ours.conn.compress(ENetConnection.COMPRESS_RANGE_CODER);
      const h = await py.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 2 });
      await py.request({ op: 'compress', mode: 'range' });
      const peer = ours.conn.connectToHost('127.0.0.1', h.port as number, 4, 2);
      if (peer === null) throw new Error('connectToHost failed');
      const ce = await py.waitEvent((e) => e.ev === 'connect', 5000, ours.pump);
      if (ce.ev !== 'connect') throw new Error('unreachable');
      expect(ce.data).toBe(2);
      await pumpUntil(() => ours.connects.length > 0, ours.pump, 5000, 'CONNECT at ours');
      await checkCompressedBothWays(ours, peer, py, ce.peer);
    } finally {
      await py.close();
      ours.destroy();
    }
  }, 40000);
});

async function checkCompressedBothWays(ours: RecordingHost, peer: ENetPacketPeer, py: PyPeer, key: number): Promise<void> {
  const small = Buffer.alloc(1200, 0x41); // one datagram, highly compressible
  const big = compressible(200_000); // ~147 fragments

  // ours -> python: python captures the raw datagrams.
  await py.request({ op: 'capture', on: true });
  const capFrom = py.events.length;
  ours.conn.popStatistic(HostStatistic.HOST_TOTAL_SENT_DATA);
  expect(peer.send(1, small, RELIABLE)).toBe(GodotError.OK);
  const e1 = await py.waitEvent((e) => isReceive(e) && e.len === small.length, 5000, ours.pump);
  if (!isReceive(e1)) throw new Error('unreachable');
  expect(eventBytes(e1).equals(small)).toBe(true);
  const datagrams = py.events.slice(capFrom).filter((e): e is PyDatagramEvent => e.ev === 'datagram');
  const compressedDatagrams = datagrams.filter((d) => (Buffer.from(d.data, 'base64').readUInt16BE(0) & 0x4000) !== 0);
  const carrying = compressedDatagrams.filter((d) => d.len < small.length);
  console.log(`range coder, ours->python: a ${small.length} B packet went out in a ${Math.min(...carrying.map((d) => d.len))} B datagram ` +
    `(${compressedDatagrams.length} of ${datagrams.length} datagrams had the COMPRESSED header bit)`);
  expect(carrying.length).toBeGreaterThan(0);
  expect(Math.min(...carrying.map((d) => d.len))).toBeLessThan(small.length / 2);
  await py.request({ op: 'capture', on: false });

  expect(peer.send(2, big, RELIABLE)).toBe(GodotError.OK);
  const e2 = await py.waitEvent((e) => isReceive(e) && e.len === big.length, 15000, ours.pump);
  if (!isReceive(e2)) throw new Error('unreachable');
  expect(e2.sha256).toBe(sha256hex(big));
  const sentBytes = ours.conn.popStatistic(HostStatistic.HOST_TOTAL_SENT_DATA);
  console.log(`range coder, ours->python: ${small.length + big.length} B of payload took ${sentBytes} B of datagrams`);
  expect(sentBytes).toBeLessThan((small.length + big.length) * 0.75);

  // python -> ours: our host's received-bytes counter sees the datagrams as they came off the wire.
  ours.pump();
  ours.conn.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_DATA);
  const s0 = await py.request({ op: 'stats' });
  await py.request({ op: 'send', peer: key, channel: 1, flags: RELIABLE, data: b64(small) });
  await pumpUntil(() => ours.received.some((g) => g.data.length === small.length), ours.pump, 5000, 'small packet at ours');
  const [g1] = ours.take((g) => g.data.length === small.length);
  expect(g1.data.equals(small)).toBe(true);
  await py.request({ op: 'send', peer: key, channel: 2, flags: RELIABLE, data: b64(big) });
  await pumpUntil(() => ours.received.some((g) => g.data.length === big.length), ours.pump, 15000, 'big packet at ours');
  const [g2] = ours.take((g) => g.data.length === big.length);
  expect(sha256hex(g2.data)).toBe(sha256hex(big));
  expect(g2.flags).toBe(RELIABLE);
  const receivedBytes = ours.conn.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_DATA);
  const s1 = await py.request({ op: 'stats' });
  const pySent = (s1.totalSentData as number) - (s0.totalSentData as number);
  console.log(`range coder, python->ours: ${small.length + big.length} B of payload took ${receivedBytes} B of datagrams ` +
    `(python counted ${pySent} B sent)`);
  expect(receivedBytes).toBeGreaterThan(0);
  expect(receivedBytes).toBeLessThan((small.length + big.length) * 0.75);
  expect(ours.errorEvents).toBe(0);
}

// ---------------------------------------------------------------------------------------------------

/**
 * ENet notices a dead peer through its unacknowledged reliable commands: with backoff, at the first
 * retransmit timer to expire after timeout_min (5 s) once the RTO has doubled timeout_limit-fold, i.e.
 * somewhere in [5 s, 10 s + RTO). Here the vanishing happens while traffic flows (one more reliable
 * message right after it); an idle connection adds up to one ping interval (0.5 s) before its first
 * unacknowledged command exists.
 */
describe('a vanished upstream peer is detected with default timeouts', () => {
  const DEADLINE_S = 10;

  /** ENet's first retransmit timeout for the peer right now: RTT + 4 x variance (ms). */
  const rto = (peer: ENetPacketPeer): number => peer.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME) +
    4 * peer.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME_VARIANCE);

  async function serverCase(how: 'freeze' | 'SIGKILL'): Promise<{ seconds: number; rto: number }> {
    const ours = new RecordingHost();
    const py = await PyPeer.start();
    try {
      expect(ours.conn.createHostBound('*', 0, 4)).toBe(GodotError.OK);
      await py.request({ op: 'host', bind: null, port: 0, peers: 2 });
      await py.request({ op: 'connect', address: '127.0.0.1', port: ours.conn.getLocalPort(), channels: 2, data: 5 });
      await pumpUntil(() => ours.connects.length > 0, ours.pump, 5000, 'CONNECT at ours');
      await py.waitEvent((e) => e.ev === 'connect', 5000, ours.pump);
      const peer = ours.connects[0].peer;
      // Some traffic first, so the RTT estimate is a real one.
      for (let i = 0; i < 20; i++) peer.send(0, randomBytes(50), RELIABLE);
      await pyReceives(py, 0, 20, ours.pump, 5000);
      const rto0 = rto(peer);
      const t0 = Date.now();
      if (how === 'freeze') await py.request({ op: 'freeze' });
      else await py.kill('SIGKILL');
      // The game goes on: one more reliable message, which will never be acknowledged.
      expect(peer.send(0, randomBytes(50), RELIABLE)).toBe(GodotError.OK);
      ours.conn.flush();
      await pumpUntil(() => ours.disconnects.length > 0, ours.pump, (DEADLINE_S + 5) * 1000, 'DISCONNECT at ours');
      const seconds = (ours.disconnects[0].at - t0) / 1000;
      expect(ours.disconnects[0].peer).toBe(peer);
      expect(ours.disconnects[0].data).toBe(0);
      expect(ours.conn.getCounters()?.timeouts).toBe(1);
      expect(ours.errorEvents).toBe(0);
      return { seconds, rto: rto0 };
    } finally {
      await py.close();
      ours.destroy();
    }
  }

  async function clientCase(how: 'freeze' | 'SIGKILL'): Promise<{ seconds: number; rto: number }> {
    const ours = new RecordingHost();
    const py = await PyPeer.start();
    try {
      expect(ours.conn.createHost(1)).toBe(GodotError.OK);
      const h = await py.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 2 });
      const peer = ours.conn.connectToHost('127.0.0.1', h.port as number, 2, 6);
      if (peer === null) throw new Error('connectToHost failed');
      const ce = await py.waitEvent((e) => e.ev === 'connect', 5000, ours.pump);
      if (ce.ev !== 'connect') throw new Error('unreachable');
      await pumpUntil(() => ours.connects.length > 0, ours.pump, 5000, 'CONNECT at ours');
      await py.request({ op: 'send', peer: ce.peer, channel: 0, flags: RELIABLE, size: 50, repeat: 20 });
      await pumpUntil(() => ours.received.length >= 20, ours.pump, 5000, 'traffic at ours');
      const rto0 = rto(peer);
      const t0 = Date.now();
      if (how === 'freeze') await py.request({ op: 'freeze' });
      else await py.kill('SIGKILL');
      // The game goes on: one more reliable message, which will never be acknowledged.
      expect(peer.send(0, randomBytes(50), RELIABLE)).toBe(GodotError.OK);
      ours.conn.flush();
      await pumpUntil(() => ours.disconnects.length > 0, ours.pump, (DEADLINE_S + 5) * 1000, 'DISCONNECT at ours');
      const seconds = (ours.disconnects[0].at - t0) / 1000;
      expect(ours.disconnects[0].peer).toBe(peer);
      expect(ours.disconnects[0].data).toBe(0);
      expect(peer.isActive()).toBe(false);
      expect(ours.errorEvents).toBe(0);
      return { seconds, rto: rto0 };
    } finally {
      await py.close();
      ours.destroy();
    }
  }

  test.each<['freeze' | 'SIGKILL']>([['freeze'], ['SIGKILL']])('ours as server, python client %s: DISCONNECT within 10 s', async (how) => {
    const { seconds, rto: r } = await serverCase(how);
    console.log(`ours as server: python client (${how}) detected as gone after ${seconds.toFixed(2)} s (first RTO ${r} ms)`);
    expect(seconds).toBeLessThan(DEADLINE_S);
  }, 30000);

  test.each<['freeze' | 'SIGKILL']>([['freeze'], ['SIGKILL']])('ours as client, python server %s: DISCONNECT within 10 s', async (how) => {
    const { seconds, rto: r } = await clientCase(how);
    console.log(`ours as client: python server (${how}) detected as gone after ${seconds.toFixed(2)} s (first RTO ${r} ms)`);
    expect(seconds).toBeLessThan(DEADLINE_S);
  }, 30000);
});

afterEach(() => {
  if (reported.length > 0) console.log(`library errors reported during the test:\n  ${reported.join('\n  ')}`);
  reported.length = 0;
});
