/**
 * readManifest and `godot-enet manifest` on the small Godot projects of test/fixtures/godot-projects/:
 * - tutorial/: a multiplayer game as Godot 4 tutorials build it (main scene with an instanced level and a
 *   spawner of uid:// scenes, a player scene with a server-owned synchronizer and a client-owned input
 *   synchronizer whose config is a .tres, autoloads, class_name and extends "res://…" chains, an editor
 *   plugin, the editor's .godot folder);
 * - scripts/: the GDScript reader's workout (declaration order, every kind of parameter, inner classes,
 *   rpc_config() calls, inheritance with and without @rpc on overrides, a built-in script).
 *
 * The expected RPC tables, node orders and replicated value types were checked against a real Godot
 * 4.6.stable (the official web export template, headless): Script.get_rpc_config(),
 * Node.get_node_rpc_config(), get_script_method_list(), the instantiated scene's tree and
 * typeof(root.get_indexed(property)) for each replicated property. Refused projects are built from a
 * fixture with one file changed, and each refusal's file, line and wording are checked.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ManifestError, readManifest, type GameManifest, type RpcMethodInfo } from '../src';
import { main } from '../src/cli';
import { parseGDScript } from '../src/manifest/gdscript';
import { parseTextResource } from '../src/manifest/textResource';
import { REPO_ROOT, ensureBuilt } from './helpers/loopback';

const FIXTURES = path.join(__dirname, 'fixtures', 'godot-projects');
const TUTORIAL = path.join(FIXTURES, 'tutorial');
const SCRIPTS = path.join(FIXTURES, 'scripts');

const temps: string[] = [];
afterAll(() => {
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

/** A copy of a fixture project with some files replaced (string) or removed (null). */
function projectWith(base: string, files: Record<string, string | null>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'godot-manifest-'));
  temps.push(dir);
  fs.cpSync(base, dir, { recursive: true });
  for (const [rel, content] of Object.entries(files)) {
    const file = path.join(dir, rel);
    if (content === null) fs.rmSync(file);
    else {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
    }
  }
  return dir;
}

function refusal(dir: string): ManifestError {
  try {
    readManifest(dir);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return error as ManifestError;
  }
  throw new Error('readManifest accepted a project it should refuse');
}

/** The settings of an RPC entry without its source, for compact comparisons. */
function settings(info: RpcMethodInfo): unknown {
  const { source, ...rest } = info;
  void source;
  return rest;
}

function node(m: GameManifest, scene: string, nodePath: string) {
  const found = m.scenes[scene].nodes.find((n) => n.path === nodePath);
  if (!found) throw new Error(`no node ${nodePath} in ${scene}`);
  return found;
}

describe('the tutorial game', () => {
  const m = readManifest(TUTORIAL);

  test('project.godot: name, main scene (a uid), features and autoloads in order', () => {
    expect(m.format).toBe('godot-enet/manifest');
    expect(m.version).toBe(1);
    expect(m.project).toEqual({ name: 'Tutorial Arena', mainScene: 'res://main.tscn', features: ['4.6', 'Forward Plus'] });
    expect(m.autoloads).toEqual([
      { name: 'Lobby', path: 'res://autoload/lobby.gd' }, // "*res://…": a global singleton
      { name: 'Settings', path: 'res://autoload/settings.gd' }, // "uid://…" through autoload/settings.gd.uid
      { name: 'Hud', path: 'res://ui/hud.tscn' },
    ]);
  });

  test('every scene and script is there; the editor plugin and the .godot folder are not', () => {
    expect(Object.keys(m.scenes)).toEqual([
      'res://level/level.tscn',
      'res://main.tscn',
      'res://player/player.tscn',
      'res://props/crate.tscn',
      'res://ui/hud.tscn',
    ]);
    expect(Object.keys(m.scripts)).toEqual([
      'res://actors/actor.gd',
      'res://actors/living.gd',
      'res://autoload/lobby.gd',
      'res://autoload/settings.gd',
      'res://level/door.gd',
      'res://main.gd',
      'res://player/player.gd',
      'res://player/player_input.gd',
    ]);
  });

  test('the main scene: instanced level expanded in tree order, an added node moved by index, the spawner', () => {
    const nodes = m.scenes['res://main.tscn'].nodes;
    expect(nodes.map((n) => [n.path, n.type])).toEqual([
      ['.', 'Node'],
      ['Level', 'Node2D'],
      ['Level/SpawnPoint', 'Marker2D'], // added with index="0": before the level's own nodes
      ['Level/Floor', 'StaticBody2D'],
      ['Level/Door', 'AnimatableBody2D'],
      ['Level/Door/Sprite', 'Sprite2D'],
      ['Level/Door/DoorSync', 'MultiplayerSynchronizer'], // index="0" on a node of the instance: not moved
      ['Players', 'Node2D'],
      ['PlayerSpawner', 'MultiplayerSpawner'],
    ]);
    expect(nodes[0]).toEqual({ path: '.', name: 'Main', type: 'Node', script: 'res://main.gd' });
    expect(node(m, 'res://main.tscn', 'Level')).toEqual({
      path: 'Level',
      name: 'Level',
      type: 'Node2D',
      script: null,
      instance: 'res://level/level.tscn',
    });
    expect(node(m, 'res://main.tscn', 'Level/Door').script).toBe('res://level/door.gd');
    expect(node(m, 'res://main.tscn', 'PlayerSpawner').spawner).toEqual({
      spawnPath: '../Players',
      spawnableScenes: ['res://player/player.tscn', 'res://props/crate.tscn'], // uid://cplayer00001 resolved, order kept
      spawnLimit: 8,
    });
  });

  test('a setting overridden on a node of an instanced scene applies to that instance only', () => {
    expect(node(m, 'res://main.tscn', 'Level/Door/DoorSync').synchronizer?.replicationInterval).toBe(0.5);
    expect(node(m, 'res://level/level.tscn', 'Door/DoorSync').synchronizer?.replicationInterval).toBe(0);
  });

  test('deprecated sync/watch flags become replication modes', () => {
    expect(node(m, 'res://level/level.tscn', 'Door/DoorSync').synchronizer).toEqual({
      rootPath: '..',
      replicationInterval: 0,
      deltaInterval: 0,
      publicVisibility: true,
      visibilityUpdateMode: 0,
      replicationConfig: {
        source: 'res://level/level.tscn::SceneReplicationConfig_door',
        properties: [
          { path: '.:position', spawn: true, replicationMode: 'always', type: 'Vector2' },
          { path: '.:open', spawn: true, replicationMode: 'on_change', type: 'bool' },
        ],
      },
    });
  });

  test('the player scene: server-owned synchronizer with typed properties in config order', () => {
    const nodes = m.scenes['res://player/player.tscn'].nodes;
    expect(nodes.map((n) => [n.path, n.type, n.script])).toEqual([
      ['.', 'CharacterBody2D', 'res://player/player.gd'],
      ['Sprite', 'Sprite2D', null],
      ['Collision', 'CollisionShape2D', null],
      ['ServerSync', 'MultiplayerSynchronizer', null],
      ['InputSync', 'MultiplayerSynchronizer', 'res://player/player_input.gd'],
    ]);
    expect(node(m, 'res://player/player.tscn', 'ServerSync').synchronizer?.replicationConfig).toEqual({
      source: 'res://player/player.tscn::SceneReplicationConfig_srv',
      properties: [
        { path: '.:position', spawn: true, replicationMode: 'always', type: 'Vector2' }, // native Node2D
        { path: '.:rotation', spawn: true, replicationMode: 'always', type: 'float' },
        { path: '.:health', spawn: true, replicationMode: 'on_change', type: 'int' }, // Actor's @export var health: int
        { path: 'Sprite:modulate', spawn: false, replicationMode: 'on_change', type: 'Color' }, // a child node
        { path: '.:velocity:x', spawn: false, replicationMode: 'never', type: 'float' }, // a member of a Vector2
        { path: '.:team', spawn: true, replicationMode: 'on_change', type: 'int' }, // an enum
      ],
    });
  });

  test('the player scene: client-owned input synchronizer, its settings and its .tres config', () => {
    expect(node(m, 'res://player/player.tscn', 'InputSync').synchronizer).toEqual({
      rootPath: '.',
      replicationInterval: 0.05,
      deltaInterval: 0.1,
      publicVisibility: false,
      visibilityUpdateMode: 1,
      replicationConfig: {
        source: 'res://player/input_config.tres',
        properties: [
          { path: '.:direction', spawn: false, replicationMode: 'always', type: 'Vector2' }, // := Vector2()
          { path: '.:jumping', spawn: false, replicationMode: 'on_change', type: 'bool' }, // := false
        ],
      },
    });
  });

  test('a spawnable scene without a script: native property types', () => {
    expect(node(m, 'res://props/crate.tscn', 'Sync').synchronizer?.replicationConfig?.properties.map((p) => p.type)).toEqual([
      'Vector2',
      'Vector2',
      'float',
    ]);
  });

  test('class_name and extends "res://…" chains: inherited @rpc first, an override without @rpc keeps the base settings', () => {
    const player = m.scripts['res://player/player.gd'];
    expect(player.className).toBe('Player');
    expect(player.extends).toBe('res://actors/actor.gd'); // extends Actor (a class_name)
    expect(m.scripts['res://actors/actor.gd'].extends).toBe('res://actors/living.gd'); // extends "res://…"
    expect(player.nativeClass).toBe('CharacterBody2D');
    expect(Object.keys(player.rpcs)).toEqual(['die', 'take_damage', 'play_animation']);
    expect(settings(player.rpcs.die)).toEqual({ rpcMode: 'authority', transferMode: 'reliable', callLocal: false, channel: 0, args: [] });
    expect(player.rpcs.take_damage).toEqual({
      rpcMode: 'any_peer',
      transferMode: 'reliable',
      callLocal: true,
      channel: 0,
      args: [
        { name: 'amount', type: 'int', optional: false },
        { name: 'source_peer', type: 'int', optional: true },
      ],
      source: { file: 'res://actors/actor.gd', line: 8 }, // the func line
    });
    expect(settings(player.rpcs.play_animation)).toEqual({
      rpcMode: 'authority',
      transferMode: 'unreliable_ordered',
      callLocal: true,
      channel: 1,
      args: [
        { name: 'anim', type: 'StringName', optional: false },
        { name: 'speed_scale', type: 'float', optional: true },
      ],
    });
    expect(player.properties).toEqual({
      health: { type: 'int', source: { file: 'res://actors/actor.gd', line: 4 } },
      team: { type: 'int', source: { file: 'res://player/player.gd', line: 8 } },
      input: { type: 'PlayerInput', source: { file: 'res://player/player.gd', line: 9 } },
    });
  });

  test('the manifest is plain JSON', () => {
    expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

describe('the GDScript reader', () => {
  const m = readManifest(SCRIPTS);

  test('@rpc functions in declaration order, so the server can sort them into method IDs itself', () => {
    const order = m.scripts['res://order.gd'];
    expect(Object.keys(order.rpcs)).toEqual(['b_move', 'a_fire', 'Z']); // not_an_rpc is not there
    expect(settings(order.rpcs.Z)).toEqual({ rpcMode: 'authority', transferMode: 'unreliable', callLocal: false, channel: 2, args: [] });
    expect(order.rpcs.Z.source).toEqual({ file: 'res://order.gd', line: 19 }); // @rpc on the func's own line
    // What the lead's SceneMultiplayer derives from it (spec §6.2): code-point order and the path checksum.
    const byCodePoint = Object.keys(order.rpcs).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(byCodePoint).toEqual(['Z', 'a_fire', 'b_move']);
    expect(createHash('md5').update(byCodePoint.join('')).digest('hex')).toBe('630fa38160c60fe884d2b1f6d74c5fe5');
  });

  test('typed, untyped, inferred, defaulted, container, enum, object and rest parameters', () => {
    const args = m.scripts['res://args.gd'].rpcs.kinds.args!;
    expect(args.map((a) => `${a.name}:${a.type}${a.optional ? '?' : ''}`)).toEqual([
      'a:int', 'b:float', 'c:Variant', 'd:String', 'e:Array[int]', 'f:Dictionary[String, int]', 'g:Node',
      'h:int', // the script's enum Mode
      'i:int', // Node.ProcessMode
      'j:PackedByteArray', 'k:float?', 'l:int?', 'm:Variant?', 'n:Vector2?', 'o:StringName?', 'p:NodePath?',
      'q:Vector3?', 'r:Array?', 's:Dictionary?', 't:Color?', 'u:String?', 'v:bool?', 'w:int?', 'x:Array[int]?',
    ]);
    expect(m.scripts['res://args.gd'].rpcs.rest).toEqual({
      rpcMode: 'authority',
      transferMode: 'reliable',
      callLocal: true,
      channel: 0,
      args: [
        { name: 'first', type: 'int', optional: false },
        { name: 'others', type: 'Array', optional: false, rest: true },
      ],
      source: { file: 'res://args.gd', line: 15 },
    });
  });

  test("an inner class's functions and rpc_config() calls stay inside it; literal rpc_config() calls are read", () => {
    const inner = m.scripts['res://inner.gd'];
    expect(Object.keys(inner.rpcs)).toEqual(['outer']);
    expect(inner.rpcConfig).toEqual({
      configured: {
        rpcMode: 'any_peer',
        transferMode: 'unreliable_ordered',
        callLocal: true,
        channel: 3,
        args: [
          { name: 'x', type: 'int', optional: false },
          { name: 'y', type: 'String', optional: true },
        ],
        source: { file: 'res://inner.gd', line: 24 },
      },
      // self.rpc_config with int values; its function is not in the script: no args.
      by_number: { rpcMode: 'any_peer', transferMode: 'unreliable', callLocal: false, channel: 0, source: { file: 'res://inner.gd', line: 30 } },
      // "removed" was configured, then removed with null.
    });
  });

  test('inheritance: overrides with and without @rpc, rpc_config() in overridden functions with and without super()', () => {
    const derived2 = m.scripts['res://units/derived2.gd'];
    expect(derived2.extends).toBe('res://units/derived.gd'); // extends "derived.gd", relative to the script
    expect(m.scripts['res://units/derived.gd'].extends).toBe('res://units/base_unit.gd'); // extends BaseUnit
    expect(m.scripts['res://units/base_unit.gd'].extends).toBe('Node2D'); // class_name BaseUnit extends Node2D
    expect(Object.keys(derived2.rpcs)).toEqual(['hit', 'sync_pos', 'extra']);
    expect(settings(derived2.rpcs.hit)).toMatchObject({ rpcMode: 'authority', callLocal: true }); // replaced by @rpc("call_local")
    expect(settings(m.scripts['res://units/derived.gd'].rpcs.hit)).toMatchObject({ rpcMode: 'any_peer', callLocal: false }); // kept
    expect(settings(derived2.rpcs.sync_pos)).toMatchObject({ rpcMode: 'authority', transferMode: 'reliable' });
    // BaseUnit configures "ping" in _ready (overridden without super in derived.gd) and "pong" in _enter_tree.
    expect(Object.keys(m.scripts['res://units/base_unit.gd'].rpcConfig)).toEqual(['ping', 'pong']);
    expect(Object.keys(m.scripts['res://units/derived.gd'].rpcConfig)).toEqual(['pong']);
    expect(Object.keys(derived2.rpcConfig)).toEqual(['pong']); // its _enter_tree calls super()
  });

  test("a scene's built-in script", () => {
    expect(node(m, 'res://rpc_test.tscn', 'Builtin').script).toBe('res://rpc_test.tscn::GDScript_b1');
    expect(settings(m.scripts['res://rpc_test.tscn::GDScript_b1'].rpcs.chat)).toEqual({
      rpcMode: 'any_peer',
      transferMode: 'reliable',
      callLocal: true,
      channel: 0,
      args: [{ name: 'text', type: 'String', optional: false }],
    });
  });

  test('a script extending an unknown class that nothing uses is left out; used, it is refused', () => {
    const plugin = '@tool\nextends EditorPlugin\n\n@rpc\nfunc f() -> void:\n\tpass\n';
    expect(readManifest(projectWith(SCRIPTS, { 'addons/p/plugin.gd': plugin })).scripts['res://addons/p/plugin.gd']).toBeUndefined();
    const used = projectWith(SCRIPTS, { 'units/base_unit.gd': 'class_name BaseUnit extends Node2DD\n' });
    const e = refusal(used);
    expect([e.file, e.line]).toEqual(['res://units/base_unit.gd', 1]);
    expect(e.message).toMatch(/extends Node2DD, which is neither a class_name of this project nor a native Node class/);
  });
});

describe('refusals name the file, the line and what to do', () => {
  const cases: Array<[string, string, Record<string, string | null>, string, number, RegExp]> = [
    ['an unknown @rpc argument', SCRIPTS, { 'order.gd': 'extends Node\n\n@rpc("anypeer")\nfunc f():\n\tpass\n' }, 'res://order.gd', 3, /invalid @rpc argument "anypeer"; it must be one of/],
    ['an @rpc argument that is not a literal', SCRIPTS, { 'order.gd': 'extends Node\nconst M = "any_peer"\n@rpc(M)\nfunc f():\n\tpass\n' }, 'res://order.gd', 3, /@rpc argument M is not a string literal/],
    ['two permissions in one @rpc', SCRIPTS, { 'order.gd': 'extends Node\n@rpc("any_peer", "authority")\nfunc f():\n\tpass\n' }, 'res://order.gd', 2, /names the same setting twice/],
    ['@rpc on a variable', SCRIPTS, { 'order.gd': 'extends Node\n@rpc\nvar x := 1\n' }, 'res://order.gd', 2, /@rpc can only be applied to a function/],
    ['rpc_config() with a computed method name', SCRIPTS, { 'inner.gd': 'extends Node\nfunc _ready():\n\tvar n := "f"\n\trpc_config(n, {"rpc_mode": 1})\n' }, 'res://inner.gd', 4, /rpc_config\(\) with a method name that is not a string literal \(n\); the manifest reader only reads literal arguments/],
    ['rpc_config() with a computed setting', SCRIPTS, { 'inner.gd': 'extends Node\nfunc _ready():\n\trpc_config("f", {"rpc_mode": mode()})\n' }, 'res://inner.gd', 3, /"rpc_mode": mode\(\)/],
    ['rpc_config() on another node', SCRIPTS, { 'inner.gd': 'extends Node\nfunc _ready():\n\t$Child.rpc_config("f", {"rpc_mode": 1})\n' }, 'res://inner.gd', 3, /rpc_config\(\) is called on another object/],
    ['rpc_config() without rpc_mode', SCRIPTS, { 'inner.gd': 'extends Node\nfunc _ready():\n\trpc_config("f", {"channel": 1})\n' }, 'res://inner.gd', 3, /has no "rpc_mode"; Godot skips such an entry/],
    ['an RPC parameter whose := type cannot be inferred', SCRIPTS, { 'order.gd': 'extends Node\n\n@rpc\nfunc f(a := 1 + 2):\n\tpass\n' }, 'res://order.gd', 4, /parameter a of RPC function f cannot be inferred/],
    ['a string that never ends', SCRIPTS, { 'order.gd': 'extends Node\n\nvar s = "abc\n' }, 'res://order.gd', 3, /a string is never closed/],
    ['a bracket that never closes', SCRIPTS, { 'order.gd': 'extends Node\n\nfunc f(a: int:\n\tpass\n' }, 'res://order.gd', 3, /"\(" is never closed/],
    ['an unknown statement at the top level', SCRIPTS, { 'order.gd': 'extends Node\nprint("hi")\n' }, 'res://order.gd', 2, /unexpected "print" at the top level/],
    ['extends of an inner class', SCRIPTS, { 'order.gd': 'extends BaseUnit.Inner\n' }, 'res://order.gd', 1, /extends an inner class/],
    ['an extends loop', SCRIPTS, { 'order.gd': 'extends "args.gd"\n', 'args.gd': 'extends "order.gd"\n' }, 'res://order.gd', 1, /loops back to this script/],
    ['a class_name declared twice', SCRIPTS, { 'order.gd': 'class_name BaseUnit\nextends Node\n' }, 'res://units/base_unit.gd', 1, /class_name BaseUnit is also declared by res:\/\/order.gd/],
    ['a Godot 3 scene', SCRIPTS, { 'rpc_test.tscn': '[gd_scene load_steps=2 format=2]\n\n[node name="A" type="Node"]\n' }, 'res://rpc_test.tscn', 1, /a Godot 3 file \(format=2\)/],
    ['a node whose parent is missing', SCRIPTS, { 'rpc_test.tscn': '[gd_scene format=3]\n\n[node name="A" type="Node"]\n\n[node name="B" type="Node" parent="Nope"]\n' }, 'res://rpc_test.tscn', 5, /node B: its parent "Nope" is not in the scene/],
    ['a missing script', SCRIPTS, { 'rpc_test.tscn': '[gd_scene format=3]\n\n[ext_resource type="Script" path="res://gone.gd" id="1"]\n\n[node name="A" type="Node"]\nscript = ExtResource("1")\n' }, 'res://rpc_test.tscn', 3, /script of node A: res:\/\/gone.gd is not a file of the project/],
    ['a spawnable uid nobody has', TUTORIAL, { 'main.tscn': '[gd_scene format=3]\n\n[node name="Main" type="Node"]\n\n[node name="S" type="MultiplayerSpawner" parent="."]\n_spawnable_scenes = PackedStringArray("uid://nope")\n' }, 'res://main.tscn', 6, /uid:\/\/nope is not the uid of any file in the project/],
    ['a replicated untyped variable', TUTORIAL, { 'actors/actor.gd': 'class_name Actor\nextends "res://actors/living.gd"\n\n@export var health = 100\n' }, 'res://player/player.tscn', 18, /replicated property \.:health: var health has no type \(res:\/\/actors\/actor.gd:4\)/],
    ['a replicated property nobody declares', TUTORIAL, { 'props/crate.tscn': '[gd_scene format=3]\n\n[sub_resource type="SceneReplicationConfig" id="c"]\nproperties/0/path = NodePath(".:speed")\n\n[node name="Crate" type="RigidBody2D"]\n\n[node name="Sync" type="MultiplayerSynchronizer" parent="."]\nreplication_config = SubResource("c")\n' }, 'res://props/crate.tscn', 4, /RigidBody2D has no property "speed" in the manifest's table of native properties/],
    ['a replicated property of a node that is not there', TUTORIAL, { 'props/crate.tscn': '[gd_scene format=3]\n\n[sub_resource type="SceneReplicationConfig" id="c"]\nproperties/0/path = NodePath("Body:position")\n\n[node name="Crate" type="RigidBody2D"]\n\n[node name="Sync" type="MultiplayerSynchronizer" parent="."]\nreplication_config = SubResource("c")\n' }, 'res://props/crate.tscn', 4, /there is no node "Body" under the synchronizer's root/],
    ['a root_path that leaves the scene', TUTORIAL, { 'props/crate.tscn': '[gd_scene format=3]\n\n[sub_resource type="SceneReplicationConfig" id="c"]\nproperties/0/path = NodePath(".:position")\n\n[node name="Crate" type="RigidBody2D"]\n\n[node name="Sync" type="MultiplayerSynchronizer" parent="."]\nroot_path = NodePath("../..")\nreplication_config = SubResource("c")\n' }, 'res://props/crate.tscn', 8, /root_path "\.\.\/\.\." of MultiplayerSynchronizer Sync leads outside/],
    ['replication properties out of order', TUTORIAL, { 'player/input_config.tres': '[gd_resource type="SceneReplicationConfig" format=3]\n\n[resource]\nproperties/1/path = NodePath(".:direction")\n' }, 'res://player/input_config.tres', 4, /properties must be numbered 0, 1, 2/],
    ['a broken project.godot', TUTORIAL, { 'project.godot': 'config_version=5\n\n[application]\nconfig/name="x\n' }, 'res://project.godot', 4, /a string is never closed/],
    ['an autoload that is not there', TUTORIAL, { 'project.godot': '[autoload]\n\nGone="*res://gone.gd"\n' }, 'res://project.godot', 3, /autoload Gone: res:\/\/gone.gd is not a file of the project/],
  ];
  test.each(cases)('%s', (_what, base, files, file, line, wording) => {
    const e = refusal(projectWith(base, files));
    expect({ file: e.file, line: e.line, message: e.message }).toEqual({ file, line, message: expect.stringMatching(wording) });
    expect(e.message.startsWith(`${file}:${line}: `)).toBe(true);
  });

  test('a folder without project.godot', () => {
    const e = refusal(path.join(FIXTURES));
    expect(e.message).toMatch(/^no project\.godot in .*: give the folder of a Godot project$/);
  });
});

describe('godot-enet manifest (the CLI)', () => {
  function run(args: string[]): { status: number; stdout: string; stderr: string } {
    let stdout = '';
    let stderr = '';
    const status = main(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
    return { status, stdout, stderr };
  }

  test('writes pretty JSON to stdout, or to --out', () => {
    const out = run(['manifest', TUTORIAL]);
    expect([out.status, out.stderr]).toEqual([0, '']);
    expect(JSON.parse(out.stdout)).toEqual(readManifest(TUTORIAL));
    expect(out.stdout).toContain('\n  "format": "godot-enet/manifest",\n');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'godot-manifest-out-')), 'm.json');
    temps.push(path.dirname(file));
    const toFile = run(['manifest', SCRIPTS, '--out', file]);
    expect([toFile.status, toFile.stdout, toFile.stderr]).toEqual([0, '', '']);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(readManifest(SCRIPTS));
  });

  test('--help, usage errors (status 2) and refused projects (status 1, one line)', () => {
    const help = run(['--help']);
    expect([help.status, help.stdout]).toEqual([0, expect.stringMatching(/^Usage: godot-enet manifest <godot-project-dir> \[--out <file.json>\]/)]);
    expect(run([]).status).toBe(2);
    expect(run(['build', TUTORIAL]).stderr).toMatch(/^godot-enet: unknown command "build"\n/);
    expect(run(['manifest']).status).toBe(2);
    expect(run(['manifest', TUTORIAL, '--bogus']).status).toBe(2);
    const broken = projectWith(SCRIPTS, { 'order.gd': 'extends Node\n@rpc("anypeer")\nfunc f():\n\tpass\n' });
    const refused = run(['manifest', broken]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^godot-enet: res:\/\/order\.gd:2: invalid @rpc argument "anypeer".*\n$/);
    expect(refused.stderr.split('\n')).toHaveLength(2);
  });

  test('the installed bin (dist/cli.js): exit status and no stack trace', () => {
    ensureBuilt();
    const cli = path.join(REPO_ROOT, 'dist', 'cli.js');
    expect(fs.readFileSync(cli, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const ok = spawnSync(process.execPath, [cli, 'manifest', SCRIPTS], { encoding: 'utf8', timeout: 30_000 });
    expect([ok.status, ok.stderr]).toEqual([0, '']);
    expect(Object.keys((JSON.parse(ok.stdout) as GameManifest).scenes)).toEqual(['res://rpc_test.tscn']);
    const bad = spawnSync(process.execPath, [cli, 'manifest', os.tmpdir()], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/^godot-enet: no project\.godot in .*\n$/);
  }, 180_000);
});

describe('robustness: truncated and garbled copies of the fixture files', () => {
  /** xorshift32: the same variants on every run. */
  function rng(seed: number): () => number {
    let s = seed >>> 0 || 1;
    return () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s / 0x100000000;
    };
  }

  const SYNTAX = ['[', ']', '(', ')', '{', '}', '"', "'", ':', '=', ',', '@', '\n', '\t', '#', ';', '\\', '.', '$', ' ', 'é', '\u0000'];

  function variants(text: string, random: () => number, count: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const at = Math.floor(random() * (text.length + 1));
      switch (i % 5) {
        case 0: // truncated
          out.push(text.slice(0, at));
          break;
        case 1: {
          // a few characters replaced by syntax characters
          const chars = [...text];
          for (let k = 0; k < 1 + Math.floor(random() * 4); k++) chars[Math.floor(random() * chars.length)] = SYNTAX[Math.floor(random() * SYNTAX.length)];
          out.push(chars.join(''));
          break;
        }
        case 2: {
          // a line removed
          const lines = text.split('\n');
          lines.splice(Math.floor(random() * lines.length), 1);
          out.push(lines.join('\n'));
          break;
        }
        case 3: // a chunk duplicated
          out.push(text.slice(0, at) + text.slice(Math.max(0, at - 40), at) + text.slice(at));
          break;
        default: // random bytes inserted
          out.push(text.slice(0, at) + String.fromCharCode(...Array.from({ length: 8 }, () => Math.floor(random() * 128))) + text.slice(at));
      }
    }
    return out;
  }

  function filesOf(dir: string, rel = ''): string[] {
    return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) return e.name.startsWith('.') ? [] : filesOf(dir, child);
      return /\.(gd|tscn|tres|godot|uid)$/.test(e.name) ? [child] : [];
    });
  }

  test.each([
    ['tutorial', TUTORIAL],
    ['scripts', SCRIPTS],
  ])('every garbled copy of a %s file is read or refused with a ManifestError', (_name, base) => {
    const work = projectWith(base, {});
    const random = rng(0x6d616e69);
    let refused = 0;
    let read = 0;
    for (const rel of filesOf(base)) {
      const original = fs.readFileSync(path.join(base, rel), 'utf8');
      for (const text of variants(original, random, 80)) {
        fs.writeFileSync(path.join(work, rel), text);
        try {
          readManifest(work);
          read++;
        } catch (error) {
          if (!(error instanceof ManifestError)) {
            throw new Error(`${rel} garbled as ${JSON.stringify(text.slice(0, 2000))} threw ${(error as Error).stack}`);
          }
          refused++;
        }
      }
      fs.writeFileSync(path.join(work, rel), original);
    }
    expect(refused).toBeGreaterThan(0);
    expect(read).toBeGreaterThan(0);
  });

  test('the parsers on random text and on deep nesting', () => {
    const random = rng(0x7061727a);
    const alphabet = 'abcXYZ_019 \t\n"\'()[]{}:=,.@#;&^\\-+*/<>!%$rfunc var extends class_name @rpc ';
    for (let i = 0; i < 3000; i++) {
      const text = Array.from({ length: Math.floor(random() * 120) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      for (const parse of [() => parseGDScript(text, 'res://f.gd'), () => parseTextResource(text, 'res://f.tscn')]) {
        try {
          parse();
        } catch (error) {
          if (!(error instanceof ManifestError)) throw new Error(`${JSON.stringify(text)} threw ${(error as Error).stack}`);
        }
      }
    }
    expect(() => parseTextResource(`a = ${'['.repeat(100000)}`, 'res://deep.tres')).toThrow(ManifestError);
    expect(() => parseGDScript(`var a = ${'('.repeat(100000)}`, 'res://deep.gd')).toThrow(ManifestError);
  });
});
