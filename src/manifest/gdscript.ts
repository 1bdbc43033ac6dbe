/**
 * Reads what a server needs from a GDScript file: `class_name`, `extends`, the script's own functions
 * (with `@rpc` settings and typed parameters), member variables with their types, enum and inner class
 * names, and `rpc_config()` calls with literal arguments. Only the class body is parsed: statements at
 * column 0. Function bodies are skipped except for `rpc_config(...)` and `super` calls in them; inner
 * `class` blocks are skipped entirely, so their functions never leak into the outer script.
 */
import { ManifestError } from './ManifestError';
import type { RpcMethodInfo } from './types';

export interface ParsedScript {
  path: string;
  className: string | null;
  /** `extends "res://x.gd"` (resolved against the script's folder), `extends Name`, or null (RefCounted). */
  extends: { path: string; line: number } | { name: string; line: number } | null;
  functions: ParsedFunction[];
  variables: ParsedVariable[];
  rpcConfigCalls: RpcConfigCall[];
  enums: Set<string>;
  innerClasses: Set<string>;
  /** Constants, with the script path when the value is `preload("…")` / `load("…")` (a class usable as a type). */
  consts: Map<string, string | null>;
}

export interface ParsedFunction {
  name: string;
  line: number;
  params: ParsedParam[];
  /** `@rpc(...)` settings, or null when the function has no `@rpc`. */
  rpc: RpcSettings | null;
  /** The body calls the base version of this function (`super()` / `super.name()`). */
  callsSuper: boolean;
}

export interface ParsedParam {
  name: string;
  /** Type as written, the type inferred from a `:=` default, 'Variant' when untyped, null when a `:=` could not be resolved. */
  type: string | null;
  optional: boolean;
  rest: boolean;
  line: number;
}

export interface ParsedVariable {
  name: string;
  /** As for ParsedParam.type. */
  type: string | null;
  line: number;
}

export type RpcSettings = Pick<RpcMethodInfo, 'rpcMode' | 'transferMode' | 'callLocal' | 'channel'>;

export interface RpcConfigCall {
  method: string;
  /** null: `rpc_config("m", null)`, which removes the method's configuration. */
  config: RpcSettings | null;
  line: number;
  /** The top-level function the call sits in. */
  inFunction: string;
}

export const BUILTIN_TYPES = new Set([
  'Variant', 'bool', 'int', 'float', 'String', 'StringName', 'NodePath', 'Vector2', 'Vector2i', 'Rect2', 'Rect2i',
  'Vector3', 'Vector3i', 'Transform2D', 'Vector4', 'Vector4i', 'Plane', 'Quaternion', 'AABB', 'Basis', 'Transform3D',
  'Projection', 'Color', 'RID', 'Object', 'Callable', 'Signal', 'Dictionary', 'Array', 'PackedByteArray',
  'PackedInt32Array', 'PackedInt64Array', 'PackedFloat32Array', 'PackedFloat64Array', 'PackedStringArray',
  'PackedVector2Array', 'PackedVector3Array', 'PackedColorArray', 'PackedVector4Array',
]);

interface Tok {
  kind: 'ident' | 'number' | 'string' | 'op' | 'annotation';
  text: string;
  /** Strings: '' plain, '&' StringName, '^' NodePath (raw strings count as plain). */
  prefix?: '' | '&' | '^';
  line: number;
}

interface LogicalLine {
  indented: boolean;
  toks: Tok[];
  line: number;
}

export function parseGDScript(source: string, path: string): ParsedScript {
  return new ScriptReader(path, tokenize(source, path)).read();
}

// ---- Tokens ---------------------------------------------------------------------------------------------

const THREE_CHAR_OPS = ['**=', '<<=', '>>=', '...'];
const TWO_CHAR_OPS = ['==', '!=', '<=', '>=', '->', '**', '<<', '>>', '&&', '||', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '..'];

function tokenize(src: string, path: string): LogicalLine[] {
  const lines: LogicalLine[] = [];
  const fail: (line: number, what: string) => never = (line, what) => {
    throw new ManifestError(path, line, `${what}; the manifest reader cannot read this script (fix the syntax; Godot would refuse it too)`);
  };
  let pos = 0;
  let line = 1;
  const brackets: Array<{ ch: string; line: number }> = [];
  let current: LogicalLine | null = null;
  let continued = false; // a backslash ended the previous physical line

  while (pos < src.length) {
    const c = src[pos];
    if (c === '\n') {
      pos++;
      line++;
      if (brackets.length === 0 && !continued && current) {
        lines.push(current);
        current = null;
      }
      continued = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
      pos++;
      continue;
    }
    if (c === '#') {
      while (pos < src.length && src[pos] !== '\n') pos++;
      continue;
    }
    if (c === '\\') {
      let p = pos + 1;
      while (src[p] === ' ' || src[p] === '\t' || src[p] === '\r') p++;
      if (src[p] !== '\n' && p < src.length) fail(line, 'a "\\" that does not end the line');
      continued = true;
      pos = p;
      continue;
    }
    if (!current) {
      // First token of a logical line: is it at column 0?
      const lineStart = src.lastIndexOf('\n', pos - 1) + 1;
      current = { indented: pos > lineStart, toks: [], line };
    }
    const push = (tok: Tok): void => {
      current!.toks.push(tok);
    };

    // Strings, with optional r / & / ^ prefix, single or triple quoted.
    const m = /^(r|&|\^)?("""|'''|"|')/.exec(src.slice(pos, pos + 4));
    if (m) {
      const prefix = m[1] === '&' || m[1] === '^' ? m[1] : '';
      const quote = m[2];
      const startLine = line;
      pos += m[0].length;
      let text = '';
      for (;;) {
        if (pos >= src.length) fail(startLine, 'a string is never closed');
        if (src.startsWith(quote, pos)) {
          pos += quote.length;
          break;
        }
        const ch = src[pos++];
        if (ch === '\n') {
          if (quote.length === 1) fail(startLine, 'a string is never closed on its line');
          line++;
        }
        if (ch === '\\' && pos < src.length) {
          const e = src[pos++];
          if (e === '\n') line++;
          text += m[1] === 'r' ? `\\${e}` : e === 'n' ? '\n' : e === 't' ? '\t' : e;
          continue;
        }
        text += ch;
      }
      push({ kind: 'string', text, prefix, line: startLine });
      continue;
    }
    const num = /^(?:0x[0-9a-fA-F_]+|0b[01_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?|\.\d[\d_]*(?:[eE][+-]?\d+)?)/.exec(
      src.slice(pos, pos + 80),
    );
    if (num) {
      push({ kind: 'number', text: num[0], line });
      pos += num[0].length;
      continue;
    }
    const word = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(src.slice(pos, pos + 256));
    if (word) {
      push({ kind: 'ident', text: word[0], line });
      pos += word[0].length;
      continue;
    }
    if (c === '@') {
      const name = /^@([\p{L}_][\p{L}\p{N}_]*)/u.exec(src.slice(pos, pos + 256));
      if (!name) fail(line, 'a "@" that does not start an annotation');
      push({ kind: 'annotation', text: name[1], line });
      pos += name[0].length;
      continue;
    }
    if ('([{'.includes(c)) {
      brackets.push({ ch: c, line });
    } else if (')]}'.includes(c)) {
      const open = brackets.pop();
      if (!open || '([{'.indexOf(open.ch) !== ')]}'.indexOf(c)) fail(line, `an unmatched "${c}"`);
    }
    const op = THREE_CHAR_OPS.find((o) => src.startsWith(o, pos)) ?? TWO_CHAR_OPS.find((o) => src.startsWith(o, pos)) ?? c;
    push({ kind: 'op', text: op, line });
    pos += op.length;
  }
  if (brackets.length > 0) {
    const open = brackets[brackets.length - 1];
    fail(open.line, `"${open.ch}" is never closed`);
  }
  if (current) lines.push(current);
  return lines;
}

// ---- The class body -------------------------------------------------------------------------------------

interface Annotation {
  name: string;
  args: Tok[][];
  line: number;
}

class ScriptReader {
  private readonly result: ParsedScript;
  /** What the current column-0 statement opened: a function of this script, an inner class, or neither. */
  private context: { kind: 'func'; fn: ParsedFunction } | { kind: 'other' } = { kind: 'other' };

  constructor(
    private readonly path: string,
    private readonly lines: LogicalLine[],
  ) {
    this.result = {
      path,
      className: null,
      extends: null,
      functions: [],
      variables: [],
      rpcConfigCalls: [],
      enums: new Set(),
      innerClasses: new Set(),
      consts: new Map(),
    };
  }

  private fail(line: number, what: string): never {
    throw new ManifestError(this.path, line, what);
  }

  read(): ParsedScript {
    let pending: Annotation[] = [];
    for (const l of this.lines) {
      if (l.indented) {
        if (this.context.kind === 'func') this.scanBody(l.toks, this.context.fn);
        continue;
      }
      let i = 0;
      while (i < l.toks.length && l.toks[i].kind === 'annotation') {
        const [annotation, next] = this.annotation(l.toks, i);
        pending.push(annotation);
        i = next;
      }
      if (i === l.toks.length) continue; // annotations on a line of their own apply to the next statement
      this.statement(l.toks.slice(i), pending);
      pending = [];
    }
    const rpc = pending.find((a) => a.name === 'rpc');
    if (rpc) this.fail(rpc.line, '@rpc is not followed by a function');
    return this.result;
  }

  private annotation(toks: Tok[], i: number): [Annotation, number] {
    const at = toks[i];
    let j = i + 1;
    let args: Tok[][] = [];
    if (toks[j]?.text === '(' && toks[j].kind === 'op') {
      const close = matching(toks, j);
      args = splitTopLevel(toks.slice(j + 1, close), ',');
      j = close + 1;
    }
    return [{ name: at.text, args, line: at.line }, j];
  }

  private statement(toks: Tok[], annotations: Annotation[]): void {
    const first = toks[0];
    const rpc = annotations.filter((a) => a.name === 'rpc');
    let k = first.text === 'static' && first.kind === 'ident' ? 1 : 0;
    const keyword = toks[k]?.kind === 'ident' ? toks[k].text : '';
    if (rpc.length > 0 && keyword !== 'func') this.fail(rpc[0].line, '@rpc can only be applied to a function');
    if (rpc.length > 1) this.fail(rpc[1].line, 'RPC annotations can only be used once per function');
    this.context = { kind: 'other' };
    switch (keyword) {
      case 'func': {
        if (k === 1 && rpc.length > 0) this.fail(rpc[0].line, 'the manifest reader does not support @rpc on a static function');
        const fn = this.func(toks.slice(k + 1), first.line, rpc[0] ?? null);
        if (k === 0) {
          this.result.functions.push(fn);
          this.context = { kind: 'func', fn };
        }
        return;
      }
      case 'var':
        if (k === 0) this.result.variables.push(this.variable(toks.slice(1), first.line));
        return;
      case 'extends':
        this.extends(toks.slice(k + 1), first.line);
        return;
      case 'class_name': {
        const name = toks[k + 1];
        if (name?.kind !== 'ident') this.fail(first.line, 'class_name is not followed by a name');
        if (this.result.className !== null) this.fail(first.line, 'a second class_name');
        this.result.className = name.text;
        if (toks[k + 2]?.text === 'extends') this.extends(toks.slice(k + 3), first.line);
        else if (toks.length > k + 2 && !(toks[k + 2].text === ';')) this.fail(first.line, `unexpected "${toks[k + 2].text}" after class_name ${name.text}`);
        return;
      }
      case 'enum':
        if (toks[k + 1]?.kind === 'ident') this.result.enums.add(toks[k + 1].text);
        return;
      case 'class':
        if (toks[k + 1]?.kind !== 'ident') this.fail(first.line, 'class is not followed by a name');
        this.result.innerClasses.add(toks[k + 1].text);
        return;
      case 'const': {
        const name = toks[k + 1];
        if (name?.kind !== 'ident') this.fail(first.line, 'const is not followed by a name');
        const value = toks.slice(indexTopLevel(toks, '=') + 1);
        const [call, open, arg, close] = value;
        const loaded =
          value.length === 4 && (call.text === 'preload' || call.text === 'load') && open.text === '(' && arg.kind === 'string' && close.text === ')';
        this.result.consts.set(name.text, loaded ? arg.text : null);
        return;
      }
      case 'signal':
      case 'pass':
        return;
      default:
        if (first.kind === 'op' && first.text === ';') return;
        this.fail(
          first.line,
          `unexpected "${first.text}" at the top level of the script (expected extends, class_name, var, const, func, signal, enum, class or an annotation); the manifest reader cannot read this script`,
        );
    }
  }

  private extends(toks: Tok[], line: number): void {
    if (this.result.extends !== null) this.fail(line, 'a second extends');
    const t = toks[0];
    const rest = toks.slice(1).filter((x) => x.text !== ';');
    if (t?.kind === 'string' && t.prefix === '' && rest.length === 0) {
      this.result.extends = { path: t.text, line };
    } else if (t?.kind === 'ident' && rest.length === 0) {
      this.result.extends = { name: t.text, line };
    } else if (t && (rest[0]?.text === '.' || t.kind === 'string')) {
      this.fail(line, 'extends an inner class ("A.Inner"); the manifest reader only follows whole scripts: give the base its own file');
    } else {
      this.fail(line, 'extends is not followed by a class name or a "res://…" path');
    }
  }

  private func(toks: Tok[], line: number, rpc: Annotation | null): ParsedFunction {
    const name = toks[0];
    if (name?.kind !== 'ident') this.fail(line, 'func is not followed by a name');
    if (toks[1]?.text !== '(') this.fail(line, `func ${name.text} has no parameter list`);
    const close = matching(toks, 1);
    const params = splitTopLevel(toks.slice(2, close), ',')
      .filter((p) => p.length > 0)
      .map((p) => this.param(p, name.text, line));
    const fn: ParsedFunction = { name: name.text, line, params, rpc: rpc ? this.rpcSettings(rpc) : null, callsSuper: false };
    this.scanBody(toks.slice(close + 1), fn); // a one-line body: `func f(): rpc_config(...)`
    return fn;
  }

  private param(toks: Tok[], fn: string, line: number): ParsedParam {
    const rest = toks[0].text === '...';
    const t = rest ? toks.slice(1) : toks;
    const name = t[0];
    if (name?.kind !== 'ident') this.fail(line, `cannot read the parameters of func ${fn}`);
    const { type, initializer } = this.typeAndInitializer(t.slice(1), `parameter ${name.text} of func ${fn}`, line);
    return { name: name.text, type, optional: initializer !== null, rest, line: name.line };
  }

  private variable(toks: Tok[], line: number): ParsedVariable {
    const name = toks[0];
    if (name?.kind !== 'ident') this.fail(line, 'var is not followed by a name');
    // A trailing ':' at depth 0 starts setter/getter declarations (`var x: int = 1: set = f`).
    const { type } = this.typeAndInitializer(toks.slice(1), `var ${name.text}`, line, true);
    return { name: name.text, type, line };
  }

  /** `[: Type] [= expr]`, `:= expr`, or nothing. */
  private typeAndInitializer(
    toks: Tok[],
    what: string,
    line: number,
    allowSetGet = false,
  ): { type: string | null; initializer: Tok[] | null } {
    if (toks.length === 0 || (allowSetGet && toks.length === 1 && toks[0].text === ':')) return { type: 'Variant', initializer: null };
    const cut = (from: number): Tok[] => {
      const expr = toks.slice(from);
      if (!allowSetGet || expr[0]?.text === 'func') return expr;
      const colon = indexTopLevel(expr, ':');
      return colon < 0 ? expr : expr.slice(0, colon);
    };
    if (toks[0].text === ':' && toks[1]?.text === '=') {
      const init = cut(2);
      if (init.length === 0) this.fail(line, `${what} has ":=" without a value`);
      return { type: inferType(init), initializer: init };
    }
    if (toks[0].text === '=') {
      const init = cut(1);
      if (init.length === 0) this.fail(line, `${what} has "=" without a value`);
      return { type: 'Variant', initializer: init };
    }
    if (toks[0].text === ':') {
      if (allowSetGet && (toks[1]?.text === 'set' || toks[1]?.text === 'get') && (toks[2]?.text === '=' || toks[2]?.text === '(' || toks[2]?.text === ':')) {
        return { type: 'Variant', initializer: null }; // `var x: set = f` (untyped with setter)
      }
      let end = indexTopLevel(toks, '=');
      if (allowSetGet) {
        const colon = indexTopLevel(toks.slice(1), ':');
        if (colon >= 0 && (end < 0 || colon + 1 < end)) end = colon + 1;
      }
      const typeToks = toks.slice(1, end < 0 ? undefined : end);
      const type = renderType(typeToks);
      if (type === null) this.fail(line, `cannot read the type of ${what}`);
      if (end >= 0 && toks[end].text === '=') return { type, initializer: cut(end + 1) };
      return { type, initializer: null };
    }
    this.fail(line, `unexpected "${toks[0].text}" after ${what}`);
  }

  private rpcSettings(a: Annotation): RpcSettings {
    const settings: RpcSettings = { rpcMode: 'authority', transferMode: 'reliable', callLocal: false, channel: 0 };
    if (a.args.length > 4) this.fail(a.line, '@rpc takes at most 4 arguments (mode, sync, transfer mode, channel)');
    const seen = { permission: 0, locality: 0, transfer: 0 };
    a.args.forEach((arg, i) => {
      const t = arg[0];
      if (i === 3) {
        const n = arg.length === 1 && t.kind === 'number' ? intLiteral(t.text) : null;
        if (n === null || n < 0) this.fail(a.line, `the channel (4th argument) of @rpc must be a literal non-negative int, not ${tokText(arg)}`);
        settings.channel = n;
        return;
      }
      if (arg.length !== 1 || t.kind !== 'string') {
        this.fail(a.line, `@rpc argument ${tokText(arg)} is not a string literal; the manifest reader only reads literal @rpc arguments (write "any_peer", "call_local", "unreliable", … and the channel as 4th argument)`);
      }
      switch (t.text) {
        case 'any_peer':
        case 'authority':
          settings.rpcMode = t.text;
          seen.permission++;
          break;
        case 'call_local':
        case 'call_remote':
          settings.callLocal = t.text === 'call_local';
          seen.locality++;
          break;
        case 'reliable':
        case 'unreliable':
        case 'unreliable_ordered':
          settings.transferMode = t.text;
          seen.transfer++;
          break;
        default:
          this.fail(
            a.line,
            `invalid @rpc argument "${t.text}"; it must be one of "call_local"/"call_remote", "any_peer"/"authority", "reliable"/"unreliable"/"unreliable_ordered" (Godot refuses it too)`,
          );
      }
    });
    if (seen.permission > 1 || seen.locality > 1 || seen.transfer > 1) {
      this.fail(a.line, '@rpc names the same setting twice ("any_peer"/"authority", "call_local"/"call_remote" or the transfer mode); Godot refuses it too');
    }
    return settings;
  }

  /** An indented line inside one of this script's functions: look for rpc_config(...) and super calls. */
  private scanBody(toks: Tok[], fn: ParsedFunction): void {
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (t.kind !== 'ident') continue;
      if (t.text === 'super' && (toks[i + 1]?.text === '(' || (toks[i + 1]?.text === '.' && toks[i + 2]?.text === fn.name))) {
        fn.callsSuper = true;
      }
      if (t.text !== 'rpc_config' || toks[i + 1]?.text !== '(') continue;
      if (toks[i - 1]?.text === 'func') continue; // a lambda or inner function named rpc_config
      if (toks[i - 1]?.text === '.') {
        const receiver = toks[i - 2];
        if (!(receiver?.text === 'self' && toks[i - 3]?.text !== '.')) {
          this.fail(
            t.line,
            `rpc_config() is called on another object (${tokText(toks.slice(Math.max(0, i - 3), i))}); the manifest cannot tell which node that is: call rpc_config() in that node's own script`,
          );
        }
      }
      const close = matching(toks, i + 1);
      this.result.rpcConfigCalls.push(this.rpcConfigCall(splitTopLevel(toks.slice(i + 2, close), ','), t.line, fn.name));
      i = close;
    }
  }

  private rpcConfigCall(args: Tok[][], line: number, inFunction: string): RpcConfigCall {
    const nonLiteral: (what: string) => never = (what) =>
      this.fail(
        line,
        `rpc_config() with ${what}; the manifest reader only reads literal arguments: rpc_config("method", {"rpc_mode": MultiplayerAPI.RPC_MODE_ANY_PEER, "transfer_mode": MultiplayerPeer.TRANSFER_MODE_UNRELIABLE, "call_local": false, "channel": 0})`,
      );
    if (args.length !== 2) nonLiteral(`${args.length} arguments`);
    const [nameToks, dictToks] = args;
    if (nameToks.length !== 1 || nameToks[0].kind !== 'string' || nameToks[0].prefix === '^') nonLiteral(`a method name that is not a string literal (${tokText(nameToks)})`);
    const method = nameToks[0].text;
    if (dictToks.length === 1 && dictToks[0].text === 'null') return { method, config: null, line, inFunction };
    if (dictToks[0]?.text !== '{' || matching(dictToks, 0) !== dictToks.length - 1) nonLiteral(`a configuration that is not a Dictionary literal (${tokText(dictToks)})`);
    const seen = new Set<string>();
    const config: RpcSettings = { rpcMode: 'authority', transferMode: 'reliable', callLocal: false, channel: 0 };
    for (const entry of splitTopLevel(dictToks.slice(1, -1), ',')) {
      if (entry.length === 0) continue;
      let key: string;
      let value: Tok[];
      if (entry[0].kind === 'string' && entry[1]?.text === ':') {
        key = entry[0].text;
        value = entry.slice(2);
      } else if (entry[0].kind === 'ident' && entry[1]?.text === '=') {
        key = entry[0].text; // Lua-style {rpc_mode = ...}
        value = entry.slice(2);
      } else {
        return nonLiteral(`a Dictionary key that is not a string literal (${tokText(entry)})`);
      }
      seen.add(key);
      const v = tokText(value);
      const int = value.length === 1 && value[0].kind === 'number' ? intLiteral(value[0].text) : null;
      switch (key) {
        case 'rpc_mode':
          config.rpcMode = constantName(v, int, 'MultiplayerAPI.RPC_MODE_', RPC_MODES) ?? nonLiteral(`"rpc_mode": ${v}`);
          break;
        case 'transfer_mode':
          config.transferMode = constantName(v, int, 'MultiplayerPeer.TRANSFER_MODE_', TRANSFER_MODES) ?? nonLiteral(`"transfer_mode": ${v}`);
          break;
        case 'call_local':
          if (v !== 'true' && v !== 'false') nonLiteral(`"call_local": ${v}`);
          config.callLocal = v === 'true';
          break;
        case 'channel':
          if (int === null || int < 0) nonLiteral(`"channel": ${v}`);
          config.channel = int;
          break;
        default:
          this.fail(line, `rpc_config() with an unknown key "${key}"; Godot reads only "rpc_mode", "transfer_mode", "call_local" and "channel" (a typo?)`);
      }
    }
    if (!seen.has('rpc_mode')) {
      this.fail(line, `rpc_config("${method}", ...) has no "rpc_mode"; Godot skips such an entry (it still takes a method ID): add "rpc_mode"`);
    }
    return { method, config, line, inFunction };
  }
}

/** Values of MultiplayerAPI.RPCMode and MultiplayerPeer.TransferMode, by their int value. */
const RPC_MODES = ['disabled', 'any_peer', 'authority'] as const;
const TRANSFER_MODES = ['unreliable', 'unreliable_ordered', 'reliable'] as const;

/** `Class.PREFIX_NAME` or the constant's int value → its lowercase name; undefined for anything else. */
function constantName<T extends string>(text: string, int: number | null, prefix: string, names: readonly T[]): T | undefined {
  if (text.startsWith(prefix)) return names.find((n) => n === text.slice(prefix.length).toLowerCase());
  return int !== null ? names[int] : undefined;
}

// ---- Helpers --------------------------------------------------------------------------------------------

/** Index of the bracket closing the one at toks[open] (the tokenizer guarantees it exists in a logical line). */
function matching(toks: Tok[], open: number): number {
  let depth = 0;
  for (let i = open; i < toks.length; i++) {
    const t = toks[i];
    if (t.kind !== 'op') continue;
    if ('([{'.includes(t.text)) depth++;
    else if (')]}'.includes(t.text) && --depth === 0) return i;
  }
  // Brackets always balance within a logical line, so only a bracket opened on a column-0 line and
  // closed after a body line could get here; treat the rest of the line as inside.
  return toks.length;
}

function splitTopLevel(toks: Tok[], sep: string): Tok[][] {
  if (toks.length === 0) return [];
  const parts: Tok[][] = [[]];
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'op' && '([{'.includes(t.text)) depth++;
    if (t.kind === 'op' && ')]}'.includes(t.text)) depth--;
    if (depth === 0 && t.kind === 'op' && t.text === sep) parts.push([]);
    else parts[parts.length - 1].push(t);
  }
  if (parts.length > 1 && parts[parts.length - 1].length === 0) parts.pop(); // trailing comma
  return parts;
}

function indexTopLevel(toks: Tok[], text: string): number {
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t.kind !== 'op') continue;
    if ('([{'.includes(t.text)) depth++;
    else if (')]}'.includes(t.text)) depth--;
    else if (depth === 0 && t.text === text) return i;
  }
  return -1;
}

function tokText(toks: Tok[]): string {
  return toks
    .map((t) => (t.kind === 'string' ? `${t.prefix ?? ''}"${t.text}"` : t.kind === 'annotation' ? `@${t.text}` : t.text))
    .join('')
    .replace(/,/g, ', ');
}

/** `Name`, `A.B`, `Array[T]`, `Dictionary[K, V]`; null when the tokens are not a type. */
function renderType(toks: Tok[]): string | null {
  if (toks.length === 0) return null;
  const text = tokText(toks);
  return /^[\p{L}_][\p{L}\p{N}_]*(\.[\p{L}_][\p{L}\p{N}_]*)*(\[[\p{L}\p{N}_., [\]]*\])?$/u.test(text) ? text : null;
}

function intLiteral(text: string): number | null {
  const t = text.replace(/_/g, '');
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  if (/^0b[01]+$/.test(t)) return parseInt(t.slice(2), 2);
  if (/^\d+$/.test(t)) return Number(t);
  return null;
}

const FLOAT_CONSTANTS = new Set(['PI', 'TAU', 'INF', 'NAN']);
const CONVERSIONS: Record<string, string> = { str: 'String', int: 'int', float: 'float', bool: 'bool' };

/** The type a `:=` initializer certainly has, or null when the reader cannot be certain. */
function inferType(toks: Tok[]): string | null {
  let t = toks;
  while ((t[0]?.text === '-' || t[0]?.text === '+') && t[0].kind === 'op') t = t.slice(1);
  if (t.length === 0) return null;
  if (t[0].text === 'func' && t[0].kind === 'ident') return 'Callable';
  const [a, b, c] = t;
  if (t.length === 1) {
    if (a.kind === 'number') return intLiteral(a.text) !== null ? 'int' : 'float';
    if (a.kind === 'string') return a.prefix === '&' ? 'StringName' : a.prefix === '^' ? 'NodePath' : 'String';
    if (a.text === 'true' || a.text === 'false') return 'bool';
    if (FLOAT_CONSTANTS.has(a.text)) return 'float';
    return null;
  }
  const wholeGroup = (open: number): boolean => matching(t, open) === t.length - 1;
  if (a.kind === 'op' && a.text === '[' && wholeGroup(0)) return 'Array';
  if (a.kind === 'op' && a.text === '{' && wholeGroup(0)) return 'Dictionary';
  if (a.kind === 'ident' && b.text === '(' && wholeGroup(1)) {
    if (BUILTIN_TYPES.has(a.text) && a.text !== 'Variant' && a.text !== 'Object') return a.text;
    if (a.text in CONVERSIONS) return CONVERSIONS[a.text];
    return null;
  }
  // Vector2.ZERO, Color.RED: a built-in type's constant has that type.
  if (t.length === 3 && a.kind === 'ident' && BUILTIN_TYPES.has(a.text) && b.text === '.' && c.kind === 'ident' && /^[A-Z][A-Z0-9_]*$/.test(c.text)) {
    return a.text;
  }
  // Class.new() makes an instance of that class.
  if (t.length === 5 && a.kind === 'ident' && /^[A-Z]/.test(a.text) && b.text === '.' && c.text === 'new' && t[3].text === '(' && t[4].text === ')') {
    return a.text;
  }
  return null;
}
