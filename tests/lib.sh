# What the end-to-end suites' run.sh scripts (browser, cpsv-ap, federation)
# share. Each sets `suite` (the word its messages start with) and `ci_note`
# (why a missing tool fails it under CI), then sources this file:
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
# It sets `root` (the checkout) and `started` (for the timing line).

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
started=$SECONDS

# Without what the suite needs: fail under CI=true, where the suite must run,
# else say "skipped" and pass.
unavailable() {
  if [ "${CI:-}" = "true" ]; then
    echo "$suite: FAILED: $1 ($ci_note)" >&2
    exit 1
  fi
  echo "$suite: skipped ($1)"
  exit 0
}

fail() {
  echo "$suite: FAILED: $*" >&2
  exit 1
}

# Node 20 or newer, with npm; else the function named by $1 is called with
# what is missing.
require_node() {
  local missing=$1 major
  command -v node >/dev/null 2>&1 || "$missing" "no node"
  command -v npm >/dev/null 2>&1 || "$missing" "no npm"
  major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$major" -ge 20 ] || "$missing" "node $(node --version) is older than 20"
}

# Cargo's target directory, absolute: a relative CARGO_TARGET_DIR is taken
# from the checkout, as cargo takes it when run there.
target_dir() {
  local target="${CARGO_TARGET_DIR:-target}"
  case "$target" in /*) ;; *) target="$root/$target" ;; esac
  echo "$target"
}

# Sets `bin` to an absolute path to `concord`: CONCORD_BIN when given (a
# path, or a name on PATH), else a debug build made now. On failure the
# function named by $1 is called with what failed.
find_concord() {
  local failed=$1
  if [ -n "${CONCORD_BIN:-}" ]; then
    case "$CONCORD_BIN" in
      */*) bin="$(cd "$(dirname "$CONCORD_BIN")" && pwd)/$(basename "$CONCORD_BIN")" ;;
      *) bin="$(command -v "$CONCORD_BIN" || echo "$CONCORD_BIN")" ;;
    esac
  else
    echo "$suite: cargo build --locked --bin concord"
    (cd "$root" && cargo build --locked --bin concord --quiet) || "$failed" "cargo build"
    bin="$(target_dir)/debug/concord"
  fi
  [ -x "$bin" ] || "$failed" "no concord binary at $bin"
}
