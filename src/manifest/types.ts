/**
 * The game manifest: what a Node server must know about a Godot 4 project to speak SceneMultiplayer
 * with its clients (spec scene-multiplayer.md §10). `readManifest(projectDir)` / `npx godot-enet
 * manifest <dir>` build it from the project's text files; `SceneMultiplayer` loads it.
 *
 * Paths inside a scene are relative to the scene's root ('.' is the root itself); `res://` paths name
 * files. Everything here is plain JSON so a manifest can be written to disk and shipped with a server.
 */

/** GDScript's `@rpc` / `rpc_config()` settings, with Godot's defaults filled in. */
export interface RpcMethodInfo {
  rpcMode: 'authority' | 'any_peer' | 'disabled';
  transferMode: 'reliable' | 'unreliable' | 'unreliable_ordered';
  callLocal: boolean;
  channel: number;
  /** The function's parameters, in order; absent for rpc_config() entries whose function was not found. */
  args?: ArgInfo[];
  /** Where it was declared, for messages. */
  source?: SourceRef;
}

export interface ArgInfo {
  name: string;
  /**
   * The GDScript type as written: a built-in ('int', 'float', 'bool', 'String', 'StringName', 'NodePath',
   * 'Vector2', …, 'Array', 'Array[int]', 'Dictionary', 'Dictionary[String, int]', 'PackedByteArray', …),
   * a class name (objects), or 'Variant' for an untyped parameter. An inferred type (`:=`) is resolved
   * where the default value's literal makes it certain. Enum types (`State`, `Node.ProcessMode`,
   * `Array[State]`) are written as 'int', which is what their values are on the wire.
   */
  type: string;
  /** Has a default value, so callers may omit it. */
  optional: boolean;
  /**
   * A variadic rest parameter (`...args: Array`, GDScript 4.5+): always last; it takes any number of
   * further arguments. Added by the manifest reader: ArgInfo could not say this otherwise.
   */
  rest?: boolean;
}

export interface SourceRef {
  file: string;
  line: number;
}

export interface ScriptInfo {
  path: string;
  /** The script's `class_name`, if any. */
  className: string | null;
  /** What it extends: a script's res:// path (class_name and path forms are resolved) or a native class. */
  extends: string;
  /** The native class at the bottom of the extends chain ('Node', 'CharacterBody2D', …). */
  nativeClass: string;
  /**
   * The script's `@rpc` functions, including inherited ones (a base script's table first, then this
   * script's, later declarations replacing earlier ones, as Godot's compiler does).
   */
  rpcs: Record<string, RpcMethodInfo>;
  /** `rpc_config("name", {...})` calls with literal arguments the reader could see (IDs get bit 15). */
  rpcConfig: Record<string, RpcMethodInfo>;
  /**
   * Member variables (own and inherited) with their type, for typing replicated values: as for ArgInfo.type
   * ('Variant' when untyped). A `:=` member whose type the reader cannot infer is left out (replicating it
   * is refused).
   */
  properties: Record<string, { type: string; source: SourceRef }>;
}

export interface SceneInfo {
  path: string;
  /** Every node in tree order (the order Godot adds them); nodes[0] is the root, path '.'. Instanced
   * sub-scenes are expanded: their nodes appear under the instancing node with its name. */
  nodes: SceneNode[];
}

export interface SceneNode {
  /** Relative to the scene root: '.', 'Players', 'Players/Spawner'. */
  path: string;
  name: string;
  /** Native class ('Node2D', 'MultiplayerSpawner', …). */
  type: string;
  /** res:// path of its script, or null. */
  script: string | null;
  /** res:// path of the scene this node instances (its root), if it is an instance. */
  instance?: string;
  spawner?: SpawnerInfo;
  synchronizer?: SynchronizerInfo;
}

export interface SpawnerInfo {
  /** `spawn_path`, relative to the spawner ('' when unset: spawning is then impossible). */
  spawnPath: string;
  /** res:// paths in the order the wire's scene index uses (uid:// references are resolved). */
  spawnableScenes: string[];
  spawnLimit: number;
}

export interface SynchronizerInfo {
  /** `root_path`, relative to the synchronizer (Godot's default '..'). */
  rootPath: string;
  /** Seconds; 0 = every network frame. */
  replicationInterval: number;
  deltaInterval: number;
  publicVisibility: boolean;
  /** 0 idle, 1 physics, 2 none (MultiplayerSynchronizer.VisibilityUpdateMode). */
  visibilityUpdateMode: number;
  replicationConfig: ReplicationConfigInfo | null;
}

export interface ReplicationConfigInfo {
  /** Where it came from: 'res://player.tscn::SceneReplicationConfig_abc' or a .tres path. */
  source: string;
  /** In config order (the wire order). */
  properties: ReplicatedProperty[];
}

export interface ReplicatedProperty {
  /** NodePath text relative to the synchronizer's root node: '.:position', 'Sprite:modulate'. */
  path: string;
  spawn: boolean;
  replicationMode: 'never' | 'always' | 'on_change';
  /** The value's Variant type name ('Vector2', 'float', 'int', 'Color', …), from the node class or script. */
  type: string;
}

export interface AutoloadInfo {
  /** Its node name: it lives at /root/<name>, before the main scene. */
  name: string;
  /** res:// path of a script or scene. */
  path: string;
}

export interface GameManifest {
  format: 'godot-enet/manifest';
  version: 1;
  project: {
    name: string;
    /** res:// path; instanced at /root/<its root node name>. */
    mainScene: string | null;
    /** `config/features` of project.godot, e.g. ['4.6']. */
    features: string[];
  };
  autoloads: AutoloadInfo[];
  /**
   * Every GDScript of the project (res:// path; a scene's built-in script as 'res://x.tscn::GDScript_id'),
   * except scripts whose extends chain ends at a class the manifest does not know (an editor plugin's
   * `extends EditorPlugin`) and that no scene node or autoload uses.
   */
  scripts: Record<string, ScriptInfo>;
  scenes: Record<string, SceneInfo>;
}
