#!/usr/bin/env node
'use strict';
// The dedicated server of the example game in examples/godot-client (a real Godot 4 project): Godot 4
// clients join it unchanged, through SceneMultiplayer — name check at authentication, chat over RPCs,
// and every player's position relayed between clients. A few simulated clients (Node bots speaking the
// same protocol) keep it busy; a status line shows what flows.
//
//   npm start                                          # port 7777, 8 bots, until Ctrl-C
//   node examples/dedicated-server.js --port 9000 --bots 50 --seconds 10
//
// Then open examples/godot-client in Godot 4.6 and press Play (or run it with
// `godot --path examples/godot-client -- --server=<this host>:7777 --name=alice`).
const path = require('path');
const { parseArgs } = require('util');
const {
  ENetMultiplayerPeer, SceneMultiplayer, MultiplayerPeer, HostStatistic, PeerStatistic, Vector2, GodotError, readManifest,
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
// settings and parameter types — is read from the Godot project itself. Method ids and the path
// checksum derive from it exactly as Godot derives them. (`npx godot-enet manifest examples/godot-client`
// writes the same as JSON, for a server shipped without the project.)
const MANIFEST = readManifest(path.join(__dirname, 'godot-client'));
const NAME = /^[\p{L}\p{N}_ -]{1,16}$/u;

function startServer(port, log) {
  const peer = new ENetMultiplayerPeer();
  const error = peer.createServer(port, 256);
  if (error !== GodotError.OK) {
    console.error(`Could not start the server on port ${port} (Godot error ${error}); is the port in use? Try --port.`);
    process.exit(1);
  }
  const multiplayer = new SceneMultiplayer({ autoPoll: true });
  const names = new Map();
  const stats = { chats: 0, moves: 0 };

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
  const main = multiplayer.getNode('Main');
  main.on('chat', (text) => {
    stats.chats++;
    main.rpc('chat_message', names.get(multiplayer.getRemoteSenderId()) ?? '?', text.slice(0, 200));
  });
  main.on('move', () => stats.moves++); // positions are relayed between clients by SceneMultiplayer itself

  multiplayer.on('peer_connected', (id) => {
    log(`${names.get(id)} joined (peer ${id})`);
    for (const [other, name] of names) if (other !== id && multiplayer.getPeers().includes(other)) main.rpcId(id, 'player_info', other, name);
    main.rpc('player_info', id, names.get(id));
  });
  multiplayer.on('peer_disconnected', (id) => {
    log(`${names.get(id)} left (peer ${id})`);
    names.delete(id);
  });
  multiplayer.on('peer_authentication_failed', (id) => names.delete(id));
  return { peer, multiplayer, stats };
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
  const main = multiplayer.getNode('Main');
  for (const method of ['chat_message', 'move', 'player_info']) main.on(method, () => {});
  let x = 100 + Math.random() * 600;
  let y = 100 + Math.random() * 350;
  let heading = Math.random() * 2 * Math.PI;
  let ticks = 0;
  const timer = setInterval(() => {
    if (peer.getConnectionStatus() !== MultiplayerPeer.CONNECTION_CONNECTED || multiplayer.getPeers().length === 0) return;
    heading += (Math.random() - 0.5) * 0.6;
    x = Math.min(784, Math.max(16, x + Math.cos(heading) * 12));
    y = Math.min(520, Math.max(16, y + Math.sin(heading) * 12));
    main.rpc('move', new Vector2(x, y));
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
    const line = `port ${actualPort} | players ${ids.length} | moves ${rate(server.stats.moves - last.moves)}/s ` +
      `chat ${rate(server.stats.chats - last.chats)}/s | in ${rate(host.popStatistic(HostStatistic.HOST_TOTAL_RECEIVED_DATA))} B/s ` +
      `out ${rate(host.popStatistic(HostStatistic.HOST_TOTAL_SENT_DATA))} B/s | rtt ${rtt} ms`;
    last = { ...server.stats, at: now };
    if (tty) process.stdout.write(`\r${line}   `);
    else console.log(line);
  }, 1000);

  const stop = () => {
    clearInterval(statusTimer);
    for (const bot of bots) bot.close();
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
