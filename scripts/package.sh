#!/usr/bin/env bash
# Builds the committed bundles: dist/action (the Action) and dist/cli (the CLI),
# each with the deflate worker and its zlib.wasm beside it, so both run with
# plain `node` and no node_modules.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx ncc build src/main.ts -o dist/action --license licenses.txt
npx ncc build src/cli.ts -o dist/cli --license licenses.txt
worker=$(mktemp -d)
npx ncc build src/archive/deflate-worker.mjs -o "$worker"
for face in action cli; do
  cp "$worker/index.mjs" "dist/$face/deflate-worker.mjs"
  cp src/archive/zlib.wasm "dist/$face/zlib.wasm"
done
rm -rf "$worker"
