/**
 * A node's RPC table as Godot derives it (spec scene-multiplayer.md §7.1): method ids are positions in
 * code-point-sorted name lists — the script's `@rpc` methods as 0..n-1, the `Node.rpc_config()`
 * methods as 0x8000 | index — and the SIMPLIFY_PATH checksum is the MD5 of all names in id order,
 * rpc_config() names first. Names never travel, so both ends must derive the same lists.
 */
import { createHash } from 'crypto';
import { TransferMode } from './MultiplayerPeer';
import { DeclaredType, VARIANT, parseDeclaredType } from '../variant/typed';
import { NODE_CONFIG_ID_FLAG } from './protocol';

/** Godot's MultiplayerAPI.RPCMode. */
export enum RPCMode {
  RPC_MODE_DISABLED = 0,
  RPC_MODE_ANY_PEER = 1,
  RPC_MODE_AUTHORITY = 2,
}

/**
 * How a method is declared: the text of GDScript's annotation (`'@rpc("any_peer", "unreliable", 1)'`,
 * or just `'any_peer, call_local'`), or an object with Godot's keys in our casing — the shape the
 * game manifest uses. `args` are the parameters' GDScript types ('int', 'Vector2', 'Array[float]', or
 * 'Variant' / omitted for untyped ones); with them numbers leave as INT or FLOAT as the GDScript
 * expects, and calls arriving with the wrong arguments are refused as Godot refuses them.
 */
export type RpcDeclaration =
  | string
  | {
      rpcMode?: 'any_peer' | 'authority' | 'disabled' | RPCMode;
      transferMode?: 'reliable' | 'unreliable' | 'unreliable_ordered' | TransferMode;
      callLocal?: boolean;
      channel?: number;
      args?: readonly (string | { type: string; optional?: boolean; rest?: boolean; name?: string })[];
      /** Where the manifest found it; informational. */
      source?: unknown;
    };

export interface RpcMethod {
  readonly name: string;
  readonly id: number;
  readonly rpcMode: RPCMode;
  readonly transferMode: TransferMode;
  readonly callLocal: boolean;
  readonly channel: number;
  /** Declared parameter types, or null when the declaration did not give them (anything is accepted). */
  readonly args: readonly DeclaredType[] | null;
  /** How many leading parameters have no default. */
  readonly requiredArgs: number;
  /** A variadic `...rest` parameter takes any number of further (untyped) arguments. */
  readonly restArgs: boolean;
}

const MODES: Record<string, RPCMode> = {
  any_peer: RPCMode.RPC_MODE_ANY_PEER,
  authority: RPCMode.RPC_MODE_AUTHORITY,
  disabled: RPCMode.RPC_MODE_DISABLED,
};
const TRANSFERS: Record<string, TransferMode> = {
  reliable: TransferMode.TRANSFER_MODE_RELIABLE,
  unreliable: TransferMode.TRANSFER_MODE_UNRELIABLE,
  unreliable_ordered: TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED,
};
const CALL_LOCAL: Record<string, boolean> = { call_local: true, call_remote: false };

type Settings = Omit<RpcMethod, 'name' | 'id'>;

/** Parses one declaration into Godot's settings, with GDScript's defaults (authority, reliable, call_remote, 0). */
export function parseRpcDeclaration(method: string, decl: RpcDeclaration): Settings {
  const where = `RPC "${method}"`;
  if (typeof decl === 'string') return parseAnnotation(where, decl);
  if (decl === null || typeof decl !== 'object') throw new TypeError(`${where}: a declaration is an @rpc(...) string or an object`);
  const known = new Set(['rpcMode', 'transferMode', 'callLocal', 'channel', 'args', 'source']);
  for (const key of Object.keys(decl)) if (!known.has(key)) throw new TypeError(`${where}: unknown key "${key}"`);
  const rpcMode = enumValue(where, 'rpcMode', decl.rpcMode, MODES, RPCMode, RPCMode.RPC_MODE_AUTHORITY);
  const transferMode = enumValue(where, 'transferMode', decl.transferMode, TRANSFERS, TransferMode, TransferMode.TRANSFER_MODE_RELIABLE);
  const callLocal = decl.callLocal ?? false;
  if (typeof callLocal !== 'boolean') throw new TypeError(`${where}: callLocal must be a boolean`);
  const channel = decl.channel ?? 0;
  if (!Number.isInteger(channel) || channel < 0) throw new RangeError(`${where}: channel must be an integer >= 0`);
  let args: DeclaredType[] | null = null;
  let requiredArgs = 0;
  let restArgs = false;
  if (decl.args !== undefined) {
    if (!Array.isArray(decl.args)) throw new TypeError(`${where}: args must be an array of GDScript types`);
    args = [];
    let sawOptional = false;
    for (const [i, arg] of decl.args.entries()) {
      const text = typeof arg === 'string' ? arg : arg?.type;
      if (typeof text !== 'string') throw new TypeError(`${where}: each argument is a type name or { type, optional, rest }`);
      if (typeof arg === 'object' && arg.rest === true) {
        if (i !== decl.args.length - 1) throw new TypeError(`${where}: only the last argument can be a ...rest argument`);
        restArgs = true;
        break;
      }
      args.push(text === '' ? VARIANT : parseDeclaredType(text));
      const optional = typeof arg === 'object' && arg.optional === true;
      if (!optional && !sawOptional) requiredArgs++;
      sawOptional ||= optional;
    }
  }
  return { rpcMode, transferMode, callLocal, channel, args, requiredArgs, restArgs };
}

function enumValue<T extends number>(
  where: string,
  key: string,
  value: string | number | undefined,
  names: Record<string, T>,
  values: object,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && names[value] !== undefined) return names[value];
  if (typeof value === 'number' && (values as Record<number, unknown>)[value] !== undefined) return value as T;
  throw new RangeError(`${where}: ${key} must be one of ${Object.keys(names).join(', ')}`);
}

/** `@rpc("any_peer", "call_local", "unreliable", 2)` — the strings in any order, each kind at most once; the channel, an int, only as the fourth argument. */
function parseAnnotation(where: string, text: string): Settings {
  let body = text.trim();
  const wrapped = /^@rpc\s*(?:\((.*)\))?$/s.exec(body);
  if (wrapped) body = wrapped[1] ?? '';
  let rpcMode: RPCMode | undefined;
  let transferMode: TransferMode | undefined;
  let callLocal: boolean | undefined;
  let channel: number | undefined;
  const tokens = body.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
  for (const [index, token] of tokens.entries()) {
    const word = token.replace(/^(["'])(.*)\1$/, '$2');
    // As GDScript: three strings at most, then the channel as the fourth argument.
    if (index > 3 || (index === 3) !== /^\d+$/.test(token)) {
      throw new TypeError(`${where}: "${text}": @rpc takes up to three mode strings, then the channel as its fourth argument`);
    }
    const clash = (kind: string) => new TypeError(`${where}: "${text}" sets the ${kind} twice`);
    if (MODES[word] !== undefined && word !== 'disabled') {
      if (rpcMode !== undefined) throw clash('rpc mode');
      rpcMode = MODES[word];
    } else if (TRANSFERS[word] !== undefined) {
      if (transferMode !== undefined) throw clash('transfer mode');
      transferMode = TRANSFERS[word];
    } else if (CALL_LOCAL[word] !== undefined) {
      if (callLocal !== undefined) throw clash('call_local setting');
      callLocal = CALL_LOCAL[word];
    } else if (index === 3) {
      channel = Number(word);
    } else {
      throw new TypeError(`${where}: "${token}" is not an @rpc argument (any_peer, authority, call_local, call_remote, reliable, unreliable, unreliable_ordered, or a channel number)`);
    }
  }
  return {
    rpcMode: rpcMode ?? RPCMode.RPC_MODE_AUTHORITY,
    transferMode: transferMode ?? TransferMode.TRANSFER_MODE_RELIABLE,
    callLocal: callLocal ?? false,
    channel: channel ?? 0,
    args: null,
    requiredArgs: 0,
    restArgs: false,
  };
}

/** Compares by Unicode code point, as Godot's StringName ordering does (JS `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const ca = ia.next();
    const cb = ib.next();
    if (ca.done || cb.done) return ca.done ? (cb.done ? 0 : -1) : 1;
    const d = (ca.value.codePointAt(0) as number) - (cb.value.codePointAt(0) as number);
    if (d !== 0) return d;
  }
}

/** A node's methods by name and by id, and its checksum. */
export class RpcTable {
  readonly byName = new Map<string, RpcMethod>();
  readonly byId = new Map<number, RpcMethod>();
  readonly checksum: string;

  constructor(script: Record<string, RpcDeclaration>, nodeConfig: Record<string, RpcDeclaration>) {
    const names: string[] = [];
    for (const table of [script, nodeConfig]) {
      if (Object.keys(table).length > NODE_CONFIG_ID_FLAG) throw new RangeError('a node has more RPC methods than ids (32768)');
    }
    // Node config first, then the script, as Godot fills its table; a name in both keeps the script's id.
    for (const [table, flag] of [[nodeConfig, NODE_CONFIG_ID_FLAG], [script, 0]] as const) {
      const sorted = Object.keys(table).sort(compareCodePoints);
      sorted.forEach((name, index) => {
        const method: RpcMethod = { name, id: index | flag, ...parseRpcDeclaration(name, table[name]) };
        this.byId.set(method.id, method);
        this.byName.set(name, method);
      });
      names.push(...sorted);
    }
    this.checksum = createHash('md5').update(names.join(''), 'utf8').digest('hex');
  }
}
