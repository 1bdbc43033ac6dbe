/**
 * Generic byte mutations, libFuzzer-style, shared by the coverage-guided engine (js-fuzz.js) and the
 * network fuzzers that reuse its targets' structure-aware mutations (tools/scene-net-fuzz.ts).
 *
 * byteMutator(rnd, pick, extra) gives { rnd, pick, interesting, mutateBytes }: `rnd(n)` is a uniform
 * integer in [0, n), `pick()` another input to splice from, `extra` more mutations `(b, m) => Buffer`
 * (a target's own); mutateBytes(b, ops) applies `ops` (default 1-4) random ones to a copy of `b`.
 */
'use strict';

const INTERESTING = [0, 1, 2, 3, 4, 7, 8, 15, 16, 255, 256, 1023, 1024, 1025, 0x7fff, 0x8000, 0xffff, 0x10000,
  0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe, 0x40000000, 0x3fffffff];

function byteMutator(rnd, pick, extra = []) {
  const m = { rnd, pick, interesting: () => INTERESTING[rnd(INTERESTING.length)], mutateBytes: null };
  const generic = [
    (b) => { if (b.length) { const i = rnd(b.length); b[i] ^= 1 << rnd(8); } return b; },
    (b) => { if (b.length) b[rnd(b.length)] = rnd(256); return b; },
    (b) => { const i = rnd(b.length + 1); const n = 1 + rnd(8); const ins = Buffer.alloc(n); for (let k = 0; k < n; k++) ins[k] = rnd(256); return Buffer.concat([b.subarray(0, i), ins, b.subarray(i)]); },
    (b) => { if (!b.length) return b; const i = rnd(b.length); const n = 1 + rnd(Math.min(16, b.length - i)); return Buffer.concat([b.subarray(0, i), b.subarray(i + n)]); },
    (b) => { if (!b.length) return b; const i = rnd(b.length); const n = 1 + rnd(Math.min(64, b.length - i)); const at = rnd(b.length + 1); return Buffer.concat([b.subarray(0, at), b.subarray(i, i + n), b.subarray(at)]); },
    (b) => { const other = pick(); const i = rnd(b.length + 1), j = rnd(other.length + 1); return Buffer.concat([b.subarray(0, i), other.subarray(j)]); },
    (b) => b.subarray(0, rnd(b.length + 1)),
    (b) => { const w = Buffer.alloc(4); w.writeUInt32LE(m.interesting() >>> 0); const at = rnd(b.length + 1); return rnd(2) ? Buffer.concat([b.subarray(0, at), w, b.subarray(at)]) : Buffer.concat([b.subarray(0, at), w, b.subarray(at + 4)]); },
  ];
  const all = [...generic, ...extra];
  m.mutateBytes = (parent, ops = 1 + rnd(4)) => {
    let b = Buffer.from(parent);
    for (let k = ops; k > 0; k--) b = Buffer.from(all[rnd(all.length)](b, m));
    return b;
  };
  return m;
}

module.exports = { byteMutator };
