#!/usr/bin/env node
'use strict';
// npm run prebuild [-- --target linux-x64 --target win32-x64 ...]
//
// Builds the prebuilt binaries with prebuildify into prebuilds/<platform>-<arch>/, one per target of
// scripts/prebuild/targets.js (all of them by default), on a Debian x64 machine. prebuildify builds
// through scripts/prebuild/backend.js (CMake, cross-compiling where needed), strips and names each
// binary as node-gyp-build expects it. Missing Debian compilers are installed when run as root with
// apt-get, as scripts/check-reference-peers.js does for the test peers; otherwise named.
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const prebuildify = require('prebuildify');
const { TARGETS, ROOT, WORK } = require('./targets');

const USAGE = `usage: npm run prebuild [-- --target <platform-arch> ...]
  --target   build only these (repeatable); one of ${Object.keys(TARGETS).join(', ')}
  --help     this text`;

function main() {
  let options;
  try {
    ({ values: options } = parseArgs({
      options: { target: { type: 'string', multiple: true }, help: { type: 'boolean' } },
    }));
  } catch (error) {
    fail(`${error.message}\n${USAGE}`);
  }
  if (options.help) {
    console.log(USAGE);
    return;
  }
  const keys = options.target ?? Object.keys(TARGETS);
  for (const key of keys) if (TARGETS[key] === undefined) fail(`unknown target "${key}"\n${USAGE}`);
  if (process.platform !== 'linux' || process.arch !== 'x64') fail('prebuilds are made on Linux x64');

  ensureDebianPackages(keys.flatMap((key) => TARGETS[key].apt));
  const started = Date.now();
  (async () => {
    for (const key of keys) await build(key);
    writeNotices();
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`prebuild: ${keys.length} target(s) in ${seconds} s`);
    for (const key of keys) {
      for (const file of fs.readdirSync(path.join(ROOT, 'prebuilds', key))) {
        const size = fs.statSync(path.join(ROOT, 'prebuilds', key, file)).size;
        console.log(`  prebuilds/${key}/${file}  ${(size / 1024).toFixed(0)} KiB`);
      }
    }
  })().catch((error) => fail(error.message));
}

function build(key) {
  const target = TARGETS[key];
  const stage = path.join(WORK, 'stage', key);
  fs.rmSync(path.join(ROOT, 'prebuilds', key), { recursive: true, force: true });
  fs.mkdirSync(stage, { recursive: true });
  console.log(`prebuild: ${key}`);
  return new Promise((resolve, reject) => {
    prebuildify({
      cwd: stage, // prebuildify takes the backend's output from <stage>/build/Release
      out: ROOT,
      name: 'godot-enet',
      napi: true,
      platform: target.platform,
      arch: target.arch,
      tagLibc: target.libc !== undefined,
      libc: target.libc,
      strip: target.strip !== null,
      stripBin: target.strip ?? 'strip',
      nodeGyp: path.join(__dirname, 'backend.js'),
    }, (error) => (error ? reject(error) : resolve()));
  });
}

// The binaries contain ENet (with its range coder) and zstd, whose licences ask for their notices to
// travel with binary copies: taken from the pinned packages the build fetched (deps/enet/prepare.js).
function writeNotices() {
  const sources = [
    ['ENet (enet.c, and the range coder of enet)', path.join(ROOT, 'build-deps', 'enet.c', 'LICENSE')],
    ['Zstandard (zstd)', path.join(ROOT, 'build-deps', 'zstd-napi', 'deps', 'zstd', 'LICENSE')],
  ];
  const text = sources.map(([what, file]) => `${what}\n${'='.repeat(what.length)}\n\n${fs.readFileSync(file, 'utf8').trim()}\n`);
  const intro = 'The prebuilt binaries in this directory contain the following third-party code.\n\n';
  fs.writeFileSync(path.join(ROOT, 'prebuilds', 'THIRD-PARTY-NOTICES.txt'), intro + text.join('\n'));
}

function ensureDebianPackages(packages) {
  const missing = [...new Set(packages)].filter((name) => spawnSync('dpkg', ['-s', name], { stdio: 'ignore' }).status !== 0);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) fail(`missing Debian packages: sudo apt-get install ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
}

function fail(message) {
  console.error(`prebuild: ${message}`);
  process.exit(1);
}

main();
