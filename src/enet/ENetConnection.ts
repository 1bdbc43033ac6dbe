import { isIP } from 'net';
import * as tls from 'tls';
import { X509Certificate as NodeX509Certificate } from 'crypto';
import { GodotError, reportError } from '../core/errors';
import { CryptoKey } from '../crypto/CryptoKey';
import { TLSOptions } from '../crypto/TLSOptions';
import { X509Certificate } from '../crypto/X509Certificate';
import {
  ENetPacketPeer, FLAG_RELIABLE, FLAG_UNRELIABLE_FRAGMENT, FLAG_UNSEQUENCED, PeerOwner, createPeerToken, packetTooLarge,
} from './ENetPacketPeer';
import { EVENT_DISCONNECT_TIMEOUT, EVENT_ERROR_RECORD, EVENT_FIELDS, NativeCounters, NativeHost, native } from './native';
import { checkBool, checkBytes, checkInt, checkString } from '../core/validate';

/**
 * Godot's ENetConnection.CompressionMode: how a host compresses the datagrams it sends. There is no
 * negotiation on the wire, so both ends must use the same mode (a host that compresses still accepts
 * uncompressed datagrams, but drops compressed ones it cannot decode). Every mode is byte-compatible
 * with Godot's.
 */
export enum CompressionMode {
  /** No compression (the default; ENetMultiplayerPeer never changes it). */
  COMPRESS_NONE = 0,
  /** ENet's built-in range coder. */
  COMPRESS_RANGE_CODER = 1,
  /** FastLZ level-1 blocks: the fastest, for small game packets. */
  COMPRESS_FASTLZ = 2,
  /** zlib-wrapped deflate (RFC 1950), default level. */
  COMPRESS_ZLIB = 3,
  /** One Zstandard frame per datagram, level 3. */
  COMPRESS_ZSTD = 4,
}

/** Godot's ENetConnection.EventType. */
export enum EventType {
  EVENT_ERROR = -1,
  EVENT_NONE = 0,
  EVENT_CONNECT = 1,
  EVENT_DISCONNECT = 2,
  EVENT_RECEIVE = 3,
}

/** Godot's ENetConnection.HostStatistic. */
export enum HostStatistic {
  HOST_TOTAL_SENT_DATA = 0,
  HOST_TOTAL_SENT_PACKETS = 1,
  HOST_TOTAL_RECEIVED_DATA = 2,
  HOST_TOTAL_RECEIVED_PACKETS = 3,
}

/** What service() and checkEvents() return, as in Godot: [type, peer, data, channel]. */
export type ServiceResult = [EventType, ENetPacketPeer | null, number, number];

/**
 * @internal One event as ENetConnection hands it to ENetMultiplayerPeer, which (like Godot's native
 * path) takes the packet itself instead of having it queued on the peer. Reused between calls.
 */
export interface RawEvent {
  type: EventType;
  peer: ENetPacketPeer | null;
  data: number;
  channel: number;
  packet: Buffer | undefined;
  flags: number;
}

/** Node extra: what the host survived or dropped without an event (see NativeCounters). */
export interface ConnectionCounters extends NativeCounters {
  /** Events for connections that had already ended here (reset, disconnect now), dropped. */
  staleEvents: number;
  /** DISCONNECT events caused by a timeout rather than by the remote. */
  timeouts: number;
}

const FLAG_ALLOWED = FLAG_RELIABLE | FLAG_UNSEQUENCED | FLAG_UNRELIABLE_FRAGMENT;
const MAX_PEERS = 4095;
const MAX_CHANNELS = 255;
// How many events one native drain may hand over; more stay queued inside ENet until the next drain.
const EVENT_BATCH = 1024;
// Staged sends (see stage()): records of SEND_FIELDS (binding/host.h), committed when either buffer
// is full; a host gets room for SEND_BATCH_PER_PEER sends per peer, up to SEND_BATCH (a client's host
// stays small). Larger packets are sent at once: copying them twice would cost more than the call saves.
const SEND_FIELDS = 6;
const SEND_BATCH = 512;
const SEND_BATCH_PER_PEER = 16;
const STAGE_MAX_PACKET = 2048;

/**
 * Godot's ENetConnection: one ENet host, its socket and its peers.
 *
 * Create it, then `createHostBound` (a server or a peer with a fixed port) or `createHost`, then call
 * `service()` regularly. Each native drain hands over every ready event at once; `service` and
 * `checkEvents` then return them one at a time, exactly as Godot does.
 */
export class ENetConnection implements PeerOwner {
  static readonly CompressionMode = CompressionMode;
  static readonly EventType = EventType;
  static readonly HostStatistic = HostStatistic;
  static readonly COMPRESS_NONE = CompressionMode.COMPRESS_NONE;
  static readonly COMPRESS_RANGE_CODER = CompressionMode.COMPRESS_RANGE_CODER;
  static readonly COMPRESS_FASTLZ = CompressionMode.COMPRESS_FASTLZ;
  static readonly COMPRESS_ZLIB = CompressionMode.COMPRESS_ZLIB;
  static readonly COMPRESS_ZSTD = CompressionMode.COMPRESS_ZSTD;
  static readonly EVENT_ERROR = EventType.EVENT_ERROR;
  static readonly EVENT_NONE = EventType.EVENT_NONE;
  static readonly EVENT_CONNECT = EventType.EVENT_CONNECT;
  static readonly EVENT_DISCONNECT = EventType.EVENT_DISCONNECT;
  static readonly EVENT_RECEIVE = EventType.EVENT_RECEIVE;
  static readonly HOST_TOTAL_SENT_DATA = HostStatistic.HOST_TOTAL_SENT_DATA;
  static readonly HOST_TOTAL_SENT_PACKETS = HostStatistic.HOST_TOTAL_SENT_PACKETS;
  static readonly HOST_TOTAL_RECEIVED_DATA = HostStatistic.HOST_TOTAL_RECEIVED_DATA;
  static readonly HOST_TOTAL_RECEIVED_PACKETS = HostStatistic.HOST_TOTAL_RECEIVED_PACKETS;

  // Written by the native drain, read here; see binding/host.h for the record layout.
  readonly #events = new Int32Array(EVENT_BATCH * EVENT_FIELDS);
  readonly #packets: Buffer[] = [];
  #eventCount = 0;
  #eventCursor = 0;

  // Sends queued here and handed to ENet in one native call (stage(), #commit()); made with the host.
  #sendRecords = new Int32Array(0);
  #sendBytes = new Uint8Array(0);
  #sendBatch = 0;
  // Per slot, written natively: the generation of the connection while ENet would take a send for it, else -1.
  #sendable = new Int32Array(0);
  #staged = 0;
  #stagedBytes = 0;

  #native: NativeHost | null = null;
  // Godot's `peers` list: every wrapper handed out, pruned of inactive ones before each service.
  #peers: ENetPacketPeer[] = [];
  // The wrapper of the connection currently in each ENet slot.
  #bySlot: (ENetPacketPeer | undefined)[] = [];
  #compression = CompressionMode.COMPRESS_NONE;
  #dtls = false; // the host's socket was upgraded (a second setup fails, as in Godot)
  #refusing = false;
  #staleEvents = 0;
  #timeouts = 0;
  #localEnds = 0;
  #prunedAt = 0; // #localEnds when #peers was last pruned
  readonly #scratch: RawEvent = { type: EventType.EVENT_NONE, peer: null, data: 0, channel: 0, packet: undefined, flags: 0 };

  /** @internal PeerOwner: the native host, every staged send queued into it first. */
  get nativeHost(): NativeHost | null {
    return this.#host;
  }

  // Every use of the native host goes through here, so that staged sends reach ENet before anything
  // else does, in the order they were made.
  get #host(): NativeHost | null {
    if (this.#staged > 0) this.#commit();
    return this.#native;
  }

  /**
   * @internal PeerOwner: takes a send for the next commit instead of a native call now, when ENet is
   * certain to accept it: the peer's connection is CONNECTED (as of the last native call, and only
   * native calls change it) and the packet is small. The caller has checked the channel against the
   * negotiated count. False: the caller sends at once through nativeHost, which commits first.
   */
  stage(slot: number, gen: number, channel: number, packet: Uint8Array, flags: number): boolean {
    if (this.#sendable[slot] !== gen || packet.length > STAGE_MAX_PACKET) return false;
    if (this.#staged === this.#sendBatch || this.#stagedBytes + packet.length > this.#sendBytes.length) this.#commit();
    const at = this.#staged++ * SEND_FIELDS;
    const records = this.#sendRecords;
    records[at] = slot;
    records[at + 1] = gen;
    records[at + 2] = channel;
    records[at + 3] = flags;
    records[at + 4] = this.#stagedBytes;
    records[at + 5] = packet.length;
    this.#sendBytes.set(packet, this.#stagedBytes);
    this.#stagedBytes += packet.length;
    return true;
  }

  #commit(): void {
    const count = this.#staged;
    this.#staged = this.#stagedBytes = 0;
    this.#native?.commitSends(count);
  }

  /** @internal PeerOwner: a peer ended its own connection (reset or disconnect now). */
  peerEnded(peer: ENetPacketPeer): void {
    if (this.#bySlot[peer.slot] === peer) this.#bySlot[peer.slot] = undefined;
    this.#localEnds++;
  }

  /**
   * @internal How many connections ended here through their peer (reset, peerDisconnectNow). They stay
   * in getPeers() until the next service; ENetMultiplayerPeer looks for them only when this changes.
   */
  get localEnds(): number {
    return this.#localEnds;
  }

  /**
   * Creates the host bound to `bindAddress` ("*" = every interface, dual-stack; or an IPv4/IPv6
   * literal) and `bindPort` (0 = any free port).
   */
  createHostBound(bindAddress: string, bindPort: number, maxPeers = 32, maxChannels = 0, inBandwidth = 0,
    outBandwidth = 0): GodotError {
    checkString('ENetConnection.createHostBound', 'bindAddress', bindAddress);
    checkInt('ENetConnection.createHostBound', 'bindPort', bindPort);
    const address = bindAddress === '*' ? native.parseAddress('::') : isIP(bindAddress) ? native.parseAddress(bindAddress) : null;
    if (address === null) {
      reportError(`ENetConnection.createHostBound: invalid bind address "${bindAddress}"`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    if (bindPort < 0 || bindPort > 65535) {
      reportError(`ENetConnection.createHostBound: invalid bind port ${bindPort}`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    return this.#create('createHostBound', address, bindPort, maxPeers, maxChannels, inBandwidth, outBandwidth);
  }

  /** Creates an unbound host (the OS picks the port on the first send), for clients. */
  createHost(maxPeers = 32, maxChannels = 0, inBandwidth = 0, outBandwidth = 0): GodotError {
    return this.#create('createHost', null, 0, maxPeers, maxChannels, inBandwidth, outBandwidth);
  }

  #create(method: string, address: Uint8Array | null, port: number, maxPeers: number, maxChannels: number,
    inBandwidth: number, outBandwidth: number): GodotError {
    const name = `ENetConnection.${method}`;
    checkInt(name, 'maxPeers', maxPeers);
    checkInt(name, 'maxChannels', maxChannels);
    checkInt(name, 'inBandwidth', inBandwidth);
    checkInt(name, 'outBandwidth', outBandwidth);
    if (this.#host !== null) {
      reportError(`${name}: the host is already created`);
      return GodotError.ERR_ALREADY_IN_USE;
    }
    if (maxPeers < 1 || maxPeers > MAX_PEERS || maxChannels < 0 || maxChannels > MAX_CHANNELS ||
      inBandwidth < 0 || outBandwidth < 0 || inBandwidth > 0xffffffff || outBandwidth > 0xffffffff) {
      reportError(`${name}: invalid parameters`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    this.#sendBatch = Math.min(SEND_BATCH, SEND_BATCH_PER_PEER * maxPeers);
    this.#sendRecords = new Int32Array(this.#sendBatch * SEND_FIELDS);
    this.#sendBytes = new Uint8Array(Math.max(2 * STAGE_MAX_PACKET, this.#sendBatch * 64));
    this.#sendable = new Int32Array(maxPeers);
    const host = new native.Host(this.#events, this.#packets, this.#sendRecords, this.#sendBytes, this.#sendable);
    if (!host.create(address, port, maxPeers, maxChannels, inBandwidth, outBandwidth)) {
      reportError(`${name}: could not create the ENet host (is the port in use?)`);
      return GodotError.ERR_CANT_CREATE;
    }
    this.#native = host;
    this.#bySlot = new Array<ENetPacketPeer | undefined>(maxPeers);
    this.#compression = CompressionMode.COMPRESS_NONE;
    this.#dtls = false;
    this.#refusing = false;
    return GodotError.OK;
  }

  /** Destroys the host at once, without telling any remote (they time out). Every peer becomes inactive. */
  destroy(): void {
    const host = this.#requireHost('destroy', 'Host already destroyed.');
    if (host === null) return;
    for (const peer of this.#bySlot) peer?.markInactive();
    for (const peer of this.#peers) peer.markInactive();
    this.#peers = [];
    this.#bySlot = [];
    this.#eventCount = this.#eventCursor = 0;
    this.#packets.length = 0;
    host.destroy();
    this.#native = null;
  }

  /**
   * Starts a connection to `address` (hostname, IPv4 or IPv6) on `port` with `channels` channels
   * (0 = 255) and a 32-bit `data` value sent with the CONNECT. Like Godot, a host that already has any
   * peer refuses. Hostnames resolve with a blocking lookup, as in Godot.
   */
  connectToHost(address: string, port: number, channels = 0, data = 0): ENetPacketPeer | null {
    checkString('ENetConnection.connectToHost', 'address', address);
    checkInt('ENetConnection.connectToHost', 'port', port);
    checkInt('ENetConnection.connectToHost', 'channels', channels);
    checkInt('ENetConnection.connectToHost', 'data', data);
    const host = this.#requireHost('connectToHost');
    if (host === null) return null;
    if (this.#peers.length > 0) {
      reportError('ENetConnection.connectToHost: the host already has peers; only one connection can be started');
      return null;
    }
    if (port < 1 || port > 65535) {
      reportError(`ENetConnection.connectToHost: invalid port ${port}`);
      return null;
    }
    const ip = resolveAddress(address);
    if (ip === null) {
      reportError(`ENetConnection.connectToHost: cannot resolve "${address}"`);
      return null;
    }
    const slot = host.connect(ip, port, channels > 0 ? Math.min(channels, MAX_CHANNELS) : MAX_CHANNELS, data >>> 0);
    if (slot < 0) {
      reportError('ENetConnection.connectToHost: no free peer slot');
      return null;
    }
    return this.#adopt(slot, host.generation(slot));
  }

  /**
   * Sends queued packets, receives datagrams (waiting up to `timeout` ms for one) and returns the next
   * event as [type, peer, data, channel]. Received packets are queued on their peer (`peer.getPacket()`).
   */
  service(timeout = 0): ServiceResult {
    checkInt('ENetConnection.service', 'timeout', timeout);
    if (timeout < 0) {
      // Godot hands it to ENet as an unsigned wait: -1 would block for 49 days.
      reportError(`ENetConnection.service: timeout ${timeout} is negative`);
      return [EventType.EVENT_ERROR, null, 0, 0];
    }
    return this.#toResult(this.serviceRaw(timeout));
  }

  /** Returns the next event already received, without any socket I/O (Godot's native check_events). */
  checkEvents(): ServiceResult {
    return this.#toResult(this.checkEventsRaw());
  }

  // The script-level form: the packet is queued on its peer, and the event becomes Godot's array.
  #toResult(event: RawEvent): ServiceResult {
    if (event.type === EventType.EVENT_RECEIVE) event.peer?.queuePacket(event.packet as Buffer, event.flags);
    return [event.type, event.peer, event.data, event.channel];
  }

  /** @internal service() without queueing the packet on the peer; the result is reused by the next call. */
  serviceRaw(timeout: number): RawEvent {
    // Sends staged while events are handed out one by one stay staged until the next native drain.
    const host = this.#requireNative('service');
    if (host === null) return this.#setScratch(EventType.EVENT_ERROR);
    if (this.#prunedAt !== this.#localEnds) {
      this.#peers = this.#peers.filter((peer) => peer.isActive());
      this.#prunedAt = this.#localEnds;
    }
    return this.#next(host, Math.max(0, timeout));
  }

  /** @internal checkEvents() without queueing the packet on the peer. */
  checkEventsRaw(): RawEvent {
    const host = this.#requireNative('checkEvents');
    if (host === null) return this.#setScratch(EventType.EVENT_ERROR);
    return this.#next(host, -1);
  }

  // The next event, drained from `host` when none is left: with socket I/O waiting up to `timeout` ms,
  // or without I/O when `timeout` is -1 (checkEvents).
  #next(host: NativeHost, timeout: number): RawEvent {
    for (;;) {
      if (this.#eventCursor >= this.#eventCount) {
        if (this.#staged > 0) this.#commit();
        this.#packets.length = 0;
        this.#eventCursor = 0;
        this.#eventCount = Math.max(0, timeout < 0 ? host.checkEvents() : host.service(timeout));
        if (this.#eventCount === 0) return this.#setScratch(EventType.EVENT_NONE);
      }
      if (this.#readEvent()) return this.#scratch;
    }
  }

  #setScratch(type: EventType, peer: ENetPacketPeer | null = null, data = 0, channel = 0,
    packet: Buffer | undefined = undefined, flags = 0): RawEvent {
    const s = this.#scratch;
    s.type = type;
    s.peer = peer;
    s.data = data;
    s.channel = channel;
    s.packet = packet;
    s.flags = flags;
    return s;
  }

  // Moves the record at the cursor into the scratch event. False for an event of a connection that
  // already ended here (after reset() or peerDisconnectNow() Godot's ENet would not report it).
  #readEvent(): boolean {
    const at = this.#eventCursor++ * EVENT_FIELDS;
    const e = this.#events;
    const type = e[at];
    if (type === EVENT_ERROR_RECORD) {
      // A DTLS client's handshake or session failed: Godot's service returns EVENT_ERROR and prints why.
      reportError(`ENetConnection.service: ${this.#host?.dtlsError() ?? 'DTLS failure'}`);
      this.#setScratch(EventType.EVENT_ERROR);
      return true;
    }
    const slot = e[at + 1];
    const gen = e[at + 2];
    const data = e[at + 3] >>> 0;
    const packet = type === EventType.EVENT_RECEIVE ? this.#packetAt(at) : undefined;

    let peer = this.#bySlot[slot];
    if (peer !== undefined && peer.generation !== gen) peer = undefined;
    if (type === EventType.EVENT_CONNECT) {
      if (peer === undefined) peer = this.#adopt(slot, gen);
      else peer.refreshConnectionInfo(); // an outgoing connection: the channel count is now negotiated
      this.#setScratch(EventType.EVENT_CONNECT, peer, data);
      return true;
    }
    if (peer === undefined) {
      this.#staleEvents++;
      return false;
    }
    if (type === EventType.EVENT_RECEIVE) {
      this.#setScratch(EventType.EVENT_RECEIVE, peer, 0, e[at + 4], packet, e[at + 5]);
      return true;
    }
    // DISCONNECT, or ENet's separate timeout event, which Godot reports as a DISCONNECT with data 0.
    const timedOut = type === EVENT_DISCONNECT_TIMEOUT;
    if (timedOut) this.#timeouts++;
    peer.markInactive();
    this.#bySlot[slot] = undefined;
    this.#peers = this.#peers.filter((p) => p !== peer);
    this.#setScratch(EventType.EVENT_DISCONNECT, peer, timedOut ? 0 : data);
    return true;
  }

  // The received bytes of the record at `at`: a whole Buffer of their own, or a view of the drain's arena.
  #packetAt(at: number): Buffer {
    const e = this.#events;
    const buffer = this.#packets[e[at + 6]];
    const offset = e[at + 7];
    const length = e[at + 8];
    return offset === 0 && length === buffer.length ? buffer : buffer.subarray(offset, offset + length);
  }

  #adopt(slot: number, gen: number): ENetPacketPeer {
    const peer = new ENetPacketPeer(createPeerToken, this, slot, gen);
    this.#bySlot[slot] = peer;
    this.#peers.push(peer);
    return peer;
  }

  /** Sends every queued packet now instead of at the next service. */
  flush(): void {
    this.#requireHost('flush')?.flush();
  }

  /** Limits the host's bandwidth in bytes/s (0 = unlimited); peers learn it through BANDWIDTH_LIMIT. */
  bandwidthLimit(inBandwidth = 0, outBandwidth = 0): void {
    checkInt('ENetConnection.bandwidthLimit', 'inBandwidth', inBandwidth);
    checkInt('ENetConnection.bandwidthLimit', 'outBandwidth', outBandwidth);
    this.#requireHost('bandwidthLimit')?.bandwidthLimit(clampU32(inBandwidth), clampU32(outBandwidth));
  }

  /** Limits the channels of future incoming connections (0 or more than 255 = 255). */
  channelLimit(limit: number): void {
    checkInt('ENetConnection.channelLimit', 'limit', limit);
    // Godot passes the int on as size_t, so a negative limit becomes huge, i.e. 255.
    this.#requireHost('channelLimit')?.channelLimit(limit < 0 || limit > MAX_CHANNELS ? 0 : limit);
  }

  /** Queues a packet to every connected peer. */
  broadcast(channel: number, packet: Uint8Array, flags: number): void {
    checkInt('ENetConnection.broadcast', 'channel', channel);
    checkBytes('ENetConnection.broadcast', 'packet', packet);
    checkInt('ENetConnection.broadcast', 'flags', flags);
    const host = this.#requireHost('broadcast');
    if (host === null) return;
    if (channel < 0 || channel > host.maxChannels()) {
      reportError(`ENetConnection.broadcast: invalid channel ${channel}`);
      return;
    }
    if ((flags & ~FLAG_ALLOWED) !== 0) {
      reportError(`ENetConnection.broadcast: invalid flags ${flags}`);
      return;
    }
    if (packetTooLarge('ENetConnection.broadcast', packet.length)) return;
    host.broadcast(channel, packet, flags);
  }

  /**
   * Node extra: queues `packet` to each of `peers` in one native call (a multi-target send; each peer
   * gets its own copy, exactly as from `peer.send`). Peers no longer active or over their send queue
   * limit are skipped, as are those that refuse it (a channel they do not have). Returns how many peers
   * queued the packet. A peer of another connection is a programming error: TypeError.
   */
  sendMany(peers: Iterable<ENetPacketPeer>, channel: number, packet: Uint8Array, flags: number): number {
    checkInt('ENetConnection.sendMany', 'channel', channel);
    checkBytes('ENetConnection.sendMany', 'packet', packet);
    checkInt('ENetConnection.sendMany', 'flags', flags);
    const targets: number[] = [];
    for (const peer of peers) {
      if (!(peer instanceof ENetPacketPeer) || !peer.belongsTo(this)) {
        throw new TypeError('ENetConnection.sendMany: every peer must be an ENetPacketPeer of this connection');
      }
      if (peer.isActive() && peer.hasRoomFor(packet.length)) targets.push(peer.slot, peer.generation);
    }
    const host = this.#requireHost('sendMany');
    if (host === null) return 0;
    if (channel < 0 || channel > MAX_CHANNELS - 1 || (flags & ~FLAG_ALLOWED) !== 0) {
      reportError(`ENetConnection.sendMany: invalid channel ${channel} or flags ${flags}`);
      return 0;
    }
    if (packetTooLarge('ENetConnection.sendMany', packet.length)) return 0;
    return targets.length === 0 ? 0 : host.peersSend(Int32Array.from(targets), channel, packet, flags);
  }

  /**
   * Compresses every datagram the host sends from now on, and decodes compressed datagrams it
   * receives, in `mode` (replacing any previous mode). The remote must use the same mode: there is no
   * negotiation, and a datagram that does not decode is dropped. Each datagram is compressed on its
   * own, after ENet's header, and sent compressed only when that makes it smaller. Reports an error and
   * keeps the current mode if `mode` is unknown or the codec could not be set up.
   */
  compress(mode: CompressionMode): void {
    checkInt('ENetConnection.compress', 'mode', mode);
    const host = this.#requireHost('compress');
    if (host === null) return;
    if (mode < CompressionMode.COMPRESS_NONE || mode > CompressionMode.COMPRESS_ZSTD) {
      reportError(`ENetConnection.compress: unknown mode ${mode}`);
      return;
    }
    if (!host.compress(mode)) {
      reportError(`ENetConnection.compress: could not set up ${CompressionMode[mode]} (out of memory)`);
      return;
    }
    this.#compression = mode;
  }

  /** Node extra: the compression mode in force. */
  getCompressionMode(): CompressionMode {
    return this.#compression;
  }

  /**
   * A DTLS server starts no new handshake while refusing (Godot: 0 pending connections instead of 16).
   * Plain-UDP hosts have nothing to refuse before ENet's own handshake, as in Godot.
   */
  refuseNewConnections(refuse: boolean): void {
    checkBool('ENetConnection.refuseNewConnections', 'refuse', refuse);
    const host = this.#requireHost('refuseNewConnections');
    if (host === null) return;
    this.#refusing = refuse;
    host.dtlsRefuse(refuse);
  }

  /** Returns a host counter and resets it to 0. */
  popStatistic(statistic: HostStatistic): number {
    checkInt('ENetConnection.popStatistic', 'statistic', statistic);
    const host = this.#requireHost('popStatistic');
    if (host === null) return 0;
    if (statistic < 0 || statistic > HostStatistic.HOST_TOTAL_RECEIVED_PACKETS) {
      reportError(`ENetConnection.popStatistic: unknown statistic ${statistic}`);
      return 0;
    }
    return host.popStatistic(statistic);
  }

  getMaxChannels(): number {
    return this.#requireHost('getMaxChannels')?.maxChannels() ?? 0;
  }

  getLocalPort(): number {
    return this.#requireHost('getLocalPort')?.localPort() ?? 0;
  }

  /** Every peer handed out and not yet pruned (may include peers still connecting or disconnecting). */
  getPeers(): ENetPacketPeer[] {
    if (this.#requireHost('getPeers') === null) return [];
    return this.#peers.slice();
  }

  /** Sends one raw UDP datagram from the host's socket (NAT punch-through). */
  socketSend(destinationAddress: string, destinationPort: number, packet: Uint8Array): void {
    checkString('ENetConnection.socketSend', 'destinationAddress', destinationAddress);
    checkInt('ENetConnection.socketSend', 'destinationPort', destinationPort);
    checkBytes('ENetConnection.socketSend', 'packet', packet);
    const host = this.#requireHost('socketSend');
    if (host === null) return;
    if (destinationPort < 1 || destinationPort > 65535) {
      reportError(`ENetConnection.socketSend: invalid port ${destinationPort}`);
      return;
    }
    const ip = resolveAddress(destinationAddress);
    if (ip === null) {
      reportError(`ENetConnection.socketSend: cannot resolve "${destinationAddress}"`);
      return;
    }
    host.socketSend(ip, destinationPort, packet);
  }

  /**
   * Makes this host a DTLS server (Godot: right after createHostBound, or ENetMultiplayerPeer.createServer,
   * before any client connects): every ENet datagram then travels as one DTLS 1.2 record, and clients must
   * complete a DTLS handshake (with a cookie exchange) first. At most 16 handshakes start per receive
   * round (Godot's 16 pending connections; more wait for the next rounds), at most the peer count of
   * sessions exist, and a session no ENet connection claims within 8 s is dropped, as in Godot.
   * Returns ERR_UNAVAILABLE when the running Node has no OpenSSL 3, ERR_UNCONFIGURED without a host,
   * ERR_INVALID_PARAMETER unless `serverOptions` is TLSOptions.server(...) with a private key that
   * matches its certificate (Godot would accept a mismatch here and fail every handshake later), FAILED
   * if the host already uses DTLS.
   */
  dtlsServerSetup(serverOptions: TLSOptions | null): GodotError {
    const method = 'ENetConnection.dtlsServerSetup';
    checkOptions(method, 'serverOptions', serverOptions);
    if (!dtlsAvailable(method)) return GodotError.ERR_UNAVAILABLE;
    const host = this.#requireHost('dtlsServerSetup');
    if (host === null) return GodotError.ERR_UNCONFIGURED;
    if (serverOptions == null || !serverOptions.isServer()) {
      reportError(`${method}: serverOptions must be TLSOptions.server(key, certificate)`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    const key = CryptoKey.keyObjectOf(serverOptions.getPrivateKey() as CryptoKey);
    const chain = X509Certificate.chainOf(serverOptions.getOwnCertificate() as X509Certificate);
    const problem = key === null || key.type !== 'private' ? 'the key holds no private key'
      : chain.length === 0 ? 'the certificate is empty'
      : !chain[0].checkPrivateKey(key) ? 'the private key does not match the certificate' : null;
    if (problem !== null) {
      reportError(`${method}: ${problem}`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    if (this.#dtls) {
      reportError(`${method}: the host already uses DTLS`);
      return GodotError.FAILED;
    }
    const error = host.dtlsServerSetup(key!.export({ type: 'pkcs8', format: 'der' }), chain.map((c) => c.raw));
    if (error !== null) {
      reportError(`${method}: ${error}`);
      return GodotError.FAILED;
    }
    this.#dtls = true;
    host.dtlsRefuse(this.#refusing);
    return GodotError.OK;
  }

  /**
   * Makes this host a DTLS client (Godot: right after connectToHost, or ENetMultiplayerPeer.createClient,
   * before the first service): its first datagram starts a DTLS handshake with the server, and what ENet
   * sends meanwhile leaves once it is done. `hostname` is the name the server's certificate must carry
   * (unless `clientOptions` overrides it, or is clientUnsafe) and is sent as SNI. A handshake that fails
   * (untrusted chain, wrong name) makes service() return EVENT_ERROR and report why; the next datagram
   * starts over, until ENet gives up the connection. Returns ERR_UNAVAILABLE when the running Node has no
   * OpenSSL 3, ERR_UNCONFIGURED without a host, ERR_INVALID_PARAMETER unless `clientOptions` is a client's
   * (null included, as in Godot: pass TLSOptions.client()) or when there is no name to verify, FAILED if
   * the host already uses DTLS.
   */
  dtlsClientSetup(hostname: string, clientOptions: TLSOptions | null = null): GodotError {
    const method = 'ENetConnection.dtlsClientSetup';
    checkString(method, 'hostname', hostname);
    checkOptions(method, 'clientOptions', clientOptions);
    if (!dtlsAvailable(method)) return GodotError.ERR_UNAVAILABLE;
    const host = this.#requireHost('dtlsClientSetup');
    if (host === null) return GodotError.ERR_UNCONFIGURED;
    if (clientOptions == null || clientOptions.isServer()) {
      reportError(`${method}: clientOptions must be TLSOptions.client() or TLSOptions.clientUnsafe()`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    const unsafe = clientOptions.isUnsafeClient();
    const trustedChain = clientOptions.getTrustedCaChain();
    const verifyName = unsafe ? null : clientOptions.getCommonNameOverride() || hostname;
    if (verifyName === '') {
      reportError(`${method}: no name to verify the server's certificate against (give a hostname, or use TLSOptions.clientUnsafe())`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    if (this.#dtls) {
      reportError(`${method}: the host already uses DTLS`);
      return GodotError.FAILED;
    }
    const trusted = trustedChain !== null ? X509Certificate.chainOf(trustedChain).map((c) => c.raw) : unsafe ? [] : defaultTrusted();
    const serverName = verifyName !== null && isIP(verifyName) === 0 ? verifyName : null; // SNI carries no addresses
    const error = host.dtlsClientSetup(serverName, verifyName, verifyName !== null && isIP(verifyName) !== 0,
      !unsafe || trustedChain !== null, trusted);
    if (error !== null) {
      reportError(`${method}: ${error}`);
      return GodotError.FAILED;
    }
    this.#dtls = true;
    return GodotError.OK;
  }

  /**
   * Node extra: calls `onWake` from the event loop as soon as a datagram arrives on the host's socket,
   * and every `intervalMs` for ENet's own timers (retransmits, pings, timeouts). Service the host from
   * it (`service()` until EVENT_NONE) and no polling loop is needed: an idle host costs only the timer.
   * Packets you send outside the handler leave on the next wake unless you `flush()`.
   * Returns false without a host. Calling it again replaces the handler; destroy() stops it.
   */
  watch(onWake: () => void, intervalMs = 10): boolean {
    if (typeof onWake !== 'function') throw new TypeError('ENetConnection.watch: onWake must be a function');
    checkInt('ENetConnection.watch', 'intervalMs', intervalMs);
    if (intervalMs < 1 || intervalMs > 0xffffffff) throw new RangeError(`ENetConnection.watch: intervalMs must be 1 or more, got ${intervalMs}`);
    const host = this.#requireHost('watch');
    return host !== null && host.watch(onWake, intervalMs);
  }

  /** Node extra: stops watch(). */
  unwatch(): void {
    this.#host?.unwatch();
  }

  /** Node extra: a watched host keeps the process alive (the default), like a socket. */
  ref(): void {
    this.#host?.keepAlive(true);
  }

  /** Node extra: a watched host does not keep the process alive. */
  unref(): void {
    this.#host?.keepAlive(false);
  }

  /** Node extra: counters of what the host survived or dropped without an event; null without a host. */
  getCounters(): ConnectionCounters | null {
    const counters = this.#host?.counters();
    if (counters == null) return null;
    return { ...counters, staleEvents: this.#staleEvents, timeouts: this.#timeouts };
  }

  #requireHost(method: string, message?: string): NativeHost | null {
    if (this.#staged > 0) this.#commit();
    return this.#requireNative(method, message);
  }

  // #requireHost without committing the staged sends.
  #requireNative(method: string, message = 'The ENetConnection instance is not active.'): NativeHost | null {
    if (this.#native === null) reportError(`ENetConnection.${method}: ${message}`);
    return this.#native;
  }
}

function checkOptions(method: string, name: string, options: unknown): void {
  if (options != null && !(options instanceof TLSOptions)) throw new TypeError(`${method}: ${name} must be a TLSOptions or null`);
}

// Godot returns ERR_UNAVAILABLE when built without DTLS; here, when the running Node has no OpenSSL 3.
function dtlsAvailable(method: string): boolean {
  const why = native.dtlsUnavailable();
  if (why !== null) reportError(`${method}: DTLS is not available: ${why}`);
  return why === null;
}

// TLSOptions.client() without a chain trusts what Node trusts (Godot: the system's CA certificates).
let defaultTrustedDer: Buffer[] | null = null;
function defaultTrusted(): Buffer[] {
  if (defaultTrustedDer === null) {
    const withGetter = tls as typeof tls & { getCACertificates?: (type: string) => string[] };
    const pems = withGetter.getCACertificates?.('default') ?? tls.rootCertificates;
    defaultTrustedDer = pems.map((pem) => new NodeX509Certificate(pem).raw);
  }
  return defaultTrustedDer;
}

function clampU32(value: number): number {
  return Math.min(Math.max(0, value), 0xffffffff);
}

// An IP literal, or a host name looked up like Godot does (blocking, any family).
function resolveAddress(address: string): Buffer | null {
  if (isIP(address) !== 0) return native.parseAddress(address);
  if (address.length === 0) return null;
  return native.resolve(address);
}
