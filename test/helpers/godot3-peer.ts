/**
 * A real Godot 3 peer for the compression interop tests: Debian's godot3-server running
 * test/peers/godot3/peer.gd headless, plus what our side needs to talk to it and to watch the wire:
 * Godot 3's NetworkedMultiplayerENet framing, a UDP relay that records every datagram, the payload
 * generator the script shares, and an independent (test-only) reading of the compressed formats.
 *
 * Godot 3 framing (modules/enet/networked_multiplayer_enet.cpp, 3.x): every packet on a data channel
 * is [u32 source id][i32 target id] little-endian, then the data. The server is id 1, a client picks a
 * random id >= 2 and sends it as the CONNECT data. Channel 0 is the server's config channel
 * (SYSMSG_ADD_PEER = 0 / SYSMSG_REMOVE_PEER = 1, then the id), channel 1 carries RELIABLE and channel 2
 * UNRELIABLE (unsequenced) packets; three channels in all.
 */
import { ChildProcessWithoutNullStreams, spawn, spawnSync } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { inflateSync } from 'zlib';

export const GODOT3 = process.env.GODOT3_SERVER ?? '/usr/bin/godot3-server';
export const GODOT3_SCRIPT = path.resolve(__dirname, '..', 'peers', 'godot3', 'peer.gd');

export const G3 = {
  SYSCH_CONFIG: 0,
  SYSCH_RELIABLE: 1,
  SYSCH_UNRELIABLE: 2,
  CHANNELS: 3,
  SERVER_ID: 1,
  SYSMSG_ADD_PEER: 0,
  SYSMSG_REMOVE_PEER: 1,
} as const;

/** Godot 3's framing of one packet. */
export function frame(source: number, target: number, data: Uint8Array): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32LE(source >>> 0, 0);
  header.writeInt32LE(target | 0, 4);
  return Buffer.concat([header, data]);
}

export function unframe(packet: Buffer): { source: number; target: number; data: Buffer } {
  if (packet.length < 8) throw new Error(`a Godot 3 packet has at least 8 bytes, got ${packet.length}`);
  return { source: packet.readUInt32LE(0), target: packet.readInt32LE(4), data: packet.subarray(8) };
}

/** The bytes peer.gd's generate() makes: a 31-bit LCG picks words and numbers (kind 0) or bytes (1). */
export function generate(size: number, seed: number, kind: 0 | 1): Buffer {
  const out = Buffer.alloc(size);
  const words = ['player', 'position', 'velocity', 'health', 'ammo', 'team', 'score', 'name'];
  let x = seed & 0x7fffffff;
  let i = 0;
  while (i < size) {
    x = (Math.imul(x, 1103515245) + 12345) & 0x7fffffff;
    if (kind === 1) {
      out[i++] = (x >> 16) & 255;
    } else {
      const s = Buffer.from(`"${words[(x >> 8) % words.length]}":${(x >> 12) % 1000},`, 'ascii');
      for (let j = 0; j < s.length && i < size; j++) out[i++] = s[j];
    }
  }
  return out;
}

export interface GodotEvent {
  ev: string;
  [key: string]: unknown;
}

/** One godot3-server process running peer.gd; its "@@ {json}" stdout lines become events. */
export class Godot3Peer {
  readonly events: GodotEvent[] = [];
  readonly output: string[] = [];
  private exited: number | null = null;

  private constructor(private readonly child: ChildProcessWithoutNullStreams, private readonly dir: string) {
    let pending = '';
    const onData = (chunk: Buffer) => {
      pending += chunk.toString('utf8');
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        this.output.push(line);
        if (line.startsWith('@@ ')) this.events.push(JSON.parse(line.slice(3)) as GodotEvent);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => this.output.push(...chunk.toString('utf8').split('\n')));
    child.on('exit', (code) => {
      this.exited = code ?? -1;
    });
  }

  static start(args: { role: 'server' | 'client'; port: number; mode: number; lifetime?: number }): Godot3Peer {
    return Godot3Peer.startWith([`--role=${args.role}`, `--port=${args.port}`, `--mode=${args.mode}`,
      `--lifetime=${args.lifetime ?? 60}`]);
  }

  /** Runs peer.gd with these command-line arguments (e.g. a DTLS tunnel role). */
  static startWith(args: string[]): Godot3Peer {
    // Godot writes logs under its working directory when run without a project: give it its own.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'godot3-peer-'));
    const child = spawn(GODOT3, ['--no-window', '-s', GODOT3_SCRIPT, ...args], { cwd: dir, env: { ...process.env, LANG: 'C.UTF-8' } });
    return new Godot3Peer(child, dir);
  }

  /** Waits (calling `pump` meanwhile) for an event matching `pred`; returns it. */
  async waitEvent(pred: (e: GodotEvent) => boolean, what: string, pump: () => void, timeoutMs = 10000): Promise<GodotEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      pump();
      const found = this.events.find(pred);
      if (found !== undefined) return found;
      if (this.exited !== null) throw new Error(`godot3-server exited (${this.exited}) waiting for ${what}:\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} from Godot:\n${this.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  log(): string {
    return this.output.filter((l) => !/locale|translation\.cpp/.test(l)).slice(-40).join('\n');
  }

  async stop(): Promise<void> {
    if (this.exited === null) {
      const gone = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 2000);
      await gone;
      clearTimeout(timer);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs peer.gd's codec role on `dir` (see peer.gd); returns its events. */
export function runGodotCodecs(dir: string): GodotEvent[] {
  const r = spawnSync(GODOT3, ['--no-window', '-s', GODOT3_SCRIPT, '--role=codec', `--dir=${dir}`],
    { cwd: dir, encoding: 'utf8', timeout: 120000, env: { ...process.env, LANG: 'C.UTF-8' } });
  const events = (r.stdout ?? '').split('\n').filter((l) => l.startsWith('@@ ')).map((l) => JSON.parse(l.slice(3)) as GodotEvent);
  if (!events.some((e) => e.ev === 'codecs_done')) throw new Error(`godot3-server codec run failed:\n${r.stdout}\n${r.stderr}`);
  return events;
}

/** The version line of godot3-server, or null if it cannot run. */
export function godot3Version(): string | null {
  // Godot 3 prints its version and exits with 255.
  const r = spawnSync(GODOT3, ['--version'], { encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8' } });
  if (r.error !== undefined || typeof r.stdout !== 'string') return null;
  return r.stdout.trim().split('\n').pop() ?? null;
}

/** A UDP port that was free a moment ago (for a process that must be told its port). */
export async function freeUdpPort(): Promise<number> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export interface Datagram {
  /** 'in': from the side that connected to the relay; 'out': from the relayed-to target. */
  dir: 'fromClient' | 'fromServer';
  bytes: Buffer;
}

/**
 * A UDP relay on 127.0.0.1: whoever sends to it is the client (the latest sender, if several), its
 * datagrams go to `target` and the target's come back to it. Every datagram is recorded. `cut` drops
 * everything (a lost close_notify, a crash); `inject` sends to the target as if from the client.
 */
export class UdpRelay {
  readonly datagrams: Datagram[] = [];
  cut = false;
  private client: { address: string; port: number } | null = null;

  private constructor(private readonly socket: dgram.Socket, private readonly targetPort: number) {
    socket.on('message', (msg, rinfo) => {
      if (this.cut) return;
      if (rinfo.port === this.targetPort && rinfo.address === '127.0.0.1') {
        this.datagrams.push({ dir: 'fromServer', bytes: Buffer.from(msg) });
        if (this.client !== null) socket.send(msg, this.client.port, this.client.address);
      } else {
        this.client = { address: rinfo.address, port: rinfo.port };
        this.datagrams.push({ dir: 'fromClient', bytes: Buffer.from(msg) });
        socket.send(msg, this.targetPort, '127.0.0.1');
      }
    });
  }

  static async start(targetPort: number): Promise<UdpRelay> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    return new UdpRelay(socket, targetPort);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Sends `bytes` to the target from the relay's address, unrecorded. */
  inject(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(bytes, this.targetPort, '127.0.0.1', (e) => (e ? reject(e) : resolve())));
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

// ------------------------------------------------------------------------------------------------
// Reading datagrams off the wire, independently of the addon.

export const HEADER_COMPRESSED = 0x4000;
export const HEADER_SENT_TIME = 0x8000;

/** Splits an ENet datagram (no checksum) into its header and what follows it. */
export function splitDatagram(bytes: Buffer): { compressed: boolean; header: Buffer; body: Buffer } {
  const field = bytes.readUInt16BE(0);
  const headerSize = (field & HEADER_SENT_TIME) !== 0 ? 4 : 2;
  return { compressed: (field & HEADER_COMPRESSED) !== 0, header: bytes.subarray(0, headerSize), body: bytes.subarray(headerSize) };
}

/**
 * A deliberately plain FastLZ level-1 decoder, written in the test from the published block format,
 * to check what is on the wire without trusting the addon's decoder: throws on anything malformed.
 */
export function fastlzDecodeForTest(block: Buffer): Buffer {
  if (block.length === 0 || block[0] >> 5 !== 0) throw new Error(`not a FastLZ level-1 block (first byte ${block[0]})`);
  const out: number[] = [];
  let ip = 0;
  let first = true;
  while (block.length - ip >= 2 || first) {
    const op = block[ip++] & (first ? 31 : 255);
    first = false;
    const kind = op >> 5;
    if (kind === 0) {
      const run = (op & 31) + 1;
      if (ip + run > block.length) throw new Error('literal run past the end');
      for (let k = 0; k < run; k++) out.push(block[ip++]);
    } else {
      let length = kind + 2;
      if (kind === 7) length = 9 + block[ip++];
      if (ip >= block.length) throw new Error('match past the end');
      const back = ((op & 31) << 8) + block[ip++] + 1;
      if (back > out.length) throw new Error('match before the start');
      const from = out.length - back;
      for (let k = 0; k < length; k++) out.push(out[from + k]);
    }
  }
  if (ip !== block.length) throw new Error(`${block.length - ip} stray byte(s) at the end`);
  return Buffer.from(out);
}

/** Decodes a compressed datagram body with an independent decoder for the mode (FastLZ, zlib). */
export function independentDecode(mode: number, body: Buffer): Buffer {
  if (mode === 2) return fastlzDecodeForTest(body);
  if (mode === 3) return inflateSync(body); // zlib-wrapped: Node's inflate refuses raw deflate and gzip
  throw new Error(`no independent decoder for mode ${mode}`);
}

/** ENet command sizes (header included) by command number, for walking decoded command bytes. */
const COMMAND_SIZE = [0, 8, 48, 44, 8, 4, 6, 8, 24, 8, 12, 16, 24];

/**
 * Walks decoded ENet command bytes; returns how many bytes whole commands cover. A real datagram's
 * commands cover all of it, except FastLZ inputs Godot zero-padded to 16 bytes.
 */
export function commandBytes(body: Buffer): number {
  let at = 0;
  while (at + 4 <= body.length) {
    const type = body[at] & 0x0f;
    const size = COMMAND_SIZE[type] ?? 0;
    if (size === 0 || at + size > body.length) break;
    let data = 0;
    if (type === 6) data = body.readUInt16BE(at + 4);
    else if (type === 7 || type === 9 || type === 8 || type === 12) data = body.readUInt16BE(at + 6);
    if (at + size + data > body.length) break;
    at += size + data;
  }
  return at;
}
