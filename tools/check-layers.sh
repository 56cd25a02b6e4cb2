#!/usr/bin/env bash
# Fails when a product source includes a header from a layer it must not see. The build puts the
# source root on the include path (one spelling for every header), which is what would let such
# an include slip through; this check is the fence. Usage: tools/check-layers.sh [SOURCE_ROOT]
#
# Layers, bottom up (docs/architecture.md, "Layers"):
#   core/                       the seams; includes core/ only
#   netfilter/, probes/         the components; core/ and themselves, never each other or agent/
#   netfilter/legacy, .../nft   the backends; never the guard or the components built on it
#   netfilter/native            the native nftables table guard; the nft backend's wire layer,
#                               never the iptables guard, legacy, CNI or firewalld
#   agent/                      the daemon; anything below, never tools/
#   agent/{health,api,metrics,config,kube}: never agent/runtime (the loop wires them, not the reverse)
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$root"

# rule DIR FORBIDDEN_REGEX WHY: every `#include "X"` under DIR where X matches the regex.
violations=0
rule() {
  local dir=$1 forbidden=$2 why=$3 hits
  [[ -d $dir ]] || return 0
  hits=$(grep -rnE --include='*.h' --include='*.cc' --include='*.c' \
    "^[[:space:]]*#[[:space:]]*include[[:space:]]+\"($forbidden)" "$dir" || true)
  [[ -z $hits ]] && return 0
  while IFS= read -r h; do
    echo "layering: $h  ($why)" >&2
    violations=$((violations + 1))
  done <<<"$hits"
}

rule core 'agent/|netfilter/|probes/|tools/|nodeguard/' "core/ is the bottom layer"
rule netfilter 'agent/|probes/|tools/' "netfilter/ sees core/ only"
rule probes 'agent/|netfilter/|tools/' "probes/ sees core/ only"
rule netfilter/legacy 'netfilter/guard|netfilter/cni/|netfilter/firewalld/' "a backend does not know the guard"
rule netfilter/nft 'netfilter/guard|netfilter/cni/|netfilter/firewalld/|netfilter/native/' "a backend does not know the guard"
rule netfilter/native 'netfilter/guard|netfilter/cni/|netfilter/firewalld/|netfilter/legacy/' "the native table guard stands apart from the iptables guard"
rule agent 'tools/' "the daemon does not depend on its tools"
for d in health api metrics config kube; do
  rule "agent/$d" 'agent/runtime/' "agent/runtime wires agent/$d, not the reverse"
done

if ((violations)); then
  echo "layering: $violations forbidden include(s); move the type down a layer instead" >&2
  exit 1
fi
echo "layering: ok"
