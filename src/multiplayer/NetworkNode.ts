import { GodotError } from '../core/errors';
import { checkBool, checkInt, checkString } from '../core/validate';
import { NodePath } from '../variant/types';
import { DeclaredType, fromDeclared, toDeclared } from '../variant/typed';
import { RpcDeclaration, RpcMethod, RpcTable } from './rpc-config';
import type { SceneReplication } from './SceneReplication';

/** What a NetworkNode needs from the SceneMultiplayer it lives in. */
export interface NodeOwner {
  rpcp(node: NetworkNode, peer: number, method: string, args: unknown[]): GodotError;
  /** Removes the node and every node under it. */
  unregisterNode(node: NetworkNode): void;
  /** The registered node at a path relative to the multiplayer root. */
  nodeAt(path: string): NetworkNode | undefined;
  /** The registered nodes under `node` (not itself), parents before children. */
  descendantsOf(node: NetworkNode): NetworkNode[];
  /** Our peer id; 0 without a multiplayer peer. */
  ownId(): number;
  /** A handler of a node's signal threw. */
  handlerError(what: string, error: unknown): void;
  readonly replication: SceneReplication;
}

export type RpcHandler = (...args: any[]) => void;

/**
 * The server's stand-in for one node of the clients' scene tree: the node's path relative to the
 * multiplayer root (exactly as the clients see it), its RPC methods with their GDScript configuration,
 * its multiplayer authority, and handlers for the calls that arrive. Created by
 * `SceneMultiplayer.registerNode` (or from the game manifest).
 *
 * `node.on('hello', (a, b) => …)` handles incoming calls of `hello` (`multiplayer.getRemoteSenderId()`
 * says who called); `node.rpc('move', v)` and `node.rpcId(id, 'move', v)` call the method on peers,
 * as GDScript's `rpc()` / `rpc_id()` do.
 */
export class NetworkNode {
  /** Godot's scene_file_path: the res:// scene this node is the root of an instance of, or ''. */
  sceneFilePath = '';
  #table: RpcTable;
  #script: Record<string, RpcDeclaration>;
  #nodeConfig: Record<string, RpcDeclaration>;
  #authority: number;
  #registered = true;
  readonly #handlers = new Map<string, RpcHandler[]>();
  readonly #signalHandlers = new Map<string, RpcHandler[]>();
  readonly #values = new Map<string, unknown>();
  readonly #types = new Map<string, DeclaredType>();

  /** @internal Created by SceneMultiplayer.registerNode. */
  constructor(
    protected readonly owner: NodeOwner,
    /** Path relative to the multiplayer root, as the clients send it ('Main/Game'). */
    readonly path: string,
    script: Record<string, RpcDeclaration>,
    nodeConfig: Record<string, RpcDeclaration>,
    authority: number,
  ) {
    this.#script = { ...script };
    this.#nodeConfig = { ...nodeConfig };
    this.#table = new RpcTable(this.#script, this.#nodeConfig);
    this.#authority = authority;
  }

  /** The peer whose AUTHORITY-mode calls this node accepts (Godot's default: 1, the server). */
  get multiplayerAuthority(): number {
    return this.#authority;
  }

  set multiplayerAuthority(id: number) {
    this.setMultiplayerAuthority(id);
  }

  /** As Godot's: by default the nodes under this one get the same authority. */
  setMultiplayerAuthority(id: number, recursive = true): void {
    checkInt('NetworkNode.setMultiplayerAuthority', 'id', id);
    checkBool('NetworkNode.setMultiplayerAuthority', 'recursive', recursive);
    this.applyAuthority(id);
    if (recursive && this.#registered) for (const node of this.owner.descendantsOf(this)) node.applyAuthority(id);
  }

  /** @internal Sets this node's own authority (a MultiplayerSynchronizer restarts around it). */
  protected applyAuthority(id: number): void {
    this.#authority = id;
  }

  getMultiplayerAuthority(): number {
    return this.#authority;
  }

  /** Whether this peer is the node's authority (false without a multiplayer peer). */
  isMultiplayerAuthority(): boolean {
    const own = this.owner.ownId();
    return own !== 0 && own === this.#authority;
  }

  /** The last name of the path. */
  get name(): string {
    return this.path.slice(this.path.lastIndexOf('/') + 1);
  }

  /**
   * The registered node at `path` relative to this one ('Sprite', '../Other', '.'); undefined if there
   * is none. An absolute path ('/root/…') is looked up from the multiplayer root.
   */
  getNode(path: string): NetworkNode | undefined {
    checkString('NetworkNode.getNode', 'path', path);
    if (path.startsWith('/')) return this.owner.nodeAt(path);
    const joined = joinPath(this.path, path);
    return joined === null ? undefined : this.owner.nodeAt(joined);
  }

  /**
   * Sets a property of the node, as its Godot counterpart holds it: what MultiplayerSynchronizers send
   * (SPAWN, SYNC, DELTA) and where received values land. A property a synchronizer replicates has the
   * type the game declares (from the manifest); a value of another type throws here.
   */
  set(property: string, value: unknown): void {
    checkString('NetworkNode.set', 'property', property);
    if (value === undefined) throw new TypeError(`NetworkNode.set: a value is needed for ${this.path}:${property} (null is Godot's null)`);
    const type = this.#types.get(property);
    if (type !== undefined) toDeclared(value, type, `${this.path}:${property}`);
    this.#values.set(property, value);
  }

  /** A property's value; undefined if it was never set nor received. */
  get(property: string): unknown {
    return this.#values.get(property);
  }

  /** @internal A synchronizer replicates `property` as `type`: a value already set must fit it. */
  declareProperty(property: string, type: DeclaredType): void {
    if (type.type === null) return;
    this.#types.set(property, type);
    if (this.#values.has(property)) toDeclared(this.#values.get(property), type, `${this.path}:${property}`);
  }

  /** @internal A received value: checked against the declared type as a GDScript setter would. */
  setReceived(property: string, value: unknown): boolean {
    const type = this.#types.get(property);
    if (type === undefined) {
      this.#values.set(property, value);
      return true;
    }
    const converted = fromDeclared(value, type);
    if (converted.ok) this.#values.set(property, converted.value);
    return converted.ok;
  }

  /** Whether the node is still registered (a removed node cannot call or receive RPCs). */
  get isRegistered(): boolean {
    return this.#registered;
  }

  /**
   * Godot's Node.rpc_config(): adds, replaces or (with null) removes a method of the node's own
   * config, whose ids have bit 15 set. Like in Godot, do it before the node is first used on the wire:
   * peers derive the same table from their own copy of the game.
   */
  rpcConfig(method: string, config: RpcDeclaration | null): void {
    checkString('NetworkNode.rpcConfig', 'method', method);
    const next = { ...this.#nodeConfig };
    if (config === null) delete next[method];
    else next[method] = config;
    this.#table = new RpcTable(this.#script, next);
    this.#nodeConfig = next;
  }

  /** The method's id and configuration, or undefined if the node has no such RPC. */
  getRpcMethod(method: string): RpcMethod | undefined {
    return this.#table.byName.get(method);
  }

  /** @internal */
  get rpcTable(): RpcTable {
    return this.#table;
  }

  /** Calls `method` on every peer (and here too when the method is call_local). */
  rpc(method: string, ...args: unknown[]): GodotError {
    checkString('NetworkNode.rpc', 'method', method);
    return this.owner.rpcp(this, 0, method, args);
  }

  /** Calls `method` on peer `peerId` (0: everyone, -id: everyone but id). */
  rpcId(peerId: number, method: string, ...args: unknown[]): GodotError {
    checkInt('NetworkNode.rpcId', 'peerId', peerId);
    checkString('NetworkNode.rpcId', 'method', method);
    return this.owner.rpcp(this, peerId, method, args);
  }

  /**
   * Handles incoming calls of `method` (a declared RPC of this node) — or, for a MultiplayerSpawner or
   * MultiplayerSynchronizer, also its Godot signals ('spawned', 'synchronized', …).
   */
  on(method: string, handler: RpcHandler): this {
    checkString('NetworkNode.on', 'method', method);
    if (typeof handler !== 'function') throw new TypeError('NetworkNode.on: handler must be a function');
    if (this.signalNames.includes(method)) {
      this.#signalHandlers.set(method, [...(this.#signalHandlers.get(method) ?? []), handler]);
      return this;
    }
    if (!this.#table.byName.has(method)) {
      throw new TypeError(`NetworkNode.on: "${this.path}" has no RPC method "${method}" (declare it with registerNode or rpcConfig)`);
    }
    this.#handlers.set(method, [...(this.#handlers.get(method) ?? []), handler]);
    return this;
  }

  off(method: string, handler: RpcHandler): this {
    const map = this.signalNames.includes(method) ? this.#signalHandlers : this.#handlers;
    const list = map.get(method)?.filter((h) => h !== handler) ?? [];
    if (list.length > 0) map.set(method, list);
    else map.delete(method);
    return this;
  }

  /** The Godot signals of this node's class that on() takes (none for a plain node). */
  protected get signalNames(): readonly string[] {
    return [];
  }

  /** @internal Calls the signal's handlers; one that throws is reported and the others still run. */
  emitSignal(signal: string, ...args: unknown[]): void {
    for (const handler of this.#signalHandlers.get(signal) ?? []) {
      try {
        handler(...args);
      } catch (e) {
        this.owner.handlerError(`the "${signal}" handler of ${this.path}`, e);
      }
    }
  }

  /** @internal The handlers of a method, in registration order. */
  handlers(method: string): readonly RpcHandler[] {
    return this.#handlers.get(method) ?? [];
  }

  /**
   * Removes the node and the nodes under it, as if they left the clients' tree: their path-cache entries
   * go, handlers stay attached. A node this peer spawned through a MultiplayerSpawner is despawned on
   * every peer that has it (DESPAWN).
   */
  remove(): void {
    if (!this.#registered) return;
    this.owner.unregisterNode(this);
  }

  /** @internal */
  markRemoved(): void {
    this.#registered = false;
  }
}

/** `base` joined with a relative node path ('..' climbs); null if it climbs above the root. */
export function joinPath(base: string, relative: string): string | null {
  const names = base === '' ? [] : base.split('/');
  for (const name of NodePath.parse(relative).names) {
    if (name === '.') continue;
    if (name === '..') {
      if (names.length === 0) return null;
      names.pop();
    } else names.push(name);
  }
  return names.join('/');
}
