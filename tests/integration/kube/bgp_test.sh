#!/usr/bin/env bash
# A BGP peer going down shows up on the Node: condition BGPPeerDown True, an Event, and the
# opt-in taint; when the peer is back the condition clears and the taint goes. Real BIRD 2 on
# both ends of a veth between two namespaces this test creates; the agent reads BIRD's control
# socket and writes to the stand-in API server on loopback (fake_apiserver.py).
source "$NG_SOURCE_DIR/tests/support/netns.sh"
ng_require_root
command -v bird >/dev/null || { echo "SKIP: bird2 missing"; exit 77; }
source "$NG_SOURCE_DIR/tests/support/topology.sh"
source "$(dirname "$0")/lib.sh"

RL_A=$(ng_netns_add a)
RL_B=$(ng_netns_add b)
ng_veth "$RL_A" eth0 "$RL_B" eth0
ng_in "$RL_A" ip addr add "$RL_A_IP/24" dev eth0
ng_in "$RL_B" ip addr add "$RL_B_IP/24" dev eth0
rl_start_bird A A B
rl_start_bird B A B

start_api
kubeconfig "$T/agent.kubeconfig" "{tokenFile: $T/agent-token}"
kubeconfig "$T/witness.kubeconfig" "{token: witness-token}"
cat >"$T/nodeguard.yaml" <<YAML
node_name: $NODE
state_dir: $T/state
grpc_socket: $T/ng.sock
metrics_listen: 127.0.0.1:0
health_listen: ""
shutdown_timeout: 30s  # a loaded CI machine's fsync; shutdown is not what is tested here
netfilter: {enabled: false}
firewalld: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
bgp:
  enabled: true
  bird_sockets: [$T/bird-a.ctl]
  poll_interval: 500ms
kubernetes:
  enabled: "true"
  kubeconfig: $T/agent.kubeconfig
  conditions: [BGPPeerDown]
  taints: [BGPPeerDown=NoSchedule]
  retry_max: 2s
YAML
start_agent
ng_log "sessions up: BGPPeerDown False on the Node"
wait_until 30 "BGPPeerDown False" cond_is BGPPeerDown status False
ng_log "peer B's BIRD stops: condition, event, taint"
rl_stop_bird B
wait_until 20 "BGPPeerDown True" cond_is BGPPeerDown status True
wait_until 10 "the taint" taints_are "example.com/team,nodeguard.io/BGPPeerDown"
wait_until 10 "the BGPPeerDown event" kubectl_sees_event BGPPeerDown
desc=$(kubectl --kubeconfig "$T/witness.kubeconfig" describe node "$NODE")
grep -Eq 'BGPPeerDown +True' <<<"$desc" || fail "kubectl describe: $desc"
ng_log "peer B is back: cleared, taint removed"
rl_start_bird B A B
wait_until 30 "BGPPeerDown False again" cond_is BGPPeerDown status False
wait_until 10 "the taint removed" taints_are "example.com/team"
stop_agent
echo "PASS: a BGP peer down is a Node condition, an Event and a taint, and clears"
