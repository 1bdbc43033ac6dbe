#!/usr/bin/env node
/**
 * Reproducer, through the public API, of the heap-use-after-free enet_receive_fuzz found
 * (tools/fuzz/repro/enet_receive-disconnect-later-uaf, tools/fuzz/workarounds/0001-*.patch):
 * an unreliable packet queued, then peerDisconnectLater(), then a service call. ENet builds the
 * datagram with the packet's data, sees the peer's queues empty and disconnects it, which frees that
 * packet; the datagram is then sent (and compressed, with compression on) from freed memory.
 *
 * Under the AddressSanitizer build (tools/sanitize.sh builds build-asan/):
 *   GODOT_ENET_PREBUILD=$PWD/build-asan LD_PRELOAD=$(gcc -print-file-name=libasan.so) \
 *     node tools/fuzz/repro/disconnect-later-uaf.js [compression mode]
 * reports "heap-use-after-free" (in sendmsg, or in the compressor's gather). With the normal build it
 * runs to the end: the client receives the packet's bytes read from freed memory (usually intact,
 * since nothing reused the block yet), which is why no test noticed.
 */
'use strict';
const path = require('path');
const { ENetConnection, EventType } = require(path.join(__dirname, '..', '..', '..', 'dist'));

const mode = Number(process.argv[2] || 0);
const server = new ENetConnection();
const client = new ENetConnection();
if (server.createHostBound('127.0.0.1', 0, 4) !== 0 || client.createHost(1) !== 0) throw new Error('hosts');
server.compress(mode);
client.compress(mode);
const port = server.getLocalPort();
client.connectToHost('127.0.0.1', port);

let serverPeer = null;
const deadline = Date.now() + 5000;
while (serverPeer === null && Date.now() < deadline) {
  const [type, peer] = server.service(1);
  if (type === EventType.EVENT_CONNECT) serverPeer = peer;
  client.service(1);
}
if (serverPeer === null) throw new Error('no connection');
for (let i = 0; i < 5; i++) client.service(1);

serverPeer.send(1, Buffer.alloc(300, 0x5a), 0); // unreliable
serverPeer.peerDisconnectLater(7);
server.service(0); // builds the datagram, frees its packet, sends it

let received = null, disconnected = false;
const end = Date.now() + 2000;
while (!disconnected && Date.now() < end) {
  const [type, , data] = client.service(1);
  if (type === EventType.EVENT_RECEIVE) received = client;
  if (type === EventType.EVENT_DISCONNECT) disconnected = data === 7;
  server.service(0);
}
server.destroy();
client.destroy();
console.log(`done: packet ${received ? 'received' : 'not received'}, disconnect ${disconnected ? 'received' : 'not received'}`);
