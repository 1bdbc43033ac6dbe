#!/usr/bin/env node
/**
 * Coverage-guided fuzzer for decodeVariant (src/variant/marshalls.ts, Godot's binary Variant format), on V8's
 * own block coverage: no JS fuzzer with native parts installs here (@jazzer.js/core 4.0.0 installs, but
 * its prebuilt addon needs glibc 2.38 and Debian 12 has 2.36; older versions download binaries at
 * install time), so this is a small libFuzzer-style loop in plain Node:
 *
 *  - coverage: node:inspector's Profiler.startPreciseCoverage({ callCount: true, detailed: true }) on
 *    dist/variant/marshalls.js and dist/variant/types.js; a feature is a block (script, start, end) reached,
 *    or reached with a new hit-count bucket (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+), as libFuzzer's;
 *  - corpus: the seeds (tools/fuzz/corpus/variant/), then every input that adds a feature; mutants are
 *    run in batches and a batch with new coverage is replayed one by one to find who brought it;
 *  - mutations: bit flips, random bytes, byte inserts and deletes, chunk copies, splices with another
 *    corpus entry, truncation, type-id and flag mutations on 4-byte-aligned headers, length/count
 *    fields set to boundary values (0, 1, -1, 2^31-1, 2^31, what is left, ...), nested container
 *    headers (depth), and fragments of valid encodings;
 *  - checks, on every input with allowObjects false and true: decodeVariant never throws and never
 *    reaches its "unexpected" catch-all (reported through setErrorReporter); an error result has value
 *    null and length 0; an OK result has 0 < length <= input length; the decoded value is bounded by
 *    its input (at most one value per 4 input bytes, typed-array and string payload at most the input
 *    size, so nothing is allocated that the input did not pay for); each call returns within
 *    --time-limit ms (and a watchdog in the main thread catches a call that never returns); and a
 *    decoded value re-encodes (encodeVariant OK), decodes again, and re-encodes to the same bytes
 *    (or, where only NaN payload bits differ, to bytes that decode to the same value).
 *
 * Usage: node tools/fuzz/variant-fuzz.js [--seconds N] [--seeds DIR] [--corpus DIR] [--crashes DIR]
 *          [--json FILE] [--max-len N] [--time-limit MS] [--make-seeds DIR] [--replay FILE]...
 * Needs the compiled TypeScript (npx tsc -p tsconfig.json): it loads dist/variant/marshalls.js.
 * Exit status 1 if any check failed; each failing input is saved in --crashes with a .txt beside it.
 */
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { isDeepStrictEqual } = require('util');
const { parseCli, integer, number } = require('../cli');
const { Worker, isMainThread, parentPort, workerData } = require('worker_threads');

const ROOT = path.resolve(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist');

function parseArguments(argv) {
  const o = parseCli('node tools/fuzz/variant-fuzz.js', 'Coverage-guided fuzzing of decodeVariant (needs the compiled TypeScript in dist/).', {
    seconds: { value: 'N', help: 'how long to fuzz', default: 60, parse: number(0) },
    seeds: { value: 'DIR', help: 'seed inputs', default: path.join(__dirname, 'corpus', 'variant') },
    corpus: { value: 'DIR', help: 'where inputs that add coverage are kept' },
    crashes: { value: 'DIR', help: 'where failing inputs are saved' },
    json: { value: 'FILE', help: 'a JSON summary of the run' },
    'max-len': { value: 'N', help: 'longest input', default: 8192, parse: integer(1) },
    'time-limit': { value: 'MS', help: 'longest a decode may take', default: 200, parse: integer(1) },
    'make-seeds': { value: 'DIR', help: 'only write the seed inputs into DIR' },
    replay: { value: 'FILE', multiple: true, help: 'only run these inputs (repeatable)' },
  }, argv);
  return { seconds: o.seconds, seeds: o.seeds, corpus: o.corpus ?? null, crashes: o.crashes ?? null, json: o.json ?? null,
    maxLen: o['max-len'], timeLimit: o['time-limit'], makeSeeds: o['make-seeds'] ?? null, replay: o.replay ?? [] };
}

function loadVariant() {
  const file = path.join(DIST, 'variant', 'marshalls.js');
  if (!fs.existsSync(file)) {
    console.error('variant-fuzz: dist/variant/marshalls.js is missing; run `npx tsc -p tsconfig.json` first');
    process.exit(2);
  }
  return { variant: require(file), errors: require(path.join(DIST, 'core', 'errors.js')) };
}

// ---------------------------------------------------------------------------------------------
// Seeds: valid encodings of every type, a few nested and typed containers.

function makeSeeds(dir) {
  const { variant: V } = loadVariant();
  const seeds = {
    nil: null, bool: true, int32: 7, int64: 2 ** 40, bigint: -(2n ** 62n), float32: V.float(0.5), float64: 0.1,
    string: 'héllo wörld', emptyString: '', stringName: new V.StringName('player'),
    nodePath: V.NodePath ? new V.NodePath(['root', 'Player'], ['position', 'x'], true) : null,
    vector2: new V.Vector2(1, 2), vector2i: new V.Vector2i(3, 4), rect2: new V.Rect2(new V.Vector2(1, 2), new V.Vector2(3, 4)),
    rect2i: new V.Rect2i(new V.Vector2i(1, 2), new V.Vector2i(3, 4)), vector3: new V.Vector3(1, 2, 3), vector3i: new V.Vector3i(1, 2, 3),
    transform2d: new V.Transform2D(new V.Vector2(1, 0), new V.Vector2(0, 1), new V.Vector2(5, 6)),
    vector4: new V.Vector4(1, 2, 3, 4), vector4i: new V.Vector4i(1, 2, 3, 4),
    plane: new V.Plane(new V.Vector3(0, 1, 0), 2), quaternion: new V.Quaternion(0, 0, 0, 1),
    aabb: new V.AABB(new V.Vector3(0, 0, 0), new V.Vector3(1, 1, 1)),
    basis: new V.Basis(new V.Vector3(1, 0, 0), new V.Vector3(0, 1, 0), new V.Vector3(0, 0, 1)),
    transform3d: new V.Transform3D(new V.Basis(new V.Vector3(1, 0, 0), new V.Vector3(0, 1, 0), new V.Vector3(0, 0, 1)), new V.Vector3(1, 2, 3)),
    projection: new V.Projection(new V.Vector4(1, 0, 0, 0), new V.Vector4(0, 1, 0, 0), new V.Vector4(0, 0, 1, 0), new V.Vector4(0, 0, 0, 1)),
    color: new V.Color(1, 0.5, 0.25, 1), rid: new V.RID(12345n), objectId: new V.ObjectId(99n),
    callable: new V.Callable(), signal: new V.Signal('hit', 5n),
    dictionary: new Map([['a', 1], [2, [true, null]], ['nested', new Map([['x', new V.Vector2(1, 2)]])]]),
    array: [1, 'two', 3.5, [4, [5, [6]]], new Map()],
    typedArray: new V.TypedArray({ type: V.VariantType.INT }, [1, 2, 3]),
    typedDict: new V.TypedDictionary({ type: V.VariantType.STRING }, { type: V.VariantType.FLOAT }, [['a', V.float(1)]]),
    bytes: Buffer.from([1, 2, 3, 4, 5]), int32s: new Int32Array([1, -2, 3]), int64s: new BigInt64Array([1n, -2n]),
    float32s: new Float32Array([1.5, -2]), float64s: new Float64Array([0.1, 0.2]),
    strings: new V.PackedStringArray(['a', 'bc', '']), vector2s: new V.PackedVector2Array([new V.Vector2(1, 2)]),
    vector3s: new V.PackedVector3Array([new V.Vector3(1, 2, 3)]), colors: new V.PackedColorArray([new V.Color(1, 1, 1, 1)]),
    vector4s: new V.PackedVector4Array([new V.Vector4(1, 2, 3, 4)]),
    object: new V.GodotObject('Node2D', new Map([['name', 'n'], ['position', new V.Vector2(1, 1)]])),
  };
  fs.mkdirSync(dir, { recursive: true });
  let written = 0;
  for (const [name, value] of Object.entries(seeds)) {
    if (value === null && name !== 'nil') continue;
    let r;
    try {
      r = V.encodeVariant(value, true);
    } catch (e) {
      console.error(`variant-fuzz: seed ${name} does not encode: ${e}`);
      continue;
    }
    if (r.error !== 0) { console.error(`variant-fuzz: seed ${name}: error ${r.error}`); continue; }
    fs.writeFileSync(path.join(dir, name), r.bytes);
    written++;
  }
  // Hand-made: nested arrays near the depth limit, and a dictionary whose count lies.
  const deep = Buffer.alloc(8 * 1030 + 4);
  for (let i = 0; i < 1030; i++) { deep.writeUInt32LE(28, 8 * i); deep.writeUInt32LE(1, 8 * i + 4); }
  fs.writeFileSync(path.join(dir, 'deep-arrays'), deep);
  const lying = Buffer.alloc(16);
  lying.writeUInt32LE(27, 0); lying.writeUInt32LE(0x7fffffff, 4); lying.writeUInt32LE(2, 8); lying.writeUInt32LE(5, 12);
  fs.writeFileSync(path.join(dir, 'dictionary-count-lies'), lying);
  return written + 2;
}

// ---------------------------------------------------------------------------------------------
// The fuzzing worker

function worker() {
  const inspector = require('inspector');
  const opts = workerData.opts;
  const shared = new Int32Array(workerData.shared); // [0] heartbeat, [1] stop flag, [2] current input length
  const current = new Uint8Array(workerData.currentInput);
  const { variant: V, errors } = loadVariant();
  let reported = [];
  errors.setErrorReporter((message) => reported.push(message));

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
  const WATCHED = [path.join(DIST, 'variant', 'marshalls.js'), path.join(DIST, 'variant', 'types.js')].map((f) => require('url').pathToFileURL(f).href);

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
      const which = WATCHED.indexOf(script.url);
      if (which < 0) continue;
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

  // --- checks
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

  function measure(value, budget) {
    // Values and payload bytes, walking the decoded tree (cycle-free: decode builds trees).
    let values = 0, bytes = 0;
    const stack = [value];
    while (stack.length) {
      const v = stack.pop();
      values++;
      if (values > budget.values) return { values, bytes };
      if (v === null || typeof v !== 'object') {
        if (typeof v === 'string') bytes += v.length;
        continue;
      }
      if (ArrayBuffer.isView(v)) { bytes += v.byteLength; continue; }
      if (v instanceof Map) { for (const [k, x] of v) stack.push(k, x); values--; continue; }
      if (Array.isArray(v)) { for (const x of v) stack.push(x); continue; }
      if (v instanceof V.PackedStringArray || v instanceof V.PackedVector2Array || v instanceof V.PackedVector3Array ||
          v instanceof V.PackedColorArray || v instanceof V.PackedVector4Array) {
        for (const x of v.values) stack.push(x);
        continue;
      }
      if (v instanceof V.GodotObject) { stack.push(v.className); for (const [k, x] of v.properties) stack.push(k, x); continue; }
      if (v instanceof V.NodePath) { for (const x of [...(v.names || []), ...(v.subnames || [])]) stack.push(x); continue; }
      if (v instanceof V.StringName) bytes += v.value.length;
      if (v instanceof V.Signal) bytes += v.name.length;
    }
    return { values, bytes };
  }

  function sameBytes(a, b) {
    return a.length === b.length && Buffer.compare(a, b) === 0;
  }

  function check(input) {
    for (const allowObjects of [false, true]) {
      reported = [];
      const t0 = process.hrtime.bigint();
      let r;
      try {
        r = V.decodeVariant(input, allowObjects);
      } catch (e) {
        crash(input, `decodeVariant threw: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
        continue;
      }
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (ms > opts.timeLimit) crash(input, `decodeVariant took ${ms.toFixed(0)} ms on ${input.length} bytes (allowObjects ${allowObjects})`);
      if (reported.length) crash(input, `decodeVariant reported: ${reported[0]}`);
      if (typeof r !== 'object' || r === null || typeof r.error !== 'number') { crash(input, 'decodeVariant returned no result'); continue; }
      if (r.error !== 0) {
        if (r.value !== null || r.length !== 0) crash(input, `error ${r.error} with a value or a length`);
        continue;
      }
      if (!(r.length > 0 && r.length <= input.length)) crash(input, `OK with length ${r.length} of ${input.length}`);
      const budget = { values: Math.floor(r.length / 4) + 1, bytes: r.length };
      const m = measure(r.value, budget);
      if (m.values > budget.values) crash(input, `decoded more values than the input pays for (${m.values} > ${budget.values})`);
      if (m.bytes > budget.bytes) crash(input, `decoded more payload bytes than the input has (${m.bytes} > ${budget.bytes})`);
      // Stability: what decodes re-encodes, and the re-encoding is a fixed point.
      reported = [];
      let e1;
      try {
        e1 = V.encodeVariant(r.value, allowObjects);
      } catch (e) {
        crash(input, `encodeVariant threw on a decoded value: ${e}`);
        continue;
      }
      if (e1.error !== 0) { crash(input, `decoded value does not re-encode (error ${e1.error}, allowObjects ${allowObjects})`); continue; }
      const d2 = V.decodeVariant(e1.bytes, allowObjects);
      if (d2.error !== 0 || d2.length !== e1.bytes.length) {
        crash(input, `re-encoded value does not decode (error ${d2.error}, ${d2.length}/${e1.bytes.length} bytes, allowObjects ${allowObjects})`);
        continue;
      }
      const e2 = V.encodeVariant(d2.value, allowObjects);
      if (e2.error !== 0) { crash(input, `re-decoded value does not re-encode (error ${e2.error})`); continue; }
      // Byte equality, except for NaN payloads: V8 keeps or canonicalizes a NaN's payload bits when it
      // narrows a double to float32 depending on the path, so two encodings of the same NaN may differ;
      // then the values must be equal (isDeepStrictEqual: NaN equals NaN, -0 differs from 0).
      if (!sameBytes(e1.bytes, e2.bytes) && !isDeepStrictEqual(d2.value, V.decodeVariant(e2.bytes, allowObjects).value)) {
        crash(input, `re-encoding is not stable (allowObjects ${allowObjects})`);
      }
    }
  }

  // --- mutations
  let rngState = BigInt(workerData.seed) | 1n;
  function rnd(n) { // xorshift64*
    rngState ^= rngState >> 12n; rngState ^= (rngState << 25n) & 0xffffffffffffffffn; rngState ^= rngState >> 27n;
    const x = (rngState * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn;
    return Number((x >> 11n) % BigInt(n));
  }
  const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 15, 16, 255, 256, 1023, 1024, 1025, 0x7fff, 0x8000, 0xffff, 0x10000,
    0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x40000000, 0x3fffffff];
  const corpus = [];
  function mutateOnce(b) {
    const a4 = () => (b.length >= 4 ? 4 * rnd(Math.floor(b.length / 4)) : 0);
    switch (rnd(13)) {
      case 0: if (b.length) { const i = rnd(b.length); b[i] ^= 1 << rnd(8); } return b;
      case 1: if (b.length) b[rnd(b.length)] = rnd(256); return b;
      case 2: { const i = rnd(b.length + 1); const n = 1 + rnd(8); const ins = Buffer.alloc(n); for (let k = 0; k < n; k++) ins[k] = rnd(256); return Buffer.concat([b.subarray(0, i), ins, b.subarray(i)]); }
      case 3: { if (!b.length) return b; const i = rnd(b.length); const n = 1 + rnd(Math.min(16, b.length - i)); return Buffer.concat([b.subarray(0, i), b.subarray(i + n)]); }
      case 4: { if (!b.length) return b; const i = rnd(b.length); const n = 1 + rnd(Math.min(64, b.length - i)); const at = rnd(b.length + 1); return Buffer.concat([b.subarray(0, at), b.subarray(i, i + n), b.subarray(at)]); }
      case 5: { const other = corpus[rnd(corpus.length)]; const i = rnd(b.length + 1), j = rnd(other.length + 1); return Buffer.concat([b.subarray(0, i), other.subarray(j)]); }
      case 6: return b.subarray(0, rnd(b.length + 1));
      case 7: if (b.length >= 4) { const i = a4(); b[i] = rnd(3) === 0 ? rnd(256) : rnd(40); } return b; // type id
      case 8: if (b.length >= 4) { const i = a4(); b[i + 2] ^= 1 << rnd(4); } return b; // FLAG_64 / container kinds
      case 9: if (b.length >= 4) { const i = a4(); const v = rnd(3) === 0 ? (b.length - i + rnd(9) - 4) >>> 0 : INTERESTING[rnd(INTERESTING.length)]; b.writeUInt32LE(v >>> 0, i); } return b; // length / count
      case 10: { // nested container headers: depth
        const n = 1 + rnd(rnd(2) ? 8 : 1100); const nest = Buffer.alloc(8 * n);
        for (let k = 0; k < n; k++) { nest.writeUInt32LE(rnd(2) ? 28 : 27, 8 * k); nest.writeUInt32LE(1 + rnd(2), 8 * k + 4); }
        const at = 4 * rnd(Math.floor(b.length / 4) + 1); return Buffer.concat([b.subarray(0, at), nest, b.subarray(at)]);
      }
      case 11: { const w = Buffer.alloc(4); w.writeUInt32LE(INTERESTING[rnd(INTERESTING.length)] >>> 0); const at = 4 * rnd(Math.floor(b.length / 4) + 1); return Buffer.concat([b.subarray(0, at), w, b.subarray(at)]); }
      default: { const other = corpus[rnd(corpus.length)]; const i = 4 * rnd(Math.floor(other.length / 4) + 1); const n = 4 * (1 + rnd(8)); const at = 4 * rnd(Math.floor(b.length / 4) + 1); return Buffer.concat([b.subarray(0, at), other.subarray(i, i + n), b.subarray(at)]); }
    }
  }
  function mutate(parent) {
    let b = Buffer.from(parent);
    for (let k = 1 + rnd(4); k > 0; k--) b = Buffer.from(mutateOnce(b));
    return b.length > opts.maxLen ? b.subarray(0, opts.maxLen) : b;
  }

  function setCurrent(input) {
    const n = Math.min(input.length, current.length);
    current.set(input.subarray(0, n));
    Atomics.store(shared, 2, n);
  }
  function run(input) {
    setCurrent(input);
    check(input);
    Atomics.add(shared, 0, 1);
  }

  function addToCorpus(input) {
    corpus.push(input);
    if (opts.corpus) fs.writeFileSync(path.join(opts.corpus, crypto.createHash('sha1').update(input).digest('hex')), input);
  }

  // --- replay mode: just check the given files
  if (opts.replay.length) {
    for (const f of opts.replay) run(fs.readFileSync(f));
    parentPort.postMessage({ type: 'done', stats: { executions: opts.replay.length, crashes: crashCount } });
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
  const started = Date.now();
  let lastStatus = started;
  while (Atomics.load(shared, 1) === 0) {
    const batch = [];
    for (let i = 0; i < BATCH; i++) {
      const input = mutate(corpus[rnd(corpus.length)]);
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
    const now = Date.now();
    if (now - lastStatus > 10000) {
      lastStatus = now;
      parentPort.postMessage({ type: 'status', text: `#${executions} blocks: ${coveredBlocks.size}/${seenBlocks.size} ft: ${features.size} corp: ${corpus.length} exec/s: ${Math.round(executions / ((now - started) / 1000))} crashes: ${crashCount}` });
    }
  }
  post('Profiler.stopPreciseCoverage');
  session.disconnect();
  parentPort.postMessage({ type: 'done', stats: {
    executions, blocksCovered: coveredBlocks.size, blocksTotal: seenBlocks.size, features: features.size,
    corpus: `${corpus.length} (${initialCorpus} from seeds and saved corpus)`, crashes: crashCount,
    execPerSec: Math.round(executions / ((Date.now() - started) / 1000)),
  } });
}

// ---------------------------------------------------------------------------------------------
// The main thread: starts the worker, watches it for hangs, writes the results.

function main() {
  const opts = parseArguments(process.argv.slice(2));
  if (opts.makeSeeds) {
    const n = makeSeeds(opts.makeSeeds);
    console.log(`variant-fuzz: wrote ${n} seeds to ${opts.makeSeeds}`);
    return;
  }
  for (const d of [opts.corpus, opts.crashes]) if (d) fs.mkdirSync(d, { recursive: true });
  const shared = new SharedArrayBuffer(12);
  const currentInput = new SharedArrayBuffer(opts.maxLen + 64 * 1024);
  const state = new Int32Array(shared);
  const w = new Worker(__filename, { workerData: { opts, shared, currentInput, seed: String(Date.now()) } });
  let finished = false, stats = null, crashes = 0, peakRss = 0;
  const messages = [];
  w.on('message', (m) => {
    if (m.type === 'status') console.log(m.text);
    else if (m.type === 'crash') { crashes++; messages.push(m.message); console.log(`CRASH: ${m.message}`); }
    else if (m.type === 'done') { stats = m.stats; finished = true; }
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
    if (!finished && Date.now() - stalledSince > Math.max(10000, opts.timeLimit * 20)) {
      crashes++;
      messages.push('hang: decodeVariant did not return for 10 s');
      console.log('CRASH: hang: decodeVariant did not return for 10 s; input saved');
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
    console.log(`variant: ${JSON.stringify(result)}`);
    process.exitCode = crashes > 0 ? 1 : 0;
  });
}

if (isMainThread) main();
else worker();
