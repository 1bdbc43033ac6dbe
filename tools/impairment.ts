/**
 * Impaired-link scenarios: an ENetConnection client and server in this process, talking through
 * tools/impair-proxy.ts. Used by test/impairment.test.ts (short) and tools/reliability.ts (long).
 *
 *   runTransfer     a reliable stream of self-checking packets: does every byte arrive, in order?
 *   runUnreliable   unreliable packets at a steady rate: what fraction arrives, and is there a stall?
 *   measureCut      the link is cut: how long until each side reports the peer disconnected?
 */
import { ENetConnection, ENetPacketPeer, EventType, GodotError, PeerState } from '../src';
import { sleep, yieldLoop } from './harness';
import { Impairment, ImpairProxy, ProxyStats } from './impair-proxy';
import { SizeProfile, StreamChecker, StreamCounts, makePacket, packetSize } from './stream';

export type Timeouts = [limit: number, minimum: number, maximum: number];

export interface LinkOptions {
  /** Impairment of both directions… */
  both?: Partial<Impairment>;
  /** …and per direction (up = client to server). */
  up?: Partial<Impairment>;
  down?: Partial<Impairment>;
  seed?: number;
  /** ENetPacketPeer.setTimeout on both sides once connected. */
  timeouts?: Timeouts;
  /** Bind and connect over IPv6 loopback instead of IPv4. */
  ipv6?: boolean;
}

interface Link {
  server: ENetConnection;
  client: ENetConnection;
  proxy: ImpairProxy;
  serverPeer: ENetPacketPeer;
  clientPeer: ENetPacketPeer;
  close(): Promise<void>;
}

/** Server, proxy and client, connected (the handshake goes through the impaired link too). */
async function openLink(options: LinkOptions, connectTimeoutMs = 30_000): Promise<Link> {
  const loopback = options.ipv6 ? '::1' : '127.0.0.1';
  const server = new ENetConnection();
  if (server.createHostBound(loopback, 0, 4) !== GodotError.OK) throw new Error('server createHostBound failed');
  const client = new ENetConnection();
  if (client.createHost(1) !== GodotError.OK) throw new Error('client createHost failed');
  const proxy = await ImpairProxy.start({
    target: { address: loopback, port: server.getLocalPort() }, both: options.both, up: options.up, down: options.down, seed: options.seed,
  });
  const close = async (): Promise<void> => {
    await proxy.close();
    if (server.getCounters() !== null) server.destroy();
    if (client.getCounters() !== null) client.destroy();
  };
  const clientPeer = client.connectToHost(loopback, proxy.port, 8, 1);
  if (clientPeer === null) {
    await close();
    throw new Error('connectToHost failed');
  }
  let serverPeer: ENetPacketPeer | null = null;
  let clientUp = false;
  const deadline = Date.now() + connectTimeoutMs;
  while (serverPeer === null || !clientUp) {
    for (let e = server.service(0); e[0] !== EventType.EVENT_NONE; e = server.service(0)) {
      if (e[0] === EventType.EVENT_CONNECT) serverPeer = e[1];
    }
    for (let e = client.service(0); e[0] !== EventType.EVENT_NONE; e = client.service(0)) {
      if (e[0] === EventType.EVENT_CONNECT) clientUp = true;
      if (e[0] === EventType.EVENT_DISCONNECT) {
        await close();
        throw new Error('the connection failed during the handshake');
      }
    }
    if (Date.now() > deadline) {
      await close();
      throw new Error(`no connection through the impaired link within ${connectTimeoutMs} ms`);
    }
    await sleep(1);
  }
  if (options.timeouts !== undefined) {
    const [a, b, c] = options.timeouts;
    serverPeer.setTimeout(a, b, c);
    clientPeer.setTimeout(a, b, c);
  }
  return { server, client, proxy, serverPeer, clientPeer, close };
}

export interface TransferOptions extends LinkOptions {
  /** Bytes to deliver. */
  bytes: number;
  /** Give up after this long (the result then says how far it got). */
  seconds: number;
  profile?: SizeProfile;
  /** Packets the sender keeps queued ahead of the receiver (an application's own flow control). */
  window?: number;
  /** Progress callback, about every second. */
  progress?: (line: string) => void;
}

export interface TransferResult {
  /** Bytes and packets that arrived intact and in order. */
  bytes: number;
  packets: number;
  sentBytes: number;
  sentPackets: number;
  seconds: number;
  counts: StreamCounts;
  problems: string[];
  complete: boolean;
  /** Which side saw a DISCONNECT, and when (ms after the start). */
  disconnected: null | { side: 'server' | 'client'; atMs: number };
  /** The sender's ENet: datagrams it counted as lost (retransmissions), its RTT at the end. */
  retransmits: number;
  rttMs: number;
  /** The longest time the receiver waited for the next in-order packet while one was due. */
  longestStallMs: number;
  proxy: ProxyStats;
}

/** Streams `bytes` from client to server through the impaired link and checks every packet. */
export async function runTransfer(options: TransferOptions): Promise<TransferResult> {
  const link = await openLink(options);
  const { server, client, proxy, clientPeer } = link;
  const channelOf = (seq: number): number => (seq % 7 === 3 ? 3 : 0);
  const checker = new StreamChecker(channelOf, true);
  const profile = options.profile ?? 'mixed';
  const window = options.window ?? 64;
  let seq = 0;
  let sentBytes = 0;
  let disconnected: TransferResult['disconnected'] = null;
  let lastArrival = Date.now();
  let longestStallMs = 0;
  let retransmits = 0;
  let rttMs = 0;
  const start = Date.now();
  const deadline = start + options.seconds * 1000;
  let lastProgress = start;
  try {
    while (Date.now() < deadline && disconnected === null) {
      let busy = false;
      for (let e = server.service(0); e[0] !== EventType.EVENT_NONE; e = server.service(0)) {
        busy = true;
        if (e[0] === EventType.EVENT_RECEIVE && e[1] !== null) {
          checker.accept(e[3], e[1].getPacket());
          lastArrival = Date.now();
        } else if (e[0] === EventType.EVENT_DISCONNECT) disconnected = { side: 'server', atMs: Date.now() - start };
      }
      for (let e = client.service(0); e[0] !== EventType.EVENT_NONE; e = client.service(0)) {
        busy = true;
        if (e[0] === EventType.EVENT_DISCONNECT && disconnected === null) disconnected = { side: 'client', atMs: Date.now() - start };
      }
      if (clientPeer.getState() === PeerState.STATE_CONNECTED) {
        retransmits = clientPeer.getTotals().packetsLost;
        rttMs = clientPeer.getStatistic(3);
      }
      const received = checker.counts.ok;
      if (seq > received) longestStallMs = Math.max(longestStallMs, Date.now() - lastArrival);
      else lastArrival = Date.now();
      while (disconnected === null && seq - received < window && sentBytes < options.bytes) {
        const size = Math.min(packetSize(seq, profile), Math.max(8, options.bytes - sentBytes));
        if (clientPeer.send(channelOf(seq), makePacket(seq, size), ENetPacketPeer.FLAG_RELIABLE) !== GodotError.OK) break;
        seq++;
        sentBytes += size;
        busy = true;
      }
      if (sentBytes >= options.bytes && checker.counts.ok + checker.counts.corrupt >= seq) break;
      if (options.progress !== undefined && Date.now() - lastProgress >= 1000) {
        lastProgress = Date.now();
        options.progress(`    ${((Date.now() - start) / 1000).toFixed(0)} s: ${(checker.counts.okBytes / 1048576).toFixed(2)} MiB in order, ` +
          `${retransmits} retransmits, rtt ${rttMs} ms`);
      }
      if (busy) await yieldLoop();
      else await sleep(1);
    }
  } finally {
    await link.close();
  }
  return {
    bytes: checker.counts.okBytes,
    packets: checker.counts.ok,
    sentBytes,
    sentPackets: seq,
    seconds: (Date.now() - start) / 1000,
    counts: { ...checker.counts },
    problems: checker.firstProblems,
    complete: checker.counts.okBytes >= options.bytes && checker.clean,
    disconnected,
    retransmits,
    rttMs,
    longestStallMs,
    proxy: proxy.stats,
  };
}

export interface UnreliableOptions extends LinkOptions {
  /** Packets per second, and bytes each (keep it under one datagram: see the README on large ones). */
  rate: number;
  size: number;
  seconds: number;
  /** ENet flags: 0 = unreliable sequenced, 2 = unsequenced (Godot's UNRELIABLE uses 2|8). */
  flags?: number;
  /** Also push a reliable stream on another channel meanwhile (bytes per second, 0 = none). */
  reliableBytesPerSec?: number;
  /** Stall measurement buckets, ms. */
  bucketMs?: number;
}

export interface UnreliableResult {
  sent: number;
  delivered: number;
  ratio: number;
  /** The longest time without any unreliable delivery while packets were being sent. */
  longestGapMs: number;
  /** Fraction of buckets with at least one delivery. */
  bucketsWithDelivery: number;
  reliableBytes: number;
  reliableClean: boolean;
  disconnected: boolean;
  /** ms after the start when a side saw a DISCONNECT (0: none). */
  disconnectedAtMs: number;
  proxy: ProxyStats;
}

/** Sends unreliable packets at a steady rate through the impaired link and watches them arrive. */
export async function runUnreliable(options: UnreliableOptions): Promise<UnreliableResult> {
  const link = await openLink(options);
  const { server, client, clientPeer } = link;
  const flags = options.flags ?? 0;
  const bucketMs = options.bucketMs ?? 250;
  const checker = new StreamChecker(() => 0, true);
  const arrivals: number[] = [];
  let sent = 0;
  let relSeq = 0;
  let relBytes = 0;
  let disconnected = false;
  let disconnectedAtMs = 0;
  const start = Date.now();
  const end = start + options.seconds * 1000;
  try {
    while (Date.now() < end && !disconnected) {
      for (let e = server.service(0); e[0] !== EventType.EVENT_NONE; e = server.service(0)) {
        if (e[0] === EventType.EVENT_RECEIVE && e[1] !== null) {
          const data = e[1].getPacket();
          if (e[3] === 1) arrivals.push(Date.now());
          else checker.accept(0, data);
        } else if (e[0] === EventType.EVENT_DISCONNECT) disconnected = true;
      }
      for (let e = client.service(0); e[0] !== EventType.EVENT_NONE; e = client.service(0)) {
        if (e[0] === EventType.EVENT_DISCONNECT) disconnected = true;
      }
      if (disconnected && disconnectedAtMs === 0) disconnectedAtMs = Date.now() - start;
      const now = Date.now();
      while (sent < ((now - start) * options.rate) / 1000) {
        clientPeer.send(1, Buffer.alloc(options.size, sent & 0xff), flags);
        sent++;
      }
      const relRate = options.reliableBytesPerSec ?? 0;
      while (relRate > 0 && relBytes < ((now - start) * relRate) / 1000 && relSeq - checker.counts.ok < 64) {
        const size = packetSize(relSeq, 'small');
        clientPeer.send(0, makePacket(relSeq, size), ENetPacketPeer.FLAG_RELIABLE);
        relSeq++;
        relBytes += size;
      }
      await sleep(1);
    }
    // Let what is in flight land.
    const settle = Date.now() + 300 + (options.both?.delayMs ?? 0) * 2;
    while (Date.now() < settle) {
      for (let e = server.service(0); e[0] !== EventType.EVENT_NONE; e = server.service(0)) {
        if (e[0] === EventType.EVENT_RECEIVE && e[1] !== null) {
          const data = e[1].getPacket();
          if (e[3] === 1) arrivals.push(Date.now());
          else checker.accept(0, data);
        }
      }
      client.service(0);
      await sleep(1);
    }
  } finally {
    await link.close();
  }
  let longestGapMs = 0;
  let previous = start;
  for (const t of arrivals.filter((t) => t <= end)) {
    longestGapMs = Math.max(longestGapMs, t - previous);
    previous = t;
  }
  longestGapMs = Math.max(longestGapMs, Math.min(end, Date.now()) - previous);
  const buckets = Math.max(1, Math.floor((end - start) / bucketMs));
  const hit = new Set(arrivals.filter((t) => t < start + buckets * bucketMs).map((t) => Math.floor((t - start) / bucketMs)));
  return {
    sent,
    delivered: arrivals.length,
    ratio: sent === 0 ? 0 : arrivals.length / sent,
    longestGapMs,
    bucketsWithDelivery: hit.size / buckets,
    reliableBytes: checker.counts.okBytes,
    reliableClean: checker.clean,
    disconnected,
    disconnectedAtMs,
    proxy: link.proxy.stats,
  };
}

export interface CutOptions extends LinkOptions {
  /** 'idle': only ENet's pings cross the link; 'stream': reliable packets flow when it is cut. */
  traffic: 'idle' | 'stream';
  /** Give up after this long. */
  seconds: number;
}

export interface CutResult {
  /** ms from the cut to each side's DISCONNECT (null: none within the time given). */
  serverMs: number | null;
  clientMs: number | null;
  /** The DISCONNECT data (0 for a timeout) and whether the host counted a timeout. */
  serverTimeouts: number;
  clientTimeouts: number;
}

/** Connects, lets traffic flow for a second, cuts the link and times each side's DISCONNECT. */
export async function measureCut(options: CutOptions): Promise<CutResult> {
  const link = await openLink(options);
  const { server, client, serverPeer, clientPeer, proxy } = link;
  let cutAt = 0;
  let serverMs: number | null = null;
  let clientMs: number | null = null;
  let seq = 0;
  const warmUntil = Date.now() + 1000;
  const deadline = warmUntil + options.seconds * 1000;
  let serverTimeouts = 0;
  let clientTimeouts = 0;
  try {
    while (Date.now() < deadline && (serverMs === null || clientMs === null)) {
      for (let e = server.service(0); e[0] !== EventType.EVENT_NONE; e = server.service(0)) {
        if (e[0] === EventType.EVENT_DISCONNECT && serverMs === null && cutAt > 0) serverMs = Date.now() - cutAt;
        if (e[0] === EventType.EVENT_RECEIVE) e[1]?.getPacket();
      }
      for (let e = client.service(0); e[0] !== EventType.EVENT_NONE; e = client.service(0)) {
        if (e[0] === EventType.EVENT_DISCONNECT && clientMs === null && cutAt > 0) clientMs = Date.now() - cutAt;
        if (e[0] === EventType.EVENT_RECEIVE) e[1]?.getPacket();
      }
      if (options.traffic === 'stream') {
        // Both directions keep sending reliable data, before and after the cut.
        if (clientPeer.getState() === PeerState.STATE_CONNECTED) clientPeer.send(0, makePacket(seq++, 200), ENetPacketPeer.FLAG_RELIABLE);
        if (serverPeer.getState() === PeerState.STATE_CONNECTED) serverPeer.send(0, makePacket(seq++, 200), ENetPacketPeer.FLAG_RELIABLE);
      }
      if (cutAt === 0 && Date.now() >= warmUntil) {
        proxy.cut();
        cutAt = Date.now();
      }
      await sleep(options.traffic === 'stream' ? 5 : 1);
    }
    serverTimeouts = server.getCounters()?.timeouts ?? 0;
    clientTimeouts = client.getCounters()?.timeouts ?? 0;
  } finally {
    await link.close();
  }
  return { serverMs, clientMs, serverTimeouts, clientTimeouts };
}
