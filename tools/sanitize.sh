#!/usr/bin/env bash
# Memory-safety and leak runs of the native code (README "Fuzzing and sanitizers"):
#
#  1. AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer: the addon is built with
#     -fsanitize=address,undefined into build-asan/build (clang, cmake-js), and the jest suites that
#     exercise native code run in one node process that loads it: LD_PRELOAD of clang's ASan runtime (Node
#     itself is not instrumented), GODOT_ENET_PREBUILD=build-asan (node-gyp-build's own override, so
#     neither src/ nor the package layout changes), jest --runInBand, then a few full GCs so that
#     every host and packet JS no longer holds is finalized before LeakSanitizer looks at the exit.
#     Node children the suites start (fixtures that load the addon) run under ASan too; other children
#     (python3 ENet peers, Godot) get no LD_PRELOAD.
#     tools/lsan.supp suppresses V8's and Node's own leak reports (heap page metadata kept in mmap'd
#     memory LeakSanitizer does not scan); every report left is then attributed: a report with a frame
#     in godot_enet.node, binding/ or deps/enet/ is ours, anything else is counted as the runtime's.
#     Two self-checks keep "0 leaks" meaningful: a canary library preloaded into one node run leaks a
#     block that must be reported, and the attribution is tested on a synthetic report naming the addon.
#  2. valgrind memcheck (if installed) of a small traffic script (a server and three clients in every
#     compression mode: reliable, unreliable, unsequenced and fragmented packets both ways, disconnects,
#     destroy) with an uninstrumented -O1 -g build of the addon (build-asan/plain).
#
#   tools/sanitize.sh [--no-build] [--clean] [--no-valgrind] [--suites "test/a.test.ts test/b.test.ts"] [--results FILE]
#
# Prints a summary (test results, ASan errors, UBSan reports, leaks in our code vs the runtime's,
# valgrind errors) and writes tools/sanitize-results.md. Exit status 1 if any test failed or anything
# is attributed to our code. Logs: build-asan/logs/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/build-asan"
LOGS="$OUT/logs"
BUILD=1
VALGRIND=1
RESULTS="$ROOT/tools/sanitize-results.md"
SUITES=(test/connection.test.ts test/packet-peer.test.ts test/lifecycle.test.ts test/mitigations.test.ts
  test/multiplayer.test.ts test/compression.test.ts)

while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --no-valgrind) VALGRIND=0; shift ;;
    --suites) read -r -a SUITES <<<"$2"; shift 2 ;;
    --clean) rm -rf "$OUT"; shift ;;
    --results) RESULTS="$2"; shift 2 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "sanitize.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

cd "$ROOT"
# clang, not gcc: with gcc, UBSan is a second runtime (libubsan) whose reports ignore log_path and go to
# stderr, where tests that check a child's stderr would see them. clang's shared ASan runtime carries
# UBSan too, so every report lands in build-asan/logs/. (vptr is left out: it needs the C++ UBSan
# runtime, which the shared ASan runtime lacks.)
CC=clang
CXX=clang++
if ! command -v "$CC" >/dev/null || ! command -v "$CXX" >/dev/null; then
  echo "sanitize.sh: clang not found; install it with: apt-get install clang libclang-rt-14-dev" >&2
  exit 2
fi
LIBASAN="$("$CC" -print-file-name=libclang_rt.asan-x86_64.so)"
if [ ! -f "$LIBASAN" ]; then
  echo "sanitize.sh: $LIBASAN not found; install it with: apt-get install libclang-rt-14-dev" >&2
  exit 2
fi
SAN_FLAGS="-fsanitize=address,undefined -fno-sanitize=vptr -shared-libasan -fno-omit-frame-pointer -g -O1"

if [ "$BUILD" = 1 ]; then
  echo "== building the addon with $SAN_FLAGS into build-asan/build"
  # CMAKE_*_FLAGS_RELEASE without -O3, so that our -O1 stands and stacks stay readable.
  npx cmake-js build -O "$OUT/build" -p "$(nproc)" --cc "$CC" --cxx "$CXX" \
    --CDCMAKE_C_FLAGS="$SAN_FLAGS" --CDCMAKE_CXX_FLAGS="$SAN_FLAGS" \
    --CDCMAKE_C_FLAGS_RELEASE=-DNDEBUG --CDCMAKE_CXX_FLAGS_RELEASE=-DNDEBUG \
    --CDCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined -shared-libasan" >"$OUT.build.log" 2>&1 \
    || { tail -30 "$OUT.build.log"; exit 1; }
  if [ "$VALGRIND" = 1 ] && command -v valgrind >/dev/null; then
    echo "== building the addon with -O1 -g (no sanitizer) into build-asan/plain/build for valgrind"
    npx cmake-js build -O "$OUT/plain/build" -p "$(nproc)" \
      --CDCMAKE_C_FLAGS="-g -O1 -fno-omit-frame-pointer" --CDCMAKE_CXX_FLAGS="-g -O1 -fno-omit-frame-pointer" \
      --CDCMAKE_C_FLAGS_RELEASE=-DNDEBUG --CDCMAKE_CXX_FLAGS_RELEASE=-DNDEBUG >"$OUT.plain.log" 2>&1 \
      || { tail -30 "$OUT.plain.log"; exit 1; }
  fi
  npx tsc -p tsconfig.json >/dev/null
fi
ADDON="$OUT/build/Release/godot_enet.node"
[ -f "$ADDON" ] || { echo "sanitize.sh: $ADDON missing; run without --no-build" >&2; exit 2; }

rm -rf "$LOGS"
mkdir -p "$LOGS"

# ---------------------------------------------------------------------------------------------------
# The jest runner: one process, ASan addon, final GCs, LD_PRELOAD only for node children.
cat >"$LOGS/runner.js" <<'EOF'
'use strict';
const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const PRELOAD = process.env.LD_PRELOAD;
// Children that are not node (python3 ENet peers, Godot, compilers) must not get the ASan runtime:
// it would only slow them down and report their own leaks.
function isNode(command) {
  return typeof command === 'string' && (command === process.execPath || path.basename(command) === 'node');
}
function withoutPreload(options) {
  const env = { ...((options && options.env) || process.env) };
  delete env.LD_PRELOAD;
  return { ...(options || {}), env };
}
for (const name of ['spawn', 'spawnSync', 'execFile', 'execFileSync']) {
  const original = childProcess[name];
  childProcess[name] = function (command, ...rest) {
    if (isNode(command)) return original.call(this, command, ...rest);
    let i = 0;
    if (Array.isArray(rest[0])) i = 1;
    if (rest[i] !== null && typeof rest[i] === 'object' && !Array.isArray(rest[i])) rest[i] = withoutPreload(rest[i]);
    else if (typeof rest[i] === 'function' || rest[i] === undefined) rest.splice(i, 0, withoutPreload(undefined));
    return original.call(this, command, ...rest);
  };
}
for (const name of ['exec', 'execSync']) {
  const original = childProcess[name];
  childProcess[name] = function (command, options, ...rest) {
    if (typeof options === 'function' || options === undefined) return original.call(this, command, withoutPreload(undefined), ...(options ? [options] : []), ...rest);
    return original.call(this, command, withoutPreload(options), ...rest);
  };
}
const { runCLI } = require(require.resolve('jest', { paths: [process.cwd()] }));
(async () => {
  const suites = process.argv.slice(2);
  const maps = () => fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('godot_enet.node'));
  const { results } = await runCLI({ runInBand: true, _: suites, $0: 'jest', testTimeout: 120000 }, [process.cwd()]);
  // Everything JS let go of is finalized now (hosts destroyed, packets freed), so what is left at
  // exit is a leak or still referenced.
  for (let i = 0; i < 8; i++) {
    global.gc();
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  const loaded = maps().map((l) => l.split(/\s+/).pop())[0] || 'none';
  const summary = { success: results.success, suites: results.numTotalTestSuites, failedSuites: results.numFailedTestSuites,
    passed: results.numPassedTests, failed: results.numFailedTests, skipped: results.numPendingTests, addon: loaded,
    failures: results.testResults.flatMap((s) => s.testResults.filter((t) => t.status === 'failed').map((t) => `${path.basename(s.testFilePath)}: ${t.fullName}`)) };
  fs.writeFileSync(process.env.SANITIZE_SUMMARY, JSON.stringify(summary, null, 2));
  process.exit(results.success ? 0 : 1);
})();
EOF

# ---------------------------------------------------------------------------------------------------
# The report parser: ASan errors, UBSan reports and leak records, each attributed.
cat >"$LOGS/parse.js" <<'EOF'
'use strict';
const fs = require('fs');
const path = require('path');
const OURS = /godot_enet\.node|\/binding\/|\/deps\/enet\/((socket_layer|compressors|enet_impl)\.c|socket_os\w*\.h)|\/prepared\/zpl\/enet\.h|\/prepared\/range-coder\/|\/prepared\/zstd\//;
const THIRD_PARTY = /\/prepared\/(zpl|range-coder|zstd)\//;
function frames(block) {
  return block.split('\n').filter((l) => /^\s+#\d+ /.test(l)).map((l) => l.trim());
}
function parse(texts) {
  const r = { asanErrors: [], ubsan: [], leaks: { ours: [], runtime: 0, runtimeBytes: 0 }, suppressed: 0 };
  for (const text of texts) {
    for (const m of text.matchAll(/ERROR: AddressSanitizer: ([^\n]*)\n([\s\S]*?)(?=\nSUMMARY|$)/g)) {
      r.asanErrors.push({ what: m[1], ours: frames(m[2]).some((f) => OURS.test(f)), stack: frames(m[2]).slice(0, 12) });
    }
    for (const m of text.matchAll(/^(\S+:\d+:\d+): runtime error: ([^\n]*)\n((?:\s+#\d+[^\n]*\n)*)/gm)) {
      const where = m[1];
      r.ubsan.push({ where, what: m[2], ours: OURS.test(where) || frames(m[3]).slice(0, 3).some((f) => OURS.test(f)),
        thirdParty: THIRD_PARTY.test(where) });
    }
    const leakBlocks = text.split(/\n(?=(?:Direct|Indirect) leak of )/).filter((b) => /^(Direct|Indirect) leak of/.test(b));
    for (const b of leakBlocks) {
      const f = frames(b);
      const bytes = Number((/leak of (\d+) byte/.exec(b) || [])[1] || 0);
      // An allocation site in a module unloaded before the report (an addon only workers had loaded)
      // cannot be named: counted as ours, since Node's own code is never unloaded.
      const unnamed = f.length > 1 && /<unknown module>|^#\d+ 0x[0-9a-f]+\s+\(<unknown/.test(f[1]);
      if (f.some((x) => OURS.test(x)) || unnamed) r.leaks.ours.push({ head: b.split('\n')[0], stack: f.slice(0, 14) });
      else { r.leaks.runtime++; r.leaks.runtimeBytes += bytes; }
    }
    for (const m of text.matchAll(/^\s*(\d+)\s+\d+\s+\S+$/gm)) void m; // (print_suppressions table, counted below)
    const sup = /Suppressions used:\n\s*count\s+bytes\s+template\n([\s\S]*?)\n-{3,}/.exec(text);
    if (sup) for (const line of sup[1].split('\n')) { const c = /^\s*(\d+)\s/.exec(line); if (c) r.suppressed += Number(c[1]); }
  }
  return r;
}
if (process.argv[2] === '--self-test') {
  const fake = 'Direct leak of 48 byte(s) in 1 object(s) allocated from:\n    #0 0x1 in malloc x\n' +
    '    #1 0x2 in HostWrap::Create(Napi::CallbackInfo const&) (/x/build-asan/build/Release/godot_enet.node+0x1)\n\n' +
    'Direct leak of 8 byte(s) in 1 object(s) allocated from:\n    #0 0x1 in malloc x\n    #1 0x2 in v8::Foo (/usr/bin/node+0x1)\n\n' +
    'Direct leak of 16 byte(s) in 1 object(s) allocated from:\n    #0 0x1 in __interceptor_malloc (/x/libclang_rt.asan-x86_64.so+0x1)\n    #1 0x7f0  (<unknown module>)\n';
  const r = parse([fake]);
  if (r.leaks.ours.length !== 2 || r.leaks.runtime !== 1) { console.error('attribution self-test failed'); process.exit(1); }
  console.log('attribution self-test: ok');
  process.exit(0);
}
const dir = process.argv[2];
const files = fs.readdirSync(dir).filter((f) => /^(asan|canary)\./.test(f));
const r = parse(files.filter((f) => f.startsWith('asan.')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')));
const canary = parse(files.filter((f) => f.startsWith('canary.')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')));
r.canaryLeaks = canary.leaks.runtime + canary.leaks.ours.length;
r.processes = files.filter((f) => f.startsWith('asan.')).length;
console.log(JSON.stringify(r, null, 2));
EOF

node "$LOGS/parse.js" --self-test

# Canary: LeakSanitizer runs at node's exit with these options and suppressions, and reports a block
# that a preloaded library leaks.
printf '#include <stdlib.h>\n#include <string.h>\n__attribute__((constructor)) static void canary(void) { char *p = malloc(4242); memset(p, 1, 4242); p = 0; }\n' \
  >"$LOGS/canary.c"
gcc -shared -fPIC -O0 "$LOGS/canary.c" -o "$LOGS/canary.so"
export LSAN_OPTIONS="suppressions=$ROOT/tools/lsan.supp:print_suppressions=1:exitcode=0"
# (log_path set in both: the runtime reads UBSAN_OPTIONS after ASAN_OPTIONS.)
LD_PRELOAD="$LIBASAN $LOGS/canary.so" ASAN_OPTIONS="detect_leaks=1:log_path=$LOGS/canary:symbolize=0" \
  UBSAN_OPTIONS="log_path=$LOGS/canary" GODOT_ENET_PREBUILD="$OUT" node -e "require('$ROOT/dist')" || true
export UBSAN_OPTIONS="print_stacktrace=1:log_path=$LOGS/asan"

echo "== jest under ASan/LSan/UBSan: ${SUITES[*]}"
status=0
SANITIZE_SUMMARY="$LOGS/jest-summary.json" GODOT_ENET_PREBUILD="$OUT" LD_PRELOAD="$LIBASAN" \
  ASAN_OPTIONS="detect_leaks=1:log_path=$LOGS/asan:detect_stack_use_after_return=0:handle_segv=1" \
  node --expose-gc "$LOGS/runner.js" "${SUITES[@]}" >"$LOGS/jest.log" 2>&1 || status=$?
grep -E "^(PASS|FAIL) |^Tests:" "$LOGS/jest.log" || true
node "$LOGS/parse.js" "$LOGS" >"$LOGS/report.json"

# ---------------------------------------------------------------------------------------------------
# valgrind memcheck of a traffic script with the uninstrumented build.
VG_STATUS="not run"
if [ "$VALGRIND" = 1 ] && command -v valgrind >/dev/null && [ -f "$OUT/plain/build/Release/godot_enet.node" ]; then
  cat >"$LOGS/traffic.js" <<'EOF'
'use strict';
// A server and three clients in every compression mode: reliable, unreliable, unsequenced and fragmented
// packets both ways, a graceful disconnect, a disconnect after queued reliable data, then destroy.
const { ENetConnection, EventType } = require(process.argv[2]);
const FLAG_RELIABLE = 1, FLAG_UNSEQUENCED = 2, FLAG_UNRELIABLE_FRAGMENT = 8;
function pump(hosts, until, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    for (const h of hosts) {
      for (let i = 0; i < 64; i++) {
        const [type, peer, , channel] = h.conn.service(0);
        if (type === EventType.EVENT_NONE) break;
        h.events.push([type, peer, channel]);
        if (type === EventType.EVENT_RECEIVE) {
          const data = peer.getPacket();
          h.bytes += data.length;
          if (h.echo) peer.send(0, data, FLAG_RELIABLE);
        }
      }
    }
    if (until()) return true;
  }
  return false;
}
let ok = true;
for (let mode = 0; mode <= 4; mode++) {
  const server = { conn: new ENetConnection(), events: [], bytes: 0, echo: true };
  server.conn.createHostBound('127.0.0.1', 0, 8);
  server.conn.compress(mode);
  const clients = [0, 1, 2].map(() => {
    const c = { conn: new ENetConnection(), events: [], bytes: 0, echo: false };
    c.conn.createHost(1);
    c.conn.compress(mode);
    c.peer = c.conn.connectToHost('127.0.0.1', server.conn.getLocalPort());
    return c;
  });
  const all = [server, ...clients];
  ok = pump(all, () => clients.every((c) => c.events.some((e) => e[0] === EventType.EVENT_CONNECT)), 60000) && ok;
  let sent = 0;
  for (const c of clients) {
    const text = Buffer.from('position velocity player health '.repeat(4));
    c.peer.send(0, text, FLAG_RELIABLE); sent += text.length;
    c.peer.send(1, Buffer.alloc(50, 7), 0); sent += 50;
    c.peer.send(2, Buffer.alloc(20, 9), FLAG_UNSEQUENCED); sent += 20;
    c.peer.send(0, Buffer.alloc(5000, 1), FLAG_RELIABLE); sent += 5000;
    c.peer.send(1, Buffer.alloc(3000, 2), FLAG_UNRELIABLE_FRAGMENT); sent += 3000;
  }
  ok = pump(all, () => server.bytes >= sent && clients.every((c) => c.bytes >= 5000), 60000) && ok;
  clients[0].peer.peerDisconnect(1);
  clients[1].peer.send(0, Buffer.alloc(100, 3), FLAG_RELIABLE);
  clients[1].peer.peerDisconnectLater(2);
  ok = pump(all, () => server.events.filter((e) => e[0] === EventType.EVENT_DISCONNECT).length >= 2, 60000) && ok;
  for (const h of all) h.conn.destroy();
  console.log(`mode ${mode}: server received ${server.bytes} bytes, ${server.events.length} events`);
}
if (global.gc) for (let i = 0; i < 4; i++) global.gc();
const addon = require('fs').readFileSync('/proc/self/maps', 'utf8').split('\n').find((l) => l.includes('godot_enet.node'));
console.log(`${ok ? 'traffic ok' : 'traffic incomplete'}, addon ${addon ? addon.split(/\s+/).pop().replace(/^.*\/(build-asan\/)/, '$1') : 'not loaded'}`);
EOF
  echo "== valgrind memcheck: traffic script (server + 3 clients, every compression mode)"
  GODOT_ENET_PREBUILD="$OUT/plain" valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite --num-callers=40 --log-file="$LOGS/valgrind.log" \
    node --expose-gc "$LOGS/traffic.js" "$ROOT/dist" >"$LOGS/valgrind-traffic.log" 2>&1 || true
  VG_STATUS=done
fi

# valgrind's log: error blocks (attributed as above), and the leak summary.
node - "$LOGS" "$VG_STATUS" >"$LOGS/valgrind.json" <<'EOF'
'use strict';
const fs = require('fs');
const path = require('path');
const [dir, status] = process.argv.slice(2);
const OURS = /godot_enet\.node|\/binding\/|\/deps\/enet\/|\/prepared\/(zpl|range-coder|zstd)\//;
const out = { status, errorsOurs: 0, errorsRuntime: 0, oursErrors: [], definitelyLostOurs: 0, definitelyLostRuntime: 0,
  summary: '', traffic: '' };
const log = path.join(dir, 'valgrind.log');
if (status === 'done' && fs.existsSync(log)) {
  const text = fs.readFileSync(log, 'utf8').replace(/^==\d+== ?/gm, '');
  const blocks = text.split(/\n\s*\n/);
  for (const b of blocks) {
    const first = b.split('\n')[0];
    const isError = /^(Invalid (read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument|\d[\d,]* bytes in [\d,]+ blocks are (definitely|indirectly) lost)/.test(first);
    if (!isError) continue;
    const ours = b.split('\n').some((l) => /^\s+(at|by) /.test(l) && OURS.test(l));
    const lost = /are (definitely|indirectly) lost/.test(first);
    if (lost) { if (ours) out.definitelyLostOurs++; else out.definitelyLostRuntime++; }
    else if (ours) out.errorsOurs++;
    else out.errorsRuntime++;
    if (ours) out.oursErrors.push(b.split('\n').slice(0, 16).join('\n'));
  }
  out.summary = (/ERROR SUMMARY: [^\n]*/.exec(text) || [''])[0];
  out.leakSummary = (/definitely lost: [^\n]*/.exec(text) || [''])[0];
  const t = path.join(dir, 'valgrind-traffic.log');
  if (fs.existsSync(t)) out.traffic = fs.readFileSync(t, 'utf8').trim().split('\n').pop();
}
console.log(JSON.stringify(out, null, 2));
EOF

# ---------------------------------------------------------------------------------------------------
# Summary
node - "$LOGS" "$RESULTS" "${SUITES[*]}" "$("$CC" --version | head -1)" "$(node --version)" <<'EOF'
'use strict';
const fs = require('fs');
const path = require('path');
const [dir, resultsFile, suites, gcc, nodeVersion] = process.argv.slice(2);
const read = (f, d) => { try { return JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')); } catch { return d; } };
const jest = read('jest-summary.json', { success: false, passed: 0, failed: 0, skipped: 0, suites: 0, addon: '?', failures: ['jest did not finish (see build-asan/logs/jest.log)'] });
const r = read('report.json', {});
const vg = read('valgrind.json', { status: 'not run' });
const asanOurs = r.asanErrors.filter((e) => e.ours);
const ubOurs = r.ubsan.filter((u) => u.ours && !u.thirdParty);
const ubThird = r.ubsan.filter((u) => u.thirdParty);
const ubRuntime = r.ubsan.filter((u) => !u.ours && !u.thirdParty);
const uniq = (list) => [...new Set(list.map((u) => `${u.where.replace(/^.*\/(deps|binding|prepared)\//, '$1/')}: ${u.what}`))];
const lines = [];
lines.push('# Sanitizer results', '');
lines.push(`Written by \`tools/sanitize.sh\` on ${new Date().toISOString().slice(0, 10)} (${gcc}, Node ${nodeVersion}).`, '');
lines.push('## AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer, jest suites', '');
lines.push(`Suites: ${suites.split(' ').map((s) => `\`${s}\``).join(', ')}; addon loaded: \`${jest.addon.replace(/^.*\/(build-asan\/)/, '$1')}\`.`, '');
lines.push('| what | count |', '|---|---|');
lines.push(`| tests passed / failed / skipped | ${jest.passed} / ${jest.failed} / ${jest.skipped} |`);
lines.push(`| processes checked (jest + node children) | ${r.processes} |`);
lines.push(`| ASan errors in our code | ${asanOurs.length} |`);
lines.push(`| ASan errors elsewhere | ${r.asanErrors.length - asanOurs.length} |`);
lines.push(`| UBSan reports in our code | ${ubOurs.length} |`);
lines.push(`| UBSan reports in pinned third-party sources (ENet, range coder, zstd) | ${ubThird.length} |`);
lines.push(`| UBSan reports elsewhere | ${ubRuntime.length} |`);
lines.push(`| leaks in our code | ${r.leaks.ours.length} |`);
lines.push(`| leak reports left from V8/Node after tools/lsan.supp | ${r.leaks.runtime} (${r.leaks.runtimeBytes} bytes) |`);
lines.push(`| leak reports suppressed by tools/lsan.supp (V8/Node) | ${r.suppressed} |`);
lines.push(`| canary leak detected (LeakSanitizer active at node's exit) | ${r.canaryLeaks > 0 ? 'yes' : 'NO'} |`);
lines.push('');
if (jest.failures.length) {
  lines.push('Failed tests (a failure here is not a memory error unless a report below says so: the sanitized addon',
    'runs 2-3 times slower, and some tests bound timings, retransmissions or RSS, which ASan\'s quarantine raises;',
    'compare with `npm test`):', '', ...jest.failures.map((f) => `- ${f}`), '');
}
for (const e of asanOurs) lines.push(`ASan: ${e.what}`, '', '```', ...e.stack, '```', '');
for (const l of r.leaks.ours) lines.push(`Leak: ${l.head}`, '', '```', ...l.stack, '```', '');
if (ubOurs.length) lines.push('UBSan in our code:', '', ...uniq(ubOurs).map((u) => `- ${u}`), '');
if (ubThird.length) lines.push('UBSan in third-party sources (upstream idioms, not ours to fix unless they matter):', '', ...uniq(ubThird).map((u) => `- ${u}`), '');
lines.push('## valgrind memcheck, traffic script', '');
if (vg.status === 'done') {
  lines.push('| what | count |', '|---|---|');
  lines.push(`| script | ${vg.traffic} |`);
  lines.push(`| memcheck errors in our code | ${vg.errorsOurs} |`);
  lines.push(`| memcheck error reports attributed elsewhere (V8's JIT code, Node) | ${vg.errorsRuntime} |`);
  lines.push(`| definitely/indirectly lost in our code | ${vg.definitelyLostOurs} |`);
  lines.push(`| definitely/indirectly lost elsewhere | ${vg.definitelyLostRuntime} |`);
  lines.push(`| valgrind | ${vg.summary}; ${vg.leakSummary} |`, '');
  for (const b of vg.oursErrors) lines.push('```', b, '```', '');
} else {
  lines.push('Not run (valgrind not installed, or --no-valgrind).', '');
}
fs.writeFileSync(resultsFile, lines.join('\n'));
const bad = !jest.success || asanOurs.length || ubOurs.length || r.leaks.ours.length || !(r.canaryLeaks > 0) ||
  (vg.status === 'done' && vg.oursErrors.length);
console.log(`\n== sanitize summary
tests: ${jest.passed} passed, ${jest.failed} failed, ${jest.skipped} skipped (${jest.suites} suites, addon ${jest.addon})
ASan errors: ${asanOurs.length} in our code, ${r.asanErrors.length - asanOurs.length} elsewhere
UBSan reports: ${ubOurs.length} in our code, ${ubThird.length} in third-party sources, ${ubRuntime.length} elsewhere
leaks in our code: ${r.leaks.ours.length} (V8/Node: ${r.suppressed} suppressed, ${r.leaks.runtime} left; canary ${r.canaryLeaks > 0 ? 'detected' : 'NOT detected'})
valgrind: ${vg.status === 'done' ? `${vg.oursErrors.length} errors/leaks in our code; ${vg.summary}; ${vg.traffic}` : 'not run'}
written: ${path.relative(process.cwd(), resultsFile)}`);
process.exit(bad ? 1 : 0);
EOF
