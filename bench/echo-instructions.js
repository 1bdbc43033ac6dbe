'use strict';
// Instruction counts of the echo path, plain ENet against DTLS, for machines where timings mean nothing
// (a shared or loaded one): a client and a server in this one process exchange N reliable 64-byte
// round trips. Run it under callgrind for two values of N; the difference of the totals over the
// difference of N is the cost of one round trip (two datagrams each way, both ends' work):
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/echo-instructions.js plain 4500
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/echo-instructions.js plain 6500
//   (and the same with dtls; it uses bench/out/dtls/{key,cert}.pem, which bench/run.js makes)
const path = require('path');
const { CryptoKey, ENetConnection, GodotError, TLSOptions, X509Certificate } = require(path.join(__dirname, '..'));

const [mode = 'plain', count = '1000'] = process.argv.slice(2);
if (mode !== 'plain' && mode !== 'dtls') throw new Error('usage: node bench/echo-instructions.js plain|dtls N');
const N = Number(count);
const { EVENT_CONNECT, EVENT_NONE, EVENT_RECEIVE } = ENetConnection;

const server = new ENetConnection();
const client = new ENetConnection();
if (server.createHostBound('127.0.0.1', 0, 4) !== GodotError.OK || client.createHost(1) !== GodotError.OK) throw new Error('no host');
if (mode === 'dtls') {
  const dir = path.join(__dirname, 'out', 'dtls');
  const key = new CryptoKey();
  const certificate = new X509Certificate();
  if (key.load(path.join(dir, 'key.pem')) !== GodotError.OK || certificate.load(path.join(dir, 'cert.pem')) !== GodotError.OK ||
      server.dtlsServerSetup(TLSOptions.server(key, certificate)) !== GodotError.OK) throw new Error(`no DTLS server (run bench/run.js once to make ${dir})`);
}
const peer = client.connectToHost('127.0.0.1', server.getLocalPort(), 2);
if (mode === 'dtls' && client.dtlsClientSetup('localhost', TLSOptions.clientUnsafe()) !== GodotError.OK) throw new Error('no DTLS client');

const message = Buffer.alloc(64, 1);
let connected = false;
while (!connected) {
  server.service(1);
  connected = client.service(1)[0] === EVENT_CONNECT;
}
let done = 0;
peer.send(0, message, 1); // FLAG_RELIABLE
while (done < N) {
  for (let e = server.service(0); e[0] !== EVENT_NONE; e = server.service(0)) {
    if (e[0] === EVENT_RECEIVE) e[1].send(0, e[1].getPacket(), 1);
  }
  for (let e = client.service(0); e[0] !== EVENT_NONE; e = client.service(0)) {
    if (e[0] !== EVENT_RECEIVE) continue;
    e[1].getPacket();
    done++;
    peer.send(0, message, 1);
  }
}
console.log(`${mode}: ${done} round trips`);
server.destroy();
client.destroy();
