import { checkBool, checkInt, checkString } from '../core/validate';
import type { SynchronizerInfo } from '../manifest/types';
import { NetworkNode, NodeOwner, RpcHandler } from './NetworkNode';
import type { RpcDeclaration } from './rpc-config';
import { SceneReplicationConfig } from './SceneReplicationConfig';

/** Godot's MultiplayerSynchronizer.VisibilityUpdateMode. */
export enum VisibilityUpdateMode {
  VISIBILITY_PROCESS_IDLE = 0,
  VISIBILITY_PROCESS_PHYSICS = 1,
  VISIBILITY_PROCESS_NONE = 2,
}

export type VisibilityFilter = (peer: number) => boolean;

/** The last value of a watched (ON_CHANGE) property: its encoding, and when it changed. */
export interface Watcher {
  bytes: Buffer | null;
  changedUsec: number;
}

/**
 * Godot's MultiplayerSynchronizer as a server-side node: its authority sends the replicated properties
 * of the nodes under its root (spec scene-multiplayer.md §9): ALWAYS properties in SYNC every
 * `replicationInterval` seconds, ON_CHANGE ones in DELTA when they change (checked every
 * `deltaInterval`), spawn properties in the SPAWN of a spawned root. Values are the nodes' own
 * (`node.set('position', v)` / `node.get('position')`); received ones land there.
 *
 * Visibility is Godot's: public by default, per peer with setVisibilityFor, narrowed by filters; a
 * spawned node is despawned on a peer that can no longer see any of its synchronizers.
 */
export class MultiplayerSynchronizer extends NetworkNode {
  static readonly VisibilityUpdateMode = VisibilityUpdateMode;

  #rootPath: string;
  #config: SceneReplicationConfig | null;
  #syncIntervalUsec: number;
  #deltaIntervalUsec: number;
  /** Godot's peer_visibility: 0 = public. */
  readonly #visibleTo = new Set<number>();
  readonly #filters: VisibilityFilter[] = [];
  visibilityUpdateMode: VisibilityUpdateMode;

  /** @internal Replication state (SceneReplication's). */
  netId = 0;
  /** @internal */ started = false;
  /** @internal */ lastSyncUsec = 0;
  /** @internal */ lastInboundSync = 0;
  /** @internal */ inboundStarted = false;
  /** @internal */ lastWatchUsec = 0;
  /** @internal One per watched property. */ watchers: Watcher[] = [];
  /** @internal The SYNC state encoded in the frame of `stateUsec` (the same for every peer). */
  stateBytes: Buffer | null = null;
  /** @internal */ stateUsec = -1;

  /** @internal Created by SceneMultiplayer (registerNode with a synchronizer, or the game manifest). */
  constructor(owner: NodeOwner, path: string, script: Record<string, RpcDeclaration>, nodeConfig: Record<string, RpcDeclaration>, authority: number, info: SynchronizerInfo) {
    super(owner, path, script, nodeConfig, authority);
    this.#rootPath = info.rootPath;
    this.#config = info.replicationConfig === null ? null : SceneReplicationConfig.fromManifest(info.replicationConfig);
    this.#syncIntervalUsec = usec('replicationInterval', info.replicationInterval);
    this.#deltaIntervalUsec = usec('deltaInterval', info.deltaInterval);
    if (info.publicVisibility) this.#visibleTo.add(0);
    this.visibilityUpdateMode = info.visibilityUpdateMode;
  }

  protected override get signalNames(): readonly string[] {
    return ['synchronized', 'delta_synchronized', 'visibility_changed'];
  }

  /** Signals: 'synchronized' and 'delta_synchronized' (received state applied), 'visibility_changed' (peer). */
  override on(signal: 'synchronized' | 'delta_synchronized' | 'visibility_changed' | string, handler: RpcHandler): this {
    return super.on(signal, handler);
  }

  /** The node the replicated property paths start from, relative to the synchronizer ('..' by default). */
  get rootPath(): string {
    return this.#rootPath;
  }

  set rootPath(path: string) {
    checkString('MultiplayerSynchronizer.rootPath', 'path', path);
    if (path === this.#rootPath) return;
    this.#restart(() => (this.#rootPath = path));
  }

  getRootNode(): NetworkNode | undefined {
    return this.#rootPath === '' ? undefined : this.getNode(this.#rootPath);
  }

  get replicationConfig(): SceneReplicationConfig | null {
    return this.#config;
  }

  set replicationConfig(config: SceneReplicationConfig | null) {
    if (config !== null && !(config instanceof SceneReplicationConfig)) throw new TypeError('MultiplayerSynchronizer.replicationConfig must be a SceneReplicationConfig or null');
    this.#restart(() => (this.#config = config));
  }

  /** Seconds between SYNCs; 0 = every network frame. */
  get replicationInterval(): number {
    return this.#syncIntervalUsec / 1e6;
  }

  set replicationInterval(seconds: number) {
    this.#syncIntervalUsec = usec('replicationInterval', seconds);
  }

  /** Seconds between checks for changed ON_CHANGE properties; 0 = every network frame. */
  get deltaInterval(): number {
    return this.#deltaIntervalUsec / 1e6;
  }

  set deltaInterval(seconds: number) {
    this.#deltaIntervalUsec = usec('deltaInterval', seconds);
  }

  get publicVisibility(): boolean {
    return this.#visibleTo.has(0);
  }

  set publicVisibility(visible: boolean) {
    this.setVisibilityFor(0, visible);
  }

  /** Makes the synchronized nodes visible (or not) to `peer`; 0 = to everyone (public visibility). */
  setVisibilityFor(peer: number, visible: boolean): void {
    checkInt('MultiplayerSynchronizer.setVisibilityFor', 'peer', peer);
    checkBool('MultiplayerSynchronizer.setVisibilityFor', 'visible', visible);
    if (this.#visibleTo.has(peer) === visible) return;
    if (visible) this.#visibleTo.add(peer);
    else this.#visibleTo.delete(peer);
    this.updateVisibility(peer);
  }

  getVisibilityFor(peer: number): boolean {
    return this.#visibleTo.has(peer);
  }

  /** A filter(peer) → bool that must also agree for the peer to see the nodes; filters are re-run every network frame unless the update mode is NONE. */
  addVisibilityFilter(filter: VisibilityFilter): void {
    if (typeof filter !== 'function') throw new TypeError('MultiplayerSynchronizer.addVisibilityFilter: filter must be a function');
    if (!this.#filters.includes(filter)) this.#filters.push(filter);
  }

  removeVisibilityFilter(filter: VisibilityFilter): void {
    const i = this.#filters.indexOf(filter);
    if (i >= 0) this.#filters.splice(i, 1);
  }

  /** @internal Whether the frame loop re-checks this synchronizer's visibility. */
  get hasFilters(): boolean {
    return this.#filters.length > 0;
  }

  /** Whether `peer` may see the synchronized nodes: the filters agree and it is public or chosen. */
  isVisibleTo(peer: number): boolean {
    for (const filter of this.#filters) {
      let visible: unknown;
      try {
        visible = filter(peer);
      } catch (e) {
        this.owner.handlerError(`a visibility filter of ${this.path}`, e);
        return false;
      }
      if (typeof visible !== 'boolean') {
        this.owner.handlerError(`a visibility filter of ${this.path}`, new TypeError(`it returned ${typeof visible}, not a boolean`));
        return false;
      }
      if (!visible) return false;
    }
    return this.#visibleTo.has(0) || this.#visibleTo.has(peer);
  }

  /** Re-applies visibility for `forPeer` (0 = every peer); emits 'visibility_changed' where this peer is the authority. */
  updateVisibility(forPeer = 0): void {
    checkInt('MultiplayerSynchronizer.updateVisibility', 'forPeer', forPeer);
    if (!this.started || !this.isMultiplayerAuthority()) return;
    this.emitSignal('visibility_changed', forPeer);
    this.owner.replication.visibilityChanged(this, forPeer);
  }

  /** @internal Godot's update_outbound_sync_time: whether a SYNC is due in the frame of `now`. */
  updateOutboundSyncTime(now: number): boolean {
    if (this.lastSyncUsec === now) return true;
    if (now < this.lastSyncUsec + this.#syncIntervalUsec) return false;
    this.lastSyncUsec = now;
    return true;
  }

  /** @internal Godot's update_inbound_sync_time: false for a SYNC older than the last one applied. */
  updateInboundSyncTime(sequence: number): boolean {
    if (!this.inboundStarted) this.inboundStarted = true;
    else if (sequence <= this.lastInboundSync && this.lastInboundSync - sequence < 32767) return false;
    this.lastInboundSync = sequence;
    return true;
  }

  /** @internal Whether a DELTA check is due in the frame of `now` for a peer last sent one at `last`. */
  deltaDue(now: number, last: number): boolean {
    return this.lastWatchUsec === now || now >= last + this.#deltaIntervalUsec;
  }

  /** @internal Forgets the replication state (Godot's reset). */
  reset(): void {
    this.netId = 0;
    this.lastSyncUsec = 0;
    this.lastInboundSync = 0;
    this.inboundStarted = false;
    this.lastWatchUsec = 0;
    this.watchers = [];
    this.stateBytes = null;
    this.stateUsec = -1;
  }

  protected override applyAuthority(id: number): void {
    if (id === this.getMultiplayerAuthority()) return;
    this.#restart(() => super.applyAuthority(id));
  }

  /** Godot stops a synchronizer around a change of authority, root or config, and starts it again. */
  #restart(change: () => void): void {
    const wasStarted = this.started;
    if (wasStarted) this.owner.replication.stopSynchronizer(this);
    change();
    if (wasStarted) this.owner.replication.startSynchronizer(this);
  }
}

function usec(what: string, seconds: number): number {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(`MultiplayerSynchronizer.${what} must be a number of seconds >= 0 (0 = every network frame)`);
  }
  return Math.floor(seconds * 1e6);
}
