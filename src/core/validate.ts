// Argument checks shared by every public method. A wrong type is a programming error and throws a
// TypeError naming the method and argument; a value of the right type but out of Godot's range is an
// operational failure and is left to the method, which returns Godot's Error code.

export function checkInt(method: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new TypeError(`${method}: ${name} must be an integer, got ${describe(value)}`);
  }
  return value;
}

export function checkBool(method: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${method}: ${name} must be a boolean, got ${describe(value)}`);
  return value;
}

export function checkString(method: string, name: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${method}: ${name} must be a string, got ${describe(value)}`);
  return value;
}

/** Godot's PackedByteArray: any Uint8Array (Buffer included). */
export function checkBytes(method: string, name: string, value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${method}: ${name} must be a Uint8Array or Buffer, got ${describe(value)}`);
  }
  return value;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an instance of ${value.constructor?.name ?? 'Object'}`;
  return `${typeof value} ${String(value).slice(0, 40)}`;
}
