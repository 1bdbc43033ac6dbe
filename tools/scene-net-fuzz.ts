/**
 * A network fuzzer for SceneMultiplayer servers: hostile SceneMultiplayer packets arrive over real ENet
 * (UDP loopback) at a SceneMultiplayer server (a child process, so that a crash shows as one and its
 * memory can be read alone), while a legitimate SceneMultiplayer client keeps calling an RPC and
 * sending bytes that the server echoes. The legitimate traffic must lose nothing, the server must not
 * crash, and its memory must stay bounded.
 *
 * Fuzz sessions are raw ENetMultiplayerPeer clients that speak SceneMultiplayer by hand, of three kinds:
 * admitted (they authenticate, then fuzz), authenticating (they send AUTH data but never complete, and
 * fuzz while the server keeps them pending until its auth timeout drops them) and silent (they only
 * fuzz, so everything they send is from a pending peer). Sessions are replaced when they end or after
 * `sessionPackets`, so peers keep coming and going (ADD_PEER / DEL_PEER for everyone).
 *
 * Packet kinds (see KINDS): replays and mutations (tools/fuzz/scene-target.ts's structure-aware
 * mutatePacket) of real traffic — the `scene` fuzz target's seeds, our own server and clients talking,
 * and its grown corpus (build/fuzz/corpus/scene) when there is one — truncations, random bytes, relays
 * to ourselves, to unknown peers, to the legitimate client and to everyone, bad SYS commands, RPCs with
 * bad node-id sizes, unknown cache ids, huge argument counts and arguments of every type, SIMPLIFY_PATH
 * floods with wrong checksums and long paths, bogus CONFIRM_PATHs, and AUTH floods. Modes and channels
 * are random.
 *
 * The server registers the `scene` target's nodes (typed and untyped RPC arguments, checked in every
 * handler) plus an Echo node; it answers the legitimate client's Echo.ping with Echo.pong and its
 * bytes with the same bytes. The legitimate client checks both streams (tools/stream.ts packets:
 * complete, in order, intact) and also has the target's nodes, so hostile relays reach its handlers.
 *
 * Programmatic: runSceneFuzz(options) (tools/reliability.ts and test/scene-net-fuzz.test.ts use it).
 * CLI: node tools/ts-run.js tools/scene-net-fuzz.ts [--seconds S] [--packets N] [--seed N] [--sessions N]
 */
import { integer, number, parseCli } from './cli';
import * as fs from 'fs';
import * as path from 'path';
import { ENetMultiplayerPeer, GodotError, MultiplayerPeer, SceneMultiplayer, TransferMode } from '../src';
import type { RpcDeclaration } from '../src/multiplayer/rpc-config';
import { Child, REPO_ROOT, mib, sleep, spawnPeer, yieldLoop } from './harness';
import { Prng } from './impair-proxy';
import { GameNodes, Mutator, mutatePacket, parseInput, rebuildArguments, seedInputs } from './fuzz/scene-target';
import { StreamChecker, StreamCounts, makePacket, packetSize } from './stream';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { byteMutator } = require('./fuzz/mutations.js') as { byteMutator(rnd: (n: number) => number, pick: () => Buffer): Mutator };

/** The node the legitimate client talks to, beside the fuzz target's nodes. */
export const ECHO_PATH = 'Echo';
export const ECHO: Record<string, RpcDeclaration> = {
  ping: { rpcMode: 'any_peer', args: ['int', 'PackedByteArray'] },
  pong: { rpcMode: 'authority', args: ['int', 'PackedByteArray'] },
};
/** AUTH data: the legitimate client's, and the fuzz sessions' (admitted too); anything else stays pending. */
export const LEGIT_SECRET = 'legit';
export const SESSION_SECRET = 'secret';

/**
 * Sets a SceneMultiplayer up as the fuzzed server or the legitimate client: the target's nodes with
 * checking handlers (failures go to `failures`), the Echo node, and the auth exchange.
 */
export function sceneGame(mp: SceneMultiplayer, server: boolean, failures: string[]): GameNodes {
  const game = new GameNodes(mp, { effect: () => undefined, fail: (m) => failures.length < 20 && failures.push(m) }, {
    server,
    playerAuthority: 1,
    throwing: false,
  });
  mp.registerNode(ECHO_PATH, ECHO);
  if (server) {
    mp.authCallback = (id, data) => {
      const text = data.toString('latin1');
      if (text !== LEGIT_SECRET && text !== SESSION_SECRET) return;
      mp.sendAuth(id, Buffer.from('welcome'));
      mp.completeAuth(id);
    };
  } else {
    mp.authCallback = (id, data) => {
      if (data.toString('latin1') === 'welcome') mp.completeAuth(id);
    };
    mp.on('peer_authenticating', (id) => mp.sendAuth(id, Buffer.from(LEGIT_SECRET)));
  }
  return game;
}

// ------------------------------------------------------------------------------------------------
// Generator

export type Kind = 'replay' | 'mutated' | 'truncated' | 'random' | 'relay' | 'sys' | 'rpc' | 'cache' | 'auth';

export const KINDS: Record<Kind, number> = {
  replay: 8,
  mutated: 30,
  truncated: 6,
  random: 5,
  relay: 14,
  sys: 6,
  rpc: 14,
  cache: 10,
  auth: 7,
};

const PATHS = ['Game', 'Main/World/Player', 'Main/HUD', 'Echo', '/root/Game', 'Nope', 'Game/', ''];
const MD5 = ['7edcec5ae1a43c4c94f0e088623dae75', 'd41d8cd98f00b204e9800998ecf8427e', '0'.repeat(32), 'x'.repeat(32)];

/** What a generated packet is aimed at: ids the generator may name. */
export interface Aim {
  self: number;
  legit: number;
  others: number[];
}

export class Generator {
  readonly rng: Prng;
  readonly captured: Buffer[];
  readonly #m: Mutator;
  readonly #weights: Array<[Kind, number]>;
  readonly #total: number;

  constructor(seed: number, captured: Buffer[], weights: Partial<Record<Kind, number>> = {}) {
    this.rng = new Prng(seed);
    this.captured = captured.length > 0 ? captured : [Buffer.from([3, 1])];
    this.#m = byteMutator((n) => this.rng.int(n), () => this.pick());
    const w = { ...KINDS, ...weights };
    this.#weights = (Object.entries(w) as Array<[Kind, number]>).filter(([, x]) => x > 0);
    this.#total = this.#weights.reduce((a, [, x]) => a + x, 0);
  }

  pick(): Buffer {
    return this.captured[this.rng.int(this.captured.length)];
  }

  pickKind(): Kind {
    let x = this.rng.next() * this.#total;
    for (const [kind, w] of this.#weights) {
      x -= w;
      if (x < 0) return kind;
    }
    return this.#weights[this.#weights.length - 1][0];
  }

  #peerId(aim: Aim): number {
    const r = this.rng;
    const choices = [0, -1, 1, aim.self, aim.legit, -aim.legit, -aim.self, 424242, 0x7fffffff, -0x80000000, ...aim.others];
    return choices[r.int(choices.length)];
  }

  #sys(cmd: number, peer: number, inner?: Buffer): Buffer {
    const b = Buffer.alloc(6);
    b[0] = 7;
    b[1] = cmd;
    b.writeInt32LE(peer | 0, 2);
    return inner === undefined ? b : Buffer.concat([b, inner]);
  }

  /** A packet of `kind`. */
  generate(kind: Kind, aim: Aim): Buffer {
    const r = this.rng;
    switch (kind) {
      case 'replay':
        return Buffer.from(this.pick());
      case 'mutated': {
        let d: Buffer = Buffer.from(this.pick());
        for (let n = 1 + r.int(3); n > 0; n--) d = mutatePacket(d, this.#m);
        return d;
      }
      case 'truncated': {
        const d = this.pick();
        return d.subarray(0, r.int(d.length + 1));
      }
      case 'random': {
        const b = Buffer.alloc(1 + r.int(r.chance(0.9) ? 48 : 2000));
        for (let i = 0; i < b.length; i++) b[i] = r.int(256);
        if (r.chance(0.7)) b[0] = (b[0] & 0xf8) | r.int(8);
        return b;
      }
      case 'relay': {
        const inner = r.chance(0.2) ? this.generate('sys', aim) : r.chance(0.5) ? Buffer.from(this.pick()) : this.generate('mutated', aim);
        return this.#sys(3, this.#peerId(aim), r.chance(0.05) ? Buffer.alloc(0) : inner);
      }
      case 'sys': {
        const cmd = r.chance(0.6) ? 1 + r.int(3) : r.int(256);
        const b = this.#sys(cmd, this.#peerId(aim));
        return r.chance(0.2) ? b.subarray(0, r.int(6)) : b;
      }
      case 'rpc': {
        const base = this.captured.filter((c) => c.length >= 3 && (c[0] & 7) === 0);
        let d: Buffer = base.length > 0 ? Buffer.from(base[r.int(base.length)]) : Buffer.from([0x80, 1, 0]);
        switch (r.int(5)) {
          case 0: // node id size 3
            d[0] |= 0x30;
            break;
          case 1: // an unknown cache id
            d[1] = r.int(256);
            break;
          case 2: { // a huge argument count and nothing behind it
            d = Buffer.concat([d.subarray(0, 3), Buffer.from([255, 2])]);
            d[0] &= 0x4f;
            break;
          }
          default:
            d = rebuildArguments(d, this.#m) ?? d;
        }
        return d;
      }
      case 'cache': {
        if (r.chance(0.3)) { // CONFIRM_PATH
          const b = Buffer.alloc(r.chance(0.9) ? 6 : r.int(12));
          if (b.length) b[0] = 2;
          if (b.length > 1) b[1] = r.int(2);
          if (b.length >= 6) b.writeUInt32LE(r.chance(0.5) ? 1 + r.int(8) : Math.floor(r.next() * 2 ** 32) >>> 0, 2);
          return b;
        }
        // SIMPLIFY_PATH: many ids (the per-peer limit), wrong checksums, long and odd spellings of paths.
        const p = PATHS[r.int(PATHS.length)];
        const spelled = r.chance(0.1) ? p + '/'.repeat(r.int(20000)) : p;
        const b = Buffer.alloc(38);
        b[0] = 1;
        b.write(MD5[r.int(MD5.length)], 1, 'latin1');
        b.writeUInt32LE(r.chance(0.5) ? r.int(32) : Math.floor(r.next() * 2 ** 32) >>> 0, 34);
        return Buffer.concat([b, Buffer.from(`${spelled}\0`)]);
      }
      case 'auth': {
        const n = r.chance(0.8) ? r.int(64) : r.int(4000);
        const b = Buffer.alloc(2 + n);
        b[0] = 7;
        for (let i = 2; i < b.length; i++) b[i] = r.int(256);
        if (r.chance(0.1)) b.write(SESSION_SECRET, 2, 'latin1');
        return n === 0 || r.chance(0.1) ? b.subarray(0, 2) : b;
      }
    }
  }
}

/** Real traffic to replay and mutate: the packets of the `scene` target's seeds and grown corpus. */
export function capturedTraffic(max = 20_000): Buffer[] {
  const inputs = Object.values(seedInputs());
  const grown = path.join(REPO_ROOT, 'build', 'fuzz', 'corpus', 'scene');
  if (fs.existsSync(grown)) for (const f of fs.readdirSync(grown).slice(0, 5000)) inputs.push(fs.readFileSync(path.join(grown, f)));
  const out: Buffer[] = [];
  for (const input of inputs) {
    for (const op of parseInput(input).ops) if (op.kind === 'packet' && op.data.length > 0 && out.length < max) out.push(op.data);
  }
  return out;
}

// ------------------------------------------------------------------------------------------------
// Fuzz sessions: raw clients that speak SceneMultiplayer by hand

type SessionKind = 'admitted' | 'authenticating' | 'silent';

class Session {
  readonly peer = new ENetMultiplayerPeer();
  sent = 0;
  received = 0;
  admitted = false;
  #authSent = false;
  readonly startedAt = Date.now();

  constructor(readonly kind: SessionKind, port: number) {
    if (this.peer.createClient('127.0.0.1', port) !== GodotError.OK) throw new Error('createClient failed');
  }

  get id(): number {
    return this.peer.getConnectionStatus() === MultiplayerPeer.CONNECTION_DISCONNECTED ? 0 : this.peer.getUniqueId();
  }

  get connected(): boolean {
    return this.peer.getConnectionStatus() === MultiplayerPeer.CONNECTION_CONNECTED;
  }

  get ended(): boolean {
    return this.peer.getConnectionStatus() === MultiplayerPeer.CONNECTION_DISCONNECTED;
  }

  /** Ready to fuzz: connected, and for an admitted session, admitted. */
  get ready(): boolean {
    return this.connected && (this.kind !== 'admitted' || this.admitted);
  }

  /** Bytes ENet still holds for the server (backpressure). */
  get queued(): number {
    if (!this.connected) return 0;
    const p = this.peer.getPeer(1) as unknown as { getQueuedBytes?: () => number } | null;
    return p?.getQueuedBytes?.() ?? 0;
  }

  pump(): void {
    if (this.ended) return;
    this.peer.poll();
    while (this.peer.getAvailablePacketCount() > 0) {
      const data = this.peer.getPacket();
      this.received++;
      // The server's completion marker comes after its own AUTH data: ours then admits us.
      if (this.kind === 'admitted' && !this.admitted && data.length === 2 && data[0] === 7 && data[1] === 0) {
        this.put(Buffer.from([7, 0]), TransferMode.TRANSFER_MODE_RELIABLE, 0);
        this.admitted = true;
      }
    }
    if (this.connected && !this.#authSent && this.kind !== 'silent') {
      this.#authSent = true;
      this.put(Buffer.concat([Buffer.from([7, 0]), Buffer.from(this.kind === 'admitted' ? SESSION_SECRET : 'guess')]), TransferMode.TRANSFER_MODE_RELIABLE, 0);
    }
  }

  put(data: Buffer, mode: TransferMode, channel: number): void {
    if (!this.connected || data.length === 0) return;
    this.peer.transferMode = mode;
    this.peer.transferChannel = channel;
    this.peer.setTargetPeer(1);
    this.peer.putPacket(data);
  }

  fuzz(data: Buffer, mode: TransferMode, channel: number): void {
    this.put(data, mode, channel);
    this.sent++;
  }

  close(): void {
    this.peer.close();
  }
}

// ------------------------------------------------------------------------------------------------
// The legitimate client

class LegitClient {
  readonly peer = new ENetMultiplayerPeer();
  readonly mp = new SceneMultiplayer();
  readonly failures: string[] = [];
  readonly rpc = new StreamChecker(() => 0, true);
  readonly bytes = new StreamChecker(() => 0, true);
  rpcSent = 0;
  bytesSent = 0;
  sentBytes = 0;
  relayedToUs = 0;
  disconnected = false;
  #lastEchoAt = Date.now();
  longestWaitMs = 0;

  constructor(port: number) {
    if (this.peer.createClient('127.0.0.1', port) !== GodotError.OK) throw new Error('createClient failed');
    sceneGame(this.mp, false, this.failures);
    const echo = this.mp.getNode(ECHO_PATH);
    echo?.on('pong', (_seq: number, data: Buffer) => {
      this.rpc.accept(0, data);
      this.#heard();
    });
    this.mp.on('peer_packet', (id, data) => {
      if (id !== 1) {
        this.relayedToUs++;
        return;
      }
      this.bytes.accept(0, data);
      this.#heard();
    });
    this.mp.on('server_disconnected', () => (this.disconnected = true));
    this.mp.multiplayerPeer = this.peer;
  }

  #heard(): void {
    const now = Date.now();
    this.longestWaitMs = Math.max(this.longestWaitMs, now - this.#lastEchoAt);
    this.#lastEchoAt = now;
  }

  get admitted(): boolean {
    return this.mp.getPeers().includes(1) && this.peer.getConnectionStatus() === MultiplayerPeer.CONNECTION_CONNECTED;
  }

  get outstanding(): number {
    return this.rpcSent - this.rpc.counts.ok - this.rpc.counts.corrupt + (this.bytesSent - this.bytes.counts.ok - this.bytes.counts.corrupt);
  }

  /** Sends what the window and the pace allow: Echo.ping(seq, packet) and sendBytes(packet), alternately. */
  stream(window: number, budgetBytes: number): number {
    let spent = 0;
    const echo = this.mp.getNode(ECHO_PATH);
    if (!this.admitted || echo === undefined) return 0;
    while (this.outstanding < window && spent < budgetBytes) {
      if (this.rpcSent <= this.bytesSent) {
        const data = makePacket(this.rpcSent, packetSize(this.rpcSent, 'small'));
        if (echo.rpcId(1, 'ping', this.rpcSent, data) !== GodotError.OK) break;
        this.rpcSent++;
        spent += data.length;
      } else {
        const data = makePacket(this.bytesSent, packetSize(this.bytesSent * 7 + 1, 'mixed'));
        if (this.mp.sendBytes(data, 1) !== GodotError.OK) break;
        this.bytesSent++;
        spent += data.length;
      }
    }
    this.sentBytes += spent;
    return spent;
  }

  poll(): void {
    if (this.peer.getConnectionStatus() !== MultiplayerPeer.CONNECTION_DISCONNECTED) this.mp.poll();
    else this.disconnected = true;
  }
}

// ------------------------------------------------------------------------------------------------
// The campaign

export interface SceneFuzzOptions {
  /** Stop after this many packets… */
  packets: number;
  /** …or this many seconds of fuzzing, whichever comes first. */
  seconds: number;
  seed?: number;
  weights?: Partial<Record<Kind, number>>;
  /** Fuzz sessions kept open. */
  sessions?: number;
  /** A session is replaced after sending this many packets. */
  sessionPackets?: number;
  /** Fuzz packets per second, at most (0 = as fast as backpressure allows). */
  rate?: number;
  /** The legitimate client's pace, bytes per second, and its window of unanswered packets. */
  legitBytesPerSec?: number;
  legitWindow?: number;
  /** The server's auth timeout (s): how long authenticating and silent sessions last. */
  authTimeout?: number;
  progressMs?: number;
  log?: (line: string) => void;
}

export interface SceneFuzzResult {
  seconds: number;
  sent: number;
  sentBytes: number;
  byKind: Record<string, number>;
  bySession: Record<SessionKind, number>;
  sessionsOpened: number;
  sessionsAdmitted: number;
  captured: number;
  crashed: boolean;
  exit: string | null;
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
  heapAfter: number;
  /** Server RSS through the run: [seconds into the fuzzing, bytes], about every tenth of it. */
  rssSamples: Array<[number, number]>;
  server: {
    /** Packets SceneMultiplayer took from the peer (fuzz, the legitimate client's, auth) and sent. */
    received: number;
    sent: number;
    counters: Record<string, number>;
    dropped: number;
    handlerCalls: number;
    authCalls: number;
    peers: number;
    authenticating: number;
    connects: number;
    failures: string[];
    unexpected: string[];
    legitRpc: StreamCounts;
    legitBytes: StreamCounts;
  } | null;
  legit: {
    rpc: StreamCounts;
    bytes: StreamCounts;
    rpcSent: number;
    bytesSent: number;
    sentBytes: number;
    disconnected: boolean;
    longestWaitMs: number;
    problems: string[];
    counters: Record<string, number>;
    relayedToUs: number;
    failures: string[];
  };
}

const total = (c: Record<string, number>): number => Object.values(c).reduce((a, b) => a + b, 0);

export async function runSceneFuzz(options: SceneFuzzOptions): Promise<SceneFuzzResult> {
  const log = options.log ?? (() => undefined);
  const seed = options.seed ?? 1;
  const captured = capturedTraffic();
  const gen = new Generator(seed, captured, options.weights);
  const rng = new Prng(seed ^ 0x5bd1e995);
  const sessionsWanted = options.sessions ?? 6;
  const sessionPackets = options.sessionPackets ?? 4000;
  const rate = options.rate ?? 20_000;
  const authTimeout = options.authTimeout ?? 3;
  const byKind: Record<string, number> = {};
  const bySession: Record<SessionKind, number> = { admitted: 0, authenticating: 0, silent: 0 };
  let sent = 0;
  let sentBytes = 0;
  let sessionsOpened = 0;
  let sessionsAdmitted = 0;
  const sessions: Session[] = [];
  let legit: LegitClient | null = null;

  const server: Child = await spawnPeer('scene-server', { reportMs: 100, authTimeout, maxSeconds: options.seconds + 120 });
  const port = (server.latest.get('ready') as unknown as { port: number }).port;
  try {
    legit = new LegitClient(port);
    const legitClient = legit;
    const legitRate = options.legitBytesPerSec ?? 256 * 1024;
    const legitWindow = options.legitWindow ?? 32;
    let legitPacedAt = Date.now();
    const pumpLegit = (): void => {
      legitClient.poll();
      const now = Date.now();
      const budget = (legitRate * (now - legitPacedAt)) / 1000;
      if (budget >= 1024) {
        legitClient.stream(legitWindow, budget);
        legitPacedAt = now;
      }
    };
    const startDeadline = Date.now() + 20_000;
    while (legitClient.rpc.counts.ok < 20 || legitClient.bytes.counts.ok < 20) {
      if (Date.now() > startDeadline || server.exit !== null) throw new Error('the legitimate client did not get its streams going');
      pumpLegit();
      await sleep(1);
    }

    const kinds: SessionKind[] = ['admitted', 'admitted', 'authenticating', 'silent'];
    const open = (): void => {
      const kind = kinds[rng.int(kinds.length)];
      sessions.push(new Session(kind, port));
      sessionsOpened++;
    };
    for (let i = 0; i < sessionsWanted; i++) open();

    await server.request({ cmd: 'gc' });
    const baseline = await server.report();
    const rssBefore = baseline.memory.rss as number;
    let rssPeak = rssBefore;
    const fuzzStart = Date.now();
    const deadline = fuzzStart + options.seconds * 1000;
    let lastProgress = fuzzStart;
    let pacedAt = fuzzStart;
    const rssSamples: Array<[number, number]> = [[0, rssBefore]];
    const sampleEveryMs = Math.max(1000, (options.seconds * 1000) / 10);

    while (sent < options.packets && Date.now() < deadline && server.exit === null) {
      pumpLegit();
      for (let i = 0; i < sessions.length; i++) {
        const s = sessions[i];
        s.pump();
        const stale = !s.connected && Date.now() - s.startedAt > 5000;
        if (s.ended || stale || s.sent >= sessionPackets) {
          if (s.admitted) sessionsAdmitted++;
          s.close();
          sessions.splice(i--, 1);
        }
      }
      while (sessions.length < sessionsWanted) open();

      const now = Date.now();
      let budget = rate > 0 ? Math.min(512, Math.floor((rate * (now - pacedAt)) / 1000)) : 512;
      if (budget > 0) pacedAt = now;
      const aim: Aim = { self: 0, legit: legitClient.mp.getUniqueId(), others: sessions.map((s) => s.id).filter((id) => id > 1) };
      const ready = sessions.filter((s) => s.ready && s.queued < 256 * 1024);
      while (budget-- > 0 && ready.length > 0 && sent < options.packets) {
        const s = ready[rng.int(ready.length)];
        aim.self = s.id;
        const kind = gen.pickKind();
        const data = gen.generate(kind, aim);
        const mode = [TransferMode.TRANSFER_MODE_RELIABLE, TransferMode.TRANSFER_MODE_RELIABLE, TransferMode.TRANSFER_MODE_UNRELIABLE, TransferMode.TRANSFER_MODE_UNRELIABLE_ORDERED][rng.int(4)];
        s.fuzz(data, mode, rng.chance(0.7) ? 0 : 1 + rng.int(3));
        byKind[kind] = (byKind[kind] ?? 0) + 1;
        bySession[s.kind]++;
        sent++;
        sentBytes += data.length;
      }
      const report = server.latest.get('report');
      const rss = (report?.memory?.rss as number | undefined) ?? 0;
      rssPeak = Math.max(rssPeak, rss);
      if (now - fuzzStart >= rssSamples.length * sampleEveryMs) rssSamples.push([Math.round((now - fuzzStart) / 1000), rss]);
      if (options.progressMs && now - lastProgress >= options.progressMs) {
        lastProgress = now;
        log(`  scene fuzz: ${sent.toLocaleString('en-US')} packets, ${sessionsOpened} sessions, server RSS ${mib((report?.memory?.rss as number | undefined) ?? 0)} MiB, ` +
          `dropped ${total((report?.counters as Record<string, number> | undefined) ?? {}).toLocaleString('en-US')}, legit ${legitClient.rpc.counts.ok}+${legitClient.bytes.counts.ok} echoes`);
      }
      await yieldLoop();
    }

    // Fuzzing over: the legitimate streams finish what they have in flight.
    for (const s of sessions) s.close();
    const drainUntil = Date.now() + 30_000;
    while (legitClient.outstanding > 0 && !legitClient.disconnected && server.exit === null && Date.now() < drainUntil) {
      legitClient.poll();
      await sleep(2);
    }
    const crashed = server.exit !== null;
    let after: Record<string, any> | undefined;
    if (!crashed) {
      await server.request({ cmd: 'gc' }).catch(() => undefined);
      after = await server.report().catch(() => undefined);
    }
    const last = after ?? server.latest.get('report') ?? {};
    rssPeak = Math.max(rssPeak, (last.peakRss as number | undefined) ?? 0);
    const lost = (c: StreamCounts, sentCount: number): StreamCounts => ({ ...c, lost: c.lost + Math.max(0, sentCount - c.ok - c.corrupt - c.lost) });
    return {
      seconds: (Date.now() - fuzzStart) / 1000,
      sent,
      sentBytes,
      byKind,
      bySession,
      sessionsOpened,
      sessionsAdmitted,
      captured: captured.length,
      crashed,
      exit: server.exit === null ? null : JSON.stringify(server.exit),
      rssBefore,
      rssPeak,
      rssAfter: (last.memory?.rss as number | undefined) ?? 0,
      heapAfter: (last.memory?.heapUsed as number | undefined) ?? 0,
      rssSamples,
      server: last.counters === undefined ? null : {
        received: last.received,
        sent: last.sent,
        counters: last.counters,
        dropped: total(last.counters),
        handlerCalls: last.handlerCalls,
        authCalls: last.authCalls,
        peers: last.peers,
        authenticating: last.authenticating,
        connects: last.connects,
        failures: last.failures,
        unexpected: last.unexpected,
        legitRpc: last.legitRpc,
        legitBytes: last.legitBytes,
      },
      legit: {
        rpc: lost(legitClient.rpc.counts, legitClient.rpcSent),
        bytes: lost(legitClient.bytes.counts, legitClient.bytesSent),
        rpcSent: legitClient.rpcSent,
        bytesSent: legitClient.bytesSent,
        sentBytes: legitClient.sentBytes,
        disconnected: legitClient.disconnected,
        longestWaitMs: legitClient.longestWaitMs,
        problems: [...legitClient.rpc.firstProblems, ...legitClient.bytes.firstProblems],
        counters: legitClient.mp.getCounters(),
        relayedToUs: legitClient.relayedToUs,
        failures: legitClient.failures,
      },
    };
  } finally {
    for (const s of sessions) s.close();
    legit?.peer.close();
    await server.stop().catch(() => undefined);
  }
}

/** True if the run kept every promise: no crash, nothing of the legitimate traffic lost, handlers typed. */
export function sceneFuzzClean(r: SceneFuzzResult): boolean {
  const bad = (c: StreamCounts) => c.lost + c.reordered + c.duplicated + c.corrupt > 0;
  return !r.crashed && !bad(r.legit.rpc) && !bad(r.legit.bytes) && !r.legit.disconnected && r.legit.failures.length === 0 &&
    r.server !== null && r.server.failures.length === 0 && r.server.unexpected.length === 0;
}

export function formatSceneFuzz(r: SceneFuzzResult): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const kinds = Object.entries(r.byKind).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  const reasons = r.server === null ? '' : Object.entries(r.server.counters).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  const c = (x: StreamCounts) => `${n(x.ok)} ok, lost ${x.lost}, reordered ${x.reordered}, duplicated ${x.duplicated}, corrupt ${x.corrupt}`;
  return [
    `SceneMultiplayer packets fuzzed: ${n(r.sent)} (${mib(r.sentBytes)} MiB) in ${r.seconds.toFixed(1)} s from ${r.sessionsOpened} sessions ` +
      `(admitted ${n(r.bySession.admitted)}, authenticating ${n(r.bySession.authenticating)}, silent ${n(r.bySession.silent)} packets); ${r.captured} captured packets to mutate`,
    `  kinds: ${kinds}`,
    `  server: ${r.crashed ? `CRASHED (${r.exit})` : 'no crash'}; RSS ${mib(r.rssBefore)} MiB before, peak ${mib(r.rssPeak)}, ${mib(r.rssAfter)} after (heap ${mib(r.heapAfter)}); ` +
      (r.server === null ? 'no report' : `took ${n(r.server.received)} packets: ${n(r.server.dropped)} dropped and counted (${reasons}); ${n(r.server.handlerCalls)} RPC handler calls, ` +
        `${n(r.server.authCalls)} auth callbacks, ${n(r.server.sent)} packets sent, ${r.server.connects} peers admitted; handler type failures ${r.server.failures.length}, unexpected errors ${r.server.unexpected.length}`),
    `  legitimate client: RPC echoes ${c(r.legit.rpc)} of ${n(r.legit.rpcSent)}; send_bytes echoes ${c(r.legit.bytes)} of ${n(r.legit.bytesSent)}; ` +
      `${mib(r.legit.sentBytes)} MiB; ${r.legit.disconnected ? 'DISCONNECTED' : 'still connected'}; longest wait ${r.legit.longestWaitMs} ms; ` +
      `it dropped ${n(total(r.legit.counters))} hostile relayed packets and got ${n(r.legit.relayedToUs)} relayed bytes; type failures ${r.legit.failures.length}`,
  ].join('\n');
}

// ------------------------------------------------------------------------------------------------
// CLI

async function main(argv: string[]): Promise<void> {
  const o = parseCli('node tools/ts-run.js tools/scene-net-fuzz.ts', 'Hostile SceneMultiplayer packets over ENet against a server while legitimate clients play.', {
    packets: { value: 'N', help: 'stop after N packets', default: 10_000_000, parse: integer(1) },
    seconds: { value: 'N', help: 'or after N seconds, whichever comes first', default: 60, parse: number(1) },
    seed: { value: 'N', help: 'random seed (default: random)', parse: integer() },
    sessions: { value: 'N', help: 'hostile sessions', parse: integer(1) },
    rate: { value: 'N', help: 'packets per second', parse: number(1) },
  }, argv);
  const opts: SceneFuzzOptions = { packets: o.packets as number, seconds: o.seconds as number, progressMs: 5000, log: (l) => console.log(l) };
  if (o.seed !== undefined) opts.seed = o.seed;
  if (o.sessions !== undefined) opts.sessions = o.sessions;
  if (o.rate !== undefined) opts.rate = o.rate;
  const r = await runSceneFuzz(opts);
  console.log(formatSceneFuzz(r));
  for (const f of [...(r.server?.failures ?? []), ...(r.server?.unexpected ?? []), ...r.legit.failures, ...r.legit.problems]) console.log(`  ! ${f}`);
  process.exitCode = sceneFuzzClean(r) ? 0 : 1;
}

if (process.argv[1] === __filename) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(2);
  });
}

