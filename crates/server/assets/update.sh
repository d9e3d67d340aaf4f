#!/usr/bin/env bash
# Refreshes the third-party files in vendor/ from the npm registry: the pinned
# packages below are fetched with `npm pack` (npm checks each tarball against
# the registry's integrity hash), their browser builds copied with their
# licences, and GraphiQL's bundle (published unminified under the name
# graphiql.min.js) minified with the pinned esbuild. The source-map comments
# are dropped: the maps are not shipped. Commit what this writes; `cargo
# build` then needs no network. To move to new versions, change the pins,
# run `bash crates/server/assets/update.sh`, and update README.md here.
set -euo pipefail

GRAPHIQL=3.8.3
REACT=18.3.1
ESBUILD=0.25.12

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/vendor"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/concord-assets.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" >/dev/null
for package in "graphiql-$GRAPHIQL" "react-$REACT" "react-dom-$REACT"; do
  mkdir "$package"
  tar -xzf "$package.tgz" -C "$package" --strip-components=1
done
npm install --silent --no-save --no-audit --no-fund --prefix "$tmp/tools" "esbuild@$ESBUILD" >/dev/null
esbuild="$tmp/tools/node_modules/.bin/esbuild"

mkdir -p "$out"
"$esbuild" "graphiql-$GRAPHIQL/graphiql.min.js" --minify --legal-comments=inline \
  --log-level=error --outfile="$out/graphiql.min.js"
"$esbuild" "graphiql-$GRAPHIQL/graphiql.min.css" --minify --legal-comments=inline \
  --log-level=error --outfile="$out/graphiql.min.css"
for file in react-$REACT/umd/react.production.min.js react-dom-$REACT/umd/react-dom.production.min.js; do
  grep -v '^//# sourceMappingURL=' "$file" >"$out/$(basename "$file")"
done
cp "graphiql-$GRAPHIQL/LICENSE" "$out/LICENSE-graphiql.txt"
cp "react-$REACT/LICENSE" "$out/LICENSE-react.txt"
cp "react-dom-$REACT/LICENSE" "$out/LICENSE-react-dom.txt"
ls -l "$out"
