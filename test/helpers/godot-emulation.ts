/**
 * Makes a PyPeer (test/peers/enet_peer.py: upstream libenet 1.3.17) behave on the wire exactly like a
 * Godot 4 ENetMultiplayerPeer client or server (spec godot4-enet.md §2, G1-G6):
 *
 * - the client's unique id travels as the ENet CONNECT `data`, nothing else identifies it;
 * - a client requests 255 channels, or channelCount + 2 when given one;
 * - a server host has channel limit 0 (= 255) and, through Godot's create_server bug, advertises
 *   `maxChannels + 2` as its incoming bandwidth when maxChannels > 0;
 * - packets carry no header bytes; the transfer mode picks the ENet flags (RELIABLE 1,
 *   UNRELIABLE 2|8 = 10, UNRELIABLE_ORDERED 8) and the channel (reliable on ENet channel 0, both
 *   unreliable modes on 1, user transfer channel n on ENet channel n + 1);
 * - received packets are classified as Godot's _store_packet does: RELIABLE flag -> RELIABLE,
 *   else UNSEQUENCED flag -> UNRELIABLE, else UNRELIABLE_ORDERED; ENet channel c -> transfer
 *   channel c >= 2 ? c - 1 : 0.
 *
 * Also a small ENet datagram parser for checks on what actually went over the wire (the
 * reference peer's `capture` op reports every datagram it receives).
 */
import { randomInt } from 'crypto';
import { CMD, parseDatagram } from './enet-wire';
import { PyEvent, PyPeer, PyReceiveEvent, b64, eventBytes } from './py-peer';

/** Godot's MultiplayerPeer.TransferMode values (kept local so this file depends on no src/ code). */
export const MODE = { UNRELIABLE: 0, UNRELIABLE_ORDERED: 1, RELIABLE: 2 } as const;
export type Mode = (typeof MODE)[keyof typeof MODE];
export const MODES: readonly Mode[] = [MODE.UNRELIABLE, MODE.UNRELIABLE_ORDERED, MODE.RELIABLE];
export const MODE_NAME: Record<Mode, string> = { 0: 'UNRELIABLE', 1: 'UNRELIABLE_ORDERED', 2: 'RELIABLE' };

/** ENet packet flags Godot 4 uses for each transfer mode (spec §2.6, G5). */
export const GODOT_FLAGS: Record<Mode, number> = { 0: 2 | 8, 1: 8, 2: 1 };

/** ENet channel Godot 4 sends on for a transfer mode and transfer channel (spec §2.5, G4). */
export function godotEnetChannel(mode: Mode, transferChannel: number): number {
  if (transferChannel > 0) return transferChannel + 1;
  return mode === MODE.RELIABLE ? 0 : 1;
}

/** Godot's get_packet_channel() for a packet received on ENet channel `enetChannel`. */
export function godotTransferChannel(enetChannel: number): number {
  return enetChannel >= 2 ? enetChannel - 1 : 0;
}

/** Godot's inference of the transfer mode from the flags ENet gave a received packet (§2.6). */
export function godotModeFromFlags(flags: number): Mode {
  if (flags & 1) return MODE.RELIABLE;
  if (flags & 2) return MODE.UNRELIABLE;
  return MODE.UNRELIABLE_ORDERED;
}

/** ENet channels a Godot 4 client requests (§2.5). */
export function godotRequestedChannels(channelCount = 0): number {
  return channelCount > 0 ? Math.min(channelCount + 2, 255) : 255;
}

/** Ids a Godot 4 server admits (§2.4): 2 .. 2^31 - 1. */
export function isValidGodotId(id: number): boolean {
  return Number.isInteger(id) && id >= 2 && id <= 0x7fffffff;
}

/** A random id as Godot's generate_unique_id produces. */
export function randomGodotId(): number {
  return randomInt(2, 2 ** 31);
}

/** One packet as a Godot 4 peer would see it through get_packet_* (plus the raw ENet facts). */
export interface GodotPacket {
  /** Sender: the Godot peer id (a client sees 1). */
  from: number;
  data: Buffer;
  /** get_packet_channel() */
  channel: number;
  /** get_packet_mode() */
  mode: Mode;
  enetChannel: number;
  /** Flags libenet gave the received packet. */
  flags: number;
}

function toGodotPacket(e: PyReceiveEvent, from: number): GodotPacket {
  return {
    from,
    data: eventBytes(e),
    channel: godotTransferChannel(e.channel),
    mode: godotModeFromFlags(e.flags),
    enetChannel: e.channel,
    flags: e.flags,
  };
}

const isReceive = (e: PyEvent): e is PyReceiveEvent => e.ev === 'receive';

/** A PyPeer playing a Godot 4 ENetMultiplayerPeer client (create_client). */
export class GodotClientEmulation {
  /** Key of the server connection in the Python host (its incomingPeerID). */
  serverKey = -1;
  id = 0;
  requestedChannels = 255;

  private constructor(readonly py: PyPeer) {}

  /** Spawns the reference peer with a client host: 1 peer slot, channel limit 0 (255), like create_client. */
  static async start(options: { inBandwidth?: number; outBandwidth?: number } = {}): Promise<GodotClientEmulation> {
    const py = await PyPeer.start();
    try {
      await py.request({ op: 'host', bind: null, port: 0, peers: 1, channels: 0, in: options.inBandwidth ?? 0, out: options.outBandwidth ?? 0 });
    } catch (err) {
      await py.close();
      throw err;
    }
    return new GodotClientEmulation(py);
  }

  /**
   * connect_to_host(address, port, channelCount > 0 ? channelCount + 2 : 255, data = id), as
   * create_client does. Nothing more: no hello packet, no header.
   */
  async connect(port: number, options: { id?: number; channelCount?: number; address?: string } = {}): Promise<void> {
    this.id = options.id ?? randomGodotId();
    this.requestedChannels = godotRequestedChannels(options.channelCount ?? 0);
    const reply = await this.py.request({
      op: 'connect',
      address: options.address ?? '127.0.0.1',
      port,
      channels: this.requestedChannels,
      data: this.id >>> 0,
    });
    this.serverKey = reply.peer as number;
  }

  /** Waits for the ENet CONNECT event (what a Godot client reports as peer_connected(1)). */
  async waitConnected(pump: () => void, timeoutMs = 5000): Promise<PyEvent> {
    return this.py.waitEvent((e) => e.ev === 'connect' && e.peer === this.serverKey, timeoutMs, pump);
  }

  /** put_packet with transfer_mode `mode` and transfer_channel `transferChannel`. */
  async put(data: Uint8Array, mode: Mode = MODE.RELIABLE, transferChannel = 0): Promise<void> {
    await this.py.request({
      op: 'send',
      peer: this.serverKey,
      channel: godotEnetChannel(mode, transferChannel),
      flags: GODOT_FLAGS[mode],
      data: b64(data),
    });
  }

  /** Next received packet (from the server, so `from` = 1) matching `pred`. */
  async get(pump: () => void, pred: (p: GodotPacket) => boolean = () => true, timeoutMs = 5000): Promise<GodotPacket> {
    const e = await this.py.waitEvent((x) => isReceive(x) && x.peer === this.serverKey && pred(toGodotPacket(x, 1)), timeoutMs, pump);
    return toGodotPacket(e as PyReceiveEvent, 1);
  }

  /** Packets received and not yet taken by get(). */
  pending(): GodotPacket[] {
    return this.py.unconsumed('receive').filter((e) => e.peer === this.serverKey).map((e) => toGodotPacket(e, 1));
  }

  /** disconnect_peer(1): a graceful (reliable) DISCONNECT with data 0. */
  async disconnect(): Promise<void> {
    await this.py.request({ op: 'disconnect', peer: this.serverKey, data: 0, mode: 'normal' });
  }

  close(): Promise<void> {
    return this.py.close();
  }
}

/** What the emulated server did with one incoming connection. */
export interface Admission {
  key: number;
  id: number;
  channels: number;
  admitted: boolean;
}

/** A PyPeer playing a Godot 4 ENetMultiplayerPeer server (create_server). */
export class GodotServerEmulation {
  port = 0;
  /** Admitted clients: Godot id -> key of the connection in the Python host. */
  readonly peers = new Map<number, number>();
  refuseNewConnections = false;

  private constructor(readonly py: PyPeer) {}

  /**
   * create_server(port 0, maxClients, maxChannels, in (ignored), outBandwidth), bound to 127.0.0.1
   * (libenet 1.3.17 is IPv4-only): channel limit 0 (255), and the incoming bandwidth slot holds
   * maxChannels + 2 when maxChannels > 0 (issue #123254), as a real Godot 4 server does.
   */
  static async start(options: { maxClients?: number; maxChannels?: number; outBandwidth?: number } = {}): Promise<GodotServerEmulation> {
    const py = await PyPeer.start();
    const maxChannels = options.maxChannels ?? 0;
    try {
      const reply = await py.request({
        op: 'host',
        bind: '127.0.0.1',
        port: 0,
        peers: options.maxClients ?? 32,
        channels: 0,
        in: maxChannels > 0 ? maxChannels + 2 : 0,
        out: options.outBandwidth ?? 0,
      });
      const server = new GodotServerEmulation(py);
      server.port = reply.port as number;
      return server;
    } catch (err) {
      await py.close();
      throw err;
    }
  }

  /**
   * Waits for the next ENet CONNECT and applies Godot's admission (§2.4): refused, id < 2 or an id
   * already in use -> reset (silently, nothing sent); otherwise the id is admitted.
   */
  async admit(pump: () => void, timeoutMs = 5000): Promise<Admission> {
    const e = await this.py.waitEvent((x) => x.ev === 'connect', timeoutMs, pump);
    if (e.ev !== 'connect') throw new Error('unreachable');
    const id = e.data >>> 0;
    const admitted = !this.refuseNewConnections && id >= 2 && id <= 0x7fffffff && !this.peers.has(id);
    if (admitted) this.peers.set(id, e.peer);
    else await this.py.request({ op: 'reset', peer: e.peer });
    return { key: e.peer, id, channels: e.channels, admitted };
  }

  /** put_packet to `target` (0 = every admitted client, -id = all but id, id = that one). */
  async put(data: Uint8Array, mode: Mode = MODE.RELIABLE, transferChannel = 0, target = 0): Promise<void> {
    const keys = [...this.peers].filter(([id]) => (target === 0 ? true : target < 0 ? id !== -target : id === target));
    if (target > 0 && keys.length === 0) throw new Error(`no client ${target}`);
    for (const [, key] of keys) {
      await this.py.request({
        op: 'send',
        peer: key,
        channel: godotEnetChannel(mode, transferChannel),
        flags: GODOT_FLAGS[mode],
        data: b64(data),
      });
    }
  }

  idOfKey(key: number): number {
    for (const [id, k] of this.peers) if (k === key) return id;
    return 0;
  }

  /** Next packet from an admitted client matching `pred`; `from` is the client's id. */
  async get(pump: () => void, pred: (p: GodotPacket) => boolean = () => true, timeoutMs = 5000): Promise<GodotPacket> {
    const e = await this.py.waitEvent(
      (x) => isReceive(x) && this.idOfKey(x.peer) !== 0 && pred(toGodotPacket(x, this.idOfKey(x.peer))),
      timeoutMs,
      pump,
    );
    return toGodotPacket(e as PyReceiveEvent, this.idOfKey((e as PyReceiveEvent).peer));
  }

  /** disconnect_peer(id): a graceful DISCONNECT with data 0. */
  async disconnectPeer(id: number): Promise<void> {
    const key = this.peers.get(id);
    if (key === undefined) throw new Error(`no client ${id}`);
    await this.py.request({ op: 'disconnect', peer: key, data: 0, mode: 'normal' });
  }

  close(): Promise<void> {
    return this.py.close();
  }
}

// ------------------------------------------------------------------------------------------------
// ENet 1.3 datagrams (spec §3.3), as the reference peer's `capture` op reports them.

export { CMD as ENET_CMD, FLAG_ACKNOWLEDGE as ENET_CMD_FLAG_ACKNOWLEDGE, FLAG_UNSEQUENCED as ENET_CMD_FLAG_UNSEQUENCED } from './enet-wire';

export interface EnetCommand {
  /** Command type (low nibble). */
  type: number;
  /** The ACKNOWLEDGE (0x80) / UNSEQUENCED (0x40) bits. */
  flags: number;
  channel: number;
  reliableSequenceNumber: number;
  /** The command's bytes, header included. */
  bytes: Buffer;
  /** Application payload of SEND_* commands. */
  payload?: Buffer;
}

export interface EnetDatagram {
  peerId: number;
  sessionId: number;
  compressed: boolean;
  sentTime?: number;
  commands: EnetCommand[];
}

const SEND_COMMANDS: readonly number[] = [CMD.SEND_RELIABLE, CMD.SEND_UNRELIABLE, CMD.SEND_FRAGMENT, CMD.SEND_UNSEQUENCED, CMD.SEND_UNRELIABLE_FRAGMENT];

/**
 * Parses an uncompressed, checksum-less ENet datagram (what Godot puts on the wire, G12); unlike
 * enet-wire's parseDatagram, which it builds on, it throws unless every byte belongs to a command.
 */
export function parseEnetDatagram(buf: Buffer): EnetDatagram {
  const parsed = parseDatagram(buf);
  if (parsed === null) throw new Error(`datagram of ${buf.length} bytes`);
  const out: EnetDatagram = { peerId: parsed.peerID, sessionId: parsed.session, compressed: parsed.compressed, commands: [] };
  if (parsed.sentTime !== undefined) out.sentTime = parsed.sentTime;
  if (parsed.compressed) return out;
  let end = parsed.sentTime === undefined ? 2 : 4;
  for (const c of parsed.commands) {
    const cmd: EnetCommand = { type: c.type, flags: c.flags & 0xc0, channel: c.channel, reliableSequenceNumber: c.seq, bytes: c.bytes };
    if (SEND_COMMANDS.includes(c.type)) cmd.payload = c.data;
    out.commands.push(cmd);
    end += c.bytes.length;
  }
  if (end !== buf.length) throw new Error(`malformed or unknown ENet command at byte ${end} of ${buf.length}`);
  return out;
}

/** Every command of every datagram the PyPeer captured so far (optionally only from `port`). */
export function capturedCommands(py: PyPeer, fromPort?: number): EnetCommand[] {
  const out: EnetCommand[] = [];
  for (const e of py.events) {
    if (e.ev !== 'datagram' || (fromPort !== undefined && e.port !== fromPort)) continue;
    out.push(...parseEnetDatagram(Buffer.from(e.data, 'base64')).commands);
  }
  return out;
}

/** Fields of a CONNECT command (§3.4). */
export function connectFields(cmd: EnetCommand): { mtu: number; windowSize: number; channelCount: number; incomingBandwidth: number; outgoingBandwidth: number; data: number } {
  if (cmd.type !== CMD.CONNECT) throw new Error(`not a CONNECT: ${cmd.type}`);
  const b = cmd.bytes;
  return {
    mtu: b.readUInt32BE(8),
    windowSize: b.readUInt32BE(12),
    channelCount: b.readUInt32BE(16),
    incomingBandwidth: b.readUInt32BE(20),
    outgoingBandwidth: b.readUInt32BE(24),
    data: b.readUInt32BE(44),
  };
}

/** Fields of a VERIFY_CONNECT command (§3.4). */
export function verifyConnectFields(cmd: EnetCommand): { mtu: number; windowSize: number; channelCount: number; incomingBandwidth: number; outgoingBandwidth: number } {
  if (cmd.type !== CMD.VERIFY_CONNECT) throw new Error(`not a VERIFY_CONNECT: ${cmd.type}`);
  const b = cmd.bytes;
  return {
    mtu: b.readUInt32BE(8),
    windowSize: b.readUInt32BE(12),
    channelCount: b.readUInt32BE(16),
    incomingBandwidth: b.readUInt32BE(20),
    outgoingBandwidth: b.readUInt32BE(24),
  };
}

/** The data field of a DISCONNECT command. */
export function disconnectData(cmd: EnetCommand): number {
  if (cmd.type !== CMD.DISCONNECT) throw new Error(`not a DISCONNECT: ${cmd.type}`);
  return cmd.bytes.readUInt32BE(4);
}
