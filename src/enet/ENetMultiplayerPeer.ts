import { isIP } from 'net';
import { ENetConnection, EventType, RawEvent } from './ENetConnection';
import { ENetPacketPeer, FLAG_RELIABLE, FLAG_UNRELIABLE_FRAGMENT, FLAG_UNSEQUENCED, PeerState, packetTooLarge } from './ENetPacketPeer';
import { GodotError, reportError } from '../core/errors';
import { ConnectionStatus, MultiplayerPeer, TransferMode } from '../multiplayer/MultiplayerPeer';
import { PacketResult } from '../core/PacketPeer';
import { Queue } from '../core/queue';
import { checkBool, checkInt, checkString } from '../core/validate';

// Godot's system channels: ENet channel 0 carries reliable traffic, 1 both unreliable modes, and user
// transfer channel n > 0 travels on ENet channel n + 1.
const SYSCH_RELIABLE = 0;
const SYSCH_UNRELIABLE = 1;
const SYSCH_MAX = 2;
const MAX_PACKET_SIZE = 1 << 24;
const SERVER_ID = 1;

enum Mode {
  NONE,
  SERVER,
  CLIENT,
  MESH,
}

/** A packet received by ENetMultiplayerPeer, as the `packet` event and `packets()` deliver it. */
export interface MultiplayerPacket {
  data: Buffer;
  /** Sender's peer id. */
  from: number;
  /** Transfer channel (Godot's get_packet_channel numbering). */
  channel: number;
  mode: TransferMode;
}

interface StoredPacket {
  data: Buffer;
  from: number;
  enetChannel: number;
  mode: TransferMode;
}

export interface ENetMultiplayerPeerOptions {
  /**
   * Reproduce Godot's create_server argument bug (godotengine/godot#123254, spec gotcha G6): `inBandwidth`
   * is ignored and `maxChannels + 2` is advertised as the incoming bandwidth. Default true, because that
   * is what a real Godot 4 server puts on the wire; false gives the corrected behaviour (maxChannels
   * limits channels, inBandwidth is the incoming bandwidth).
   */
  godotCreateServerBug?: boolean;
  /**
   * Node extra: poll() is called from the event loop while the peer is active, as soon as a datagram
   * arrives and otherwise every `autoPoll` ms (true = 10 ms) for ENet's timers, so a server needs no
   * loop of its own and costs almost nothing when idle. The Godot-style manual poll() keeps working.
   */
  autoPoll?: boolean | number;
  /**
   * When puts leave. 'put' (default, as Godot): every putPacket flushes at once, one datagram per put.
   * 'tick' (Node extra): puts made in the same JavaScript turn are flushed together right after it, so
   * several puts to one peer share a datagram and a server with many peers walks its peer list once
   * per turn instead of once per put. Still wire-compatible: ENet always allows several commands per
   * datagram.
   */
  flush?: 'put' | 'tick';
}

const OPTION_NAMES: (keyof ENetMultiplayerPeerOptions)[] = ['godotCreateServerBug', 'autoPoll', 'flush'];

/**
 * Godot's ENetMultiplayerPeer: a MultiplayerPeer over ENet, wire-compatible with Godot 4 servers,
 * clients and mesh peers (no header bytes; the peer id travels as the CONNECT data).
 *
 * Node extras beyond Godot: the `autoPoll` option, a `packet` event and `packets()` async iterator,
 * and a `closed` event when close() ends an active peer. While anything listens to `packet`, received
 * packets are emitted from poll() (in order with the peer events) instead of being queued for
 * getPacket().
 */
export class ENetMultiplayerPeer extends MultiplayerPeer {
  #mode = Mode.NONE;
  #uniqueId = 0;
  #targetPeer = 0;
  #status = ConnectionStatus.CONNECTION_DISCONNECTED;
  #bindIp = '*';
  readonly #hosts = new Map<number, ENetConnection>();
  readonly #peers = new Map<number, ENetPacketPeer>();
  // Godot's `_net_id` metadata: the id a server assigned to each admitted ENet peer. Kept after the
  // peer leaves `peers`, so late packets still carry their sender.
  readonly #netIds = new WeakMap<ENetPacketPeer, number>();
  readonly #incoming = new Queue<StoredPacket>();
  readonly #godotCreateServerBug: boolean;
  readonly #flushPerPut: boolean;
  #flushScheduled = false;
  #localEndsSeen = 0;
  // What the event loop calls when a host wakes (autoPoll's own poll, or whoever called watch()).
  #driver: (() => void) | null = null;
  #driverMs = 0;

  constructor(options: ENetMultiplayerPeerOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('ENetMultiplayerPeer: options must be an object');
    for (const name of Object.keys(options)) {
      if (!OPTION_NAMES.includes(name as keyof ENetMultiplayerPeerOptions)) {
        const near = OPTION_NAMES.find((known) => known.toLowerCase() === name.toLowerCase());
        throw new TypeError(`ENetMultiplayerPeer: unknown option "${name}"${near ? ` (did you mean "${near}"?)` : ''}; ` +
          `the options are ${OPTION_NAMES.join(', ')}`);
      }
    }
    this.#godotCreateServerBug = checkBool('ENetMultiplayerPeer', 'godotCreateServerBug', options.godotCreateServerBug ?? true);
    const autoPoll = options.autoPoll ?? false;
    let autoPollMs: number;
    if (typeof autoPoll === 'boolean') {
      autoPollMs = autoPoll ? 10 : 0;
    } else {
      autoPollMs = checkInt('ENetMultiplayerPeer', 'autoPoll', autoPoll);
      if (autoPoll < 1 || autoPoll > 0x7fffffff) {
        throw new RangeError(`ENetMultiplayerPeer: autoPoll must be true, false or an interval of 1 ms or more, got ${autoPoll}`);
      }
    }
    if (autoPollMs > 0) {
      this.#driver = () => {
        if (this.#isActive()) this.poll();
      };
      this.#driverMs = autoPollMs;
    }
    const flush = options.flush ?? 'put';
    if (flush !== 'put' && flush !== 'tick') throw new TypeError(`ENetMultiplayerPeer: flush must be 'put' or 'tick'`);
    this.#flushPerPut = flush === 'put';
  }

  #isActive(): boolean {
    return this.#mode !== Mode.NONE;
  }

  /** Starts a server on `port` (bound to setBindIp's address, "*" by default). */
  createServer(port: number, maxClients = 32, maxChannels = 0, inBandwidth = 0, outBandwidth = 0): GodotError {
    for (const [name, value] of Object.entries({ port, maxClients, maxChannels, inBandwidth, outBandwidth })) {
      checkInt('ENetMultiplayerPeer.createServer', name, value);
    }
    if (this.#isActive()) {
      reportError('ENetMultiplayerPeer.createServer: the peer is already active');
      return GodotError.ERR_ALREADY_IN_USE;
    }
    this.setRefuseNewConnections(false);
    const host = new ENetConnection();
    const channels = maxChannels > 0 ? maxChannels + SYSCH_MAX : 0;
    const error = this.#godotCreateServerBug
      ? host.createHostBound(this.#bindIp, port, maxClients, 0, channels, outBandwidth)
      : host.createHostBound(this.#bindIp, port, maxClients, channels, inBandwidth, outBandwidth);
    if (error !== GodotError.OK) return error;
    this.#hosts.set(0, host);
    this.#activate(Mode.SERVER, SERVER_ID, ConnectionStatus.CONNECTION_CONNECTED);
    return GodotError.OK;
  }

  /** Starts connecting to a server; the id this client will have is sent as the CONNECT data. */
  createClient(address: string, port: number, channelCount = 0, inBandwidth = 0, outBandwidth = 0, localPort = 0): GodotError {
    checkString('ENetMultiplayerPeer.createClient', 'address', address);
    for (const [name, value] of Object.entries({ port, channelCount, inBandwidth, outBandwidth, localPort })) {
      checkInt('ENetMultiplayerPeer.createClient', name, value);
    }
    if (this.#isActive()) {
      reportError('ENetMultiplayerPeer.createClient: the peer is already active');
      return GodotError.ERR_ALREADY_IN_USE;
    }
    this.setRefuseNewConnections(false);
    const host = new ENetConnection();
    const error = localPort !== 0
      ? host.createHostBound(this.#bindIp, localPort, 1, 0, inBandwidth, outBandwidth)
      : host.createHost(1, 0, inBandwidth, outBandwidth);
    if (error !== GodotError.OK) return error;
    const id = this.generateUniqueId();
    const peer = host.connectToHost(address, port, channelCount > 0 ? channelCount + SYSCH_MAX : 0, id);
    if (peer === null) {
      host.destroy();
      reportError(`ENetMultiplayerPeer.createClient: cannot connect to ${address}:${port}`);
      return GodotError.ERR_CANT_CREATE;
    }
    this.#peers.set(SERVER_ID, peer);
    this.#hosts.set(0, host);
    this.#activate(Mode.CLIENT, id, ConnectionStatus.CONNECTION_CONNECTING);
    return GodotError.OK;
  }

  /** Starts a mesh with this peer's `uniqueId`; add connections with addMeshPeer. */
  createMesh(uniqueId: number): GodotError {
    checkInt('ENetMultiplayerPeer.createMesh', 'uniqueId', uniqueId);
    if (uniqueId <= 0) {
      reportError('ENetMultiplayerPeer.createMesh: the unique id must be positive');
      return GodotError.ERR_INVALID_PARAMETER;
    }
    if (this.#isActive()) {
      reportError('ENetMultiplayerPeer.createMesh: the peer is already active');
      return GodotError.ERR_ALREADY_IN_USE;
    }
    this.#activate(Mode.MESH, uniqueId, ConnectionStatus.CONNECTION_CONNECTED);
    return GodotError.OK;
  }

  /**
   * Adds a mesh connection: `host` must have exactly one peer, already CONNECTED (drive it with its own
   * service() first). Emits peer_connected(peerId) at once. The peer then services `host` itself.
   */
  addMeshPeer(peerId: number, host: ENetConnection | null): GodotError {
    checkInt('ENetMultiplayerPeer.addMeshPeer', 'peerId', peerId);
    if (!(host instanceof ENetConnection)) {
      if (host != null) throw new TypeError('ENetMultiplayerPeer.addMeshPeer: host must be an ENetConnection');
      reportError('ENetMultiplayerPeer.addMeshPeer: host is null');
      return GodotError.ERR_INVALID_PARAMETER;
    }
    if (this.#mode !== Mode.MESH) {
      reportError('ENetMultiplayerPeer.addMeshPeer: the peer is not in mesh mode');
      return GodotError.ERR_UNCONFIGURED;
    }
    const peers = host.getPeers();
    if (peers.length !== 1 || peers[0].getState() !== PeerState.STATE_CONNECTED) {
      reportError('ENetMultiplayerPeer.addMeshPeer: the host must have exactly one connected peer');
      return GodotError.ERR_INVALID_PARAMETER;
    }
    this.#hosts.set(peerId, host);
    this.#peers.set(peerId, peers[0]);
    if (this.#driver !== null) host.watch(this.#driver, this.#driverMs);
    this.emit('peer_connected', peerId);
    return GodotError.OK;
  }

  /** Address createServer (and createClient with a localPort) binds to: "*" or an IP literal. */
  setBindIp(ip: string): void {
    checkString('ENetMultiplayerPeer.setBindIp', 'ip', ip);
    if (ip !== '*' && isIP(ip) === 0) {
      reportError(`ENetMultiplayerPeer.setBindIp: invalid address "${ip}"`);
      return;
    }
    this.#bindIp = ip;
  }

  /** The ENetPacketPeer of peer `id` (in a client, only id 1: the server). */
  getPeer(id: number): ENetPacketPeer | null {
    checkInt('ENetMultiplayerPeer.getPeer', 'id', id);
    const peer = this.#isActive() && (this.#mode !== Mode.CLIENT || id === SERVER_ID) ? this.#peers.get(id) : undefined;
    if (peer === undefined) {
      reportError(`ENetMultiplayerPeer.getPeer: no peer ${id}`);
      return null;
    }
    return peer;
  }

  /** The underlying ENetConnection (null when inactive or in mesh mode). */
  get host(): ENetConnection | null {
    return this.#mode === Mode.SERVER || this.#mode === Mode.CLIENT ? this.#hosts.get(0) ?? null : null;
  }

  getHost(): ENetConnection | null {
    return this.host;
  }

  override setRefuseNewConnections(enable: boolean): void {
    checkBool('ENetMultiplayerPeer.setRefuseNewConnections', 'enable', enable);
    if (this.#isActive()) for (const host of this.#hosts.values()) host.refuseNewConnections(enable);
    super.setRefuseNewConnections(enable);
  }

  setTargetPeer(id: number): void {
    this.#targetPeer = checkInt('ENetMultiplayerPeer.setTargetPeer', 'id', id);
  }

  getUniqueId(): number {
    if (!this.#isActive()) {
      reportError('ENetMultiplayerPeer.getUniqueId: the peer is not active');
      return 0;
    }
    return this.#uniqueId;
  }

  getConnectionStatus(): ConnectionStatus {
    return this.#status;
  }

  isServer(): boolean {
    return this.#mode === Mode.SERVER;
  }

  override isServerRelaySupported(): boolean {
    return this.#mode === Mode.SERVER || this.#mode === Mode.CLIENT;
  }

  getAvailablePacketCount(): number {
    return this.#incoming.length;
  }

  getMaxPacketSize(): number {
    return MAX_PACKET_SIZE;
  }

  getPacketPeer(): number {
    const next = this.#front('getPacketPeer');
    return next === undefined ? 1 : next.from;
  }

  getPacketChannel(): number {
    const next = this.#front('getPacketChannel');
    return next === undefined ? 1 : toTransferChannel(next.enetChannel);
  }

  getPacketMode(): TransferMode {
    const next = this.#front('getPacketMode');
    return next === undefined ? TransferMode.TRANSFER_MODE_RELIABLE : next.mode;
  }

  #front(method: string): StoredPacket | undefined {
    const next = this.#isActive() ? this.#incoming.peek() : undefined;
    if (next === undefined) reportError(`ENetMultiplayerPeer.${method}: no packet available`);
    return next;
  }

  protected readPacket(): PacketResult {
    const next = this.#incoming.shift();
    if (next === undefined) return { error: GodotError.ERR_UNAVAILABLE, data: Buffer.alloc(0) };
    return { error: GodotError.OK, data: next.data };
  }

  protected writePacket(data: Uint8Array): GodotError {
    if (!this.#isActive()) {
      reportError('ENetMultiplayerPeer.putPacket: the peer is not active');
      return GodotError.ERR_UNCONFIGURED;
    }
    if (this.#status !== ConnectionStatus.CONNECTION_CONNECTED) {
      reportError('ENetMultiplayerPeer.putPacket: the peer is not connected');
      return GodotError.ERR_UNCONFIGURED;
    }
    const target = this.#targetPeer;
    if (target !== 0 && !this.#peers.has(Math.abs(target))) {
      reportError(`ENetMultiplayerPeer.putPacket: invalid target peer ${target}`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    if (this.#mode === Mode.CLIENT && !this.#peers.has(SERVER_ID)) return GodotError.ERR_BUG;
    // Godot would report OK and ENet drop the packet (G7); a packet no peer can ever get is refused.
    if (packetTooLarge('ENetMultiplayerPeer.putPacket', data.length)) return GodotError.ERR_INVALID_PARAMETER;

    let flags: number;
    let channel: number;
    switch (this.transferMode) {
      case TransferMode.TRANSFER_MODE_UNRELIABLE:
        flags = FLAG_UNSEQUENCED | FLAG_UNRELIABLE_FRAGMENT;
        channel = SYSCH_UNRELIABLE;
        break;
      case TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED:
        flags = FLAG_UNRELIABLE_FRAGMENT;
        channel = SYSCH_UNRELIABLE;
        break;
      default:
        flags = FLAG_RELIABLE;
        channel = SYSCH_RELIABLE;
    }
    if (this.transferChannel > 0) channel = SYSCH_MAX + this.transferChannel - 1;

    // Like Godot, a send ENet refuses (a channel the peer does not have, say) is only reported: the
    // call still returns OK. Every put is flushed at once: one put, one datagram.
    if (this.#mode === Mode.SERVER) {
      const host = this.#hosts.get(0);
      if (host === undefined) return GodotError.ERR_BUG;
      if (target === 0) host.broadcast(channel, data, flags);
      else if (target < 0) this.#sendToAllBut(host, -target, channel, data, flags);
      else this.#send(this.#peers.get(target), channel, data, flags);
      this.#flush(host);
    } else if (this.#mode === Mode.CLIENT) {
      this.#send(this.#peers.get(SERVER_ID), channel, data, flags);
      const host = this.#hosts.get(0);
      if (host === undefined) return GodotError.ERR_BUG;
      this.#flush(host);
    } else if (target <= 0) {
      const exclude = -target;
      for (const [id, peer] of this.#peers) {
        if (id === exclude) continue;
        this.#send(peer, channel, data, flags);
        this.#flush(this.#hosts.get(id));
      }
    } else {
      this.#send(this.#peers.get(target), channel, data, flags);
      const host = this.#hosts.get(target);
      if (host === undefined) return GodotError.ERR_BUG;
      this.#flush(host);
    }
    return GodotError.OK;
  }

  #flush(host: ENetConnection | undefined): void {
    if (host === undefined) return;
    if (this.#flushPerPut) {
      host.flush();
      return;
    }
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      for (const h of this.#hosts.values()) h.flush();
    });
  }

  // One native call for all the targets (ENetConnection.sendMany); a refusal is reported, as by #send.
  #sendToAllBut(host: ENetConnection, exclude: number, channel: number, data: Uint8Array, flags: number): void {
    const targets: ENetPacketPeer[] = [];
    for (const [id, peer] of this.#peers) if (id !== exclude) targets.push(peer);
    const refused = targets.length - host.sendMany(targets, channel, data, flags);
    if (refused > 0) reportError(`ENetMultiplayerPeer.putPacket: ${refused} peer(s) did not take the packet on channel ${channel}`);
  }

  // A send ENet refuses is reported, never returned: Godot's put_packet returns OK regardless (G7).
  #send(peer: ENetPacketPeer | undefined, channel: number, data: Uint8Array, flags: number): void {
    if (peer?.send(channel, data, flags) === GodotError.FAILED) {
      reportError(`ENetMultiplayerPeer.putPacket: unable to send on channel ${channel} (the peer has ${peer.getChannels()})`);
    }
  }

  /** Services the host(s) and emits peer_connected / peer_disconnected (and `packet`) synchronously. */
  poll(): void {
    if (!this.#isActive()) {
      reportError('ENetMultiplayerPeer.poll: the peer is not active');
      return;
    }
    this.#disconnectInactivePeers();
    switch (this.#mode) {
      case Mode.CLIENT:
        this.#pollClient();
        break;
      case Mode.SERVER:
        this.#pollServer();
        break;
      case Mode.MESH:
        this.#pollMesh();
        break;
    }
  }

  // Peers the user ended directly (reset, peerDisconnectNow) produce no ENet event: report them here.
  // Only worth a scan when some host saw such an end since the last poll.
  #disconnectInactivePeers(): void {
    let localEnds = 0;
    for (const host of this.#hosts.values()) localEnds += host.localEnds;
    if (localEnds === this.#localEndsSeen) return;
    this.#localEndsSeen = localEnds;
    const dropped = [...this.#peers].filter(([, peer]) => !peer.isActive()).map(([id]) => id);
    for (const id of dropped) {
      this.#peers.delete(id);
      if (this.#mode === Mode.MESH) this.#releaseMeshHost(id);
      this.emit('peer_disconnected', id);
    }
  }

  #pollClient(): void {
    const host = this.#hosts.get(0);
    if (!this.#peers.has(SERVER_ID) || host === undefined) {
      this.close();
      return;
    }
    for (let event = host.serviceRaw(0); event.type !== EventType.EVENT_NONE; event = host.checkEventsRaw()) {
      switch (event.type) {
        case EventType.EVENT_CONNECT:
          this.#status = ConnectionStatus.CONNECTION_CONNECTED;
          this.emit('peer_connected', SERVER_ID);
          break;
        case EventType.EVENT_DISCONNECT: {
          const wasConnected = this.#status === ConnectionStatus.CONNECTION_CONNECTED;
          if (wasConnected) this.emit('peer_disconnected', SERVER_ID);
          this.close();
          break;
        }
        case EventType.EVENT_RECEIVE:
          this.#storePacket(SERVER_ID, event);
          break;
        default:
          return; // EVENT_ERROR (a failed DTLS handshake): Godot ends this poll; ENet retries or times out
      }
      if (this.#hosts.get(0) !== host) return; // closed, possibly by a listener
    }
  }

  #pollServer(): void {
    const host = this.#hosts.get(0);
    if (host === undefined) return;
    for (let event = host.serviceRaw(0); event.type !== EventType.EVENT_NONE; event = host.checkEventsRaw()) {
      const peer = event.peer as ENetPacketPeer;
      switch (event.type) {
        case EventType.EVENT_CONNECT: {
          // Godot admits a client only if new connections are allowed and its id (the CONNECT data) is
          // valid and unused. Otherwise the peer is reset silently: the client saw its connection
          // succeed and will time out later (spec G2, G3). Ids of 2^31 and above, which Godot would
          // turn into negative ids, are refused too; Godot clients never send them.
          const id = event.data;
          if (this.isRefusingNewConnections() || id < 2 || id > 0x7fffffff || this.#peers.has(id)) {
            peer.reset();
            break;
          }
          this.#netIds.set(peer, id);
          this.#peers.set(id, peer);
          this.emit('peer_connected', id);
          break;
        }
        case EventType.EVENT_DISCONNECT: {
          const id = this.#netIds.get(peer);
          // Only a peer still in the map (admitted, not force-disconnected) is reported, and only if
          // the id still belongs to this very connection.
          if (id === undefined || this.#peers.get(id) !== peer) break;
          this.emit('peer_disconnected', id);
          this.#peers.delete(id);
          break;
        }
        case EventType.EVENT_RECEIVE:
          this.#storePacket(this.#netIds.get(peer) ?? 0, event);
          break;
        default:
          return; // EVENT_ERROR: Godot ends this poll
      }
      if (this.#hosts.get(0) !== host) return;
    }
  }

  #pollMesh(): void {
    const dropped: number[] = [];
    for (const [id, host] of [...this.#hosts]) {
      for (let event = host.serviceRaw(0); event.type !== EventType.EVENT_NONE; event = host.checkEventsRaw()) {
        if (event.type === EventType.EVENT_CONNECT) {
          event.peer?.reset(); // a mesh connection carries exactly one peer
        } else if (event.type === EventType.EVENT_RECEIVE) {
          this.#storePacket(id, event);
        } else {
          dropped.push(id);
          break;
        }
        if (!this.#isActive()) return;
      }
    }
    for (const id of dropped) {
      if (this.#peers.has(id)) this.emit('peer_disconnected', id);
      this.#peers.delete(id);
      this.#releaseMeshHost(id);
    }
  }

  // The transfer mode is inferred from the flags ENet gave the received packet (spec §2.6): a large
  // UNRELIABLE packet, fragmented, therefore arrives as UNRELIABLE_ORDERED, exactly as in Godot.
  #storePacket(from: number, event: RawEvent): void {
    const mode = event.flags & FLAG_RELIABLE ? TransferMode.TRANSFER_MODE_RELIABLE
      : event.flags & FLAG_UNSEQUENCED ? TransferMode.TRANSFER_MODE_UNRELIABLE
      : TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED;
    const data = event.packet as Buffer;
    if (this.listenerCount('packet') > 0) {
      const packet: MultiplayerPacket = { data, from, channel: toTransferChannel(event.channel), mode };
      this.emit('packet', packet);
    } else {
      this.#incoming.push({ data, from, enetChannel: event.channel, mode });
    }
  }

  /** Closes every connection at once: connected peers get one unsequenced DISCONNECT. No signals. */
  close(): void {
    if (!this.#isActive()) return;
    let disconnected = false;
    for (const peer of this.#peers.values()) {
      if (peer.getState() === PeerState.STATE_CONNECTED) {
        peer.peerDisconnectNow(0);
        disconnected = true;
      }
    }
    if (disconnected) for (const host of this.#hosts.values()) host.flush();
    // Our own hosts (server, client) end with the peer; mesh hosts belong to the caller, who may still
    // hold them (in Godot they would live on while referenced), so they are only let go.
    for (const host of this.#hosts.values()) {
      if (this.#mode === Mode.MESH) host.unwatch();
      else host.destroy();
    }
    this.#mode = Mode.NONE;
    this.#incoming.clear();
    this.#peers.clear();
    this.#hosts.clear();
    this.#uniqueId = 0;
    this.#status = ConnectionStatus.CONNECTION_DISCONNECTED;
    this.setRefuseNewConnections(false);
    this.emit('closed');
  }

  /**
   * Disconnects peer `id` gracefully (a reliable DISCONNECT); peer_disconnected follows when it is
   * acknowledged or times out. With `force`, the peer is forgotten at once and no signal follows.
   */
  disconnectPeer(id: number, force = false): void {
    checkInt('ENetMultiplayerPeer.disconnectPeer', 'id', id);
    checkBool('ENetMultiplayerPeer.disconnectPeer', 'force', force);
    const peer = this.#isActive() ? this.#peers.get(id) : undefined;
    if (peer === undefined) {
      reportError(`ENetMultiplayerPeer.disconnectPeer: no peer ${id}`);
      return;
    }
    peer.peerDisconnect(0);
    this.#hosts.get(this.#mode === Mode.MESH ? id : 0)?.flush();
    if (!force) return;
    this.#peers.delete(id);
    if (this.#mode === Mode.MESH) this.#releaseMeshHost(id);
    if (this.#mode === Mode.CLIENT) {
      for (const host of this.#hosts.values()) host.destroy();
      this.#hosts.clear();
      this.close();
    }
  }

  /**
   * Node extra: received packets as an async iterator, fed by poll() (use autoPoll or your own loop).
   * Ends when the peer is closed or the loop is left.
   */
  async *packets(): AsyncGenerator<MultiplayerPacket> {
    const pending = new Queue<MultiplayerPacket>();
    let wake: (() => void) | undefined;
    const onPacket = (packet: MultiplayerPacket) => {
      pending.push(packet);
      wake?.();
    };
    const onClosed = () => wake?.();
    this.on('packet', onPacket);
    this.on('closed', onClosed);
    try {
      while (this.#isActive() || pending.length > 0) {
        const next = pending.shift();
        if (next !== undefined) yield next;
        else await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      this.off('packet', onPacket);
      this.off('closed', onClosed);
    }
  }

  // A mesh host belongs to the caller: we stop servicing it, we do not destroy it.
  #releaseMeshHost(id: number): void {
    this.#hosts.get(id)?.unwatch();
    this.#hosts.delete(id);
  }

  #activate(mode: Mode, id: number, status: ConnectionStatus): void {
    this.#mode = mode;
    this.#uniqueId = id;
    this.#status = status;
    const driver = this.#driver;
    if (driver === null) return;
    this.#hosts.get(0)?.watch(driver, this.#driverMs);
    setImmediate(driver); // a client's CONNECT goes out now rather than at the first timer tick
  }

  /**
   * Node extra: the event loop calls `wake` whenever a datagram arrives on one of the peer's hosts and
   * otherwise every `intervalMs` (ENet's timers), instead of autoPoll's own poll() — this is how a
   * SceneMultiplayer with autoPoll drives the peer. Lasts across close() and create*(), like autoPoll.
   */
  watch(wake: () => void, intervalMs = 10): void {
    if (typeof wake !== 'function') throw new TypeError('ENetMultiplayerPeer.watch: wake must be a function');
    checkInt('ENetMultiplayerPeer.watch', 'intervalMs', intervalMs);
    if (intervalMs < 1) throw new RangeError('ENetMultiplayerPeer.watch: intervalMs must be at least 1');
    this.#driver = wake;
    this.#driverMs = intervalMs;
    for (const host of this.#hosts.values()) host.watch(wake, intervalMs);
  }

  /** Node extra: stops watch() (and autoPoll); poll() must then be called by hand. */
  unwatch(): void {
    this.#driver = null;
    for (const host of this.#hosts.values()) host.unwatch();
  }
}

function toTransferChannel(enetChannel: number): number {
  return enetChannel >= SYSCH_MAX ? enetChannel - 1 : 0;
}
