/**
 * Child processes for the reliability tooling: a host under attack runs in its own process, so that a
 * crash is seen as a crash (an exit by signal) instead of taking the test runner down, and its memory
 * can be read from /proc without the noise of the attacker's. Children run tools/peer-process.ts
 * through tools/ts-run.js and talk over Node's IPC channel.
 */
import { ChildProcess, fork } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';

export const TOOLS_DIR = __dirname;
export const REPO_ROOT = path.resolve(__dirname, '..');

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Yields to the event loop (a macrotask, so sockets and IPC get their turn). */
export function yieldLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface ProcMemory {
  /** Resident set, bytes. */
  rss: number;
  /** Peak resident set (VmHWM), bytes. */
  hwm: number;
}

/** Resident memory of a process from /proc (Linux), or null once it is gone. */
export function procMemory(pid: number): ProcMemory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

export const MiB = 1024 * 1024;

export function mib(bytes: number, digits = 1): string {
  return (bytes / MiB).toFixed(digits);
}

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A message from a child: `type` plus fields. */
export type ChildMessage = { type: string } & Record<string, any>;

export class Child {
  readonly messages: ChildMessage[] = [];
  /** The latest message of each type. */
  readonly latest = new Map<string, ChildMessage>();
  readonly exited: Promise<ChildExit>;
  exit: ChildExit | null = null;
  readonly stderr: string[] = [];
  #waiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcess, readonly role: string) {
    proc.on('message', (m: ChildMessage) => {
      if (m === null || typeof m !== 'object') return;
      this.latest.set(m.type, m);
      // Reports are frequent: only the latest is kept.
      if (m.type !== 'report') this.messages.push(m);
      for (const w of this.#waiters.splice(0)) w();
    });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      this.stderr.push(chunk);
      if (this.stderr.length > 200) this.stderr.splice(0, 100);
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.exit = { code, signal };
        for (const w of this.#waiters.splice(0)) w();
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.proc.pid as number;
  }

  /** True if the child died from a signal or a non-zero exit (a crash, from the tooling's view). */
  get crashed(): boolean {
    return this.exit !== null && (this.exit.signal !== null || this.exit.code !== 0);
  }

  send(message: Record<string, unknown>): void {
    if (this.exit === null && this.proc.connected) this.proc.send(message);
  }

  memory(): ProcMemory | null {
    return procMemory(this.pid);
  }

  /** Waits for (and removes) the first message matching `pred`. */
  async next(pred: (m: ChildMessage) => boolean, timeoutMs: number, what: string): Promise<ChildMessage> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.messages.findIndex(pred);
      if (index >= 0) return this.messages.splice(index, 1)[0];
      if (this.exit !== null) {
        throw new Error(`${this.role} exited (${JSON.stringify(this.exit)}) while waiting for ${what}; stderr: ${this.stderr.join('').slice(-2000)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} from ${this.role}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 250));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Asks for a fresh report and returns it. */
  async report(timeoutMs = 10_000): Promise<ChildMessage> {
    const id = Math.floor(Math.random() * 1e9);
    this.send({ cmd: 'report', id });
    return this.next((m) => m.type === 'reply' && m.id === id, timeoutMs, 'a report');
  }

  /** Sends a command that the child answers with {type:'reply', id}. */
  async request(message: Record<string, unknown>, timeoutMs = 10_000): Promise<ChildMessage> {
    const id = Math.floor(Math.random() * 1e9);
    this.send({ ...message, id });
    return this.next((m) => m.type === 'reply' && m.id === id, timeoutMs, `the reply to ${String(message.cmd)}`);
  }

  /** Asks the child to quit, and kills it if it does not within `graceMs`. */
  async stop(graceMs = 5000): Promise<ChildExit> {
    if (this.exit !== null) return this.exit;
    this.send({ cmd: 'quit' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }
}

let precompiled = false;

// Children load the transpiled cache only (see tools/ts-run.js), not typescript: 60 MB less to measure.
function precompileOnce(): void {
  if (precompiled) return;
  precompiled = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const runner = require(path.join(TOOLS_DIR, 'ts-run.js')) as { precompile(entry: string): void };
  runner.precompile(path.join(TOOLS_DIR, 'peer-process.ts'));
}

/**
 * Starts tools/peer-process.ts in `role` with `options`, and waits for its {type:'ready'} message.
 */
export async function spawnPeer(role: string, options: Record<string, unknown> = {}, readyTimeoutMs = 30_000): Promise<Child> {
  precompileOnce();
  const proc = fork(path.join(TOOLS_DIR, 'ts-run.js'), [path.join(TOOLS_DIR, 'peer-process.ts'), role, JSON.stringify(options)], {
    cwd: REPO_ROOT,
    execArgv: ['--expose-gc'],
    env: { ...process.env },
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
  });
  const child = new Child(proc, role);
  try {
    await child.next((m) => m.type === 'ready', readyTimeoutMs, 'ready');
  } catch (error) {
    proc.kill('SIGKILL');
    throw error;
  }
  return child;
}

/** Runs `fn` at most every `everyMs` (for progress lines). */
export function throttled(everyMs: number, fn: () => void): () => void {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last >= everyMs) {
      last = now;
      fn();
    }
  };
}
