#!/usr/bin/env bash
# Fuzzes wegweiser's input handling with cargo-fuzz (libFuzzer), each target for a fixed time.
#
#   scripts/fuzz.sh                    # every target, 60 s each
#   scripts/fuzz.sh slug links         # only these targets
#   FUZZ_SECONDS=600 scripts/fuzz.sh   # longer
#
# Targets (fuzz/fuzz_targets/): front_matter (split + parse a whole content file), markdown
# (render any text), slug (slugify, with property checks), links (resolve any destination),
# templates (any text as site templates: load them and render a tiny site).
#
# Environment:
#   FUZZ_SECONDS=60     seconds per target
#   FUZZ_TIMEOUT=5      seconds one input may take before it counts as a hang (a crash)
#   FUZZ_RSS_MB=2048    memory limit of the fuzzing process (an excess counts as a crash)
#   FUZZ_LOG_DIR=DIR    keep libFuzzer's full output there (default: a temporary folder)
#
# Runs on a stable toolchain: `-s none` (no sanitizer: AddressSanitizer needs nightly's
# -Zsanitizer, and the code fuzzed is safe Rust), `-a` (debug assertions and overflow checks).
# The corpus grows in fuzz/corpus/TARGET (git-ignored), seeded from fuzz/seeds/TARGET and, for
# front_matter and markdown, the portal's content/. A crash, hang or OOM stops that target and
# leaves its reproducer in fuzz/artifacts/TARGET/; replay it with
#   cd fuzz && cargo fuzz run -s none -a TARGET artifacts/TARGET/crash-…
#
# Prints one line per target, e.g. "front_matter: 123456 runs, 0 crashes".
# Exit code: 0 no crash, 1 at least one crash/hang/OOM, 2 usage or build error.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

SECONDS_PER=${FUZZ_SECONDS:-60}
TIMEOUT=${FUZZ_TIMEOUT:-5}
RSS_MB=${FUZZ_RSS_MB:-2048}
ALL=(front_matter markdown slug links templates)
if [ $# -gt 0 ]; then TARGETS=("$@"); else TARGETS=("${ALL[@]}"); fi
for t in "${TARGETS[@]}"; do
  [[ " ${ALL[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (targets: ${ALL[*]})" >&2; exit 2; }
done
[[ $SECONDS_PER =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: FUZZ_SECONDS must be a positive number" >&2; exit 2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked >&2 || { echo "fuzz.sh: cannot install cargo-fuzz" >&2; exit 2; }
fi

FLAGS=(-s none -a)
# A panic's stack goes into the log (without a sanitizer libFuzzer prints none of its own).
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}
echo "fuzz.sh: building the fuzz targets (cargo fuzz build ${FLAGS[*]})" >&2
(cd fuzz && cargo fuzz build "${FLAGS[@]}") || { echo "fuzz.sh: build failed" >&2; exit 2; }

LOGS=${FUZZ_LOG_DIR:-$(mktemp -d /tmp/wegweiser-fuzz-XXXXXX)}
mkdir -p "$LOGS"
failed=0
summary=()
for t in "${TARGETS[@]}"; do
  corpus="fuzz/corpus/$t"
  mkdir -p "$corpus" "fuzz/artifacts/$t"
  seeds=("$REPO/fuzz/seeds/$t")
  dict=()
  case $t in
    front_matter | markdown)
      seeds+=("$REPO/content")
      dict=("-dict=$REPO/fuzz/dicts/markdown.dict")
      ;;
    templates)
      seeds+=("$REPO/themes/default/templates" "$REPO/templates")
      dict=("-dict=$REPO/fuzz/dicts/tera.dict")
      ;;
  esac
  log="$LOGS/$t.log"
  echo "fuzz.sh: $t for ${SECONDS_PER} s (log: $log)" >&2
  set +e
  # The outer timeout is a safety net only: libFuzzer stops itself after max_total_time.
  (cd fuzz && timeout --kill-after=10 $((SECONDS_PER + 120)) \
    cargo fuzz run "${FLAGS[@]}" "$t" "$REPO/$corpus" "${seeds[@]}" -- \
    -max_total_time="$SECONDS_PER" -timeout="$TIMEOUT" -rss_limit_mb="$RSS_MB" \
    -print_final_stats=1 "${dict[@]}") >"$log" 2>&1
  rc=$?
  set -e
  runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  [ -n "$runs" ] || runs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')
  [ -n "$runs" ] || runs=0
  if [ $rc -eq 0 ]; then
    summary+=("$t: $runs runs, 0 crashes")
  else
    failed=1
    kind=$(grep -oE 'ERROR: libFuzzer: [a-z-]+|panicked at [^ ]+' "$log" | head -n 1 || true)
    artifact=$(grep -oE 'Test unit written to [^ ]+' "$log" | head -n 1 | sed 's/Test unit written to //' || true)
    summary+=("$t: $runs runs, 1 crash (exit $rc; ${kind:-see log}; reproducer: ${artifact:-none}; log: $log)")
    grep -E -m 1 -A 30 'panicked at|ERROR: libFuzzer' "$log" >&2 || tail -n 30 "$log" >&2
  fi
done

printf '%s\n' "${summary[@]}"
exit $failed
