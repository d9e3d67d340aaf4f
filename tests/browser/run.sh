#!/usr/bin/env bash
# End-to-end browser test of the dashboard (/) and GraphiQL (/graphql): starts
# `concord serve` on a fresh SQLite database and drives Debian's headless
# Chromium with playwright-core (check.mjs), blocking every request to any
# other host. Run from anywhere:
#   bash tests/browser/run.sh
# Needs Node 20+ with npm, Chromium at /usr/bin/chromium (or $CHROMIUM) and
# cargo, unless CONCORD_BIN points at a built `concord`. Without Node or
# Chromium it says "skipped" and exits 0, except under CI=true, where it fails.
# Screenshots go to target/browser/.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite=browser
ci_note="CI=true: .ci/run installs what this test needs"
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"

require_node unavailable
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] || unavailable "no chromium at $chromium (apt-get install -y chromium)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/concord-browser.XXXXXX")"
pid=""

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ] && [ -s "$tmp/concord.log" ]; then
    echo "---- last lines of concord.log ----" >&2
    tail -n 40 "$tmp/concord.log" >&2
  fi
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "browser: npm ci in tests/browser"
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >"$tmp/npm.log" 2>&1 \
  || { cat "$tmp/npm.log" >&2; fail "npm ci"; }

find_concord fail

port="$(node -e '
  const server = require("net").createServer();
  server.listen(0, "127.0.0.1", () => { console.log(server.address().port); server.close(); });
')"
database="sqlite://$tmp/concord.db"

# A fresh SQLite file, migrated and seeded on start. The working directory is
# the temp dir, so no ./concord.toml is picked up.
(cd "$tmp" && exec "$bin" serve --bind "127.0.0.1:$port" --database "$database") \
  >"$tmp/concord.log" 2>&1 &
pid=$!
deadline=$((SECONDS + 60))
until node -e '
  fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
    .then((r) => process.exit(r.status === 200 ? 0 : 1), () => process.exit(1));
' "http://127.0.0.1:$port/readyz"; do
  kill -0 "$pid" 2>/dev/null || fail "concord exited before it was ready"
  [ "$SECONDS" -lt "$deadline" ] || fail "concord not ready after 60s"
  sleep 0.3
done
echo "browser: concord on :$port"

shots="$(target_dir)/browser"
mkdir -p "$shots"

# check.mjs signs the province admin's token with `concord token`, run where
# the server runs so that it finds the same generated secret.
(cd "$tmp" && CONCORD_BIN="$bin" CONCORD_DATABASE="$database" CHROMIUM="$chromium" \
  SCREENSHOTS="$shots" PROFILE="$tmp/profile" \
  node "$here/check.mjs" "http://127.0.0.1:$port") || fail "see the checks above"

echo "browser: screenshots in $shots"
echo "browser: took $((SECONDS - started))s"
