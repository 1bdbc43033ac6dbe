#!/usr/bin/env node
'use strict';
// Regenerates the two tables of src/manifest/nativeClasses.ts from a real Godot 4 engine.
//   1. Run tools/manifest/dump-classdb.gd as the main scene's script in Godot 4.x (headless; the web export
//      template works, see shared/guides/godot4-web-oracle.md) and save what it prints to a file.
//   2. node tools/manifest/native-table.js <that file>  → prints NATIVE_CLASS_PARENTS and NATIVE_PROPERTIES;
//      paste them over the ones in nativeClasses.ts.
// The property table covers the classes games replicate (PICKED) and their ancestors.
const fs = require('fs');
const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n');
const parents = new Map();
for (const e of lines.find((l) => l.startsWith('CLASSES ')).slice(8).split(',')) { const [c, p] = e.split(':'); parents.set(c, p); }
const props = new Map();
for (const l of lines.filter((l) => l.startsWith('PROPS '))) {
  const sp = l.indexOf(' ', 6); const c = l.slice(6, sp === -1 ? undefined : sp); const body = sp === -1 ? '' : l.slice(sp + 1);
  // split on commas that start a new "name:type:usage" triple (class hints contain commas)
  const out = [];
  for (const m of body.matchAll(/(?:^|,)([A-Za-z_][A-Za-z0-9_/]*):(Object\/[A-Za-z0-9_,]*|[A-Za-z0-9_\[\]]+):(\d+)(?=,|$)/g)) out.push([m[1], m[2]]);
  props.set(c, out);
}
const isNode = (c) => { for (let x = c; x; x = parents.get(x)) if (x === 'Node') return true; return false; };
const nodeClasses = [...parents.keys()].filter((c) => isNode(c) || ['Object', 'RefCounted', 'Resource'].includes(c)).sort();
const PICKED = `Node2D Sprite2D AnimatedSprite2D CharacterBody2D RigidBody2D StaticBody2D AnimatableBody2D Area2D Camera2D CollisionShape2D CollisionPolygon2D Polygon2D Line2D Marker2D RayCast2D ShapeCast2D PathFollow2D Path2D PointLight2D DirectionalLight2D GPUParticles2D CPUParticles2D AudioStreamPlayer2D RemoteTransform2D TileMapLayer VisibleOnScreenNotifier2D NavigationAgent2D
Node3D MeshInstance3D Sprite3D AnimatedSprite3D Label3D CharacterBody3D RigidBody3D StaticBody3D AnimatableBody3D Area3D VehicleBody3D VehicleWheel3D Camera3D CollisionShape3D Marker3D RayCast3D ShapeCast3D SpringArm3D PathFollow3D Path3D OmniLight3D SpotLight3D DirectionalLight3D GPUParticles3D CPUParticles3D AudioStreamPlayer3D RemoteTransform3D BoneAttachment3D NavigationAgent3D
Control Label RichTextLabel Button CheckBox CheckButton LineEdit TextEdit TextureRect ColorRect NinePatchRect Panel ProgressBar TextureProgressBar HSlider VSlider SpinBox OptionButton HBoxContainer VBoxContainer MarginContainer GridContainer
Node CanvasLayer CanvasModulate AnimationPlayer AnimationTree AudioStreamPlayer Timer MultiplayerSpawner MultiplayerSynchronizer`.split(/\s+/);
const withAncestors = new Set();
for (const c of PICKED) { if (!parents.has(c)) throw new Error('unknown ' + c); for (let x = c; x && x !== 'Object'; x = parents.get(x)) withAncestors.add(x); }
function wrap(items, indent) { const ls = []; let l = ''; for (const it of items) { if (l && indent.length + l.length + it.length + 8 > 110) { ls.push(l); l = ''; } l += (l ? ' ' : '') + it; } if (l) ls.push(l); return ls.map((x, i) => `${indent}'${x}${i < ls.length - 1 ? ' ' : ''}'`).join(' +\n'); }
const typeOf = (t) => (t.startsWith('Object/') ? 'Object' : t);
let out = '';
out += 'const NATIVE_CLASS_PARENTS =\n';
const pairs = nodeClasses.map((c) => `${c}:${parents.get(c)}`);
out += wrap(pairs, '  ') + ';\n\n';
out += 'const NATIVE_PROPERTIES: Record<string, string> = {\n';
for (const c of [...withAncestors].sort()) {
  const list = (props.get(c) || []).filter(([n]) => !n.includes('/') && !n.startsWith('_')).map(([n, t]) => `${n}:${typeOf(t)}`);
  if (list.length === 0) continue;
  out += `  ${c}:\n` + wrap(list, '    ') + ',\n';
}
out += '};\n';
process.stdout.write(out);
