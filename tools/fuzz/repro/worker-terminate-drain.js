#!/usr/bin/env node
/**
 * Reproducer of what tools/sanitize.sh found in test/fixtures/lifecycle/workers.js ("terminate"):
 * a packet ENet received leaks when a worker thread is terminated while HostWrap::Drain is running.
 *
 * worker.terminate() makes every later N-API call of that thread fail (napi_pending_exception: the
 * environment can no longer run JS), and binding/host.cc's Drain does not check:
 *  - a packet of >= 256 bytes is handed over with Napi::Buffer::New(env, data, length, FreePacket,
 *    packet); when that fails, node-addon-api drops the finalizer without calling it, and the
 *    ENetPacket (allocated in enet_peer_queue_incoming_command) is never destroyed;
 *  - packets under 256 bytes are copied into one arena Napi::Buffer::New(env, arenaBytes); when that
 *    fails, arena.Data() is null and the memcpy into it is a SIGSEGV: the whole process dies.
 *
 * Each round starts a worker that services a connected pair in a loop while the server sends it
 * packets (1000 bytes, and 100 bytes every other round), and terminates it after a random 1-40 ms.
 *
 *   node tools/fuzz/repro/worker-terminate-drain.js [rounds]
 *     -> "Segmentation fault" within a second or two (memcpy in HostWrap::Drain, see gdb)
 *   GODOT_ENET_PREBUILD=$PWD/build-asan LD_PRELOAD=$(clang -print-file-name=libclang_rt.asan-x86_64.so) \
 *     LSAN_OPTIONS=suppressions=$PWD/tools/lsan.supp node tools/fuzz/repro/worker-terminate-drain.js 60 large
 *     -> (1000-byte packets only: no crash) LeakSanitizer reports "Direct leak of 1048 byte(s) ...
 *        enet_packet_create ... enet_peer_queue_incoming_command ... HostWrap::Drain" at exit, once per
 *        unlucky termination.
 */
'use strict';
const path = require('path');
const { Worker, isMainThread, workerData, parentPort } = require('worker_threads');

if (!isMainThread) {
  const { ENetConnection, EventType, setErrorReporter } = require(path.join(__dirname, '..', '..', '..', 'dist'));
  setErrorReporter(() => undefined);
  const server = new ENetConnection();
  const client = new ENetConnection();
  server.createHostBound('127.0.0.1', 0, 2);
  client.createHost(1);
  const clientPeer = client.connectToHost('127.0.0.1', server.getLocalPort());
  let serverPeer = null;
  while (serverPeer === null || clientPeer.getState() !== 5) {
    const [type, peer] = server.service(0);
    if (type === EventType.EVENT_CONNECT) serverPeer = peer;
    client.service(0);
  }
  parentPort.postMessage('ready');
  for (let i = 0; ; i++) {
    serverPeer.send(0, Buffer.alloc(workerData.small && i % 2 ? 100 : 1000, i & 0xff), 1);
    server.service(0);
    for (let k = 0; k < 8; k++) client.service(0); // Drain: the window terminate() hits
  }
} else {
  // Loaded here too, so that the addon stays mapped at exit and LeakSanitizer can name its frames.
  require(path.join(__dirname, '..', '..', '..', 'dist'));
  const rounds = Number(process.argv[2] || 60);
  // argv[3] === 'large': 1000-byte packets only (the leak without the crash)
  (async () => {
    for (let r = 0; r < rounds; r++) {
      await new Promise((resolve, reject) => {
        const w = new Worker(__filename, { workerData: { small: process.argv[3] !== 'large' && r % 2 === 1 } });
        w.on('message', () => setTimeout(() => w.terminate(), 1 + Math.floor(Math.random() * 40)));
        w.on('error', reject);
        w.on('exit', resolve);
      });
    }
    console.log(`${rounds} workers terminated mid-Drain; the process is still here`);
  })();
}
