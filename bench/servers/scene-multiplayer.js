'use strict';
// SceneMultiplayer server of the "scene" rows (bench/run.js server `sm`): godot-enet's SceneMultiplayer
// on an ENetMultiplayerPeer (flush: 'tick'), run the way a Node game server would run it — autoPoll on
// the SceneMultiplayer (it wakes on every datagram), handlers answering from inside poll(). Clients are
// the load generator's `--proto scene` clients (Godot 4 clients, as far as these rows need; see
// bench/loadgen.c):
//   - RPC echo: node "Bench" has `@rpc("any_peer") func echo(v: Vector2, n: int)`; the server answers
//     the caller with the same RPC and arguments (rpcId(getRemoteSenderId(), 'echo', v, n)).
//   - send_bytes echo: every peer_packet goes back to its sender (sendBytes, reliable, channel 0 — the
//     signal does not tell the mode, and the clients send reliably).
//   - relay: serverRelay stays on (Godot's default), so clients reach each other through the server.
// On exit it prints `STATS {...}` (replies sent, packets dropped by reason) for bench/run.js.
const path = require('path');
const { ENetMultiplayerPeer, SceneMultiplayer, GodotError, MultiplayerPeer } = require(path.join(__dirname, '..', '..'));
const { parseArgs, ready } = require('./common');

const options = parseArgs();
// The SceneMultiplayer polls the peer, so the peer has no autoPoll of its own.
const peer = new ENetMultiplayerPeer({ flush: options.flush });
if (peer.createServer(options.port, options.peers) !== GodotError.OK) {
  console.error(`scene-multiplayer: cannot listen on port ${options.port}`);
  process.exit(1);
}
const multiplayer = new SceneMultiplayer({ autoPoll: true });
multiplayer.serverRelay = true;
multiplayer.multiplayerPeer = peer;

let rpcs = 0;
let bytes = 0;
let failed = 0;
const bench = multiplayer.registerNode('Bench', { echo: { rpcMode: 'any_peer', args: ['Vector2', 'int'] } });
bench.on('echo', (v, n) => {
  rpcs++;
  if (bench.rpcId(multiplayer.getRemoteSenderId(), 'echo', v, n) !== GodotError.OK) failed++;
});
multiplayer.on('peer_packet', (from, data) => {
  bytes++;
  if (multiplayer.sendBytes(data, from, MultiplayerPeer.TRANSFER_MODE_RELIABLE, 0) !== GodotError.OK) failed++;
});

// common.js exits on SIGTERM; stdout is a pipe (synchronous on Linux), so the line leaves from 'exit'.
process.on('exit', () => {
  const dropped = Object.fromEntries(Object.entries(multiplayer.getCounters()).filter(([, n]) => n > 0));
  process.stdout.write(`STATS ${JSON.stringify({ rpcs, bytes, failed, dropped })}\n`);
});
ready(peer.host.getLocalPort());
