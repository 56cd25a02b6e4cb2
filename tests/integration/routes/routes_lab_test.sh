#!/usr/bin/env bash
# The cross-subnet routes and BGP lab (issue 6), as root in namespaces this test creates:
# nodes A and B share a subnet, C sits in another behind a router that knows no pod CIDRs, real
# BIRD 2 on every node in a full iBGP mesh (protocols Mesh_<ip>), the real nodeguard on A.
#   1. BGP mode: B's block is healthy, C's block is routed via the gateway, and a TCP connect
#      to a pod on C really fails (from the shell and from nodeguard's own probe).
#   2. CrossSubnet: B direct, C over a real VXLAN device vxlan.calico (a Felix stand-in programs
#      the routes); all healthy and pod traffic to C works. The IPIP route shape on a veth named
#      tunl0 is healthy too.
#   3. BIRD stopped on C: A reports the session down (BGPPeerDown) within a poll or so.
# Deadlines are generous; nothing here asserts timings. Subnets come from tests/support/
# topology.sh and can be overridden from the environment.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/support/topology.sh"
ng_require_root
for b in bird birdc socat curl jq bridge; do
  command -v $b >/dev/null || { echo "SKIP: $b missing (tools/install-deps.sh)" >&2; exit 77; }
done
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
SOCK=$NG_TMP/nodeguard.sock
LOG=$NG_TMP/agent.log
fail() {
  echo "FAIL: $*" >&2
  echo "--- ngctl routes:" >&2; "$NGCTL" --socket "$SOCK" --timeout 2s routes --wide >&2 || true
  echo "--- ngctl peers:" >&2; "$NGCTL" --socket "$SOCK" --timeout 2s peers >&2 || true
  echo "--- routes on A:" >&2; ng_in "$RL_A" ip route >&2 || true
  echo "--- agent log (tail):" >&2; tail -n 40 "$LOG" >&2 || true
  exit 1
}
ngctl() { "$NGCTL" --socket "$SOCK" --timeout 3s "$@"; }
# verdict BLOCK -> the verdict kind nodeguard reports for it
verdict() { ngctl routes -o json | jq -r --arg b "$1" '.verdicts[] | select(.block == $b) | .kind' | head -1; }
verdict_is() { [[ $(verdict "$1") == "$2" ]]; }
metrics() { ng_in "$RL_A" curl -sf "http://127.0.0.1:$PORT/metrics"; }
condition_is() { metrics | ng_grep "^nodeguard_condition{status=\"true\",type=\"$1\"} $2"; }

rl_setup
for n in "$RL_A" "$RL_B" "$RL_C"; do
  ng_in "$n" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
rl_add_pod_on_c
ng_bg "$RL_POD" socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo pong' >/dev/null
rl_start_all_birds
ng_wait_until 60 bash -c "[[ \$(birdc -s $NG_TMP/bird-a.ctl show protocols | grep -c Established) -eq 2 ]]" ||
  fail "BGP mesh on A never established"
c_routed() { ng_in "$RL_A" ip route show "$RL_C_BLOCK" | ng_grep via; }
ng_wait_until 30 c_routed ||
  fail "BIRD never installed C's block on A"
ng_log "BGP mesh up; A routes C's block: $(ng_in "$RL_A" ip route show "$RL_C_BLOCK")"

cat >"$NG_TMP/nodeguard.yaml" <<YAML
node_name: lab-a
state_dir: $NG_TMP/state
grpc_socket: $SOCK
metrics_listen: 127.0.0.1:0
health_listen: ""
log_level: debug
netfilter: {enabled: false}
firewalld: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
bgp:
  bird_sockets: [$NG_TMP/bird-a.ctl]
  poll_interval: 1s
  timeout: 2s
routes:
  recheck_interval: 10s
probes:
  interval: 1s
  timeout: 1s
  failure_threshold: 1
  tcp:
    - {name: pod-c, address: "$RL_C_POD:8080", kind: pod}
YAML
"$NODEGUARD" --config "$NG_TMP/nodeguard.yaml" --check-config >/dev/null || fail "config rejected"
ng_bg "$RL_A" "$NODEGUARD" --config "$NG_TMP/nodeguard.yaml" >"$LOG" 2>&1
PORT=
for _ in $(seq 1 200); do
  PORT=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$LOG" 2>/dev/null |
    grep -o '"port":[0-9]*' | cut -d: -f2 || true)
  [[ -n $PORT ]] && break
  sleep 0.1
done
[[ -n $PORT ]] || fail "agent never reported its metrics port"

# 1. BGP mode across subnets: the seed's failure.
ng_wait_until 60 verdict_is "$RL_C_BLOCK" PodRouteViaGateway || fail "C's block not reported via the gateway"
ng_wait_until 30 verdict_is "$RL_B_BLOCK" Healthy || fail "B's block not healthy"
route_c=$(ngctl routes -o json | jq -r --arg b "$RL_C_BLOCK" '.verdicts[] | select(.block == $b) | .route')
[[ $route_c == *"via $RL_GW1 "* ]] || fail "C's route should show the gateway: $route_c"
fix=$(ngctl routes -o json | jq -r --arg b "$RL_C_BLOCK" '.verdicts[] | select(.block == $b) | .fix')
[[ $fix == *CrossSubnet* ]] || fail "fix does not name CrossSubnet: $fix"
ngctl routes | ng_grep PodRouteViaGateway || fail "table output lacks the verdict"
peers=$(ngctl peers -o json)
[[ $(jq '[.sessions[] | select(.bgp_state == "Established")] | length' <<<"$peers") -eq 2 ]] ||
  fail "ngctl peers should list 2 established sessions: $peers"
jq -e --arg ip "$RL_C_IP" '.peers[] | select(.node_ip == $ip) | .sessions[0].name | startswith("Mesh_")' <<<"$peers" >/dev/null ||
  fail "peer C lacks its Mesh_ session: $peers"
if ng_in "$RL_A" socat -T 3 - "TCP:$RL_C_POD:8080,connect-timeout=3" </dev/null >/dev/null 2>&1; then
  fail "pod traffic to C works in BGP mode across subnets; the lab does not reproduce the seed"
fi
ng_wait_until 30 condition_is PodRouteViaGateway 1 || fail "condition PodRouteViaGateway not set"
ng_wait_until 30 condition_is PodUnreachable 1 || fail "nodeguard's TCP probe to the pod did not fail"
metrics | ng_grep '^nodeguard_probe_failures_total{kind="pod",protocol="tcp",reason="[a-z]*",target="pod-c"}' ||
  fail "probe failure metric missing"
metrics | ng_grep '^nodeguard_route_verdicts{kind="PodRouteViaGateway"} 1' || fail "verdict gauge"
metrics | ng_grep '^nodeguard_bgp_sessions{state="Established"} 2' || fail "session gauge"
ng_log "phase 1 ok: B healthy, C via the gateway, pod traffic fails"
ngctl routes --wide >&2
ngctl peers >&2

# 2. CrossSubnet with VXLAN: BIRD keeps the sessions but stops programming the kernel (as with
# Calico's VXLAN backend); a Felix stand-in programs the routes over a real vxlan.calico.
rl_vxlan_crosssubnet A B C
rl_expected_peers A vxlan-crosssubnet A B C >"$NG_TMP/peers.json"
# Bad input is refused whole, naming the field (exit 3), and changes nothing.
set +e
bad=$(echo '{"peers": [{"node_ip": "node-c"}]}' | ngctl peers set --file - 2>&1)
rc=$?
set -e
[[ $rc -eq 3 && $bad == *"peers[0].node_ip"* ]] || fail "bad SetExpectedPeers: rc=$rc $bad"
ngctl peers set --file "$NG_TMP/peers.json" | ng_grep "2 peers" || fail "ngctl peers set"
all_healthy() {
  local j
  j=$(ngctl routes -o json)
  [[ $(jq '[.verdicts[] | select(.kind != "Healthy")] | length' <<<"$j") -eq 0 ]] &&
    [[ $(jq --arg b "$RL_C_BLOCK" '[.verdicts[] | select(.block == $b)] | length' <<<"$j") -ge 1 ]]
}
ng_wait_until 30 all_healthy || fail "CrossSubnet VXLAN not reported healthy"
reason_c=$(ngctl routes -o json | jq -r --arg b "$RL_C_BLOCK" '.verdicts[] | select(.block == $b) | .reason')
[[ $reason_c == VXLAN* ]] || fail "C's block should be healthy over VXLAN: $reason_c"
out=$(ng_in "$RL_A" socat -T 5 - "TCP:$RL_C_POD:8080,connect-timeout=5" </dev/null 2>&1) ||
  fail "pod traffic to C over VXLAN failed: $out"
[[ $out == pong ]] || fail "unexpected answer from the pod: $out"
ng_wait_until 30 condition_is PodUnreachable 0 || fail "nodeguard's probe to the pod did not recover"
ng_wait_until 30 condition_is PodRouteViaGateway 0 || fail "PodRouteViaGateway not cleared"
ng_log "phase 2 ok: CrossSubnet over vxlan.calico healthy, pod answered '$out'"
ngctl routes >&2

# The IPIP route shape (no ipip on this kernel): a veth named tunl0 carries the onlink route.
ng_in "$RL_A" ip link add tunl0 type veth peer name tunl0-peer
ng_in "$RL_A" ip link set tunl0-peer up
ng_in "$RL_A" ip link set tunl0 up
# proto 80, not bird: the real BIRD here prunes proto-bird routes it did not install.
ng_in "$RL_A" ip route replace "$RL_C_BLOCK" via "$RL_C_IP" dev tunl0 onlink proto 80
sed 's/vxlan-crosssubnet/ipip-crosssubnet/g' "$NG_TMP/peers.json" >"$NG_TMP/peers-ipip.json"
ngctl peers set --file "$NG_TMP/peers-ipip.json" >/dev/null || fail "ngctl peers set (ipip)"
ng_wait_until 30 all_healthy || fail "IPIP CrossSubnet shape not reported healthy"
reason_c=$(ngctl routes -o json | jq -r --arg b "$RL_C_BLOCK" '.verdicts[] | select(.block == $b) | .reason')
[[ $reason_c == IPIP* ]] || fail "C's block should be healthy over IPIP: $reason_c"
# And an IPIP route via the gateway is still the seed's failure, named as such.
ng_in "$RL_A" ip route replace "$RL_C_BLOCK" via "$RL_GW1" dev eth0 proto 80
ng_wait_until 30 verdict_is "$RL_C_BLOCK" PodRouteViaGateway || fail "plain route via gateway not flagged"
ng_log "phase 2b ok: IPIP shape healthy; a plain route via the gateway flagged"

# 3. BIRD stops on C: A's session goes down; nodeguard says so within a poll or so.
rl_stop_bird C
ng_wait_until 30 condition_is BGPPeerDown 1 || fail "BGPPeerDown not reported after BIRD on C stopped"
state=$(ngctl peers -o json | jq -r --arg ip "$RL_C_IP" '.sessions[] | select(.neighbor_address == $ip) | .bgp_state')
[[ -n $state && $state != Established ]] || fail "session to C still reported as '$state'"
ngctl peers | ng_grep "$RL_C_IP" || fail "ngctl peers table lacks C"
ng_log "phase 3 ok: session to C reported $state"

ng_in "$RL_A" kill -TERM "$(ng_in "$RL_A" pgrep -f "$NG_TMP/nodeguard.yaml" | head -1)" 2>/dev/null || true
echo "PASS: routes lab (BGP via gateway, CrossSubnet VXLAN and IPIP shapes, session down)"
