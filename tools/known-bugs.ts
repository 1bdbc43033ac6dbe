/**
 * Reproductions of the bugs the reliability work found, as measurements. The regression tests
 * (test/net-fuzz.test.ts, test/impairment.test.ts, test/floods.test.ts) assert on them, and
 * tools/reliability.ts reports their current state.
 */
import * as dgram from 'dgram';
import { ENetConnection, ENetPacketPeer, EventType, GodotError, HostStatistic, PeerState } from '../src';
import { EnetWireClient, fragmentCommand, pingCommand, sendReliableCommand, sendUnreliableCommand } from '../test/helpers/enet-wire';
import { ImpairProxy } from './impair-proxy';

function bindUdp(): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
}

export async function settle(ms: number, pump: () => void = () => undefined): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    pump();
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * Empty datagrams, bug 1: 100 empty datagrams interleaved with 100 PINGs of a connected peer land in
 * the server's socket buffer; returns how many datagrams ONE service(0) call then reads (ENet reads up
 * to 256 per call; the bug stops it at the first empty one).
 */
export async function emptyDatagramsOneService(): Promise<number> {
  const server = new ENetConnection();
  if (server.createHostBound('127.0.0.1', 0, 4) !== GodotError.OK) throw new Error('createHostBound failed');
  const pump = (): void => {
    while (server.service(0)[0] !== EventType.EVENT_NONE);
  };
  const wire = await EnetWireClient.create();
  const empties = await bindUdp();
  try {
    await wire.connect(server.getLocalPort(), { channelCount: 2 }, pump);
    await settle(50, pump);
    server.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_PACKETS);
    for (let i = 0; i < 100; i++) {
      empties.send(Buffer.alloc(0), server.getLocalPort(), '127.0.0.1');
      wire.sendCommands([pingCommand(100 + i)]);
      await new Promise((r) => setImmediate(r));
    }
    await settle(100); // everything is in the socket buffer now; nothing serviced yet
    server.service(0);
    return server.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_PACKETS);
  } finally {
    empties.close();
    await wire.close();
    server.destroy();
  }
}

/**
 * Empty datagrams, the attack: a server polled Godot-style (service(0) until no event, every 16 ms)
 * echoes a client's packets while `rate` empty datagrams a second arrive; returns the echoes during the
 * attack and the worst round trip.
 */
export async function emptyDatagramFlood(seconds = 3, rate = 2000): Promise<{ echoes: number; worstMs: number }> {
  const server = new ENetConnection();
  const client = new ENetConnection();
  if (server.createHostBound('127.0.0.1', 0, 4) !== GodotError.OK || client.createHost(1) !== GodotError.OK) throw new Error('host creation failed');
  const attacker = await bindUdp();
  const peer = client.connectToHost('127.0.0.1', server.getLocalPort(), 2, 0);
  if (peer === null) throw new Error('connectToHost failed');
  let echoes = 0;
  let sent = 0;
  let worstMs = 0;
  const sentAt: number[] = [];
  const frame = setInterval(() => {
    for (let e = server.service(0); e[0] !== EventType.EVENT_NONE; e = server.service(0)) {
      if (e[0] === EventType.EVENT_RECEIVE && e[1] !== null) e[1].send(0, e[1].getPacket(), ENetPacketPeer.FLAG_RELIABLE);
    }
  }, 16);
  const clientLoop = setInterval(() => {
    for (let e = client.service(0); e[0] !== EventType.EVENT_NONE; e = client.service(0)) {
      if (e[0] === EventType.EVENT_RECEIVE && e[1] !== null) {
        const seq = e[1].getPacket().readUInt32BE(0);
        worstMs = Math.max(worstMs, Date.now() - sentAt[seq]);
        echoes++;
      }
    }
    if (peer.getState() === PeerState.STATE_CONNECTED && sent - echoes < 4) {
      const b = Buffer.alloc(64);
      b.writeUInt32BE(sent, 0);
      sentAt[sent++] = Date.now();
      peer.send(0, b, ENetPacketPeer.FLAG_RELIABLE);
    }
  }, 5);
  await settle(500);
  const perTick = Math.max(1, Math.round(rate / 100));
  const attack = setInterval(() => {
    for (let i = 0; i < perTick; i++) attacker.send(Buffer.alloc(0), server.getLocalPort(), '127.0.0.1');
  }, 10);
  const before = echoes;
  worstMs = 0;
  try {
    await settle(seconds * 1000);
  } finally {
    clearInterval(attack);
    clearInterval(frame);
    clearInterval(clientLoop);
    attacker.close();
    server.destroy();
    client.destroy();
  }
  return { echoes: echoes - before, worstMs };
}

/**
 * Waiting-data budget, by hand: `n` unreliable packets of 64 KiB, each sent as its first fragment only,
 * then a complete unreliable packet that makes them obsolete, then a reliable marker. Returns what the
 * server delivered and whether it acknowledged the marker.
 */
export async function abandonedUnreliablePackets(n = 600): Promise<{ delivered: string[]; markerAcked: boolean }> {
  const server = new ENetConnection();
  if (server.createHostBound('127.0.0.1', 0, 4) !== GodotError.OK) throw new Error('createHostBound failed');
  const delivered: string[] = [];
  const pump = (): void => {
    for (let e = server.service(0); e[0] !== EventType.EVENT_NONE; e = server.service(0)) {
      if (e[0] === EventType.EVENT_RECEIVE && e[1] !== null) delivered.push(`${e[3]}:${e[1].getPacket().toString()}`);
    }
  };
  const wire = await EnetWireClient.create();
  try {
    await wire.connect(server.getLocalPort(), { channelCount: 4 }, pump);
    await settle(50, pump);
    for (let i = 0; i < n; i++) {
      wire.sendCommands([fragmentCommand({ reliable: false, channel: 1, reliableSeq: 0, startSeq: 1 + i, fragmentCount: 48,
        fragmentNumber: 0, totalLength: 65536, fragmentOffset: 0, data: Buffer.alloc(1364, 1) })]);
      if (i % 50 === 49) await settle(5, pump);
    }
    wire.sendCommands([sendUnreliableCommand(1, 0, n + 1, Buffer.from('newer'))]);
    await settle(200, pump);
    wire.sendCommands([sendReliableCommand(2, 1, Buffer.from('marker'))]);
    await settle(500, pump);
    return { delivered, markerAcked: wire.acks.some(([c, s]) => c === 2 && s === 1) };
  } finally {
    await wire.close();
    server.destroy();
  }
}

export interface LossyUnreliableResult {
  unreliableSent: number;
  reliableSent: number;
  reliableGot: number;
  longestReliableGapMs: number;
  /** '' or which side saw a DISCONNECT, when. */
  disconnected: string;
}

/**
 * Waiting-data budget, on a lossy link: 64 KiB unreliable-fragment packets, 100 a second, next to 100
 * small reliable packets a second, through 10 % loss each way, for `seconds`.
 */
export async function lossyLargeUnreliable(seconds = 8, loss = 0.1): Promise<LossyUnreliableResult> {
  const server = new ENetConnection();
  const client = new ENetConnection();
  if (server.createHostBound('127.0.0.1', 0, 4) !== GodotError.OK || client.createHost(1) !== GodotError.OK) throw new Error('host creation failed');
  const proxy = await ImpairProxy.start({ target: { address: '127.0.0.1', port: server.getLocalPort() }, both: { loss, delayMs: 2 }, seed: 3 });
  try {
    const peer = client.connectToHost('127.0.0.1', proxy.port, 4, 1);
    if (peer === null) throw new Error('connectToHost failed');
    let connected = false;
    let disconnected = '';
    let reliableGot = 0;
    let lastReliableAt = 0;
    let longestReliableGapMs = 0;
    const start = Date.now();
    const pump = (): void => {
      for (let e = server.service(0); e[0] !== EventType.EVENT_NONE; e = server.service(0)) {
        if (e[0] === EventType.EVENT_CONNECT) connected = true;
        if (e[0] === EventType.EVENT_DISCONNECT) disconnected ||= `server at ${Date.now() - start} ms`;
        if (e[0] === EventType.EVENT_RECEIVE && e[1] !== null) {
          e[1].getPacket();
          if (e[3] === 0) {
            reliableGot++;
            lastReliableAt = Date.now();
          }
        }
      }
      for (let e = client.service(0); e[0] !== EventType.EVENT_NONE; e = client.service(0)) {
        if (e[0] === EventType.EVENT_DISCONNECT) disconnected ||= `client at ${Date.now() - start} ms`;
      }
    };
    const connectDeadline = Date.now() + 10_000;
    while (!(connected && peer.getState() === PeerState.STATE_CONNECTED)) {
      if (Date.now() > connectDeadline) throw new Error('no connection');
      pump();
      await new Promise((r) => setTimeout(r, 1));
    }
    const big = Buffer.alloc(64 * 1024, 7);
    let reliableSent = 0;
    let unreliableSent = 0;
    lastReliableAt = Date.now();
    const begin = Date.now();
    const end = begin + seconds * 1000;
    while (Date.now() < end && disconnected === '') {
      const t = Date.now() - begin;
      while (unreliableSent < t / 10) {
        peer.send(1, big, ENetPacketPeer.FLAG_UNRELIABLE_FRAGMENT);
        unreliableSent++;
      }
      while (reliableSent < t / 10) {
        peer.send(0, Buffer.alloc(100, 1), ENetPacketPeer.FLAG_RELIABLE);
        reliableSent++;
      }
      pump();
      if (reliableSent > reliableGot) longestReliableGapMs = Math.max(longestReliableGapMs, Date.now() - lastReliableAt);
      await new Promise((r) => setTimeout(r, 1));
    }
    const settleUntil = Date.now() + 3000;
    while (Date.now() < settleUntil && reliableGot < reliableSent && disconnected === '') {
      pump();
      if (reliableSent > reliableGot) longestReliableGapMs = Math.max(longestReliableGapMs, Date.now() - lastReliableAt);
      await new Promise((r) => setTimeout(r, 2));
    }
    return { unreliableSent, reliableSent, reliableGot, longestReliableGapMs, disconnected };
  } finally {
    await proxy.close();
    server.destroy();
    client.destroy();
  }
}

/** Whether this build has the backpressure API on ENetPacketPeer (getQueuedBytes, setSendQueueLimit). */
export function backpressureApiPresent(): boolean {
  const proto = ENetPacketPeer.prototype as unknown as Record<string, unknown>;
  return typeof proto.getQueuedBytes === 'function' && typeof proto.setSendQueueLimit === 'function';
}
