/**
 * Self-test of the interop harness: two real upstream ENet peers
 * (test/peers/enet_peer.py over python3-enet / libenet 1.3.17) talking to
 * each other, driven through test/helpers/py-peer.ts.  Does not need our
 * addon; if this file fails, interop failures elsewhere mean nothing.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'crypto';
import {
  ENET_FLAG,
  PyDisconnectEvent,
  PyEvent,
  PyPeer,
  PyReceiveEvent,
  b64,
  eventBytes,
  patternBytes,
  sha256hex,
} from './helpers/py-peer';

const isReceive = (e: PyEvent): e is PyReceiveEvent => e.ev === 'receive';

describe('python3-enet reference peer harness', () => {
  let server: PyPeer;
  let client: PyPeer;
  let serverPort = 0;
  /** Key of the client's peer on the server side / of the server on the client side. */
  let onServer = -1;
  let onClient = -1;

  async function connect(data: number, channels: number): Promise<void> {
    const reply = await client.request({ op: 'connect', address: '127.0.0.1', port: serverPort, channels, data });
    onClient = reply.peer as number;
    const sc = await server.waitEvent((e) => e.ev === 'connect', 5000);
    const cc = await client.waitEvent((e) => e.ev === 'connect' && e.peer === onClient, 5000);
    if (sc.ev !== 'connect' || cc.ev !== 'connect') throw new Error('unreachable');
    onServer = sc.peer;
    expect(sc.data).toBe(data);
    expect(sc.channels).toBe(channels);
    expect(sc.address).toBe('127.0.0.1');
    expect(cc.port).toBe(serverPort);
  }

  /** Client sends `data`; with echo on at the server, it must come back unchanged. */
  async function roundTrip(channel: number, flags: number, data: Buffer, expectFlags: number): Promise<void> {
    await client.request({ op: 'send', peer: onClient, channel, flags, data: b64(data) });
    const atServer = await server.waitEvent((e) => isReceive(e) && e.channel === channel && e.sha256 === sha256hex(data), 5000);
    const back = await client.waitEvent((e) => isReceive(e) && e.channel === channel && e.sha256 === sha256hex(data), 5000);
    for (const e of [atServer, back]) {
      if (!isReceive(e)) throw new Error('unreachable');
      expect(e.len).toBe(data.length);
      expect(e.flags).toBe(expectFlags);
      expect(eventBytes(e).equals(data)).toBe(true);
    }
  }

  beforeAll(async () => {
    [server, client] = await Promise.all([PyPeer.start(), PyPeer.start()]);
    const host = await server.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 8, channels: 0, in: 0, out: 0 });
    serverPort = host.port as number;
    expect(serverPort).toBeGreaterThan(0);
    expect(host.enet_version).toBe('1.3.17');
    await client.request({ op: 'host', bind: null, port: 0, peers: 4 });
  });

  afterAll(async () => {
    await Promise.all([server?.close(), client?.close()]);
  });

  test('connect carries the 32-bit connect data', async () => {
    await connect(0xc0ffee, 8);
    const info = await client.request({ op: 'peer_info', peer: onClient });
    expect(info.state).toBe('connected');
    expect(info.channelCount).toBe(8);
    expect(info.mtu).toBe(1400);
    expect(info.port).toBe(serverPort);
  });

  test('bad commands are rejected with the error text', async () => {
    await expect(server.request({ op: 'no_such_op' })).rejects.toThrow(/unknown op/);
    await expect(server.request({ op: 'send', peer: 99, channel: 0, flags: 0, data: '' })).rejects.toThrow(/no peer 99/);
    await expect(client.request({ op: 'host', bind: null, port: 0 })).rejects.toThrow(/host already created/);
    const fresh = await PyPeer.start();
    try {
      await expect(fresh.request({ op: 'send', peer: 0, data: '' })).rejects.toThrow(/no host yet/);
      await expect(fresh.request({ op: 'host', bind: '::1', port: 0 })).rejects.toThrow(/IPv4-only/);
    } finally {
      await fresh.close();
    }
  });

  test('echo returns packets byte-exact on the same channel with the same reliability', async () => {
    await server.request({ op: 'echo', on: true });
    for (let channel = 0; channel < 8; channel += 3) {
      await roundTrip(channel, ENET_FLAG.RELIABLE, randomBytes(100 + channel), ENET_FLAG.RELIABLE);
      await roundTrip(channel, 0, randomBytes(200 + channel), 0);
      await roundTrip(channel, ENET_FLAG.UNSEQUENCED, randomBytes(300 + channel), ENET_FLAG.UNSEQUENCED);
    }
    // Larger than the MTU: fragmented reliably, and unreliably when asked to.
    await roundTrip(1, ENET_FLAG.RELIABLE, randomBytes(5000), ENET_FLAG.RELIABLE);
    await roundTrip(2, ENET_FLAG.UNRELIABLE_FRAGMENT, randomBytes(4000), ENET_FLAG.UNRELIABLE_FRAGMENT);
    // Zero-length reliable packet.
    await roundTrip(3, ENET_FLAG.RELIABLE, Buffer.alloc(0), ENET_FLAG.RELIABLE);
  });

  test('a 1 MiB reliable packet arrives intact (checked by sha256), both ways', async () => {
    const size = 1 << 20;
    const expected = sha256hex(patternBytes(size, 2));
    const reply = await client.request({ op: 'send', peer: onClient, channel: 2, flags: ENET_FLAG.RELIABLE, size });
    expect(reply.sha256).toBe(expected);
    const atServer = await server.waitEvent((e) => isReceive(e) && e.len === size, 15000);
    const back = await client.waitEvent((e) => isReceive(e) && e.len === size, 15000);
    for (const e of [atServer, back]) {
      if (!isReceive(e)) throw new Error('unreachable');
      expect(e.channel).toBe(2);
      expect(e.flags).toBe(ENET_FLAG.RELIABLE);
      expect(e.sha256).toBe(expected);
      expect(e.data).toBeUndefined();
    }
  }, 30000);

  test('repeat sends n copies in order', async () => {
    await server.request({ op: 'echo', on: false });
    await client.request({ op: 'send', peer: onClient, channel: 4, flags: ENET_FLAG.RELIABLE, size: 1000, repeat: 50 });
    const want = sha256hex(patternBytes(1000, 4));
    for (let i = 0; i < 50; i++) {
      const e = await server.waitEvent((x) => isReceive(x) && x.channel === 4, 5000);
      if (!isReceive(e)) throw new Error('unreachable');
      expect(e.sha256).toBe(want);
    }
    await server.request({ op: 'echo', on: true });
  });

  test('broadcast reaches the connected client', async () => {
    const data = Buffer.from('to everyone');
    await server.request({ op: 'broadcast', channel: 5, flags: ENET_FLAG.RELIABLE, data: b64(data) });
    const e = await client.waitEvent((x) => isReceive(x) && x.channel === 5, 5000);
    if (!isReceive(e)) throw new Error('unreachable');
    expect(eventBytes(e).toString()).toBe('to everyone');
  });

  test('range coder on both sides: traffic still flows and is actually compressed', async () => {
    await server.request({ op: 'compress', mode: 'range' });
    await client.request({ op: 'compress', mode: 'range' });
    const before = await client.request({ op: 'stats' });
    // Highly compressible and below the MTU so it goes out in one datagram.
    const data = Buffer.alloc(1200, 0x41);
    await roundTrip(6, ENET_FLAG.RELIABLE, data, ENET_FLAG.RELIABLE);
    const after = await client.request({ op: 'stats' });
    const sentBytes = (after.totalSentData as number) - (before.totalSentData as number);
    expect(sentBytes).toBeGreaterThan(0);
    expect(sentBytes).toBeLessThan(600);
    // Fragmented packets are compressed per datagram too.
    await roundTrip(6, ENET_FLAG.RELIABLE, patternBytes(20000, 6), ENET_FLAG.RELIABLE);
    await server.request({ op: 'compress', mode: 'none' });
    await client.request({ op: 'compress', mode: 'none' });
    await roundTrip(6, ENET_FLAG.RELIABLE, randomBytes(64), ENET_FLAG.RELIABLE);
  });

  test('ping, stats and raw datagrams', async () => {
    await client.request({ op: 'ping', peer: onClient });
    await client.request({ op: 'flush' });
    const s0 = await server.request({ op: 'stats' });
    const raw = await client.request({ op: 'raw', address: '127.0.0.1', port: serverPort, data: b64('not enet') });
    expect(raw.via).toBe('host_socket');
    await server.request({ op: 'capture', on: true });
    const raw2 = await client.request({ op: 'raw', address: '127.0.0.1', port: serverPort, data: b64('still not enet') });
    expect(raw2.sent).toBe(14);
    const dg = await server.waitEvent((e) => e.ev === 'datagram' && e.len === 14, 5000);
    if (dg.ev !== 'datagram') throw new Error('unreachable');
    expect(Buffer.from(dg.data, 'base64').toString()).toBe('still not enet');
    await server.request({ op: 'capture', on: false });
    const s1 = await server.request({ op: 'stats' });
    expect(s1.datagramsIn).toBeGreaterThanOrEqual((s0.datagramsIn as number) + 2);
    const info = await client.request({ op: 'peer_info', peer: onClient });
    expect(info.state).toBe('connected');
    expect(info.roundTripTime).toBeLessThan(100);
  });

  test('disconnect data 777 is seen by the other side', async () => {
    await client.request({ op: 'disconnect', peer: onClient, data: 777, mode: 'normal' });
    const e = (await server.waitEvent((x) => x.ev === 'disconnect' && x.peer === onServer, 5000)) as PyDisconnectEvent;
    expect(e.data).toBe(777);
    await client.waitEvent((x) => x.ev === 'disconnect' && x.peer === onClient, 5000);
    const info = await server.request({ op: 'peer_info', peer: onServer });
    expect(info.state).toBe('disconnected');
  });

  test('disconnect_later delivers queued packets before the disconnect', async () => {
    await connect(42, 2);
    await client.request({ op: 'send', peer: onClient, channel: 1, flags: ENET_FLAG.RELIABLE, size: 3000 });
    await client.request({ op: 'disconnect', peer: onClient, data: 5, mode: 'later' });
    const got = await server.waitEvent((x) => isReceive(x) && x.len === 3000, 5000);
    if (!isReceive(got)) throw new Error('unreachable');
    expect(got.sha256).toBe(sha256hex(patternBytes(3000, 1)));
    const e = (await server.waitEvent((x) => x.ev === 'disconnect', 5000)) as PyDisconnectEvent;
    expect(e.data).toBe(5);
    await client.waitEvent((x) => x.ev === 'disconnect', 5000);
  });

  test('a frozen peer is timed out by upstream ENet', async () => {
    await connect(1, 1);
    await server.request({ op: 'freeze' });
    const t0 = Date.now();
    const e = await client.waitEvent((x) => x.ev === 'disconnect' && x.peer === onClient, 38000);
    const seconds = (Date.now() - t0) / 1000;
    console.log(`upstream ENet (libenet 1.3.17) timed out a silent peer after ${seconds.toFixed(2)} s`);
    expect(e.ev).toBe('disconnect');
    expect(seconds).toBeGreaterThanOrEqual(4);
    expect(seconds).toBeLessThanOrEqual(32);
    await server.request({ op: 'thaw' });
  }, 40000);
});
