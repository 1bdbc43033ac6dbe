/**
 * ENetConnection (Godot's ENetConnection, spec §1.4 and G15/G16) on real UDP loopback: every method,
 * Godot's defaults, every error return, the shapes of service() results, and the fallback values of
 * a connection without a host.
 */
import { describe, expect, test } from '@jest/globals';
import * as dgram from 'dgram';
import { AddressInfo } from 'net';
import {
  CompressionMode,
  ENetConnection,
  ENetPacketPeer,
  EventType,
  GodotError,
  HostStatistic,
  PeerState,
} from '../src';
import {
  DEADLINE_MS,
  Endpoint,
  Pair,
  boundHost,
  captureErrors,
  clientHost,
  connectClient,
  connectPair,
  destroyHostsAfterEach,
  exchange,
  newConnection,
  nextEvent,
  pattern,
  pumpFor,
  pumpUntil,
  sleep,
  startClient,
} from './helpers/loopback';

const { FLAG_RELIABLE, FLAG_UNSEQUENCED, FLAG_UNRELIABLE_FRAGMENT } = ENetPacketPeer;
const { EVENT_ERROR, EVENT_NONE, EVENT_CONNECT, EVENT_DISCONNECT, EVENT_RECEIVE } = EventType;
const NONE_RESULT = [EVENT_NONE, null, 0, 0];
const ERROR_RESULT = [EVENT_ERROR, null, 0, 0];

const errors = captureErrors();
const { reportsError, reportsNothing } = errors;
destroyHostsAfterEach();

/** A server with `count` clients connected to it. */
async function serverWithClients(count: number, serverOptions = {}): Promise<{ server: Endpoint; pairs: Pair[] }> {
  const server = new Endpoint(boundHost(serverOptions));
  const pairs: Pair[] = [];
  for (let i = 0; i < count; i++) pairs.push(await connectClient(server, {}, pairs.map((p) => p.client)));
  return { server, pairs };
}

/** Every RECEIVE event logged on `endpoint`, read out as [channel, flags, bytes]. */
function receivedPackets(endpoint: Endpoint): [number, number, Buffer][] {
  const out: [number, number, Buffer][] = [];
  for (let event = endpoint.take(EVENT_RECEIVE); event; event = endpoint.take(EVENT_RECEIVE)) {
    const peer = event[1] as ENetPacketPeer;
    out.push([event[3], peer.getPacketFlags(), peer.getPacket()]);
  }
  return out;
}

describe('createHostBound', () => {
  test.each([
    ['*', '127.0.0.1', '127.0.0.1'],
    ['*', '::1', '::1'],
    ['127.0.0.1', '127.0.0.1', '127.0.0.1'],
    ['0.0.0.0', '127.0.0.1', '127.0.0.1'],
    ['::1', '::1', '::1'],
    ['::', '::1', '::1'],
    ['::', '127.0.0.1', '127.0.0.1'],
  ])('binds "%s" (a client connecting to %s is seen from %s)', async (bind, connectTo, seenFrom) => {
    const pair = await connectPair({ bind, connectTo });
    expect(pair.server.host.getLocalPort()).toBeGreaterThan(0);
    expect(pair.serverPeer.getRemoteAddress()).toBe(seenFrom);
    expect(pair.clientPeer.getRemoteAddress()).toBe(connectTo);
  });

  test("Godot's defaults: 32 peers and 255 channels", async () => {
    const server = new Endpoint(newConnection());
    expect(server.host.createHostBound('127.0.0.1', 0)).toBe(GodotError.OK);
    expect(server.host.getMaxChannels()).toBe(255);
    const clients = Array.from({ length: 32 }, () => startClient(server.host));
    const all = [server, ...clients.map((c) => c.client)];
    await pumpUntil(all, () => clients.every((c) => c.peer.getState() === PeerState.STATE_CONNECTED) &&
      server.find(EVENT_CONNECT).length === 32, { what: '32 connections', timeoutMs: 10_000 });
    // The 33rd finds no free slot: the server ignores it and the client times out (no CONNECT).
    const extra = startClient(server.host);
    extra.peer.setTimeout(1, 500, 1000);
    const disconnect = await nextEvent(extra.client, EVENT_DISCONNECT, all, extra.peer, 10_000);
    expect(disconnect).toEqual([EVENT_DISCONNECT, extra.peer, 0, 0]);
    expect(extra.client.find(EVENT_CONNECT)).toEqual([]);
    expect(server.find(EVENT_CONNECT)).toHaveLength(32);
  });

  test('maxPeers = 1 admits exactly one connection', async () => {
    const server = new Endpoint(boundHost({ maxPeers: 1 }));
    await connectClient(server);
    const second = startClient(server.host);
    second.peer.setTimeout(1, 500, 1000);
    await nextEvent(second.client, EVENT_DISCONNECT, [server], second.peer, 10_000);
    expect(second.client.find(EVENT_CONNECT)).toEqual([]);
  });

  test.each(['localhost', 'not an address', '', '256.1.1.1', '1.2.3', '::g', '127.0.0.1:80'])(
    'invalid bind address %j -> ERR_INVALID_PARAMETER, no host', (address) => {
      const connection = newConnection();
      expect(reportsError(() => connection.createHostBound(address, 0))).toBe(GodotError.ERR_INVALID_PARAMETER);
      expect(reportsError(() => connection.getLocalPort())).toBe(0);
      expect(connection.createHostBound('127.0.0.1', 0)).toBe(GodotError.OK);
    });

  test.each([-1, 65536, 100000])('port %i -> ERR_INVALID_PARAMETER', (port) => {
    const connection = newConnection();
    expect(reportsError(() => connection.createHostBound('*', port))).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(connection.createHostBound('*', 0)).toBe(GodotError.OK);
  });

  test.each([
    ['maxPeers 0', [0, 0, 0, 0]],
    ['maxPeers -1', [-1, 0, 0, 0]],
    ['maxPeers 4096', [4096, 0, 0, 0]],
    ['maxChannels -1', [32, -1, 0, 0]],
    ['maxChannels 256', [32, 256, 0, 0]],
    ['inBandwidth -1', [32, 0, -1, 0]],
    ['outBandwidth -1', [32, 0, 0, -1]],
  ])('%s -> ERR_INVALID_PARAMETER (createHostBound and createHost)', (_name, args) => {
    const [maxPeers, maxChannels, inBw, outBw] = args;
    const bound = newConnection();
    expect(reportsError(() => bound.createHostBound('*', 0, maxPeers, maxChannels, inBw, outBw)))
      .toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(bound.getCounters()).toBeNull();
    const unbound = newConnection();
    expect(reportsError(() => unbound.createHost(maxPeers, maxChannels, inBw, outBw))).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(unbound.getCounters()).toBeNull();
  });

  test.each([
    ['maxPeers 1', [1, 0], 255],
    ['maxPeers 4095', [4095, 0], 255],
    ['maxChannels 1', [32, 1], 1],
    ['maxChannels 255', [32, 255], 255],
    ['maxChannels 0 (= 255)', [32, 0], 255],
  ])('limits accepted: %s', (_name, [maxPeers, maxChannels], expectedChannels) => {
    const connection = newConnection();
    expect(reportsNothing(() => connection.createHostBound('127.0.0.1', 0, maxPeers, maxChannels, 1000, 2000)))
      .toBe(GodotError.OK);
    expect(connection.getMaxChannels()).toBe(expectedChannels);
  });

  test('a second create on the same connection -> ERR_ALREADY_IN_USE, the first host is untouched', () => {
    const connection = boundHost({ address: '127.0.0.1' });
    const port = connection.getLocalPort();
    expect(reportsError(() => connection.createHostBound('127.0.0.1', 0))).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(reportsError(() => connection.createHost())).toBe(GodotError.ERR_ALREADY_IN_USE);
    // The "already created" check comes before the parameter checks, as in Godot's _create.
    expect(reportsError(() => connection.createHostBound('*', 0, 0))).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(connection.getLocalPort()).toBe(port);
  });

  test.each([
    ['127.0.0.1', '127.0.0.1'],
    ['*', '*'],
    ['127.0.0.1', '*'],
  ])('port already in use (%s, then %s) -> ERR_CANT_CREATE', (first, second) => {
    const holder = boundHost({ address: first });
    const connection = newConnection();
    expect(reportsError(() => connection.createHostBound(second, holder.getLocalPort()))).toBe(GodotError.ERR_CANT_CREATE);
    expect(connection.getCounters()).toBeNull();
  });

  test('binds the exact port asked for', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => probe.bind(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const connection = newConnection();
    expect(connection.createHostBound('127.0.0.1', port)).toBe(GodotError.OK);
    expect(connection.getLocalPort()).toBe(port);
  });
});

describe('createHost', () => {
  test('an unbound host connects out; its port is the one the server sees', async () => {
    const server = new Endpoint(boundHost());
    const client = new Endpoint(newConnection());
    expect(client.host.createHost()).toBe(GodotError.OK);
    expect(client.host.getMaxChannels()).toBe(255);
    const peer = client.host.connectToHost('127.0.0.1', server.host.getLocalPort()) as ENetPacketPeer;
    expect(peer).not.toBeNull();
    await nextEvent(client, EVENT_CONNECT, [server], peer);
    const [, serverPeer] = await nextEvent(server, EVENT_CONNECT, [client]);
    expect(client.host.getLocalPort()).toBeGreaterThan(0);
    expect(serverPeer?.getRemotePort()).toBe(client.host.getLocalPort());
    expect(peer.getRemotePort()).toBe(server.host.getLocalPort());
  });

  test('a second createHost -> ERR_ALREADY_IN_USE', () => {
    const connection = clientHost();
    expect(reportsError(() => connection.createHost())).toBe(GodotError.ERR_ALREADY_IN_USE);
  });

  test('createHost(maxPeers, maxChannels) sets the channel limit', async () => {
    const server = new Endpoint(newConnection());
    expect(server.host.createHost(4, 3)).toBe(GodotError.OK);
    expect(server.host.getMaxChannels()).toBe(3);
  });
});

describe('connectToHost', () => {
  test('the service call that returns CONNECT has already acknowledged the VERIFY_CONNECT', async () => {
    // ENet returns a CONNECT before its post-receive send pass; the drain must still send the ACK, or
    // the server would wait for the client's next wake (and take that delay as its first RTT sample).
    const server = new Endpoint(boundHost());
    const { client, peer } = startClient(server.host);
    // One service(0) per round, stopping at the call that returns CONNECT (pump() would service on
    // until EVENT_NONE, and that last call's send pass would hide a missing ACK).
    await pumpUntil([server], () => client.host.service(0)[0] === EVENT_CONNECT, { what: "the client's CONNECT" });
    expect(peer.getState()).toBe(PeerState.STATE_CONNECTED);
    // From here on only the server is serviced.
    await pumpUntil([server], () => server.find(EVENT_CONNECT).length > 0, { what: "the server's CONNECT" });
  });

  test('to an IPv4 literal, with channels and CONNECT data', async () => {
    const pair = await connectPair({ connectTo: '127.0.0.1', channels: 4, data: 123456789 });
    expect(pair.serverConnect).toEqual([EVENT_CONNECT, pair.serverPeer, 123456789, 0]);
    expect(pair.clientConnect).toEqual([EVENT_CONNECT, pair.clientPeer, 0, 0]);
    expect(pair.clientPeer.getChannels()).toBe(4);
    expect(pair.serverPeer.getChannels()).toBe(4);
  });

  test('to "localhost" (a host name, resolved)', async () => {
    const pair = await connectPair({ connectTo: 'localhost' });
    expect(pair.clientPeer.getRemotePort()).toBe(pair.server.host.getLocalPort());
    expect(pair.serverPeer.getRemoteAddress()).toBe(pair.clientPeer.getRemoteAddress());
    expect(['127.0.0.1', '::1']).toContain(pair.clientPeer.getRemoteAddress());
  });

  test('to "::1"', async () => {
    const pair = await connectPair({ connectTo: '::1' });
    expect(pair.clientPeer.getRemoteAddress()).toBe('::1');
    expect(pair.serverPeer.getRemoteAddress()).toBe('::1');
  });

  test("Godot's defaults: 255 channels and data 0", async () => {
    const server = new Endpoint(boundHost());
    const client = new Endpoint(clientHost());
    const peer = client.host.connectToHost('127.0.0.1', server.host.getLocalPort()) as ENetPacketPeer;
    const [, serverPeer, data] = await nextEvent(server, EVENT_CONNECT, [client]);
    expect(data).toBe(0);
    await nextEvent(client, EVENT_CONNECT, [server], peer);
    expect(peer.getChannels()).toBe(255);
    expect(serverPeer?.getChannels()).toBe(255);
  });

  test('more than 255 channels asked -> 255', async () => {
    const pair = await connectPair({ channels: 300 });
    expect(pair.clientPeer.getChannels()).toBe(255);
  });

  test('the largest 32-bit data value arrives intact', async () => {
    const pair = await connectPair({ data: 0x7fffffff });
    expect(pair.serverConnect[2]).toBe(0x7fffffff);
  });

  test.each([0, -1, 65536])('port %i -> null', (port) => {
    const client = clientHost();
    expect(reportsError(() => client.connectToHost('127.0.0.1', port))).toBeNull();
    expect(client.getPeers()).toEqual([]);
  });

  test.each(['no-such-host.invalid', ''])('unresolvable address %j -> null', (address) => {
    const client = clientHost();
    expect(reportsError(() => client.connectToHost(address, 1234))).toBeNull();
    expect(client.getPeers()).toEqual([]);
  });

  test('a second connect on a host that already has a peer -> null (G15), even with free slots', () => {
    const server = boundHost();
    const client = clientHost(4);
    const first = client.connectToHost('127.0.0.1', server.getLocalPort());
    expect(first).not.toBeNull();
    expect(reportsError(() => client.connectToHost('127.0.0.1', server.getLocalPort()))).toBeNull();
    expect(client.getPeers()).toEqual([first]);
  });

  test('a server host with incoming peers cannot connect out (G15)', async () => {
    const pair = await connectPair();
    const other = boundHost();
    expect(reportsError(() => pair.server.host.connectToHost('127.0.0.1', other.getLocalPort()))).toBeNull();
    expect(pair.server.host.getPeers()).toEqual([pair.serverPeer]);
  });

  test('once the only peer is gone, the host may connect again', async () => {
    const pair = await connectPair();
    pair.clientPeer.peerDisconnect();
    await nextEvent(pair.client, EVENT_DISCONNECT, pair.both, pair.clientPeer);
    const again = pair.client.host.connectToHost('127.0.0.1', pair.server.host.getLocalPort());
    expect(again).not.toBeNull();
    expect(again).not.toBe(pair.clientPeer);
    await nextEvent(pair.client, EVENT_CONNECT, pair.both, again as ENetPacketPeer);
  });

  test('without a host -> null', () => {
    const connection = newConnection();
    expect(reportsError(() => connection.connectToHost('127.0.0.1', 1234))).toBeNull();
  });
});

describe('service', () => {
  test('result shapes: CONNECT, RECEIVE, DISCONNECT and NONE', async () => {
    const pair = await connectPair({ data: 77 });
    expect(pair.serverConnect).toEqual([EVENT_CONNECT, pair.serverPeer, 77, 0]);
    expect(pair.clientConnect).toEqual([EVENT_CONNECT, pair.clientPeer, 0, 0]);

    expect(pair.clientPeer.send(3, Buffer.from('shape'), FLAG_RELIABLE)).toBe(GodotError.OK);
    const receive = await nextEvent(pair.server, EVENT_RECEIVE, pair.both);
    expect(receive).toEqual([EVENT_RECEIVE, pair.serverPeer, 0, 3]);
    expect(pair.serverPeer.getAvailablePacketCount()).toBe(1);
    expect(pair.serverPeer.getPacket().toString()).toBe('shape');

    await pumpFor(pair.both, 50);
    expect(pair.server.host.service()).toEqual(NONE_RESULT);
    expect(pair.server.host.service(0)).toEqual(NONE_RESULT);
    expect(pair.server.host.service(10)).toEqual(NONE_RESULT);

    pair.clientPeer.peerDisconnect(4242);
    const remote = await nextEvent(pair.server, EVENT_DISCONNECT, pair.both);
    expect(remote).toEqual([EVENT_DISCONNECT, pair.serverPeer, 4242, 0]);
    const local = await nextEvent(pair.client, EVENT_DISCONNECT, pair.both);
    expect(local).toEqual([EVENT_DISCONNECT, pair.clientPeer, 0, 0]);
  });

  test('EVENT_ERROR without a host', () => {
    const connection = new ENetConnection();
    expect(reportsError(() => connection.service())).toEqual(ERROR_RESULT);
    expect(reportsError(() => connection.service(5))).toEqual(ERROR_RESULT);
  });

  test('service(timeout) returns an event that arrives while it waits', async () => {
    const pair = await connectPair();
    pair.clientPeer.send(0, Buffer.from('wait'), FLAG_RELIABLE);
    pair.client.host.flush();
    let received: unknown[] | undefined;
    const deadline = Date.now() + DEADLINE_MS;
    while (received === undefined && Date.now() < deadline) {
      const event = pair.server.host.service(100);
      if (event[0] === EVENT_RECEIVE) received = event;
      await sleep(0);
    }
    expect(received).toEqual([EVENT_RECEIVE, pair.serverPeer, 0, 0]);
  });

  test('more events than one native drain holds (5000) all arrive, in order', async () => {
    const pair = await connectPair();
    const total = 5000;
    for (let i = 0; i < total; i++) {
      const bytes = Buffer.alloc(4);
      bytes.writeUInt32BE(i);
      expect(pair.clientPeer.send(i % 2, bytes, FLAG_RELIABLE)).toBe(GodotError.OK);
    }
    const seen: number[] = [];
    await pumpUntil(pair.both, () => {
      for (const [, , bytes] of receivedPackets(pair.server)) seen.push(bytes.readUInt32BE(0));
      return seen.length >= total;
    }, { what: `${total} packets`, timeoutMs: 20_000 });
    const even = seen.filter((n) => n % 2 === 0);
    const odd = seen.filter((n) => n % 2 === 1);
    expect(even).toEqual(Array.from({ length: total / 2 }, (_, i) => 2 * i));
    expect(odd).toEqual(Array.from({ length: total / 2 }, (_, i) => 2 * i + 1));
  }, 30_000);
});

describe('garbage on the socket', () => {
  test('random datagrams from another socket are ignored; the connection keeps working', async () => {
    const pair = await connectPair({ bind: '127.0.0.1' });
    const socket = dgram.createSocket('udp4');
    try {
      const port = pair.server.host.getLocalPort();
      for (let i = 0; i < 2000; i++) {
        const datagram = pattern(i % 400 === 0 ? 5000 : (i * 37) % 1500, i + 1);
        // Every other one claims a plausible peer id and session (high bits of the first two bytes).
        if (i % 2 === 0 && datagram.length >= 2) datagram.writeUInt16BE((i % 3) << 12 | (i % 8), 0);
        await new Promise<void>((resolve) => socket.send(datagram, port, '127.0.0.1', () => resolve()));
        if (i % 100 === 0) await pumpFor(pair.both, 1);
      }
      await pumpFor(pair.both, 100);
      expect(pair.server.events).toEqual([]);
      expect(pair.serverPeer.isActive()).toBe(true);
      const data = pattern(5000, 77);
      const got = await exchange(pair.clientPeer, pair.server, pair.both, 0, data, FLAG_RELIABLE);
      expect(got.packet.equals(data)).toBe(true);
      // Datagrams over ENet's 4096-byte buffer were counted and skipped (Node extra).
      expect(pair.server.host.getCounters()?.oversizedDropped).toBeGreaterThanOrEqual(1);
    } finally {
      socket.close();
    }
  }, 30_000);
});

describe('checkEvents', () => {
  test('does no socket I/O: a datagram waiting in the socket is not read', async () => {
    const pair = await connectPair();
    pair.clientPeer.send(0, Buffer.from('later'), FLAG_RELIABLE);
    pair.client.host.flush();
    await sleep(100);
    expect(pair.server.host.checkEvents()).toEqual(NONE_RESULT);
    const event = await nextEvent(pair.server, EVENT_RECEIVE, [pair.server]);
    expect(event).toEqual([EVENT_RECEIVE, pair.serverPeer, 0, 0]);
  });

  test('returns the events already received, one at a time, then NONE', async () => {
    const pair = await connectPair();
    for (const text of ['one', 'two', 'three']) pair.clientPeer.send(0, Buffer.from(text), FLAG_RELIABLE);
    pair.client.host.flush();
    let first: unknown[] = NONE_RESULT;
    await pumpUntil([pair.client], () => {
      first = pair.server.host.service(0);
      return first[0] !== EVENT_NONE;
    }, { what: 'the first RECEIVE' });
    expect(first).toEqual([EVENT_RECEIVE, pair.serverPeer, 0, 0]);
    expect(pair.server.host.checkEvents()).toEqual([EVENT_RECEIVE, pair.serverPeer, 0, 0]);
    expect(pair.server.host.checkEvents()).toEqual([EVENT_RECEIVE, pair.serverPeer, 0, 0]);
    expect(pair.server.host.checkEvents()).toEqual(NONE_RESULT);
    expect(['one', 'two', 'three'].map(() => pair.serverPeer.getPacket().toString())).toEqual(['one', 'two', 'three']);
  });

  test('EVENT_ERROR without a host', () => {
    expect(reportsError(() => new ENetConnection().checkEvents())).toEqual(ERROR_RESULT);
  });
});

describe('flush', () => {
  test('sends queued packets at once, without a service of the sender', async () => {
    const pair = await connectPair();
    await pumpFor(pair.both, 30);
    pair.clientPeer.send(0, Buffer.from('queued'), FLAG_RELIABLE);
    // Not flushed and the client is not serviced: nothing arrives.
    await pumpFor([pair.server], 150);
    expect(pair.server.find(EVENT_RECEIVE)).toEqual([]);
    reportsNothing(() => pair.client.host.flush());
    const event = await nextEvent(pair.server, EVENT_RECEIVE, [pair.server]);
    expect(event[1]).toBe(pair.serverPeer);
    expect(pair.serverPeer.getPacket().toString()).toBe('queued');
  });

  test('without a host reports an error and does not throw', () => {
    expect(reportsError(() => newConnection().flush())).toBeUndefined();
  });
});

describe('sendMany (Node extra: a multi-target send in one native call)', () => {
  test('queues one copy to each listed peer, counted in its send ledger, and nothing to the others', async () => {
    const { server, pairs } = await serverWithClients(3);
    const all = [server, ...pairs.map((p) => p.client)];
    const targets = [pairs[0].serverPeer, pairs[2].serverPeer];
    expect(reportsNothing(() => server.host.sendMany(targets, 1, Buffer.from('some'), FLAG_RELIABLE))).toBe(2);
    expect(pairs.map((p) => p.serverPeer.getQueuedBytes())).toEqual([4, 0, 4]);
    for (const pair of [pairs[0], pairs[2]]) {
      expect(await nextEvent(pair.client, EVENT_RECEIVE, all)).toEqual([EVENT_RECEIVE, pair.clientPeer, 0, 1]);
      expect(pair.clientPeer.getPacketFlags()).toBe(FLAG_RELIABLE);
      expect(pair.clientPeer.getPacket().toString()).toBe('some');
    }
    await pumpFor(all, 100);
    expect(pairs.map((p) => p.clientPeer.getAvailablePacketCount())).toEqual([0, 0, 0]);
    expect(pairs[1].client.find(EVENT_RECEIVE)).toEqual([]);
    expect(pairs.map((p) => p.serverPeer.getQueuedBytes())).toEqual([0, 0, 0]); // acknowledged
  });

  test('skips inactive peers, peers over their send queue limit and peers that refuse the channel', async () => {
    const server = new Endpoint(boundHost({ maxChannels: 4 }));
    const pairs: Pair[] = [];
    for (let i = 0; i < 3; i++) pairs.push(await connectClient(server, { channels: 4 }, pairs.map((p) => p.client)));
    const peers = pairs.map((p) => p.serverPeer);
    peers[0].reset();
    peers[1].setSendQueueLimit(2);
    expect(server.host.sendMany(peers, 0, Buffer.from('abc'), FLAG_RELIABLE)).toBe(1);
    expect(peers.map((p) => p.getQueuedBytes())).toEqual([0, 0, 3]);
    // Channel 4 of 4 passes the range check (as broadcast's does, G16) and every peer refuses it.
    expect(reportsNothing(() => server.host.sendMany(peers.slice(1), 4, Buffer.from('x'), 0))).toBe(0);
    expect(server.host.sendMany([], 0, Buffer.from('x'), 0)).toBe(0);
  });

  test('wrong arguments throw or report, and a destroyed host sends nothing', async () => {
    const pair = await connectPair();
    const other = await connectPair();
    const host = pair.server.host;
    expect(() => host.sendMany([other.serverPeer], 0, Buffer.from('x'), 0)).toThrow(TypeError);
    expect(() => host.sendMany([{} as ENetPacketPeer], 0, Buffer.from('x'), 0)).toThrow(TypeError);
    expect(() => host.sendMany([pair.serverPeer], 0, 'x' as unknown as Buffer, 0)).toThrow(TypeError);
    expect(() => host.sendMany([pair.serverPeer], 0.5, Buffer.from('x'), 0)).toThrow(TypeError);
    expect(reportsError(() => host.sendMany([pair.serverPeer], -1, Buffer.from('x'), 0))).toBe(0);
    expect(reportsError(() => host.sendMany([pair.serverPeer], 0, Buffer.from('x'), 4))).toBe(0);
    expect(pair.serverPeer.getQueuedBytes()).toBe(0);
    host.destroy();
    expect(reportsError(() => host.sendMany([pair.serverPeer], 0, Buffer.from('x'), 0))).toBe(0);
  });
});

describe('broadcast', () => {
  test('reaches every connected peer, on the channel and with the flags given', async () => {
    const { server, pairs } = await serverWithClients(3);
    const clients = pairs.map((p) => p.client);
    reportsNothing(() => server.host.broadcast(2, Buffer.from('to all'), FLAG_RELIABLE));
    for (const pair of pairs) {
      const event = await nextEvent(pair.client, EVENT_RECEIVE, [server, ...clients]);
      expect(event).toEqual([EVENT_RECEIVE, pair.clientPeer, 0, 2]);
      expect(pair.clientPeer.getPacketFlags()).toBe(FLAG_RELIABLE);
      expect(pair.clientPeer.getPacket().toString()).toBe('to all');
    }
    server.host.broadcast(0, Buffer.from('unsequenced'), FLAG_UNSEQUENCED);
    for (const pair of pairs) {
      await nextEvent(pair.client, EVENT_RECEIVE, [server, ...clients]);
      expect(pair.clientPeer.getPacketFlags()).toBe(FLAG_UNSEQUENCED);
      expect(pair.clientPeer.getPacket().toString()).toBe('unsequenced');
    }
  });

  test('channel > getMaxChannels() is rejected; channel == getMaxChannels() passes the check and is dropped (G16)', async () => {
    const server = new Endpoint(boundHost({ maxChannels: 4 }));
    const pair = await connectClient(server, { channels: 8 });
    expect(server.host.getMaxChannels()).toBe(4);
    expect(pair.clientPeer.getChannels()).toBe(4);
    reportsError(() => server.host.broadcast(5, Buffer.from('too high'), FLAG_RELIABLE));
    reportsError(() => server.host.broadcast(-1, Buffer.from('negative'), FLAG_RELIABLE));
    reportsNothing(() => server.host.broadcast(4, Buffer.from('dropped'), FLAG_RELIABLE));
    server.host.broadcast(3, Buffer.from('marker'), FLAG_RELIABLE);
    await nextEvent(pair.client, EVENT_RECEIVE, pair.both);
    await pumpFor(pair.both, 100);
    expect(pair.clientPeer.getAvailablePacketCount()).toBe(1);
    expect(pair.clientPeer.getPacket().toString()).toBe('marker');
  });

  test.each([4, 16, 12, 0x100, -1])('flags %i are rejected', async (flags) => {
    const pair = await connectPair();
    reportsError(() => pair.server.host.broadcast(0, Buffer.from('bad flags'), flags));
    pair.server.host.broadcast(1, Buffer.from('marker'), FLAG_RELIABLE);
    await nextEvent(pair.client, EVENT_RECEIVE, pair.both);
    await pumpFor(pair.both, 50);
    expect(receivedPackets(pair.client)).toEqual([]);
    expect(pair.clientPeer.getAvailablePacketCount()).toBe(1);
    expect(pair.clientPeer.getPacket().toString()).toBe('marker');
  });

  test('every allowed flag combination is accepted', async () => {
    const pair = await connectPair();
    for (const flags of [0, 1, 2, 3, 8, 9, 10, 11]) {
      reportsNothing(() => pair.server.host.broadcast(0, Buffer.from([flags]), flags));
      pair.server.host.flush();
      const event = await nextEvent(pair.client, EVENT_RECEIVE, pair.both);
      expect(event[1]).toBe(pair.clientPeer);
      expect(pair.clientPeer.getPacket()).toEqual(Buffer.from([flags]));
    }
  });

  test('without a host reports an error and does not throw', () => {
    expect(reportsError(() => newConnection().broadcast(0, Buffer.from('x'), FLAG_RELIABLE))).toBeUndefined();
  });
});

describe('compress', () => {
  async function compressedPair(mode: CompressionMode) {
    const server = new Endpoint(boundHost());
    reportsNothing(() => server.host.compress(mode));
    const { client, peer } = startClient(server.host);
    reportsNothing(() => client.host.compress(mode));
    await nextEvent(client, EVENT_CONNECT, [server], peer);
    const [, serverPeer] = await nextEvent(server, EVENT_CONNECT, [client]);
    return { server, client, clientPeer: peer, serverPeer: serverPeer as ENetPacketPeer, both: [server, client] };
  }

  /** Round trip of a compressible and a random packet; returns the bytes the client's host sent for the first. */
  async function roundTrip(pair: Awaited<ReturnType<typeof compressedPair>>): Promise<number> {
    await pumpFor(pair.both, 20);
    pair.client.host.popStatistic(HostStatistic.HOST_TOTAL_SENT_DATA);
    const zeros = Buffer.alloc(64 * 1024);
    const toServer = await exchange(pair.clientPeer, pair.server, pair.both, 0, zeros, FLAG_RELIABLE);
    expect(toServer.packet.equals(zeros)).toBe(true);
    const sent = pair.client.host.popStatistic(HostStatistic.HOST_TOTAL_SENT_DATA);
    const random = pattern(10_000, 7);
    const toClient = await exchange(pair.serverPeer, pair.client, pair.both, 1, random, FLAG_RELIABLE);
    expect(toClient.packet.equals(random)).toBe(true);
    return sent;
  }

  test('COMPRESS_NONE on both sides passes data uncompressed', async () => {
    const pair = await compressedPair(CompressionMode.COMPRESS_NONE);
    expect(pair.server.host.getCompressionMode()).toBe(CompressionMode.COMPRESS_NONE);
    expect(await roundTrip(pair)).toBeGreaterThanOrEqual(64 * 1024);
  });

  test('COMPRESS_RANGE_CODER on both sides passes data, compressed on the wire', async () => {
    const pair = await compressedPair(CompressionMode.COMPRESS_RANGE_CODER);
    expect(pair.server.host.getCompressionMode()).toBe(CompressionMode.COMPRESS_RANGE_CODER);
    expect(pair.client.host.getCompressionMode()).toBe(CompressionMode.COMPRESS_RANGE_CODER);
    expect(await roundTrip(pair)).toBeLessThan(64 * 1024 / 4);
  });

  test('back to COMPRESS_NONE on both sides of a live connection', async () => {
    const pair = await compressedPair(CompressionMode.COMPRESS_RANGE_CODER);
    pair.server.host.compress(CompressionMode.COMPRESS_NONE);
    pair.client.host.compress(CompressionMode.COMPRESS_NONE);
    expect(pair.server.host.getCompressionMode()).toBe(CompressionMode.COMPRESS_NONE);
    expect(await roundTrip(pair)).toBeGreaterThanOrEqual(64 * 1024);
  });

  test.each([CompressionMode.COMPRESS_FASTLZ, CompressionMode.COMPRESS_ZLIB, CompressionMode.COMPRESS_ZSTD])(
    'mode %i on both sides passes data, compressed on the wire (formats: test/compression.test.ts)', async (mode) => {
      const pair = await compressedPair(mode);
      expect(pair.server.host.getCompressionMode()).toBe(mode);
      expect(pair.client.host.getCompressionMode()).toBe(mode);
      expect(await roundTrip(pair)).toBeLessThan(64 * 1024 / 4);
    });

  test.each([5, -1, 100])('unknown mode %i reports an error and keeps the mode', (mode) => {
    const host = boundHost();
    host.compress(CompressionMode.COMPRESS_RANGE_CODER);
    reportsError(() => host.compress(mode));
    expect(host.getCompressionMode()).toBe(CompressionMode.COMPRESS_RANGE_CODER);
  });

  test('a new host starts uncompressed', () => {
    const connection = boundHost();
    connection.compress(CompressionMode.COMPRESS_RANGE_CODER);
    connection.destroy();
    expect(connection.createHostBound('*', 0)).toBe(GodotError.OK);
    expect(connection.getCompressionMode()).toBe(CompressionMode.COMPRESS_NONE);
  });

  test('without a host reports an error and does not throw', () => {
    expect(reportsError(() => newConnection().compress(CompressionMode.COMPRESS_RANGE_CODER))).toBeUndefined();
  });
});

describe('channelLimit and getMaxChannels', () => {
  test('a later client asking 255 channels gets the limit; existing connections keep theirs', async () => {
    const server = new Endpoint(boundHost());
    const before = await connectClient(server);
    reportsNothing(() => server.host.channelLimit(4));
    expect(server.host.getMaxChannels()).toBe(4);
    const after = await connectClient(server, { channels: 255 }, [before.client]);
    expect(after.clientPeer.getChannels()).toBe(4);
    expect(after.serverPeer.getChannels()).toBe(4);
    expect(before.serverPeer.getChannels()).toBe(255);
    expect(before.clientPeer.send(200, Buffer.from('ok'), FLAG_RELIABLE)).toBe(GodotError.OK);
  });

  test.each([
    [0, 255],
    [1, 1],
    [255, 255],
    [256, 255],
    [1000, 255],
  ])('channelLimit(%i) -> getMaxChannels() %i', (limit, expected) => {
    const host = boundHost({ maxChannels: 7 });
    host.channelLimit(limit);
    expect(host.getMaxChannels()).toBe(expected);
  });

  test('without a host: channelLimit reports an error, getMaxChannels() is 0', () => {
    const connection = newConnection();
    expect(reportsError(() => connection.channelLimit(4))).toBeUndefined();
    expect(reportsError(() => connection.getMaxChannels())).toBe(0);
  });
});

describe('bandwidthLimit', () => {
  test("Godot's defaults (0, 0 = unlimited) and explicit limits; traffic still flows", async () => {
    const pair = await connectPair();
    reportsNothing(() => pair.server.host.bandwidthLimit());
    reportsNothing(() => pair.server.host.bandwidthLimit(1_000_000, 2_000_000));
    reportsNothing(() => pair.client.host.bandwidthLimit(500_000));
    const data = pattern(20_000, 3);
    const { packet } = await exchange(pair.clientPeer, pair.server, pair.both, 0, data, FLAG_RELIABLE);
    expect(packet.equals(data)).toBe(true);
    const back = await exchange(pair.serverPeer, pair.client, pair.both, 0, data, FLAG_RELIABLE);
    expect(back.packet.equals(data)).toBe(true);
  });

  test('without a host reports an error and does not throw', () => {
    expect(reportsError(() => newConnection().bandwidthLimit(10, 10))).toBeUndefined();
  });
});

describe('refuseNewConnections', () => {
  test('is a no-op for plain UDP hosts, as in Godot (only DTLS servers refuse)', async () => {
    const server = new Endpoint(boundHost());
    reportsNothing(() => server.host.refuseNewConnections(true));
    const pair = await connectClient(server);
    expect(pair.serverPeer.isActive()).toBe(true);
    reportsNothing(() => server.host.refuseNewConnections(false));
  });

  test('without a host reports an error and does not throw', () => {
    expect(reportsError(() => newConnection().refuseNewConnections(true))).toBeUndefined();
  });
});

describe('popStatistic', () => {
  const ALL = [
    HostStatistic.HOST_TOTAL_SENT_DATA,
    HostStatistic.HOST_TOTAL_SENT_PACKETS,
    HostStatistic.HOST_TOTAL_RECEIVED_DATA,
    HostStatistic.HOST_TOTAL_RECEIVED_PACKETS,
  ];

  test('each counter is non-zero after traffic and 0 right after a pop', async () => {
    const pair = await connectPair();
    await exchange(pair.clientPeer, pair.server, pair.both, 0, pattern(1000), FLAG_RELIABLE);
    await exchange(pair.serverPeer, pair.client, pair.both, 0, pattern(1000), FLAG_RELIABLE);
    for (const host of [pair.server.host, pair.client.host]) {
      for (const statistic of ALL) {
        expect([HostStatistic[statistic], host.popStatistic(statistic) > 0]).toEqual([HostStatistic[statistic], true]);
        expect(host.popStatistic(statistic)).toBe(0);
      }
    }
  });

  test('counts what was sent and received since the last pop', async () => {
    const pair = await connectPair();
    await pumpFor(pair.both, 20);
    for (const statistic of ALL) {
      pair.client.host.popStatistic(statistic);
      pair.server.host.popStatistic(statistic);
    }
    const data = pattern(1000, 9);
    await exchange(pair.clientPeer, pair.server, pair.both, 0, data, FLAG_RELIABLE);
    expect(pair.client.host.popStatistic(HostStatistic.HOST_TOTAL_SENT_DATA)).toBeGreaterThanOrEqual(1000);
    expect(pair.client.host.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS)).toBeGreaterThanOrEqual(1);
    expect(pair.server.host.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_DATA)).toBeGreaterThanOrEqual(1000);
    expect(pair.server.host.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_PACKETS)).toBeGreaterThanOrEqual(1);
  });

  test.each([4, -1, 100])('invalid statistic %i -> 0', async (statistic) => {
    const pair = await connectPair();
    expect(reportsError(() => pair.server.host.popStatistic(statistic as HostStatistic))).toBe(0);
  });

  test('without a host -> 0', () => {
    expect(reportsError(() => newConnection().popStatistic(HostStatistic.HOST_TOTAL_SENT_DATA))).toBe(0);
  });
});

describe('getLocalPort', () => {
  test('is the port actually bound: a raw datagram sent there reaches the host', async () => {
    const host = new Endpoint(boundHost({ address: '127.0.0.1' }));
    const port = host.host.getLocalPort();
    expect(port).toBeGreaterThan(0);
    const socket = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve) => socket.send(Buffer.from('not enet'), port, '127.0.0.1', () => resolve()));
      let received = 0;
      await pumpUntil([host], () => (received += host.host.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_PACKETS)) > 0,
        { what: 'the datagram at the host' });
      expect(host.events).toEqual([]);
    } finally {
      socket.close();
    }
  });

  test('of an unbound host is the port the OS picked at the first send', async () => {
    const pair = await connectPair();
    expect(pair.client.host.getLocalPort()).toBe(pair.serverPeer.getRemotePort());
  });

  test('without a host -> 0', () => {
    expect(reportsError(() => newConnection().getLocalPort())).toBe(0);
  });
});

describe('getPeers', () => {
  test('includes a connecting peer, which is the very object connectToHost returned', () => {
    const server = boundHost();
    const client = clientHost();
    const peer = client.connectToHost('127.0.0.1', server.getLocalPort()) as ENetPacketPeer;
    expect(peer.getState()).toBe(PeerState.STATE_CONNECTING);
    expect(client.getPeers()).toHaveLength(1);
    expect(client.getPeers()[0]).toBe(peer);
    expect(server.getPeers()).toEqual([]);
  });

  test('identity: the same objects as the CONNECT events and later events', async () => {
    const { server, pairs } = await serverWithClients(3);
    const clients = pairs.map((p) => p.client);
    const serverPeers = server.host.getPeers();
    expect(serverPeers).toHaveLength(3);
    for (const pair of pairs) {
      expect(serverPeers.filter((p) => p === pair.serverPeer)).toHaveLength(1);
      expect(pair.client.host.getPeers()).toEqual([pair.clientPeer]);
      expect(pair.client.host.getPeers()[0]).toBe(pair.clientConnect[1]);
      pair.clientPeer.send(0, Buffer.from('id'), FLAG_RELIABLE);
      const receive = await nextEvent(server, EVENT_RECEIVE, [server, ...clients]);
      expect(receive[1]).toBe(pair.serverPeer);
      pair.serverPeer.getPacket();
    }
    pairs[1].clientPeer.peerDisconnect(5);
    const disconnect = await nextEvent(server, EVENT_DISCONNECT, [server, ...clients]);
    expect(disconnect[1]).toBe(pairs[1].serverPeer);
    const remaining = server.host.getPeers();
    expect(remaining).toHaveLength(2);
    expect(remaining).not.toContain(pairs[1].serverPeer);
  });

  test('returns a copy', async () => {
    const pair = await connectPair();
    const list = pair.server.host.getPeers();
    list.length = 0;
    expect(pair.server.host.getPeers()).toEqual([pair.serverPeer]);
  });

  test('a reset peer is pruned by the next service', async () => {
    const pair = await connectPair();
    pair.serverPeer.reset();
    pair.server.host.service();
    expect(pair.server.host.getPeers()).toEqual([]);
  });

  test('without a host -> []', () => {
    expect(reportsError(() => newConnection().getPeers())).toEqual([]);
  });
});

describe('socketSend', () => {
  async function rawSocket(type: 'udp4' | 'udp6', address: string) {
    const socket = dgram.createSocket(type);
    await new Promise<void>((resolve) => socket.bind(0, address, resolve));
    const messages: { data: Buffer; rinfo: dgram.RemoteInfo }[] = [];
    socket.on('message', (data, rinfo) => messages.push({ data, rinfo }));
    return { socket, messages, port: (socket.address() as AddressInfo).port };
  }

  async function waitFor(condition: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + DEADLINE_MS;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }

  test.each<['udp4' | 'udp6', string, string, string]>([
    ['udp4', '127.0.0.1', '127.0.0.1', '*'],
    ['udp4', '127.0.0.1', 'localhost', '*'],
    ['udp4', '127.0.0.1', '127.0.0.1', '127.0.0.1'],
    ['udp6', '::1', '::1', '*'],
  ])('a raw datagram reaches a %s socket on %s (sent to %s, host bound on %s), from the host port',
    async (type, listen, destination, bind) => {
      const raw = await rawSocket(type, listen);
      try {
        const host = boundHost({ address: bind });
        const payload = pattern(100, 5);
        reportsNothing(() => host.socketSend(destination, raw.port, payload));
        await waitFor(() => raw.messages.length > 0, 'the datagram');
        expect(raw.messages[0].data.equals(payload)).toBe(true);
        expect(raw.messages[0].rinfo.port).toBe(host.getLocalPort());
        expect(raw.messages[0].rinfo.address).toBe(listen);
      } finally {
        raw.socket.close();
      }
    });

  test.each([0, -1, 65536])('port %i reports an error', async (port) => {
    const host = boundHost();
    expect(reportsError(() => host.socketSend('127.0.0.1', port, Buffer.from('x')))).toBeUndefined();
  });

  test('an unresolvable destination reports an error', () => {
    const host = boundHost();
    expect(reportsError(() => host.socketSend('no-such-host.invalid', 1234, Buffer.from('x')))).toBeUndefined();
  });

  test('without a host reports an error and does not throw', () => {
    expect(reportsError(() => newConnection().socketSend('127.0.0.1', 1234, Buffer.from('x')))).toBeUndefined();
  });
});

describe('destroy', () => {
  test('makes every peer inactive at once and tells no remote (G15)', async () => {
    const { server, pairs } = await serverWithClients(2);
    const clients = pairs.map((p) => p.client);
    for (const pair of pairs) pair.clientPeer.setTimeout(1, 1000, 2000);
    reportsNothing(() => server.host.destroy());
    for (const pair of pairs) {
      expect(pair.serverPeer.isActive()).toBe(false);
      expect(pair.serverPeer.getState()).toBe(PeerState.STATE_DISCONNECTED);
      expect(pair.clientPeer.isActive()).toBe(true);
    }
    // A graceful disconnect would arrive within milliseconds; after destroy the clients hear nothing...
    await pumpFor(clients, 300);
    for (const client of clients) expect(client.find(EVENT_DISCONNECT)).toEqual([]);
    // ...until they time out (data 0).
    for (const pair of pairs) {
      const event = await nextEvent(pair.client, EVENT_DISCONNECT, clients, pair.clientPeer, 15_000);
      expect(event).toEqual([EVENT_DISCONNECT, pair.clientPeer, 0, 0]);
    }
  }, 30_000);

  test('a second destroy reports an error and does not throw', () => {
    const host = boundHost();
    host.destroy();
    expect(reportsError(() => host.destroy())).toBeUndefined();
    expect(reportsError(() => new ENetConnection().destroy())).toBeUndefined();
  });

  test('releases the port, and the connection can create a host again', () => {
    const host = boundHost({ address: '127.0.0.1' });
    const port = host.getLocalPort();
    host.destroy();
    const other = newConnection();
    expect(other.createHostBound('127.0.0.1', port)).toBe(GodotError.OK);
    other.destroy();
    expect(host.createHostBound('127.0.0.1', port)).toBe(GodotError.OK);
    expect(host.getLocalPort()).toBe(port);
  });

  const FALLBACKS: [string, (c: ENetConnection) => unknown, unknown][] = [
    ['connectToHost', (c) => c.connectToHost('127.0.0.1', 1234), null],
    ['service()', (c) => c.service(), ERROR_RESULT],
    ['service(10)', (c) => c.service(10), ERROR_RESULT],
    ['checkEvents', (c) => c.checkEvents(), ERROR_RESULT],
    ['flush', (c) => c.flush(), undefined],
    ['bandwidthLimit', (c) => c.bandwidthLimit(1, 2), undefined],
    ['channelLimit', (c) => c.channelLimit(3), undefined],
    ['broadcast', (c) => c.broadcast(0, Buffer.from('x'), FLAG_RELIABLE), undefined],
    ['compress', (c) => c.compress(CompressionMode.COMPRESS_RANGE_CODER), undefined],
    ['refuseNewConnections', (c) => c.refuseNewConnections(true), undefined],
    ['popStatistic', (c) => c.popStatistic(HostStatistic.HOST_TOTAL_SENT_DATA), 0],
    ['getMaxChannels', (c) => c.getMaxChannels(), 0],
    ['getLocalPort', (c) => c.getLocalPort(), 0],
    ['getPeers', (c) => c.getPeers(), []],
    ['socketSend', (c) => c.socketSend('127.0.0.1', 1234, Buffer.from('x')), undefined],
    ['destroy', (c) => c.destroy(), undefined],
  ];

  test.each(FALLBACKS)("on a destroyed connection, %s returns Godot's fallback without throwing", async (_name, call, fallback) => {
    const pair = await connectPair();
    pair.server.host.destroy();
    expect(reportsError(() => call(pair.server.host))).toEqual(fallback);
  });

  test.each(FALLBACKS)("on a connection never created, %s returns Godot's fallback without throwing", (_name, call, fallback) => {
    expect(reportsError(() => call(new ENetConnection()))).toEqual(fallback);
  });
});

describe('argument types', () => {
  const buf = Buffer.from('x');
  const CASES: [string, (c: ENetConnection) => unknown, RegExp][] = [
    ['createHostBound bindAddress', (c) => c.createHostBound(5 as never, 0), /ENetConnection\.createHostBound: bindAddress must be a string/],
    ['createHostBound bindPort', (c) => c.createHostBound('*', '0' as never), /ENetConnection\.createHostBound: bindPort must be an integer/],
    ['createHostBound maxPeers', (c) => c.createHostBound('*', 0, '32' as never), /createHostBound: maxPeers must be an integer/],
    ['createHostBound maxChannels', (c) => c.createHostBound('*', 0, 32, null as never), /createHostBound: maxChannels must be an integer/],
    ['createHostBound inBandwidth', (c) => c.createHostBound('*', 0, 32, 0, {} as never), /createHostBound: inBandwidth must be an integer/],
    ['createHostBound outBandwidth', (c) => c.createHostBound('*', 0, 32, 0, 0, [] as never), /createHostBound: outBandwidth must be an integer/],
    ['createHost maxPeers', (c) => c.createHost('1' as never), /ENetConnection\.createHost: maxPeers must be an integer/],
    ['createHost maxChannels', (c) => c.createHost(1, true as never), /ENetConnection\.createHost: maxChannels must be an integer/],
    ['createHost inBandwidth', (c) => c.createHost(1, 0, '0' as never), /ENetConnection\.createHost: inBandwidth must be an integer/],
    ['createHost outBandwidth', (c) => c.createHost(1, 0, 0, null as never), /ENetConnection\.createHost: outBandwidth must be an integer/],
    ['connectToHost address', (c) => c.connectToHost(null as never, 1), /ENetConnection\.connectToHost: address must be a string/],
    ['connectToHost port', (c) => c.connectToHost('127.0.0.1', '1' as never), /connectToHost: port must be an integer/],
    ['connectToHost channels', (c) => c.connectToHost('127.0.0.1', 1, 'x' as never), /connectToHost: channels must be an integer/],
    ['connectToHost data', (c) => c.connectToHost('127.0.0.1', 1, 0, {} as never), /connectToHost: data must be an integer/],
    ['service timeout', (c) => c.service('10' as never), /ENetConnection\.service: timeout must be an integer/],
    ['bandwidthLimit inBandwidth', (c) => c.bandwidthLimit('1' as never), /bandwidthLimit: inBandwidth must be an integer/],
    ['bandwidthLimit outBandwidth', (c) => c.bandwidthLimit(1, '1' as never), /bandwidthLimit: outBandwidth must be an integer/],
    ['channelLimit limit', (c) => c.channelLimit(null as never), /ENetConnection\.channelLimit: limit must be an integer/],
    ['broadcast channel', (c) => c.broadcast('0' as never, buf, 1), /ENetConnection\.broadcast: channel must be an integer/],
    ['broadcast packet (string)', (c) => c.broadcast(0, 'x' as never, 1), /ENetConnection\.broadcast: packet must be a Uint8Array/],
    ['broadcast packet (array)', (c) => c.broadcast(0, [1, 2] as never, 1), /ENetConnection\.broadcast: packet must be a Uint8Array/],
    ['broadcast flags', (c) => c.broadcast(0, buf, '1' as never), /ENetConnection\.broadcast: flags must be an integer/],
    ['compress mode', (c) => c.compress('zlib' as never), /ENetConnection\.compress: mode must be an integer/],
    ['refuseNewConnections refuse', (c) => c.refuseNewConnections(1 as never), /refuseNewConnections: refuse must be a boolean/],
    ['popStatistic statistic', (c) => c.popStatistic('0' as never), /ENetConnection\.popStatistic: statistic must be an integer/],
    ['socketSend destinationAddress', (c) => c.socketSend(1 as never, 1, buf), /socketSend: destinationAddress must be a string/],
    ['socketSend destinationPort', (c) => c.socketSend('127.0.0.1', '1' as never, buf), /socketSend: destinationPort must be an integer/],
    ['socketSend packet', (c) => c.socketSend('127.0.0.1', 1, 'x' as never), /socketSend: packet must be a Uint8Array/],
  ];

  test.each(CASES)('%s: TypeError naming the method and argument', (_name, call, message) => {
    const host = boundHost();
    const port = host.getLocalPort();
    expect(() => call(host)).toThrow(TypeError);
    expect(() => call(host)).toThrow(message);
    expect(host.getLocalPort()).toBe(port);
    // And without a host: the type check still comes first.
    expect(() => call(new ENetConnection())).toThrow(TypeError);
  });
});
