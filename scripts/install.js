#!/usr/bin/env node
'use strict';
// npm install hook, and `npm run build:native` (with --from-source).
//
// A prebuilt binary that fits this platform (node-gyp-build finds it in prebuilds/) means there is
// nothing to do. Otherwise the addon is built from source with cmake-js, which needs CMake and a C/C++
// compiler: when they are missing, this says so and how to get them, instead of failing deep inside
// cmake-js. The build's npm tools (cmake-js, node-addon-api) are dev dependencies; an installed package
// has none, so they are installed here, pinned, without running any package script. The C sources
// come from deps/enet/prepare.js. npm_config_build_from_source=true forces a source build.
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const pkg = require('../package.json');
const forceBuild = process.argv.includes('--from-source') || /^(1|true)$/i.test(process.env.npm_config_build_from_source || '');

function hasBinary() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

function found(command, args = ['--version']) {
  const run = spawnSync(command, args, { stdio: 'ignore', shell: process.platform === 'win32' });
  return run.error === undefined && run.status === 0;
}

// What a source build needs from the system, by the names it would be looked up by.
function missingBuildTools() {
  const missing = [];
  if (!found('cmake')) missing.push('cmake (3.15 or newer)');
  if (process.platform === 'win32') {
    const vswhere = path.join(process.env['ProgramFiles(x86)'] || 'C:\\Program Files (x86)', 'Microsoft Visual Studio', 'Installer', 'vswhere.exe');
    if (!fs.existsSync(vswhere) && !found('g++')) missing.push('a C/C++ compiler (Visual Studio Build Tools with "Desktop development with C++")');
  } else if (!['c++', 'g++', 'clang++'].some((cxx) => found(cxx)) || !['cc', 'gcc', 'clang'].some((cc) => found(cc))) {
    missing.push('a C/C++ compiler (cc and c++)');
  }
  return missing;
}

function explainMissingTools(missing) {
  const how = {
    linux: 'Debian/Ubuntu: sudo apt-get install cmake g++ make; Fedora: sudo dnf install cmake gcc-c++ make; Alpine: apk add cmake g++ make',
    darwin: 'xcode-select --install, then brew install cmake',
    win32: 'install CMake (cmake.org) and Visual Studio Build Tools, then open a new terminal',
  }[process.platform] || 'install CMake and a C/C++ compiler with your package manager';
  const prebuilds = path.join(root, 'prebuilds');
  const prebuilt = fs.existsSync(prebuilds)
    ? fs.readdirSync(prebuilds, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).join(', ') : 'none';
  const why = forceBuild ? 'a build from source was asked for (npm_config_build_from_source)'
    : `no prebuilt binary fits ${process.platform}-${process.arch} (Node ${process.version}; this package has: ${prebuilt})`;
  process.stderr.write(
    `\ngodot-enet: ${why},\nand building it from source needs ${missing.join(' and ')}, not found on PATH.\n` +
      `Fix: ${how}; then run "npm rebuild godot-enet".\n\n`,
  );
}

// cmake-js and node-addon-api at the versions the dev dependencies pin: from this checkout's
// node_modules, else installed into build-deps/ (an installed package has no dev dependencies).
const buildDeps = path.join(root, 'build-deps');
function ensureBuildTools() {
  const wanted = ['cmake-js', 'node-addon-api'].filter((name) => {
    try {
      const manifest = require.resolve(`${name}/package.json`, { paths: [root, buildDeps] });
      return require(manifest).version !== pkg.devDependencies[name];
    } catch {
      return true;
    }
  });
  if (wanted.length === 0) return;
  const specs = wanted.map((name) => `${name}@${pkg.devDependencies[name]}`);
  process.stderr.write(`godot-enet: installing the build tools ${specs.join(' ')} into ${buildDeps}\n`);
  fs.mkdirSync(buildDeps, { recursive: true });
  const { npm } = require('./npm-fetch');
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (/^npm_config_(global|location|prefix|save|package_lock|workspaces?|omit|include)/i.test(name)) delete env[name];
  npm(['install', '--prefix', buildDeps, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', ...specs],
    { cwd: buildDeps, stdio: 'inherit', env });
}

function main() {
  if (!forceBuild && hasBinary()) return;
  const missing = missingBuildTools();
  if (missing.length > 0) {
    explainMissingTools(missing);
    process.exit(1);
  }
  ensureBuildTools();
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js', { paths: [root, buildDeps] });
  // CMakeLists.txt asks node for node-addon-api's (and node-api-headers') location.
  const nodePath = [path.join(buildDeps, 'node_modules'), process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
  execFileSync(process.execPath, [cmakeJs, 'rebuild'], { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_PATH: nodePath } });
}

main();
