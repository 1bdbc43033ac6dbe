import { EventEmitter } from 'events';
import { GodotError, reportError } from './errors';
import { checkBool, checkBytes, checkInt } from './validate';
import { decodeVariant, encodeVariant } from '../variant/marshalls';

const MIN_ENCODE_BUFFER = 1024;
const MAX_ENCODE_BUFFER = 256 * 1024 * 1024;

/** A packet as a subclass hands it to PacketPeer: an error, or the bytes. */
export interface PacketResult {
  error: GodotError;
  data: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * Godot's PacketPeer: the packet-based base class of ENetPacketPeer and MultiplayerPeer. Subclasses
 * provide the raw packet operations; this class adds Godot's script-level rules (empty puts are
 * no-ops, the last get's error is remembered) and Variant packets (`putVar` / `getVar`).
 *
 * It is an EventEmitter so that MultiplayerPeer's signals can be events.
 */
export abstract class PacketPeer extends EventEmitter {
  #encodeBufferMaxSize = 8 * 1024 * 1024;
  #lastGetError: GodotError = GodotError.OK;

  abstract getAvailablePacketCount(): number;
  /** The largest packet this peer can put (Godot's native get_max_packet_size). */
  abstract getMaxPacketSize(): number;
  protected abstract readPacket(): PacketResult;
  protected abstract writePacket(data: Uint8Array): GodotError;

  /** Limit on the encoded size of `putVar` values, in bytes (Godot's encode_buffer_max_size). */
  get encodeBufferMaxSize(): number {
    return this.#encodeBufferMaxSize;
  }

  set encodeBufferMaxSize(value: number) {
    checkInt('PacketPeer.encodeBufferMaxSize', 'value', value);
    if (value < MIN_ENCODE_BUFFER || value > MAX_ENCODE_BUFFER) {
      reportError(`PacketPeer.encodeBufferMaxSize: ${value} is outside ${MIN_ENCODE_BUFFER}..${MAX_ENCODE_BUFFER}`);
      return;
    }
    let size = 1;
    while (size < value) size *= 2;
    this.#encodeBufferMaxSize = size;
  }

  /** Returns the next packet, or an empty buffer on error (see getPacketError). */
  getPacket(): Buffer {
    const { error, data } = this.readPacket();
    this.#lastGetError = error;
    return error === GodotError.OK ? data : EMPTY;
  }

  /** The error of the last getPacket or getVar. */
  getPacketError(): GodotError {
    return this.#lastGetError;
  }

  /** Sends a packet. An empty one sends nothing and returns OK, as in Godot's script API. */
  putPacket(buffer: Uint8Array): GodotError {
    checkBytes('PacketPeer.putPacket', 'buffer', buffer);
    if (buffer.length === 0) return GodotError.OK;
    return this.writePacket(buffer);
  }

  /** Reads one packet and decodes it as a Godot Variant; null on error (see getPacketError). */
  getVar(allowObjects = false): unknown {
    checkBool('PacketPeer.getVar', 'allowObjects', allowObjects);
    const { error, data } = this.readPacket();
    this.#lastGetError = error;
    if (error !== GodotError.OK) return null;
    const decoded = decodeVariant(data, allowObjects);
    if (decoded.error !== GodotError.OK) {
      this.#lastGetError = decoded.error;
      return null;
    }
    return decoded.value;
  }

  /** Encodes a value with Godot's binary Variant format and sends it as one packet. */
  putVar(value: unknown, fullObjects = false): GodotError {
    checkBool('PacketPeer.putVar', 'fullObjects', fullObjects);
    const encoded = encodeVariant(value, fullObjects);
    if (encoded.error !== GodotError.OK) return encoded.error;
    if (encoded.bytes.length > this.#encodeBufferMaxSize) return GodotError.ERR_OUT_OF_MEMORY;
    if (encoded.bytes.length === 0) return GodotError.OK;
    return this.writePacket(encoded.bytes);
  }
}
