#!/usr/bin/env bash
# Stress build: a generated corpus of 100,000 pages with 5,000 keywords (bench/gen_corpus.py
# writes N/20 keywords), built once with target/release/wegweiser under GNU time; reports wall
# time and peak memory and fails on any build error. The corpus is deleted afterwards.
#
#   scripts/stress.sh            # 100000 pages
#   scripts/stress.sh 20000      # another size
#
# Environment:
#   STRESS_SEED=42        corpus seed
#   STRESS_DIR=DIR        parent folder of the work folder (default: /dev/shm if it has room,
#                         else /tmp; tmpfs counts against the machine's memory, so room means
#                         the corpus and output fit *and* 8 GiB of memory stay available)
#   STRESS_TIMEOUT=1800   seconds the build may take
#   STRESS_SEARCH=1       also build the search index (search = true; off by default, as in
#                         bench/run.sh, which measures the index separately)
#   STRESS_KEEP=1         keep the work folder
#   WEGWEISER=PATH        use this binary instead of building target/release/wegweiser
#
# Exit code: 0 the build succeeded; 1 it failed, timed out or the corpus is not as expected;
# 2 usage error or no room.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

PAGES=${1:-100000}
[[ $PAGES =~ ^[1-9][0-9]*$ ]] || { echo "stress.sh: pages must be a positive number, got '$PAGES'" >&2; exit 2; }
SEED=${STRESS_SEED:-42}
TIMEOUT=${STRESS_TIMEOUT:-1800}
log() { printf '[stress %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

if [ ! -x /usr/bin/time ]; then
  log "installing GNU time (/usr/bin/time)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi

# --- room -------------------------------------------------------------------------------------
# Measured at 100,000 pages: corpus 0.8 GiB (plus as much for the generator's Hugo copy, deleted
# right after generating), output 1.9 GiB. Budget 48 KiB a page plus 1 GiB.
need_kb=$((PAGES * 48 + 1024 * 1024))
free_kb() { df -Pk "$1" | awk 'NR == 2 { print $4 }'; }
mem_avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
if [ -n "${STRESS_DIR:-}" ]; then
  parent=$STRESS_DIR
elif [ -d /dev/shm ] && [ "$(free_kb /dev/shm)" -ge "$need_kb" ] &&
  [ $((mem_avail_kb - need_kb)) -ge $((8 * 1024 * 1024)) ]; then
  parent=/dev/shm
else
  parent=/tmp
fi
log "$(df -h "$parent" | awk 'NR == 2 { print $6 ": " $4 " free of " $2 }'), memory available: $((mem_avail_kb / 1024)) MiB, need ~$((need_kb / 1024)) MiB"
if [ "$(free_kb "$parent")" -lt "$need_kb" ]; then
  echo "stress.sh: not enough room in $parent (need ~$((need_kb / 1024)) MiB)" >&2
  exit 2
fi
WORK=$(mktemp -d "$parent/wegweiser-stress-XXXXXX")
cleanup() {
  if [ "${STRESS_KEEP:-0}" = 1 ]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# --- binary -----------------------------------------------------------------------------------
if [ -n "${WEGWEISER:-}" ]; then
  WW=$WEGWEISER
else
  log "cargo build --release"
  cargo build --release -q
  WW=$REPO/target/release/wegweiser
fi

# --- corpus -----------------------------------------------------------------------------------
log "generating $PAGES pages (seed $SEED) in $WORK"
gen=$(python3 bench/gen_corpus.py --pages "$PAGES" --seed "$SEED" --out "$WORK/corpus")
echo "$gen" >&2
rm -rf "$WORK/corpus/hugo"
want_kw=$((PAGES / 20 > 5 ? PAGES / 20 : 5))
got_kw=$(echo "$gen" | sed -n 's/.* \([0-9]*\) keywords,.*/\1/p')
files=$(find "$WORK/corpus/wegweiser/content" -name '*.md' | wc -l)
[ "$got_kw" = "$want_kw" ] || { echo "stress.sh: corpus has '$got_kw' keywords, expected $want_kw" >&2; exit 1; }
log "corpus: $files Markdown files, $got_kw keywords, $(du -sh "$WORK/corpus/wegweiser/content" | cut -f1)"
if [ "${STRESS_SEARCH:-0}" = 1 ]; then
  sed -i 's/^search = false$/search = true/' "$WORK/corpus/wegweiser/config.toml"
fi

# --- build ------------------------------------------------------------------------------------
log "building (timeout ${TIMEOUT} s)"
set +e
/usr/bin/time -o "$WORK/time" -f "%e %M %U %S" timeout "$TIMEOUT" \
  "$WW" build --root "$WORK/corpus/wegweiser" --output-dir "$WORK/out" --timings >"$WORK/build.log" 2>&1
rc=$?
set -e
if [ $rc -ne 0 ]; then
  tail -n 30 "$WORK/build.log" >&2
  [ $rc -eq 124 ] && echo "stress.sh: build timed out after ${TIMEOUT} s" >&2
  echo "stress.sh: build failed (exit $rc)" >&2
  exit 1
fi
cat "$WORK/build.log" >&2
read -r wall peak_kb user sys < <(tail -n 1 "$WORK/time")
built=$(grep -E '^built ' "$WORK/build.log" | tail -n 1)
kw_pages=$(find "$WORK/out/suchworte" -mindepth 2 -maxdepth 2 -name index.html 2>/dev/null | wc -l)
html=$(find "$WORK/out" -name '*.html' | wc -l)
out_size=$(du -sh "$WORK/out" | cut -f1)
# Every keyword of the corpus has its page (the keyword pages sit in suchworte/SLUG/).
if [ "$kw_pages" -lt "$want_kw" ]; then
  echo "stress.sh: only $kw_pages keyword pages for $want_kw keywords" >&2
  exit 1
fi
echo "stress: $PAGES pages, $got_kw keywords on $parent: ${wall} s wall (${user} s user, ${sys} s sys), peak $((peak_kb / 1024)) MiB (${peak_kb} KB); $built; $html HTML files, $kw_pages keyword pages, output $out_size"
