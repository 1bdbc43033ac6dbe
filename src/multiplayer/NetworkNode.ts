import { GodotError } from '../core/errors';
import { checkInt, checkString } from '../core/validate';
import { RpcDeclaration, RpcMethod, RpcTable } from './rpc-config';

/** What a NetworkNode needs from the SceneMultiplayer it lives in. */
export interface NodeOwner {
  rpcp(node: NetworkNode, peer: number, method: string, args: unknown[]): GodotError;
  unregisterNode(node: NetworkNode): void;
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
  #table: RpcTable;
  #script: Record<string, RpcDeclaration>;
  #nodeConfig: Record<string, RpcDeclaration>;
  #authority: number;
  #registered = true;
  readonly #handlers = new Map<string, RpcHandler[]>();

  /** @internal Created by SceneMultiplayer.registerNode. */
  constructor(
    private readonly owner: NodeOwner,
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

  setMultiplayerAuthority(id: number): void {
    this.#authority = checkInt('NetworkNode.setMultiplayerAuthority', 'id', id);
  }

  getMultiplayerAuthority(): number {
    return this.#authority;
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

  /** Handles incoming calls of `method` (a declared RPC of this node). */
  on(method: string, handler: RpcHandler): this {
    checkString('NetworkNode.on', 'method', method);
    if (typeof handler !== 'function') throw new TypeError('NetworkNode.on: handler must be a function');
    if (!this.#table.byName.has(method)) {
      throw new TypeError(`NetworkNode.on: "${this.path}" has no RPC method "${method}" (declare it with registerNode or rpcConfig)`);
    }
    this.#handlers.set(method, [...(this.#handlers.get(method) ?? []), handler]);
    return this;
  }

  off(method: string, handler: RpcHandler): this {
    const list = this.#handlers.get(method)?.filter((h) => h !== handler) ?? [];
    if (list.length > 0) this.#handlers.set(method, list);
    else this.#handlers.delete(method);
    return this;
  }

  /** @internal The handlers of a method, in registration order. */
  handlers(method: string): readonly RpcHandler[] {
    return this.#handlers.get(method) ?? [];
  }

  /** Removes the node, as if it left the clients' tree: its path-cache entries go, handlers stay attached. */
  remove(): void {
    if (!this.#registered) return;
    this.owner.unregisterNode(this);
  }

  /** @internal */
  markRemoved(): void {
    this.#registered = false;
  }
}
