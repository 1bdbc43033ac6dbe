#!/usr/bin/env node
'use strict';
// A Godot 4 compatible dedicated server with a few simulated clients and a live status line.
//
//   npm start                                  # port 7777, 8 simulated clients, runs until Ctrl-C
//   node examples/dedicated-server.js --port 9000 --clients 50 --seconds 10
//
// Real Godot 4 clients can join too: ENetMultiplayerPeer.create_client("<this host>", 7777).
// The game logic is the usual relay: every client sends its state 20 times a second (unreliable),
// and the server forwards it to every other client.
const { parseArgs } = require('util');
const { ENetMultiplayerPeer, MultiplayerPeer, PeerStatistic } = require('..');

const USAGE = `usage: node examples/dedicated-server.js [--port N] [--clients N] [--seconds N]
  --port N      UDP port to listen on (default 7777)
  --clients N   simulated clients started in this process (default 8; 0 for none)
  --seconds N   stop after N seconds (default 0: run until Ctrl-C)
  -h, --help    this text`;

// --name=value or --name value; a bad value ends the program with one line, not a stack trace.
function options() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string', default: '7777' },
        clients: { type: 'string', default: '8' },
        seconds: { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    fail(error.message.split('\n')[0]);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const whole = (name, min, max) => {
    const value = Number(values[name]);
    if (values[name].trim() === '' || !Number.isInteger(value) || value < min || value > max) {
      fail(`--${name} must be a whole number in ${min}..${max}, got "${values[name]}"`);
    }
    return value;
  };
  return { port: whole('port', 1, 65535), clients: whole('clients', 0, 4000), seconds: whole('seconds', 0, 2 ** 31 / 1000) };
}

function fail(message) {
  console.error(`dedicated-server: ${message} (see --help)`);
  process.exit(2);
}

const { port, clients: clientCount, seconds } = options(); // seconds 0 = until Ctrl-C
const STATE_HZ = 20;
const STATE_BYTES = 64;

const server = new ENetMultiplayerPeer({ autoPoll: true });
const error = server.createServer(port, 256);
if (error !== 0) {
  console.error(`Could not start the server on port ${port} (Godot error ${error}); is the port in use? Try --port.`);
  process.exit(1);
}

const totals = { packetsIn: 0, bytesIn: 0, packetsOut: 0 };
server.on('peer_connected', (id) => log(`peer ${id} connected`));
server.on('peer_disconnected', (id) => log(`peer ${id} disconnected`));
server.on('packet', ({ data, from }) => {
  totals.packetsIn++;
  totals.bytesIn += data.length;
  // Relay to everyone but the sender, on the mode the packet came with.
  server.transferMode = MultiplayerPeer.TRANSFER_MODE_UNRELIABLE;
  server.setTargetPeer(-from);
  server.putPacket(data);
  totals.packetsOut += Math.max(0, connectedIds().length - 1);
});

const clients = [];
for (let i = 0; i < clientCount; i++) {
  const client = new ENetMultiplayerPeer({ autoPoll: true });
  client.createClient('127.0.0.1', port);
  client.on('packet', () => {}); // simulated clients ignore what they receive
  clients.push(client);
}
const state = Buffer.alloc(STATE_BYTES);
const sendTimer = setInterval(() => {
  for (const client of clients) {
    if (client.getConnectionStatus() !== MultiplayerPeer.CONNECTION_CONNECTED) continue;
    state.writeDoubleLE(Date.now(), 0);
    client.transferMode = MultiplayerPeer.TRANSFER_MODE_UNRELIABLE;
    client.putPacket(state);
  }
}, 1000 / STATE_HZ);

function connectedIds() {
  return server.host ? server.host.getPeers().filter((p) => p.getState() === 5) : [];
}

let last = { ...totals, at: process.hrtime.bigint() };
const statusTimer = setInterval(() => {
  const now = process.hrtime.bigint();
  const dt = Number(now - last.at) / 1e9;
  const peers = connectedIds();
  const rtts = peers.map((p) => p.getStatistic(PeerStatistic.PEER_ROUND_TRIP_TIME));
  const rtt = rtts.length ? (rtts.reduce((a, b) => a + b, 0) / rtts.length).toFixed(1) : '-';
  const line = `port ${port} | peers ${peers.length} | in ${rate(totals.packetsIn - last.packetsIn, dt)} pkt/s ` +
    `${rate(totals.bytesIn - last.bytesIn, dt)} B/s | out ${rate(totals.packetsOut - last.packetsOut, dt)} pkt/s | rtt ${rtt} ms`;
  last = { ...totals, at: now };
  if (process.stdout.isTTY) process.stdout.write(`\r${line}   `);
  else console.log(line);
}, 1000);

function rate(count, dt) {
  return Math.round(count / dt).toLocaleString('en');
}

function log(message) {
  if (process.stdout.isTTY) process.stdout.write(`\r${' '.repeat(100)}\r`);
  console.log(message);
}

function stop() {
  clearInterval(sendTimer);
  clearInterval(statusTimer);
  for (const client of clients) client.close();
  server.close();
  if (process.stdout.isTTY) process.stdout.write('\n');
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
if (seconds > 0) setTimeout(stop, seconds * 1000);
console.log(`Godot 4 ENet server listening on port ${port} (Ctrl-C to stop); ${clientCount} simulated clients`);
