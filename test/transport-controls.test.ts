/**
 * Godot's transport controls, observed on the wire: bandwidth limits throttle what a host sends
 * (measured bytes/s at the receiver), throttleConfigure and pingInterval reach a real upstream ENet peer
 * (python3-enet), as Godot documents them.
 */
import { afterEach, describe, expect, test } from '@jest/globals';
import { ENetConnection, ENetPacketPeer, EventType, GodotError, PeerState, PeerStatistic } from '../src';
import { PyPeer, pumpUntil } from './helpers/py-peer';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function host(create: (c: ENetConnection) => GodotError): ENetConnection {
  const connection = new ENetConnection();
  expect(create(connection)).toBe(GodotError.OK);
  cleanups.push(() => connection.getCounters() !== null && connection.destroy());
  return connection;
}

function drain(connection: ENetConnection, onReceive: (peer: ENetPacketPeer) => void = () => {}): ENetPacketPeer | null {
  let connected: ENetPacketPeer | null = null;
  for (let e = connection.service(0); e[0] !== EventType.EVENT_NONE; e = connection.service(0)) {
    if (e[0] === EventType.EVENT_CONNECT) connected = e[1];
    if (e[0] === EventType.EVENT_RECEIVE && e[1] !== null) onReceive(e[1]);
  }
  return connected;
}

/**
 * A server pushes 600-byte unreliable packets at ~160 KB/s to one client for `seconds`; returns the
 * bytes/s the client received in the last `seconds - 1` (the first second lets ENet's once-a-second
 * bandwidth throttle react).
 */
async function measure(configure: (server: ENetConnection, client: ENetConnection) => void, seconds = 4): Promise<{ rate: number; lowestLimit: number }> {
  const server = host((c) => c.createHostBound('127.0.0.1', 0, 4));
  const client = host((c) => c.createHost(1));
  configure(server, client);
  const clientPeer = client.connectToHost('127.0.0.1', server.getLocalPort(), 2) as ENetPacketPeer;
  let serverPeer: ENetPacketPeer | null = null;
  await pumpUntil(() => serverPeer !== null && clientPeer.getState() === PeerState.STATE_CONNECTED, () => {
    serverPeer = drain(server) ?? serverPeer;
    drain(client);
  }, 5000, 'connect');
  let bytes = 0;
  let lowestLimit = ENetPacketPeer.PACKET_THROTTLE_SCALE;
  const start = Date.now();
  const packet = Buffer.alloc(600, 1);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = Date.now() - start;
      const peer = serverPeer as unknown as ENetPacketPeer;
      for (let i = 0; i < 8; i++) peer.send(1, packet, 0); // ~8 per 30 ms
      drain(server);
      lowestLimit = Math.min(lowestLimit, peer.getStatistic(PeerStatistic.PEER_PACKET_THROTTLE_LIMIT));
      drain(client, (peer) => {
        const data = peer.getPacket();
        if (elapsed >= 1000) bytes += data.length;
      });
      if (elapsed >= seconds * 1000) {
        clearInterval(timer);
        resolve();
      }
    }, 30);
  });
  return { rate: bytes / (seconds - 1), lowestLimit };
}

// ENet throttles unreliable packets once a second from what each peer was sent in the second before
// (the same algorithm as upstream ENet, hence Godot): towards a peer that advertised a small incoming
// bandwidth it cuts hard, then eases off again as soon as the measured output is back under the limit,
// so it only roughly follows such a limit. A host's own outgoing limit is followed closely.
describe('bandwidth limits change what goes on the wire', () => {
  test('a client advertising 20 KB/s incoming bandwidth: the server throttles what it sends to it', async () => {
    const unlimited = await measure(() => {});
    const limited = await measure((_server, client) => {
      client.destroy();
      expect(client.createHost(1, 0, 20_000, 0)).toBe(GodotError.OK);
    });
    console.log(`unreliable stream: ${Math.round(unlimited.rate)} B/s unlimited, ${Math.round(limited.rate)} B/s to a ` +
      `client advertising 20000 B/s (throttle limit down to ${limited.lowestLimit}/32)`);
    expect(unlimited.lowestLimit).toBe(ENetPacketPeer.PACKET_THROTTLE_SCALE);
    expect(unlimited.rate).toBeGreaterThan(100_000);
    expect(limited.lowestLimit).toBeLessThanOrEqual(8); // 20000 B/s of ~160000 B/s pushed: about 4/32
  }, 30_000);

  test('bandwidthLimit(0, 20 KB/s) on the sending host caps its outgoing stream', async () => {
    const limited = await measure((server) => server.bandwidthLimit(0, 20_000));
    console.log(`unreliable stream from a host limited to 20000 B/s out: ${Math.round(limited.rate)} B/s`);
    expect(limited.rate).toBeLessThan(40_000);
    expect(limited.rate).toBeGreaterThan(2_000);
  }, 30_000);
});

describe('throttle and ping settings reach a real upstream ENet peer', () => {
  async function pairWithPython(): Promise<{ py: PyPeer; ours: ENetConnection; peer: ENetPacketPeer; key: number }> {
    const py = await PyPeer.start();
    cleanups.push(() => py.close());
    const { port } = await py.request({ op: 'host', bind: '127.0.0.1', port: 0, peers: 4 });
    const ours = host((c) => c.createHost(1));
    const peer = ours.connectToHost('127.0.0.1', port, 2) as ENetPacketPeer;
    const connect = await py.waitEvent((e) => e.ev === 'connect', 5000, () => drain(ours));
    await pumpUntil(() => peer.getState() === PeerState.STATE_CONNECTED, () => drain(ours), 5000, 'our side connected');
    return { py, ours, peer, key: (connect as { peer: number }).peer };
  }

  test('throttleConfigure(1000, 3, 4) sends THROTTLE_CONFIGURE: the remote adopts the values', async () => {
    const { py, ours, peer, key } = await pairWithPython();
    const before = await py.request({ op: 'peer_info', peer: key });
    expect(before.packetThrottleInterval).toBe(5000);
    peer.throttleConfigure(1000, 3, 4);
    let info = before;
    await pumpUntil(() => info.packetThrottleInterval === 1000, () => {
      drain(ours);
      void py.request({ op: 'peer_info', peer: key }).then((r) => (info = r));
    }, 5000, 'THROTTLE_CONFIGURE applied remotely');
    expect(info.packetThrottleAcceleration).toBe(3);
    expect(info.packetThrottleDeceleration).toBe(4);
  }, 20_000);

  test('pingInterval(100) makes an idle connection ping five times as often as the default 500 ms', async () => {
    const { py, ours, peer } = await pairWithPython();
    const countDatagrams = async (ms: number): Promise<number> => {
      const { datagramsIn: start } = await py.request({ op: 'stats' });
      const until = Date.now() + ms;
      await pumpUntil(() => Date.now() >= until, () => drain(ours), ms + 2000, 'idle period');
      const { datagramsIn: end } = await py.request({ op: 'stats' });
      return end - start;
    };
    const idleDefault = await countDatagrams(2000);
    peer.pingInterval(100);
    const idleFast = await countDatagrams(2000);
    console.log(`datagrams from an idle peer in 2 s: ${idleDefault} with the default ping interval, ${idleFast} with pingInterval(100)`);
    // Our pings (4 per 2 s by default, 20 at 100 ms) plus our ACKs of the remote's own pings (about 4).
    expect(idleDefault).toBeLessThanOrEqual(11);
    expect(idleFast).toBeGreaterThanOrEqual(18);
  }, 20_000);
});
