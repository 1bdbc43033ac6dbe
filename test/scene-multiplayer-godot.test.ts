/**
 * Our SceneMultiplayer against a real Godot 4.6 (the web oracle, test/godot4/): Godot 4.6 clients —
 * several, each its own SceneMultiplayer branch in one Godot — join our SceneMultiplayer server over
 * bridge peers carried by our ENet, and our SceneMultiplayer client joins a Godot 4.6 server. The Godot
 * side is test/fixtures/scene-multiplayer-godot/ (game.gd: the node "Game" with its RPCs).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import * as fs from 'fs';
import * as path from 'path';
import {
  ENetMultiplayerPeer,
  GodotError,
  GodotFloat,
  MultiplayerPeer,
  NetworkNode,
  RpcDeclaration,
  SceneMultiplayer,
  TransferMode,
  Vector2,
  float,
  setErrorReporter,
} from '../src';
import { VariantWriter, writeCompressedVariant } from '../src/variant/marshalls';
import { BridgePacket, GodotOracle, OracleReport, scriptScene, until, hex, i32hex } from './godot4/oracle';

const { TRANSFER_MODE_UNRELIABLE: UNRELIABLE, TRANSFER_MODE_RELIABLE: RELIABLE } = TransferMode;
const FIXTURES = path.join(__dirname, 'fixtures', 'scene-multiplayer-godot');

/** game.gd's RPCs, declared as a server must. */
const GAME_RPCS: Record<string, RpcDeclaration> = {
  hello: { rpcMode: 'any_peer', args: ['String', 'int'] },
  announce: '@rpc("authority")',
  admin: { rpcMode: 'authority', args: [] },
  shout: '@rpc("any_peer", "call_local")',
  state: { rpcMode: 'authority', transferMode: 'unreliable', channel: 2, args: ['Vector2', 'int'] },
  input: { rpcMode: 'any_peer', transferMode: 'unreliable', channel: 1, args: ['Vector2'] },
  ping: { rpcMode: 'any_peer', args: [] },
  types: { rpcMode: 'any_peer', args: ['int', 'float', 'String', 'Vector2', 'Array', 'Dictionary', 'PackedByteArray'] },
  untyped: '@rpc("any_peer")',
};
const GAME_CONFIG: Record<string, RpcDeclaration> = { configured: { rpcMode: 'any_peer', args: ['int'] } };
const TYPED_ARGS = (v: number) => [3, v, 'txt', new Vector2(1.5, -2), [1, 'a'], new Map([['k', 'v']]), Buffer.from([9, 8])];
const TYPE_NAMES = ['int', 'float', 'String', 'Vector2', 'Array', 'Dictionary', 'PackedByteArray'];



/** One of our SceneMultiplayer ends (autoPoll) with the node Game, recording what it gets. */
class OurEnd {
  readonly peer = new ENetMultiplayerPeer();
  readonly mp = new SceneMultiplayer({ autoPoll: 2 });
  readonly game: NetworkNode;
  readonly calls: { method: string; from: number; args: unknown[] }[] = [];
  readonly packets: { from: number; data: Buffer }[] = [];
  readonly events: string[] = [];

  constructor() {
    this.game = this.mp.registerNode('Game', GAME_RPCS, { rpcConfig: GAME_CONFIG });
    for (const method of [...Object.keys(GAME_RPCS), ...Object.keys(GAME_CONFIG)]) {
      this.game.on(method, (...args: unknown[]) => this.calls.push({ method, from: this.mp.getRemoteSenderId(), args }));
    }
    this.mp.on('peer_packet', (from, data) => this.packets.push({ from, data }));
    for (const event of ['peer_connected', 'peer_disconnected', 'peer_authenticating', 'peer_authentication_failed', 'connected_to_server', 'server_disconnected']) {
      this.mp.on(event, (id?: number) => this.events.push(id === undefined ? event : `${event} ${id}`));
    }
  }

  listen(): number {
    this.peer.setBindIp('127.0.0.1');
    expect(this.peer.createServer(0)).toBe(GodotError.OK);
    this.mp.multiplayerPeer = this.peer;
    return this.peer.host?.getLocalPort() ?? 0;
  }

  join(port: number): void {
    expect(this.peer.createClient('127.0.0.1', port)).toBe(GodotError.OK);
    this.mp.multiplayerPeer = this.peer;
  }

  async call(method: string, from: number): Promise<unknown[]> {
    const index = this.calls.length;
    await until(() => this.calls.slice(index).some((c) => c.method === method && c.from === from), `${method} from ${from}`);
    return this.calls.slice(index).find((c) => c.method === method && c.from === from)?.args ?? [];
  }
}

let oracle: GodotOracle;
const ends: OurEnd[] = [];
const ourErrors: string[] = [];

function ourEnd(): OurEnd {
  const end = new OurEnd();
  ends.push(end);
  return end;
}

beforeAll(async () => {
  setErrorReporter((message) => ourErrors.push(message));
  const files: Record<string, string> = { 'main.tscn': scriptScene('res://main.gd') };
  for (const file of ['main.gd', 'game.gd']) files[file] = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
  oracle = await GodotOracle.start({ files });
}, 90000);

afterAll(async () => {
  for (const end of ends) end.peer.close();
  await oracle?.stop();
  setErrorReporter(() => undefined);
});

/** Starts a client branch in Godot and waits for its 'created' report. */
async function godotClient(branch: string, port: number, auth = ''): Promise<{ id: number; bridge: number }> {
  const created = oracle.nextReport((r) => r.data.event === 'created' && r.data.branch === branch);
  oracle.command('client', branch, port, auth);
  const report = await created;
  expect(report.data.error).toBe(GodotError.OK);
  return { id: report.data.id, bridge: report.data.bridge };
}

function nextEvent(branch: string, event: string, extra: (r: OracleReport) => boolean = () => true): Promise<OracleReport> {
  return oracle.nextReport((r) => r.data.branch === branch && r.data.event === event && extra(r));
}

function nextCall(branch: string, method: string): Promise<OracleReport> {
  return nextEvent(branch, 'rpc', (r) => r.data.method === method);
}

const rpcFrom = (branch: string, target: number, method: string, ...args: unknown[]) => oracle.command('rpc', branch, target, method, args);
/** RPC arguments in SceneMultiplayer's compressed Variant form, as hex. */
function compressed(values: unknown[]): string {
  const w = new VariantWriter();
  for (const v of values) expect(writeCompressedVariant(w, v)).toBe(GodotError.OK);
  return hex(w.finish());
}

const packetsOf = (bridge: number, direction: 'sent' | 'received') => oracle.packets.filter((p) => p.bridge === bridge && p.direction === direction);
const wire = (p: BridgePacket) => ({ hex: hex(p.data), channel: p.channel, mode: p.mode });

describe('Godot 4.6 clients of our SceneMultiplayer server', () => {
  const server = ourEnd();
  let port = 0;
  let A = { id: 0, bridge: 0 };
  let B = { id: 0, bridge: 0 };

  test('join and learn about each other through ADD_PEER', async () => {
    port = server.listen();
    const aJoined = nextEvent('A', 'connected_to_server');
    A = await godotClient('A', port);
    await aJoined;
    const aSeesB = nextEvent('A', 'peer_connected', (r) => r.data.id !== 1);
    const bJoined = nextEvent('B', 'connected_to_server');
    const bSeesA = nextEvent('B', 'peer_connected', (r) => r.data.id === A.id);
    B = await godotClient('B', port);
    await bJoined;
    expect((await aSeesB).data.id).toBe(B.id);
    await bSeesA;
    expect(new Set(server.mp.getPeers())).toEqual(new Set([A.id, B.id]));
    const peers = nextEvent('B', 'peers');
    oracle.command('peers', 'B');
    expect(Array.from((await peers).data.peers as Int32Array)).toEqual([1, A.id].sort((x, y) => x - y));
  });

  test('Godot → our server: typed any_peer, zero arguments, unreliable channel 1, an rpc_config() method', async () => {
    rpcFrom('A', 1, 'hello', 'alice', 7);
    expect(await server.call('hello', A.id)).toEqual(['alice', 7]);
    rpcFrom('A', 1, 'ping');
    expect(await server.call('ping', A.id)).toEqual([]);
    rpcFrom('A', 1, 'input', new Vector2(1, 0));
    expect(await server.call('input', A.id)).toEqual([new Vector2(1, 0)]);
    rpcFrom('A', 1, 'configured', 5);
    expect(await server.call('configured', A.id)).toEqual([5]);

    const sent = packetsOf(A.bridge, 'sent').map(wire);
    // The path cache on the wire: A offered Game (cache id 1) and our CONFIRM_PATH said the checksum matches.
    const checksum = server.game.rpcTable.checksum;
    expect(sent[0]).toEqual({ hex: '01' + hex(Buffer.from(checksum + '\0')) + '01000000' + hex(Buffer.from('Game\0')), channel: 0, mode: RELIABLE });
    await oracle.waitForPacket((p) => p.bridge === A.bridge && p.direction === 'received' && hex(p.data) === '020101000000');
    expect(sent.find((p) => p.channel === 1)).toMatchObject({ mode: UNRELIABLE });
    // rpc_config() ids have bit 15: a u16 method id 0x8000.
    expect(sent.some((p) => /^(40|60)/.test(p.hex) && p.hex.includes('0080'))).toBe(true);
  });

  test('an authority call from a client is refused by our server, and counted', async () => {
    const denied = server.mp.getCounters().rpcDenied;
    rpcFrom('A', 1, 'admin');
    await until(() => server.mp.getCounters().rpcDenied === denied + 1, 'the refusal');
    expect(server.calls.some((c) => c.method === 'admin')).toBe(false);
    expect(ourErrors.some((m) => /RPC 'admin' is not allowed on node Game/.test(m))).toBe(true);
  });

  test('our server → Godot: authority, unreliable on channel 2, zero arguments, call_local', async () => {
    const aAnnounce = nextCall('A', 'announce');
    const bAnnounce = nextCall('B', 'announce');
    expect(server.game.rpc('announce', 'hi all')).toBe(GodotError.OK);
    for (const call of [await aAnnounce, await bAnnounce]) {
      expect(call.data).toMatchObject({ from: 1, args: ['hi all'], arg_types: ['String'] });
    }
    const state = nextCall('A', 'state');
    expect(server.game.rpcId(A.id, 'state', new Vector2(1.5, 2), 100)).toBe(GodotError.OK);
    expect((await state).data).toMatchObject({ from: 1, args: [new Vector2(1.5, 2), 100], arg_types: ['Vector2', 'int'] });
    const onWire = await oracle.waitForPacket((p) => p.bridge === A.bridge && p.direction === 'received' && p.channel === 2);
    expect(onWire.mode).toBe(UNRELIABLE);

    const ping = nextCall('B', 'ping');
    expect(server.game.rpcId(B.id, 'ping')).toBe(GodotError.OK);
    expect((await ping).data.args).toEqual([]);

    const shouts = [nextCall('A', 'shout'), nextCall('B', 'shout')];
    const before = server.calls.length;
    expect(server.game.rpc('shout', 'everyone')).toBe(GodotError.OK);
    expect(server.calls.slice(before)).toEqual([{ method: 'shout', from: 1, args: ['everyone'] }]); // here, at once
    for (const shout of shouts) expect((await shout).data).toMatchObject({ from: 1, args: ['everyone'] });

    // Godot confirmed our own offer of Game with a matching checksum.
    await oracle.waitForPacket((p) => p.bridge === A.bridge && p.direction === 'sent' && hex(p.data) === '020101000000');
  });

  test('argument types survive both ways: int, float, String, Vector2, Array, Dictionary, PackedByteArray', async () => {
    const atA = nextCall('A', 'types');
    expect(server.game.rpcId(A.id, 'types', ...TYPED_ARGS(2))).toBe(GodotError.OK);
    const got = await atA;
    expect(got.data.arg_types).toEqual(TYPE_NAMES);
    expect(got.text.args).toBe('[3, 2.0, "txt", Vector2(1.5, -2), [1, "a"], {\n"k": "v"\n}, PackedByteArray(9, 8)]');

    rpcFrom('A', 1, 'types', ...TYPED_ARGS(0.25));
    expect(await server.call('types', A.id)).toEqual(TYPED_ARGS(0.25));
    // Godot's own bytes for that call (node confirmed: cache id 1, u8) equal our encoder's.
    const typesId = server.game.getRpcMethod('types')?.id as number;
    const expected = '00' + '01' + hex(Buffer.from([typesId, 7])) + compressed([3, float(0.25), 'txt', new Vector2(1.5, -2), [1, 'a'], new Map([['k', 'v']]), Buffer.from([9, 8])]);
    await oracle.waitForPacket((p) => p.bridge === A.bridge && p.direction === 'sent' && hex(p.data) === expected);
  });

  test("Godot's compressed ints in every width (8, 16, 32, 64 bits) equal ours", async () => {
    const helloId = server.game.getRpcMethod('hello')?.id as number;
    for (const n of [-5, 300, 70000, -(2 ** 31), 2 ** 40]) {
      rpcFrom('A', 1, 'hello', 'x', n);
      expect(await server.call('hello', A.id)).toEqual(['x', n]);
      const expected = '00' + '01' + hex(Buffer.from([helloId, 2])) + compressed(['x', n]);
      await oracle.waitForPacket((p) => p.bridge === A.bridge && p.direction === 'sent' && hex(p.data) === expected);
    }
  });

  test("an untyped parameter keeps Godot's float: 2.0 goes back to Godot as a float, not an int", async () => {
    server.game.on('untyped', (x) => server.game.rpcId(server.mp.getRemoteSenderId(), 'untyped', x));
    const back = nextCall('A', 'untyped');
    rpcFrom('A', 1, 'untyped', float(2));
    const [received] = await server.call('untyped', A.id);
    expect(received).toBeInstanceOf(GodotFloat);
    expect((await back).data.arg_types).toEqual(['float']);
  });

  test('send_bytes both ways, and from client to client through our relay', async () => {
    const toA = nextEvent('A', 'peer_packet');
    expect(server.mp.sendBytes(Buffer.from([1, 2]), A.id)).toBe(GodotError.OK);
    expect((await toA).data).toMatchObject({ from: 1, data: Buffer.from([1, 2]) });

    oracle.command('send_bytes', 'A', Buffer.from([3]), 1, RELIABLE, 0);
    await until(() => server.packets.some((p) => p.from === A.id && hex(p.data) === '03'), 'A → server');

    const toB = nextEvent('B', 'peer_packet');
    oracle.command('send_bytes', 'A', Buffer.from([4, 5]), B.id, UNRELIABLE, 3);
    expect((await toB).data).toMatchObject({ from: A.id, data: Buffer.from([4, 5]) });
    const out = await oracle.waitForPacket((p) => p.bridge === A.bridge && p.direction === 'sent' && hex(p.data) === '0703' + i32hex(B.id) + '030405');
    const into = await oracle.waitForPacket((p) => p.bridge === B.bridge && p.direction === 'received' && hex(p.data) === '0703' + i32hex(A.id) + '030405');
    expect([out.channel, out.mode, into.channel, into.mode]).toEqual([3, UNRELIABLE, 3, UNRELIABLE]);

    const broadcast = nextEvent('B', 'peer_packet', (r) => hex(r.data.data) === '06');
    oracle.command('send_bytes', 'A', Buffer.from([6]), 0, RELIABLE, 0);
    await broadcast;
    await until(() => server.packets.some((p) => p.from === A.id && hex(p.data) === '06'), 'the broadcast at the server');
  });

  test('RPCs from client to client go through our relay; Godot refuses an authority call from a client', async () => {
    const hello = nextCall('B', 'hello');
    rpcFrom('A', B.id, 'hello', 'from a', 1);
    expect((await hello).data).toMatchObject({ from: A.id, args: ['from a', 1] });
    rpcFrom('A', B.id, 'announce', 'not allowed');
    await until(() => oracle.errors.some((e) => /RPC 'announce' is not allowed on node .*B\/Game from: \d+/.test(e)), "Godot's refusal");
  });

  test('a client that leaves is announced with DEL_PEER', async () => {
    const gone = nextEvent('A', 'peer_disconnected', (r) => r.data.id === B.id);
    oracle.command('close', 'B');
    await gone;
    await until(() => server.events.includes(`peer_disconnected ${B.id}`), 'peer_disconnected on the server');
    await oracle.waitForPacket((p) => p.bridge === A.bridge && p.direction === 'received' && hex(p.data) === '0702' + i32hex(B.id));
  });

  test('server_disconnected when our server closes', async () => {
    const closed = nextEvent('A', 'server_disconnected');
    server.peer.close();
    await closed;
  });
});

describe('authentication with Godot 4.6 clients', () => {
  const server = ourEnd();
  let port = 0;

  beforeAll(() => {
    server.mp.authTimeout = 1;
    server.mp.authCallback = (id, data) => {
      if (data.toString() === 'letmein') {
        server.mp.sendAuth(id, Buffer.from('welcome'));
        server.mp.completeAuth(id);
      } else {
        server.mp.disconnectPeer(id);
      }
    };
    port = server.listen();
  });

  test('accepted: both sides complete, then Godot is connected', async () => {
    const authData = nextEvent('C', 'auth');
    const joined = nextEvent('C', 'connected_to_server');
    const C = await godotClient('C', port, 'letmein');
    expect((await authData).data).toMatchObject({ id: 1, data: 'welcome' });
    await joined;
    // Godot's AUTH data and completion marker, and ours, on the wire.
    const sent = packetsOf(C.bridge, 'sent').map(wire);
    expect(sent.slice(0, 2)).toEqual([
      { hex: '0700' + hex(Buffer.from('letmein')), channel: 0, mode: RELIABLE },
      { hex: '0700', channel: 0, mode: RELIABLE },
    ]);
    expect(packetsOf(C.bridge, 'received').slice(0, 2).map(wire)).toEqual([
      { hex: '0700' + hex(Buffer.from('welcome')), channel: 0, mode: RELIABLE },
      { hex: '0700', channel: 0, mode: RELIABLE },
    ]);
    await until(() => server.events.includes(`peer_connected ${C.id}`), 'admission');
    expect(server.events).toContain(`peer_authenticating ${C.id}`);
  });

  test('rejected: the server disconnects the peer during authentication', async () => {
    const failed = nextEvent('D', 'peer_authentication_failed');
    const D = await godotClient('D', port, 'wrong');
    expect((await failed).data.id).toBe(1);
    expect(server.events).not.toContain(`peer_connected ${D.id}`);
  });

  test('timed out: a client that never authenticates is dropped after authTimeout', async () => {
    const failed = nextEvent('E', 'peer_authentication_failed');
    const E = await godotClient('E', port, '-');
    await until(() => server.events.includes(`peer_authentication_failed ${E.id}`), 'the timeout', 5000);
    expect((await failed).data.id).toBe(1);
  });
});

describe('our SceneMultiplayer client of a Godot 4.6 server', () => {
  const client = ourEnd();
  let bridge = 0;

  test('joins', async () => {
    const created = oracle.nextReport((r) => r.data.event === 'created' && r.data.branch === 'S');
    oracle.command('server', 'S');
    bridge = (await created).data.bridge;
    const { port } = await oracle.waitForBridge((b) => b.id === bridge && b.port > 0);
    const seen = nextEvent('S', 'peer_connected');
    client.join(port);
    await until(() => client.events.includes('connected_to_server'), 'connected_to_server');
    expect((await seen).data.id).toBe(client.mp.getUniqueId());
  });

  test('RPCs both ways, with types', async () => {
    const id = client.mp.getUniqueId();
    rpcFrom('S', id, 'announce', 'from godot');
    expect(await client.call('announce', 1)).toEqual(['from godot']);
    rpcFrom('S', id, 'types', ...TYPED_ARGS(0.5));
    expect(await client.call('types', 1)).toEqual(TYPED_ARGS(0.5));

    const hello = nextCall('S', 'hello');
    expect(client.game.rpcId(1, 'hello', 'node', 3)).toBe(GodotError.OK);
    expect((await hello).data).toMatchObject({ from: id, args: ['node', 3], arg_types: ['String', 'int'] });
    const types = nextCall('S', 'types');
    expect(client.game.rpcId(1, 'types', ...TYPED_ARGS(1))).toBe(GodotError.OK);
    expect((await types).data.arg_types).toEqual(TYPE_NAMES);
  });

  test('send_bytes both ways', async () => {
    const id = client.mp.getUniqueId();
    oracle.command('send_bytes', 'S', Buffer.from([7, 7]), id, RELIABLE, 0);
    await until(() => client.packets.some((p) => p.from === 1 && hex(p.data) === '0707'), 'bytes from Godot');
    const heard = nextEvent('S', 'peer_packet');
    expect(client.mp.sendBytes(Buffer.from([8]), 1, UNRELIABLE, 1)).toBe(GodotError.OK);
    expect((await heard).data).toMatchObject({ from: id, data: Buffer.from([8]) });
  });

  test('server_disconnected when the Godot server closes', async () => {
    oracle.command('close', 'S');
    await until(() => client.events.includes('server_disconnected'), 'server_disconnected');
    expect(client.peer.getConnectionStatus()).toBe(MultiplayerPeer.CONNECTION_DISCONNECTED);
  });
});

describe('the end of the run', () => {
  test('Godot printed no error but the refusal this file provoked', () => {
    expect(oracle.unexpectedErrors([/RPC 'announce' is not allowed/, /at: _process_rpc \(modules\/multiplayer\/scene_rpc_interface\.cpp/])).toEqual([]);
  });
});
