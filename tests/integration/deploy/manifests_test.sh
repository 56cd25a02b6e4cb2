#!/usr/bin/env bash
# Renders every kustomization, validates every object against the Kubernetes and
# prometheus-operator schemas, parses every PromQL expression (tools/manifests/check.mjs), and
# has the real binary check each overlay's config and container args (--check-config), so a
# renamed key or flag breaks this test rather than a rollout.
set -euo pipefail
: "${NG_SOURCE_DIR:?}" "${NG_BUILD_DIR:?}"
cd "$NG_SOURCE_DIR/tools/manifests"
[[ -d node_modules ]] || { echo "FAIL: run tools/install-deps.sh (npm packages missing)"; exit 1; }
tmp=$(mktemp -d /tmp/ng-manifests-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
node check.mjs --agent-configs "$tmp"
for cfg in "$tmp"/*.yaml; do
  name=$(basename "$cfg" .yaml)
  mapfile -t args <"$tmp/$name.args"
  # The DaemonSet's paths are the node's; here only the keys, values and flags are checked.
  resolved=()
  for a in "${args[@]}"; do
    [[ -n $a ]] || continue
    a=${a//\$(NODE_NAME)/node-1}
    [[ $a == --config=* ]] && a=--config=$cfg
    resolved+=("$a")
  done
  "$NG_BUILD_DIR/agent/nodeguard" "${resolved[@]}" --check-config >/dev/null ||
    { echo "FAIL: $name: nodeguard rejects the overlay's config or args: ${resolved[*]}"; exit 1; }
  echo "ok: $name config and args accepted by nodeguard --check-config"
done
