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
health_listen: ""
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

# ng_nf_kube_rules NODE BACKEND FAMILY: kube-proxy-like chains in nat and filter with what real
# rule sets hold: comments with quotes, negations, -m modules (comment, statistic, multiport,
# addrtype, mark, conntrack, tcp/udp), -j and -g, MARK, MASQUERADE, DNAT, REJECT. The nft fast
# path's test data (tests/unit/netfilter/data/capture-nft-dump.sh) and tests use them.
ng_nf_kube_rules() {
  local node=$1 backend=$2 family=$3
  local svc=10.96.0.10/32 pods=10.244.0.0/16 ep1=10.244.0.2 ep2=10.244.0.3 lo=127.0.0.0/8
  local dnat1=$ep1:53 dnat2=$ep2:53 reject=icmp-port-unreachable
  if [[ $family == ipv6 ]]; then
    svc=fd00:96::a/128 pods=fd00:10:244::/56 ep1=fd00:10:244::2 ep2=fd00:10:244::3 lo=::1/128
    dnat1=[$ep1]:53 dnat2=[$ep2]:53 reject=icmp6-port-unreachable
  fi
  local plen=32
  [[ $family == ipv6 ]] && plen=128
  ng_nf_restore "$node" "$backend" "$family" --noflush <<R
*nat
:KUBE-SERVICES - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-NODEPORTS - [0:0]
:KUBE-SVC-TCOU7JCQXEZGVUNU - [0:0]
:KUBE-SEP-IT2ZTR26TO4XFPTO - [0:0]
:KUBE-SEP-N4G2XR5TDX7PQE7P - [0:0]
:KUBE-EXT-QKDW4NIGFXTFVTAA - [0:0]
:KUBE-MISC - [0:0]
:KUBE-PROXY-CANARY - [0:0]
-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-I OUTPUT 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-I POSTROUTING 1 -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully
-A KUBE-SERVICES -d $svc -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU
-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS
-A KUBE-SVC-TCOU7JCQXEZGVUNU ! -s $pods -d $svc -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ
-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> $dnat1" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-IT2ZTR26TO4XFPTO
-A KUBE-SVC-TCOU7JCQXEZGVUNU -m comment --comment "kube-system/kube-dns:dns -> $dnat2" -j KUBE-SEP-N4G2XR5TDX7PQE7P
-A KUBE-SEP-IT2ZTR26TO4XFPTO -s $ep1/$plen -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
-A KUBE-SEP-IT2ZTR26TO4XFPTO -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination $dnat1
-A KUBE-SEP-N4G2XR5TDX7PQE7P -s $ep2/$plen -m comment --comment "kube-system/kube-dns:dns" -j KUBE-MARK-MASQ
-A KUBE-SEP-N4G2XR5TDX7PQE7P -p udp -m comment --comment "kube-system/kube-dns:dns" -m udp -j DNAT --to-destination $dnat2
-A KUBE-NODEPORTS -p tcp -m comment --comment "default/web:http \"quoted\" 'name'" -m tcp --dport 30080 -j KUBE-EXT-QKDW4NIGFXTFVTAA
-A KUBE-EXT-QKDW4NIGFXTFVTAA -m comment --comment "masquerade traffic for default/web:http external destinations" -j KUBE-MARK-MASQ
-A KUBE-EXT-QKDW4NIGFXTFVTAA -g KUBE-SVC-TCOU7JCQXEZGVUNU
-A KUBE-MISC ! -p tcp -m comment --comment "not tcp" -j RETURN
-A KUBE-MISC -p udp -m multiport --dports 53,5353 -j RETURN
-A KUBE-MISC ! -d $svc -p tcp -m tcp ! --dport 80 -m mark --mark 0x1/0xff -j RETURN
COMMIT
*filter
:KUBE-FORWARD - [0:0]
:KUBE-FIREWALL - [0:0]
:KUBE-EXTERNAL-SERVICES - [0:0]
-A INPUT -m comment --comment "kubernetes health check service ports" -j KUBE-FIREWALL
-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes externally-visible service portals" -j KUBE-EXTERNAL-SERVICES
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A KUBE-FIREWALL ! -s $lo -d $lo -m comment --comment "block incoming localnet connections" -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT -j DROP
-A KUBE-EXTERNAL-SERVICES -p tcp -m comment --comment "default/x:http has no endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 30081 -j REJECT --reject-with $reject
COMMIT
R
}

# The agent under test, for the netfilter scripts. Its output of the current run goes to
# LOG.cur, appended to LOG when it stops.
# ng_nf_agent_start NODE CONFIG LOG [VAR=VALUE...]: starts nodeguard in NODE with the test's
# xtables lock and the extra environment, and waits until the guard runs; NG_NF_AGENT_PID is
# its pid. Returns non-zero if it did not start within 20 s.
NG_NF_AGENT_PID=
ng_nf_agent_start() {
  local node=$1 config=$2 log=$3
  shift 3
  : >"$log.cur"
  ip netns exec "$node" env XTABLES_LOCKFILE="$NG_TMP/xtables.lock" "$@" \
    "$NG_BUILD_DIR/agent/nodeguard" --config "$config" >>"$log.cur" 2>&1 &
  NG_NF_AGENT_PID=$!
  ng_track_pid "$NG_NF_AGENT_PID"
  ng_wait_until 20 grep -q '"msg":"netfilter guard running"' "$log.cur"
}
# ng_nf_agent_stop LOG: SIGTERM, wait; returns the agent's exit code.
ng_nf_agent_stop() {
  local rc=0
  kill -TERM "$NG_NF_AGENT_PID"
  wait "$NG_NF_AGENT_PID" || rc=$?
  ((rc == 0)) && cat "$1.cur" >>"$1"  # otherwise ng_nf_agent_fail keeps it
  return "$rc"
}
# ng_nf_agent_fail LOG LINES NODE BACKEND FAMILY MESSAGE: the last LINES of the agent log and
# the nat table to stderr, then fails the test.
ng_nf_agent_fail() {
  local log=$1 lines=$2
  [[ -f $log.cur ]] && cat "$log.cur" >>"$log"
  echo "--- agent log (last $lines lines, gRPC's own debug lines left out):" >&2
  grep -v '"component":"grpc"' "$log" | tail -n "$lines" >&2 || true
  echo "--- nat now:" >&2
  ng_nf_save "$3" "$4" "$5" -t nat >&2 || true
  ng_fail "$6"
}
# ng_nf_flush_tables NODE BACKEND FAMILY TABLE...: what firewalld's reload does to tables: flush
# every chain and delete every user chain, in one iptables-restore transaction.
ng_nf_flush_tables() {
  local node=$1 backend=$2 family=$3 t input=
  shift 3
  for t in "$@"; do input+=$'*'"$t"$'\n-F\n-X\nCOMMIT\n'; done
  # iptables-nft-restore can fail when another writer commits while it runs (nodeguard already
  # repairing the first table: the tool's retry then fails with CHAIN_DEL ENOENT on chains it
  # listed before). Flushing again is still the flush the test means.
  # Seen failing twice in a row (the guard repairs nat, then filter, each a commit of its own),
  # about one run in five of guard_test.sh nft ipv4; and four times in a row under parallel
  # load (the fast path repairs in milliseconds): up to six tries, letting the repair of a
  # half-applied try finish before the next.
  local try
  for try in 1 2 3 4 5; do
    ng_nf_restore "$node" "$backend" "$family" --noflush <<<"$input" 2>/dev/null && return 0
    sleep "0.$((try * 2))"
  done
  ng_nf_restore "$node" "$backend" "$family" --noflush <<<"$input"
}

# ng_nf_node_with_pod BACKEND FAMILY NET: the scene of the guard tests. A node namespace with a
# pod made by the real bridge + portmap plugins (through BACKEND's iptables) and a TCP server in
# it behind hostPort 8080, and a client namespace on a veth to the node (192.168.NET.0/24 or
# fd00:NET::/64; NET differs per script so their addresses never look alike in logs). Sets
# node pod client NODE_IP CLIENT_IP SUBNET HOSTPORT POD_IP, and MINE / OTHER (documentation
# prefixes for unowned rules). ng_nf_answers: the hostPort answers from the client.
ng_nf_node_with_pod() {
  local backend=$1 family=$2 net=$3 listen
  node=$(ng_netns_add node)
  pod=$(ng_netns_add pod)
  client=$(ng_netns_add client)
  ng_veth "$node" ngn0 "$client" ngc0
  if [[ $family == ipv4 ]]; then
    NODE_IP=192.168.$net.1 CLIENT_IP=192.168.$net.2 SUBNET=10.244.1.0/24
    ip -n "$node" addr add "$NODE_IP/24" dev ngn0
    ip -n "$client" addr add "$CLIENT_IP/24" dev ngc0
    ng_in "$node" sysctl -qw net.ipv4.ip_forward=1
    MINE=192.0.2.0/24 OTHER=203.0.113.0/24 listen=TCP4-LISTEN:80
  else
    NODE_IP=fd00:$net::1 CLIENT_IP=fd00:$net::2 SUBNET=fd00:10:244:1::/64
    ip -n "$node" addr add "$NODE_IP/64" dev ngn0 nodad
    ip -n "$client" addr add "$CLIENT_IP/64" dev ngc0 nodad
    ng_in "$node" sysctl -qw net.ipv6.conf.all.forwarding=1
    MINE=2001:db8:1::/64 OTHER=2001:db8:2::/64 listen=TCP6-LISTEN:80
  fi
  HOSTPORT=8080
  POD_IP=$(ng_nf_pod "$node" "$pod" "$backend" "$family" c0ffee0123456789 $HOSTPORT "$SUBNET")
  [[ $family == ipv6 ]] && { ng_nf_wait_dad "$pod"; ng_nf_wait_dad "$node"; }
  ng_bg "$pod" socat "$listen,fork,reuseaddr" SYSTEM:"echo hello-from-pod" >/dev/null
}
ng_nf_answers() { [[ $(ng_nf_connect "$client" "$NODE_IP" "$HOSTPORT") == hello-from-pod ]]; }
