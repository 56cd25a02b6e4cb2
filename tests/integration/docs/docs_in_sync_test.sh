#!/usr/bin/env bash
# The config reference in docs/configuration.md and the annotated config/nodeguard.yaml are
# generated from the code; this fails when someone adds a key and forgets to regenerate:
#   build/agent/nodeguard --print-config-reference   (paste under "## Reference")
#   build/agent/nodeguard --print-config | sed 's/^node_name: .*/node_name: ""/' > config/nodeguard.yaml
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
bin=$NG_BUILD_DIR/agent/nodeguard
doc=$NG_SOURCE_DIR/docs/configuration.md
want=$("$bin" --print-config-reference)
have=$(sed -n '/^| key | flag |/,$p' "$doc")
if [[ "$want" != "$have" ]]; then
  diff <(echo "$want") <(echo "$have") || true
  echo "FAIL: docs/configuration.md reference is stale; regenerate with tools/regen-config-docs.sh" >&2
  exit 1
fi
want=$("$bin" --print-config | sed 's/^node_name: .*/node_name: ""/')
if [[ "$want" != "$(cat "$NG_SOURCE_DIR/config/nodeguard.yaml")" ]]; then
  diff <(echo "$want") "$NG_SOURCE_DIR/config/nodeguard.yaml" || true
  echo "FAIL: config/nodeguard.yaml is stale; regenerate with --print-config" >&2
  exit 1
fi
"$bin" --config "$NG_SOURCE_DIR/config/nodeguard.yaml" --check-config >/dev/null
echo "PASS: config docs match the code"
