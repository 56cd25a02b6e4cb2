#!/usr/bin/env bash
# The netfilter guard against real iptables, real CNI plugins and real traffic, in namespaces
# this test creates. Usage: guard_test.sh legacy|nft ipv4|ipv6
#
# A node namespace gets a pod from the real bridge + host-local + portmap plugins with a TCP
# server behind a hostPort, kube-proxy-like KUBE-* chains and some unowned rules; a client
# namespace reaches the node over a veth. The real nodeguard binary runs in the node namespace
# (XTABLES_LOCKFILE and state_dir in a temp dir, other components off). Then:
#   full flush of nat and filter (-F, -X), a nat-only flush (-F), deleted single rules, FORWARD
#   policy DROP, an agent restart after a flush, and a pod deletion (not drift).
# Each time the guarded rules must come back identical to iptables-save before, the hostPort
# must answer again, and rules nodeguard does not own must be left as they were.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
ng_require_root
BACKEND=${1:?backend}
FAMILY=${2:?family}
IPT=iptables
[[ $FAMILY == ipv6 ]] && IPT=ip6tables
for t in socat jq "$IPT-$BACKEND-save"; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/portmap ]] || { echo "SKIP: CNI plugins missing" >&2; exit 77; }
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl

ng_nf_node_with_pod "$BACKEND" "$FAMILY" 77
KUBE_SVC=10.96.0.10/32 POD_CIDR=10.244.0.0/16
[[ $FAMILY == ipv6 ]] && KUBE_SVC=fd00:96::a/128 POD_CIDR=fd00:10:244::/56
ipt() { ng_nf_ipt "$node" "$BACKEND" "$FAMILY" "$@"; }
save() { ng_nf_save "$node" "$BACKEND" "$FAMILY" "$@"; }
answers() { ng_nf_answers; }
ng_wait_until 15 answers || ng_fail "hostPort does not answer before the test (pod $POD_IP)"

# kube-proxy-like chains, and rules nobody guards.
add_unowned() {
  ng_nf_restore "$node" "$BACKEND" "$FAMILY" --noflush <<R
*nat
:MY-OWN - [0:0]
-A PREROUTING -s $MINE -j MY-OWN
-A MY-OWN -p udp -m udp --dport 53 -j RETURN
COMMIT
*filter
-A INPUT -s $OTHER -j DROP
COMMIT
R
}
ng_nf_restore "$node" "$BACKEND" "$FAMILY" --noflush <<R
*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-ERIFXISQEP7F7OF4 - [0:0]
:KUBE-MARK-MASQ - [0:0]
:KUBE-POSTROUTING - [0:0]
:KUBE-PROXY-CANARY - [0:0]
-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-I OUTPUT 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-I POSTROUTING 1 -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING
-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000
-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN
-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE
-A KUBE-SERVICES -d $KUBE_SVC -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-ERIFXISQEP7F7OF4
-A KUBE-SVC-ERIFXISQEP7F7OF4 ! -s $POD_CIDR -d $KUBE_SVC -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-MARK-MASQ
COMMIT
*filter
:KUBE-FORWARD - [0:0]
-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD
-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP
-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT
COMMIT
R
add_unowned

guarded() { save -t "$1" | ng_nf_guarded_lines; }
unowned() { save -t "$1" | ng_nf_unowned_lines; }
want_nat=$(guarded nat)
want_filter=$(guarded filter)
[[ $(grep -c . <<<"$want_nat") -ge 10 ]] || ng_fail "too few guarded nat rules to test: $want_nat"
grep -q 'CNI-HOSTPORT-DNAT' <<<"$want_nat" || ng_fail "portmap made no CNI-HOSTPORT-DNAT"

# The agent.
state=$NG_TMP/state
log=$NG_TMP/agent.log
sock=$NG_TMP/ng.sock
NG_METRICS_LISTEN=127.0.0.1:0 NG_LOG_LEVEL=debug ng_nf_agent_config "$NG_TMP/nodeguard.yaml" \
  "$state" "$sock" "{backend: $BACKEND, families: [$FAMILY], restore_policies: true, poll_interval: 50ms}"
start_agent() {
  ng_nf_agent_start "$node" "$NG_TMP/nodeguard.yaml" "$log" || fail "agent did not start"
}
stop_agent() { ng_nf_agent_stop "$log" || fail "agent exit code $?"; }
fail() { ng_nf_agent_fail "$log" 60 "$node" "$BACKEND" "$FAMILY" "$*"; }
flush_tables() { ng_nf_flush_tables "$node" "$BACKEND" "$FAMILY" "$@"; }
canary() { save -t nat | grep -q '^:NODEGUARD-CANARY'; }
restored() { [[ $(guarded nat) == "$want_nat" && $(guarded filter) == "$want_filter" ]]; }
expect_restored() {
  ng_wait_until 10 restored || {
    diff <(echo "$want_nat") <(guarded nat) >&2 || true
    diff <(echo "$want_filter") <(guarded filter) >&2 || true
    fail "$1: guarded rules not restored identical"
  }
  ng_wait_until 10 answers || fail "$1: hostPort does not answer after the repair"
}

start_agent
ng_wait_until 10 canary || fail "canary chain not created"
restored || fail "agent changed guarded rules at start"
ng_log "agent up; guarded nat rules: $(grep -c . <<<"$want_nat")"

# 1. What firewalld does: flush and delete every chain of nat and filter.
repairs() { grep -c '"msg":"repair applied"' "$log.cur" || true; }
n=$(repairs)
flush_tables nat filter
expect_restored "full flush"
(( $(repairs) > n )) || fail "no repair logged after the flush (was the flush real?)"
save -t nat | grep -q '^:KUBE-PROXY-CANARY' && fail "KUBE-PROXY-CANARY was restored"
save -t nat | grep -q '^:MY-OWN' && fail "unowned chain MY-OWN was restored"
grep -q '"msg":"repair applied".*"kinds":"flush"' "$log.cur" || fail "no repair log line for the flush"
ng_log "full flush repaired"

# 2. A nat-only flush (rules only; chains stay).
add_unowned
before_filter=$(unowned filter)
n=$(repairs)
ipt -t nat -F
expect_restored "nat-only flush"
(( $(repairs) > n )) || fail "no repair logged after the nat-only flush"
[[ $(unowned filter) == "$before_filter" ]] || fail "filter's unowned rules changed"
ng_log "nat-only flush repaired"

# 3. Single rules deleted: the entry jump, and the DNAT rule of the pod's CNI-DN chain.
add_unowned
before_nat=$(unowned nat)
before_filter=$(unowned filter)
jump=$(save -t nat | grep -E '^-A PREROUTING .*-j CNI-HOSTPORT-DNAT' | head -1)
dn=$(save -t nat | grep -oE '^:CNI-DN-[^ ]+' | head -1 | tr -d :)
dnat=$(save -t nat | grep -E "^-A $dn .*-j DNAT" | head -1)
[[ -n $jump && -n $dnat ]] || fail "could not find the rules to delete"
ipt -t nat ${jump/-A/-D}
expect_restored "deleted PREROUTING jump"
ipt -t nat ${dnat/-A/-D}
expect_restored "deleted DNAT rule"
[[ $(unowned nat) == "$before_nat" ]] || { diff <(echo "$before_nat") <(unowned nat) >&2; fail "unowned nat rules touched"; }
[[ $(unowned filter) == "$before_filter" ]] || fail "unowned filter rules touched"
ng_log "deleted rules repaired, unowned rules untouched"

# 4. FORWARD policy flipped to DROP (restore_policies: true here). Legacy notices a policy flip
# through the content hash, refreshed every 5 s; then the 1 s drift grace.
ipt -P FORWARD DROP
forward_accept() { save -t filter | grep -q '^:FORWARD ACCEPT'; }
ng_wait_until 15 forward_accept || fail "FORWARD policy not restored"
ng_wait_until 10 answers || fail "hostPort does not answer after the policy repair"
grep -q '"kinds":"policy_changed"' "$log.cur" || fail "policy drift not logged"
ng_log "FORWARD DROP repaired"

# 5. The API: ngctl rules and repair --dry-run.
rules=$(ip netns exec "$node" "$NGCTL" --socket "$sock" rules -t nat -o json) || fail "ngctl rules"
[[ $(jq -r '.tables[0].state' <<<"$rules") == ok ]] || fail "nat state not ok: $rules"
[[ $(jq -r '.tables[0].guarded_rules' <<<"$rules") -ge 10 ]] || fail "guarded_rules: $rules"
jq -e '.tables[0].chains[] | select(.name == "CNI-HOSTPORT-DNAT")' <<<"$rules" >/dev/null || fail "no CNI-HOSTPORT-DNAT in ngctl rules"
ip netns exec "$node" "$NGCTL" --socket "$sock" rules | grep -q CNI-HOSTPORT-DNAT || fail "ngctl rules table output"
ipt -t nat -F KUBE-POSTROUTING  # a kube-proxy rewrite: accepted, not drift
sleep 0.5
dry=$(ip netns exec "$node" "$NGCTL" --socket "$sock" repair --dry-run -o json) || fail "ngctl repair --dry-run"
[[ $(jq -r '.dry_run' <<<"$dry") == true ]] || fail "dry run not reported: $dry"
[[ $(jq '[.tables[] | select(.committed)] | length' <<<"$dry") -eq 0 ]] || fail "dry run committed"
want_nat=$(guarded nat)  # the snapshot took kube-proxy's rewrite
port=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$log.cur" | grep -o '[0-9]*$')
metrics=$(ip netns exec "$node" curl -sf "http://127.0.0.1:$port/metrics") || fail "scrape failed"
# The writer label: iptables-nft names the flushing process; legacy has no change record.
writer='writer="'
[[ $BACKEND == legacy ]] && writer='writer="unknown"}'
for m in "nodeguard_netfilter_repairs_total{backend=\"$BACKEND\",family=\"$FAMILY\",result=\"applied\",table=\"nat\",$writer" \
  "nodeguard_netfilter_drift_events_total{backend=\"$BACKEND\",family=\"$FAMILY\",kind=\"flush\",table=\"nat\",$writer" \
  "nodeguard_netfilter_guarded_rules{backend=\"$BACKEND\",family=\"$FAMILY\",table=\"nat\"}" \
  "nodeguard_netfilter_backend_info{backend=\"$BACKEND\",family=\"$FAMILY\",mode=\"$BACKEND\"} 1" \
  "nodeguard_netfilter_repair_duration_seconds_count{backend=\"$BACKEND\",family=\"$FAMILY\"}"; do
  grep -qF "$m" <<<"$metrics" || fail "metric missing: $m"
done
ng_log "ngctl rules and repair --dry-run work; metrics exported"

# 6. A flush while the agent is down is repaired from the persisted snapshot.
stop_agent
[[ -f $state/netfilter/$BACKEND-$FAMILY-nat.rules ]] || fail "no persisted snapshot"
flush_tables nat filter
answers && fail "hostPort answers after the flush"
start_agent
expect_restored "flush while the agent was down"
grep -q '"msg":"netfilter snapshot loaded"' "$log.cur" || fail "snapshot not loaded at start"
ng_log "restart repaired from the persisted snapshot"

# 7. Deleting the pod is a legitimate change: its chains must not come back.
ng_nf_pod_del "$node" "$pod" "$BACKEND" c0ffee0123456789
sleep 1
save -t nat | grep -q "^:$dn" && fail "deleted pod's $dn came back"
ng_wait_until 10 grep -q '"msg":"netfilter snapshot updated"' "$log.cur" || fail "pod deletion not taken into the snapshot"
stop_agent
grep -q '"level":"error"' "$log" && { grep '"level":"error"' "$log" >&2; ng_fail "errors in the agent log"; }
echo "PASS: $BACKEND/$FAMILY flushes, deletions and policy repaired; unowned rules untouched"
