/**
 * Builds and runs test/native/compression-harness.c: deps/enet/compressors.c with the pinned zstd and
 * range coder sources (prepared and checksum-verified by deps/enet/prepare.js), compiled with
 * AddressSanitizer and UndefinedBehaviorSanitizer, outside Node (zlib from the system's libz.so.1, the
 * same API Node exports to the addon). Cached under build/compression-harness/<hash of the inputs>.
 */
import { execFile, execFileSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';

const run = promisify(execFile);

const ROOT = path.resolve(__dirname, '..', '..');
const HARNESS_C = path.join(ROOT, 'test', 'native', 'compression-harness.c');
const ENET_DIR = path.join(ROOT, 'deps', 'enet');
const NODE_INCLUDE = path.resolve(process.execPath, '..', '..', 'include', 'node');

const ZSTD_SOURCES = [
  'common/debug.c', 'common/entropy_common.c', 'common/error_private.c', 'common/fse_decompress.c', 'common/xxhash.c',
  'common/zstd_common.c', 'compress/fse_compress.c', 'compress/hist.c', 'compress/huf_compress.c', 'compress/zstd_compress.c',
  'compress/zstd_compress_literals.c', 'compress/zstd_compress_sequences.c', 'compress/zstd_compress_superblock.c',
  'compress/zstd_double_fast.c', 'compress/zstd_fast.c', 'compress/zstd_lazy.c', 'compress/zstd_ldm.c', 'compress/zstd_opt.c',
  'compress/zstd_preSplit.c', 'decompress/huf_decompress.c', 'decompress/zstd_ddict.c', 'decompress/zstd_decompress.c',
  'decompress/zstd_decompress_block.c',
];

const FLAGS = ['-std=c11', '-g', '-O1', '-fsanitize=address,undefined', '-fno-sanitize-recover=all', '-fno-omit-frame-pointer'];
const ZSTD_DEFINES = ['-DZSTD_DISABLE_ASM=1', '-DZSTD_LEGACY_SUPPORT=0', '-DZSTD_NO_TRACE=1'];

function key(): string {
  const hash = createHash('sha256');
  for (const file of [HARNESS_C, path.join(ENET_DIR, 'compressors.c'), path.join(ENET_DIR, 'compressors.h'),
    path.join(ENET_DIR, 'pins.json'), path.join(ENET_DIR, 'prepare.js'), __filename]) {
    hash.update(fs.readFileSync(file));
  }
  hash.update(FLAGS.join(' '));
  return hash.digest('hex').slice(0, 16);
}

/** Runs `jobs` with at most `limit` at once. */
async function pool<T>(jobs: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]();
    }
  }));
  return results;
}

let built: Promise<string> | null = null;

/** The path of the built harness (building it on first use; about a minute on two cores). */
export function harness(): Promise<string> {
  built ??= build();
  return built;
}

async function build(): Promise<string> {
  const dir = path.join(ROOT, 'build', 'compression-harness', key());
  const binary = path.join(dir, 'harness');
  if (fs.existsSync(binary)) return binary;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'compression-harness-'));
  try {
    const prepared = path.join(work, 'prepared');
    execFileSync(process.execPath, [path.join(ENET_DIR, 'prepare.js'), prepared], { stdio: 'pipe' });
    const zstdLib = path.join(prepared, 'zstd', 'lib');
    const units: Array<{ source: string; args: string[] }> = [
      { source: HARNESS_C, args: [`-I${ENET_DIR}`, `-I${path.join(prepared, 'zpl')}`] },
      { source: path.join(ENET_DIR, 'compressors.c'), args: [`-I${ENET_DIR}`, `-I${path.join(prepared, 'zpl')}`, `-I${zstdLib}`, `-I${NODE_INCLUDE}`, '-Wall', '-Wextra', '-Werror'] },
      // Upstream's range coder shifts a byte promoted to int left by 24 (`*inData++ << 24`): undefined
      // for bytes >= 0x80 in ISO C, well defined on every compiler ENet targets. Only that check is off
      // for that file; AddressSanitizer still covers all of it.
      { source: path.join(prepared, 'range-coder', 'compress.c'), args: [`-I${path.join(prepared, 'range-coder')}`, '-w', '-fno-sanitize=shift'] },
      ...ZSTD_SOURCES.map((s) => ({ source: path.join(zstdLib, s), args: [...ZSTD_DEFINES, '-w'] })),
    ];
    const objects = await pool(units.map((unit, i) => async () => {
      const object = path.join(work, `${i}.o`);
      await run('cc', [...FLAGS, ...unit.args, '-c', unit.source, '-o', object], { maxBuffer: 16 << 20 });
      return object;
    }), Math.max(2, os.cpus().length));
    const linked = path.join(work, 'harness');
    await run('cc', [...FLAGS, ...objects, '-o', linked, '-l:libz.so.1'], { maxBuffer: 16 << 20 });
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(linked, binary); // atomic: a concurrent build of the same key just replaces it
    return binary;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Runs the harness; resolves with stdout, rejects with stdout and stderr if it fails. */
export async function runHarness(args: string[], timeoutMs = 600000): Promise<string> {
  const binary = await harness();
  try {
    const { stdout } = await run(binary, args, {
      maxBuffer: 64 << 20, timeout: timeoutMs,
      env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' },
    });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${e.message}\n${e.stdout ?? ''}\n${(e.stderr ?? '').slice(0, 20000)}`);
  }
}
