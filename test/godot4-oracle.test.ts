/**
 * The Godot 4.6 oracle (test/godot4/) proves itself against the real engine: one Godot 4.6.stable
 * (the official web template in headless Chromium) runs the whole file, with the scripts in
 * test/fixtures/godot4-oracle/. It checks
 *  - our Variant codec against Godot's own var_to_bytes / bytes_to_var, value by value;
 *  - the SceneMultiplayer bytes of a Godot client carried by the bridge to a plain ENetMultiplayerPeer
 *    server of ours (the reference bytes of the oracle guide), and hand-made bytes in the other
 *    direction;
 *  - a Godot server behind a bridge, for a plain client of ours and for Godot clients (relay).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import {
  AABB,
  Basis,
  Callable,
  Color,
  decodeVariant,
  encodeVariant,
  ENetMultiplayerPeer,
  float,
  GodotError,
  MultiplayerPacket,
  NodePath,
  PackedColorArray,
  PackedStringArray,
  PackedVector2Array,
  PackedVector3Array,
  PackedVector4Array,
  Plane,
  Projection,
  Quaternion,
  Rect2,
  Rect2i,
  RID,
  Signal,
  StringName,
  Transform2D,
  Transform3D,
  TransferMode,
  TypedArray,
  TypedDictionary,
  VariantType,
  Vector2,
  Vector2i,
  Vector3,
  Vector3i,
  Vector4,
  Vector4i,
} from '../src';
import { BridgePacket, GodotOracle, OracleReport, scriptScene, until, hex, i32hex } from './godot4/oracle';

const { TRANSFER_MODE_UNRELIABLE: UNRELIABLE, TRANSFER_MODE_RELIABLE: RELIABLE } = TransferMode;
const FIXTURES = path.join(__dirname, 'fixtures', 'godot4-oracle');

// ------------------------------------------------------------------------------------------------
// Variant vectors: a GDScript expression, the JS value our codec maps it to, and what our decoder
// gives back when that differs (a float(1) decodes to the number 1, say).

interface VariantCase {
  name: string;
  gd: string;
  js: unknown;
  decoded?: unknown;
}

const v2 = (x: number, y: number) => new Vector2(x, y);
const v3 = (x: number, y: number, z: number) => new Vector3(x, y, z);
const v4 = (x: number, y: number, z: number, w: number) => new Vector4(x, y, z, w);
const basis = new Basis(v3(1, 2, 3), v3(4, 5, 6), v3(7, 8, 9));
const BASIS_GD = 'Basis(Vector3(1, 2, 3), Vector3(4, 5, 6), Vector3(7, 8, 9))';
const { NIL, INT, FLOAT, STRING, STRING_NAME, VECTOR2, OBJECT } = VariantType;
const asIdClass = { type: OBJECT, className: 'EncodedObjectAsID' };

const CASES: VariantCase[] = [
  { name: 'nil', gd: 'null', js: null },
  { name: 'bool_true', gd: 'true', js: true },
  { name: 'bool_false', gd: 'false', js: false },
  { name: 'int_zero', gd: '0', js: 0 },
  { name: 'int_small', gd: '42', js: 42 },
  { name: 'int_negative', gd: '-7', js: -7 },
  { name: 'int32_max', gd: '2147483647', js: 2147483647 },
  { name: 'int32_min', gd: '-2147483648', js: -2147483648 },
  { name: 'int64_above_int32', gd: '2147483648', js: 2147483648 },
  { name: 'int64_beyond_js_safe', gd: '9007199254740993', js: 9007199254740993n },
  { name: 'int64_max', gd: '9223372036854775807', js: 9223372036854775807n },
  { name: 'int64_min', gd: '-9223372036854775807 - 1', js: -9223372036854775808n },
  { name: 'float_exact_in_f32', gd: '0.5', js: 0.5 },
  { name: 'float_integral', gd: '1.0', js: float(1), decoded: 1 },
  { name: 'float_negative_zero', gd: '-0.0', js: float(-0), decoded: -0 },
  { name: 'float_not_f32', gd: '0.1', js: 0.1 },
  { name: 'float_huge', gd: '1e300', js: 1e300 },
  { name: 'float_inf', gd: 'INF', js: Infinity },
  { name: 'float_minus_inf', gd: '-INF', js: -Infinity },
  { name: 'float_nan', gd: 'NAN', js: NaN },
  { name: 'string_empty', gd: '""', js: '' },
  { name: 'string_ascii', gd: '"hello"', js: 'hello' },
  { name: 'string_unicode', gd: '"héllo wörld ✓ 日本語 🎮"', js: 'héllo wörld ✓ 日本語 🎮' },
  { name: 'string_name', gd: '&"player_name"', js: new StringName('player_name') },
  { name: 'node_path', gd: '^"Main/Player:position:x"', js: NodePath.parse('Main/Player:position:x') },
  { name: 'node_path_absolute', gd: '^"/root/Main"', js: NodePath.parse('/root/Main') },
  { name: 'node_path_empty', gd: '^""', js: new NodePath() },
  { name: 'vector2', gd: 'Vector2(1.5, -2)', js: v2(1.5, -2) },
  { name: 'vector2i', gd: 'Vector2i(3, -4)', js: new Vector2i(3, -4) },
  { name: 'rect2', gd: 'Rect2(1, 2, 3.5, 4)', js: new Rect2(v2(1, 2), v2(3.5, 4)) },
  { name: 'rect2i', gd: 'Rect2i(-1, 2, 30, 40)', js: new Rect2i(new Vector2i(-1, 2), new Vector2i(30, 40)) },
  { name: 'vector3', gd: 'Vector3(1, 2.25, -3)', js: v3(1, 2.25, -3) },
  { name: 'vector3i', gd: 'Vector3i(1, -2, 3)', js: new Vector3i(1, -2, 3) },
  { name: 'transform2d', gd: 'Transform2D(Vector2(1, 2), Vector2(3, 4), Vector2(5, 6))', js: new Transform2D(v2(1, 2), v2(3, 4), v2(5, 6)) },
  { name: 'vector4', gd: 'Vector4(1, 2, 3, 4.5)', js: v4(1, 2, 3, 4.5) },
  { name: 'vector4i', gd: 'Vector4i(1, 2, -3, 4)', js: new Vector4i(1, 2, -3, 4) },
  { name: 'plane', gd: 'Plane(Vector3(0, 1, 0), 5)', js: new Plane(v3(0, 1, 0), 5) },
  { name: 'quaternion', gd: 'Quaternion(0.5, -0.5, 0.5, 0.5)', js: new Quaternion(0.5, -0.5, 0.5, 0.5) },
  { name: 'aabb', gd: 'AABB(Vector3(1, 2, 3), Vector3(4, 5, 6))', js: new AABB(v3(1, 2, 3), v3(4, 5, 6)) },
  { name: 'basis', gd: BASIS_GD, js: basis },
  { name: 'transform3d', gd: `Transform3D(${BASIS_GD}, Vector3(10, 11, 12))`, js: new Transform3D(basis, v3(10, 11, 12)) },
  {
    name: 'projection',
    gd: 'Projection(Vector4(1, 2, 3, 4), Vector4(5, 6, 7, 8), Vector4(9, 10, 11, 12), Vector4(13, 14, 15, 16))',
    js: new Projection(v4(1, 2, 3, 4), v4(5, 6, 7, 8), v4(9, 10, 11, 12), v4(13, 14, 15, 16)),
  },
  { name: 'color', gd: 'Color(0.25, 0.5, 0.75, 1)', js: new Color(0.25, 0.5, 0.75, 1) },
  { name: 'rid_empty', gd: 'RID()', js: new RID(0n) },
  { name: 'callable_empty', gd: 'Callable()', js: new Callable() },
  { name: 'signal_empty', gd: 'Signal()', js: new Signal('', 0n) },
  { name: 'dictionary_empty', gd: '{}', js: new Map() },
  {
    name: 'dictionary',
    gd: '{"k": "v", 1: [2, 3.5], Vector2i(1, 2): null}',
    js: new Map<unknown, unknown>([['k', 'v'], [1, [2, 3.5]], [new Vector2i(1, 2), null]]),
  },
  {
    name: 'dictionary_typed',
    gd: 'Dictionary({"a": 1, "b": 2}, TYPE_STRING, &"", null, TYPE_INT, &"", null)',
    js: new TypedDictionary({ type: STRING }, { type: INT }, [['a', 1], ['b', 2]]),
  },
  { name: 'dictionary_typed_key', gd: 'Dictionary({1: "x"}, TYPE_INT, &"", null, TYPE_NIL, &"", null)', js: new TypedDictionary({ type: INT }, { type: NIL }, [[1, 'x']]) },
  {
    name: 'dictionary_typed_float',
    gd: 'Dictionary({&"x": 1.0}, TYPE_STRING_NAME, &"", null, TYPE_FLOAT, &"", null)',
    js: new TypedDictionary({ type: STRING_NAME }, { type: FLOAT }, [[new StringName('x'), 1]]),
  },
  { name: 'array_empty', gd: '[]', js: [] },
  { name: 'array', gd: '[1, "two", 3.5, null, true]', js: [1, 'two', 3.5, null, true] },
  { name: 'array_nested', gd: '[[1, [2]], {"a": [true]}, []]', js: [[1, [2]], new Map([['a', [true]]]), []] },
  { name: 'array_typed_int', gd: 'Array([1, 2, 3], TYPE_INT, &"", null)', js: new TypedArray({ type: INT }, [1, 2, 3]) },
  { name: 'array_typed_float', gd: 'Array([1.0, 2.5], TYPE_FLOAT, &"", null)', js: new TypedArray({ type: FLOAT }, [1, 2.5]) },
  { name: 'array_typed_string', gd: 'Array(["a", "b"], TYPE_STRING, &"", null)', js: new TypedArray({ type: STRING }, ['a', 'b']) },
  { name: 'array_typed_vector2', gd: 'Array([Vector2(1, 2)], TYPE_VECTOR2, &"", null)', js: new TypedArray({ type: VECTOR2 }, [v2(1, 2)]) },
  { name: 'array_typed_class', gd: 'Array([], TYPE_OBJECT, &"Node", null)', js: new TypedArray({ type: OBJECT, className: 'Node' }), decoded: new TypedArray(asIdClass) },
  {
    name: 'array_typed_script',
    gd: 'Array([], TYPE_OBJECT, &"MultiplayerPeerExtension", BridgePeer)',
    js: new TypedArray({ type: OBJECT, script: 'res://oracle/bridge_peer.gd' }),
    decoded: new TypedArray(asIdClass),
  },
  { name: 'packed_byte_array', gd: 'PackedByteArray([0, 1, 127, 128, 255])', js: Buffer.from([0, 1, 127, 128, 255]) },
  { name: 'packed_byte_array_empty', gd: 'PackedByteArray()', js: Buffer.alloc(0) },
  { name: 'packed_int32_array', gd: 'PackedInt32Array([1, -2, 2147483647, -2147483648])', js: Int32Array.from([1, -2, 2147483647, -2147483648]) },
  { name: 'packed_int64_array', gd: 'PackedInt64Array([1, -2, 9223372036854775807])', js: BigInt64Array.from([1n, -2n, 9223372036854775807n]) },
  { name: 'packed_float32_array', gd: 'PackedFloat32Array([0.5, -1.25, 3])', js: Float32Array.from([0.5, -1.25, 3]) },
  { name: 'packed_float64_array', gd: 'PackedFloat64Array([0.1, -1e300, 2])', js: Float64Array.from([0.1, -1e300, 2]) },
  { name: 'packed_string_array', gd: 'PackedStringArray(["a", "", "héllo", "abcd"])', js: new PackedStringArray(['a', '', 'héllo', 'abcd']) },
  { name: 'packed_vector2_array', gd: 'PackedVector2Array([Vector2(1, 2), Vector2(-3.5, 4)])', js: new PackedVector2Array([v2(1, 2), v2(-3.5, 4)]) },
  { name: 'packed_vector3_array', gd: 'PackedVector3Array([Vector3(1, 2, 3)])', js: new PackedVector3Array([v3(1, 2, 3)]) },
  {
    name: 'packed_color_array',
    gd: 'PackedColorArray([Color(1, 0, 0, 1), Color(0, 0.5, 1, 0.25)])',
    js: new PackedColorArray([new Color(1, 0, 0, 1), new Color(0, 0.5, 1, 0.25)]),
  },
  { name: 'packed_vector4_array', gd: 'PackedVector4Array([Vector4(1, 2, 3, 4)])', js: new PackedVector4Array([v4(1, 2, 3, 4)]) },
  {
    name: 'nested',
    gd: '{"players": [{"name": "Ann", "pos": Vector3(1, 2, 3), "tags": PackedStringArray(["a"])}], "scores": Array([10, 20], TYPE_INT, &"", null)}',
    js: new Map<string, unknown>([
      ['players', [new Map<string, unknown>([['name', 'Ann'], ['pos', v3(1, 2, 3)], ['tags', new PackedStringArray(['a'])]])]],
      ['scores', new TypedArray({ type: INT }, [10, 20])],
    ]),
  },
];

/** res://vectors.gd: the cases' values, built by GDScript itself. */
function vectorsScript(): string {
  const entries = CASES.map((c) => `\t\t"${c.name}": ${c.gd},`).join('\n');
  return `extends RefCounted\n\n\nstatic func values() -> Dictionary:\n\treturn {\n${entries}\n\t}\n`;
}

/**
 * Godot 4.6 leaves the padding after NodePath name strings uninitialised (oracle guide, "Quirk"):
 * a top-level NodePath's padding bytes are zeroed before comparing.
 */
function zeroNodePathPadding(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  if ((out.readUInt32LE(0) & 0xff) !== VariantType.NODE_PATH) return out;
  const strings = (out.readUInt32LE(4) & 0x7fffffff) + out.readUInt32LE(8);
  let at = 16;
  for (let i = 0; i < strings; i++) {
    const length = out.readUInt32LE(at);
    const end = at + 4 + length;
    const padded = at + 4 + Math.ceil(length / 4) * 4;
    out.fill(0, end, padded);
    at = padded;
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// SceneMultiplayer reference bytes (oracle guide, "Reference bytes seen from Godot 4.6"): node Game,
// RPCs hello (id 0), move (id 1, unreliable, channel 1), ping (id 2).

const RPC_MD5 = createHash('md5').update('hellomoveping').digest('hex');
const GAME = hex(Buffer.from('Game\0'));
const SIMPLIFY_PATH_GAME = `01${hex(Buffer.from(RPC_MD5))}00` + '01000000' + GAME;
const HELLO_INLINE = '20' + '15000080' + '00' + '02' + '022a' + '04000000' + '01000000' + '78000000' + GAME;
const MOVE_INLINE = '20' + '13000080' + '01' + '01' + '05000000' + '00004040' + '00008040' + GAME;
const PING_INLINE = 'a0' + '06000080' + '02' + GAME;
const CONFIRM_PATH_1 = '02' + '01' + '01000000';
const HELLO_CACHED_PREFIX = '00' + '01' + '00' + '02';
const MOVE_CACHED = '00' + '01' + '01' + '01' + '05000000' + '00004040' + '00008040';
const PING_CACHED = '80' + '01' + '02';



function plainVariant(value: unknown): string {
  const { error, bytes } = encodeVariant(value);
  expect(error).toBe(GodotError.OK);
  return hex(bytes);
}


/** A plain ENetMultiplayerPeer (server or client) of ours that keeps what it receives. */
class NodePeer {
  readonly peer = new ENetMultiplayerPeer({ autoPoll: true });
  readonly packets: MultiplayerPacket[] = [];
  readonly connected: number[] = [];
  readonly disconnected: number[] = [];

  constructor() {
    this.peer.on('packet', (p) => this.packets.push(p));
    this.peer.on('peer_connected', (id) => this.connected.push(id));
    this.peer.on('peer_disconnected', (id) => this.disconnected.push(id));
  }

  /** The next `count` packets from `from` after the first `skip` of them. */
  async packetsFrom(from: number, skip: number, count: number): Promise<MultiplayerPacket[]> {
    const mine = () => this.packets.filter((p) => p.from === from).slice(skip);
    await until(() => mine().length >= count, `${count} packet(s) from peer ${from}`);
    return mine().slice(0, count);
  }

  countFrom(from: number): number {
    return this.packets.filter((p) => p.from === from).length;
  }

  send(target: number, bytes: string, mode = RELIABLE, channel = 0): void {
    this.peer.setTargetPeer(target);
    this.peer.transferMode = mode;
    this.peer.transferChannel = channel;
    expect(this.peer.putPacket(Buffer.from(bytes, 'hex'))).toBe(GodotError.OK);
  }

  get port(): number {
    return this.peer.host?.getLocalPort() ?? 0;
  }
}

const wire = (p: MultiplayerPacket | BridgePacket) => ({ hex: hex(p.data), channel: p.channel, mode: p.mode });

let oracle: GodotOracle;
const peers: NodePeer[] = [];

function nodePeer(): NodePeer {
  const p = new NodePeer();
  peers.push(p);
  return p;
}

beforeAll(async () => {
  const files: Record<string, string> = { 'main.tscn': scriptScene('res://main.gd'), 'vectors.gd': vectorsScript() };
  for (const file of ['main.gd', 'game.gd']) files[file] = fs.readFileSync(path.join(FIXTURES, file), 'utf8');
  oracle = await GodotOracle.start({ files });
}, 90000);

afterAll(async () => {
  for (const p of peers) p.peer.close();
  await oracle?.stop();
});

/** Creates a multiplayer branch in Godot (command client / server) and returns its report. */
async function branch(kind: 'client' | 'server', name: string, ...args: unknown[]): Promise<OracleReport> {
  const created = oracle.nextReport((r) => r.data.event === 'created' && r.data.branch === name);
  oracle.command(kind, name, ...args);
  const report = await created;
  expect(report.data.error).toBe(GodotError.OK);
  return report;
}

/** Runs Game.rpc_id(target, method, ...args) in Godot's branch `name`. */
function rpcFrom(name: string, target: number, method: string, ...args: unknown[]): void {
  oracle.command('rpc', name, target, method, args);
}

function nextEvent(name: string, event: string, extra: (r: OracleReport) => boolean = () => true): Promise<OracleReport> {
  return oracle.nextReport((r) => r.data.branch === name && r.data.event === event && extra(r));
}

describe('the engine', () => {
  test('is Godot 4.6.stable, and booted without an error', async () => {
    await expect(oracle.waitForOutput(/^Godot Engine v4\.6\.stable\b/)).resolves.toMatch(/official/);
    expect(oracle.unexpectedErrors()).toEqual([]);
  });

  test('reports and commands keep their Variant types both ways', async () => {
    const echo = oracle.nextReport((r) => r.data.event === 'echo');
    oracle.command('echo', [1, float(1), 'x', new Vector2(1, 2), new TypedArray({ type: INT }, [3]), new StringName('n'), 2n ** 40n]);
    const report = await echo;
    expect(report.data.types).toEqual(['int', 'float', 'String', 'Vector2', 'Array', 'StringName', 'int']);
    expect(report.text.values).toBe('[1, 1.0, "x", Vector2(1, 2), Array[int]([3]), &"n", 1099511627776]');
    expect(report.types).toEqual({ event: 'String', values: 'Array', types: 'Array' });
    expect(report.data.values).toEqual([1, 1, 'x', new Vector2(1, 2), [3], new StringName('n'), 2 ** 40]);
  });
});

describe('Variant vectors from Godot 4.6', () => {
  let godotHex: Map<string, string>;

  beforeAll(async () => {
    const vectors = oracle.nextReport((r) => r.data.event === 'vectors');
    oracle.command('vectors');
    godotHex = (await vectors).data.hex as Map<string, string>;
  });

  test('Godot computed every case', () => {
    expect([...godotHex.keys()]).toEqual(CASES.map((c) => c.name));
  });

  test.each(CASES)('$name: our encodeVariant = var_to_bytes, our decodeVariant reads it', ({ name, js, decoded }) => {
    const godot = zeroNodePathPadding(Buffer.from(godotHex.get(name) as string, 'hex'));
    const ours = encodeVariant(js);
    expect(ours.error).toBe(GodotError.OK);
    expect(hex(ours.bytes)).toBe(hex(godot));
    const back = decodeVariant(godot);
    expect(back).toEqual({ error: GodotError.OK, value: decoded ?? js, length: godot.length });
    // Typed containers keep their element type (a number only says INT or FLOAT once re-typed).
    if (typeof back.value !== 'number') expect(hex(encodeVariant(back.value).bytes)).toBe(hex(godot));
  });

  test("Godot's bytes_to_var reads our encoding as it reads its own", async () => {
    const ours = new Map(CASES.map((c) => [c.name, hex(encodeVariant(c.js).bytes)]));
    const decoded = oracle.nextReport((r) => r.data.event === 'decoded');
    oracle.command('decode', ours);
    const result = (await decoded).data.result as Map<string, string>;
    expect(Object.fromEntries(result)).toEqual(Object.fromEntries(CASES.map((c) => [c.name, 'ok'])));
  });
});

describe('a Godot client through the bridge, against a plain ENetMultiplayerPeer server', () => {
  const server = nodePeer();
  let id = 0; // the Godot client's unique id
  let bridge = 0; // its bridge's id

  const rpc = (target: number, method: string, ...args: unknown[]) => rpcFrom('C1', target, method, ...args);

  test('connects: the same unique id on both sides, CONNECTING then connected_to_server', async () => {
    server.peer.setBindIp('127.0.0.1');
    expect(server.peer.createServer(0)).toBe(GodotError.OK);
    const connected = nextEvent('C1', 'connected_to_server');
    const created = await branch('client', 'C1', server.port);
    id = created.data.id;
    bridge = created.data.bridge;
    expect(created.types.id).toBe('int');
    expect((await connected).data.id).toBe(id);
    expect(server.connected).toEqual([id]);
    expect(oracle.bridges.get(created.data.bridge)).toMatchObject({ kind: 'client', uniqueId: id, port: 0 });
  });

  test('before CONFIRM_PATH: SIMPLIFY_PATH, then RPCs with the path inline', async () => {
    rpc(1, 'hello', 42, 'x');
    rpc(0, 'move', new Vector2(3, 4));
    rpc(1, 'ping');
    const got = (await server.packetsFrom(id, 0, 4)).map(wire);
    expect(got).toEqual([
      { hex: SIMPLIFY_PATH_GAME, channel: 0, mode: RELIABLE },
      { hex: HELLO_INLINE, channel: 0, mode: RELIABLE },
      { hex: MOVE_INLINE, channel: 1, mode: UNRELIABLE },
      { hex: PING_INLINE, channel: 0, mode: RELIABLE },
    ]);
  });

  test('after CONFIRM_PATH (sent by hand): RPCs by cache id', async () => {
    server.send(id, CONFIRM_PATH_1);
    await oracle.waitForPacket((p) => p.direction === 'received' && hex(p.data) === CONFIRM_PATH_1);
    rpc(1, 'hello', [1, float(2.5)], new Map([['k', 'v']]));
    rpc(0, 'move', new Vector2(3, 4));
    rpc(1, 'ping');
    const got = (await server.packetsFrom(id, 4, 3)).map(wire);
    expect(got).toEqual([
      { hex: HELLO_CACHED_PREFIX + plainVariant([1, 2.5]) + plainVariant(new Map([['k', 'v']])), channel: 0, mode: RELIABLE },
      { hex: MOVE_CACHED, channel: 1, mode: UNRELIABLE },
      { hex: PING_CACHED, channel: 0, mode: RELIABLE },
    ]);
  });

  test('send_bytes: RAW with its channel and mode, RELAY for everyone', async () => {
    oracle.command('send_bytes', 'C1', Buffer.from([9, 8, 7]), 1, UNRELIABLE, 2);
    oracle.command('send_bytes', 'C1', Buffer.from([1, 2, 3]), 0, RELIABLE, 0);
    const got = (await server.packetsFrom(id, 7, 2)).map(wire);
    expect(got).toEqual([
      { hex: '03090807', channel: 2, mode: UNRELIABLE },
      { hex: '0703' + '00000000' + '03010203', channel: 0, mode: RELIABLE },
    ]);
  });

  test('every packet crossed the bridge as logged: target, channel, mode, bytes', () => {
    const sent = oracle.packets.filter((p) => p.direction === 'sent' && p.bridge === bridge);
    expect(sent.map(wire)).toEqual(server.packets.filter((p) => p.from === id).map(wire));
    expect(sent.every((p) => p.peer === 1)).toBe(true); // a client sends everything to the server
  });

  test("the server's hand-made ADD_PEER, RAW and DEL_PEER reach Godot's SceneMultiplayer", async () => {
    const added = nextEvent('C1', 'peer_connected');
    server.send(id, '0701' + i32hex(12345));
    expect((await added).data.id).toBe(12345);

    const raw = nextEvent('C1', 'peer_packet');
    server.send(id, '03' + 'c0ffee', UNRELIABLE, 3);
    expect((await raw).data).toMatchObject({ from: 1, data: Buffer.from('c0ffee', 'hex') });

    const removed = nextEvent('C1', 'peer_disconnected');
    server.send(id, '0702' + i32hex(12345));
    expect((await removed).data.id).toBe(12345);
  });

  test("the server's SIMPLIFY_PATH is confirmed, then its RPCs by cache id are called in Godot", async () => {
    const before = server.countFrom(id);
    server.send(id, `01${hex(Buffer.from(RPC_MD5))}00` + '07000000' + GAME);
    const [confirm] = await server.packetsFrom(id, before, 1);
    expect(wire(confirm)).toEqual({ hex: '02' + '01' + '07000000', channel: 0, mode: RELIABLE });

    const hello = nextEvent('C1', 'rpc', (r) => r.data.method === 'hello');
    server.send(id, '00' + '07' + '00' + '02' + '02' + '07' + plainVariant('y'));
    const call = await hello;
    expect(call.data).toMatchObject({ from: 1, args: [7, 'y'] });
    expect(call.text.args).toBe('[7, "y"]');

    const move = nextEvent('C1', 'rpc', (r) => r.data.method === 'move');
    server.send(id, '00' + '07' + '01' + '01' + plainVariant(new Vector2(0.5, -1)), UNRELIABLE, 1);
    expect((await move).text.args).toBe('[Vector2(0.5, -1)]');
  });

  test("a packet's round trip: server → bridge → Godot → bridge → server", async () => {
    const before = server.countFrom(id);
    server.send(id, '03' + 'ee0102');
    const [echo] = await server.packetsFrom(id, before, 1);
    expect(wire(echo)).toEqual({ hex: '03' + 'ee0102', channel: 0, mode: RELIABLE });
  });

  test('several Godot clients, each its own SceneMultiplayer branch, in the same Godot', async () => {
    const ids: number[] = [];
    for (const name of ['C2', 'C3']) {
      const connected = nextEvent(name, 'connected_to_server');
      await branch('client', name, server.port);
      ids.push((await connected).data.id);
    }
    expect(new Set([id, ...ids]).size).toBe(3);
    expect(server.connected).toEqual([id, ...ids]);
    rpcFrom('C2', 1, 'ping');
    rpcFrom('C3', 1, 'ping');
    for (const other of ids) {
      const [simplify, ping] = await server.packetsFrom(other, 0, 2);
      expect(hex(simplify.data)).toBe(SIMPLIFY_PATH_GAME); // the path is relative to each branch's root
      expect(hex(ping.data)).toBe(PING_INLINE);
    }
  });

  test('disconnections: the server kicks C2, C3 closes its peer', async () => {
    const [c2, c3] = server.connected.slice(1);
    const kicked = nextEvent('C2', 'server_disconnected');
    server.peer.disconnectPeer(c2);
    await kicked;
    oracle.command('close', 'C3');
    await until(() => server.disconnected.includes(c2) && server.disconnected.includes(c3), 'both disconnections');
  });
});

describe('a Godot server through the bridge', () => {
  let port = 0;
  let g1: Record<string, any>; // the 'created' reports of Godot clients G1 and G2
  let g2: Record<string, any>;

  test('listens on a free port that the test reads from the bridge', async () => {
    const created = await branch('server', 'S');
    expect(created.data.id).toBe(1);
    const bridge = await oracle.waitForBridge((b) => b.id === created.data.bridge);
    expect(bridge).toMatchObject({ kind: 'server', uniqueId: 1 });
    port = bridge.port;
    expect(port).toBeGreaterThan(0);
  });

  test('a plain ENetMultiplayerPeer client gets what its SceneMultiplayer sends, and is heard', async () => {
    const client = nodePeer();
    const joined = nextEvent('S', 'peer_connected');
    expect(client.peer.createClient('127.0.0.1', port)).toBe(GodotError.OK);
    const id = client.peer.getUniqueId();
    expect((await joined).data.id).toBe(id);

    rpcFrom('S', id, 'hello', 7, 'y');
    oracle.command('send_bytes', 'S', Buffer.from('abcd', 'hex'), id, RELIABLE, 0);
    const got = (await client.packetsFrom(1, 0, 3)).map(wire);
    expect(got).toEqual([
      { hex: SIMPLIFY_PATH_GAME, channel: 0, mode: RELIABLE },
      { hex: '20' + '15000080' + '00' + '02' + '0207' + plainVariant('y') + GAME, channel: 0, mode: RELIABLE },
      { hex: '03abcd', channel: 0, mode: RELIABLE },
    ]);

    const heard = nextEvent('S', 'peer_packet');
    client.send(1, '03' + '0102');
    expect((await heard).data).toMatchObject({ from: id, data: Buffer.from([1, 2]) });
    client.peer.close();
    await nextEvent('S', 'peer_disconnected', (r) => r.data.id === id);
  });

  test('Godot clients of the Godot server: ADD_PEER and RELAY as Godot sends them', async () => {
    [g1, g2] = [await branch('client', 'G1', port), await branch('client', 'G2', port)].map((r) => r.data);
    // G1 learns of G2 through the server's ADD_PEER, as over Godot's own ENet.
    await oracle.waitForReport((r) => r.data.branch === 'G1' && r.data.event === 'peer_connected' && r.data.id === g2.id);
    await oracle.waitForPacket((p) => p.bridge === g1.bridge && p.direction === 'received' && hex(p.data) === '0701' + i32hex(g2.id));

    const hello = nextEvent('G2', 'rpc', (r) => r.data.method === 'hello');
    rpcFrom('G1', g2.id, 'hello', 'hi', 5);
    expect((await hello).data).toMatchObject({ from: g1.id, args: ['hi', 5] });
    // The first packet G1 addressed to G2 (its SIMPLIFY_PATH), wrapped in a RELAY each way.
    const relay = (b: Record<string, any>, direction: string, id: number) => (p: BridgePacket) =>
      p.bridge === b.bridge && p.direction === direction && hex(p.data).startsWith('0703' + i32hex(id));
    const out = await oracle.waitForPacket(relay(g1, 'sent', g2.id));
    const into = await oracle.waitForPacket(relay(g2, 'received', g1.id));
    expect(out.peer).toBe(1);
    expect(hex(out.data).slice(12, 14)).toBe('01');
    expect(hex(out.data).slice(12)).toBe(hex(into.data).slice(12)); // the inner packet, byte for byte
  });

  test("the Godot server's disconnect_peer: G1 is dropped, G2 told by DEL_PEER", async () => {
    const dropped = nextEvent('G1', 'server_disconnected');
    const told = nextEvent('G2', 'peer_disconnected');
    oracle.command('disconnect_peer', 'S', g1.id);
    await dropped;
    expect((await told).data.id).toBe(g1.id);
    await oracle.waitForPacket((p) => p.bridge === g2.bridge && p.direction === 'received' && hex(p.data) === '0702' + i32hex(g1.id));
  });
});

describe('the end of the run', () => {
  test('Godot printed no error', () => {
    expect(oracle.unexpectedErrors()).toEqual([]);
  });

  test('a project whose script does not parse fails start() with the Godot errors', async () => {
    const files = { 'main.tscn': scriptScene('res://main.gd'), 'main.gd': 'extends Node\nfunc _ready(:\n\tpass\n' };
    await expect(GodotOracle.start({ files })).rejects.toThrow(/Godot printed errors while booting:\n.*Parse Error/);
  }, 60000);
});
