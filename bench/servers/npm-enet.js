'use strict';
// Echo server on the npm package `enet` (0.2.9: ENet 1.3.5 compiled to asm.js by emscripten), the
// existing Node option, used as its tutorial says: createServer + the `message` event + host.start().
// The host is serviced every 1 ms (start(1), the smallest interval; the default is 10 ms).
const enet = require('enet');
const { parseArgs, ready, startBroadcast } = require('./common');

const options = parseArgs();
const KEEP_FLAGS = 1 | 2 | 8;

enet.createServer({
  address: { address: '0.0.0.0', port: options.port },
  peers: options.peers,
  channels: 2,
  down: 0,
  up: 0,
}, (err, host) => {
  if (err) {
    console.error(`npm-enet: ${err}`);
    process.exit(1);
  }
  host.on('message', (peer, packet, channel) => {
    peer.send(channel, new enet.Packet(packet.data(), packet.flags() & KEEP_FLAGS));
  });
  host.start(1);
  startBroadcast(options.broadcastHz, options.broadcastSize, (state) => {
    host.broadcast(1, new enet.Packet(state, enet.PACKET_FLAG.UNSEQUENCED));
    host.flush();
  });
  ready(host.address().port);
});
