/**
 * ENetPacketPeer (Godot's ENetPacketPeer and the PacketPeer parts it inherits, spec §1.1, §1.5,
 * G16, G17) on real UDP loopback: every method, every error return, the fallbacks of an inactive
 * peer, and the packet paths (flags, channels, ordering, fragmentation over IPv4 and IPv6).
 */
import { describe, expect, test } from '@jest/globals';
import {
  ENetPacketPeer,
  EventType,
  GodotError,
  HostStatistic,
  PeerState,
  PeerStatistic,
  Vector2,
} from '../src';
import {
  DEADLINE_MS,
  Endpoint,
  Pair,
  boundHost,
  captureErrors,
  connectClient,
  connectPair,
  destroyHostsAfterEach,
  exchange,
  nextEvent,
  pattern,
  pumpFor,
  pumpUntil,
  sleep,
  startClient,
} from './helpers/loopback';

const { FLAG_RELIABLE, FLAG_UNSEQUENCED, FLAG_UNRELIABLE_FRAGMENT } = ENetPacketPeer;
const { EVENT_CONNECT, EVENT_DISCONNECT, EVENT_RECEIVE } = EventType;
const MAX_PACKET_SIZE = 16777216;

const errors = captureErrors();
const { reportsError, reportsNothing } = errors;
destroyHostsAfterEach();

/** Waits until `endpoint` has logged `count` RECEIVE events, then reads them as [channel, flags, bytes]. */
async function receive(endpoint: Endpoint, pumped: Endpoint[], count: number, timeoutMs = DEADLINE_MS): Promise<[number, number, Buffer][]> {
  await pumpUntil(pumped, () => endpoint.find(EVENT_RECEIVE).length >= count, { timeoutMs, what: `${count} packets` });
  const out: [number, number, Buffer][] = [];
  for (let event = endpoint.take(EVENT_RECEIVE); event; event = endpoint.take(EVENT_RECEIVE)) {
    const peer = event[1] as ENetPacketPeer;
    out.push([event[3], peer.getPacketFlags(), peer.getPacket()]);
  }
  return out;
}

/**
 * A connected pair with no traffic of its own: pings are off (a huge interval) and the bandwidth
 * recalculation ENet does about a second after a connection is over; the host counters are popped.
 */
async function quietPair(): Promise<Pair> {
  const pair = await connectPair();
  pair.clientPeer.pingInterval(1_000_000);
  pair.serverPeer.pingInterval(1_000_000);
  await pumpFor(pair.both, 1300);
  for (const endpoint of pair.both) {
    for (const statistic of [0, 1, 2, 3]) endpoint.host.popStatistic(statistic);
  }
  return pair;
}

function receivedPacketsCount(endpoint: Endpoint): number {
  return endpoint.host.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_PACKETS);
}

describe('send', () => {
  // What the receiver sees for each allowed combination, for a small packet and one larger than the MTU.
  // ENet sends RELIABLE whenever the flag is set; UNSEQUENCED only without RELIABLE; a packet too large
  // for one datagram is fragmented, reliably unless it is unreliable with FLAG_UNRELIABLE_FRAGMENT.
  const FLAGS: [number, number, number][] = [
    [0, 0, FLAG_RELIABLE],
    [FLAG_RELIABLE, FLAG_RELIABLE, FLAG_RELIABLE],
    [FLAG_UNSEQUENCED, FLAG_UNSEQUENCED, FLAG_RELIABLE],
    [FLAG_RELIABLE | FLAG_UNSEQUENCED, FLAG_RELIABLE, FLAG_RELIABLE],
    [FLAG_UNRELIABLE_FRAGMENT, 0, FLAG_UNRELIABLE_FRAGMENT],
    [FLAG_UNRELIABLE_FRAGMENT | FLAG_RELIABLE, FLAG_RELIABLE, FLAG_RELIABLE],
    [FLAG_UNRELIABLE_FRAGMENT | FLAG_UNSEQUENCED, FLAG_UNSEQUENCED, FLAG_UNRELIABLE_FRAGMENT],
    [FLAG_RELIABLE | FLAG_UNSEQUENCED | FLAG_UNRELIABLE_FRAGMENT, FLAG_RELIABLE, FLAG_RELIABLE],
  ];

  test.each(FLAGS)('flags %i: OK; a small packet arrives with flags %i, a 5000-byte one with flags %i', async (flags, small, large) => {
    const pair = await connectPair();
    const tiny = Buffer.from([flags, 1, 2, 3]);
    const got = await exchange(pair.clientPeer, pair.server, pair.both, 2, tiny, flags);
    expect([got.event[3], got.flags, got.packet]).toEqual([2, small, tiny]);
    const big = pattern(5000, flags + 1);
    const gotBig = await exchange(pair.clientPeer, pair.server, pair.both, 3, big, flags);
    expect([gotBig.event[3], gotBig.flags, gotBig.packet.equals(big)]).toEqual([3, large, true]);
  });

  test.each([4, 16, 12, 5, 0x100, -1])('flags %i (outside 11) -> ERR_INVALID_PARAMETER', async (flags) => {
    const pair = await connectPair();
    expect(reportsError(() => pair.clientPeer.send(0, Buffer.from('x'), flags))).toBe(GodotError.ERR_INVALID_PARAMETER);
  });

  test('channel -1 -> ERR_INVALID_PARAMETER', async () => {
    const pair = await connectPair({ channels: 4 });
    expect(reportsError(() => pair.clientPeer.send(-1, Buffer.from('x'), FLAG_RELIABLE))).toBe(GodotError.ERR_INVALID_PARAMETER);
  });

  test.each([4, 255])('with %i channels: channel == count -> FAILED (G16), channel > count -> ERR_INVALID_PARAMETER', async (channels) => {
    const pair = await connectPair({ channels });
    expect(pair.clientPeer.getChannels()).toBe(channels);
    expect(pair.clientPeer.send(channels - 1, Buffer.from('last'), FLAG_RELIABLE)).toBe(GodotError.OK);
    expect(pair.clientPeer.send(channels, Buffer.from('x'), FLAG_RELIABLE)).toBe(GodotError.FAILED);
    expect(reportsError(() => pair.clientPeer.send(channels + 1, Buffer.from('x'), FLAG_RELIABLE)))
      .toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(reportsError(() => pair.clientPeer.send(1000, Buffer.from('x'), FLAG_RELIABLE))).toBe(GodotError.ERR_INVALID_PARAMETER);
    const got = await receive(pair.server, pair.both, 1);
    expect(got).toEqual([[channels - 1, FLAG_RELIABLE, Buffer.from('last')]]);
    await pumpFor(pair.both, 50);
    expect(pair.server.find(EVENT_RECEIVE)).toEqual([]);
  });

  test('on a peer that is still connecting -> FAILED', () => {
    const server = boundHost();
    const { peer } = startClient(server);
    expect(peer.getState()).toBe(PeerState.STATE_CONNECTING);
    expect(peer.send(0, Buffer.from('early'), FLAG_RELIABLE)).toBe(GodotError.FAILED);
    expect(peer.putPacket(Buffer.from('early'))).toBe(GodotError.FAILED);
  });

  test("a packet over ENet's 32 MiB limit -> FAILED; just under 32 MiB is accepted", async () => {
    const pair = await connectPair();
    expect(pair.clientPeer.send(0, Buffer.alloc(32 * 1024 * 1024 + 1), FLAG_RELIABLE)).toBe(GodotError.FAILED);
    expect(pair.clientPeer.send(0, Buffer.alloc(17 * 1024 * 1024), FLAG_RELIABLE)).toBe(GodotError.OK);
  });

  test('reliable packets keep their order per channel, on several channels at once', async () => {
    const pair = await connectPair({ channels: 5 });
    const perChannel = 60;
    for (let i = 0; i < perChannel * 5; i++) {
      const channel = (i * 7) % 5;
      expect(pair.clientPeer.send(channel, Buffer.from(`${channel}:${i}`), FLAG_RELIABLE)).toBe(GodotError.OK);
      if (i % 50 === 49) pair.client.host.flush();
    }
    const got = await receive(pair.server, pair.both, perChannel * 5);
    for (let channel = 0; channel < 5; channel++) {
      const sent = Array.from({ length: perChannel * 5 }, (_, i) => i).filter((i) => (i * 7) % 5 === channel)
        .map((i) => `${channel}:${i}`);
      const arrived = got.filter(([ch]) => ch === channel).map(([, , bytes]) => bytes.toString());
      expect(arrived).toEqual(sent);
    }
  });

  test('unreliable then reliable packet on one channel in one flush: both arrive, in order (ENet 1.3.16+ single queue)', async () => {
    // Godot's ENet 1.3.18 (and libenet 1.3.17) send commands in the order they were queued, so the
    // unreliable packet goes first and is delivered. Sending reliable commands first makes the
    // receiver discard the unreliable one (its reliable sequence number is then in the past).
    const pair = await connectPair();
    expect(pair.clientPeer.send(0, Buffer.from('unreliable'), 0)).toBe(GodotError.OK);
    expect(pair.clientPeer.send(0, Buffer.from('reliable'), FLAG_RELIABLE)).toBe(GodotError.OK);
    pair.client.host.flush();
    await pumpUntil(pair.both, () => pair.server.find(EVENT_RECEIVE).length > 0, { what: 'a packet' });
    await pumpFor(pair.both, 200);
    const got = await receive(pair.server, pair.both, 0);
    expect(got.map(([, flags, bytes]) => [flags, bytes.toString()])).toEqual([[0, 'unreliable'], [FLAG_RELIABLE, 'reliable']]);
  });
});

describe('large packets', () => {
  test.each([
    ['IPv4', '127.0.0.1'],
    ['IPv6', '::1'],
  ])('a 1 MiB reliable packet is fragmented and arrives byte-exact over %s', async (_family, address) => {
    const pair = await connectPair({ connectTo: address });
    const big = pattern(1024 * 1024, 11);
    const there = await exchange(pair.clientPeer, pair.server, pair.both, 1, big, FLAG_RELIABLE);
    expect([there.event[3], there.flags, there.packet.length]).toEqual([1, FLAG_RELIABLE, big.length]);
    expect(there.packet.equals(big)).toBe(true);
    const back = await exchange(pair.serverPeer, pair.client, pair.both, 0, big, FLAG_RELIABLE);
    expect(back.packet.equals(big)).toBe(true);
    expect(pair.serverPeer.getTotals().mtu).toBe(1392);
  }, 30_000);

  test('a 100 KB UNRELIABLE_FRAGMENT packet arrives byte-exact', async () => {
    const pair = await connectPair();
    const big = pattern(100 * 1000, 12);
    const got = await exchange(pair.clientPeer, pair.server, pair.both, 0, big, FLAG_UNRELIABLE_FRAGMENT);
    expect([got.flags, got.packet.length]).toEqual([FLAG_UNRELIABLE_FRAGMENT, big.length]);
    expect(got.packet.equals(big)).toBe(true);
  });

  test('a received packet stays valid after the next service and after the host is gone', async () => {
    const pair = await connectPair();
    const big = pattern(4000, 13);
    const got = await exchange(pair.clientPeer, pair.server, pair.both, 0, big, FLAG_RELIABLE);
    await pumpFor(pair.both, 20);
    pair.server.host.destroy();
    expect(got.packet.equals(big)).toBe(true);
  });
});

describe('the receive queue: getAvailablePacketCount, getPacketFlags, getPacket, getPacketError', () => {
  test('packets queue up in arrival order with their flags', async () => {
    const pair = await connectPair();
    const sends: [number, string][] = [[FLAG_RELIABLE, 'first'], [FLAG_UNSEQUENCED, 'second'], [0, 'third']];
    for (const [flags, text] of sends) {
      pair.clientPeer.send(0, Buffer.from(text), flags);
      await nextEvent(pair.server, EVENT_RECEIVE, pair.both);
    }
    expect(pair.serverPeer.getAvailablePacketCount()).toBe(3);
    for (const [flags, text] of sends) {
      expect(pair.serverPeer.getPacketFlags()).toBe(flags);
      expect(pair.serverPeer.getPacket().toString()).toBe(text);
      expect(pair.serverPeer.getPacketError()).toBe(GodotError.OK);
    }
    expect(pair.serverPeer.getAvailablePacketCount()).toBe(0);
  });

  test('an empty queue: getPacket() -> empty, ERR_UNAVAILABLE; getPacketFlags() -> 0', async () => {
    const pair = await connectPair();
    expect(pair.serverPeer.getAvailablePacketCount()).toBe(0);
    const packet = pair.serverPeer.getPacket();
    expect(packet).toBeInstanceOf(Buffer);
    expect(packet.length).toBe(0);
    expect(pair.serverPeer.getPacketError()).toBe(GodotError.ERR_UNAVAILABLE);
    expect(reportsError(() => pair.serverPeer.getPacketFlags())).toBe(0);
  });

  test.each([
    ['reset()', (pair: Pair) => pair.serverPeer.reset()],
    ['peerDisconnectNow()', (pair: Pair) => pair.serverPeer.peerDisconnectNow()],
    ['the host destroyed', (pair: Pair) => pair.server.host.destroy()],
  ])('after %s, queued packets stay counted but getPacket() -> ERR_UNCONFIGURED', async (_name, end) => {
    const pair = await connectPair();
    for (const text of ['a', 'b']) {
      pair.clientPeer.send(0, Buffer.from(text), FLAG_UNSEQUENCED);
      await nextEvent(pair.server, EVENT_RECEIVE, pair.both);
    }
    end(pair);
    expect(pair.serverPeer.isActive()).toBe(false);
    expect(pair.serverPeer.getAvailablePacketCount()).toBe(2);
    expect(pair.serverPeer.getPacketFlags()).toBe(FLAG_UNSEQUENCED);
    expect(reportsError(() => pair.serverPeer.getPacket())).toEqual(Buffer.alloc(0));
    expect(pair.serverPeer.getPacketError()).toBe(GodotError.ERR_UNCONFIGURED);
    expect(pair.serverPeer.getVar()).toBeNull();
    expect(pair.serverPeer.getPacketError()).toBe(GodotError.ERR_UNCONFIGURED);
    expect(pair.serverPeer.getAvailablePacketCount()).toBe(2);
  });

  test('after the remote disconnects, packets received before the DISCONNECT are queued but unreadable', async () => {
    const pair = await connectPair();
    pair.clientPeer.send(0, Buffer.from('last words'), FLAG_RELIABLE);
    pair.clientPeer.peerDisconnectLater(3);
    const disconnect = await nextEvent(pair.server, EVENT_DISCONNECT, pair.both);
    expect(disconnect).toEqual([EVENT_DISCONNECT, pair.serverPeer, 3, 0]);
    expect(pair.server.find(EVENT_RECEIVE)).toHaveLength(1);
    expect(pair.serverPeer.getAvailablePacketCount()).toBe(1);
    expect(pair.serverPeer.getPacket()).toEqual(Buffer.alloc(0));
    expect(pair.serverPeer.getPacketError()).toBe(GodotError.ERR_UNCONFIGURED);
  });
});

describe('putPacket', () => {
  test('sends reliably on channel 0', async () => {
    const pair = await connectPair();
    expect(pair.clientPeer.putPacket(Buffer.from('put'))).toBe(GodotError.OK);
    const [got] = await receive(pair.server, pair.both, 1);
    expect(got).toEqual([0, FLAG_RELIABLE, Buffer.from('put')]);
  });

  test('accepts any Uint8Array', async () => {
    const pair = await connectPair();
    const bytes = new Uint8Array([1, 2, 3, 250]);
    expect(pair.clientPeer.putPacket(bytes)).toBe(GodotError.OK);
    const [got] = await receive(pair.server, pair.both, 1);
    expect(got[2]).toEqual(Buffer.from(bytes));
  });

  test('an empty buffer returns OK and sends nothing', async () => {
    const pair = await quietPair();
    expect(reportsNothing(() => pair.clientPeer.putPacket(Buffer.alloc(0)))).toBe(GodotError.OK);
    expect(pair.clientPeer.putPacket(new Uint8Array(0))).toBe(GodotError.OK);
    pair.client.host.flush();
    expect(pair.client.host.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS)).toBe(0);
    expect(pair.clientPeer.putPacket(Buffer.from('marker'))).toBe(GodotError.OK);
    const got = await receive(pair.server, pair.both, 1);
    await pumpFor(pair.both, 50);
    expect([...got, ...(await receive(pair.server, pair.both, 0))]).toEqual([[0, FLAG_RELIABLE, Buffer.from('marker')]]);
  });

  test('an empty buffer returns OK even on an inactive peer (the script-level check comes first)', async () => {
    const pair = await connectPair();
    pair.clientPeer.reset();
    expect(pair.clientPeer.putPacket(Buffer.alloc(0))).toBe(GodotError.OK);
    expect(reportsError(() => pair.clientPeer.putPacket(Buffer.from('x')))).toBe(GodotError.ERR_UNCONFIGURED);
  });
});

describe('putVar and getVar', () => {
  test.each<[string, unknown]>([
    ['an int', 42],
    ['a negative int', -7],
    ['a 64-bit int', 2 ** 40],
    ['a float', 0.5],
    ['a string', 'héllo wörld'],
    ['a bool', true],
    ['null', null],
    ['a nested array', [1, 'two', [3, false]]],
    ['a dictionary', new Map<unknown, unknown>([['key', 1], [2, 'two']])],
    ['a Vector2', new Vector2(1.5, -2)],
    ['bytes', Buffer.from([0, 1, 2, 255])],
  ])('round trip of %s', async (_name, value) => {
    const pair = await connectPair();
    expect(pair.clientPeer.putVar(value)).toBe(GodotError.OK);
    const event = await nextEvent(pair.server, EVENT_RECEIVE, pair.both);
    expect([event[3], pair.serverPeer.getPacketFlags()]).toEqual([0, FLAG_RELIABLE]);
    expect(pair.serverPeer.getVar()).toEqual(value);
    expect(pair.serverPeer.getPacketError()).toBe(GodotError.OK);
  });

  test('getVar of bytes that are no Variant -> null, ERR_INVALID_DATA', async () => {
    const pair = await connectPair();
    pair.clientPeer.putPacket(Buffer.from([1, 2]));
    await pumpUntil(pair.both, () => pair.serverPeer.getAvailablePacketCount() > 0);
    expect(pair.serverPeer.getVar()).toBeNull();
    expect(pair.serverPeer.getPacketError()).toBe(GodotError.ERR_INVALID_DATA);
  });

  test('getVar on an empty queue -> null, ERR_UNAVAILABLE', async () => {
    const pair = await connectPair();
    expect(pair.serverPeer.getVar()).toBeNull();
    expect(pair.serverPeer.getPacketError()).toBe(GodotError.ERR_UNAVAILABLE);
  });

  test('encodeBufferMaxSize: default 8 MiB, rounded up to a power of two, bounds enforced, limits putVar', async () => {
    const pair = await connectPair();
    const peer = pair.clientPeer;
    expect(peer.encodeBufferMaxSize).toBe(8388608);
    reportsError(() => { peer.encodeBufferMaxSize = 1000; });
    expect(peer.encodeBufferMaxSize).toBe(8388608);
    reportsError(() => { peer.encodeBufferMaxSize = 256 * 1024 * 1024 + 1; });
    expect(peer.encodeBufferMaxSize).toBe(8388608);
    peer.encodeBufferMaxSize = 5000;
    expect(peer.encodeBufferMaxSize).toBe(8192);
    peer.encodeBufferMaxSize = 1024;
    expect(peer.encodeBufferMaxSize).toBe(1024);
    expect(peer.putVar(Buffer.alloc(2000))).toBe(GodotError.ERR_OUT_OF_MEMORY);
    expect(peer.putVar(Buffer.alloc(100))).toBe(GodotError.OK);
  });
});

describe('peerDisconnect, peerDisconnectLater, peerDisconnectNow', () => {
  test('peerDisconnect(data): the remote gets DISCONNECT with data; locally a DISCONNECT (data 0) follows', async () => {
    const pair = await connectPair();
    reportsNothing(() => pair.clientPeer.peerDisconnect(99));
    expect(pair.clientPeer.getState()).toBe(PeerState.STATE_DISCONNECTING);
    expect(pair.clientPeer.isActive()).toBe(true);
    expect(await nextEvent(pair.server, EVENT_DISCONNECT, pair.both)).toEqual([EVENT_DISCONNECT, pair.serverPeer, 99, 0]);
    expect(await nextEvent(pair.client, EVENT_DISCONNECT, pair.both)).toEqual([EVENT_DISCONNECT, pair.clientPeer, 0, 0]);
    for (const peer of [pair.clientPeer, pair.serverPeer]) {
      expect(peer.isActive()).toBe(false);
      expect(peer.getState()).toBe(PeerState.STATE_DISCONNECTED);
    }
  });

  test("peerDisconnect() defaults to data 0", async () => {
    const pair = await connectPair();
    pair.serverPeer.peerDisconnect();
    expect(await nextEvent(pair.client, EVENT_DISCONNECT, pair.both)).toEqual([EVENT_DISCONNECT, pair.clientPeer, 0, 0]);
  });

  test('peerDisconnectLater(data): the queued packets go first, then the remote gets DISCONNECT with the data', async () => {
    const pair = await connectPair();
    for (const text of ['one', 'two', 'three']) pair.clientPeer.send(1, Buffer.from(text), FLAG_RELIABLE);
    reportsNothing(() => pair.clientPeer.peerDisconnectLater(7));
    expect(pair.clientPeer.getState()).toBe(PeerState.STATE_DISCONNECT_LATER);
    await pumpUntil(pair.both, () => pair.server.find(EVENT_DISCONNECT).length > 0, { what: 'DISCONNECT' });
    expect(pair.server.events.map((e) => [e[0], e[1] === pair.serverPeer, e[2], e[3]])).toEqual([
      [EVENT_RECEIVE, true, 0, 1], [EVENT_RECEIVE, true, 0, 1], [EVENT_RECEIVE, true, 0, 1], [EVENT_DISCONNECT, true, 7, 0],
    ]);
    expect(pair.serverPeer.getAvailablePacketCount()).toBe(3);
    expect(await nextEvent(pair.client, EVENT_DISCONNECT, pair.both)).toEqual([EVENT_DISCONNECT, pair.clientPeer, 0, 0]);
    expect(pair.clientPeer.isActive()).toBe(false);
  });

  test('peerDisconnectNow(data): inactive at once, no local DISCONNECT event (G17); the remote gets the data', async () => {
    const pair = await connectPair();
    reportsNothing(() => pair.clientPeer.peerDisconnectNow(11));
    expect(pair.clientPeer.isActive()).toBe(false);
    expect(pair.clientPeer.getState()).toBe(PeerState.STATE_DISCONNECTED);
    expect(await nextEvent(pair.server, EVENT_DISCONNECT, pair.both)).toEqual([EVENT_DISCONNECT, pair.serverPeer, 11, 0]);
    await pumpFor(pair.both, 200);
    expect(pair.client.events).toEqual([]);
    expect(pair.client.host.getPeers()).toEqual([]);
  });

  test('peerDisconnectNow() defaults to data 0', async () => {
    const pair = await connectPair();
    pair.serverPeer.peerDisconnectNow();
    expect(await nextEvent(pair.client, EVENT_DISCONNECT, pair.both)).toEqual([EVENT_DISCONNECT, pair.clientPeer, 0, 0]);
    expect(pair.server.events).toEqual([]);
  });
});

describe('reset', () => {
  test('local peer inactive at once, no event; the remote times out later', async () => {
    const pair = await connectPair();
    pair.clientPeer.setTimeout(1, 1000, 2000);
    reportsNothing(() => pair.serverPeer.reset());
    expect(pair.serverPeer.isActive()).toBe(false);
    expect(pair.serverPeer.getState()).toBe(PeerState.STATE_DISCONNECTED);
    await pumpFor(pair.both, 300);
    expect(pair.client.find(EVENT_DISCONNECT)).toEqual([]);
    const event = await nextEvent(pair.client, EVENT_DISCONNECT, pair.both, pair.clientPeer, 15_000);
    expect(event).toEqual([EVENT_DISCONNECT, pair.clientPeer, 0, 0]);
    expect(pair.server.find(EVENT_DISCONNECT)).toEqual([]);
  }, 30_000);

  test('a reset peer never reattaches: the next connection in its slot gets a new object', async () => {
    const server = new Endpoint(boundHost({ maxPeers: 1 }));
    const first = await connectClient(server);
    first.serverPeer.reset();
    first.client.host.destroy();
    const second = await connectClient(server);
    expect(second.serverPeer).not.toBe(first.serverPeer);
    expect(first.serverPeer.isActive()).toBe(false);
    expect(reportsError(() => first.serverPeer.send(0, Buffer.from('stale'), FLAG_RELIABLE))).toBe(GodotError.ERR_UNCONFIGURED);
    expect(first.serverPeer.getRemotePort()).toBe(0);
    second.clientPeer.send(0, Buffer.from('new'), FLAG_RELIABLE);
    const event = await nextEvent(server, EVENT_RECEIVE, second.both);
    expect(event[1]).toBe(second.serverPeer);
    expect(server.host.getPeers()).toEqual([second.serverPeer]);
  });
});

describe('ping and pingInterval', () => {
  test('ping() sends a ping at once', async () => {
    const pair = await quietPair();
    pair.client.host.flush();
    expect(pair.client.host.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS)).toBe(0);
    reportsNothing(() => pair.clientPeer.ping());
    pair.client.host.flush();
    expect(pair.client.host.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS)).toBeGreaterThanOrEqual(1);
    await pumpUntil(pair.both, () => receivedPacketsCount(pair.server) > 0, { what: 'the ping at the server' });
  }, 15_000);

  test('pingInterval: a huge interval stops the keep-alive pings, 0 restores the default (500 ms)', async () => {
    const pair = await quietPair();
    await pumpFor(pair.both, 800);
    expect([receivedPacketsCount(pair.server), receivedPacketsCount(pair.client)]).toEqual([0, 0]);
    reportsNothing(() => pair.clientPeer.pingInterval(0));
    await pumpUntil(pair.both, () => receivedPacketsCount(pair.server) > 0, { what: 'a keep-alive ping', timeoutMs: 5000 });
  }, 15_000);

  test('pingInterval(50) resumes the keep-alive pings after a huge interval', async () => {
    const pair = await quietPair();
    await pumpFor(pair.both, 300);
    expect(receivedPacketsCount(pair.server)).toBe(0);
    reportsNothing(() => pair.clientPeer.pingInterval(50));
    let pings = 0;
    await pumpUntil(pair.both, () => (pings += receivedPacketsCount(pair.server)) >= 3, { what: 'three pings' });
  }, 15_000);
});

describe('setTimeout', () => {
  test.each([
    [5, 3, 10],
    [1, 10, 5],
    [100, 50, 10],
  ])('invalid order (%i, %i, %i) reports an error', async (timeout, min, max) => {
    const pair = await connectPair();
    expect(reportsError(() => pair.clientPeer.setTimeout(timeout, min, max))).toBeUndefined();
    expect(pair.clientPeer.isActive()).toBe(true);
  });

  test('valid values (including 0 = ENet defaults) are accepted', async () => {
    const pair = await connectPair();
    reportsNothing(() => pair.clientPeer.setTimeout(0, 0, 0));
    reportsNothing(() => pair.clientPeer.setTimeout(32, 5000, 30000));
    reportsNothing(() => pair.clientPeer.setTimeout(4, 4, 4));
  });

  test('setTimeout(1, 1000, 2000) on a peer whose remote stops servicing: DISCONNECT (data 0) soon', async () => {
    const pair = await connectPair();
    pair.serverPeer.setTimeout(1, 1000, 2000);
    // The client is never serviced again.
    const event = await nextEvent(pair.server, EVENT_DISCONNECT, [pair.server], pair.serverPeer, 15_000);
    expect(event).toEqual([EVENT_DISCONNECT, pair.serverPeer, 0, 0]);
    expect(pair.serverPeer.isActive()).toBe(false);
    expect(pair.server.host.getCounters()?.timeouts).toBe(1);
  }, 30_000);
});

describe('throttleConfigure', () => {
  test('sets the local throttle parameters and tells the remote', async () => {
    const pair = await connectPair();
    reportsNothing(() => pair.clientPeer.throttleConfigure(1234, 3, 4));
    const read = (peer: ENetPacketPeer) => [
      peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_INTERVAL),
      peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_ACCELERATION),
      peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_DECELERATION),
    ];
    expect(read(pair.clientPeer)).toEqual([1234, 3, 4]);
    await pumpUntil(pair.both, () => read(pair.serverPeer)[0] === 1234, { what: 'THROTTLE_CONFIGURE at the remote' });
    expect(read(pair.serverPeer)).toEqual([1234, 3, 4]);
  });
});

describe('getStatistic and getTotals', () => {
  test("every PeerStatistic is a non-negative number; ENet's initial throttle values", async () => {
    const pair = await connectPair();
    for (const peer of [pair.clientPeer, pair.serverPeer]) {
      for (let statistic = 0; statistic <= 13; statistic++) {
        const value = reportsNothing(() => peer.getStatistic(statistic));
        expect([PeerStatistic[statistic], Number.isFinite(value) && value >= 0]).toEqual([PeerStatistic[statistic], true]);
      }
      expect(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE)).toBe(ENetPacketPeer.PACKET_THROTTLE_SCALE);
      expect(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_LIMIT)).toBe(32);
      expect(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_ACCELERATION)).toBe(2);
      expect(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_DECELERATION)).toBe(2);
      expect(peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_INTERVAL)).toBe(5000);
      expect(peer.getStatistic(PeerStatistic.PEER_PACKET_LOSS)).toBeLessThanOrEqual(ENetPacketPeer.PACKET_LOSS_SCALE);
    }
  });

  test('the round trip time becomes small on loopback', async () => {
    const pair = await connectPair();
    const small = (peer: ENetPacketPeer) => peer.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME) < 100 &&
      peer.getStatistic(PeerStatistic.PEER_LAST_ROUND_TRIP_TIME) < 100;
    await pumpUntil(pair.both, () => {
      pair.clientPeer.ping();
      pair.serverPeer.ping();
      return small(pair.clientPeer) && small(pair.serverPeer);
    }, { what: 'round trip times under 100 ms' });
  });

  test.each([14, 19, -1, 100])('invalid statistic %i -> 0', async (statistic) => {
    const pair = await connectPair();
    expect(reportsError(() => pair.clientPeer.getStatistic(statistic as PeerStatistic))).toBe(0);
  });

  test('getTotals counts the session traffic and the negotiated MTU', async () => {
    const pair = await connectPair();
    const data = pattern(3000, 21);
    await exchange(pair.clientPeer, pair.server, pair.both, 0, data, FLAG_RELIABLE);
    await pumpFor(pair.both, 20);
    const sent = pair.clientPeer.getTotals();
    const received = pair.serverPeer.getTotals();
    expect(sent.packetsSent).toBeGreaterThan(0);
    expect(sent.dataSent).toBeGreaterThanOrEqual(3000);
    expect(received.dataReceived).toBeGreaterThanOrEqual(3000);
    expect(sent.packetsLost).toBe(0);
    expect([sent.mtu, received.mtu]).toEqual([1392, 1392]);
  });
});

describe('state, address, port, channels', () => {
  test('getState through the lifecycle: CONNECTING -> CONNECTED -> DISCONNECTING -> DISCONNECTED', async () => {
    const server = new Endpoint(boundHost());
    const { client, peer } = startClient(server.host);
    expect(peer.getState()).toBe(PeerState.STATE_CONNECTING);
    expect(peer.isActive()).toBe(true);
    const [, serverPeer] = await nextEvent(server, EVENT_CONNECT, [client]);
    expect(serverPeer?.getState()).toBe(PeerState.STATE_CONNECTED);
    await nextEvent(client, EVENT_CONNECT, [server], peer);
    expect(peer.getState()).toBe(PeerState.STATE_CONNECTED);
    peer.peerDisconnect();
    expect(peer.getState()).toBe(PeerState.STATE_DISCONNECTING);
    await nextEvent(client, EVENT_DISCONNECT, [server], peer);
    expect(peer.getState()).toBe(PeerState.STATE_DISCONNECTED);
    expect(peer.isActive()).toBe(false);
  });

  test('a peer whose DISCONNECT was received but not yet returned by service() still reports its connection', async () => {
    // Client B disconnects while client A's packet is in flight; one server service() reads both
    // datagrams and returns A's RECEIVE first. In Godot, B's DISCONNECT is then handled inside ENet
    // (B is ACKNOWLEDGING_DISCONNECT or ZOMBIE) but not dispatched: B is still active, with its address.
    const server = new Endpoint(boundHost({ address: '127.0.0.1' }));
    const a = await connectClient(server);
    const b = await connectClient(server, {}, [a.client]);
    const all = [server, a.client, b.client];
    await pumpFor(all, 50);
    a.clientPeer.send(0, Buffer.from('from A'), FLAG_RELIABLE);
    a.client.host.flush();
    b.clientPeer.peerDisconnect(9);
    b.client.host.flush();
    await sleep(100);
    const first = server.host.service();
    expect(first).toEqual([EVENT_RECEIVE, a.serverPeer, 0, 0]);
    const peer = b.serverPeer;
    const state = peer.getState();
    expect({
      active: peer.isActive(),
      disconnectingState: state === PeerState.STATE_ACKNOWLEDGING_DISCONNECT || state === PeerState.STATE_ZOMBIE ? 'yes' : state,
      address: peer.getRemoteAddress(),
      port: peer.getRemotePort(),
      channels: peer.getChannels(),
    }).toEqual({ active: true, disconnectingState: 'yes', address: '127.0.0.1', port: b.client.host.getLocalPort(), channels: 255 });
    expect(server.host.service()).toEqual([EVENT_DISCONNECT, peer, 9, 0]);
    expect(peer.isActive()).toBe(false);
  });

  test.each([
    ['an IPv4 client on the dual-stack socket', '*', '127.0.0.1', '127.0.0.1'],
    ['an IPv4 client on an IPv4 socket', '127.0.0.1', '127.0.0.1', '127.0.0.1'],
    ['an IPv4 client on 0.0.0.0', '0.0.0.0', '127.0.0.1', '127.0.0.1'],
    ['an IPv6 client', '*', '::1', '::1'],
  ])('getRemoteAddress for %s', async (_name, bind, connectTo, expected) => {
    const pair = await connectPair({ bind, connectTo });
    expect(pair.serverPeer.getRemoteAddress()).toBe(expected);
    expect(pair.clientPeer.getRemoteAddress()).toBe(expected);
    expect(pair.serverPeer.getRemoteAddress()).not.toMatch(/ffff/i);
  });

  test('getRemotePort is the port of the other side', async () => {
    const pair = await connectPair();
    expect(pair.clientPeer.getRemotePort()).toBe(pair.server.host.getLocalPort());
    expect(pair.serverPeer.getRemotePort()).toBe(pair.client.host.getLocalPort());
  });

  test('getChannels is the negotiated count', async () => {
    const server = new Endpoint(boundHost({ maxChannels: 6 }));
    const pair = await connectClient(server, { channels: 10 });
    expect([pair.clientPeer.getChannels(), pair.serverPeer.getChannels()]).toEqual([6, 6]);
    const fewer = await connectClient(server, { channels: 2 }, [pair.client]);
    expect([fewer.clientPeer.getChannels(), fewer.serverPeer.getChannels()]).toEqual([2, 2]);
  });

  test('getMaxPacketSize is 1 << 24', async () => {
    const pair = await connectPair();
    expect(pair.clientPeer.getMaxPacketSize()).toBe(MAX_PACKET_SIZE);
    pair.clientPeer.reset();
    expect(pair.clientPeer.getMaxPacketSize()).toBe(MAX_PACKET_SIZE);
  });
});

describe("an inactive peer returns Godot's fallbacks without throwing", () => {
  const buf = Buffer.from('x');
  // [call, fallback, reports an error]
  const FALLBACKS: [string, (p: ENetPacketPeer) => unknown, unknown, boolean][] = [
    ['peerDisconnect', (p) => p.peerDisconnect(1), undefined, true],
    ['peerDisconnectLater', (p) => p.peerDisconnectLater(1), undefined, true],
    ['peerDisconnectNow', (p) => p.peerDisconnectNow(1), undefined, true],
    ['ping', (p) => p.ping(), undefined, true],
    ['pingInterval', (p) => p.pingInterval(100), undefined, true],
    ['reset', (p) => p.reset(), undefined, true],
    ['send', (p) => p.send(0, buf, FLAG_RELIABLE), GodotError.ERR_UNCONFIGURED, true],
    ['throttleConfigure', (p) => p.throttleConfigure(1000, 2, 2), undefined, true],
    ['setTimeout', (p) => p.setTimeout(1, 2, 3), undefined, true],
    ['getPacketFlags', (p) => p.getPacketFlags(), 0, true],
    ['getRemoteAddress', (p) => p.getRemoteAddress(), '', true],
    ['getRemotePort', (p) => p.getRemotePort(), 0, true],
    ['getStatistic', (p) => p.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME), 0, true],
    ['getChannels', (p) => p.getChannels(), 0, true],
    ['getState', (p) => p.getState(), PeerState.STATE_DISCONNECTED, false],
    ['isActive', (p) => p.isActive(), false, false],
    ['putPacket', (p) => p.putPacket(buf), GodotError.ERR_UNCONFIGURED, true],
    ['putVar', (p) => p.putVar(5), GodotError.ERR_UNCONFIGURED, true],
    ['getPacket', (p) => p.getPacket(), Buffer.alloc(0), true],
    ['getVar', (p) => p.getVar(), null, true],
    ['getAvailablePacketCount', (p) => p.getAvailablePacketCount(), 0, false],
    ['getMaxPacketSize', (p) => p.getMaxPacketSize(), MAX_PACKET_SIZE, false],
    ['getTotals', (p) => p.getTotals(), { packetsSent: 0, packetsLost: 0, dataSent: 0, dataReceived: 0, mtu: 0 }, true],
  ];

  const WAYS: [string, (pair: Pair) => Promise<ENetPacketPeer>][] = [
    ['after reset()', async (pair) => { pair.serverPeer.reset(); return pair.serverPeer; }],
    ['after peerDisconnectNow()', async (pair) => { pair.serverPeer.peerDisconnectNow(); return pair.serverPeer; }],
    ['after a DISCONNECT event', async (pair) => {
      pair.clientPeer.peerDisconnect();
      await nextEvent(pair.server, EVENT_DISCONNECT, pair.both);
      return pair.serverPeer;
    }],
    ['after the host was destroyed', async (pair) => { pair.server.host.destroy(); return pair.serverPeer; }],
  ];

  test.each(WAYS)('%s', async (_way, makeInactive) => {
    const pair = await connectPair();
    const peer = await makeInactive(pair);
    expect(peer.isActive()).toBe(false);
    for (const [name, call, fallback, reports] of FALLBACKS) {
      errors.take();
      let result: unknown;
      expect(() => { result = call(peer); }).not.toThrow();
      expect([name, result]).toEqual([name, fallback]);
      expect([name, errors.take().length > 0]).toEqual([name, reports]);
    }
  });

  test('after a connection attempt timed out', async () => {
    // Nothing listens on the port: the CONNECT is never answered.
    const closed = boundHost({ address: '127.0.0.1' });
    const port = closed.getLocalPort();
    closed.destroy();
    const client = new Endpoint(boundHost({ maxPeers: 1 }));
    const peer = client.host.connectToHost('127.0.0.1', port) as ENetPacketPeer;
    peer.setTimeout(1, 500, 1000);
    const event = await nextEvent(client, EVENT_DISCONNECT, [client], peer, 10_000);
    expect(event).toEqual([EVENT_DISCONNECT, peer, 0, 0]);
    for (const [name, call, fallback] of FALLBACKS) {
      let result: unknown;
      expect(() => { result = call(peer); }).not.toThrow();
      expect([name, result]).toEqual([name, fallback]);
    }
  }, 20_000);
});

describe('argument types', () => {
  const buf = Buffer.from('x');
  const CASES: [string, (p: ENetPacketPeer) => unknown, RegExp][] = [
    ['send channel', (p) => p.send('0' as never, buf, 1), /ENetPacketPeer\.send: channel must be an integer/],
    ['send packet (string)', (p) => p.send(0, 'x' as never, 1), /ENetPacketPeer\.send: packet must be a Uint8Array/],
    ['send packet (array)', (p) => p.send(0, [1] as never, 1), /ENetPacketPeer\.send: packet must be a Uint8Array/],
    ['send flags', (p) => p.send(0, buf, null as never), /ENetPacketPeer\.send: flags must be an integer/],
    ['peerDisconnect data', (p) => p.peerDisconnect('1' as never), /ENetPacketPeer\.peerDisconnect: data must be an integer/],
    ['peerDisconnectLater data', (p) => p.peerDisconnectLater({} as never), /peerDisconnectLater: data must be an integer/],
    ['peerDisconnectNow data', (p) => p.peerDisconnectNow(null as never), /peerDisconnectNow: data must be an integer/],
    ['pingInterval', (p) => p.pingInterval('500' as never), /ENetPacketPeer\.pingInterval: pingInterval must be an integer/],
    ['setTimeout timeout', (p) => p.setTimeout('1' as never, 2, 3), /ENetPacketPeer\.setTimeout: timeout must be an integer/],
    ['setTimeout timeoutMin', (p) => p.setTimeout(1, '2' as never, 3), /setTimeout: timeoutMin must be an integer/],
    ['setTimeout timeoutMax', (p) => p.setTimeout(1, 2, '3' as never), /setTimeout: timeoutMax must be an integer/],
    ['throttleConfigure interval', (p) => p.throttleConfigure('1' as never, 2, 2), /throttleConfigure: interval must be an integer/],
    ['throttleConfigure acceleration', (p) => p.throttleConfigure(1, '2' as never, 2), /throttleConfigure: acceleration must be an integer/],
    ['throttleConfigure deceleration', (p) => p.throttleConfigure(1, 2, '2' as never), /throttleConfigure: deceleration must be an integer/],
    ['getStatistic', (p) => p.getStatistic('3' as never), /ENetPacketPeer\.getStatistic: statistic must be an integer/],
    ['putPacket (string)', (p) => p.putPacket('x' as never), /putPacket: buffer must be a Uint8Array/],
    ['putPacket (array)', (p) => p.putPacket([1, 2] as never), /putPacket: buffer must be a Uint8Array/],
    ['putVar fullObjects', (p) => p.putVar(1, 'yes' as never), /putVar: fullObjects must be a boolean/],
    ['getVar allowObjects', (p) => p.getVar(1 as never), /getVar: allowObjects must be a boolean/],
    ['encodeBufferMaxSize', (p) => { p.encodeBufferMaxSize = '4096' as never; }, /encodeBufferMaxSize: value must be an integer/],
  ];

  test.each(CASES)('%s: TypeError naming the method and argument', async (_name, call, message) => {
    const pair = await connectPair();
    expect(() => call(pair.clientPeer)).toThrow(TypeError);
    expect(() => call(pair.clientPeer)).toThrow(message);
    expect(pair.clientPeer.getState()).toBe(PeerState.STATE_CONNECTED);
    // An inactive peer checks types first too.
    pair.serverPeer.reset();
    expect(() => call(pair.serverPeer)).toThrow(TypeError);
  });
});

// send() answers from JS for a CONNECTED peer and hands the packet to ENet with the next service or
// flush (one native call for many sends); its answer must still be the one an immediate send gives.
describe('staged sends', () => {
  test('a connection ENet ended, whose DISCONNECT service() has not returned yet, refuses at once', async () => {
    const server = new Endpoint(boundHost({ address: '127.0.0.1' }));
    const a = await connectClient(server);
    const b = await connectClient(server, {}, [a.client]);
    await pumpFor([server, a.client, b.client], 50);
    a.clientPeer.send(0, Buffer.from('from A'), FLAG_RELIABLE);
    a.client.host.flush();
    b.clientPeer.peerDisconnect(9);
    b.client.host.flush();
    await sleep(100);
    expect(server.host.service()).toEqual([EVENT_RECEIVE, a.serverPeer, 0, 0]);
    expect(b.serverPeer.isActive()).toBe(true);
    expect(b.serverPeer.send(0, Buffer.from('too late'), FLAG_RELIABLE)).toBe(GodotError.FAILED);
    expect(a.serverPeer.send(0, Buffer.from('still fine'), FLAG_RELIABLE)).toBe(GodotError.OK);
    expect(server.host.service()).toEqual([EVENT_DISCONNECT, b.serverPeer, 9, 0]);
    const received = await nextEvent(a.client, EVENT_RECEIVE, [server, a.client]);
    expect((received[1] as ENetPacketPeer).getPacket().toString()).toBe('still fine');
    expect(server.host.getCounters()?.stagedSendsRefused).toBe(0);
  });

  test.each([
    ['peerDisconnect', (peer: ENetPacketPeer) => peer.peerDisconnect()],
    ['peerDisconnectLater', (peer: ENetPacketPeer) => peer.peerDisconnectLater()],
  ])('after %s, send() fails at once', async (_name, disconnect) => {
    const pair = await connectPair();
    expect(pair.serverPeer.send(0, Buffer.from('queued first'), FLAG_RELIABLE)).toBe(GodotError.OK);
    disconnect(pair.serverPeer);
    expect(pair.serverPeer.send(0, Buffer.from('after'), FLAG_RELIABLE)).toBe(GodotError.FAILED);
    expect(pair.server.host.getCounters()?.stagedSendsRefused).toBe(0);
  });

  test('staged and immediate sends (large packets, putPacket, a send queue limit) arrive in the order made', async () => {
    const pair = await connectPair();
    const peer = pair.clientPeer;
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const large = i % 7 === 3;
      const text = `${i}:${large ? 'L'.repeat(5000) : 's'}`;
      if (i % 5 === 4) expect(peer.putPacket(Buffer.from(text))).toBe(GodotError.OK);
      else expect(peer.send(0, Buffer.from(text), FLAG_RELIABLE)).toBe(GodotError.OK);
      if (i === 15) peer.setSendQueueLimit(1 << 20);
      sent.push(text);
    }
    const got: string[] = [];
    while (got.length < sent.length) {
      const event = await nextEvent(pair.server, EVENT_RECEIVE, pair.both);
      got.push((event[1] as ENetPacketPeer).getPacket().toString());
    }
    expect(got).toEqual(sent);
  });

  test('getQueuedBytes() counts a send made a moment ago', async () => {
    const pair = await connectPair();
    const before = pair.serverPeer.getQueuedBytes();
    expect(pair.serverPeer.send(1, Buffer.alloc(300), FLAG_RELIABLE)).toBe(GodotError.OK);
    expect(pair.serverPeer.getQueuedBytes()).toBe(before + 300);
  });

  test('more sends than one staging batch holds, between two services, all arrive in order', async () => {
    const pair = await connectPair();
    const count = 3000;
    for (let i = 0; i < count; i++) {
      const packet = Buffer.alloc(100 + (i % 50));
      packet.writeUInt32LE(i, 0);
      expect(pair.clientPeer.send(0, packet, FLAG_RELIABLE)).toBe(GodotError.OK);
    }
    const seen: number[] = [];
    while (seen.length < count) {
      const event = await nextEvent(pair.server, EVENT_RECEIVE, pair.both);
      seen.push((event[1] as ENetPacketPeer).getPacket().readUInt32LE(0));
    }
    expect(seen).toEqual(Array.from({ length: count }, (_, i) => i));
    expect(pair.client.host.getCounters()?.stagedSendsRefused).toBe(0);
  });
});
