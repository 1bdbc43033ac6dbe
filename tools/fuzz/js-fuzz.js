#!/usr/bin/env node
/**
 * Coverage-guided fuzzing of our TypeScript on V8's own block coverage: a small libFuzzer-style loop in
 * plain Node, shared by every JS target. No JS fuzzer with native parts installs here (@jazzer.js/core
 * 4.0.0 installs, but its prebuilt addon needs glibc 2.38 and Debian 12 has 2.36; older versions
 * download binaries at install time).
 *
 *  - coverage: node:inspector's Profiler.startPreciseCoverage({ callCount: true, detailed: true }) on
 *    the target's `watched` scripts; a feature is a block (script, start, end) reached, or reached with
 *    a new hit-count bucket (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+), as libFuzzer's;
 *  - corpus: the seeds, then every input that adds a feature; mutants are run in batches and a batch
 *    with new coverage is replayed one by one to find who brought it;
 *  - mutations: generic byte mutations (mutations.js: bit flips, random bytes, inserts, deletes, chunk copies,
 *    splices with another corpus entry, truncation, boundary 32-bit values) plus the target's own
 *    (`byteMutations`), or the target's structure-aware `mutate`;
 *  - checks: the target's `check(input, fail)`; `fail(message)` records a crash (deduplicated by
 *    message shape, inputs saved in --crashes with a .txt beside them), as does a check that throws or
 *    takes longer than --time-limit ms. A watchdog in the main thread catches a check that never returns.
 *
 * A target is a module (JS, or TS through tools/ts-run.js) exporting:
 *   watched: string[]            absolute paths of the scripts whose blocks are the coverage
 *   coverage: string             what that is, for the results
 *   maxLen: number               default --max-len
 *   timeLimit?: number           default --time-limit (ms; the engine's default is 200)
 *   makeSeeds(dir): number       writes the seed corpus
 *   check(input, fail): void     runs one input and checks it
 *   byteMutations?: ((b, m) => Buffer)[]   extra byte-level mutations
 *   mutate?(parent, m): Buffer   structure-aware mutation (m.mutateBytes does the byte-level ones)
 *   stats?(): object             figures of its own for the results (packets fed, drops, ...)
 *
 * Usage: node tools/fuzz/js-fuzz.js <target> [--seconds N] [--seeds DIR] [--corpus DIR] [--crashes DIR]
 *          [--json FILE] [--max-len N] [--time-limit MS] [--make-seeds DIR] [--replay FILE...]
 * Targets: variant (variant-target.js, decodeVariant), scene (scene-target.ts, SceneMultiplayer's
 * receive path). Exit status 1 if any check failed.
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { fileURLToPath } = require('url');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');
const { byteMutator } = require('./mutations.js');
const { parseCli, integer, number } = require('../cli');

const TARGETS = {
  variant: path.join(__dirname, 'variant-target.js'),
  scene: path.join(__dirname, 'scene-target.ts'),
};

function loadTarget(name) {
  const file = TARGETS[name];
  if (file === undefined) {
    console.error(`js-fuzz: unknown target "${name}" (${Object.keys(TARGETS).join(', ')})`);
    process.exit(2);
  }
  if (file.endsWith('.ts')) require('../ts-run.js');
  return require(file);
}

function parseArguments(argv) {
  const o = parseCli(`node tools/fuzz/js-fuzz.js <${Object.keys(TARGETS).join('|')}>`, 'Coverage-guided fuzzing of a JavaScript target (see the header of this file).', {
    _positionals: { value: '' },
    seconds: { value: 'N', help: 'how long to fuzz', default: 60, parse: number(0) },
    seeds: { value: 'DIR', help: 'seed inputs (default: tools/fuzz/corpus/<target>)' },
    corpus: { value: 'DIR', help: 'where inputs that add coverage are kept' },
    crashes: { value: 'DIR', help: 'where failing inputs are saved' },
    json: { value: 'FILE', help: 'a JSON summary of the run' },
    'max-len': { value: 'N', help: "longest input (default: the target's)", parse: integer(1) },
    'time-limit': { value: 'MS', help: "longest a call may take (default: the target's)", parse: integer(1) },
    'make-seeds': { value: 'DIR', help: 'only write the seed inputs into DIR' },
    replay: { value: 'FILE', multiple: true, help: 'only run these inputs (repeatable)' },
  }, argv);
  const target = o._positionals[0];
  if (o._positionals.length !== 1 || TARGETS[target] === undefined) {
    console.error(`js-fuzz: name one target, ${Object.keys(TARGETS).join(' or ')} (see --help)`);
    process.exit(2);
  }
  return { target, seconds: o.seconds, seeds: o.seeds ?? path.join(__dirname, 'corpus', target), corpus: o.corpus ?? null,
    crashes: o.crashes ?? null, json: o.json ?? null, maxLen: o['max-len'] ?? null, timeLimit: o['time-limit'] ?? null,
    makeSeeds: o['make-seeds'] ?? null, replay: o.replay ?? [] };
}

// ---------------------------------------------------------------------------------------------
// The fuzzing worker

function worker() {
  const inspector = require('inspector');
  const opts = workerData.opts;
  const target = loadTarget(opts.target);
  const maxLen = opts.maxLen ?? target.maxLen ?? 8192;
  const timeLimit = opts.timeLimit ?? target.timeLimit ?? 200;
  const shared = new Int32Array(workerData.shared); // [0] heartbeat, [1] stop flag, [2] current input length
  const current = new Uint8Array(workerData.currentInput);
  const now = () => Number(process.hrtime.bigint() / 1000000n); // targets may fake Date.now

  const session = new inspector.Session();
  session.connect();
  function post(method, params) {
    let result, error, done = false;
    session.post(method, params || {}, (e, r) => { error = e; result = r; done = true; });
    if (!done) throw new Error(`inspector ${method} did not answer synchronously`);
    if (error) throw error;
    return result;
  }
  post('Profiler.enable');
  post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
  const watched = new Map(target.watched.map((f, i) => [path.resolve(f), i]));
  const scriptIndex = (url) => watched.get(url.startsWith('file:') ? fileURLToPath(url) : url);

  const seenBlocks = new Set(); // every block V8 reported for the watched scripts
  const coveredBlocks = new Set();
  const features = new Set();
  function bucket(n) {
    return n >= 128 ? 8 : n >= 32 ? 7 : n >= 16 ? 6 : n >= 8 ? 5 : n >= 4 ? 4 : n;
  }
  /** New features since the last take (and records them when `commit`). */
  function takeCoverage(commit) {
    const { result } = post('Profiler.takePreciseCoverage');
    const fresh = [];
    for (const script of result) {
      const which = scriptIndex(script.url);
      if (which === undefined) continue;
      for (const fn of script.functions) {
        for (const r of fn.ranges) {
          const key = `${which}:${r.startOffset}:${r.endOffset}`;
          seenBlocks.add(key);
          if (r.count === 0) continue;
          if (!coveredBlocks.has(key)) fresh.push(key);
          const f = `${key}#${bucket(r.count)}`;
          if (!features.has(f)) fresh.push(f);
        }
      }
    }
    if (commit) for (const f of fresh) { features.add(f); if (!f.includes('#')) coveredBlocks.add(f); }
    return fresh;
  }

  // --- crashes
  const crashes = new Map(); // signature -> count
  let crashCount = 0;
  function crash(input, message) {
    const signature = message.replace(/\d+/g, 'N').slice(0, 120);
    const seen = crashes.get(signature) || 0;
    crashes.set(signature, seen + 1);
    if (seen === 0) {
      crashCount++;
      parentPort.postMessage({ type: 'crash', message });
    }
    if (seen < 5 && opts.crashes) {
      const name = `crash-${crypto.createHash('sha1').update(input).digest('hex')}`;
      fs.writeFileSync(path.join(opts.crashes, name), input);
      fs.writeFileSync(path.join(opts.crashes, `${name}.txt`), `${message}\n`);
    }
  }

  // --- mutations
  let rngState = BigInt(workerData.seed) | 1n;
  function rnd(n) { // xorshift64*
    rngState ^= rngState >> 12n; rngState ^= (rngState << 25n) & 0xffffffffffffffffn; rngState ^= rngState >> 27n;
    const x = (rngState * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn;
    return Number((x >> 11n) % BigInt(n));
  }
  const corpus = [];
  const pick = () => corpus[rnd(corpus.length)];
  const m = byteMutator(rnd, pick, target.byteMutations || []);
  function mutate(parent) {
    const b = target.mutate ? target.mutate(parent, m) : m.mutateBytes(parent);
    return b.length > maxLen ? b.subarray(0, maxLen) : b;
  }

  // --- running one input
  function setCurrent(input) {
    const n = Math.min(input.length, current.length);
    current.set(input.subarray(0, n));
    Atomics.store(shared, 2, n);
  }
  function run(input) {
    setCurrent(input);
    const t0 = process.hrtime.bigint();
    try {
      target.check(input, (message) => crash(input, message));
    } catch (e) {
      crash(input, `check threw: ${e && e.stack ? e.stack.split('\n').slice(0, 5).join(' | ') : e}`);
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (ms > timeLimit) crash(input, `check took ${ms.toFixed(0)} ms on ${input.length} bytes`);
    Atomics.add(shared, 0, 1);
  }

  function addToCorpus(input) {
    corpus.push(input);
    if (opts.corpus) fs.writeFileSync(path.join(opts.corpus, crypto.createHash('sha1').update(input).digest('hex')), input);
  }
  const targetStats = () => (target.stats ? target.stats() : {});

  // --- replay mode: just check the given files
  if (opts.replay.length) {
    for (const f of opts.replay) run(fs.readFileSync(f));
    parentPort.postMessage({ type: 'done', stats: { executions: opts.replay.length, crashes: crashCount, ...targetStats() } });
    return;
  }

  // --- load seeds and the saved corpus; keep what adds coverage
  const initial = [];
  for (const dir of [opts.seeds, opts.corpus]) {
    if (!dir || !fs.existsSync(dir)) continue;
    for (const f of fs.readdirSync(dir).sort()) initial.push(fs.readFileSync(path.join(dir, f)));
  }
  takeCoverage(false); // discard what loading did
  let executions = 0;
  for (const input of initial) {
    run(input);
    executions++;
    if (takeCoverage(true).length > 0) corpus.push(input);
  }
  if (corpus.length === 0) corpus.push(Buffer.alloc(4));
  const initialCorpus = corpus.length;

  const BATCH = 64;
  const started = now();
  let lastStatus = started;
  const status = () => `#${executions} blocks: ${coveredBlocks.size}/${seenBlocks.size} ft: ${features.size} corp: ${corpus.length} ` +
    `exec/s: ${Math.round(executions / Math.max(0.001, (now() - started) / 1000))} crashes: ${crashCount}`;
  while (Atomics.load(shared, 1) === 0) {
    const batch = [];
    for (let i = 0; i < BATCH; i++) {
      const input = mutate(pick());
      batch.push(input);
      run(input);
    }
    executions += BATCH;
    if (takeCoverage(false).length > 0) {
      for (const input of batch) { // who brought it?
        run(input);
        executions++;
        if (takeCoverage(true).length > 0) addToCorpus(input);
      }
    }
    if (now() - lastStatus > 10000) {
      lastStatus = now();
      parentPort.postMessage({ type: 'status', text: status() });
    }
  }
  post('Profiler.stopPreciseCoverage');
  session.disconnect();
  parentPort.postMessage({ type: 'done', stats: {
    executions, blocksCovered: coveredBlocks.size, blocksTotal: seenBlocks.size, features: features.size,
    corpus: `${corpus.length} (${initialCorpus} from seeds and saved corpus)`, crashes: crashCount,
    execPerSec: Math.round(executions / ((now() - started) / 1000)), coverage: target.coverage, ...targetStats(),
  } });
}

// ---------------------------------------------------------------------------------------------
// The main thread: starts the worker, watches it for hangs, writes the results.

function main() {
  const opts = parseArguments(process.argv.slice(2));
  const target = loadTarget(opts.target);
  if (opts.makeSeeds) {
    const n = target.makeSeeds(opts.makeSeeds);
    console.log(`js-fuzz ${opts.target}: wrote ${n} seeds to ${opts.makeSeeds}`);
    return;
  }
  for (const d of [opts.corpus, opts.crashes]) if (d) fs.mkdirSync(d, { recursive: true });
  const shared = new SharedArrayBuffer(12);
  const currentInput = new SharedArrayBuffer((opts.maxLen ?? target.maxLen ?? 8192) + 64 * 1024);
  const state = new Int32Array(shared);
  const w = new Worker(__filename, { workerData: { opts, shared, currentInput, seed: String(Date.now()) } });
  let finished = false, stats = null, crashes = 0, peakRss = 0;
  const messages = [];
  w.on('message', (msg) => {
    if (msg.type === 'status') console.log(msg.text);
    else if (msg.type === 'crash') { crashes++; messages.push(msg.message); console.log(`CRASH: ${msg.message}`); }
    else if (msg.type === 'done') { stats = msg.stats; finished = true; }
  });
  w.on('error', (e) => {
    crashes++;
    messages.push(`worker died: ${e && e.stack ? e.stack : e}`);
    console.log(`CRASH: worker died: ${e && e.stack ? e.stack : e}`);
    saveCurrent('worker-died');
  });
  function saveCurrent(kind) {
    if (!opts.crashes) return;
    const n = Atomics.load(state, 2);
    const input = Buffer.from(new Uint8Array(currentInput, 0, n));
    const name = `${kind}-${crypto.createHash('sha1').update(input).digest('hex')}`;
    fs.writeFileSync(path.join(opts.crashes, name), input);
  }
  let lastBeat = -1, stalledSince = Date.now();
  const deadline = Date.now() + opts.seconds * 1000;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const beat = Atomics.load(state, 0);
    if (beat !== lastBeat) { lastBeat = beat; stalledSince = Date.now(); }
    if (Date.now() >= deadline) Atomics.store(state, 1, 1);
    if (!finished && Date.now() - stalledSince > Math.max(10000, (opts.timeLimit ?? target.timeLimit ?? 200) * 20)) {
      crashes++;
      messages.push('hang: a check did not return for 10 s');
      console.log('CRASH: hang: a check did not return for 10 s; input saved');
      saveCurrent('hang');
      w.terminate();
      finished = true;
    }
  }, 250);
  w.on('exit', () => {
    clearInterval(timer);
    peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
    const result = { ...(stats || {}), crashes, crashMessages: messages, peakRssMb: Math.round(peakRss / 1048576),
      seconds: opts.seconds };
    if (opts.json) fs.writeFileSync(opts.json, JSON.stringify(result, null, 2));
    console.log(`${opts.target}: ${JSON.stringify(result)}`);
    process.exitCode = crashes > 0 ? 1 : 0;
  });
}

if (isMainThread) main();
else worker();
