# Helpers for the CNI cache tests: pods set up the way containerd and cri-o set them up (libcni's
# AddNetworkList over a conflist, with the real plugins from /usr/lib/cni), and the cache file
# libcni writes for that ADD. Source after tests/support/netns.sh and
# tests/integration/netfilter/lib.sh (ng_nf_tools).

# ng_cni_conflist FILE NAME CNIVERSION BRIDGE SUBNET PORTMAP_EXTRA_JSON: a bridge + host-local +
# portmap conflist as a node would have in /etc/cni/net.d (no masquerade from the bridge, so the
# nat table holds portmap's rules only). PORTMAP_EXTRA_JSON is merged into the portmap plugin.
ng_cni_conflist() {
  local file=$1 name=$2 version=$3 bridge=$4 subnet=$5 extra=$6 default=0.0.0.0/0
  [[ $subnet == *:* ]] && default=::/0
  jq -n --arg name "$name" --arg v "$version" --arg br "$bridge" --arg subnet "$subnet" \
    --arg gw "$default" --arg ipam "$NG_TMP/ipam-$name" --argjson extra "$extra" '
    {cniVersion: $v, name: $name, plugins: [
      {type: "bridge", bridge: $br, isGateway: true, ipMasq: false, hairpinMode: true,
       ipam: {type: "host-local", ranges: [[{subnet: $subnet}]], routes: [{dst: $gw}],
              dataDir: $ipam}},
      ({type: "portmap", capabilities: {portMappings: true}} + $extra)]}' >"$file"
}

# ng_cni_add NODE POD BACKEND CONFLIST CONTAINER_ID MAPPINGS_JSON CACHE_DIR: what libcni's
# AddNetworkList does for a runtime: every plugin in order with the list's name and version
# injected, the previous result as prevResult, runtimeConfig.portMappings for plugins declaring
# the capability; then cacheAdd writes <cache>/results/<net>-<id>-eth0 (cniCacheV1, the conflist
# bytes in base64, the final result). The pod namespace must exist.
ng_cni_add() {
  local node=$1 pod=$2 backend=$3 conflist=$4 cid=$5 mappings=$6 cache=$7
  local tools name version n i conf type out prev=null
  tools=$(ng_nf_tools "$backend")
  name=$(jq -r .name "$conflist")
  version=$(jq -r .cniVersion "$conflist")
  n=$(jq '.plugins | length' "$conflist")
  local args="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$pod;K8S_POD_INFRA_CONTAINER_ID=$cid"
  for ((i = 0; i < n; i++)); do
    conf=$(jq -c --arg name "$name" --arg v "$version" --argjson pm "$mappings" \
      --argjson prev "$prev" --argjson i "$i" '
      .plugins[$i] as $p
      | $p + {name: $name, cniVersion: $v}
      + (if $prev == null then {} else {prevResult: $prev} end)
      + (if ($p.capabilities.portMappings // false) then {runtimeConfig: {portMappings: $pm}}
         else {} end)' "$conflist")
    type=$(jq -r .type <<<"$conf")
    out=$(ip netns exec "$node" env PATH="$tools:$PATH" CNI_COMMAND=ADD CNI_CONTAINERID="$cid" \
      CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni CNI_ARGS="$args" \
      "/usr/lib/cni/$type" <<<"$conf") || ng_fail "$type ADD for $pod: $out"
    prev=$out
  done
  mkdir -p "$cache/results"
  local file="$cache/results/$name-$cid-eth0"
  jq -n -c --arg cid "$cid" --arg config "$(base64 -w0 <"$conflist")" --arg net "$name" \
    --arg pod "$pod" --argjson pm "$mappings" --argjson result "$prev" '
    {kind: "cniCacheV1", containerId: $cid, config: $config, ifName: "eth0", networkName: $net,
     cniArgs: [["IgnoreUnknown", "1"], ["K8S_POD_NAMESPACE", "default"], ["K8S_POD_NAME", $pod],
               ["K8S_POD_INFRA_CONTAINER_ID", $cid]],
     capabilityArgs: {portMappings: $pm, "io.kubernetes.cri.pod-annotations": {}},
     result: $result}' >"$file"
  chmod 600 "$file"
}

# ng_cni_del_portmap NODE POD BACKEND CONFLIST CONTAINER_ID CACHE_DIR: portmap's DEL alone, with
# the cached result as prevResult (what libcni's DelNetworkList runs first).
ng_cni_del_portmap() {
  local node=$1 pod=$2 backend=$3 conflist=$4 cid=$5 cache=$6 tools name version file conf
  tools=$(ng_nf_tools "$backend")
  name=$(jq -r .name "$conflist")
  version=$(jq -r .cniVersion "$conflist")
  file="$cache/results/$name-$cid-eth0"
  conf=$(jq -c --arg name "$name" --arg v "$version" --slurpfile c "$file" '
    (.plugins[] | select(.type == "portmap")) + {name: $name, cniVersion: $v,
      prevResult: $c[0].result, runtimeConfig: {portMappings: $c[0].capabilityArgs.portMappings}}' \
    "$conflist")
  ip netns exec "$node" env PATH="$tools:$PATH" CNI_COMMAND=DEL CNI_CONTAINERID="$cid" \
    CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/portmap \
    <<<"$conf" || ng_fail "portmap DEL for $pod"
}

# ng_cni_nat_text NS BACKEND FAMILY: iptables-save -t nat without the timestamp comment lines,
# chain counters zeroed and the agent's own canary chain left out: what portmap's rules look
# like, byte for byte.
ng_cni_nat_text() {
  ng_nf_save "$1" "$2" "$3" -t nat | grep -v '^#' | grep -vxF ':NODEGUARD-CANARY - [0:0]' |
    sed -E 's/^(:[^ ]+ [^ ]+) \[[0-9]+:[0-9]+\]$/\1 [0:0]/'
}

# ng_cni_del_bridge NODE POD BACKEND CONFLIST CONTAINER_ID: the bridge plugin's DEL (what
# libcni's DelNetworkList runs after portmap's): the pod's veth, its host-local address and,
# with ipMasq, its masquerade chain and POSTROUTING jump go. The pod namespace must exist.
ng_cni_del_bridge() {
  local node=$1 pod=$2 backend=$3 conflist=$4 cid=$5 tools conf
  tools=$(ng_nf_tools "$backend")
  conf=$(jq -c '(.plugins[] | select(.type == "bridge")) + {name: .name, cniVersion: .cniVersion}' \
    "$conflist")
  ip netns exec "$node" env PATH="$tools:$PATH" CNI_COMMAND=DEL CNI_CONTAINERID="$cid" \
    CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge \
    <<<"$conf" || ng_fail "bridge DEL for $pod"
}
