/**
 * The long reliability runs: millions of fuzzed datagrams, many megabytes over lossy links, cut links,
 * floods, 4095 peers. Prints each figure as it comes and writes them all to tools/reliability-results.md.
 *
 *   npm run reliability                      everything (about half an hour on two cores)
 *   npm run reliability -- --quick           a few minutes, smaller numbers
 *   npm run reliability -- --only fuzz,floods   some sections (fuzz, scene, bugs, impair, floods)
 *   npm run reliability -- --fuzz-datagrams 5000000 --out /tmp/results.md
 *
 * Everything runs on 127.0.0.1 / ::1 (all of 127/8 for spoofed sources) and needs nothing but this
 * repository built (`npm install` does it). Exit code 1 if a promise was broken (a crash, lost or
 * reordered reliable data, a wrong or missing disconnect) or a bug these runs found is back.
 */
import { integer, list, parseCli } from './cli';
import { execFileSync } from 'child_process';
import { writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MiB, mib } from './harness';
import { connectionFlood, manyPeers, spoofedStorm, stalledReceiver } from './floods';
import { Timeouts, measureCut, runTransfer, runUnreliable } from './impairment';
import {
  abandonedUnreliablePackets,
  backpressureApiPresent,
  emptyDatagramFlood,
  emptyDatagramsOneService,
  lossyLargeUnreliable,
} from './known-bugs';
import { FuzzResult, formatFuzz, runFuzz } from './net-fuzz';
import { SceneFuzzResult, formatSceneFuzz, runSceneFuzz, sceneFuzzClean } from './scene-net-fuzz';

interface Args {
  quick: boolean;
  only: Set<string> | null;
  fuzzDatagrams: number | null;
  out: string;
}

function parseArguments(argv: string[]): Args {
  const o = parseCli('npm run reliability --', 'Network fuzzing, impaired links and floods; writes tools/reliability-results.md.', {
    quick: { type: 'boolean', help: 'short versions of every section' },
    only: { value: 'LIST', help: 'sections to run: fuzz,scene,bugs,impair,floods (default: all)', parse: list(['fuzz', 'scene', 'bugs', 'impair', 'floods']) },
    'fuzz-datagrams': { value: 'N', help: 'datagrams of the fuzz section', parse: integer(1) },
    out: { value: 'FILE', help: 'the Markdown report', default: path.join(__dirname, 'reliability-results.md'), parse: (file) => path.resolve(file) },
  }, argv);
  return { quick: o.quick === true, only: o.only ? new Set(o.only) : null, fuzzDatagrams: o['fuzz-datagrams'] ?? null, out: o.out as string };
}

const md: string[] = [];
const failures: string[] = [];
let outFile = '';

function out(line = ''): void {
  console.log(line);
  md.push(line);
  if (outFile !== '') writeFileSync(outFile, `${md.join('\n')}\n`);
}

function promise(ok: boolean, what: string): string {
  if (!ok) failures.push(what);
  return ok ? 'ok' : '**BROKEN**';
}

const n = (x: number): string => Math.round(x).toLocaleString('en-US');

async function fuzzSection(args: Args): Promise<void> {
  out('## Fuzzing');
  out();
  out('A server (child process, `maxPeers` 4095) gets malformed datagrams of every kind from off-path sockets (IPv4 on');
  out('several 127.x addresses, IPv6 on ::1) and from connected fuzz sessions (hand-written ENet clients, and real clients of');
  out('ours behind a proxy whose address the fuzz borrows), while a legitimate client streams self-checking reliable packets');
  out('(16 B to 64 KB, paced at 1 MiB/s) through it and checks every echo.');
  out();
  const modes: Array<{ mode: number; datagrams: number }> = args.quick
    ? [{ mode: 0, datagrams: 300_000 }, { mode: 1, datagrams: 100_000 }]
    : [{ mode: 0, datagrams: 3_000_000 }, { mode: 1, datagrams: 1_000_000 }, { mode: 2, datagrams: 500_000 }, { mode: 3, datagrams: 500_000 }, { mode: 4, datagrams: 500_000 }];
  const results: FuzzResult[] = [];
  for (const { mode, datagrams } of modes) {
    const count = mode === 0 && args.fuzzDatagrams !== null ? args.fuzzDatagrams : datagrams;
    console.log(`fuzz: compression mode ${mode}, ${n(count)} datagrams…`);
    let r: FuzzResult;
    try {
      r = await runFuzz({ datagrams: count, seconds: args.quick ? 60 : 900, seed: 1000 + mode, compress: mode, sessions: 4, progressMs: 10_000, log: console.log });
    } catch (error) {
      if (String(error).includes('not available')) {
        out(`- compression mode ${mode}: not in this build, skipped`);
        continue;
      }
      throw error;
    }
    results.push(r);
    console.log(formatFuzz(r));
    const legitOk = r.legit.lost + r.legit.reordered + r.legit.duplicated + r.legit.corrupt === 0 && !r.legit.disconnected;
    promise(!r.crashed, `fuzz mode ${mode}: server crashed`);
    promise(legitOk, `fuzz mode ${mode}: legitimate stream damaged`);
  }
  out();
  out('| compression | datagrams sent | read by ENet | oversized + empty (skipped by the socket layer) | from fuzz sessions | seconds | crashes | server RSS before → peak → after (MiB) | legit stream | lost / reordered / corrupt | longest wait for an echo |');
  out('|---|---:|---:|---:|---:|---:|---:|---|---:|---|---:|');
  for (const r of results) {
    out(`| ${['none', 'range coder', 'FastLZ', 'zlib', 'Zstandard'][r.compression]} | ${n(r.sent)} | ${n(r.serverRead)} | ${n(r.oversizedSent + (r.byKind.empty ?? 0))} | ` +
      `${n(r.fromSessions)} (${r.sessionsOpened} sessions) | ${r.seconds.toFixed(0)} | ${r.crashed ? 1 : 0} | ` +
      `${mib(r.rssBefore)} → ${mib(r.rssPeak)} → ${mib(r.rssAfter)} | ${mib(r.legit.bytes)} MiB | ` +
      `${r.legit.lost} / ${r.legit.reordered + r.legit.duplicated} / ${r.legit.corrupt}${r.legit.disconnected ? ' (DISCONNECTED)' : ''} | ${r.legit.longestWaitMs} ms |`);
  }
  const total = results.reduce((a, r) => a + r.sent, 0);
  const kinds: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.byKind)) kinds[k] = (kinds[k] ?? 0) + v;
  out();
  out(`In all: **${n(total)} datagrams fuzzed, ${results.filter((r) => r.crashed).length} crashes**. By kind: ` +
    Object.entries(kinds).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`).join(', ') + '.');
  out();
}

async function sceneSection(args: Args): Promise<void> {
  out('## SceneMultiplayer fuzzing');
  out();
  out('A SceneMultiplayer server (child process, ENetMultiplayerPeer, autoPoll) gets hostile SceneMultiplayer packets over ENet from');
  out('fuzz sessions — admitted, authenticating (AUTH data, never completed) and silent — replaced as they end, while a legitimate');
  out('SceneMultiplayer client calls an RPC and sends bytes (self-checking packets, 16 B to 64 KB) that the server echoes');
  out('(tools/scene-net-fuzz.ts: replays and mutations of real traffic, relays to itself, unknown peers and the legitimate client,');
  out('bad SYS commands, RPCs with bad node-id sizes, unknown cache ids, huge argument counts and arguments of every type,');
  out('SIMPLIFY_PATH floods, bogus CONFIRM_PATHs, AUTH floods). Every RPC handler checks its arguments against the declared types.');
  out();
  const runs = args.quick
    ? [{ seconds: 60, sessions: 6, sessionPackets: 4000 }, { seconds: 30, sessions: 24, sessionPackets: 300 }]
    : [{ seconds: 300, sessions: 6, sessionPackets: 4000 }, { seconds: 120, sessions: 24, sessionPackets: 300 }];
  const results: SceneFuzzResult[] = [];
  for (const [i, run] of runs.entries()) {
    console.log(`scene fuzz: ${run.seconds} s, ${run.sessions} sessions…`);
    const r = await runSceneFuzz({ packets: 100_000_000, seed: 3000 + i, progressMs: 10_000, log: console.log, ...run });
    results.push(r);
    console.log(formatSceneFuzz(r));
    promise(sceneFuzzClean(r), `scene fuzz ${i + 1}: a crash, a type failure or legitimate traffic damaged`);
    promise(r.rssPeak - r.rssBefore < 64 * MiB, `scene fuzz ${i + 1}: server memory grew by ${mib(r.rssPeak - r.rssBefore)} MiB`);
  }
  out('| sessions (packets each) | seconds | packets sent | taken by the server | dropped and counted | handler calls | crashes | type failures | server RSS before → peak → after (MiB) | RSS through the run (MiB) | legit RPC / bytes echoed | lost / reordered / corrupt | longest wait |');
  out('|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|---|---:|');
  for (const [i, r] of results.entries()) {
    const s = r.server;
    const bad = (c: SceneFuzzResult['legit']['rpc']) => `${c.lost} / ${c.reordered + c.duplicated} / ${c.corrupt}`;
    out(`| ${runs[i].sessions} (${n(runs[i].sessionPackets)}), ${r.sessionsOpened} opened | ${r.seconds.toFixed(0)} | ${n(r.sent)} | ${n(s?.received ?? 0)} | ${n(s?.dropped ?? 0)} | ` +
      `${n(s?.handlerCalls ?? 0)} | ${r.crashed ? 1 : 0} | ${(s?.failures.length ?? 0) + r.legit.failures.length} | ` +
      `${mib(r.rssBefore)} → ${mib(r.rssPeak)} → ${mib(r.rssAfter)} | ${r.rssSamples.map(([, b]) => mib(b)).join(', ')} | ` +
      `${n(r.legit.rpc.ok)} / ${n(r.legit.bytes.ok)} (${mib(r.legit.sentBytes)} MiB) | RPC ${bad(r.legit.rpc)}, bytes ${bad(r.legit.bytes)}${r.legit.disconnected ? ' (DISCONNECTED)' : ''} | ${r.legit.longestWaitMs} ms |`);
  }
  const kinds: Record<string, number> = {};
  const reasons: Record<string, number> = {};
  for (const r of results) {
    for (const [k, v] of Object.entries(r.byKind)) kinds[k] = (kinds[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.server?.counters ?? {})) reasons[k] = (reasons[k] ?? 0) + v;
  }
  const sorted = (o: Record<string, number>) => Object.entries(o).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${n(v)}`).join(', ');
  out();
  out(`In all: **${n(results.reduce((a, r) => a + r.sent, 0))} hostile packets, ${results.filter((r) => r.crashed).length} crashes**. By kind: ${sorted(kinds)}. ` +
    `Dropped by the server, by reason: ${sorted(reasons)}.`);
  out();
}

async function bugsSection(): Promise<void> {
  out('## Bugs these runs found (reproductions in tools/known-bugs.ts; each has a regression test)');
  out();
  const one = await emptyDatagramsOneService();
  const flood = await emptyDatagramFlood(3, 2000);
  const emptyFixed = one >= 100 && flood.echoes > 100;
  if (!emptyFixed) failures.push('empty datagrams still end the read loop');
  out(`- Empty datagrams ended ENet's read loop (\`test/net-fuzz.test.ts\`): one service(0) after 100 empty datagrams and 100 PINGs ` +
    `now reads **${one}** datagrams (the bug: 0); under 2,000 empty datagrams/s a 60 Hz server echoed **${flood.echoes}** packets in 3 s ` +
    `(the bug: about 9), worst round trip ${flood.worstMs} ms — ${emptyFixed ? 'fixed' : '**still present**'}.`);
  const abandoned = await abandonedUnreliablePackets(600);
  const lossy = await lossyLargeUnreliable(8, 0.1);
  const waitingFixed = abandoned.markerAcked && lossy.disconnected === '' && lossy.reliableGot === lossy.reliableSent;
  if (!waitingFixed) failures.push('abandoned unreliable fragments still use up the waiting-data budget');
  out(`- Abandoned unreliable fragments used up \`totalWaitingData\` (\`test/net-fuzz.test.ts\`, \`test/impairment.test.ts\`): after 600 ` +
    `incomplete 64 KiB unreliable packets a reliable packet is ${abandoned.markerAcked ? 'acknowledged' : '**never acknowledged**'}; at 10 % loss ` +
    `with 64 KiB unreliable packets (100/s) the reliable stream beside them got ${lossy.reliableGot}/${lossy.reliableSent}, longest gap ` +
    `${lossy.longestReliableGapMs} ms, ${lossy.disconnected === '' ? 'no disconnect' : `**disconnected** (${lossy.disconnected})`} — ` +
    `${waitingFixed ? 'fixed' : '**still present**'}.`);
  out(`- No way to see or bound what ENet queues for a slow peer (\`test/floods.test.ts\`): ENetPacketPeer.getQueuedBytes / ` +
    `setSendQueueLimit ${backpressureApiPresent() ? 'are in the library (see the slow-link figures below)' : '**are not in the library yet**'}.`);
  out('- Spoofed CONNECTs hold a slot for about 30 s (`test/floods.test.ts`): see "real clients during the storm" below.');
  out('- At 30 % loss each way a live peer is declared dead (`test/impairment.test.ts`): see the 30 % rows below.');
  out();
}

async function impairSection(args: Args): Promise<void> {
  out('## Impaired links');
  out();
  const base = { delayMs: 10, jitterMs: 5, duplicate: 0.01, reorder: 0.01 };
  out(`Client → tools/impair-proxy.ts → server, in one process. Every case adds ${base.delayMs} ± ${base.jitterMs} ms one-way delay, 1 % duplicated and 1 % ` +
    'reordered datagrams (on top of what jitter reorders) in both directions. Packets are 16 B to 64 KB, self-checking.');
  out();
  type Case = { name: string; loss: number; oneWay?: boolean; bytes: number; seconds: number; timeouts?: Timeouts };
  const q = args.quick;
  const cases: Case[] = [
    { name: '1 % each way', loss: 0.01, bytes: (q ? 8 : 64) * MiB, seconds: q ? 120 : 600 },
    { name: '10 % each way', loss: 0.1, bytes: (q ? 4 : 32) * MiB, seconds: q ? 120 : 600 },
    { name: '30 % client → server only', loss: 0.3, oneWay: true, bytes: (q ? 1 : 16) * MiB, seconds: q ? 120 : 600 },
    { name: '30 % each way, Godot default timeouts', loss: 0.3, bytes: (q ? 1 : 8) * MiB, seconds: q ? 90 : 300 },
    { name: '30 % each way, setTimeout(32, 30000, 60000)', loss: 0.3, bytes: (q ? 0.5 : 4) * MiB, seconds: q ? 120 : 600, timeouts: [32, 30000, 60000] },
  ];
  out('| link | MiB delivered | of | seconds | lost | reordered | duplicated | corrupt | disconnected | proxy dropped / duplicated / reordered | retransmits | longest stall |');
  out('|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|---:|');
  for (const c of cases) {
    console.log(`transfer: ${c.name}, ${mib(c.bytes)} MiB…`);
    const impair = { ...base, loss: c.loss };
    const r = await runTransfer({
      both: c.oneWay ? base : impair, up: c.oneWay ? impair : undefined, bytes: c.bytes, seconds: c.seconds, timeouts: c.timeouts,
      seed: Math.round(c.loss * 1000) + (c.oneWay ? 1 : 0), progress: (l) => console.log(l),
    });
    const clean = r.counts.lost + r.counts.reordered + r.counts.duplicated + r.counts.corrupt === 0;
    promise(clean, `transfer ${c.name}: data lost or reordered`);
    // A disconnect is within the promise ("or the peer is disconnected") only if nothing before it was lost.
    out(`| ${c.name} | ${mib(r.bytes, 2)} | ${mib(c.bytes, 0)} | ${r.seconds.toFixed(0)} | ${r.counts.lost} | ${r.counts.reordered} | ` +
      `${r.counts.duplicated} | ${r.counts.corrupt} | ${r.disconnected === null ? (r.complete ? 'no' : 'no (time limit)') : `**${r.disconnected.side} after ${(r.disconnected.atMs / 1000).toFixed(1)} s**`} | ` +
      `${n(r.proxy.up.lost + r.proxy.down.lost)} / ${n(r.proxy.up.duplicated + r.proxy.down.duplicated)} / ${n(r.proxy.up.reordered + r.proxy.down.reordered)} | ` +
      `${n(r.retransmits)} | ${r.longestStallMs} ms |`);
  }
  out();
  out('Unreliable, 100 packets/s of 200 B on their own channel, beside a 50 KB/s reliable stream:');
  out();
  out('| loss each way | delivered | ratio | longest gap | 250 ms windows with deliveries | reliable beside it | disconnected |');
  out('|---|---:|---:|---:|---:|---|---|');
  for (const loss of [0.01, 0.1, 0.3]) {
    const r = await runUnreliable({ both: { loss, delayMs: 10, jitterMs: 5 }, rate: 100, size: 200, seconds: q ? 5 : 20, reliableBytesPerSec: 50_000, seed: 9 });
    promise(r.reliableClean, `unreliable at ${loss}: the reliable stream beside it was damaged`);
    out(`| ${loss * 100} % | ${n(r.delivered)} / ${n(r.sent)} | ${(r.ratio * 100).toFixed(1)} % | ${r.longestGapMs} ms | ` +
      `${(r.bucketsWithDelivery * 100).toFixed(0)} % | ${(r.reliableBytes / 1024).toFixed(0)} KiB, ${r.reliableClean ? 'complete and in order' : 'DAMAGED'} | ` +
      `${r.disconnected ? `**after ${(r.disconnectedAtMs / 1000).toFixed(1)} s**` : 'no'} |`);
  }
  out();
  out('Cut link (the proxy drops everything from one moment on): time until each side reports the peer disconnected.');
  out();
  out('| timeouts (limit, min, max) | traffic | server | client |');
  out('|---|---|---:|---:|');
  const cuts: Array<{ t: Timeouts | undefined; label: string }> = [
    { t: undefined, label: 'Godot defaults (32, 5000, 30000)' },
    { t: [32, 1000, 2000], label: '32, 1000, 2000' },
    { t: [32, 3000, 10000], label: '32, 3000, 10000' },
  ];
  for (const { t, label } of cuts) {
    for (const traffic of ['idle', 'stream'] as const) {
      const r = await measureCut({ traffic, seconds: 40, timeouts: t, both: { delayMs: 10 } });
      const max = t?.[2] ?? 30000;
      const ok = r.serverMs !== null && r.clientMs !== null && r.serverMs <= max + 2000 && r.clientMs <= max + 2000;
      promise(ok, `cut link ${label} ${traffic}: not reported within timeoutMaximum`);
      out(`| ${label} | ${traffic} | ${r.serverMs === null ? 'none' : `${(r.serverMs / 1000).toFixed(2)} s`} | ${r.clientMs === null ? 'none' : `${(r.clientMs / 1000).toFixed(2)} s`} |`);
    }
  }
  out();
}

async function floodsSection(args: Args): Promise<void> {
  const q = args.quick;
  out('## Floods');
  out();
  console.log('connection flood…');
  const f = await connectionFlood({ maxClients: 32, clients: q ? 200 : 1000, clientTimeouts: [32, 2000, 4000], seconds: 90 });
  promise(!f.crashed && f.legit.lost + f.legit.reordered + f.legit.corrupt === 0 && !f.legit.disconnected, 'connection flood');
  out(`- **Connection flood beyond max_clients**: ${n(f.clients)} real clients against 32 slots (one taken by the legitimate ` +
    `client): ${f.connected} got in and exchanged a packet, ${n(f.refused)} were never answered and gave up; the server never held ` +
    `more than ${f.serverPeersPeak} peers; a newcomer connected once the flood left: ${f.reconnectOk}. Server RSS ${mib(f.memory.rssBefore)} → ` +
    `peak ${mib(f.memory.rssPeak)} → ${mib(f.memory.rssAfter)} MiB. Legitimate stream ${mib(f.legit.bytes)} MiB, lost ${f.legit.lost}, ` +
    `reordered ${f.legit.reordered}, ${f.legit.disconnected ? 'DISCONNECTED' : 'still connected'}.`);
  for (const s of q
    ? [{ maxPeers: 32, sources: 256, connects: 5000, rate: 1000 }]
    : [{ maxPeers: 32, sources: 2000, connects: 30_000, rate: 1000 }, { maxPeers: 4095, sources: 4000, connects: 100_000, rate: 5000 }]) {
    console.log(`spoofed storm against ${s.maxPeers} slots…`);
    const r = await spoofedStorm({ ...s, recoverSeconds: 60 });
    promise(!r.crashed && r.legit.lost + r.legit.reordered + r.legit.corrupt === 0 && !r.legit.disconnected, `storm ${s.maxPeers}`);
    out(`- **Spoofed-source CONNECT storm**, ${s.maxPeers} slots: ${n(r.connects)} CONNECTs at ${n(s.rate)}/s from ${n(r.sources)} ` +
      `addresses that never answer. The server gave ${n(r.halfOpen)} of them a slot and sent their sources ${n(r.verifies)} ` +
      `VERIFY_CONNECTs (retransmitted for ${(r.verifySpanMs.max / 1000).toFixed(1)} s each); ${n(r.serverSent)} datagrams in all, ` +
      `${r.amplification.toFixed(2)} per CONNECT. Real clients during the storm: **${r.probesDuringStorm.connected} of ${r.probesDuringStorm.tried}** got in; ` +
      `after it, a real client got in after ${r.recoveryMs === null ? 'more than 60 s' : `${(r.recoveryMs / 1000).toFixed(1)} s`}. ` +
      `No crash: ${!r.crashed}; server RSS ${mib(r.memory.rssBefore)} → peak ${mib(r.memory.rssPeak)} → ${mib(r.memory.rssAfter)} MiB; ` +
      `legitimate stream ${mib(r.legit.bytes)} MiB, lost ${r.legit.lost}, reordered ${r.legit.reordered}, ${r.legit.disconnected ? 'DISCONNECTED' : 'still connected'}.`);
  }
  console.log('frozen client…');
  const fr = await stalledReceiver({ bytesPerSec: 2_000_000, mode: 'frozen', seconds: 6, timeouts: [32, 2000, 4000], cycles: q ? 2 : 5 });
  promise(!fr.crashed && fr.dropMsCycles.every((d) => d !== null), 'frozen client not dropped');
  out(`- **A client that stops reading** (no more service, so no ACKs) while the server pushes 2 MB/s reliable, timeouts ` +
    `(32, 2000, 4000), ${fr.rssAfterCycles.length} times in a row: server RSS grows ${mib(fr.rssGrowthPerSec)} MiB/s while ENet queues, ` +
    `the peer is dropped after ${fr.dropMsCycles.map((d) => (d === null ? 'never' : `${(d / 1000).toFixed(1)} s`)).join(', ')}; RSS ` +
    `${mib(fr.rssBefore)} MiB before, ${fr.rssAfterCycles.map((x) => mib(x)).join(' / ')} MiB after each cycle (peak ${mib(fr.rssPeak)}): ` +
    'what a dropped peer held is freed and reused (malloc keeps its arena, so RSS does not fall back).');
  console.log('slow link…');
  const sl = await stalledReceiver({ bytesPerSec: 1_000_000, mode: 'slow', linkBytesPerSec: 100_000, seconds: q ? 10 : 60 });
  const grown = sl.samples.length > 0 ? sl.samples[sl.samples.length - 1].rss - sl.rssBefore : 0;
  const maxQueued = Math.max(0, ...sl.samples.map((x) => x.queuedBytes ?? 0));
  out(`- **A client on a slow link** (100 KB/s, so its ACKs keep coming and nothing times out) while the server sends 1 MB/s: ` +
    `send() accepted ${mib(sl.acceptedBytes)} MiB in ${q ? 10 : 60} s and never refused; server RSS grew ${mib(grown)} MiB ` +
    `(${mib(sl.rssGrowthPerSec, 2)} MiB/s, without bound) and ${sl.queuedBytesAvailable ? `getQueuedBytes() showed it (up to ${mib(maxQueued)} MiB)` : 'no API shows the queue'}` +
    `${sl.dropMs === null ? '; the peer was never dropped' : `; dropped after ${(sl.dropMs / 1000).toFixed(1)} s`}.`);
  if (backpressureApiPresent()) {
    console.log('slow link with a send-queue limit…');
    const lim = await stalledReceiver({ bytesPerSec: 1_000_000, mode: 'slow', linkBytesPerSec: 100_000, seconds: q ? 10 : 60, queueLimit: 1024 * 1024 });
    const limGrown = lim.samples.length > 0 ? lim.samples[lim.samples.length - 1].rss - lim.rssBefore : 0;
    const limQueued = Math.max(0, ...lim.samples.map((x) => x.queuedBytes ?? 0));
    promise(limQueued <= 1024 * 1024 && lim.refused > 0, 'send-queue limit not enforced');
    out(`- The same with \`setSendQueueLimit(1 MiB)\`: send() accepted ${mib(lim.acceptedBytes)} MiB (what the link carried) and refused ` +
      `${n(lim.refused)} packets with ERR_BUSY; getQueuedBytes() never passed ${mib(limQueued, 2)} MiB and the server's RSS grew ${mib(limGrown)} MiB in all.`);
  }
  console.log('4095 peers…');
  const m = await manyPeers({ count: 4095, extra: 2, seconds: 120 });
  promise(!m.crashed && m.connected === 4095 && m.echoed === 4095 && m.extraConnected === 0 && m.allLeft, '4095 peers');
  out(`- **4095 peers at once**: ${n(m.connected)} clients (each its own ENetConnection and socket) connected and exchanged a packet ` +
    `in ${m.connectSeconds.toFixed(1)} s; ${m.extraConnected} of 2 more got in; all left cleanly: ${m.allLeft}. Server RSS ` +
    `${mib(m.memory.rssBefore)} (4095 empty slots) → peak ${mib(m.memory.rssPeak)} → ${mib(m.memory.rssAfter)} MiB; the clients' process ${mib(m.swarmRss)} MiB.`);
  out();
}

async function main(): Promise<void> {
  const args = parseArguments(process.argv.slice(2));
  outFile = args.out;
  const want = (s: string): boolean => args.only === null || args.only.has(s);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: path.join(__dirname, '..'), encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'binding', 'deps'], { cwd: path.join(__dirname, '..'), encoding: 'utf8' }).trim();
    if (dirty !== '') commit += ' (library sources modified)';
  } catch {
    // not a git checkout
  }
  const started = Date.now();
  out('# Reliability results');
  out();
  out(`Generated by \`npm run reliability${args.quick ? ' -- --quick' : ''}\` (tools/reliability.ts) on ${new Date().toISOString()}: ` +
    `commit ${commit}, Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}. ` +
    'The machine may have been busy with other work: no figure here is a speed claim.');
  out();
  if (want('fuzz')) await fuzzSection(args);
  if (want('scene')) await sceneSection(args);
  if (want('bugs')) await bugsSection();
  if (want('impair')) await impairSection(args);
  if (want('floods')) await floodsSection(args);
  out(`Total time ${((Date.now() - started) / 60000).toFixed(1)} min. Promises broken: ${failures.length === 0 ? 'none' : failures.join('; ')}.`);
  console.log(`\nwritten to ${outFile}`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exit(2);
});
