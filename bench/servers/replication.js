'use strict';
// Replication server of bench/replication.js: godot-enet's SceneMultiplayer running the game of
// bench/replication-game (read with readManifest). Every client that joins gets a player, spawned by the
// game's PlayerSpawner; each network frame (--hz a second) the server moves every player by its
// client's input and its State synchronizer sends all positions to every client (SYNC, unreliable);
// each client's Input synchronizer streams back. The relay is off: clients need not know each other.
//   --hz N        network frames per second (SceneMultiplayer tickRate; State's interval is 0: every frame)
//   --relay 1     keep Godot's default server relay (ADD_PEER of every pair)
const path = require('path');
const { ENetMultiplayerPeer, SceneMultiplayer, GodotError, Vector2, readManifest } = require(path.join(__dirname, '..', '..'));

const options = { port: 0, peers: 4095, hz: 20, relay: 0 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  if (!(argv[i].slice(2) in options)) throw new Error(`unknown option ${argv[i]}`);
  options[argv[i].slice(2)] = Number(argv[i + 1]);
}

const MANIFEST = readManifest(path.join(__dirname, '..', 'replication-game'));
const SCENE = 'res://player.tscn';

const peer = new ENetMultiplayerPeer({ flush: 'tick' });
if (peer.createServer(options.port, options.peers) !== GodotError.OK) {
  console.error(`replication: cannot listen on port ${options.port}`);
  process.exit(1);
}
const multiplayer = new SceneMultiplayer({ autoPoll: true, tickRate: options.hz, maxPathsPerPeer: 64 });
multiplayer.serverRelay = options.relay === 1;
multiplayer.loadManifest(MANIFEST);
multiplayer.on('node_added', (node) => {
  if (node.sceneFilePath === SCENE) node.getNode('Input').setMultiplayerAuthority(Number(node.name));
});
multiplayer.multiplayerPeer = peer;

const players = new Map();
let inputs = 0;
multiplayer.on('peer_connected', (id) => {
  const player = multiplayer.instantiate(SCENE, `World/Players/${id}`, (p) => p.set('position', new Vector2(id % 1000, 0)));
  player.getNode('Input').on('synchronized', () => inputs++);
  players.set(id, player);
});
multiplayer.on('peer_disconnected', (id) => {
  players.get(id)?.remove();
  players.delete(id);
});

// The game's own step, once per network frame: move every player by its input.
const step = 100 / options.hz;
setInterval(() => {
  for (const player of players.values()) {
    const direction = player.getNode('Input').get('direction');
    const at = player.get('position');
    if (direction !== undefined) player.set('position', new Vector2(at.x + direction.x * step, at.y + direction.y * step));
  }
}, 1000 / options.hz);

// What arrived, for the runner: inputs applied, and packets dropped by reason.
process.on('SIGTERM', () => {
  const dropped = Object.fromEntries(Object.entries(multiplayer.getCounters()).filter(([, n]) => n > 0));
  process.stdout.write(`STATS ${JSON.stringify({ players: players.size, inputs, dropped })}\n`, () => process.exit(0));
});
process.stdout.write(`READY ${peer.host.getLocalPort()}\n`);
