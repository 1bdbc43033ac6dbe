// Misuse a newcomer hits gets a clear answer: packets over ENet's limit, out-of-range channels,
// intervals and timeouts, misspelt options, and a Godot-style error repeated on every poll.
import { ENetMultiplayerPeer } from '../src/enet/ENetMultiplayerPeer';
import { ENetPacketPeer } from '../src/enet/ENetPacketPeer';
import { ENET_MAX_PACKET_SIZE } from '../src/enet/native';
import { EventType } from '../src/enet/ENetConnection';
import { GodotError, setErrorReporter } from '../src/core/errors';
import { MultiplayerPeer } from '../src/multiplayer/MultiplayerPeer';
import { captureErrors, connectPair, destroyHostsAfterEach, newConnection, nextEvent, pattern, sleep } from './helpers/loopback';

const errors = captureErrors();
destroyHostsAfterEach();

const OVER_LIMIT = ENET_MAX_PACKET_SIZE + 1;

describe('packets over the limit ENet can carry are refused with an error code and a message naming the limit', () => {
  test('the limit is ENet host default, 32 MiB', () => {
    expect(ENET_MAX_PACKET_SIZE).toBe(32 * 1024 * 1024);
  });

  test("ENetPacketPeer.send and putPacket: FAILED (Godot's code), the limit named, and the connection still carries packets", async () => {
    const pair = await connectPair();
    const big = Buffer.alloc(OVER_LIMIT);
    expect(pair.clientPeer.send(0, big, ENetPacketPeer.FLAG_RELIABLE)).toBe(GodotError.FAILED);
    expect(errors.take()).toEqual([`ENetPacketPeer.send: a packet of ${OVER_LIMIT} bytes is over ENet's limit of 33554432 bytes (32 MiB); nothing was sent`]);
    expect(pair.clientPeer.putPacket(big)).toBe(GodotError.FAILED);
    expect(errors.take()[0]).toMatch(/^ENetPacketPeer\.putPacket: a packet of 33554433 bytes is over ENet's limit of 33554432 bytes/);
    expect(pair.clientPeer.getQueuedBytes()).toBe(0);

    const data = pattern(3000);
    expect(pair.clientPeer.send(1, data, ENetPacketPeer.FLAG_RELIABLE)).toBe(GodotError.OK);
    const event = await nextEvent(pair.server, EventType.EVENT_RECEIVE, pair.both);
    expect((event[1] as ENetPacketPeer).getPacket().equals(data)).toBe(true);
  });

  test('ENetConnection.broadcast and sendMany refuse it too (sendMany: 0 peers took it)', async () => {
    const pair = await connectPair();
    pair.server.host.broadcast(0, Buffer.alloc(OVER_LIMIT), ENetPacketPeer.FLAG_RELIABLE);
    expect(errors.take()[0]).toMatch(/^ENetConnection\.broadcast: a packet of 33554433 bytes is over ENet's limit/);
    expect(pair.server.host.sendMany([pair.serverPeer], 0, Buffer.alloc(OVER_LIMIT), ENetPacketPeer.FLAG_RELIABLE)).toBe(0);
    expect(errors.take()[0]).toMatch(/^ENetConnection\.sendMany: a packet of 33554433 bytes is over ENet's limit/);
    expect(pair.serverPeer.getQueuedBytes()).toBe(0);
  });

  test('ENetMultiplayerPeer.putPacket of 40 MiB returns ERR_INVALID_PARAMETER instead of OK, and names the limit, not a channel', async () => {
    const server = new ENetMultiplayerPeer();
    const client = new ENetMultiplayerPeer();
    try {
      expect(server.createServer(0)).toBe(GodotError.OK);
      const port = server.host?.getLocalPort() as number;
      expect(client.createClient('127.0.0.1', port)).toBe(GodotError.OK);
      const deadline = Date.now() + 5000;
      while (client.getConnectionStatus() !== MultiplayerPeer.CONNECTION_CONNECTED && Date.now() < deadline) {
        server.poll();
        client.poll();
        await sleep(1);
      }
      expect(client.getConnectionStatus()).toBe(MultiplayerPeer.CONNECTION_CONNECTED);
      errors.take();
      expect(client.putPacket(Buffer.alloc(40 * 1024 * 1024))).toBe(GodotError.ERR_INVALID_PARAMETER);
      const reported = errors.take();
      expect(reported).toEqual([`ENetMultiplayerPeer.putPacket: a packet of 41943040 bytes is over ENet's limit of 33554432 bytes (32 MiB); nothing was sent`]);
      expect(reported.join()).not.toMatch(/channel/);
      expect(server.putPacket(Buffer.alloc(40 * 1024 * 1024))).toBe(GodotError.ERR_INVALID_PARAMETER);
      expect(client.putPacket(Buffer.from('still fine'))).toBe(GodotError.OK);
    } finally {
      client.close();
      server.close();
    }
  });
});

describe('out-of-range channels, intervals and timeouts are refused, with Godot-style errors', () => {
  test('transferChannel outside 0..255 is reported and the old value kept', () => {
    const peer = new ENetMultiplayerPeer();
    peer.transferChannel = 3;
    errors.reportsError(() => (peer.transferChannel = -1));
    expect(peer.transferChannel).toBe(3);
    errors.reportsError(() => peer.setTransferChannel(256));
    expect(peer.getTransferChannel()).toBe(3);
    errors.reportsNothing(() => (peer.transferChannel = 255));
    expect(peer.transferChannel).toBe(255);
    expect(() => (peer.transferChannel = 1.5)).toThrow(TypeError);
  });

  test('setTimeout, pingInterval and throttleConfigure refuse negative values instead of wrapping them to 2^32 - 1', async () => {
    const pair = await connectPair();
    const peer = pair.clientPeer;
    peer.setTimeout(-1, -1, -1);
    expect(errors.take()).toEqual(['ENetPacketPeer.setTimeout: timeout -1 is outside 0..4294967295; nothing was changed']);
    errors.reportsError(() => peer.setTimeout(32, 1000, 2 ** 32));
    errors.reportsError(() => peer.pingInterval(-500));
    errors.reportsError(() => peer.throttleConfigure(-1, 2, 2));
    errors.reportsError(() => peer.throttleConfigure(5000, 2, -2));
    errors.reportsNothing(() => peer.setTimeout(32, 1000, 2000));
    errors.reportsNothing(() => peer.pingInterval(0));
    errors.reportsNothing(() => peer.throttleConfigure(5000, 2, 2));
  });

  test('service(-1) is refused (EVENT_ERROR) instead of blocking for 49 days', () => {
    const host = newConnection();
    expect(host.createHostBound('127.0.0.1', 0)).toBe(GodotError.OK);
    const started = Date.now();
    const result = errors.reportsError(() => host.service(-1));
    expect(result[0]).toBe(EventType.EVENT_ERROR);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(host.service(0)[0]).toBe(EventType.EVENT_NONE);
  });

  test('watch() and autoPoll take intervals of 1 ms or more (RangeError otherwise)', () => {
    const host = newConnection();
    expect(host.createHostBound('127.0.0.1', 0)).toBe(GodotError.OK);
    expect(() => host.watch(() => undefined, 0)).toThrow(RangeError);
    expect(() => host.watch(() => undefined, -10)).toThrow(/intervalMs must be 1 or more, got -10/);
    expect(host.watch(() => undefined, 5)).toBe(true);
    host.unwatch();
    expect(() => new ENetMultiplayerPeer({ autoPoll: -5 })).toThrow(RangeError);
    expect(() => new ENetMultiplayerPeer({ autoPoll: 0 })).toThrow(/autoPoll must be true, false or an interval of 1 ms or more, got 0/);
    expect(() => new ENetMultiplayerPeer({ autoPoll: 5 })).not.toThrow();
  });
});

describe('constructor options', () => {
  test('an unknown option throws a TypeError naming the close match and the known options', () => {
    expect(() => new ENetMultiplayerPeer({ autopoll: true } as never)).toThrow(
      'ENetMultiplayerPeer: unknown option "autopoll" (did you mean "autoPoll"?); the options are godotCreateServerBug, autoPoll, flush');
    expect(() => new ENetMultiplayerPeer({ verbose: 1 } as never)).toThrow(/unknown option "verbose"; the options are/);
    expect(() => new ENetMultiplayerPeer({ godotCreateServerBug: 'no' } as never)).toThrow(TypeError);
    expect(() => new ENetMultiplayerPeer({ godotCreateServerBug: false, autoPoll: true, flush: 'tick' })).not.toThrow();
  });
});

describe('repeated identical warnings are rate-limited with a count (the default reporter)', () => {
  test('50 identical reports in a burst print once, then once more with the count', async () => {
    const emitted = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    const warnings = () => emitted.mock.calls.map(([message, type]) => `${String(type)}: ${String(message)}`);
    setErrorReporter(null);
    try {
      const host = newConnection();
      for (let i = 0; i < 50; i++) host.flush(); // no host: Godot's "not active" error, every time
      host.getLocalPort(); // a different message is not held back
      expect(warnings()).toEqual([
        'GodotENetWarning: ENetConnection.flush: The ENetConnection instance is not active.',
        'GodotENetWarning: ENetConnection.getLocalPort: The ENetConnection instance is not active.',
      ]);
      await sleep(1200);
      expect(warnings().slice(2)).toEqual([
        'GodotENetWarning: ENetConnection.flush: The ENetConnection instance is not active. (repeated 49 more times in 1000 ms)',
      ]);
      host.flush(); // the window is over: printed again at once
      expect(warnings()).toHaveLength(4);
    } finally {
      emitted.mockRestore();
    }
  });
});
