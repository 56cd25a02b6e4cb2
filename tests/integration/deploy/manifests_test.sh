#!/usr/bin/env bash
# Renders every kustomization, validates every object against the Kubernetes and
# prometheus-operator schemas, parses every PromQL expression (tools/manifests/check.mjs).
set -euo pipefail
: "${NG_SOURCE_DIR:?}"
cd "$NG_SOURCE_DIR/tools/manifests"
[[ -d node_modules ]] || { echo "FAIL: run tools/install-deps.sh (npm packages missing)"; exit 1; }
node check.mjs
