/**
 * SceneMultiplayer's wire constants (spec scene-multiplayer.md §2). Every packet starts with a command
 * byte: bits 0-2 the command, bits 4-7 per-command flags. All integers are little-endian.
 */

export const enum Command {
  REMOTE_CALL = 0,
  SIMPLIFY_PATH = 1,
  CONFIRM_PATH = 2,
  RAW = 3,
  SPAWN = 4,
  DESPAWN = 5,
  SYNC = 6,
  SYS = 7,
}

export const COMMAND_MASK = 7;

export const enum SysCommand {
  AUTH = 0,
  ADD_PEER = 1,
  DEL_PEER = 2,
  RELAY = 3,
}

/** command + sys command + i32 peer. */
export const SYS_CMD_SIZE = 6;

/** SIMPLIFY_PATH: command, 32 hex chars + NUL, u32 cache id, then the path cstring. */
export const SIMPLIFY_PATH_MIN = 38;
export const CONFIRM_PATH_SIZE = 6;

// REMOTE_CALL meta byte (§7.2).
export const RPC_NODE_ID_SHIFT = 4;
export const RPC_NODE_ID_MASK = 3 << RPC_NODE_ID_SHIFT;
export const RPC_NAME_ID_U16 = 1 << 6;
export const RPC_BYTE_ONLY_OR_NO_ARGS = 1 << 7;
export const enum NodeIdSize {
  U8 = 0,
  U16 = 1,
  U32 = 2,
}
/** Node id bit 31: the node travels as an inline path starting at the offset in bits 0-30. */
export const INLINE_PATH_FLAG = 0x80000000;
/** Method ids of Node.rpc_config() entries have bit 15 set. */
export const NODE_CONFIG_ID_FLAG = 0x8000;

/** A SYS packet naming one peer (ADD_PEER, DEL_PEER, or a RELAY header before its inner packet). */
export function sysPacket(cmd: SysCommand, peer: number, inner?: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(SYS_CMD_SIZE + (inner?.length ?? 0));
  out[0] = Command.SYS;
  out[1] = cmd;
  out.writeInt32LE(peer, 2);
  if (inner !== undefined) out.set(inner, SYS_CMD_SIZE);
  return out;
}

/** UTF-8 of `s` plus a NUL, as Godot's encode_cstring writes it. */
export function cstring(s: string): Buffer {
  return Buffer.from(s + '\0', 'utf8');
}

/** Godot's String::utf8 of a length-bounded cstring: everything up to the first NUL. */
export function readCString(bytes: Uint8Array, start: number, end = bytes.length): string {
  const slice = Buffer.from(bytes.buffer, bytes.byteOffset + start, Math.max(0, end - start));
  const nul = slice.indexOf(0);
  return (nul < 0 ? slice : slice.subarray(0, nul)).toString('utf8');
}

/** A path read from the wire, for an error message: a peer decides its length, the log should not. */
export function pathForMessage(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 200)}… (${path.length} characters)`;
}

/** Why a received packet was dropped; SceneMultiplayer counts each (getCounters). */
export const DROP_REASONS = [
  'malformed',
  'fromUnknownPeer',
  'notAuthenticated',
  'badSysCommand',
  'badRelay',
  'relayToUnknownPeer',
  'invalidCommand',
  'unknownPath',
  'duplicateCacheId',
  'cacheFull',
  'unknownCacheId',
  'unrequestedConfirm',
  'unknownMethod',
  'rpcDenied',
  'badArguments',
  'unhandledRpc',
  'handlerError',
] as const;
export type DropReason = (typeof DROP_REASONS)[number];
