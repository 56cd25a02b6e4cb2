# The lab's nodes (sourced by tools/lab after tests/support/netns.sh, tests/support/topology.sh
# and tests/integration/netfilter/lib.sh): firewalld on a private D-Bus, a real pod with a real
# hostPort, a throwaway PKI, nodeguard on every node and its metrics forwarded to the host's
# loopback. Nodes are named by letter (A, B, C) as in topology.sh; node-a is A.
#
# Needs: NG_TMP (the lab's state dir), NODEGUARD, NGCTL, ROOT, LAB_HOSTPORT, LAB_PORT_BASE.

LAB_GRPC_PORT=9748
LAB_METRICS_PORT=9746

lab_dir() { echo "$NG_TMP/node-${1,,}"; }
lab_sock() { echo "$(lab_dir "$1")/nodeguard.sock"; }
lab_metrics_url() { echo "http://127.0.0.1:$((LAB_PORT_BASE + $(lab_index "$1")))/metrics"; }
lab_index() { case $1 in A) echo 1 ;; B) echo 2 ;; C) echo 3 ;; esac; }

# lab_ngctl NODE ARGS...: ngctl against NODE's unix socket.
lab_ngctl() { "$NGCTL" --socket "$(lab_sock "$1")" --timeout 3s "${@:2}"; }

# lab_tls_flags: the controller's mutual-TLS flags for ngctl.
lab_tls_flags() {
  echo --tls-ca "$NG_TMP/pki/ca.pem" --tls-cert "$NG_TMP/pki/controller.pem" \
    --tls-key "$NG_TMP/pki/controller.key"
}

# --- firewalld on a private D-Bus, inside node-a ------------------------------------------------

# lab_firewalld_config DIR: a copy of the machine's firewalld configuration with the nftables
# backend (Debian's default) and zones as a careful operator sets them for Kubernetes: the CNI
# bridge and the VXLAN device trusted, BGP, VXLAN, NodePorts and nodeguard's ports open.
lab_firewalld_config() {
  local etc=$1
  mkdir -p "$etc"
  cp -a /etc/firewalld/. "$etc/"
  sed -i 's/^FirewallBackend=.*/FirewallBackend=nftables/' "$etc/firewalld.conf"
  mkdir -p "$etc/zones"
  cat >"$etc/zones/public.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<zone>
  <short>Public</short>
  <description>nodeguard lab: a Kubernetes node's uplink.</description>
  <service name="ssh"/>
  <service name="bgp"/>
  <port port="4789" protocol="udp"/>
  <port port="$LAB_METRICS_PORT" protocol="tcp"/>
  <port port="$LAB_GRPC_PORT" protocol="tcp"/>
  <port port="30000-32767" protocol="tcp"/>
  <forward/>
</zone>
XML
  cat >"$etc/zones/trusted.xml" <<XML
<?xml version="1.0" encoding="utf-8"?>
<zone target="ACCEPT">
  <short>Trusted</short>
  <description>nodeguard lab: pod interfaces.</description>
  <interface name="cni0"/>
  <interface name="vxlan.calico"/>
  <forward/>
</zone>
XML
}

# lab_firewall_cmd ARGS...: firewall-cmd in node-a, on node-a's private bus.
lab_firewall_cmd() { ng_in "$RL_A" env DBUS_SYSTEM_BUS_ADDRESS="$LAB_BUS" firewall-cmd "$@"; }
lab_firewalld_running() { [[ $(lab_firewall_cmd --state 2>/dev/null) == running ]]; }

# lab_start_firewalld: a dbus-daemon in a private mount namespace where /run/dbus is the lab's
# own directory (so the machine's bus is never touched, and the socket is reachable from outside
# as $LAB_BUS), then firewalld --nofork in that mount namespace and node-a's network namespace.
lab_start_firewalld() {
  local d
  d=$(lab_dir A)/firewalld
  mkdir -p "$d/dbus"
  lab_firewalld_config "$d/etc"
  # The mount point for the private bus; Debian's dbus package normally creates it.
  [[ -d /run/dbus ]] || mkdir -p /run/dbus
  ng_bg_to "$d/dbus.log" "$RL_A" unshare --mount --propagation private -- sh -c \
    'mount --bind "$1" /run/dbus && exec dbus-daemon --system --nofork --nopidfile' lab-dbus "$d/dbus"
  LAB_DBUS_PID=$NG_LAST_PID
  LAB_BUS="unix:path=$d/dbus/system_bus_socket"
  ng_wait_until 20 test -S "$d/dbus/system_bus_socket" || ng_fail "the private dbus-daemon did not start: $(cat "$d/dbus.log")"
  # Guard: enter only a mount namespace that is not the machine's own.
  ng_not_host_ns mnt "/proc/$LAB_DBUS_PID/ns/mnt" ||
    ng_fail "the lab's dbus-daemon is not in a private mount namespace"
  ng_bg_to "$d/firewalld.out" "$RL_A" nsenter --mount="/proc/$LAB_DBUS_PID/ns/mnt" -- \
    firewalld --nofork --nopid --system-config "$d/etc" --log-target file --log-file "$d/firewalld.log"
  ng_wait_until 120 lab_firewalld_running ||
    ng_fail "firewalld did not come up; see $d/firewalld.log and $d/firewalld.out"
}

# --- the pod web-0 on node-a with hostPort LAB_HOSTPORT ----------------------------------------

# lab_start_pod_a: the real bridge + host-local + portmap plugins (through iptables-nft, the
# tools' default here and what firewalld's nftables backend flushes) and a server in the pod;
# the runtime's CNI result cache written as libcni writes it.
lab_start_pod_a() {
  LAB_POD_A=$(ng_netns_add pod-a)
  LAB_POD_CID=$(printf 'web-0 %s' "$NG_RUN_ID" | sha256sum | cut -c1-64)
  LAB_POD_IP=$(ng_nf_pod "$RL_A" "$LAB_POD_A" nft ipv4 "$LAB_POD_CID" "$LAB_HOSTPORT" "$RL_A_BLOCK")
  ng_bg_to "$(lab_dir A)/pod-web-0.log" "$LAB_POD_A" \
    socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:"echo hello from pod web-0"
  local cache
  cache=$(lab_dir A)/cni/results
  mkdir -p "$cache"
  jq -n --slurpfile net "$NG_TMP/net-$LAB_POD_CID.json" \
    --slurpfile res "$NG_TMP/result-$LAB_POD_CID.json" \
    --arg id "$LAB_POD_CID" --arg ns "/run/netns/$LAB_POD_A" --argjson hp "$LAB_HOSTPORT" '
    {kind: "cniCacheV1", containerId: $id, ifName: "eth0", networkName: $net[0].name, netns: $ns,
     config: ({cniVersion: $net[0].cniVersion, name: $net[0].name,
               plugins: [$net[0], {type: "portmap", capabilities: {portMappings: true}, snat: true}]}
              | tojson | @base64),
     capabilityArgs: {portMappings: [{hostPort: $hp, containerPort: 80, protocol: "tcp"}]},
     result: $res[0]}' >"$cache/k8s-pod-network-$LAB_POD_CID-eth0"
}

# lab_hostport_answer NS: what the hostPort answers from namespace NS (empty: nothing).
lab_hostport_answer() {
  ng_in "$1" timeout 3 socat -T2 - "TCP4:$RL_A_IP:$LAB_HOSTPORT,connect-timeout=2" </dev/null \
    2>/dev/null || true
}

# --- nodeguard on every node ---------------------------------------------------------------------

lab_make_pki() {
  NG_CERT_SERVER_SANS="DNS:localhost,DNS:agent.test,IP:127.0.0.1,IP:$RL_A_IP,IP:$RL_B_IP,IP:$RL_C_IP" \
    bash "$ROOT/tests/integration/api/gen_certs.sh" "$NG_TMP/pki" >/dev/null
  printf '# the lab nodes, as the central controller reaches them\n%s:%s\n%s:%s\n%s:%s\n' \
    "$RL_A_IP" $LAB_GRPC_PORT "$RL_B_IP" $LAB_GRPC_PORT "$RL_C_IP" $LAB_GRPC_PORT \
    >"$NG_TMP/fleet.txt"
}

# lab_agent_yaml NODE: the node's nodeguard config. Everything it reads or writes lives in the
# lab's state dir or the node's namespace: BIRD's socket, the kubelet log, the CNI cache.
lab_agent_yaml() {
  local n=$1 d len=$RL_LEN1 fw=false
  d=$(lab_dir "$n")
  [[ $n == C ]] && len=$RL_LEN2
  [[ $n == A ]] && fw=true
  cat <<YAML
node_name: node-${n,,}
state_dir: $d/state
grpc_socket: $d/nodeguard.sock
grpc_listen: 0.0.0.0:$LAB_GRPC_PORT
metrics_listen: 0.0.0.0:$LAB_METRICS_PORT
health_listen: 0.0.0.0:9747
log_level: info
api:
  tls_cert: $NG_TMP/pki/server.pem
  tls_key: $NG_TMP/pki/server.key
  tls_client_ca: $NG_TMP/pki/ca.pem
  allowed_clients: ["dns:controller.example"]
netfilter:
  backend: auto
  families: [ipv4]
firewalld:
  enabled: $fw
cni:
  cache_dir: $d/cni
bgp:
  bird_sockets: [$NG_TMP/bird-${n,,}.ctl]
  poll_interval: 1s
  timeout: 2s
routes:
  node_address: $(rl_var "$n" IP)/$len
  recheck_interval: 10s
probes:
  enabled: false
logs:
  container_dirs: [$d/logs/containers]
  kubelet: $d/logs/kubelet.log
YAML
}

# lab_start_agent NODE: nodeguard in the node's namespace (node-a's on the private bus), its
# metrics forwarded to 127.0.0.1:LAB_PORT_BASE+N on the host.
lab_start_agent() {
  local n=$1 d ns
  d=$(lab_dir "$n")
  ns=$(rl_var "$n")
  mkdir -p "$d/logs/containers" "$d/cni/results"
  : >"$d/logs/kubelet.log"
  lab_agent_yaml "$n" >"$d/nodeguard.yaml"
  "$NODEGUARD" --config "$d/nodeguard.yaml" --check-config >/dev/null ||
    ng_fail "nodeguard rejected $d/nodeguard.yaml"
  local env=(XTABLES_LOCKFILE="$NG_TMP/xtables.lock")
  [[ $n == A ]] && env+=(DBUS_SYSTEM_BUS_ADDRESS="$LAB_BUS")
  ng_bg_to "$d/agent.log" "$ns" env "${env[@]}" "$NODEGUARD" --config "$d/nodeguard.yaml"
  ng_wait_until 20 test -S "$d/nodeguard.sock" || ng_fail "nodeguard on node-${n,,} did not start: $(tail -5 "$d/agent.log")"
  lab_forward_metrics "$n"
}

# lab_forward_metrics NODE: the one process the lab runs in the machine's own network namespace:
# socat bound to a loopback port, each connection handed to a socat inside the node's namespace.
lab_forward_metrics() {
  local n=$1 ns port pid
  ns=$(rl_var "$n")
  port=$((LAB_PORT_BASE + $(lab_index "$n")))
  ng_own_netns "$ns" || ng_fail "not a lab namespace: $ns"
  socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" \
    "EXEC:ip netns exec $ns socat STDIO TCP\:127.0.0.1\:$LAB_METRICS_PORT" \
    >>"$(lab_dir "$n")/forward.log" 2>&1 & # netns-lint: loopback only
  pid=$!
  ng_track_pid "$pid"
  echo "$pid $ns" >>"$NG_TMP/forwarders"
  ng_wait_until 10 lab_metrics_ok "$n" ||
    ng_fail "127.0.0.1:$port does not serve node-${n,,}'s metrics (taken by something else? try --port-base): $(cat "$(lab_dir "$n")/forward.log")"
}
lab_metrics_ok() { curl -sf -m 2 "$(lab_metrics_url "$1")" | ng_grep '^nodeguard_build_info'; }

# lab_kill_forwarders: stops the loopback forwarders a (kept) lab left, checking each pid is
# still that forwarder before killing it.
lab_kill_forwarders() {
  [[ -f $NG_TMP/forwarders ]] || return 0
  local pid ns
  while read -r pid ns; do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | ng_grep -F "ip netns exec $ns socat"; then
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done <"$NG_TMP/forwarders"
  rm -f "$NG_TMP/forwarders"
}

# --- reading the agents --------------------------------------------------------------------------

# lab_condition NODE TYPE: "True", "False" or "" (not reported).
lab_condition() {
  lab_ngctl "$1" -o json status 2>/dev/null |
    jq -r --arg t "$2" '[.conditions[]? | select(.type == $t) | .status][0] // ""'
}
lab_condition_is() { [[ $(lab_condition "$1" "$2") == "$3" ]]; }

# lab_event_seq NODE: the agent's newest event sequence number.
lab_event_seq() { lab_ngctl "$1" -o json status | jq -r '.last_event_seq // 0'; }

# lab_events_since NODE SEQ: the events recorded after SEQ, one JSON object per line.
lab_events_since() {
  lab_ngctl "$1" -o json status --events 50 |
    jq -c --argjson s "$2" '.recent_events[]? | select((.seq | tonumber) > $s)'
}
lab_event_since() { lab_events_since "$1" "$2" | ng_grep "\"reason\":\"$3\""; }

# lab_verdict NODE BLOCK FIELD: a field (kind, route, reason, fix) of NODE's verdict for BLOCK.
lab_verdict() {
  lab_ngctl "$1" -o json routes |
    jq -r --arg b "$2" --arg f "$3" '[.verdicts[]? | select(.block == $b) | .[$f]][0] // ""'
}
lab_verdict_is() { [[ $(lab_verdict "$1" "$2" kind) == "$3" ]]; }

# lab_all_routes_healthy NODE: every verdict Healthy, and one for each peer block.
lab_all_routes_healthy() {
  local j
  j=$(lab_ngctl "$1" -o json routes) || return 1
  [[ $(jq '[.verdicts[]? | select(.kind != "Healthy")] | length' <<<"$j") -eq 0 ]] &&
    [[ $(jq '[.verdicts[]? | select(.peer_ip != null and .peer_ip != "")] | length' <<<"$j") -ge 2 ]]
}

# lab_pod_c_answer: what the pod on node-c answers node-a (empty: nothing).
lab_pod_c_answer() {
  ng_in "$RL_A" timeout 4 socat -T3 - "TCP4:$RL_C_POD:8080,connect-timeout=3" </dev/null \
    2>/dev/null || true
}
