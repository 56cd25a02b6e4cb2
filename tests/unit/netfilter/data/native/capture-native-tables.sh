#!/usr/bin/env bash
# Rebuilds the native table captures (root): builds each table with `nft -f` in a throwaway
# namespace and records the netlink dump the native guard reads (nft_table_capture capture).
#   tests/unit/netfilter/data/native/capture-native-tables.sh build/tools/bench/nft_table_capture
set -euo pipefail
tool=$(realpath "${1:?path to nft_table_capture}")
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../../../support/netns.sh"
ng_require_root
ns=$(ng_netns_add capture)
ng_in "$ns" ip link add ngveth0 type veth peer name ngveth1
"$here/../../../../../tools/bench/gen-kube-proxy-nft.sh" 3 >"$NG_TMP/kp.nft"
for spec in "ip kube-proxy $NG_TMP/kp.nft" "ip calico $here/calico.nft" "inet objects $here/objects.nft"; do
  read -r family table file <<<"$spec"
  ng_in "$ns" nft -f "$file"
  ng_in "$ns" "$tool" capture "$family" "$table" >"$here/$table.hex"
  ng_in "$ns" nft list table "$family" "$table" >"$here/$table.list"
done
