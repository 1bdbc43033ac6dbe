/**
 * GDScript's declared types (`x: int`, `v: Vector2`, `a: Array[float]`) applied to JavaScript values.
 *
 * A JavaScript number says nothing about `int` vs `float`, but a GDScript parameter does, and a
 * typed GDScript function refuses the wrong Variant type. So values going to a declared parameter or
 * property are shaped here for the wire (`toDeclared`), and values arriving for one are checked and
 * converted the way a GDScript call converts them (`fromDeclared`).
 */
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

/** GDScript's names of the built-in Variant types. */
const TYPE_NAMES: Record<string, VariantType> = {
  bool: VariantType.BOOL,
  int: VariantType.INT,
  float: VariantType.FLOAT,
  String: VariantType.STRING,
  Vector2: VariantType.VECTOR2,
  Vector2i: VariantType.VECTOR2I,
  Rect2: VariantType.RECT2,
  Rect2i: VariantType.RECT2I,
  Vector3: VariantType.VECTOR3,
  Vector3i: VariantType.VECTOR3I,
  Transform2D: VariantType.TRANSFORM2D,
  Vector4: VariantType.VECTOR4,
  Vector4i: VariantType.VECTOR4I,
  Plane: VariantType.PLANE,
  Quaternion: VariantType.QUATERNION,
  AABB: VariantType.AABB,
  Basis: VariantType.BASIS,
  Transform3D: VariantType.TRANSFORM3D,
  Projection: VariantType.PROJECTION,
  Color: VariantType.COLOR,
  StringName: VariantType.STRING_NAME,
  NodePath: VariantType.NODE_PATH,
  RID: VariantType.RID,
  Callable: VariantType.CALLABLE,
  Signal: VariantType.SIGNAL,
  Dictionary: VariantType.DICTIONARY,
  Array: VariantType.ARRAY,
  PackedByteArray: VariantType.PACKED_BYTE_ARRAY,
  PackedInt32Array: VariantType.PACKED_INT32_ARRAY,
  PackedInt64Array: VariantType.PACKED_INT64_ARRAY,
  PackedFloat32Array: VariantType.PACKED_FLOAT32_ARRAY,
  PackedFloat64Array: VariantType.PACKED_FLOAT64_ARRAY,
  PackedStringArray: VariantType.PACKED_STRING_ARRAY,
  PackedVector2Array: VariantType.PACKED_VECTOR2_ARRAY,
  PackedVector3Array: VariantType.PACKED_VECTOR3_ARRAY,
  PackedColorArray: VariantType.PACKED_COLOR_ARRAY,
  PackedVector4Array: VariantType.PACKED_VECTOR4_ARRAY,
};

/** A parsed GDScript type. `type` null means Variant (untyped): anything goes, nothing is converted. */
export interface DeclaredType {
  readonly text: string;
  readonly type: VariantType | null;
  /** Array[T]'s element, Dictionary[K, V]'s key and value. */
  readonly element?: DeclaredType;
  readonly key?: DeclaredType;
  readonly value?: DeclaredType;
}

export const VARIANT: DeclaredType = { text: 'Variant', type: null };

/**
 * Parses GDScript type text: a built-in ('int', 'Vector2', 'PackedByteArray'), 'Array[T]',
 * 'Dictionary[K, V]', 'Variant' or '' (untyped), or a class name (an Object). Throws a TypeError
 * for text that is not a type.
 */
export function parseDeclaredType(text: string): DeclaredType {
  const t = text.trim();
  if (t === '' || t === 'Variant') return VARIANT;
  const generic = /^(Array|Dictionary)\s*\[(.*)\]$/.exec(t);
  if (generic) {
    const params = splitTopLevel(generic[2]);
    if (generic[1] === 'Array' && params.length === 1) {
      return { text: t, type: VariantType.ARRAY, element: parseDeclaredType(params[0]) };
    }
    if (generic[1] === 'Dictionary' && params.length === 2) {
      return { text: t, type: VariantType.DICTIONARY, key: parseDeclaredType(params[0]), value: parseDeclaredType(params[1]) };
    }
    throw new TypeError(`"${text}" is not a GDScript type`);
  }
  const builtin = TYPE_NAMES[t];
  if (builtin !== undefined) return { text: t, type: builtin };
  // Class names (Node, Resource, a script's class_name, Inner.Class): objects.
  if (/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(t)) return { text: t, type: VariantType.OBJECT };
  throw new TypeError(`"${text}" is not a GDScript type`);
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '[') depth++;
    else if (s[i] === ']') depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

/** The Variant type a JavaScript value travels as (the mapping documented in marshalls.ts). */
export function variantTypeOf(v: unknown): VariantType | undefined {
  switch (typeof v) {
    case 'boolean':
      return VariantType.BOOL;
    case 'number':
      return Number.isInteger(v) && Math.abs(v) < 2 ** 63 ? VariantType.INT : VariantType.FLOAT;
    case 'bigint':
      return VariantType.INT;
    case 'string':
      return VariantType.STRING;
    case 'object':
      if (v === null) return VariantType.NIL;
      {
        const exact = TYPE_OF_CLASS.get(v.constructor); // the common case: one lookup, no instanceof walk
        if (exact !== undefined) return exact;
      }
      for (const [cls, type] of CLASS_TYPES) if (v instanceof cls) return type;
      if (Array.isArray(v)) return VariantType.ARRAY;
      if (v instanceof Map || Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) {
        return VariantType.DICTIONARY;
      }
      return undefined;
    default:
      return undefined;
  }
}

// Order matters only for subclasses: Buffer is a Uint8Array.
const CLASS_TYPES: [abstract new (...args: never[]) => unknown, VariantType][] = [
  [GodotFloat, VariantType.FLOAT],
  [Vector2, VariantType.VECTOR2],
  [Vector2i, VariantType.VECTOR2I],
  [Rect2, VariantType.RECT2],
  [Rect2i, VariantType.RECT2I],
  [Vector3, VariantType.VECTOR3],
  [Vector3i, VariantType.VECTOR3I],
  [Transform2D, VariantType.TRANSFORM2D],
  [Vector4, VariantType.VECTOR4],
  [Vector4i, VariantType.VECTOR4I],
  [Plane, VariantType.PLANE],
  [Quaternion, VariantType.QUATERNION],
  [AABB, VariantType.AABB],
  [Basis, VariantType.BASIS],
  [Transform3D, VariantType.TRANSFORM3D],
  [Projection, VariantType.PROJECTION],
  [Color, VariantType.COLOR],
  [StringName, VariantType.STRING_NAME],
  [NodePath, VariantType.NODE_PATH],
  [RID, VariantType.RID],
  [ObjectId, VariantType.OBJECT],
  [GodotObject, VariantType.OBJECT],
  [Callable, VariantType.CALLABLE],
  [Signal, VariantType.SIGNAL],
  [Uint8Array, VariantType.PACKED_BYTE_ARRAY],
  [Int32Array, VariantType.PACKED_INT32_ARRAY],
  [BigInt64Array, VariantType.PACKED_INT64_ARRAY],
  [Float32Array, VariantType.PACKED_FLOAT32_ARRAY],
  [Float64Array, VariantType.PACKED_FLOAT64_ARRAY],
  [PackedStringArray, VariantType.PACKED_STRING_ARRAY],
  [PackedVector2Array, VariantType.PACKED_VECTOR2_ARRAY],
  [PackedVector3Array, VariantType.PACKED_VECTOR3_ARRAY],
  [PackedColorArray, VariantType.PACKED_COLOR_ARRAY],
  [PackedVector4Array, VariantType.PACKED_VECTOR4_ARRAY],
];

const TYPE_OF_CLASS = new Map<unknown, VariantType>(CLASS_TYPES);

function containerType(d: DeclaredType | undefined): ContainerType {
  if (d === undefined || d.type === null) return { type: VariantType.NIL };
  return d.type === VariantType.OBJECT ? { type: d.type, className: d.text } : { type: d.type };
}

/**
 * Shapes `value` for a parameter or property of declared type `d`: numbers become INT or FLOAT as
 * declared, plain arrays and objects become typed containers where the declaration is typed.
 * Throws a TypeError naming `what` when the value cannot be that type (a fraction for `int`, a
 * string for `Vector2`), since sending it would only make the receiving GDScript refuse the call.
 */
export function toDeclared(value: unknown, d: DeclaredType, what: Label): unknown {
  if (d.type === null) return value;
  const actual = variantTypeOf(value);
  switch (d.type) {
    case VariantType.FLOAT:
      if (actual === VariantType.FLOAT || actual === VariantType.INT) {
        return value instanceof GodotFloat ? value : new GodotFloat(Number(value));
      }
      break;
    case VariantType.INT:
      if (actual === VariantType.INT) return value;
      break;
    case VariantType.ARRAY:
      if (Array.isArray(value)) {
        if (d.element === undefined || d.element.type === null) return value;
        const element = d.element;
        const items = value.map((item, i) => toDeclared(item, element, () => `${labelText(what)}[${i}]`));
        return new TypedArray(containerType(element), items);
      }
      break;
    case VariantType.DICTIONARY:
      if (actual === VariantType.DICTIONARY) {
        const key = d.key ?? VARIANT;
        const val = d.value ?? VARIANT;
        if (key.type === null && val.type === null) return value;
        const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
        return new TypedDictionary(
          containerType(key),
          containerType(val),
          entries.map(([k, v]) => [
            toDeclared(k, key, () => `${labelText(what)} key`),
            toDeclared(v, val, () => `${labelText(what)}[${String(k)}]`),
          ] as const),
        );
      }
      break;
    case VariantType.STRING_NAME:
      if (typeof value === 'string') return new StringName(value);
      if (actual === d.type) return value;
      break;
    case VariantType.NODE_PATH:
      if (typeof value === 'string') return NodePath.parse(value);
      if (actual === d.type) return value;
      break;
    case VariantType.OBJECT:
      if (actual === VariantType.OBJECT || actual === VariantType.NIL) return value;
      break;
    default:
      if (actual === d.type) return value;
  }
  throw new TypeError(`${labelText(what)} must be a GDScript ${d.text}, got ${describe(value)}`);
}

/** What a value is called in an error message, or a function making it (built only for the error). */
export type Label = string | (() => string);

function labelText(what: Label): string {
  return typeof what === 'string' ? what : what();
}

export type Converted = { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * Checks a received value against declared type `d` as a GDScript call would, converting where
 * GDScript converts (int ↔ float, String ↔ StringName). Integer-valued floats kept as GodotFloat
 * become plain numbers for a `float`. Values of untyped declarations pass unchanged.
 */
export function fromDeclared(value: unknown, d: DeclaredType): Converted {
  if (d.type === null) return { ok: true, value };
  const actual = variantTypeOf(value);
  if (d.type === VariantType.FLOAT && (actual === VariantType.FLOAT || actual === VariantType.INT)) {
    return { ok: true, value: Number(value) };
  }
  if (d.type === VariantType.INT && actual === VariantType.FLOAT) {
    // GDScript truncates; NaN, infinities and floats beyond int64 have no int to become.
    const n = Number(value);
    if (!Number.isFinite(n) || Math.abs(n) >= 2 ** 63) return { ok: false, reason: `expected int, got FLOAT ${n}` };
    return { ok: true, value: Math.trunc(n) + 0 };
  }
  if (d.type === VariantType.STRING && actual === VariantType.STRING_NAME) return { ok: true, value: (value as StringName).value };
  if (d.type === VariantType.STRING_NAME && actual === VariantType.STRING) return { ok: true, value: new StringName(value as string) };
  if (d.type === VariantType.OBJECT && actual === VariantType.NIL) return { ok: true, value };
  if (d.type === VariantType.ARRAY && actual === d.type && isTyped(d.element)) return fromTypedArray(value as unknown[], d, d.element);
  if (d.type === VariantType.DICTIONARY && actual === d.type && (isTyped(d.key) || isTyped(d.value))) {
    return fromTypedDictionary(value as Map<unknown, unknown>, d);
  }
  if (actual === d.type) return { ok: true, value };
  return { ok: false, reason: `expected ${d.text}, got ${describe(value)}` };
}

function isTyped(d: DeclaredType | undefined): d is DeclaredType {
  return d !== undefined && d.type !== null;
}

// A typed Array[T] or Dictionary[K, V] parameter takes only a container typed the same way (GDScript
// refuses an untyped `[]` or `{}` there, and a container of other elements), holding what such a
// container can hold: elements of its type, or of one it converts on insertion (int into float, String
// and StringName, null into objects). The decoder keeps the container type a peer sent, not its elements'.

function sameContainerType(t: ContainerType, d: DeclaredType | undefined): boolean {
  return t.type === (d?.type ?? VariantType.NIL);
}

function fromElement(value: unknown, d: DeclaredType | undefined): Converted {
  if (!isTyped(d)) return { ok: true, value };
  const actual = variantTypeOf(value);
  if (d.type === VariantType.FLOAT && (actual === VariantType.FLOAT || actual === VariantType.INT)) return { ok: true, value: Number(value) };
  if (d.type === VariantType.STRING && actual === VariantType.STRING_NAME) return { ok: true, value: (value as StringName).value };
  if (d.type === VariantType.STRING_NAME && actual === VariantType.STRING) return { ok: true, value: new StringName(value as string) };
  if (actual === d.type || (d.type === VariantType.OBJECT && actual === VariantType.NIL)) return { ok: true, value };
  return { ok: false, reason: `expected ${d.text} elements, got ${describe(value)}` };
}

function fromTypedArray(value: unknown[], d: DeclaredType, element: DeclaredType): Converted {
  if (!(value instanceof TypedArray) || !sameContainerType(value.elementType, element)) {
    return { ok: false, reason: `expected ${d.text}, got ${value instanceof TypedArray ? `Array[${VariantType[value.elementType.type]}]` : 'an untyped Array'}` };
  }
  const out = new TypedArray(value.elementType);
  for (const item of value) {
    const converted = fromElement(item, element);
    if (!converted.ok) return converted;
    out.push(converted.value);
  }
  return { ok: true, value: out };
}

function fromTypedDictionary(value: Map<unknown, unknown>, d: DeclaredType): Converted {
  if (!(value instanceof TypedDictionary) || !sameContainerType(value.keyType, d.key) || !sameContainerType(value.valueType, d.value)) {
    const got = value instanceof TypedDictionary ? `Dictionary[${VariantType[value.keyType.type]}, ${VariantType[value.valueType.type]}]` : 'an untyped Dictionary';
    return { ok: false, reason: `expected ${d.text}, got ${got}` };
  }
  const out = new TypedDictionary(value.keyType, value.valueType);
  for (const [k, v] of value) {
    const key = fromElement(k, d.key);
    if (!key.ok) return key;
    const val = fromElement(v, d.value);
    if (!val.ok) return val;
    out.set(key.value, val.value);
  }
  return { ok: true, value: out };
}

function describe(value: unknown): string {
  const type = variantTypeOf(value);
  if (type === undefined) return value === undefined ? 'undefined' : typeof value;
  return VariantType[type];
}
