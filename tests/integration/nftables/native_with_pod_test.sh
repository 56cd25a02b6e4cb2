#!/usr/bin/env bash
# Both guards at once against the real kernel, in namespaces this test creates: a node with a
# real bridge + portmap pod (its hostPort DNAT in iptables-nft's nat table, guarded by the
# iptables guard) and a kube-proxy-shaped native table (tools/bench/gen-kube-proxy-nft.sh,
# guarded whole by the native table guard), a ClusterIP whose endpoints sit in another
# namespace. Wipes that take everything at once: `nft flush ruleset`, and Debian's
# /etc/nftables.conf (it starts with `flush ruleset`) loaded the way `systemctl restart
# nftables` loads it. After each: the hostPort answers from the client namespace, the ClusterIP
# answers through the native table's DNAT, the native table lists as before (counters
# stripped), the portmap chains are back, and both guards name the writer `nft`.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
ng_require_root
for t in socat jq nft iptables-nft-save; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/portmap ]] || { echo "SKIP: CNI plugins missing" >&2; exit 77; }
SERVICES=${NG_NATIVE_SERVICES:-1000}

ng_nf_node_with_pod nft ipv4 81
ng_wait_until 15 ng_nf_answers || ng_fail "hostPort does not answer before the test (pod $POD_IP)"
# The ClusterIP's endpoints (10.244.0.2-4:8080, as the generator writes them) in a namespace
# of their own behind a second veth.
eps=$(ng_netns_add eps)
ip link add ngk0 netns "$node" type veth peer name ngk1 netns "$eps"
ng_in "$node" ip addr add 10.244.0.1/24 dev ngk0
ng_in "$node" ip link set ngk0 up
ng_in "$node" ip route add 10.96.0.0/12 dev ngk0
for a in 2 3 4; do ng_in "$eps" ip addr add "10.244.0.$a/24" dev ngk1; done
ng_in "$eps" ip link set ngk1 up
ng_bg "$eps" socat -T2 TCP4-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello-from-endpoint' >/dev/null
"$NG_SOURCE_DIR/tools/bench/gen-kube-proxy-nft.sh" "$SERVICES" >"$NG_TMP/kube-proxy.nft"
ng_in "$node" nft -f "$NG_TMP/kube-proxy.nft"
listing() { ng_in "$node" nft list table ip kube-proxy 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'; }
cluster_ip() { [[ $(ng_in "$node" timeout 3 socat -T2 - TCP4:10.96.0.1:80,connect-timeout=2 </dev/null 2>/dev/null) == hello-from-endpoint ]]; }
ng_wait_until 10 cluster_ip || ng_fail "the ClusterIP does not answer before the test"
portmap() { ng_nf_save "$node" nft ipv4 -t nat | ng_nf_guarded_lines; }
want_nat=$(portmap)
grep -q CNI-HOSTPORT-DNAT <<<"$want_nat" || ng_fail "portmap made no CNI-HOSTPORT-DNAT"
want=$(listing)

log=$NG_TMP/agent.log
NG_LOG_LEVEL=debug ng_nf_agent_config "$NG_TMP/nodeguard.yaml" "$NG_TMP/state" "$NG_TMP/ng.sock" \
  "{backend: nft, families: [ipv4], drift_grace: 200ms, nft_tables: [\"ip kube-proxy kube-proxy\"]}"
ng_nf_agent_start "$node" "$NG_TMP/nodeguard.yaml" "$log" || ng_fail "agent did not start"
fail() { ng_nf_agent_fail "$log" 40 "$node" nft ipv4 "$*"; }
ng_wait_until 20 grep -q '"msg":"native table guarded"' "$log.cur" || fail "the native table was not guarded"
count() { grep "\"msg\":\"$1\"" "$log.cur" | grep -c "$2" || true; }

# wipe NAME CMD...: one wipe of everything, then every check.
wipe() {
  local name=$1 native_before iptables_before t=$SECONDS
  shift
  native_before=$(count "native table restored" '"writer_comm":"nft"')
  iptables_before=$(count "repair applied" '"writer_comm":"nft"')
  ng_in "$node" "$@" || fail "$name: the wipe itself failed"
  ng_wait_until 20 bash -c "(( \$(grep '\"msg\":\"native table restored\"' '$log.cur' | grep -c '\"writer_comm\":\"nft\"') > $native_before ))" ||
    fail "$name: the native table was not restored naming writer nft"
  ng_wait_until 20 bash -c "(( \$(grep '\"msg\":\"repair applied\"' '$log.cur' | grep -c '\"writer_comm\":\"nft\"') > $iptables_before ))" ||
    fail "$name: the iptables guard's repair does not name writer nft"
  ng_wait_until 20 ng_nf_answers || fail "$name: the hostPort does not answer"
  ng_wait_until 10 cluster_ip || fail "$name: the ClusterIP does not answer"
  [[ $(listing) == "$want" ]] || { diff <(echo "$want") <(listing) | head -20 >&2; fail "$name: native listing differs"; }
  [[ $(portmap) == "$want_nat" ]] || { diff <(echo "$want_nat") <(portmap) | head -20 >&2; fail "$name: portmap chains differ"; }
  ng_log "$name: hostPort and ClusterIP answer, both tables as before, writer nft ($((SECONDS - t)) s)"
}

wipe "nft flush ruleset" nft flush ruleset
wipe "Debian nftables.conf (systemctl restart nftables)" nft -f "$NG_SOURCE_DIR/tests/integration/nftables/debian-nftables.conf"
ng_in "$node" nft list table inet filter >/dev/null || fail "the admin's own table is gone"
grep -q '"msg":"native table restore failed"' "$log.cur" && fail "a native restore failed"
ng_nf_agent_stop "$log" || fail "agent exit code $?"
ng_log "PASS"
