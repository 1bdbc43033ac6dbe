/**
 * Test driver for test/peers/enet_peer.py: a real upstream ENet peer
 * (Debian python3-enet over libenet7 1.3.17) scripted over JSON lines.
 *
 * Tests run their own ENet host in this same Node process, so everything that
 * waits here does so by polling: it calls the test's `pump()` about every
 * millisecond and yields to the event loop in between, which is also what
 * lets the child's stdout (replies and events) be read meanwhile.
 */
import { spawn, ChildProcessWithoutNullStreams } from 'child_process';
import { createHash } from 'crypto';
import * as path from 'path';

/** Python interpreter that has the `enet` module: the system one, not pyenv (PYPEER_PYTHON overrides). */
export const PYTHON = process.env.PYPEER_PYTHON ?? '/usr/bin/python3';
/** The reference peer script. */
export const PEER_SCRIPT = path.resolve(__dirname, '..', 'peers', 'enet_peer.py');

/** ENet packet flags as used on the wire by libenet (and in the protocol). */
export const ENET_FLAG = {
  RELIABLE: 1,
  UNSEQUENCED: 2,
  NO_ALLOCATE: 4,
  UNRELIABLE_FRAGMENT: 8,
} as const;

const REQUEST_TIMEOUT_MS = 10_000;
const CLOSE_GRACE_MS = 2_000;
const START_TIMEOUT_MS = 10_000;

export interface PyConnectEvent {
  ev: 'connect';
  peer: number;
  data: number;
  address: string;
  port: number;
  channels: number;
}

export interface PyDisconnectEvent {
  ev: 'disconnect';
  peer: number;
  data: number;
}

export interface PyReceiveEvent {
  ev: 'receive';
  peer: number;
  channel: number;
  flags: number;
  len: number;
  sha256: string;
  /** base64 payload, present only when len <= 65536. */
  data?: string;
}

/** Emitted for every datagram the Python host receives while capture is on. */
export interface PyDatagramEvent {
  ev: 'datagram';
  address: string;
  port: number;
  len: number;
  data: string;
}

export type PyEvent = PyConnectEvent | PyDisconnectEvent | PyReceiveEvent | PyDatagramEvent;

/** Reply object of a request: `ok` plus op-specific fields. */
export type PyReply = Record<string, any>;

interface Pending {
  resolve: (reply: PyReply) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  op: unknown;
}

function tick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * Calls `pump()` roughly every millisecond until `cond()` holds.
 * Yields to the event loop between calls so I/O (e.g. a child's stdout) runs.
 */
export async function pumpUntil(
  cond: () => boolean,
  pump: () => void,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (cond()) return;
    pump();
    if (cond()) return;
    if (Date.now() >= deadline) throw new Error(`timed out waiting for ${what}`);
    await tick();
  }
}

/** The deterministic payload the script sends for `"size"`: byte i = (i*7 + channel) & 255. */
export function patternBytes(size: number, channel: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = (i * 7 + channel) & 0xff;
  return out;
}

export function sha256hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function b64(data: Uint8Array | string): string {
  return Buffer.from(data).toString('base64');
}

/** Payload of a receive event as bytes (throws if it was too big to inline). */
export function eventBytes(e: PyReceiveEvent): Buffer {
  if (e.data === undefined) throw new Error(`packet of ${e.len} bytes was not inlined; compare sha256`);
  return Buffer.from(e.data, 'base64');
}

export class PyPeer {
  /** Every event received so far, in arrival order. */
  readonly events: PyEvent[] = [];
  /** Indices into `events` already handed out by waitEvent. */
  private readonly consumed = new Set<number>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stdoutBuf = '';
  private stderrTail = '';
  private exited = false;
  private exitInfo = '';
  private readonly exitPromise: Promise<void>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.exitPromise = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        this.exited = true;
        this.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
        const err = new Error(`enet_peer.py exited (${this.exitInfo}); stderr: ${this.stderrTail.trim()}`);
        for (const [, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(err);
        }
        this.pending.clear();
        resolve();
      });
    });
  }

  /** Spawns the reference peer and waits for its "ready" line. */
  static start(): Promise<PyPeer> {
    return new Promise((resolve, reject) => {
      let child: ChildProcessWithoutNullStreams;
      try {
        child = spawn(PYTHON, [PEER_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'] });
      } catch (err) {
        reject(new Error(`cannot spawn ${PYTHON}: ${(err as Error).message}`));
        return;
      }
      const peer = new PyPeer(child);
      // Writing to a dead child's stdin raises EPIPE on the stream; the exit
      // handler already reports that, so keep it from becoming uncaught.
      child.stdin.on('error', () => undefined);
      let settled = false;
      const fail = (msg: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(msg));
      };
      const timer = setTimeout(
        () => fail(`enet_peer.py did not report ready within ${START_TIMEOUT_MS} ms; stderr: ${peer.stderrTail}`),
        START_TIMEOUT_MS,
      );
      child.on('error', (err) =>
        fail(`cannot run ${PYTHON} (${err.message}); the reference peer needs the system Python with the Debian package python3-enet`),
      );
      child.once('close', (code) => {
        if (code === 3 || /IMPORT_ENET_FAILED|No module named .?enet/.test(peer.stderrTail)) {
          fail(
            `${PYTHON} cannot import the 'enet' module: install the Debian package python3-enet ` +
              `(apt-get install python3-enet). stderr: ${peer.stderrTail.trim()}`,
          );
        } else {
          fail(`enet_peer.py exited during startup (code ${code}); stderr: ${peer.stderrTail.trim()}`);
        }
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (process.env.PYPEER_DEBUG) process.stderr.write(chunk);
        peer.stderrTail = (peer.stderrTail + chunk).slice(-4000);
      });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        peer.onStdout(chunk, () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(peer);
        });
      });
    });
  }

  private onStdout(chunk: string, onReady: () => void): void {
    this.stdoutBuf += chunk;
    let nl: number;
    while ((nl = this.stdoutBuf.indexOf('\n')) >= 0) {
      const line = this.stdoutBuf.slice(0, nl);
      this.stdoutBuf = this.stdoutBuf.slice(nl + 1);
      if (!line.trim()) continue;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(line) as Record<string, unknown>;
      } catch {
        this.stderrTail = (this.stderrTail + `\n[unparsable stdout] ${line.slice(0, 200)}`).slice(-4000);
        continue;
      }
      if ('reply' in msg) {
        const p = this.pending.get(msg.reply as number);
        if (!p) continue;
        this.pending.delete(msg.reply as number);
        clearTimeout(p.timer);
        if (msg.ok === true) p.resolve(msg as PyReply);
        else p.reject(new Error(`enet_peer.py ${String(p.op)} failed: ${String(msg.error)}`));
      } else if (msg.ev === 'ready') {
        onReady();
      } else if (typeof msg.ev === 'string') {
        this.events.push(msg as unknown as PyEvent);
      }
    }
  }

  /** Sends one command; resolves with its reply, rejects on ok:false or after 10 s. */
  request(cmd: Record<string, unknown>): Promise<PyReply> {
    if (this.exited) {
      return Promise.reject(new Error(`enet_peer.py already exited (${this.exitInfo}); stderr: ${this.stderrTail.trim()}`));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`enet_peer.py ${String(cmd.op)} timed out after ${REQUEST_TIMEOUT_MS} ms`));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer, op: cmd.op });
      this.child.stdin.write(JSON.stringify({ ...cmd, id }) + '\n');
    });
  }

  /**
   * Resolves with the first event matching `pred` that no earlier waitEvent
   * returned (earlier non-matching events stay available), calling `pump()`
   * about every millisecond meanwhile.
   */
  async waitEvent(pred: (e: PyEvent) => boolean, timeoutMs: number, pump?: () => void): Promise<PyEvent> {
    let found = -1;
    let scanned = 0;
    const scan = (): boolean => {
      for (let i = 0; i < this.events.length; i++) {
        if (!this.consumed.has(i) && pred(this.events[i])) {
          found = i;
          return true;
        }
      }
      scanned = this.events.length;
      return false;
    };
    try {
      await pumpUntil(scan, pump ?? (() => undefined), timeoutMs, 'a matching event from enet_peer.py');
    } catch (err) {
      const recent = this.events
        .slice(Math.max(0, scanned - 5))
        .map((e) => JSON.stringify(e, (k, v) => (k === 'data' && typeof v === 'string' && v.length > 64 ? `${v.slice(0, 64)}…` : v)))
        .join('\n  ');
      throw new Error(`${(err as Error).message} after ${timeoutMs} ms (${this.events.length} events, last: \n  ${recent})`);
    }
    this.consumed.add(found);
    return this.events[found];
  }

  /** Events of one kind that no waitEvent has consumed yet. */
  unconsumed<K extends PyEvent['ev']>(kind: K): Extract<PyEvent, { ev: K }>[] {
    return this.events.filter((e, i) => e.ev === kind && !this.consumed.has(i)) as Extract<PyEvent, { ev: K }>[];
  }

  /** Process id of the reference peer (e.g. to signal it from a test). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.exited;
  }

  /**
   * Kills the process with `signal` (default SIGKILL: the peer vanishes without a word, its
   * socket closes) and resolves once it has exited.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.exited) return;
    this.child.kill(signal);
    await this.exitPromise;
  }

  /** Asks the script to quit; kills it if it has not exited after 2 s. */
  async close(): Promise<void> {
    if (this.exited) return;
    this.request({ op: 'quit' }).catch(() => undefined);
    this.child.stdin.end();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_GRACE_MS);
    await this.exitPromise;
    clearTimeout(timer);
  }
}
