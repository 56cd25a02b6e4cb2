# Helpers for the netfilter integration tests and benchmarks: a node namespace with a real pod
# made by the real CNI plugins (bridge + host-local + portmap from /usr/lib/cni), a TCP server
# in the pod, and a client namespace that reaches the node over a veth. Source after
# tests/support/netns.sh. Every namespace and process is registered there and removed at exit.

# ng_nf_tools BACKEND: a directory whose iptables* names run the given backend, for PATH, so
# the CNI plugins (which exec plain `iptables`) and the test write through one backend.
ng_nf_tools() {
  local backend=$1 dir=$NG_TMP/bin-$1
  if [[ ! -d $dir ]]; then
    mkdir -p "$dir"
    local t s
    for t in iptables ip6tables; do
      for s in "" -save -restore; do ln -s "/usr/sbin/$t-$backend$s" "$dir/$t$s"; done
    done
  fi
  echo "$dir"
}

# ng_nf_ipt / ng_nf_save / ng_nf_restore NS BACKEND FAMILY ARGS...: iptables (ipv4) or
# ip6tables (ipv6) of that backend, its -save or its -restore, inside the namespace.
_ng_nf_tool() {
  local suffix=$1 ns=$2 backend=$3 family=$4
  shift 4
  local cmd=iptables
  [[ $family == ipv6 ]] && cmd=ip6tables
  ip netns exec "$ns" "$cmd-$backend$suffix" "$@"
}
ng_nf_ipt() { _ng_nf_tool "" "$1" "$2" "$3" -w "${@:4}"; }
ng_nf_save() { _ng_nf_tool -save "$@"; }
ng_nf_restore() { _ng_nf_tool -restore "$1" "$2" "$3" -w "${@:4}"; }

# ng_nf_agent_config FILE STATE_DIR SOCKET NETFILTER_YAML: a nodeguard config with only the
# netfilter guard on (NETFILTER_YAML is the netfilter section as a flow map). Optional:
# NG_METRICS_LISTEN (default off), NG_LOG_LEVEL (default info).
ng_nf_agent_config() {
  cat >"$1" <<YAML
node_name: nf-test-node
state_dir: $2
grpc_socket: $3
metrics_listen: "${NG_METRICS_LISTEN:-}"
log_level: ${NG_LOG_LEVEL:-info}
netfilter: $4
firewalld: {enabled: false}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
YAML
}

# ng_nf_cni NODE POD BACKEND CONTAINER_ID PLUGIN COMMAND < NETCONF: one CNI plugin call (ADD,
# DEL, CHECK) as a container runtime makes it, inside NODE; prints the plugin's output (its
# result, or its error object) and returns its exit code.
ng_nf_cni() {
  local node=$1 pod=$2 tools cid=$4 plugin=$5 command=$6
  tools=$(ng_nf_tools "$3")
  ng_in "$node" env PATH="$tools:$PATH" CNI_COMMAND="$command" CNI_CONTAINERID="$cid" \
    CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "/usr/lib/cni/$plugin"
}

# ng_nf_pod NODE POD BACKEND FAMILY CONTAINER_ID HOSTPORT POD_SUBNET: runs bridge (with
# host-local IPAM) and portmap ADD for one pod; prints the pod IP. Result files go to $NG_TMP.
ng_nf_pod() {
  local node=$1 pod=$2 backend=$3 family=$4 cid=$5 hostport=$6 subnet=$7
  local tools
  tools=$(ng_nf_tools "$backend")
  local net=$NG_TMP/net-$cid.json pm=$NG_TMP/pm-$cid.json default=0.0.0.0/0
  [[ $subnet == *:* ]] && default=::/0
  cat >"$net" <<J
{"cniVersion":"0.4.0","name":"k8s-pod-network","type":"bridge","bridge":"cni0",
 "isGateway":true,"ipMasq":true,
 "ipam":{"type":"host-local","ranges":[[{"subnet":"$subnet"}]],"routes":[{"dst":"$default"}],
         "dataDir":"$NG_TMP/ipam-$node"}}
J
  local res
  res=$(ip netns exec "$node" env PATH="$tools:$PATH" CNI_COMMAND=ADD CNI_CONTAINERID="$cid" \
        CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
        /usr/lib/cni/bridge <"$net") || ng_fail "bridge ADD: $res"
  echo "$res" >"$NG_TMP/result-$cid.json"
  cat >"$pm" <<J
{"cniVersion":"0.4.0","name":"k8s-pod-network","type":"portmap",
 "capabilities":{"portMappings":true},"snat":true,
 "runtimeConfig":{"portMappings":[{"hostPort":$hostport,"containerPort":80,"protocol":"tcp"}]},
 "prevResult":$res}
J
  local out
  out=$(ip netns exec "$node" env PATH="$tools:$PATH" CNI_COMMAND=ADD CNI_CONTAINERID="$cid" \
        CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
        /usr/lib/cni/portmap <"$pm") || ng_fail "portmap ADD: $out"
  jq -r '.ips[0].address' <<<"$res" | cut -d/ -f1
}

# ng_nf_pod_del NODE POD BACKEND CONTAINER_ID: portmap and bridge DEL (the pod is deleted).
ng_nf_pod_del() {
  local node=$1 pod=$2 backend=$3 cid=$4 tools
  tools=$(ng_nf_tools "$backend")
  local res
  res=$(cat "$NG_TMP/result-$cid.json")
  jq --argjson r "$res" '.prevResult=$r' "$NG_TMP/pm-$cid.json" |
    ip netns exec "$node" env PATH="$tools:$PATH" CNI_COMMAND=DEL CNI_CONTAINERID="$cid" \
      CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/portmap \
    || ng_fail "portmap DEL"
  ip netns exec "$node" env PATH="$tools:$PATH" CNI_COMMAND=DEL CNI_CONTAINERID="$cid" \
    CNI_NETNS="/run/netns/$pod" CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge \
    <"$NG_TMP/net-$cid.json" || ng_fail "bridge DEL"
}

# ng_nf_wait_dad NS: waits until no IPv6 address is tentative.
ng_nf_wait_dad() {
  local ns=$1
  ng_wait_until 10 bash -c "[[ -z \$(ip -n $ns -6 addr show tentative) ]]" ||
    ng_fail "IPv6 addresses in $ns stay tentative"
}

# ng_nf_connect CLIENT_NS ADDR PORT: one TCP connect with a short timeout; prints what the
# server answered.
ng_nf_connect() {
  local ns=$1 addr=$2 port=$3
  local target="TCP4:$addr:$port"
  [[ $addr == *:* ]] && target="TCP6:[$addr]:$port"
  ip netns exec "$ns" timeout 3 socat -T2 - "$target,connect-timeout=2" </dev/null 2>/dev/null
}

# ng_nf_guarded_lines SAVE_TEXT: the guarded part of an iptables-save dump (CNI-*, KUBE-*,
# cali-* chains' rules and the jumps from built-in chains into them), canaries excluded, in
# order. What the agent must bring back identical.
ng_nf_guarded_lines() {
  grep -E '^-A ' | grep -vE '^-A (KUBE-PROXY-CANARY|KUBE-KUBELET-CANARY|NODEGUARD-CANARY) ' |
    grep -E '^-A (CNI-|KUBE-|cali-)|-[jg] (CNI-|KUBE-|cali-)' || true
}
# ng_nf_unowned_lines SAVE_TEXT: everything else (rules and user chains), counters dropped.
ng_nf_unowned_lines() {
  sed -E 's/\[[0-9]+:[0-9]+\]$/[0:0]/' | grep -vE '^#' |
    grep -vE '^-A (CNI-|KUBE-|cali-)|-[jg] (CNI-|KUBE-|cali-)' |
    grep -vE '^:(CNI-|KUBE-|cali-|NODEGUARD-CANARY)' || true
}
