/**
 * Flood scenarios against a server in a child process (tools/peer-process.ts), each with a legitimate
 * client streaming through it. Used by test/floods.test.ts (short) and tools/reliability.ts (long).
 *
 *   connectionFlood   many more real clients than the server has slots
 *   spoofedStorm      CONNECTs from thousands of addresses that never answer (spoofed sources)
 *   stalledReceiver   the server keeps sending to a client that stopped reading, or whose link is slow
 *   manyPeers         4095 clients at once (ENet's maximum), each with its own socket
 */
import * as dgram from 'dgram';
import { ENetConnection, ENetPacketPeer, EventType, GodotError, PeerState } from '../src';
import { HEADER_SENT_TIME, NO_PEER, connectCommand } from '../test/helpers/enet-wire';
import { Child, ChildMessage, MiB, sleep, spawnPeer } from './harness';
import { ImpairProxy, Prng } from './impair-proxy';
import { Timeouts } from './impairment';

export interface ServerMemory {
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
}

export interface LegitOutcome {
  bytes: number;
  packets: number;
  lost: number;
  reordered: number;
  corrupt: number;
  disconnected: boolean;
  longestWaitMs: number;
}

/** Starts a server child and a legitimate streamer connected to it (paced, so it is not a flood itself). */
async function serverWithLegit(serverOptions: Record<string, unknown>, maxSeconds: number): Promise<{ server: Child; streamer: Child; port: number }> {
  const server = await spawnPeer('server', { reportMs: 100, maxSeconds, ...serverOptions });
  const port = server.latest.get('ready')?.port as number;
  let streamer: Child;
  try {
    streamer = await spawnPeer('streamer', { port, profile: 'mixed', window: 16, rateBytesPerSec: 256 * 1024, reportMs: 100, maxSeconds });
  } catch (error) {
    await server.stop();
    throw error;
  }
  const deadline = Date.now() + 15_000;
  while (((streamer.latest.get('report')?.counts?.ok as number | undefined) ?? 0) < 20) {
    if (Date.now() > deadline || streamer.exit !== null || server.exit !== null) {
      await Promise.all([streamer.stop(), server.stop()]);
      throw new Error('the legitimate stream did not start');
    }
    await sleep(20);
  }
  return { server, streamer, port };
}

/** Stops the legitimate stream, waits for what it sent to come back, returns its verdict. */
async function finishLegit(streamer: Child): Promise<LegitOutcome> {
  streamer.send({ cmd: 'stop' });
  let r: ChildMessage | undefined = streamer.latest.get('report');
  const deadline = Date.now() + 15_000;
  for (;;) {
    r = await streamer.report().catch(() => r);
    if (r === undefined || r.disconnected || r.sent <= r.counts.ok + r.counts.corrupt || Date.now() > deadline) break;
    await sleep(50);
  }
  const c = r?.counts ?? {};
  return {
    bytes: c.okBytes ?? 0,
    packets: c.ok ?? 0,
    lost: (c.lost ?? 0) + Math.max(0, (r?.sent ?? 0) - (c.ok ?? 0) - (c.corrupt ?? 0)),
    reordered: (c.reordered ?? 0) + (c.duplicated ?? 0),
    corrupt: c.corrupt ?? 0,
    disconnected: r?.disconnected ?? true,
    longestWaitMs: r?.longestWaitMs ?? 0,
  };
}

/**
 * Follows a swarm of `count` clients until every one has connected and had its echo, or given up (or
 * the deadline passes, or a process exits): the swarm's last report and the server's peaks meanwhile.
 */
async function watchSwarm(server: Child, swarm: Child, count: number, deadline: number, pollMs: number):
  Promise<{ last: ChildMessage | undefined; rssPeak: number; peersPeak: number }> {
  let rssPeak = 0;
  let peersPeak = 0;
  for (;;) {
    const last = swarm.latest.get('report');
    const r = server.latest.get('report');
    if (r !== undefined) {
      rssPeak = Math.max(rssPeak, r.memory.rss);
      peersPeak = Math.max(peersPeak, r.peers);
    }
    const settled = last !== undefined && last.created === count && last.echoed + last.disconnected >= count;
    if (settled || Date.now() > deadline || server.exit !== null || swarm.exit !== null) return { last, rssPeak, peersPeak };
    await sleep(pollMs);
  }
}

async function gcReport(server: Child): Promise<ChildMessage> {
  await server.request({ cmd: 'gc' });
  return server.report();
}

// ------------------------------------------------------------------------------------------------

export interface ConnectionFloodOptions {
  /** Server slots (ENet maxPeers = Godot's max_clients); the legitimate client takes one. */
  maxClients: number;
  /** Clients that try to connect at once. */
  clients: number;
  /** Timeouts of the flooding clients (how long they keep trying). */
  clientTimeouts?: Timeouts;
  seconds?: number;
}

export interface ConnectionFloodResult {
  maxClients: number;
  clients: number;
  connected: number;
  echoed: number;
  /** Clients whose CONNECT was never answered (they timed out). */
  refused: number;
  /** Peers the server had at the peak. */
  serverPeersPeak: number;
  /** After the flood left: a new client could connect. */
  reconnectOk: boolean;
  seconds: number;
  crashed: boolean;
  memory: ServerMemory;
  legit: LegitOutcome;
}

export async function connectionFlood(options: ConnectionFloodOptions): Promise<ConnectionFloodResult> {
  const seconds = options.seconds ?? 60;
  const { server, streamer, port } = await serverWithLegit({ maxPeers: options.maxClients, echo: 'all' }, seconds + 60);
  let swarm: Child | null = null;
  let probe: Child | null = null;
  const start = Date.now();
  try {
    const before = await gcReport(server);
    let peak = before.memory.rss as number;
    swarm = await spawnPeer('swarm', { port, count: options.clients, timeouts: options.clientTimeouts ?? [32, 2000, 4000], reportMs: 100, maxSeconds: seconds + 30 });
    const watched = await watchSwarm(server, swarm, options.clients, Date.now() + seconds * 1000, 50);
    const s = watched.last;
    peak = Math.max(peak, watched.rssPeak);
    let peersPeak = watched.peersPeak;
    const connected = (s?.connected as number | undefined) ?? 0;
    const echoed = (s?.echoed as number | undefined) ?? 0;
    const refused = (s?.disconnected as number | undefined) ?? 0;
    if (server.exit === null) peersPeak = Math.max(peersPeak, (await server.report()).peers as number);
    swarm.send({ cmd: 'leave' });
    const leaveDeadline = Date.now() + 15_000;
    while (Date.now() < leaveDeadline && server.exit === null) {
      const r = await server.report();
      if (r.peers <= 1) break;
      await sleep(100);
    }
    await swarm.stop();
    swarm = null;
    // A newcomer gets in now.
    probe = await spawnPeer('swarm', { port, count: 1, timeouts: [32, 2000, 4000], reportMs: 50, maxSeconds: 30 });
    const probeDeadline = Date.now() + 10_000;
    let reconnectOk = false;
    while (Date.now() < probeDeadline) {
      const p = probe.latest.get('report');
      if (p?.echoed === 1) {
        reconnectOk = true;
        break;
      }
      if (p?.disconnected === 1) break;
      await sleep(50);
    }
    const legit = await finishLegit(streamer);
    const after = server.exit === null ? await gcReport(server) : undefined;
    return {
      maxClients: options.maxClients,
      clients: options.clients,
      connected,
      echoed,
      refused,
      serverPeersPeak: peersPeak,
      reconnectOk,
      seconds: (Date.now() - start) / 1000,
      crashed: server.exit !== null,
      memory: { rssBefore: before.memory.rss, rssPeak: Math.max(peak, after?.peakRss ?? 0), rssAfter: after?.memory.rss ?? 0 },
      legit,
    };
  } finally {
    await Promise.all([swarm?.stop(), probe?.stop(), streamer.stop(), server.stop()]);
  }
}

// ------------------------------------------------------------------------------------------------

export interface StormOptions {
  maxPeers: number;
  /** Distinct source addresses (127.a.b.c, each its own socket and port). */
  sources: number;
  /** CONNECTs in all, spread over the sources. */
  connects: number;
  /** CONNECTs per second. */
  rate: number;
  /** 'silent': the sources never answer (spoofed addresses that drop what the server sends);
   *  'closed': their sockets are closed, so the server's answers bounce (ICMP port unreachable). */
  mode?: 'silent' | 'closed';
  /** Wait (up to 35 s) for the last half-open peers' retransmissions to stop, to measure their lifetime
   *  (default true). */
  measureLifetime?: boolean;
  /** After the storm, wait at most this long for a real client to get in again. */
  recoverSeconds?: number;
  seed?: number;
}

export interface StormResult {
  connects: number;
  sources: number;
  seconds: number;
  /** Half-open peers: storm CONNECTs the server gave a slot (it sent their source a VERIFY_CONNECT). */
  halfOpen: number;
  /** How long the server kept retransmitting a half-open peer's VERIFY_CONNECT (first to last), ms. The
   *  slot itself is held until the timeout check after the last one (see recoveryMs). */
  verifySpanMs: { median: number; max: number };
  /** VERIFY_CONNECTs (first sends and retransmissions) the sources received. */
  verifies: number;
  /** Datagrams the server sent during the storm and recovery. */
  serverSent: number;
  /** Server datagrams per storm CONNECT. */
  amplification: number;
  /** A real client tried to connect during the storm every second: how many made it. */
  probesDuringStorm: { tried: number; connected: number };
  /** ms from the storm's end until a real client could connect again (null: not within recoverSeconds). */
  recoveryMs: number | null;
  crashed: boolean;
  counters: Record<string, unknown> | null;
  memory: ServerMemory;
  legit: LegitOutcome;
}

/** A client host that tries once to connect, for probing a server (pumped by the caller). */
class Probe {
  readonly host = new ENetConnection();
  readonly peer: ENetPacketPeer | null;
  result: 'pending' | 'connected' | 'failed' = 'pending';
  readonly startedAt = Date.now();
  constructor(port: number, timeouts: Timeouts) {
    this.host.createHost(1);
    this.peer = this.host.connectToHost('127.0.0.1', port, 2, 7);
    this.peer?.setTimeout(timeouts[0], timeouts[1], timeouts[2]);
  }
  pump(): void {
    if (this.result !== 'pending') return;
    for (let e = this.host.service(0); e[0] !== EventType.EVENT_NONE; e = this.host.service(0)) {
      if (e[0] === EventType.EVENT_CONNECT) this.result = 'connected';
      if (e[0] === EventType.EVENT_DISCONNECT) this.result = 'failed';
    }
    if (this.peer === null) this.result = 'failed';
  }
  close(): void {
    if (this.peer !== null && this.peer.isActive() && this.peer.getState() === PeerState.STATE_CONNECTED) this.peer.peerDisconnectNow(0);
    if (this.host.getCounters() !== null) this.host.destroy();
  }
}

export async function spoofedStorm(options: StormOptions): Promise<StormResult> {
  const rng = new Prng(options.seed ?? 5);
  const recoverSeconds = options.recoverSeconds ?? 40;
  const { server, streamer, port } = await serverWithLegit({ maxPeers: options.maxPeers, echo: 'legit' }, recoverSeconds + 120);
  const sockets: dgram.Socket[] = [];
  const probes: Probe[] = [];
  // VERIFY_CONNECTs the server sent to the storm's sources, by source and connectID: first and last.
  const verified = new Map<string, { first: number; last: number }>();
  let verifies = 0;
  const start = Date.now();
  try {
    const before = await gcReport(server);
    let peak = before.memory.rss as number;
    const sentBase = before.sentDatagrams as number;
    const observe = (): void => {
      const r = server.latest.get('report');
      if (r !== undefined) peak = Math.max(peak, r.memory.rss);
    };
    // Sources: sockets on distinct loopback addresses (all of 127/8 is local on Linux).
    for (let i = 0; i < options.sources; i++) {
      const socket = dgram.createSocket('udp4');
      socket.on('error', () => undefined);
      socket.on('message', (msg) => {
        // header (4 bytes with sentTime) then commands; a VERIFY_CONNECT is 44 bytes, connectID at 40.
        for (let at = (msg.readUInt16BE(0) & HEADER_SENT_TIME) !== 0 ? 4 : 2; at + 4 <= msg.length; ) {
          const type = msg[at] & 0x0f;
          if (type === 3 && at + 44 <= msg.length) {
            verifies++;
            const key = `${i}:${msg.readUInt32BE(at + 40)}`;
            const now = Date.now();
            const v = verified.get(key);
            if (v === undefined) verified.set(key, { first: now, last: now });
            else v.last = now;
            at += 44;
          } else break;
        }
      });
      const address = `127.${1 + rng.int(254)}.${rng.int(256)}.${1 + rng.int(254)}`;
      await new Promise<void>((resolve) => socket.bind(0, address, () => resolve()));
      sockets.push(socket);
    }
    const header = Buffer.alloc(4);
    header.writeUInt16BE(NO_PEER | HEADER_SENT_TIME, 0);
    let sent = 0;
    let probesTried = 0;
    const stormStart = Date.now();
    // A probe per second of storm (counted in CONNECTs sent, so that a stalled test machine cannot skip
    // one), the first once the storm is a second old (its slots long taken).
    let nextProbeAt = options.rate;
    while (sent < options.connects && server.exit === null) {
      const due = Math.min(options.connects, Math.floor(((Date.now() - stormStart) * options.rate) / 1000));
      while (sent < due) {
        const socket = sockets[sent % sockets.length];
        header.writeUInt16BE(rng.int(65536), 2);
        const cmd = connectCommand({ channelCount: 2 + rng.int(254), data: rng.int(0x7fffffff), outgoingPeerID: rng.int(4095) },
          Buffer.from([rng.int(256), rng.int(256), rng.int(256), rng.int(256)]));
        socket.send(Buffer.concat([header, cmd]), port, '127.0.0.1');
        sent++;
      }
      if (sent >= nextProbeAt && sent < options.connects) {
        nextProbeAt += options.rate;
        probes.push(new Probe(port, [32, 1000, 2000]));
        probesTried++;
      }
      for (const p of probes) p.pump();
      observe();
      await sleep(2);
    }
    if (options.mode === 'closed') {
      for (const s of sockets.splice(0)) s.close();
    }
    const stormEnd = Date.now();
    // Probes started during the storm finish; meanwhile a new probe every 500 ms until one gets in.
    let recoveryMs: number | null = null;
    const recoverDeadline = stormEnd + recoverSeconds * 1000;
    const stormProbes = probes.slice();
    let nextProbe = recoverSeconds > 0 ? Date.now() : Infinity;
    const probesDeadline = Date.now() + 3000;
    while (server.exit === null && (Date.now() < recoverDeadline || (stormProbes.some((p) => p.result === 'pending') && Date.now() < probesDeadline))) {
      if (recoveryMs === null && Date.now() >= nextProbe) {
        nextProbe = Date.now() + 500;
        probes.push(new Probe(port, [32, 1000, 2000]));
      }
      for (const p of probes) p.pump();
      const after = probes.slice(stormProbes.length).find((p) => p.result === 'connected');
      if (recoveryMs === null && after !== undefined) recoveryMs = Math.max(0, after.startedAt - stormEnd);
      observe();
      if (recoveryMs !== null && stormProbes.every((p) => p.result !== 'pending')) break;
      await sleep(5);
    }
    const probesConnected = stormProbes.filter((p) => p.result === 'connected').length;
    for (const p of probes.splice(0)) p.close();
    // The remaining half-open peers' retransmissions, until they stop (the verifySpanMs figure).
    const quietUntil = options.measureLifetime === false ? 0 : Math.min(recoverDeadline, Date.now() + 35_000);
    let lastVerify = verifies;
    let quietSince = Date.now();
    while (options.mode !== 'closed' && Date.now() < quietUntil && server.exit === null) {
      await sleep(250);
      if (verifies !== lastVerify) {
        lastVerify = verifies;
        quietSince = Date.now();
      } else if (Date.now() - quietSince > 5000) break;
    }
    const legit = await finishLegit(streamer);
    const after = server.exit === null ? await gcReport(server) : undefined;
    const serverSent = ((after?.sentDatagrams as number | undefined) ?? sentBase) - sentBase;
    const lifetimes = [...verified.values()].map((v) => v.last - v.first).sort((x, y) => x - y);
    return {
      connects: sent,
      sources: options.sources,
      seconds: (Date.now() - start) / 1000,
      halfOpen: verified.size,
      verifySpanMs: { median: lifetimes[Math.floor(lifetimes.length / 2)] ?? 0, max: lifetimes[lifetimes.length - 1] ?? 0 },
      verifies,
      serverSent,
      amplification: sent === 0 ? 0 : serverSent / sent,
      probesDuringStorm: { tried: probesTried, connected: probesConnected },
      recoveryMs,
      crashed: server.exit !== null,
      counters: (after?.counters as Record<string, unknown> | undefined) ?? null,
      memory: { rssBefore: before.memory.rss, rssPeak: Math.max(peak, after?.peakRss ?? 0), rssAfter: after?.memory.rss ?? 0 },
      legit,
    };
  } finally {
    for (const p of probes) p.close();
    for (const s of sockets) s.close();
    await Promise.all([streamer.stop(), server.stop()]);
  }
}

// ------------------------------------------------------------------------------------------------

export interface StalledOptions {
  /** What the server pushes to the client, reliable, bytes per second. */
  bytesPerSec: number;
  /** 'frozen': the client stops calling service (no ACKs); 'slow': it keeps reading, but its link carries
   *  only `linkBytesPerSec` (a rate-limited proxy), so ACKs keep coming and nothing times out. */
  mode: 'frozen' | 'slow';
  linkBytesPerSec?: number;
  /** The slow link's buffer (drop-tail), default 256 KiB. */
  linkQueueBytes?: number;
  /** How long the pushing lasts once the client stalls. */
  seconds: number;
  /** Server-side timeouts for the peer. */
  timeouts?: Timeouts;
  /** ENetPacketPeer.setSendQueueLimit(bytes) on the server's peer. */
  queueLimit?: number;
  /** Repeat connect, push, stall, drop this many times against the same server (a leak shows as RSS
   *  that keeps climbing from cycle to cycle). */
  cycles?: number;
}

export interface StalledSample {
  atMs: number;
  rss: number;
  sent: number;
  refused: number;
  /** ENetPacketPeer.getQueuedBytes() (null: not in this build). */
  queuedBytes: number | null;
  state: number;
}

export interface StalledResult {
  mode: string;
  bytesPerSec: number;
  samples: StalledSample[];
  /** RSS growth while pushing, per second of stall. */
  rssGrowthPerSec: number;
  rssBefore: number;
  rssPeak: number;
  /** After the peer was dropped (timeout) or disconnected and the heap collected (last cycle). */
  rssAfter: number;
  rssAfterCycles: number[];
  /** ms from the stall to the server's DISCONNECT of the peer (null: still connected), first cycle. */
  dropMs: number | null;
  dropMsCycles: Array<number | null>;
  /** Bytes the application handed to send() with OK during the stall. */
  acceptedBytes: number;
  /** send() calls refused (only with a queue limit). */
  refused: number;
  queuedBytesAvailable: boolean;
  crashed: boolean;
}

export async function stalledReceiver(options: StalledOptions): Promise<StalledResult> {
  const cycles = options.cycles ?? 1;
  const server = await spawnPeer('server', {
    maxPeers: 4, echo: 'none', reportMs: 100, maxSeconds: (options.seconds + 30) * cycles + 60, timeouts: options.timeouts,
  });
  const port = server.latest.get('ready')?.port as number;
  let proxy: ImpairProxy | null = null;
  let client: ENetConnection | null = null;
  try {
    let target = port;
    if (options.mode === 'slow') {
      proxy = await ImpairProxy.start({
        target: { address: '127.0.0.1', port },
        down: { rateBytesPerSec: options.linkBytesPerSec ?? 64 * 1024, queueBytes: options.linkQueueBytes ?? 256 * 1024 },
      });
      target = proxy.port;
    }
    const before = await gcReport(server);
    if (options.queueLimit !== undefined) await server.request({ cmd: 'queueLimit', bytes: options.queueLimit });
    let peak = before.memory.rss as number;
    const samples: StalledSample[] = [];
    const rssAfterCycles: number[] = [];
    const dropMs: Array<number | null> = [];
    let growth = 0;
    let accepted = 0;
    let refusedTotal = 0;
    for (let cycle = 0; cycle < cycles && server.exit === null; cycle++) {
      const c = new ENetConnection();
      client = c;
      if (c.createHost(1) !== GodotError.OK) throw new Error('createHost failed');
      const peer = c.connectToHost('127.0.0.1', target, 2, 1);
      if (peer === null) throw new Error('connectToHost failed');
      const pump = (): void => {
        for (let e = c.service(0); e[0] !== EventType.EVENT_NONE; e = c.service(0)) {
          if (e[0] === EventType.EVENT_RECEIVE) e[1]?.getPacket();
        }
      };
      const connectDeadline = Date.now() + 10_000;
      while (peer.getState() !== PeerState.STATE_CONNECTED) {
        if (Date.now() > connectDeadline) throw new Error('no connection');
        pump();
        await sleep(1);
      }
      const disconnectsBefore = (await server.report()).disconnects as number;
      await server.request({ cmd: 'push', push: { bytesPerSec: options.bytesPerSec, size: 1000, channel: 0 } });
      // One second of healthy pushing, then the stall.
      const healthyUntil = Date.now() + 1000;
      while (Date.now() < healthyUntil) {
        pump();
        await sleep(1);
      }
      const stallAt = Date.now();
      const cycleSamples: StalledSample[] = [];
      let drop: number | null = null;
      const end = stallAt + options.seconds * 1000;
      let nextSample = 0;
      while (Date.now() < end && server.exit === null) {
        if (options.mode === 'slow') pump();
        if (Date.now() >= nextSample) {
          nextSample = Date.now() + 200;
          const r = await server.report();
          peak = Math.max(peak, r.memory.rss);
          const pushed = r.push as Array<{ sent: number; refused: number; queuedBytes: number | null; state: number }>;
          const p = pushed[pushed.length - 1];
          cycleSamples.push({ atMs: Date.now() - stallAt, rss: r.memory.rss, sent: p?.sent ?? 0, refused: p?.refused ?? 0, queuedBytes: p?.queuedBytes ?? null, state: p?.state ?? 0 });
          if (drop === null && r.disconnects > disconnectsBefore) drop = Date.now() - stallAt;
        }
        await sleep(options.mode === 'slow' ? 1 : 20);
      }
      await server.request({ cmd: 'push', push: null });
      dropMs.push(drop);
      if (cycle === 0) {
        samples.push(...cycleSamples);
        const first = cycleSamples.find((x) => x.atMs >= 500) ?? cycleSamples[0];
        const live = cycleSamples.filter((x) => x.state === PeerState.STATE_CONNECTED);
        const lastLive = live[live.length - 1];
        growth = lastLive !== undefined && first !== undefined && lastLive.atMs > first.atMs
          ? ((lastLive.rss - first.rss) * 1000) / (lastLive.atMs - first.atMs) : 0;
      }
      const last = cycleSamples[cycleSamples.length - 1];
      accepted += last?.sent ?? 0;
      refusedTotal += last?.refused ?? 0;
      // End the connection (if the stall did not) and collect.
      c.destroy();
      client = null;
      const settle = Date.now() + 40_000;
      let after = await gcReport(server);
      while (after.peers > 0 && Date.now() < settle) {
        await sleep(250);
        after = await gcReport(server);
      }
      rssAfterCycles.push(after.memory.rss);
    }
    return {
      mode: options.mode,
      bytesPerSec: options.bytesPerSec,
      samples,
      rssGrowthPerSec: growth,
      rssBefore: before.memory.rss,
      rssPeak: peak,
      rssAfter: rssAfterCycles[rssAfterCycles.length - 1] ?? 0,
      rssAfterCycles,
      dropMs: dropMs[0] ?? null,
      dropMsCycles: dropMs,
      acceptedBytes: accepted,
      refused: refusedTotal,
      queuedBytesAvailable: samples.some((x) => x.queuedBytes !== null),
      crashed: server.exit !== null,
    };
  } finally {
    if (client !== null && client.getCounters() !== null) client.destroy();
    await proxy?.close();
    await server.stop();
  }
}

// ------------------------------------------------------------------------------------------------

export interface ManyPeersOptions {
  count: number;
  /** Also try one more than the server has slots (the server is created with `count` slots). */
  extra?: number;
  seconds?: number;
}

export interface ManyPeersResult {
  count: number;
  connected: number;
  echoed: number;
  /** Extra clients beyond the slots: how many got in (should be 0). */
  extraConnected: number;
  connectSeconds: number;
  serverPeersPeak: number;
  allLeft: boolean;
  crashed: boolean;
  memory: ServerMemory;
  swarmRss: number;
}

export async function manyPeers(options: ManyPeersOptions): Promise<ManyPeersResult> {
  const seconds = options.seconds ?? 120;
  const server = await spawnPeer('server', { maxPeers: options.count, echo: 'all', reportMs: 200, maxSeconds: seconds + 60 });
  const port = server.latest.get('ready')?.port as number;
  let swarm: Child | null = null;
  let extra: Child | null = null;
  try {
    const before = await gcReport(server);
    let peak = before.memory.rss as number;
    const start = Date.now();
    swarm = await spawnPeer('swarm', { port, count: options.count, batch: 512, timeouts: [32, 5000, 15000], reportMs: 200, maxSeconds: seconds + 30 });
    const watched = await watchSwarm(server, swarm, options.count, start + seconds * 1000, 100);
    const s = watched.last;
    peak = Math.max(peak, watched.rssPeak);
    let peersPeak = watched.peersPeak;
    const connectSeconds = (Date.now() - start) / 1000;
    const swarmRss = (s?.memory?.rss as number | undefined) ?? 0;
    // The server's periodic report may predate the last connections.
    if (server.exit === null) peersPeak = Math.max(peersPeak, (await server.report()).peers as number);
    let extraConnected = 0;
    if ((options.extra ?? 0) > 0) {
      extra = await spawnPeer('swarm', { port, count: options.extra, timeouts: [32, 1500, 3000], reportMs: 100, maxSeconds: 30 });
      const until = Date.now() + 8000;
      let e: ChildMessage | undefined;
      while (Date.now() < until) {
        e = extra.latest.get('report');
        if (e !== undefined && e.created === options.extra && e.connected + e.disconnected >= (options.extra ?? 0)) break;
        await sleep(100);
      }
      extraConnected = (e?.connected as number | undefined) ?? 0;
      await extra.stop();
      extra = null;
    }
    swarm.send({ cmd: 'leave' });
    const leaveDeadline = Date.now() + 30_000;
    let allLeft = false;
    while (Date.now() < leaveDeadline && server.exit === null) {
      const r = await server.report();
      peak = Math.max(peak, r.memory.rss);
      if (r.peers === 0) {
        allLeft = true;
        break;
      }
      await sleep(200);
    }
    const after = server.exit === null ? await gcReport(server) : undefined;
    return {
      count: options.count,
      connected: (s?.connected as number | undefined) ?? 0,
      echoed: (s?.echoed as number | undefined) ?? 0,
      extraConnected,
      connectSeconds,
      serverPeersPeak: peersPeak,
      allLeft,
      crashed: server.exit !== null,
      memory: { rssBefore: before.memory.rss, rssPeak: Math.max(peak, after?.peakRss ?? 0), rssAfter: after?.memory.rss ?? 0 },
      swarmRss,
    };
  } finally {
    await Promise.all([swarm?.stop(), extra?.stop(), server.stop()]);
  }
}

export { MiB };
