/**
 * A minimal, hand-written ENet 1.3.x wire client on a node dgram socket, for crafting datagrams that
 * no real ENet would send (godot4-enet.md §3.3 is the reference for every byte here).
 *
 * Datagram: u16 peerID (bits 0-11 peer id, 0xFFF = none yet; bits 12-13 session; 0x4000 compressed;
 * 0x8000 sentTime present), [u16 sentTime], then commands. Every command starts with a 4-byte header
 * u8 command (low nibble type, 0x80 ACKNOWLEDGE flag, 0x40 UNSEQUENCED flag), u8 channelID,
 * u16 reliableSequenceNumber. All fields big-endian except connectID, which is opaque and echoed.
 *
 * It does just enough to be a peer: CONNECT, read VERIFY_CONNECT, acknowledge it, and afterwards
 * acknowledge every reliable command the remote sends (so the remote never times us out while a test
 * runs). Everything else is sent by the test, command by command.
 */
import * as dgram from 'dgram';
import { randomBytes } from 'crypto';

export const CMD = {
  ACKNOWLEDGE: 1,
  CONNECT: 2,
  VERIFY_CONNECT: 3,
  DISCONNECT: 4,
  PING: 5,
  SEND_RELIABLE: 6,
  SEND_UNRELIABLE: 7,
  SEND_FRAGMENT: 8,
  SEND_UNSEQUENCED: 9,
  BANDWIDTH_LIMIT: 10,
  THROTTLE_CONFIGURE: 11,
  SEND_UNRELIABLE_FRAGMENT: 12,
} as const;

export const FLAG_ACKNOWLEDGE = 0x80;
export const FLAG_UNSEQUENCED = 0x40;
export const HEADER_COMPRESSED = 0x4000;
export const HEADER_SENT_TIME = 0x8000;
export const NO_PEER = 0xfff;

/** Fixed size of each command, header included (data of SEND_* follows). Index = command type. */
export const COMMAND_SIZE = [0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24];

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v & 0xffff);
  return b;
}

function commandHeader(command: number, channel: number, reliableSeq: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt8(command & 0xff, 0);
  b.writeUInt8(channel & 0xff, 1);
  b.writeUInt16BE(reliableSeq & 0xffff, 2);
  return b;
}

export interface ConnectFields {
  outgoingPeerID?: number;
  incomingSessionID?: number;
  outgoingSessionID?: number;
  mtu?: number;
  windowSize?: number;
  channelCount?: number;
  incomingBandwidth?: number;
  outgoingBandwidth?: number;
  throttleInterval?: number;
  throttleAcceleration?: number;
  throttleDeceleration?: number;
  connectID?: Buffer; // 4 raw bytes
  data?: number;
}

/** CONNECT (48 B), acknowledge flag set, channel 0xFF, reliable sequence 1 (as ENet's first command). */
export function connectCommand(f: ConnectFields, connectID: Buffer): Buffer {
  const b = Buffer.alloc(48);
  commandHeader(CMD.CONNECT | FLAG_ACKNOWLEDGE, 0xff, 1).copy(b, 0);
  b.writeUInt16BE(f.outgoingPeerID ?? 0, 4);
  b.writeUInt8(f.incomingSessionID ?? 0xff, 6);
  b.writeUInt8(f.outgoingSessionID ?? 0xff, 7);
  b.writeUInt32BE(f.mtu ?? 1392, 8);
  b.writeUInt32BE(f.windowSize ?? 65536, 12);
  b.writeUInt32BE(f.channelCount ?? 8, 16);
  b.writeUInt32BE(f.incomingBandwidth ?? 0, 20);
  b.writeUInt32BE(f.outgoingBandwidth ?? 0, 24);
  b.writeUInt32BE(f.throttleInterval ?? 5000, 28);
  b.writeUInt32BE(f.throttleAcceleration ?? 2, 32);
  b.writeUInt32BE(f.throttleDeceleration ?? 2, 36);
  connectID.copy(b, 40, 0, 4);
  b.writeUInt32BE((f.data ?? 0) >>> 0, 44);
  return b;
}

/** ACKNOWLEDGE (8 B) of the command `seq` on `channel`, echoing the sentTime of its datagram. */
export function ackCommand(channel: number, seq: number, sentTime: number): Buffer {
  return Buffer.concat([commandHeader(CMD.ACKNOWLEDGE, channel, seq), u16(seq), u16(sentTime)]);
}

/** PING (4 B), reliable on the control channel 0xFF. */
export function pingCommand(seq: number): Buffer {
  return commandHeader(CMD.PING | FLAG_ACKNOWLEDGE, 0xff, seq);
}

export function sendReliableCommand(channel: number, seq: number, data: Buffer): Buffer {
  return Buffer.concat([commandHeader(CMD.SEND_RELIABLE | FLAG_ACKNOWLEDGE, channel, seq), u16(data.length), data]);
}

export function sendUnreliableCommand(channel: number, reliableSeq: number, unreliableSeq: number, data: Buffer): Buffer {
  return Buffer.concat([commandHeader(CMD.SEND_UNRELIABLE, channel, reliableSeq), u16(unreliableSeq), u16(data.length), data]);
}

export interface FragmentFields {
  /** true: SEND_FRAGMENT (reliable, ACK flag); false: SEND_UNRELIABLE_FRAGMENT. */
  reliable: boolean;
  channel: number;
  /** Header reliableSequenceNumber: this fragment's own sequence (reliable), or the channel's current
   *  reliable sequence (unreliable). */
  reliableSeq: number;
  /** Sequence number of the first fragment (reliable) / unreliable sequence of the packet. */
  startSeq: number;
  fragmentCount: number;
  fragmentNumber: number;
  totalLength: number;
  fragmentOffset: number;
  data: Buffer;
  /** The dataLength field; defaults to data.length (set it to lie). */
  dataLength?: number;
}

/** SEND_FRAGMENT / SEND_UNRELIABLE_FRAGMENT (24 B + data). */
export function fragmentCommand(f: FragmentFields): Buffer {
  const b = Buffer.alloc(24);
  const type = f.reliable ? CMD.SEND_FRAGMENT | FLAG_ACKNOWLEDGE : CMD.SEND_UNRELIABLE_FRAGMENT;
  commandHeader(type, f.channel, f.reliableSeq).copy(b, 0);
  b.writeUInt16BE(f.startSeq & 0xffff, 4);
  b.writeUInt16BE((f.dataLength ?? f.data.length) & 0xffff, 6);
  b.writeUInt32BE(f.fragmentCount >>> 0, 8);
  b.writeUInt32BE(f.fragmentNumber >>> 0, 12);
  b.writeUInt32BE(f.totalLength >>> 0, 16);
  b.writeUInt32BE(f.fragmentOffset >>> 0, 20);
  return Buffer.concat([b, f.data]);
}

/**
 * Splits `payload` into fragment commands exactly as ENet does (fragment size = mtu - 4 - 24 with a
 * sentTime header and no checksum).
 */
export function fragmentPacket(opts: { reliable: boolean; channel: number; startSeq: number; reliableSeq?: number;
  payload: Buffer; fragmentSize: number }): Buffer[] {
  const count = Math.ceil(opts.payload.length / opts.fragmentSize);
  const out: Buffer[] = [];
  for (let n = 0, offset = 0; n < count; n++, offset += opts.fragmentSize) {
    const data = opts.payload.subarray(offset, Math.min(offset + opts.fragmentSize, opts.payload.length));
    out.push(fragmentCommand({
      reliable: opts.reliable,
      channel: opts.channel,
      reliableSeq: opts.reliable ? opts.startSeq + n : (opts.reliableSeq ?? 0),
      startSeq: opts.startSeq,
      fragmentCount: count,
      fragmentNumber: n,
      totalLength: opts.payload.length,
      fragmentOffset: offset,
      data,
    }));
  }
  return out;
}

export interface ParsedCommand {
  type: number;
  flags: number;
  channel: number;
  seq: number;
  /** The whole command, fixed part and data. */
  bytes: Buffer;
  /** SEND_* payload. */
  data?: Buffer;
}

export interface ParsedDatagram {
  peerID: number;
  session: number;
  compressed: boolean;
  sentTime?: number;
  commands: ParsedCommand[];
}

/** Parses an uncompressed, checksum-less ENet datagram; stops at the first malformed command. */
export function parseDatagram(msg: Buffer): ParsedDatagram | null {
  if (msg.length < 2) return null;
  const field = msg.readUInt16BE(0);
  const hasTime = (field & HEADER_SENT_TIME) !== 0;
  const out: ParsedDatagram = {
    peerID: field & 0xfff,
    session: (field >> 12) & 3,
    compressed: (field & HEADER_COMPRESSED) !== 0,
    commands: [],
  };
  let at = 2;
  if (hasTime) {
    if (msg.length < 4) return null;
    out.sentTime = msg.readUInt16BE(2);
    at = 4;
  }
  if (out.compressed) return out;
  while (at + 4 <= msg.length) {
    const type = msg[at] & 0x0f;
    const size = COMMAND_SIZE[type] ?? 0;
    if (size === 0 || at + size > msg.length) break;
    let dataLength = 0;
    let dataAt = at + size;
    if (type === CMD.SEND_RELIABLE) dataLength = msg.readUInt16BE(at + 4);
    else if (type === CMD.SEND_UNRELIABLE || type === CMD.SEND_UNSEQUENCED) dataLength = msg.readUInt16BE(at + 6);
    else if (type === CMD.SEND_FRAGMENT || type === CMD.SEND_UNRELIABLE_FRAGMENT) dataLength = msg.readUInt16BE(at + 6);
    if (dataAt + dataLength > msg.length) break;
    out.commands.push({
      type,
      flags: msg[at] & 0xf0,
      channel: msg[at + 1],
      seq: msg.readUInt16BE(at + 2),
      bytes: msg.subarray(at, dataAt + dataLength),
      data: dataLength > 0 || type >= CMD.SEND_RELIABLE ? msg.subarray(dataAt, dataAt + dataLength) : undefined,
    });
    at = dataAt + dataLength;
  }
  return out;
}

export interface VerifyConnect {
  /** The remote's slot for us: goes into the peerID field of everything we send. */
  outgoingPeerID: number;
  incomingSessionID: number;
  /** Session bits we must put in our headers. */
  outgoingSessionID: number;
  mtu: number;
  windowSize: number;
  channelCount: number;
  incomingBandwidth: number;
  outgoingBandwidth: number;
  throttleInterval: number;
  throttleAcceleration: number;
  throttleDeceleration: number;
  connectID: Buffer;
}

export function parseVerifyConnect(cmd: ParsedCommand): VerifyConnect {
  const b = cmd.bytes;
  return {
    outgoingPeerID: b.readUInt16BE(4),
    incomingSessionID: b[6],
    outgoingSessionID: b[7],
    mtu: b.readUInt32BE(8),
    windowSize: b.readUInt32BE(12),
    channelCount: b.readUInt32BE(16),
    incomingBandwidth: b.readUInt32BE(20),
    outgoingBandwidth: b.readUInt32BE(24),
    throttleInterval: b.readUInt32BE(28),
    throttleAcceleration: b.readUInt32BE(32),
    throttleDeceleration: b.readUInt32BE(36),
    connectID: Buffer.from(b.subarray(40, 44)),
  };
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

export class EnetWireClient {
  /** Every datagram received from the remote, parsed, in order. */
  readonly received: ParsedDatagram[] = [];
  /** Datagrams sent by us. */
  sentDatagrams = 0;
  /** ACKNOWLEDGE commands received, by acknowledged reliable sequence number (channel 0xFF only). */
  readonly controlAcks = new Set<number>();
  /** Every ACKNOWLEDGE received: [channel, acknowledged sequence]. */
  readonly acks: Array<[number, number]> = [];
  verify: VerifyConnect | null = null;
  /** Acknowledge reliable commands from the remote automatically (on by default). */
  autoAck = true;

  private readonly epoch = Date.now();
  private remotePort = 0;
  private remoteAddress = '127.0.0.1';

  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg) => this.onMessage(msg));
  }

  /** A client on 127.0.0.1 (udp4), on an ephemeral port. */
  static async create(): Promise<EnetWireClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new EnetWireClient(socket);
  }

  get localPort(): number {
    return this.socket.address().port;
  }

  /** Low 16 bits of our ms clock, for the sentTime field. */
  now16(): number {
    return (Date.now() - this.epoch + 1) & 0xffff;
  }

  private onMessage(msg: Buffer): void {
    const parsed = parseDatagram(msg);
    if (parsed === null) return;
    this.received.push(parsed);
    const acks: Buffer[] = [];
    for (const c of parsed.commands) {
      if (c.type === CMD.VERIFY_CONNECT && this.verify === null) this.verify = parseVerifyConnect(c);
      if (c.type === CMD.ACKNOWLEDGE) {
        const acked = c.bytes.readUInt16BE(4);
        this.acks.push([c.channel, acked]);
        if (c.channel === 0xff) this.controlAcks.add(acked);
      }
      if ((c.flags & FLAG_ACKNOWLEDGE) !== 0 && parsed.sentTime !== undefined && this.autoAck && this.verify !== null) {
        acks.push(ackCommand(c.channel, c.seq, parsed.sentTime));
      }
    }
    // ENet puts at most 32 commands in a datagram; acks are 8 bytes, well under any MTU.
    for (let i = 0; i < acks.length; i += 32) this.sendCommands(acks.slice(i, i + 32));
  }

  /** Sends one datagram with an explicit peerID field (flags and session included) and commands. */
  sendRaw(peerIDField: number, commands: Buffer[], sentTime = true): void {
    const header = sentTime ? Buffer.concat([u16(peerIDField | HEADER_SENT_TIME), u16(this.now16())]) : u16(peerIDField);
    this.sendBytes(Buffer.concat([header, ...commands]));
  }

  /** Sends arbitrary bytes to the remote. */
  sendBytes(bytes: Buffer): void {
    this.sentDatagrams++;
    this.socket.send(bytes, this.remotePort, this.remoteAddress);
  }

  /** Sends commands as the connected peer: peerID and session from VERIFY_CONNECT, with sentTime. */
  sendCommands(commands: Buffer[]): void {
    if (this.verify === null) throw new Error('not connected');
    const field = (this.verify.outgoingPeerID & 0xfff) | ((this.verify.outgoingSessionID & 3) << 12);
    this.sendRaw(field, commands);
  }

  /**
   * CONNECT, wait for VERIFY_CONNECT (calling `pump` meanwhile, so an in-process server can answer),
   * which is acknowledged as soon as it arrives. The remote's CONNECT event follows on its next service.
   */
  async connect(port: number, fields: ConnectFields, pump: () => void, timeoutMs = 5000, address = '127.0.0.1'): Promise<VerifyConnect> {
    this.remotePort = port;
    this.remoteAddress = address;
    const connectID = fields.connectID ?? randomBytes(4);
    this.sendRaw(NO_PEER, [connectCommand(fields, connectID)]);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      pump();
      const v = this.verify as VerifyConnect | null;
      if (v !== null) {
        if (!v.connectID.equals(connectID)) throw new Error('VERIFY_CONNECT echoes a different connectID');
        // onMessage has already acknowledged the VERIFY_CONNECT (auto-ack starts with it).
        return v;
      }
      if (Date.now() > deadline) throw new Error(`no VERIFY_CONNECT within ${timeoutMs} ms`);
      await tick();
    }
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
