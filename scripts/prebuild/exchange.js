'use strict';
// A loopback server/client exchange through an installed godot-enet, run by scripts/prebuild/check.js
// under each target's Node (the host's, qemu-user's arm64, wine's Windows): proves that the prebuilt
// binary loads and that its sockets, codecs and event loop work on that platform.
//
//   node exchange.js <path of the installed godot-enet package>
//
// Prints one line per step and `exchange: OK <platform>-<arch>` at the end; exits 1 on the first failure.
const assert = require('assert');
const crypto = require('crypto');

const enet = require(process.argv[2]);
const { ENetConnection, ENetMultiplayerPeer, ENetPacketPeer, EventType, CompressionMode, MultiplayerPeer } = enet;
const OK = enet.Error.OK;

function log(line) {
  process.stdout.write(`${line}\n`);
}

const timeout = setTimeout(() => {
  log('exchange: FAILED (timed out)');
  process.exit(1);
}, 120000);

// Services both hosts until `done()` holds; returns the events seen, by host.
function pump(hosts, done, what, ms = 30000) {
  const deadline = Date.now() + ms;
  const events = hosts.map(() => []);
  for (;;) {
    hosts.forEach((host, i) => {
      for (let event = host.service(1); event[0] !== EventType.EVENT_NONE; event = host.service(0)) {
        assert.notStrictEqual(event[0], EventType.EVENT_ERROR, `${what}: EVENT_ERROR`);
        events[i].push(event);
      }
    });
    if (done(events)) return events;
    assert.ok(Date.now() < deadline, `${what}: timed out`);
  }
}

function connectionExchange(mode) {
  const server = new ENetConnection();
  const client = new ENetConnection();
  assert.strictEqual(server.createHostBound('*', 0, 4), OK, 'createHostBound');
  assert.strictEqual(client.createHost(1), OK, 'createHost');
  server.compress(mode);
  client.compress(mode);
  const counters = server.getCounters();
  assert.strictEqual(counters.socketLayer, true, 'our socket layer handles the socket');
  const toServer = client.connectToHost('127.0.0.1', server.getLocalPort(), 4, 1234);
  const connected = pump([server, client], (ev) => ev[0].length > 0 && ev[1].length > 0, 'connect');
  const atServer = connected[0][0][1];
  assert.strictEqual(connected[0][0][2], 1234, 'CONNECT data');
  assert.strictEqual(atServer.getRemoteAddress(), '127.0.0.1', 'an IPv4 client on the dual-stack server');

  const packets = [
    [0, crypto.randomBytes(100), ENetPacketPeer.FLAG_RELIABLE],
    [1, Buffer.alloc(1000, 7), 0],
    [2, crypto.randomBytes(200000), ENetPacketPeer.FLAG_RELIABLE],
    [3, Buffer.from('x'.repeat(3000)), ENetPacketPeer.FLAG_UNRELIABLE_FRAGMENT],
  ];
  // ENet's throttle drops unreliable packets on purpose when it sees RTT grow (qemu and wine are slow):
  // deceleration 0 keeps it open, and an unreliable packet that is lost anyway is sent again.
  toServer.throttleConfigure(5000, 2, 0);
  atServer.throttleConfigure(5000, 2, 0);
  const deliver = (from, index, channel, data, flags, what) => {
    for (let attempt = 0; ; attempt++) {
      assert.strictEqual(from.send(channel, data, flags), OK, `send ${what}`);
      const reliable = (flags & ENetPacketPeer.FLAG_RELIABLE) !== 0;
      let got;
      try {
        got = pump([server, client], (ev) => ev[index].some((e) => e[0] === EventType.EVENT_RECEIVE), what, reliable ? 30000 : 2000);
      } catch (error) {
        if (reliable || attempt === 10) throw error;
        continue;
      }
      const receive = got[index].find((e) => e[0] === EventType.EVENT_RECEIVE);
      assert.strictEqual(receive[3], channel, `channel of ${what}`);
      return receive[1].getPacket();
    }
  };
  for (const [channel, data, flags] of packets) {
    const bytes = deliver(toServer, 0, channel, data, flags, `packet on ${channel}`);
    assert.ok(bytes.equals(data), `bytes on channel ${channel}`);
    const echoed = deliver(atServer, 1, channel, bytes, flags, `echo on ${channel}`);
    assert.ok(echoed.equals(data), `echo bytes on ${channel}`);
  }
  toServer.peerDisconnect(5);
  const gone = pump([server, client], (ev) => ev[0].some((e) => e[0] === EventType.EVENT_DISCONNECT), 'disconnect');
  assert.strictEqual(gone[0].find((e) => e[0] === EventType.EVENT_DISCONNECT)[2], 5, 'DISCONNECT data');
  server.destroy();
  client.destroy();
  log(`ENetConnection ${CompressionMode[mode]}: connect, 4 packets each way (up to 200 KB), disconnect`);
}

async function multiplayerExchange() {
  const server = new ENetMultiplayerPeer({ autoPoll: true });
  const client = new ENetMultiplayerPeer({ autoPoll: true });
  assert.strictEqual(server.createServer(0, 4), OK, 'createServer');
  const joined = new Promise((resolve) => server.once('peer_connected', resolve));
  assert.strictEqual(client.createClient('127.0.0.1', server.host.getLocalPort()), OK, 'createClient');
  const id = await joined;
  const received = new Promise((resolve) => server.once('packet', resolve));
  client.transferMode = MultiplayerPeer.TRANSFER_MODE_RELIABLE;
  client.putVar({ hello: 'server', n: 42 });
  const packet = await received;
  assert.strictEqual(packet.from, id, 'sender id');
  assert.deepStrictEqual(enet.bytesToVar(packet.data), new Map([['hello', 'server'], ['n', 42]]), 'Variant round trip');
  const back = new Promise((resolve) => client.once('packet', resolve));
  server.setTargetPeer(id);
  server.putPacket(Buffer.from('hello client'));
  assert.strictEqual((await back).data.toString(), 'hello client', 'reply');
  client.close();
  server.close();
  log('ENetMultiplayerPeer: autoPoll server and client, a Variant and a reply');
}

(async () => {
  for (const mode of [CompressionMode.COMPRESS_NONE, CompressionMode.COMPRESS_RANGE_CODER, CompressionMode.COMPRESS_FASTLZ,
    CompressionMode.COMPRESS_ZLIB, CompressionMode.COMPRESS_ZSTD]) {
    connectionExchange(mode);
  }
  await multiplayerExchange();
  clearTimeout(timeout);
  log(`exchange: OK ${process.platform}-${process.arch}`);
})().catch((error) => {
  log(`exchange: FAILED ${error.stack}`);
  process.exit(1);
});
