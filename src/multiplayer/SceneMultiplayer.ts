import { EventEmitter } from 'events';
import { performance } from 'perf_hooks';
import { GodotError, reportError } from '../core/errors';
import { checkBool, checkBytes, checkInt } from '../core/validate';
import { NodePath } from '../variant/types';
import { ConnectionStatus, MultiplayerPeer, TransferMode } from './MultiplayerPeer';
import { NetworkNode, NodeOwner } from './NetworkNode';
import { COMMAND_MASK, Command, DROP_REASONS, DropReason, SYS_CMD_SIZE, SysCommand, sysPacket } from './protocol';
import { RPCMode, RpcDeclaration } from './rpc-config';
import type { GameManifest, SpawnerInfo, SynchronizerInfo } from '../manifest/types';
import { TreeNode, sceneTree, staticTree } from './manifest-tree';
import { MultiplayerSpawner } from './MultiplayerSpawner';
import { MultiplayerSynchronizer } from './MultiplayerSynchronizer';
import { SceneCache } from './SceneCache';
import { CustomSpawnInfo, SceneReplication } from './SceneReplication';
import { SceneRPC } from './SceneRPC';

/** The signals of Godot's SceneMultiplayer (and MultiplayerAPI), as events. */
export interface SceneMultiplayerEvents {
  peer_connected: [id: number];
  peer_disconnected: [id: number];
  connected_to_server: [];
  connection_failed: [];
  server_disconnected: [];
  peer_authenticating: [id: number];
  peer_authentication_failed: [id: number];
  peer_packet: [id: number, packet: Buffer];
  /** SceneTree's node_added: a node was registered (parents first; a new scene's before its synchronizers start). */
  node_added: [node: NetworkNode];
}

export type AuthCallback = (id: number, data: Buffer) => void;

export interface SceneMultiplayerOptions {
  /**
   * Node extra: poll() runs from the event loop while a peer is assigned — when a datagram arrives and
   * otherwise every `autoPoll` ms (true = 10 ms) — so a server needs no loop of its own. The peer must
   * not have an autoPoll of its own.
   */
  autoPoll?: boolean | number;
  /**
   * Node paths a single peer may offer us (SIMPLIFY_PATH) before further offers are dropped and
   * counted. Godot has no limit; this one bounds what a hostile peer can make us store. Default 16384.
   * It also bounds the nodes one peer may have spawned here at once (through spawners it is the
   * authority of).
   */
  maxPathsPerPeer?: number;
  /**
   * Network frames per second: replication (SYNC, DELTA, visibility filters) runs once per frame, from
   * poll(), as a Godot peer runs it once per process frame; with autoPoll a timer keeps the frames
   * coming. Synchronizer intervals count in frames' scheduled times. 0 = every poll() is a frame.
   * Default 60.
   */
  tickRate?: number;
}

/** Per registered node: Godot's node config and script RPCs, and its authority. */
export interface NodeOptions {
  /** Methods configured with Node.rpc_config() (ids with bit 15). */
  rpcConfig?: Record<string, RpcDeclaration>;
  /** The node's multiplayer authority; default 1 (the server). */
  authority?: number;
  /** Makes it a MultiplayerSpawner with these settings (the manifest's shape). */
  spawner?: SpawnerInfo;
  /** Makes it a MultiplayerSynchronizer with these settings (the manifest's shape). */
  synchronizer?: SynchronizerInfo;
}

const NODE_OPTION_KEYS = new Set(['rpcConfig', 'authority', 'spawner', 'synchronizer']);

interface PendingPeer {
  local: boolean;
  remote: boolean;
  time: number;
}

const SERVER_ID = 1;
/** ENet's peer limit: a server has at most 4095 clients, so a client at most 4095 peers (the server and 4094 others). */
const MAX_RELAYED_PEERS = 4095;
const OPTION_KEYS = new Set(['autoPoll', 'maxPathsPerPeer', 'tickRate']);

/**
 * Godot 4's SceneMultiplayer, the MultiplayerAPI every Godot game talks through: authentication,
 * peers seeing each other through the server (ADD_PEER / DEL_PEER, relay), `send_bytes`, and RPCs on
 * the nodes of the game's scene tree. A Node process has no scene tree, so the nodes the clients use
 * are declared with {@link registerNode} (path, `@rpc` methods, authority).
 *
 * Works as the server (peer 1) of real Godot 4 clients, and as a client of a real Godot 4 server.
 * Events are Godot's signals, emitted synchronously from poll().
 */
export class SceneMultiplayer extends EventEmitter implements NodeOwner {
  static readonly RPCMode = RPCMode;
  static readonly RPC_MODE_DISABLED = RPCMode.RPC_MODE_DISABLED;
  static readonly RPC_MODE_ANY_PEER = RPCMode.RPC_MODE_ANY_PEER;
  static readonly RPC_MODE_AUTHORITY = RPCMode.RPC_MODE_AUTHORITY;

  #manifest: GameManifest | null = null;
  #peer: MultiplayerPeer | null = null;
  #lastStatus = ConnectionStatus.CONNECTION_DISCONNECTED;
  readonly #connected = new Set<number>();
  readonly #pending = new Map<number, PendingPeer>();
  readonly #nodes = new Map<string, NetworkNode>();
  #remoteSender = 0;
  #authCallback: AuthCallback | null = null;
  #authTimeoutMs = 3000;
  #serverRelay = true;
  #allowObjectDecoding = false;
  #rootPath = '/root';
  readonly #dropped = new Map<DropReason, number>();
  readonly #cache: SceneCache;
  readonly #rpc: SceneRPC;
  readonly #replication: SceneReplication;
  #maxSyncPacketSize = 1350;
  #maxDeltaPacketSize = 65535;
  readonly #tickRate: number;
  /** Frame k is due at #frameOrigin + k / tickRate seconds (µs). */
  readonly #frameOrigin = Math.floor(performance.now() * 1000) + 1;
  #lastFrame = -1;
  readonly #autoPollMs: number;
  #autoPollTimer: NodeJS.Timeout | null = null;
  #frameTimer: NodeJS.Timeout | null = null;
  readonly #onPeerConnected = (id: number) => this.#addPeer(id);
  readonly #onPeerDisconnected = (id: number) => this.#delPeer(id);

  constructor(options: SceneMultiplayerOptions = {}) {
    super();
    if (options === null || typeof options !== 'object') throw new TypeError('SceneMultiplayer: options must be an object');
    for (const key of Object.keys(options)) if (!OPTION_KEYS.has(key)) throw new TypeError(`SceneMultiplayer: unknown option "${key}"`);
    const autoPoll = options.autoPoll ?? false;
    this.#autoPollMs = autoPoll === true ? 10 : autoPoll === false ? 0 : checkInt('SceneMultiplayer', 'autoPoll', autoPoll);
    if (this.#autoPollMs < 0) throw new RangeError('SceneMultiplayer: autoPoll must be a positive interval in ms');
    const maxPaths = checkInt('SceneMultiplayer', 'maxPathsPerPeer', options.maxPathsPerPeer ?? 16384);
    const tickRate = options.tickRate ?? 60;
    if (typeof tickRate !== 'number' || !Number.isFinite(tickRate) || tickRate < 0) throw new RangeError('SceneMultiplayer: tickRate must be a number of frames per second >= 0');
    this.#tickRate = tickRate;
    const self = this;
    this.#cache = new SceneCache(
      {
        sendReliable: (peer, packet) => this.#sendCommand(peer, packet, TransferMode.TRANSFER_MODE_RELIABLE, 0),
        findNode: (path) => this.#findNode(path),
        drop: (reason, message) => this.#drop(reason, message),
        reportError,
      },
      maxPaths,
    );
    this.#rpc = new SceneRPC({
      get peer() {
        return self.#peer;
      },
      get cache() {
        return self.#cache;
      },
      get connectedPeers() {
        return self.#connected;
      },
      get allowObjectDecoding() {
        return self.#allowObjectDecoding;
      },
      uniqueId: () => this.getUniqueId(),
      findNode: (path) => this.#findNode(path),
      send: (to, packet, mode, channel) => this.#sendCommand(to, packet, mode, channel),
      asSender: (sender, fn) => this.#asSender(sender, fn),
      isRpcVisible: (node, peer) => this.#replication.isRpcVisible(node, peer),
      drop: (reason, message) => this.#drop(reason, message),
      reportError,
    });
    this.#replication = new SceneReplication({
      get cache() {
        return self.#cache;
      },
      get maxSyncPacketSize() {
        return self.#maxSyncPacketSize;
      },
      get maxDeltaPacketSize() {
        return self.#maxDeltaPacketSize;
      },
      maxRemoteSpawnsPerPeer: maxPaths,
      hasPeer: () => this.#peer !== null,
      ownId: () => this.ownId(),
      findNode: (path) => this.#findNode(path),
      instantiate: (scene, path, init, custom) => this.#instantiate(scene, path, init, custom),
      send: (to, packet, reliable) => void this.#sendCommand(to, packet, reliable ? TransferMode.TRANSFER_MODE_RELIABLE : TransferMode.TRANSFER_MODE_UNRELIABLE, 0),
      drop: (reason, message) => this.#drop(reason, message),
      reportError,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Properties (Godot's, in our casing)

  /** The MultiplayerPeer carrying the packets; it must be connecting or connected when assigned. */
  get multiplayerPeer(): MultiplayerPeer | null {
    return this.#peer;
  }

  set multiplayerPeer(peer: MultiplayerPeer | null) {
    this.setMultiplayerPeer(peer);
  }

  setMultiplayerPeer(peer: MultiplayerPeer | null): void {
    if (peer !== null && !(peer instanceof MultiplayerPeer)) throw new TypeError('SceneMultiplayer.multiplayerPeer must be a MultiplayerPeer or null');
    if (peer === this.#peer) return;
    if (peer !== null && peer.getConnectionStatus() === ConnectionStatus.CONNECTION_DISCONNECTED) {
      reportError('SceneMultiplayer.multiplayerPeer: Supplied MultiplayerPeer must be connecting or connected.');
      return;
    }
    if (this.#peer !== null) {
      this.#peer.off('peer_connected', this.#onPeerConnected);
      this.#peer.off('peer_disconnected', this.#onPeerDisconnected);
      this.#stopAutoPoll();
      this.clear();
    }
    this.#peer = peer;
    if (peer !== null) {
      peer.on('peer_connected', this.#onPeerConnected);
      peer.on('peer_disconnected', this.#onPeerDisconnected);
      this.#startAutoPoll();
    }
    this.#updateStatus();
  }

  getMultiplayerPeer(): MultiplayerPeer | null {
    return this.#peer;
  }

  hasMultiplayerPeer(): boolean {
    return this.#peer !== null;
  }

  /**
   * Called with (peer id, data) for every AUTH message of a connecting peer. With a callback set, new
   * peers stay pending (`peer_authenticating`) until both sides call completeAuth; null admits them at
   * once. A Godot client must set an auth_callback too, or it will never complete its side.
   */
  get authCallback(): AuthCallback | null {
    return this.#authCallback;
  }

  set authCallback(callback: AuthCallback | null) {
    if (callback !== null && typeof callback !== 'function') throw new TypeError('SceneMultiplayer.authCallback must be a function or null');
    this.#authCallback = callback;
  }

  /** Seconds a peer may stay pending before it is disconnected; 0 = forever. Default 3. */
  get authTimeout(): number {
    return this.#authTimeoutMs / 1000;
  }

  set authTimeout(seconds: number) {
    if (typeof seconds !== 'number' || Number.isNaN(seconds)) throw new TypeError('SceneMultiplayer.authTimeout must be a number of seconds');
    if (seconds < 0) {
      reportError('SceneMultiplayer.authTimeout: Timeout must be greater or equal to 0 (where 0 means no timeout)');
      return;
    }
    this.#authTimeoutMs = Math.floor(seconds * 1000);
  }

  /** Whether the server forwards client-to-client packets and tells clients about each other. Default true. */
  get serverRelay(): boolean {
    return this.#serverRelay;
  }

  set serverRelay(enabled: boolean) {
    checkBool('SceneMultiplayer.serverRelay', 'enabled', enabled);
    if (this.#peer !== null && this.#peer.getConnectionStatus() !== ConnectionStatus.CONNECTION_DISCONNECTED) {
      reportError('SceneMultiplayer.serverRelay: cannot change the server relay while a multiplayer peer is active');
      return;
    }
    this.#serverRelay = enabled;
  }

  /** Whether RPC arguments may carry full objects (GodotObject). Default false, as in Godot. */
  get allowObjectDecoding(): boolean {
    return this.#allowObjectDecoding;
  }

  set allowObjectDecoding(enabled: boolean) {
    this.#allowObjectDecoding = checkBool('SceneMultiplayer.allowObjectDecoding', 'enabled', enabled);
  }

  /** Godot's max_sync_packet_size: SYNC packets are split to stay within it (bytes, at least 128). Default 1350. */
  get maxSyncPacketSize(): number {
    return this.#maxSyncPacketSize;
  }

  set maxSyncPacketSize(size: number) {
    this.#maxSyncPacketSize = this.#packetSize('maxSyncPacketSize', size, this.#maxSyncPacketSize);
  }

  /** Godot's max_delta_packet_size: DELTA packets are split to stay within it (bytes, at least 128). Default 65535. */
  get maxDeltaPacketSize(): number {
    return this.#maxDeltaPacketSize;
  }

  set maxDeltaPacketSize(size: number) {
    this.#maxDeltaPacketSize = this.#packetSize('maxDeltaPacketSize', size, this.#maxDeltaPacketSize);
  }

  #packetSize(what: string, size: number, current: number): number {
    checkInt(`SceneMultiplayer.${what}`, 'size', size);
    if (size >= 128) return size;
    reportError(`SceneMultiplayer.${what}: Sync maximum packet size must be at least 128 bytes.`);
    return current;
  }

  /** Refuse new ENet connections (forwarded to the multiplayer peer). */
  get refuseNewConnections(): boolean {
    if (this.#peer === null) {
      reportError("SceneMultiplayer.refuseNewConnections: No multiplayer peer is assigned. Unable to get 'refuse_new_connections'.");
      return false;
    }
    return this.#peer.isRefusingNewConnections();
  }

  set refuseNewConnections(refuse: boolean) {
    checkBool('SceneMultiplayer.refuseNewConnections', 'refuse', refuse);
    if (this.#peer === null) {
      reportError("SceneMultiplayer.refuseNewConnections: No multiplayer peer is assigned. Unable to set 'refuse_new_connections'.");
      return;
    }
    this.#peer.setRefuseNewConnections(refuse);
  }

  /** The absolute path node paths are relative to ('/root', as in a Godot game's default multiplayer). */
  get rootPath(): string {
    return this.#rootPath;
  }

  set rootPath(path: string) {
    if (typeof path !== 'string') throw new TypeError('SceneMultiplayer.rootPath must be a string');
    if (path !== '' && !path.startsWith('/')) {
      reportError('SceneMultiplayer.rootPath: SceneMultiplayer root path must be absolute.');
      return;
    }
    this.#rootPath = path;
  }

  // ---------------------------------------------------------------------------------------------
  // Peers

  /** The unique id of this peer (1 on the server); 0 without a peer. */
  getUniqueId(): number {
    if (this.#peer === null) {
      reportError('SceneMultiplayer.getUniqueId: No multiplayer peer is assigned. Unable to get unique ID.');
      return 0;
    }
    return this.#peer.getUniqueId();
  }

  isServer(): boolean {
    return this.#peer !== null && this.#peer.getUniqueId() === SERVER_ID;
  }

  /** The admitted peers (on a client: the server and, through the relay, the other clients). */
  getPeers(): number[] {
    if (this.#peer === null) {
      reportError('SceneMultiplayer.getPeers: No multiplayer peer is assigned. Assume no peers are connected.');
      return [];
    }
    return [...this.#connected];
  }

  /** Peers still authenticating. */
  getAuthenticatingPeers(): number[] {
    return [...this.#pending.keys()];
  }

  /** While an RPC handler or local call runs: the peer that sent it; otherwise 0. */
  getRemoteSenderId(): number {
    return this.#remoteSender;
  }

  /** Disconnects `id` without emitting peer_disconnected (Godot's disconnect_peer). */
  disconnectPeer(id: number): void {
    checkInt('SceneMultiplayer.disconnectPeer', 'id', id);
    if (!this.#isConnected()) {
      reportError('SceneMultiplayer.disconnectPeer: the multiplayer peer is not connected');
      return;
    }
    this.#delPeer(id, false);
    this.#peer?.disconnectPeer(id);
  }

  /** Forgets all peers and caches (Godot's clear); the multiplayer peer itself stays. */
  clear(): void {
    this.#lastStatus = ConnectionStatus.CONNECTION_DISCONNECTED;
    this.#pending.clear();
    this.#connected.clear();
    this.#cache.clear();
    this.#replication.reset();
  }

  /** Node extra: packets dropped by reason (malformed, denied, unknown nodes…), since creation. */
  getCounters(): Record<DropReason, number> {
    const out = {} as Record<DropReason, number>;
    for (const reason of DROP_REASONS) out[reason] = this.#dropped.get(reason) ?? 0;
    return out;
  }

  // ---------------------------------------------------------------------------------------------
  // Authentication

  /** Sends AUTH data to a pending peer. */
  sendAuth(id: number, data: Uint8Array): GodotError {
    checkInt('SceneMultiplayer.sendAuth', 'id', id);
    checkBytes('SceneMultiplayer.sendAuth', 'data', data);
    if (!this.#isConnected()) return this.#refuse(GodotError.ERR_UNCONFIGURED, 'sendAuth: the multiplayer peer is not connected');
    const pending = this.#pending.get(id);
    if (pending === undefined) return this.#refuse(GodotError.ERR_INVALID_PARAMETER, `sendAuth: peer ${id} is not authenticating`);
    if (data.length === 0) return this.#refuse(GodotError.ERR_INVALID_PARAMETER, 'sendAuth: empty data');
    if (pending.local) {
      return this.#refuse(GodotError.ERR_FILE_CANT_WRITE, 'sendAuth: The authentication session was previously marked as completed, no more authentication data can be sent.');
    }
    if (pending.remote) {
      return this.#refuse(GodotError.ERR_FILE_CANT_WRITE, 'sendAuth: The remote peer notified that the authentication session was completed, no more authentication data can be sent.');
    }
    const packet = Buffer.allocUnsafe(2 + data.length);
    packet[0] = Command.SYS;
    packet[1] = SysCommand.AUTH;
    packet.set(data, 2);
    return this.#put(id, packet, TransferMode.TRANSFER_MODE_RELIABLE, 0);
  }

  /** Marks our side of `id`'s authentication as done; the peer is admitted once it says the same. */
  completeAuth(id: number): GodotError {
    checkInt('SceneMultiplayer.completeAuth', 'id', id);
    if (!this.#isConnected()) return this.#refuse(GodotError.ERR_UNCONFIGURED, 'completeAuth: the multiplayer peer is not connected');
    const pending = this.#pending.get(id);
    if (pending === undefined) return this.#refuse(GodotError.ERR_INVALID_PARAMETER, `completeAuth: peer ${id} is not authenticating`);
    if (pending.local) return this.#refuse(GodotError.ERR_FILE_CANT_WRITE, 'completeAuth: The authentication session was already marked as completed.');
    pending.local = true;
    // The marker goes first: admitting may send packets, which the peer only accepts after it.
    const error = this.#put(id, Buffer.from([Command.SYS, SysCommand.AUTH]), TransferMode.TRANSFER_MODE_RELIABLE, 0);
    if (pending.remote) {
      this.#pending.delete(id);
      this.#admitPeer(id);
    }
    return error;
  }

  // ---------------------------------------------------------------------------------------------
  // Raw packets

  /** Godot's send_bytes: `bytes` reach the peer_packet signal of `id` (0 everyone, -id everyone but id). */
  sendBytes(bytes: Uint8Array, id = 0, mode: TransferMode = TransferMode.TRANSFER_MODE_RELIABLE, channel = 0): GodotError {
    checkBytes('SceneMultiplayer.sendBytes', 'bytes', bytes);
    checkInt('SceneMultiplayer.sendBytes', 'id', id);
    checkInt('SceneMultiplayer.sendBytes', 'mode', mode);
    checkInt('SceneMultiplayer.sendBytes', 'channel', channel);
    if (TransferMode[mode] === undefined) throw new RangeError(`SceneMultiplayer.sendBytes: unknown transfer mode ${mode}`);
    if (bytes.length === 0) return this.#refuse(GodotError.ERR_INVALID_DATA, 'sendBytes: Trying to send an empty raw packet.');
    if (this.#peer === null) return this.#refuse(GodotError.ERR_UNCONFIGURED, 'sendBytes: Trying to send a raw packet while no multiplayer peer is active.');
    if (!this.#isConnected()) return this.#refuse(GodotError.ERR_UNCONFIGURED, 'sendBytes: Trying to send a raw packet via a multiplayer peer which is not connected.');
    const packet = Buffer.allocUnsafe(1 + bytes.length);
    packet[0] = Command.RAW;
    packet.set(bytes, 1);
    return this.#sendCommand(id, packet, mode, channel);
  }

  // ---------------------------------------------------------------------------------------------
  // Nodes and RPCs

  /**
   * Declares a node of the clients' scene tree: its path relative to the multiplayer root ('Game',
   * 'Main/World'; an absolute '/root/…' path is made relative), its script's `@rpc` methods, and
   * optionally its rpc_config() methods and authority. Method ids and the path checksum follow from
   * the names, exactly as Godot derives them, so declare every `@rpc` method the script has.
   */
  registerNode(path: string, rpcs: Record<string, RpcDeclaration> = {}, options: NodeOptions = {}): NetworkNode {
    if (typeof path !== 'string') throw new TypeError('SceneMultiplayer.registerNode: path must be a string');
    if (rpcs === null || typeof rpcs !== 'object') throw new TypeError('SceneMultiplayer.registerNode: rpcs must be an object of method declarations');
    for (const key of Object.keys(options)) if (!NODE_OPTION_KEYS.has(key)) throw new TypeError(`SceneMultiplayer.registerNode: unknown option "${key}"`);
    const key = this.#relativePath(path);
    if (key === null) throw new TypeError(`SceneMultiplayer.registerNode: "${path}" is not under the multiplayer root ${this.#rootPath}`);
    if (key === '') throw new TypeError('SceneMultiplayer.registerNode: a node path is needed');
    if (this.#nodes.has(key)) throw new TypeError(`SceneMultiplayer.registerNode: "${key}" is already registered (remove() it first)`);
    const node = this.#createNode(key, rpcs, options);
    this.#enter(node);
    return node;
  }

  #createNode(key: string, rpcs: Record<string, RpcDeclaration>, options: NodeOptions): NetworkNode {
    const authority = options.authority === undefined ? SERVER_ID : checkInt('SceneMultiplayer.registerNode', 'authority', options.authority);
    const rpcConfig = options.rpcConfig ?? {};
    let node: NetworkNode;
    if (options.spawner !== undefined) node = new MultiplayerSpawner(this, key, rpcs, rpcConfig, authority, options.spawner);
    else if (options.synchronizer !== undefined) node = new MultiplayerSynchronizer(this, key, rpcs, rpcConfig, authority, options.synchronizer);
    else node = new NetworkNode(this, key, rpcs, rpcConfig, authority);
    this.#nodes.set(key, node);
    return node;
  }

  /** Godot's enter-tree step of a registered node: a synchronizer starts, then node_added. */
  #enter(node: NetworkNode): void {
    this.#replication.nodeEntered(node);
    this.emit('node_added', node);
  }

  /**
   * Loads a game manifest (`readManifest(projectDir)` or `npx godot-enet manifest`): registers every
   * node of the clients' static tree — autoloads and the main scene — with its script's `@rpc` and
   * rpc_config() methods, so they need no registerNode. Returns those nodes.
   */
  loadManifest(manifest: GameManifest): NetworkNode[] {
    if (manifest === null || typeof manifest !== 'object' || manifest.format !== 'godot-enet/manifest') {
      throw new TypeError('SceneMultiplayer.loadManifest: not a godot-enet game manifest (readManifest or npx godot-enet manifest make one)');
    }
    if (manifest.version !== 1) throw new TypeError(`SceneMultiplayer.loadManifest: manifest version ${String(manifest.version)} is not supported (1 is)`);
    const tree = staticTree(manifest);
    this.#manifest = manifest;
    return this.#registerTree(tree);
  }

  /**
   * Registers the nodes of one of the manifest's scenes as instanced at `path` (a level or player added
   * by code) and returns its root. `init(root)` runs first, as code between Godot's instantiate() and
   * add_child(): set values (node.set) and authorities there. Then the nodes enter: synchronizers
   * start, and where a MultiplayerSpawner of ours watches the parent and lists the scene, the new node
   * is spawned on the peers (Godot's auto-spawn) with its spawn state.
   */
  instantiate(scenePath: string, path: string, init?: (root: NetworkNode) => void): NetworkNode {
    if (init !== undefined && typeof init !== 'function') throw new TypeError('SceneMultiplayer.instantiate: init must be a function');
    return this.#instantiate(scenePath, path, init);
  }

  #instantiate(scenePath: string, path: string, init?: (root: NetworkNode) => void, custom?: CustomSpawnInfo): NetworkNode {
    if (this.#manifest === null) throw new TypeError('SceneMultiplayer.instantiate: load a game manifest first (loadManifest)');
    const at = this.#relativePath(path);
    if (at === null || at === '') throw new TypeError(`SceneMultiplayer.instantiate: "${path}" is not a path under the multiplayer root`);
    const root = this.#registerTree(sceneTree(this.#manifest, scenePath, at), init)[0];
    try {
      this.#replication.treeAdded(root, custom);
    } catch (e) {
      root.remove();
      throw e;
    }
    return root;
  }

  /** The game manifest loaded with loadManifest, if any. */
  get manifest(): GameManifest | null {
    return this.#manifest;
  }

  /** Registers a tree (parents first): all nodes, then `init` on the root, then each enters in order. */
  #registerTree(tree: TreeNode[], init?: (root: NetworkNode) => void): NetworkNode[] {
    const clash = tree.find((n) => this.#nodes.has(n.path));
    if (clash !== undefined) throw new TypeError(`SceneMultiplayer: "${clash.path}" is already registered`);
    const nodes = tree.map((n) => {
      const node = this.#createNode(n.path, n.rpcs, { rpcConfig: n.rpcConfig, spawner: n.spawner, synchronizer: n.synchronizer });
      node.sceneFilePath = n.sceneFilePath;
      return node;
    });
    try {
      for (const node of nodes) if (node instanceof MultiplayerSynchronizer) this.#replication.declareTypes(node);
      if (init !== undefined && nodes.length > 0) init(nodes[0]);
    } catch (e) {
      for (const node of nodes) this.unregisterNode(node);
      throw e;
    }
    for (const node of nodes) if (node.isRegistered) this.#enter(node);
    return nodes;
  }

  /** The registered node at `path`, if any. */
  getNode(path: string): NetworkNode | undefined {
    return this.#findNode(path);
  }

  /** @internal NodeOwner: NetworkNode.remove(): the node and its subtree leave. */
  unregisterNode(node: NetworkNode): void {
    if (this.#nodes.get(node.path) !== node) return;
    const subtree = [node, ...this.descendantsOf(node)];
    this.#replication.nodesRemoving(subtree);
    for (const n of subtree) {
      this.#nodes.delete(n.path);
      this.#cache.forget(n);
      n.markRemoved();
    }
  }

  /** @internal NodeOwner */
  nodeAt(path: string): NetworkNode | undefined {
    return this.#findNode(path);
  }

  /** @internal NodeOwner */
  descendantsOf(node: NetworkNode): NetworkNode[] {
    const prefix = node.path + '/';
    return [...this.#nodes.values()].filter((n) => n.path.startsWith(prefix));
  }

  /** @internal NodeOwner */
  ownId(): number {
    return this.#peer?.getUniqueId() ?? 0;
  }

  /** @internal NodeOwner */
  handlerError(what: string, error: unknown): void {
    this.#drop('handlerError', `${what} threw: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  }

  /** @internal NodeOwner */
  get replication(): SceneReplication {
    return this.#replication;
  }

  /** @internal NodeOwner: NetworkNode.rpc() / rpcId(). */
  rpcp(node: NetworkNode, peer: number, method: string, args: unknown[]): GodotError {
    return this.#rpc.call(node, peer, method, args);
  }

  // ---------------------------------------------------------------------------------------------
  // Polling

  /** Polls the multiplayer peer and processes every packet it has; emits the signals. */
  poll(): GodotError {
    this.#updateStatus();
    const peer = this.#peer;
    if (peer === null || this.#lastStatus === ConnectionStatus.CONNECTION_DISCONNECTED) return GodotError.OK;
    peer.poll();
    this.#updateStatus();
    if (this.#lastStatus !== ConnectionStatus.CONNECTION_CONNECTED) return GodotError.OK;

    while (this.#peer === peer && peer.getAvailablePacketCount() > 0) {
      const sender = peer.getPacketPeer();
      const channel = peer.getPacketChannel();
      const mode = peer.getPacketMode();
      const packet = peer.getPacket();
      if (peer.getPacketError() !== GodotError.OK) return peer.getPacketError();
      this.#receive(sender, packet, mode, channel);
      this.#updateStatus();
      if (this.#lastStatus !== ConnectionStatus.CONNECTION_CONNECTED) return GodotError.OK;
    }
    this.#expireAuth();
    this.#updateStatus();
    if (this.#lastStatus === ConnectionStatus.CONNECTION_CONNECTED) this.#networkFrame();
    return GodotError.OK;
  }

  /** Godot's replicator step after each poll's packets, here once per network frame (tickRate). */
  #networkFrame(): void {
    const now = performance.now() * 1000;
    if (this.#tickRate === 0) {
      this.#lastFrame = Math.max(this.#lastFrame + 1, Math.floor(now));
      return this.#replication.onNetworkProcess(this.#lastFrame);
    }
    const frame = Math.floor(((now - this.#frameOrigin) * this.#tickRate) / 1e6);
    if (frame <= this.#lastFrame) return;
    this.#lastFrame = frame;
    this.#replication.onNetworkProcess(this.#frameOrigin + Math.round((frame * 1e6) / this.#tickRate));
  }

  // Typed signal events.
  override on<K extends keyof SceneMultiplayerEvents>(event: K, listener: (...args: SceneMultiplayerEvents[K]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  override once<K extends keyof SceneMultiplayerEvents>(event: K, listener: (...args: SceneMultiplayerEvents[K]) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(event, listener);
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  #receive(sender: number, packet: Buffer, mode: TransferMode, channel: number): void {
    const pending = this.#pending.get(sender);
    if (pending !== undefined) return this.#receiveAuth(sender, pending, packet);
    if (!this.#connected.has(sender)) return this.#drop('fromUnknownPeer', `packet from peer ${sender}, which is not connected`);
    if (packet.length > 0 && (packet[0] & COMMAND_MASK) === Command.SYS) {
      if (packet.length > 1 && packet[1] === SysCommand.AUTH) {
        // A late completion marker is expected; AUTH data after admission is not.
        if (packet.length !== 2) this.#drop('notAuthenticated', `AUTH data from peer ${sender}, which is already admitted`);
        return;
      }
      return this.#processSys(sender, packet, mode, channel);
    }
    this.#asSender(sender, () => this.#processPacket(sender, packet));
  }

  #receiveAuth(sender: number, pending: PendingPeer, packet: Buffer): void {
    if (packet.length < 2 || (packet[0] & COMMAND_MASK) !== Command.SYS || packet[1] !== SysCommand.AUTH) {
      return this.#drop('notAuthenticated', `packet from peer ${sender} before its authentication completed`);
    }
    if (packet.length > 2) {
      const callback = this.#authCallback;
      if (callback === null) return this.#drop('notAuthenticated', `AUTH data from peer ${sender} but no authCallback is set`);
      try {
        callback(sender, Buffer.from(packet.subarray(2)));
      } catch (e) {
        this.#drop('handlerError', `authCallback threw for peer ${sender}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      }
      return;
    }
    pending.remote = true;
    if (pending.local) {
      this.#pending.delete(sender);
      this.#admitPeer(sender);
    }
  }

  #processSys(sender: number, packet: Buffer, mode: TransferMode, channel: number): void {
    if (packet.length < SYS_CMD_SIZE) return this.#drop('malformed', `SYS packet from ${sender} too short`);
    const target = packet.readInt32LE(2);
    const relaying = this.#serverRelay && this.#peer?.isServerRelaySupported() === true;
    const iAmServer = this.getUniqueId() === SERVER_ID;
    switch (packet[1]) {
      case SysCommand.ADD_PEER:
      case SysCommand.DEL_PEER:
        if (!relaying || iAmServer || sender !== SERVER_ID) return this.#drop('badSysCommand', `ADD/DEL_PEER from ${sender}`);
        // A hostile server could name 0, 1, ourselves or peers it never announced; Godot would take them all.
        if (packet[1] === SysCommand.ADD_PEER) {
          if (target <= SERVER_ID || target === this.getUniqueId() || this.#connected.has(target)) return this.#drop('badSysCommand', `ADD_PEER of ${target}`);
          // Each peer costs memory: a server announcing more than it can have is not believed.
          if (this.#connected.size >= MAX_RELAYED_PEERS) return this.#drop('badSysCommand', `ADD_PEER of ${target}: more peers than a server can have`);
          this.#admitPeer(target);
        } else {
          if (target === SERVER_ID || !this.#connected.has(target)) return this.#drop('badSysCommand', `DEL_PEER of ${target}, which is not a peer`);
          this.#delPeer(target);
        }
        return;
      case SysCommand.RELAY:
        return this.#processRelay(sender, target, packet, mode, channel, relaying, iAmServer);
      default:
        return this.#drop('badSysCommand', `unknown SYS command ${packet[1]} from ${sender}`);
    }
  }

  #processRelay(sender: number, target: number, packet: Buffer, mode: TransferMode, channel: number, relaying: boolean, iAmServer: boolean): void {
    if (!relaying) return this.#drop('badRelay', `RELAY from ${sender} while the relay is off`);
    if (packet.length < SYS_CMD_SIZE + 1) return this.#drop('malformed', `empty RELAY from ${sender}`);
    const inner = packet.subarray(SYS_CMD_SIZE);
    let source = sender;
    if (iAmServer) {
      if (target > 0 && !this.#connected.has(target)) return this.#drop('relayToUnknownPeer', `RELAY from ${sender} to unknown peer ${target}`);
      if (target === sender) return this.#drop('badRelay', `RELAY from ${sender} to itself`);
      const forward = sysPacket(SysCommand.RELAY, sender, inner);
      if (target > 0) this.#put(target, forward, mode, channel);
      else for (const peer of this.#connected) if (peer !== sender && peer !== -target) this.#put(peer, forward, mode, channel);
      if (target > 0 || target === -SERVER_ID) return;
    } else {
      if (sender !== SERVER_ID) return this.#drop('badRelay', `RELAY from ${sender}, not from the server`);
      source = target;
    }
    this.#asSender(source, () => this.#processPacket(source, inner));
  }

  #processPacket(from: number, packet: Uint8Array): void {
    if (this.#rootPath === '') return this.#drop('invalidCommand', 'the multiplayer root path is not set');
    if (packet.length < 1) return this.#drop('malformed', `empty packet from ${from}`);
    switch (packet[0] & COMMAND_MASK) {
      case Command.SIMPLIFY_PATH:
        return this.#cache.processSimplifyPath(from, packet);
      case Command.CONFIRM_PATH:
        return this.#cache.processConfirmPath(from, packet);
      case Command.REMOTE_CALL:
        return this.#rpc.process(from, packet);
      case Command.RAW:
        if (packet.length < 2) return this.#drop('malformed', `empty RAW packet from ${from}`);
        this.emit('peer_packet', from, Buffer.from(packet.subarray(1)));
        return;
      case Command.SPAWN:
      case Command.DESPAWN:
      case Command.SYNC:
        return this.#replication.process(from, packet);
      default:
        return this.#drop('invalidCommand', `Invalid network command ${packet[0] & COMMAND_MASK} from ${from}`);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Peer bookkeeping

  #addPeer(id: number): void {
    if (this.#authCallback !== null) {
      this.#pending.set(id, { local: false, remote: false, time: Date.now() });
      this.emit('peer_authenticating', id);
      return;
    }
    this.#admitPeer(id);
  }

  #admitPeer(id: number): void {
    if (this.#serverRelay && this.getUniqueId() === SERVER_ID && this.#peer?.isServerRelaySupported() === true) {
      for (const other of this.#connected) {
        this.#put(other, sysPacket(SysCommand.ADD_PEER, id), TransferMode.TRANSFER_MODE_RELIABLE, 0);
        this.#put(id, sysPacket(SysCommand.ADD_PEER, other), TransferMode.TRANSFER_MODE_RELIABLE, 0);
      }
    }
    this.#connected.add(id);
    this.#cache.onPeerChange(id, true);
    this.#replication.onPeerChange(id, true);
    if (id === SERVER_ID) this.emit('connected_to_server');
    this.emit('peer_connected', id);
  }

  #delPeer(id: number, signal = true): void {
    if (this.#pending.delete(id)) {
      if (signal) this.emit('peer_authentication_failed', id);
      return;
    }
    if (!this.#connected.has(id)) return;
    if (this.#serverRelay && this.getUniqueId() === SERVER_ID && this.#peer?.isServerRelaySupported() === true) {
      const packet = sysPacket(SysCommand.DEL_PEER, id);
      for (const other of this.#connected) if (other !== id) this.#put(other, packet, TransferMode.TRANSFER_MODE_RELIABLE, 0);
    }
    this.#replication.onPeerChange(id, false);
    this.#cache.onPeerChange(id, false);
    this.#connected.delete(id);
    if (signal) this.emit('peer_disconnected', id);
  }

  #expireAuth(): void {
    if (this.#pending.size === 0 || this.#authTimeoutMs === 0) return;
    const now = Date.now();
    const expired = [...this.#pending].filter(([, p]) => p.time + this.#authTimeoutMs <= now).map(([id]) => id);
    for (const id of expired) this.#peer?.disconnectPeer(id);
    for (const id of expired) {
      this.#pending.delete(id);
      this.emit('peer_authentication_failed', id);
    }
  }

  #updateStatus(): void {
    const status = this.#peer?.getConnectionStatus() ?? ConnectionStatus.CONNECTION_DISCONNECTED;
    if (status === this.#lastStatus) return;
    if (status === ConnectionStatus.CONNECTION_DISCONNECTED) {
      this.emit(this.#lastStatus === ConnectionStatus.CONNECTION_CONNECTING ? 'connection_failed' : 'server_disconnected');
      this.clear();
    }
    this.#lastStatus = status;
  }

  #isConnected(): boolean {
    return this.#peer !== null && this.#peer.getConnectionStatus() === ConnectionStatus.CONNECTION_CONNECTED;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /** Godot's send_command: a client wraps everything not meant for the server in a RELAY. */
  #sendCommand(to: number, packet: Uint8Array, mode: TransferMode, channel: number): GodotError {
    if (this.#serverRelay && this.getUniqueId() !== SERVER_ID && to !== SERVER_ID && this.#peer?.isServerRelaySupported() === true) {
      return this.#put(SERVER_ID, sysPacket(SysCommand.RELAY, to, packet), mode, channel);
    }
    if (to > 0) {
      if (!this.#connected.has(to)) return this.#refuse(GodotError.ERR_BUG, `send to peer ${to}, which is not connected`);
      return this.#put(to, packet, mode, channel);
    }
    for (const peer of this.#connected) if (peer !== -to) this.#put(peer, packet, mode, channel);
    return GodotError.OK;
  }

  #put(to: number, packet: Uint8Array, mode: TransferMode, channel: number): GodotError {
    const peer = this.#peer;
    if (peer === null) return GodotError.ERR_UNCONFIGURED;
    peer.transferChannel = channel;
    peer.transferMode = mode;
    peer.setTargetPeer(to);
    return peer.putPacket(packet);
  }

  // ---------------------------------------------------------------------------------------------
  // Helpers

  #asSender(sender: number, fn: () => void): void {
    const previous = this.#remoteSender;
    this.#remoteSender = sender;
    try {
      fn();
    } finally {
      this.#remoteSender = previous;
    }
  }

  #drop(reason: DropReason, message?: string): void {
    this.#dropped.set(reason, (this.#dropped.get(reason) ?? 0) + 1);
    if (message !== undefined) reportError(`SceneMultiplayer: ${message}`);
  }

  #refuse(error: GodotError, message: string): GodotError {
    reportError(`SceneMultiplayer.${message}`);
    return error;
  }

  /** A path as the clients name it: relative to the root, without empty segments; null if outside the root. */
  #relativePath(path: string): string | null {
    const parsed = NodePath.parse(path);
    if (!parsed.absolute) return parsed.names.join('/');
    const root = NodePath.parse(this.#rootPath).names;
    if (root.some((name, i) => parsed.names[i] !== name)) return null;
    return parsed.names.slice(root.length).join('/');
  }

  #findNode(path: string): NetworkNode | undefined {
    const key = this.#relativePath(path);
    return key === null ? undefined : this.#nodes.get(key);
  }

  #startAutoPoll(): void {
    if (this.#autoPollMs === 0 || this.#peer === null) return;
    const peer = this.#peer as MultiplayerPeer & { watch?: (wake: () => void, ms: number) => void };
    const wake = () => {
      if (this.#peer === peer) this.poll();
    };
    if (typeof peer.watch === 'function') {
      peer.watch(wake, this.#autoPollMs);
      setImmediate(wake);
    } else {
      this.#autoPollTimer = setInterval(wake, this.#autoPollMs);
    }
    if (this.#tickRate > 0) {
      // A timer for the network frames (packets wake poll() on their own). Unreferenced: it never keeps
      // the process alive by itself, the peer's socket does.
      const frame = () => {
        if (this.#peer !== peer) return;
        this.poll();
        const next = Math.floor(((performance.now() * 1000 - this.#frameOrigin) * this.#tickRate) / 1e6) + 1;
        const due = (this.#frameOrigin + (next * 1e6) / this.#tickRate) / 1000;
        this.#frameTimer = setTimeout(frame, Math.max(1, Math.ceil(due - performance.now()))).unref();
      };
      this.#frameTimer = setTimeout(frame, 0).unref();
    }
  }

  #stopAutoPoll(): void {
    const peer = this.#peer as (MultiplayerPeer & { unwatch?: () => void }) | null;
    if (this.#autoPollTimer !== null) clearInterval(this.#autoPollTimer);
    this.#autoPollTimer = null;
    if (this.#frameTimer !== null) clearTimeout(this.#frameTimer);
    this.#frameTimer = null;
    if (this.#autoPollMs > 0 && typeof peer?.unwatch === 'function') peer.unwatch();
  }
}
