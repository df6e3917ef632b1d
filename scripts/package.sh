#!/usr/bin/env bash
# Builds the committed bundles: dist/action (the Action) and dist/cli (the CLI),
# each with the compression workers and their .wasm beside it, so both run with
# plain `node` and no node_modules; each with licenses.txt, the notices of every
# package ncc put into that folder (scripts/licenses.mjs, from ncc's stats).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
stats=$(mktemp -d)
trap 'rm -rf "$stats"' EXIT
# The three builds are independent: run them side by side, and fail if any fails.
npx ncc build src/index.ts -o dist/action --stats-out "$stats/action.json" &
action=$!
npx ncc build src/cli.ts -o dist/cli --stats-out "$stats/cli.json" &
cli=$!
npx ncc build src/archive/deflate-worker.mjs -o "$stats/worker" --stats-out "$stats/worker.json"
wait "$action"
wait "$cli"
for face in action cli; do
  cp "$stats/worker/index.mjs" "dist/$face/deflate-worker.mjs"
  # The lz4 and zstd workers import only node: modules, like the deflate worker.
  cp src/archive/lz4-worker.mjs src/archive/zstd-worker.mjs "dist/$face/"
  cp src/archive/zlib.wasm src/archive/zstd.wasm src/archive/lz4.wasm "dist/$face/"
  node scripts/licenses.mjs write "$stats/$face.json" "$stats/worker.json" >"dist/$face/licenses.txt"
  # The packages' own `//# sourceMappingURL=` lines point at maps that are not shipped.
  for bundle in "dist/$face"/*.js "dist/$face"/*.mjs; do
    sed -i -E '/^\/\/# sourceMappingURL=[^ ]*$/d' "$bundle"
  done
done
