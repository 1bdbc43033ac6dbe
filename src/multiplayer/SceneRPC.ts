/**
 * RPCs (spec scene-multiplayer.md §7): encoding calls to peers as Godot's SceneRPCInterface does, and
 * checking and dispatching the calls peers send us.
 *
 * Packet: meta byte (command 0; bits 4-5 node-id size u8/u16/u32; bit 6 method id u16; bit 7 "one
 * PackedByteArray or no arguments"), node id, method id, argument count (unless bit 7), compressed
 * arguments; when the peer has not confirmed our node id yet, the node id is 0x80000000 | offset and
 * the node's path follows the arguments.
 */
import { GodotError } from '../core/errors';
import { VariantReader, VariantWriter, readCompressedVariant, writeCompressedVariant } from '../variant/marshalls';
import { fromDeclared, toDeclared } from '../variant/typed';
import { ConnectionStatus, MultiplayerPeer, TransferMode } from './MultiplayerPeer';
import type { NetworkNode } from './NetworkNode';
import {
  Command,
  DropReason,
  INLINE_PATH_FLAG,
  NodeIdSize,
  RPC_BYTE_ONLY_OR_NO_ARGS,
  RPC_NAME_ID_U16,
  RPC_NODE_ID_SHIFT,
  cstring,
  pathForMessage,
  readCString,
} from './protocol';
import { RPCMode, RpcMethod } from './rpc-config';
import type { SceneCache } from './SceneCache';

const MAX_ARGS = 255;
const NODE_ID_BYTES = [1, 2, 4];

/** What RPCs need from SceneMultiplayer. */
export interface RpcHost {
  readonly peer: MultiplayerPeer | null;
  readonly cache: SceneCache;
  readonly connectedPeers: ReadonlySet<number>;
  readonly allowObjectDecoding: boolean;
  uniqueId(): number;
  findNode(path: string): NetworkNode | undefined;
  /** Sends `packet` to `to` with the given mode and channel (relayed by the server when we are a client). */
  send(to: number, packet: Uint8Array, mode: TransferMode, channel: number): void;
  /** Runs `fn` with getRemoteSenderId() answering `sender`. */
  asSender(sender: number, fn: () => void): void;
  /** Whether `peer` may receive RPCs of `node` (replication visibility); true without replication. */
  isRpcVisible(node: NetworkNode, peer: number): boolean;
  drop(reason: DropReason, message?: string): void;
  reportError(message: string): void;
}

export class SceneRPC {
  // Reused for every outgoing call: one growing buffer, no per-call allocation but the packet itself.
  readonly #w = new VariantWriter();
  // Reused for every incoming call's arguments.
  readonly #r = new VariantReader(new Uint8Array(0));

  constructor(private readonly host: RpcHost) {}

  /** GDScript's `rpc()` / `rpc_id()` (Godot's rpcp): sends, and calls locally for call_local methods. */
  call(node: NetworkNode, to: number, name: string, args: readonly unknown[]): GodotError {
    const host = this.host;
    // Messages are made only when something fails: a call that succeeds builds no string.
    const where = () => `RPC "${name}" on "${node.path}"`;
    if (host.peer === null) return this.#refuse(GodotError.ERR_UNCONFIGURED, `${where()}: no multiplayer peer is active`);
    if (!node.isRegistered) return this.#refuse(GodotError.ERR_INVALID_PARAMETER, `${where()}: the node was removed`);
    if (host.peer.getConnectionStatus() !== ConnectionStatus.CONNECTION_CONNECTED) {
      return this.#refuse(GodotError.ERR_CONNECTION_ERROR, `${where()}: the multiplayer peer is not connected`);
    }
    const method = node.getRpcMethod(name);
    if (method === undefined) {
      return this.#refuse(GodotError.ERR_INVALID_PARAMETER, `${where()}: the node has no such RPC (declare it with registerNode or rpcConfig)`);
    }
    const self = host.uniqueId();
    if (to === self && !method.callLocal) return this.#refuse(GodotError.ERR_INVALID_PARAMETER, `${where()}: calling yourself needs call_local`);
    const values = shapeArguments(where, method, args);
    if (to !== self) {
      const error = this.#send(node, to, method, values, where);
      if (error !== GodotError.OK) return error;
    }
    if (method.callLocal && (to === 0 || to === self || (to < 0 && to !== -self))) {
      host.asSender(self, () => this.#invoke(node, method, values.map((v, i) => (method.args ? fromLocal(v, method, i) : v))));
    }
    return GodotError.OK;
  }

  /** A REMOTE_CALL from `from` (already unwrapped from any relay). */
  process(from: number, packet: Uint8Array): void {
    const host = this.host;
    const meta = packet[0];
    const idSize = (meta >> RPC_NODE_ID_SHIFT) & 3;
    if (idSize > NodeIdSize.U32) return host.drop('malformed', `RPC from ${from}: invalid node id size`);
    const headerEnd = 1 + NODE_ID_BYTES[idSize] + (meta & RPC_NAME_ID_U16 ? 2 : 1);
    if (packet.length < headerEnd) return host.drop('malformed', `RPC from ${from}: too short`);
    const view = packet instanceof Buffer ? packet : Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const nodeId = idSize === NodeIdSize.U8 ? view[1] : idSize === NodeIdSize.U16 ? view.readUInt16LE(1) : view.readUInt32LE(1);
    const methodId = meta & RPC_NAME_ID_U16 ? view.readUInt16LE(headerEnd - 2) : view[headerEnd - 1];

    let node: NetworkNode | undefined;
    let end = packet.length;
    if (idSize === NodeIdSize.U32 && nodeId & INLINE_PATH_FLAG) {
      end = nodeId & ~INLINE_PATH_FLAG;
      if (end >= packet.length || end < headerEnd) return host.drop('malformed', `RPC from ${from}: inline path outside the packet`);
      const path = readCString(packet, end);
      node = host.findNode(path);
      if (node === undefined) return host.drop('unknownPath', `RPC from ${from} for node "${pathForMessage(path)}", which is not registered here`);
    } else {
      node = host.cache.receivedNode(from, nodeId);
      if (node === undefined) return host.drop('unknownCacheId', `ID ${nodeId} not found in cache of peer ${from}`);
    }

    const method = node.rpcTable.byId.get(methodId);
    if (method === undefined) return host.drop('unknownMethod', `RPC from ${from}: "${node.path}" has no method id ${methodId}`);
    if (!allowed(method, from, node)) {
      const mode = method.rpcMode === RPCMode.RPC_MODE_AUTHORITY ? 'authority' : 'disabled';
      return host.drop(
        'rpcDenied',
        `RPC '${method.name}' is not allowed on node ${node.path} from: ${from}. Mode is "${mode}", authority is ${node.multiplayerAuthority}.`,
      );
    }
    const args = this.#decodeArguments(from, node, method, view, headerEnd, end);
    if (args === undefined) return;
    host.asSender(from, () => this.#invoke(node, method, args));
  }

  // The arguments in packet[offset, end).
  #decodeArguments(from: number, node: NetworkNode, method: RpcMethod, packet: Buffer, offset: number, end: number): unknown[] | undefined {
    const host = this.host;
    const where = () => `RPC '${method.name}' on ${node.path} from ${from}`;
    let raw: unknown[] = [];
    if (packet[0] & RPC_BYTE_ONLY_OR_NO_ARGS) {
      if (offset < end) raw = [Buffer.from(packet.subarray(offset, end))];
    } else {
      if (offset >= end) return void host.drop('malformed', `${where()}: no argument count`);
      const argc = packet[offset];
      const r = this.#r;
      r.reset(packet, offset + 1, end);
      for (let i = 0; i < argc; i++) {
        const { error, value } = readCompressedVariant(r, host.allowObjectDecoding, true);
        if (error !== GodotError.OK) return void host.drop('badArguments', `${where()}: argument ${i + 1} does not decode (error ${error})`);
        raw.push(value);
      }
    }
    if (method.args === null) return raw;
    if (raw.length < method.requiredArgs || (raw.length > method.args.length && !method.restArgs)) {
      return void host.drop('badArguments', `${where()}: ${raw.length} arguments, the method takes ${describeArity(method)}`);
    }
    const out: unknown[] = [];
    for (let i = 0; i < raw.length; i++) {
      if (i >= method.args.length) {
        out.push(raw[i]); // a ...rest argument: untyped
        continue;
      }
      const converted = fromDeclared(raw[i], method.args[i]);
      if (!converted.ok) return void host.drop('badArguments', `${where()}: argument ${i + 1}: ${converted.reason}`);
      out.push(converted.value);
    }
    return out;
  }

  #invoke(node: NetworkNode, method: RpcMethod, args: unknown[]): void {
    const handlers = node.handlers(method.name);
    if (handlers.length === 0) {
      this.host.drop('unhandledRpc', `RPC '${method.name}' on ${node.path} arrived, but nothing handles it (node.on('${method.name}', …))`);
      return;
    }
    for (const handler of handlers) {
      try {
        handler(...args);
      } catch (e) {
        this.host.drop('handlerError', `RPC '${method.name}' on ${node.path}: the handler threw ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      }
    }
  }

  #send(node: NetworkNode, to: number, method: RpcMethod, args: readonly unknown[], where: () => string): GodotError {
    const host = this.host;
    if (args.length > MAX_ARGS) return this.#refuse(GodotError.ERR_INVALID_PARAMETER, `${where()}: too many arguments (>255)`);
    if (to !== 0 && !host.connectedPeers.has(Math.abs(to))) {
      return this.#refuse(GodotError.ERR_INVALID_PARAMETER, `${where()}: unknown peer ID ${to}`);
    }
    const targets: number[] = [];
    if (to > 0) {
      if (!host.isRpcVisible(node, to)) return this.#refuse(GodotError.ERR_INVALID_PARAMETER, `${where()}: peer ${to} cannot see this node`);
      targets.push(to);
    } else {
      for (const peer of host.connectedPeers) if (peer !== -to && host.isRpcVisible(node, peer)) targets.push(peer);
    }
    if (targets.length === 0) return GodotError.OK;
    const allConfirmed = host.cache.offer(node, targets);
    const cacheId = host.cache.idOf(node);

    const w = this.#w;
    w.truncate(0);
    w.u8(0); // meta, set below
    let idSize: NodeIdSize;
    if (allConfirmed && cacheId <= 0xff) (idSize = NodeIdSize.U8), w.u8(cacheId);
    else if (allConfirmed && cacheId <= 0xffff) (idSize = NodeIdSize.U16), w.u16(cacheId);
    else (idSize = NodeIdSize.U32), w.u32(cacheId);
    if (method.id <= 0xff) w.u8(method.id);
    else w.u16(method.id);
    const byteOnly = args.length === 0 || (args.length === 1 && args[0] instanceof Uint8Array);
    if (byteOnly) {
      if (args.length === 1) w.bytes(args[0] as Uint8Array);
    } else {
      w.u8(args.length);
      for (let i = 0; i < args.length; i++) {
        const error = writeCompressedVariant(w, args[i], host.allowObjectDecoding);
        if (error !== GodotError.OK) return this.#refuse(error, `${where()}: argument ${i + 1} cannot be sent as a Variant`);
      }
    }
    const meta =
      Command.REMOTE_CALL |
      (idSize << RPC_NODE_ID_SHIFT) |
      (method.id > 0xff ? RPC_NAME_ID_U16 : 0) |
      (byteOnly ? RPC_BYTE_ONLY_OR_NO_ARGS : 0);
    const base = w.finish();
    base[0] = meta;

    if (allConfirmed) {
      for (const peer of targets) host.send(peer, base, method.transferMode, method.channel);
      return GodotError.OK;
    }
    // Some target has not confirmed our id yet: those get the path inline, the others the plain id.
    const withPath = Buffer.concat([base, cstring(node.path)]);
    withPath.writeUInt32LE((INLINE_PATH_FLAG | base.length) >>> 0, 1);
    for (const peer of targets) {
      host.send(peer, host.cache.isConfirmed(node, peer) ? base : withPath, method.transferMode, method.channel);
    }
    return GodotError.OK;
  }

  #refuse(error: GodotError, message: string): GodotError {
    this.host.reportError(message);
    return error;
  }
}

function allowed(method: RpcMethod, from: number, node: NetworkNode): boolean {
  if (method.rpcMode === RPCMode.RPC_MODE_ANY_PEER) return true;
  return method.rpcMode === RPCMode.RPC_MODE_AUTHORITY && from === node.multiplayerAuthority;
}

function describeArity(method: RpcMethod): string {
  const total = method.args?.length ?? 0;
  if (method.restArgs) return `${method.requiredArgs} or more`;
  return method.requiredArgs === total ? String(total) : `${method.requiredArgs} to ${total}`;
}

/**
 * Checks the arguments of an outgoing call against the declaration and shapes them for the wire.
 * Wrong arguments are a programming error: they throw, before anything is sent.
 */
function shapeArguments(where: () => string, method: RpcMethod, args: readonly unknown[]): unknown[] {
  if (method.args === null) return [...args];
  const declared = method.args;
  if (args.length < method.requiredArgs || (args.length > declared.length && !method.restArgs)) {
    throw new TypeError(`${where()}: takes ${describeArity(method)} arguments, got ${args.length}`);
  }
  const shaped = new Array<unknown>(args.length);
  for (let i = 0; i < args.length; i++) {
    shaped[i] = i < declared.length ? toDeclared(args[i], declared[i], () => `${where()}: argument ${i + 1}`) : args[i];
  }
  return shaped;
}

/** A locally called declared method sees what a remote call would: shaped values converted back. */
function fromLocal(value: unknown, method: RpcMethod, i: number): unknown {
  const declared = (method.args as NonNullable<RpcMethod['args']>)[i];
  if (declared === undefined) return value; // a ...rest argument
  const converted = fromDeclared(value, declared);
  return converted.ok ? converted.value : value;
}
