#!/usr/bin/env node
'use strict';
// The replication benchmark (part of `npm run bench`; alone: `node bench/replication.js`): one
// godot-enet SceneMultiplayer server (bench/servers/replication.js, the game of bench/replication-game)
// syncs one moving node per client to N clients, each client's input synchronizer flowing back. The
// clients are the C load generator's replication mode (bench/loadgen.c, --repl-hz), on another core.
//
// Rows: N clients at 20 Hz and 60 Hz network frames: server CPU per client, bytes per client per second
// (server to client, SceneMultiplayer payload), and whether the server kept up (every client got a SYNC
// in at least 95 % of the frames). Then the most clients one core holds at 20 Hz: N doubles until the
// server falls behind (frames missed, or its core full), then a bisection between the last N that held
// and the first that did not.
//
//   node bench/replication.js [--quick] [--hz 20,60] [--clients 25,100,200] [--no-max] ... (--help)
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { build, pinned, machineInfo, lines, ROOT, OUT } = require('./run');
const { parseCli, integer, number, list } = require('../tools/cli');

const SPEC = {
  quick: { type: 'boolean', help: 'short windows, fewer rows (for iteration); writes bench/out/replication-partial.md' },
  hz: { value: 'LIST', help: 'network frame rates of the rows (default 20,60)', parse: list(undefined, integer(1, 1000)) },
  clients: { value: 'LIST', help: 'client counts of the rows (default 25,100,200; quick 10,50)', parse: list(undefined, integer(1, 4000)) },
  'no-max': { type: 'boolean', help: 'skip the search for the most clients one core holds at 20 Hz' },
  'max-start': { value: 'N', help: 'first N of that search (default 50)', parse: integer(1, 4000) },
  'max-limit': { value: 'N', help: 'its cap (default 3200)', parse: integer(1, 4000) },
  window: { value: 'S', help: 'measured seconds per run (default 3; quick 1.5)', parse: number(0.1) },
  'no-pin': { type: 'boolean', help: 'do not pin the server (core 0) and the load generator (core 1)' },
  'no-build': { type: 'boolean', help: 'do not recompile the load generator' },
  output: { value: 'FILE', help: 'where to write the Markdown report (default bench/replication-results.md)', parse: (file) => path.resolve(file) },
};

function options(argv) {
  const v = parseCli('node bench/replication.js', 'The replication benchmark: a SceneMultiplayer server syncing one moving node per client to N clients, driven by the C load generator.', SPEC, argv);
  const quick = v.quick === true;
  return {
    quick,
    hz: v.hz ?? [20, 60],
    clients: v.clients ?? (quick ? [10, 50] : [25, 100, 200]),
    max: v['no-max'] !== true,
    maxStart: v['max-start'] ?? 50,
    maxLimit: v['max-limit'] ?? 3200,
    window: v.window ?? (quick ? 1.5 : 3),
    pin: v['no-pin'] !== true,
    build: v['no-build'] !== true,
    nice: 0,
    output: v.output ?? (quick ? path.join(OUT, 'replication-partial.md') : path.join(__dirname, 'replication-results.md')),
  };
}

const log = (message) => process.stderr.write(`${message}\n`);

/** One run: a fresh server at `hz`, N load-generator clients, one measured window. */
async function runOnce(hz, clients, o) {
  const [serverCmd, serverArgs] = pinned(0, [process.execPath, path.join(__dirname, 'servers', 'replication.js'), '--port', '0', '--hz', String(hz)], o);
  const server = spawn(serverCmd, serverArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr.on('data', (d) => (stderr += d));
  let stats = null;
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replication server: no READY within 20 s. ${stderr}`)), 20000);
    lines(server.stdout, (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve(Number(line.slice(6)));
      } else if (line.startsWith('STATS ')) stats = JSON.parse(line.slice(6));
    });
    server.on('exit', (code) => reject(new Error(`replication server exited (${code}) before READY. ${stderr}`)));
  });
  const settle = Math.max(1, clients / 400); // the connects, the spawns and every client's input path confirmed
  const [genCmd, genArgs] = pinned(1, [path.join(OUT, 'loadgen'), '--proto', 'godot', '--port', String(port), '--clients', String(clients),
    '--per-host', '10', '--server-pid', String(server.pid), '--repl-hz', String(hz), '--plan', 'repl', '--window', String(o.window),
    '--warmup', '1', '--settle', String(settle), '--no-throttle', '1', '--connect-timeout', '20'], o);
  const records = [];
  await new Promise((resolve, reject) => {
    const gen = spawn(genCmd, genArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    lines(gen.stdout, (line) => line.startsWith('{') && records.push(JSON.parse(line)));
    gen.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`loadgen exited with ${code}`))));
  });
  await new Promise((resolve) => {
    server.once('exit', resolve);
    server.kill('SIGTERM');
    setTimeout(() => server.kill('SIGKILL'), 3000);
  });
  const w = records.find((r) => r.type === 'window');
  if (w === undefined) throw new Error('loadgen reported no window');
  const perClient = (x) => x / w.secs / Math.max(1, w.connected);
  const row = {
    hz,
    clients,
    connected: w.connected,
    inputsConfirmed: w.inputs_confirmed,
    framesPerClient: perClient(w.completed),
    delivery: perClient(w.completed) / hz,
    serverCpu: w.server_cpu_s / w.secs,
    loadgenCpu: w.loadgen_cpu_s / w.secs,
    serverWait: w.server_wait_s / w.secs,
    cpuPerClientUs: (w.server_cpu_s / w.secs / Math.max(1, w.connected)) * 1e6,
    bytesPerClient: perClient(w.bytes_in),
    syncPacketsPerClient: perClient(w.sync_packets),
    entriesPerSync: w.sync_packets ? w.sync_entries / w.sync_packets : 0,
    inputsPerClient: perClient(w.inputs_sent),
    serverInputs: stats?.inputs ?? null,
    dropped: stats?.dropped ?? {},
    rssMiB: w.server_rss_kb / 1024,
  };
  row.held = row.connected === clients && row.inputsConfirmed >= clients && row.delivery >= 0.95 && row.serverCpu < 0.95 && (row.serverInputs ?? 0) > 0;
  log(`  ${hz} Hz, ${clients} clients: ${row.framesPerClient.toFixed(1)} frames/s per client (${(row.delivery * 100).toFixed(0)} %), ` +
    `server ${(row.serverCpu * 100).toFixed(0)} % (${row.cpuPerClientUs.toFixed(0)} µs/s per client), loadgen ${(row.loadgenCpu * 100).toFixed(0)} %, ` +
    `${(row.bytesPerClient / 1024).toFixed(1)} KiB/s per client, inputs confirmed ${row.inputsConfirmed}/${clients}${row.held ? '' : ' — did not hold'}`);
  return row;
}

/** Doubles N from `start` until a run does not hold, then bisects (to within 10 %). */
async function findMax(hz, o) {
  const runs = [];
  let good = 0;
  let bad = 0;
  for (let n = o.maxStart; n <= o.maxLimit; n *= 2) {
    const row = await runOnce(hz, n, o);
    runs.push(row);
    if (!row.held) {
      bad = n;
      break;
    }
    good = n;
  }
  while (bad > 0 && good > 0 && bad - good > Math.max(5, good * 0.1)) {
    const n = Math.round((good + bad) / 2);
    const row = await runOnce(hz, n, o);
    runs.push(row);
    if (row.held) good = n;
    else bad = n;
  }
  return { hz, good, bad, runs, loadgenBound: runs.some((r) => !r.held && r.loadgenCpu > 0.9) };
}

function report(o, rows, max, meta) {
  const f = (n, d = 0) => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
  const out = [];
  out.push('## Replication: one moving node per client, synced to every client');
  out.push('');
  out.push(`- Date: ${meta.date} (${f(meta.secs)} s); command: \`${meta.command}\``);
  out.push(`- Machine: ${meta.machine.cpu}, ${meta.machine.cores} cores; ${meta.machine.kernel}; Node ${meta.machine.node}`);
  out.push(`- Pinning: ${o.pin ? 'server on core 0, load generator on core 1' : 'none'}; each row is one run: a fresh server and load generator, ${o.window} s measured after 1 s warm-up.`);
  out.push('- Server: `bench/servers/replication.js` (SceneMultiplayer, tickRate = the row\'s Hz, State synchronizer interval 0, relay off); clients: `bench/loadgen.c --repl-hz` (each confirms the server\'s paths, offers its Input path and syncs its input at the row\'s Hz).');
  out.push('- Frames/s per client: server frames whose SYNC reached a client (its sequence number); held = every client connected and confirmed, ≥ 95 % of the frames delivered, server core under 95 %. CPU per client: server CPU time (all threads) / clients. Bytes: SceneMultiplayer payload server → client (ENet headers excluded); each client also sends 23 bytes of input per frame. Inputs applied: the server\'s count over the whole run (connect and warm-up included).');
  out.push('');
  out.push('| Hz | clients | frames/s per client | server CPU | CPU per client | bytes/s per client | SYNC packets/s per client | entries per SYNC | inputs/s per client | inputs applied at the server | load generator CPU | held |');
  out.push('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    out.push(`| ${r.hz} | ${r.clients} | ${f(r.framesPerClient, 1)} | ${f(r.serverCpu * 100)} % | ${f(r.cpuPerClientUs)} µs/s | ${f(r.bytesPerClient / 1024, 1)} KiB | ${f(r.syncPacketsPerClient, 1)} | ${f(r.entriesPerSync, 1)} | ${f(r.inputsPerClient, 1)} | ${r.serverInputs ?? 'n/a'} | ${f(r.loadgenCpu * 100)} % | ${r.held ? 'yes' : 'no'} |`);
  }
  for (const m of max) {
    out.push('');
    const runs = m.runs.map((r) => `${r.clients}: ${f(r.delivery * 100)} %, server ${f(r.serverCpu * 100)} %${r.held ? '' : ' ✗'}`).join('; ');
    const result = m.good === 0 ? `none held (from ${o.maxStart})` : m.bad === 0 ? `at least ${m.good} (the search limit)` : `**${m.good}** (${m.bad} did not)`;
    out.push(`- Most clients one core holds at ${m.hz} Hz: ${result}${m.loadgenBound ? ' — the load generator was near its core too (†): the server may hold more' : ''}. Runs: ${runs}.`);
  }
  return out.join('\n');
}

async function main() {
  const o = options(process.argv.slice(2));
  const started = Date.now();
  build({ build: o.build });
  const rows = [];
  for (const hz of o.hz) for (const clients of o.clients) rows.push(await runOnce(hz, clients, o));
  const max = o.max ? [await findMax(20, o)] : [];
  const meta = {
    date: new Date().toISOString(),
    secs: (Date.now() - started) / 1000,
    machine: machineInfo(),
    command: `node bench/replication.js ${process.argv.slice(2).join(' ')}`.trim(),
  };
  const markdown = report(o, rows, max, meta);
  process.stdout.write(`${markdown}\n`);
  fs.mkdirSync(path.dirname(o.output), { recursive: true });
  fs.writeFileSync(o.output, `${markdown}\n`);
  fs.writeFileSync(path.join(OUT, `replication-${meta.date.replace(/[:.]/g, '-')}.json`), JSON.stringify({ meta, options: o, rows, max }, null, 1));
  log(`wrote ${path.relative(ROOT, o.output)}`);
}

main().catch((error) => {
  log(error.stack || String(error));
  process.exit(1);
});
