#!/usr/bin/env node
'use strict';
// Writes dist/index.mjs, the ES-module entry: it re-exports every named export of the CommonJS build,
// so `import { ENetConnection } from 'godot-enet'` works without relying on Node's guesswork about
// which names a CommonJS module exports.
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
