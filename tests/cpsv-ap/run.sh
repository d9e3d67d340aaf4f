#!/usr/bin/env bash
# Validates every published guide of the seed data, exported as CPSV-AP
# JSON-LD, against the official CPSV-AP 3.2.0 SHACL shapes with pyshacl
# (pinned in requirements.txt), offline; and shows that broken documents fail.
# See tests/cpsv-ap/README.md. Run from anywhere:
#   bash tests/cpsv-ap/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
suite=cpsv-ap
ci_note="CI=true requires it"
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"

command -v python3 >/dev/null 2>&1 || unavailable "no python3"
python3 -c 'import venv, ensurepip' 2>/dev/null || unavailable "python3 has no venv/ensurepip module"

venv="$(target_dir)/cpsv-venv"
stamp="$venv/requirements.sha256"
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "cpsv-ap: installing pinned pyshacl into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv" || unavailable "cannot create a virtual environment"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
    -r "$here/requirements.txt" || unavailable "pip cannot install requirements.txt"
  echo "$wanted" >"$stamp"
fi
python="$venv/bin/python"

find_concord fail

tmp="$(mktemp -d "${TMPDIR:-/tmp}/concord-cpsv.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
db="sqlite://$tmp/concord.db"

# In the temp dir, so that no ./concord.toml is picked up.
cd "$tmp"
RUST_LOG=warn "$bin" seed --database "$db" >/dev/null
published="$("$python" -c '
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*) FROM service_guide WHERE status = ?", ("PUBLISHED",)).fetchone()[0])
' "$tmp/concord.db")"
[ "$published" -gt 0 ] || { echo "cpsv-ap: the seed data has no published guide" >&2; exit 1; }
echo "cpsv-ap: $published published guides in the seed data"

"$bin" export --database "$db" --format cpsv-ap --output "$tmp/embedded.jsonld" 2>/dev/null
"$bin" export --database "$db" --format cpsv-ap --output "$tmp/by-url.jsonld" \
  --context-url "http://concord.invalid/contexts/cpsv-ap-3.2.0.jsonld" 2>/dev/null

validate=("$python" "$here/validate.py" --shapes "$here/cpsv-ap-SHACL.ttl"
  --context "$root/crates/persistence/assets/cpsv-ap-3.2.0/cpsv-ap-context.jsonld")
"${validate[@]}" --services "$published" "$tmp/embedded.jsonld" "$tmp/by-url.jsonld"

# Broken on purpose: the first service loses its name (dct:title, minCount 1);
# the first cost's value becomes a plain string (sh:datatype xsd:double).
"$python" - "$tmp/embedded.jsonld" "$tmp" <<'EOF'
import json, sys
source, out = sys.argv[1], sys.argv[2]
with open(source, encoding="utf-8") as f:
    document = json.load(f)
service = next(n for n in document["@graph"] if n["@type"] == "PublicService")
del service["dct:title"]
with open(f"{out}/no-name.jsonld", "w", encoding="utf-8") as f:
    json.dump(document, f, ensure_ascii=False)
with open(source, encoding="utf-8") as f:
    document = json.load(f)
cost = next(n for n in document["@graph"] if n["@type"] == "Cost")
cost["cv:hasValue"] = cost["cv:hasValue"]["@value"]
with open(f"{out}/untyped-fee.jsonld", "w", encoding="utf-8") as f:
    json.dump(document, f, ensure_ascii=False)
EOF
"${validate[@]}" --expect-fail "http://purl.org/dc/terms/title" "$tmp/no-name.jsonld"
"${validate[@]}" --expect-fail "http://data.europa.eu/m8g/hasValue" "$tmp/untyped-fee.jsonld"

echo "cpsv-ap: passed in $((SECONDS - started))s"
