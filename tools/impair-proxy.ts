/**
 * A userspace UDP impairment proxy (this kernel has no `tc netem`): clients send to the proxy, the proxy
 * forwards to one target (the server) and the answers back, damaging the traffic on the way in each
 * direction independently: loss, delay, jitter, duplication, reordering, a rate limit with a bounded
 * queue, and a switch that cuts the link. Every random choice comes from a seeded PRNG, so a run can be
 * repeated exactly.
 *
 * Each client address gets its own upstream socket (like a NAT), so the server sees one address per
 * client, and many clients can share one proxy.
 *
 * Programmatic use:
 *   const proxy = await ImpairProxy.start({ target: { address: '127.0.0.1', port: 7777 }, both: { loss: 0.1, delayMs: 20 } });
 *   client.connectToHost('127.0.0.1', proxy.port);
 *   proxy.configure('up', { loss: 0.3 });   proxy.cut();   proxy.restore();   proxy.stats;   await proxy.close();
 *
 * CLI (forwards until --seconds pass, default 600; prints stats every --stats seconds):
 *   node tools/ts-run.js tools/impair-proxy.ts --listen 127.0.0.1:7778 --target 127.0.0.1:7777 \
 *     --loss 0.1 --delay 20 --jitter 5 --dup 0.01 --reorder 0.05 --rate 1000000 [--up-loss 0.3] [--down-delay 50]
 *   While it runs, type on stdin: cut | restore | stats | set <up|down|both> <field> <value> | quit
 */
import { CliOption, integer, number, parseCli } from './cli';
import * as dgram from 'dgram';
import { isIPv6 } from 'net';

export interface Impairment {
  /** Probability (0..1) that a datagram is dropped. */
  loss: number;
  /** Fixed one-way delay, ms. */
  delayMs: number;
  /** Extra delay drawn uniformly from [0, jitterMs) per datagram (datagrams may overtake each other). */
  jitterMs: number;
  /** Probability that a datagram is delivered twice. */
  duplicate: number;
  /** Probability that a datagram is held back an extra reorderMs, so that later ones overtake it. */
  reorder: number;
  reorderMs: number;
  /** Bytes per second the link carries (0 = unlimited); excess waits in a queue of at most queueBytes. */
  rateBytesPerSec: number;
  /** Queue in front of the rate limiter; datagrams that do not fit are dropped (drop-tail). */
  queueBytes: number;
  /** Drop everything (the cable is pulled), including what is still in flight. */
  cut: boolean;
}

export type Direction = 'up' | 'down';

export interface DirectionStats {
  /** Datagrams that reached the proxy in this direction. */
  received: number;
  /** Datagrams handed to the destination socket (duplicates included). */
  delivered: number;
  bytesDelivered: number;
  lost: number;
  duplicated: number;
  /** Held back on purpose by the reorder knob. */
  heldBack: number;
  /** Delivered after a datagram that arrived later (by jitter or the reorder knob). */
  reordered: number;
  /** Dropped by the rate limiter's full queue. */
  rateDropped: number;
  /** Dropped because the link was cut. */
  cutDropped: number;
  /** Injected with inject(). */
  injected: number;
}

export interface ProxyStats {
  up: DirectionStats;
  down: DirectionStats;
  sessions: number;
  /** Datagrams from new clients refused because maxSessions were open. */
  sessionsRefused: number;
}

export interface ProxyOptions {
  target: { address: string; port: number };
  /** Address to listen on; defaults to the loopback of the target's family. */
  listenAddress?: string;
  listenPort?: number;
  /** Applied to both directions, then overridden by `up` (client -> target) and `down`. */
  both?: Partial<Impairment>;
  up?: Partial<Impairment>;
  down?: Partial<Impairment>;
  seed?: number;
  /** At most this many client sessions (each an upstream socket); default 8192. */
  maxSessions?: number;
  /** Sessions idle this long are closed; default 120 s. */
  idleMs?: number;
  /** Sees every datagram as it reaches the proxy (before any impairment). */
  tap?: (direction: Direction, data: Buffer, session: ProxySession) => void;
}

export interface ProxySession {
  readonly clientAddress: string;
  readonly clientPort: number;
  /** The upstream socket's port: the address the target sees for this client. */
  readonly upstreamPort: number;
}

export const NO_IMPAIRMENT: Impairment = {
  loss: 0,
  delayMs: 0,
  jitterMs: 0,
  duplicate: 0,
  reorder: 0,
  reorderMs: 10,
  rateBytesPerSec: 0,
  queueBytes: 64 * 1024,
  cut: false,
};

/** xorshift128+ style PRNG on 32-bit halves (mulberry32 mixing), deterministic per seed. */
export class Prng {
  #s: number;
  constructor(seed = 1) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }
  /** [0, 1) */
  next(): number {
    let t = (this.#s = (this.#s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }
}

interface Scheduled {
  due: number;
  seq: number;
  order: number;
  data: Buffer;
  session: Session;
}

/** A binary min-heap of datagrams by due time (then arrival order). */
class DueHeap {
  readonly #items: Scheduled[] = [];
  get size(): number {
    return this.#items.length;
  }
  peek(): Scheduled | undefined {
    return this.#items[0];
  }
  #less(a: Scheduled, b: Scheduled): boolean {
    return a.due < b.due || (a.due === b.due && a.order < b.order);
  }
  push(item: Scheduled): void {
    const h = this.#items;
    h.push(item);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.#less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }
  pop(): Scheduled | undefined {
    const h = this.#items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.#less(h[l], h[m])) m = l;
        if (r < h.length && this.#less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
  clear(): void {
    this.#items.length = 0;
  }
}

class Session implements ProxySession {
  lastActive = Date.now();
  constructor(readonly clientAddress: string, readonly clientPort: number, readonly socket: dgram.Socket) {}
  get upstreamPort(): number {
    try {
      return this.socket.address().port;
    } catch {
      return 0;
    }
  }
}

/** One direction of the link: impairment, rate limiter, delay line. */
class Link {
  imp: Impairment;
  readonly stats: DirectionStats = {
    received: 0, delivered: 0, bytesDelivered: 0, lost: 0, duplicated: 0, heldBack: 0, reordered: 0, rateDropped: 0,
    cutDropped: 0, injected: 0,
  };
  readonly #heap = new DueHeap();
  #timer: NodeJS.Timeout | null = null;
  #timerDue = Infinity;
  #seq = 0;
  #order = 0;
  #highestDelivered = -1;
  // Rate limiter: a FIFO of datagrams waiting for tokens.
  #tokens = 0;
  #tokensAt = Date.now();
  readonly #rateQueue: Array<{ data: Buffer; session: Session; seq: number }> = [];
  #rateQueueBytes = 0;
  #rateTimer: NodeJS.Timeout | null = null;

  constructor(imp: Impairment, readonly rng: Prng, readonly send: (data: Buffer, session: Session) => void) {
    this.imp = imp;
  }

  /** A datagram reached the proxy in this direction. */
  arrive(data: Buffer, session: Session, injected = false): void {
    const seq = this.#seq++;
    if (injected) this.stats.injected++;
    else this.stats.received++;
    const imp = this.imp;
    if (imp.cut) {
      this.stats.cutDropped++;
      return;
    }
    if (this.rng.chance(imp.loss)) {
      this.stats.lost++;
      return;
    }
    const copies = this.rng.chance(imp.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let c = 0; c < copies; c++) this.#limit(data, session, seq);
  }

  #limit(data: Buffer, session: Session, seq: number): void {
    const rate = this.imp.rateBytesPerSec;
    if (rate <= 0) {
      this.#delay(data, session, seq);
      return;
    }
    this.#refill();
    if (this.#rateQueue.length === 0 && this.#tokens >= data.length) {
      this.#tokens -= data.length;
      this.#delay(data, session, seq);
      return;
    }
    if (this.#rateQueueBytes + data.length > this.imp.queueBytes) {
      this.stats.rateDropped++;
      return;
    }
    this.#rateQueue.push({ data, session, seq });
    this.#rateQueueBytes += data.length;
    this.#armRate();
  }

  #refill(): void {
    const now = Date.now();
    const rate = this.imp.rateBytesPerSec;
    // A burst of at most 10 ms worth (and at least one full datagram).
    const burst = Math.max(4096, rate / 100);
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#tokensAt) * rate) / 1000);
    this.#tokensAt = now;
  }

  #armRate(): void {
    if (this.#rateTimer !== null) return;
    this.#rateTimer = setTimeout(() => {
      this.#rateTimer = null;
      this.#drainRate();
    }, 1);
  }

  #drainRate(): void {
    if (this.imp.rateBytesPerSec <= 0) {
      // The limit was lifted: everything queued goes now.
      for (const q of this.#rateQueue.splice(0)) this.#delay(q.data, q.session, q.seq);
      this.#rateQueueBytes = 0;
      return;
    }
    this.#refill();
    while (this.#rateQueue.length > 0 && this.#tokens >= this.#rateQueue[0].data.length) {
      const q = this.#rateQueue.shift() as { data: Buffer; session: Session; seq: number };
      this.#tokens -= q.data.length;
      this.#rateQueueBytes -= q.data.length;
      this.#delay(q.data, q.session, q.seq);
    }
    if (this.#rateQueue.length > 0) this.#armRate();
  }

  #delay(data: Buffer, session: Session, seq: number): void {
    const imp = this.imp;
    let extra = imp.delayMs + (imp.jitterMs > 0 ? this.rng.next() * imp.jitterMs : 0);
    if (this.rng.chance(imp.reorder)) {
      extra += imp.reorderMs;
      this.stats.heldBack++;
    }
    if (extra <= 0 && this.#heap.size === 0) {
      this.#deliver(data, session, seq);
      return;
    }
    this.#heap.push({ due: performance.now() + extra, seq, order: this.#order++, data, session });
    this.#arm();
  }

  #arm(): void {
    const next = this.#heap.peek();
    if (next === undefined) return;
    if (this.#timer !== null && this.#timerDue <= next.due) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerDue = next.due;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerDue = Infinity;
      this.#flushDue();
    }, Math.max(0, next.due - performance.now()));
  }

  #flushDue(): void {
    const now = performance.now();
    for (let n = 0; n < 100_000; n++) {
      const next = this.#heap.peek();
      if (next === undefined || next.due > now + 0.5) break;
      this.#heap.pop();
      this.#deliver(next.data, next.session, next.seq);
    }
    this.#arm();
  }

  #deliver(data: Buffer, session: Session, seq: number): void {
    if (this.imp.cut) {
      this.stats.cutDropped++;
      return;
    }
    if (seq < this.#highestDelivered) this.stats.reordered++;
    else this.#highestDelivered = seq;
    this.stats.delivered++;
    this.stats.bytesDelivered += data.length;
    this.send(data, session);
  }

  /** Drops what is queued or in flight (a cut link loses it). */
  dropInFlight(): void {
    this.stats.cutDropped += this.#heap.size + this.#rateQueue.length;
    this.#heap.clear();
    this.#rateQueue.length = 0;
    this.#rateQueueBytes = 0;
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (this.#rateTimer !== null) clearTimeout(this.#rateTimer);
    this.#timer = this.#rateTimer = null;
    this.#heap.clear();
    this.#rateQueue.length = 0;
  }
}

export class ImpairProxy {
  readonly #listen: dgram.Socket;
  readonly #target: { address: string; port: number };
  readonly #family: 'udp4' | 'udp6';
  readonly #sessions = new Map<string, Session>();
  readonly #links: Record<Direction, Link>;
  readonly #maxSessions: number;
  readonly #idleMs: number;
  readonly #tap: ProxyOptions['tap'];
  readonly #sweeper: NodeJS.Timeout;
  #sessionsRefused = 0;
  #closed = false;

  private constructor(listen: dgram.Socket, options: ProxyOptions, family: 'udp4' | 'udp6') {
    this.#listen = listen;
    this.#target = options.target;
    this.#family = family;
    this.#maxSessions = options.maxSessions ?? 8192;
    this.#idleMs = options.idleMs ?? 120_000;
    this.#tap = options.tap;
    const seed = options.seed ?? 1;
    const up = { ...NO_IMPAIRMENT, ...options.both, ...options.up };
    const down = { ...NO_IMPAIRMENT, ...options.both, ...options.down };
    this.#links = {
      up: new Link(up, new Prng(seed), (data, s) => s.socket.send(data, this.#target.port, this.#target.address, noop)),
      down: new Link(down, new Prng(seed ^ 0x5bd1e995), (data, s) => {
        if (!this.#closed) this.#listen.send(data, s.clientPort, s.clientAddress, noop);
      }),
    };
    listen.on('message', (msg, rinfo) => this.#fromClient(msg, rinfo));
    listen.on('error', noop);
    this.#sweeper = setInterval(() => this.#sweep(), Math.min(this.#idleMs, 5000));
    this.#sweeper.unref();
  }

  /** Opens the proxy's listening socket (port 0 = any free port). */
  static async start(options: ProxyOptions): Promise<ImpairProxy> {
    const family = isIPv6(options.target.address) ? 'udp6' : 'udp4';
    const address = options.listenAddress ?? (family === 'udp6' ? '::1' : '127.0.0.1');
    const socket = await bind(isIPv6(address) ? 'udp6' : 'udp4', address, options.listenPort ?? 0);
    return new ImpairProxy(socket, options, family);
  }

  /** The port clients send to. */
  get port(): number {
    return this.#listen.address().port;
  }

  get address(): string {
    return this.#listen.address().address;
  }

  /** Changes the impairment of one or both directions, effective for the next datagram. */
  configure(direction: Direction | 'both', change: Partial<Impairment>): void {
    for (const d of direction === 'both' ? (['up', 'down'] as const) : [direction]) {
      this.#links[d].imp = { ...this.#links[d].imp, ...change };
    }
  }

  impairment(direction: Direction): Impairment {
    return { ...this.#links[direction].imp };
  }

  /** Pulls the cable: from now on nothing gets through, and what is in flight is lost. */
  cut(direction: Direction | 'both' = 'both'): void {
    this.configure(direction, { cut: true });
    for (const d of direction === 'both' ? (['up', 'down'] as const) : [direction]) this.#links[d].dropInFlight();
  }

  /** Plugs it back in. */
  restore(direction: Direction | 'both' = 'both'): void {
    this.configure(direction, { cut: false });
  }

  /** Sends `data` as if it had arrived in `direction` for `session` (impairments apply). */
  inject(direction: Direction, data: Buffer, session: ProxySession): void {
    this.#links[direction].arrive(data, session as Session, true);
  }

  get sessions(): ProxySession[] {
    return [...this.#sessions.values()];
  }

  get stats(): ProxyStats {
    return {
      up: { ...this.#links.up.stats },
      down: { ...this.#links.down.stats },
      sessions: this.#sessions.size,
      sessionsRefused: this.#sessionsRefused,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#links.up.stop();
    this.#links.down.stop();
    const closing = [...this.#sessions.values()].map((s) => closeSocket(s.socket));
    this.#sessions.clear();
    closing.push(closeSocket(this.#listen));
    await Promise.all(closing);
  }

  #fromClient(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.#closed) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    let session = this.#sessions.get(key);
    if (session === undefined) {
      if (this.#sessions.size >= this.#maxSessions) {
        this.#sessionsRefused++;
        return;
      }
      const socket = dgram.createSocket({ type: this.#family, recvBufferSize: SOCKET_BUFFER, sendBufferSize: SOCKET_BUFFER });
      socket.on('error', noop);
      const s = new Session(rinfo.address, rinfo.port, socket);
      socket.on('message', (reply) => {
        s.lastActive = Date.now();
        this.#tap?.('down', reply, s);
        this.#links.down.arrive(reply, s);
      });
      // Bound synchronously enough: dgram queues sends until the implicit bind completes.
      socket.bind(0, this.#family === 'udp6' ? '::1' : '127.0.0.1');
      this.#sessions.set(key, s);
      session = s;
    }
    session.lastActive = Date.now();
    this.#tap?.('up', msg, session);
    this.#links.up.arrive(msg, session);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, s] of this.#sessions) {
      if (now - s.lastActive > this.#idleMs) {
        this.#sessions.delete(key);
        void closeSocket(s.socket);
      }
    }
  }
}

function noop(): void {
  // datagrams are fire and forget
}

// Bursts (a fuzzer, a flood) must not overflow the proxy's own sockets; the kernel caps this at rmem_max.
const SOCKET_BUFFER = 4 * 1024 * 1024;

function bind(type: 'udp4' | 'udp6', address: string, port: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type, recvBufferSize: SOCKET_BUFFER, sendBufferSize: SOCKET_BUFFER });
    socket.once('error', reject);
    socket.bind(port, address, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

function closeSocket(socket: dgram.Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve();
    }
  });
}

// ------------------------------------------------------------------------------------------------
// CLI

function parseHostPort(text: string, defaultAddress: string): { address: string; port: number } {
  let address = defaultAddress;
  let port = text;
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracket !== null) [, address, port] = bracket;
  else if (text.includes(':')) {
    address = text.slice(0, text.lastIndexOf(':'));
    port = text.slice(text.lastIndexOf(':') + 1);
  }
  if (!/^\d+$/.test(port) || Number(port) > 65535) throw new Error(`bad address "${text}" (want host:port or port)`);
  return { address, port: Number(port) };
}

const FIELDS: Record<string, keyof Impairment> = {
  loss: 'loss', delay: 'delayMs', jitter: 'jitterMs', dup: 'duplicate', duplicate: 'duplicate', reorder: 'reorder',
  'reorder-ms': 'reorderMs', rate: 'rateBytesPerSec', queue: 'queueBytes',
};

function applyField(imp: Partial<Impairment>, field: string, value: string): void {
  const key = FIELDS[field];
  if (key === undefined) throw new Error(`unknown impairment "${field}" (${Object.keys(FIELDS).join(', ')})`);
  (imp as Record<string, number>)[key] = Number(value);
}

// --<field>, --up-<field> and --down-<field> for each impairment field (both directions, or one).
function impairmentOptions(): Record<string, CliOption<number>> {
  const options: Record<string, CliOption<number>> = {};
  for (const field of Object.keys(FIELDS)) {
    for (const [prefix, which] of [['', 'both directions'], ['up-', 'client -> server'], ['down-', 'server -> client']]) {
      options[`${prefix}${field}`] = { value: 'X', help: `${FIELDS[field]}, ${which}`, parse: number(0) };
    }
  }
  return options;
}

async function main(argv: string[]): Promise<void> {
  const o = parseCli('node tools/ts-run.js tools/impair-proxy.ts', 'A UDP proxy that delays, drops, duplicates and reorders datagrams between a client and a server.', {
    listen: { value: 'host:port', help: 'where the proxy listens', default: '127.0.0.1:0' },
    target: { value: 'host:port', help: 'the server it forwards to (required)' },
    seconds: { value: 'N', help: 'forward for N seconds', default: 600, parse: number(0) },
    stats: { value: 'N', help: 'print stats every N seconds (0: only at the end)', default: 5, parse: number(0) },
    seed: { value: 'N', help: 'random seed', default: 1, parse: integer() },
    ...impairmentOptions(),
  }, argv);
  const listen = o.listen as string;
  const target = (o.target as string | undefined) ?? '';
  const seconds = o.seconds as number;
  const statsEvery = o.stats as number;
  const seed = o.seed as number;
  const both: Partial<Impairment> = {};
  const up: Partial<Impairment> = {};
  const down: Partial<Impairment> = {};
  for (const field of Object.keys(FIELDS)) {
    for (const [prefix, into] of [['', both], ['up-', up], ['down-', down]] as const) {
      const value = (o as Record<string, unknown>)[`${prefix}${field}`];
      if (typeof value === 'number') (into as Record<string, number>)[FIELDS[field]] = value;
    }
  }
  if (target === '') throw new Error('--target host:port is required');
  const t = parseHostPort(target, '127.0.0.1');
  const l = parseHostPort(listen, isIPv6(t.address) ? '::1' : '127.0.0.1');
  const proxy = await ImpairProxy.start({ target: t, listenAddress: l.address, listenPort: l.port, both, up, down, seed });
  console.log(`impair-proxy: ${proxy.address}:${proxy.port} -> ${t.address}:${t.port}; ` +
    `up ${JSON.stringify(proxy.impairment('up'))}; down ${JSON.stringify(proxy.impairment('down'))}`);
  const print = (): void => console.log(JSON.stringify(proxy.stats));
  const ticker = statsEvery > 0 ? setInterval(print, statsEvery * 1000) : null;
  let done: () => void = noop;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const stopAt = setTimeout(() => done(), seconds * 1000);
  process.once('SIGINT', () => done());
  process.once('SIGTERM', () => done());
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    for (const line of chunk.split('\n').map((s) => s.trim()).filter(Boolean)) {
      const [cmd, ...rest] = line.split(/\s+/);
      try {
        if (cmd === 'cut') proxy.cut((rest[0] as Direction | undefined) ?? 'both');
        else if (cmd === 'restore') proxy.restore((rest[0] as Direction | undefined) ?? 'both');
        else if (cmd === 'stats') print();
        else if (cmd === 'quit') done();
        else if (cmd === 'set' && rest.length === 3) {
          const change: Partial<Impairment> = {};
          applyField(change, rest[1], rest[2]);
          proxy.configure(rest[0] as Direction | 'both', change);
          console.log(`up ${JSON.stringify(proxy.impairment('up'))}; down ${JSON.stringify(proxy.impairment('down'))}`);
        } else console.log('commands: cut [up|down] | restore [up|down] | stats | set <up|down|both> <field> <value> | quit');
      } catch (error) {
        console.log(String(error));
      }
    }
  });
  await finished;
  clearTimeout(stopAt);
  if (ticker !== null) clearInterval(ticker);
  print();
  process.stdin.pause();
  await proxy.close();
}

if (process.argv[1] === __filename) {
  main(process.argv.slice(2)).catch((error) => {
    console.error(String(error instanceof Error ? error.message : error));
    process.exit(2);
  });
}
