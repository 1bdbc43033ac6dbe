'use strict';
// The prebuilt binaries godot-enet ships, and how each is made on a Linux x64 machine (Debian).
//
//   compiler   how CMake compiles for the target: the host's own (linux-x64), a Debian cross compiler,
//              or zig (from the npm registry) for macOS
//   strip      the strip program prebuildify runs on the result (--strip-all); for macOS, stripLocal
//              removes only the local symbols instead (backend.js)
//   apt        Debian packages that provide the compiler and strip
//   run        how scripts/prebuild/check.js runs Node on the target: the host's node, Node's arm64
//              binary under qemu-user, Node's Windows binary under wine; null for macOS (build-only:
//              check.js compares the binary's imports with what Node's macOS binary exports)
const path = require('path');

// macOS 11 or newer, compiled by zig; never run here.
function macOS(arch, processor, zig) {
  return {
    platform: 'darwin', arch,
    compiler: { system: 'Darwin', processor, zig },
    strip: null,
    stripLocal: 'llvm-strip',
    apt: ['llvm'],
    run: null,
  };
}

const TARGETS = {
  'linux-x64': {
    platform: 'linux', arch: 'x64', libc: 'glibc',
    compiler: null,
    strip: 'strip',
    apt: ['cmake', 'g++', 'make'],
    run: 'native',
  },
  'linux-arm64': {
    platform: 'linux', arch: 'arm64', libc: 'glibc',
    compiler: { system: 'Linux', processor: 'aarch64', cc: 'aarch64-linux-gnu-gcc', cxx: 'aarch64-linux-gnu-g++' },
    strip: 'aarch64-linux-gnu-strip',
    apt: ['gcc-aarch64-linux-gnu', 'g++-aarch64-linux-gnu', 'binutils-aarch64-linux-gnu'],
    run: 'qemu',
  },
  'win32-x64': {
    platform: 'win32', arch: 'x64',
    compiler: {
      system: 'Windows', processor: 'AMD64', cc: 'x86_64-w64-mingw32-gcc-posix', cxx: 'x86_64-w64-mingw32-g++-posix',
      extra: { CMAKE_RC_COMPILER: 'x86_64-w64-mingw32-windres', CMAKE_DLLTOOL: 'x86_64-w64-mingw32-dlltool' },
    },
    strip: 'x86_64-w64-mingw32-strip',
    apt: ['mingw-w64'],
    run: 'wine',
  },
  'darwin-x64': macOS('x64', 'x86_64', 'x86_64-macos.11.0'),
  'darwin-arm64': macOS('arm64', 'arm64', 'aarch64-macos.11.0'),
};

const ROOT = path.resolve(__dirname, '..', '..');
// Everything the prebuild makes besides prebuilds/: tools fetched from npm, one CMake tree per target.
const WORK = path.join(ROOT, 'build-prebuild');

module.exports = { TARGETS, ROOT, WORK };
