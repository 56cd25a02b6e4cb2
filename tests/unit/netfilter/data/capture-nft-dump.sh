#!/usr/bin/env bash
# Regenerates the nft fast path's unit-test data (root; everything in namespaces it creates):
# a node with a real pod from the real bridge + portmap plugins and kube-proxy-like rules
# (tests/integration/netfilter/lib.sh ng_nf_kube_rules), some traffic so counters are not zero,
# then for nat and filter of each family: iptables-nft-save -t TABLE (nft-<family>-<table>.save)
# and the netlink dump the nft backend reads (nft-<family>-<table>.hex, one reply per line,
# from build/tools/bench/nft_dump_capture), taken at the same ruleset generation.
#
#   sudo tests/unit/netfilter/data/capture-nft-dump.sh [BUILD_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
NG_SOURCE_DIR=$(cd "$here/../../../.." && pwd)
BUILD=${1:-$NG_SOURCE_DIR/build}
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
ng_require_root
[[ -x $BUILD/tools/bench/nft_dump_capture ]] || ng_fail "build nft_dump_capture first"
for family in ipv4 ipv6; do
  node=$(ng_netns_add "node-$family")
  pod=$(ng_netns_add "pod-$family")
  client=$(ng_netns_add "client-$family")
  ng_veth "$node" ngn0 "$client" ngc0
  if [[ $family == ipv4 ]]; then
    ip -n "$node" addr add 192.168.77.1/24 dev ngn0
    ip -n "$client" addr add 192.168.77.2/24 dev ngc0
    ng_in "$node" sysctl -qw net.ipv4.ip_forward=1
    subnet=10.244.1.0/24 node_ip=192.168.77.1 listen=TCP4-LISTEN:80
  else
    ip -n "$node" addr add fd00:77::1/64 dev ngn0 nodad
    ip -n "$client" addr add fd00:77::2/64 dev ngc0 nodad
    ng_in "$node" sysctl -qw net.ipv6.conf.all.forwarding=1
    subnet=fd00:10:244:1::/64 node_ip=fd00:77::1 listen=TCP6-LISTEN:80
  fi
  ng_nf_pod "$node" "$pod" nft "$family" c0ffee0123456789 8080 "$subnet" >/dev/null
  [[ $family == ipv6 ]] && { ng_nf_wait_dad "$pod"; ng_nf_wait_dad "$node"; }
  ng_nf_kube_rules "$node" nft "$family"
  ng_bg "$pod" socat "$listen,fork,reuseaddr" SYSTEM:"echo hello" >/dev/null
  ng_wait_until 15 ng_nf_connect "$client" "$node_ip" 8080 || ng_fail "hostPort does not answer"
  for t in nat filter; do
    base=$here/nft-$family-$t
    for attempt in 1 2 3; do
      ng_nf_save "$node" nft "$family" -t "$t" >"$base.save"
      ng_in "$node" "$BUILD/tools/bench/nft_dump_capture" "$family" "$t" >"$base.hex"
      ng_nf_save "$node" nft "$family" -t "$t" | cmp -s - "$base.save" && break
    done
    sed -i -E '/^# (Generated|Completed) /d' "$base.save"
    echo "wrote $base.save ($(grep -c '^-A' "$base.save") rules) and $base.hex"
  done
done
