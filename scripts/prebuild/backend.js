#!/usr/bin/env node
'use strict';
// prebuildify's builder (its --node-gyp option): prebuildify runs `<this> rebuild --target=... --arch=...
// --release` with PREBUILD_PLATFORM / PREBUILD_ARCH in the environment, then takes the one .node file in
// <cwd>/build/Release, strips it and files it under prebuilds/. prebuildify only knows node-gyp; this
// does the same job with the project's real build (cmake-js and CMakeLists.txt), for the host or, with a
// generated CMake toolchain file, for another platform (scripts/prebuild/targets.js).
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { TARGETS, ROOT, WORK } = require('./targets');
const { tool } = require('./tools');

const key = `${process.env.PREBUILD_PLATFORM}-${process.env.PREBUILD_ARCH}`;
const target = TARGETS[key];
if (process.argv[2] !== 'rebuild' || target === undefined) {
  process.stderr.write(`scripts/prebuild/backend.js: expected "rebuild" for a target in targets.js, got ${process.argv.slice(2).join(' ')} for ${key}\n`);
  process.exit(1);
}

// cmake-js cleans its output tree first, so the toolchain file and wrappers live beside it.
const workDir = path.join(WORK, key);
const buildDir = path.join(workDir, 'cmake');
fs.rmSync(workDir, { recursive: true, force: true });
fs.mkdirSync(workDir, { recursive: true });

const defines = { GODOT_ENET_PORTABLE: 'ON' };
if (target.compiler !== null) defines.CMAKE_TOOLCHAIN_FILE = writeToolchain(target.compiler);

const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [ROOT] });
const args = [cmakeJs, 'rebuild', '--directory', ROOT, '--out', buildDir, '--log-level', 'warn'];
for (const [name, value] of Object.entries(defines)) args.push(`--CD${name}=${value}`);
execFileSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });

const built = findNode(buildDir);
// prebuildify strips with --strip-all, which is not safe on a Mach-O image that binds symbols at load
// time; its local symbols are dropped here instead (what Xcode's `strip -x` does for a bundle).
if (target.stripLocal) execFileSync(target.stripLocal, ['-x', built], { stdio: 'inherit' });
const release = path.join(process.cwd(), 'build', 'Release');
fs.rmSync(release, { recursive: true, force: true });
fs.mkdirSync(release, { recursive: true });
fs.copyFileSync(built, path.join(release, path.basename(built)));

// A CMake toolchain file for the target. Zig takes its target as an argument, which CMake cannot pass
// with a compiler, so zig gets two small wrapper scripts.
function writeToolchain(compiler) {
  const lines = [
    `set(CMAKE_SYSTEM_NAME ${compiler.system})`,
    `set(CMAKE_SYSTEM_PROCESSOR ${compiler.processor})`,
  ];
  let { cc, cxx } = compiler;
  if (compiler.zig) {
    const zig = tool('zig');
    // zig caches what it builds for a target (libc++ for macOS takes a minute the first time).
    process.env.ZIG_GLOBAL_CACHE_DIR = path.join(WORK, 'tools', 'zig-cache');
    cc = wrapper('zig-cc', `exec "${zig}" cc -target ${compiler.zig} "$@"`);
    cxx = wrapper('zig-c++', `exec "${zig}" c++ -target ${compiler.zig} "$@"`);
    lines.push(`set(CMAKE_AR ${wrapper('zig-ar', `exec "${zig}" ar "$@"`)} CACHE FILEPATH "")`);
    lines.push(`set(CMAKE_RANLIB ${wrapper('zig-ranlib', `exec "${zig}" ranlib "$@"`)} CACHE FILEPATH "")`);
  }
  lines.push(`set(CMAKE_C_COMPILER ${cc})`, `set(CMAKE_CXX_COMPILER ${cxx})`);
  for (const [name, value] of Object.entries(compiler.extra || {})) lines.push(`set(${name} ${value})`);
  const file = path.join(workDir, 'toolchain.cmake');
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function wrapper(name, command) {
  const file = path.join(workDir, 'bin', name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `#!/bin/sh\n${command}\n`, { mode: 0o755 });
  return file;
}

function findNode(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith('.node')) return path.join(entry.parentPath ?? entry.path, entry.name);
  }
  throw new Error(`no .node file was built in ${dir}`);
}
