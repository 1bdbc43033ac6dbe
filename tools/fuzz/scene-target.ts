/**
 * The `scene` target of tools/fuzz/js-fuzz.js: SceneMultiplayer's receive path (src/multiplayer/, with
 * the compressed Variants of src/variant/marshalls.ts and the declared types of src/variant/typed.ts),
 * driven in-process through an in-memory MultiplayerPeer (test/helpers/memory-peer.ts).
 *
 * One input is one session of a server or of a client SceneMultiplayer: a config byte (which side, auth
 * on or off, relay, object decoding, handlers that throw, who the player node's authority is), then
 * operations: packets from peers (sender, channel, transfer mode, bytes), peers connecting and leaving,
 * polls, and the API calls that give packets a meaning (completeAuth, sendAuth, RPCs that offer node
 * paths, sendBytes, disconnectPeer, a node removed and registered again, an authority change, time
 * passing for the auth timeout, the transport closing). Both sides register the same nodes, whose RPC
 * methods have typed and untyped arguments (and a Node.rpc_config() one, and one nobody handles).
 *
 * Checks, for every input:
 *  - nothing throws out of poll() or the API calls, and no handler exception escapes;
 *  - every packet is accounted for: it was dropped and counted (getCounters() rose while it was
 *    processed), or it visibly did something (an event, the auth callback, an RPC handler, a packet
 *    sent, a peer disconnected), or it is one of the few that legitimately do nothing visible (an AUTH
 *    completion marker, the CONFIRM_PATH of a path we offered that peer, a server relay to "everyone
 *    but the server" with nobody else there). A packet with none of these was dropped silently;
 *  - RPC handlers only see arguments that match their declared GDScript types (checked here, apart
 *    from src/variant/typed.ts), in a number the method takes; on a server, getRemoteSenderId() in a
 *    handler is a connected peer (or ourselves, for call_local), and 0 outside;
 *  - what is sent while a packet is processed goes to connected transport peers only, nothing but AUTH
 *    to a peer still authenticating, and a relay is forwarded byte-identical with the source id, the
 *    mode and the channel it arrived with, never back to its sender;
 *  - state stays bounded: on a server the admitted and authenticating peers are transport peers, and
 *    disjoint; on a client no more relayed peers than a server can have;
 *  - no "unexpected" error from the Variant decoder's catch-all.
 *
 * Seeds are real traffic (makeSeeds): sessions of our own SceneMultiplayer server and clients over a
 * MemoryNetwork (auth accepted, refused and timed out, send_bytes and relays every way, RPCs of every
 * declared method both ways before and after path confirmation, a client leaving), recorded as inputs
 * from the server's and from one client's side; plus the byte examples of the spec's Appendix A and the
 * hostile packets of test/scene-multiplayer.test.ts.
 */
import * as fs from 'fs';
import * as path from 'path';
import { SceneMultiplayer } from '../../src/multiplayer/SceneMultiplayer';
import { NetworkNode } from '../../src/multiplayer/NetworkNode';
import { TransferMode } from '../../src/multiplayer/MultiplayerPeer';
import { RpcDeclaration } from '../../src/multiplayer/rpc-config';
import {
  AABB,
  Basis,
  Callable,
  Color,
  GodotObject,
  NodePath,
  ObjectId,
  Plane,
  Projection,
  Quaternion,
  RID,
  Rect2,
  Rect2i,
  Signal,
  StringName,
  Transform2D,
  Transform3D,
  Vector2,
  Vector2i,
  Vector3,
  Vector3i,
  Vector4,
  Vector4i,
  TypedArray,
  TypedDictionary,
  VariantType,
  VariantReader,
  VariantWriter,
  float,
  readCompressedVariant,
  writeCompressedVariant,
} from '../../src/variant/marshalls';
import { GodotError, setErrorReporter } from '../../src/core/errors';
import { MemoryNetwork, MemoryPacket, MemoryPeer } from '../../test/helpers/memory-peer';

const SRC = path.join(__dirname, '..', '..', 'src');

// ---------------------------------------------------------------------------------------------
// The input format

export const CONFIG_CLIENT = 1 << 0;
export const CONFIG_AUTH = 1 << 1;
/** With auth: our auth callback completes on any data (otherwise only on the right secret). */
export const CONFIG_AUTH_LENIENT = 1 << 2;
export const CONFIG_NO_RELAY = 1 << 3;
export const CONFIG_OBJECTS = 1 << 4;
export const CONFIG_THROWING = 1 << 5;
/** Bits 6-7: the authority of Main/World/Player: 1, peers[0], peers[1], or ourselves. */
const CONFIG_AUTHORITY_SHIFT = 6;

/** Op bytes below ACTION_BASE are packets: sender index (bits 0-2), channel (3-4), mode (5-7, mod 3). */
const ACTION_BASE = 0xc0;
export const enum Action {
  LINK = 0,
  UNLINK = 1,
  POLL = 2,
  COMPLETE_AUTH = 3,
  SEND_AUTH = 4,
  /** + call index byte */
  RPC = 5,
  /** + byte: the clock advances by it × 16 ms */
  TIME = 6,
  /** + byte: see Misc */
  MISC = 7,
}
const ACTIONS_WITH_ARG = new Set([Action.RPC, Action.TIME, Action.MISC]);
export const enum Misc {
  SEND_BYTES = 0,
  DISCONNECT_PEER = 1,
  REMOVE_PLAYER = 2,
  REGISTER_PLAYER = 3,
  GAME_AUTHORITY = 4,
  CLOSE = 5,
  /** The multiplayer root path, unset and set again. */
  ROOT_PATH = 6,
}
const MISC_COUNT = 7;

export const CLIENT_ID = 999;
/** Peer ids by index: a server's clients; a client's server (index 0) and fellow clients. */
export const SERVER_PEERS = [2, 3, 12345, 777, CLIENT_ID, 0x7fffffff, 1, 42];
export const CLIENT_PEERS = [1, 12345, 777, 2, 3, 0x7fffffff, 42, CLIENT_ID];
/** Where the RPC and send-bytes actions send: a peer, or (indexes 6 and 7) everyone but peers[2], or everyone. */
function targetOf(peers: readonly number[], index: number): number {
  return index === 7 ? 0 : index === 6 ? -peers[2] : peers[index];
}
/** A server has at most 4095 ENet peers; a client believing in more is being lied to. */
const MAX_RELAYED_PEERS = 4095;

export interface PacketOp {
  kind: 'packet';
  sender: number;
  channel: number;
  mode: TransferMode;
  data: Buffer;
  bytes: Buffer;
}
export interface ActionOp {
  kind: 'action';
  action: Action;
  peer: number;
  arg: number;
  bytes: Buffer;
}
export type Op = PacketOp | ActionOp;

export function encodePacket(sender: number, channel: number, mode: TransferMode, data: Uint8Array): Buffer {
  const op = (sender & 7) | ((channel & 3) << 3) | ((mode % 3) << 5);
  const len = data.length < 0xff ? Buffer.from([data.length]) : Buffer.from([0xff, data.length & 0xff, (data.length >> 8) & 0xff]);
  return Buffer.concat([Buffer.from([op]), len, data.subarray(0, 0xffff)]);
}

export function encodeAction(action: Action, peer = 0, arg = 0): Buffer {
  const op = ACTION_BASE | (action << 3) | (peer & 7);
  return ACTIONS_WITH_ARG.has(action) ? Buffer.from([op, arg & 0xff]) : Buffer.from([op]);
}

export function parseInput(input: Uint8Array): { config: number; ops: Op[] } {
  const config = input.length > 0 ? input[0] : 0;
  const ops: Op[] = [];
  let i = 1;
  while (i < input.length) {
    const start = i;
    const op = input[i++];
    if (op < ACTION_BASE) {
      let len = i < input.length ? input[i++] : 0;
      if (len === 0xff) {
        len = (input[i] ?? 0) | ((input[i + 1] ?? 0) << 8);
        i += 2;
      }
      const data = Buffer.from(input.subarray(Math.min(i, input.length), Math.min(i + len, input.length)));
      i = Math.min(i + len, input.length);
      ops.push({ kind: 'packet', sender: op & 7, channel: (op >> 3) & 3, mode: ((op >> 5) % 3) as TransferMode, data, bytes: Buffer.from(input.subarray(start, i)) });
    } else {
      const action = ((op - ACTION_BASE) >> 3) as Action;
      const arg = ACTIONS_WITH_ARG.has(action) && i < input.length ? input[i++] : 0;
      ops.push({ kind: 'action', action, peer: op & 7, arg, bytes: Buffer.from(input.subarray(start, i)) });
    }
  }
  return { config, ops };
}

// ---------------------------------------------------------------------------------------------
// The game both sides declare

type Declared = { script: Record<string, RpcDeclaration>; rpcConfig?: Record<string, RpcDeclaration> };
const GAME: Declared = {
  script: {
    hello: { rpcMode: 'any_peer', args: ['int', 'String'] },
    move: { rpcMode: 'authority', transferMode: 'unreliable', channel: 1, args: ['Vector2'] },
    ping: '@rpc("any_peer")',
    echo: { rpcMode: 'any_peer', args: ['int', 'float', 'String'] },
    untyped: '@rpc("any_peer", "call_local")',
    lists: { rpcMode: 'any_peer', transferMode: 'unreliable_ordered', channel: 2, args: ['Array[int]', 'Dictionary[String, float]'] },
    optional: { rpcMode: 'any_peer', args: ['int', { type: 'float', optional: true }] },
    blob: { rpcMode: 'any_peer', args: ['PackedByteArray'] },
    names: { rpcMode: 'any_peer', args: ['StringName', 'NodePath'] },
    thing: { rpcMode: 'any_peer', args: ['Node'] },
    shapes: { rpcMode: 'any_peer', args: ['Vector3i', 'Color', 'Transform2D', 'Array[Vector2]', 'Array'] },
    nohandler: '@rpc("any_peer")',
  },
  rpcConfig: { cfg: { rpcMode: 'any_peer', args: ['bool'] }, cfg_auth: '@rpc("authority", "unreliable")' },
};
const PLAYER: Declared = {
  script: {
    sync_pos: { rpcMode: 'authority', args: ['Vector3'] },
    chat: { rpcMode: 'any_peer', args: ['String'] },
    secret: { rpcMode: 'disabled' },
  },
};
export const NODES: Record<string, Declared> = { Game: GAME, 'Main/World/Player': PLAYER, 'Main/HUD': { script: {} } };

/** Calls the RPC action makes (its argument byte picks one): valid for their declarations. */
const CALLS: Array<[string, string, () => unknown[]]> = [
  ['Game', 'hello', () => [42, 'x']],
  ['Game', 'echo', () => [7, 2.5, 'two']],
  ['Game', 'untyped', () => [float(2)]],
  ['Game', 'ping', () => []],
  ['Game', 'blob', () => [Buffer.from([0xaa, 0xbb])]],
  ['Game', 'lists', () => [[1, 2, 3], { a: 1.5 }]],
  ['Game', 'optional', () => [1]],
  ['Game', 'names', () => ['n', '/root/Game:position']],
  ['Game', 'thing', () => [null]],
  ['Game', 'shapes', () => [new Vector3i(1, 2, 3), new Color(1, 0, 0, 1), new Transform2D(new Vector2(1, 0), new Vector2(0, 1), new Vector2(5, 6)), [new Vector2(1, 2)], [1, 'a', null]]],
  ['Game', 'cfg', () => [true]],
  ['Game', 'move', () => [new Vector2(3, 4)]],
  ['Main/World/Player', 'chat', () => ['hi']],
  ['Main/World/Player', 'sync_pos', () => [new Vector3(1, 2, 3)]],
];

function declaredArgs(decl: RpcDeclaration): Array<{ type: string; optional: boolean }> | null {
  if (typeof decl === 'string' || decl.args === undefined) return null;
  return decl.args.map((a) => (typeof a === 'string' ? { type: a, optional: false } : { type: a.type, optional: a.optional === true }));
}

const CLASSES: Record<string, abstract new (...args: never[]) => unknown> = {
  Vector2, Vector2i, Vector3, Vector3i, Vector4, Vector4i, Rect2, Rect2i, Transform2D, Transform3D, Plane, Quaternion, AABB, Basis,
  Projection, Color, StringName, NodePath, RID, Callable, Signal,
};

/** Whether a handler argument is what a GDScript parameter of type `t` can hold (independent of typed.ts). */
export function matchesType(v: unknown, t: string): boolean {
  const generic = /^(Array|Dictionary)\[(.*)\]$/.exec(t);
  if (generic !== null) {
    if (generic[1] === 'Array') return Array.isArray(v) && v.every((x) => matchesType(x, generic[2]));
    const [k, val] = generic[2].split(',').map((s) => s.trim());
    return v instanceof Map && [...v].every(([a, b]) => matchesType(a, k) && matchesType(b, val));
  }
  switch (t) {
    case '':
    case 'Variant':
      return true;
    case 'bool':
      return typeof v === 'boolean';
    case 'int':
      return (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 63) || (typeof v === 'bigint' && v >= -(2n ** 63n) && v < 2n ** 63n);
    case 'float':
      return typeof v === 'number';
    case 'String':
      return typeof v === 'string';
    case 'Array':
      return Array.isArray(v);
    case 'Dictionary':
      return v instanceof Map;
    case 'PackedByteArray':
      return v instanceof Uint8Array;
    case 'Node':
      return v === null || v instanceof ObjectId || v instanceof GodotObject;
    default:
      return CLASSES[t] !== undefined && v instanceof CLASSES[t];
  }
}

// ---------------------------------------------------------------------------------------------
// One side: a SceneMultiplayer on a MemoryPeer with the game's nodes, our auth behaviour and handlers

export interface Observer {
  /** Something visible happened (an event, the auth callback, a handler, a send, a disconnect). */
  effect(): void;
  fail(message: string): void;
}

const quiet: Observer = { effect: () => undefined, fail: () => undefined };

/** The fake clock every side reads through Date.now while an input runs. */
const clock = { now: 1_000_000 };

/**
 * The game's nodes registered on a SceneMultiplayer, each RPC method (but `nohandler`) handled by a
 * check that its arguments match the declaration and, on a server, that the remote sender is a peer.
 */
export class GameNodes {
  readonly nodes = new Map<string, NetworkNode>();
  calls = 0;

  constructor(
    readonly mp: SceneMultiplayer,
    readonly observer: Observer,
    readonly options: { server: boolean; playerAuthority: number; throwing: boolean },
  ) {
    for (const nodePath of Object.keys(NODES)) this.register(nodePath);
  }

  register(nodePath: string): void {
    const decl = NODES[nodePath];
    const authority = nodePath === 'Main/World/Player' ? this.options.playerAuthority : 1;
    const node = this.mp.registerNode(nodePath, decl.script, { rpcConfig: decl.rpcConfig, authority });
    this.nodes.set(nodePath, node);
    for (const [name, method] of [...Object.entries(decl.script), ...Object.entries(decl.rpcConfig ?? {})]) {
      if (name === 'nohandler') continue;
      node.on(name, (...args: unknown[]) => this.#handled(nodePath, name, method, args));
    }
    // Two handlers on one method: both run, each counted.
    if (nodePath === 'Game') node.on('ping', () => this.calls++);
  }

  #handled(nodePath: string, name: string, decl: RpcDeclaration, args: unknown[]): void {
    this.calls++;
    this.observer.effect();
    const where = `handler ${nodePath}.${name}`;
    const params = declaredArgs(decl);
    if (params !== null) {
      const required = params.filter((p) => !p.optional).length;
      if (args.length < required || args.length > params.length) this.observer.fail(`${where} got ${args.length} arguments, declared ${required}..${params.length}`);
      args.forEach((a, i) => {
        if (i < params.length && !matchesType(a, params[i].type)) {
          this.observer.fail(`${where}: argument ${i + 1} is not a ${params[i].type}: ${describe(a)}`);
        }
      });
    }
    const sender = this.mp.getRemoteSenderId();
    if (this.options.server && sender !== 1 && !this.mp.getPeers().includes(sender)) {
      this.observer.fail(`${where} runs with remote sender ${sender}, which is not a connected peer`);
    }
    if (this.options.throwing) throw new Error(`${where} throws, as handlers may`);
  }
}

export class Side {
  readonly mp = new SceneMultiplayer({ maxPathsPerPeer: 8 });
  readonly peers: readonly number[];
  readonly game: GameNodes;
  /** Set by makeSeeds: records what this side does as input operations. */
  record: ((op: Buffer) => void) | null = null;

  constructor(
    readonly config: number,
    readonly peer: MemoryPeer,
    readonly observer: Observer = quiet,
  ) {
    const mp = this.mp;
    this.peers = config & CONFIG_CLIENT ? CLIENT_PEERS : SERVER_PEERS;
    mp.serverRelay = (config & CONFIG_NO_RELAY) === 0;
    mp.allowObjectDecoding = (config & CONFIG_OBJECTS) !== 0;
    mp.authTimeout = 1;
    if (config & CONFIG_AUTH) {
      mp.authCallback = (id, data) => {
        observer.effect();
        const text = data.toString('latin1');
        if (text === 'secret') mp.sendAuth(id, Buffer.from('welcome'));
        if (text === 'secret' || text === 'welcome' || config & CONFIG_AUTH_LENIENT) mp.completeAuth(id);
        if (config & CONFIG_THROWING && text === 'throw') throw new Error('the auth callback throws, as callbacks may');
      };
      // A client opens the exchange, as a Godot client's game script would.
      if (config & CONFIG_CLIENT) mp.on('peer_authenticating', (id) => mp.sendAuth(id, Buffer.from('secret')));
    }
    for (const event of ['peer_connected', 'peer_disconnected', 'connected_to_server', 'connection_failed', 'server_disconnected',
      'peer_authenticating', 'peer_authentication_failed', 'peer_packet']) {
      mp.on(event, () => observer.effect());
    }
    const authorityChoice = (config >> CONFIG_AUTHORITY_SHIFT) & 3;
    this.game = new GameNodes(mp, observer, {
      server: !this.isClient,
      playerAuthority: [1, this.peers[0], this.peers[1], peer.id][authorityChoice],
      throwing: (config & CONFIG_THROWING) !== 0,
    });
    mp.multiplayerPeer = peer;
  }

  get isClient(): boolean {
    return (this.config & CONFIG_CLIENT) !== 0;
  }

  get nodes(): Map<string, NetworkNode> {
    return this.game.nodes;
  }

  /** Runs one action operation (recorded when seeding). */
  act(action: Action, peerIndex: number, arg: number): void {
    this.record?.(encodeAction(action, peerIndex, arg));
    const id = this.peers[peerIndex & 7];
    const mp = this.mp;
    switch (action) {
      case Action.LINK:
        this.peer.link(this.isClient ? 1 : id);
        return;
      case Action.UNLINK:
        this.peer.unlink(this.isClient ? 1 : id);
        return;
      case Action.POLL:
        mp.poll();
        return;
      case Action.COMPLETE_AUTH:
        mp.completeAuth(id);
        return;
      case Action.SEND_AUTH:
        mp.sendAuth(id, Buffer.from(this.isClient ? 'secret' : 'welcome'));
        return;
      case Action.RPC: {
        const [nodePath, method, args] = CALLS[arg % CALLS.length];
        const node = this.nodes.get(nodePath);
        node?.rpcId(targetOf(this.peers, peerIndex), method, ...args());
        return;
      }
      case Action.TIME:
        clock.now += arg * 16;
        return;
      case Action.MISC:
        switch (arg % MISC_COUNT) {
          case Misc.SEND_BYTES:
            mp.sendBytes(Buffer.from([1, 2, 3]), targetOf(this.peers, peerIndex));
            return;
          case Misc.DISCONNECT_PEER:
            mp.disconnectPeer(id);
            return;
          case Misc.REMOVE_PLAYER:
            this.nodes.get('Main/World/Player')?.remove();
            return;
          case Misc.REGISTER_PLAYER:
            if (this.nodes.get('Main/World/Player')?.isRegistered === false) this.game.register('Main/World/Player');
            return;
          case Misc.GAME_AUTHORITY:
            this.nodes.get('Game')?.setMultiplayerAuthority(id);
            return;
          case Misc.CLOSE:
            this.peer.close();
            return;
          case Misc.ROOT_PATH:
            mp.rootPath = mp.rootPath === '' ? '/root' : '';
            return;
        }
    }
  }

  poll(): void {
    this.act(Action.POLL, 0, 0);
  }
}

function describe(v: unknown): string {
  if (v === null || typeof v !== 'object') return `${typeof v} ${String(v).slice(0, 40)}`;
  return v.constructor?.name ?? 'object';
}

// ---------------------------------------------------------------------------------------------
// Running and checking one input

let unexpected: string[] = [];
const collectUnexpected = (message: string): void => {
  if (/unexpected/i.test(message)) unexpected.push(message);
};

/** Figures across every input checked, for the results. */
const totals = { inputs: 0, packets: 0, dropped: 0, delivered: 0, silent: 0, handlerCalls: 0, byReason: {} as Record<string, number> };

function sumCounters(c: Record<string, number>): number {
  let n = 0;
  for (const k in c) n += c[k];
  return n;
}

function hex(b: Uint8Array, max = 48): string {
  const s = Buffer.from(b.subarray(0, max)).toString('hex');
  return b.length > max ? `${s}… (${b.length} bytes)` : s;
}

interface Processing {
  packet: MemoryPacket;
  countersBefore: number;
  effects: number;
  peersBefore: number[];
  pendingBefore: number[];
}

/** Runs one input against a fresh side and reports every broken invariant through `fail`. */
export function check(input: Uint8Array, fail: (message: string) => void): void {
  const { config, ops } = parseInput(input);
  const realNow = Date.now;
  clock.now = 1_000_000;
  Date.now = () => clock.now;
  unexpected = [];
  setErrorReporter(collectUnexpected);
  let current: Processing | null = null;
  // Paths this side offered (SIMPLIFY_PATH), as "peer:id": their CONFIRM_PATH is legitimately silent.
  const offered = new Set<string>();
  const observer: Observer = {
    effect: () => {
      if (current !== null) current.effects++;
    },
    fail,
  };
  const peer = new MemoryPeer(config & CONFIG_CLIENT ? CLIENT_ID : 1);
  let side: Side;
  try {
    side = new Side(config, peer, observer);
  } catch (e) {
    Date.now = realNow;
    fail(`setting up threw: ${String(e)}`);
    return;
  }
  const mp = side.mp;

  const finish = (p: Processing): void => {
    const drops = sumCounters(mp.getCounters()) - p.countersBefore;
    totals.packets++;
    if (drops > 0) totals.dropped++;
    else if (p.effects > 0) totals.delivered++;
    else if (silentlyAccepted(p)) totals.silent++;
    else {
      fail(`packet dropped silently (no counter, no effect): ${hex(p.packet.data)} from ${p.packet.peer} ` +
        `(${p.pendingBefore.includes(p.packet.peer) ? 'authenticating' : p.peersBefore.includes(p.packet.peer) ? 'admitted' : 'unknown'}, ` +
        `${side.isClient ? 'client' : 'server'})`);
    }
  };
  const silentlyAccepted = (p: Processing): boolean => {
    let data = p.packet.data;
    let from = p.packet.peer;
    if (data.length === 2 && (data[0] & 7) === 7 && data[1] === 0) return true; // AUTH completion marker
    if (data.length >= 7 && (data[0] & 7) === 7 && data[1] === 3) {
      const peerField = data.readInt32LE(2);
      data = data.subarray(6);
      // A client runs what the server relays as coming from its source.
      if (side.isClient) from = peerField;
      // "Everyone but the server" from a sender who is alone goes nowhere; a server runs broadcasts
      // (0, -n) itself as coming from the sender. (Anything forwarded was an effect already.)
      else if (peerField === -1) return p.peersBefore.every((x) => x === from);
      else if (peerField > 0) return false;
    }
    return data.length === 6 && (data[0] & 7) === 2 && offered.has(`${from}:${data.readUInt32LE(2)}`);
  };

  peer.onRead = (packet) => {
    if (current !== null) finish(current);
    current = packet === null ? null : {
      packet,
      countersBefore: sumCounters(mp.getCounters()),
      effects: 0,
      peersBefore: mp.getPeers(),
      pendingBefore: mp.getAuthenticatingPeers(),
    };
  };
  peer.onDisconnectPeer = () => observer.effect();
  peer.onPut = (out) => {
    noteOffer(out);
    if (current === null) return;
    current.effects++;
    const into = current.packet;
    if (out.peer > 0 && !peer.links.has(out.peer)) fail(`sent ${hex(out.data)} to ${out.peer}, which the transport does not have`);
    if (!side.isClient && mp.getAuthenticatingPeers().includes(out.peer) && !((out.data[0] & 7) === 7 && out.data[1] === 0)) {
      fail(`sent ${hex(out.data)} to ${out.peer}, which is still authenticating`);
    }
    const isRelay = (d: Buffer) => d.length >= 7 && (d[0] & 7) === 7 && d[1] === 3;
    if (!side.isClient && isRelay(out.data) && isRelay(into.data)) {
      if (out.data.readInt32LE(2) !== into.peer) fail(`relay forwarded with source ${out.data.readInt32LE(2)} instead of ${into.peer}`);
      if (!out.data.subarray(6).equals(into.data.subarray(6))) fail('relay forwarded with other inner bytes');
      if (out.mode !== into.mode || out.channel !== into.channel) {
        fail(`relay arrived with mode ${into.mode} channel ${into.channel}, forwarded with mode ${out.mode} channel ${out.channel}`);
      }
      if (out.peer === into.peer || out.peer <= 0) fail(`relay from ${into.peer} forwarded to ${out.peer}`);
    }
  };
  const noteOffer = (out: MemoryPacket): void => {
    let to = out.peer;
    let data = out.data;
    if (data.length >= 7 && (data[0] & 7) === 7 && data[1] === 3) {
      to = data.readInt32LE(2);
      data = data.subarray(6);
    }
    if (data.length >= 38 && (data[0] & 7) === 1) offered.add(`${to}:${data.readUInt32LE(34)}`);
  };

  const checkState = (): void => {
    if (mp.getRemoteSenderId() !== 0) fail(`getRemoteSenderId() is ${mp.getRemoteSenderId()} outside any handler`);
    if (!mp.hasMultiplayerPeer()) return;
    const peers = mp.getPeers();
    const pending = mp.getAuthenticatingPeers();
    if (side.isClient) {
      if (peers.length > MAX_RELAYED_PEERS) fail(`a client believes in ${peers.length} peers`);
      if (peers.includes(peer.id)) fail('a client counts itself among its peers');
    } else {
      for (const id of [...peers, ...pending]) if (!peer.links.has(id)) fail(`peer ${id} is admitted or authenticating but not connected`);
      for (const id of pending) if (peers.includes(id)) fail(`peer ${id} is both admitted and authenticating`);
    }
  };

  try {
    for (const op of ops) {
      try {
        if (op.kind === 'packet') peer.deliver(side.peers[op.sender], op.data, op.mode, op.channel);
        else side.act(op.action, op.peer, op.arg);
      } catch (e) {
        fail(`${op.kind === 'packet' ? 'delivering' : `action ${op.action}`} threw: ${e instanceof Error ? e.stack?.split('\n').slice(0, 4).join(' | ') : String(e)}`);
      }
      if (op.kind === 'action' && op.action === Action.POLL) checkState();
    }
    try {
      side.poll();
    } catch (e) {
      fail(`poll threw: ${e instanceof Error ? e.stack?.split('\n').slice(0, 4).join(' | ') : String(e)}`);
    }
    checkState();
    if (current !== null) finish(current);
    for (const m of unexpected) fail(`reported: ${m}`);
    totals.inputs++;
    totals.handlerCalls += side.game.calls;
    for (const [reason, n] of Object.entries(mp.getCounters())) totals.byReason[reason] = (totals.byReason[reason] ?? 0) + n;
  } finally {
    Date.now = realNow;
  }
}

export function stats(): Record<string, unknown> {
  const reasons = Object.entries(totals.byReason).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  return {
    inputs: totals.inputs,
    packets: totals.packets,
    packetsDropped: totals.dropped,
    packetsDelivered: totals.delivered,
    packetsSilentlyAccepted: totals.silent,
    handlerCalls: totals.handlerCalls,
    dropsByReason: Object.fromEntries(reasons),
  };
}

// ---------------------------------------------------------------------------------------------
// Structure-aware mutation

export interface Mutator {
  rnd(n: number): number;
  pick(): Buffer;
  interesting(): number;
  mutateBytes(b: Buffer, ops?: number): Buffer;
}

const PEER_FIELD_VALUES = [0, 1, -1, 2, 3, 12345, 777, CLIENT_ID, -2, -12345, 0x7fffffff, -0x80000000, 424242];

/** Mutations of one packet's bytes that know SceneMultiplayer's layout. */
export function mutatePacket(data: Buffer, m: Mutator): Buffer {
  const d = Buffer.from(data);
  switch (m.rnd(10)) {
    case 0: // command byte: command and flags
      if (d.length) d[0] = m.rnd(2) ? m.rnd(8) | (d[0] & 0xf0) : m.rnd(256);
      return d;
    case 1: // a peer id where SYS packets have one
      if (d.length >= 6) d.writeInt32LE(PEER_FIELD_VALUES[m.rnd(PEER_FIELD_VALUES.length)], 2);
      return d;
    case 2: { // wrap in a RELAY, or unwrap one
      if (d.length >= 7 && (d[0] & 7) === 7 && d[1] === 3) return d.subarray(6);
      const r = Buffer.concat([Buffer.from([7, 3, 0, 0, 0, 0]), d]);
      r.writeInt32LE(PEER_FIELD_VALUES[m.rnd(PEER_FIELD_VALUES.length)], 2);
      return r;
    }
    case 3: // RPC meta: node id size, u16 method id, byte-only flag
      if (d.length && (d[0] & 7) === 0) d[0] ^= [0x10, 0x20, 0x30, 0x40, 0x80][m.rnd(5)];
      return d;
    case 4: // argument count
      if (d.length >= 3) d[Math.min(d.length - 1, 2 + m.rnd(4))] = [0, 1, 2, 3, 255, 254, 128][m.rnd(7)];
      return d;
    case 5: // a cache id / inline path offset
      if (d.length >= 5) d.writeUInt32LE(m.rnd(2) ? m.interesting() >>> 0 : (0x80000000 | m.rnd(d.length + 4)) >>> 0, 1 + m.rnd(Math.min(4, d.length - 4)));
      return d;
    case 6: // SIMPLIFY_PATH: the cache id, the checksum
      if (d.length >= 38 && (d[0] & 7) === 1) {
        if (m.rnd(2)) d.writeUInt32LE(m.rnd(4) === 0 ? m.interesting() >>> 0 : m.rnd(12), 34);
        else d[1 + m.rnd(32)] = '0123456789abcdefX'.charCodeAt(m.rnd(17));
      }
      return d;
    case 8: // new arguments of any type (RPC)
      return rebuildArguments(d, m) ?? d;
    case 7: // path bytes: separators, root prefix, NULs
      if (d.length >= 2) {
        const piece = ['/', '//', '/root/', '..', '\0', ':x', 'Main/', 'Game'][m.rnd(8)];
        const at = 1 + m.rnd(d.length - 1);
        return Buffer.concat([d.subarray(0, at), Buffer.from(piece), d.subarray(at)]);
      }
      return d;
    default:
      return m.mutateBytes(d);
  }
}

/** Values of every shape a handler might be handed, for rebuildArguments. */
const ARGUMENTS: Array<() => unknown> = [
  () => NaN, () => Infinity, () => -1e300, () => 2 ** 63, () => 2.5, () => float(-0.5), () => float(3), () => 7, () => -200, () => 70000,
  () => 2 ** 40, () => -(2n ** 62n), () => 'str', () => '', () => true, () => false, () => null,
  () => new Vector2(1, 2), () => new Vector3(1, 2, 3), () => new Vector3i(1, 2, 3), () => new Color(1, 0, 0, 1),
  () => new Transform2D(new Vector2(1, 0), new Vector2(0, 1), new Vector2(5, 6)), () => new StringName('n'), () => NodePath.parse('/root/Game:position'),
  () => [1, 'a'], () => [], () => [new Vector2(1, 2)], () => new Map([['a', 1.5]]), () => new Map([[1, 'x']]),
  () => new TypedArray({ type: VariantType.INT }, [1, 2]), () => new TypedArray({ type: VariantType.INT }, ['x']),
  () => new TypedArray({ type: VariantType.STRING }, ['x']), () => new TypedArray({ type: VariantType.FLOAT }, [1.5, 2]),
  () => new TypedArray({ type: VariantType.VECTOR2 }, [new Vector2(1, 2)]), () => new TypedArray({ type: VariantType.VECTOR2 }, [1]),
  () => new TypedDictionary({ type: VariantType.STRING }, { type: VariantType.FLOAT }, [['a', 1.5]]),
  () => new TypedDictionary({ type: VariantType.STRING }, { type: VariantType.FLOAT }, [['a', 'x']]),
  () => new TypedDictionary({ type: VariantType.INT }, { type: VariantType.STRING }, [[1, 'x']]),
  () => Buffer.from([1, 2, 3]), () => new Int32Array([1, 2]), () => new ObjectId(5n), () => new RID(1n), () => new Callable(), () => new Signal('s', 1n),
  () => new GodotObject('Node', new Map([['name', 'n']])),
];

/**
 * An RPC whose arguments are changed (its node, method and inline path kept): mostly one argument
 * replaced by a value of any type, the others kept, so the checks behind the first reach the rest;
 * sometimes one added or removed, or 0-3 new ones.
 */
export function rebuildArguments(d: Buffer, m: Mutator): Buffer | null {
  if (d.length < 3 || (d[0] & 7) !== 0) return null;
  const idSize = (d[0] >> 4) & 3;
  if (idSize === 3) return null;
  const headerEnd = 1 + [1, 2, 4][idSize] + (d[0] & 0x40 ? 2 : 1);
  if (d.length < headerEnd) return null;
  const inline = idSize === 2 && (d.readUInt32LE(1) & 0x80000000) !== 0;
  const pathAt = inline ? d.readUInt32LE(1) & 0x7fffffff : d.length;
  // The arguments there are, as encoded slices (a byte-only call has none we can split).
  const args: Buffer[] = [];
  if ((d[0] & 0x80) === 0 && headerEnd < Math.min(pathAt, d.length)) {
    const region = d.subarray(headerEnd + 1, Math.min(pathAt, d.length));
    const r = new VariantReader(region);
    for (let i = 0; i < d[headerEnd] && r.pos < region.length; i++) {
      const start = r.pos;
      if (readCompressedVariant(r, true, true).error !== GodotError.OK) break;
      args.push(region.subarray(start, r.pos));
    }
  }
  const encoded = (): Buffer => {
    const w = new VariantWriter();
    writeCompressedVariant(w, ARGUMENTS[m.rnd(ARGUMENTS.length)](), m.rnd(2) === 0);
    return w.finish();
  };
  const choice = m.rnd(8);
  if (args.length > 0 && choice < 5) args[m.rnd(args.length)] = encoded();
  else if (choice === 5) args.splice(m.rnd(args.length + 1), 0, encoded());
  else if (choice === 6 && args.length > 0) args.splice(m.rnd(args.length), 1);
  else args.splice(0, args.length, ...Array.from({ length: m.rnd(4) }, encoded));
  const out = Buffer.concat([d.subarray(0, headerEnd), Buffer.from([args.length]), ...args,
    inline && pathAt < d.length ? d.subarray(pathAt) : Buffer.alloc(0)]);
  out[0] &= 0x7f; // an argument count follows
  if (inline) out.writeUInt32LE((0x80000000 | (out.length - (d.length - pathAt))) >>> 0, 1);
  return out;
}

export function mutate(parent: Buffer, m: Mutator): Buffer {
  const parsed = parseInput(parent);
  let cfg = parsed.config;
  const ops = parsed.ops;
  const pickPacket = (): number => {
    const at = ops.flatMap((o, i) => (o.kind === 'packet' ? [i] : []));
    return at.length === 0 ? -1 : at[m.rnd(at.length)];
  };
  const packetOp = (sender: number, channel: number, mode: TransferMode, data: Buffer): Op => parseInput(Buffer.concat([Buffer.alloc(1), encodePacket(sender, channel, mode, data)])).ops[0];
  for (let k = 1 + m.rnd(3); k > 0; k--) {
    switch (m.rnd(10)) {
      case 0:
        cfg ^= 1 << m.rnd(8);
        break;
      case 1:
      case 2:
      case 3: { // one packet's bytes
        const i = pickPacket();
        if (i < 0) break;
        const o = ops[i] as PacketOp;
        ops[i] = packetOp(o.sender, o.channel, o.mode, m.rnd(3) === 0 ? m.mutateBytes(o.data) : mutatePacket(o.data, m));
        break;
      }
      case 4: { // who sent it, on which channel, in which mode
        const i = pickPacket();
        if (i < 0) break;
        const o = ops[i] as PacketOp;
        ops[i] = packetOp(m.rnd(2) ? m.rnd(8) : o.sender, m.rnd(2) ? m.rnd(4) : o.channel, (m.rnd(2) ? m.rnd(3) : o.mode) as TransferMode, o.data);
        break;
      }
      case 5: { // operations of another input
        const other = parseInput(m.pick()).ops;
        if (other.length === 0) break;
        const n = 1 + m.rnd(Math.min(4, other.length));
        const from = m.rnd(other.length - n + 1);
        ops.splice(m.rnd(ops.length + 1), 0, ...other.slice(from, from + n));
        break;
      }
      case 6: // delete
        if (ops.length) ops.splice(m.rnd(ops.length), 1 + m.rnd(2));
        break;
      case 7: { // duplicate (floods: the same packet many times; SIMPLIFY_PATHs with fresh cache ids)
        if (!ops.length) break;
        const i = m.rnd(ops.length);
        const o = ops[i];
        const copies = Array.from({ length: 1 + m.rnd(m.rnd(4) === 0 ? 40 : 3) }, (_, k) => {
          if (o.kind !== 'packet' || o.data.length < 38 || (o.data[0] & 7) !== 1) return o;
          const data = Buffer.from(o.data);
          data.writeUInt32LE((data.readUInt32LE(34) + k + 1) >>> 0, 34);
          return packetOp(o.sender, o.channel, o.mode, data);
        });
        ops.splice(i, 0, ...copies);
        break;
      }
      case 8: { // an action
        const bytes = encodeAction(m.rnd(8) as Action, m.rnd(8), m.rnd(256));
        ops.splice(m.rnd(ops.length + 1), 0, parseInput(Buffer.concat([Buffer.alloc(1), bytes])).ops[0]);
        break;
      }
      default: // swap two
        if (ops.length >= 2) {
          const i = m.rnd(ops.length), j = m.rnd(ops.length);
          [ops[i], ops[j]] = [ops[j], ops[i]];
        }
    }
  }
  const out = Buffer.concat([Buffer.from([cfg]), ...ops.map((o) => o.bytes)]);
  return m.rnd(20) === 0 ? m.mutateBytes(out) : out;
}

// ---------------------------------------------------------------------------------------------
// Seeds: our own server and clients over a MemoryNetwork, recorded from one side

/** A session recorded as an input from `side`'s point of view. */
class Recording {
  readonly ops: Buffer[] = [];
  constructor(readonly side: Side) {
    side.record = (op) => this.ops.push(op);
    const peer = side.peer;
    const deliver = peer.deliver.bind(peer);
    peer.deliver = (from, data, mode = TransferMode.TRANSFER_MODE_RELIABLE, channel = 0) => {
      const index = side.peers.indexOf(from);
      if (index < 0) throw new Error(`seed: sender ${from} is not in the peer table`);
      this.ops.push(encodePacket(index, channel, mode, data));
      deliver(from, data, mode, channel);
    };
    const link = peer.link.bind(peer);
    peer.link = (id) => {
      this.ops.push(encodeAction(Action.LINK, Math.max(0, side.peers.indexOf(id))));
      link(id);
    };
    const unlink = peer.unlink.bind(peer);
    peer.unlink = (id) => {
      this.ops.push(encodeAction(Action.UNLINK, Math.max(0, side.peers.indexOf(id))));
      unlink(id);
    };
  }

  input(): Buffer {
    return Buffer.concat([Buffer.from([this.side.config]), ...this.ops]);
  }
}

interface World {
  net: MemoryNetwork;
  server: Side;
  clients: Map<number, Side>;
  poll(rounds?: number): void;
  join(id: number, config?: number): Side;
  leave(id: number): void;
}

/** A server and clients (ids from the tables) on one MemoryNetwork, recording the server or client CLIENT_ID. */
function world(config: number, recordClient: boolean): { w: World; recording: () => Recording } {
  const net = new MemoryNetwork();
  let recording: Recording | null = null;
  const server = new Side(config & ~CONFIG_CLIENT, net.server);
  if (!recordClient) recording = new Recording(server);
  const clients = new Map<number, Side>();
  const w: World = {
    net,
    server,
    clients,
    poll(rounds = 4) {
      for (let r = 0; r < rounds; r++) {
        server.poll();
        for (const c of clients.values()) c.poll();
      }
    },
    join(id, clientConfig = config | CONFIG_CLIENT) {
      const peer = new MemoryPeer(id);
      const side = new Side(clientConfig, peer);
      if (recordClient && id === CLIENT_ID) recording = new Recording(side);
      net.connect(id, peer);
      clients.set(id, side);
      return side;
    },
    leave(id) {
      net.disconnect(id);
      clients.delete(id);
    },
  };
  return { w, recording: () => recording as Recording };
}

const A = 12345;
const B = 777;
/** Indexes in SERVER_PEERS and CLIENT_PEERS. */
const S = { A: 2, B: 3, ME: 4, ALL: 7, ALL_BUT_A: 6 };
const C = { SERVER: 0, A: 1, B: 2, ALL: 7 };

/**
 * The scenarios of test/scene-multiplayer.test.ts (and a few more), played between our own ends. `me`
 * (CLIENT_ID) and the server act through Side.act, so that a recording of either replays what it did.
 */
const SCENARIOS: Record<string, (w: World) => void> = {
  peers(w) {
    w.join(CLIENT_ID);
    w.poll();
    w.join(A);
    w.poll();
    w.join(B);
    w.poll();
    w.leave(B);
    w.poll();
  },
  sendBytes(w) {
    const me = w.join(CLIENT_ID);
    const a = w.join(A);
    w.join(B);
    w.poll();
    w.server.act(Action.MISC, S.ME, Misc.SEND_BYTES);
    w.server.act(Action.MISC, S.ALL, Misc.SEND_BYTES);
    for (const to of [C.SERVER, C.A, C.ALL]) me.act(Action.MISC, to, Misc.SEND_BYTES);
    a.mp.sendBytes(Buffer.from([4]), CLIENT_ID, TransferMode.TRANSFER_MODE_UNRELIABLE, 2);
    a.mp.sendBytes(Buffer.from([5]), -CLIENT_ID);
    a.mp.sendBytes(Buffer.from([6]), -1);
    a.mp.sendBytes(Buffer.from([7]));
    w.poll();
  },
  auth(w) {
    w.join(CLIENT_ID);
    w.poll();
    // A says the wrong thing and never completes: it times out.
    const a = w.join(A, CONFIG_CLIENT | CONFIG_AUTH);
    a.mp.removeAllListeners('peer_authenticating');
    a.mp.on('peer_authenticating', (id) => a.mp.sendAuth(id, Buffer.from('guess')));
    w.poll();
    w.server.act(Action.TIME, 0, 255);
    w.poll();
  },
  rpcs(w) {
    const me = w.join(CLIENT_ID);
    const a = w.join(A);
    w.poll();
    // Every call both ways: SIMPLIFY_PATH, inline-path calls, CONFIRM_PATH, then short ones.
    for (let i = 0; i < CALLS.length; i++) me.act(Action.RPC, C.SERVER, i);
    for (let i = 0; i < CALLS.length; i++) w.server.act(Action.RPC, S.ALL, i);
    w.poll();
    for (let i = 0; i < CALLS.length; i += 2) me.act(Action.RPC, C.SERVER, i);
    for (let i = 1; i < CALLS.length; i += 2) w.server.act(Action.RPC, S.ME, i);
    // Between clients, through the relay; and to everyone.
    me.act(Action.RPC, C.A, 0);
    me.act(Action.RPC, C.ALL, 1);
    a.act(Action.RPC, C.ALL, 12);
    (a.nodes.get('Game') as NetworkNode).rpcId(CLIENT_ID, 'hello', 45, 'from a');
    w.server.act(Action.RPC, S.ALL_BUT_A, 3);
    w.poll();
  },
  churn(w) {
    w.join(CLIENT_ID);
    w.join(A);
    w.poll();
    w.server.act(Action.MISC, S.A, Misc.DISCONNECT_PEER);
    w.server.act(Action.MISC, 0, Misc.REMOVE_PLAYER);
    w.server.act(Action.RPC, S.ALL, 12);
    w.server.act(Action.MISC, 0, Misc.REGISTER_PLAYER);
    w.server.act(Action.RPC, S.ALL, 13);
    w.server.act(Action.MISC, S.ME, Misc.GAME_AUTHORITY);
    w.poll();
    w.leave(CLIENT_ID);
    w.poll();
  },
};

/** Appendix A of the spec, and the hostile packets of test/scene-multiplayer.test.ts, from A (12345) and B (777). */
function handMade(): Record<string, Buffer> {
  const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');
  const a = SERVER_PEERS.indexOf(A);
  const b = SERVER_PEERS.indexOf(B);
  const R = TransferMode.TRANSFER_MODE_RELIABLE;
  const path = (s: string) => Buffer.from(`${s}\0`).toString('hex');
  const md5 = (s: string) => Buffer.from(`${s}\0`).toString('hex');
  const appendix = [
    [a, '07 00 68 69'], [a, '07 00'], [b, '07 00 6869'], [b, '07 00'],
    [a, '07 03 09 03 00 00 03 DE AD'], [a, '07 03 00 00 00 00 03 DE AD'],
    [a, '01' + md5('d41d8cd98f00b204e9800998ecf8427e') + '01 00 00 00' + path('Main/HUD')],
    [a, '02 01 01 00 00 00'],
    [a, '20 09 00 00 80 00 01 02 05' + path('Main/HUD')], [a, '00 01 00 01 02 05'],
    [a, '00 01 01 02 81 04 00 00 00 02 00 00 00 68 69 00 00'],
    [a, '04 00 01 00 00 00 01 00 00 00 01 00 00 00 08 00 00 00 02 00 00 00 50 6C 61 79 65 72 32 00 05 00 00 00 00 00 20 41 00 00 A0 41'],
    [a, '05 01 00 00 00'], [a, '06 05 00 02 00 00 00 0C 00 00 00 05 00 00 00 00 00 20 41 00 00 A0 41'],
    [a, '16 02 00 00 00 01 00 00 00 00 00 00 00 02 00 00 00 02 03'],
    [a, '80 03 02'], [a, '80 03 02 AA BB'], [a, 'C0 03 00 80'],
  ] as const;
  const hostile = [
    '07', '0709 00000000', '0701 05000000', '0703 32790600 0301', '0703 39300000 0301', '0703 00000000',
    '0703 00000000 0703 00000000 0301', '03', '30 01 00', '00', '00 09 00 00', '20 ffffff80 00', '01 00',
    '01' + '00'.repeat(37) + '4e6f706500', '02 01 01000000 00', '02 01 09000000', '20 06000080 09' + path('Game'),
    '20 08000080 00 05 02' + path('Game'), '20 07000080 00 ff' + path('Game'), '04 00',
  ];
  const input = (config: number, packets: ReadonlyArray<readonly [number, string]>) => Buffer.concat([
    Buffer.from([config]), encodeAction(Action.LINK, a), encodeAction(Action.LINK, b), encodeAction(Action.POLL),
    ...packets.map(([from, bytes]) => encodePacket(from, 0, R, h(bytes))), encodeAction(Action.POLL),
  ]);
  return {
    'appendix-a': input(0, appendix),
    'appendix-a-auth': input(CONFIG_AUTH, appendix),
    hostile: input(0, hostile.map((x) => [a, x] as const)),
    'auth-callback-throws': input(CONFIG_AUTH | CONFIG_THROWING, [[a, '0700' + Buffer.from('throw').toString('hex')], [a, '0700' + Buffer.from('secret').toString('hex')], [a, '0700']]),
    'hostile-pending': input(CONFIG_AUTH, hostile.map((x) => [a, x] as const)),
  };
}

/** The seed inputs by name: every scenario recorded from the server and from a client, in four configs, and handMade(). */
export function seedInputs(): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const realNow = Date.now;
  Date.now = () => clock.now;
  setErrorReporter(() => undefined);
  try {
    for (const [name, scenario] of Object.entries(SCENARIOS)) {
      for (const recordClient of [false, true]) {
        for (const config of [0, CONFIG_AUTH, CONFIG_THROWING | (2 << CONFIG_AUTHORITY_SHIFT), CONFIG_OBJECTS | (1 << CONFIG_AUTHORITY_SHIFT)]) {
          clock.now = 1_000_000;
          const { w, recording } = world(config, recordClient);
          scenario(w);
          w.poll();
          out[`${name}-${recordClient ? 'client' : 'server'}-${config.toString(16)}`] = recording().input();
        }
      }
    }
  } finally {
    Date.now = realNow;
  }
  return { ...out, ...handMade() };
}

export function makeSeeds(dir: string): number {
  fs.mkdirSync(dir, { recursive: true });
  const seeds = Object.entries(seedInputs());
  for (const [name, input] of seeds) fs.writeFileSync(path.join(dir, name), input);
  return seeds.length;
}

// ---------------------------------------------------------------------------------------------

export const watched = [
  ...['SceneMultiplayer', 'SceneCache', 'SceneRPC', 'NetworkNode', 'rpc-config', 'protocol'].map((f) => path.join(SRC, 'multiplayer', `${f}.ts`)),
  ...['marshalls', 'typed', 'types'].map((f) => path.join(SRC, 'variant', `${f}.ts`)),
];
export const coverage = 'V8 block coverage of src/multiplayer/{SceneMultiplayer,SceneCache,SceneRPC,NetworkNode,rpc-config,protocol}.ts + src/variant/{marshalls,typed,types}.ts';
export const maxLen = 16384;
/** A session is a few hundred packets; a check slower than this (a second) is worth a look. */
export const timeLimit = 1000;
