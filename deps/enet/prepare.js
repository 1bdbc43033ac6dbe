#!/usr/bin/env node
'use strict';
// Build step run by CMake at configure time: fetches the pinned registry packages (their tarballs only,
// checked against pins.json: nothing is installed or run, so zstd-napi's own addon is never built),
// copies the sources we compile into the build tree after checking their SHA-256 sums, and applies our
// patches (patches/*.patch, in name order) to the copy. Written in Node rather than relying on `patch`
// so it behaves the same on every OS.
//
// Usage: node prepare.js <output-dir>
// Output: <out>/zpl/enet.h (patched), <out>/range-coder/{compress.c, enet/*.h},
//         <out>/zstd/lib/** (the zstd 1.5.7 sources zstd-napi ships, unmodified)
//
// A file whose content is unchanged is not rewritten, so re-running this step does not make CMake
// recompile the third-party sources.

const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { fetchPackage } = require('../../scripts/npm-fetch');

const here = __dirname;
const pins = JSON.parse(fs.readFileSync(path.join(here, 'pins.json'), 'utf8'));

function fail(message) {
  process.stderr.write(`deps/enet/prepare.js: ${message}\n`);
  process.exit(1);
}

// The pinned package, unpacked from its registry tarball into <package root>/build-deps/<name>.
const packageDirs = {};
function packageDir(name) {
  if (packageDirs[name] === undefined) {
    const { spec, integrity } = pins.packages[name];
    try {
      packageDirs[name] = fetchPackage(spec, integrity, path.join(here, '..', '..', 'build-deps', name));
    } catch (error) {
      fail(`cannot fetch ${spec} from the npm registry: ${error.message}`);
    }
  }
  return packageDirs[name];
}

function readVerified(name, rel) {
  const expected = pins.packages[name].files[rel];
  const data = fs.readFileSync(path.join(packageDir(name), rel));
  const sum = crypto.createHash('sha256').update(data).digest('hex');
  if (sum !== expected) fail(`checksum mismatch for ${name}/${rel}: expected ${expected}, got ${sum}`);
  return data.toString('latin1');
}

// Applies a unified diff to `text`. Every hunk must match exactly where it says it applies
// (allowing for the line shift of earlier hunks); anything else is an error, never a fuzzy guess.
function applyPatch(text, patch, patchName) {
  const lines = text.split('\n');
  const patchLines = patch.split('\n');
  let shift = 0;
  for (let i = 0; i < patchLines.length; i++) {
    const header = /^@@ -(\d+)(?:,\d+)? \+\d+(?:,\d+)? @@/.exec(patchLines[i]);
    if (!header) continue;
    const before = [];
    const after = [];
    for (i++; i < patchLines.length && !patchLines[i].startsWith('@@'); i++) {
      const line = patchLines[i];
      const body = line.slice(1);
      if (line.startsWith(' ')) { before.push(body); after.push(body); }
      else if (line.startsWith('-')) before.push(body);
      else if (line.startsWith('+')) after.push(body);
      else if (line.startsWith('\\') || line === '') continue;
      else fail(`${patchName}: unexpected line ${JSON.stringify(line)}`);
    }
    i--;
    const at = Number(header[1]) - 1 + shift;
    const found = lines.slice(at, at + before.length);
    if (found.join('\n') !== before.join('\n')) fail(`${patchName}: hunk at line ${header[1]} does not apply`);
    lines.splice(at, before.length, ...after);
    shift += after.length - before.length;
  }
  return lines.join('\n');
}

function writeIfChanged(file, text) {
  const data = Buffer.from(text, 'latin1');
  try {
    if (fs.readFileSync(file).equals(data)) return;
  } catch {
    // missing: write it
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, data);
}

const out = process.argv[2];
if (!out) fail('usage: node prepare.js <output-dir>');

let enetHeader = readVerified('enet.c', 'include/enet.h');
const patchDir = path.join(here, 'patches');
for (const name of fs.readdirSync(patchDir).filter((f) => f.endsWith('.patch')).sort()) {
  enetHeader = applyPatch(enetHeader, fs.readFileSync(path.join(patchDir, name), 'utf8'), name);
}
writeIfChanged(path.join(out, 'zpl', 'enet.h'), enetHeader);

// The range coder is compiled against the 1.3.5 headers it was written for; only ENetBuffer,
// ENetCompressor and enet_host_compress cross between it and the zpl build, and those match.
for (const rel of Object.keys(pins.packages.enet.files)) {
  const target = rel.endsWith('.c') ? path.basename(rel) : path.join('enet', path.basename(rel));
  writeIfChanged(path.join(out, 'range-coder', target), readVerified('enet', rel));
}

// zstd for COMPRESS_ZSTD: every source and header we compile, verified one by one and copied with its
// layout (the sources include each other by relative path). deps/enet/CMakeLists.txt builds its .c
// files from this copy only, so a source that is not pinned here is missing and fails the build.
const ZSTD_PREFIX = 'deps/zstd/lib/';
const zstdFiles = Object.keys(pins.packages['zstd-napi'].files);
for (const rel of zstdFiles) {
  if (!rel.startsWith(ZSTD_PREFIX)) fail(`zstd-napi pin outside ${ZSTD_PREFIX}: ${rel}`);
  writeIfChanged(path.join(out, 'zstd', 'lib', rel.slice(ZSTD_PREFIX.length)), readVerified('zstd-napi', rel));
}
const zstdHeader = readVerified('zstd-napi', `${ZSTD_PREFIX}zstd.h`);
const zstdVersion = ['MAJOR', 'MINOR', 'RELEASE']
  .map((part) => (new RegExp(`#define ZSTD_VERSION_${part}\\s+(\\d+)`).exec(zstdHeader) || [])[1]).join('.');
if (zstdVersion !== '1.5.7') fail(`zstd-napi must ship zstd 1.5.7, found ${zstdVersion}`);
