/**
 * JavaScript classes for the Godot 4 Variant types that have no native JavaScript counterpart.
 *
 * Every class is a small immutable value holder whose field names follow Godot's GDScript API
 * (`x`, `y`, `position`, `size`, `normal`, `d`, `r`, `g`, `b`, `a`, `origin`, ...). They do no
 * math: they exist so that a value decoded from a Godot peer can be re-encoded to exactly the
 * same Variant type, and so that callers can say which Godot type they mean to send.
 *
 * The full JS ↔ Variant mapping is documented on `encodeVariant` / `decodeVariant` in
 * `variant.ts`.
 */

/** Godot 4's `Variant.Type` numbers (the low byte of every serialized value's header). */
export enum VariantType {
  NIL = 0,
  BOOL = 1,
  INT = 2,
  FLOAT = 3,
  STRING = 4,
  VECTOR2 = 5,
  VECTOR2I = 6,
  RECT2 = 7,
  RECT2I = 8,
  VECTOR3 = 9,
  VECTOR3I = 10,
  TRANSFORM2D = 11,
  VECTOR4 = 12,
  VECTOR4I = 13,
  PLANE = 14,
  QUATERNION = 15,
  AABB = 16,
  BASIS = 17,
  TRANSFORM3D = 18,
  PROJECTION = 19,
  COLOR = 20,
  STRING_NAME = 21,
  NODE_PATH = 22,
  RID = 23,
  OBJECT = 24,
  CALLABLE = 25,
  SIGNAL = 26,
  DICTIONARY = 27,
  ARRAY = 28,
  PACKED_BYTE_ARRAY = 29,
  PACKED_INT32_ARRAY = 30,
  PACKED_INT64_ARRAY = 31,
  PACKED_FLOAT32_ARRAY = 32,
  PACKED_FLOAT64_ARRAY = 33,
  PACKED_STRING_ARRAY = 34,
  PACKED_VECTOR2_ARRAY = 35,
  PACKED_VECTOR3_ARRAY = 36,
  PACKED_COLOR_ARRAY = 37,
  /** Added in Godot 4.3. */
  PACKED_VECTOR4_ARRAY = 38,
  MAX = 39,
}

/**
 * Forces a JavaScript number to be sent as a Godot `float` even when it is integer-valued
 * (a bare `1` would otherwise become the `int` 1). Create one with {@link float}.
 */
export class GodotFloat {
  constructor(readonly value: number) {}

  /** Arithmetic and comparisons (`f * 2`, `f < 3`) see the number; `===` does not. */
  valueOf(): number {
    return this.value;
  }

  toString(): string {
    return String(this.value);
  }

  toJSON(): number {
    return this.value;
  }
}

/** `float(1)` is sent as the Godot float `1.0`, where a bare `1` is sent as the int `1`. */
export function float(value: number): GodotFloat {
  return new GodotFloat(value);
}

export class Vector2 {
  constructor(
    readonly x = 0,
    readonly y = 0,
  ) {}
}

/** Components are 32-bit signed integers on the wire. */
export class Vector2i {
  constructor(
    readonly x = 0,
    readonly y = 0,
  ) {}
}

export class Vector3 {
  constructor(
    readonly x = 0,
    readonly y = 0,
    readonly z = 0,
  ) {}
}

/** Components are 32-bit signed integers on the wire. */
export class Vector3i {
  constructor(
    readonly x = 0,
    readonly y = 0,
    readonly z = 0,
  ) {}
}

export class Vector4 {
  constructor(
    readonly x = 0,
    readonly y = 0,
    readonly z = 0,
    readonly w = 0,
  ) {}
}

/** Components are 32-bit signed integers on the wire. */
export class Vector4i {
  constructor(
    readonly x = 0,
    readonly y = 0,
    readonly z = 0,
    readonly w = 0,
  ) {}
}

export class Rect2 {
  constructor(
    readonly position = new Vector2(),
    readonly size = new Vector2(),
  ) {}
}

export class Rect2i {
  constructor(
    readonly position = new Vector2i(),
    readonly size = new Vector2i(),
  ) {}
}

/** Defaults to the identity rotation, as in Godot. */
export class Quaternion {
  constructor(
    readonly x = 0,
    readonly y = 0,
    readonly z = 0,
    readonly w = 1,
  ) {}
}

/** Always sent as four 32-bit floats, even by double-precision Godot builds. */
export class Color {
  constructor(
    readonly r = 0,
    readonly g = 0,
    readonly b = 0,
    readonly a = 1,
  ) {}
}

export class Plane {
  constructor(
    readonly normal = new Vector3(),
    readonly d = 0,
  ) {}
}

export class AABB {
  constructor(
    readonly position = new Vector3(),
    readonly size = new Vector3(),
  ) {}
}

/**
 * A 3×3 matrix given by its column vectors `x`, `y`, `z`, as GDScript's `Basis.x/.y/.z`.
 * (The wire format is row-major; the codec transposes.) Defaults to the identity.
 */
export class Basis {
  constructor(
    readonly x = new Vector3(1, 0, 0),
    readonly y = new Vector3(0, 1, 0),
    readonly z = new Vector3(0, 0, 1),
  ) {}
}

/** Columns `x`, `y` and `origin`, as GDScript's `Transform2D`. Defaults to the identity. */
export class Transform2D {
  constructor(
    readonly x = new Vector2(1, 0),
    readonly y = new Vector2(0, 1),
    readonly origin = new Vector2(),
  ) {}
}

export class Transform3D {
  constructor(
    readonly basis = new Basis(),
    readonly origin = new Vector3(),
  ) {}
}

/** A 4×4 matrix given by its column vectors, as GDScript's `Projection`. Defaults to the identity. */
export class Projection {
  constructor(
    readonly x = new Vector4(1, 0, 0, 0),
    readonly y = new Vector4(0, 1, 0, 0),
    readonly z = new Vector4(0, 0, 1, 0),
    readonly w = new Vector4(0, 0, 0, 1),
  ) {}
}

/** Godot's interned string type (`&"name"` in GDScript); a plain JS string is sent as `String`. */
export class StringName {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

/**
 * A node path such as `/root/Main/Player:position:x`: `names` are the `/`-separated parts,
 * `subnames` the `:`-separated property path, `absolute` whether it starts with `/`.
 */
export class NodePath {
  constructor(
    readonly names: readonly string[] = [],
    readonly subnames: readonly string[] = [],
    readonly absolute = false,
  ) {}

  /** Splits a textual path the way `NodePath("...")` does; empty segments are dropped. */
  static parse(path: string): NodePath {
    const colon = path.indexOf(':');
    const main = colon < 0 ? path : path.slice(0, colon);
    const sub = colon < 0 ? '' : path.slice(colon + 1);
    const nonEmpty = (s: string) => s.length > 0;
    return new NodePath(main.split('/').filter(nonEmpty), sub.split(':').filter(nonEmpty), main.startsWith('/'));
  }

  toString(): string {
    return (this.absolute ? '/' : '') + this.names.join('/') + this.subnames.map((s) => ':' + s).join('');
  }
}

/** A server resource id. Only meaningful inside the Godot process that sent it. */
export class RID {
  constructor(readonly id: bigint) {}
}

/**
 * An object sent by instance id (Godot's `EncodedObjectAsID`), which is how Godot sends objects
 * unless full objects were requested. The id is only meaningful inside the sending process.
 */
export class ObjectId {
  constructor(readonly id: bigint) {}
}

/**
 * A fully serialized object: its class name and its stored properties in wire order. Decoded only
 * when objects are allowed; encoded only with `fullObjects`. No Godot class is instantiated:
 * this is a description, and the receiving Godot side decides what to do with it.
 */
export class GodotObject {
  constructor(
    readonly className: string,
    readonly properties: ReadonlyMap<string, unknown> = new Map(),
  ) {}
}

/** Godot serializes a Callable as its type alone: the target is not transmitted. */
export class Callable {}

/** A signal of the object with instance id `objectId` (meaningful only inside the sender). */
export class Signal {
  constructor(
    readonly name: string,
    readonly objectId: bigint,
  ) {}
}

/** Shared shape of the packed-array wrappers: a plain array of elements, iterable. */
export abstract class PackedArray<T> implements Iterable<T> {
  constructor(readonly values: readonly T[] = []) {}
  get length(): number {
    return this.values.length;
  }
  [Symbol.iterator](): Iterator<T> {
    return this.values[Symbol.iterator]();
  }
}

export class PackedStringArray extends PackedArray<string> {}
export class PackedVector2Array extends PackedArray<Vector2> {}
export class PackedVector3Array extends PackedArray<Vector3> {}
export class PackedColorArray extends PackedArray<Color> {}
/** Requires Godot 4.3 or later on the other side. */
export class PackedVector4Array extends PackedArray<Vector4> {}

/**
 * The element type of a typed Array or one side of a typed Dictionary: a builtin `type`, or
 * `type: OBJECT` with a `className` or a `script` path (`res://...`). `type: NIL` means untyped.
 */
export interface ContainerType {
  readonly type: VariantType;
  readonly className?: string;
  readonly script?: string;
}

/**
 * A Godot typed Array (`Array[int]` ...). It is a real JS Array (indexing, iteration,
 * `Array.isArray`); derived arrays from `map`/`filter`/... are plain arrays. Typed array headers
 * are understood by Godot 4.2 and later: send plain arrays to older peers.
 */
export class TypedArray<T = unknown> extends Array<T> {
  static get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  declare readonly elementType: ContainerType;

  constructor(elementType: ContainerType, items: Iterable<T> = []) {
    super();
    // Non-enumerable, so the array still compares and serializes (JSON, jest) like a plain one.
    Object.defineProperty(this, 'elementType', { value: elementType, enumerable: false });
    for (const item of items) this.push(item);
  }
}

/**
 * A Godot typed Dictionary (`Dictionary[String, int]` ...), a real JS Map. Typed dictionary
 * headers are understood by Godot 4.4 and later. Use `{ type: VariantType.NIL }` for an untyped side.
 */
export class TypedDictionary<K = unknown, V = unknown> extends Map<K, V> {
  declare readonly keyType: ContainerType;
  declare readonly valueType: ContainerType;

  constructor(keyType: ContainerType, valueType: ContainerType, entries: Iterable<readonly [K, V]> = []) {
    super();
    Object.defineProperty(this, 'keyType', { value: keyType, enumerable: false });
    Object.defineProperty(this, 'valueType', { value: valueType, enumerable: false });
    for (const [k, v] of entries) this.set(k, v);
  }
}
