'use strict';
// The floor: a raw UDP echo server on Node's dgram (no ENet, unreliable only). In broadcast mode it
// sends the state datagram to every client socket that said hello (kind 2, see bench/loadgen.c).
const dgram = require('dgram');
const { parseArgs, ready, startBroadcast } = require('./common');

const options = parseArgs();
const socket = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
const clients = new Map();

socket.on('message', (msg, rinfo) => {
  if (options.broadcastHz > 0) {
    if (msg[0] === 2) clients.set(`${rinfo.address}:${rinfo.port}`, { address: rinfo.address, port: rinfo.port });
    else return;
  }
  socket.send(msg, rinfo.port, rinfo.address);
});

socket.on('error', (err) => {
  console.error(`dgram: ${err.message}`);
  process.exit(1);
});

socket.bind(options.port, '0.0.0.0', () => {
  startBroadcast(options.broadcastHz, options.broadcastSize, (state) => {
    for (const { address, port } of clients.values()) socket.send(state, port, address);
  });
  ready(socket.address().port);
});
