/**
 * A network fuzzer for ENet servers: it sends a server datagrams no honest peer would send, while a
 * legitimate client streams reliable data through it, and reports what the server survived.
 *
 * Datagram kinds (see KINDS): random bytes, short and empty datagrams, oversized ones, truncated
 * commands, bogus peer ids and session bits, forged CONNECTs, fragment commands with absurd counts,
 * numbers, offsets and lengths, compressed-flag garbage, random command sequences, and mutations and
 * replays of traffic captured from the legitimate client (through tools/impair-proxy.ts's tap).
 *
 * Sources: "off-path" sockets (any local address and port, as anyone on the internet) and "sessions":
 * connections the fuzzer itself opens with a hand-written ENet client (test/helpers/enet-wire.ts), so
 * its datagrams carry a valid peer id, session and address and reach ENet's command handlers, not only
 * its header checks. Sessions that die are replaced.
 *
 * Programmatic: runFuzz(options) (tools/reliability.ts and test/net-fuzz.test.ts use it).
 * CLI: node tools/ts-run.js tools/net-fuzz.ts [--datagrams N] [--seconds S] [--seed N] [--compress 0|1]
 */
import { integer, number, parseCli } from './cli';
import * as dgram from 'dgram';
import {
  CMD,
  COMMAND_SIZE,
  EnetWireClient,
  HEADER_COMPRESSED,
  HEADER_SENT_TIME,
  NO_PEER,
  connectCommand,
  parseDatagram,
} from '../test/helpers/enet-wire';
import { ENetConnection, EventType, GodotError, PeerState } from '../src';
import { Child, MiB, mib, sleep, spawnPeer, yieldLoop } from './harness';
import { Direction, ImpairProxy, Prng } from './impair-proxy';

// ------------------------------------------------------------------------------------------------
// Generators

export type Kind =
  | 'random'
  | 'empty'
  | 'short'
  | 'oversized'
  | 'header'
  | 'truncated'
  | 'bogus-peer'
  | 'forged-connect'
  | 'connect-variant'
  | 'fragment'
  | 'compressed'
  | 'commands'
  | 'mutated'
  | 'replay';

/** Default mix (relative weights). */
export const KINDS: Record<Kind, number> = {
  random: 8,
  empty: 2,
  short: 3,
  oversized: 1,
  header: 4,
  truncated: 6,
  'bogus-peer': 8,
  'forged-connect': 1,
  'connect-variant': 2,
  fragment: 14,
  compressed: 6,
  commands: 16,
  mutated: 24,
  replay: 4,
};

const U8 = [0, 1, 2, 0x7f, 0x80, 0xfe, 0xff];
const U16 = [0, 1, 2, 0x7fff, 0x8000, 0xfffe, 0xffff, 0x0fff, 0x1000, 0x3fff, 4096];
const U32 = [
  0, 1, 2, 3, 31, 32, 33, 575, 576, 1392, 4096, 4097, 65535, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
  1 << 20, (1 << 20) + 1, 32 * MiB, 32 * MiB + 1,
];

/** Where a generated datagram must be sent from. */
export interface Target {
  /** The connected fuzz session it is for, if any (its peer id, session bits and channel count). */
  session: { peerID: number; sessionBits: number; channels: number } | null;
}

export class Generator {
  readonly rng: Prng;
  /** Valid datagrams captured from real traffic, the raw material of `mutated` and `replay`. */
  readonly captured: Buffer[] = [];
  #capturedSeen = 0;
  readonly #weights: Array<[Kind, number]>;
  readonly #total: number;

  constructor(seed: number, weights: Partial<Record<Kind, number>> = {}, readonly maxCaptured = 4000) {
    this.rng = new Prng(seed);
    const w = { ...KINDS, ...weights };
    this.#weights = (Object.entries(w) as Array<[Kind, number]>).filter(([, x]) => x > 0);
    this.#total = this.#weights.reduce((a, [, x]) => a + x, 0);
  }

  /** Offers a captured datagram (reservoir sampling keeps a bounded, uniform sample). */
  capture(data: Buffer): void {
    this.#capturedSeen++;
    if (this.captured.length < this.maxCaptured) this.captured.push(Buffer.from(data));
    else {
      const j = this.rng.int(this.#capturedSeen);
      if (j < this.maxCaptured) this.captured[j] = Buffer.from(data);
    }
  }

  pickKind(): Kind {
    let x = this.rng.next() * this.#total;
    for (const [kind, w] of this.#weights) {
      x -= w;
      if (x < 0) return kind;
    }
    return this.#weights[this.#weights.length - 1][0];
  }

  u8(): number {
    return this.rng.chance(0.5) ? U8[this.rng.int(U8.length)] : this.rng.int(256);
  }
  u16(): number {
    return this.rng.chance(0.5) ? U16[this.rng.int(U16.length)] : this.rng.int(65536);
  }
  u32(): number {
    return this.rng.chance(0.5) ? U32[this.rng.int(U32.length)] : Math.floor(this.rng.next() * 4294967296) >>> 0;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.rng.int(256);
    return b;
  }

  /** The 2- or 4-byte datagram header. */
  header(peerID: number, sessionBits: number, opts: { compressed?: boolean; sentTime?: boolean } = {}): Buffer {
    const sentTime = opts.sentTime ?? this.rng.chance(0.9);
    const field = (peerID & 0xfff) | ((sessionBits & 3) << 12) | (opts.compressed ? HEADER_COMPRESSED : 0) | (sentTime ? HEADER_SENT_TIME : 0);
    const b = Buffer.alloc(sentTime ? 4 : 2);
    b.writeUInt16BE(field, 0);
    if (sentTime) b.writeUInt16BE(this.u16(), 2);
    return b;
  }

  #headerFor(t: Target, opts: { compressed?: boolean; sentTime?: boolean } = {}): Buffer {
    if (t.session !== null && this.rng.chance(0.9)) return this.header(t.session.peerID, t.session.sessionBits, opts);
    return this.header(this.rng.chance(0.3) ? NO_PEER : this.rng.int(4096), this.rng.int(4), opts);
  }

  #channel(t: Target): number {
    if (t.session !== null && this.rng.chance(0.85)) return this.rng.int(t.session.channels);
    return this.rng.chance(0.5) ? 0xff : this.u8();
  }

  /** One command of type `type` with random (often extreme) fields, data included for SEND_*. */
  command(type: number, t: Target): Buffer {
    const size = type < COMMAND_SIZE.length && COMMAND_SIZE[type] > 0 ? COMMAND_SIZE[type] : 4 + this.rng.int(40);
    const b = Buffer.alloc(size);
    let flags = 0;
    if (this.rng.chance(0.5)) flags |= 0x80;
    if (this.rng.chance(0.1)) flags |= 0x40;
    b[0] = (type & 0x0f) | flags;
    b[1] = type === CMD.CONNECT || type === CMD.PING || type === CMD.DISCONNECT ? (this.rng.chance(0.8) ? 0xff : this.u8()) : this.#channel(t);
    b.writeUInt16BE(this.u16(), 2);
    for (let at = 4; at + 4 <= size; at += 4) b.writeUInt32BE(this.u32(), at);
    if (size % 4 === 2) b.writeUInt16BE(this.u16(), size - 2);
    let data: Buffer | null = null;
    const dataLen = this.rng.chance(0.7) ? this.rng.int(this.rng.chance(0.9) ? 64 : 1400) : 0;
    const lie = this.rng.chance(0.15);
    if (type === CMD.SEND_RELIABLE) {
      b.writeUInt16BE(lie ? this.u16() : dataLen, 4);
      data = this.bytes(dataLen);
    } else if (type === CMD.SEND_UNRELIABLE || type === CMD.SEND_UNSEQUENCED) {
      b.writeUInt16BE(lie ? this.u16() : dataLen, 6);
      data = this.bytes(dataLen);
    } else if (type === CMD.SEND_FRAGMENT || type === CMD.SEND_UNRELIABLE_FRAGMENT) {
      return this.fragment(t, type === CMD.SEND_FRAGMENT);
    }
    return data === null ? b : Buffer.concat([b, data]);
  }

  /** A fragment command, mostly with one absurd field. */
  fragment(t: Target, reliable = this.rng.chance(0.5)): Buffer {
    const b = Buffer.alloc(24);
    b[0] = reliable ? CMD.SEND_FRAGMENT | 0x80 : CMD.SEND_UNRELIABLE_FRAGMENT;
    if (this.rng.chance(0.1)) b[0] ^= 0x80;
    b[1] = this.#channel(t);
    const startSeq = this.rng.chance(0.5) ? 1 + this.rng.int(64) : this.u16();
    b.writeUInt16BE(reliable ? (startSeq + this.rng.int(4)) & 0xffff : this.u16(), 2);
    let count = 1 + this.rng.int(64);
    let total = count * (1 + this.rng.int(1364));
    let number = this.rng.int(count);
    let offset = Math.min(total - 1, number * Math.floor(total / count));
    let dataLen = Math.max(1, Math.min(1364, total - offset, this.rng.int(200) + 1));
    let lieLength: number | null = null;
    switch (this.rng.int(14)) {
      case 0: count = 0; break;
      case 1: count = this.rng.chance(0.5) ? (1 << 20) + 1 : 0xffffffff; break;
      case 2: number = count + this.rng.int(1000); break;
      case 3: offset = total + this.rng.int(1000); break;
      case 4: offset = total - 1; dataLen = Math.min(1364, 2 + this.rng.int(100)); break; // overruns the end
      case 5: total = 32 * MiB + 1 + this.rng.int(1000); break;
      case 6: total = Math.max(0, count - 1 - this.rng.int(count)); break;
      case 7: lieLength = this.u16(); break;
      case 8: dataLen = 0; break;
      case 9: count = 1 << 20; total = 32 * MiB; number = this.rng.int(count); offset = Math.min(total - 1, number * 32); break; // legal, huge
      case 10: offset = 0xffffffff - this.rng.int(100); break;
      case 11: number = 0xffffffff; break;
      case 12: total = 0; break;
      default: break; // a plausible fragment (consistent fields) that may clash with others of its packet
    }
    b.writeUInt16BE(startSeq, 4);
    b.writeUInt16BE(lieLength ?? dataLen, 6);
    b.writeUInt32BE(count >>> 0, 8);
    b.writeUInt32BE(number >>> 0, 12);
    b.writeUInt32BE(total >>> 0, 16);
    b.writeUInt32BE(offset >>> 0, 20);
    return Buffer.concat([b, this.bytes(Math.max(0, Math.min(dataLen, 1400)))]);
  }

  /** A datagram of `kind` for target `t`. */
  generate(kind: Kind, t: Target): Buffer {
    const r = this.rng;
    switch (kind) {
      case 'random':
        return this.bytes(r.chance(0.5) ? 1 + r.int(64) : 1 + r.int(1500));
      case 'empty':
        return Buffer.alloc(0);
      case 'short':
        return this.bytes(1 + r.int(5));
      case 'oversized':
        return this.bytes(r.chance(0.5) ? 4097 + r.int(100) : 4097 + r.int(9000));
      case 'header': {
        const h = this.#headerFor(t, { compressed: r.chance(0.2) });
        return Buffer.concat([h, this.bytes(r.int(4))]);
      }
      case 'truncated': {
        const full = Buffer.concat([this.#headerFor(t), this.command(1 + r.int(12), t)]);
        return full.subarray(0, Math.max(1, r.int(full.length)));
      }
      case 'bogus-peer': {
        // A real-looking command under a peer id and session bits we do not own.
        const h = this.header(r.chance(0.5) ? r.int(64) : r.int(4096), r.int(4));
        const cmds: Buffer[] = [];
        for (let i = 1 + r.int(3); i > 0; i--) cmds.push(this.command([CMD.ACKNOWLEDGE, CMD.DISCONNECT, CMD.PING, CMD.SEND_RELIABLE, CMD.SEND_UNRELIABLE, CMD.SEND_FRAGMENT, CMD.BANDWIDTH_LIMIT, CMD.THROTTLE_CONFIGURE][r.int(8)], { session: null }));
        return Buffer.concat([h, ...cmds]);
      }
      case 'forged-connect': {
        // Mostly CONNECTs ENet must refuse outright (the storm of valid ones is tools/floods.ts's job:
        // each valid one takes a peer slot for up to 30 s, which would leave the fuzz sessions none).
        const id = this.bytes(4);
        const sane = r.chance(0.05);
        const badChannels = [0, 256, 0xffff, 0xffffffff, 0x80000000][r.int(5)];
        const c = connectCommand(sane ? { channelCount: 1 + r.int(255), data: this.u32() } : {
          outgoingPeerID: this.u16(), incomingSessionID: this.u8(), outgoingSessionID: this.u8(), mtu: this.u32(),
          windowSize: this.u32(), channelCount: r.chance(0.8) ? badChannels : this.u32(), incomingBandwidth: this.u32(),
          outgoingBandwidth: this.u32(), throttleInterval: this.u32(), throttleAcceleration: this.u32(),
          throttleDeceleration: this.u32(), data: this.u32(),
        }, id);
        return Buffer.concat([this.header(NO_PEER, r.int(4), { sentTime: r.chance(0.95) }), c]);
      }
      case 'connect-variant': {
        // CONNECT where it does not belong: with trailing commands, under a real peer id, twice, truncated.
        const c = connectCommand({ channelCount: 1 + r.int(255) }, this.bytes(4));
        switch (r.int(4)) {
          case 0: return Buffer.concat([this.header(NO_PEER, 0), c, this.command(1 + r.int(12), t)]);
          case 1: return Buffer.concat([this.#headerFor(t), c]);
          case 2: return Buffer.concat([this.header(NO_PEER, 0), c, c]);
          default: return Buffer.concat([this.header(NO_PEER, 0), c.subarray(0, r.int(48))]);
        }
      }
      case 'fragment': {
        const cmds: Buffer[] = [];
        for (let i = 1 + (r.chance(0.2) ? r.int(6) : 0); i > 0; i--) cmds.push(this.fragment(t));
        return Buffer.concat([this.#headerFor(t), ...cmds]);
      }
      case 'compressed': {
        if (this.captured.length > 0 && r.chance(0.5)) {
          const base = this.#retarget(Buffer.from(this.captured[r.int(this.captured.length)]), t);
          base.writeUInt16BE(base.readUInt16BE(0) | HEADER_COMPRESSED, 0);
          return this.mutate(base, 1 + r.int(2), t, true);
        }
        return Buffer.concat([this.#headerFor(t, { compressed: true }), this.bytes(r.int(r.chance(0.8) ? 64 : 1400))]);
      }
      case 'commands': {
        const cmds: Buffer[] = [];
        for (let i = 1 + (r.chance(0.1) ? 32 + r.int(16) : r.int(6)); i > 0; i--) {
          cmds.push(this.command(r.chance(0.05) ? [0, 13, 14, 15][r.int(4)] : 1 + r.int(12), t));
        }
        return Buffer.concat([this.#headerFor(t), ...cmds]).subarray(0, 4096);
      }
      case 'mutated': {
        if (this.captured.length === 0) return this.generate('commands', t);
        const base = this.#retarget(Buffer.from(this.captured[r.int(this.captured.length)]), t);
        return this.mutate(base, 1 + r.int(3), t);
      }
      case 'replay': {
        if (this.captured.length === 0) return this.generate('commands', t);
        return this.#retarget(Buffer.from(this.captured[r.int(this.captured.length)]), t);
      }
    }
  }

  // Gives a captured datagram the session's peer id and session bits (keeping its flags), so it passes
  // the header checks; off-path it keeps the original (then only the address check stops it).
  #retarget(d: Buffer, t: Target): Buffer {
    if (d.length < 2 || t.session === null || this.rng.chance(0.1)) return d;
    const field = d.readUInt16BE(0);
    d.writeUInt16BE((field & 0xc000) | (t.session.peerID & 0xfff) | ((t.session.sessionBits & 3) << 12), 0);
    return d;
  }

  /** Applies `ops` random mutations. */
  mutate(input: Buffer, ops: number, t: Target, keepHeader = false): Buffer {
    let d = input;
    const r = this.rng;
    const headerLen = d.length >= 2 && (d.readUInt16BE(0) & HEADER_SENT_TIME) !== 0 ? 4 : 2;
    const from = keepHeader ? Math.min(d.length, headerLen) : 0;
    for (let n = 0; n < ops; n++) {
      if (d.length === 0) d = this.bytes(1 + r.int(8));
      const at = from + r.int(Math.max(1, d.length - from));
      switch (r.int(11)) {
        case 0: // bit flips
          for (let i = 1 + r.int(8); i > 0; i--) {
            const p = from + r.int(Math.max(1, d.length - from));
            if (p < d.length) d[p] ^= 1 << r.int(8);
          }
          break;
        case 1:
          if (at < d.length) d[at] = this.u8();
          break;
        case 2:
          if (at + 2 <= d.length) d.writeUInt16BE(this.u16(), at);
          break;
        case 3:
          if (at + 4 <= d.length) d.writeUInt32BE(this.u32(), at);
          break;
        case 4: // truncate
          d = d.subarray(0, Math.max(from, r.int(d.length + 1)));
          break;
        case 5: // append
          d = Buffer.concat([d, this.bytes(1 + r.int(r.chance(0.9) ? 32 : 1400))]);
          break;
        case 6: { // duplicate a range
          const start = from + r.int(Math.max(1, d.length - from));
          const piece = d.subarray(start, start + 1 + r.int(64));
          d = Buffer.concat([d.subarray(0, start), piece, d.subarray(start)]);
          break;
        }
        case 7: { // splice with another captured datagram
          if (this.captured.length === 0) break;
          const other = this.captured[r.int(this.captured.length)];
          const cut = r.int(other.length + 1);
          d = Buffer.concat([d.subarray(0, Math.max(from, r.int(d.length + 1))), other.subarray(cut)]);
          break;
        }
        case 8: { // change a command's type nibble or flags, at a real command boundary
          const parsed = d.length >= 2 && !keepHeader ? parseDatagram(d) : null;
          if (parsed !== null && parsed.commands.length > 0) {
            const c = parsed.commands[r.int(parsed.commands.length)];
            const off = c.bytes.byteOffset - d.byteOffset;
            d[off] = r.chance(0.5) ? (d[off] & 0xf0) | r.int(16) : d[off] ^ (r.chance(0.5) ? 0x80 : 0x40);
          }
          break;
        }
        case 9: { // toggle header flags
          if (d.length >= 2 && !keepHeader) d.writeUInt16BE(d.readUInt16BE(0) ^ (r.chance(0.5) ? HEADER_COMPRESSED : HEADER_SENT_TIME), 0);
          break;
        }
        default: { // append a random command
          d = Buffer.concat([d, this.command(1 + r.int(12), t)]);
          break;
        }
      }
    }
    return d.length > 4096 && r.chance(0.9) ? d.subarray(0, 4096) : d;
  }
}

// ------------------------------------------------------------------------------------------------
// Sessions: connections of the fuzzer's own, so that fuzz reaches the command handlers.

interface Session {
  readonly kind: 'wire' | 'enet';
  target: Target;
  /** Fuzz datagrams sent as this session. */
  sent: number;
  send(data: Buffer): void;
  /** Datagrams the session sent on its own (handshake, acknowledgements, pings). */
  control(): number;
  /** Still worth fuzzing through (the server has not dropped it). */
  alive(): boolean;
  /** Called often: services a real ENet session, bounds a wire session's logs. */
  pump(): void;
  close(): Promise<void>;
}

/** A hand-written ENet client (test/helpers/enet-wire.ts): needs an uncompressed server. */
async function openWireSession(port: number, rng: Prng): Promise<Session | null> {
  const wire = await EnetWireClient.create();
  let verify;
  try {
    verify = await wire.connect(port, { channelCount: 1 + rng.int(16), data: rng.int(0x7fffffff) }, () => undefined, 2000);
  } catch {
    await wire.close().catch(() => undefined);
    return null;
  }
  let lastHeard = Date.now();
  let heard = wire.received.length;
  const session: Session = {
    kind: 'wire',
    target: { session: { peerID: verify.outgoingPeerID, sessionBits: verify.outgoingSessionID & 3, channels: Math.max(1, verify.channelCount) } },
    sent: 0,
    send: (data) => {
      wire.sendBytes(data);
      session.sent++;
    },
    control: () => wire.sentDatagrams - session.sent,
    alive: () => Date.now() - lastHeard < 3000,
    pump: () => {
      if (wire.received.length !== heard) {
        lastHeard = Date.now();
        heard = wire.received.length;
      }
      // The wire client keeps everything it receives: keep it bounded.
      if (wire.received.length > 5000) {
        wire.received.length = 0;
        wire.acks.length = 0;
        wire.controlAcks.clear();
        heard = 0;
      }
    },
    close: () => wire.close(),
  };
  return session;
}

/**
 * A real ENet client of ours (so it speaks the server's compression) behind a transparent proxy:
 * fuzz is injected into the proxy's upstream socket for it, so it carries the client's address, and
 * the client's own datagrams tell its peer id and session bits.
 */
async function openEnetSession(proxy: ImpairProxy, headers: Map<number, number>, compress: number, rng: Prng): Promise<Session | null> {
  const host = new ENetConnection();
  if (host.createHost(1) !== GodotError.OK) return null;
  if (compress !== 0) host.compress(compress);
  const channels = 1 + rng.int(16);
  const peer = host.connectToHost('127.0.0.1', proxy.port, channels, rng.int(0x7fffffff));
  if (peer === null) {
    host.destroy();
    return null;
  }
  let dead = false;
  const pump = (): void => {
    if (dead) return;
    for (let n = 0; n < 64; n++) {
      const e = host.service(0);
      if (e[0] === EventType.EVENT_NONE || e[0] === EventType.EVENT_ERROR) break;
      if (e[0] === EventType.EVENT_DISCONNECT) dead = true;
      if (e[0] === EventType.EVENT_RECEIVE) e[1]?.getPacket();
    }
  };
  const deadline = Date.now() + 2000;
  while (peer.getState() !== PeerState.STATE_CONNECTED && !dead && Date.now() < deadline) {
    pump();
    await sleep(1);
  }
  // An unbound host has its port once the CONNECT went out.
  const localPort = host.getLocalPort();
  const ps = proxy.sessions.find((x) => x.clientPort === localPort);
  const field = headers.get(localPort);
  if (peer.getState() !== PeerState.STATE_CONNECTED || ps === undefined || field === undefined) {
    host.destroy();
    return null;
  }
  const session: Session = {
    kind: 'enet',
    target: { session: { peerID: field & 0xfff, sessionBits: (field >> 12) & 3, channels } },
    sent: 0,
    send: (data) => {
      proxy.inject('up', data, ps);
      session.sent++;
    },
    control: () => 0, // counted from the proxy's stats
    alive: () => !dead && peer.getState() === PeerState.STATE_CONNECTED,
    pump,
    close: async () => {
      if (host.getCounters() !== null) host.destroy();
    },
  };
  return session;
}

// ------------------------------------------------------------------------------------------------
// The campaign

export interface FuzzOptions {
  /** Stop after this many datagrams… */
  datagrams: number;
  /** …or this many seconds of fuzzing, whichever comes first. */
  seconds: number;
  seed?: number;
  weights?: Partial<Record<Kind, number>>;
  /** Server compression (0 none, 1 range coder, …); the legitimate client uses the same. */
  compress?: number;
  /** Fuzz sessions kept open (0 = off-path only). */
  sessions?: number;
  /** A session is replaced after sending this many datagrams. */
  sessionDatagrams?: number;
  /** Off-path sockets (IPv4 on 127.0.0.1 and other 127.x addresses, plus IPv6 ::1). */
  offPathSockets?: number;
  /** Server peer slots. */
  maxPeers?: number;
  /** Datagrams allowed in flight before waiting for the server to read them. */
  window?: number;
  /** Legitimate stream: bytes it must get echoed, complete and in order (it keeps streaming until the fuzz ends). */
  legitMinBytes?: number;
  /** Pace of the legitimate stream (default 1 MiB/s). */
  legitBytesPerSec?: number;
  /** Progress line every this many ms (0 = quiet). */
  progressMs?: number;
  log?: (line: string) => void;
}

export interface FuzzResult {
  seconds: number;
  /** Datagrams sent, by kind and in all. */
  sent: number;
  sentBytes: number;
  byKind: Record<string, number>;
  fromSessions: number;
  offPath: number;
  /** Datagrams the server's ENet read (oversized ones are dropped before that and not counted). */
  serverRead: number;
  oversizedSent: number;
  sessionsOpened: number;
  /** Of which hand-written (the rest are real ENet clients of ours behind a proxy). */
  wireSessions: number;
  sessionsFailed: number;
  captured: number;
  compression: number;
  crashed: boolean;
  exit: string | null;
  rssBefore: number;
  rssAfter: number;
  rssPeak: number;
  /** The legitimate client's stream, as it checked the echoes. */
  legit: {
    bytes: number;
    packets: number;
    lost: number;
    reordered: number;
    duplicated: number;
    corrupt: number;
    disconnected: boolean;
    longestWaitMs: number;
    problems: string[];
  };
  /** What the server saw of the legitimate stream (order checked on arrival). */
  legitAtServer: { packets: number; lost: number; reordered: number; disconnects: number };
  serverConnects: number;
  serverCounters: Record<string, unknown> | null;
  serverErrors: string[];
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? 1;
  const gen = new Generator(seed, options.weights);
  const rng = new Prng(seed ^ 0x2545f491);
  const compress = options.compress ?? 0;
  const sessionsWanted = options.sessions ?? 4;
  const sessionDatagrams = options.sessionDatagrams ?? 20_000;
  const window = options.window ?? 6000;
  const started = Date.now();

  const server = await spawnPeer('server', { bind: '*', maxPeers: options.maxPeers ?? 4095, compress, reportMs: 20, echo: 'legit', maxSeconds: options.seconds + 120 });
  const ready = server.latest.get('ready') as unknown as { port: number; compression: number; compressionOk: boolean };
  if (!ready.compressionOk) {
    await server.stop();
    throw new Error(`compression mode ${compress} is not available in this build`);
  }
  const port = ready.port;
  const offPath: Array<{ socket: dgram.Socket; address: string }> = [];
  const sessions: Session[] = [];
  let proxy: ImpairProxy | null = null;
  let sessionProxy: ImpairProxy | null = null;
  // Header field (peer id, session bits) each proxied ENet session's client last used, by client port.
  const sessionHeaders = new Map<number, number>();
  let streamer: Child | null = null;
  const byKind: Record<string, number> = {};
  let sent = 0;
  let sentBytes = 0;
  let fromSessions = 0;
  let offPathCount = 0;
  let oversizedSent = 0;
  let sessionsOpened = 0;
  let sessionsFailed = 0;
  let wireSessions = 0;
  let serverRead = 0;
  let rssBefore = 0;
  let rssPeak = 0;
  // Datagrams the server read that are not fuzz: the legitimate client's (through the proxy) and the
  // sessions' own handshakes and acknowledgements.
  let sessionControl = 0;
  let stopMaintaining: () => Promise<void> = async () => undefined;
  const notFuzz = (): number =>
    (proxy?.stats.up.delivered ?? 0) + (sessionProxy?.stats.up.received ?? 0) + sessionControl +
    sessions.reduce((a, s) => a + s.control(), 0);

  try {
    // The legitimate client, through a transparent proxy whose tap feeds the generator real traffic.
    proxy = await ImpairProxy.start({
      target: { address: '127.0.0.1', port },
      tap: (_direction: Direction, data: Buffer) => gen.capture(data),
    });
    streamer = await spawnPeer('streamer', { port: proxy.port, compress, profile: 'mixed', window: 16, reportMs: 100,
      rateBytesPerSec: options.legitBytesPerSec ?? 1024 * 1024, maxSeconds: options.seconds + 120 });
    const legitStartBytes = 256 * 1024;
    const deadlineStart = Date.now() + 20_000;
    while (((streamer.latest.get('report')?.counts?.okBytes as number | undefined) ?? 0) < legitStartBytes) {
      if (Date.now() > deadlineStart || streamer.exit !== null) throw new Error('the legitimate client did not get its stream going');
      await sleep(20);
    }

    // Off-path sockets.
    for (let i = 0; i < (options.offPathSockets ?? 8); i++) {
      const v6 = i % 4 === 3;
      const address = v6 ? '::1' : i % 4 === 0 ? '127.0.0.1' : `127.${1 + rng.int(250)}.${rng.int(256)}.${1 + rng.int(250)}`;
      const socket = dgram.createSocket(v6 ? 'udp6' : 'udp4');
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
      offPath.push({ socket, address: v6 ? '::1' : '127.0.0.1' });
    }
    // Sessions are opened (and replaced) in the background, so that a server whose slots are all taken
    // by forged CONNECTs does not hold the fuzzing up.
    sessionProxy = await ImpairProxy.start({
      target: { address: '127.0.0.1', port },
      tap: (direction: Direction, data: Buffer, ps) => {
        if (direction === 'up' && data.length >= 2 && (data.readUInt16BE(0) & 0xfff) !== NO_PEER) sessionHeaders.set(ps.clientPort, data.readUInt16BE(0));
      },
    });
    let maintaining = true;
    let nextKind = 0;
    const maintain = (async () => {
      while (maintaining) {
        for (let i = 0; i < sessions.length; i++) {
          const s = sessions[i];
          if (s.sent >= sessionDatagrams || !s.alive()) {
            sessions.splice(i--, 1);
            sessionControl += s.control();
            void s.close().catch(() => undefined);
          }
        }
        if (sessions.length < sessionsWanted) {
          // Alternate hand-written and real sessions (only real ones can speak a compressed protocol).
          const wire = compress === 0 && nextKind++ % 2 === 0;
          const s = wire ? await openWireSession(port, rng) : await openEnetSession(sessionProxy as ImpairProxy, sessionHeaders, compress, rng);
          if (s === null) {
            sessionsFailed++;
            await sleep(50);
          } else {
            sessionsOpened++;
            if (s.kind === 'wire') wireSessions++;
            sessions.push(s);
          }
        } else {
          await sleep(50);
        }
      }
    })();
    stopMaintaining = async () => {
      maintaining = false;
      await maintain;
    };
    const sessionsDeadline = Date.now() + 5000;
    while (sessions.length < sessionsWanted && Date.now() < sessionsDeadline) await sleep(20);

    await server.request({ cmd: 'gc' });
    const baseline = await server.report();
    rssBefore = baseline.memory.rss;
    const readBase = (baseline.datagrams as number) - notFuzz();
    let lastProgress = Date.now();
    const fuzzStart = Date.now();
    const fuzzDeadline = fuzzStart + options.seconds * 1000;

    while (sent < options.datagrams && Date.now() < fuzzDeadline) {
      if (server.exit !== null) break;
      const report = server.latest.get('report');
      serverRead = ((report?.datagrams as number | undefined) ?? readBase) - readBase - notFuzz();
      rssPeak = Math.max(rssPeak, (report?.memory?.rss as number | undefined) ?? 0);
      const inFlight = sent - oversizedSent - (byKind.empty ?? 0) - serverRead;
      if (inFlight > window) {
        await sleep(1);
        continue;
      }
      for (let burst = 0; burst < 128 && sent < options.datagrams; burst++) {
        const kind = gen.pickKind();
        const useSession = sessions.length > 0 && kind !== 'forged-connect' && kind !== 'bogus-peer' && rng.chance(0.6);
        const s = useSession ? sessions[rng.int(sessions.length)] : null;
        const data = gen.generate(kind, s?.target ?? { session: null });
        if (s !== null) {
          s.send(data);
          fromSessions++;
        } else {
          const o = offPath[rng.int(offPath.length)];
          o.socket.send(data, port, o.address);
          offPathCount++;
        }
        byKind[kind] = (byKind[kind] ?? 0) + 1;
        sent++;
        sentBytes += data.length;
        if (data.length > 4096) oversizedSent++;
      }
      for (const x of sessions) x.pump();
      await yieldLoop();

      if (options.progressMs && Date.now() - lastProgress >= options.progressMs) {
        lastProgress = Date.now();
        const legit = streamer.latest.get('report');
        log(`  fuzz: ${sent.toLocaleString('en-US')} sent, ${serverRead.toLocaleString('en-US')} read by the server, ` +
          `server RSS ${mib((report?.memory?.rss as number | undefined) ?? 0)} MiB, legit ${mib((legit?.counts?.okBytes as number | undefined) ?? 0)} MiB echoed, ` +
          `${sessions.length} sessions (${sessionsOpened} opened)`);
      }
    }

    await stopMaintaining();
    // Let the server read what is in flight, then the legitimate stream finish what it has queued.
    // (Nearly all: a few are never counted, e.g. what the kernel drops; the legitimate traffic blurs it.)
    const drainUntil = Date.now() + 5_000;
    while (server.exit === null && Date.now() < drainUntil) {
      const r = server.latest.get('report');
      serverRead = ((r?.datagrams as number | undefined) ?? readBase) - readBase - notFuzz();
      if (sent - oversizedSent - (byKind.empty ?? 0) - serverRead <= Math.max(200, sent * 0.002)) break;
      await sleep(20);
    }
    const legitGoal = Math.max(options.legitMinBytes ?? 0, 0);
    const legitUntil = Date.now() + 30_000;
    while (streamer.exit === null && server.exit === null && Date.now() < legitUntil) {
      const lr = streamer.latest.get('report');
      if (((lr?.counts?.okBytes as number | undefined) ?? 0) >= legitGoal || lr?.disconnected) break;
      await sleep(50);
    }
    streamer.send({ cmd: 'stop' });
    await sleep(100);
    const stopUntil = Date.now() + 15_000;
    let final = await streamer.report().catch(() => streamer?.latest.get('report'));
    while (final !== undefined && !final.disconnected && final.sent > final.counts.ok + final.counts.corrupt && Date.now() < stopUntil) {
      await sleep(50);
      final = await streamer.report().catch(() => final);
    }

    const crashed = server.exit !== null;
    let after: Record<string, any> | undefined;
    if (!crashed) {
      await server.request({ cmd: 'gc' }).catch(() => undefined);
      after = await server.report().catch(() => undefined);
    }
    const last = after ?? server.latest.get('report') ?? {};
    serverRead = ((last.datagrams as number | undefined) ?? readBase) - readBase - notFuzz();
    rssPeak = Math.max(rssPeak, (last.peakRss as number | undefined) ?? 0);
    const fc = final?.counts ?? {};
    return {
      seconds: (Date.now() - fuzzStart) / 1000,
      sent,
      sentBytes,
      byKind,
      fromSessions,
      offPath: offPathCount,
      serverRead,
      oversizedSent,
      sessionsOpened,
      wireSessions,
      sessionsFailed,
      captured: gen.captured.length,
      compression: ready.compression,
      crashed,
      exit: server.exit === null ? null : JSON.stringify(server.exit),
      rssBefore,
      rssAfter: (last.memory?.rss as number | undefined) ?? 0,
      rssPeak,
      legit: {
        bytes: fc.okBytes ?? 0,
        packets: fc.ok ?? 0,
        lost: (fc.lost ?? 0) + Math.max(0, (final?.sent ?? 0) - (fc.ok ?? 0) - (fc.corrupt ?? 0)),
        reordered: fc.reordered ?? 0,
        duplicated: fc.duplicated ?? 0,
        corrupt: fc.corrupt ?? 0,
        disconnected: final?.disconnected ?? true,
        longestWaitMs: final?.longestWaitMs ?? 0,
        problems: final?.problems ?? [],
      },
      legitAtServer: {
        packets: last.legit?.ok ?? 0,
        lost: last.legit?.lost ?? 0,
        reordered: last.legit?.reordered ?? 0,
        disconnects: last.legitDisconnects ?? 0,
      },
      serverConnects: last.connects ?? 0,
      serverCounters: last.counters ?? null,
      serverErrors: last.errors ?? [],
    };
  } finally {
    await stopMaintaining();
    for (const s of sessions) await s.close().catch(() => undefined);
    await sessionProxy?.close();
    for (const o of offPath) o.socket.close();
    await streamer?.stop().catch(() => undefined);
    await proxy?.close();
    await server.stop().catch(() => undefined);
    void started;
  }
}

export function formatFuzz(r: FuzzResult): string {
  const kinds = Object.entries(r.byKind).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`).join(', ');
  return [
    `datagrams fuzzed: ${r.sent.toLocaleString('en-US')} (${mib(r.sentBytes)} MiB) in ${r.seconds.toFixed(1)} s; ` +
      `${r.serverRead.toLocaleString('en-US')} read by the server's ENet (+${r.oversizedSent.toLocaleString('en-US')} oversized and ` +
      `${(r.byKind.empty ?? 0).toLocaleString('en-US')} empty ones, skipped by the socket layer)`,
    `  kinds: ${kinds}`,
    `  from ${r.sessionsOpened} fuzz sessions (${r.wireSessions} hand-written, ${r.sessionsOpened - r.wireSessions} real ENet clients): ${r.fromSessions.toLocaleString('en-US')}; off-path: ${r.offPath.toLocaleString('en-US')}; ` +
      `captured valid datagrams to mutate: ${r.captured}; compression mode ${r.compression}`,
    `  server: ${r.crashed ? `CRASHED (${r.exit})` : 'no crash'}; RSS ${mib(r.rssBefore)} MiB before, ${mib(r.rssAfter)} MiB after, ` +
      `peak ${mib(r.rssPeak)} MiB; connects ${r.serverConnects}`,
    `  legitimate stream: ${mib(r.legit.bytes)} MiB in ${r.legit.packets.toLocaleString('en-US')} packets echoed; lost ${r.legit.lost}, ` +
      `reordered ${r.legit.reordered}, duplicated ${r.legit.duplicated}, corrupt ${r.legit.corrupt}; ` +
      `${r.legit.disconnected ? 'DISCONNECTED' : 'still connected'}; longest wait for an echo ${r.legit.longestWaitMs} ms`,
  ].join('\n');
}

// ------------------------------------------------------------------------------------------------
// CLI

async function main(argv: string[]): Promise<void> {
  const o = parseCli('node tools/ts-run.js tools/net-fuzz.ts', 'Malformed datagrams against a server while a legitimate client streams through it.', {
    datagrams: { value: 'N', help: 'stop after N datagrams', default: 1_000_000, parse: integer(1) },
    seconds: { value: 'N', help: 'or after N seconds, whichever comes first', default: 120, parse: number(1) },
    seed: { value: 'N', help: 'random seed (default: random)', parse: integer() },
    compress: { value: 'MODE', help: 'compression mode of server and client (0 none .. 4 zstd)', parse: integer(0, 4) },
    sessions: { value: 'N', help: 'fuzz sessions kept open (0: off-path only)', parse: integer(0) },
    empty: { value: 'W', help: 'weight of empty datagrams', parse: number(0) },
  }, argv);
  const opts: FuzzOptions = { datagrams: o.datagrams as number, seconds: o.seconds as number, progressMs: 2000, log: (l) => console.log(l) };
  if (o.seed !== undefined) opts.seed = o.seed;
  if (o.compress !== undefined) opts.compress = o.compress;
  if (o.sessions !== undefined) opts.sessions = o.sessions;
  if (o.empty !== undefined) opts.weights = { empty: o.empty };
  const r = await runFuzz(opts);
  console.log(formatFuzz(r));
  process.exitCode = r.crashed || r.legit.lost + r.legit.reordered + r.legit.corrupt + r.legit.duplicated > 0 || r.legit.disconnected ? 1 : 0;
}

if (process.argv[1] === __filename) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(2);
  });
}
