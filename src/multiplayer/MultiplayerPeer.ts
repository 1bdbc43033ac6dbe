import { randomInt } from 'crypto';
import { PacketPeer } from '../core/PacketPeer';
import { checkBool, checkInt } from '../core/validate';
import { reportError } from '../core/errors';

/** Godot's MultiplayerPeer.TransferMode. */
export enum TransferMode {
  TRANSFER_MODE_UNRELIABLE = 0,
  TRANSFER_MODE_UNRELIABLE_ORDERED = 1,
  TRANSFER_MODE_RELIABLE = 2,
}

/** Godot's MultiplayerPeer.ConnectionStatus. */
export enum ConnectionStatus {
  CONNECTION_DISCONNECTED = 0,
  CONNECTION_CONNECTING = 1,
  CONNECTION_CONNECTED = 2,
}

export const TARGET_PEER_BROADCAST = 0;
export const TARGET_PEER_SERVER = 1;
const MAX_TRANSFER_CHANNEL = 255;

/** The signals of Godot's MultiplayerPeer, as events. */
export interface MultiplayerPeerEvents {
  peer_connected: [id: number];
  peer_disconnected: [id: number];
}

/**
 * Godot's MultiplayerPeer: the abstract high-level peer. `transferMode`, `transferChannel` and
 * `refuseNewConnections` are kept across close(), as in Godot.
 *
 * Events (Godot's signals): `peer_connected(id)` and `peer_disconnected(id)`, emitted synchronously
 * from `poll()` (and from ENetMultiplayerPeer.addMeshPeer).
 */
export abstract class MultiplayerPeer extends PacketPeer {
  static readonly TransferMode = TransferMode;
  static readonly ConnectionStatus = ConnectionStatus;
  static readonly TRANSFER_MODE_UNRELIABLE = TransferMode.TRANSFER_MODE_UNRELIABLE;
  static readonly TRANSFER_MODE_UNRELIABLE_ORDERED = TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED;
  static readonly TRANSFER_MODE_RELIABLE = TransferMode.TRANSFER_MODE_RELIABLE;
  static readonly CONNECTION_DISCONNECTED = ConnectionStatus.CONNECTION_DISCONNECTED;
  static readonly CONNECTION_CONNECTING = ConnectionStatus.CONNECTION_CONNECTING;
  static readonly CONNECTION_CONNECTED = ConnectionStatus.CONNECTION_CONNECTED;
  static readonly TARGET_PEER_BROADCAST = TARGET_PEER_BROADCAST;
  static readonly TARGET_PEER_SERVER = TARGET_PEER_SERVER;

  #transferMode = TransferMode.TRANSFER_MODE_RELIABLE;
  #transferChannel = 0;
  #refuseNewConnections = false;

  get transferMode(): TransferMode {
    return this.#transferMode;
  }

  set transferMode(mode: TransferMode) {
    checkInt('MultiplayerPeer.transferMode', 'mode', mode);
    if (TransferMode[mode] === undefined) throw new RangeError(`MultiplayerPeer.transferMode: unknown mode ${mode}`);
    this.#transferMode = mode;
  }

  /** Channel for putPacket: 0 is the default channel of the transfer mode, n > 0 a user channel. */
  get transferChannel(): number {
    return this.#transferChannel;
  }

  set transferChannel(channel: number) {
    checkInt('MultiplayerPeer.transferChannel', 'channel', channel);
    // Godot's range for it (ENet has at most 255 channels); Godot itself stores anything.
    if (channel < 0 || channel > MAX_TRANSFER_CHANNEL) {
      reportError(`MultiplayerPeer.transferChannel: channel ${channel} is outside 0..${MAX_TRANSFER_CHANNEL}; kept ${this.#transferChannel}`);
      return;
    }
    this.#transferChannel = channel;
  }

  get refuseNewConnections(): boolean {
    return this.#refuseNewConnections;
  }

  set refuseNewConnections(enable: boolean) {
    this.setRefuseNewConnections(enable);
  }

  setTransferMode(mode: TransferMode): void {
    this.transferMode = mode;
  }

  getTransferMode(): TransferMode {
    return this.#transferMode;
  }

  setTransferChannel(channel: number): void {
    this.transferChannel = channel;
  }

  getTransferChannel(): number {
    return this.#transferChannel;
  }

  setRefuseNewConnections(enable: boolean): void {
    this.#refuseNewConnections = checkBool('MultiplayerPeer.setRefuseNewConnections', 'enable', enable);
  }

  isRefusingNewConnections(): boolean {
    return this.#refuseNewConnections;
  }

  /** A random id in [2, 2^31 - 1], the range Godot's ids live in (0 and 1 are reserved). */
  generateUniqueId(): number {
    return randomInt(2, 2 ** 31);
  }

  isServerRelaySupported(): boolean {
    return false;
  }

  /** 0 = broadcast, 1 = the server, n > 1 = peer n, -n = everyone but peer n. */
  abstract setTargetPeer(id: number): void;
  /** Sender id of the next queued packet. */
  abstract getPacketPeer(): number;
  /** Channel of the next queued packet. */
  abstract getPacketChannel(): number;
  /** Transfer mode of the next queued packet. */
  abstract getPacketMode(): TransferMode;
  abstract poll(): void;
  abstract close(): void;
  abstract disconnectPeer(peer: number, force?: boolean): void;
  abstract getConnectionStatus(): ConnectionStatus;
  abstract getUniqueId(): number;

  // Typed signal events.
  override on<K extends keyof MultiplayerPeerEvents>(event: K, listener: (...args: MultiplayerPeerEvents[K]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  override once<K extends keyof MultiplayerPeerEvents>(event: K, listener: (...args: MultiplayerPeerEvents[K]) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this;
  override once(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.once(event, listener);
  }
}
