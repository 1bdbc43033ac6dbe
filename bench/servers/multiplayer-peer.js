'use strict';
// Echo server on godot-enet's ENetMultiplayerPeer (Godot 4's high-level peer), run the efficient Node
// way: autoPoll, the `packet` event and flush: 'tick' (puts of one JavaScript turn leave together;
// `--flush put` gives Godot's one-datagram-per-put). Each packet goes back to its sender in the mode it
// came with (setTargetPeer(from) + putPacket). Clients speak Godot 4's protocol (see bench/loadgen.c).
const path = require('path');
const { ENetMultiplayerPeer, MultiplayerPeer, GodotError } = require(path.join(__dirname, '..', '..'));
const { parseArgs, ready, startBroadcast } = require('./common');

const options = parseArgs();
const server = new ENetMultiplayerPeer({ autoPoll: true, flush: options.flush });
if (server.createServer(options.port, options.peers) !== GodotError.OK) {
  console.error(`multiplayer-peer: cannot listen on port ${options.port}`);
  process.exit(1);
}

server.on('packet', ({ data, from, mode }) => {
  server.transferMode = mode;
  server.setTargetPeer(from);
  server.putPacket(data);
});

startBroadcast(options.broadcastHz, options.broadcastSize, (state) => {
  server.transferMode = MultiplayerPeer.TRANSFER_MODE_UNRELIABLE;
  server.setTargetPeer(0); // TARGET_PEER_BROADCAST
  server.putPacket(state);
});

ready(server.host.getLocalPort());
