#!/usr/bin/env bash
# A firewalld reload on the Node: real firewalld (nftables backend, as Debian 12 ships it) on a
# private D-Bus in a private mount namespace, a node network namespace with a CNI hostPort
# chain; the reload wipes it, the agent repairs it, and both show up as Events on the Node
# (FirewalldReloaded, NetfilterRepaired) in the stand-in API server, read back by kubectl. The
# API server, the agent and the clients all run in the node namespace, on its loopback.
source "$NG_SOURCE_DIR/tests/integration/firewalld/lib.sh"
ng_fw_private_mounts "$@"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
ng_fw_setup nftables nft
node=$(ng_netns_add node)
KUBE_EXEC="ip netns exec $node"
source "$(dirname "$0")/lib.sh"
ng_fw_start "$node"

# portmap's hostPort chain and its jump (after firewalld started, as on a booted node). The rule
# inside is nobody's the guard can vouch for (no CNI cache here), so only the chain and the jump
# are checked after the repair.
ng_in "$node" iptables-nft -t nat -N CNI-HOSTPORT-DNAT
ng_in "$node" iptables-nft -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
ng_in "$node" iptables-nft -t nat -A CNI-HOSTPORT-DNAT -p tcp --dport 8080 -j DNAT \
  --to-destination 10.244.1.2:80

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
netfilter: {backend: nft, families: [ipv4], poll_interval: 50ms}
firewalld: {enabled: true, retry_max: 5s}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
kubernetes:
  enabled: "true"
  kubeconfig: $T/agent.kubeconfig
  retry_max: 2s
YAML
start_agent
wait_until 60 "the agent on firewalld's bus" grep -q \
  '"msg":"firewalld watcher connected to the system bus".*"firewalld":"running"' "$T/agent.1.log"
wait_until 60 "the guard's canary" bash -c \
  "ip netns exec $node iptables-nft-save -t nat | grep -q NODEGUARD-CANARY"
ng_log "firewall-cmd --reload"
ng_fw_cmd "$node" --reload >/dev/null
wait_until 30 "the FirewalldReloaded Event" kubectl_sees_event FirewalldReloaded
wait_until 30 "the NetfilterRepaired Event" kubectl_sees_event NetfilterRepaired
ng_in "$node" iptables-nft-save -t nat | ng_grep -- '-A PREROUTING .*-j CNI-HOSTPORT-DNAT' ||
  fail "the hostPort rule was not repaired: $(ng_in "$node" iptables-nft-save -t nat)"
ev=$(api GET /api/v1/namespaces/default/events |
  jq -c '[.items[] | select(.reason == "FirewalldReloaded")][0]')
jq -e '.involvedObject.kind == "Node" and .source.component == "nodeguard" and .type == "Normal"' \
  <<<"$ev" >/dev/null || fail "FirewalldReloaded event: $ev"
stop_agent
echo "PASS: a firewalld reload and the repair it caused are Events on the Node"
