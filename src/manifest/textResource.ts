/**
 * Godot's text formats for scenes (.tscn), resources (.tres) and project.godot: a file is a list of
 * `[tag key=value ...]` headings, each followed by `key = value` lines; values are Variants written as
 * text (`Vector2(1, 2)`, `NodePath("a:b")`, `&"name"`, `[1, 2]`, `{"k": v}`, `ExtResource("1_ab")`,
 * `PackedStringArray("a")`, `Object(InputEventKey, "keycode": 4194320)`, …) and may span lines.
 * `;` starts a comment. This module only turns text into that structure; what the keys mean is read
 * elsewhere.
 */
import { ManifestError } from './ManifestError';

export type TextValue =
  | { kind: 'string'; value: string }
  | { kind: 'stringName'; value: string }
  | { kind: 'nodePath'; value: string }
  | { kind: 'number'; value: number; isInt: boolean }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  /** A bare word, as the class argument of `Object(InputEventKey, ...)`. */
  | { kind: 'ident'; name: string }
  /** `Name(args)` or `Name[typeArgs](args)`; `"key": value` arguments (Object(...)) come as pairs. */
  | { kind: 'call'; name: string; typeArgs: TextValue[]; args: TextValue[] }
  | { kind: 'array'; items: TextValue[] }
  | { kind: 'dict'; entries: Array<[TextValue, TextValue]> }
  | { kind: 'pair'; key: TextValue; value: TextValue };

export interface Entry {
  key: string;
  value: TextValue;
  line: number;
}

export interface Section {
  tag: string;
  attrs: Map<string, TextValue>;
  entries: Entry[];
  line: number;
}

export interface TextResource {
  /** `key = value` lines before the first heading (project.godot's `config_version=5`). */
  preamble: Entry[];
  sections: Section[];
}

/** Deeper nesting than any real file has; garbled input must not exhaust the stack. */
const MAX_DEPTH = 128;

export function parseTextResource(text: string, file: string): TextResource {
  const r = new Reader(text, file);
  const result: TextResource = { preamble: [], sections: [] };
  let current: Section | null = null;
  for (;;) {
    r.skipBlank(true);
    if (r.atEnd()) return result;
    if (r.peek() === '[') {
      current = r.heading();
      result.sections.push(current);
    } else {
      const entry = r.entry();
      (current ? current.entries : result.preamble).push(entry);
    }
  }
}

/** Reads one value from text (used for values embedded elsewhere, e.g. tests); the text must hold exactly one. */
export function parseTextValue(text: string, file: string): TextValue {
  const r = new Reader(text, file);
  r.skipBlank(true);
  const v = r.value(0);
  r.skipBlank(true);
  if (!r.atEnd()) r.fail(`unexpected "${r.peek()}" after a value`);
  return v;
}

class Reader {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly file: string,
  ) {}

  fail(what: string, line = this.line): never {
    throw new ManifestError(
      this.file,
      line,
      `${what}; this is not Godot's text format as the reader knows it (re-save the file in Godot 4, or fix it by hand)`,
    );
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos];
  }

  private advance(): string {
    const c = this.text[this.pos++];
    if (c === '\n') this.line++;
    return c;
  }

  /** Skips spaces (and newlines when asked) and `;` comments. */
  skipBlank(newlines: boolean): void {
    while (!this.atEnd()) {
      const c = this.peek();
      if (c === ';') {
        while (!this.atEnd() && this.peek() !== '\n') this.pos++;
      } else if (c === ' ' || c === '\t' || c === '\r' || (newlines && c === '\n')) {
        this.advance();
      } else {
        return;
      }
    }
  }

  heading(): Section {
    const line = this.line;
    this.advance(); // '['
    const tag = this.readWhile((c) => !/[\s\]]/.test(c));
    if (tag === '') this.fail('empty heading "[]"');
    const attrs = new Map<string, TextValue>();
    for (;;) {
      this.skipBlank(false);
      if (this.atEnd() || this.peek() === '\n') this.fail(`heading [${tag} ...] is not closed with "]"`, line);
      if (this.peek() === ']') {
        this.advance();
        break;
      }
      const key = this.readWhile((c) => /[A-Za-z0-9_]/.test(c));
      if (key === '') this.fail(`unexpected "${this.peek()}" in heading [${tag} ...]`);
      this.skipBlank(false);
      if (this.peek() !== '=') this.fail(`expected "=" after "${key}" in heading [${tag} ...]`);
      this.advance();
      this.skipBlank(false);
      attrs.set(key, this.value(0));
    }
    return { tag, attrs, entries: [], line };
  }

  entry(): Entry {
    const line = this.line;
    let key: string;
    if (this.peek() === '"') {
      key = this.quoted();
    } else {
      key = this.readWhile((c) => c !== '=' && c !== '\n').trim();
    }
    this.skipBlank(false);
    if (key === '' || this.peek() !== '=') this.fail('expected "key = value"', line);
    this.advance();
    this.skipBlank(false);
    if (this.atEnd() || this.peek() === '\n') this.fail(`"${key} =" has no value`, line);
    return { key, value: this.value(0), line };
  }

  value(depth: number): TextValue {
    if (depth > MAX_DEPTH) this.fail('values nested too deeply');
    this.skipBlank(true);
    if (this.atEnd()) this.fail('the file ends where a value was expected');
    const c = this.peek();
    if (c === '"') return { kind: 'string', value: this.quoted() };
    if ((c === '&' || c === '^') && this.text[this.pos + 1] === '"') {
      this.advance();
      const value = this.quoted();
      return c === '&' ? { kind: 'stringName', value } : { kind: 'nodePath', value };
    }
    if (c === '[') return { kind: 'array', items: this.list('[', ']', depth) };
    if (c === '{') return this.dict(depth);
    if (/[0-9.+-]/.test(c)) return this.number();
    if (/[A-Za-z_]/.test(c)) return this.word(depth);
    this.fail(`unexpected "${c}" where a value was expected`);
  }

  private number(): TextValue {
    const m = /^[+-]?(?:inf\b|nan\b|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/.exec(this.text.slice(this.pos, this.pos + 64));
    if (!m) this.fail(`"${this.text.slice(this.pos, this.pos + 12)}" is not a number`);
    this.pos += m[0].length;
    const raw = m[0];
    if (/inf$/.test(raw)) return { kind: 'number', value: raw.startsWith('-') ? -Infinity : Infinity, isInt: false };
    if (/nan$/.test(raw)) return { kind: 'number', value: NaN, isInt: false };
    return { kind: 'number', value: Number(raw), isInt: !/[.eE]/.test(raw) };
  }

  private word(depth: number): TextValue {
    const name = this.readWhile((c) => /[A-Za-z0-9_]/.test(c));
    if (name === 'true' || name === 'false') return { kind: 'bool', value: name === 'true' };
    if (name === 'null' || name === 'nil') return { kind: 'null' };
    if (name === 'inf' || name === 'nan') return { kind: 'number', value: name === 'inf' ? Infinity : NaN, isInt: false };
    if (name === 'inf_neg') return { kind: 'number', value: -Infinity, isInt: false };
    this.skipBlank(false);
    let typeArgs: TextValue[] = [];
    if (this.peek() === '[') {
      typeArgs = this.list('[', ']', depth);
      this.skipBlank(false);
      if (this.peek() !== '(') this.fail(`expected "(" after ${name}[...]`);
    }
    if (this.peek() !== '(') return { kind: 'ident', name };
    return { kind: 'call', name, typeArgs, args: this.list('(', ')', depth) };
  }

  /** `open item, item, ... close`; an item may be `key: value` (Object(...) arguments). */
  private list(open: string, close: string, depth: number): TextValue[] {
    const startLine = this.line;
    this.advance(); // open
    const items: TextValue[] = [];
    for (;;) {
      this.skipBlank(true);
      if (this.atEnd()) this.fail(`"${open}" is never closed with "${close}"`, startLine);
      if (this.peek() === close) {
        this.advance();
        return items;
      }
      let item = this.value(depth + 1);
      this.skipBlank(true);
      if (this.peek() === ':') {
        this.advance();
        item = { kind: 'pair', key: item, value: this.value(depth + 1) };
        this.skipBlank(true);
      }
      items.push(item);
      if (this.peek() === ',') this.advance();
      else if (this.peek() !== close) this.fail(`expected "," or "${close}"${this.atEnd() ? '' : `, found "${this.peek()}"`}`);
    }
  }

  private dict(depth: number): TextValue {
    const items = this.list('{', '}', depth);
    const entries: Array<[TextValue, TextValue]> = [];
    for (const item of items) {
      if (item.kind !== 'pair') this.fail('a dictionary entry without "key: value"');
      entries.push([item.key, item.value]);
    }
    return { kind: 'dict', entries };
  }

  private quoted(): string {
    const startLine = this.line;
    this.advance(); // opening quote
    let out = '';
    for (;;) {
      if (this.atEnd()) this.fail('a string is never closed', startLine);
      const c = this.advance();
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      if (this.atEnd()) this.fail('a string is never closed', startLine);
      const e = this.advance();
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', '"': '"', '\\': '\\', "'": "'" };
      if (e in simple) out += simple[e];
      else if (e === 'u' || e === 'U') {
        const digits = e === 'u' ? 4 : 6;
        const hex = this.text.slice(this.pos, this.pos + digits);
        if (!new RegExp(`^[0-9a-fA-F]{${digits}}$`).test(hex)) this.fail(`bad escape "\\${e}${hex}" in a string`);
        this.pos += digits;
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) this.fail(`bad escape "\\${e}${hex}" in a string`);
        out += String.fromCodePoint(code);
      } else out += e;
    }
  }

  private readWhile(ok: (c: string) => boolean): string {
    const start = this.pos;
    while (!this.atEnd() && ok(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }
}

// ---- Reading typed values out of a parsed file --------------------------------------------------------

/** What a value means to the reader, for error messages. */
export function describe(v: TextValue): string {
  switch (v.kind) {
    case 'call':
      return `${v.name}(...)`;
    case 'ident':
      return v.name;
    case 'number':
      return String(v.value);
    case 'string':
      return JSON.stringify(v.value);
    default:
      return v.kind;
  }
}

export function stringOf(v: TextValue): string | null {
  return v.kind === 'string' || v.kind === 'stringName' ? v.value : null;
}

/** NodePath("a:b"), ^"a:b", or a plain string (headings write `parent="A/B"`). */
export function nodePathOf(v: TextValue): string | null {
  if (v.kind === 'nodePath' || v.kind === 'string' || v.kind === 'stringName') return v.value;
  if (v.kind === 'call' && v.name === 'NodePath') {
    if (v.args.length === 0) return '';
    if (v.args.length === 1) return stringOf(v.args[0]);
  }
  return null;
}

export function numberOf(v: TextValue): number | null {
  return v.kind === 'number' ? v.value : null;
}

export function intOf(v: TextValue): number | null {
  return v.kind === 'number' && v.isInt ? v.value : null;
}

export function boolOf(v: TextValue): boolean | null {
  return v.kind === 'bool' ? v.value : null;
}

/** PackedStringArray("a", "b") or a plain array of strings. */
export function stringListOf(v: TextValue): string[] | null {
  const items = v.kind === 'call' && v.name === 'PackedStringArray' ? v.args : v.kind === 'array' ? v.items : null;
  if (!items) return null;
  const out: string[] = [];
  for (const item of items) {
    const s = stringOf(item);
    if (s === null) return null;
    out.push(s);
  }
  return out;
}

/** ExtResource("id") / SubResource("id"); ids are strings in format 3 (numbers in older files). */
export function resourceRefOf(v: TextValue): { kind: 'ext' | 'sub'; id: string } | null {
  if (v.kind !== 'call' || (v.name !== 'ExtResource' && v.name !== 'SubResource') || v.args.length !== 1) return null;
  const arg = v.args[0];
  const id = arg.kind === 'number' && arg.isInt ? String(arg.value) : stringOf(arg);
  if (id === null) return null;
  return { kind: v.name === 'ExtResource' ? 'ext' : 'sub', id };
}
