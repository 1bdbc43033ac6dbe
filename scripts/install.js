#!/usr/bin/env node
'use strict';
// npm install hook: use a prebuilt binary when one matches this platform (node-gyp-build finds it),
// otherwise build the addon from source with cmake-js. Set npm_config_build_from_source=true to force
// a source build.
const { execFileSync } = require('child_process');
const path = require('path');

const root = path.join(__dirname, '..');
const forceBuild = /^(1|true)$/i.test(process.env.npm_config_build_from_source || '');

function hasBinary() {
  try {
    require('node-gyp-build')(root);
    return true;
  } catch {
    return false;
  }
}

if (forceBuild || !hasBinary()) {
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  execFileSync(process.execPath, [cmakeJs, 'rebuild'], { cwd: root, stdio: 'inherit' });
}
