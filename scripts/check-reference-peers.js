#!/usr/bin/env node
'use strict';
// Run before the tests: the interop tests need real ENet peers from Debian (python3-enet, which links
// upstream libenet7). Installs them when we can (root with apt-get); otherwise says exactly what is
// missing. The tests never skip for lack of them: they fail.
const { execFileSync, spawnSync } = require('child_process');

const PYTHON = '/usr/bin/python3';
const PACKAGES = ['python3-enet'];

function haveEnet() {
  return spawnSync(PYTHON, ['-c', 'import enet'], { stdio: 'ignore' }).status === 0;
}

if (!haveEnet()) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  if (isRoot && hasApt) {
    console.log(`Installing reference peers for the interop tests: ${PACKAGES.join(' ')}`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-q', ...PACKAGES], { stdio: 'inherit', env });
  }
  if (!haveEnet()) {
    console.error(`The interop tests need Debian's ${PACKAGES.join(' ')} for ${PYTHON}: sudo apt-get install ${PACKAGES.join(' ')}`);
    process.exit(1);
  }
}
