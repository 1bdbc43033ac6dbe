import { GodotError, reportError } from '../core/errors';
import { BAD_CHANNEL, ENET_MAX_PACKET_SIZE, NativeHost, STALE_PEER } from './native';
import { PacketPeer, PacketResult } from '../core/PacketPeer';
import { Queue } from '../core/queue';
import { checkBytes, checkInt } from '../core/validate';

/** Godot's ENetPacketPeer.PeerState (identical to ENet's ENetPeerState). */
export enum PeerState {
  STATE_DISCONNECTED = 0,
  STATE_CONNECTING = 1,
  STATE_ACKNOWLEDGING_CONNECT = 2,
  STATE_CONNECTION_PENDING = 3,
  STATE_CONNECTION_SUCCEEDED = 4,
  STATE_CONNECTED = 5,
  STATE_DISCONNECT_LATER = 6,
  STATE_DISCONNECTING = 7,
  STATE_ACKNOWLEDGING_DISCONNECT = 8,
  STATE_ZOMBIE = 9,
}

/** Godot's ENetPacketPeer.PeerStatistic: each is the ENetPeer field of the same name. */
export enum PeerStatistic {
  PEER_PACKET_LOSS = 0,
  PEER_PACKET_LOSS_VARIANCE = 1,
  PEER_PACKET_LOSS_EPOCH = 2,
  PEER_ROUND_TRIP_TIME = 3,
  PEER_ROUND_TRIP_TIME_VARIANCE = 4,
  PEER_LAST_ROUND_TRIP_TIME = 5,
  PEER_LAST_ROUND_TRIP_TIME_VARIANCE = 6,
  PEER_PACKET_THROTTLE = 7,
  PEER_PACKET_THROTTLE_LIMIT = 8,
  PEER_PACKET_THROTTLE_COUNTER = 9,
  PEER_PACKET_THROTTLE_EPOCH = 10,
  PEER_PACKET_THROTTLE_ACCELERATION = 11,
  PEER_PACKET_THROTTLE_DECELERATION = 12,
  PEER_PACKET_THROTTLE_INTERVAL = 13,
}

/** Node extra: session totals ENet keeps per peer (reset on connect), and the negotiated MTU. */
export interface PeerTotals {
  packetsSent: number;
  packetsLost: number;
  dataSent: number;
  dataReceived: number;
  mtu: number;
}

export const FLAG_RELIABLE = 1;
export const FLAG_UNSEQUENCED = 2;
export const FLAG_UNRELIABLE_FRAGMENT = 8;
const FLAG_ALLOWED = FLAG_RELIABLE | FLAG_UNSEQUENCED | FLAG_UNRELIABLE_FRAGMENT;
const MAX_PACKET_SIZE = 1 << 24;
const NATIVE_TOTALS_FIRST = 14; // binding/peer.cc: extras follow Godot's 14 statistics

/**
 * @internal True (after reporting it) when `length` bytes are more than ENet can carry in one packet:
 * ENet would refuse the packet, and a put that Godot reports as OK would lose it without a word.
 */
export function packetTooLarge(method: string, length: number): boolean {
  if (length <= ENET_MAX_PACKET_SIZE) return false;
  reportError(`${method}: a packet of ${length} bytes is over ENet's limit of ${ENET_MAX_PACKET_SIZE} bytes (32 MiB); nothing was sent`);
  return true;
}

/** What a peer needs from the ENetConnection that owns it. */
export interface PeerOwner {
  /** The native host, with every staged send queued into it first. */
  readonly nativeHost: NativeHost | null;
  /** Stages a send ENet is certain to accept, for one native call later; false: send it now. */
  stage(slot: number, gen: number, channel: number, packet: Uint8Array, flags: number): boolean;
  /** The connection in this peer's slot ended through the peer itself (reset, disconnect now). */
  peerEnded(peer: ENetPacketPeer): void;
}

/** Only ENetConnection creates peers, as in Godot. */
export const createPeerToken = Symbol('ENetPacketPeer');

interface QueuedPacket {
  data: Buffer;
  flags: number;
}

/**
 * Godot's ENetPacketPeer: one connection of an ENetConnection. The same object stands for the
 * connection for as long as it lasts; once it is over (disconnect event, reset, peerDisconnectNow or
 * the host's destroy) the object is inactive for good.
 */
export class ENetPacketPeer extends PacketPeer {
  static readonly PACKET_THROTTLE_SCALE = 32;
  static readonly PACKET_LOSS_SCALE = 65536;
  static readonly FLAG_RELIABLE = FLAG_RELIABLE;
  static readonly FLAG_UNSEQUENCED = FLAG_UNSEQUENCED;
  static readonly FLAG_UNRELIABLE_FRAGMENT = FLAG_UNRELIABLE_FRAGMENT;
  static readonly PeerState = PeerState;
  static readonly PeerStatistic = PeerStatistic;
  static readonly STATE_DISCONNECTED = PeerState.STATE_DISCONNECTED;
  static readonly STATE_CONNECTING = PeerState.STATE_CONNECTING;
  static readonly STATE_ACKNOWLEDGING_CONNECT = PeerState.STATE_ACKNOWLEDGING_CONNECT;
  static readonly STATE_CONNECTION_PENDING = PeerState.STATE_CONNECTION_PENDING;
  static readonly STATE_CONNECTION_SUCCEEDED = PeerState.STATE_CONNECTION_SUCCEEDED;
  static readonly STATE_CONNECTED = PeerState.STATE_CONNECTED;
  static readonly STATE_DISCONNECT_LATER = PeerState.STATE_DISCONNECT_LATER;
  static readonly STATE_DISCONNECTING = PeerState.STATE_DISCONNECTING;
  static readonly STATE_ACKNOWLEDGING_DISCONNECT = PeerState.STATE_ACKNOWLEDGING_DISCONNECT;
  static readonly STATE_ZOMBIE = PeerState.STATE_ZOMBIE;
  static readonly PEER_PACKET_LOSS = PeerStatistic.PEER_PACKET_LOSS;
  static readonly PEER_PACKET_LOSS_VARIANCE = PeerStatistic.PEER_PACKET_LOSS_VARIANCE;
  static readonly PEER_PACKET_LOSS_EPOCH = PeerStatistic.PEER_PACKET_LOSS_EPOCH;
  static readonly PEER_ROUND_TRIP_TIME = PeerStatistic.PEER_ROUND_TRIP_TIME;
  static readonly PEER_ROUND_TRIP_TIME_VARIANCE = PeerStatistic.PEER_ROUND_TRIP_TIME_VARIANCE;
  static readonly PEER_LAST_ROUND_TRIP_TIME = PeerStatistic.PEER_LAST_ROUND_TRIP_TIME;
  static readonly PEER_LAST_ROUND_TRIP_TIME_VARIANCE = PeerStatistic.PEER_LAST_ROUND_TRIP_TIME_VARIANCE;
  static readonly PEER_PACKET_THROTTLE = PeerStatistic.PEER_PACKET_THROTTLE;
  static readonly PEER_PACKET_THROTTLE_LIMIT = PeerStatistic.PEER_PACKET_THROTTLE_LIMIT;
  static readonly PEER_PACKET_THROTTLE_COUNTER = PeerStatistic.PEER_PACKET_THROTTLE_COUNTER;
  static readonly PEER_PACKET_THROTTLE_EPOCH = PeerStatistic.PEER_PACKET_THROTTLE_EPOCH;
  static readonly PEER_PACKET_THROTTLE_ACCELERATION = PeerStatistic.PEER_PACKET_THROTTLE_ACCELERATION;
  static readonly PEER_PACKET_THROTTLE_DECELERATION = PeerStatistic.PEER_PACKET_THROTTLE_DECELERATION;
  static readonly PEER_PACKET_THROTTLE_INTERVAL = PeerStatistic.PEER_PACKET_THROTTLE_INTERVAL;

  readonly #owner: PeerOwner;
  readonly #slot: number;
  readonly #gen: number;
  #active = true;
  // What a connection's address, port and channel count are never change while it lasts, and once ENet
  // has ended it (a DISCONNECT drained but not yet returned by service) it no longer knows them: cached.
  #address = '';
  #port = 0;
  #channels = 0;
  #sendQueueLimit = 0;
  readonly #queue = new Queue<QueuedPacket>();

  /** @internal Peers are created by ENetConnection. */
  constructor(token: symbol, owner: PeerOwner, slot: number, gen: number) {
    super();
    if (token !== createPeerToken) throw new TypeError('ENetPacketPeer objects are created by ENetConnection');
    this.#owner = owner;
    this.#slot = slot;
    this.#gen = gen;
    this.refreshConnectionInfo();
  }

  /** @internal Re-reads what the connection negotiated (ENetConnection calls it on CONNECT). */
  refreshConnectionInfo(): void {
    const host = this.#owner.nativeHost;
    if (host === null || host.peerState(this.#slot, this.#gen) === STALE_PEER) return;
    this.#address = host.peerAddress(this.#slot, this.#gen);
    this.#port = host.peerPort(this.#slot, this.#gen);
    this.#channels = host.peerChannels(this.#slot, this.#gen);
  }

  /** @internal */
  get slot(): number {
    return this.#slot;
  }

  /** @internal */
  get generation(): number {
    return this.#gen;
  }

  /** @internal True if `owner` is the connection this peer belongs to. */
  belongsTo(owner: PeerOwner): boolean {
    return this.#owner === owner;
  }

  /** @internal False when `bytes` more would pass the limit set with setSendQueueLimit. */
  hasRoomFor(bytes: number): boolean {
    if (this.#sendQueueLimit === 0) return true;
    const host = this.#owner.nativeHost;
    return host !== null && host.peerQueuedBytes(this.#slot, this.#gen) + bytes <= this.#sendQueueLimit;
  }

  /** @internal The connection is over: called by ENetConnection. */
  markInactive(): void {
    this.#active = false;
  }

  /** @internal A packet that arrived for this peer (queued by ENetConnection.service). */
  queuePacket(data: Buffer, flags: number): void {
    this.#queue.push({ data, flags });
  }

  isActive(): boolean {
    return this.#active;
  }

  // The native host, or null (with Godot's error message) when this peer is no longer active.
  #host(method: string): NativeHost | null {
    const host = this.#owner.nativeHost;
    if (!this.#active || host === null) {
      reportError(`ENetPacketPeer.${method}: the peer is not active`);
      return null;
    }
    return host;
  }

  #end(): void {
    this.#active = false;
    this.#owner.peerEnded(this);
  }

  /** Graceful disconnect: a DISCONNECT event follows once the remote acknowledges (or times out). */
  peerDisconnect(data = 0): void {
    checkInt('ENetPacketPeer.peerDisconnect', 'data', data);
    this.#host('peerDisconnect')?.peerDisconnect(this.#slot, this.#gen, data >>> 0, 0);
  }

  /** Disconnects once all queued outgoing packets are sent. */
  peerDisconnectLater(data = 0): void {
    checkInt('ENetPacketPeer.peerDisconnectLater', 'data', data);
    this.#host('peerDisconnectLater')?.peerDisconnect(this.#slot, this.#gen, data >>> 0, 1);
  }

  /** Sends one unsequenced DISCONNECT and drops the connection at once: no DISCONNECT event follows. */
  peerDisconnectNow(data = 0): void {
    checkInt('ENetPacketPeer.peerDisconnectNow', 'data', data);
    const host = this.#host('peerDisconnectNow');
    if (host === null) return;
    host.peerDisconnect(this.#slot, this.#gen, data >>> 0, 2);
    this.#end();
  }

  /** Sends a ping (normally ENet does so by itself every pingInterval). */
  ping(): void {
    this.#host('ping')?.peerPing(this.#slot, this.#gen);
  }

  /** Interval between pings in ms; 0 restores ENet's default (500). A negative interval is refused. */
  pingInterval(pingInterval: number): void {
    checkInt('ENetPacketPeer.pingInterval', 'pingInterval', pingInterval);
    if (outOfU32('ENetPacketPeer.pingInterval', { pingInterval })) return;
    this.#host('pingInterval')?.peerPingInterval(this.#slot, this.#gen, pingInterval);
  }

  /** Drops the connection without telling the remote (it will time out); no DISCONNECT event follows. */
  reset(): void {
    const host = this.#host('reset');
    if (host === null) return;
    host.peerReset(this.#slot, this.#gen);
    this.#end();
  }

  /** Queues a packet on a channel with FLAG_* flags. Sent on the next service or flush. */
  send(channel: number, packet: Uint8Array, flags: number): GodotError {
    checkInt('ENetPacketPeer.send', 'channel', channel);
    checkBytes('ENetPacketPeer.send', 'packet', packet);
    checkInt('ENetPacketPeer.send', 'flags', flags);
    if (!this.#active) {
      this.#host('send'); // reports it
      return GodotError.ERR_UNCONFIGURED;
    }
    if (channel < 0 || (flags & ~FLAG_ALLOWED) !== 0) {
      reportError(`ENetPacketPeer.send: invalid channel ${channel} or flags ${flags}`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    if (packetTooLarge('ENetPacketPeer.send', packet.length)) return GodotError.FAILED; // Godot's code for it
    // The common case costs no native call: staged, it reaches ENet with the next service or flush.
    if (channel < this.#channels && this.#sendQueueLimit === 0 && this.#owner.stage(this.#slot, this.#gen, channel, packet, flags)) {
      return GodotError.OK;
    }
    const host = this.#host('send');
    if (host === null) return GodotError.ERR_UNCONFIGURED;
    if (!this.hasRoomFor(packet.length)) return GodotError.ERR_BUSY;
    const result = host.peerSend(this.#slot, this.#gen, channel, packet, flags);
    if (result === 0) return GodotError.OK;
    if (result === BAD_CHANNEL) {
      reportError(`ENetPacketPeer.send: channel ${channel} is out of range`);
      return GodotError.ERR_INVALID_PARAMETER;
    }
    // Godot's off-by-one (G16): channel == channel count passes the check above and fails here.
    return GodotError.FAILED;
  }

  /**
   * Node extra (backpressure): bytes of this peer's packets still held by ENet, reliable ones until the
   * remote acknowledges them and unreliable ones until they are sent. A peer that stops reading (or
   * whose link is down) shows up here long before its timeout.
   */
  getQueuedBytes(): number {
    const host = this.#owner.nativeHost;
    return !this.#active || host === null ? 0 : host.peerQueuedBytes(this.#slot, this.#gen);
  }

  /**
   * Node extra (backpressure): from now on send() returns ERR_BUSY, and queues nothing, when the packet
   * would take getQueuedBytes() past `bytes`. 0 (the default) = no limit, as in Godot.
   */
  setSendQueueLimit(bytes: number): void {
    checkInt('ENetPacketPeer.setSendQueueLimit', 'bytes', bytes);
    if (bytes < 0) throw new RangeError('ENetPacketPeer.setSendQueueLimit: bytes must be >= 0');
    this.#sendQueueLimit = bytes;
  }

  /** Configures ENet's packet throttle and tells the remote (a reliable THROTTLE_CONFIGURE command). */
  throttleConfigure(interval: number, acceleration: number, deceleration: number): void {
    checkInt('ENetPacketPeer.throttleConfigure', 'interval', interval);
    checkInt('ENetPacketPeer.throttleConfigure', 'acceleration', acceleration);
    checkInt('ENetPacketPeer.throttleConfigure', 'deceleration', deceleration);
    if (outOfU32('ENetPacketPeer.throttleConfigure', { interval, acceleration, deceleration })) return;
    this.#host('throttleConfigure')?.peerThrottleConfigure(this.#slot, this.#gen, interval, acceleration, deceleration);
  }

  /**
   * Sets the timeout rules, in ms: the peer is dropped once `timeout` retransmit doublings have failed
   * and at least `timeoutMin` has passed, or after `timeoutMax` in any case. 0 = ENet's defaults
   * (32, 5000, 30000).
   */
  setTimeout(timeout: number, timeoutMin: number, timeoutMax: number): void {
    checkInt('ENetPacketPeer.setTimeout', 'timeout', timeout);
    checkInt('ENetPacketPeer.setTimeout', 'timeoutMin', timeoutMin);
    checkInt('ENetPacketPeer.setTimeout', 'timeoutMax', timeoutMax);
    if (outOfU32('ENetPacketPeer.setTimeout', { timeout, timeoutMin, timeoutMax })) return;
    if (timeout > timeoutMin || timeoutMin > timeoutMax) {
      reportError('ENetPacketPeer.setTimeout: needs timeout <= timeoutMin <= timeoutMax');
      return;
    }
    this.#host('setTimeout')?.peerTimeout(this.#slot, this.#gen, timeout, timeoutMin, timeoutMax);
  }

  /** FLAG_* flags of the next queued packet. */
  getPacketFlags(): number {
    const next = this.#queue.peek();
    if (next === undefined) {
      reportError('ENetPacketPeer.getPacketFlags: no packet queued');
      return 0;
    }
    return next.flags;
  }

  /** The remote IP: "a.b.c.d" for IPv4 peers (also on a dual-stack socket), IPv6 text otherwise. */
  getRemoteAddress(): string {
    return this.#host('getRemoteAddress') === null ? '' : this.#address;
  }

  getRemotePort(): number {
    return this.#host('getRemotePort') === null ? 0 : this.#port;
  }

  getStatistic(statistic: PeerStatistic): number {
    checkInt('ENetPacketPeer.getStatistic', 'statistic', statistic);
    const host = this.#host('getStatistic');
    if (host === null) return 0;
    if (statistic < 0 || statistic >= NATIVE_TOTALS_FIRST) {
      reportError(`ENetPacketPeer.getStatistic: unknown statistic ${statistic}`);
      return 0;
    }
    return Math.max(0, host.peerStatistic(this.#slot, this.#gen, statistic));
  }

  /** Node extra: the session totals ENet keeps for this peer. */
  getTotals(): PeerTotals {
    const host = this.#host('getTotals');
    const read = (i: number) => (host === null ? 0 : Math.max(0, host.peerStatistic(this.#slot, this.#gen, i)));
    return {
      packetsSent: read(14),
      packetsLost: read(15),
      dataSent: read(16),
      dataReceived: read(17),
      mtu: read(18),
    };
  }

  getState(): PeerState {
    const host = this.#owner.nativeHost;
    if (!this.#active || host === null) return PeerState.STATE_DISCONNECTED;
    const state = host.peerState(this.#slot, this.#gen);
    // Stale while still active: ENet has ended the connection and its DISCONNECT is waiting to be
    // returned by service(); Godot's ENet would report the peer as a zombie until then.
    return state === STALE_PEER ? PeerState.STATE_ZOMBIE : (state as PeerState);
  }

  /** The negotiated channel count. */
  getChannels(): number {
    return this.#host('getChannels') === null ? 0 : this.#channels;
  }

  getAvailablePacketCount(): number {
    return this.#queue.length;
  }

  getMaxPacketSize(): number {
    return MAX_PACKET_SIZE;
  }

  protected readPacket(): PacketResult {
    if (!this.#active) {
      reportError('ENetPacketPeer.getPacket: the peer is not active');
      return { error: GodotError.ERR_UNCONFIGURED, data: Buffer.alloc(0) };
    }
    const next = this.#queue.shift();
    if (next === undefined) return { error: GodotError.ERR_UNAVAILABLE, data: Buffer.alloc(0) };
    return { error: GodotError.OK, data: next.data };
  }

  // PacketPeer.put_packet on an ENet peer: reliable, channel 0.
  protected writePacket(data: Uint8Array): GodotError {
    if (!this.#active) {
      this.#host('putPacket'); // reports it
      return GodotError.ERR_UNCONFIGURED;
    }
    if (packetTooLarge('ENetPacketPeer.putPacket', data.length)) return GodotError.FAILED;
    if (this.#channels > 0 && this.#owner.stage(this.#slot, this.#gen, 0, data, FLAG_RELIABLE)) return GodotError.OK;
    const host = this.#host('putPacket');
    if (host === null) return GodotError.ERR_UNCONFIGURED;
    return host.peerSend(this.#slot, this.#gen, 0, data, FLAG_RELIABLE) === 0 ? GodotError.OK : GodotError.FAILED;
  }
}

// ENet takes these as 32-bit unsigned milliseconds or counts: a negative value (or one past 2^32 - 1)
// would wrap around into something else entirely, so the call is refused with Godot's error, unchanged.
function outOfU32(method: string, values: Record<string, number>): boolean {
  for (const [name, value] of Object.entries(values)) {
    if (value < 0 || value > 0xffffffff) {
      reportError(`${method}: ${name} ${value} is outside 0..4294967295; nothing was changed`);
      return true;
    }
  }
  return false;
}
