/**
 * The `variant` target of tools/fuzz/js-fuzz.js: decodeVariant (src/variant/marshalls.ts, Godot's binary
 * Variant format), from the compiled TypeScript in dist/ (npx tsc -p tsconfig.json).
 *
 *  - coverage: dist/variant/marshalls.js and dist/variant/types.js;
 *  - mutations, beside the engine's generic ones: type-id and flag mutations on 4-byte-aligned headers,
 *    length/count fields set to boundary values (0, 1, -1, 2^31-1, 2^31, what is left, ...), nested
 *    container headers (depth), and 4-byte-aligned fragments of other corpus entries;
 *  - checks, on every input with allowObjects false and true: decodeVariant never throws and never
 *    reaches its "unexpected" catch-all (reported through setErrorReporter); an error result has value
 *    null and length 0; an OK result has 0 < length <= input length; the decoded value is bounded by
 *    its input (at most one value per 4 input bytes, typed-array and string payload at most the input
 *    size, so nothing is allocated that the input did not pay for); and a decoded value re-encodes
 *    (encodeVariant OK), decodes again, and re-encodes to the same bytes (or, where only NaN payload
 *    bits differ, to bytes that decode to the same value).
 *
 *   node tools/fuzz/js-fuzz.js variant [options]
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { isDeepStrictEqual } = require('util');

const DIST = path.join(__dirname, '..', '..', 'dist');
const file = path.join(DIST, 'variant', 'marshalls.js');
if (!fs.existsSync(file)) {
  console.error('variant target: dist/variant/marshalls.js is missing; run `npx tsc -p tsconfig.json` first');
  process.exit(2);
}
const V = require(file);
let reported = [];
require(path.join(DIST, 'core', 'errors.js')).setErrorReporter((message) => reported.push(message));

// ---------------------------------------------------------------------------------------------
// Seeds: valid encodings of every type, a few nested and typed containers.

function makeSeeds(dir) {
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
      console.error(`variant seeds: seed ${name} does not encode: ${e}`);
      continue;
    }
    if (r.error !== 0) { console.error(`variant seeds: seed ${name}: error ${r.error}`); continue; }
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
// Mutations that know the format: 4-byte-aligned headers, lengths and counts.

const aligned = (b, m) => (b.length >= 4 ? 4 * m.rnd(Math.floor(b.length / 4)) : 0);
const byteMutations = [
  (b, m) => { if (b.length >= 4) { const i = aligned(b, m); b[i] = m.rnd(3) === 0 ? m.rnd(256) : m.rnd(40); } return b; }, // type id
  (b, m) => { if (b.length >= 4) { const i = aligned(b, m); b[i + 2] ^= 1 << m.rnd(4); } return b; }, // FLAG_64 / container kinds
  (b, m) => { // length / count
    if (b.length >= 4) { const i = aligned(b, m); const v = m.rnd(3) === 0 ? (b.length - i + m.rnd(9) - 4) >>> 0 : m.interesting(); b.writeUInt32LE(v >>> 0, i); }
    return b;
  },
  (b, m) => { // nested container headers: depth
    const n = 1 + m.rnd(m.rnd(2) ? 8 : 1100); const nest = Buffer.alloc(8 * n);
    for (let k = 0; k < n; k++) { nest.writeUInt32LE(m.rnd(2) ? 28 : 27, 8 * k); nest.writeUInt32LE(1 + m.rnd(2), 8 * k + 4); }
    const at = 4 * m.rnd(Math.floor(b.length / 4) + 1); return Buffer.concat([b.subarray(0, at), nest, b.subarray(at)]);
  },
  (b, m) => { // an aligned fragment of another entry
    const other = m.pick(); const i = 4 * m.rnd(Math.floor(other.length / 4) + 1); const n = 4 * (1 + m.rnd(8)); const at = 4 * m.rnd(Math.floor(b.length / 4) + 1);
    return Buffer.concat([b.subarray(0, at), other.subarray(i, i + n), b.subarray(at)]);
  },
];

// ---------------------------------------------------------------------------------------------
// Checks

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

function check(input, fail) {
  for (const allowObjects of [false, true]) {
    reported = [];
    let r;
    try {
      r = V.decodeVariant(input, allowObjects);
    } catch (e) {
      fail(`decodeVariant threw: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
      continue;
    }
    if (reported.length) fail(`decodeVariant reported: ${reported[0]}`);
    if (typeof r !== 'object' || r === null || typeof r.error !== 'number') { fail('decodeVariant returned no result'); continue; }
    if (r.error !== 0) {
      if (r.value !== null || r.length !== 0) fail(`error ${r.error} with a value or a length`);
      continue;
    }
    if (!(r.length > 0 && r.length <= input.length)) fail(`OK with length ${r.length} of ${input.length}`);
    const budget = { values: Math.floor(r.length / 4) + 1, bytes: r.length };
    const m = measure(r.value, budget);
    if (m.values > budget.values) fail(`decoded more values than the input pays for (${m.values} > ${budget.values})`);
    if (m.bytes > budget.bytes) fail(`decoded more payload bytes than the input has (${m.bytes} > ${budget.bytes})`);
    // Stability: what decodes re-encodes, and the re-encoding is a fixed point.
    reported = [];
    let e1;
    try {
      e1 = V.encodeVariant(r.value, allowObjects);
    } catch (e) {
      fail(`encodeVariant threw on a decoded value: ${e}`);
      continue;
    }
    if (e1.error !== 0) { fail(`decoded value does not re-encode (error ${e1.error}, allowObjects ${allowObjects})`); continue; }
    const d2 = V.decodeVariant(e1.bytes, allowObjects);
    if (d2.error !== 0 || d2.length !== e1.bytes.length) {
      fail(`re-encoded value does not decode (error ${d2.error}, ${d2.length}/${e1.bytes.length} bytes, allowObjects ${allowObjects})`);
      continue;
    }
    const e2 = V.encodeVariant(d2.value, allowObjects);
    if (e2.error !== 0) { fail(`re-decoded value does not re-encode (error ${e2.error})`); continue; }
    // Byte equality, except for NaN payloads: V8 keeps or canonicalizes a NaN's payload bits when it
    // narrows a double to float32 depending on the path, so two encodings of the same NaN may differ;
    // then the values must be equal (isDeepStrictEqual: NaN equals NaN, -0 differs from 0).
    if (!sameBytes(e1.bytes, e2.bytes) && !isDeepStrictEqual(d2.value, V.decodeVariant(e2.bytes, allowObjects).value)) {
      fail(`re-encoding is not stable (allowObjects ${allowObjects})`);
    }
  }
}

module.exports = {
  watched: [file, path.join(DIST, 'variant', 'types.js')],
  coverage: 'V8 block coverage of dist/variant/marshalls.js + dist/variant/types.js',
  maxLen: 8192,
  makeSeeds,
  byteMutations,
  check,
};
