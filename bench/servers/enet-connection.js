'use strict';
// Echo server on godot-enet's ENetConnection, run the efficient Node way: watch() wakes us when the
// socket is readable (and every 10 ms for ENet's timers); each wake drains service(0) until
// EVENT_NONE, echoing every packet with peer.send on its channel with its flags, then flush()es once.
// With `--dtls DIR` the host is a DTLS server (dtlsServerSetup) with DIR/key.pem and DIR/cert.pem.
const path = require('path');
const { CryptoKey, ENetConnection, GodotError, TLSOptions, X509Certificate } = require(path.join(__dirname, '..', '..'));
const { parseArgs, ready, startBroadcast } = require('./common');

const options = parseArgs();
const { EVENT_NONE, EVENT_RECEIVE } = ENetConnection;
const KEEP_FLAGS = 1 | 2 | 8; // RELIABLE | UNSEQUENCED | UNRELIABLE_FRAGMENT

const host = new ENetConnection();
if (host.createHostBound('*', options.port, options.peers) !== GodotError.OK) {
  console.error(`enet-connection: cannot listen on port ${options.port}`);
  process.exit(1);
}
if (options.dtls !== null) {
  const key = new CryptoKey();
  const certificate = new X509Certificate();
  if (key.load(path.join(options.dtls, 'key.pem')) !== GodotError.OK || certificate.load(path.join(options.dtls, 'cert.pem')) !== GodotError.OK ||
      host.dtlsServerSetup(TLSOptions.server(key, certificate)) !== GodotError.OK) {
    console.error(`enet-connection: DTLS setup failed with ${options.dtls}`);
    process.exit(1);
  }
}

host.watch(() => {
  for (;;) {
    const [type, peer, , channel] = host.service(0);
    if (type === EVENT_NONE) break;
    if (type === EVENT_RECEIVE) {
      const flags = peer.getPacketFlags() & KEEP_FLAGS;
      peer.send(channel, peer.getPacket(), flags);
    }
  }
  host.flush();
}, 10);

startBroadcast(options.broadcastHz, options.broadcastSize, (state) => {
  host.broadcast(1, state, 2 /* UNSEQUENCED */);
  host.flush();
});

ready(host.getLocalPort());
