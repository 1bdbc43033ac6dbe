#!/usr/bin/env node
'use strict';
// Run before the tests: the interop tests need real ENet peers from Debian (python3-enet, which links
// upstream libenet7, and godot3-server, a real Godot 3.2.3 for the compression and DTLS interop), chromium,
// which runs the Godot 4.6 web template of the oracle tests (test/godot4/), and the openssl CLI, which
// makes the DTLS tests' certificates. Installs them when we can (root with apt-get); otherwise says
// exactly what is missing. The tests never skip for lack of them: they fail.
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');

const PYTHON = '/usr/bin/python3';
const GODOT3 = '/usr/bin/godot3-server';
const CHROMIUM = '/usr/bin/chromium';
const PACKAGES = ['python3-enet', 'godot3-server', 'chromium', 'openssl'];

function haveEnet() {
  return spawnSync(PYTHON, ['-c', 'import enet'], { stdio: 'ignore' }).status === 0;
}

// godot3-server --version prints "3.2.3.stable..." and exits with 255.
function haveGodot3() {
  const r = spawnSync(GODOT3, ['--version'], { encoding: 'utf8' });
  return r.error === undefined && /^3\.2\./m.test(r.stdout || '');
}

function haveOpenssl() {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

function haveAll() {
  return haveEnet() && haveGodot3() && fs.existsSync(CHROMIUM) && haveOpenssl();
}

if (!haveAll()) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    console.log(`Installing reference peers for the interop tests: ${PACKAGES.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-q', ...PACKAGES], { stdio: 'inherit', env });
  }
  if (!haveAll()) {
    console.error(`The interop tests need Debian's ${PACKAGES.join(' ')} (${PYTHON} with enet, ${GODOT3}, ${CHROMIUM}, openssl): sudo apt-get install ${PACKAGES.join(' ')}`);
    process.exit(1);
  }
}
