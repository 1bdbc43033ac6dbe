/**
 * ENetMultiplayerPeer against a real upstream ENet peer (python3-enet / libenet 1.3.17, driven by
 * test/helpers/py-peer.ts) that plays a Godot 4 ENetMultiplayerPeer exactly as spec godot4-enet.md
 * describes it (test/helpers/godot-emulation.ts): the id travels as the CONNECT data, 255 channels
 * (or channelCount + 2), flags 1 / 10 / 8 by transfer mode, reliable on ENet channel 0, unreliable
 * on 1, user channel n on n + 1, no header bytes.
 *
 * What the Python side receives is checked twice: as libenet hands it over (channel, flags) and as
 * raw datagrams (the reference peer's `capture` op), parsed into ENet commands.
 *
 * As in multiplayer.test.ts, each connection gets throttleConfigure(5000, 2, 0) from our side (which
 * also configures the remote through a THROTTLE_CONFIGURE command), so ENet's packet throttle never
 * drops an unreliable packet on purpose and single sends can be checked exactly.
 */
import { afterEach, beforeEach, describe, expect, test } from '@jest/globals';
import { randomBytes } from 'crypto';
import {
  ConnectionStatus,
  ENetMultiplayerPeer,
  ENetPacketPeer,
  GodotError,
  TransferMode,
  setErrorReporter,
} from '../src';
import {
  ENET_CMD,
  ENET_CMD_FLAG_ACKNOWLEDGE,
  ENET_CMD_FLAG_UNSEQUENCED,
  EnetCommand,
  GodotClientEmulation,
  GodotServerEmulation,
  MODE,
  MODES,
  Mode,
  capturedCommands,
  connectFields,
  disconnectData,
  godotEnetChannel,
  randomGodotId,
} from './helpers/godot-emulation';
import { PyEvent, PyPeer, PyReceiveEvent, eventBytes, pumpUntil, sha256hex } from './helpers/py-peer';

const { CONNECTION_DISCONNECTED, CONNECTION_CONNECTED } = ConnectionStatus;
const DEADLINE = 5000;
const CHANNELS = [0, 1, 5, 253];

/** Flags libenet gives a received packet sent with Godot's flags for `mode` (small packets). */
const RECEIVED_FLAGS: Record<Mode, number> = { 0: 2, 1: 0, 2: 1 };
/** ENet command carrying a small packet of each mode, with its command flags. */
const WIRE_COMMAND: Record<Mode, [number, number]> = {
  0: [ENET_CMD.SEND_UNSEQUENCED, ENET_CMD_FLAG_UNSEQUENCED],
  1: [ENET_CMD.SEND_UNRELIABLE, 0],
  2: [ENET_CMD.SEND_RELIABLE, ENET_CMD_FLAG_ACKNOWLEDGE],
};
const SEND_TYPES: number[] = [
  ENET_CMD.SEND_RELIABLE,
  ENET_CMD.SEND_UNRELIABLE,
  ENET_CMD.SEND_FRAGMENT,
  ENET_CMD.SEND_UNSEQUENCED,
  ENET_CMD.SEND_UNRELIABLE_FRAGMENT,
];

let errors: string[] = [];
const live: ENetMultiplayerPeer[] = [];
const emulated: { close(): Promise<void> }[] = [];
const signals = new WeakMap<ENetMultiplayerPeer, string[]>();

beforeEach(() => {
  errors = [];
  setErrorReporter((message) => errors.push(message));
});

afterEach(async () => {
  for (const p of live.splice(0)) {
    p.removeAllListeners();
    p.close();
  }
  await Promise.all(emulated.splice(0).map((e) => e.close()));
  setErrorReporter(() => undefined);
});

function newPeer(): ENetMultiplayerPeer {
  const p = new ENetMultiplayerPeer();
  const log: string[] = [];
  p.on('peer_connected', (id) => log.push(`+${id}`));
  p.on('peer_disconnected', (id) => log.push(`-${id}`));
  signals.set(p, log);
  live.push(p);
  return p;
}

/** "+id" / "-id" for every peer_connected / peer_disconnected so far. */
function log(p: ENetMultiplayerPeer): string[] {
  return signals.get(p)!;
}

function pollOf(...peers: ENetMultiplayerPeer[]): () => void {
  return () => {
    for (const p of peers) if (p.getConnectionStatus() !== CONNECTION_DISCONNECTED) p.poll();
  };
}

function until(cond: () => boolean, pump: () => void, what: string, ms = DEADLINE): Promise<void> {
  return pumpUntil(cond, pump, ms, what);
}

async function pollFor(ms: number, pump: () => void): Promise<void> {
  const end = Date.now() + ms;
  await pumpUntil(() => Date.now() >= end, pump, ms + 1000, `${ms} ms`);
}

function steadyThrottle(peer: ENetPacketPeer): void {
  peer.throttleConfigure(5000, 2, 0);
}

async function startClient(): Promise<GodotClientEmulation> {
  const c = await GodotClientEmulation.start();
  emulated.push(c);
  return c;
}

async function startServerEmulation(options?: Parameters<typeof GodotServerEmulation.start>[0]): Promise<GodotServerEmulation> {
  const s = await GodotServerEmulation.start(options);
  emulated.push(s);
  return s;
}

function ourServer(maxClients = 32): { server: ENetMultiplayerPeer; port: number } {
  const server = newPeer();
  expect(server.createServer(0, maxClients)).toBe(GodotError.OK);
  return { server, port: server.host!.getLocalPort() };
}

interface Got {
  from: number;
  channel: number;
  mode: TransferMode;
  data: Buffer;
}

async function receive(p: ENetMultiplayerPeer, pump: () => void, what = 'a packet'): Promise<Got> {
  await until(() => p.getAvailablePacketCount() > 0, pump, what);
  const got: Got = { from: p.getPacketPeer(), channel: p.getPacketChannel(), mode: p.getPacketMode(), data: p.getPacket() };
  expect(p.getPacketError()).toBe(GodotError.OK);
  return got;
}

function put(p: ENetMultiplayerPeer, data: Uint8Array, mode: Mode, channel: number, target?: number): GodotError {
  p.transferMode = mode as number as TransferMode;
  p.transferChannel = channel;
  if (target !== undefined) p.setTargetPeer(target);
  return p.putPacket(data);
}

/** An emulated Godot 4 client connected to and admitted by our server. */
async function admittedClient(server: ENetMultiplayerPeer, port: number, options: { id?: number; channelCount?: number; capture?: boolean } = {},
  ...others: ENetMultiplayerPeer[]): Promise<GodotClientEmulation> {
  const c = await startClient();
  if (options.capture) await c.py.request({ op: 'capture', on: true });
  await c.connect(port, options);
  const pump = pollOf(server, ...others);
  const connect = await c.waitConnected(pump);
  if (connect.ev !== 'connect') throw new Error('unreachable');
  expect(connect.channels).toBe(c.requestedChannels);
  await until(() => log(server).includes(`+${c.id}`), pump, `peer_connected(${c.id})`);
  steadyThrottle(server.getPeer(c.id)!);
  return c;
}

/** Commands of type `type` that the Python host received from `port`. */
function commandsFrom(py: PyPeer, port: number, type?: number): EnetCommand[] {
  return capturedCommands(py, port).filter((c) => type === undefined || c.type === type);
}

const isReceive = (e: PyEvent): e is PyReceiveEvent => e.ev === 'receive';

/** Commands with identical bytes counted once. */
function distinct(commands: EnetCommand[]): EnetCommand[] {
  const seen = new Set<string>();
  return commands.filter((c) => {
    const key = c.bytes.toString('hex');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ================================================================================================

describe('our server, emulated Godot 4 clients', () => {
  test('admitted with the id from the CONNECT data; 255 channels, or channelCount + 2', async () => {
    const { server, port } = ourServer();
    const a = await admittedClient(server, port);
    expect(log(server)).toEqual([`+${a.id}`]);
    const onServer = server.getPeer(a.id)!;
    expect(onServer.getChannels()).toBe(255);
    expect(onServer.getRemoteAddress()).toBe('127.0.0.1');
    const b = await admittedClient(server, port, { channelCount: 4 });
    expect(server.getPeer(b.id)!.getChannels()).toBe(6);
    // The extremes of the id range are admitted.
    const lo = await admittedClient(server, port, { id: 2 });
    const hi = await admittedClient(server, port, { id: 0x7fffffff });
    expect(log(server)).toEqual([`+${a.id}`, `+${b.id}`, '+2', '+2147483647']);
    expect([lo.id, hi.id]).toEqual([2, 0x7fffffff]);
  });

  test('packets of every mode and channel arrive with the sender id, channel and mode, byte-exact', async () => {
    const { server, port } = ourServer();
    const c = await admittedClient(server, port);
    const pump = pollOf(server);
    for (const channel of CHANNELS) {
      for (const mode of MODES) {
        const data = randomBytes(1 + channel + mode * 50);
        await c.put(data, mode, channel);
        expect(await receive(server, pump, `mode ${mode} channel ${channel}`)).toEqual({ from: c.id, channel, mode, data });
      }
    }
    // Larger than the MTU: only RELIABLE keeps its mode, both unreliable ones arrive as ORDERED (G5).
    const expected: [Mode, TransferMode][] = [
      [MODE.UNRELIABLE, TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED],
      [MODE.UNRELIABLE_ORDERED, TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED],
      [MODE.RELIABLE, TransferMode.TRANSFER_MODE_RELIABLE],
    ];
    for (const [mode, arrives] of expected) {
      const data = randomBytes(5000);
      await c.put(data, mode, 3);
      expect(await receive(server, pump)).toEqual({ from: c.id, channel: 3, mode: arrives, data });
    }
  });

  test('what a non-Godot sender may use: flags 0 -> UNRELIABLE_ORDERED, 2 -> UNRELIABLE; an empty packet', async () => {
    const { server, port } = ourServer();
    const c = await admittedClient(server, port);
    const pump = pollOf(server);
    const send = (channel: number, flags: number, data: Buffer) =>
      c.py.request({ op: 'send', peer: c.serverKey, channel, flags, data: data.toString('base64') });
    await send(1, 0, Buffer.from('plain unreliable'));
    expect(await receive(server, pump)).toEqual({ from: c.id, channel: 0, mode: TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED, data: Buffer.from('plain unreliable') });
    await send(6, 2, Buffer.from('unsequenced'));
    expect(await receive(server, pump)).toEqual({ from: c.id, channel: 5, mode: TransferMode.TRANSFER_MODE_UNRELIABLE, data: Buffer.from('unsequenced') });
    // Reliable on the "unreliable" channel 1: still reliable, channel 0.
    await send(1, 1, Buffer.from('reliable on 1'));
    expect(await receive(server, pump)).toEqual({ from: c.id, channel: 0, mode: TransferMode.TRANSFER_MODE_RELIABLE, data: Buffer.from('reliable on 1') });
    // Zero-length packets are legal at the native level and are delivered as such.
    await send(0, 1, Buffer.alloc(0));
    await until(() => server.getAvailablePacketCount() > 0, pump, 'the empty packet');
    expect(server.getPacketPeer()).toBe(c.id);
    expect(server.getPacket().length).toBe(0);
    expect(server.getPacketError()).toBe(GodotError.OK);
  });

  test('our puts arrive on the ENet channel and with the flags and commands Godot uses', async () => {
    const { server, port } = ourServer();
    const c = await admittedClient(server, port, { capture: true });
    const pump = pollOf(server);
    for (const channel of CHANNELS) {
      for (const mode of MODES) {
        const data = randomBytes(10 + channel + mode);
        expect(put(server, data, mode, channel, c.id)).toBe(GodotError.OK);
        const got = await c.get(pump, (p) => p.data.equals(data));
        expect([mode, channel, got.enetChannel, got.flags]).toEqual([mode, channel, godotEnetChannel(mode, channel), RECEIVED_FLAGS[mode]]);
        // No header: the payload is the bytes as put.
        expect(got.data).toEqual(data);
        // (A reliable command ENet had to resend would show up twice with the same bytes.)
        const onWire = distinct(commandsFrom(c.py, port).filter((cmd) => cmd.payload?.equals(data)));
        expect(onWire.map((cmd) => [cmd.type, cmd.flags, cmd.channel])).toEqual([[...WIRE_COMMAND[mode], godotEnetChannel(mode, channel)]]);
      }
    }
    // Larger than the MTU: fragments, unreliable ones for both unreliable modes.
    const big: [Mode, number, number][] = [
      [MODE.UNRELIABLE, ENET_CMD.SEND_UNRELIABLE_FRAGMENT, 8],
      [MODE.UNRELIABLE_ORDERED, ENET_CMD.SEND_UNRELIABLE_FRAGMENT, 8],
      [MODE.RELIABLE, ENET_CMD.SEND_FRAGMENT, 1],
    ];
    for (const [mode, command, flags] of big) {
      const data = randomBytes(5000);
      expect(put(server, data, mode, 0, c.id)).toBe(GodotError.OK);
      const got = await c.get(pump, (p) => p.data.equals(data));
      expect([mode, got.enetChannel, got.flags]).toEqual([mode, godotEnetChannel(mode, 0), flags]);
      const fragments = distinct(commandsFrom(c.py, port).filter((cmd) => cmd.payload !== undefined && cmd.payload.length > 100 && data.includes(cmd.payload)));
      expect(fragments.length).toBe(4);
      for (const f of fragments) expect([f.type, f.flags & ENET_CMD_FLAG_UNSEQUENCED]).toEqual([command, 0]);
    }
  });

  test('G8: every put goes out in its own datagram', async () => {
    const { server, port } = ourServer();
    const c = await admittedClient(server, port, { capture: true });
    const pump = pollOf(server);
    const payloads = [0, 1, 2].map((i) => Buffer.from(`flushed ${i} ${randomBytes(4).toString('hex')}`));
    // No poll between the puts.
    for (const p of payloads) expect(put(server, p, MODE.RELIABLE, 0, c.id)).toBe(GodotError.OK);
    for (const p of payloads) await c.get(pump, (x) => x.data.equals(p));
    const datagrams = c.py.events.filter((e) => e.ev === 'datagram' && e.port === port);
    const carrying = payloads.map((p) => datagrams.filter((d) => d.ev === 'datagram' && Buffer.from(d.data, 'base64').includes(p)));
    expect(carrying.map((d) => d.length)).toEqual([1, 1, 1]);
    expect(new Set(carrying.map((d) => d[0])).size).toBe(3);
  });

  test('broadcast and exclude reach exactly the right emulated clients', async () => {
    const { server, port } = ourServer();
    const a = await admittedClient(server, port);
    const b = await admittedClient(server, port);
    const c = await admittedClient(server, port);
    const pump = pollOf(server);
    const send = (text: string, target: number) => expect(put(server, Buffer.from(text), MODE.RELIABLE, 0, target)).toBe(GodotError.OK);
    send('all', 0);
    send('not-b', -b.id);
    send('only-c', c.id);
    expect(put(server, Buffer.from('x'), MODE.RELIABLE, 0, -1)).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(put(server, Buffer.from('x'), MODE.RELIABLE, 0, 1)).toBe(GodotError.ERR_INVALID_PARAMETER);
    send('end', 0);
    const seen = await Promise.all([a, b, c].map(async (x) => {
      const out: string[] = [];
      while (out[out.length - 1] !== 'end') {
        const p = await x.get(pump);
        expect([p.enetChannel, p.flags]).toEqual([0, 1]);
        out.push(p.data.toString());
      }
      return out;
    }));
    expect(seen).toEqual([['all', 'not-b', 'end'], ['all', 'end'], ['all', 'not-b', 'only-c', 'end']]);
  });

  describe('silent rejection (G2, G3): accepted by ENet, then reset without a word', () => {
    /**
     * Connects an emulated client with `id` (capture on, a ~1 s timeout on its side), waits for its
     * ENet CONNECT and for its timeout, and checks that our server sent nothing but the handshake.
     */
    async function rejected(server: ENetMultiplayerPeer, port: number, id: number, pump: () => void): Promise<void> {
      const c = await startClient();
      await c.py.request({ op: 'capture', on: true });
      await c.connect(port, { id });
      const connectedAt = Date.now();
      await c.py.request({ op: 'peer_timeout', peer: c.serverKey, limit: 4, min: 300, max: 1500 });
      await c.waitConnected(pump);
      const gone = await c.py.waitEvent((e) => e.ev === 'disconnect', DEADLINE, pump);
      if (gone.ev !== 'disconnect') throw new Error('unreachable');
      expect(gone.data).toBe(0);
      // It timed out (no sooner than the ping interval plus the minimum timeout) ...
      expect(Date.now() - connectedAt).toBeGreaterThanOrEqual(700);
      // ... because our server sent the handshake and then nothing at all: no DISCONNECT.
      const fromUs = commandsFrom(c.py, port);
      expect(fromUs.some((cmd) => cmd.type === ENET_CMD.VERIFY_CONNECT)).toBe(true);
      expect([...new Set(fromUs.map((cmd) => cmd.type))].filter((t) => t !== ENET_CMD.VERIFY_CONNECT && t !== ENET_CMD.ACKNOWLEDGE)).toEqual([]);
    }

    test.each([
      ['0', 0],
      ['1', 1],
    ])('id %s', async (_name, id) => {
      const { server, port } = ourServer();
      await rejected(server, port, id, pollOf(server));
      expect(log(server)).toEqual([]);
      expect(server.host!.getPeers().filter((p) => p.isActive())).toEqual([]);
    });

    test('a duplicate of an admitted id; the first client keeps working', async () => {
      const { server, port } = ourServer();
      const first = await admittedClient(server, port);
      const pump = pollOf(server);
      const wrapper = server.getPeer(first.id);
      await rejected(server, port, first.id, pump);
      expect(log(server)).toEqual([`+${first.id}`]);
      expect(server.getPeer(first.id)).toBe(wrapper);
      await first.put(Buffer.from('still here'), MODE.RELIABLE, 0);
      expect(await receive(server, pump)).toEqual({ from: first.id, channel: 0, mode: TransferMode.TRANSFER_MODE_RELIABLE, data: Buffer.from('still here') });
      expect(put(server, Buffer.from('and you?'), MODE.RELIABLE, 0, first.id)).toBe(GodotError.OK);
      expect((await first.get(pump)).data.toString()).toBe('and you?');
    });

    test('a valid id while refusing new connections', async () => {
      const { server, port } = ourServer();
      server.refuseNewConnections = true;
      const id = randomGodotId();
      await rejected(server, port, id, pollOf(server));
      expect(log(server)).toEqual([]);
      server.refuseNewConnections = false;
      const ok = await admittedClient(server, port, { id });
      expect(log(server)).toEqual([`+${ok.id}`]);
    });
  });

  test('the emulated client disconnecting (gracefully or now) -> peer_disconnected(id)', async () => {
    const { server, port } = ourServer();
    const a = await admittedClient(server, port);
    const b = await admittedClient(server, port);
    const pump = pollOf(server);
    await a.disconnect();
    await until(() => log(server).includes(`-${a.id}`), pump, `peer_disconnected(${a.id})`);
    expect(server.getPeer(a.id)).toBeNull();
    await a.py.waitEvent((e) => e.ev === 'disconnect', DEADLINE, pump);
    await b.py.request({ op: 'disconnect', peer: b.serverKey, data: 0, mode: 'now' });
    await until(() => log(server).includes(`-${b.id}`), pump, `peer_disconnected(${b.id})`);
    await pollFor(100, pump);
    expect(log(server)).toEqual([`+${a.id}`, `+${b.id}`, `-${a.id}`, `-${b.id}`]);
    expect(server.getConnectionStatus()).toBe(CONNECTION_CONNECTED);
  });

  test('capacity: with maxClients 2 a third client never gets an answer', async () => {
    const { server, port } = ourServer(2);
    const a = await admittedClient(server, port);
    const b = await admittedClient(server, port);
    const pump = pollOf(server);
    const c = await startClient();
    await c.py.request({ op: 'capture', on: true });
    await c.connect(port);
    await c.py.request({ op: 'peer_timeout', peer: c.serverKey, limit: 2, min: 200, max: 1000 });
    const gone = await c.py.waitEvent((e) => e.ev === 'disconnect' || e.ev === 'connect', DEADLINE, pump);
    expect(gone.ev).toBe('disconnect');
    expect(commandsFrom(c.py, port)).toEqual([]);
    expect(log(server)).toEqual([`+${a.id}`, `+${b.id}`]);
    // The two admitted ones are unaffected.
    expect(put(server, Buffer.from('still two'), MODE.RELIABLE, 0, 0)).toBe(GodotError.OK);
    for (const x of [a, b]) expect((await x.get(pump)).data.toString()).toBe('still two');
  });

  test('G9: close() sends each connected client exactly one unsequenced DISCONNECT with data 0', async () => {
    const { server, port } = ourServer();
    const a = await admittedClient(server, port, { capture: true });
    const b = await admittedClient(server, port, { capture: true });
    server.close();
    expect(log(server)).toEqual([`+${a.id}`, `+${b.id}`]);
    for (const c of [a, b]) {
      const e = await c.py.waitEvent((x) => x.ev === 'disconnect', DEADLINE);
      if (e.ev !== 'disconnect') throw new Error('unreachable');
      expect(e.data).toBe(0);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const c of [a, b]) {
      const disconnects = commandsFrom(c.py, port, ENET_CMD.DISCONNECT);
      expect(disconnects.map((d) => [d.flags, d.channel, disconnectData(d)])).toEqual([[ENET_CMD_FLAG_UNSEQUENCED, 0xff, 0]]);
    }
  });

  test('G9: disconnectPeer(id) sends a reliable DISCONNECT with data 0; peer_disconnected follows', async () => {
    const { server, port } = ourServer();
    const a = await admittedClient(server, port, { capture: true });
    const pump = pollOf(server);
    server.disconnectPeer(a.id);
    const e = await a.py.waitEvent((x) => x.ev === 'disconnect', DEADLINE, pump);
    if (e.ev !== 'disconnect') throw new Error('unreachable');
    expect(e.data).toBe(0);
    await until(() => log(server).includes(`-${a.id}`), pump, 'peer_disconnected');
    const disconnects = commandsFrom(a.py, port, ENET_CMD.DISCONNECT);
    expect(disconnects.length).toBeGreaterThanOrEqual(1);
    for (const d of disconnects) expect([d.flags, disconnectData(d)]).toEqual([ENET_CMD_FLAG_ACKNOWLEDGE, 0]);
  });
});

// ================================================================================================

describe('our client, an emulated Godot 4 server', () => {
  /** Our client connected to `s`, admitted by it, CONNECTED. */
  async function ourClient(s: GodotServerEmulation, channelCount = 0): Promise<{ client: ENetMultiplayerPeer; pump: () => void }> {
    const client = newPeer();
    expect(client.createClient('127.0.0.1', s.port, channelCount)).toBe(GodotError.OK);
    const pump = pollOf(client);
    const admission = await s.admit(pump);
    expect(admission.admitted).toBe(true);
    expect(admission.id).toBe(client.getUniqueId());
    await until(() => client.getConnectionStatus() === CONNECTION_CONNECTED, pump, 'our client CONNECTED');
    steadyThrottle(client.getPeer(1)!);
    return { client, pump };
  }

  test('the CONNECT carries our id in [2, 2^31 - 1] and asks for 255 channels (or channelCount + 2)', async () => {
    for (const [channelCount, channels] of [[0, 255], [3, 5]]) {
      const s = await startServerEmulation();
      await s.py.request({ op: 'capture', on: true });
      const client = newPeer();
      expect(client.createClient('127.0.0.1', s.port, channelCount)).toBe(GodotError.OK);
      const id = client.getUniqueId();
      expect(id).toBeGreaterThanOrEqual(2);
      expect(id).toBeLessThanOrEqual(0x7fffffff);
      const pump = pollOf(client);
      const admission = await s.admit(pump);
      expect(admission).toEqual({ key: admission.key, id, channels, admitted: true });
      const connects = capturedCommands(s.py).filter((c) => c.type === ENET_CMD.CONNECT);
      expect(connects.length).toBeGreaterThanOrEqual(1);
      for (const c of connects) {
        const f = connectFields(c);
        expect([f.data, f.channelCount, f.incomingBandwidth, f.outgoingBandwidth, f.windowSize, f.mtu]).toEqual([id, channels, 0, 0, 65536, 1392]);
      }
      await until(() => client.getConnectionStatus() === CONNECTION_CONNECTED, pump, 'CONNECTED');
      expect(log(client)).toEqual(['+1']);
      expect(client.getPeer(1)!.getChannels()).toBe(channels);
    }
  });

  test('packets both ways with modes and channels exact', async () => {
    const s = await startServerEmulation();
    const { client, pump } = await ourClient(s);
    const id = client.getUniqueId();
    for (const channel of CHANNELS) {
      for (const mode of MODES) {
        const down = randomBytes(5 + channel + mode);
        await s.put(down, mode, channel, id);
        expect(await receive(client, pump, `mode ${mode} channel ${channel} down`)).toEqual({ from: 1, channel, mode, data: down });
        const up = randomBytes(7 + channel + mode);
        expect(put(client, up, mode, channel)).toBe(GodotError.OK);
        const got = await s.get(pump, (p) => p.data.equals(up));
        expect(got).toEqual({ from: id, data: up, channel, mode, enetChannel: godotEnetChannel(mode, channel), flags: RECEIVED_FLAGS[mode] });
      }
    }
    for (const mode of MODES) {
      const arrives = mode === MODE.RELIABLE ? MODE.RELIABLE : MODE.UNRELIABLE_ORDERED;
      const down = randomBytes(5000);
      await s.put(down, mode, 2, 0);
      expect(await receive(client, pump)).toEqual({ from: 1, channel: 2, mode: arrives, data: down });
      const up = randomBytes(5000);
      expect(put(client, up, mode, 2)).toBe(GodotError.OK);
      const got = await s.get(pump, (p) => p.data.equals(up));
      expect([got.from, got.channel, got.mode]).toEqual([id, 2, arrives]);
    }
  });

  test('nothing is on the wire until the first poll; then the CONNECT', async () => {
    const s = await startServerEmulation();
    await s.py.request({ op: 'capture', on: true });
    const client = newPeer();
    expect(client.createClient('127.0.0.1', s.port)).toBe(GodotError.OK);
    // The Python side keeps servicing meanwhile: anything sent would show up.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await s.py.request({ op: 'stats' });
    expect(s.py.events.filter((e) => e.ev === 'datagram')).toEqual([]);
    client.poll();
    await s.py.waitEvent((e) => e.ev === 'datagram', DEADLINE);
    // poll() drains like Godot's (service(0) until nothing is left), so when the
    // server answers fast the same poll may already ACK the VERIFY_CONNECT.
    const types = capturedCommands(s.py).map((c) => c.type);
    expect(types[0]).toBe(ENET_CMD.CONNECT);
    expect(types.filter((t) => t === ENET_CMD.CONNECT)).toHaveLength(1);
  });

  test("the emulated server's disconnect: peer_disconnected(1) and DISCONNECTED", async () => {
    const s = await startServerEmulation();
    const { client, pump } = await ourClient(s);
    await s.disconnectPeer(client.getUniqueId());
    await until(() => client.getConnectionStatus() === CONNECTION_DISCONNECTED, pump, 'DISCONNECTED');
    expect(log(client)).toEqual(['+1', '-1']);
    expect(client.host).toBeNull();
    expect(client.getUniqueId()).toBe(0);
    await s.py.waitEvent((e) => e.ev === 'disconnect', DEADLINE);
  });

  test('a silent reset by the server (refusing): connected, then a timeout -> peer_disconnected(1)', async () => {
    const s = await startServerEmulation();
    s.refuseNewConnections = true;
    const client = newPeer();
    expect(client.createClient('127.0.0.1', s.port)).toBe(GodotError.OK);
    client.getPeer(1)!.setTimeout(1, 200, 1000);
    const pump = pollOf(client);
    const admission = await s.admit(pump);
    expect(admission.admitted).toBe(false);
    await until(() => client.getConnectionStatus() === CONNECTION_DISCONNECTED, pump, 'the timeout');
    expect(log(client)).toEqual(['+1', '-1']);
  });

  test('G9: close() sends the server one unsequenced DISCONNECT with data 0', async () => {
    const s = await startServerEmulation();
    await s.py.request({ op: 'capture', on: true });
    const { client } = await ourClient(s);
    const localPort = client.host!.getLocalPort();
    client.close();
    expect(log(client)).toEqual(['+1']);
    const e = await s.py.waitEvent((x) => x.ev === 'disconnect', DEADLINE);
    if (e.ev !== 'disconnect') throw new Error('unreachable');
    expect(e.data).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const disconnects = commandsFrom(s.py, localPort, ENET_CMD.DISCONNECT);
    expect(disconnects.map((d) => [d.flags, disconnectData(d)])).toEqual([[ENET_CMD_FLAG_UNSEQUENCED, 0]]);
  });

  test('G9: close() while still connecting sends no DISCONNECT', async () => {
    const s = await startServerEmulation();
    await s.py.request({ op: 'capture', on: true });
    await s.py.request({ op: 'freeze' });
    const client = newPeer();
    expect(client.createClient('127.0.0.1', s.port)).toBe(GodotError.OK);
    client.poll(); // the CONNECT goes out; the frozen server does not answer yet
    const localPort = client.host!.getLocalPort();
    client.close();
    await s.py.request({ op: 'thaw' });
    await s.py.waitEvent((e) => e.ev === 'datagram' && e.port === localPort, DEADLINE);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const fromUs = commandsFrom(s.py, localPort);
    expect(fromUs.map((c) => c.type)).toContain(ENET_CMD.CONNECT);
    expect(fromUs.filter((c) => c.type === ENET_CMD.DISCONNECT)).toEqual([]);
    expect(log(client)).toEqual([]);
  });

  test('G6: a Godot server advertising incomingBandwidth maxChannels + 2 still gets 20 KB through, both ways', async () => {
    const s = await startServerEmulation({ maxChannels: 4 });
    const { client, pump } = await ourClient(s);
    const info = await s.py.request({ op: 'peer_info', peer: s.peers.get(client.getUniqueId()) });
    expect(info.channelCount).toBe(255);
    const up = randomBytes(20000);
    expect(put(client, up, MODE.RELIABLE, 0)).toBe(GodotError.OK);
    const got = await s.py.waitEvent((e) => isReceive(e) && e.sha256 === sha256hex(up), 10000, pump);
    expect(eventBytes(got as PyReceiveEvent)).toEqual(up);
    const down = randomBytes(20000);
    await s.put(down, MODE.RELIABLE, 1, 0);
    expect(await receive(client, pump)).toEqual({ from: 1, channel: 1, mode: TransferMode.TRANSFER_MODE_RELIABLE, data: down });
  });
});
