#!/usr/bin/env bash
# nodeguard against the real firewalld, end to end. Usage: reload_e2e_test.sh BACKEND TOOLS
#   iptables legacy : firewalld's iptables backend, the iptables commands are iptables-legacy
#   nftables nft    : firewalld's default nftables backend, the iptables commands are iptables-nft
#
# Everything runs in a private mount namespace (own /run, /etc/firewalld copy, iptables
# alternatives, dbus-daemon on a socket in the temp dir) and network namespaces made here:
# a node with the real firewalld, a pod made by the real bridge + host-local + portmap plugins
# with a TCP server behind hostPort 8080, a client probing the hostPort every 10 ms, and
# nodeguard in the node namespace on the private bus (DBUS_SYSTEM_BUS_ADDRESS). Then:
#   1. firewall-cmd --reload: the hostPort answers again, the guarded rules equal the pre-reload
#      dump, firewalld's own rules equal its own rules before, nodeguard logged the Reloaded
#      trigger; ngctl status shows firewalld.
#   2. a firewalld restart (stop, start): the same, with the NameOwnerChanged triggers.
#   3. nodeguard stopped, firewall-cmd --reload: the hostPort stays broken (why it exists).
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/integration/firewalld/lib.sh"
ng_fw_private_mounts "$@"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
BACKEND=${1:?firewalld backend: iptables | nftables}
TOOLS=${2:?iptables tools: legacy | nft}
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/portmap ]] || { echo "SKIP: CNI plugins missing" >&2; exit 77; }
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
PROBER=$NG_BUILD_DIR/tests/integration/firewalld/hostport_prober

node=$(ng_netns_add node)
pod=$(ng_netns_add pod)
client=$(ng_netns_add client)
ng_veth "$node" eth0 "$client" eth0c
NODE_IP=192.168.77.1 HOSTPORT=8080
ip -n "$node" addr add $NODE_IP/24 dev eth0
ip -n "$client" addr add 192.168.77.2/24 dev eth0c
ng_in "$node" sysctl -qw net.ipv4.ip_forward=1
ng_fw_setup "$BACKEND" "$TOOLS"
ng_fw_start "$node"
ng_log "firewalld running ($BACKEND backend, $TOOLS iptables tools)"

# The pod, after firewalld (as on a node where firewalld starts at boot).
pod_ip=$(ng_nf_pod "$node" "$pod" "$TOOLS" ipv4 c0ffee0123456789 $HOSTPORT 10.244.1.0/24)
ng_bg "$pod" socat TCP4-LISTEN:80,fork,reuseaddr SYSTEM:"echo hello-from-pod" >/dev/null
answers() { [[ $(ng_nf_connect "$client" "$NODE_IP" $HOSTPORT) == hello-from-pod ]]; }
ng_wait_until 45 answers || ng_fail "hostPort does not answer before the test (pod $pod_ip)"

save() { ng_in "$node" "iptables-$TOOLS-save" "$@"; }
guarded() { save -t nat | ng_nf_guarded_lines; save -t filter | ng_nf_guarded_lines; }
# firewalld's own rules: its nftables tables, or (iptables backend) everything in the iptables
# tables that is not guarded and not ours.
firewalld_rules() {
  if [[ $BACKEND == nftables ]]; then
    local t
    for t in $(ng_in "$node" nft list tables | awk '/firewalld/ {print $2 "/" $3}'); do
      ng_in "$node" nft list table "${t%/*}" "${t#*/}"
    done
  else
    save | ng_nf_unowned_lines
  fi
}
want=$(guarded)
grep -q CNI-HOSTPORT-DNAT <<<"$want" || ng_fail "portmap made no CNI-HOSTPORT-DNAT"
fw_before=$(firewalld_rules)
[[ -n $fw_before ]] || ng_fail "no firewalld rules found"

# nodeguard on the private bus, in the node namespace.
state=$NG_TMP/state
sock=$NG_TMP/ng.sock
log=$NG_TMP/agent.log
cat >"$NG_TMP/nodeguard.yaml" <<YAML
node_name: fw-test-node
state_dir: $state
grpc_socket: $sock
metrics_listen: ""
health_listen: ""
log_level: debug
netfilter: {backend: $TOOLS, families: [ipv4], restore_policies: true, poll_interval: 50ms}
firewalld: {enabled: true, retry_max: 5s}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
YAML
ip netns exec "$node" "$NODEGUARD" --config "$NG_TMP/nodeguard.yaml" >"$log" 2>&1 &
agent_pid=$!
ng_track_pid "$agent_pid"
fail() {
  echo "--- agent log (last 40 lines):" >&2
  tail -n 40 "$log" >&2 || true
  echo "--- firewalld log (last 15 lines):" >&2
  tail -n 15 "$NG_TMP/firewalld.log" >&2 || true
  echo "--- nat now:" >&2
  save -t nat >&2 || true
  ng_fail "$*"
}
ng_wait_until 60 grep -q '"msg":"netfilter guard running"' "$log" || fail "agent did not start"
ng_wait_until 60 grep -q '"msg":"firewalld watcher connected to the system bus".*"firewalld":"running"' "$log" ||
  fail "the agent did not find firewalld on the private bus"
ng_wait_until 30 bash -c "ip netns exec $node iptables-$TOOLS-save -t nat | grep -q NODEGUARD-CANARY" ||
  fail "no canary"
ng_wait_until 30 grep -q '"msg":"firewalld policy read"' "$log" || fail "firewalld's policy was not read"

probe_log=$NG_TMP/probes.txt
ip netns exec "$client" "$PROBER" --target $NODE_IP:$HOSTPORT --interval-ms 10 --timeout-ms 100 >"$probe_log" &
ng_track_pid $!
ng_wait_until 15 grep -q ' ok ' "$probe_log" || fail "the prober sees no answers"

# outage SINCE_NS: how long probes started after SINCE_NS failed, and when they answered again.
outage() {
  awk -v since="$1" '$1 >= since {
      if ($2 == "fail" && !first_fail) first_fail = $1
      if ($2 == "ok" && first_fail && !back) back = $1
    }
    END {
      if (!first_fail) { print "no failed probe"; exit }
      if (!back) { print "never answered again"; exit }
      printf "outage %.0f ms\n", (back - first_fail) / 1e6
    }' <(sort -n -k1,1 "$probe_log")
}
restored() { [[ $(guarded) == "$want" ]] && answers; }
fw_same() { [[ $(firewalld_rules) == "$fw_before" ]]; }
expect_restored() {
  local what=$1 since=$2
  ng_wait_until 45 restored || {
    diff <(echo "$want") <(guarded) >&2 || true
    fail "$what: guarded rules not restored identical or hostPort silent"
  }
  # The prober saw the hostPort answer after the event.
  ng_wait_until 15 awk -v s="$since" '$1 >= s && $2 == "ok" {f=1} END {exit !f}' "$probe_log" ||
    fail "$what: no probe answered after it"
  # firewalld's rules: as firewalld made them before, nodeguard changed none of them.
  ng_wait_until 30 fw_same || {
    diff <(echo "$fw_before") <(firewalld_rules) >&2 || true
    fail "$what: firewalld's own rules differ from before"
  }
  ng_log "$what: restored; $(outage "$since")"
}

# 1. firewall-cmd --reload.
t0=$(date +%s%N)
ng_fw_cmd "$node" --reload >/dev/null || fail "firewall-cmd --reload"
ng_wait_until 30 grep -q '"msg":"firewalld event; netfilter check requested".*"trigger":"Reloaded"' "$log" ||
  fail "nodeguard did not log the Reloaded trigger"
expect_restored "firewall-cmd --reload" "$t0"
grep -q '"msg":"repair applied"' "$log" || fail "no repair logged (was the reload a flush?)"

status=$(ip netns exec "$node" "$NGCTL" --socket "$sock" status) || fail "ngctl status"
grep -E '^firewalld +running +firewalld 1\.[0-9.]+ running \(backend '"$BACKEND"', default zone public\); 1 reload/restart seen' <<<"$status" >/dev/null ||
  { echo "$status" >&2; fail "ngctl status does not show firewalld running, its backend and the reload"; }
json=$(ip netns exec "$node" "$NGCTL" --socket "$sock" status -o json) || fail "ngctl status -o json"
jq -e '.components[] | select(.name == "firewalld") | .details
       | .running == "true" and .reloads_seen == "1" and .last_reload != ""
         and .last_reload_trigger == "Reloaded (reloaded)" and has("conflicts")' <<<"$json" >/dev/null ||
  { jq '.components[] | select(.name == "firewalld")' <<<"$json" >&2; fail "firewalld details missing"; }
# Debian's stock public zone does not open the kubelet port: a conflict with its remedy.
jq -e '.conditions[] | select(.type == "FirewalldBlocksKubelet" and .status == "True")
       | .message | contains("firewall-cmd --permanent --zone=public --add-port=10250/tcp")' \
  <<<"$json" >/dev/null || fail "no FirewalldBlocksKubelet condition with the remedy"

# 2. A restart: firewalld stops (CleanupOnExit flushes everything) and starts again.
t1=$(date +%s%N)
ng_fw_stop
ng_wait_until 30 grep -q '"trigger":"NameOwnerChanged","event":"stopped"' "$log" ||
  fail "nodeguard did not log firewalld stopping"
ng_fw_start "$node"
ng_wait_until 30 grep -q '"trigger":"NameOwnerChanged","event":"started"' "$log" ||
  fail "nodeguard did not log firewalld starting"
expect_restored "firewalld restart" "$t1"
ng_wait_until 30 grep -q '"msg":"firewalld answers after its start; netfilter check requested"' "$log" ||
  fail "no check once firewalld answered"

# 3. Without nodeguard: the same reload breaks the hostPort for good.
kill -TERM "$agent_pid"
wait "$agent_pid" || fail "agent exit code $?"
t2=$(date +%s%N)
ng_fw_cmd "$node" --reload >/dev/null || fail "firewall-cmd --reload"
sleep 5
answers && ng_fail "the hostPort answers without nodeguard: the reload did not break it?"
save -t nat | grep -q CNI-HOSTPORT-DNAT && ng_fail "CNI-HOSTPORT-DNAT survived the reload"
# No run of 5 answered probes in the last 2 s (a lone answer is a probe whose source port hit a
# conntrack entry DNATed before the flush, not the hostPort working).
sort -n -k1,1 "$probe_log" | awk -v s="$(($(date +%s%N) - 2000000000))" '
  $1 >= s { if ($2 == "ok") { if (++run >= 5) exit 1 } else run = 0 }' ||
  ng_fail "the hostPort answered in the last 2 s without nodeguard"
ng_log "without nodeguard: $(outage "$t2") (the hostPort stays broken)"
echo "PASS: firewalld $BACKEND backend with iptables-$TOOLS"
