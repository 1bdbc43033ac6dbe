#!/usr/bin/env bash
# Coverage-guided fuzzing of godot-enet's own code paths (README "Fuzzing"):
#
#   enet_receive   ENet's whole receive path (pinned enet.c 2.1.2 + deps/enet/patches + our compressors)
#                  fed scripted datagrams, handshake first (libFuzzer, tools/fuzz/enet_receive_fuzz.c)
#   compressors    every decompressor on arbitrary input + compress/decompress round trips
#                  (libFuzzer, tools/fuzz/compressors_fuzz.c)
#   socket_layer   deps/enet/socket_layer.c on real loopback sockets: batched and plain receives of
#                  fuzzed datagram sizes, address formatting and literal-only resolution
#                  (libFuzzer, tools/fuzz/socket_layer_fuzz.c)
#   variant        decodeVariant (src/variant/marshalls.ts)            } coverage-guided loops on V8's block
#   scene          SceneMultiplayer's receive path (src/multiplayer/) } coverage (tools/fuzz/js-fuzz.js, with
#                  fed packet sequences through an in-memory peer     } variant-target.js and scene-target.ts)
#
# The C targets are built with clang -fsanitize=fuzzer,address,undefined into build/fuzz/ (Debian:
# apt-get install clang libclang-rt-14-dev zlib1g-dev). Each target runs for the time budget with
# its seed corpus (tools/fuzz/corpus/<target>/, regenerated for enet_receive by enet_seedgen), and the
# corpus it grows lives in build/fuzz/corpus/<target>/ (kept between runs, never committed).
#
#   tools/fuzz/run.sh [--seconds N] [--no-build] [--no-workarounds] [--repro] [--results FILE] [target ...]
#
# --repro replays the reproducers of the bugs fuzzing found (tools/fuzz/repro/<target>-*) instead of
# fuzzing: each must pass once its bug is fixed (with the workarounds, or by deps/enet/patches);
# --no-workarounds --repro shows the bugs that are not fixed in deps/enet/patches yet.
#
# Prints, per target: executions, coverage (libFuzzer's cov: edges and ft: features; for the JS targets,
# V8 blocks and features), corpus size, crashes, peak RSS; writes them to tools/fuzz/results.md
# (or FILE). Exit status 1 if any target crashed (its reproducer is in build/fuzz/crashes/<target>/).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HERE="$ROOT/tools/fuzz"
OUT="$ROOT/build/fuzz"
SECONDS_EACH=60
BUILD=1
WORKAROUNDS=1
REPRO=0
RESULTS="$HERE/results.md"
TARGETS=()

while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_EACH="$2"; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --no-workarounds) WORKAROUNDS=0; shift ;;
    --repro) REPRO=1; shift ;;
    --results) RESULTS="$2"; shift 2 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    enet_receive|compressors|socket_layer|variant|scene) TARGETS+=("$1"); shift ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(enet_receive compressors socket_layer variant scene)
JS_TARGETS=" variant scene "

# The JS targets need only Node; clang only when a C target is asked for.
NEED_C=0
for t in "${TARGETS[@]}"; do [[ "$JS_TARGETS" == *" $t "* ]] || NEED_C=1; done
CC="${CC:-clang}"
if [ "$NEED_C" = 1 ] && ! command -v "$CC" >/dev/null; then
  echo "run.sh: $CC not found; install it with: apt-get install clang libclang-rt-14-dev zlib1g-dev" >&2
  exit 2
fi

PREPARED="$OUT/prepared"
ZSTD_LIB="$PREPARED/zstd/lib"
ZSTD_SOURCES=(common/debug.c common/entropy_common.c common/error_private.c common/fse_decompress.c common/xxhash.c
  common/zstd_common.c compress/fse_compress.c compress/hist.c compress/huf_compress.c compress/zstd_compress.c
  compress/zstd_compress_literals.c compress/zstd_compress_sequences.c compress/zstd_compress_superblock.c
  compress/zstd_double_fast.c compress/zstd_fast.c compress/zstd_lazy.c compress/zstd_ldm.c compress/zstd_opt.c
  compress/zstd_preSplit.c decompress/huf_decompress.c decompress/zstd_ddict.c decompress/zstd_decompress.c
  decompress/zstd_decompress_block.c)
SAN=(-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
ENET_INC=(-I"$ROOT/deps/enet" -I"$PREPARED/zpl")

# compile <flavour: fuzz|plain> <source> <object> [flags...]; skipped when the object is newer than
# its source and the headers it may include.
compile() {
  local flavour="$1" source="$2" object="$3"; shift 3
  local extra=(-fsanitize=fuzzer-no-link)
  [ "$flavour" = plain ] && extra=()
  local command="$CC ${SAN[*]} ${extra[*]} $* -c $source -o $object"
  if [ -f "$object" ] && [ "$object" -nt "$source" ] && [ "$object" -nt "$HERE/fake_net.h" ] \
     && [ "$object" -nt "$ROOT/deps/enet/compressors.h" ] && [ "$object" -nt "$PREPARED/zpl/enet.h" ] && [ "$object" -nt "$HERE/ubsan-ignore.txt" ] \
     && [ "$(cat "$object.cmd" 2>/dev/null)" = "$command" ]; then
    return 0
  fi
  mkdir -p "$(dirname "$object")"
  "$CC" "${SAN[@]}" "${extra[@]}" "$@" -c "$source" -o "$object"
  echo "$command" >"$object.cmd"
}

# run_jobs <job>...: each job is "flavour source object flags..." (word-split), run nproc at a time.
run_jobs() {
  local running=0 failed=0 job
  for job in "$@"; do
    # shellcheck disable=SC2086
    compile $job &
    running=$((running + 1))
    if [ "$running" -ge "$(nproc)" ]; then
      wait -n || failed=1
      running=$((running - 1))
    fi
  done
  while [ "$running" -gt 0 ]; do
    wait -n || failed=1
    running=$((running - 1))
  done
  [ "$failed" = 0 ] || { echo "run.sh: compilation failed" >&2; exit 1; }
}

# The pinned sources with our patches (deps/enet/prepare.js), then tools/fuzz/workarounds/*.patch on
# top (fixes for bugs fuzzing found that deps/enet/patches does not have yet, so fuzzing can go past
# them; --no-workarounds leaves them out to reproduce those bugs). Files whose content did not change
# keep their timestamps, so nothing is recompiled needlessly.
prepare_sources() {
  node "$ROOT/deps/enet/prepare.js" "$OUT/pristine"
  rm -rf "$OUT/staged"
  cp -r "$OUT/pristine" "$OUT/staged"
  if [ "$WORKAROUNDS" = 1 ]; then
    for p in "$HERE"/workarounds/*.patch; do
      [ -f "$p" ] || continue
      if patch --dry-run --forward --silent "$OUT/staged/zpl/enet.h" <"$p" >/dev/null 2>&1; then
        patch --forward --silent "$OUT/staged/zpl/enet.h" <"$p"
        echo "   workaround applied to the fuzz build: ${p#$ROOT/}"
      else
        echo "   workaround no longer applies (fixed in deps/enet/patches?), skipped: ${p#$ROOT/}"
      fi
    done
  fi
  (cd "$OUT/staged" && find . -type f) | while read -r f; do
    if ! cmp -s "$OUT/staged/$f" "$PREPARED/$f"; then
      mkdir -p "$(dirname "$PREPARED/$f")"
      cp "$OUT/staged/$f" "$PREPARED/$f"
    fi
  done
}

build() {
  echo "== building into $OUT"
  mkdir -p "$OUT/bin"
  prepare_sources
  local jobs=()
  for flavour in fuzz plain; do
    local o="$OUT/obj-$flavour"
    # Third-party code: ENet (the patched header, through our fuzz TU), zstd, the range coder.
    # ubsan-ignore.txt: ENet idioms that are formally UB and harmless (see that file); ASan still checks them.
    jobs+=("$flavour $HERE/enet_fuzz_impl.c $o/enet_fuzz_impl.o ${ENET_INC[*]} -w -fsanitize-ignorelist=$HERE/ubsan-ignore.txt")
    jobs+=("$flavour $PREPARED/range-coder/compress.c $o/range_coder.o -I$PREPARED/range-coder -w -fno-sanitize=shift")
    for s in "${ZSTD_SOURCES[@]}"; do
      jobs+=("$flavour $ZSTD_LIB/$s $o/zstd_$(basename "$s" .c).o -DZSTD_DISABLE_ASM=1 -DZSTD_LEGACY_SUPPORT=0 -DZSTD_NO_TRACE=1 -w")
    done
    # Ours.
    jobs+=("$flavour $ROOT/deps/enet/compressors.c $o/compressors.o ${ENET_INC[*]} -I$ZSTD_LIB -Wall -Wextra -Werror")
    jobs+=("$flavour $HERE/fake_net.c $o/fake_net.o ${ENET_INC[*]} -Wall -Wextra -Werror")
  done
  jobs+=("fuzz $ROOT/deps/enet/socket_layer.c $OUT/obj-fuzz/socket_layer.o ${ENET_INC[*]} -Wall -Wextra -Werror")
  for t in enet_receive_fuzz compressors_fuzz socket_layer_fuzz; do
    jobs+=("fuzz $HERE/$t.c $OUT/obj-fuzz/$t.o ${ENET_INC[*]} -I$ZSTD_LIB -Wall -Wextra -Werror")
  done
  jobs+=("plain $HERE/enet_seedgen.c $OUT/obj-plain/enet_seedgen.o ${ENET_INC[*]} -Wall -Wextra -Werror")
  jobs+=("plain $HERE/enet_receive_fuzz.c $OUT/obj-plain/enet_receive_fuzz.o ${ENET_INC[*]} -Wall -Wextra -Werror")
  jobs+=("plain $HERE/replay_main.c $OUT/obj-plain/replay_main.o -Wall -Wextra -Werror")
  run_jobs "${jobs[@]}"

  local f="$OUT/obj-fuzz" p="$OUT/obj-plain"
  local codecs_f=("$f/compressors.o" "$f/range_coder.o" "$f"/zstd_*.o)
  local codecs_p=("$p/compressors.o" "$p/range_coder.o" "$p"/zstd_*.o)
  "$CC" "${SAN[@]}" -fsanitize=fuzzer "$f/enet_receive_fuzz.o" "$f/fake_net.o" "$f/enet_fuzz_impl.o" "${codecs_f[@]}" \
    -o "$OUT/bin/enet_receive_fuzz" -lz
  "$CC" "${SAN[@]}" -fsanitize=fuzzer "$f/compressors_fuzz.o" "$f/enet_fuzz_impl.o" "${codecs_f[@]}" \
    -o "$OUT/bin/compressors_fuzz" -lz
  # getaddrinfo is wrapped so that godot_enet_resolve only ever parses literals (no DNS, ever).
  "$CC" "${SAN[@]}" -fsanitize=fuzzer "$f/socket_layer_fuzz.o" "$f/socket_layer.o" \
    -Wl,--wrap=getaddrinfo -o "$OUT/bin/socket_layer_fuzz"
  "$CC" "${SAN[@]}" "$p/enet_seedgen.o" "$p/fake_net.o" "$p/enet_fuzz_impl.o" "${codecs_p[@]}" \
    -o "$OUT/bin/enet_seedgen" -lz
  # The same target without libFuzzer, to replay files (reproducers, corpora) with sanitizers only.
  "$CC" "${SAN[@]}" "$p/replay_main.o" "$p/enet_receive_fuzz.o" "$p/fake_net.o" "$p/enet_fuzz_impl.o" "${codecs_p[@]}" \
    -o "$OUT/bin/enet_receive_replay" -lz
  # The seed corpora are generated (enet_receive's checked to replay), not hand-written. Without the
  # workarounds the generator's own traffic trips the bugs they cover, so the committed seeds stay.
  if [ "$WORKAROUNDS" = 0 ]; then
    echo "   --no-workarounds: seed corpora not regenerated"
    return 0
  fi
  for t in enet_receive compressors socket_layer; do
    rm -rf "$HERE/corpus/$t"
    mkdir -p "$HERE/corpus/$t"
  done
  ASAN_OPTIONS=detect_leaks=1 "$OUT/bin/enet_seedgen" "$HERE/corpus/enet_receive" "$HERE/corpus/compressors" \
    "$HERE/corpus/socket_layer" >/dev/null
}

# The JS targets' seeds (generated, never committed). decodeVariant comes from the compiled TypeScript;
# the scene target runs src/ through tools/ts-run.js.
build_js() {
  (cd "$ROOT" && npx tsc -p tsconfig.json)
  for t in $JS_TARGETS; do
    rm -rf "$HERE/corpus/$t"
    node "$HERE/js-fuzz.js" "$t" --make-seeds "$HERE/corpus/$t" >/dev/null
  done
}

if [ "$BUILD" = 1 ]; then
  [ "$NEED_C" = 1 ] && build
  build_js
fi

if [ "$REPRO" = 1 ]; then
  mkdir -p "$OUT/logs"
  failed=0
  for f in "$HERE"/repro/*; do
    name="$(basename "$f")"
    target="${name%%-*}"
    [[ " ${TARGETS[*]} " == *" $target "* ]] || continue
    if [[ "$JS_TARGETS" == *" $target "* ]]; then
      replay=(node "$HERE/js-fuzz.js" "$target" --replay "$f")
    elif [ -x "$OUT/bin/${target}_fuzz" ]; then
      replay=("$OUT/bin/${target}_fuzz" "$f")
    else
      continue
    fi
    if ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
       "${replay[@]}" >"$OUT/logs/repro-$name.log" 2>&1; then
      echo "pass  $name"
    else
      echo "FAIL  $name: $(grep -m1 -E 'ERROR: |runtime error:|invariant broken|CRASH: ' "$OUT/logs/repro-$name.log" | sed 's/^.*ERROR: //')"
      failed=1
    fi
  done
  exit $failed
fi

# peak_rss <log>: libFuzzer prints "rss: NNNMb" on its status lines.
declare -A EXECS COV FT CORPUS CRASHES RSS NOTES
run_libfuzzer() {
  local target="$1" binary="$OUT/bin/${1}_fuzz"
  local corpus="$OUT/corpus/$target" seeds="$HERE/corpus/$target" crashes="$OUT/crashes/$target"
  local log="$OUT/logs/$target.log"
  mkdir -p "$corpus" "$crashes" "$OUT/logs"
  echo "== $target: ${SECONDS_EACH}s"
  local status=0
  ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1:${ASAN_OPTIONS:-}" \
  UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
    "$binary" "$corpus" "$seeds" -max_total_time="$SECONDS_EACH" -max_len=131072 -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1 || status=$?
  EXECS[$target]=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | awk '{s+=$2} END {print s+0}' || true)
  local last
  last=$(grep -E '#[0-9]+.*cov: ' "$log" | tail -1 || true)
  COV[$target]=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' <<<"$last")
  FT[$target]=$(sed -n 's/.*ft: \([0-9]*\).*/\1/p' <<<"$last")
  CORPUS[$target]=$(sed -n 's/.*corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
  RSS[$target]=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | awk '{if ($2>m) m=$2} END {print m+0}' || true)MB
  local n
  n=$(find "$crashes" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  CRASHES[$target]=$n
  [ "$status" -ne 0 ] && [ "$n" -eq 0 ] && NOTES[$target]="exit status $status, see $log"
  [ "$n" -ne 0 ] && NOTES[$target]="reproducers in ${crashes#$ROOT/}, log ${log#$ROOT/}"
  return 0
}

run_js() {
  local target="$1" log="$OUT/logs/$1.log" json="$OUT/logs/$1.json"
  mkdir -p "$OUT/logs" "$OUT/corpus/$target" "$OUT/crashes/$target"
  echo "== $target: ${SECONDS_EACH}s"
  local status=0
  rm -f "$json"
  node "$HERE/js-fuzz.js" "$target" --seconds "$SECONDS_EACH" --corpus "$OUT/corpus/$target" --seeds "$HERE/corpus/$target" \
    --crashes "$OUT/crashes/$target" --json "$json" >"$log" 2>&1 || status=$?
  if [ -f "$json" ]; then
    EXECS[$target]=$(node -p "require('$json').executions")
    COV[$target]=$(node -p "const j=require('$json'); j.blocksCovered + '/' + j.blocksTotal + ' blocks'")
    FT[$target]=$(node -p "require('$json').features")
    CORPUS[$target]=$(node -p "require('$json').corpus")
    RSS[$target]=$(node -p "require('$json').peakRssMb")MB
    CRASHES[$target]=$(node -p "require('$json').crashes")
    # The scene target's own figures: packets fed and what became of them.
    NOTES[$target]=$(node -p "const j=require('$json'); j.packets === undefined ? '' : j.inputs + ' sessions, ' + j.packets + ' packets: ' +
      j.packetsDropped + ' dropped and counted, ' + j.packetsDelivered + ' delivered, ' + j.packetsSilentlyAccepted + ' legitimately silent; ' +
      j.handlerCalls + ' RPC handler calls'")
  else
    CRASHES[$target]="?"
  fi
  [ "$status" -ne 0 ] && NOTES[$target]="${NOTES[$target]:-} exit status $status, see ${log#$ROOT/}"
  return 0
}

for t in "${TARGETS[@]}"; do
  if [[ "$JS_TARGETS" == *" $t "* ]]; then run_js "$t"; else run_libfuzzer "$t"; fi
done

# Rows of targets not run this time are kept from the previous results (each row has its own date).
# So are the notes written below the table.
declare -A KEPT
notes=""
if [ -f "$RESULTS" ]; then
  in_table=0
  while IFS= read -r line; do
    if [[ "$line" == "|"* ]]; then
      in_table=1
      t=$(sed -n 's/^| \([a-z_]*\) | .*/\1/p' <<<"$line")
      [ -n "$t" ] && [ "$t" != target ] && [[ " ${TARGETS[*]} " != *" $t "* ]] && KEPT[$t]="$line"
    elif [ "$in_table" = 1 ]; then
      notes+="$line"$'\n'
    fi
  done <"$RESULTS"
fi
clang_version=$([ "$NEED_C" = 1 ] && "$CC" --version | head -1 || echo "no C targets")
today=$(date -u +%Y-%m-%d)
{
  echo "# Fuzzing results"
  echo
  echo "Written by \`tools/fuzz/run.sh --seconds $SECONDS_EACH ${TARGETS[*]}\` on $today ($(nproc) cores, $clang_version, Node $(node --version));"
  echo "rows of other targets are kept from earlier runs (the date column says when each ran)."
  echo "Coverage: libFuzzer's \`cov\` (instrumented edges reached) and \`ft\` (features: edges with hit-count buckets);"
  echo "for \`variant\`, V8 block coverage of dist/variant/marshalls.js + dist/variant/types.js (blocks reached / blocks seen) and features;"
  echo "for \`scene\`, the same of src/multiplayer/{SceneMultiplayer,SceneCache,SceneRPC,NetworkNode,rpc-config,protocol}.ts + src/variant/{marshalls,typed,types}.ts."
  echo
  echo "| target | date | seconds | executions | coverage | features | corpus | crashes | peak RSS | notes |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for t in enet_receive compressors socket_layer $JS_TARGETS; do
    if [[ " ${TARGETS[*]} " == *" $t "* ]]; then
      echo "| $t | $today | $SECONDS_EACH | ${EXECS[$t]:-?} | ${COV[$t]:-?} | ${FT[$t]:-?} | ${CORPUS[$t]:-?} | ${CRASHES[$t]:-?} | ${RSS[$t]:-?} | ${NOTES[$t]:-} |"
    elif [ -n "${KEPT[$t]:-}" ]; then
      echo "${KEPT[$t]}"
    fi
  done
  printf '%s' "$notes"
} >"$RESULTS"
cat "$RESULTS"

fail=0
for t in "${TARGETS[@]}"; do
  [ "${CRASHES[$t]:-0}" != 0 ] && fail=1
done
exit $fail
