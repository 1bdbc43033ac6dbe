#!/usr/bin/env node
'use strict';
// The dedicated server of the example game in examples/godot-client (a real Godot 4 project): Godot 4
// clients join it unchanged, through SceneMultiplayer — name check at authentication, a square per
// player spawned by the game's own MultiplayerSpawner and moved here from each player's input
// synchronizer, positions and names streamed to everyone by the square's synchronizer, chat over RPCs.
// A few simulated clients (Node bots speaking the same protocol) keep it busy; a status line shows
// what flows.
//
//   npm start                                          # port 7777, 8 bots, until Ctrl-C
//   node examples/dedicated-server.js --port 9000 --bots 50 --seconds 10
//
// Then open examples/godot-client in Godot 4.6 and press Play (or run it with
// `godot --path examples/godot-client -- --server=<this host>:7777 --name=alice`).
const path = require('path');
const { parseArgs } = require('util');
const {
  ENetMultiplayerPeer, SceneMultiplayer, HostStatistic, PeerStatistic, Vector2, GodotError, readManifest,
} = require('..');

const USAGE = `usage: node examples/dedicated-server.js [--port 7777] [--bots 8] [--seconds 0] [--help]
  --port     UDP port to listen on (default 7777)
  --bots     simulated clients to start in this process (default 8)
  --seconds  stop after this many seconds (default 0: run until Ctrl-C)`;

function options() {
  try {
    const { values } = parseArgs({
      options: {
        port: { type: 'string', default: '7777' },
        bots: { type: 'string', default: '8' },
        seconds: { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const number = (name, min, max) => {
      const n = Number(values[name]);
      if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}, not "${values[name]}"`);
      return n;
    };
    return { port: number('port', 0, 65535), bots: number('bots', 0, 4000), seconds: number('seconds', 0, 1e6) };
  } catch (e) {
    console.error(`dedicated-server: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
}

// Everything the server must know about the game — node paths, each script's @rpc methods with their
// settings and parameter types, the spawner's scenes, each synchronizer's properties and their types —
// is read from the Godot project itself. Method ids and the path checksum derive from it exactly as
// Godot derives them. (`npx godot-enet manifest examples/godot-client` writes the same as JSON, for a
// server shipped without the project.)
const MANIFEST = readManifest(path.join(__dirname, 'godot-client'));
const NAME = /^[\p{L}\p{N}_ -]{1,16}$/u;
const PLAYER_SCENE = 'res://player.tscn';
const SPEED = 120; // pixels per second
const TICK_HZ = 60;
const BOUNDS = { minX: 16, minY: 16, maxX: 784, maxY: 520 };

/** What player.gd's _enter_tree does on every peer: a player's input belongs to the player's peer. */
function ownInput(multiplayer) {
  multiplayer.on('node_added', (node) => {
    if (node.sceneFilePath === PLAYER_SCENE) node.getNode('Input').setMultiplayerAuthority(Number(node.name));
  });
}

function startServer(port, log) {
  const peer = new ENetMultiplayerPeer();
  const error = peer.createServer(port, 256);
  if (error !== GodotError.OK) {
    console.error(`Could not start the server on port ${port} (Godot error ${error}); is the port in use? Try --port.`);
    process.exit(1);
  }
  const multiplayer = new SceneMultiplayer({ autoPoll: true });
  const names = new Map();
  const stats = { chats: 0, inputs: 0 };

  // Authentication: the client sends its name; a good name is welcomed, a bad one disconnected.
  multiplayer.authCallback = (id, data) => {
    const name = data.toString('utf8').trim();
    if (!NAME.test(name) || [...names.values()].includes(name)) {
      log(`peer ${id} refused: name "${name}" is not allowed or taken`);
      multiplayer.disconnectPeer(id);
      return;
    }
    names.set(id, name);
    multiplayer.sendAuth(id, Buffer.from(`welcome, ${name}`));
    multiplayer.completeAuth(id);
  };
  multiplayer.multiplayerPeer = peer;
  multiplayer.loadManifest(MANIFEST);
  ownInput(multiplayer);
  const main = multiplayer.getNode('Main');
  main.on('chat', (text) => {
    stats.chats++;
    main.rpc('chat_message', names.get(multiplayer.getRemoteSenderId()) ?? '?', text.slice(0, 200));
  });

  // A square per player: instantiating the spawnable scene under the spawner's spawn path spawns it on
  // every peer (as Godot's add_child would), with its position and name as the spawn state.
  const players = new Map();
  multiplayer.on('peer_connected', (id) => {
    log(`${names.get(id)} joined (peer ${id})`);
    const player = multiplayer.instantiate(PLAYER_SCENE, `Main/Players/${id}`, (p) => {
      p.set('position', new Vector2(100 + Math.random() * 600, 100 + Math.random() * 350));
      p.set('player_name', names.get(id) ?? `peer ${id}`);
    });
    player.getNode('Input').on('synchronized', () => stats.inputs++);
    players.set(id, player);
  });
  multiplayer.on('peer_disconnected', (id) => {
    log(`${names.get(id)} left (peer ${id})`);
    players.get(id)?.remove(); // DESPAWN on every peer
    players.delete(id);
    names.delete(id);
  });
  multiplayer.on('peer_authentication_failed', (id) => names.delete(id));

  // The server moves the squares from their players' input; the State synchronizers send the positions.
  const ticker = setInterval(() => {
    for (const player of players.values()) {
      const direction = player.getNode('Input').get('direction');
      if (direction === undefined) continue;
      const length = Math.hypot(direction.x, direction.y);
      if (length === 0) continue;
      const step = (SPEED / TICK_HZ) / Math.max(1, length);
      const at = player.get('position');
      player.set('position', new Vector2(
        Math.min(BOUNDS.maxX, Math.max(BOUNDS.minX, at.x + direction.x * step)),
        Math.min(BOUNDS.maxY, Math.max(BOUNDS.minY, at.y + direction.y * step)),
      ));
    }
  }, 1000 / TICK_HZ);
  peer.on('closed', () => clearInterval(ticker));
  return { peer, multiplayer, stats, players, stop: () => clearInterval(ticker) };
}

/** A simulated client: the same protocol as the Godot game, from Node. */
function startBot(port, index) {
  const peer = new ENetMultiplayerPeer();
  peer.createClient('127.0.0.1', port);
  const multiplayer = new SceneMultiplayer({ autoPoll: true });
  multiplayer.authCallback = (id) => multiplayer.completeAuth(id);
  multiplayer.on('peer_authenticating', (id) => multiplayer.sendAuth(id, Buffer.from(`bot${index}`)));
  multiplayer.multiplayerPeer = peer;
  multiplayer.loadManifest(MANIFEST);
  ownInput(multiplayer);
  const main = multiplayer.getNode('Main');
  main.on('chat_message', () => {});
  // Our own square's input, as player_input.gd does it: shown to the server only, wandering.
  let input = null;
  multiplayer.getNode('Main/PlayerSpawner').on('spawned', (player) => {
    if (Number(player.name) !== multiplayer.getUniqueId()) return;
    input = player.getNode('Input');
    input.set('direction', new Vector2(0, 0));
    input.setVisibilityFor(1, true);
  });
  let heading = Math.random() * 2 * Math.PI;
  let ticks = 0;
  const timer = setInterval(() => {
    if (input === null || !input.isRegistered) return;
    heading += (Math.random() - 0.5) * 0.6;
    input.set('direction', new Vector2(Math.cos(heading), Math.sin(heading)));
    if (++ticks % (50 + index * 7) === 0) main.rpcId(1, 'chat', `bot${index} says hello`);
  }, 100);
  return { multiplayer, main, close: () => (clearInterval(timer), peer.close()) };
}

function main() {
  const { port, bots: botCount, seconds } = options();
  const tty = process.stdout.isTTY;
  const log = (message) => {
    if (tty) process.stdout.write(`\r${' '.repeat(110)}\r`);
    console.log(message);
  };
  const server = startServer(port, log);
  const actualPort = server.peer.host.getLocalPort();
  const bots = Array.from({ length: botCount }, (_, i) => startBot(actualPort, i));

  let last = { ...server.stats, at: process.hrtime.bigint() };
  const statusTimer = setInterval(() => {
    const now = process.hrtime.bigint();
    const dt = Number(now - last.at) / 1e9;
    const host = server.peer.host;
    const ids = server.multiplayer.getPeers();
    const rtts = ids.map((id) => server.peer.getPeer(id)?.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME) ?? 0);
    const rtt = rtts.length ? (rtts.reduce((a, b) => a + b, 0) / rtts.length).toFixed(1) : '-';
    const rate = (n) => Math.round(n / dt).toLocaleString('en');
    const line = `port ${actualPort} | players ${ids.length} | inputs ${rate(server.stats.inputs - last.inputs)}/s ` +
      `chat ${rate(server.stats.chats - last.chats)}/s | in ${rate(host.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_DATA))} B/s ` +
      `out ${rate(host.popStatistic(HostStatistic.HOST_TOTAL_SENT_DATA))} B/s | rtt ${rtt} ms`;
    last = { ...server.stats, at: now };
    if (tty) process.stdout.write(`\r${line}   `);
    else console.log(line);
  }, 1000);

  const stop = () => {
    clearInterval(statusTimer);
    for (const bot of bots) bot.close();
    server.stop();
    server.peer.close();
    if (tty) process.stdout.write('\n');
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  if (seconds > 0) setTimeout(stop, seconds * 1000);
  console.log(`godot-enet example server on UDP port ${actualPort} (Ctrl-C to stop), ${botCount} bots. ` +
    'Join with examples/godot-client in Godot 4.6.');
}

if (require.main === module) main();
module.exports = { startServer, startBot };
