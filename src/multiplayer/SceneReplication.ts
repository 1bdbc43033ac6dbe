/**
 * Replication (spec scene-multiplayer.md §9), as Godot's SceneReplicationInterface: spawning nodes on
 * peers (SPAWN / DESPAWN through MultiplayerSpawners), streaming their properties (SYNC every frame or
 * replication interval, unreliable; DELTA of changed properties, reliable) through
 * MultiplayerSynchronizers, visibility per peer, and the same packets received from the peers that
 * are the authority of a spawner or synchronizer (a client's input synchronizer, say).
 *
 * Net ids: ours count from 1 per session, shared by spawned nodes and their synchronizers; a
 * synchronizer that did not get one in a SPAWN goes by 0x80000000 | its path-cache id, and only once
 * the peer has confirmed that path. Peers' ids are kept per peer.
 */
import { GodotError } from '../core/errors';
import { VariantReader, VariantWriter, readCompressedVariant, writeCompressedVariant } from '../variant/marshalls';
import { fromDeclared, toDeclared } from '../variant/typed';
import { MultiplayerSpawner } from './MultiplayerSpawner';
import { MultiplayerSynchronizer, VisibilityUpdateMode } from './MultiplayerSynchronizer';
import type { NetworkNode } from './NetworkNode';
import { Command, DropReason, cstring, readCString } from './protocol';
import type { SceneCache } from './SceneCache';
import type { ReplicationProperty } from './SceneReplicationConfig';

/** What replication needs from SceneMultiplayer. */
export interface ReplicationHost {
  readonly cache: SceneCache;
  readonly maxSyncPacketSize: number;
  readonly maxDeltaPacketSize: number;
  /** Nodes one peer may have spawned here at once (the memory a peer can make us hold). */
  readonly maxRemoteSpawnsPerPeer: number;
  hasPeer(): boolean;
  /** Our peer id; 0 without a peer. */
  ownId(): number;
  findNode(path: string): NetworkNode | undefined;
  /**
   * Registers the nodes of a manifest scene with its root at `path`, runs `init` on it before the nodes
   * enter, and then treeAdded(root, custom). Throws a TypeError (registering nothing) if it cannot.
   */
  instantiate(scene: string, path: string, init?: (root: NetworkNode) => void, custom?: CustomSpawnInfo): NetworkNode;
  /** Channel 0; through the server's relay when we are a client and `to` is another client. */
  send(to: number, packet: Uint8Array, reliable: boolean): void;
  drop(reason: DropReason, message?: string): void;
  reportError(message: string): void;
}

/** A custom spawn being made here: its spawner and encoded argument. */
export interface CustomSpawnInfo {
  spawner: MultiplayerSpawner;
  arg: Buffer;
}

/** Per peer (Godot's PeerInfo). */
class PeerInfo {
  /** Nodes we spawned that this peer has. */
  readonly spawnNodes = new Set<NetworkNode>();
  /** Our synchronizers this peer sees. */
  readonly syncNodes = new Set<MultiplayerSynchronizer>();
  /** When this peer was last sent a delta of each synchronizer (µs). */
  readonly lastWatch = new Map<MultiplayerSynchronizer, number>();
  lastSentSync = 0;
  /** What this peer spawned here, by its net ids. */
  readonly recvNodes = new Map<number, NetworkNode>();
  readonly recvSyncIds = new Map<number, MultiplayerSynchronizer>();
}

/** A node replication knows about: spawned (by us or a peer), or the root of synchronizers. */
interface Tracked {
  netId: number;
  /** The peer that spawned it here; 0 if we did (or nobody). */
  remotePeer: number;
  spawner: MultiplayerSpawner | null;
  sceneId: number;
  /** A custom spawn's argument, encoded once when it was spawned. */
  spawnArg: Buffer | null;
  /** Synchronizers rooted at it, in the order they started (the order of net ids in SPAWN). */
  readonly synchronizers: MultiplayerSynchronizer[];
}

/** A SPAWN being applied: the nodes entering take their net ids and state from it. */
interface PendingSpawn {
  path: string;
  remote: number;
  syncIds: number[];
  state: VariantReader;
}

const SPAWN_HEADER = 18;
const DESPAWN_SIZE = 5;
/** Godot refuses SYNC (and DELTA) packets shorter than this. */
const SYNC_MIN = 11;
const SYNC_HEADER = 3;
const SYNC_ENTRY = 8;
const DELTA_ENTRY = 16;
const DELTA_FLAG = 1 << 4;
const PATH_NET_ID = 0x80000000;
/** Godot's String::validate_node_name refuses these. */
const INVALID_NAME = /[.:@/"%]/;

export class SceneReplication {
  readonly #peers = new Map<number, PeerInfo>();
  readonly #tracked = new Map<NetworkNode, Tracked>();
  /** Nodes we spawned as the spawner's authority. */
  readonly #spawned = new Set<NetworkNode>();
  readonly #syncNodes = new Set<MultiplayerSynchronizer>();
  readonly #syncRoots = new Map<MultiplayerSynchronizer, NetworkNode>();
  readonly #spawners = new Set<MultiplayerSpawner>();
  #lastNetId = 0;
  #pending: PendingSpawn | null = null;
  readonly #w = new VariantWriter();
  /** Synchronizers whose failure to encode was reported already (reported once, not every frame). */
  readonly #reported = new WeakSet<MultiplayerSynchronizer>();

  constructor(private readonly host: ReplicationHost) {}

  // ---------------------------------------------------------------------------------------------
  // Peers

  onPeerChange(peer: number, connected: boolean): void {
    if (connected) {
      this.#peers.set(peer, new PeerInfo());
      for (const node of this.#spawned) this.#updateSpawnVisibility(peer, node);
      for (const sync of this.#syncNodes) this.#updateSyncVisibility(peer, sync);
      return;
    }
    const info = this.#peers.get(peer);
    if (info === undefined) return;
    this.#freeRemotes(info);
    this.#peers.delete(peer);
  }

  /** Godot's on_reset: the peer is gone; what peers spawned is removed, our net ids start again. */
  reset(): void {
    for (const info of this.#peers.values()) this.#freeRemotes(info);
    this.#peers.clear();
    for (const t of this.#tracked.values()) {
      t.netId = 0;
      t.remotePeer = 0;
    }
    for (const sync of this.#syncNodes) sync.reset();
    this.#lastNetId = 0;
  }

  #freeRemotes(info: PeerInfo): void {
    for (const node of [...info.recvNodes.values()]) node.remove();
  }

  // ---------------------------------------------------------------------------------------------
  // Nodes entering and leaving

  /** Before a new tree's code runs: each synchronizer's replicated properties get their declared types. */
  declareTypes(sync: MultiplayerSynchronizer): void {
    const root = sync.getRootNode();
    if (root === undefined || sync.replicationConfig === null) return;
    for (const prop of sync.replicationConfig.getProperties()) {
      if (prop.subnames.length !== 1) continue;
      const node = prop.node === '' ? root : root.getNode(prop.node);
      node?.declareProperty(prop.subnames[0], prop.type);
    }
  }

  /** A node entered the tree (after its parent). */
  nodeEntered(node: NetworkNode): void {
    if (node instanceof MultiplayerSpawner) this.#spawners.add(node);
    if (node instanceof MultiplayerSynchronizer) this.startSynchronizer(node);
  }

  /**
   * A tree was added at `root` by us: where a spawner of ours watches its parent and lists its scene, it
   * is spawned (Godot's auto-spawn on add_child); `custom` makes it a custom spawn of that spawner.
   * Throws a TypeError if a spawn property has no value (nothing is sent then).
   */
  treeAdded(root: NetworkNode, custom?: CustomSpawnInfo): void {
    if (custom !== undefined) return this.#spawnLocal(root, custom.spawner, MultiplayerSpawner.INVALID_ID, custom.arg);
    if (!this.host.hasPeer() || root.sceneFilePath === '' || this.#pending?.path === root.path) return;
    const parent = root.path.slice(0, Math.max(0, root.path.lastIndexOf('/')));
    for (const spawner of this.#spawners) {
      if (!this.#hasAuthority(spawner) || spawner.getSpawnNode()?.path !== parent) continue;
      const sceneId = spawner.findSpawnableSceneIndexFromPath(root.sceneFilePath);
      if (sceneId === MultiplayerSpawner.INVALID_ID) continue;
      return this.#spawnLocal(root, spawner, sceneId, null);
    }
  }

  /** The nodes of a subtree leave (root first): despawns ours, stops synchronizers, forgets the rest. */
  nodesRemoving(nodes: readonly NetworkNode[]): void {
    const leaving = new Set(nodes);
    for (const node of [...nodes].reverse()) {
      if (this.#spawned.has(node)) this.#despawnLocal(node);
      if (node instanceof MultiplayerSpawner) {
        for (const [spawnedNode, t] of this.#tracked) if (t.spawner === node && this.#spawned.has(spawnedNode)) this.#despawnLocal(spawnedNode);
        this.#spawners.delete(node);
      }
    }
    for (const [sync, root] of this.#syncRoots) if (leaving.has(sync) || leaving.has(root)) this.stopSynchronizer(sync);
    for (const node of nodes) {
      const t = this.#tracked.get(node);
      if (t === undefined) continue;
      this.#tracked.delete(node);
      if (t.remotePeer !== 0) {
        const info = this.#peers.get(t.remotePeer);
        if (info?.recvNodes.get(t.netId) === node) info.recvNodes.delete(t.netId);
      }
      for (const info of this.#peers.values()) info.spawnNodes.delete(node);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Synchronizers

  /** Godot's _start / on_replication_start: needs its root node; takes a pending SPAWN's net id and state. */
  startSynchronizer(sync: MultiplayerSynchronizer): void {
    if (sync.started) return;
    const root = sync.getRootNode();
    if (root === undefined) return;
    sync.reset();
    sync.started = true;
    this.#track(root).synchronizers.push(sync);
    this.#syncNodes.add(sync);
    this.#syncRoots.set(sync, root);
    this.declareTypes(sync);
    this.#updateSyncVisibility(0, sync);

    const pending = this.#pending;
    if (pending === null || pending.path !== root.path || sync.getMultiplayerAuthority() !== pending.remote) return;
    const netId = pending.syncIds.shift();
    if (netId === undefined) {
      return this.host.drop('badSpawn', `SPAWN of ${root.path} from ${pending.remote}: the synchronizer ${sync.path} has no net id in it (are the authorities set as the spawner's peer sets them?)`);
    }
    this.#peers.get(pending.remote)?.recvSyncIds.set(netId, sync);
    sync.netId = netId;
    const props = sync.replicationConfig?.spawnProperties ?? [];
    if (pending.state.remaining === 0 || props.length === 0) return;
    const values = this.#decodeValues(pending.state, props.length);
    if (values === null) return this.host.drop('badState', `SPAWN of ${root.path} from ${pending.remote}: the spawn state of ${sync.path} does not decode`);
    if (!this.#apply(root, props, values)) this.host.drop('badState', `SPAWN of ${root.path} from ${pending.remote}: the spawn state of ${sync.path} does not fit its declared types`);
  }

  /** Godot's _stop / on_replication_stop. */
  stopSynchronizer(sync: MultiplayerSynchronizer): void {
    if (!sync.started) return;
    sync.started = false;
    const root = this.#syncRoots.get(sync);
    this.#syncRoots.delete(sync);
    const t = root === undefined ? undefined : this.#tracked.get(root);
    if (t !== undefined) t.synchronizers.splice(t.synchronizers.indexOf(sync), 1);
    this.#syncNodes.delete(sync);
    for (const info of this.#peers.values()) {
      info.syncNodes.delete(sync);
      info.lastWatch.delete(sync);
      if (sync.netId !== 0 && info.recvSyncIds.get(sync.netId) === sync) info.recvSyncIds.delete(sync.netId);
    }
    sync.reset();
  }

  /** A synchronizer's visibility changed for `peer` (0: every peer). */
  visibilityChanged(sync: MultiplayerSynchronizer, peer: number): void {
    const root = this.#syncRoots.get(sync);
    if (root === undefined) return;
    if (this.#spawned.has(root) && peer !== this.host.ownId()) this.#updateSpawnVisibility(peer, root);
    this.#updateSyncVisibility(peer, sync);
  }

  /** Godot's is_rpc_visible: RPCs on a replicated node go only to the peers that have it. */
  isRpcVisible(node: NetworkNode, peer: number): boolean {
    const t = this.#tracked.get(node);
    if (t === undefined || t.synchronizers.length === 0) return true;
    if (t.remotePeer !== 0 && peer === t.remotePeer) return true;
    if (this.#spawned.has(node)) {
      if (peer !== 0) return this.#peers.get(peer)?.spawnNodes.has(node) === true;
      for (const info of this.#peers.values()) if (!info.spawnNodes.has(node)) return false;
      return true;
    }
    return t.synchronizers.some((sync) => sync.isVisibleTo(peer));
  }

  #track(node: NetworkNode): Tracked {
    let t = this.#tracked.get(node);
    if (t === undefined) {
      t = { netId: 0, remotePeer: 0, spawner: null, sceneId: MultiplayerSpawner.INVALID_ID, spawnArg: null, synchronizers: [] };
      this.#tracked.set(node, t);
    }
    return t;
  }

  #hasAuthority(node: NetworkNode): boolean {
    return this.host.hasPeer() && node.getMultiplayerAuthority() === this.host.ownId();
  }

  #updateSyncVisibility(peer: number, sync: MultiplayerSynchronizer): void {
    if (!this.#hasAuthority(sync) || peer === this.host.ownId()) return;
    const show = (info: PeerInfo, visible: boolean) => {
      if (visible === info.syncNodes.has(sync)) return;
      if (visible) info.syncNodes.add(sync);
      else {
        info.syncNodes.delete(sync);
        info.lastWatch.delete(sync);
      }
    };
    if (peer !== 0) {
      const info = this.#peers.get(peer);
      if (info !== undefined) show(info, sync.isVisibleTo(peer));
      return;
    }
    const everyone = sync.isVisibleTo(0);
    for (const [id, info] of this.#peers) show(info, everyone || sync.isVisibleTo(id));
  }

  // ---------------------------------------------------------------------------------------------
  // Spawning (as the spawner's authority)

  /** MultiplayerSpawner.spawn(data). */
  spawnCustom(spawner: MultiplayerSpawner, data: unknown, init: ((node: NetworkNode) => void) | undefined): NetworkNode | null {
    const where = `MultiplayerSpawner.spawn (${spawner.path})`;
    if (!spawner.isRegistered || !this.#hasAuthority(spawner)) return this.#refuse(`${where}: only the spawner's authority spawns, with a multiplayer peer`);
    if (spawner.spawnLimit > 0 && this.#localSpawns(spawner) >= spawner.spawnLimit) return this.#refuse(`${where}: Spawn limit reached!`);
    const make = spawner.spawnFunction;
    if (make === null) return this.#refuse(`${where}: Custom spawn requires the 'spawnFunction' property to be a function.`);
    const parent = spawner.getSpawnNode();
    if (parent === undefined) return this.#refuse(`${where}: Cannot find spawn node.`);
    const made = make(data);
    if (made === null || typeof made !== 'object' || typeof made.scene !== 'string' || typeof made.name !== 'string') {
      throw new TypeError(`${where}: spawnFunction must return { scene, name } (the manifest scene and the node's name)`);
    }
    checkNodeName(where, made.name);
    this.#w.truncate(0);
    if (writeCompressedVariant(this.#w, data, false) !== GodotError.OK) throw new TypeError(`${where}: the data cannot be sent as a Variant`);
    const arg = this.#w.finish();
    return this.host.instantiate(made.scene, `${parent.path}/${made.name}`, init, { spawner, arg });
  }

  #spawnLocal(root: NetworkNode, spawner: MultiplayerSpawner, sceneId: number, arg: Buffer | null): void {
    checkNodeName(`spawning ${root.path}`, root.name);
    const t = this.#track(root);
    for (const sync of t.synchronizers) {
      if (!this.#hasAuthority(sync)) continue;
      const missing = (sync.replicationConfig?.spawnProperties ?? []).filter((p) => this.#read(root, p) === undefined);
      if (missing.length > 0) {
        throw new TypeError(
          `spawning ${root.path}: ${sync.path} sends ${missing.map((p) => p.path).join(', ')} in the SPAWN, but they have no value; set them (node.set) in instantiate's init`,
        );
      }
    }
    t.spawner = spawner;
    t.sceneId = sceneId;
    t.spawnArg = arg;
    this.#spawned.add(root);
    this.#updateSpawnVisibility(0, root);
  }

  #despawnLocal(node: NetworkNode): void {
    const t = this.#tracked.get(node);
    const packet = despawnPacket(t?.netId ?? 0);
    for (const [peer, info] of this.#peers) if (info.spawnNodes.delete(node)) this.host.send(peer, packet, true);
    this.#spawned.delete(node);
    if (t !== undefined) t.spawner = null;
  }

  #localSpawns(spawner: MultiplayerSpawner): number {
    let n = 0;
    for (const node of this.#spawned) if (this.#tracked.get(node)?.spawner === spawner) n++;
    return n;
  }

  #updateSpawnVisibility(peer: number, node: NetworkNode): void {
    const t = this.#tracked.get(node);
    const spawner = t?.spawner;
    if (t === undefined || spawner == null || !this.#hasAuthority(spawner)) return;
    // Visible if any of its synchronizers with our authority is (or it has none).
    let visible = true;
    for (const sync of t.synchronizers) {
      if (!this.#hasAuthority(sync)) continue;
      visible = sync.isVisibleTo(peer);
      if (visible) break;
    }
    const toSpawn: number[] = [];
    const toDespawn: number[] = [];
    if (peer !== 0) {
      const info = this.#peers.get(peer);
      if (info === undefined || visible === info.spawnNodes.has(node)) return;
      (visible ? toSpawn : toDespawn).push(peer);
    } else {
      for (const [id, info] of this.#peers) {
        if (!visible) this.#updateSpawnVisibility(id, node);
        else if (!info.spawnNodes.has(node)) toSpawn.push(id);
      }
    }
    if (toSpawn.length > 0) {
      const packet = this.#spawnPacket(node, t, spawner);
      if (packet === null) return;
      for (const id of toSpawn) {
        this.host.cache.offer(spawner, [id]);
        this.host.send(id, packet, true);
        this.#peers.get(id)?.spawnNodes.add(node);
      }
    }
    if (toDespawn.length > 0) {
      const packet = despawnPacket(t.netId);
      for (const id of toDespawn) {
        this.#peers.get(id)?.spawnNodes.delete(node);
        this.host.send(id, packet, true);
      }
    }
  }

  /** `04` scene id, u32 spawner cache id, net id, synchronizer count, name length, the synchronizers' net ids, name, [custom argument], spawn state. */
  #spawnPacket(node: NetworkNode, t: Tracked, spawner: MultiplayerSpawner): Buffer | null {
    if (t.netId === 0) t.netId = ++this.#lastNetId;
    const syncs = t.synchronizers.filter((sync) => this.#hasAuthority(sync));
    for (const sync of syncs) if (sync.netId === 0) sync.netId = ++this.#lastNetId;
    const state: Buffer[] = [];
    for (const sync of syncs) {
      const bytes = this.#encode(node, sync.replicationConfig?.spawnProperties ?? []);
      if (typeof bytes === 'string') {
        this.host.reportError(`SPAWN of ${node.path}: the spawn state of ${sync.path} cannot be encoded: ${bytes}`);
        return null;
      }
      state.push(bytes);
    }
    const name = cstring(node.name);
    const arg = t.sceneId === MultiplayerSpawner.INVALID_ID ? t.spawnArg ?? Buffer.from([0]) : null;
    const head = Buffer.alloc(SPAWN_HEADER + 4 * syncs.length);
    head[0] = Command.SPAWN;
    head[1] = t.sceneId;
    head.writeUInt32LE(this.host.cache.idOf(spawner), 2);
    head.writeUInt32LE(t.netId, 6);
    head.writeUInt32LE(syncs.length, 10);
    head.writeUInt32LE(name.length, 14);
    syncs.forEach((sync, i) => head.writeUInt32LE(sync.netId >>> 0, SPAWN_HEADER + 4 * i));
    const parts = [head, name];
    if (arg !== null) parts.push(u32(arg.length), arg);
    return Buffer.concat([...parts, ...state]);
  }

  // ---------------------------------------------------------------------------------------------
  // The network frame: SYNC then DELTA to every peer that sees any of our synchronizers

  onNetworkProcess(now: number): void {
    for (const sync of this.#syncNodes) {
      if (sync.hasFilters && sync.visibilityUpdateMode !== VisibilityUpdateMode.VISIBILITY_PROCESS_NONE) sync.updateVisibility(0);
    }
    // Every peer's loop below walks all the synchronizers it sees: N² for N players each seen by all.
    const own = this.host.hasPeer() ? this.host.ownId() : 0;
    for (const [peer, info] of this.#peers) {
      if (info.syncNodes.size === 0) continue;
      info.lastSentSync = (info.lastSentSync + 1) & 0xffff;
      this.#sendSync(peer, info, now, own);
      this.#sendDelta(peer, info, now, own);
    }
  }

  /** One buffer for every SYNC (a send copies it). */
  #syncOut = Buffer.alloc(0);

  #sendSync(peer: number, info: PeerInfo, now: number, own: number): void {
    const mtu = this.host.maxSyncPacketSize;
    if (this.#syncOut.length !== mtu) this.#syncOut = Buffer.allocUnsafe(mtu);
    const out = this.#syncOut;
    out[0] = Command.SYNC;
    out.writeUInt16LE(info.lastSentSync, 1);
    let ofs = SYNC_HEADER;
    for (const sync of info.syncNodes) {
      if (sync.replicationConfig === null || sync.getMultiplayerAuthority() !== own || !sync.updateOutboundSyncTime(now)) continue;
      const root = this.#syncRoots.get(sync);
      if (root === undefined || !this.#verifySynchronizer(peer, sync)) continue;
      const state = this.#syncState(sync, root, now);
      if (state === null || state.length === 0) continue;
      if (state.length > mtu) {
        this.#reportOnce(sync, `${sync.path}: its state (${state.length} bytes) is bigger than maxSyncPacketSize (${mtu}) and is not sent`);
        continue;
      }
      if (ofs + SYNC_ENTRY + state.length > mtu) {
        this.host.send(peer, out.subarray(0, ofs), false);
        ofs = SYNC_HEADER;
      }
      out.writeUInt32LE(sync.netId >>> 0, ofs);
      out.writeUInt32LE(state.length, ofs + 4);
      state.copy(out, ofs + SYNC_ENTRY);
      ofs += SYNC_ENTRY + state.length;
    }
    if (ofs > SYNC_HEADER) this.host.send(peer, out.subarray(0, ofs), false);
  }

  /** The ALWAYS properties' values, encoded once per frame for every peer. */
  #syncState(sync: MultiplayerSynchronizer, root: NetworkNode, now: number): Buffer | null {
    if (sync.stateUsec !== now) {
      const bytes = this.#encode(root, sync.replicationConfig?.syncProperties ?? []);
      if (typeof bytes === 'string') {
        this.#reportOnce(sync, `${sync.path}: its SYNC state is not sent: ${bytes}`);
        sync.stateBytes = null;
      } else sync.stateBytes = bytes;
      sync.stateUsec = now;
    }
    return sync.stateBytes;
  }

  #sendDelta(peer: number, info: PeerInfo, now: number, own: number): void {
    const mtu = this.host.maxDeltaPacketSize;
    let out: Buffer | null = null;
    let ofs = 1;
    for (const sync of info.syncNodes) {
      const config = sync.replicationConfig;
      if (config === null || config.watchProperties.length === 0 || sync.getMultiplayerAuthority() !== own) continue;
      const root = this.#syncRoots.get(sync);
      if (root === undefined || !this.#verifySynchronizer(peer, sync)) continue;
      const last = info.lastWatch.get(sync) ?? 0;
      if (!sync.deltaDue(now, last)) continue;
      if (sync.lastWatchUsec !== now) {
        this.#watch(sync, root, now);
        sync.lastWatchUsec = now;
      }
      let lo = 0;
      let hi = 0;
      const values: Buffer[] = [];
      sync.watchers.forEach((w, i) => {
        if (w.bytes === null || w.changedUsec <= last) return;
        values.push(w.bytes);
        if (i < 32) lo |= 1 << i;
        else hi |= 1 << (i - 32);
      });
      if (values.length === 0) continue;
      const size = values.reduce((n, b) => n + b.length, 0);
      if (size > mtu) {
        this.#reportOnce(sync, `${sync.path}: its delta (${size} bytes) is bigger than maxDeltaPacketSize (${mtu}) and is not sent`);
        continue;
      }
      out ??= Buffer.allocUnsafe(mtu);
      if (ofs + DELTA_ENTRY + size > mtu) {
        this.host.send(peer, out.subarray(0, ofs), true);
        ofs = 1;
      }
      out.writeUInt32LE(sync.netId >>> 0, ofs);
      out.writeUInt32LE(lo >>> 0, ofs + 4);
      out.writeUInt32LE(hi >>> 0, ofs + 8);
      out.writeUInt32LE(size, ofs + 12);
      ofs += DELTA_ENTRY;
      for (const b of values) ofs += b.copy(out, ofs);
      info.lastWatch.set(sync, now);
    }
    if (out !== null && ofs > 1) {
      out[0] = Command.SYNC | DELTA_FLAG;
      this.host.send(peer, out.subarray(0, ofs), true);
    }
  }

  /** Godot's _watch_changes: re-reads the ON_CHANGE values; one that changed (or is new) is stamped `now`. */
  #watch(sync: MultiplayerSynchronizer, root: NetworkNode, now: number): void {
    const props = sync.replicationConfig?.watchProperties ?? [];
    while (sync.watchers.length < props.length) sync.watchers.push({ bytes: null, changedUsec: 0 });
    sync.watchers.length = props.length;
    props.forEach((prop, i) => {
      const value = this.#read(root, prop);
      if (value === undefined) return; // never set: nothing to tell yet
      const bytes = this.#encode(root, [prop]);
      if (typeof bytes === 'string') return this.#reportOnce(sync, `${sync.path}: ${bytes}`);
      const w = sync.watchers[i];
      if (w.bytes !== null && w.bytes.equals(bytes)) return;
      w.bytes = bytes;
      w.changedUsec = now;
    });
  }

  /** Godot's _verify_synchronizer: a synchronizer without a spawn net id goes by its path, once the peer confirmed it. */
  #verifySynchronizer(peer: number, sync: MultiplayerSynchronizer): boolean {
    if (sync.netId !== 0 && (sync.netId & PATH_NET_ID) === 0) return true;
    const confirmed = this.host.cache.offer(sync, [peer]);
    if (sync.netId === 0) sync.netId = (PATH_NET_ID | this.host.cache.idOf(sync)) >>> 0;
    return confirmed;
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  /** SPAWN, DESPAWN or SYNC (plain or delta) from `from`. */
  process(from: number, packet: Uint8Array): void {
    const view = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    switch (packet[0] & 7) {
      case Command.SPAWN:
        return this.#receiveSpawn(from, view);
      case Command.DESPAWN:
        return this.#receiveDespawn(from, view);
      default:
        if (view.length < SYNC_MIN) return this.host.drop('malformed', `SYNC from ${from} too short`);
        return view[0] & DELTA_FLAG ? this.#receiveDelta(from, view) : this.#receiveSync(from, view);
    }
  }

  #receiveSpawn(from: number, p: Buffer): void {
    const host = this.host;
    if (p.length < SPAWN_HEADER) return host.drop('malformed', `SPAWN from ${from} too short`);
    const sceneId = p[1];
    const spawner = host.cache.receivedNode(from, p.readUInt32LE(2));
    if (!(spawner instanceof MultiplayerSpawner)) return host.drop('unknownSpawner', `SPAWN from ${from} through node id ${p.readUInt32LE(2)}, which is not a MultiplayerSpawner it named`);
    if (spawner.getMultiplayerAuthority() !== from) return host.drop('replicationDenied', `SPAWN from ${from} through ${spawner.path}, whose authority is ${spawner.getMultiplayerAuthority()}`);
    const netId = p.readUInt32LE(6);
    const syncCount = p.readUInt32LE(10);
    const nameLength = p.readUInt32LE(14);
    let ofs = SPAWN_HEADER;
    if (nameLength + 4 * syncCount > p.length - ofs) return host.drop('malformed', `SPAWN from ${from}: its sizes exceed the packet`);
    if (nameLength < 1) return host.drop('malformed', `SPAWN from ${from}: empty node name`);
    const syncIds: number[] = [];
    for (let i = 0; i < syncCount; i++, ofs += 4) syncIds.push(p.readUInt32LE(ofs));
    const name = readCString(p, ofs, ofs + nameLength);
    ofs += nameLength;
    if (name === '' || INVALID_NAME.test(name)) return host.drop('badSpawn', `SPAWN from ${from}: invalid node name "${name.slice(0, 200)}"`);
    const parent = spawner.getSpawnNode();
    if (parent === undefined) return host.drop('badSpawn', `SPAWN from ${from}: the spawn path "${spawner.spawnPath}" of ${spawner.path} leads to no registered node`);
    const path = `${parent.path}/${name}`;
    if (host.findNode(path) !== undefined) return host.drop('badSpawn', `SPAWN from ${from}: ${path} exists already`);
    const info = this.#peers.get(from);
    if (info === undefined) return host.drop('fromUnknownPeer', `SPAWN from ${from}, which has no replication state`);
    if (info.recvNodes.has(netId)) return host.drop('badSpawn', `SPAWN from ${from}: net id ${netId} is in use`);
    if (info.recvNodes.size >= host.maxRemoteSpawnsPerPeer || (spawner.spawnLimit > 0 && this.#remoteSpawns(spawner) >= spawner.spawnLimit)) {
      return host.drop('spawnLimit', `SPAWN from ${from} through ${spawner.path}: spawn limit reached`);
    }

    let scene: string;
    if (sceneId === MultiplayerSpawner.INVALID_ID) {
      if (p.length - ofs < 4) return host.drop('malformed', `custom SPAWN from ${from}: no argument size`);
      const argSize = p.readUInt32LE(ofs);
      ofs += 4;
      if (argSize > p.length - ofs) return host.drop('malformed', `custom SPAWN from ${from}: the argument exceeds the packet`);
      const { error, value } = readCompressedVariant(new VariantReader(p.subarray(ofs, ofs + argSize)), false, true);
      if (error !== GodotError.OK) return host.drop('badState', `custom SPAWN from ${from}: the argument does not decode (error ${error})`);
      ofs += argSize;
      const make = spawner.spawnFunction;
      if (make === null) return host.drop('badSpawn', `custom SPAWN from ${from}: ${spawner.path} has no spawnFunction`);
      let made: ReturnType<typeof make>;
      try {
        made = make(value);
      } catch (e) {
        return host.drop('handlerError', `the spawnFunction of ${spawner.path} threw: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      }
      if (made === null || typeof made !== 'object' || typeof made.scene !== 'string') return host.drop('handlerError', `the spawnFunction of ${spawner.path} did not return { scene }`);
      scene = made.scene;
    } else {
      scene = spawner.getSpawnableScene(sceneId);
      if (scene === '') return host.drop('badSpawn', `SPAWN from ${from}: ${spawner.path} has no spawnable scene ${sceneId}`);
    }

    this.#pending = { path, remote: from, syncIds, state: new VariantReader(p.subarray(ofs)) };
    let root: NetworkNode;
    try {
      root = host.instantiate(scene, path);
    } catch (e) {
      return host.drop('badSpawn', `SPAWN from ${from} of ${scene} at ${path}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.#pending = null;
    }
    const t = this.#track(root);
    t.spawner = spawner;
    t.netId = netId;
    t.remotePeer = from;
    info.recvNodes.set(netId, root);
    spawner.emitSignal('spawned', root);
    if (syncIds.length > 0) host.drop('badSpawn', `SPAWN of ${path} from ${from}: ${syncIds.length} synchronizer net id(s) left over (the synchronizers here differ from the sender's)`);
  }

  #remoteSpawns(spawner: MultiplayerSpawner): number {
    let n = 0;
    for (const info of this.#peers.values()) for (const node of info.recvNodes.values()) if (this.#tracked.get(node)?.spawner === spawner) n++;
    return n;
  }

  #receiveDespawn(from: number, p: Buffer): void {
    if (p.length < DESPAWN_SIZE) return this.host.drop('malformed', `DESPAWN from ${from} too short`);
    const info = this.#peers.get(from);
    const netId = p.readUInt32LE(1);
    const node = info?.recvNodes.get(netId);
    if (info === undefined || node === undefined) return this.host.drop('unknownNetId', `DESPAWN from ${from} of net id ${netId}, which it did not spawn`);
    const spawner = this.#tracked.get(node)?.spawner;
    if (spawner == null || spawner.getMultiplayerAuthority() !== from) return this.host.drop('replicationDenied', `DESPAWN from ${from} of ${node.path}: not its spawner's authority`);
    info.recvNodes.delete(netId);
    node.remove();
    spawner.emitSignal('despawned', node);
  }

  #receiveSync(from: number, p: Buffer): void {
    const sequence = p.readUInt16LE(1);
    let ofs = SYNC_HEADER;
    if (ofs + SYNC_ENTRY >= p.length) return this.host.drop('malformed', `SYNC from ${from} without entries`);
    while (ofs + SYNC_ENTRY < p.length) {
      const netId = p.readUInt32LE(ofs);
      const size = p.readUInt32LE(ofs + 4);
      ofs += SYNC_ENTRY;
      if (size > p.length - ofs) return this.host.drop('malformed', `SYNC from ${from}: an entry exceeds the packet`);
      const at = ofs;
      ofs += size;
      const sync = this.#findSynchronizer(from, netId);
      if (sync === undefined) {
        this.host.drop('unknownNetId'); // not spawned here yet, as Godot: skipped quietly
        continue;
      }
      const root = this.#syncRoots.get(sync);
      if (sync.getMultiplayerAuthority() !== from || root === undefined) {
        this.host.drop('replicationDenied', `SYNC from ${from} for ${sync.path}, whose authority is ${sync.getMultiplayerAuthority()}`);
        continue;
      }
      if (!sync.updateInboundSyncTime(sequence)) {
        this.host.drop('staleSync');
        continue;
      }
      const props = sync.replicationConfig?.syncProperties ?? [];
      const values = this.#decodeValues(new VariantReader(p.subarray(at, at + size)), props.length);
      if (values === null) return this.host.drop('badState', `SYNC from ${from} for ${sync.path}: the state does not decode`);
      if (!this.#apply(root, props, values)) {
        this.#dropOnce(sync, 'badState', `SYNC from ${from} for ${sync.path}: a value does not fit its declared type (or a subname property's value is not set here)`);
        continue;
      }
      sync.emitSignal('synchronized');
    }
  }

  #receiveDelta(from: number, p: Buffer): void {
    let ofs = 1;
    if (ofs + DELTA_ENTRY >= p.length) return this.host.drop('malformed', `DELTA from ${from} without entries`);
    while (ofs + DELTA_ENTRY < p.length) {
      const netId = p.readUInt32LE(ofs);
      const lo = p.readUInt32LE(ofs + 4);
      const hi = p.readUInt32LE(ofs + 8);
      const size = p.readUInt32LE(ofs + 12);
      ofs += DELTA_ENTRY;
      if (size > p.length - ofs) return this.host.drop('malformed', `DELTA from ${from}: an entry exceeds the packet`);
      const at = ofs;
      ofs += size;
      const sync = this.#findSynchronizer(from, netId);
      const root = sync === undefined ? undefined : this.#syncRoots.get(sync);
      if (sync === undefined || root === undefined || sync.getMultiplayerAuthority() !== from) {
        this.host.drop(sync === undefined ? 'unknownNetId' : 'replicationDenied', `Ignoring delta from ${from} for non-authority or invalid synchronizer (net id ${netId})`);
        continue;
      }
      const watched = sync.replicationConfig?.watchProperties ?? [];
      const props = watched.filter((_, i) => (i < 32 ? lo >>> i : hi >>> (i - 32)) & 1);
      const n = watched.length;
      const known = n >= 64 || (n >= 32 ? hi >>> (n - 32) === 0 : hi === 0 && lo >>> n === 0);
      if (props.length === 0 || !known) return this.host.drop('badState', `DELTA from ${from} for ${sync.path}: change mask ${hi.toString(16)}${lo.toString(16).padStart(8, '0')} does not fit its ${watched.length} watched properties`);
      const r = new VariantReader(p.subarray(at, at + size));
      const values = this.#decodeValues(r, props.length);
      if (values === null || r.remaining !== 0) return this.host.drop('badState', `DELTA from ${from} for ${sync.path}: the values do not decode to exactly ${size} bytes`);
      if (!this.#apply(root, props, values)) {
        this.#dropOnce(sync, 'badState', `DELTA from ${from} for ${sync.path}: a value does not fit its declared type (or a subname property's value is not set here)`);
        continue;
      }
      sync.emitSignal('delta_synchronized');
    }
  }

  #findSynchronizer(from: number, netId: number): MultiplayerSynchronizer | undefined {
    if (netId & PATH_NET_ID) {
      const node = this.host.cache.receivedNode(from, netId & ~PATH_NET_ID);
      return node instanceof MultiplayerSynchronizer && node.isRegistered ? node : undefined;
    }
    return this.#peers.get(from)?.recvSyncIds.get(netId);
  }

  // ---------------------------------------------------------------------------------------------
  // Values

  /** A property's value, from the node it names under `root`; undefined if unset. */
  #read(root: NetworkNode, prop: ReplicationProperty): unknown {
    const node = prop.node === '' ? root : root.getNode(prop.node);
    let value = node?.get(prop.subnames[0]);
    for (let i = 1; i < prop.subnames.length && value !== undefined; i++) value = member(value, prop.subnames[i]);
    return value;
  }

  /** The values of `props`, each shaped to its declared type and compressed; a message if one cannot be. */
  #encode(root: NetworkNode, props: readonly ReplicationProperty[]): Buffer | string {
    const w = this.#w;
    w.truncate(0);
    for (const prop of props) {
      const value = this.#read(root, prop);
      if (value === undefined) return `${root.path} ${prop.path} has no value (node.set)`;
      let shaped: unknown;
      try {
        shaped = toDeclared(value, prop.type, `${root.path} ${prop.path}`);
      } catch (e) {
        return e instanceof Error ? e.message : String(e);
      }
      if (writeCompressedVariant(w, shaped, false) !== GodotError.OK) return `${root.path} ${prop.path} cannot be sent as a Variant`;
    }
    return w.finish();
  }

  #decodeValues(r: VariantReader, count: number): unknown[] | null {
    const values: unknown[] = [];
    for (let i = 0; i < count; i++) {
      const { error, value } = readCompressedVariant(r, false, true);
      if (error !== GodotError.OK) return null;
      values.push(value);
    }
    return values;
  }

  /**
   * Sets received values (Godot's set_indexed), each checked against its declared type. A subname
   * property ('.:velocity:x') changes one member of a value the node must already hold.
   */
  #apply(root: NetworkNode, props: readonly ReplicationProperty[], values: readonly unknown[]): boolean {
    let ok = true;
    props.forEach((prop, i) => {
      const node = prop.node === '' ? root : root.getNode(prop.node);
      if (node === undefined) return void (ok = false);
      const name = prop.subnames[0];
      if (prop.subnames.length === 1) return void (ok = node.setReceived(name, values[i]) && ok);
      const leaf = fromDeclared(values[i], prop.type);
      const updated = leaf.ok ? withMember(node.get(name), prop.subnames.slice(1), leaf.value) : undefined;
      ok = updated !== undefined && node.setReceived(name, updated) && ok;
    });
    return ok;
  }

  /** Counts every drop, but reports a synchronizer's trouble once: it would repeat every frame. */
  #dropOnce(sync: MultiplayerSynchronizer, reason: DropReason, message: string): void {
    const first = !this.#reported.has(sync);
    this.#reported.add(sync);
    this.host.drop(reason, first ? message : undefined);
  }

  #reportOnce(sync: MultiplayerSynchronizer, message: string): void {
    if (this.#reported.has(sync)) return;
    this.#reported.add(sync);
    this.host.reportError(`MultiplayerSynchronizer ${message}`);
  }

  #refuse(message: string): null {
    this.host.reportError(message);
    return null;
  }
}

function checkNodeName(where: string, name: string): void {
  if (name === '' || INVALID_NAME.test(name)) {
    throw new TypeError(`${where}: "${name}" is not a valid node name for a spawn (no . : @ / " %; Godot's peers refuse it)`);
  }
}

function despawnPacket(netId: number): Buffer {
  const out = Buffer.alloc(DESPAWN_SIZE);
  out[0] = Command.DESPAWN;
  out.writeUInt32LE(netId >>> 0, 1);
  return out;
}

function u32(n: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(n, 0);
  return out;
}

/** `value.name` of a Godot value (Vector2's x, a Dictionary's key). */
function member(value: unknown, name: string): unknown {
  if (value instanceof Map) return value.get(name);
  if (value !== null && typeof value === 'object' && Object.prototype.hasOwnProperty.call(value, name)) return (value as Record<string, unknown>)[name];
  return undefined;
}

/** A copy of `value` with `path` inside it set to `leaf`; undefined if `value` has no such member. */
function withMember(value: unknown, path: readonly string[], leaf: unknown): unknown {
  if (path.length === 0) return leaf;
  const [name, ...rest] = path;
  const inner = member(value, name);
  if (inner === undefined) return undefined;
  const updated = withMember(inner, rest, leaf);
  if (updated === undefined) return undefined;
  if (value instanceof Map) return new Map(value).set(name, updated);
  return Object.assign(Object.create(Object.getPrototypeOf(value) as object) as object, value, { [name]: updated });
}
