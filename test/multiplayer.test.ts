/**
 * ENetMultiplayerPeer / MultiplayerPeer against itself on real UDP loopback (IPv4 and IPv6 ::1):
 * every method, property, event and error return of spec godot4-enet.md §1.2, §1.3 and §2, with
 * gotchas G1-G10, G14, G17 and G18. Interop with a real upstream ENet peer playing Godot 4 is in
 * interop-godot.test.ts; here a PyPeer only reads what our server advertises (G6).
 *
 * Everything waits by polling (poll() on every live peer about every millisecond) until a condition
 * holds, with a deadline; "nothing else arrived" is shown by a marker packet sent afterwards on the
 * same reliable channel, so ordering proves the absence.
 *
 * Unreliable packets: ENet's sender-side packet throttle deliberately drops unreliable packets when
 * the measured RTT jumps, which the irregular event loop of a test runner can cause even on
 * loopback. Connections made here therefore get throttleConfigure(5000, 2, 0) on both ends (the
 * ENet defaults except deceleration 0, so the throttle never closes): every unreliable packet is
 * then sent, and on loopback delivered, so single sends can be checked exactly.
 */
import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { randomBytes } from 'crypto';
import {
  ConnectionStatus,
  ENetConnection,
  ENetMultiplayerPeer,
  ENetMultiplayerPeerOptions,
  ENetPacketPeer,
  EventType,
  GodotError,
  HostStatistic,
  MultiplayerPacket,
  MultiplayerPeer,
  PeerState,
  TARGET_PEER_BROADCAST,
  TARGET_PEER_SERVER,
  TransferMode,
  setErrorReporter,
} from '../src';
import { PyPeer, pumpUntil } from './helpers/py-peer';

const { CONNECTION_DISCONNECTED, CONNECTION_CONNECTING, CONNECTION_CONNECTED } = ConnectionStatus;
const { TRANSFER_MODE_UNRELIABLE, TRANSFER_MODE_UNRELIABLE_ORDERED, TRANSFER_MODE_RELIABLE } = TransferMode;
const MODES = [TRANSFER_MODE_UNRELIABLE, TRANSFER_MODE_UNRELIABLE_ORDERED, TRANSFER_MODE_RELIABLE];
const MAX_ID = 0x7fffffff;
const DEADLINE = 5000;

// ------------------------------------------------------------------------------------------------
// Bookkeeping: error reports, live peers and hosts (closed after each test), recorded signals.

let errors: string[] = [];
const live: ENetMultiplayerPeer[] = [];
const conns: ENetConnection[] = [];

interface Signals {
  connected: number[];
  disconnected: number[];
  /** Both, in order: "+id" / "-id". */
  log: string[];
}
const recorded = new WeakMap<ENetMultiplayerPeer, Signals>();

beforeEach(() => {
  errors = [];
  setErrorReporter((message) => errors.push(message));
});

afterEach(() => {
  for (const p of live.splice(0)) {
    p.removeAllListeners();
    p.close();
  }
  for (const c of conns.splice(0)) if (c.getCounters() !== null) c.destroy();
  setErrorReporter(() => undefined);
});

function newPeer(options?: ENetMultiplayerPeerOptions): ENetMultiplayerPeer {
  const p = new ENetMultiplayerPeer(options);
  const s: Signals = { connected: [], disconnected: [], log: [] };
  p.on('peer_connected', (id) => {
    s.connected.push(id);
    s.log.push(`+${id}`);
  });
  p.on('peer_disconnected', (id) => {
    s.disconnected.push(id);
    s.log.push(`-${id}`);
  });
  recorded.set(p, s);
  live.push(p);
  return p;
}

function sig(p: ENetMultiplayerPeer): Signals {
  const s = recorded.get(p);
  if (s === undefined) throw new Error('peer not made by newPeer');
  return s;
}

function newConn(): ENetConnection {
  const c = new ENetConnection();
  conns.push(c);
  return c;
}

function isActive(p: ENetMultiplayerPeer): boolean {
  return p.getConnectionStatus() !== CONNECTION_DISCONNECTED;
}

/** poll() on every active peer (and service() on the given raw connections). */
function pollAll(peers: ENetMultiplayerPeer[], raw: ENetConnection[] = []): () => void {
  return () => {
    for (const p of peers) if (isActive(p)) p.poll();
    for (const c of raw) if (c.getCounters() !== null) drain(c);
  };
}

/** service() a raw connection until it has no event; returns the events. */
function drain(c: ENetConnection): EventType[] {
  const seen: EventType[] = [];
  for (let e = c.service(0); e[0] !== EventType.EVENT_NONE; e = c.service(0)) {
    seen.push(e[0]);
    if (e[0] === EventType.EVENT_ERROR) break;
  }
  return seen;
}

function until(cond: () => boolean, peers: ENetMultiplayerPeer[], what: string, ms = DEADLINE, raw: ENetConnection[] = []): Promise<void> {
  return pumpUntil(cond, pollAll(peers, raw), ms, what);
}

/** Keeps polling for `ms` (only where the spec's point is that something does NOT happen). */
async function pollFor(ms: number, peers: ENetMultiplayerPeer[], raw: ENetConnection[] = []): Promise<void> {
  const end = Date.now() + ms;
  await pumpUntil(() => Date.now() >= end, pollAll(peers, raw), ms + 1000, `${ms} ms`);
}

/** `promise`, or a rejection naming `what` after `ms`. */
async function within<T>(promise: Promise<T>, what: string, ms = DEADLINE): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A port nobody listens on right now. */
function freePort(): number {
  const c = new ENetConnection();
  expect(c.createHostBound('*', 0, 1)).toBe(GodotError.OK);
  const port = c.getLocalPort();
  c.destroy();
  return port;
}

function startServer(maxClients = 32, maxChannels = 0, options?: ENetMultiplayerPeerOptions): { server: ENetMultiplayerPeer; port: number } {
  const server = newPeer(options);
  expect(server.createServer(0, maxClients, maxChannels)).toBe(GodotError.OK);
  const port = server.host!.getLocalPort();
  expect(port).toBeGreaterThan(0);
  return { server, port };
}

/** Keeps ENet's packet throttle from dropping unreliable packets on this connection (both ends). */
function steadyThrottle(peer: ENetPacketPeer): void {
  peer.throttleConfigure(5000, 2, 0);
}

/** A client of `server`, connected and admitted (both sides have emitted peer_connected). */
async function connectClient(server: ENetMultiplayerPeer, port: number, address = '127.0.0.1', channelCount = 0,
  others: ENetMultiplayerPeer[] = []): Promise<ENetMultiplayerPeer> {
  const client = newPeer();
  expect(client.createClient(address, port, channelCount)).toBe(GodotError.OK);
  await until(
    () => client.getConnectionStatus() === CONNECTION_CONNECTED && sig(server).connected.includes(client.getUniqueId()),
    [server, client, ...others],
    `client via ${address} admitted`,
  );
  steadyThrottle(client.getPeer(1)!);
  steadyThrottle(server.getPeer(client.getUniqueId())!);
  return client;
}

interface Got {
  from: number;
  channel: number;
  mode: TransferMode;
  data: Buffer;
}

/** Reads the front packet with all its accessors. */
function take(p: ENetMultiplayerPeer): Got {
  const got: Got = { from: p.getPacketPeer(), channel: p.getPacketChannel(), mode: p.getPacketMode(), data: Buffer.alloc(0) };
  got.data = p.getPacket();
  expect(p.getPacketError()).toBe(GodotError.OK);
  return got;
}

async function receive(p: ENetMultiplayerPeer, peers: ENetMultiplayerPeer[], what = 'a packet'): Promise<Got> {
  await until(() => p.getAvailablePacketCount() > 0, peers, what);
  return take(p);
}

function put(p: ENetMultiplayerPeer, data: Uint8Array, mode: TransferMode = TRANSFER_MODE_RELIABLE, channel = 0, target?: number): GodotError {
  p.transferMode = mode;
  p.transferChannel = channel;
  if (target !== undefined) p.setTargetPeer(target);
  return p.putPacket(data);
}

// ================================================================================================

describe('constants, defaults and the inactive peer', () => {
  test('enums and constants have Godot\'s values', () => {
    expect([TRANSFER_MODE_UNRELIABLE, TRANSFER_MODE_UNRELIABLE_ORDERED, TRANSFER_MODE_RELIABLE]).toEqual([0, 1, 2]);
    expect([CONNECTION_DISCONNECTED, CONNECTION_CONNECTING, CONNECTION_CONNECTED]).toEqual([0, 1, 2]);
    expect([TARGET_PEER_BROADCAST, TARGET_PEER_SERVER]).toEqual([0, 1]);
    expect(MultiplayerPeer.TRANSFER_MODE_RELIABLE).toBe(2);
    expect(ENetMultiplayerPeer.TRANSFER_MODE_UNRELIABLE_ORDERED).toBe(1);
    expect(ENetMultiplayerPeer.CONNECTION_CONNECTING).toBe(1);
    expect(ENetMultiplayerPeer.TARGET_PEER_SERVER).toBe(1);
    expect(ENetMultiplayerPeer.TARGET_PEER_BROADCAST).toBe(0);
  });

  test('a new peer: disconnected, defaults of the stored properties, no host', () => {
    const p = newPeer();
    expect(p).toBeInstanceOf(MultiplayerPeer);
    expect(p.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(p.transferMode).toBe(TRANSFER_MODE_RELIABLE);
    expect(p.getTransferMode()).toBe(TRANSFER_MODE_RELIABLE);
    expect(p.transferChannel).toBe(0);
    expect(p.getTransferChannel()).toBe(0);
    expect(p.refuseNewConnections).toBe(false);
    expect(p.isRefusingNewConnections()).toBe(false);
    expect(p.isServer()).toBe(false);
    expect(p.isServerRelaySupported()).toBe(false);
    expect(p.host).toBeNull();
    expect(p.getHost()).toBeNull();
    expect(p.getAvailablePacketCount()).toBe(0);
    expect(p.getMaxPacketSize()).toBe(16777216);
    expect(errors).toEqual([]);
  });

  test('getUniqueId is 0 (with an error) when inactive', () => {
    const p = newPeer();
    expect(p.getUniqueId()).toBe(0);
    expect(errors.length).toBe(1);
  });

  test('getPeer is null (with an error) when inactive', () => {
    const p = newPeer();
    expect(p.getPeer(1)).toBeNull();
    expect(p.getPeer(2)).toBeNull();
    expect(errors.length).toBe(2);
  });

  test('poll() when inactive reports an error and does nothing', () => {
    const p = newPeer();
    p.poll();
    expect(errors.length).toBe(1);
    expect(sig(p).log).toEqual([]);
    expect(p.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
  });

  test('G14: accessor defaults when inactive', () => {
    const p = newPeer();
    expect(p.getPacketPeer()).toBe(1);
    expect(p.getPacketChannel()).toBe(1);
    expect(p.getPacketMode()).toBe(TRANSFER_MODE_RELIABLE);
    expect(errors.length).toBe(3);
    const data = p.getPacket();
    expect(data.length).toBe(0);
    expect(p.getPacketError()).toBe(GodotError.ERR_UNAVAILABLE);
    expect(p.getVar()).toBeNull();
    expect(p.getPacketError()).toBe(GodotError.ERR_UNAVAILABLE);
  });

  test('putPacket when inactive: ERR_UNCONFIGURED; an empty one is still OK (G18)', () => {
    const p = newPeer();
    expect(p.putPacket(Buffer.from('x'))).toBe(GodotError.ERR_UNCONFIGURED);
    expect(p.putPacket(Buffer.alloc(0))).toBe(GodotError.OK);
    expect(p.putVar(7)).toBe(GodotError.ERR_UNCONFIGURED);
  });

  test('disconnectPeer and close when inactive do nothing', () => {
    const p = newPeer();
    const closed = jest.fn();
    p.on('closed', closed);
    p.disconnectPeer(1);
    expect(errors.length).toBe(1);
    p.close();
    p.close();
    expect(closed).not.toHaveBeenCalled();
    expect(sig(p).log).toEqual([]);
    expect(p.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
  });

  test('generateUniqueId: integers in [2, 2^31 - 1], not constant, active or not', () => {
    const p = newPeer();
    const ids = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const id = p.generateUniqueId();
      expect(Number.isInteger(id)).toBe(true);
      expect(id).toBeGreaterThanOrEqual(2);
      expect(id).toBeLessThanOrEqual(MAX_ID);
      ids.add(id);
    }
    expect(ids.size).toBeGreaterThan(1900);
    expect(p.createMesh(9)).toBe(GodotError.OK);
    const id = p.generateUniqueId();
    expect(id).toBeGreaterThanOrEqual(2);
    expect(id).toBeLessThanOrEqual(MAX_ID);
    expect(p.getUniqueId()).toBe(9);
  });

  test('wrong argument types throw TypeError', () => {
    const p = newPeer();
    const conn = newConn();
    const bad = p as any;
    expect(() => bad.createServer('1234')).toThrow(TypeError);
    expect(() => bad.createServer(0, '32')).toThrow(TypeError);
    expect(() => bad.createServer(0, 32, 1.5)).toThrow(TypeError);
    expect(() => bad.createClient(127001, 1234)).toThrow(TypeError);
    expect(() => bad.createClient('127.0.0.1', '1234')).toThrow(TypeError);
    expect(() => bad.createClient('127.0.0.1', 1234, 0, 0, 0, null)).toThrow(TypeError);
    expect(() => bad.createMesh('2')).toThrow(TypeError);
    expect(() => bad.addMeshPeer('2', conn)).toThrow(TypeError);
    expect(() => bad.addMeshPeer(2, {})).toThrow(TypeError);
    expect(() => bad.setBindIp(127)).toThrow(TypeError);
    expect(() => bad.getPeer('1')).toThrow(TypeError);
    expect(() => bad.setTargetPeer(1.5)).toThrow(TypeError);
    expect(() => bad.setTargetPeer('0')).toThrow(TypeError);
    expect(() => bad.disconnectPeer('1')).toThrow(TypeError);
    expect(() => bad.disconnectPeer(1, 'yes')).toThrow(TypeError);
    expect(() => bad.putPacket('bytes')).toThrow(TypeError);
    expect(() => bad.putPacket([1, 2, 3])).toThrow(TypeError);
    expect(() => bad.setRefuseNewConnections(1)).toThrow(TypeError);
    expect(() => {
      bad.refuseNewConnections = 'yes';
    }).toThrow(TypeError);
    expect(() => {
      bad.transferMode = 'reliable';
    }).toThrow(TypeError);
    expect(() => {
      bad.transferChannel = 1.5;
    }).toThrow(TypeError);
    expect(() => bad.getVar('no')).toThrow(TypeError);
    expect(() => new ENetMultiplayerPeer({ autoPoll: 'often' as any })).toThrow(TypeError);
    // Nothing was changed by the failed calls.
    expect(p.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(p.transferMode).toBe(TRANSFER_MODE_RELIABLE);
    expect(p.transferChannel).toBe(0);
  });
});

// ================================================================================================

describe('createServer', () => {
  test('OK: status CONNECTED at once, id 1, isServer, host, relay supported, no signals', () => {
    const p = newPeer();
    expect(p.createServer(0)).toBe(GodotError.OK);
    expect(p.getConnectionStatus()).toBe(CONNECTION_CONNECTED);
    expect(p.getUniqueId()).toBe(1);
    expect(p.isServer()).toBe(true);
    expect(p.isServerRelaySupported()).toBe(true);
    expect(p.host).toBeInstanceOf(ENetConnection);
    expect(p.getHost()).toBe(p.host);
    expect(p.host!.getLocalPort()).toBeGreaterThan(0);
    // The server is not in its own peer map.
    expect(p.getPeer(1)).toBeNull();
    expect(sig(p).log).toEqual([]);
  });

  test('ERR_ALREADY_IN_USE when active in any mode, and the active peer is untouched', async () => {
    const { server, port } = startServer();
    expect(server.createServer(0)).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(server.createClient('127.0.0.1', port)).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(server.createMesh(5)).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(server.getUniqueId()).toBe(1);
    expect(server.isServer()).toBe(true);

    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    expect(client.createServer(0)).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(client.createClient('127.0.0.1', port)).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(client.getUniqueId()).toBe(id);
    expect(client.isServer()).toBe(false);

    const mesh = newPeer();
    expect(mesh.createMesh(3)).toBe(GodotError.OK);
    expect(mesh.createServer(0)).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(mesh.createClient('127.0.0.1', port)).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(mesh.getUniqueId()).toBe(3);
    expect(mesh.host).toBeNull();
  });

  test('ERR_CANT_CREATE for a port in use; the peer stays inactive', () => {
    const { port } = startServer();
    const other = newPeer();
    expect(other.createServer(port)).toBe(GodotError.ERR_CANT_CREATE);
    expect(other.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(other.host).toBeNull();
    expect(other.isServer()).toBe(false);
    other.setBindIp('127.0.0.1');
    expect(other.createServer(port)).toBe(GodotError.ERR_CANT_CREATE);
    expect(other.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
  });

  test('invalid values: ERR_INVALID_PARAMETER and still inactive', () => {
    const p = newPeer();
    const cases: [number, number, number, number, number][] = [
      [-1, 32, 0, 0, 0],
      [65536, 32, 0, 0, 0],
      [0, 0, 0, 0, 0],
      [0, 4096, 0, 0, 0],
      [0, -3, 0, 0, 0],
      [0, 32, 0, 0, -1],
    ];
    for (const args of cases) {
      expect([args, p.createServer(...args)]).toEqual([args, GodotError.ERR_INVALID_PARAMETER]);
      expect(p.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
      expect(p.host).toBeNull();
    }
    // The limits themselves are valid.
    expect(p.createServer(0, 4095)).toBe(GodotError.OK);
    p.close();
    expect(p.createServer(0, 1)).toBe(GodotError.OK);
  });

  test('with the Godot bug (default) in_bandwidth is ignored; without it, it is checked', () => {
    const buggy = newPeer();
    expect(buggy.createServer(0, 32, 0, -1, 0)).toBe(GodotError.OK);
    // max_channels goes into the bandwidth slot: any positive value is accepted.
    const buggy2 = newPeer();
    expect(buggy2.createServer(0, 32, 1000)).toBe(GodotError.OK);
    expect(buggy2.host!.getMaxChannels()).toBe(255);

    const fixed = newPeer({ godotCreateServerBug: false });
    expect(fixed.createServer(0, 32, 0, -1, 0)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(fixed.createServer(0, 32, 254)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(fixed.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(fixed.createServer(0, 32, 253)).toBe(GodotError.OK);
    expect(fixed.host!.getMaxChannels()).toBe(255);
    fixed.close();
    expect(fixed.createServer(0, 32, 4)).toBe(GodotError.OK);
    expect(fixed.host!.getMaxChannels()).toBe(6);
  });

  test('createServer and createClient reset refuse_new_connections; createMesh does not', () => {
    const a = newPeer();
    a.refuseNewConnections = true;
    expect(a.isRefusingNewConnections()).toBe(true);
    expect(a.createServer(0)).toBe(GodotError.OK);
    expect(a.isRefusingNewConnections()).toBe(false);
    const port = a.host!.getLocalPort();

    const b = newPeer();
    b.setRefuseNewConnections(true);
    expect(b.createClient('127.0.0.1', port)).toBe(GodotError.OK);
    expect(b.refuseNewConnections).toBe(false);

    const m = newPeer();
    m.setRefuseNewConnections(true);
    expect(m.createMesh(4)).toBe(GodotError.OK);
    expect(m.isRefusingNewConnections()).toBe(true);
  });
});

// ================================================================================================

describe('setBindIp', () => {
  /** A client that tries `address`:`port` and gives up after well under a second. */
  function shortLivedClient(address: string, port: number): ENetMultiplayerPeer {
    const c = newPeer();
    expect(c.createClient(address, port)).toBe(GodotError.OK);
    c.getPeer(1)!.setTimeout(1, 100, 400);
    return c;
  }

  test('an IPv6 literal: reachable there and not over IPv4', async () => {
    const server = newPeer();
    server.setBindIp('::1');
    expect(errors).toEqual([]);
    expect(server.createServer(0)).toBe(GodotError.OK);
    const port = server.host!.getLocalPort();
    const v6 = await connectClient(server, port, '::1');
    expect(server.getPeer(v6.getUniqueId())!.getRemoteAddress()).toBe('::1');

    const v4 = shortLivedClient('127.0.0.1', port);
    await until(() => !isActive(v4), [server, v4, v6], 'the IPv4 client to give up');
    expect(sig(v4).log).toEqual([]);
    expect(sig(server).connected).toEqual([v6.getUniqueId()]);
  });

  test('an invalid address is reported and ignored (the previous one stays)', async () => {
    const server = newPeer();
    server.setBindIp('127.0.0.1');
    for (const bad of ['not-an-ip', '1.2.3', '', '::1::2', '127.0.0.1:80']) {
      server.setBindIp(bad);
    }
    expect(errors.length).toBe(5);
    expect(server.createServer(0)).toBe(GodotError.OK);
    const port = server.host!.getLocalPort();
    const v4 = await connectClient(server, port, '127.0.0.1');
    expect(server.getPeer(v4.getUniqueId())!.getRemoteAddress()).toBe('127.0.0.1');

    const v6 = shortLivedClient('::1', port);
    await until(() => !isActive(v6), [server, v4, v6], 'the IPv6 client to give up');
    expect(sig(v6).log).toEqual([]);
    expect(sig(server).connected).toEqual([v4.getUniqueId()]);
  });

  test('"*" is the default and restores the dual-stack wildcard', async () => {
    const server = newPeer();
    server.setBindIp('127.0.0.1');
    server.setBindIp('*');
    expect(errors).toEqual([]);
    expect(server.createServer(0)).toBe(GodotError.OK);
    const port = server.host!.getLocalPort();
    const a = await connectClient(server, port, '::1');
    const b = await connectClient(server, port, '127.0.0.1', 0, [a]);
    expect(server.getPeer(a.getUniqueId())!.getRemoteAddress()).toBe('::1');
    expect(server.getPeer(b.getUniqueId())!.getRemoteAddress()).toBe('127.0.0.1');
  });

  test('createClient with a local port binds it on the bind address', async () => {
    const { server, port } = startServer();
    const localPort = freePort();
    const client = newPeer();
    client.setBindIp('127.0.0.1');
    expect(client.createClient('127.0.0.1', port, 0, 0, 0, localPort)).toBe(GodotError.OK);
    expect(client.host!.getLocalPort()).toBe(localPort);
    await until(() => sig(server).connected.length === 1, [server, client], 'admission');
    const onServer = server.getPeer(client.getUniqueId())!;
    expect(onServer.getRemotePort()).toBe(localPort);
    expect(onServer.getRemoteAddress()).toBe('127.0.0.1');
  });
});

// ================================================================================================

describe.each([
  ['localhost', 'localhost'],
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
])('createClient over %s', (_name, address) => {
  test('CONNECTING until the first polls, then CONNECTED + peer_connected(1); the server admits the id', async () => {
    const { server, port } = startServer();
    const client = newPeer();
    let statusInSignal = -1;
    client.on('peer_connected', () => {
      statusInSignal = client.getConnectionStatus();
    });
    expect(client.createClient(address, port)).toBe(GodotError.OK);
    expect(client.getConnectionStatus()).toBe(CONNECTION_CONNECTING);
    const id = client.getUniqueId();
    expect(Number.isInteger(id)).toBe(true);
    expect(id).toBeGreaterThanOrEqual(2);
    expect(id).toBeLessThanOrEqual(MAX_ID);
    expect(client.isServer()).toBe(false);
    expect(client.isServerRelaySupported()).toBe(true);
    expect(client.host).toBeInstanceOf(ENetConnection);
    const serverPeer = client.getPeer(1);
    expect(serverPeer).toBeInstanceOf(ENetPacketPeer);
    // Not connected yet: nothing may be sent.
    expect(client.putPacket(Buffer.from('early'))).toBe(GodotError.ERR_UNCONFIGURED);
    expect(sig(client).log).toEqual([]);
    // Without polls the client cannot get anywhere.
    await sleep(50);
    expect(client.getConnectionStatus()).toBe(CONNECTION_CONNECTING);

    await until(() => client.getConnectionStatus() === CONNECTION_CONNECTED, [server, client], 'client CONNECTED');
    expect(sig(client).log).toEqual(['+1']);
    expect(statusInSignal).toBe(CONNECTION_CONNECTED);
    await until(() => sig(server).connected.length > 0, [server, client], 'server peer_connected');
    expect(sig(server).log).toEqual([`+${id}`]);
    expect(client.getUniqueId()).toBe(id);
    expect(client.getPeer(1)).toBe(serverPeer);
    expect(serverPeer!.getRemotePort()).toBe(port);
    expect(serverPeer!.getState()).toBe(PeerState.STATE_CONNECTED);
    // The default channel request is 255.
    expect(serverPeer!.getChannels()).toBe(255);
    const onServer = server.getPeer(id)!;
    expect(onServer).toBeInstanceOf(ENetPacketPeer);
    expect(onServer.getChannels()).toBe(255);
    expect(onServer.getRemotePort()).toBe(client.host!.getLocalPort());
    // Polling on does not repeat the signals.
    await pollFor(100, [server, client]);
    expect(sig(client).log).toEqual(['+1']);
    expect(sig(server).log).toEqual([`+${id}`]);
  });

  test('channelCount n requests n + 2 channels', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port, address, 4);
    expect(client.getPeer(1)!.getChannels()).toBe(6);
    expect(server.getPeer(client.getUniqueId())!.getChannels()).toBe(6);
  });
});

describe('createClient failures', () => {
  test('a full server (maxClients reached) never answers: the attempt fails with no signal', async () => {
    const { server, port } = startServer(1);
    const first = await connectClient(server, port);
    const second = newPeer();
    expect(second.createClient('127.0.0.1', port)).toBe(GodotError.OK);
    second.getPeer(1)!.setTimeout(1, 100, 400);
    await until(() => !isActive(second), [server, first, second], 'the second client to give up');
    expect(sig(second).log).toEqual([]);
    expect(sig(server).log).toEqual([`+${first.getUniqueId()}`]);
    expect(first.getConnectionStatus()).toBe(CONNECTION_CONNECTED);
  });

  test('an unresolvable host, port 0 or > 65535: ERR_CANT_CREATE and inactive', () => {
    const p = newPeer();
    for (const [address, port] of [['no-such-host.invalid', 1234], ['127.0.0.1', 0], ['127.0.0.1', 65536], ['::1', -1]] as [string, number][]) {
      expect([address, port, p.createClient(address, port)]).toEqual([address, port, GodotError.ERR_CANT_CREATE]);
      expect(p.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
      expect(p.host).toBeNull();
      expect(p.getUniqueId()).toBe(0);
    }
  });

  test('bad host parameters: ERR_INVALID_PARAMETER; a local port in use: ERR_CANT_CREATE', () => {
    const { port } = startServer();
    const p = newPeer();
    expect(p.createClient('127.0.0.1', port, 0, -1)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(p.createClient('127.0.0.1', port, 0, 0, -1)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(p.createClient('127.0.0.1', port, 0, 0, 0, -1)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(p.createClient('127.0.0.1', port, 0, 0, 0, 65536)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(p.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(p.createClient('127.0.0.1', port, 0, 0, 0, port)).toBe(GodotError.ERR_CANT_CREATE);
    expect(p.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    // And after all that it can still connect.
    expect(p.createClient('127.0.0.1', port)).toBe(GodotError.OK);
    expect(p.getConnectionStatus()).toBe(CONNECTION_CONNECTING);
  });

  test('a connection attempt nobody answers times out: DISCONNECTED, no signal', async () => {
    const client = newPeer();
    expect(client.createClient('127.0.0.1', freePort())).toBe(GodotError.OK);
    client.getPeer(1)!.setTimeout(1, 100, 400);
    await until(() => !isActive(client), [client], 'the attempt to time out');
    expect(sig(client).log).toEqual([]);
    expect(client.getUniqueId()).toBe(0);
    expect(client.host).toBeNull();
    expect(client.getPeer(1)).toBeNull();
  });
});

// ================================================================================================

/** Two raw connections with one CONNECTED peer each: `a` accepted (bound, `slots` peers), `b` connected to it. */
async function meshLink(slots = 1, mesh: ENetMultiplayerPeer[] = []): Promise<{ a: ENetConnection; b: ENetConnection }> {
  const a = newConn();
  const b = newConn();
  expect(a.createHostBound('127.0.0.1', 0, slots)).toBe(GodotError.OK);
  expect(b.createHost(1)).toBe(GodotError.OK);
  expect(b.connectToHost('127.0.0.1', a.getLocalPort())).not.toBeNull();
  let aUp = false;
  let bUp = false;
  await pumpUntil(
    () => aUp && bUp,
    () => {
      for (const [c, set] of [[a, () => (aUp = true)], [b, () => (bUp = true)]] as [ENetConnection, () => void][]) {
        for (let e = c.service(0); e[0] !== EventType.EVENT_NONE; e = c.service(0)) if (e[0] === EventType.EVENT_CONNECT) set();
      }
      for (const p of mesh) if (isActive(p)) p.poll();
    },
    DEADLINE,
    'the mesh link',
  );
  expect(a.getPeers().length).toBe(1);
  expect(a.getPeers()[0].getState()).toBe(PeerState.STATE_CONNECTED);
  steadyThrottle(a.getPeers()[0]);
  steadyThrottle(b.getPeers()[0]);
  return { a, b };
}

describe('createMesh and addMeshPeer', () => {
  test('createMesh: id <= 0 is ERR_INVALID_PARAMETER (checked before the active check); OK -> CONNECTED', () => {
    const p = newPeer();
    expect(p.createMesh(0)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(p.createMesh(-4)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(p.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(p.createMesh(5)).toBe(GodotError.OK);
    expect(p.getConnectionStatus()).toBe(CONNECTION_CONNECTED);
    expect(p.getUniqueId()).toBe(5);
    expect(p.isServer()).toBe(false);
    expect(p.isServerRelaySupported()).toBe(false);
    expect(p.host).toBeNull();
    expect(p.getHost()).toBeNull();
    expect(p.getPeer(5)).toBeNull();
    expect(p.getPeer(1)).toBeNull();
    expect(p.createMesh(0)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(p.createMesh(-1)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(p.createMesh(7)).toBe(GodotError.ERR_ALREADY_IN_USE);
    expect(p.getUniqueId()).toBe(5);
    // Any positive id is fine, 1 and ids above 2^31 - 1 included.
    const q = newPeer();
    expect(q.createMesh(1)).toBe(GodotError.OK);
    expect(q.getUniqueId()).toBe(1);
    expect(sig(p).log).toEqual([]);
  });

  test('addMeshPeer errors: null host, not mesh, wrong number or state of peers; no signal', async () => {
    const { a, b } = await meshLink();
    const inactive = newPeer();
    expect(inactive.addMeshPeer(2, null)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(inactive.addMeshPeer(2, a)).toBe(GodotError.ERR_UNCONFIGURED);
    const { server } = startServer();
    expect(server.addMeshPeer(2, null)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(server.addMeshPeer(2, a)).toBe(GodotError.ERR_UNCONFIGURED);

    const mesh = newPeer();
    expect(mesh.createMesh(1)).toBe(GodotError.OK);
    expect(mesh.addMeshPeer(2, null)).toBe(GodotError.ERR_INVALID_PARAMETER);
    // A connection without a host, or with no peer.
    expect(mesh.addMeshPeer(2, newConn())).toBe(GodotError.ERR_INVALID_PARAMETER);
    const empty = newConn();
    expect(empty.createHostBound('127.0.0.1', 0, 4)).toBe(GodotError.OK);
    expect(mesh.addMeshPeer(2, empty)).toBe(GodotError.ERR_INVALID_PARAMETER);
    // A peer that is still connecting.
    const connecting = newConn();
    expect(connecting.createHost(1)).toBe(GodotError.OK);
    expect(connecting.connectToHost('127.0.0.1', freePort())).not.toBeNull();
    expect(mesh.addMeshPeer(2, connecting)).toBe(GodotError.ERR_INVALID_PARAMETER);
    // Two connected peers.
    const two = newConn();
    expect(two.createHostBound('127.0.0.1', 0, 4)).toBe(GodotError.OK);
    const c1 = newConn();
    const c2 = newConn();
    for (const c of [c1, c2]) {
      expect(c.createHost(1)).toBe(GodotError.OK);
      expect(c.connectToHost('127.0.0.1', two.getLocalPort())).not.toBeNull();
    }
    await pumpUntil(
      () => two.getPeers().filter((p) => p.getState() === PeerState.STATE_CONNECTED).length === 2,
      () => [two, c1, c2].forEach(drain),
      DEADLINE,
      'two peers on one host',
    );
    expect(mesh.addMeshPeer(2, two)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(sig(mesh).log).toEqual([]);
    // And the valid one is accepted.
    expect(mesh.addMeshPeer(2, a)).toBe(GodotError.OK);
    expect(sig(mesh).log).toEqual(['+2']);
    expect(mesh.getPeer(2)).toBe(a.getPeers()[0]);
    expect(b.getPeers().length).toBe(1);
  });

  test('addMeshPeer emits peer_connected synchronously; packets flow both ways; disconnects are reported', async () => {
    const A = newPeer();
    const B = newPeer();
    expect(A.createMesh(10)).toBe(GodotError.OK);
    expect(B.createMesh(20)).toBe(GodotError.OK);
    const { a, b } = await meshLink();

    let inside = false;
    A.once('peer_connected', (id) => {
      inside = true;
      expect(id).toBe(20);
    });
    expect(A.addMeshPeer(20, a)).toBe(GodotError.OK);
    expect(inside).toBe(true);
    expect(sig(A).log).toEqual(['+20']);
    expect(B.addMeshPeer(10, b)).toBe(GodotError.OK);
    expect(sig(B).log).toEqual(['+10']);
    expect(A.getPeer(20)).toBe(a.getPeers()[0]);
    expect(B.getPeer(10)).toBe(b.getPeers()[0]);

    const ab = randomBytes(64);
    expect(put(A, ab, TRANSFER_MODE_RELIABLE, 0, 0)).toBe(GodotError.OK);
    expect(await receive(B, [A, B])).toEqual({ from: 10, channel: 0, mode: TRANSFER_MODE_RELIABLE, data: ab });
    const ba = randomBytes(70);
    expect(put(B, ba, TRANSFER_MODE_UNRELIABLE, 3, 10)).toBe(GodotError.OK);
    expect(await receive(A, [A, B])).toEqual({ from: 20, channel: 3, mode: TRANSFER_MODE_UNRELIABLE, data: ba });
    const ba2 = randomBytes(30);
    expect(put(B, ba2, TRANSFER_MODE_UNRELIABLE_ORDERED, 0, 0)).toBe(GodotError.OK);
    expect(await receive(A, [A, B])).toEqual({ from: 20, channel: 0, mode: TRANSFER_MODE_UNRELIABLE_ORDERED, data: ba2 });
    // An unknown target.
    expect(put(A, ab, TRANSFER_MODE_RELIABLE, 0, 30)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(put(A, ab, TRANSFER_MODE_RELIABLE, 0, -30)).toBe(GodotError.ERR_INVALID_PARAMETER);

    // B closes: A sees the mesh host's DISCONNECT and reports peer 20 gone; B itself emits nothing.
    B.close();
    expect(sig(B).log).toEqual(['+10']);
    await until(() => sig(A).disconnected.length > 0, [A], 'peer_disconnected(20) on A');
    expect(sig(A).log).toEqual(['+20', '-20']);
    expect(A.getPeer(20)).toBeNull();
    expect(A.getConnectionStatus()).toBe(CONNECTION_CONNECTED);
    expect(put(A, ab, TRANSFER_MODE_RELIABLE, 0, 20)).toBe(GodotError.ERR_INVALID_PARAMETER);
    await pollFor(100, [A]);
    expect(sig(A).log).toEqual(['+20', '-20']);
  });

  test('mesh targets with three members; disconnectPeer with and without force; reset', async () => {
    const A = newPeer();
    const B = newPeer();
    const C = newPeer();
    const D = newPeer();
    expect(A.createMesh(1)).toBe(GodotError.OK);
    expect(B.createMesh(2)).toBe(GodotError.OK);
    expect(C.createMesh(3)).toBe(GodotError.OK);
    expect(D.createMesh(4)).toBe(GodotError.OK);
    const ab = await meshLink(1, [A, B, C, D]);
    const ac = await meshLink(1, [A, B, C, D]);
    const ad = await meshLink(1, [A, B, C, D]);
    expect(A.addMeshPeer(2, ab.a)).toBe(GodotError.OK);
    expect(B.addMeshPeer(1, ab.b)).toBe(GodotError.OK);
    expect(A.addMeshPeer(3, ac.a)).toBe(GodotError.OK);
    expect(C.addMeshPeer(1, ac.b)).toBe(GodotError.OK);
    expect(A.addMeshPeer(4, ad.a)).toBe(GodotError.OK);
    expect(D.addMeshPeer(1, ad.b)).toBe(GodotError.OK);
    const all = [A, B, C, D];
    const marker = Buffer.from('marker');
    async function next(p: ENetMultiplayerPeer): Promise<string> {
      const got = await receive(p, all);
      expect(got.from).toBe(1);
      return got.data.toString();
    }

    expect(put(A, Buffer.from('all'), TRANSFER_MODE_RELIABLE, 0, 0)).toBe(GodotError.OK);
    expect(await Promise.all([next(B), next(C), next(D)])).toEqual(['all', 'all', 'all']);
    expect(put(A, Buffer.from('not-b'), TRANSFER_MODE_RELIABLE, 0, -2)).toBe(GodotError.OK);
    expect(put(A, Buffer.from('only-c'), TRANSFER_MODE_RELIABLE, 0, 3)).toBe(GodotError.OK);
    expect(put(A, marker, TRANSFER_MODE_RELIABLE, 0, 0)).toBe(GodotError.OK);
    expect(await next(B)).toBe('marker');
    expect([await next(C), await next(C), await next(C)]).toEqual(['not-b', 'only-c', 'marker']);
    expect([await next(D), await next(D)]).toEqual(['not-b', 'marker']);

    // disconnectPeer(3): graceful; the signal comes later, on both sides.
    A.disconnectPeer(3);
    expect(sig(A).disconnected).toEqual([]);
    expect(A.getPeer(3)).not.toBeNull();
    await until(() => sig(A).disconnected.includes(3) && sig(C).disconnected.includes(1), all, 'both ends of 1-3 to report');
    expect(A.getPeer(3)).toBeNull();
    // disconnectPeer(4, true): gone at once, never a signal here; D hears the DISCONNECT.
    A.disconnectPeer(4, true);
    expect(A.getPeer(4)).toBeNull();
    await until(() => sig(D).disconnected.includes(1), all, 'D to see the disconnect');
    await until(() => ad.a.getPeers().length === 0, all, "A's old link host to drop its peer", DEADLINE, [ad.a]);
    expect(sig(A).disconnected).toEqual([3]);
    // reset() of the mesh peer: peer_disconnected on A's next poll (G17).
    A.getPeer(2)!.reset();
    expect(sig(A).disconnected).toEqual([3]);
    A.poll();
    expect(sig(A).disconnected).toEqual([3, 2]);
    expect(A.getPeer(2)).toBeNull();
    expect(A.getConnectionStatus()).toBe(CONNECTION_CONNECTED);
  });

  test('an extra inbound connection to a mesh host is reset silently', async () => {
    const A = newPeer();
    expect(A.createMesh(1)).toBe(GodotError.OK);
    const { a, b } = await meshLink(4);
    expect(A.addMeshPeer(2, a)).toBe(GodotError.OK);
    const intruder = newConn();
    expect(intruder.createHost(1)).toBe(GodotError.OK);
    const peer = intruder.connectToHost('127.0.0.1', a.getLocalPort())!;
    expect(peer).not.toBeNull();
    // The intruder completes the ENet handshake (so it sees CONNECT) ...
    let connected = false;
    let disconnected = false;
    const pumpIntruder = (): void => {
      for (let e = intruder.service(0); e[0] !== EventType.EVENT_NONE; e = intruder.service(0)) {
        if (e[0] === EventType.EVENT_CONNECT) {
          connected = true;
          peer.setTimeout(1, 100, 500);
        }
        if (e[0] === EventType.EVENT_DISCONNECT) disconnected = true;
      }
      drain(b);
      if (isActive(A)) A.poll();
    };
    await pumpUntil(() => connected, pumpIntruder, DEADLINE, 'the intruder to connect');
    // ... and is then dropped without a word: it can only time out.
    await pumpUntil(() => disconnected, pumpIntruder, DEADLINE, 'the intruder to time out');
    expect(intruder.getCounters()!.timeouts).toBe(1);
    expect(sig(A).log).toEqual(['+2']);
    expect(a.getPeers().length).toBe(1);
    expect(a.getPeers()[0]).toBe(A.getPeer(2));
  });
});

// ================================================================================================

describe('getPeer and host', () => {
  test('server: the client wrappers; null for unknown ids; client: only id 1', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    expect(server.getPeer(id)).toBe(server.host!.getPeers()[0]);
    errors = [];
    expect(server.getPeer(id + 1 > MAX_ID ? 2 : id + 1)).toBeNull();
    expect(server.getPeer(0)).toBeNull();
    expect(server.getPeer(-id)).toBeNull();
    expect(client.getPeer(id)).toBeNull();
    expect(client.getPeer(0)).toBeNull();
    expect(client.getPeer(2)).toBeNull();
    expect(errors.length).toBe(6);
    expect(client.getPeer(1)).toBe(client.host!.getPeers()[0]);
    expect(client.host).toBe(client.getHost());
    client.close();
    expect(client.getPeer(1)).toBeNull();
    expect(client.host).toBeNull();
  });
});

// ================================================================================================

describe('close()', () => {
  test('server: no signals; clients see a disconnect; state reset; settings kept; queue cleared', async () => {
    const { server, port } = startServer();
    const c1 = await connectClient(server, port);
    const c2 = await connectClient(server, port, '::1', 0, [c1]);
    const all = [server, c1, c2];
    const closed = jest.fn();
    server.on('closed', closed);
    server.transferMode = TRANSFER_MODE_UNRELIABLE_ORDERED;
    server.transferChannel = 7;
    server.setTargetPeer(c1.getUniqueId());
    server.refuseNewConnections = true;
    expect(put(c1, Buffer.from('q1'))).toBe(GodotError.OK);
    expect(put(c2, Buffer.from('q2'))).toBe(GodotError.OK);
    await until(() => server.getAvailablePacketCount() === 2, all, 'two queued packets');

    server.close();
    expect(closed).toHaveBeenCalledTimes(1);
    expect(server.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(server.getUniqueId()).toBe(0);
    expect(server.isServer()).toBe(false);
    expect(server.isServerRelaySupported()).toBe(false);
    expect(server.host).toBeNull();
    expect(server.getPeer(c1.getUniqueId())).toBeNull();
    expect(server.getAvailablePacketCount()).toBe(0);
    expect(server.getPacket().length).toBe(0);
    expect(server.getPacketError()).toBe(GodotError.ERR_UNAVAILABLE);
    expect(server.isRefusingNewConnections()).toBe(false);
    expect(server.transferMode).toBe(TRANSFER_MODE_UNRELIABLE_ORDERED);
    expect(server.transferChannel).toBe(7);
    expect(sig(server).disconnected).toEqual([]);

    await until(() => !isActive(c1) && !isActive(c2), [c1, c2], 'both clients to see the server go');
    expect(sig(c1).log).toEqual(['+1', '-1']);
    expect(sig(c2).log).toEqual(['+1', '-1']);
    expect(sig(server).disconnected).toEqual([]);

    // The port is free again, and target_peer was kept: it still names c1, who is gone.
    expect(server.createServer(port)).toBe(GodotError.OK);
    const c3 = await connectClient(server, port);
    expect(server.putPacket(Buffer.from('to old c1'))).toBe(GodotError.ERR_INVALID_PARAMETER);
    server.setTargetPeer(0);
    expect(server.putPacket(Buffer.from('now'))).toBe(GodotError.OK);
    const got = await receive(c3, [server, c3]);
    expect(got).toEqual({ from: 1, channel: 7, mode: TRANSFER_MODE_UNRELIABLE_ORDERED, data: Buffer.from('now') });
    expect(sig(server).disconnected).toEqual([]);
  });

  test('client: no signals here; the server sees peer_disconnected at once', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    client.close();
    expect(sig(client).log).toEqual(['+1']);
    expect(client.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(client.getUniqueId()).toBe(0);
    await until(() => sig(server).disconnected.length > 0, [server], 'the server to notice');
    expect(sig(server).log).toEqual([`+${id}`, `-${id}`]);
    expect(sig(client).log).toEqual(['+1']);
  });

  test('a client closed while connecting never gets admitted', async () => {
    const { server, port } = startServer();
    const client = newPeer();
    expect(client.createClient('127.0.0.1', port)).toBe(GodotError.OK);
    client.poll(); // the CONNECT goes out
    client.close();
    expect(client.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    await pollFor(300, [server]);
    expect(sig(server).log).toEqual([]);
    expect(sig(client).log).toEqual([]);
  });
});

// ================================================================================================

describe('disconnectPeer', () => {
  test('server, graceful: the signal comes later (peer still mapped inside it); the client is told', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    let mappedInSignal: ENetPacketPeer | null | undefined;
    server.on('peer_disconnected', (pid) => {
      mappedInSignal = server.getPeer(pid);
    });
    server.disconnectPeer(id);
    expect(sig(server).disconnected).toEqual([]);
    expect(server.getPeer(id)).not.toBeNull();
    await until(() => sig(server).disconnected.length > 0, [server, client], 'peer_disconnected on the server');
    expect(sig(server).disconnected).toEqual([id]);
    // G10: emitted before the peer leaves the map.
    expect(mappedInSignal).toBeInstanceOf(ENetPacketPeer);
    expect(server.getPeer(id)).toBeNull();
    await until(() => !isActive(client), [server, client], 'the client to be disconnected');
    expect(sig(client).log).toEqual(['+1', '-1']);
    await pollFor(100, [server]);
    expect(sig(server).disconnected).toEqual([id]);
  });

  test('server, force: forgotten at once and never a signal; the client is still told', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    server.disconnectPeer(id, true);
    expect(server.getPeer(id)).toBeNull();
    expect(server.putPacket(Buffer.from('x'))).toBe(GodotError.OK); // broadcast to nobody
    server.setTargetPeer(id);
    expect(server.putPacket(Buffer.from('x'))).toBe(GodotError.ERR_INVALID_PARAMETER);
    await until(() => !isActive(client), [server, client], 'the client to be disconnected');
    expect(sig(client).log).toEqual(['+1', '-1']);
    // The ENet DISCONNECT event reaches the server too and is ignored.
    await until(() => server.host!.getPeers().length === 0, [server], 'the server to finish the disconnect');
    await pollFor(100, [server]);
    expect(sig(server).log).toEqual([`+${id}`]);
  });

  test('client, graceful: peer_disconnected(1) later, then closed; the server sees it', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    let statusInSignal = -1;
    client.on('peer_disconnected', () => {
      statusInSignal = client.getConnectionStatus();
    });
    client.disconnectPeer(1);
    expect(sig(client).log).toEqual(['+1']);
    expect(client.getConnectionStatus()).toBe(CONNECTION_CONNECTED);
    await until(() => !isActive(client) && sig(server).disconnected.length > 0, [server, client], 'both sides');
    expect(sig(client).log).toEqual(['+1', '-1']);
    // Godot emits peer_disconnected(1) and only then closes.
    expect(statusInSignal).toBe(CONNECTION_CONNECTED);
    expect(sig(server).log).toEqual([`+${id}`, `-${id}`]);
  });

  test('client, force: closed at once with no signal; the server still hears the DISCONNECT', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    const closed = jest.fn();
    client.on('closed', closed);
    client.disconnectPeer(1, true);
    expect(client.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(client.getUniqueId()).toBe(0);
    expect(client.host).toBeNull();
    expect(closed).toHaveBeenCalledTimes(1);
    await until(() => sig(server).disconnected.length > 0, [server], 'the server to notice');
    expect(sig(server).log).toEqual([`+${id}`, `-${id}`]);
    expect(sig(client).log).toEqual(['+1']);
  });

  test('unknown ids are reported and change nothing', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    errors = [];
    server.disconnectPeer(12345);
    server.disconnectPeer(1);
    client.disconnectPeer(client.getUniqueId());
    client.disconnectPeer(0);
    expect(errors.length).toBe(4);
    await pollFor(100, [server, client]);
    expect(client.getConnectionStatus()).toBe(CONNECTION_CONNECTED);
    expect(sig(server).disconnected).toEqual([]);
    expect(sig(client).disconnected).toEqual([]);
  });
});

// ================================================================================================

describe('G17: a wrapper ended by the user is reported on the next poll', () => {
  test('server: getPeer(id).reset() -> peer_disconnected(id) on the next poll, once', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    server.getPeer(id)!.reset();
    expect(sig(server).disconnected).toEqual([]);
    server.poll();
    expect(sig(server).disconnected).toEqual([id]);
    expect(server.getPeer(id)).toBeNull();
    await pollFor(100, [server]);
    expect(sig(server).disconnected).toEqual([id]);
  });

  test('server: getPeer(id).peerDisconnectNow() -> the same, and the client is told', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    server.getPeer(id)!.peerDisconnectNow();
    expect(sig(server).disconnected).toEqual([]);
    server.poll();
    expect(sig(server).disconnected).toEqual([id]);
    await until(() => !isActive(client), [server, client], 'the client to be told');
    expect(sig(client).log).toEqual(['+1', '-1']);
    expect(sig(server).disconnected).toEqual([id]);
  });

  test('client: getPeer(1).reset() -> peer_disconnected(1) and closed on the next poll', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    client.getPeer(1)!.reset();
    expect(sig(client).log).toEqual(['+1']);
    client.poll();
    expect(sig(client).log).toEqual(['+1', '-1']);
    expect(client.getConnectionStatus()).toBe(CONNECTION_DISCONNECTED);
    expect(client.getUniqueId()).toBe(0);
  });
});

// ================================================================================================

describe('isServerRelaySupported and getUniqueId by mode', () => {
  test('server and client true, mesh and inactive false', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const mesh = newPeer();
    expect(mesh.createMesh(77)).toBe(GodotError.OK);
    expect([server.isServerRelaySupported(), client.isServerRelaySupported(), mesh.isServerRelaySupported(), newPeer().isServerRelaySupported()])
      .toEqual([true, true, false, false]);
    expect([server.getUniqueId(), mesh.getUniqueId()]).toEqual([1, 77]);
    client.close();
    expect(client.isServerRelaySupported()).toBe(false);
  });
});

// ================================================================================================

describe('setTargetPeer', () => {
  test('server with three clients: 0, id, -id; -1, 1 and unknown ids are ERR_INVALID_PARAMETER', async () => {
    const { server, port } = startServer();
    const c1 = await connectClient(server, port);
    const c2 = await connectClient(server, port, '::1', 0, [c1]);
    const c3 = await connectClient(server, port, '127.0.0.1', 0, [c1, c2]);
    const clients = [c1, c2, c3];
    const all = [server, ...clients];
    const [i1, i2, i3] = clients.map((c) => c.getUniqueId());
    async function next(c: ENetMultiplayerPeer): Promise<string> {
      const got = await receive(c, all);
      expect(got.from).toBe(1);
      expect(got.channel).toBe(0);
      expect(got.mode).toBe(TRANSFER_MODE_RELIABLE);
      return got.data.toString();
    }
    const send = (text: string, target: number): GodotError => put(server, Buffer.from(text), TRANSFER_MODE_RELIABLE, 0, target);

    expect(send('everyone', 0)).toBe(GodotError.OK);
    expect(send('only-2', i2)).toBe(GodotError.OK);
    expect(send('not-2', -i2)).toBe(GodotError.OK);
    for (const target of [-1, 1, 424242, -424242]) {
      expect([target, send(`bad ${target}`, target)]).toEqual([target, GodotError.ERR_INVALID_PARAMETER]);
    }
    expect(send('end', 0)).toBe(GodotError.OK);
    const seen = await Promise.all(clients.map(async (c) => {
      const out: string[] = [];
      while (out[out.length - 1] !== 'end') out.push(await next(c));
      return out;
    }));
    expect(seen).toEqual([
      ['everyone', 'not-2', 'end'],
      ['everyone', 'only-2', 'end'],
      ['everyone', 'not-2', 'end'],
    ]);

    // A client that left is no longer a valid target.
    c3.close();
    await until(() => sig(server).disconnected.includes(i3), all, 'c3 to leave');
    expect(send('to c3', i3)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(send('not c3', -i3)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(send('not c1', -i1)).toBe(GodotError.OK);
    expect(await next(c2)).toBe('not c1');
  });

  test('a client always sends to the server; only 0, 1 and -1 are accepted', async () => {
    const { server, port } = startServer();
    const c1 = await connectClient(server, port);
    const c2 = await connectClient(server, port, '127.0.0.1', 0, [c1]);
    const all = [server, c1, c2];
    const id = c1.getUniqueId();
    for (const target of [0, 1, -1]) {
      expect(put(c1, Buffer.from(`t${target}`), TRANSFER_MODE_RELIABLE, 0, target)).toBe(GodotError.OK);
      expect(await receive(server, all)).toEqual({ from: id, channel: 0, mode: TRANSFER_MODE_RELIABLE, data: Buffer.from(`t${target}`) });
    }
    for (const target of [c2.getUniqueId(), -c2.getUniqueId(), id, -id, 2, 5]) {
      expect([target, put(c1, Buffer.from('x'), TRANSFER_MODE_RELIABLE, 0, target)]).toEqual([target, GodotError.ERR_INVALID_PARAMETER]);
    }
    expect(put(c1, Buffer.from('end'), TRANSFER_MODE_RELIABLE, 0, 1)).toBe(GodotError.OK);
    expect((await receive(server, all)).data.toString()).toBe('end');
    await pollFor(50, all);
    expect(c2.getAvailablePacketCount()).toBe(0);
  });
});

// ================================================================================================

describe('putPacket / getPacket', () => {
  test('before the client is connected: ERR_UNCONFIGURED', async () => {
    const { server, port } = startServer();
    const client = newPeer();
    expect(client.createClient('127.0.0.1', port)).toBe(GodotError.OK);
    expect(client.putPacket(Buffer.from('hello'))).toBe(GodotError.ERR_UNCONFIGURED);
    expect(client.putVar('hello')).toBe(GodotError.ERR_UNCONFIGURED);
    client.poll();
    expect(client.getConnectionStatus()).toBe(CONNECTION_CONNECTING);
    expect(client.putPacket(Buffer.from('hello'))).toBe(GodotError.ERR_UNCONFIGURED);
    await until(() => client.getConnectionStatus() === CONNECTION_CONNECTED, [server, client], 'connected');
    expect(client.putPacket(Buffer.from('hello'))).toBe(GodotError.OK);
  });

  test('G18: an empty putPacket is OK and sends nothing', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const all = [server, client];
    client.host!.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS);
    server.host!.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS);
    for (const mode of MODES) {
      expect(put(client, Buffer.alloc(0), mode)).toBe(GodotError.OK);
      expect(put(server, new Uint8Array(0), mode)).toBe(GodotError.OK);
    }
    expect(client.host!.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS)).toBe(0);
    expect(server.host!.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS)).toBe(0);
    expect(put(client, Buffer.from('marker'), TRANSFER_MODE_RELIABLE)).toBe(GodotError.OK);
    expect(put(server, Buffer.from('marker'), TRANSFER_MODE_RELIABLE)).toBe(GodotError.OK);
    expect((await receive(server, all)).data.toString()).toBe('marker');
    expect((await receive(client, all)).data.toString()).toBe('marker');
    await pollFor(50, all);
    expect(server.getAvailablePacketCount()).toBe(0);
    expect(client.getAvailablePacketCount()).toBe(0);
  });

  test('G8: each putPacket is flushed at once (one datagram per put)', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    client.host!.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS);
    for (let i = 0; i < 3; i++) expect(put(client, Buffer.from(`p${i}`), TRANSFER_MODE_RELIABLE)).toBe(GodotError.OK);
    // No poll in between: the datagrams went out from putPacket itself.
    expect(client.host!.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS)).toBe(3);
  });

  test("flush: 'tick' (Node extra): puts of one JavaScript turn leave together, right after it", async () => {
    const { server, port } = startServer(32, 0, { flush: 'tick' });
    const client = await connectClient(server, port);
    server.host!.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS);
    server.setTargetPeer(client.getUniqueId());
    for (let i = 0; i < 3; i++) expect(put(server, Buffer.from(`t${i}`), TRANSFER_MODE_RELIABLE)).toBe(GodotError.OK);
    expect(server.host!.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS)).toBe(0); // not yet: same turn
    await Promise.resolve(); // the flush runs as a microtask after this turn
    expect(server.host!.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS)).toBe(1); // one datagram for all three
    for (let i = 0; i < 3; i++) expect((await receive(client, [server, client])).data.toString()).toBe(`t${i}`);
    expect(() => new ENetMultiplayerPeer({ flush: 'never' as 'put' })).toThrow(TypeError);
  });

  test('G14: accessor defaults on an active peer with an empty queue', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    for (const p of [server, client]) {
      errors = [];
      expect(p.getAvailablePacketCount()).toBe(0);
      expect(p.getPacketPeer()).toBe(1);
      expect(p.getPacketChannel()).toBe(1);
      expect(p.getPacketMode()).toBe(TRANSFER_MODE_RELIABLE);
      expect(errors.length).toBe(3);
      expect(p.getPacket().length).toBe(0);
      expect(p.getPacketError()).toBe(GodotError.ERR_UNAVAILABLE);
    }
    // After a successful get, the error is OK again; after draining, ERR_UNAVAILABLE again.
    expect(put(client, Buffer.from('one'))).toBe(GodotError.OK);
    await receive(server, [server, client]);
    expect(server.getPacket().length).toBe(0);
    expect(server.getPacketError()).toBe(GodotError.ERR_UNAVAILABLE);
    expect(server.getPacketChannel()).toBe(1);
  });

  test('the queue keeps several packets in order; accessors describe the front one', async () => {
    const { server, port } = startServer();
    const c1 = await connectClient(server, port);
    const c2 = await connectClient(server, port, '::1', 0, [c1]);
    const all = [server, c1, c2];
    expect(put(c1, Buffer.from('a'), TRANSFER_MODE_RELIABLE, 4)).toBe(GodotError.OK);
    await until(() => server.getAvailablePacketCount() === 1, all, 'first');
    expect(put(c2, Buffer.from('b'), TRANSFER_MODE_UNRELIABLE, 0)).toBe(GodotError.OK);
    await until(() => server.getAvailablePacketCount() === 2, all, 'second');
    expect(put(c1, Buffer.from('c'), TRANSFER_MODE_UNRELIABLE_ORDERED, 9)).toBe(GodotError.OK);
    await until(() => server.getAvailablePacketCount() === 3, all, 'third');
    // The accessors do not consume.
    expect([server.getPacketPeer(), server.getPacketPeer()]).toEqual([c1.getUniqueId(), c1.getUniqueId()]);
    expect(take(server)).toEqual({ from: c1.getUniqueId(), channel: 4, mode: TRANSFER_MODE_RELIABLE, data: Buffer.from('a') });
    expect(server.getAvailablePacketCount()).toBe(2);
    expect(take(server)).toEqual({ from: c2.getUniqueId(), channel: 0, mode: TRANSFER_MODE_UNRELIABLE, data: Buffer.from('b') });
    expect(take(server)).toEqual({ from: c1.getUniqueId(), channel: 9, mode: TRANSFER_MODE_UNRELIABLE_ORDERED, data: Buffer.from('c') });
    expect(server.getAvailablePacketCount()).toBe(0);
  });

  test('packets of a peer that has left stay queued with its id (§2.9)', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const id = client.getUniqueId();
    for (let i = 0; i < 3; i++) expect(put(client, Buffer.from(`m${i}`))).toBe(GodotError.OK);
    await until(() => server.getAvailablePacketCount() === 3, [server, client], 'the packets');
    client.disconnectPeer(1);
    await until(() => sig(server).disconnected.includes(id), [server, client], 'the client to leave');
    await pollFor(50, [server]);
    expect(server.getAvailablePacketCount()).toBe(3);
    for (let i = 0; i < 3; i++) expect(take(server)).toEqual({ from: id, channel: 0, mode: TRANSFER_MODE_RELIABLE, data: Buffer.from(`m${i}`) });
  });

  test('a Uint8Array that is not a Buffer is sent as is', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    expect(client.putPacket(bytes.subarray(1, 4))).toBe(GodotError.OK);
    expect((await receive(server, [server, client])).data).toEqual(Buffer.from([1, 2, 250]));
  });
});

describe.each([
  ['IPv4', '127.0.0.1'],
  ['IPv6', '::1'],
])('transfer mode x transfer channel round trips over %s', (_name, address) => {
  test.each([0, 1, 5, 253])('transfer channel %i, every mode, both directions', async (channel) => {
    const { server, port } = startServer();
    const client = await connectClient(server, port, address);
    const all = [server, client];
    const id = client.getUniqueId();
    for (const mode of MODES) {
      const up = randomBytes(1 + mode * 40 + channel);
      expect(put(client, up, mode, channel)).toBe(GodotError.OK);
      expect(await receive(server, all, `${TransferMode[mode]} up`)).toEqual({ from: id, channel, mode, data: up });
      const down = randomBytes(3 + mode * 30 + channel);
      expect(put(server, down, mode, channel, id)).toBe(GodotError.OK);
      expect(await receive(client, all, `${TransferMode[mode]} down`)).toEqual({ from: 1, channel, mode, data: down });
    }
  });

  test('G5: packets larger than the MTU; UNRELIABLE arrives as UNRELIABLE_ORDERED', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port, address);
    const all = [server, client];
    const id = client.getUniqueId();
    const expected: [TransferMode, TransferMode][] = [
      [TRANSFER_MODE_UNRELIABLE, TRANSFER_MODE_UNRELIABLE_ORDERED],
      [TRANSFER_MODE_UNRELIABLE_ORDERED, TRANSFER_MODE_UNRELIABLE_ORDERED],
      [TRANSFER_MODE_RELIABLE, TRANSFER_MODE_RELIABLE],
    ];
    for (const channel of [0, 7]) {
      for (const [mode, arrives] of expected) {
        const big = randomBytes(5000);
        expect(put(client, big, mode, channel)).toBe(GodotError.OK);
        expect(await receive(server, all)).toEqual({ from: id, channel, mode: arrives, data: big });
        const big2 = randomBytes(5000);
        expect(put(server, big2, mode, channel, 0)).toBe(GodotError.OK);
        expect(await receive(client, all)).toEqual({ from: 1, channel, mode: arrives, data: big2 });
      }
    }
  });
});

describe('channels the connection does not have (G7)', () => {
  test('putPacket still returns OK, and the packet is lost', async () => {
    const { server, port } = startServer();
    const small = await connectClient(server, port, '127.0.0.1', 4); // 6 ENet channels
    const wide = await connectClient(server, port, '127.0.0.1', 0, [small]); // 255
    const all = [server, small, wide];
    const sid = small.getUniqueId();
    // Transfer channel 4 = ENet channel 5 exists; 5 (= ENet 6) and 200 do not.
    const reported: [number, number][] = [];
    for (const channel of [4, 5, 200]) {
      errors = [];
      expect(put(small, Buffer.from(`up${channel}`), TRANSFER_MODE_RELIABLE, channel)).toBe(GodotError.OK);
      expect(put(server, Buffer.from(`down${channel}`), TRANSFER_MODE_RELIABLE, channel, sid)).toBe(GodotError.OK);
      reported.push([channel, errors.length]);
    }
    // 254 = ENet channel 255: beyond the 255 channels of the default connection.
    expect(put(wide, Buffer.from('up254'), TRANSFER_MODE_UNRELIABLE, 254)).toBe(GodotError.OK);
    expect(put(small, Buffer.from('end'), TRANSFER_MODE_RELIABLE, 0)).toBe(GodotError.OK);
    expect(put(wide, Buffer.from('end'), TRANSFER_MODE_RELIABLE, 0)).toBe(GodotError.OK);
    expect(put(server, Buffer.from('end'), TRANSFER_MODE_RELIABLE, 0, sid)).toBe(GodotError.OK);
    const drainInto = (p: ENetMultiplayerPeer, out: string[]): string[] => {
      while (p.getAvailablePacketCount() > 0) out.push(take(p).data.toString());
      return out;
    };
    const atServer: string[] = [];
    await until(() => drainInto(server, atServer).filter((s) => s === 'end').length === 2, all, 'both ends at the server');
    const atSmall: string[] = [];
    await until(() => drainInto(small, atSmall).includes('end'), all, 'end at the small client');
    await pollFor(50, all);
    drainInto(server, atServer);
    drainInto(small, atSmall);
    expect(atServer.sort()).toEqual(['end', 'end', 'up4']);
    expect(atSmall).toEqual(['down4', 'end']);
    expect(wide.getAvailablePacketCount()).toBe(0);
    // Godot logs "Unable to send packet on channel c, max channels: n" (ENetPacketPeer::send, used by
    // put_packet, checks channel >= channelCount) for each lost put, and nothing for the good one.
    expect(reported).toEqual([[4, 0], [5, 2], [200, 2]]);
  });
});

// ================================================================================================

describe('refuse_new_connections', () => {
  test('a refused client connects, then times out; the server never emits peer_connected', async () => {
    const { server, port } = startServer();
    server.refuseNewConnections = true;
    expect(server.isRefusingNewConnections()).toBe(true);
    const client = newPeer();
    expect(client.createClient('127.0.0.1', port)).toBe(GodotError.OK);
    client.getPeer(1)!.setTimeout(1, 200, 1000);
    await until(() => client.getConnectionStatus() === CONNECTION_CONNECTED, [server, client], 'the ENet connect');
    expect(sig(client).log).toEqual(['+1']);
    // The server reset the peer silently; the client can send, but nothing arrives ...
    expect(client.putPacket(Buffer.from('anyone?'))).toBe(GodotError.OK);
    // ... and it times out.
    await until(() => !isActive(client), [server, client], 'the refused client to time out');
    expect(sig(client).log).toEqual(['+1', '-1']);
    expect(client.host).toBeNull();
    expect(sig(server).log).toEqual([]);
    expect(server.getAvailablePacketCount()).toBe(0);
    expect(server.host!.getPeers().filter((p) => p.isActive())).toEqual([]);

    // Accepting again admits the next client.
    server.setRefuseNewConnections(false);
    const ok = await connectClient(server, port);
    expect(sig(server).log).toEqual([`+${ok.getUniqueId()}`]);
  });
});

// ================================================================================================

describe('putVar / getVar through the multiplayer peer', () => {
  test('Variants round trip with the transfer mode and channel', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const all = [server, client];
    const value = [1, 'two', 3.5, true, null, new Map<unknown, unknown>([['k', 'v'], [2, [3]]])];
    client.transferMode = TRANSFER_MODE_UNRELIABLE;
    client.transferChannel = 2;
    expect(client.putVar(value)).toBe(GodotError.OK);
    await until(() => server.getAvailablePacketCount() > 0, all, 'the variant');
    expect(server.getPacketChannel()).toBe(2);
    expect(server.getPacketMode()).toBe(TRANSFER_MODE_UNRELIABLE);
    expect(server.getPacketPeer()).toBe(client.getUniqueId());
    expect(server.getVar()).toEqual(value);
    expect(server.getPacketError()).toBe(GodotError.OK);
    expect(server.getVar()).toBeNull();
    expect(server.getPacketError()).toBe(GodotError.ERR_UNAVAILABLE);

    expect(server.putVar('from the server')).toBe(GodotError.OK);
    await until(() => client.getAvailablePacketCount() > 0, all, 'the reply');
    expect(client.getVar()).toBe('from the server');
    // A packet that is not a Variant: null and an error.
    expect(put(server, Buffer.from([1, 2]), TRANSFER_MODE_RELIABLE)).toBe(GodotError.OK);
    await until(() => client.getAvailablePacketCount() > 0, all, 'garbage');
    expect(client.getVar()).toBeNull();
    expect(client.getPacketError()).not.toBe(GodotError.OK);
  });
});

// ================================================================================================

describe('Node extras', () => {
  test('autoPoll: events and packets arrive without manual poll; polling stops after close', async () => {
    const server = newPeer({ autoPoll: true });
    const client = newPeer({ autoPoll: 5 });
    expect(server.createServer(0)).toBe(GodotError.OK);
    const connected = new Promise<number>((resolve) => server.once('peer_connected', resolve));
    const joined = new Promise<number>((resolve) => client.once('peer_connected', resolve));
    expect(client.createClient('127.0.0.1', server.host!.getLocalPort())).toBe(GodotError.OK);
    const id = client.getUniqueId();
    expect(await within(connected, 'peer_connected on the server')).toBe(id);
    expect(await within(joined, 'peer_connected on the client')).toBe(1);
    expect(client.putPacket(Buffer.from('auto'))).toBe(GodotError.OK);
    const end = Date.now() + DEADLINE;
    while (server.getAvailablePacketCount() === 0 && Date.now() < end) await sleep(2);
    expect(take(server).data.toString()).toBe('auto');

    const left = new Promise<number>((resolve) => server.once('peer_disconnected', resolve));
    client.close();
    expect(await within(left, 'peer_disconnected on the server')).toBe(id);
    server.close();
    const serverPoll = jest.spyOn(server, 'poll');
    const clientPoll = jest.spyOn(client, 'poll');
    await sleep(60);
    expect(serverPoll).not.toHaveBeenCalled();
    expect(clientPoll).not.toHaveBeenCalled();
    expect(errors).toEqual([]);
  });

  test('the packet event replaces the queue while something listens', async () => {
    const { server, port } = startServer();
    const client = await connectClient(server, port);
    const all = [server, client];
    const id = client.getUniqueId();
    const got: MultiplayerPacket[] = [];
    const listener = (p: MultiplayerPacket): void => {
      got.push(p);
    };
    server.on('packet', listener);
    expect(put(client, Buffer.from('r'), TRANSFER_MODE_RELIABLE, 0)).toBe(GodotError.OK);
    expect(put(client, Buffer.from('u'), TRANSFER_MODE_UNRELIABLE, 3)).toBe(GodotError.OK);
    expect(put(client, Buffer.from('o'), TRANSFER_MODE_UNRELIABLE_ORDERED, 1)).toBe(GodotError.OK);
    await until(() => got.length === 3, all, 'three packet events');
    expect(got.sort((a, b) => a.data.toString().localeCompare(b.data.toString()))).toEqual([
      { data: Buffer.from('o'), from: id, channel: 1, mode: TRANSFER_MODE_UNRELIABLE_ORDERED },
      { data: Buffer.from('r'), from: id, channel: 0, mode: TRANSFER_MODE_RELIABLE },
      { data: Buffer.from('u'), from: id, channel: 3, mode: TRANSFER_MODE_UNRELIABLE },
    ]);
    expect(server.getAvailablePacketCount()).toBe(0);
    server.off('packet', listener);
    expect(put(client, Buffer.from('q'))).toBe(GodotError.OK);
    expect((await receive(server, all)).data.toString()).toBe('q');
    expect(got.length).toBe(3);
  });

  test('packets(): an async iterator that ends when the peer is closed', async () => {
    const server = newPeer({ autoPoll: true });
    expect(server.createServer(0)).toBe(GodotError.OK);
    const got: MultiplayerPacket[] = [];
    const done = (async () => {
      for await (const p of server.packets()) got.push(p);
      return 'ended';
    })();
    const client = newPeer({ autoPoll: true });
    expect(client.createClient('::1', server.host!.getLocalPort())).toBe(GodotError.OK);
    const end = Date.now() + DEADLINE;
    while (client.getConnectionStatus() !== CONNECTION_CONNECTED && Date.now() < end) await sleep(2);
    for (let i = 0; i < 3; i++) expect(put(client, Buffer.from(`it${i}`), TRANSFER_MODE_RELIABLE, 2)).toBe(GodotError.OK);
    while (got.length < 3 && Date.now() < end) await sleep(2);
    expect(got.map((p) => [p.data.toString(), p.from, p.channel, p.mode])).toEqual([0, 1, 2].map((i) => [`it${i}`, client.getUniqueId(), 2, TRANSFER_MODE_RELIABLE]));
    expect(server.getAvailablePacketCount()).toBe(0);
    // A second loop, left after its first packet, lets go of the peer; the first one goes on.
    const second = (async () => {
      for await (const p of server.packets()) return p.data.toString();
      return 'nothing';
    })();
    expect(server.listenerCount('packet')).toBe(2);
    expect(put(client, Buffer.from('one more'), TRANSFER_MODE_RELIABLE, 0)).toBe(GodotError.OK);
    expect(await within(second, 'the second loop')).toBe('one more');
    expect(server.listenerCount('packet')).toBe(1);
    while (got.length < 4 && Date.now() < end) await sleep(2);
    expect(got.map((p) => p.data.toString())).toEqual(['it0', 'it1', 'it2', 'one more']);
    server.close();
    expect(await within(done, 'the end of the iteration')).toBe('ended');
    expect(server.listenerCount('packet')).toBe(0);
  });
});

// ================================================================================================

describe('G6: the godotCreateServerBug option (seen by a real upstream ENet client)', () => {
  let py: PyPeer;
  afterEach(async () => {
    await py?.close();
  });

  async function advertised(options: ENetMultiplayerPeerOptions, maxChannels: number, inBandwidth: number): Promise<Record<string, any>> {
    const server = newPeer(options);
    expect(server.createServer(0, 32, maxChannels, inBandwidth)).toBe(GodotError.OK);
    py = await PyPeer.start();
    await py.request({ op: 'host', bind: null, port: 0, peers: 1 });
    const { peer } = await py.request({ op: 'connect', address: '127.0.0.1', port: server.host!.getLocalPort(), channels: 255, data: 1234 });
    await py.waitEvent((e) => e.ev === 'connect', DEADLINE, pollAll([server]));
    await until(() => sig(server).connected.includes(1234), [server], 'admission of the python client');
    return py.request({ op: 'peer_info', peer });
  }

  test('default (true): maxChannels 4 is advertised as incomingBandwidth 6; channels stay 255; in_bandwidth ignored', async () => {
    const info = await advertised({}, 4, 100000);
    expect(info.incomingBandwidth).toBe(6);
    expect(info.channelCount).toBe(255);
  });

  test('default with maxChannels 0: incomingBandwidth 0 even with an in_bandwidth', async () => {
    const info = await advertised({ godotCreateServerBug: true }, 0, 100000);
    expect(info.incomingBandwidth).toBe(0);
    expect(info.channelCount).toBe(255);
  });

  test('false: in_bandwidth is advertised and maxChannels + 2 limits the channels', async () => {
    const info = await advertised({ godotCreateServerBug: false }, 4, 100000);
    expect(info.incomingBandwidth).toBe(100000);
    expect(info.channelCount).toBe(6);
  });
});
