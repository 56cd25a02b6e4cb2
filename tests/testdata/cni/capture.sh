#!/usr/bin/env bash
# Regenerates the captured portmap outputs under tests/testdata/cni/<scenario>/ from the real
# plugins (Debian's containernetworking-plugins 1.1.1, /usr/lib/cni) with iptables-nft, in
# namespaces it creates and removes. Root only; run by hand:
#   sudo NG_SOURCE_DIR=$PWD tests/testdata/cni/capture.sh
# Each scenario directory holds the libcni cache files of its pods (results/), the order the
# ADDs ran in (order), and iptables-nft-save -t nat of both families afterwards (nat-ipv4.save,
# nat-ipv6.save, timestamps stripped). The unit tests replay the cache files and must produce
# exactly these rules.
set -euo pipefail
: "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
source "$NG_SOURCE_DIR/tests/integration/cni/lib.sh"
ng_require_root
OUT=$NG_SOURCE_DIR/tests/testdata/cni

capture() { # capture SCENARIO: runs the pods listed by the scenario function
  local scenario=$1 dir=$OUT/$1
  node=$(ng_netns_add node)
  ip -n "$node" addr add 192.168.5.1/24 dev lo
  ip -n "$node" addr add fd00:5::1/64 dev lo nodad
  cache=$NG_TMP/cache-$scenario
  rm -rf "$dir" && mkdir -p "$dir/results"
  : >"$dir/order"
  "scenario_$scenario"
  cp "$cache"/results/* "$dir/results/"
  for fam in ipv4 ipv6; do
    ng_nf_save "$node" nft "$fam" -t nat | grep -v '^#' >"$dir/nat-$fam.save"
  done
  echo "captured $scenario: $(wc -l <"$dir/order") ADDs"
}
add() { # add NET POD CID MAPPINGS
  local ns
  ns=$(ng_netns_add "$2")
  ng_cni_add "$node" "$ns" nft "$NG_TMP/$1.conflist" "$3" "$4" "$cache"
  echo "$(jq -r .name "$NG_TMP/$1.conflist")-$3-eth0" >>"$dir/order"
}
m() { printf '{"hostPort":%d,"containerPort":%d,"protocol":"%s"%s}' "$1" "$2" "$3" "${4:+,\"hostIP\":\"$4\"}"; }

# Dual-stack pods on several networks: every option and shape portmap 1.1.1 knows.
scenario_matrix() {
  jq -n --arg d "$NG_TMP/ipam-dual" '{cniVersion: "1.0.0", name: "dual", plugins: [
    {type: "bridge", bridge: "cni-dual", isGateway: true, ipMasq: false,
     ipam: {type: "host-local", dataDir: $d,
            ranges: [[{subnet: "10.244.1.0/24"}], [{subnet: "fd00:10:244:1::/64"}]]}},
    {type: "portmap", capabilities: {portMappings: true}}]}' >"$NG_TMP/dual.conflist"
  jq '.name = "nosnat" | .cniVersion = "0.4.0" | .plugins[0].bridge = "cni-nosnat"
      | .plugins[0].ipam.dataDir += "-nosnat"
      | .plugins[0].ipam.ranges = [[{subnet: "10.244.2.0/24"}], [{subnet: "fd00:10:244:2::/64"}]]
      | .plugins[1].snat = false' "$NG_TMP/dual.conflist" >"$NG_TMP/nosnat.conflist"
  jq '.name = "markbit" | .cniVersion = "0.3.1" | .plugins[0].bridge = "cni-markbit"
      | .plugins[0].ipam.dataDir += "-markbit"
      | .plugins[0].ipam.ranges = [[{subnet: "10.244.3.0/24"}], [{subnet: "fd00:10:244:3::/64"}]]
      | .plugins[1].markMasqBit = 5 | .plugins[1].masqAll = true
      | .plugins[1].conditionsV4 = ["-d", "192.168.5.0/24", "!", "-i", "cni-markbit"]
      | .plugins[1].conditionsV6 = ["!", "-s", "fd99::/64"]' "$NG_TMP/dual.conflist" \
      >"$NG_TMP/markbit.conflist"
  jq '.name = "external" | .plugins[0].bridge = "cni-ext" | .plugins[0].ipam.dataDir += "-ext"
      | .plugins[0].ipam.ranges = [[{subnet: "10.244.4.0/24"}], [{subnet: "fd00:10:244:4::/64"}]]
      | .plugins[1].externalSetMarkChain = "KUBE-MARK-MASQ"' "$NG_TMP/dual.conflist" \
      >"$NG_TMP/external.conflist"
  for fam in ipv4 ipv6; do
    ng_nf_restore "$node" nft "$fam" --noflush <<<$'*nat\n:KUBE-MARK-MASQ - [0:0]\nCOMMIT'
  done
  add dual p1 c1 "[$(m 8080 80 tcp),$(m 8081 81 udp 192.168.5.1),$(m 8082 82 TCP 0.0.0.0),$(m 8083 83 sctp),$(m 8084 84 tcp fd00:5::1),$(m 8080 85 tcp),$(m 8085 86 udp ::)]"
  add nosnat p2 c2 "[$(m 9090 90 tcp)]"
  add markbit p3 c3 "[$(m 9091 90 tcp),$(m 9092 91 udp)]"
  add external p4 c4 "[$(m 9093 90 tcp)]"
  local many
  many=$(for p in $(seq 7000 7016); do m "$p" 80 tcp; printf ,; done)
  add dual p5 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef "[${many%,}]"
  add dual p6 c6 "[$(m 6000 60 udp),$(m 6001 61 tcp)]"
  # The same container on a second network (Multus-style): another CNI-DN chain.
  add nosnat p7 c6 "[$(m 6002 62 tcp)]"
}

capture matrix
