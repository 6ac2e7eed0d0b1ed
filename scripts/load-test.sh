#!/usr/bin/env bash
# Load test of the dev server on loopback: wrk against a page and a keyword page, then
# path-traversal probes; asserts no failed request and that the server is still alive.
# Bounded: two 15 s wrk runs and 200 probes. Usage: scripts/load-test.sh [ROOT]
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-.}
command -v wrk >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release -q
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
target/release/wegweiser serve --root "$root" --port "$port" >"$log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 1 100); do grep -q "serving on" "$log" && break; sleep 0.2; done
base=$(grep -o "http://127.0.0.1:$port[^ ]*" "$log" | head -1)
fail=0
for url in "$base" "${base}suchworte/"; do
  out=$(wrk -t2 -c32 -d15s --timeout 5s "$url")
  echo "$out" | grep -E "Requests/sec|requests in"
  if echo "$out" | grep -qE "Non-2xx|Socket errors"; then echo "$out"; fail=1; fi
done
for i in $(seq 1 50); do
  for p in "/../etc/passwd" "/%2e%2e/etc/passwd" "/..%2fetc/passwd" "/%252e%252e/etc/passwd"; do
    body=$(curl -s "http://127.0.0.1:$port$p" || true)
    if echo "$body" | grep -q "root:"; then echo "traversal served $p"; fail=1; fi
  done
done
kill -0 $pid || { echo "server died"; fail=1; }
[ $fail -eq 0 ] && echo "load-test: 0 failed requests, 200 traversal probes refused, server alive"
exit $fail
