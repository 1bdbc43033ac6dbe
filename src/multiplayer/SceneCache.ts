/**
 * The node path cache (spec scene-multiplayer.md §6): each side names nodes with small ids of its own.
 * As a sender we give a node an id the first time it is referenced (never reused in a session), offer
 * it to each peer once with SIMPLIFY_PATH and use the inline path until the peer confirms. As a
 * receiver we keep, per peer, the ids it offered us and answer each with CONFIRM_PATH.
 */
import type { NetworkNode } from './NetworkNode';
import { CONFIRM_PATH_SIZE, Command, DropReason, SIMPLIFY_PATH_MIN, cstring, pathForMessage, readCString } from './protocol';

/** What the cache needs from SceneMultiplayer. */
export interface CacheHost {
  /** Sends an inner packet to `peer` on channel 0, reliable (through the server when we are a client). */
  sendReliable(peer: number, packet: Uint8Array): void;
  findNode(path: string): NetworkNode | undefined;
  /** Drops a packet, counting it under `reason`; `message` is reported like Godot's printed errors. */
  drop(reason: DropReason, message?: string): void;
  reportError(message: string): void;
}

interface SentNode {
  readonly id: number;
  /** Per peer: offered (false) or confirmed (true); absent = never offered. */
  readonly confirmed: Map<number, boolean>;
}

interface ReceivedNode {
  readonly path: string;
  node: NetworkNode | undefined;
}

const HEX32 = /^[0-9a-f]{32}$/;

export class SceneCache {
  #lastSendId = 1;
  readonly #sent = new Map<NetworkNode, SentNode>();
  readonly #assigned = new Map<number, NetworkNode>();
  /** Per connected peer, the ids it offered us. */
  readonly #received = new Map<number, Map<number, ReceivedNode>>();

  constructor(
    private readonly host: CacheHost,
    /** Ids a peer may offer us; beyond it SIMPLIFY_PATHs are dropped (Godot has no limit). */
    private readonly maxReceivedPerPeer: number,
  ) {}

  onPeerChange(peer: number, connected: boolean): void {
    if (connected) {
      this.#received.set(peer, new Map());
      return;
    }
    this.#received.delete(peer);
    for (const sent of this.#sent.values()) sent.confirmed.delete(peer);
  }

  /** Our id for `node`, assigned on first use. */
  idOf(node: NetworkNode): number {
    return this.#track(node).id;
  }

  /**
   * Offers `node` (SIMPLIFY_PATH) to every target that has never been offered it. Returns whether
   * every target has confirmed it already, i.e. whether packets to them may use the short id.
   */
  offer(node: NetworkNode, targets: Iterable<number>): boolean {
    const sent = this.#track(node);
    let allConfirmed = true;
    let packet: Buffer | undefined;
    for (const peer of targets) {
      const state = sent.confirmed.get(peer);
      if (state === true) continue;
      allConfirmed = false;
      if (state === false || !this.#received.has(peer)) continue;
      packet ??= simplifyPath(node, sent.id);
      this.host.sendReliable(peer, packet);
      sent.confirmed.set(peer, false);
    }
    return allConfirmed;
  }

  isConfirmed(node: NetworkNode, peer: number): boolean {
    return this.#sent.get(node)?.confirmed.get(peer) === true;
  }

  /** The node a peer means by its cache id: registered now, or found again by the path it gave. */
  receivedNode(peer: number, id: number): NetworkNode | undefined {
    const entry = this.#received.get(peer)?.get(id);
    if (entry === undefined) return undefined;
    if (entry.node === undefined || !entry.node.isRegistered) entry.node = this.host.findNode(entry.path);
    return entry.node;
  }

  /** A node left the tree: its id is retired (never reused) and peers' offers of it stay as paths. */
  forget(node: NetworkNode): void {
    const sent = this.#sent.get(node);
    if (sent !== undefined) this.#assigned.delete(sent.id);
    this.#sent.delete(node);
  }

  processSimplifyPath(from: number, packet: Uint8Array): void {
    const received = this.#received.get(from);
    if (received === undefined) return this.host.drop('fromUnknownPeer');
    if (packet.length < SIMPLIFY_PATH_MIN) return this.host.drop('malformed', 'SIMPLIFY_PATH too short');
    const checksum = Buffer.from(packet.buffer, packet.byteOffset + 1, 32).toString('latin1');
    const view = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
    const id = view.readUInt32LE(34);
    if (received.has(id)) return this.host.drop('duplicateCacheId', `Duplicate remote cache ID ${id} for peer ${from}`);
    if (received.size >= this.maxReceivedPerPeer) return this.host.drop('cacheFull', `peer ${from} offered more than ${this.maxReceivedPerPeer} node paths`);
    const path = readCString(packet, SIMPLIFY_PATH_MIN);
    const node = this.host.findNode(path);
    if (node === undefined) {
      return this.host.drop('unknownPath', `peer ${from} refers to node "${pathForMessage(path)}", which is not registered here (registerNode, or the game manifest)`);
    }
    const valid = HEX32.test(checksum) && checksum === node.rpcTable.checksum;
    if (!valid) {
      this.host.reportError(
        `The rpc node checksum failed for "${pathForMessage(path)}" (peer ${from}): the peer's script declares other @rpc methods than registered here, so method ids will not match`,
      );
    }
    // The node's own path: the peer's spelling of it ("Game//////…") may be as long as its packet.
    received.set(id, { path: node.path, node });
    this.host.sendReliable(from, Buffer.from([Command.CONFIRM_PATH, valid ? 1 : 0, id & 0xff, (id >>> 8) & 0xff, (id >>> 16) & 0xff, id >>> 24]));
  }

  processConfirmPath(from: number, packet: Uint8Array): void {
    if (packet.length !== CONFIRM_PATH_SIZE) return this.host.drop('malformed', 'CONFIRM_PATH is not 6 bytes');
    const id = Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength).readUInt32LE(2);
    const node = this.#assigned.get(id);
    // The node may have been removed since (Godot ignores this silently): counted, not reported.
    if (node === undefined) return this.host.drop('unrequestedConfirm');
    if (packet[1] === 0) {
      this.host.reportError(`The rpc node checksum failed for "${node.path}" (peer ${from}): make sure both ends declare the same @rpc methods`);
    }
    const confirmed = this.#sent.get(node)?.confirmed;
    if (confirmed?.has(from) !== true) return this.host.drop('unrequestedConfirm', `peer ${from} confirms node id ${id}, which was never offered to it`);
    confirmed.set(from, true);
  }

  clear(): void {
    this.#lastSendId = 1;
    this.#sent.clear();
    this.#assigned.clear();
    this.#received.clear();
  }

  #track(node: NetworkNode): SentNode {
    let sent = this.#sent.get(node);
    if (sent === undefined) {
      sent = { id: this.#lastSendId++, confirmed: new Map() };
      this.#sent.set(node, sent);
      this.#assigned.set(sent.id, node);
    }
    return sent;
  }
}

/** `01` + checksum (32 hex + NUL) + u32 id + path cstring. */
function simplifyPath(node: NetworkNode, id: number): Buffer {
  const path = cstring(node.path);
  const out = Buffer.alloc(SIMPLIFY_PATH_MIN + path.length);
  out[0] = Command.SIMPLIFY_PATH;
  out.write(node.rpcTable.checksum, 1, 'latin1');
  out.writeUInt32LE(id, 34);
  path.copy(out, SIMPLIFY_PATH_MIN);
  return out;
}
