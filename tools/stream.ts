/**
 * The self-checking packet stream the reliability tooling pushes through servers, proxies and fuzzers.
 *
 * Packet `seq`: u32 seq, u32 total length, then bytes that are a function of seq alone, so a receiver
 * can tell a packet that is lost (a gap in seq), reordered (seq behind the expected one), duplicated
 * or corrupted (bytes not what seq dictates) without keeping a copy of what was sent.
 */
import { Prng } from './impair-proxy';

export const HEADER_BYTES = 8;

/** CONNECT data by which a server tells the legitimate client from fuzz sessions. */
export const LEGIT_DATA = 0x1e9170;

export type SizeProfile = 'mixed' | 'small' | 'bulk' | 'fixed';

/**
 * Size of packet `seq`: `mixed` is 70 % small (16..1200 B), 25 % a few fragments (1.2..8 KB), 5 % large
 * (8..64 KB); `small` stays below one datagram; `bulk` is 16 KB each; `fixed` is `fixedSize`.
 */
export function packetSize(seq: number, profile: SizeProfile, fixedSize = 1024): number {
  if (profile === 'fixed') return Math.max(HEADER_BYTES, fixedSize);
  if (profile === 'bulk') return 16 * 1024;
  const r = new Prng(seq * 2654435761 + 7);
  if (profile === 'small') return 16 + r.int(1000);
  const x = r.next();
  if (x < 0.7) return 16 + r.int(1184);
  if (x < 0.95) return 1200 + r.int(6800);
  return 8000 + r.int(57536);
}

/** The bytes of packet `seq` with `size` bytes (size >= 8). */
export function makePacket(seq: number, size: number): Buffer {
  const buf = Buffer.alloc(Math.max(HEADER_BYTES, size));
  fillPattern(buf, seq);
  buf.writeUInt32BE(seq >>> 0, 0);
  buf.writeUInt32BE(buf.length, 4);
  return buf;
}

function fillPattern(buf: Buffer, seq: number): void {
  let x = (seq * 0x9e3779b1 + 0x7f4a7c15) >>> 0 || 1;
  const words = buf.length >> 2;
  const u32 = new Uint32Array(buf.buffer, buf.byteOffset, words);
  for (let i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    u32[i] = x >>> 0;
  }
  for (let i = words << 2; i < buf.length; i++) buf[i] = (seq + i) & 0xff;
}

/** seq of a stream packet, or -1 if it is too short to be one. */
export function packetSeq(buf: Buffer): number {
  return buf.length < HEADER_BYTES ? -1 : buf.readUInt32BE(0);
}

/** True if `buf` is exactly packet seq's bytes. */
export function verifyPacket(buf: Buffer): boolean {
  if (buf.length < HEADER_BYTES || buf.readUInt32BE(4) !== buf.length) return false;
  return makePacket(buf.readUInt32BE(0), buf.length).equals(buf);
}

export interface StreamCounts {
  /** Packets received in order and intact. */
  ok: number;
  okBytes: number;
  /** Packets skipped over (a later one arrived first and the skipped one never came before it). */
  lost: number;
  /** Packets that arrived after a later one. */
  reordered: number;
  duplicated: number;
  corrupt: number;
}

/**
 * Checks a stream that is sent in seq order, each seq on channel `channelOf(seq)`: per channel, packets
 * must arrive in seq order, once, intact.
 */
export class StreamChecker {
  readonly counts: StreamCounts = { ok: 0, okBytes: 0, lost: 0, reordered: 0, duplicated: 0, corrupt: 0 };
  readonly #next = new Map<number, number>();
  readonly #seen = new Set<number>();
  readonly firstProblems: string[] = [];

  constructor(readonly channelOf: (seq: number) => number = () => 0, readonly verifyBytes = true) {}

  /** The seq expected next on `channel`. */
  expected(channel: number): number {
    let e = this.#next.get(channel);
    if (e === undefined) {
      e = 0;
      while (this.channelOf(e) !== channel) e++;
      this.#next.set(channel, e);
    }
    return e;
  }

  #advance(channel: number, after: number): void {
    let e = after + 1;
    for (let guard = 0; this.channelOf(e) !== channel && guard < 1_000_000; guard++) e++;
    this.#next.set(channel, e);
  }

  #problem(text: string): void {
    if (this.firstProblems.length < 10) this.firstProblems.push(text);
  }

  accept(channel: number, buf: Buffer): void {
    const seq = packetSeq(buf);
    if (seq < 0 || (this.verifyBytes && !verifyPacket(buf))) {
      this.counts.corrupt++;
      this.#problem(`corrupt packet of ${buf.length} B on channel ${channel} (seq field ${seq})`);
      return;
    }
    if (this.channelOf(seq) !== channel) {
      this.counts.corrupt++;
      this.#problem(`seq ${seq} on channel ${channel}, sent on ${this.channelOf(seq)}`);
      return;
    }
    if (this.#seen.has(seq)) {
      this.counts.duplicated++;
      this.#problem(`seq ${seq} twice`);
      return;
    }
    const expected = this.expected(channel);
    if (seq < expected) {
      this.counts.reordered++;
      this.#problem(`seq ${seq} after ${expected - 1} on channel ${channel}`);
    } else {
      if (seq > expected) {
        let skipped = 0;
        for (let s = expected; s < seq; s++) if (this.channelOf(s) === channel && !this.#seen.has(s)) skipped++;
        this.counts.lost += skipped;
        this.#problem(`seq ${seq} where ${expected} was due on channel ${channel}`);
      }
      this.#advance(channel, seq);
    }
    this.#seen.add(seq);
    // Keep the duplicate detector bounded: far-behind seqs can no longer be confused.
    if (this.#seen.size > 200_000) {
      const floor = Math.min(...[...this.#next.values()]) - 100_000;
      for (const s of this.#seen) if (s < floor) this.#seen.delete(s);
    }
    this.counts.ok++;
    this.counts.okBytes += buf.length;
  }

  get clean(): boolean {
    const c = this.counts;
    return c.lost === 0 && c.reordered === 0 && c.duplicated === 0 && c.corrupt === 0;
  }
}
