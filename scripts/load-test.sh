#!/usr/bin/env bash
# Load test of the dev server (`wegweiser serve`) on loopback only.
#
#   scripts/load-test.sh              # serves a copy of this repository's portal
#   scripts/load-test.sh ROOT         # serves a copy of another site root
#
# 1. Copies the site (config.toml, content/, themes/, templates/, static/) to a temporary
#    folder, so edits to the working tree cannot trigger rebuilds during the test.
# 2. Starts target/release/wegweiser serve --bind 127.0.0.1 on a free port and waits until the
#    home page answers 200.
# 3. wrk -t2 -c32 -d15s --timeout 5s against the home page and against a keyword page; fails on
#    any socket error (connect/read/write/timeout) or non-2xx/3xx response.
# 4. 200 path-traversal requests with curl --path-as-is (/../, %2e%2e, ..%2f, %252e%252e,
#    backslashes, overlong UTF-8, NUL, …); fails if any answers 200 with content from outside
#    the site (/etc/passwd, the site's config.toml).
# 5. Checks the server still answers, then stops it (by its process id).
#
# Bounded: two wrk runs (WRK_SECONDS=15 each) and 200 probes of at most 5 s each.
# Environment: WRK_SECONDS=15, WRK_CONNECTIONS=32, WEGWEISER=PATH (skip the cargo build).
# Exit code: 0 all good, 1 a check failed, 2 the server did not start.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
SRC_ROOT=$(cd "${1:-$REPO}" && pwd)
DURATION=${WRK_SECONDS:-15}
CONNS=${WRK_CONNECTIONS:-32}
log() { printf '[load-test %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

if ! command -v wrk >/dev/null 2>&1; then
  log "installing wrk"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi
command -v curl >/dev/null 2>&1 || {
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
}
if [ -n "${WEGWEISER:-}" ]; then
  WW=$WEGWEISER
else
  log "cargo build --release"
  cargo build --release -q
  WW=$REPO/target/release/wegweiser
fi

WORK=$(mktemp -d /tmp/wegweiser-load-XXXXXX)
pid=
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

site=$WORK/site
mkdir -p "$site"
for item in config.toml content themes templates static; do
  [ -e "$SRC_ROOT/$item" ] && cp -r "$SRC_ROOT/$item" "$site/"
done

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$WW" serve --root "$site" --bind 127.0.0.1 --port "$port" >"$WORK/serve.log" 2>&1 &
pid=$!
base=
for _ in $(seq 1 300); do # at most 60 s
  base=$(grep -oE "http://127\.0\.0\.1:$port/[^ ]*" "$WORK/serve.log" | head -n 1 || true)
  if [ -n "$base" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base")" = 200 ]; then
    break
  fi
  base=
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$base" ]; then
  cat "$WORK/serve.log" >&2
  echo "load-test: the server did not answer on port $port" >&2
  exit 2
fi
prefix=${base#"http://127.0.0.1:$port"}
log "serving $site on $base (pid $pid)"

# A keyword page: the first keyword linked from the keyword index.
kw_path=$(sed -n '/^\[keywords\]/,/^\[/{s/^path *= *"\([^"]*\)".*/\1/p}' "$site/config.toml" | head -n 1)
kw_path=${kw_path:-suchworte}
kw_slug=$(curl -s --max-time 5 "$base$kw_path/" | grep -oE "href=\"[^\"]*/$kw_path/[a-z0-9-]+/\"" | head -n 1 |
  sed -E "s#.*/$kw_path/([a-z0-9-]+)/\"#\1#" || true)
[ -n "$kw_slug" ] || { echo "load-test: no keyword page found under $base$kw_path/" >&2; exit 1; }
kw_url="$base$kw_path/$kw_slug/"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$kw_url")" = 200 ] ||
  { echo "load-test: $kw_url does not answer 200" >&2; exit 1; }

fail=0
results=()
for url in "$base" "$kw_url"; do
  log "wrk -t2 -c$CONNS -d${DURATION}s --timeout 5s $url"
  out=$(wrk -t2 -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency "$url" 2>&1) || true
  echo "$out" >&2
  rps=$(echo "$out" | sed -n 's/^Requests\/sec: *//p')
  total=$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
  p99=$(echo "$out" | awk '$1 == "99%" { print $2 }')
  sock=$(echo "$out" | grep -E 'Socket errors' || true)
  non2xx=$(echo "$out" | grep -E 'Non-2xx or 3xx responses' || true)
  if [ -z "$rps" ] || [ -z "$total" ] || [ "$total" -eq 0 ]; then
    echo "load-test: wrk did not run against $url" >&2
    fail=1
  fi
  if [ -n "$sock" ] || [ -n "$non2xx" ]; then
    echo "load-test: FAILED $url: ${sock:-} ${non2xx:-}" >&2
    fail=1
  fi
  results+=("$url: $total requests, ${rps} requests/s, p99 latency ${p99:-?}, ${sock:-0 socket errors}, ${non2xx:-0 non-2xx/3xx}")
done

# Path traversal: 20 forms x 10 rounds = 200 requests; none may leak anything outside the site.
p=$prefix
probes=(
  "/../etc/passwd"
  "${p}../../etc/passwd"
  "${p}../config.toml"
  "/%2e%2e/etc/passwd"
  "${p}%2e%2e/%2e%2e/etc/passwd"
  "${p}%2e%2e/config.toml"
  "${p}%2E%2E%2Fconfig.toml"
  "/..%2fetc%2fpasswd"
  "${p}..%2f..%2fetc%2fpasswd"
  "${p}..%2fconfig.toml"
  "/%252e%252e/etc/passwd"
  "${p}%252e%252e/%252e%252e/etc/passwd"
  "${p}%252e%252e%252fconfig.toml"
  "${p}..%5c..%5cetc%5cpasswd"
  "${p}.%2e/config.toml"
  "${p}%c0%ae%c0%ae/config.toml"
  "${p}%00/../config.toml"
  "${p}./../config.toml"
  "//etc/passwd"
  "${p}.well-known/../../config.toml"
)
declare -A codes=()
leaks=0
for round in $(seq 1 10); do
  for probe in "${probes[@]}"; do
    code=$(curl -s --path-as-is --max-time 5 -o "$WORK/body" -w '%{http_code}' "http://127.0.0.1:$port$probe" || echo 000)
    codes[$code]=$((${codes[$code]:-0} + 1))
    if [ "$code" = 200 ] && grep -qE '^root:|^default_target|^\[targets\.|^base_url *=' "$WORK/body"; then
      [ "$round" = 1 ] && echo "load-test: LEAK $probe answered 200 with content outside the site" >&2
      leaks=$((leaks + 1))
      fail=1
    fi
  done
done
histogram=$(for c in "${!codes[@]}"; do printf '%s x%s, ' "$c" "${codes[$c]}"; done)
results+=("path traversal: 200 requests, status ${histogram%, }; $leaks leaked content outside the site")

if kill -0 "$pid" 2>/dev/null &&
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base")" = 200 ]; then
  results+=("server still alive after the test")
else
  results+=("server DIED or stopped answering")
  fail=1
fi
kill "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
pid=
if grep -q 'panicked' "$WORK/serve.log"; then
  grep -A 5 'panicked' "$WORK/serve.log" >&2
  results+=("the server's log shows a panic")
  fail=1
fi

printf 'load-test: %s\n' "${results[@]}"
if [ $fail -eq 0 ]; then echo "load-test: passed"; else echo "load-test: FAILED"; fi
exit $fail
