/**
 * Godot's SceneReplicationConfig (spec scene-multiplayer.md §9.1): the ordered properties a
 * MultiplayerSynchronizer replicates. Each has a NodePath relative to the synchronizer's root node
 * ('.:position', 'Sprite:modulate', '.:velocity:x'), a spawn flag (sent in SPAWN) and a mode: NEVER,
 * ALWAYS (every SYNC) or ON_CHANGE (DELTA when changed). Config order is the wire order.
 *
 * Node extra: each property carries the GDScript type of its value (from the game manifest), so values
 * leave as the client declares them (Vector2, float vs int…) and arriving ones are checked.
 */
import type { ReplicatedProperty, ReplicationConfigInfo } from '../manifest/types';
import { DeclaredType, VARIANT, parseDeclaredType } from '../variant/typed';

/** Godot's SceneReplicationConfig.ReplicationMode. */
export enum ReplicationMode {
  REPLICATION_MODE_NEVER = 0,
  REPLICATION_MODE_ALWAYS = 1,
  REPLICATION_MODE_ON_CHANGE = 2,
}

const MODE_NAMES: Record<ReplicatedProperty['replicationMode'], ReplicationMode> = {
  never: ReplicationMode.REPLICATION_MODE_NEVER,
  always: ReplicationMode.REPLICATION_MODE_ALWAYS,
  on_change: ReplicationMode.REPLICATION_MODE_ON_CHANGE,
};

/** A delta's change mask is a u64: at most 64 watched properties. */
export const MAX_WATCHED_PROPERTIES = 64;

export interface ReplicationProperty {
  /** The NodePath text, as in the config ('.:position'). */
  readonly path: string;
  /** The node part, relative to the synchronizer's root ('' for the root itself). */
  readonly node: string;
  /** Property name, then indexes into its value ('velocity', 'x'). */
  readonly subnames: readonly string[];
  readonly spawn: boolean;
  readonly mode: ReplicationMode;
  /** The value's declared type (Variant: anything, unconverted). */
  readonly type: DeclaredType;
}

export interface PropertyOptions {
  spawn?: boolean;
  mode?: ReplicationMode | ReplicatedProperty['replicationMode'];
  /** GDScript type of the value ('Vector2', 'float', …); default 'Variant'. */
  type?: string;
}

export class SceneReplicationConfig {
  readonly #properties: ReplicationProperty[] = [];
  #spawn: ReplicationProperty[] = [];
  #sync: ReplicationProperty[] = [];
  #watch: ReplicationProperty[] = [];

  /** A config from the game manifest's description of one. */
  static fromManifest(info: ReplicationConfigInfo): SceneReplicationConfig {
    const config = new SceneReplicationConfig();
    for (const p of info.properties) config.addProperty(p.path, { spawn: p.spawn, mode: p.replicationMode, type: p.type });
    return config;
  }

  /** Appends a property (Godot's add_property plus its spawn and mode settings). */
  addProperty(path: string, options: PropertyOptions = {}): void {
    if (typeof path !== 'string') throw new TypeError('SceneReplicationConfig.addProperty: path must be a string');
    const colon = path.indexOf(':');
    const subnames = colon < 0 ? [] : path.slice(colon + 1).split(':');
    if (subnames.length === 0 || subnames.some((s) => s === '')) {
      throw new TypeError(`SceneReplicationConfig.addProperty: "${path}" names no property (write it as '.:position' or 'Child:property')`);
    }
    if (this.#properties.some((p) => p.path === path)) throw new TypeError(`SceneReplicationConfig.addProperty: "${path}" is already in the config`);
    const node = path.slice(0, colon);
    const mode = typeof options.mode === 'string' ? MODE_NAMES[options.mode] : options.mode ?? ReplicationMode.REPLICATION_MODE_ALWAYS;
    if (mode === undefined || ReplicationMode[mode] === undefined) throw new TypeError(`SceneReplicationConfig.addProperty: unknown replication mode ${String(options.mode)}`);
    const property: ReplicationProperty = {
      path,
      node: node === '.' ? '' : node,
      subnames,
      spawn: options.spawn ?? true,
      mode,
      type: options.type === undefined ? VARIANT : parseDeclaredType(options.type),
    };
    const watched = this.#properties.filter((p) => p.mode === ReplicationMode.REPLICATION_MODE_ON_CHANGE).length;
    if (mode === ReplicationMode.REPLICATION_MODE_ON_CHANGE && watched >= MAX_WATCHED_PROPERTIES) {
      throw new TypeError(`SceneReplicationConfig.addProperty: at most ${MAX_WATCHED_PROPERTIES} ON_CHANGE properties (a delta's change mask is 64 bits)`);
    }
    this.#properties.push(property);
    this.#spawn = this.#properties.filter((p) => p.spawn);
    this.#sync = this.#properties.filter((p) => p.mode === ReplicationMode.REPLICATION_MODE_ALWAYS);
    this.#watch = this.#properties.filter((p) => p.mode === ReplicationMode.REPLICATION_MODE_ON_CHANGE);
  }

  getProperties(): readonly ReplicationProperty[] {
    return this.#properties;
  }

  /** Sent in SPAWN, in config order. */
  get spawnProperties(): readonly ReplicationProperty[] {
    return this.#spawn;
  }

  /** ALWAYS: every SYNC, in config order. */
  get syncProperties(): readonly ReplicationProperty[] {
    return this.#sync;
  }

  /** ON_CHANGE: DELTA bit i is the i-th of these. */
  get watchProperties(): readonly ReplicationProperty[] {
    return this.#watch;
  }
}
