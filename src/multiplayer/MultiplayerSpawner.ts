import { checkInt, checkString } from '../core/validate';
import type { SpawnerInfo } from '../manifest/types';
import { NetworkNode, NodeOwner, RpcHandler } from './NetworkNode';
import type { RpcDeclaration } from './rpc-config';

/**
 * What a custom spawn makes from its data (Godot's spawn_function returns the Node itself; a Node
 * server has no scenes of its own, so it names the manifest scene the clients' spawn_function
 * instantiates, and — where this peer is the spawner's authority — the node's name).
 */
export interface CustomSpawn {
  /** res:// path of a scene in the game manifest. */
  scene: string;
  /** The spawned node's name; needed where this peer spawns (the receivers take the name from SPAWN). */
  name?: string;
}

export type SpawnFunction = (data: unknown) => CustomSpawn;

/**
 * Godot's MultiplayerSpawner as a server-side node: replicates the nodes its authority adds under the
 * spawn path to the other peers (SPAWN / DESPAWN, spec scene-multiplayer.md §9.2-§9.3).
 *
 * Where this peer is the authority (the server, by default), `multiplayer.instantiate(scene, path)`
 * of a spawnable scene under the spawn path spawns it, as Godot's add_child does, and `spawn(data)`
 * makes a custom spawn through `spawnFunction`. Where another peer is, its SPAWNs instantiate the
 * scene here ('spawned' signal) and its DESPAWNs remove it ('despawned').
 */
export class MultiplayerSpawner extends NetworkNode {
  /** The scene id of a custom spawn. */
  static readonly INVALID_ID = 0xff;

  /** Where spawned nodes go, relative to the spawner ('../Players'); '' = nowhere. */
  spawnPath: string;
  /** Spawns allowed at once through this spawner; 0 = no limit. */
  spawnLimit: number;
  /** Makes custom spawns (spawn(data) here, SPAWNs with scene id 0xFF from the authority). */
  spawnFunction: SpawnFunction | null = null;
  readonly #scenes: string[];

  /** @internal Created by SceneMultiplayer (registerNode with a spawner, or the game manifest). */
  constructor(owner: NodeOwner, path: string, script: Record<string, RpcDeclaration>, nodeConfig: Record<string, RpcDeclaration>, authority: number, info: SpawnerInfo) {
    super(owner, path, script, nodeConfig, authority);
    this.spawnPath = info.spawnPath;
    this.spawnLimit = info.spawnLimit;
    this.#scenes = [...info.spawnableScenes];
  }

  protected override get signalNames(): readonly string[] {
    return ['spawned', 'despawned'];
  }

  /** Signals: 'spawned' (node) and 'despawned' (node), on the peers that receive spawns. */
  override on(signal: 'spawned' | 'despawned' | string, handler: RpcHandler): this {
    return super.on(signal, handler);
  }

  addSpawnableScene(path: string): void {
    checkString('MultiplayerSpawner.addSpawnableScene', 'path', path);
    if (this.#scenes.length >= MultiplayerSpawner.INVALID_ID) throw new RangeError('MultiplayerSpawner.addSpawnableScene: at most 255 scenes (the scene id is one byte)');
    this.#scenes.push(path);
  }

  getSpawnableSceneCount(): number {
    return this.#scenes.length;
  }

  getSpawnableScene(index: number): string {
    checkInt('MultiplayerSpawner.getSpawnableScene', 'index', index);
    return this.#scenes[index] ?? '';
  }

  clearSpawnableScenes(): void {
    this.#scenes.length = 0;
  }

  /** The scene's index in the spawnable list (the wire's scene id), or INVALID_ID. */
  findSpawnableSceneIndexFromPath(scene: string): number {
    const index = this.#scenes.indexOf(scene);
    return index < 0 ? MultiplayerSpawner.INVALID_ID : index;
  }

  /** The node spawned nodes are added to, if it is registered. */
  getSpawnNode(): NetworkNode | undefined {
    return this.spawnPath === '' ? undefined : this.getNode(this.spawnPath);
  }

  /**
   * Godot's spawn(data): a custom spawn. `spawnFunction(data)` names the scene and the node; `init`
   * runs on the new nodes before the SPAWN leaves (set their values and authorities there). Returns
   * the spawned node, or null (error reported) if this peer is not the authority, the spawn limit is
   * reached or the spawn node is missing.
   */
  spawn(data: unknown = null, init?: (node: NetworkNode) => void): NetworkNode | null {
    if (init !== undefined && typeof init !== 'function') throw new TypeError('MultiplayerSpawner.spawn: init must be a function');
    return this.owner.replication.spawnCustom(this, data, init);
  }
}
