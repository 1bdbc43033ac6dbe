#!/usr/bin/env node
'use strict';
// godot-enet benchmark suite: `npm run bench` (full, ~10 min) or `node bench/run.js --quick`.
//
// Builds the C load generator and the C reference server against exactly the ENet the addon uses
// (the prepared, patched zpl header + deps/enet/socket_layer.c + enet_impl.c), then drives each
// server in turn from the same load generator (a separate process, many clients), pinned to
// different cores. Prints a Markdown report and writes it to bench/results.md (full runs) or
// bench/out/results-partial.md (quick or selective runs); raw JSON goes to bench/out/.
// See bench/README.md for the method.
const { spawn, spawnSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { parseCli, integer, number, list } = require('../tools/cli');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(__dirname, 'out');
const PREPARED = path.join(ROOT, 'build', 'deps', 'enet', 'prepared');
const ADDON = path.join(ROOT, 'build', 'Release', 'godot_enet.node');

// ------------------------------------------------------------------------------------------ options

const SERVERS = {
  c: { label: 'C server', long: 'C echo server (same ENet, plain C)', cmd: [path.join(OUT, 'c-echo-server')], proto: 'enet' },
  conn: { label: 'ENetConnection', long: 'godot-enet ENetConnection (watch + service/send/flush)', cmd: [process.execPath, path.join(__dirname, 'servers', 'enet-connection.js')], proto: 'enet' },
  mp: { label: 'ENetMultiplayerPeer', long: "godot-enet ENetMultiplayerPeer (autoPoll + packet event + flush: 'tick', Godot 4 clients)", cmd: [process.execPath, path.join(__dirname, 'servers', 'multiplayer-peer.js')], proto: 'godot' },
  mpput: { label: "MP flush 'put'", long: "godot-enet ENetMultiplayerPeer with flush: 'put' (Godot's one datagram per put; not in the default set)", cmd: [process.execPath, path.join(__dirname, 'servers', 'multiplayer-peer.js'), '--flush', 'put'], proto: 'godot', optional: true },
  npm: { label: 'npm enet', long: 'npm enet@0.2.9 (ENet 1.3.5 compiled to asm.js; host.start(1))', cmd: [process.execPath, path.join(__dirname, 'servers', 'npm-enet.js')], proto: 'enet' },
  dgram: { label: 'dgram', long: 'Node dgram raw UDP echo (unreliable only)', cmd: [process.execPath, path.join(__dirname, 'servers', 'dgram.js')], proto: 'udp' },
  // DTLS: the same ENetConnection server after dtlsServerSetup (RSA 2048 certificate); the load
  // generator's clients run our DTLS layer too, without verifying the certificate. Echo and connect
  // rows only; compare with the ENetConnection column.
  // SceneMultiplayer: Godot 4's MultiplayerAPI over ENetMultiplayerPeer; only its own rows (group
  // scene: RPC echo, send_bytes echo, relay between clients), compared with the C server's echo.
  sm: { label: 'SceneMultiplayer', long: 'godot-enet SceneMultiplayer on ENetMultiplayerPeer (autoPoll, flush: \'tick\'; RPC echo, send_bytes echo, server relay; Godot 4 SceneMultiplayer clients)', cmd: [process.execPath, path.join(__dirname, 'servers', 'scene-multiplayer.js')], proto: 'scene', groups: ['scene'] },
  dtls: { label: 'ENetConnection DTLS', long: 'godot-enet ENetConnection over DTLS 1.2 (dtlsServerSetup, RSA 2048 certificate)', cmd: [process.execPath, path.join(__dirname, 'servers', 'enet-connection.js'), '--dtls', path.join(OUT, 'dtls')], proto: 'dtls', groups: ['tput', 'connect'], connectTimeout: 60 },
};
const GROUPS = ['tput', 'pingpong', 'idle', 'bcast', 'connect', 'steady', 'scene'];

const SERVER_NAMES = () => Object.keys(SERVERS);
const SPEC = {
  quick: { type: 'boolean', help: '1 round, short windows, 15 s steady run (for iteration)' },
  servers: { value: 'LIST', help: 'servers to run (default: c,conn,mp,npm,dgram,sm,dtls; also mpput = ENetMultiplayerPeer with flush: \'put\', Godot\'s one datagram per put)', parse: list(SERVER_NAMES()) },
  workloads: { value: 'LIST', help: `workload groups (default: all of ${GROUPS.join(',')}; scene = the SceneMultiplayer server's RPC echo, send_bytes echo and relay at 100 clients, compared with the C server's reliable 64 B echo of tput at 100 clients)`, parse: list(GROUPS) },
  clients: { value: 'LIST', help: 'client counts of the echo rows (default: 1,100,1000)', parse: list(undefined, integer(1, 100000)) },
  rounds: { value: 'N', help: 'measured windows per workload (median; default 3, quick 1)', parse: integer(1) },
  window: { value: 'S', help: 'window seconds (default 1)', parse: number(0.01) },
  warmup: { value: 'S', help: 'warm-up seconds (default 0.3)', parse: number(0) },
  'idle-secs': { value: 'S', help: 'length of each idle window (default 2)', parse: number(0.1) },
  'steady-secs': { value: 'S', help: 'length of the steady-RSS run (default 60, quick 15)', parse: number(1) },
  'steady-servers': { value: 'LIST', help: 'servers of the steady-RSS run (default: conn,mp)', parse: list(SERVER_NAMES()) },
  'connect-clients': { value: 'N', help: 'clients of the connect storm (default 4000)', parse: integer(1, 4095) },
  'no-pin': { type: 'boolean', help: 'do not pin server and load generator to cores' },
  'max-wait': { value: 'F', help: 'repeat a run (up to twice) when the load generator (or the C server) waited for its core more than F of a window; keep the least disturbed (default 0.2)', parse: number(0, 1) },
  'retry-budget': { value: 'S', help: 'at most S seconds of such repeats (default 60, quick 30)', parse: number(0) },
  nice: { value: 'N', help: 'run server and load generator under `nice -n N` (N < 0 needs root): less disturbance from other work on a shared machine', parse: integer(-20, 19) },
  'no-build': { type: 'boolean', help: 'do not (re)compile the C programs' },
  profile: { type: 'boolean', help: 'run the Node servers under --cpu-prof; report their hottest functions' },
  'enet-throttle': { type: 'boolean', help: "keep ENet's unreliable packet throttle (default: the clients configure deceleration 0, so ENet never drops unreliable packets on purpose)" },
  output: { value: 'FILE', help: 'where to write the Markdown report', parse: (file) => path.resolve(file) },
  report: { value: 'RAW.json', help: 'only render the report again from a raw results file of an earlier run', parse: (file) => path.resolve(file) },
};

function parseOptions(argv) {
  const v = parseCli('node bench/run.js', 'Runs the benchmark: seven servers on the same compiled ENet (one of them over DTLS, one SceneMultiplayer), driven by a C load generator.', SPEC, argv);
  const selective = ['servers', 'workloads', 'clients', 'connect-clients', 'profile', 'enet-throttle'].some((name) => v[name] !== undefined);
  const o = {
    quick: v.quick === true,
    servers: v.servers ?? Object.keys(SERVERS).filter((k) => !SERVERS[k].optional),
    groups: v.workloads ?? [...GROUPS],
    clients: v.clients ?? [1, 100, 1000],
    rounds: v.rounds ?? null,
    window: v.window ?? null,
    warmup: v.warmup ?? null,
    idleSecs: v['idle-secs'] ?? null,
    steadySecs: v['steady-secs'] ?? null,
    steadyServers: v['steady-servers'] ?? ['conn', 'mp'],
    connectClients: v['connect-clients'] ?? 4000,
    pin: !v['no-pin'],
    build: !v['no-build'],
    output: v.output ?? null,
    reportFile: v.report,
    selective,
    profile: v.profile === true,
    enetThrottle: v['enet-throttle'] === true,
    nice: v.nice ?? 0,
    maxWait: v['max-wait'] ?? 0.2,
    retryBudget: v['retry-budget'] ?? null,
  };
  o.rounds ??= o.quick ? 1 : 3;
  o.window ??= 1;
  o.warmup ??= 0.3;
  o.idleSecs ??= 2;
  o.steadySecs ??= o.quick ? 15 : 60;
  o.retryBudget ??= o.quick ? 30 : 60;
  o.output ??= o.quick || o.selective ? path.join(OUT, 'results-partial.md') : path.join(__dirname, 'results.md');
  return o;
}

// ------------------------------------------------------------------------------------------ build

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

function build(options) {
  if (!fs.existsSync(path.join(PREPARED, 'zpl', 'enet.h')) || !fs.existsSync(ADDON)) {
    log('build: the prepared ENet sources or the addon are missing; running `npx cmake-js build`');
    run('npx', ['cmake-js', 'build']);
  }
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
    log('build: dist/ is missing; running `npx tsc -p tsconfig.json`');
    run('npx', ['tsc', '-p', 'tsconfig.json']);
  }
  const newestSrc = Math.max(...fs.readdirSync(path.join(ROOT, 'src')).map((f) => fs.statSync(path.join(ROOT, 'src', f)).mtimeMs));
  if (newestSrc > fs.statSync(path.join(ROOT, 'dist', 'index.js')).mtimeMs) {
    log('warning: src/ is newer than dist/; the Node servers run the dist/ build (npx tsc -p tsconfig.json)');
  }
  if (!options.build && fs.existsSync(path.join(OUT, 'loadgen')) && fs.existsSync(path.join(OUT, 'c-echo-server'))) return;
  fs.mkdirSync(OUT, { recursive: true });
  const inc = ['-I', path.join(PREPARED, 'zpl'), '-I', path.join(ROOT, 'deps', 'enet')];
  const cc = process.env.CC || 'cc';
  log(`build: ${cc} -O2 bench/loadgen.c, bench/c-echo-server.c + deps/enet/{enet_impl,socket_layer}.c (prepared header)`);
  run(cc, ['-O2', '-w', ...inc, '-c', path.join(ROOT, 'deps', 'enet', 'enet_impl.c'), '-o', path.join(OUT, 'enet_impl.o')]);
  run(cc, ['-O2', ...inc, '-c', path.join(ROOT, 'deps', 'enet', 'socket_layer.c'), '-o', path.join(OUT, 'socket_layer.o')]);
  // The DTLS layer finds OpenSSL in its own process at run time: link the system's libssl (its runtime
  // package, a dependency of the openssl CLI) so that the load generator's DTLS clients have one.
  for (const name of ['dtls_layer', 'openssl_api']) {
    run(cc, ['-O2', ...inc, '-c', path.join(ROOT, 'deps', 'enet', `${name}.c`), '-o', path.join(OUT, `${name}.o`)]);
  }
  const objects = ['enet_impl', 'socket_layer', 'dtls_layer', 'openssl_api'].map((name) => path.join(OUT, `${name}.o`));
  const libs = ['-Wl,--no-as-needed', '-l:libssl.so.3', '-l:libcrypto.so.3', '-ldl', '-lpthread'];
  for (const name of ['loadgen', 'c-echo-server']) {
    run(cc, ['-O2', '-Wall', ...inc, path.join(__dirname, `${name}.c`), ...objects, ...libs, '-o', path.join(OUT, name)]);
  }
  // The DTLS server's certificate (made here, never committed).
  const dtlsDir = path.join(OUT, 'dtls');
  if (!fs.existsSync(path.join(dtlsDir, 'cert.pem'))) {
    fs.mkdirSync(dtlsDir, { recursive: true });
    run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path.join(dtlsDir, 'key.pem'), '-out',
      path.join(dtlsDir, 'cert.pem'), '-days', '3650', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  }
}

// ------------------------------------------------------------------------------------------ sessions

const TPUT = ['rel64x10', 'unrel64x10', 'rel1024x10', 'unrel1024x10'];
// SceneMultiplayer workloads of the load generator's --proto scene (all reliable, 10 in flight per client).
const SCENE = ['rpc', 'bytes', 'relay'];
const SCENE_CLIENTS = 100;

// The runs (one server process + one load-generator process each) of one server. Each has an `id`;
// main() runs every id `rounds` times, interleaving the servers, so that a change in the machine's
// load hits all servers alike.
function sessionsFor(key, o) {
  const proto = SERVERS[key].proto;
  const reliable = proto !== 'udp';
  const has = (g) => o.groups.includes(g) && (SERVERS[key].groups ?? GROUPS).includes(g);
  const sessions = [];
  for (const clients of o.clients) {
    const plan = [];
    if (has('tput')) plan.push(...TPUT.filter((w) => reliable || !w.startsWith('rel')));
    if (has('pingpong') && clients === 1) plan.push(...(reliable ? ['rel64x1', 'unrel64x1'] : ['unrel64x1']));
    const first = has('idle') && clients === 1000 && reliable ? [`idle:${o.idleSecs}`] : [];
    if (plan.length || first.length) {
      sessions.push({ id: `echo-${clients}`, kind: 'echo', clients, perHost: clients === 1 ? 1 : 10, first, plan, settle: 0.2, connectTimeout: 15 });
    }
  }
  if (has('idle') && reliable && !o.clients.includes(1000)) {
    sessions.push({ id: 'idle', kind: 'echo', clients: 1000, perHost: 10, first: [`idle:${o.idleSecs}`], plan: [], settle: 0.2, connectTimeout: 15 });
  }
  if (has('bcast')) {
    sessions.push({ id: 'bcast', kind: 'bcast', clients: 1000, perHost: 1, first: [], plan: ['bcast'], settle: 0.2, connectTimeout: 15, serverArgs: ['--broadcast-hz', '60', '--broadcast-size', '200'] });
  }
  if (has('connect') && reliable) {
    sessions.push({ id: 'connect', kind: 'connect', clients: o.connectClients, perHost: 1, first: [], plan: [], settle: 0.5, connectTimeout: SERVERS[key].connectTimeout ?? 5 });
  }
  if (has('scene') && proto === 'scene') {
    sessions.push({ id: 'scene', kind: 'echo', clients: SCENE_CLIENTS, perHost: 10, first: [], plan: SCENE, settle: 0.2, connectTimeout: 15 });
  }
  if (has('steady') && o.steadyServers.includes(key) && reliable) {
    sessions.push({ id: 'steady', kind: 'steady', once: true, clients: 100, perHost: 10, first: [], plan: [], steady: o.steadySecs, sample: o.quick ? 3 : 5, steadyWorkload: 'mix64x10' });
  }
  for (const session of sessions) session.rounds = 1;
  return sessions;
}

function pinned(core, cmd, o) {
  const full = [...(o.nice ? ['nice', '-n', String(o.nice)] : []), ...(o.pin ? ['taskset', '-c', String(core)] : []), ...cmd];
  return [full[0], full.slice(1)];
}

function lines(stream, onLine) {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffer += chunk;
    let at;
    while ((at = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, at));
      buffer = buffer.slice(at + 1);
    }
  });
}

const children = new Set();
function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) child.kill('SIGKILL');
    process.exit(130);
  });
}

function startServer(key, session, o) {
  return new Promise((resolve, reject) => {
    const base = [...SERVERS[key].cmd];
    if (o.profile && base[0] === process.execPath) {
      session.profileDir = path.join(OUT, 'profiles', `${key}-${session.kind}-${session.clients}-${Date.now()}`);
      base.splice(1, 0, '--cpu-prof', `--cpu-prof-dir=${session.profileDir}`);
    }
    const [cmd, args] = pinned(0, [...base, '--port', '0', '--peers', '4095', ...(session.serverArgs ?? [])], o);
    const child = track(spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
    let stderr = '';
    let stats = null;
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${key}: no READY within 20 s. ${stderr}`));
    }, 20000);
    lines(child.stdout, (line) => {
      const m = /^READY (\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stderr: () => stderr, stats: () => stats });
      }
      // A server's own counts, printed as it exits (scene-multiplayer.js: calls answered, packets dropped).
      if (line.startsWith('STATS ')) stats = JSON.parse(line.slice(6));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${key}: server exited (${code}) before READY. ${stderr}`));
    });
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

function expectedSeconds(session, o) {
  const per = o.warmup + o.window + 0.1;
  const firstSecs = session.first.reduce((t, w) => t + o.warmup + 0.1 + Number(w.split(':')[1] ?? o.window), 0);
  return (session.connectTimeout ?? 30) + (session.settle ?? 1) + firstSecs + session.rounds * session.plan.length * per + (session.steady ?? 0);
}

async function runSessionOnce(key, session, o) {
  const server = await startServer(key, session, o);
  try {
    const lgArgs = [
      '--proto', SERVERS[key].proto, '--port', String(server.port), '--clients', String(session.clients),
      '--per-host', String(session.perHost), '--server-pid', String(server.child.pid), '--rounds', String(session.rounds),
      '--warmup', String(o.warmup), '--window', String(o.window), '--drain', '0.1', '--settle', String(session.settle ?? 0.5),
      '--connect-timeout', String(session.connectTimeout ?? 30),
    ];
    if (!o.enetThrottle) lgArgs.push('--no-throttle', '1');
    if (session.first.length) lgArgs.push('--first', session.first.join(','));
    if (session.plan.length) lgArgs.push('--plan', session.plan.join(','));
    if (session.steady) lgArgs.push('--steady', String(session.steady), '--sample', String(session.sample), '--steady-workload', session.steadyWorkload);
    const [cmd, args] = pinned(1, [path.join(OUT, 'loadgen'), ...lgArgs], o);
    const records = [];
    let stderr = '';
    const code = await new Promise((resolve) => {
      const lg = track(spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
      lg.stderr.on('data', (d) => (stderr += d));
      lines(lg.stdout, (line) => {
        try {
          records.push(JSON.parse(line));
        } catch {
          stderr += `${line}\n`;
        }
      });
      const timer = setTimeout(() => lg.kill('SIGKILL'), (expectedSeconds(session, o) + 60) * 1000);
      lg.on('exit', (c, signal) => {
        clearTimeout(timer);
        resolve(signal ?? c);
      });
      server.child.once('exit', (c, signal) => {
        if (lg.exitCode === null) {
          stderr += `server exited during the run (${signal ?? c}): ${server.stderr()}\n`;
          lg.kill('SIGKILL');
        }
      });
    });
    if (code !== 0 || !records.some((r) => r.type === 'done')) {
      throw new Error(`${key}: load generator failed (${code}): ${stderr.trim()}`);
    }
    if (stderr.trim()) log(`  loadgen: ${stderr.trim()}`);
    const done = records.find((r) => r.type === 'done');
    if (done.unexpected_total) log(`  loadgen: ${done.unexpected_total} unexpected packets (LOADGEN_DEBUG=1 prints them)`);
    await stopServer(server.child);
    const stats = server.stats();
    if (stats) {
      records.push({ type: 'server_stats', ...stats });
      if (stats.failed || Object.keys(stats.dropped ?? {}).length) log(`  server: ${stats.failed ?? 0} failed sends, dropped ${JSON.stringify(stats.dropped)}`);
    }
    return records;
  } finally {
    await stopServer(server.child);
  }
}

async function runSession(key, session, o) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runSessionOnce(key, session, o);
    } catch (error) {
      if (attempt >= 2) {
        log(`  FAILED: ${error.message}`);
        return [{ type: 'failed', message: error.message }];
      }
      log(`  retrying after: ${error.message}`);
    }
  }
}

// ------------------------------------------------------------------------------------------ report

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const fmtRate = (x) => !Number.isFinite(x) ? 'n/a' : x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const pct = (x, digits = 1) => (Number.isFinite(x) ? `${(x * 100).toFixed(digits)} %` : 'n/a');

function describe(workload) {
  const m = /^(rel|unrel|mix)(\d+)x(\d+)$/.exec(workload);
  if (!m) return workload;
  const kind = { rel: 'reliable', unrel: 'unreliable', mix: 'mixed' }[m[1]];
  const size = Number(m[2]) >= 1024 ? `${Number(m[2]) / 1024} KiB` : `${m[2]} B`;
  return Number(m[3]) === 1 ? `ping-pong ${kind} ${size}` : `${kind} ${size}, ${m[3]} in flight`;
}

// Collapses one server's records into rows: per (workload, clients) the medians over windows.
function summarize(records) {
  const rows = new Map();
  const connects = [];
  const steady = [];
  const failures = [];
  for (const rec of records) {
    if (rec.type === 'failed') failures.push(rec.message);
    if (rec.type === 'connect' && rec.session === 'connect') connects.push(rec);
    if (rec.type === 'rss') steady.push(rec);
    if (rec.type !== 'window') continue;
    const key = `${rec.workload}@${rec.clients}`;
    if (!rows.has(key)) rows.set(key, []);
    rows.get(key).push(rec);
  }
  const out = {};
  for (const [key, ws] of rows) {
    out[key] = {
      windows: ws.length,
      msgs: median(ws.map((w) => w.msgs_per_s)),
      cpuPerMsgUs: median(ws.map((w) => (w.completed > 0 ? (w.server_cpu_s / w.completed) * 1e6 : NaN))),
      serverCpu: median(ws.map((w) => w.server_cpu_s / w.secs)),
      serverSchedCpu: median(ws.map((w) => w.server_sched_cpu_s / w.secs)),
      loadgenCpu: median(ws.map((w) => w.loadgen_cpu_s / w.secs)),
      p50: median(ws.map((w) => w.rtt_p50_us)),
      p99: median(ws.map((w) => w.rtt_p99_us)),
      lost: ws.reduce((t, w) => t + w.lost, 0),
      unexpected: ws.reduce((t, w) => t + (w.unexpected ?? 0), 0),
      disconnects: ws.reduce((t, w) => t + w.disconnects, 0),
      expected: median(ws.map((w) => w.expected_per_s)),
      core0: median(ws.map((w) => w.core_busy?.[0])),
      core1: median(ws.map((w) => w.core_busy?.[1])),
      // Time our threads were runnable but waited for a CPU (other work on the machine, or each other).
      serverWait: median(ws.map((w) => w.server_wait_s / w.secs)),
      loadgenWait: median(ws.map((w) => w.loadgen_wait_s / w.secs)),
      rss: median(ws.map((w) => w.server_rss_kb)),
    };
  }
  const storm = connects.length ? {
    runs: connects.length,
    ms: median(connects.map((c) => (c.connected === c.clients ? c.ms : Infinity))),
    worstMs: Math.max(...connects.map((c) => (c.connected === c.clients ? c.ms : Infinity))),
    connected: Math.min(...connects.map((c) => c.connected)),
    clients: connects[0].clients,
    bytesPerPeer: median(connects.map((c) => ((c.rss_after_kb - c.rss_before_kb) * 1024) / Math.max(1, c.connected))),
    rssBefore: median(connects.map((c) => c.rss_before_kb)),
    rssAfter: median(connects.map((c) => c.rss_after_kb)),
    // Server CPU from the first CONNECT to 0.5 s after the last, per connected client: for DTLS, mostly
    // the handshake (its inverse is the handshakes one core could do per second).
    cpuPerConnectUs: median(connects.map((c) => (c.connected > 0 ? (c.server_cpu_s / c.connected) * 1e6 : NaN))),
  } : null;
  let steadySummary = null;
  if (steady.length >= 2) {
    const first = steady[0];
    const last = steady[steady.length - 1];
    const cutoff = Math.min(10, last.t / 3);
    const warm = steady.filter((s) => s.t >= cutoff - 1e-6);
    const fit = warm.length >= 2 ? warm : steady;
    const n = fit.length;
    const mt = fit.reduce((t, s) => t + s.t, 0) / n;
    const mr = fit.reduce((t, s) => t + s.rss_kb, 0) / n;
    const slopeKbPerS = fit.reduce((t, s) => t + (s.t - mt) * (s.rss_kb - mr), 0) / fit.reduce((t, s) => t + (s.t - mt) ** 2, 0);
    const msgsPerS = (last.completed - fit[0].completed) / Math.max(1e-9, last.t - fit[0].t);
    steadySummary = {
      workload: first.workload, secs: last.t, samples: steady.map((s) => s.rss_kb), firstKb: first.rss_kb, lastKb: last.rss_kb,
      maxKb: Math.max(...steady.map((s) => s.rss_kb)), warmKb: fit[0].rss_kb, warmT: fit[0].t, slopeKbPerMin: slopeKbPerS * 60,
      msgsPerS, bytesPerMsg: (slopeKbPerS * 1024) / Math.max(1, msgsPerS), totalMsgs: last.completed, lost: last.lost,
      cpu: last.server_cpu_s / Math.max(1e-9, last.t), connected: last.connected,
    };
  }
  return { rows: out, storm, steady: steadySummary, failures };
}

// The hottest functions (self time) of the .cpuprofile files V8 wrote into `dir`.
function profileSummary(dirs, top = 15) {
  const self = new Map();
  let total = 0;
  const files = dirs.filter((d) => fs.existsSync(d)).flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(d, f)));
  for (const file of files) {
    const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    for (let i = 0; i < prof.samples.length; i++) {
      const node = byId.get(prof.samples[i]);
      const f = node.callFrame;
      const where = f.url ? ` ${path.relative(ROOT, f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}:${f.columnNumber + 1}` : '';
      const name = `${f.functionName || '(anonymous)'}${where}`;
      const dt = prof.timeDeltas[i] ?? 0;
      self.set(name, (self.get(name) ?? 0) + dt);
      total += dt;
    }
  }
  if (!total) return null;
  const entries = [...self.entries()].sort((a, b) => b[1] - a[1]);
  const busy = total - (self.get('(idle)') ?? 0);
  return { dir: dirs.length === 1 ? path.relative(ROOT, dirs[0]) : `${path.relative(ROOT, path.dirname(dirs[0]))}/…`, totalMs: total / 1e3, busyMs: busy / 1e3, top: entries.slice(0, top).map(([name, us]) => ({ name, ms: us / 1e3, share: us / total, busyShare: name === '(idle)' ? NaN : us / busy })) };
}

// The worst run-queue wait in a run's windows: the load generator's, and the C server's (Node servers
// have helper threads that queue behind their own main thread on the one core, so theirs is no signal).
function disturbance(records, key) {
  let worst = 0;
  for (const r of records) {
    if (r.type !== 'window' || !(r.secs > 0)) continue;
    worst = Math.max(worst, (r.loadgen_wait_s ?? 0) / r.secs, key === 'c' ? (r.server_wait_s ?? 0) / r.secs : 0);
  }
  return worst;
}

function machineInfo() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  const mhz = /cpu MHz\s*:\s*(.*)/.exec(cpuinfo)?.[1];
  let rmem = '?';
  try {
    rmem = fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8').trim();
  } catch {}
  return {
    cpu: `${model}${mhz ? ` (${Math.round(Number(mhz))} MHz)` : ''}`, cores: os.cpus().length, node: process.version,
    kernel: `${os.type()} ${os.release()}`, memGiB: (os.totalmem() / 2 ** 30).toFixed(1), rmemMax: rmem,
  };
}

function report(o, results, meta) {
  const keys = o.servers.filter((k) => results[k]);
  const S = Object.fromEntries(keys.map((k) => [k, results[k]]));
  const L = [];
  const p = (s = '') => L.push(s);
  const cRows = S.c?.rows ?? {};
  const cpuRatio = (k, key) => {
    const a = S[k]?.rows[key]?.cpuPerMsgUs;
    const b = cRows[key]?.cpuPerMsgUs;
    return Number.isFinite(a) && Number.isFinite(b) && a > 0 ? b / a : NaN;
  };
  const ratio = (k, key) => {
    const a = S[k]?.rows[key]?.msgs;
    const b = cRows[key]?.msgs;
    return Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : NaN;
  };

  p('# godot-enet benchmark results');
  p();
  p(`- Date: ${meta.date} (${meta.totalSecs.toFixed(0)} s)`);
  p(`- Command: \`${meta.command}\``);
  p(`- Machine: ${meta.machine.cpu}, ${meta.machine.cores} cores, ${meta.machine.memGiB} GiB; ${meta.machine.kernel}; Node ${meta.machine.node}; net.core.rmem_max ${meta.machine.rmemMax}`);
  p(`- Pinning: ${o.pin ? 'server on core 0, load generator on core 1 (`taskset -c`); every server thread shares core 0' : 'none (--no-pin)'}; loopback (127.0.0.1)${o.nice ? `; both under \`nice -n ${o.nice}\`` : ''}`);
  p(`- Load average before / after: ${meta.loadBefore} / ${meta.loadAfter}. While measuring, the server waited for its core ${pct(meta.serverWait, 1)} and the load generator ${pct(meta.loadgenWait, 1)} of the time (median over all windows; worst ${pct(meta.serverWaitMax, 0)} / ${pct(meta.loadgenWaitMax, 0)}): time they were runnable but another process held the core.`);
  p(`- Runs repeated because another process held a core for more than ${pct(o.maxWait, 0)} of a window: ${meta.retried} (${fmt(meta.retrySecs, 0)} s of the ${o.retryBudget} s budget); the least disturbed attempt is kept.`);
  p(`- Each cell: median of ${o.rounds} run(s) (a fresh server and load-generator process each, the servers interleaved run by run), one measured window of ${o.window} s after ${o.warmup} s warm-up per workload; messages/s = echoes completed per second (one message out and back to the client).`);
  p();

  // Echo throughput
  const echoKeys = [];
  for (const clients of o.clients) {
    for (const w of [...TPUT, 'rel64x1', 'unrel64x1']) {
      const key = `${w}@${clients}`;
      if (keys.some((k) => S[k].rows[key])) echoKeys.push(key);
    }
  }
  // The echo tables' columns: servers with echo rows (not SceneMultiplayer's own rows, reported below).
  const echoServers = keys.filter((k) => echoKeys.some((key) => S[k].rows[key]));
  const header = (first) => {
    p(`| ${first.join(' | ')} | ${echoServers.map((k) => SERVERS[k].label).join(' | ')} |`);
    p(`|${[...first, ...echoServers].map(() => '---').join('|')}|`);
  };
  const rowLabel = (key) => {
    const [w, clients] = key.split('@');
    return [describe(w), clients];
  };
  if (echoKeys.length) {
    p('## Echo: messages/s (ratio to the C server)');
    p();
    header(['workload', 'clients']);
    for (const key of echoKeys) {
      const cells = echoServers.map((k) => {
        const r = S[k].rows[key];
        if (!r) return 'n/a';
        const mark = r.loadgenCpu >= 0.9 ? ' †' : '';
        const lossy = r.disconnects > 0 ? ' ‡' : '';
        return k === 'c' ? `${fmtRate(r.msgs)}${mark}${lossy}` : `${fmtRate(r.msgs)} (${fmt(ratio(k, key), 2)}×)${mark}${lossy}`;
      });
      p(`| ${rowLabel(key).join(' | ')} | ${cells.join(' | ')} |`);
    }
    p();
    p('† the load generator used ≥ 90 % of its core in that row: the number is a lower bound of the server\'s capacity. ‡ clients were disconnected during the window.');
    p();
    p('## Echo: server CPU per message (µs), server CPU use (% of one core) and the C server\'s CPU per message over this server\'s');
    p();
    p('CPU time per message depends much less on other work on the machine than messages/s do, so its ratio is a second estimate of each server\'s capacity relative to the C server.');
    p();
    header(['workload', 'clients']);
    for (const key of echoKeys) {
      const cells = echoServers.map((k) => {
        const r = S[k].rows[key];
        if (!r) return 'n/a';
        return k === 'c' ? `${fmt(r.cpuPerMsgUs, 2)} µs (${pct(r.serverCpu, 0)})` : `${fmt(r.cpuPerMsgUs, 2)} µs (${pct(r.serverCpu, 0)}) ${fmt(cpuRatio(k, key), 2)}×`;
      });
      p(`| ${rowLabel(key).join(' | ')} | ${cells.join(' | ')} |`);
    }
    p();
    const ppKeys = echoKeys.filter((k) => k.split('@')[0].endsWith('x1'));
    if (ppKeys.length) {
      p('## Ping-pong round-trip time, µs: p50 / p99 (1 message in flight per client)');
      p();
      header(['workload', 'clients']);
      for (const key of ppKeys) {
        const cells = echoServers.map((k) => {
          const r = S[k].rows[key];
          return r ? `${fmt(r.p50, 0)} / ${fmt(r.p99, 0)}` : 'n/a';
        });
        p(`| ${rowLabel(key).join(' | ')} | ${cells.join(' | ')} |`);
      }
      p();
    }
    p('## Load generator CPU, and time spent waiting for a CPU');
    p();
    p('Per cell: the load generator\'s CPU (% of core 1); then how long the server / the load generator was runnable but waiting for its core (share of the window, from /proc/<pid>/task/*/schedstat), i.e. how much other work on the machine got in the way.');
    p();
    header(['workload', 'clients']);
    for (const key of echoKeys) {
      const cells = echoServers.map((k) => {
        const r = S[k].rows[key];
        return r ? `${pct(r.loadgenCpu, 0)}; waited ${pct(r.serverWait, 0)} / ${pct(r.loadgenWait, 0)}` : 'n/a';
      });
      p(`| ${rowLabel(key).join(' | ')} | ${cells.join(' | ')} |`);
    }
    p();
  }

  // SceneMultiplayer rows, each next to the C server's reliable 64 B echo at the same client count (the
  // targets' yardstick) and ENetMultiplayerPeer's, the layer underneath.
  const smRef = `rel64x10@${SCENE_CLIENTS}`;
  const smRatio = (row, ref) => (Number.isFinite(row?.msgs) && ref?.msgs > 0 ? row.msgs / ref.msgs : NaN);
  const smCpuRatio = (row, ref) => (row?.cpuPerMsgUs > 0 && Number.isFinite(ref?.cpuPerMsgUs) ? ref.cpuPerMsgUs / row.cpuPerMsgUs : NaN);
  if (S.sm && SCENE.some((w) => S.sm.rows[`${w}@${SCENE_CLIENTS}`])) {
    const smLabel = { rpc: 'RPC echo: echo(Vector2, int) called on the server, answered with rpc_id', bytes: 'send_bytes echo, 64 B', relay: 'send_bytes relayed to another client, 64 B (latency one way)' };
    p(`## SceneMultiplayer: RPC echo, send_bytes echo, relay (${SCENE_CLIENTS} clients, reliable, 10 in flight per client)`);
    p();
    p('| server | workload | messages/s (× C echo) | server CPU per message (C\'s over this) | server CPU | RTT p50 / p99 (µs) | load generator CPU; waited server / load generator |');
    p('|---|---|---|---|---|---|---|');
    const ref = cRows[smRef];
    const line = (k, label, row) => {
      if (!row) return;
      const unexpected = row.unexpected ? ` (${row.unexpected} unexpected packets)` : '';
      p(`| ${SERVERS[k].label} | ${label}${unexpected} | ${fmtRate(row.msgs)}${k === 'c' ? '' : ` (${fmt(smRatio(row, ref), 2)}×)`}${row.loadgenCpu >= 0.9 ? ' †' : ''}${row.disconnects > 0 ? ' ‡' : ''} | ${fmt(row.cpuPerMsgUs, 2)} µs${k === 'c' ? '' : ` (${fmt(smCpuRatio(row, ref), 2)}×)`} | ${pct(row.serverCpu, 0)} | ${fmt(row.p50, 0)} / ${fmt(row.p99, 0)} | ${pct(row.loadgenCpu, 0)}; ${pct(row.serverWait, 0)} / ${pct(row.loadgenWait, 0)} |`);
    };
    for (const k of ['c', 'mp']) if (S[k]) line(k, `echo, ${describe('rel64x10')}`, S[k].rows[smRef]);
    for (const w of SCENE) line('sm', smLabel[w], S.sm.rows[`${w}@${SCENE_CLIENTS}`]);
    p();
    p('The load generator\'s clients speak Godot 4\'s SceneMultiplayer protocol (bench/loadgen.c, scene mode): the RPC carries a Vector2 and an int (the slot and sequence number; the send time stays in the client), the server answers with the same RPC on the same node through its own path cache; send_bytes carries the 64-byte echo message; relay sends it to the next client\'s id through the server (SYS RELAY), and a message completes when that client receives it, so its latency is one way. Each relayed message is one packet into the server and one out, as an echo is.');
    p();
  }

  const bKey = 'bcast@1000';
  if (keys.some((k) => S[k].rows[bKey])) {
    p('## Broadcast: a 200-byte state packet at 60 Hz to 1000 peers (unreliable)');
    p();
    p('| server | delivered/s (expected) | one-way latency p50 / p99 (µs) | server CPU | CPU per delivered packet |');
    p('|---|---|---|---|---|');
    for (const k of keys) {
      const r = S[k].rows[bKey];
      if (!r) continue;
      p(`| ${SERVERS[k].label} | ${fmtRate(r.msgs)} (${fmtRate(r.expected)}) | ${fmt(r.p50, 0)} / ${fmt(r.p99, 0)} | ${pct(r.serverCpu)} | ${fmt(r.cpuPerMsgUs, 2)} µs |`);
    }
    p();
    p('Latency: from the server\'s CLOCK_MONOTONIC stamp taken just before the broadcast to the client\'s receipt, so it includes the fan-out to all 1000 peers.');
    p();
  }

  if (keys.some((k) => S[k].storm)) {
    p(`## ${o.connectClients} clients connecting at once`);
    p();
    p('| server | time until all connected (median, worst) | connected | server CPU per connect (connects per CPU-second) | server RSS before → after | memory per connected peer |');
    p('|---|---|---|---|---|---|');
    for (const k of keys) {
      const s = S[k].storm;
      if (!s) continue;
      const ms = (x) => (Number.isFinite(x) ? `${fmt(x, 0)} ms` : `not all within ${SERVERS[k].connectTimeout ?? 5} s`);
      p(`| ${SERVERS[k].label} | ${ms(s.ms)}, ${ms(s.worstMs)} | ${s.connected} / ${s.clients} (fewest) | ${fmt(s.cpuPerConnectUs, 0)} µs (${fmtRate(1e6 / s.cpuPerConnectUs)}/s) | ${fmt(s.rssBefore / 1024, 1)} → ${fmt(s.rssAfter / 1024, 1)} MiB | ${fmt(s.bytesPerPeer / 1024, 1)} KiB |`);
    }
    p();
    p('Each client is its own ENet host (own socket); all CONNECTs are queued, then flushed at once. Memory per peer = RSS growth (0.5 s after the last connect) / peers. Server CPU per connect = its CPU time from the first CONNECT to 0.5 s after the last, over the clients connected. The Godot 4 clients of the ENetMultiplayerPeer server request 255 channels, as Godot does; the plain ENet clients request 2. DTLS clients each complete a handshake first (cookie exchange, ECDHE, RSA 2048 signature); as in Godot, the server starts at most 16 handshakes per receive round (it keeps up to its peer count of ClientHellos waiting), and those that find no room retransmit after 1 s (then 2 s, 4 s, ...), which sets the time to connect them all.');
    p();
  }

  const iKey = 'idle@1000';
  if (keys.some((k) => S[k].rows[iKey])) {
    p('## 1000 idle connected peers: server CPU');
    p();
    p('| server | CPU (% of one core), scheduler ns | CPU from /proc/pid/stat (10 ms ticks) |');
    p('|---|---|---|');
    for (const k of keys) {
      const r = S[k].rows[iKey];
      if (r) p(`| ${SERVERS[k].label} | ${pct(r.serverSchedCpu, 2)} | ${pct(r.serverCpu, 1)} |`);
    }
    p();
    p(`Median of ${o.rounds} window(s) of ${o.idleSecs} s with no application traffic (ENet's pings and acks only), right after connecting.`);
    p();
  }

  if (keys.some((k) => S[k].steady)) {
    p('## Steady RSS under constant load');
    p();
    const anyS = keys.map((k) => S[k].steady).find(Boolean);
    p(`| server | load | messages/s | RSS first / at ${fmt(anyS.warmT, 0)} s / last / max | slope after ${fmt(anyS.warmT, 0)} s | growth per message | samples (MiB, every ${o.quick ? 3 : 5} s) |`);
    p('|---|---|---|---|---|---|---|');
    for (const k of keys) {
      const s = S[k].steady;
      if (!s) continue;
      const mib = (kb) => (kb / 1024).toFixed(1);
      p(`| ${SERVERS[k].label} | ${describe(s.workload)}, 100 clients, ${fmt(s.secs, 0)} s | ${fmtRate(s.msgsPerS)} | ${mib(s.firstKb)} / ${mib(s.warmKb)} / ${mib(s.lastKb)} / ${mib(s.maxKb)} MiB | ${fmt(s.slopeKbPerMin / 1024, 2)} MiB/min | ${fmt(s.bytesPerMsg, 3)} B | ${s.samples.map(mib).join(' ')} |`);
    }
    p();
  }

  // Targets
  const targets = [];
  const echoCompare = (k, need) => {
    const rs = echoKeys.map((key) => ({ key, r: ratio(k, key) })).filter((x) => Number.isFinite(x.r));
    if (!rs.length) return null;
    const min = rs.reduce((a, b) => (b.r < a.r ? b : a));
    const misses = rs.filter((x) => x.r < need);
    return { min, misses, count: rs.length };
  };
  const describeKey = (key) => `${describe(key.split('@')[0])}, ${key.split('@')[1]} clients`;
  for (const [k, need] of [['conn', 0.85], ['mp', 0.8]]) {
    if (!S[k] || !S.c) continue;
    const c = echoCompare(k, need);
    if (!c) continue;
    const met = c.misses.length === 0;
    const cr = echoKeys.map((key) => ({ key, r: cpuRatio(k, key) })).filter((x) => Number.isFinite(x.r));
    const crMet = cr.filter((x) => x.r >= need).length;
    const geo = (xs) => Math.exp(xs.reduce((t, x) => t + Math.log(x), 0) / xs.length);
    targets.push(`- ${SERVERS[k].label} ≥ ${need}× the C server's messages/s: **${met ? 'met' : 'missed'}** — ${c.count - c.misses.length} of ${c.count} rows meet it (geometric mean ${fmt(geo(echoKeys.map((key) => ratio(k, key)).filter(Number.isFinite)), 2)}×); lowest ${fmt(c.min.r, 2)}× (${describeKey(c.min.key)})${met ? '' : `; below: ${c.misses.map((m) => `${describeKey(m.key)} ${fmt(m.r, 2)}×`).join('; ')}`}. By CPU per message (C's µs / this server's µs): ${crMet} of ${cr.length} rows ≥ ${need}×, geometric mean ${fmt(geo(cr.map((x) => x.r)), 2)}×, range ${fmt(Math.min(...cr.map((x) => x.r)), 2)}–${fmt(Math.max(...cr.map((x) => x.r)), 2)}×.`);
  }
  if (S.npm) {
    for (const k of ['conn', 'mp']) {
      if (!S[k]) continue;
      const rs = echoKeys.map((key) => ({ key, r: S[k].rows[key]?.msgs / S.npm.rows[key]?.msgs })).filter((x) => Number.isFinite(x.r));
      if (!rs.length) continue;
      const min = rs.reduce((a, b) => (b.r < a.r ? b : a));
      const misses = rs.filter((x) => x.r < 10);
      targets.push(`- ${SERVERS[k].label} ≥ 10× npm enet's messages/s: **${misses.length ? 'missed' : 'met'}** — ${rs.length - misses.length} of ${rs.length} rows; lowest ${fmt(min.r, 1)}× (${describeKey(min.key)}), highest ${fmt(Math.max(...rs.map((x) => x.r)), 1)}×.`);
    }
  }
  for (const [w, need, what] of [['rpc', 0.5, 'RPC echo'], ['bytes', 0.7, 'send_bytes echo']]) {
    const row = S.sm?.rows[`${w}@${SCENE_CLIENTS}`];
    const ref = cRows[smRef];
    if (!row || !ref) continue;
    const r = smRatio(row, ref);
    targets.push(`- SceneMultiplayer ${what} ≥ ${need}× the C server's echo messages/s (reliable 64 B, ${SCENE_CLIENTS} clients): **${r >= need ? 'met' : 'missed'}** — ${fmtRate(row.msgs)} vs ${fmtRate(ref.msgs)} = ${fmt(r, 2)}×; by CPU per message ${fmt(smCpuRatio(row, ref), 2)}× (${fmt(row.cpuPerMsgUs, 2)} µs vs ${fmt(ref.cpuPerMsgUs, 2)} µs).`);
  }
  for (const k of ['conn', 'mp']) {
    if (!S[k] || !S.c) continue;
    const parts = [];
    let met = true;
    for (const w of ['rel64x1', 'unrel64x1']) {
      const key = `${w}@1`;
      const a = S[k].rows[key]?.p99;
      const b = cRows[key]?.p99;
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      if (a - b > 100) met = false;
      parts.push(`${describe(w)}: ${fmt(a, 0)} µs vs ${fmt(b, 0)} µs (${a - b >= 0 ? '+' : ''}${fmt(a - b, 0)} µs)`);
    }
    if (parts.length) targets.push(`- ${SERVERS[k].label} ping-pong RTT p99 within 100 µs of the C server's (1 client, loopback): **${met ? 'met' : 'missed'}** — ${parts.join('; ')}.`);
  }
  for (const k of ['conn', 'mp']) {
    const s = S[k]?.storm;
    if (!s) continue;
    const met = s.connected === s.clients && s.worstMs < 2000;
    targets.push(`- ${SERVERS[k].label}: ${s.clients} simultaneous connects under 2 s: **${met ? 'met' : 'missed'}** — median ${Number.isFinite(s.ms) ? `${fmt(s.ms, 0)} ms` : 'n/a'}, worst ${Number.isFinite(s.worstMs) ? `${fmt(s.worstMs, 0)} ms` : 'not all connected'} over ${s.runs} run(s), at least ${s.connected}/${s.clients} connected in every run.`);
  }
  for (const k of ['conn', 'mp']) {
    const r = S[k]?.rows[iKey];
    if (!r) continue;
    targets.push(`- ${SERVERS[k].label}: 1000 idle peers under 1 % of a core: **${r.serverSchedCpu < 0.01 ? 'met' : 'missed'}** — ${pct(r.serverSchedCpu, 2)}.`);
  }
  for (const k of ['conn', 'mp']) {
    const s = S[k]?.steady;
    if (!s) continue;
    const met = s.bytesPerMsg < 1 && s.lastKb - s.warmKb < 8 * 1024;
    targets.push(`- ${SERVERS[k].label}: no per-message memory growth over a ${fmt(s.secs, 0)} s run: **${met ? 'met' : 'missed'}** — RSS ${(s.warmKb / 1024).toFixed(1)} MiB at ${fmt(s.warmT, 0)} s → ${(s.lastKb / 1024).toFixed(1)} MiB at the end (max ${(s.maxKb / 1024).toFixed(1)}), slope ${fmt(s.slopeKbPerMin / 1024, 2)} MiB/min = ${fmt(s.bytesPerMsg, 3)} bytes per message over ${fmtRate(s.totalMsgs)} messages (criterion: < 1 byte/message and < 8 MiB growth after warm-up).`);
  }
  if (targets.length) {
    p('## Targets');
    p();
    for (const t of targets) p(t);
    p();
  }
  const profiles = keys.flatMap((k) => (S[k].profiles ?? []).map((pr) => ({ k, ...pr })));
  if (profiles.length) {
    p('## CPU profiles of the Node servers (node --cpu-prof, self time)');
    p();
    for (const pr of profiles) {
      p(`### ${SERVERS[pr.k].label}: ${pr.session} (${pr.summary.dir}; ${fmt(pr.summary.busyMs, 0)} ms busy of ${fmt(pr.summary.totalMs, 0)} ms)`);
      p();
      p('| function | self ms | share of busy time |');
      p('|---|---|---|');
      for (const t of pr.summary.top) p(`| \`${t.name}\` | ${fmt(t.ms, 0)} | ${pct(t.busyShare)} |`);
      p();
    }
  }
  const failures = keys.flatMap((k) => S[k].failures.map((f) => `${SERVERS[k].label}: ${f}`));
  if (failures.length) {
    p('## Failed runs');
    p();
    for (const f of failures) p(`- ${f.replace(/\s+/g, ' ').slice(0, 400)}`);
    p();
  }
  p('## Servers');
  p();
  for (const k of keys) p(`- ${SERVERS[k].label}: ${SERVERS[k].long} — \`bench/${k === 'c' ? 'c-echo-server.c' : `servers/${path.basename(SERVERS[k].cmd[1])}${SERVERS[k].cmd.length > 2 ? ` ${SERVERS[k].cmd.slice(2).join(' ')}` : ''}`}\``);
  p();
  return L.join('\n');
}

function log(message) {
  process.stderr.write(`${message}\n`);
}

// Renders the Markdown report, prints it, writes it, and (for bench/results.md) refreshes README.md.
function publish(o, results, meta) {
  const markdown = report(o, results, meta);
  process.stdout.write(`${markdown}\n`);
  fs.mkdirSync(path.dirname(o.output), { recursive: true });
  fs.writeFileSync(o.output, `${markdown}\n`);
  if (o.output === path.join(__dirname, 'results.md')) {
    // A full run also refreshes the results section of bench/README.md.
    const readme = path.join(__dirname, 'README.md');
    const text = fs.readFileSync(readme, 'utf8');
    const begin = '<!-- results:begin -->';
    const end = '<!-- results:end -->';
    if (text.includes(begin) && text.includes(end)) {
      const section = markdown.split('\n').filter((line) => !/^# /.test(line)).map((line) => line.replace(/^(#{2,5}) /, '#$1 ')).join('\n').trim();
      fs.writeFileSync(readme, `${text.slice(0, text.indexOf(begin) + begin.length)}\n${section}\n${text.slice(text.indexOf(end))}`);
    }
  }
}

async function main() {
  const o = parseOptions(process.argv.slice(2));
  if (o.reportFile) {
    const saved = JSON.parse(fs.readFileSync(o.reportFile, 'utf8'));
    const so = { ...saved.options, output: o.output, reportFile: o.reportFile };
    const results = {};
    for (const key of so.servers) {
      if (saved.raw[key]?.length) results[key] = { ...summarize(saved.raw[key]), profiles: saved.results?.[key]?.profiles ?? [] };
    }
    publish(so, results, saved.meta);
    log(`wrote ${path.relative(ROOT, so.output)} from ${path.relative(ROOT, o.reportFile)}`);
    return;
  }
  const started = Date.now();
  if (o.pin) {
    const probe = spawnSync('taskset', ['-c', '1', 'true']);
    if (probe.status !== 0 || os.cpus().length < 2) {
      log('taskset unavailable or fewer than 2 cores: running unpinned');
      o.pin = false;
    }
  }
  build(o);
  const loadBefore = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const results = {};
  const raw = {};
  const byId = new Map();
  for (const key of o.servers) {
    raw[key] = [];
    for (const session of sessionsFor(key, o)) {
      if (!byId.has(session.id)) byId.set(session.id, []);
      byId.get(session.id).push({ key, session });
    }
  }
  const profileDirs = {};
  let retrySecs = 0;
  let retried = 0;
  for (const [id, entries] of byId) {
    const reps = entries[0].session.once ? 1 : o.rounds;
    for (let round = 1; round <= reps; round++) {
      const shift = (round - 1) % entries.length;
      for (const { key, session: template } of [...entries.slice(shift), ...entries.slice(0, shift)]) {
        const session = { ...template };
        const t0 = Date.now();
        log(`[${id} ${round}/${reps}] ${SERVERS[key].label}: ${session.clients} clients${session.first.length ? `, ${session.first.join(',')}` : ''}${session.plan.length ? `, ${session.plan.join(',')}` : ''}${session.steady ? `, steady ${session.steadyWorkload} ${session.steady} s` : ''}`);
        let records = await runSession(key, session, o);
        // A run that other work on the machine got in the way of is repeated (within a time budget) and
        // the least disturbed attempt kept. The load generator is single-threaded, so its run-queue wait
        // is time another process held core 1; the C server's likewise for core 0.
        for (let attempt = 2; attempt <= 3; attempt++) {
          const d = disturbance(records, key);
          if (d <= o.maxWait || retrySecs >= o.retryBudget) break;
          const r0 = Date.now();
          log(`  disturbed (a process waited ${pct(d, 0)} of a window for its core): repeating`);
          const again = await runSession(key, { ...template }, o);
          retrySecs += (Date.now() - r0) / 1000;
          retried++;
          if (disturbance(again, key) < d) records = again;
        }
        if (session.profileDir) (profileDirs[`${key}|${id}`] ??= { key, id, session, dirs: [] }).dirs.push(session.profileDir);
        for (const r of records) {
          r.session = session.kind;
          r.round = round;
          raw[key].push(r);
          if (r.type === 'connect' && session.kind !== 'connect' && r.connected < r.clients) log(`  only ${r.connected}/${r.clients} clients connected`);
          if (r.type === 'window') log(`  ${r.workload}: ${fmtRate(r.msgs_per_s)}/s, server ${pct(r.server_cpu_s / r.secs, 0)}, loadgen ${pct(r.loadgen_cpu_s / r.secs, 0)}, waited ${pct(r.server_wait_s / r.secs, 0)}/${pct(r.loadgen_wait_s / r.secs, 0)}${r.rtt_p50_us > 0 ? `, rtt ${fmt(r.rtt_p50_us, 0)}/${fmt(r.rtt_p99_us, 0)} µs` : ''}${r.lost ? `, lost ${r.lost}` : ''}`);
          if (r.type === 'connect' && session.kind === 'connect') log(`  ${r.connected}/${r.clients} connected in ${fmt(r.ms, 0)} ms, RSS ${r.rss_before_kb} → ${r.rss_after_kb} kB`);
          if (r.type === 'rss') log(`  t=${fmt(r.t, 0)} s RSS ${r.rss_kb} kB, ${fmtRate(r.completed)} messages`);
        }
        log(`  (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }
  }
  for (const key of o.servers) {
    if (!raw[key].length) continue;
    results[key] = summarize(raw[key]);
    results[key].profiles = Object.values(profileDirs).filter((pd) => pd.key === key).map((pd) => ({
      session: `${pd.session.clients} clients${pd.session.first.length ? `: ${pd.session.first.join(', ')}` : ''}${pd.session.plan.length ? `: ${pd.session.plan.join(', ')}` : ''}${pd.session.steady ? `: steady ${pd.session.steadyWorkload}` : ''} (${pd.dirs.length} run(s))`,
      summary: profileSummary(pd.dirs),
    })).filter((pr) => pr.summary);
  }
  const meta = {
    retried, retrySecs,
    date: new Date().toISOString(), totalSecs: (Date.now() - started) / 1000, machine: machineInfo(),
    command: process.env.npm_lifecycle_event === 'bench' ? `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}` : `node bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    loadBefore, loadAfter: fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  };
  const allWindows = Object.values(raw).flat().filter((r) => r.type === 'window' && r.core_busy);
  meta.serverWait = median(allWindows.map((w) => w.server_wait_s / w.secs));
  meta.loadgenWait = median(allWindows.map((w) => w.loadgen_wait_s / w.secs));
  meta.serverWaitMax = Math.max(...allWindows.map((w) => w.server_wait_s / w.secs));
  meta.loadgenWaitMax = Math.max(...allWindows.map((w) => w.loadgen_wait_s / w.secs));
  publish(o, results, meta);
  fs.mkdirSync(OUT, { recursive: true });
  const rawFile = path.join(OUT, `results-${meta.date.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(rawFile, JSON.stringify({ meta, options: o, raw, results }, null, 1));
  log(`wrote ${path.relative(ROOT, o.output)} and ${path.relative(ROOT, rawFile)}`);
}

if (require.main === module) {
  main().catch((error) => {
    log(error.stack || String(error));
    for (const child of children) child.kill('SIGKILL');
    process.exit(1);
  });
}

// bench/replication.js builds and pins the same way.
module.exports = { build, pinned, machineInfo, lines, ROOT, OUT };
