import { GodotError, setErrorReporter } from '../src/core/errors';
import {
  AABB,
  Basis,
  Callable,
  Color,
  GodotFloat,
  GodotObject,
  MAX_RECURSION_DEPTH,
  NodePath,
  ObjectId,
  PackedColorArray,
  PackedStringArray,
  PackedVector2Array,
  PackedVector3Array,
  PackedVector4Array,
  Plane,
  Projection,
  Quaternion,
  RID,
  Rect2,
  Rect2i,
  Signal,
  StringName,
  Transform2D,
  Transform3D,
  TypedArray,
  TypedDictionary,
  VariantType,
  Vector2,
  Vector2i,
  Vector3,
  Vector3i,
  Vector4,
  Vector4i,
  bytesToVar,
  bytesToVarWithObjects,
  decodeVariant,
  encodeVariant,
  float,
  varToBytes,
  varToBytesWithObjects,
} from '../src/variant/marshalls';

/** Bytes from a hex dump; whitespace and `|` separators are ignored. */
function hex(s: string): Buffer {
  const clean = s.replace(/[\s|]/g, '');
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${s}`);
  return Buffer.from(clean, 'hex');
}

function enc(v: unknown, fullObjects = false): Buffer {
  const r = encodeVariant(v, fullObjects);
  expect(r.error).toBe(GodotError.OK);
  return r.bytes;
}

function dec(bytes: Uint8Array, allowObjects = false): unknown {
  const r = decodeVariant(bytes, allowObjects);
  expect(r.error).toBe(GodotError.OK);
  expect(r.length).toBe(bytes.length);
  return r.value;
}

/** Deterministic PRNG (mulberry32), so fuzz failures are reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Floats used below, as little-endian IEEE-754 single precision:
//   1.0 = 3f800000 -> 00 00 80 3f    2.0 = 40000000 -> 00 00 00 40    3.0 = 40400000 -> 00 00 40 40
//   4.0 = 40800000 -> 00 00 80 40    0.5 = 3f000000 -> 00 00 00 3f   -1.0 = bf800000 -> 00 00 80 bf
//  -2.0 = c0000000 -> 00 00 00 c0
// Header = uint32 LE: type id in the low byte, 64-bit / object-as-id flag in bit 16 (byte 2 = 01).
// Each row is [description, value, hand-derived encoding]. Encoding `value` must give exactly these
// bytes, and decoding them must give back `value`.
const vectors: Array<[string, unknown, string]> = [
  ['null', null, '00000000'],
  ['true', true, '01000000 01000000'],
  ['false', false, '01000000 00000000'],
  ['int 1', 1, '02000000 01000000'],
  ['int -1', -1, '02000000 ffffffff'],
  ['int32 max', 2147483647, '02000000 ffffff7f'],
  ['int 2^31 needs 64 bits', 2 ** 31, '02000100 00000080 00000000'],
  ['int 2^40 with the 64 flag', 2 ** 40, '02000100 00000000 00010000'],
  ['int -2^63 as bigint', -(2n ** 63n), '02000100 00000000 00000080'],
  ['int 2^62+1 as bigint (not a safe number)', 2n ** 62n + 1n, '02000100 01000000 00000040'],
  ['float 0.5 fits float32', 0.5, '03000000 0000003f'],
  ['float 0.1 needs a double (3fb999999999999a)', 0.1, '03000100 9a999999 9999b93f'],
  ['float(1) forces FLOAT', float(1), '03000000 0000803f'],
  ['float -Infinity fits float32 (ff800000)', -Infinity, '03000000 000080ff'],
  ['string "" has no payload bytes', '', '04000000 00000000'],
  ['string "abcd" needs no padding', 'abcd', '04000000 04000000 61626364'],
  // h=68, é=c3 a9, l=6c, o=6f: 6 bytes, padded with 2 zeros to 8.
  ['string "héllo" (UTF-8, padded)', 'héllo', '04000000 06000000 68c3a96c 6c6f0000'],
  ['StringName (type 21 = 0x15)', new StringName('a'), '15000000 01000000 61000000'],
  ['Vector2(1, -2)', new Vector2(1, -2), '05000000 0000803f 000000c0'],
  ['Vector2i(1, -2)', new Vector2i(1, -2), '06000000 01000000 feffffff'],
  ['Rect2 (type 7)', new Rect2(new Vector2(1, 2), new Vector2(3, 4)), '07000000 0000803f 00000040 00004040 00008040'],
  ['Rect2i (type 8)', new Rect2i(new Vector2i(1, 2), new Vector2i(3, 4)), '08000000 01000000 02000000 03000000 04000000'],
  ['Vector3 (type 9)', new Vector3(1, 2, 3), '09000000 0000803f 00000040 00004040'],
  ['Vector3i (type 10)', new Vector3i(-1, 0, 1), '0a000000 ffffffff 00000000 01000000'],
  // Transform2D columns x, y, origin, each (x, y).
  [
    'Transform2D (type 11)',
    new Transform2D(new Vector2(1, 2), new Vector2(3, 4), new Vector2(0.5, -1)),
    '0b000000 0000803f 00000040 00004040 00008040 0000003f 000080bf',
  ],
  ['Vector4 (type 12)', new Vector4(1, 2, 3, 4), '0c000000 0000803f 00000040 00004040 00008040'],
  ['Vector4i (type 13)', new Vector4i(1, 2, 3, 4), '0d000000 01000000 02000000 03000000 04000000'],
  ['Plane normal then d (type 14)', new Plane(new Vector3(0, 1, 0), 2), '0e000000 00000000 0000803f 00000000 00000040'],
  ['Quaternion identity (type 15)', new Quaternion(), '0f000000 00000000 00000000 00000000 0000803f'],
  [
    'AABB position then size (type 16)',
    new AABB(new Vector3(1, 2, 3), new Vector3(4, 0.5, -1)),
    '10000000 0000803f 00000040 00004040 00008040 0000003f 000080bf',
  ],
  // Columns x=(1,0,0) y=(2,1,0) z=(0,0,1) give rows (1,2,0) (0,1,0) (0,0,1) on the wire.
  [
    'Basis is sent row by row (type 17)',
    new Basis(new Vector3(1, 0, 0), new Vector3(2, 1, 0), new Vector3(0, 0, 1)),
    '11000000 0000803f 00000040 00000000 00000000 0000803f 00000000 00000000 00000000 0000803f',
  ],
  ['Color (type 20)', new Color(1, 0.5, 0, 1), '14000000 0000803f 0000003f 00000000 0000803f'],
  // NodePath: uint32 name count | 0x80000000, uint32 subname count, uint32 flags (1 = absolute),
  // then each name and subname as a padded string.
  [
    'NodePath "/root/Main:position:x" (type 22)',
    NodePath.parse('/root/Main:position:x'),
    '16000000 02000080 02000000 01000000' +
      '04000000 726f6f74 | 04000000 4d61696e | 08000000 706f7369 74696f6e | 01000000 78000000',
  ],
  ['RID 5 (type 23, uint64)', new RID(5n), '17000000 05000000 00000000'],
  ['object id (type 24, object-as-id flag)', new ObjectId(0x123456789n), '18000100 89674523 01000000'],
  ['Callable is just a header (type 25)', new Callable(), '19000000'],
  ['Signal name then object id (type 26)', new Signal('hit', 9n), '1a000000 03000000 68697400 09000000 00000000'],
  // Array: uint32 count, then each element as a full Variant.
  [
    'Array of mixed types (type 28)',
    [1, 'a', true, null, 0.5],
    '1c000000 05000000 | 02000000 01000000 | 04000000 01000000 61000000 | 01000000 01000000 | 00000000 | 03000000 0000003f',
  ],
  ['nested Array', [[], [2]], '1c000000 02000000 | 1c000000 00000000 | 1c000000 01000000 02000000 02000000'],
  // Dictionary: uint32 count, then key, value, key, value...
  [
    'Dictionary {"a": 1, 2: Vector2(1, 2)} (type 27)',
    new Map<unknown, unknown>([
      ['a', 1],
      [2, new Vector2(1, 2)],
    ]),
    '1b000000 02000000 | 04000000 01000000 61000000 | 02000000 01000000 | 02000000 02000000 | 05000000 0000803f 00000040',
  ],
  ['PackedByteArray [1, 2, 3] padded (type 29)', Buffer.from([1, 2, 3]), '1d000000 03000000 01020300'],
  ['PackedByteArray of 4 needs no padding', Buffer.from([9, 8, 7, 6]), '1d000000 04000000 09080706'],
  ['PackedInt32Array (type 30)', new Int32Array([1, -1]), '1e000000 02000000 01000000 ffffffff'],
  [
    'PackedInt64Array (type 31)',
    new BigInt64Array([1n, -2n]),
    '1f000000 02000000 01000000 00000000 feffffff ffffffff',
  ],
  ['PackedFloat32Array (type 32)', new Float32Array([0.5, -1]), '20000000 02000000 0000003f 000080bf'],
  // 0.5 as a double = 3fe0000000000000.
  ['PackedFloat64Array (type 33)', new Float64Array([0.5]), '21000000 01000000 00000000 0000e03f'],
  // Each element's length counts a NUL terminator, then pads: "ab\0" + 1, "héllo\0" (7) + 1, "\0" + 3.
  [
    'PackedStringArray (type 34)',
    new PackedStringArray(['ab', 'héllo', '']),
    '22000000 03000000 | 03000000 61620000 | 07000000 68c3a96c 6c6f0000 | 01000000 00000000',
  ],
  [
    'PackedVector2Array (type 35)',
    new PackedVector2Array([new Vector2(1, 2), new Vector2(3, 4)]),
    '23000000 02000000 0000803f 00000040 00004040 00008040',
  ],
  [
    'PackedVector3Array (type 36)',
    new PackedVector3Array([new Vector3(1, 2, 3)]),
    '24000000 01000000 0000803f 00000040 00004040',
  ],
  [
    'PackedColorArray (type 37)',
    new PackedColorArray([new Color(1, 0, 0, 1)]),
    '25000000 01000000 0000803f 00000000 00000000 0000803f',
  ],
  [
    'PackedVector4Array (type 38)',
    new PackedVector4Array([new Vector4(1, 2, 3, 4)]),
    '26000000 01000000 0000803f 00000040 00004040 00008040',
  ],
];

describe('hand-derived byte vectors', () => {
  test.each(vectors)('encode %s', (_name, value, bytes) => {
    expect(enc(value).toString('hex')).toBe(hex(bytes).toString('hex'));
  });

  test.each(vectors)('decode %s', (_name, value, bytes) => {
    const expected = value instanceof GodotFloat ? value.value : value;
    const got = dec(hex(bytes));
    if (typeof expected === 'bigint' && expected >= -(2n ** 53n) && expected <= 2n ** 53n) {
      expect(got).toBe(Number(expected));
    } else {
      expect(got).toEqual(expected);
    }
  });

  test('Transform3D: basis rows, then origin (type 18)', () => {
    // Columns x=(1,2,3) y=(4,5,6) z=(7,8,9): rows (1,4,7) (2,5,8) (3,6,9), then origin (10,11,12).
    const t = new Transform3D(
      new Basis(new Vector3(1, 2, 3), new Vector3(4, 5, 6), new Vector3(7, 8, 9)),
      new Vector3(10, 11, 12),
    );
    const floats = [1, 4, 7, 2, 5, 8, 3, 6, 9, 10, 11, 12];
    const expected = Buffer.alloc(4 + 48);
    expected.writeUInt32LE(18, 0);
    floats.forEach((f, i) => expected.writeFloatLE(f, 4 + 4 * i));
    // Spot-check the helper against constants: 4.0f is 0x40800000, 10.0f is 0x41200000.
    expect(expected.subarray(8, 12).toString('hex')).toBe('00008040');
    expect(expected.subarray(40, 44).toString('hex')).toBe('00002041');
    expect(enc(t).toString('hex')).toBe(expected.toString('hex'));
    expect(dec(expected)).toEqual(t);
  });

  test('Projection: four columns of four floats (type 19)', () => {
    const p = new Projection(new Vector4(1, 2, 3, 4), new Vector4(0, 1, 0, 0), new Vector4(0, 0, 1, 0), new Vector4(0, 0, 0, 1));
    const expected = hex(
      '13000000 0000803f 00000040 00004040 00008040 00000000 0000803f 00000000 00000000' +
        '00000000 00000000 0000803f 00000000 00000000 00000000 00000000 0000803f',
    );
    expect(enc(p)).toEqual(expected);
    expect(dec(expected)).toEqual(p);
  });

  test('NaN does not survive float32 comparison, so it is sent as a double', () => {
    const bytes = enc(NaN);
    expect(bytes.subarray(0, 4).toString('hex')).toBe('03000100');
    expect(bytes.length).toBe(12);
    expect(dec(bytes)).toBeNaN();
  });

  test('-0.0 as float keeps its sign in 32 bits', () => {
    expect(enc(float(-0)).toString('hex')).toBe('0300000000000080');
    expect(Object.is(dec(hex('03000000 00000080')), -0)).toBe(true);
  });

  test('a plain object encodes as a Dictionary with String keys', () => {
    expect(enc({ a: 1 })).toEqual(hex('1b000000 01000000 | 04000000 01000000 61000000 | 02000000 01000000'));
    expect(dec(hex('1b000000 01000000 04000000 01000000 61000000 02000000 01000000'))).toEqual(new Map([['a', 1]]));
  });

  test('full object: class name, property count, then name/value pairs', () => {
    const bytes = hex('18000000 | 04000000 4e6f6465 | 01000000 | 04000000 6e616d65 | 02000000 07000000');
    const obj = dec(bytes, true);
    expect(obj).toBeInstanceOf(GodotObject);
    expect(obj).toEqual(new GodotObject('Node', new Map([['name', 7]])));
    expect(enc(obj, true)).toEqual(bytes);
  });

  test('a full object with an empty class name is a null object', () => {
    expect(dec(hex('18000000 00000000'), true)).toBeNull();
  });

  test('object id 0 is a null object', () => {
    expect(dec(hex('18000100 00000000 00000000'))).toBeNull();
  });
});

describe('typed containers', () => {
  test('Array[int]: kind BUILTIN in header bits 16-17, then the element type', () => {
    const bytes = hex('1c000100 | 02000000 | 01000000 | 02000000 05000000');
    const arr = new TypedArray({ type: VariantType.INT }, [5]);
    expect(enc(arr)).toEqual(bytes);
    const back = dec(bytes);
    expect(back).toBeInstanceOf(TypedArray);
    expect((back as TypedArray).elementType).toEqual({ type: VariantType.INT });
    expect(Array.isArray(back)).toBe(true);
    expect([...(back as unknown[])]).toEqual([5]);
  });

  test('Array[float] sends integer-valued numbers as floats', () => {
    const arr = new TypedArray({ type: VariantType.FLOAT }, [1, 0.5]);
    expect(enc(arr)).toEqual(hex('1c000100 03000000 02000000 | 03000000 0000803f | 03000000 0000003f'));
  });

  test('Dictionary[String, float]: key kind in bits 16-17, value kind in bits 18-19', () => {
    // 0x1b | 1 << 16 | 1 << 18 = 0x0005001b.
    const bytes = hex('1b000500 | 04000000 | 03000000 | 01000000 | 04000000 01000000 61000000 | 03000000 0000803f');
    const dict = new TypedDictionary({ type: VariantType.STRING }, { type: VariantType.FLOAT }, [['a', 1]]);
    expect(enc(dict)).toEqual(bytes);
    const back = dec(bytes) as TypedDictionary;
    expect(back).toBeInstanceOf(TypedDictionary);
    expect(back.keyType).toEqual({ type: VariantType.STRING });
    expect(back.valueType).toEqual({ type: VariantType.FLOAT });
    expect([...back]).toEqual([['a', 1]]);
  });

  test('a dictionary typed on one side only leaves the other kind NONE', () => {
    const dict = new TypedDictionary({ type: VariantType.NIL }, { type: VariantType.INT }, [[true, 3]]);
    expect(enc(dict)).toEqual(hex('1b000400 | 02000000 | 01000000 | 01000000 01000000 | 02000000 03000000'));
  });

  test('Array[Node]: kind CLASS_NAME; the class is hidden unless full objects are used', () => {
    const arr = new TypedArray({ type: VariantType.OBJECT, className: 'Node' });
    // "EncodedObjectAsID" is 17 bytes, padded by 3.
    const asId = hex('1c000200 11000000 456e636f 6465644f 626a6563 74417349 44000000 00000000');
    expect(enc(arr)).toEqual(asId);
    const full = hex('1c000200 04000000 4e6f6465 00000000');
    expect(enc(arr, true)).toEqual(full);
    expect((dec(full, true) as TypedArray).elementType).toEqual({ type: VariantType.OBJECT, className: 'Node' });
    expect((dec(full, false) as TypedArray).elementType).toEqual({
      type: VariantType.OBJECT,
      className: 'EncodedObjectAsID',
    });
  });

  test('script-typed arrays send the script path only with full objects', () => {
    const arr = new TypedArray({ type: VariantType.OBJECT, script: 'res://a.gd' });
    expect(enc(arr, true)).toEqual(hex('1c000300 0a000000 7265733a 2f2f612e 67640000 00000000'));
    expect((dec(enc(arr, true), true) as TypedArray).elementType).toEqual({
      type: VariantType.OBJECT,
      script: 'res://a.gd',
    });
    expect(enc(arr).subarray(0, 4)).toEqual(hex('1c000200'));
  });

  test('an invalid element type is refused', () => {
    expect(encodeVariant(new TypedArray({ type: 99 as VariantType })).error).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(encodeVariant(new TypedArray({ type: VariantType.INT, className: 'Node' })).error).toBe(
      GodotError.ERR_INVALID_PARAMETER,
    );
    expect(decodeVariant(hex('1c000100 27000000 00000000')).error).toBe(GodotError.ERR_INVALID_DATA);
  });

  test('derived arrays are plain arrays', () => {
    const arr = new TypedArray({ type: VariantType.INT }, [1, 2, 3]);
    const mapped = arr.map((x) => x * 2);
    expect(mapped).not.toBeInstanceOf(TypedArray);
    expect(mapped).toEqual([2, 4, 6]);
  });
});

describe('decoding details', () => {
  test('64-bit (double-precision build) math types are read as doubles', () => {
    // 1.5 = 3ff8000000000000, -0.25 = bfd0000000000000.
    const v2 = hex('05000100 00000000 0000f83f 00000000 0000d0bf');
    expect(dec(v2)).toEqual(new Vector2(1.5, -0.25));
    const pv2 = hex('23000100 01000000 00000000 0000f83f 00000000 0000d0bf');
    expect(dec(pv2)).toEqual(new PackedVector2Array([new Vector2(1.5, -0.25)]));
    const q = hex('0f000100' + '0000000000000000'.repeat(3) + '000000000000f03f');
    expect(dec(q)).toEqual(new Quaternion(0, 0, 0, 1));
  });

  test('a 64-bit INT that is not a safe JS integer decodes as bigint', () => {
    expect(dec(hex('02000100 ffffffff ffffff7f'))).toBe(2n ** 63n - 1n);
    expect(dec(hex('02000100 05000000 00000000'))).toBe(5);
  });

  test('a 32-bit FLOAT decodes to the exact float32 value', () => {
    // 0.1f = 3dcccccd
    expect(dec(hex('03000000 cdcccc3d'))).toBe(Math.fround(0.1));
  });

  test('header bits 8-15 are ignored, as Godot masks the type with 0xff', () => {
    expect(dec(hex('02ff0000 07000000'))).toBe(7);
  });

  test('strings stop at the first NUL and lose a leading BOM, like Godot', () => {
    expect(dec(hex('04000000 03000000 61006200'))).toBe('a');
    expect(dec(hex('04000000 04000000 efbbbf61'))).toBe('a');
  });

  test('invalid UTF-8 is ERR_INVALID_DATA', () => {
    for (const bad of ['ff', 'c0af', 'eda080', 'f4908080', 'c3']) {
      const body = hex(bad);
      const bytes = Buffer.alloc(8 + Math.ceil(body.length / 4) * 4);
      bytes.writeUInt32LE(4, 0);
      bytes.writeUInt32LE(body.length, 4);
      body.copy(bytes, 8);
      expect(decodeVariant(bytes).error).toBe(GodotError.ERR_INVALID_DATA);
    }
  });

  test('NodePath relative, with the obsolete separate-property flag (2)', () => {
    const np = dec(hex('16000000 01000080 00000000 02000000 | 01000000 61000000 | 01000000 62000000')) as NodePath;
    expect(np).toEqual(new NodePath(['a'], ['b'], false));
    expect(np.toString()).toBe('a:b');
  });

  test('an old-format (string) NodePath is refused', () => {
    expect(decodeVariant(hex('16000000 01000000 61000000')).error).toBe(GodotError.ERR_INVALID_DATA);
  });

  test('trailing bytes are not consumed', () => {
    const r = decodeVariant(hex('02000000 01000000 deadbeef'));
    expect(r).toEqual({ error: GodotError.OK, value: 1, length: 8 });
  });

  test('a final PackedByteArray missing its padding is accepted (Godot does)', () => {
    const r = decodeVariant(hex('1d000000 03000000 010203'));
    expect(r.error).toBe(GodotError.OK);
    expect(r.value).toEqual(Buffer.from([1, 2, 3]));
    expect(r.length).toBe(11);
  });

  test('a PackedStringArray with a negative count is empty (Godot loops zero times)', () => {
    expect(dec(hex('22000000 ffffffff'))).toEqual(new PackedStringArray([]));
  });

  test('a decoded PackedByteArray is a copy, not a view of the input', () => {
    const input = hex('1d000000 01000000 2a000000');
    const out = dec(input) as Buffer;
    input[8] = 0;
    expect(out[0]).toBe(42);
  });

  test('decoding works on a Uint8Array view at an unaligned offset', () => {
    const backing = new Uint8Array(3 + 12);
    backing.set(hex('1e000000 01000000 ffffffff'), 3);
    const view = backing.subarray(3);
    expect(dec(view)).toEqual(new Int32Array([-1]));
  });
});

describe('round trips', () => {
  const samples: Array<[string, unknown]> = [
    ['null', null],
    ['bools', [true, false]],
    ['ints', [0, 1, -1, 2147483647, -2147483648, 2147483648, -2147483649, Number.MAX_SAFE_INTEGER]],
    ['big ints', [2n ** 63n - 1n, -(2n ** 63n)]],
    ['floats', [0.5, -0.25, 0.1, 1e300, -1e-300, Infinity, -Infinity, Math.PI]],
    ['strings', ['', 'x', 'ab', 'abc', 'abcd', 'abcde', '日本語', '😀 emoji', 'a'.repeat(1000)]],
    ['StringName', new StringName('héllo')],
    ['NodePath empty', new NodePath()],
    ['NodePath', NodePath.parse('../Sibling/Child:modulate:a')],
    ['Vector2', new Vector2(0.5, -8)],
    ['Vector2i', new Vector2i(-2147483648, 2147483647)],
    ['Rect2', new Rect2(new Vector2(-1, -2), new Vector2(10, 20))],
    ['Rect2i', new Rect2i(new Vector2i(-1, -2), new Vector2i(10, 20))],
    ['Vector3', new Vector3(1, 2, 3)],
    ['Vector3i', new Vector3i(4, 5, 6)],
    ['Transform2D', new Transform2D()],
    ['Vector4', new Vector4(1, 2, 3, 4)],
    ['Vector4i', new Vector4i(-1, -2, -3, -4)],
    ['Plane', new Plane(new Vector3(0, 0, 1), -3)],
    ['Quaternion', new Quaternion(0.5, 0.5, 0.5, 0.5)],
    ['AABB', new AABB(new Vector3(1, 1, 1), new Vector3(2, 2, 2))],
    ['Basis', new Basis(new Vector3(1, 2, 3), new Vector3(4, 5, 6), new Vector3(7, 8, 9))],
    ['Transform3D', new Transform3D(new Basis(), new Vector3(1, 2, 3))],
    ['Projection', new Projection()],
    ['Color', new Color(0.25, 0.5, 0.75, 1)],
    ['RID', new RID(2n ** 64n - 1n)],
    ['ObjectId', new ObjectId(2n ** 63n + 5n)],
    ['Callable', new Callable()],
    ['Signal', new Signal('pressed', 1234n)],
    ['empty Array', []],
    ['empty Dictionary', new Map()],
    [
      'nested containers',
      new Map<unknown, unknown>([
        [new Vector2(1, 2), [1, [2, [3, new Map([['k', 'v']])]]]],
        [null, new StringName('n')],
        [false, 'f'],
      ]),
    ],
    ['PackedByteArray empty', Buffer.alloc(0)],
    ['PackedByteArray', Buffer.from([0, 255, 1, 254, 2])],
    ['PackedInt32Array', new Int32Array([0, -1, 2147483647, -2147483648])],
    ['PackedInt64Array', new BigInt64Array([0n, -1n, 2n ** 63n - 1n])],
    ['PackedFloat32Array', new Float32Array([0, Math.fround(0.1), -1e30])],
    ['PackedFloat64Array', new Float64Array([0.1, -1e300, Infinity])],
    ['PackedStringArray', new PackedStringArray(['', 'a', 'ab', 'abc', 'abcd', 'ünï'])],
    ['PackedVector2Array', new PackedVector2Array([new Vector2(), new Vector2(1, -1)])],
    ['PackedVector3Array', new PackedVector3Array([new Vector3(1, 2, 3), new Vector3(-1, -2, -3)])],
    ['PackedColorArray', new PackedColorArray([new Color(), new Color(1, 1, 1, 0.5)])],
    ['PackedVector4Array', new PackedVector4Array([new Vector4(1, 2, 3, 4)])],
  ];

  test.each(samples)('%s', (_name, value) => {
    const bytes = enc(value);
    expect(bytes.length % 4).toBe(0);
    const back = dec(bytes);
    if (typeof value === 'object' && value instanceof Uint8Array) {
      expect(Buffer.from(back as Uint8Array)).toEqual(Buffer.from(value));
    } else if (Array.isArray(value) && value.every((x) => typeof x === 'bigint')) {
      expect(back).toEqual(value.map((x: bigint) => (x >= -(2n ** 53n) && x <= 2n ** 53n ? Number(x) : x)));
    } else {
      expect(back).toEqual(value);
    }
  });

  test('full objects round-trip only with both flags', () => {
    const obj = new GodotObject(
      'Resource',
      new Map<string, unknown>([
        ['resource_name', 'r'],
        ['child', new GodotObject('RefCounted')],
      ]),
    );
    const bytes = enc(obj, true);
    expect(dec(bytes, true)).toEqual(obj);
    expect(decodeVariant(bytes, false).error).toBe(GodotError.ERR_UNAUTHORIZED);
    expect(bytesToVarWithObjects(varToBytesWithObjects(obj))).toEqual(obj);
  });

  test('varToBytes / bytesToVar', () => {
    const v = [1, 'two', new Vector3(3, 3, 3)];
    expect(varToBytes(v)).toEqual(enc(v));
    expect(bytesToVar(varToBytes(v))).toEqual(v);
  });

  test('the same container twice (not a cycle) is fine', () => {
    const shared = [1];
    expect(dec(enc([shared, shared]))).toEqual([[1], [1]]);
  });
});

describe('refused input', () => {
  let reported: string[];
  beforeEach(() => {
    reported = [];
    setErrorReporter((m) => reported.push(m));
  });

  const unencodable: Array<[string, unknown]> = [
    ['undefined', undefined],
    ['a function', () => 1],
    ['a symbol', Symbol('s')],
    ['undefined inside an array', [1, undefined]],
    ['a hole in a sparse array', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['undefined as a dictionary value', { a: undefined }],
    ['a Date', new Date(0)],
    ['a Set', new Set([1])],
    ['a class instance', new (class Foo {})()],
    ['a Uint16Array', new Uint16Array(2)],
    ['an int beyond int64', 2n ** 63n],
    ['a negative RID', new RID(-1n)],
    ['a fractional Vector2i component', new Vector2i(1.5, 0)],
    ['an out-of-range Vector3i component', new Vector3i(2 ** 31, 0, 0)],
    ['a non-number Vector2 component', new Vector2('1' as unknown as number, 0)],
    ['a non-string StringName', new StringName(5 as unknown as string)],
    ['a GodotObject without full objects', new GodotObject('Node')],
    ['a throwing getter', Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new Error('boom'); } })],
  ];

  test.each(unencodable)('%s gives ERR_INVALID_PARAMETER and no bytes', (_name, value) => {
    const r = encodeVariant(value);
    expect(r.error).toBe(GodotError.ERR_INVALID_PARAMETER);
    expect(r.bytes.length).toBe(0);
  });

  test('cyclic structures give ERR_INVALID_PARAMETER', () => {
    const a: unknown[] = [];
    a.push(a);
    const m = new Map<string, unknown>();
    m.set('self', [m]);
    const o: Record<string, unknown> = {};
    o.o = { o };
    for (const v of [a, m, o]) expect(encodeVariant(v).error).toBe(GodotError.ERR_INVALID_PARAMETER);
  });

  test('varToBytes returns an empty buffer and reports; bytesToVar returns null and reports', () => {
    expect(varToBytes(undefined).length).toBe(0);
    expect(bytesToVar(hex('02000000'))).toBeNull();
    expect(reported.length).toBe(2);
  });

  test('full objects are refused with ERR_UNAUTHORIZED unless allowed', () => {
    const bytes = hex('18000000 04000000 4e6f6465 00000000');
    expect(decodeVariant(bytes)).toEqual({ error: GodotError.ERR_UNAUTHORIZED, value: null, length: 0 });
    expect(bytesToVar(bytes)).toBeNull();
    expect(dec(bytes, true)).toEqual(new GodotObject('Node'));
    // Nested inside an array, too.
    expect(decodeVariant(Buffer.concat([hex('1c000000 01000000'), bytes])).error).toBe(GodotError.ERR_UNAUTHORIZED);
  });

  test('object ids are accepted without allowObjects, as in Godot', () => {
    expect(dec(hex('18000100 07000000 00000000'))).toEqual(new ObjectId(7n));
  });
});

describe('malformed input', () => {
  const godotDecodeErrors = [
    GodotError.ERR_INVALID_DATA,
    GodotError.ERR_FILE_EOF,
    GodotError.ERR_UNAUTHORIZED,
    GodotError.ERR_OUT_OF_MEMORY,
  ];

  test('unknown type ids are ERR_INVALID_DATA', () => {
    for (const t of [39, 40, 0xff]) {
      const bytes = Buffer.alloc(16);
      bytes.writeUInt32LE(t, 0);
      expect(decodeVariant(bytes)).toEqual({ error: GodotError.ERR_INVALID_DATA, value: null, length: 0 });
    }
  });

  test('every truncation of valid encodings fails cleanly', () => {
    const values: unknown[] = [
      null,
      2 ** 40,
      0.1,
      'héllo',
      NodePath.parse('/root/Main:position:x'),
      new Transform3D(),
      new Projection(),
      [1, 'a', [true, null], new Vector2(1, 2)],
      new Map<unknown, unknown>([['a', 1], [2, [3]]]),
      new PackedStringArray(['ab', 'cde']),
      new PackedVector3Array([new Vector3(1, 2, 3)]),
      new Int32Array([1, 2]),
      new BigInt64Array([1n]),
      new Float64Array([0.5]),
      new PackedColorArray([new Color()]),
      new Signal('s', 1n),
      new TypedDictionary({ type: VariantType.STRING }, { type: VariantType.INT }, [['k', 1]]),
      new TypedArray({ type: VariantType.OBJECT, className: 'Node' }, []),
    ];
    let checked = 0;
    for (const v of values) {
      const full = enc(v, true);
      for (let n = 0; n < full.length; n++) {
        const r = decodeVariant(full.subarray(0, n), true);
        expect([GodotError.ERR_INVALID_DATA, GodotError.ERR_FILE_EOF]).toContain(r.error);
        expect(r.value).toBeNull();
        expect(r.length).toBe(0);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  test('a string whose length runs past the end is ERR_FILE_EOF, as in Godot', () => {
    expect(decodeVariant(hex('04000000 05000000 61626364')).error).toBe(GodotError.ERR_FILE_EOF);
    // The padding must be present too.
    expect(decodeVariant(hex('04000000 05000000 61626364 65')).error).toBe(GodotError.ERR_FILE_EOF);
    expect(decodeVariant(hex('04000000 ffffffff')).error).toBe(GodotError.ERR_FILE_EOF);
  });

  let reported: string[];
  beforeEach(() => {
    reported = [];
    setErrorReporter((m) => reported.push(m));
  });
  afterEach(() => {
    // decodeVariant reports only exceptions it did not expect, i.e. its own bugs.
    expect(reported).toEqual([]);
  });

  test('huge declared counts fail fast without allocating', () => {
    const cases = [
      '04000000 ffffff7f', // String of 2^31-1 bytes
      '1d000000 ffffff7f 00000000', // PackedByteArray
      '1e000000 00000040 00000000', // PackedInt32Array: 2^30 * 4 overflows int32 in C
      '1f000000 ffffff7f', // PackedInt64Array
      '20000000 ffffff7f',
      '21000000 ffffff7f',
      '22000000 ffffff7f 00000000', // PackedStringArray
      '23000000 ffffff7f',
      '24000000 ffffff7f',
      '25000000 ffffff7f',
      '26000000 ffffff7f',
      '1e000000 ffffffff', // negative count
      '1c000000 ffffffff', // Array: count masked to 2^31-1
      '1b000000 ffffffff 00000000 00000000', // Dictionary
      '16000000 ffffffff ffffffff 00000000', // NodePath: 2^31-1 names + 2^32-1 subnames
    ];
    const start = Date.now();
    for (const c of cases) {
      const before = process.memoryUsage().arrayBuffers;
      const r = decodeVariant(hex(c));
      // Nothing was allocated for the declared size (an unchecked count would add hundreds of MB).
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
      expect(godotDecodeErrors).toContain(r.error);
      expect(r.error).not.toBe(GodotError.OK);
    }
    // Counts that could be allocated (64 MiB of each element type) but exceed the input.
    for (let type = VariantType.PACKED_BYTE_ARRAY; type <= VariantType.PACKED_VECTOR4_ARRAY; type++) {
      const bytes = Buffer.alloc(64);
      bytes.writeUInt32LE(type, 0);
      bytes.writeUInt32LE(16 << 20, 4);
      const before = process.memoryUsage().arrayBuffers;
      expect(decodeVariant(bytes).error).toBe(GodotError.ERR_INVALID_DATA);
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(8 << 20);
    }
    // Object property count, with objects allowed.
    expect(decodeVariant(hex('18000000 04000000 4e6f6465 ffffff7f'), true).error).toBe(GodotError.ERR_INVALID_DATA);
    // A large input full of nulls behind a huge Array count: bounded by the input, not the count.
    const big = Buffer.alloc(8 + 4 * 100000);
    big.writeUInt32LE(28, 0);
    big.writeUInt32LE(0x7fffffff, 4);
    expect(decodeVariant(big).error).toBe(GodotError.ERR_INVALID_DATA);
    expect(Date.now() - start).toBeLessThan(2000);
  });

  function nestedArrays(levels: number): Buffer {
    // levels-1 arrays holding one element each, around an empty innermost array.
    const bytes = Buffer.alloc(8 * levels);
    for (let i = 0; i < levels; i++) {
      bytes.writeUInt32LE(28, 8 * i);
      bytes.writeUInt32LE(i === levels - 1 ? 0 : 1, 8 * i + 4);
    }
    return bytes;
  }

  test('nesting: depth 1024 is the deepest accepted, deeper is ERR_OUT_OF_MEMORY', () => {
    expect(MAX_RECURSION_DEPTH).toBe(1024);
    // The outermost array is at depth 0, so 1025 arrays put the innermost at depth 1024.
    expect(decodeVariant(nestedArrays(1025)).error).toBe(GodotError.OK);
    expect(decodeVariant(nestedArrays(1026)).error).toBe(GodotError.ERR_OUT_OF_MEMORY);
    expect(decodeVariant(nestedArrays(200000)).error).toBe(GodotError.ERR_OUT_OF_MEMORY);
  });

  test('encoding applies the same depth limit', () => {
    const nest = (levels: number): unknown[] => {
      let v: unknown[] = [];
      for (let i = 1; i < levels; i++) v = [v];
      return v;
    };
    const ok = encodeVariant(nest(1025));
    expect(ok.error).toBe(GodotError.OK);
    expect(ok.bytes).toEqual(nestedArrays(1025));
    expect(encodeVariant(nest(1026)).error).toBe(GodotError.ERR_OUT_OF_MEMORY);
  });

  test('random bytes never throw and either fail with a Godot code or re-encode consistently', () => {
    const rand = prng(0x60d07);
    let ok = 0;
    for (let i = 0; i < 6000; i++) {
      const len = Math.floor(rand() * 72);
      const bytes = Buffer.alloc(len);
      for (let j = 0; j < len; j++) bytes[j] = Math.floor(rand() * 256);
      // Bias most inputs towards valid headers and small counts, to reach the deeper paths.
      if (len >= 4 && rand() < 0.8) bytes.writeUInt32LE(Math.floor(rand() * 39) | (rand() < 0.3 ? 0x10000 : 0), 0);
      if (len >= 8 && rand() < 0.6) bytes.writeUInt32LE(Math.floor(rand() * 4), 4);
      const allow = rand() < 0.5;
      let r!: ReturnType<typeof decodeVariant>;
      expect(() => (r = decodeVariant(bytes, allow))).not.toThrow();
      if (r.error !== GodotError.OK) {
        expect(godotDecodeErrors).toContain(r.error);
        expect(r.value).toBeNull();
        continue;
      }
      ok++;
      expect(r.length).toBeGreaterThanOrEqual(4);
      expect(r.length).toBeLessThanOrEqual(len);
      // Whatever we accept we can send back. Re-encoding may narrow 64-bit real_t values to
      // float32 once; from then on encode/decode must be a fixed point.
      const again = encodeVariant(r.value, true);
      expect(again.error).toBe(GodotError.OK);
      const back = decodeVariant(again.bytes, true);
      expect(back.error).toBe(GodotError.OK);
      expect(back.length).toBe(again.bytes.length);
      expect(encodeVariant(back.value, true).bytes.equals(again.bytes)).toBe(true);
      if ((bytes.readUInt32LE(0) & 0x10000) === 0 && (bytes[0] === VariantType.INT || bytes[0] < VariantType.VECTOR2)) {
        expect(back.value).toEqual(r.value);
      }
    }
    expect(ok).toBeGreaterThan(500);
  });
});
