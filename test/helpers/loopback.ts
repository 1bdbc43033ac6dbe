/**
 * Shared helpers for the ENetConnection / ENetPacketPeer tests on real UDP loopback.
 *
 * Every host binds port 0 (the OS picks a free port) and tests read it back with getLocalPort().
 * Waiting is always "pump service() on every host until a condition holds", yielding to the event
 * loop between rounds, with a deadline that fails the test with a description of what it waited for.
 */
import { afterEach, beforeEach, expect } from '@jest/globals';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ENetConnection,
  ENetPacketPeer,
  EventType,
  GodotError,
  PeerState,
  ServiceResult,
  setErrorReporter,
} from '../../src';

/** The repository root (the package the child-process fixtures `require`). */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** Default deadline for anything that should happen "soon" on loopback. */
export const DEADLINE_MS = 5000;

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// ------------------------------------------------------------------------------------------------
// Error reports (Godot's ERR_FAIL_* messages) go through setErrorReporter; tests capture them.

export interface ErrorCapture {
  /** Messages reported since the last take(), and clears them. */
  take(): string[];
  /** Every message reported since the last take(), without clearing. */
  readonly messages: readonly string[];
  /** Expects `fn` to report at least one error (Godot's ERR_FAIL_* print) and returns its result. */
  reportsError<T>(fn: () => T): T;
  /** Expects `fn` not to report any error and returns its result. */
  reportsNothing<T>(fn: () => T): T;
}

/**
 * Installs an error reporter that records messages, for every test of the calling file (so the
 * expected failures of these tests do not print process warnings).
 */
export function captureErrors(): ErrorCapture {
  let messages: string[] = [];
  beforeEach(() => {
    messages = [];
    setErrorReporter((message) => messages.push(message));
  });
  afterEach(() => {
    setErrorReporter(() => undefined);
  });
  const capture: ErrorCapture = {
    take() {
      const taken = messages;
      messages = [];
      return taken;
    },
    get messages() {
      return messages;
    },
    reportsError<T>(fn: () => T): T {
      capture.take();
      const result = fn();
      expect(capture.take().length).toBeGreaterThan(0);
      return result;
    },
    reportsNothing<T>(fn: () => T): T {
      capture.take();
      const result = fn();
      expect(capture.take()).toEqual([]);
      return result;
    },
  };
  return capture;
}

// ------------------------------------------------------------------------------------------------
// Hosts, cleaned up after each test.

const live = new Set<ENetConnection>();

/** Every connection made through these helpers is destroyed after each test of a file that calls this. */
export function destroyHostsAfterEach(): void {
  afterEach(() => {
    for (const connection of live) {
      // getCounters() is null (and reports nothing) once there is no host.
      if (connection.getCounters() !== null) connection.destroy();
    }
    live.clear();
  });
}

/** A new ENetConnection (no host yet) that is destroyed after the test. */
export function newConnection(): ENetConnection {
  const connection = new ENetConnection();
  live.add(connection);
  return connection;
}

export interface HostOptions {
  address?: string;
  maxPeers?: number;
  maxChannels?: number;
  inBandwidth?: number;
  outBandwidth?: number;
}

/** A host bound to `address` (default "*") on an ephemeral port; fails the test if creation fails. */
export function boundHost(options: HostOptions = {}): ENetConnection {
  const connection = newConnection();
  const result = connection.createHostBound(options.address ?? '*', 0, options.maxPeers ?? 32, options.maxChannels ?? 0,
    options.inBandwidth ?? 0, options.outBandwidth ?? 0);
  expect(result).toBe(GodotError.OK);
  expect(connection.getLocalPort()).toBeGreaterThan(0);
  return connection;
}

/** An unbound client host (createHost); fails the test if creation fails. */
export function clientHost(maxPeers = 1): ENetConnection {
  const connection = newConnection();
  expect(connection.createHost(maxPeers)).toBe(GodotError.OK);
  return connection;
}

// ------------------------------------------------------------------------------------------------
// Endpoints: a host plus the log of events its service() returned.

export class Endpoint {
  /** Events returned by service(), in order, not yet taken. */
  readonly events: ServiceResult[] = [];

  constructor(readonly host: ENetConnection) {}

  /** Calls service(0) until it returns EVENT_NONE (or EVENT_ERROR), logging every event. */
  pump(): void {
    for (;;) {
      const event = this.host.service(0);
      if (event[0] === EventType.EVENT_NONE) return;
      this.events.push(event);
      if (event[0] === EventType.EVENT_ERROR) return;
    }
  }

  /** Logged events of `type` (for `peer` if given), without taking them. */
  find(type: EventType, peer?: ENetPacketPeer): ServiceResult[] {
    return this.events.filter((e) => e[0] === type && (peer === undefined || e[1] === peer));
  }

  /** Removes and returns the first logged event matching, or undefined. */
  take(type: EventType, peer?: ENetPacketPeer): ServiceResult | undefined {
    const index = this.events.findIndex((e) => e[0] === type && (peer === undefined || e[1] === peer));
    return index < 0 ? undefined : this.events.splice(index, 1)[0];
  }
}

export interface WaitOptions {
  timeoutMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
}

/**
 * Pumps every endpoint (service until NONE), then checks `condition`, until it holds or the deadline
 * passes (then throws). Yields to the event loop between rounds.
 */
export async function pumpUntil(endpoints: Endpoint[], condition: () => boolean, options: WaitOptions = {}): Promise<void> {
  const timeoutMs = options.timeoutMs ?? DEADLINE_MS;
  const deadline = Date.now() + timeoutMs;
  for (let round = 0; ; round++) {
    for (const endpoint of endpoints) endpoint.pump();
    if (condition()) return;
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.what ?? 'a condition'}`);
    }
    await (round % 8 === 7 ? sleep(1) : new Promise<void>((resolve) => setImmediate(resolve)));
  }
}

/** Pumps every endpoint for `ms` milliseconds (to let anything that would arrive, arrive). */
export async function pumpFor(endpoints: Endpoint[], ms: number): Promise<void> {
  const end = Date.now() + ms;
  await pumpUntil(endpoints, () => Date.now() >= end, { timeoutMs: ms + DEADLINE_MS });
}

/**
 * Pumps until `endpoint` has logged an event of `type` (for `peer` if given), then takes and returns it.
 */
export async function nextEvent(endpoint: Endpoint, type: EventType, pumped: Endpoint[], peer?: ENetPacketPeer,
  timeoutMs = DEADLINE_MS): Promise<ServiceResult> {
  const all = pumped.includes(endpoint) ? pumped : [endpoint, ...pumped];
  await pumpUntil(all, () => endpoint.find(type, peer).length > 0,
    { timeoutMs, what: `${EventType[type]} on ${endpoint === all[0] ? 'the endpoint' : 'an endpoint'}` });
  return endpoint.take(type, peer) as ServiceResult;
}

// ------------------------------------------------------------------------------------------------
// Connected pairs.

export interface PairOptions {
  /** Server bind address (default "*"). */
  bind?: string;
  /** Address the client connects to (default "127.0.0.1", or "::1" when bind is "::1"). */
  connectTo?: string;
  /** Channels the client asks for (connectToHost's `channels`, 0 = 255). */
  channels?: number;
  /** CONNECT data. */
  data?: number;
  server?: HostOptions;
}

export interface Pair {
  server: Endpoint;
  client: Endpoint;
  /** The server's ENetPacketPeer for the client (from its CONNECT event). */
  serverPeer: ENetPacketPeer;
  /** The client's ENetPacketPeer for the server (returned by connectToHost). */
  clientPeer: ENetPacketPeer;
  /** The server's CONNECT event. */
  serverConnect: ServiceResult;
  /** The client's CONNECT event. */
  clientConnect: ServiceResult;
  both: Endpoint[];
}

/** Starts a client connection to `server` without waiting for it. */
export function startClient(server: ENetConnection, options: PairOptions = {}): { client: Endpoint; peer: ENetPacketPeer } {
  const client = new Endpoint(clientHost());
  const address = options.connectTo ?? (options.bind === '::1' || options.bind === '::' ? '::1' : '127.0.0.1');
  const peer = client.host.connectToHost(address, server.getLocalPort(), options.channels ?? 0, options.data ?? 0);
  expect(peer).not.toBeNull();
  return { client, peer: peer as ENetPacketPeer };
}

/** Connects a new client to an existing server endpoint; resolves once both sides saw CONNECT. */
export async function connectClient(server: Endpoint, options: PairOptions = {}, others: Endpoint[] = []): Promise<Pair> {
  const { client, peer: clientPeer } = startClient(server.host, options);
  const both = [server, client];
  const clientConnect = await nextEvent(client, EventType.EVENT_CONNECT, [server, ...others], clientPeer);
  // The server's CONNECT for this client: the one whose peer has the client's local port.
  const port = client.host.getLocalPort();
  await pumpUntil([server, client, ...others],
    () => server.find(EventType.EVENT_CONNECT).some((e) => e[1]?.getRemotePort() === port),
    { what: 'the server CONNECT' });
  const index = server.events.findIndex((e) => e[0] === EventType.EVENT_CONNECT && e[1]?.getRemotePort() === port);
  const serverConnect = server.events.splice(index, 1)[0];
  const serverPeer = serverConnect[1] as ENetPacketPeer;
  expect(clientPeer.getState()).toBe(PeerState.STATE_CONNECTED);
  return { server, client, serverPeer, clientPeer, serverConnect, clientConnect, both };
}

/** A server bound on `bind` (default "*") with one client connected to it. */
export async function connectPair(options: PairOptions = {}): Promise<Pair> {
  const server = new Endpoint(boundHost({ ...options.server, address: options.bind ?? '*' }));
  return connectClient(server, options);
}

/** Sends `data` and waits for the matching RECEIVE on the other side; returns the event and packet. */
export async function exchange(from: ENetPacketPeer, to: Endpoint, pumped: Endpoint[], channel: number, data: Uint8Array,
  flags: number): Promise<{ event: ServiceResult; packet: Buffer; flags: number }> {
  expect(from.send(channel, data, flags)).toBe(GodotError.OK);
  const event = await nextEvent(to, EventType.EVENT_RECEIVE, pumped);
  const peer = event[1] as ENetPacketPeer;
  const receivedFlags = peer.getPacketFlags();
  return { event, packet: peer.getPacket(), flags: receivedFlags };
}

/** Deterministic test bytes. */
export function pattern(length: number, seed = 1): Buffer {
  const bytes = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

// ------------------------------------------------------------------------------------------------
// Built package (dist/) for tests that load it the way users do.

let built = false;

/**
 * Makes sure dist/ (including the ESM entry) is built from the current sources. Runs the same steps
 * as `npm run build:ts` when any source is newer than dist/index.js; a lock serializes the jest workers.
 */
export function ensureBuilt(): void {
  if (built) return;
  const lock = path.join(os.tmpdir(), `godot-enet-build-${Buffer.from(REPO_ROOT).toString('hex').slice(-24)}.lock`);
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // A lock older than two minutes belongs to a dead process.
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > 120_000) fs.rmdirSync(lock);
      } catch {
        // gone meanwhile
      }
      if (Date.now() > deadline) throw new Error('timed out waiting for the dist/ build lock');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    if (isDistStale()) {
      try {
        execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.json'],
          { cwd: REPO_ROOT, stdio: 'pipe' });
      } catch (error) {
        // tsc emits even with type errors; only a missing output is fatal here.
        if (!fs.existsSync(path.join(REPO_ROOT, 'dist', 'index.js'))) throw error;
      }
      execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'write-esm-entry.js')], { cwd: REPO_ROOT, stdio: 'pipe' });
    }
    built = true;
  } finally {
    fs.rmdirSync(lock);
  }
}

function isDistStale(): boolean {
  const dist = path.join(REPO_ROOT, 'dist');
  const outputs = ['index.js', 'index.mjs'].map((f) => path.join(dist, f));
  if (!outputs.every((f) => fs.existsSync(f))) return true;
  const builtAt = Math.min(...outputs.map((f) => fs.statSync(f).mtimeMs));
  const src = path.join(REPO_ROOT, 'src');
  // src/ has rooms (core/, enet/, manifest/, …): look at every file under it.
  return (fs.readdirSync(src, { recursive: true }) as string[]).some((f) => f.endsWith('.ts') && fs.statSync(path.join(src, f)).mtimeMs > builtAt);
}
