#!/usr/bin/env node
/**
 * Runs the TypeScript tools without a build step: a require hook that transpiles `.ts` files with the
 * project's own `typescript` (type checking is left to tsc and ts-jest), so `tools/*.ts` can import
 * `src/*.ts` and `test/helpers/*.ts` directly, in this process and in forked children.
 *
 *   node tools/ts-run.js tools/reliability.ts [args...]   run a script
 *   node -r ./tools/ts-run.js some.ts                      preload the hook only
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

// Transpiled output is cached by content hash, so children that only load cached files never load
// typescript itself (which would add ~100 MB to the resident memory the tools measure).
const CACHE_DIR = path.join(os.tmpdir(), 'godot-enet-ts-run');
const CACHE_VERSION = '1';
let ts = null;

const options = () => ({
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  esModuleInterop: true,
  sourceMap: false,
  inlineSourceMap: true,
  inlineSources: false,
});

/** The transpiled JavaScript of a .ts file, from the cache when it has been transpiled before. */
function transpile(filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const key = crypto.createHash('sha1').update(CACHE_VERSION).update(filename).update(source).digest('hex');
  const cached = path.join(CACHE_DIR, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    if (ts === null) ts = require('typescript');
    const output = ts.transpileModule(source, { compilerOptions: options(), fileName: filename }).outputText;
    try {
      fs.mkdirSync(CACHE_DIR, { recursive: true });
      const tmp = `${cached}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, output);
      fs.renameSync(tmp, cached);
    } catch {
      // no cache: fine
    }
    return output;
  }
}

/**
 * Fills the cache for `entry` and every .ts file it imports by a relative path, without running them,
 * so that a child process started on it loads no typescript at all.
 */
function precompile(entry, seen = new Set()) {
  const file = path.resolve(entry);
  if (seen.has(file) || !fs.existsSync(file)) return;
  seen.add(file);
  transpile(file);
  const source = fs.readFileSync(file, 'utf8');
  for (const m of source.matchAll(/(?:from|require\()\s*'(\.{1,2}\/[^']+)'/g)) {
    const base = path.resolve(path.dirname(file), m[1]);
    for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
      if (fs.existsSync(candidate)) {
        precompile(candidate, seen);
        break;
      }
    }
  }
}

if (require.extensions && !require.extensions['.ts']) {
  require.extensions['.ts'] = function compileTs(module, filename) {
    module._compile(transpile(filename), filename);
  };
}

module.exports = { precompile, transpile };

if (require.main === module) {
  const script = process.argv[2];
  if (script === undefined) {
    console.error('usage: node tools/ts-run.js <script.ts> [args...]');
    process.exit(2);
  }
  const file = path.resolve(script);
  process.argv.splice(1, 2, file); // the script sees itself as argv[1], as with node <script>
  require(file);
}
