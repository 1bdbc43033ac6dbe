/**
 * A child process playing one part in the reliability runs (started by tools/harness.ts spawnPeer).
 *
 *   server   an ENetConnection server; echoes the legitimate client's stream (CONNECT data LEGIT_DATA)
 *            and checks its order; optionally pushes a reliable stream to every peer (`push`), for the
 *            stalled-receiver test; reports memory, datagrams received, peers and counters.
 *   streamer the legitimate client: streams self-checking packets (tools/stream.ts) to a server, which
 *            echoes them; checks every echo arrives complete, in order and intact.
 *   swarm    `count` clients in one process, each its own ENetConnection (own socket), that connect
 *            to one server, exchange one packet, then stay until told to disconnect.
 *   scene-server  a SceneMultiplayer server under tools/scene-net-fuzz.ts's hostile packets; echoes the
 *            legitimate client's RPCs and bytes; reports memory, drop counters and handler checks.
 *
 * Messages to the parent: {type:'ready', ...}, {type:'report', ...} every reportMs, {type:'reply', id}.
 * Commands from the parent: {cmd:'report'|'gc'|'quit'|...}. Every loop is bounded by `maxSeconds`.
 */
import { ENetConnection, ENetMultiplayerPeer, ENetPacketPeer, EventType, GodotError, HostStatistic, PeerState, SceneMultiplayer, setErrorReporter } from '../src';
import { ECHO_PATH, LEGIT_SECRET, sceneGame } from './scene-net-fuzz';
import { LEGIT_DATA, SizeProfile, StreamChecker, makePacket, packetSeq, packetSize } from './stream';

type Options = Record<string, any>;

const role = process.argv[2];
const options: Options = JSON.parse(process.argv[3] ?? '{}');
const startedAt = Date.now();
const maxSeconds: number = options.maxSeconds ?? 600;
const reportMs: number = options.reportMs ?? 250;
let quitting = false;
const errors: string[] = [];
setErrorReporter((message) => {
  if (errors.length < 50) errors.push(message);
});

function send(message: Record<string, unknown>): void {
  if (process.connected) process.send?.(message);
}

function memory(): Record<string, number> {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

const handlers = new Map<string, (m: Options) => Record<string, unknown> | void>();
process.on('message', (m: Options) => {
  if (m?.cmd === 'quit') {
    quitting = true;
    return;
  }
  if (m?.cmd === 'gc') {
    (globalThis as { gc?: () => void }).gc?.();
    send({ type: 'reply', id: m.id });
    return;
  }
  const handler = handlers.get(m?.cmd);
  if (handler !== undefined) {
    const reply = handler(m) ?? {};
    if (m.id !== undefined) send({ type: 'reply', id: m.id, ...reply });
  }
});
process.on('disconnect', () => {
  quitting = true;
});

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function timeUp(): boolean {
  return quitting || Date.now() - startedAt > maxSeconds * 1000;
}

function applyCompression(host: ENetConnection, mode: number | undefined): boolean {
  if (mode === undefined || mode === 0) return true;
  host.compress(mode);
  return host.getCompressionMode() === mode;
}

// ------------------------------------------------------------------------------------------------

async function server(): Promise<void> {
  const host = new ENetConnection();
  const result = host.createHostBound(options.bind ?? '127.0.0.1', options.port ?? 0, options.maxPeers ?? 64,
    options.maxChannels ?? 0, options.inBandwidth ?? 0, options.outBandwidth ?? 0);
  if (result !== GodotError.OK) throw new Error(`createHostBound failed: ${result}`);
  const compressionOk = applyCompression(host, options.compress);
  const echo: 'legit' | 'all' | 'none' = options.echo ?? 'legit';
  const timeouts: [number, number, number] | undefined = options.timeouts;

  let datagrams = 0;
  let receivedBytes = 0;
  let sentDatagrams = 0;
  let connects = 0;
  let disconnects = 0;
  let receives = 0;
  let legitConnects = 0;
  let legitDisconnects = 0;
  const legitPeers = new Set<ENetPacketPeer>();
  const peers = new Set<ENetPacketPeer>();
  const checker = new StreamChecker((seq) => (seq % 7 === 3 ? 3 : 0), false);
  const connectTimes: number[] = [];
  let peakRss = 0;
  // Stalled-receiver experiment: push `push.bytesPerSec` reliable bytes to every connected peer.
  let push: { bytesPerSec: number; size: number; channel: number } | null = options.push ?? null;
  const pushState = new Map<ENetPacketPeer, { sent: number; refused: number; firstRefusalAt: number }>();
  let pushStartedAt = 0;

  handlers.set('report', () => snapshot());
  handlers.set('push', (m) => {
    push = m.push ?? null;
    pushStartedAt = Date.now();
    return {};
  });
  // Backpressure: a per-peer cap on queued bytes, past which send() refuses (ERR_BUSY).
  let queueLimit: number | null = options.queueLimit ?? null;
  const applyQueueLimit = (peer: ENetPacketPeer): boolean => {
    const api = peer as unknown as { setSendQueueLimit?: (bytes: number) => void };
    if (queueLimit === null || typeof api.setSendQueueLimit !== 'function') return false;
    api.setSendQueueLimit(queueLimit);
    return true;
  };
  handlers.set('queueLimit', (m) => {
    queueLimit = m.bytes;
    let applied = 0;
    for (const p of peers) if (applyQueueLimit(p)) applied++;
    return { applied, available: typeof (ENetPacketPeer.prototype as unknown as Record<string, unknown>).setSendQueueLimit === 'function' };
  });
  handlers.set('peers', () => ({
    peers: [...peers].map((p) => ({ port: p.getRemotePort(), state: p.getState(), legit: legitPeers.has(p) })),
  }));

  function queued(peer: ENetPacketPeer): number | null {
    const api = peer as unknown as { getQueuedBytes?: () => number };
    return typeof api.getQueuedBytes === 'function' ? api.getQueuedBytes() : null;
  }

  function snapshot(): Record<string, unknown> {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    return {
      seconds: (Date.now() - startedAt) / 1000,
      memory: memory(),
      peakRss,
      datagrams,
      receivedBytes,
      sentDatagrams,
      connects,
      disconnects,
      receives,
      peers: peers.size,
      legitConnects,
      legitDisconnects,
      legit: checker.counts,
      legitProblems: checker.firstProblems,
      counters: host.getCounters(),
      errors: errors.slice(0, 10),
      push: [...pushState.entries()].map(([p, s]) => ({ ...s, queuedBytes: p.isActive() ? queued(p) : null, state: p.getState() })),
      connectTimes: connectTimes.slice(-5),
    };
  }

  send({ type: 'ready', port: host.getLocalPort(), compression: host.getCompressionMode(), compressionOk, pid: process.pid, memory: memory() });

  let lastReport = 0;
  let lastPush = Date.now();
  while (!timeUp()) {
    let type: EventType;
    let first = true;
    do {
      const event = host.service(first ? 1 : 0);
      first = false;
      type = event[0];
      const peer = event[1];
      if (type === EventType.EVENT_CONNECT && peer !== null) {
        connects++;
        peers.add(peer);
        connectTimes.push(Date.now());
        if (connectTimes.length > 10) connectTimes.shift();
        if (event[2] === LEGIT_DATA) {
          legitPeers.add(peer);
          legitConnects++;
        }
        if (timeouts !== undefined) peer.setTimeout(timeouts[0], timeouts[1], timeouts[2]);
        applyQueueLimit(peer);
      } else if (type === EventType.EVENT_DISCONNECT && peer !== null) {
        disconnects++;
        peers.delete(peer);
        if (legitPeers.delete(peer)) legitDisconnects++;
      } else if (type === EventType.EVENT_RECEIVE && peer !== null) {
        receives++;
        const flags = peer.getPacketFlags();
        const data = peer.getPacket();
        if (legitPeers.has(peer)) {
          checker.accept(event[3], data);
          peer.send(event[3], data, flags);
        } else if (echo === 'all') {
          peer.send(event[3], data, flags);
        }
      }
    } while (type !== EventType.EVENT_NONE && type !== EventType.EVENT_ERROR);
    datagrams += host.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_PACKETS);
    receivedBytes += host.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_DATA);
    sentDatagrams += host.popStatistic(HostStatistic.HOST_TOTAL_SENT_PACKETS);

    if (push !== null) {
      const now = Date.now();
      const budget = Math.min(push.bytesPerSec, (push.bytesPerSec * (now - lastPush)) / 1000);
      if (budget >= push.size) {
        lastPush = now;
        for (const peer of peers) {
          if (peer.getState() !== PeerState.STATE_CONNECTED) continue;
          let s = pushState.get(peer);
          if (s === undefined) pushState.set(peer, (s = { sent: 0, refused: 0, firstRefusalAt: 0 }));
          for (let b = 0; b + push.size <= budget; b += push.size) {
            const r = peer.send(push.channel, Buffer.alloc(push.size, 0x5a), 1);
            if (r === GodotError.OK) s.sent += push.size;
            else {
              s.refused++;
              if (s.firstRefusalAt === 0) s.firstRefusalAt = now - pushStartedAt;
            }
          }
        }
      }
    } else {
      lastPush = Date.now();
    }

    if (Date.now() - lastReport >= reportMs) {
      lastReport = Date.now();
      send({ type: 'report', ...snapshot() });
    }
    await tick();
  }
  send({ type: 'final', ...snapshot() });
  host.destroy();
}

// ------------------------------------------------------------------------------------------------

async function streamer(): Promise<void> {
  const host = new ENetConnection();
  if (host.createHost(1) !== GodotError.OK) throw new Error('createHost failed');
  const compressionOk = applyCompression(host, options.compress);
  const peer = host.connectToHost(options.address ?? '127.0.0.1', options.port, 8, LEGIT_DATA);
  if (peer === null) throw new Error('connectToHost failed');
  const profile: SizeProfile = options.profile ?? 'mixed';
  const totalBytes: number = options.totalBytes ?? Infinity;
  const totalPackets: number = options.totalPackets ?? Infinity;
  const window: number = options.window ?? 32;
  const seconds: number = options.seconds ?? maxSeconds;
  // Optional pacing: at most this many bytes per second (0 = as fast as the window allows).
  const rate: number = options.rateBytesPerSec ?? 0;
  const channelOf = (seq: number): number => (seq % 7 === 3 ? 3 : 0);
  const checker = new StreamChecker(channelOf, true);
  let connected = false;
  let connectedAt = 0;
  let disconnected = false;
  let disconnectedAt = 0;
  let seq = 0;
  let sentBytes = 0;
  let stopSending = false;
  let lastEchoAt = Date.now();
  let longestWaitMs = 0;
  handlers.set('report', () => snapshot());
  handlers.set('stop', () => {
    stopSending = true;
    return {};
  });

  function snapshot(): Record<string, unknown> {
    return {
      seconds: (Date.now() - startedAt) / 1000,
      connected,
      connectedAt: connectedAt === 0 ? null : connectedAt - startedAt,
      disconnected,
      disconnectedAt: disconnectedAt === 0 ? null : disconnectedAt - startedAt,
      state: peer?.getState(),
      sent: seq,
      sentBytes,
      echoed: checker.counts.ok,
      counts: checker.counts,
      clean: checker.clean,
      problems: checker.firstProblems,
      longestWaitMs,
      memory: memory(),
      errors: errors.slice(0, 10),
    };
  }

  send({ type: 'ready', compressionOk, pid: process.pid });
  let lastReport = 0;
  const deadline = Date.now() + seconds * 1000;
  while (!timeUp() && Date.now() < deadline) {
    let type: EventType;
    let first = true;
    do {
      const event = host.service(first ? 1 : 0);
      first = false;
      type = event[0];
      if (type === EventType.EVENT_CONNECT) {
        connected = true;
        connectedAt = Date.now();
        lastEchoAt = Date.now();
        if (options.timeouts !== undefined) peer.setTimeout(options.timeouts[0], options.timeouts[1], options.timeouts[2]);
      } else if (type === EventType.EVENT_DISCONNECT) {
        disconnected = true;
        disconnectedAt = Date.now();
      } else if (type === EventType.EVENT_RECEIVE && event[1] !== null) {
        checker.accept(event[3], event[1].getPacket());
        lastEchoAt = Date.now();
      }
    } while (type !== EventType.EVENT_NONE && type !== EventType.EVENT_ERROR);
    if (disconnected) break;
    const now = Date.now();
    if (connected && seq > checker.counts.ok) longestWaitMs = Math.max(longestWaitMs, now - lastEchoAt);
    if (connected && !stopSending) {
      const allowance = rate > 0 ? ((now - connectedAt) * rate) / 1000 + 64 * 1024 : Infinity;
      while (seq - checker.counts.ok < window && sentBytes < totalBytes && seq < totalPackets && sentBytes < allowance) {
        const size = packetSize(seq, profile, options.fixedSize);
        const r = peer.send(channelOf(seq), makePacket(seq, size), 1);
        if (r !== GodotError.OK) break;
        seq++;
        sentBytes += size;
      }
    }
    const finished = (sentBytes >= totalBytes || seq >= totalPackets || stopSending) && checker.counts.ok + checker.counts.corrupt >= seq;
    if (now - lastReport >= reportMs || finished) {
      lastReport = now;
      send({ type: 'report', ...snapshot() });
    }
    if (finished && !stopSending) break;
    await tick();
  }
  send({ type: 'final', ...snapshot() });
  // Leave gracefully so the server sees a DISCONNECT, then stop.
  if (!disconnected && peer.isActive()) {
    peer.peerDisconnect(0);
    const until = Date.now() + 1000;
    while (Date.now() < until && host.service(5)[0] !== EventType.EVENT_DISCONNECT);
  }
  while (!quitting && process.connected && Date.now() - startedAt < maxSeconds * 1000) await new Promise((r) => setTimeout(r, 20));
  host.destroy();
}

// ------------------------------------------------------------------------------------------------

async function swarm(): Promise<void> {
  const count: number = options.count;
  const address: string = options.address ?? '127.0.0.1';
  const port: number = options.port;
  const hosts: ENetConnection[] = [];
  const peers: (ENetPacketPeer | null)[] = [];
  const connected: boolean[] = [];
  const echoed: boolean[] = [];
  const disconnectedAt: number[] = [];
  let connectedCount = 0;
  let echoedCount = 0;
  let disconnectedCount = 0;
  let leaving = false;
  handlers.set('report', () => snapshot());
  handlers.set('leave', () => {
    leaving = true;
    for (const p of peers) if (p !== null && p.isActive()) p.peerDisconnect(0);
    return {};
  });

  function snapshot(): Record<string, unknown> {
    return {
      seconds: (Date.now() - startedAt) / 1000,
      count,
      created: hosts.length,
      connected: connectedCount,
      echoed: echoedCount,
      disconnected: disconnectedCount,
      memory: memory(),
      errors: errors.slice(0, 5),
    };
  }

  const batch: number = options.batch ?? 256;
  const connectSpacingMs: number = options.connectSpacingMs ?? 0;
  send({ type: 'ready', pid: process.pid });
  let lastReport = 0;
  let nextConnectAt = Date.now();
  while (!timeUp()) {
    // Start connections in batches, so the server's socket buffer is not the thing measured.
    if (hosts.length < count && Date.now() >= nextConnectAt && hosts.length - connectedCount - disconnectedCount < batch) {
      const host = new ENetConnection();
      if (host.createHost(1) !== GodotError.OK) throw new Error(`createHost failed at client ${hosts.length}`);
      const i = hosts.length;
      hosts.push(host);
      const peer = host.connectToHost(address, port, 2, 1000 + i);
      if (peer !== null && options.timeouts !== undefined) peer.setTimeout(options.timeouts[0], options.timeouts[1], options.timeouts[2]);
      peers.push(peer);
      connected.push(false);
      echoed.push(false);
      disconnectedAt.push(0);
      nextConnectAt = Date.now() + connectSpacingMs;
      if (connectSpacingMs === 0 && hosts.length % 32 !== 0) continue;
    }
    for (let i = 0; i < hosts.length; i++) {
      const host = hosts[i];
      if (disconnectedAt[i] !== 0) continue;
      for (let n = 0; n < 16; n++) {
        const event = host.service(0);
        const type = event[0];
        if (type === EventType.EVENT_NONE || type === EventType.EVENT_ERROR) break;
        if (type === EventType.EVENT_CONNECT) {
          connected[i] = true;
          connectedCount++;
          peers[i]?.send(0, makePacket(i, 64), 1);
        } else if (type === EventType.EVENT_RECEIVE && event[1] !== null) {
          const data = event[1].getPacket();
          if (!echoed[i] && packetSeq(data) === i) {
            echoed[i] = true;
            echoedCount++;
          }
        } else if (type === EventType.EVENT_DISCONNECT) {
          disconnectedAt[i] = Date.now();
          disconnectedCount++;
          if (connected[i]) connectedCount--;
        }
      }
    }
    if (Date.now() - lastReport >= reportMs) {
      lastReport = Date.now();
      send({ type: 'report', ...snapshot() });
    }
    if (leaving && disconnectedCount >= hosts.length) break;
    await tick();
  }
  send({ type: 'final', ...snapshot() });
  for (const h of hosts) h.destroy();
  while (!quitting && process.connected && Date.now() - startedAt < maxSeconds * 1000) await new Promise((r) => setTimeout(r, 20));
}

// ------------------------------------------------------------------------------------------------

/**
 * A SceneMultiplayer server (tools/scene-net-fuzz.ts): ENetMultiplayerPeer on loopback, driven by the
 * event loop (autoPoll), with the `scene` fuzz target's nodes (handlers check their argument types) and
 * the Echo node; answers the legitimate client's Echo.ping and send_bytes, checking their order.
 */
async function sceneServer(): Promise<void> {
  const peer = new ENetMultiplayerPeer();
  peer.setBindIp('127.0.0.1');
  if (peer.createServer(0, options.maxClients ?? 64) !== GodotError.OK) throw new Error('createServer failed');
  const mp = new SceneMultiplayer({ autoPoll: true });
  mp.authTimeout = options.authTimeout ?? 3;
  const failures: string[] = [];
  const unexpected: string[] = [];
  setErrorReporter((message) => {
    if (/unexpected/i.test(message) && unexpected.length < 20) unexpected.push(message);
  });
  const game = sceneGame(mp, true, failures);
  const callback = mp.authCallback;
  let authCalls = 0;
  let legitId = 0;
  mp.authCallback = (id, data) => {
    authCalls++;
    if (data.toString('latin1') === LEGIT_SECRET) legitId = id;
    callback?.(id, data);
  };
  const legitRpc = new StreamChecker(() => 0, true);
  const legitBytes = new StreamChecker(() => 0, true);
  let connects = 0;
  mp.on('peer_connected', () => connects++);
  const echo = mp.getNode(ECHO_PATH);
  echo?.on('ping', (seq: number, data: Buffer) => {
    const from = mp.getRemoteSenderId();
    if (from !== legitId) return;
    legitRpc.accept(0, data);
    echo.rpcId(from, 'pong', seq, data);
  });
  mp.on('peer_packet', (id, data) => {
    if (id !== legitId) return;
    legitBytes.accept(0, data);
    mp.sendBytes(data, id);
  });
  // Packets SceneMultiplayer takes from the peer, and packets it sends (relays, replies, ADD/DEL_PEER).
  let received = 0;
  let sent = 0;
  const getPacket = peer.getPacket.bind(peer);
  peer.getPacket = () => {
    received++;
    return getPacket();
  };
  const putPacket = peer.putPacket.bind(peer);
  peer.putPacket = (data) => {
    sent++;
    return putPacket(data);
  };
  mp.multiplayerPeer = peer;

  let peakRss = 0;
  const snapshot = (): Record<string, unknown> => {
    const rss = process.memoryUsage().rss;
    peakRss = Math.max(peakRss, rss);
    return {
      memory: memory(), peakRss, received, sent, counters: mp.getCounters(), handlerCalls: game.calls, authCalls, connects,
      peers: mp.getPeers().length, authenticating: mp.getAuthenticatingPeers().length, failures, unexpected,
      legitRpc: legitRpc.counts, legitBytes: legitBytes.counts,
    };
  };
  handlers.set('report', () => snapshot());
  send({ type: 'ready', port: peer.host?.getLocalPort() ?? 0, pid: process.pid, memory: memory() });
  while (!timeUp()) {
    send({ type: 'report', ...snapshot() });
    await new Promise((r) => setTimeout(r, reportMs));
  }
  send({ type: 'final', ...snapshot() });
  peer.close();
}

const roles: Record<string, () => Promise<void>> = { server, streamer, swarm, 'scene-server': sceneServer };
const run = roles[role];
if (run === undefined) {
  console.error(`peer-process: unknown role "${role}"`);
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (error) => {
    console.error(`peer-process ${role}: ${error instanceof Error ? error.stack : String(error)}`);
    process.exit(1);
  },
);
