#!/usr/bin/env bash
# The Node suite. End-to-end Apollo Federation v2 test: Concord + the small
# headcount subgraph (headcount.mjs), composed with @apollo/composition and
# served through @apollo/gateway; one query needs both subgraphs. Then
# GraphQL subscriptions over WebSocket with a graphql-ws client
# (subscriptions.mjs). Run from anywhere:
#   bash tests/federation/run.sh
# Needs Node 20+ and npm and cargo, unless CONCORD_BIN points at a built
# `concord`. Without Node it says "skipped" and exits 0, except under
# CI=true, where it fails.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite=federation
ci_note="CI=true: the Node suite must run"
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"

no_node() {
  cat <<'EOF'
The Node suite (federation and subscriptions) needs Node.js 20 or newer, with npm. To install Node 20:
  - Debian/Ubuntu: curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash - && sudo apt-get install -y nodejs
  - or nvm:        nvm install 20 && nvm use 20
  - or download:   https://nodejs.org/en/download
Then run: bash tests/federation/run.sh
EOF
  unavailable "$1"
}
require_node no_node

tmp="$(mktemp -d "${TMPDIR:-/tmp}/concord-federation.XXXXXX")"
pids=()
passed=0
failed=0
# check.mjs's two and subscriptions.mjs's four.
checks=6

show_logs() {
  local f
  for f in "$tmp"/*.log; do
    [ -s "$f" ] || continue
    echo "---- last lines of $(basename "$f") ----" >&2
    tail -n 40 "$f" >&2
  done
}

cleanup() {
  local status=$?
  local pid
  if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then show_logs; fi
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A setup step failed: every check counts as failed.
setup_failed() {
  echo "federation: setup failed: $*" >&2
  failed=$checks
  echo "federation: 0 passed, $checks failed"
  exit 1
}

# Wait until URL answers 200 (GET, or POST of BODY as JSON) while PID lives.
wait_http() {
  local what=$1 pid=$2 timeout=$3 url=$4 body=${5:-}
  local deadline=$((SECONDS + timeout))
  while :; do
    if node -e '
      const [url, body] = process.argv.slice(1);
      const init = body
        ? { method: "POST", headers: { "content-type": "application/json" }, body }
        : {};
      fetch(url, { ...init, signal: AbortSignal.timeout(2000) })
        .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));
    ' "$url" "$body"; then
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || setup_failed "$what exited before it was ready"
    [ "$SECONDS" -lt "$deadline" ] || setup_failed "$what not ready after ${timeout}s ($url)"
    sleep 0.3
  done
}

echo "federation: npm ci in tests/federation"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1 || setup_failed "npm ci"

find_concord setup_failed

# Three free loopback ports, held open together so they differ.
read -r concord_port headcount_port gateway_port < <(node -e '
  const net = require("net");
  const servers = [0, 1, 2].map(() => net.createServer());
  Promise.all(servers.map((s) => new Promise((ok) => s.listen(0, "127.0.0.1", ok)))).then(() => {
    console.log(servers.map((s) => s.address().port).join(" "));
    servers.forEach((s) => s.close());
  });
')
concord_url="http://127.0.0.1:$concord_port/graphql"
headcount_url="http://127.0.0.1:$headcount_port/"
gateway_url="http://127.0.0.1:$gateway_port/"
ping='{"query":"{ __typename }"}'

# One random HS256 secret for this run, shared by the server and the
# `concord token` calls that sign the subscription checks' tokens.
secret="$(node -p 'require("crypto").randomBytes(32).toString("hex")')"

# Concord on a fresh SQLite file: it migrates and seeds on first start. Its
# working directory is the temp dir, so no ./concord.toml is picked up.
(cd "$tmp" && CONCORD__AUTH__JWT_SECRET="$secret" exec "$bin" serve --bind "127.0.0.1:$concord_port" --database "sqlite://$tmp/c.db") \
  >"$tmp/concord.log" 2>&1 &
pids+=($!)
node "$here/headcount.mjs" "$headcount_port" >"$tmp/headcount.log" 2>&1 &
pids+=($!)
wait_http concord "${pids[0]}" 60 "http://127.0.0.1:$concord_port/readyz"
wait_http headcount "${pids[1]}" 30 "$headcount_url" "$ping"
echo "federation: concord on :$concord_port, headcount on :$headcount_port"

SUPERGRAPH_OUT="$tmp/supergraph.graphql" \
  node "$here/gateway.mjs" "$concord_url" "$headcount_url" "$gateway_port" >"$tmp/gateway.log" 2>&1 &
pids+=($!)
wait_http gateway "${pids[2]}" 30 "$gateway_url" "$ping"
grep -h '^composition' "$tmp/gateway.log" | sed 's/^/federation: /' || true

for check in "gateway $gateway_url" "entities $concord_url"; do
  # shellcheck disable=SC2086 # two words on purpose
  if node "$here/check.mjs" $check; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done

# Province admin tokens for the subscription checks, in the environment so
# that they stay off command lines.
token() {
  (cd "$tmp" && CONCORD__AUTH__JWT_SECRET="$secret" "$bin" token --role PROVINCE_ADMIN \
    --region "$1" --ttl 10m --sub federation-test) 2>>"$tmp/token.log"
}
PROVINCE_TOKEN_330000="$(token 330000)" || setup_failed "concord token --region 330000"
PROVINCE_TOKEN_440000="$(token 440000)" || setup_failed "concord token --region 440000"
export PROVINCE_TOKEN_330000 PROVINCE_TOKEN_440000

for check in heatmap elsewhere refused drafts; do
  if node "$here/subscriptions.mjs" "$check" "$concord_url"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
  fi
done

echo "federation: took $((SECONDS - started))s"
echo "federation: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
