/**
 * readManifest(projectDir): reads a Godot 4 project's text files (project.godot, .tscn, .tres, .gd, .uid)
 * and returns the GameManifest a Node server needs (types.ts). Anything it cannot read or resolve where it
 * matters throws a ManifestError naming the file and line; nothing is guessed.
 *
 * What "where it matters" means: every scene, project.godot and every script is read (a file the reader
 * cannot parse is refused). A script whose `extends` chain does not end at a native class the manifest
 * knows (an editor plugin's `extends EditorPlugin`, say) is left out of `scripts`, unless a scene node or
 * an autoload uses it: then it is refused.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ManifestError } from './ManifestError';
import { BUILTIN_TYPES, parseGDScript, type ParsedFunction, type ParsedScript, type RpcConfigCall } from './gdscript';
import { builtinMemberType, isKnownNativeClass, nativePropertyType } from './nativeClasses';
import {
  boolOf,
  describe,
  intOf,
  nodePathOf,
  numberOf,
  parseTextResource,
  resourceRefOf,
  stringListOf,
  stringOf,
  type Entry,
  type Section,
  type TextValue,
} from './textResource';
import type {
  ArgInfo,
  AutoloadInfo,
  GameManifest,
  ReplicatedProperty,
  RpcMethodInfo,
  SceneInfo,
  SceneNode,
  ScriptInfo,
  SourceRef,
  SpawnerInfo,
  SynchronizerInfo,
} from './types';

export function readManifest(projectDir: string): GameManifest {
  return new ProjectReader(projectDir).read();
}

/** GDScript's global enums (@GlobalScope): a parameter or variable of one of these types holds an int. */
const GLOBAL_ENUMS = new Set([
  'Side', 'Corner', 'Orientation', 'ClockDirection', 'HorizontalAlignment', 'VerticalAlignment', 'InlineAlignment',
  'EulerOrder', 'Key', 'KeyModifierMask', 'KeyLocation', 'MouseButton', 'MouseButtonMask', 'JoyButton', 'JoyAxis',
  'MIDIMessage', 'Error', 'PropertyHint', 'PropertyUsageFlags', 'MethodFlags',
]);

const PROJECT_FILE = 'res://project.godot';

interface ResolvedScript {
  parsed: ParsedScript;
  base: ResolvedScript | null;
  info: ScriptInfo;
  /** rpc_config() calls that run for an instance of this script (inherited ones whose function is not overridden without super). */
  rpcConfigCalls: Array<RpcConfigCall & { script: ResolvedScript }>;
  /** Every member variable, own and inherited, including those whose `:=` type could not be resolved. */
  members: Map<string, { type: string | null; source: SourceRef; script: ResolvedScript }>;
}

interface TreeNode {
  name: string;
  type: string;
  script: string | null;
  instance?: string;
  children: TreeNode[];
  /** Spawner and synchronizer settings, already read and resolved. */
  settings: Partial<NodeSettings>;
  source: SourceRef;
}

interface NodeSettings {
  spawn_path: string;
  spawn_limit: number;
  _spawnable_scenes: string[];
  root_path: string;
  replication_interval: number;
  delta_interval: number;
  public_visibility: boolean;
  visibility_update_mode: number;
  replication_config: RawReplicationConfig | null;
}

interface RawReplicationConfig {
  source: string;
  properties: Array<Omit<ReplicatedProperty, 'type'> & { source: SourceRef }>;
}

/** One .tscn/.tres file: its ext_resource and sub_resource tables. */
interface ResourceFile {
  path: string;
  ext: Map<string, { path: string | null; uid: string | null; type: string; line: number }>;
  sub: Map<string, Section>;
}

class ProjectReader {
  private readonly root: string;
  /** Every file of the project, as res:// paths. */
  private readonly files = new Set<string>();
  private readonly uids = new Map<string, string>();
  private readonly classNames = new Map<string, string>();
  private readonly parsedScripts = new Map<string, ParsedScript>();
  private readonly resolved = new Map<string, ResolvedScript | ManifestError>();
  private readonly resolving = new Set<string>();
  /** Failures that only matter if the script is used: an `extends` of a class the manifest does not know. */
  private readonly unknownBase = new WeakSet<ManifestError>();
  private readonly sceneTrees = new Map<string, TreeNode>();
  private readonly sceneLoading = new Set<string>();

  constructor(projectDir: string) {
    this.root = path.resolve(projectDir);
  }

  read(): GameManifest {
    if (!fs.existsSync(path.join(this.root, 'project.godot'))) {
      throw new ManifestError('', 0, `no project.godot in ${this.root}: give the folder of a Godot project`);
    }
    this.walk('');
    this.readUids();
    for (const file of [...this.files].filter((f) => f.endsWith('.gd')).sort()) this.parseScriptFile(file);

    const project = parseTextResource(this.readText(PROJECT_FILE), PROJECT_FILE);
    const setting = (section: string, key: string): Entry | undefined =>
      project.sections.find((s) => s.tag === section)?.entries.find((e) => e.key === key);
    const name = setting('application', 'config/name');
    const main = setting('application', 'run/main_scene');
    const features = setting('application', 'config/features');

    const scenes: Record<string, SceneInfo> = {};
    for (const file of [...this.files].filter((f) => f.endsWith('.tscn')).sort()) scenes[file] = this.sceneInfo(file);

    const autoloads: AutoloadInfo[] = [];
    for (const entry of project.sections.find((s) => s.tag === 'autoload')?.entries ?? []) {
      const value = this.expect(stringOf(entry.value), PROJECT_FILE, entry.line, `autoload ${entry.key}`, 'a "res://…" path string');
      const target = this.resolvePath(value.replace(/^\*/, ''), PROJECT_FILE, entry.line, `autoload ${entry.key}`);
      if (target.endsWith('.gd')) this.requireScript(target, PROJECT_FILE, entry.line);
      else if (!target.endsWith('.tscn')) this.refuse(PROJECT_FILE, entry.line, `autoload ${entry.key} is ${target}: the manifest reader reads .gd scripts and .tscn scenes`);
      autoloads.push({ name: entry.key, path: target });
    }

    const scripts: Record<string, ScriptInfo> = {};
    for (const file of [...this.parsedScripts.keys()].sort()) {
      const r = this.resolveScript(file);
      if (!(r instanceof ManifestError)) scripts[file] = r.info;
    }

    return {
      format: 'godot-enet/manifest',
      version: 1,
      project: {
        name: name ? this.expect(stringOf(name.value), PROJECT_FILE, name.line, 'config/name', 'a string') : '',
        mainScene: main
          ? this.resolvePath(this.expect(stringOf(main.value), PROJECT_FILE, main.line, 'run/main_scene', 'a string'), PROJECT_FILE, main.line, 'run/main_scene')
          : null,
        features: features ? this.expect(stringListOf(features.value), PROJECT_FILE, features.line, 'config/features', 'a PackedStringArray') : [],
      },
      autoloads,
      scripts,
      scenes,
    };
  }

  // ---- Files and paths -----------------------------------------------------------------------------------

  private refuse(file: string, line: number, message: string): never {
    throw new ManifestError(file, line, message);
  }

  private expect<T>(value: T | null, file: string, line: number, what: string, wanted: string): T {
    if (value === null) this.refuse(file, line, `${what} is not ${wanted}`);
    return value;
  }

  /** Collects the project's files; skips hidden folders (.godot, .git, …) and folders with a .gdignore, as Godot does. */
  private walk(rel: string): void {
    const dir = path.join(this.root, rel);
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    if (rel !== '' && entries.some((e) => e.name === '.gdignore')) return;
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) this.walk(child);
      else if (e.isFile() || (e.isSymbolicLink() && fs.statSync(path.join(dir, e.name), { throwIfNoEntry: false })?.isFile())) {
        this.files.add(`res://${child}`);
      }
    }
  }

  private readText(res: string): string {
    return fs.readFileSync(path.join(this.root, res.slice('res://'.length)), 'utf8').replace(/^\uFEFF/, '');
  }

  /** uid:// → res:// from `.uid` files (scripts and other non-resource files) and the headings of .tscn/.tres files. */
  private readUids(): void {
    const add = (uid: string, target: string, file: string, line: number): void => {
      const other = this.uids.get(uid);
      if (other !== undefined && other !== target) {
        this.refuse(file, line, `${uid} is also the uid of ${other}; Godot cannot tell them apart either: give one file a new uid (delete its .uid file or its uid="…" and re-save in Godot)`);
      }
      this.uids.set(uid, target);
    };
    for (const file of [...this.files].sort()) {
      if (file.endsWith('.uid')) {
        const text = this.readText(file).trim();
        if (!/^uid:\/\/[0-9a-z]+$/.test(text)) this.refuse(file, 1, 'a .uid file that does not hold one "uid://…"');
        add(text, file.slice(0, -'.uid'.length), file, 1);
      } else if (file.endsWith('.tscn') || file.endsWith('.tres')) {
        const text = this.readText(file);
        const start = /^(?:\s|;[^\n]*)*/.exec(text)![0].length;
        const end = text.indexOf(']', start);
        if (text[start] !== '[' || end < 0) this.refuse(file, 1, 'the file does not start with a [gd_scene …] / [gd_resource …] heading');
        const heading = parseTextResource(text.slice(0, end + 1), file).sections[0];
        const uid = heading.attrs.get('uid');
        if (uid) add(this.expect(stringOf(uid), file, 1, 'uid', 'a string'), file, file, 1);
      }
    }
  }

  /** A res://, uid:// or relative (to `from`'s folder) path → a res:// path of an existing project file. */
  private resolvePath(ref: string, from: string, line: number, what: string): string {
    if (ref.startsWith('uid://')) {
      const target = this.uids.get(ref);
      if (target === undefined) {
        this.refuse(from, line, `${what}: ${ref} is not the uid of any file in the project (no .uid file or uid="…" heading has it); open the project in Godot once so it writes them, or use the res:// path`);
      }
      return target;
    }
    const res = normalizeRes(ref, from);
    if (res === null || !this.files.has(res)) this.refuse(from, line, `${what}: ${ref} is not a file of the project`);
    return res;
  }

  // ---- Scripts -------------------------------------------------------------------------------------------

  private parseScriptFile(file: string): void {
    this.addParsedScript(parseGDScript(this.readText(file), file), file, 1);
  }

  private addParsedScript(parsed: ParsedScript, file: string, line: number): void {
    this.parsedScripts.set(parsed.path, parsed);
    if (parsed.className === null) return;
    const other = this.classNames.get(parsed.className);
    if (other !== undefined) this.refuse(file, line, `class_name ${parsed.className} is also declared by ${other}; Godot refuses that too`);
    if (BUILTIN_TYPES.has(parsed.className) || isKnownNativeClass(parsed.className)) {
      this.refuse(file, line, `class_name ${parsed.className} hides a built-in or native class; Godot refuses that too`);
    }
    this.classNames.set(parsed.className, parsed.path);
  }

  /** The script, or throws why it cannot be used (a scene node or autoload needs it). */
  private requireScript(file: string, from: string, line: number): ResolvedScript {
    if (!this.parsedScripts.has(file)) this.refuse(from, line, `${file} is not a GDScript file the reader has read (.gd or a built-in script)`);
    const r = this.resolveScript(file);
    if (r instanceof ManifestError) throw r;
    return r;
  }

  private resolveScript(file: string): ResolvedScript | ManifestError {
    const done = this.resolved.get(file);
    if (done) return done;
    const parsed = this.parsedScripts.get(file)!;
    if (this.resolving.has(file)) this.refuse(file, parsed.extends?.line ?? 1, 'the extends chain loops back to this script');
    this.resolving.add(file);
    let result: ResolvedScript | ManifestError;
    try {
      result = this.buildScript(parsed);
    } catch (e) {
      if (!(e instanceof ManifestError && this.unknownBase.has(e))) throw e;
      result = e;
    }
    this.resolving.delete(file);
    this.resolved.set(file, result);
    return result;
  }

  private buildScript(parsed: ParsedScript): ResolvedScript {
    let base: ResolvedScript | null = null;
    let extendsName = 'RefCounted';
    const ext = parsed.extends;
    if (ext && 'path' in ext) {
      const target = this.resolvePath(ext.path, parsed.path, ext.line, 'extends');
      if (!this.parsedScripts.has(target)) this.refuse(parsed.path, ext.line, `extends ${ext.path}, which is not a GDScript file`);
      const r = this.resolveScript(target);
      if (r instanceof ManifestError) throw r;
      base = r;
      extendsName = target;
    } else if (ext) {
      const scriptPath = this.classNames.get(ext.name);
      if (scriptPath !== undefined) {
        const r = this.resolveScript(scriptPath);
        if (r instanceof ManifestError) throw r;
        base = r;
        extendsName = scriptPath;
      } else if (isKnownNativeClass(ext.name)) {
        extendsName = ext.name;
      } else {
        const e = new ManifestError(
          parsed.path,
          ext.line,
          `extends ${ext.name}, which is neither a class_name of this project nor a native Node class of Godot 4.6 the manifest knows (a typo, an editor-only class, or a GDExtension class)`,
        );
        this.unknownBase.add(e);
        throw e;
      }
    }

    const self: ResolvedScript = {
      parsed,
      base,
      info: {
        path: parsed.path,
        className: parsed.className,
        extends: extendsName,
        nativeClass: base ? base.info.nativeClass : extendsName,
        rpcs: {},
        rpcConfig: {},
        properties: {},
      },
      rpcConfigCalls: [],
      members: new Map(base?.members ?? []),
    };

    // Members: the base's first, then this script's, in declaration order.
    for (const v of parsed.variables) {
      const source = { file: parsed.path, line: v.line };
      self.members.set(v.name, { type: v.type === null ? null : this.wireType(v.type, parsed, source), source, script: self });
    }
    for (const [name, m] of self.members) if (m.type !== null) self.info.properties[name] = { type: m.type, source: m.source };

    // @rpc: the base's table first; an override without @rpc keeps the base's settings (with its own parameters).
    for (const [name, info] of Object.entries(base?.info.rpcs ?? {})) self.info.rpcs[name] = { ...info };
    for (const fn of parsed.functions) {
      if (fn.rpc) {
        self.info.rpcs[fn.name] = { ...fn.rpc, args: this.args(fn, self), source: { file: parsed.path, line: fn.line } };
      } else if (Object.prototype.hasOwnProperty.call(self.info.rpcs, fn.name)) {
        self.info.rpcs[fn.name] = { ...self.info.rpcs[fn.name], args: this.args(fn, self) };
      }
    }

    // rpc_config(): the calls that still run for this script, applied in order (null removes).
    const own = new Map(parsed.functions.map((f) => [f.name, f]));
    self.rpcConfigCalls = [
      ...(base?.rpcConfigCalls ?? []).filter((c) => !own.has(c.inFunction) || own.get(c.inFunction)!.callsSuper),
      ...parsed.rpcConfigCalls.map((c) => ({ ...c, script: self })),
    ];
    for (const call of self.rpcConfigCalls) {
      if (call.config === null) {
        delete self.info.rpcConfig[call.method];
        continue;
      }
      const entry: RpcMethodInfo = { ...call.config, source: { file: call.script.parsed.path, line: call.line } };
      const fn = findFunction(self, call.method);
      if (fn) entry.args = this.args(fn.fn, fn.script);
      self.info.rpcConfig[call.method] = entry;
    }
    return self;
  }

  private args(fn: ParsedFunction, script: ResolvedScript): ArgInfo[] {
    return fn.params.map((p) => {
      const source = { file: script.parsed.path, line: p.line };
      if (p.type === null) {
        this.refuse(source.file, source.line, `the type of parameter ${p.name} of RPC function ${fn.name} cannot be inferred from its ":=" default by the manifest reader; write the type (${p.name}: int = …)`);
      }
      const arg: ArgInfo = { name: p.name, type: this.wireType(p.type, script.parsed, source), optional: p.optional };
      if (p.rest) arg.rest = true;
      return arg;
    });
  }

  /**
   * A type as written in `script` → the type a value of it has on the wire: built-ins and typed containers
   * as written, enums as 'int', classes by name.
   */
  private wireType(written: string, script: ParsedScript, source: SourceRef): string {
    const container = /^(Array|Dictionary)\[(.*)\]$/.exec(written);
    if (container) {
      const inner = container[2].split(',').map((t) => this.wireType(t.trim(), script, source));
      return `${container[1]}[${inner.join(', ')}]`;
    }
    if (BUILTIN_TYPES.has(written)) return written;
    const chain = this.parsedChain(script);
    const parts = written.split('.');
    if (parts.length === 1) {
      if (GLOBAL_ENUMS.has(written) || chain.some((s) => s.enums.has(written))) return 'int';
      return written; // a class: native, class_name, inner class or preloaded constant
    }
    // A.B: an enum or inner class of a project class (or of a preloaded script), else a native/built-in enum.
    const [head, member] = parts;
    let target: ParsedScript | undefined;
    const byName = this.classNames.get(head);
    const preloaded = chain.find((s) => s.consts.has(head))?.consts.get(head);
    if (byName !== undefined) target = this.parsedScripts.get(byName);
    else if (preloaded !== undefined) {
      if (preloaded === null) this.refuse(source.file, source.line, `cannot resolve the type ${written}: ${head} is a constant the reader cannot follow; use a class_name`);
      target = this.parsedScripts.get(this.resolvePath(preloaded, script.path, source.line, head));
    } else if (parts.length === 2) {
      return 'int'; // a native or built-in class's enum (Node.ProcessMode, Vector2.Axis): they have no inner classes
    }
    if (target && parts.length === 2) {
      const targetChain = this.parsedChain(target);
      if (targetChain.some((s) => s.enums.has(member))) return 'int';
      if (targetChain.some((s) => s.innerClasses.has(member))) return written;
    }
    this.refuse(source.file, source.line, `cannot resolve the type ${written}`);
  }

  /** The script and its bases as far as they are project scripts (for enum, inner class and constant names). */
  private parsedChain(script: ParsedScript): ParsedScript[] {
    const chain: ParsedScript[] = [];
    for (let s: ParsedScript | undefined = script; s && !chain.includes(s); ) {
      chain.push(s);
      const ext: ParsedScript['extends'] = s.extends;
      if (!ext) break;
      const base: string | null | undefined = 'path' in ext ? normalizeRes(ext.path, s.path) : this.classNames.get(ext.name);
      s = base ? this.parsedScripts.get(base) : undefined;
    }
    return chain;
  }

  // ---- Scenes --------------------------------------------------------------------------------------------

  private sceneInfo(file: string): SceneInfo {
    const nodes: SceneNode[] = [];
    const visit = (node: TreeNode, nodePath: string): void => {
      nodes.push(this.sceneNode(node, nodePath));
      for (const child of node.children) visit(child, nodePath === '.' ? child.name : `${nodePath}/${child.name}`);
    };
    const root = this.sceneTree(file, file, 0);
    visit(root, '.');
    // Replicated values are typed once the whole tree is known (a property may live on any node of it).
    for (const node of nodes) {
      if (node.synchronizer?.replicationConfig) this.typeReplication(root, node, file);
    }
    return { path: file, nodes };
  }

  private sceneNode(node: TreeNode, nodePath: string): SceneNode {
    const out: SceneNode = { path: nodePath, name: node.name, type: node.type, script: node.script };
    if (node.instance) out.instance = node.instance;
    if (node.script) this.requireScript(node.script, node.source.file, node.source.line);
    const s = node.settings;
    if (node.type === 'MultiplayerSpawner') {
      const spawner: SpawnerInfo = {
        spawnPath: s.spawn_path ?? '',
        spawnableScenes: [...(s._spawnable_scenes ?? [])],
        spawnLimit: s.spawn_limit ?? 0,
      };
      out.spawner = spawner;
    }
    if (node.type === 'MultiplayerSynchronizer') {
      const sync: SynchronizerInfo = {
        rootPath: s.root_path ?? '..',
        replicationInterval: s.replication_interval ?? 0,
        deltaInterval: s.delta_interval ?? 0,
        publicVisibility: s.public_visibility ?? true,
        visibilityUpdateMode: s.visibility_update_mode ?? 0,
        replicationConfig: s.replication_config
          ? {
              source: s.replication_config.source,
              properties: s.replication_config.properties.map((p) => ({ path: p.path, spawn: p.spawn, replicationMode: p.replicationMode, type: '' })),
            }
          : null,
      };
      out.synchronizer = sync;
    }
    return out;
  }

  /** Fills in the Variant type of each replicated property of a synchronizer node. */
  private typeReplication(root: TreeNode, node: SceneNode, scene: string): void {
    const sync = node.synchronizer!;
    const config = sync.replicationConfig!;
    const raw = this.findTreeNode(root, node.path)!.settings.replication_config!;
    const at = raw.properties[0]?.source ?? { file: scene, line: 0 };
    const syncSource = this.findTreeNode(root, node.path)!.source;
    if (sync.rootPath === '') this.refuse(syncSource.file, syncSource.line, `MultiplayerSynchronizer ${node.path} of ${scene} has an empty root_path, so its replicated properties have no node to be read from`);
    const rootPath = joinNodePath(node.path, sync.rootPath);
    if (rootPath === null) {
      this.refuse(syncSource.file, syncSource.line, `root_path "${sync.rootPath}" of MultiplayerSynchronizer ${node.path} leads outside ${scene}; the manifest types replicated values within the scene`);
    }
    config.properties.forEach((prop, i) => {
      const source = raw.properties[i]?.source ?? at;
      const colon = prop.path.indexOf(':');
      const nodePart = prop.path.slice(0, colon);
      const subnames = prop.path.slice(colon + 1).split(':');
      const targetPath = nodePart === '' ? rootPath : joinNodePath(rootPath, nodePart);
      const target = targetPath === null ? undefined : this.findTreeNode(root, targetPath);
      if (!target) {
        this.refuse(source.file, source.line, `replicated property ${prop.path}: there is no node "${nodePart}" under the synchronizer's root (${rootPath}) in ${scene}`);
      }
      let type = this.propertyType(target, subnames[0], prop.path, source);
      for (const member of subnames.slice(1)) {
        const next = builtinMemberType(type, member);
        if (next === undefined) this.refuse(source.file, source.line, `replicated property ${prop.path}: ${type} has no member "${member}" the manifest knows`);
        type = next;
      }
      prop.type = type;
    });
  }

  private propertyType(node: TreeNode, property: string, fullPath: string, source: SourceRef): string {
    if (node.script) {
      const script = this.requireScript(node.script, node.source.file, node.source.line);
      const member = script.members.get(property);
      if (member) {
        const where = `${member.source.file}:${member.source.line}`;
        if (member.type === null) {
          this.refuse(source.file, source.line, `replicated property ${fullPath}: the reader cannot infer the type of var ${property} from its ":=" value (${where}); write its type (var ${property}: float = …)`);
        }
        if (member.type === 'Variant') {
          this.refuse(source.file, source.line, `replicated property ${fullPath}: var ${property} has no type (${where}), so the Variant type of its value is unknown; declare it (var ${property}: int = …, or :=)`);
        }
        return member.type;
      }
    }
    const type = nativePropertyType(node.type, property);
    if (type === undefined) {
      const known = isKnownNativeClass(node.type);
      this.refuse(
        source.file,
        source.line,
        known
          ? `replicated property ${fullPath}: ${node.type} has no property "${property}" in the manifest's table of native properties${node.script ? ` and ${node.script} declares no var ${property}` : ''}; declare it in the node's script with a type, or extend the table in src/manifest/nativeClasses.ts`
          : `replicated property ${fullPath}: the node's type ${node.type} is not a native class the manifest knows, so the type of "${property}" is unknown`,
      );
    }
    return type;
  }

  private findTreeNode(root: TreeNode, nodePath: string): TreeNode | undefined {
    if (nodePath === '.') return root;
    let node: TreeNode | undefined = root;
    for (const name of nodePath.split('/')) {
      node = node?.children.find((c) => c.name === name);
    }
    return node;
  }

  /** The expanded node tree of a scene (instanced sub-scenes included), read once and copied for each use. */
  private sceneTree(file: string, from: string, line: number): TreeNode {
    const done = this.sceneTrees.get(file);
    if (done) return done;
    if (this.sceneLoading.has(file)) this.refuse(from, line, `${file} instances itself (directly or through other scenes)`);
    this.sceneLoading.add(file);
    const tree = this.readScene(file);
    this.sceneLoading.delete(file);
    this.sceneTrees.set(file, tree);
    return tree;
  }

  private readScene(file: string): TreeNode {
    const doc = parseTextResource(this.readText(file), file);
    const header = doc.sections[0];
    if (!header || header.tag !== 'gd_scene') this.refuse(file, header?.line ?? 1, 'a .tscn file must start with a [gd_scene …] heading');
    this.checkFormat(header, file);
    const res = this.resourceTables(doc.sections, file);

    let root: TreeNode | null = null;
    for (const section of doc.sections) {
      if (section.tag !== 'node') continue;
      const line = section.line;
      const attr = (key: string): TextValue | undefined => section.attrs.get(key);
      const name = this.expect(stringOf(attr('name') ?? { kind: 'null' }), file, line, 'the node heading\'s name', 'a string');
      if (name === '' || /[.:@/"%]/.test(name)) this.refuse(file, line, `"${name}" is not a valid node name`);
      const parentValue = attr('parent');
      const parentPath = parentValue === undefined ? null : this.expect(nodePathOf(parentValue), file, line, `parent of node ${name}`, 'a node path');
      const typeValue = attr('type');
      const type = typeValue === undefined ? null : this.expect(stringOf(typeValue), file, line, `type of node ${name}`, 'a string');
      const instanceValue = attr('instance');
      let instance: string | null = null;
      if (instanceValue !== undefined) {
        const scene = this.resourcePath(instanceValue, res, file, line, `instance of node ${name}`);
        if (!scene.endsWith('.tscn')) this.refuse(file, line, `node ${name} instances ${scene}; the manifest reader only reads text scenes (.tscn)`);
        instance = scene;
      }
      if (attr('instance_placeholder') !== undefined) {
        this.refuse(file, line, `node ${name} is an instance placeholder; the manifest cannot know when or whether the game replaces it (instance the scene directly)`);
      }

      let node: TreeNode;
      const source = { file, line };
      if (parentPath === null) {
        if (root) this.refuse(file, line, `node ${name} has no parent, but the scene already has its root ${root.name}`);
        node = instance ? this.instanceOf(instance, name, file, line) : this.newNode(name, type, source);
        root = node;
      } else {
        if (!root) this.refuse(file, line, `node ${name} has a parent but comes before the scene's root node`);
        const parent = this.findTreeNode(root, parentPath === '' ? '.' : parentPath);
        if (!parent) this.refuse(file, line, `node ${name}: its parent "${parentPath}" is not in the scene`);
        const existing = parent.children.find((c) => c.name === name);
        if (instance || type !== null) {
          if (existing) this.refuse(file, line, `node ${name} is added twice under "${parentPath}"`);
          node = instance ? this.instanceOf(instance, name, file, line) : this.newNode(name, type, source);
          parent.children.push(node);
        } else {
          // No type and no instance: settings for a node of an instanced (or inherited) scene.
          if (!existing) this.refuse(file, line, `node ${name} has no type and is not a node of an instanced scene under "${parentPath}"`);
          node = existing;
        }
        const index = attr('index');
        if (index !== undefined && node !== existing) {
          // Godot writes index="0" (a string); it moves a node it adds (never one of an instanced scene)
          // when the index is before the last place.
          const text = stringOf(index);
          const i = this.expect(text !== null && /^-?\d+$/.test(text) ? Number(text) : intOf(index), file, line, `index of node ${name}`, 'an int');
          if (i >= 0 && i < parent.children.length - 1) {
            parent.children.splice(parent.children.indexOf(node), 1);
            parent.children.splice(i, 0, node);
          }
        }
      }
      this.readNodeSettings(node, section, res);
    }
    if (!root) this.refuse(file, header.line, 'the scene has no nodes');
    return root;
  }

  private checkFormat(header: Section, file: string): void {
    const format = header.attrs.get('format');
    const n = format === undefined ? null : intOf(format);
    if (n === 3) return;
    if (n === 2) this.refuse(file, header.line, 'a Godot 3 file (format=2); open and re-save the project in Godot 4');
    this.refuse(file, header.line, `unknown file format ${format ? describe(format) : '(none)'}; the manifest reader reads Godot 4's format=3`);
  }

  private newNode(name: string, type: string | null, source: SourceRef): TreeNode {
    if (type === null) this.refuse(source.file, source.line, `node ${name} has neither a type nor an instance`);
    return { name, type, script: null, children: [], settings: {}, source };
  }

  private instanceOf(scene: string, name: string, file: string, line: number): TreeNode {
    const copy = cloneTree(this.sceneTree(scene, file, line));
    copy.name = name;
    copy.instance = scene;
    return copy;
  }

  private resourceTables(sections: Section[], file: string): ResourceFile {
    const out: ResourceFile = { path: file, ext: new Map(), sub: new Map() };
    for (const s of sections) {
      if (s.tag !== 'ext_resource' && s.tag !== 'sub_resource') continue;
      const idValue = s.attrs.get('id');
      const id = idValue ? (idValue.kind === 'number' && idValue.isInt ? String(idValue.value) : stringOf(idValue)) : null;
      if (id === null) this.refuse(file, s.line, `[${s.tag}] without an id`);
      if (s.tag === 'sub_resource') {
        out.sub.set(id, s);
        continue;
      }
      const p = s.attrs.get('path');
      const uid = s.attrs.get('uid');
      const type = s.attrs.get('type');
      out.ext.set(id, {
        path: p ? stringOf(p) : null,
        uid: uid ? stringOf(uid) : null,
        type: (type && stringOf(type)) ?? '',
        line: s.line,
      });
    }
    return out;
  }

  /** ExtResource("id") → the res:// path it names (its uid wins over its path, as in Godot). */
  private resourcePath(value: TextValue, res: ResourceFile, file: string, line: number, what: string): string {
    const ref = resourceRefOf(value);
    if (!ref || ref.kind !== 'ext') this.refuse(file, line, `${what} is ${describe(value)}, not ExtResource("…")`);
    const ext = res.ext.get(ref.id);
    if (!ext) this.refuse(file, line, `${what}: there is no [ext_resource] with id "${ref.id}"`);
    if (ext.uid && this.uids.has(ext.uid)) return this.uids.get(ext.uid)!;
    if (ext.path !== null) return this.resolvePath(ext.path, file, ext.line, what);
    if (ext.uid === null) this.refuse(file, ext.line, `${what}: the [ext_resource] "${ref.id}" has neither a path nor a uid`);
    return this.resolvePath(ext.uid, file, ext.line, what);
  }

  /** Reads the node settings the manifest needs (script, spawner and synchronizer properties); ignores the rest. */
  private readNodeSettings(node: TreeNode, section: Section, res: ResourceFile): void {
    const file = res.path;
    for (const { key, value, line } of section.entries) {
      const what = `${key} of node ${node.name}`;
      const number = (): number => this.expect(numberOf(value), file, line, what, 'a number');
      switch (key) {
        case 'script':
          node.script = value.kind === 'null' ? null : this.scriptRef(value, res, line, node.name);
          node.source = { file, line: section.line };
          break;
        case 'spawn_path':
        case 'root_path':
          node.settings[key] = this.expect(nodePathOf(value), file, line, what, 'a NodePath');
          break;
        case 'spawn_limit':
        case 'visibility_update_mode':
          node.settings[key] = this.expect(intOf(value), file, line, what, 'an int');
          break;
        case 'replication_interval':
        case 'delta_interval':
          node.settings[key] = number();
          break;
        case 'public_visibility':
          node.settings[key] = this.expect(boolOf(value), file, line, what, 'true or false');
          break;
        case '_spawnable_scenes': {
          const list = this.expect(stringListOf(value), file, line, what, 'a PackedStringArray');
          if (list.length > 255) this.refuse(file, line, `${what} has ${list.length} scenes; the wire's scene index is one byte (at most 255)`);
          node.settings[key] = list.map((s) => {
            const scene = this.resolvePath(s, file, line, `spawnable scene of node ${node.name}`);
            if (!scene.endsWith('.tscn')) this.refuse(file, line, `spawnable scene ${scene} of node ${node.name} is not a .tscn scene`);
            return scene; // read with every other scene of the project
          });
          break;
        }
        case 'replication_config':
          node.settings[key] = value.kind === 'null' ? null : this.replicationConfig(value, res, line, node.name);
          break;
        default:
          break; // other node properties do not concern the server
      }
    }
  }

  private scriptRef(value: TextValue, res: ResourceFile, line: number, nodeName: string): string {
    const file = res.path;
    const ref = resourceRefOf(value);
    if (ref?.kind === 'sub') {
      // A built-in script: its source is a property of the sub-resource.
      const sub = res.sub.get(ref.id);
      if (!sub) this.refuse(file, line, `script of node ${nodeName}: there is no [sub_resource] with id "${ref.id}"`);
      const scriptPath = `${file}::${ref.id}`;
      if (!this.parsedScripts.has(scriptPath)) {
        const source = sub.entries.find((e) => e.key === 'script/source');
        const text = source ? stringOf(source.value) : null;
        if (text === null) this.refuse(file, sub.line, `the built-in script ${ref.id} has no script/source string (a ${describe(sub.attrs.get('type') ?? { kind: 'null' })} sub-resource?)`);
        this.addParsedScript(parseGDScript(text, scriptPath), file, sub.line);
      }
      return scriptPath;
    }
    const target = this.resourcePath(value, res, file, line, `script of node ${nodeName}`);
    if (!target.endsWith('.gd')) this.refuse(file, line, `node ${nodeName} has the script ${target}; the manifest reader reads GDScript (.gd) only`);
    return target;
  }

  private replicationConfig(value: TextValue, res: ResourceFile, line: number, nodeName: string): RawReplicationConfig {
    const file = res.path;
    const ref = resourceRefOf(value);
    if (!ref) this.refuse(file, line, `replication_config of node ${nodeName} is ${describe(value)}, not SubResource("…") or ExtResource("…")`);
    if (ref.kind === 'sub') {
      const sub = res.sub.get(ref.id);
      if (!sub) this.refuse(file, line, `replication_config of node ${nodeName}: there is no [sub_resource] with id "${ref.id}"`);
      return this.replicationProperties(sub, `${file}::${ref.id}`, file);
    }
    const target = this.resourcePath(value, res, file, line, `replication_config of node ${nodeName}`);
    if (!target.endsWith('.tres')) this.refuse(file, line, `replication_config of node ${nodeName} is ${target}; the manifest reader reads .tres resources`);
    const doc = parseTextResource(this.readText(target), target);
    const header = doc.sections[0];
    if (!header || header.tag !== 'gd_resource') this.refuse(target, header?.line ?? 1, 'a .tres file must start with a [gd_resource …] heading');
    this.checkFormat(header, target);
    const resource = doc.sections.find((s) => s.tag === 'resource');
    if (!resource) this.refuse(target, header.line, 'the file has no [resource] section');
    return this.replicationProperties({ ...resource, attrs: header.attrs }, target, target);
  }

  /** properties/<i>/path, /spawn, /replication_mode (and the deprecated /sync, /watch), as SceneReplicationConfig reads them. */
  private replicationProperties(section: Section, source: string, file: string): RawReplicationConfig {
    const type = section.attrs.get('type');
    if (!type || stringOf(type) !== 'SceneReplicationConfig') {
      this.refuse(file, section.line, `${source} is a ${type ? describe(type) : 'resource of no type'}, not a SceneReplicationConfig`);
    }
    const props: RawReplicationConfig['properties'] = [];
    for (const { key, value, line } of section.entries) {
      const m = /^properties\/(\d+)\/(\w+)$/.exec(key);
      if (!m) continue;
      const index = Number(m[1]);
      const what = m[2];
      if (what === 'path') {
        if (index !== props.length) this.refuse(file, line, `${key}: properties must be numbered 0, 1, 2, … in order (Godot skips this one); expected properties/${props.length}/path`);
        const p = this.expect(nodePathOf(value), file, line, key, 'a NodePath');
        if (!p.includes(':')) this.refuse(file, line, `${key} "${p}" names no property (it needs ":property"); Godot skips it`);
        if (props.some((q) => q.path === p)) this.refuse(file, line, `${key} "${p}" is listed twice; Godot skips the second`);
        props.push({ path: p, spawn: true, replicationMode: 'always', source: { file, line } });
        continue;
      }
      const prop = props[index];
      if (!prop) this.refuse(file, line, `${key} comes before properties/${index}/path`);
      switch (what) {
        case 'spawn':
          prop.spawn = this.expect(boolOf(value), file, line, key, 'true or false');
          break;
        case 'replication_mode': {
          const mode = intOf(value);
          if (mode === null || mode < 0 || mode > 2) this.refuse(file, line, `${key} is ${describe(value)}; it must be 0 (never), 1 (always) or 2 (on change)`);
          prop.replicationMode = (['never', 'always', 'on_change'] as const)[mode];
          break;
        }
        case 'sync':
        case 'watch': {
          // Deprecated (4.0) flags: true selects the mode; false clears it only if it is the current mode.
          const on = this.expect(boolOf(value), file, line, key, 'true or false');
          const mode = what === 'sync' ? 'always' : 'on_change';
          if (on) prop.replicationMode = mode;
          else if (prop.replicationMode === mode) prop.replicationMode = 'never';
          break;
        }
        default:
          this.refuse(file, line, `${key}: unknown replication setting "${what}"`);
      }
    }
    return { source, properties: props };
  }
}

// ---- Helpers ----------------------------------------------------------------------------------------------

/** res://a/../b.gd, or a path relative to `from`'s folder → res://b.gd; null if it climbs out of the project. */
function normalizeRes(ref: string, from: string): string | null {
  let rel: string;
  if (ref.startsWith('res://')) rel = ref.slice('res://'.length);
  else if (/^[a-z]+:\/\//.test(ref) || ref.startsWith('/')) return null;
  else rel = path.posix.join(path.posix.dirname(from.slice('res://'.length).split('::')[0]), ref);
  const norm = path.posix.normalize(rel);
  if (norm.startsWith('..')) return null;
  return `res://${norm === '.' ? '' : norm}`;
}

/** A node path relative to `from` (both relative to the scene root, '.' = root) → scene-relative, or null if it leaves the scene. */
function joinNodePath(from: string, rel: string): string | null {
  if (rel.startsWith('/')) return null;
  const parts = from === '.' ? [] : from.split('/');
  for (const seg of rel.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (parts.length === 0) return null;
      parts.pop();
    } else parts.push(seg);
  }
  return parts.length === 0 ? '.' : parts.join('/');
}

function cloneTree(node: TreeNode): TreeNode {
  return { ...node, settings: { ...node.settings }, children: node.children.map(cloneTree) };
}

function findFunction(script: ResolvedScript, name: string): { fn: ParsedFunction; script: ResolvedScript } | undefined {
  for (let s: ResolvedScript | null = script; s; s = s.base) {
    const fn = s.parsed.functions.find((f) => f.name === name);
    if (fn) return { fn, script: s };
  }
  return undefined;
}
