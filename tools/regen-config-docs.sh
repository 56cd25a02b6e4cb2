#!/usr/bin/env bash
# Regenerates the config reference in docs/configuration.md (the table at the end) and the
# annotated config/nodeguard.yaml from the code (the docs_in_sync test checks both).
#   tools/regen-config-docs.sh [BUILD_DIR]   # default build/
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/agent/nodeguard
doc=docs/configuration.md
tmp=$(mktemp)
sed '/^| key | flag |/,$d' "$doc" >"$tmp"
"$bin" --print-config-reference >>"$tmp"
mv "$tmp" "$doc"
"$bin" --print-config | sed 's/^node_name: .*/node_name: ""/' >config/nodeguard.yaml
echo "regenerated $doc and config/nodeguard.yaml"
