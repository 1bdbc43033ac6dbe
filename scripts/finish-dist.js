#!/usr/bin/env node
'use strict';
// Runs after tsc (npm run build:ts) on what it wrote to dist/:
//  - dist/index.mjs, the ES-module entry: it re-exports every named export of the CommonJS build, so
//    `import { ENetConnection } from 'godot-enet'` works without relying on Node's guesswork about which
//    names a CommonJS module exports;
//  - the declarations: tsc marks a class with JavaScript private fields (#x) by a `#private;` member,
//    which a consumer's tsc refuses under its default target (ES5: error TS18028). A TypeScript private
//    member named after the class ("#PacketPeer") keeps what it is for (the class stays nominal),
//    compiles under any target, and, one name per class, does not clash between a class and its base.
const fs = require('fs');
const path = require('path');

const dist = path.join(__dirname, '..', 'dist');
const names = Object.keys(require(path.join(dist, 'index.js'))).filter((name) => name !== 'default');
const lines = [
  "import cjs from './index.js';",
  `export const { ${names.join(', ')} } = cjs;`,
  'export default cjs;',
  '',
];
fs.writeFileSync(path.join(dist, 'index.mjs'), lines.join('\n'));

for (const entry of fs.readdirSync(dist, { recursive: true })) {
  if (!entry.endsWith('.d.ts')) continue;
  const file = path.join(dist, entry);
  const text = fs.readFileSync(file, 'utf8');
  let owner = '';
  const fixed = text.split('\n').map((line) => {
    const declared = /\bclass (\w+)/.exec(line);
    if (declared) owner = declared[1];
    return line.replace(/^(\s*)#private;$/, `$1private "#${owner}";`);
  }).join('\n');
  if (fixed !== text) fs.writeFileSync(file, fixed);
}
