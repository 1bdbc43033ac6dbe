/**
 * An in-memory MultiplayerPeer: a test double that carries SceneMultiplayer's packets without sockets,
 * with ENetMultiplayerPeer's semantics where SceneMultiplayer can see them: peer_connected /
 * peer_disconnected and packets come out of poll() (events first, as a service() pass emits them before
 * SceneMultiplayer reads the queue), a server reaches every linked peer (target 0, n, -n), a client only
 * the server, the relay is supported, and disconnectPeer() is graceful (peer_disconnected follows at
 * the next poll).
 *
 * Alone, a MemoryPeer is fed by hand (`link`, `unlink`, `deliver`): tools/fuzz/scene-target.ts drives
 * SceneMultiplayer's receive path that way. A MemoryNetwork links a server peer and client peers so
 * that what one puts, the other receives: whole SceneMultiplayer sessions in one process, synchronous.
 */
import { GodotError } from '../../src/core/errors';
import { ConnectionStatus, MultiplayerPeer, TransferMode } from '../../src/multiplayer/MultiplayerPeer';
import type { PacketResult } from '../../src/core/PacketPeer';

export interface MemoryPacket {
  /** The sender (received packets) or the target (sent ones). */
  peer: number;
  channel: number;
  mode: TransferMode;
  data: Buffer;
}

const SERVER_ID = 1;
const EMPTY = Buffer.alloc(0);

export class MemoryPeer extends MultiplayerPeer {
  #status: ConnectionStatus;
  #target = 0;
  readonly #inbox: MemoryPacket[] = [];
  #head = 0;
  readonly #links = new Set<number>();
  readonly #events: Array<{ connected: boolean; id: number }> = [];
  /** Where puts go (a MemoryNetwork), if anywhere. */
  route: ((from: MemoryPeer, to: number, packet: MemoryPacket) => void) | null = null;
  /** Called for every put that the peer accepted (the packet's `peer` is its target). */
  onPut: ((packet: MemoryPacket) => void) | null = null;
  /** Called when SceneMultiplayer takes a packet from the queue, and (with null) when it finds it empty. */
  onRead: ((packet: MemoryPacket | null) => void) | null = null;
  /** Called for every disconnectPeer(). */
  onDisconnectPeer: ((id: number) => void) | null = null;

  /** `id` 1 makes a server (connected at once); any other id a client, connecting until link(1). */
  constructor(readonly id: number) {
    super();
    this.#status = id === SERVER_ID ? ConnectionStatus.CONNECTION_CONNECTED : ConnectionStatus.CONNECTION_CONNECTING;
  }

  get isServerPeer(): boolean {
    return this.id === SERVER_ID;
  }

  /** Transport-level peers (ENet connections): who puts may reach. */
  get links(): ReadonlySet<number> {
    return this.#links;
  }

  /** A peer connects (ENet CONNECT): peer_connected(id) at the next poll. A client links only 1. */
  link(id: number): void {
    if (this.#status === ConnectionStatus.CONNECTION_DISCONNECTED) return;
    if (!this.isServerPeer && id !== SERVER_ID) throw new Error('MemoryPeer: a client links only the server (1)');
    if (this.#links.has(id) || id === this.id) return;
    this.#links.add(id);
    this.#events.push({ connected: true, id });
  }

  /** A peer leaves (ENet DISCONNECT): peer_disconnected(id) at the next poll; a client then closes. */
  unlink(id: number): void {
    if (!this.#links.delete(id)) return;
    this.#events.push({ connected: false, id });
  }

  /** A packet arrives from `from`. */
  deliver(from: number, data: Uint8Array, mode = TransferMode.TRANSFER_MODE_RELIABLE, channel = 0): void {
    if (this.#status === ConnectionStatus.CONNECTION_DISCONNECTED) return;
    this.#inbox.push({ peer: from, channel, mode, data: Buffer.from(data) });
  }

  get queued(): number {
    return this.#inbox.length - this.#head;
  }

  // ---------------------------------------------------------------------------------------------
  // MultiplayerPeer

  override isServerRelaySupported(): boolean {
    return true;
  }

  setTargetPeer(id: number): void {
    this.#target = id;
  }

  getUniqueId(): number {
    return this.id;
  }

  getConnectionStatus(): ConnectionStatus {
    return this.#status;
  }

  getAvailablePacketCount(): number {
    const n = this.#inbox.length - this.#head;
    if (n === 0) this.onRead?.(null);
    return n;
  }

  getMaxPacketSize(): number {
    return 1 << 24;
  }

  getPacketPeer(): number {
    return this.#front()?.peer ?? SERVER_ID;
  }

  getPacketChannel(): number {
    return this.#front()?.channel ?? 0;
  }

  getPacketMode(): TransferMode {
    return this.#front()?.mode ?? TransferMode.TRANSFER_MODE_RELIABLE;
  }

  poll(): void {
    for (const { connected, id } of this.#events.splice(0)) {
      if (this.#status === ConnectionStatus.CONNECTION_DISCONNECTED) break;
      if (!this.isServerPeer) {
        if (connected) this.#status = ConnectionStatus.CONNECTION_CONNECTED;
        else {
          this.emit('peer_disconnected', id);
          this.close();
          continue;
        }
      }
      this.emit(connected ? 'peer_connected' : 'peer_disconnected', id);
    }
  }

  close(): void {
    this.#status = ConnectionStatus.CONNECTION_DISCONNECTED;
    this.#links.clear();
    this.#events.length = 0;
    this.#inbox.length = 0;
    this.#head = 0;
  }

  disconnectPeer(id: number): void {
    this.onDisconnectPeer?.(id);
    this.unlink(id);
  }

  protected readPacket(): PacketResult {
    const next = this.#front();
    if (next === undefined) return { error: GodotError.ERR_UNAVAILABLE, data: EMPTY };
    this.#head++;
    if (this.#head === this.#inbox.length) {
      this.#inbox.length = 0;
      this.#head = 0;
    }
    this.onRead?.(next);
    return { error: GodotError.OK, data: next.data };
  }

  protected writePacket(data: Uint8Array): GodotError {
    if (this.#status !== ConnectionStatus.CONNECTION_CONNECTED) return GodotError.ERR_UNCONFIGURED;
    const to = this.isServerPeer ? this.#target : SERVER_ID;
    if (to !== 0 && !this.#links.has(Math.abs(to))) return GodotError.ERR_INVALID_PARAMETER;
    const packet: MemoryPacket = { peer: to, channel: this.transferChannel, mode: this.transferMode, data: Buffer.from(data) };
    this.onPut?.(packet);
    this.route?.(this, to, packet);
    return GodotError.OK;
  }

  #front(): MemoryPacket | undefined {
    return this.#head < this.#inbox.length ? this.#inbox[this.#head] : undefined;
  }
}

/**
 * A server MemoryPeer and client MemoryPeers wired together: puts are delivered to the other end's
 * queue at once (in order, nothing lost), and `tap` sees every delivery.
 */
export class MemoryNetwork {
  readonly server = new MemoryPeer(SERVER_ID);
  readonly clients = new Map<number, MemoryPeer>();
  /** Sees every packet delivered: (receiver, packet with its sender). */
  tap: ((receiver: MemoryPeer, packet: MemoryPacket) => void) | null = null;

  constructor() {
    this.server.route = (_from, to, packet) => {
      for (const [id, client] of this.clients) {
        if (to === id || to === 0 || (to < 0 && -to !== id)) this.#deliver(client, { ...packet, peer: SERVER_ID });
      }
    };
    // The server ends a connection: the client sees it end too.
    this.server.onDisconnectPeer = (id) => this.clients.get(id)?.unlink(SERVER_ID);
  }

  /** A client with id `id` (or `client`), connected: both ends see the connection at their next poll. */
  connect(id: number, client = new MemoryPeer(id)): MemoryPeer {
    client.route = (from, _to, packet) => this.#deliver(this.server, { ...packet, peer: from.id });
    this.clients.set(id, client);
    this.server.link(id);
    client.link(SERVER_ID);
    return client;
  }

  /** `id` leaves: both ends see it at their next poll. */
  disconnect(id: number): void {
    this.server.unlink(id);
    this.clients.get(id)?.unlink(SERVER_ID);
    this.clients.delete(id);
  }

  #deliver(receiver: MemoryPeer, packet: MemoryPacket): void {
    if (receiver.getConnectionStatus() === ConnectionStatus.CONNECTION_DISCONNECTED) return;
    this.tap?.(receiver, packet);
    receiver.deliver(packet.peer, packet.data, packet.mode, packet.channel);
  }
}
