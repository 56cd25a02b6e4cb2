#!/usr/bin/env bash
# tools/check-layers.sh passes on the source tree, and fails, naming the file, on each kind of
# forbidden include planted in a scratch tree.
set -euo pipefail
: "${NG_SOURCE_DIR:?}"
CHECK=$NG_SOURCE_DIR/tools/check-layers.sh
"$CHECK" "$NG_SOURCE_DIR" || { echo "FAIL: the source tree breaks its layering" >&2; exit 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# plant FILE INCLUDE: a scratch tree with one file holding one include must fail the check.
plant() {
  local file=$1 include=$2 out
  rm -rf "$T/tree" && mkdir -p "$T/tree/$(dirname "$file")"
  printf '#pragma once\n#include "%s"\n' "$include" >"$T/tree/$file"
  if out=$("$CHECK" "$T/tree" 2>&1); then
    echo "FAIL: $file including $include passed the layering check" >&2
    exit 1
  fi
  grep -qF "$file" <<<"$out" || { echo "FAIL: the check does not name $file: $out" >&2; exit 1; }
}
plant core/clock2.h agent/runtime/agent.h
plant core/x.cc netfilter/guard.h
plant netfilter/x.h probes/routes/route_classifier.h
plant netfilter/y.cc agent/components.h
plant probes/logs/x.cc netfilter/rule_model.h
plant netfilter/nft/x.cc netfilter/guard.h
plant netfilter/legacy/x.h netfilter/firewalld/bus.h
plant agent/runtime/x.cc tools/ngctl/output.h
plant agent/health/x.h agent/runtime/component_registry.h
plant netfilter/nft/y.h netfilter/native/native_snapshot.h
plant netfilter/native/x.cc netfilter/guard.h
# And what is allowed passes.
rm -rf "$T/tree" && mkdir -p "$T/tree/agent/runtime" "$T/tree/netfilter/cni"
printf '#include "agent/health/health_model.h"\n#include "netfilter/guard.h"\n' >"$T/tree/agent/runtime/ok.cc"
printf '#include "netfilter/guard.h"\n#include "core/log.h"\n' >"$T/tree/netfilter/cni/ok.cc"
"$CHECK" "$T/tree" >/dev/null 2>&1 || { echo "FAIL: allowed includes rejected" >&2; exit 1; }
echo "PASS: layering holds; 11 planted bad includes caught"
