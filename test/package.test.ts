// The package as a user gets it: `npm run prebuild` for this machine (linux-x64), `npm pack`, then
// `npm install <tarball>` into a fresh project with cmake and every C/C++ compiler hidden from PATH.
// The install must take the prebuilt binary (no build, no compiler), a server/client exchange must run
// through the installed package, and TypeScript consumers (ESM under nodenext and bundler, CommonJS)
// must type-check with --strict and tsc's default target against the shipped declarations.
import { execFileSync, spawnSync } from 'child_process';
import fs from 'fs';
import os from 'os';
import path from 'path';
import { REPO_ROOT } from './helpers/loopback';

const TSC = path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'godot-enet-package-'));
const project = path.join(work, 'project');
// node and npm only: no cmake, cc, c++, gcc, g++, clang, make.
const bin = path.join(work, 'bin');
let tarball = '';
let installSeconds = 0;

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 300000 });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

const hiddenPath = () => ({ ...process.env, PATH: bin, npm_config_build_from_source: '' });

beforeAll(() => {
  const prebuild = run(process.execPath, [path.join(REPO_ROOT, 'scripts', 'prebuild', 'prebuild.js'), '--target', 'linux-x64'], REPO_ROOT);
  if (prebuild.status !== 0) throw new Error(`npm run prebuild -- --target linux-x64 failed:\n${prebuild.output}`);
  console.log(prebuild.output.split('\n').filter((line) => line.startsWith('prebuild') || line.includes('KiB')).join('\n'));

  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work],
    { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }));
  tarball = path.join(work, packed.filename);
  console.log(`npm pack: ${packed.filename}, ${(packed.size / 1024).toFixed(0)} KiB packed, ${packed.entryCount} files`);

  fs.mkdirSync(bin);
  for (const tool of ['node', 'npm', 'sh']) {
    const where = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    fs.symlinkSync(fs.realpathSync(where), path.join(bin, tool));
  }
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
}, 300000);

afterAll(() => {
  fs.rmSync(work, { recursive: true, force: true });
});

test('the tarball ships the prebuilt binary, the declarations, LICENSE and source maps with their sources, and no sources or tests', () => {
  const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).split('\n').filter(Boolean);
  expect(files).toContain('package/prebuilds/linux-x64/godot-enet.glibc.node');
  expect(files).toContain('package/LICENSE');
  expect(files).toContain('package/dist/index.d.ts');
  expect(files).toContain('package/dist/index.mjs');
  expect(files.filter((f) => /^package\/(src|test|tools|bench|examples|build)\//.test(f))).toEqual([]);
  const maps = files.filter((f) => f.endsWith('.js.map'));
  expect(maps.length).toBeGreaterThan(0);
  const extracted = path.join(work, 'extracted');
  fs.mkdirSync(extracted);
  execFileSync('tar', ['-xzf', tarball, '-C', extracted]);
  for (const map of maps) {
    const { sources, sourcesContent } = JSON.parse(fs.readFileSync(path.join(extracted, map), 'utf8'));
    // Every source a map names is inside the map itself (the .ts files are not shipped).
    expect(sourcesContent?.length).toBe(sources.length);
  }
  const declarations = files.filter((f) => f.endsWith('.d.ts'));
  for (const file of declarations) expect(fs.readFileSync(path.join(extracted, file), 'utf8')).not.toMatch(/^\s*#private;/m);
});

test('npm install <tarball> with cmake and the compilers hidden from PATH takes the prebuilt binary', () => {
  for (const tool of ['cmake', 'cc', 'c++', 'gcc', 'g++', 'clang', 'make']) {
    expect(run('sh', ['-c', `command -v ${tool}`], project, hiddenPath()).status).not.toBe(0);
  }
  const started = Date.now();
  const install = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project, hiddenPath());
  installSeconds = (Date.now() - started) / 1000;
  console.log(`npm install <tarball> with the compilers hidden: ${installSeconds.toFixed(1)} s\n${install.output}`);
  expect(install.status).toBe(0);
  const installed = path.join(project, 'node_modules', 'godot-enet');
  expect(fs.existsSync(path.join(installed, 'build'))).toBe(false); // nothing was compiled
  const packages = fs.readdirSync(path.join(project, 'node_modules')).filter((name) => !name.startsWith('.'));
  expect(packages.sort()).toEqual(['godot-enet', 'node-gyp-build']); // the build tools are not installed
}, 300000);

test('a server/client exchange runs through the installed package (every compression mode, ENetMultiplayerPeer)', () => {
  const exchange = run(process.execPath, [path.join(REPO_ROOT, 'scripts', 'prebuild', 'exchange.js'),
    path.join(project, 'node_modules', 'godot-enet')], project, hiddenPath());
  console.log(exchange.output);
  expect(exchange.status).toBe(0);
  expect(exchange.output).toMatch(/^exchange: OK linux-x64$/m);
}, 300000);

describe('TypeScript consumers type-check with --strict and the default target', () => {
  const USE = `
const server = new ENetMultiplayerPeer({ autoPoll: true });
const result: GodotError = server.createServer(7777, 32);
server.on('peer_connected', (id: number) => console.log(id, result === GodotError.OK));
const connection: ENetConnection | null = server.host;
const mode: TransferMode = MultiplayerPeer.TRANSFER_MODE_RELIABLE;
const bytes: Buffer = varToBytes(new Vector2(1, 2));
export { connection, mode, bytes };
`;
  const IMPORTS = "{ ENetMultiplayerPeer, ENetConnection, GodotError, MultiplayerPeer, TransferMode, Vector2, varToBytes } from 'godot-enet'";

  beforeAll(() => {
    // A Node project has Node's types; the consumer gets the same version as this repository.
    const types = path.join(project, 'node_modules', '@types');
    fs.mkdirSync(types, { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules', '@types', 'node'), path.join(types, 'node'));
    fs.writeFileSync(path.join(project, 'esm.mts'), `import ${IMPORTS};\n${USE}`);
    fs.writeFileSync(path.join(project, 'bundler.ts'), `import ${IMPORTS};\n${USE}`);
    fs.writeFileSync(path.join(project, 'cjs.ts'), `import ${IMPORTS};\n${USE}`);
    fs.writeFileSync(path.join(project, 'require.cts'), [
      "import enet = require('godot-enet');",
      'const server = new enet.ENetMultiplayerPeer({ flush: "tick" });',
      'const result: enet.GodotError = server.createServer(7777);',
      'const connection: enet.ENetConnection | null = server.host;',
      'const mode: enet.TransferMode = enet.MultiplayerPeer.TRANSFER_MODE_UNRELIABLE;',
      'export = { result, connection, mode };',
    ].join('\n'));
  });

  const tsc = (args: string[]) => {
    const result = run(process.execPath, [TSC, '--strict', '--noEmit', ...args], project);
    return result.status === 0 ? 'ok' : result.output;
  };

  test('ESM: a .mts file under module/moduleResolution nodenext', () => {
    expect(tsc(['--module', 'nodenext', '--moduleResolution', 'nodenext', 'esm.mts'])).toBe('ok');
  }, 60000);

  test('ESM: moduleResolution bundler (module esnext, default target)', () => {
    expect(tsc(['--module', 'esnext', '--moduleResolution', 'bundler', 'bundler.ts'])).toBe('ok');
  }, 60000);

  test('CommonJS: module commonjs (default resolution and target), and import = require under nodenext', () => {
    expect(tsc(['--module', 'commonjs', 'cjs.ts'])).toBe('ok');
    expect(tsc(['--module', 'nodenext', '--moduleResolution', 'nodenext', 'require.cts'])).toBe('ok');
  }, 60000);
});

test('where no prebuilt binary fits and the build tools are missing, install and require say what to do', () => {
  const installed = path.join(project, 'node_modules', 'godot-enet');
  fs.rmSync(path.join(installed, 'prebuilds', 'linux-x64'), { recursive: true });
  const rebuild = run('npm', ['rebuild', 'godot-enet'], project, hiddenPath());
  expect(rebuild.status).not.toBe(0);
  expect(rebuild.output).toContain('godot-enet: no prebuilt binary fits linux-x64');
  expect(rebuild.output).toContain('building it from source needs cmake (3.15 or newer) and a C/C++ compiler (cc and c++), not found on PATH');
  expect(rebuild.output).toContain('Fix: Debian/Ubuntu: sudo apt-get install cmake g++ make');
  expect(rebuild.output).not.toMatch(/cmake-js|\n\s+at /); // godot-enet's words, not a build tool's stack trace

  const load = run(process.execPath, ['-e', "require('godot-enet')"], project, hiddenPath());
  expect(load.status).not.toBe(0);
  expect(load.output).toContain('godot-enet: no native addon for linux-x64');
  expect(load.output).toContain('Install CMake and a C/C++ compiler, then run "npm rebuild godot-enet"');
}, 300000);
