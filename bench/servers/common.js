'use strict';
// Shared by the Node benchmark servers: argument parsing, the READY line, the broadcast ticker.

function parseArgs(argv = process.argv.slice(2)) {
  const options = { port: 0, peers: 4095, broadcastHz: 0, broadcastSize: 200, flush: 'tick', dtls: null };
  for (let i = 0; i < argv.length; i += 2) {
    const value = Number(argv[i + 1]);
    switch (argv[i]) {
      case '--flush': options.flush = argv[i + 1]; break;
      case '--dtls': options.dtls = argv[i + 1]; break;
      case '--port': options.port = value; break;
      case '--peers': options.peers = value; break;
      case '--broadcast-hz': options.broadcastHz = value; break;
      case '--broadcast-size': options.broadcastSize = value; break;
      default: throw new Error(`unknown option ${argv[i]}`);
    }
  }
  return options;
}

function ready(port) {
  process.stdout.write(`READY ${port}\n`);
}

// Calls `tick(buffer)` `hz` times a second on a drift-free schedule; the buffer's first 8 bytes hold
// CLOCK_MONOTONIC ns (process.hrtime), which the load generator compares with its own clock.
function startBroadcast(hz, size, tick) {
  if (!(hz > 0)) return;
  const period = 1e9 / hz;
  const state = Buffer.alloc(Math.max(8, size), 'S');
  let next = Number(process.hrtime.bigint()) + period;
  const step = () => {
    const now = process.hrtime.bigint();
    if (Number(now) >= next) {
      state.writeBigUInt64LE(now, 0);
      tick(state);
      next += period;
      if (next < Number(now)) next = Number(now) + period;
    }
    setTimeout(step, Math.max(0, (next - Number(process.hrtime.bigint())) / 1e6));
  };
  setTimeout(step, period / 1e6);
}

process.on('SIGTERM', () => process.exit(0));

module.exports = { parseArgs, ready, startBroadcast };
