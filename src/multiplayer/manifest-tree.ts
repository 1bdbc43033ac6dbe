/**
 * The nodes a game manifest says a client's tree holds: its autoloads at /root/<name>, then its main
 * scene at /root/<root name>, and any scene instanced by hand (spawned players, levels added by code).
 */
import type { GameManifest, SceneInfo, ScriptInfo } from '../manifest/types';
import type { RpcDeclaration } from './rpc-config';

export interface TreeNode {
  /** Relative to the multiplayer root. */
  path: string;
  rpcs: Record<string, RpcDeclaration>;
  rpcConfig: Record<string, RpcDeclaration>;
}

/** The static tree: autoloads, then the main scene. */
export function staticTree(manifest: GameManifest): TreeNode[] {
  const out: TreeNode[] = [];
  for (const autoload of manifest.autoloads) {
    if (autoload.path.endsWith('.gd')) out.push(scriptNode(manifest, autoload.name, autoload.path));
    else out.push(...sceneTree(manifest, autoload.path, autoload.name));
  }
  const main = manifest.project.mainScene;
  if (main !== null) out.push(...sceneTree(manifest, main, rootName(scene(manifest, main))));
  return out;
}

/** The nodes of scene `scenePath` with its root at `at` (its root node takes the last name of `at`). */
export function sceneTree(manifest: GameManifest, scenePath: string, at: string): TreeNode[] {
  return scene(manifest, scenePath).nodes.map((node) => {
    const path = node.path === '.' ? at : `${at}/${node.path}`;
    return node.script === null ? { path, rpcs: {}, rpcConfig: {} } : scriptNode(manifest, path, node.script);
  });
}

function scriptNode(manifest: GameManifest, path: string, scriptPath: string): TreeNode {
  const script: ScriptInfo | undefined = manifest.scripts[scriptPath];
  if (script === undefined) throw new TypeError(`the game manifest has no script ${scriptPath} (node ${path})`);
  return { path, rpcs: script.rpcs, rpcConfig: script.rpcConfig };
}

function scene(manifest: GameManifest, scenePath: string): SceneInfo {
  const found = manifest.scenes[scenePath];
  if (found === undefined) throw new TypeError(`the game manifest has no scene ${scenePath}`);
  return found;
}

function rootName(s: SceneInfo): string {
  const root = s.nodes[0];
  if (root === undefined) throw new TypeError(`scene ${s.path} has no nodes`);
  return root.name;
}
