/**
 * Godot 4's binary Variant serialization: the bytes of `var_to_bytes` / `bytes_to_var` and of
 * `PacketPeer.put_var` / `get_var` (Godot's core/io/marshalls.cpp, documented in the manual's
 * "Binary serialization API" page).
 *
 * Every value is a little-endian uint32 header followed by a payload; the whole encoding of any
 * value is a multiple of 4 bytes. Header bits 0-7 hold the {@link VariantType}; bit 16 marks
 * 64-bit payloads for INT, FLOAT and the real_t math types, and object-as-id for OBJECT; bits
 * 16-17 (Array) and 16-19 (Dictionary key, value) hold the element-type kind of typed containers.
 *
 * ## JavaScript ↔ Variant mapping
 *
 * | JavaScript (encode)                                   | Variant             | JavaScript (decode)              |
 * | ----------------------------------------------------- | ------------------- | -------------------------------- |
 * | `null`                                                | NIL                 | `null`                           |
 * | `boolean`                                             | BOOL                | `boolean`                        |
 * | integer-valued `number` (within int64), `bigint`      | INT                 | `number` if safe, else `bigint`  |
 * | other `number` (fraction, NaN, ±Infinity), `GodotFloat` | FLOAT             | `number`                         |
 * | `string`                                              | STRING              | `string`                         |
 * | `StringName`, `NodePath`, `Vector2` … `Projection`, `Color`, `RID`, `Callable`, `Signal` | same | same class |
 * | `ObjectId` / `GodotObject`                            | OBJECT (id / full)  | `ObjectId` / `GodotObject`, or `null` for a null object |
 * | `Array` (`TypedArray` for a typed one)                | ARRAY               | `Array` (`TypedArray` if typed)  |
 * | `Map`, plain object with string keys (`TypedDictionary`) | DICTIONARY       | `Map` (`TypedDictionary` if typed) |
 * | `Uint8Array` / `Buffer`                               | PACKED_BYTE_ARRAY   | `Buffer` (a copy)                |
 * | `Int32Array`, `BigInt64Array`, `Float32Array`, `Float64Array` | PACKED_INT32/INT64/FLOAT32/FLOAT64_ARRAY | same typed array |
 * | `PackedStringArray`, `PackedVector2Array`, `PackedVector3Array`, `PackedColorArray`, `PackedVector4Array` | same | same class |
 *
 * Numbers: an integer-valued number is INT because that is what GDScript would have; wrap it in
 * {@link float} to send a FLOAT. Like Godot, an INT is sent in 32 bits when it fits in int32 and
 * in 64 bits (flagged) otherwise, and a FLOAT is sent as a 32-bit float when that conversion is
 * exact and as a flagged 64-bit double otherwise, so `0.5` takes 4 bytes and `0.1` takes 8.
 *
 * real_t types (Vector2/3/4, Rect2, Plane, Quaternion, AABB, Basis, Transform2D/3D, Projection
 * and their packed arrays) are decoded in either precision, as flagged, and encoded in single
 * precision like a default (non-double) Godot build. Colors are always single precision.
 *
 * Strings are UTF-8. As in Godot, decoding stops at the first NUL byte and rejects invalid UTF-8;
 * encoding cannot represent lone UTF-16 surrogates (they become U+FFFD).
 */

import { TextDecoder } from 'util';
import { GodotError, reportError } from '../core/errors';
import {
  AABB,
  Basis,
  Callable,
  Color,
  ContainerType,
  GodotFloat,
  GodotObject,
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
} from './types';

export * from './types';

/**
 * Godot's `Variant::MAX_RECURSION_DEPTH`. The top-level value is at depth 0 and each Array,
 * Dictionary or full Object adds one level to its contents; anything deeper fails, in both
 * directions, with `ERR_OUT_OF_MEMORY` as in Godot.
 */
export const MAX_RECURSION_DEPTH = 1024;

const TYPE_MASK = 0xff;
const FLAG_64 = 1 << 16;
const FLAG_OBJECT_AS_ID = 1 << 16;
const ARRAY_KIND_SHIFT = 16;
const DICT_KEY_KIND_SHIFT = 16;
const DICT_VALUE_KIND_SHIFT = 18;

const enum ContainerKind {
  NONE = 0,
  BUILTIN = 1,
  CLASS_NAME = 2,
  SCRIPT = 3,
}

/** What Godot reports as the element class of object containers when objects are not allowed. */
const OBJECT_AS_ID_CLASS = 'EncodedObjectAsID';

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

export interface EncodeResult {
  error: GodotError;
  /** The encoding; empty when `error` is not OK. */
  bytes: Buffer;
}

export interface DecodeResult {
  error: GodotError;
  /** The decoded value; `null` when `error` is not OK. */
  value: unknown;
  /** Bytes consumed from the start of the input; 0 when `error` is not OK. */
  length: number;
}

/** Internal: unwinds the recursive coder with a Godot error code. Never escapes this module. */
class Failure {
  constructor(readonly code: GodotError) {}
}

function fail(code: GodotError): never {
  throw new Failure(code);
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** A growable little-endian byte writer; exported for the encoders built on this one (compressed Variants). */
export class VariantWriter {
  private buf = Buffer.alloc(64);
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private pos = 0;

  private reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u32(v: number): void {
    this.reserve(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    this.view.setInt32(this.pos, v, true);
    this.pos += 4;
  }
  i64(v: bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.pos, v, true);
    this.pos += 8;
  }
  u64(v: bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.pos, v, true);
    this.pos += 8;
  }
  f32(v: number): void {
    this.reserve(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }
  f64(v: number): void {
    this.reserve(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /**
   * Zero bytes after a field of `length` bytes, up to a multiple of 4 — of the field, not of the
   * buffer: a Variant may start anywhere (inside a SceneMultiplayer packet, say). Written, since a
   * reused writer holds old bytes.
   */
  pad4(length: number): void {
    const pad = (4 - (length & 3)) & 3;
    this.reserve(pad);
    this.buf.fill(0, this.pos, this.pos + pad);
    this.pos += pad;
  }
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.pos++] = v & 0xff;
  }
  u16(v: number): void {
    this.reserve(2);
    this.view.setUint16(this.pos, v & 0xffff, true);
    this.pos += 2;
  }
  /** Overwrites a uint32 already written at `at`. */
  u32At(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }
  get length(): number {
    return this.pos;
  }
  /** Forgets everything after `length` bytes (to undo a failed write, or to reuse the writer). */
  truncate(length = 0): void {
    this.pos = Math.min(length, this.pos);
  }
  /** A copy of what was written. */
  finish(): Buffer {
    const n = this.pos;
    const out = Buffer.allocUnsafe(n); // from Node's pool when small: no allocation of its own
    const src = this.buf;
    // Small packets (RPCs) copy faster byte by byte than through Buffer#copy's views.
    if (n <= 64) for (let i = 0; i < n; i++) out[i] = src[i];
    else src.copy(out, 0, 0, n);
    return out;
  }
}

interface EncodeContext {
  readonly w: VariantWriter;
  readonly fullObjects: boolean;
  /** Containers on the current path, to refuse cycles before they hit the depth limit. */
  readonly path: Set<object>;
}

function isPlainObject(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Refuses non-numbers instead of letting DataView coerce them to NaN. */
function num(v: unknown): number {
  return typeof v === 'number' ? v : fail(GodotError.ERR_INVALID_PARAMETER);
}

/** The *i types hold int32 on the wire: refuse what would silently wrap or truncate. */
function int32(v: unknown): number {
  return typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX
    ? v
    : fail(GodotError.ERR_INVALID_PARAMETER);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : fail(GodotError.ERR_INVALID_PARAMETER);
}

function uint64(v: unknown): bigint {
  return typeof v === 'bigint' && v >= 0n && v <= UINT64_MAX ? v : fail(GodotError.ERR_INVALID_PARAMETER);
}

function writeString(w: VariantWriter, s: string): void {
  const utf8 = Buffer.from(s, 'utf8');
  w.u32(utf8.length);
  w.bytes(utf8);
  w.pad4(utf8.length);
}

function writeInt(w: VariantWriter, v: bigint): void {
  if (v < INT64_MIN || v > INT64_MAX) fail(GodotError.ERR_INVALID_PARAMETER);
  if (v >= INT32_MIN && v <= INT32_MAX) {
    w.u32(VariantType.INT);
    w.i32(Number(v));
  } else {
    w.u32(VariantType.INT | FLAG_64);
    w.i64(v);
  }
}

/** Godot's rule: single precision whenever the value survives the round trip through float32. */
function writeFloat(w: VariantWriter, v: number): void {
  if (Math.fround(v) === v) {
    w.u32(VariantType.FLOAT);
    w.f32(v);
  } else {
    w.u32(VariantType.FLOAT | FLAG_64);
    w.f64(v);
  }
}

function writeNumber(w: VariantWriter, v: number, preferFloat: boolean): void {
  if (preferFloat || !Number.isInteger(v) || v < -(2 ** 63) || v >= 2 ** 63) writeFloat(w, v);
  else if (v >= INT32_MIN && v <= INT32_MAX) {
    w.u32(VariantType.INT);
    w.i32(v);
  } else writeInt(w, BigInt(v));
}

function f32s(w: VariantWriter, ...vs: unknown[]): void {
  for (const v of vs) w.f32(num(v));
}

function i32s(w: VariantWriter, ...vs: unknown[]): void {
  for (const v of vs) w.i32(int32(v));
}

function containerKind(t: ContainerType | undefined, fullObjects: boolean): ContainerKind {
  if (t === undefined || t.type === VariantType.NIL) return ContainerKind.NONE;
  const valid =
    Number.isInteger(t.type) &&
    t.type > VariantType.NIL &&
    t.type < VariantType.MAX &&
    ((t.className === undefined && t.script === undefined) || t.type === VariantType.OBJECT);
  if (!valid) fail(GodotError.ERR_INVALID_PARAMETER);
  // Without full objects Godot names the class instead of the script, since the peer
  // will only ever see object ids.
  if (t.script !== undefined) return fullObjects ? ContainerKind.SCRIPT : ContainerKind.CLASS_NAME;
  return t.className !== undefined ? ContainerKind.CLASS_NAME : ContainerKind.BUILTIN;
}

function writeContainerType(ctx: EncodeContext, t: ContainerType | undefined): void {
  const kind = containerKind(t, ctx.fullObjects);
  if (t === undefined || kind === ContainerKind.NONE) return;
  if (kind === ContainerKind.BUILTIN) ctx.w.u32(t.type);
  else if (!ctx.fullObjects) writeString(ctx.w, OBJECT_AS_ID_CLASS);
  else writeString(ctx.w, str(kind === ContainerKind.SCRIPT ? t.script : t.className));
}

function isFloatType(t: ContainerType | undefined): boolean {
  return t !== undefined && t.type === VariantType.FLOAT;
}

/** Enters a container, refusing cycles (which Godot would only catch at the depth limit). */
function enter(ctx: EncodeContext, container: object): void {
  if (ctx.path.has(container)) fail(GodotError.ERR_INVALID_PARAMETER);
  ctx.path.add(container);
}

/**
 * Writes one value. `preferFloat` makes integer-valued numbers FLOAT, for elements of typed
 * containers whose element type is float.
 */
function encodeValue(ctx: EncodeContext, v: unknown, depth: number, preferFloat = false): void {
  if (depth > MAX_RECURSION_DEPTH) fail(GodotError.ERR_OUT_OF_MEMORY);
  const w = ctx.w;
  switch (typeof v) {
    case 'boolean':
      w.u32(VariantType.BOOL);
      w.u32(v ? 1 : 0);
      return;
    case 'number':
      writeNumber(w, v, preferFloat);
      return;
    case 'bigint':
      writeInt(w, v);
      return;
    case 'string':
      w.u32(VariantType.STRING);
      writeString(w, v);
      return;
    case 'object':
      if (v === null) w.u32(VariantType.NIL);
      else encodeObject(ctx, v, depth);
      return;
    default: // undefined, function, symbol: no Variant counterpart.
      fail(GodotError.ERR_INVALID_PARAMETER);
  }
}

function encodeObject(ctx: EncodeContext, v: object, depth: number): void {
  const w = ctx.w;
  if (v instanceof GodotFloat) {
    writeFloat(w, num(v.value));
  } else if (v instanceof StringName) {
    w.u32(VariantType.STRING_NAME);
    writeString(w, str(v.value));
  } else if (v instanceof NodePath) {
    w.u32(VariantType.NODE_PATH);
    // The high bit distinguishes this layout from Godot 2's plain-string node paths.
    w.u32((v.names.length | 0x80000000) >>> 0);
    w.u32(v.subnames.length);
    w.u32(v.absolute ? 1 : 0);
    for (const s of [...v.names, ...v.subnames]) writeString(w, str(s));
  } else if (v instanceof Vector2) {
    w.u32(VariantType.VECTOR2);
    f32s(w, v.x, v.y);
  } else if (v instanceof Vector2i) {
    w.u32(VariantType.VECTOR2I);
    i32s(w, v.x, v.y);
  } else if (v instanceof Rect2) {
    w.u32(VariantType.RECT2);
    f32s(w, v.position.x, v.position.y, v.size.x, v.size.y);
  } else if (v instanceof Rect2i) {
    w.u32(VariantType.RECT2I);
    i32s(w, v.position.x, v.position.y, v.size.x, v.size.y);
  } else if (v instanceof Vector3) {
    w.u32(VariantType.VECTOR3);
    f32s(w, v.x, v.y, v.z);
  } else if (v instanceof Vector3i) {
    w.u32(VariantType.VECTOR3I);
    i32s(w, v.x, v.y, v.z);
  } else if (v instanceof Transform2D) {
    w.u32(VariantType.TRANSFORM2D);
    f32s(w, v.x.x, v.x.y, v.y.x, v.y.y, v.origin.x, v.origin.y);
  } else if (v instanceof Vector4) {
    w.u32(VariantType.VECTOR4);
    f32s(w, v.x, v.y, v.z, v.w);
  } else if (v instanceof Vector4i) {
    w.u32(VariantType.VECTOR4I);
    i32s(w, v.x, v.y, v.z, v.w);
  } else if (v instanceof Plane) {
    w.u32(VariantType.PLANE);
    f32s(w, v.normal.x, v.normal.y, v.normal.z, v.d);
  } else if (v instanceof Quaternion) {
    w.u32(VariantType.QUATERNION);
    f32s(w, v.x, v.y, v.z, v.w);
  } else if (v instanceof AABB) {
    w.u32(VariantType.AABB);
    f32s(w, v.position.x, v.position.y, v.position.z, v.size.x, v.size.y, v.size.z);
  } else if (v instanceof Basis) {
    w.u32(VariantType.BASIS);
    writeBasisRows(w, v);
  } else if (v instanceof Transform3D) {
    w.u32(VariantType.TRANSFORM3D);
    writeBasisRows(w, v.basis);
    f32s(w, v.origin.x, v.origin.y, v.origin.z);
  } else if (v instanceof Projection) {
    w.u32(VariantType.PROJECTION);
    for (const c of [v.x, v.y, v.z, v.w]) f32s(w, c.x, c.y, c.z, c.w);
  } else if (v instanceof Color) {
    w.u32(VariantType.COLOR);
    f32s(w, v.r, v.g, v.b, v.a);
  } else if (v instanceof RID) {
    w.u32(VariantType.RID);
    w.u64(uint64(v.id));
  } else if (v instanceof ObjectId) {
    // Always the id form: a bare id cannot be expanded into a full object.
    w.u32(VariantType.OBJECT | FLAG_OBJECT_AS_ID);
    w.u64(uint64(v.id));
  } else if (v instanceof GodotObject) {
    // Godot would send the instance id here, which a description does not have.
    if (!ctx.fullObjects) fail(GodotError.ERR_INVALID_PARAMETER);
    enter(ctx, v);
    w.u32(VariantType.OBJECT);
    writeString(w, str(v.className));
    w.u32(v.properties.size);
    for (const [name, value] of v.properties) {
      writeString(w, str(name));
      encodeValue(ctx, value, depth + 1);
    }
    ctx.path.delete(v);
  } else if (v instanceof Callable) {
    w.u32(VariantType.CALLABLE);
  } else if (v instanceof Signal) {
    w.u32(VariantType.SIGNAL);
    writeString(w, str(v.name));
    w.u64(uint64(v.objectId));
  } else if (v instanceof Uint8Array) {
    w.u32(VariantType.PACKED_BYTE_ARRAY);
    w.u32(v.length);
    w.bytes(v);
    w.pad4(v.length);
  } else if (v instanceof Int32Array) {
    w.u32(VariantType.PACKED_INT32_ARRAY);
    w.u32(v.length);
    for (const x of v) w.i32(x);
  } else if (v instanceof BigInt64Array) {
    w.u32(VariantType.PACKED_INT64_ARRAY);
    w.u32(v.length);
    for (const x of v) w.i64(x);
  } else if (v instanceof Float32Array) {
    w.u32(VariantType.PACKED_FLOAT32_ARRAY);
    w.u32(v.length);
    for (const x of v) w.f32(x);
  } else if (v instanceof Float64Array) {
    w.u32(VariantType.PACKED_FLOAT64_ARRAY);
    w.u32(v.length);
    for (const x of v) w.f64(x);
  } else if (v instanceof PackedStringArray) {
    w.u32(VariantType.PACKED_STRING_ARRAY);
    w.u32(v.values.length);
    for (const s of v.values) {
      // Unlike other strings, Godot counts and sends each element's NUL terminator.
      const utf8 = Buffer.from(str(s), 'utf8');
      w.u32(utf8.length + 1);
      w.bytes(utf8);
      w.bytes(new Uint8Array(1));
      w.pad4(utf8.length + 1);
    }
  } else if (v instanceof PackedVector2Array) {
    w.u32(VariantType.PACKED_VECTOR2_ARRAY);
    w.u32(v.values.length);
    for (const e of v.values) f32s(w, e.x, e.y);
  } else if (v instanceof PackedVector3Array) {
    w.u32(VariantType.PACKED_VECTOR3_ARRAY);
    w.u32(v.values.length);
    for (const e of v.values) f32s(w, e.x, e.y, e.z);
  } else if (v instanceof PackedColorArray) {
    w.u32(VariantType.PACKED_COLOR_ARRAY);
    w.u32(v.values.length);
    for (const e of v.values) f32s(w, e.r, e.g, e.b, e.a);
  } else if (v instanceof PackedVector4Array) {
    w.u32(VariantType.PACKED_VECTOR4_ARRAY);
    w.u32(v.values.length);
    for (const e of v.values) f32s(w, e.x, e.y, e.z, e.w);
  } else if (Array.isArray(v)) {
    enter(ctx, v);
    const elementType = v instanceof TypedArray ? v.elementType : undefined;
    w.u32(VariantType.ARRAY | (containerKind(elementType, ctx.fullObjects) << ARRAY_KIND_SHIFT));
    writeContainerType(ctx, elementType);
    w.u32(v.length);
    // Index loop rather than for-of: holes in sparse arrays must reach the undefined check.
    for (let i = 0; i < v.length; i++) encodeValue(ctx, v[i], depth + 1, isFloatType(elementType));
    ctx.path.delete(v);
  } else if (v instanceof Map || isPlainObject(v)) {
    enter(ctx, v);
    const typed = v instanceof TypedDictionary ? v : undefined;
    const entries: Iterable<[unknown, unknown]> = v instanceof Map ? v.entries() : Object.entries(v);
    const size = v instanceof Map ? v.size : Object.keys(v).length;
    w.u32(
      VariantType.DICTIONARY |
        (containerKind(typed?.keyType, ctx.fullObjects) << DICT_KEY_KIND_SHIFT) |
        (containerKind(typed?.valueType, ctx.fullObjects) << DICT_VALUE_KIND_SHIFT),
    );
    writeContainerType(ctx, typed?.keyType);
    writeContainerType(ctx, typed?.valueType);
    w.u32(size);
    for (const [key, value] of entries) {
      encodeValue(ctx, key, depth + 1, isFloatType(typed?.keyType));
      encodeValue(ctx, value, depth + 1, isFloatType(typed?.valueType));
    }
    ctx.path.delete(v);
  } else {
    // Other class instances, other typed arrays, Date, Set, ...: no faithful Variant.
    fail(GodotError.ERR_INVALID_PARAMETER);
  }
}

/** Godot stores Basis as rows; our Basis holds GDScript's column vectors. */
function writeBasisRows(w: VariantWriter, b: Basis): void {
  f32s(w, b.x.x, b.y.x, b.z.x, b.x.y, b.y.y, b.z.y, b.x.z, b.y.z, b.z.z);
}

/**
 * Serializes `value` as Godot's `encode_variant` does. See the module documentation for the
 * JS ↔ Variant mapping.
 *
 * Never throws. Values with no Variant counterpart (`undefined`, functions, symbols, class
 * instances not listed in the mapping, out-of-range integers for INT / int32 / uint64 fields,
 * non-numbers in numeric fields, cyclic structures, a `GodotObject` without `fullObjects`) give
 * `ERR_INVALID_PARAMETER`, the code Godot uses for objects it cannot serialize; nesting deeper
 * than {@link MAX_RECURSION_DEPTH} gives `ERR_OUT_OF_MEMORY` like Godot. On error `bytes` is empty.
 *
 * @param fullObjects Godot's `full_objects`: allows `GodotObject` and makes typed containers of a
 *   script class name the script; `ObjectId` is always sent as an id.
 */
export function encodeVariant(value: unknown, fullObjects = false): EncodeResult {
  const w = new VariantWriter();
  const error = writeVariant(w, value, fullObjects);
  return { error, bytes: error === GodotError.OK ? w.finish() : Buffer.alloc(0) };
}

/**
 * Appends the encoding of `value` to `w` (see {@link encodeVariant}); on failure nothing is appended
 * and the error is returned. `preferFloat` sends integer-valued numbers as FLOAT (a parameter typed
 * `float`).
 */
export function writeVariant(w: VariantWriter, value: unknown, fullObjects = false, preferFloat = false): GodotError {
  const start = w.length;
  try {
    encodeValue({ w, fullObjects, path: new Set() }, value, 0, preferFloat);
    return GodotError.OK;
  } catch (e) {
    w.truncate(start);
    // Anything else (a throwing getter or Proxy in the input, ...) is still the input's fault.
    return e instanceof Failure ? e.code : GodotError.ERR_INVALID_PARAMETER;
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** A bounds-checked little-endian reader; every failure throws the internal Failure. */
export class VariantReader {
  private data: Uint8Array;
  // Over the whole ArrayBuffer of `data`, so that reset() to another part of it needs no new view.
  private view: DataView;
  private base: number;
  private end: number;
  pos = 0;

  constructor(data: Uint8Array) {
    this.data = data;
    this.view = new DataView(data.buffer);
    this.base = data.byteOffset;
    this.end = data.length;
  }

  /** Reads `data` from `pos` up to `end` (its length by default), as a new reader would. */
  reset(data: Uint8Array, pos = 0, end = data.length): void {
    if (data.buffer !== this.view.buffer) this.view = new DataView(data.buffer);
    this.data = data;
    this.base = data.byteOffset;
    this.pos = pos;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n > this.remaining) fail(GodotError.ERR_INVALID_DATA);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.base + this.pos++);
  }
  i8(): number {
    this.need(1);
    return this.view.getInt8(this.base + this.pos++);
  }
  i16(): number {
    this.need(2);
    this.pos += 2;
    return this.view.getInt16(this.base + this.pos - 2, true);
  }
  u32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getUint32(this.base + this.pos - 4, true);
  }
  i32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getInt32(this.base + this.pos - 4, true);
  }
  u64(): bigint {
    this.need(8);
    this.pos += 8;
    return this.view.getBigUint64(this.base + this.pos - 8, true);
  }
  i64(): bigint {
    this.need(8);
    this.pos += 8;
    return this.view.getBigInt64(this.base + this.pos - 8, true);
  }
  f32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getFloat32(this.base + this.pos - 4, true);
  }
  f64(): number {
    this.need(8);
    this.pos += 8;
    return this.view.getFloat64(this.base + this.pos - 8, true);
  }
  /** A real_t: double when the header has the 64-bit flag, else float. */
  real(wide: boolean): number {
    return wide ? this.f64() : this.f32();
  }
  slice(n: number): Uint8Array {
    this.need(n);
    this.pos += n;
    return this.data.subarray(this.pos - n, this.pos);
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }

  /**
   * A packed array's element count, refused (as Godot does) when negative or when that many
   * elements of `size` bytes cannot fit in what is left: nothing is allocated before this check.
   */
  count(size: number): number {
    const n = this.i32();
    if (n < 0 || n * size > this.remaining) fail(GodotError.ERR_INVALID_DATA);
    return n;
  }

  /** Godot's `_decode_string`: uint32 length, UTF-8 bytes, zero padding to 4. */
  string(): string {
    const n = this.i32();
    const pad = (4 - (n & 3)) & 3;
    // Godot reports a string that runs past the end as ERR_FILE_EOF, not ERR_INVALID_DATA.
    if (n < 0 || n + pad > this.remaining) fail(GodotError.ERR_FILE_EOF);
    const bytes = this.slice(n);
    this.pos += pad;
    // Godot's UTF-8 parser stops at the first NUL (PackedStringArray elements include one).
    const nul = bytes.indexOf(0);
    try {
      return utf8Decoder.decode(nul < 0 ? bytes : bytes.subarray(0, nul));
    } catch {
      return fail(GodotError.ERR_INVALID_DATA);
    }
  }
}

function readContainerType(r: VariantReader, kind: number, allowObjects: boolean): ContainerType {
  switch (kind) {
    case ContainerKind.BUILTIN: {
      const type = r.i32();
      if (type < 0 || type >= VariantType.MAX) fail(GodotError.ERR_INVALID_DATA);
      return type === VariantType.OBJECT && !allowObjects ? { type, className: OBJECT_AS_ID_CLASS } : { type };
    }
    case ContainerKind.CLASS_NAME: {
      const className = r.string();
      return { type: VariantType.OBJECT, className: allowObjects ? className : OBJECT_AS_ID_CLASS };
    }
    case ContainerKind.SCRIPT: {
      const script = r.string();
      if (!allowObjects) return { type: VariantType.OBJECT, className: OBJECT_AS_ID_CLASS };
      // Godot loads the script here; we can only refuse what it could never load.
      if (!script.startsWith('res://')) fail(GodotError.ERR_INVALID_DATA);
      return { type: VariantType.OBJECT, script };
    }
    default:
      return { type: VariantType.NIL };
  }
}

function readVector2(r: VariantReader, wide: boolean): Vector2 {
  return new Vector2(r.real(wide), r.real(wide));
}
function readVector3(r: VariantReader, wide: boolean): Vector3 {
  return new Vector3(r.real(wide), r.real(wide), r.real(wide));
}
function readVector4(r: VariantReader, wide: boolean): Vector4 {
  return new Vector4(r.real(wide), r.real(wide), r.real(wide), r.real(wide));
}
function readColor(r: VariantReader): Color {
  return new Color(r.f32(), r.f32(), r.f32(), r.f32());
}
/** Reads Godot's row-major basis into column vectors. */
function readBasis(r: VariantReader, wide: boolean): Basis {
  const m = Array.from({ length: 9 }, () => r.real(wide));
  return new Basis(new Vector3(m[0], m[3], m[6]), new Vector3(m[1], m[4], m[7]), new Vector3(m[2], m[5], m[8]));
}

function intValue(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

interface DecodeOptions {
  readonly allowObjects: boolean;
  /** Integer-valued FLOATs in untyped places decode as GodotFloat, so that sending them back keeps FLOAT. */
  readonly preserveFloats: boolean;
}

function decodeValue(r: VariantReader, opts: DecodeOptions, depth: number, typedFloat = false): unknown {
  const allowObjects = opts.allowObjects;
  if (depth > MAX_RECURSION_DEPTH) fail(GodotError.ERR_OUT_OF_MEMORY);
  const header = r.u32();
  const wide = (header & FLAG_64) !== 0;
  switch (header & TYPE_MASK) {
    case VariantType.NIL:
      return null;
    case VariantType.BOOL:
      return r.u32() !== 0;
    case VariantType.INT:
      return wide ? intValue(r.i64()) : r.i32();
    case VariantType.FLOAT: {
      const v = r.real(wide);
      return opts.preserveFloats && !typedFloat && Number.isInteger(v) ? new GodotFloat(v) : v;
    }
    case VariantType.STRING:
      return r.string();
    case VariantType.VECTOR2:
      return readVector2(r, wide);
    case VariantType.VECTOR2I:
      return new Vector2i(r.i32(), r.i32());
    case VariantType.RECT2:
      return new Rect2(readVector2(r, wide), readVector2(r, wide));
    case VariantType.RECT2I:
      return new Rect2i(new Vector2i(r.i32(), r.i32()), new Vector2i(r.i32(), r.i32()));
    case VariantType.VECTOR3:
      return readVector3(r, wide);
    case VariantType.VECTOR3I:
      return new Vector3i(r.i32(), r.i32(), r.i32());
    case VariantType.TRANSFORM2D:
      return new Transform2D(readVector2(r, wide), readVector2(r, wide), readVector2(r, wide));
    case VariantType.VECTOR4:
      return readVector4(r, wide);
    case VariantType.VECTOR4I:
      return new Vector4i(r.i32(), r.i32(), r.i32(), r.i32());
    case VariantType.PLANE:
      return new Plane(readVector3(r, wide), r.real(wide));
    case VariantType.QUATERNION:
      return new Quaternion(r.real(wide), r.real(wide), r.real(wide), r.real(wide));
    case VariantType.AABB:
      return new AABB(readVector3(r, wide), readVector3(r, wide));
    case VariantType.BASIS:
      return readBasis(r, wide);
    case VariantType.TRANSFORM3D:
      return new Transform3D(readBasis(r, wide), readVector3(r, wide));
    case VariantType.PROJECTION:
      return new Projection(readVector4(r, wide), readVector4(r, wide), readVector4(r, wide), readVector4(r, wide));
    case VariantType.COLOR:
      return readColor(r);
    case VariantType.STRING_NAME:
      return new StringName(r.string());
    case VariantType.NODE_PATH: {
      const first = r.u32();
      // Without the high bit this would be Godot 2's string form, which Godot 4 refuses too.
      if ((first & 0x80000000) === 0) fail(GodotError.ERR_INVALID_DATA);
      const nameCount = first & 0x7fffffff;
      let subnameCount = r.u32();
      const flags = r.u32();
      // Bit 1: an old layout that kept the property apart from the subpath; it is one more subname.
      if (flags & 2) subnameCount = (subnameCount + 1) >>> 0;
      // uint32 arithmetic as in Godot; each string needs 4 bytes, so the loop is bounded by the input.
      const total = (nameCount + subnameCount) >>> 0;
      const names: string[] = [];
      const subnames: string[] = [];
      for (let i = 0; i < total; i++) (i < nameCount ? names : subnames).push(r.string());
      return new NodePath(names, subnames, (flags & 1) !== 0);
    }
    case VariantType.RID:
      return new RID(r.u64());
    case VariantType.OBJECT: {
      // Object ids are inert numbers, so Godot accepts them even when objects are not allowed.
      if (header & FLAG_OBJECT_AS_ID) {
        const id = r.u64();
        return id === 0n ? null : new ObjectId(id);
      }
      if (!allowObjects) fail(GodotError.ERR_UNAUTHORIZED);
      const className = r.string();
      if (className === '') return null;
      const count = r.i32();
      const properties = new Map<string, unknown>();
      for (let i = 0; i < count; i++) {
        const name = r.string();
        properties.set(name, decodeValue(r, opts, depth + 1));
      }
      return new GodotObject(className, properties);
    }
    case VariantType.CALLABLE:
      return new Callable();
    case VariantType.SIGNAL: {
      const name = r.string();
      return new Signal(name, r.u64());
    }
    case VariantType.DICTIONARY: {
      const keyType = readContainerType(r, (header >>> DICT_KEY_KIND_SHIFT) & 3, allowObjects);
      const valueType = readContainerType(r, (header >>> DICT_VALUE_KIND_SHIFT) & 3, allowObjects);
      // Bit 31 once meant "shared" and is ignored. No pre-allocation: every entry consumes at least
      // 8 bytes, so a huge count just runs out of input.
      const count = r.u32() & 0x7fffffff;
      const typed = keyType.type !== VariantType.NIL || valueType.type !== VariantType.NIL;
      const dict = typed ? new TypedDictionary<unknown, unknown>(keyType, valueType) : new Map<unknown, unknown>();
      for (let i = 0; i < count; i++) {
        const key = decodeValue(r, opts, depth + 1, keyType.type === VariantType.FLOAT);
        dict.set(key, decodeValue(r, opts, depth + 1, valueType.type === VariantType.FLOAT));
      }
      return dict;
    }
    case VariantType.ARRAY: {
      const elementType = readContainerType(r, (header >>> ARRAY_KIND_SHIFT) & 3, allowObjects);
      const count = r.u32() & 0x7fffffff;
      const array: unknown[] = elementType.type !== VariantType.NIL ? new TypedArray(elementType) : [];
      const floats = elementType.type === VariantType.FLOAT;
      for (let i = 0; i < count; i++) array.push(decodeValue(r, opts, depth + 1, floats));
      return array;
    }
    case VariantType.PACKED_BYTE_ARRAY: {
      const n = r.count(1);
      const bytes = Buffer.from(r.slice(n));
      // Godot accepts a final byte array whose padding was cut off.
      r.pos += Math.min((4 - (n & 3)) & 3, r.remaining);
      return bytes;
    }
    case VariantType.PACKED_INT32_ARRAY: {
      const out = new Int32Array(r.count(4));
      for (let i = 0; i < out.length; i++) out[i] = r.i32();
      return out;
    }
    case VariantType.PACKED_INT64_ARRAY: {
      const out = new BigInt64Array(r.count(8));
      for (let i = 0; i < out.length; i++) out[i] = r.i64();
      return out;
    }
    case VariantType.PACKED_FLOAT32_ARRAY: {
      const out = new Float32Array(r.count(4));
      for (let i = 0; i < out.length; i++) out[i] = r.f32();
      return out;
    }
    case VariantType.PACKED_FLOAT64_ARRAY: {
      const out = new Float64Array(r.count(8));
      for (let i = 0; i < out.length; i++) out[i] = r.f64();
      return out;
    }
    case VariantType.PACKED_STRING_ARRAY: {
      // A negative count is an empty array in Godot; each string needs 4 bytes, so no pre-check.
      const count = r.i32();
      const values: string[] = [];
      for (let i = 0; i < count; i++) values.push(r.string());
      return new PackedStringArray(values);
    }
    case VariantType.PACKED_VECTOR2_ARRAY: {
      const n = r.count(wide ? 16 : 8);
      return new PackedVector2Array(Array.from({ length: n }, () => readVector2(r, wide)));
    }
    case VariantType.PACKED_VECTOR3_ARRAY: {
      const n = r.count(wide ? 24 : 12);
      return new PackedVector3Array(Array.from({ length: n }, () => readVector3(r, wide)));
    }
    case VariantType.PACKED_COLOR_ARRAY: {
      const n = r.count(16);
      return new PackedColorArray(Array.from({ length: n }, () => readColor(r)));
    }
    case VariantType.PACKED_VECTOR4_ARRAY: {
      const n = r.count(wide ? 32 : 16);
      return new PackedVector4Array(Array.from({ length: n }, () => readVector4(r, wide)));
    }
    default:
      return fail(GodotError.ERR_INVALID_DATA);
  }
}

/**
 * Reads one value from the start of `bytes`, as Godot's `decode_variant` does; bytes after it are
 * ignored and `length` says how many were used. See the module documentation for the mapping.
 *
 * Never throws, and allocates nothing before checking that the declared size fits in the input.
 * Failures use Godot's codes: `ERR_INVALID_DATA` for truncated input, unknown type ids, bad
 * counts and invalid UTF-8; `ERR_FILE_EOF` for a string whose declared length runs past the end;
 * `ERR_UNAUTHORIZED` for a full object when `allowObjects` is false (object *ids* are always
 * accepted, as in Godot); `ERR_OUT_OF_MEMORY` for nesting deeper than {@link MAX_RECURSION_DEPTH}.
 *
 * @param allowObjects Godot's `allow_objects`: accept full objects (as `GodotObject`
 *   descriptions; no class is instantiated) and report object-typed containers' real class.
 */
export function decodeVariant(bytes: Uint8Array, allowObjects = false, preserveFloats = false): DecodeResult {
  const r = new VariantReader(bytes);
  const result = readVariant(r, allowObjects, preserveFloats);
  return { ...result, length: result.error === GodotError.OK ? r.pos : 0 };
}

/**
 * Reads one value at `r.pos` (see {@link decodeVariant}) and advances past it; on failure `r.pos`
 * is left where it was. `preserveFloats`: integer-valued FLOATs outside typed containers decode as
 * {@link GodotFloat} (which behaves as a number in arithmetic), so a value sent back keeps its type.
 */
export function readVariant(r: VariantReader, allowObjects = false, preserveFloats = false): { error: GodotError; value: unknown } {
  const start = r.pos;
  try {
    return { error: GodotError.OK, value: decodeValue(r, { allowObjects, preserveFloats }, 0) };
  } catch (e) {
    r.pos = start;
    if (e instanceof Failure) return { error: e.code, value: null };
    // Every check throws Failure, so this is a bug here; the input is still refused, not thrown back.
    reportError(`decodeVariant: unexpected ${String(e)}`);
    return { error: GodotError.ERR_INVALID_DATA, value: null };
  }
}

// ---------------------------------------------------------------------------------------------
// Godot's global functions

/** Godot's `var_to_bytes`: objects go as ids; on failure reports an error and returns an empty buffer. */
export function varToBytes(value: unknown): Buffer {
  return encodeOrReport(value, false);
}

/** Godot's `var_to_bytes_with_objects`: as {@link varToBytes}, with `GodotObject`s serialized in full. */
export function varToBytesWithObjects(value: unknown): Buffer {
  return encodeOrReport(value, true);
}

/** Godot's `bytes_to_var`: full objects are refused; on failure reports an error and returns `null`. */
export function bytesToVar(bytes: Uint8Array): unknown {
  return decodeOrReport(bytes, false);
}

/** Godot's `bytes_to_var_with_objects`: as {@link bytesToVar}, accepting full objects. */
export function bytesToVarWithObjects(bytes: Uint8Array): unknown {
  return decodeOrReport(bytes, true);
}

function encodeOrReport(value: unknown, fullObjects: boolean): Buffer {
  const { error, bytes } = encodeVariant(value, fullObjects);
  if (error !== GodotError.OK) reportError(`var_to_bytes: value cannot be serialized (error ${error}).`);
  return bytes;
}

function decodeOrReport(bytes: Uint8Array, allowObjects: boolean): unknown {
  const { error, value } = decodeVariant(bytes, allowObjects);
  if (error !== GodotError.OK) reportError(`bytes_to_var: error ${error} when trying to decode Variant.`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// The compressed form SceneMultiplayer uses for RPC arguments and replicated state (Godot's
// MultiplayerAPI::encode_and_compress_variant). Only the top level differs from the plain form: the
// first byte holds the type in bits 0-5 and an encoding mode in bits 6-7. BOOL is that byte alone
// (bit 7 = the value); INT is that byte plus the value in the smallest of 1/2/4/8 bytes (mode 0-3);
// every other type is its plain encoding, whose first byte already is the type.

const COMPRESSED_TYPE_MASK = 0x3f;
const COMPRESSED_MODE_SHIFT = 6;

/** Appends the compressed encoding of `value`; on failure nothing is appended. */
export function writeCompressedVariant(w: VariantWriter, value: unknown, fullObjects = false, preferFloat = false): GodotError {
  if (typeof value === 'boolean') {
    w.u8(VariantType.BOOL | (value ? 0x80 : 0));
    return GodotError.OK;
  }
  if (typeof value === 'number' && !preferFloat && (value | 0) === value) {
    writeCompressedInt32(w, value); // the common case, without a BigInt
    return GodotError.OK;
  }
  const int = compressibleInt(value, preferFloat);
  if (int === undefined) return writeVariant(w, value, fullObjects, preferFloat);
  if (int < INT64_MIN || int > INT64_MAX) return GodotError.ERR_INVALID_PARAMETER;
  if (int >= BigInt(INT32_MIN) && int <= BigInt(INT32_MAX)) {
    writeCompressedInt32(w, Number(int));
  } else {
    w.u8(VariantType.INT | (3 << COMPRESSED_MODE_SHIFT));
    w.i64(int);
  }
  return GodotError.OK;
}

// A compressed INT in the fewest bytes Godot uses for it: 1, 2 or 4.
function writeCompressedInt32(w: VariantWriter, int: number): void {
  if (int >= -0x80 && int <= 0x7f) {
    w.u8(VariantType.INT);
    w.u8(int);
  } else if (int >= -0x8000 && int <= 0x7fff) {
    w.u8(VariantType.INT | (1 << COMPRESSED_MODE_SHIFT));
    w.u16(int);
  } else {
    w.u8(VariantType.INT | (2 << COMPRESSED_MODE_SHIFT));
    w.i32(int);
  }
}

/** The INT a value encodes as (see the module's mapping), or undefined if it is not an INT. */
function compressibleInt(value: unknown, preferFloat: boolean): bigint | undefined {
  if (typeof value === 'bigint') return value;
  if (typeof value !== 'number' || preferFloat || !Number.isInteger(value)) return undefined;
  return value >= -(2 ** 63) && value < 2 ** 63 ? BigInt(value) : undefined;
}

/** Reads one compressed value at `r.pos` and advances past it; on failure `r.pos` is unchanged. */
export function readCompressedVariant(r: VariantReader, allowObjects = false, preserveFloats = false): { error: GodotError; value: unknown } {
  const start = r.pos;
  try {
    const meta = r.u8();
    const type = meta & COMPRESSED_TYPE_MASK;
    if (type >= VariantType.MAX) fail(GodotError.ERR_INVALID_DATA);
    if (type === VariantType.BOOL) return { error: GodotError.OK, value: (meta & 0x80) !== 0 };
    if (type === VariantType.INT) {
      const mode = meta >> COMPRESSED_MODE_SHIFT;
      const value = mode === 0 ? r.i8() : mode === 1 ? r.i16() : mode === 2 ? r.i32() : intValue(r.i64());
      return { error: GodotError.OK, value };
    }
  } catch (e) {
    r.pos = start;
    if (e instanceof Failure) return { error: e.code, value: null };
    throw e;
  }
  // Any other type is its plain form, header included: the plain decoder takes the type from the whole
  // first byte, so stray mode bits there are refused as an unknown type, as in Godot.
  r.pos = start;
  return readVariant(r, allowObjects, preserveFloats);
}
