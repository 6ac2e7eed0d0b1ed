#!/usr/bin/env bash
# Stress build: 100,000 generated pages with 5,000 keywords; prints wall time and peak memory.
# Usage: scripts/stress.sh [PAGES]  (default 100000; corpus on /dev/shm, deleted afterwards)
set -euo pipefail
cd "$(dirname "$0")/.."
pages=${1:-100000}
work=$(mktemp -d /dev/shm/ww-stress-XXXX)
trap 'rm -rf "$work"' EXIT
cargo build --release -q
python3 bench/gen_corpus.py --pages "$pages" --seed 7 --out "$work/corpus" >/dev/null
# The search index is measured separately (README); this is the site build itself.
/usr/bin/time -f "stress: %e s wall, %M KB peak" \
  target/release/wegweiser build --root "$work/corpus/wegweiser" --output-dir "$work/out"
