#!/usr/bin/env bash
# The native nftables table guard against the real kernel, in namespaces this test creates.
#
# A node namespace holds a kube-proxy-shaped table (tools/bench/gen-kube-proxy-nft.sh: 1,000
# services x 3 endpoints, verdict maps, concatenations, per-service and per-endpoint chains,
# DNAT) loaded with `nft -f`; a pod namespace behind a veth answers on the endpoints of the
# first service (ClusterIP 10.96.0.1:80). The real nodeguard runs in the node namespace. Each
# wipe must be undone: `nft flush ruleset`, `nft delete table ip kube-proxy`, `nft flush table
# ip kube-proxy`, Debian's /etc/nftables.conf (starts with `flush ruleset`) loaded with `nft -f`.
# After each, `nft list table ip kube-proxy` equals the listing before (counters stripped), the
# ClusterIP answers through the DNAT, and the agent's log names the writer `nft`. A Calico-shaped
# table and one with named objects, created while the agent runs, come back too. The owner's
# changes (a service added, an endpoint's element deleted, made by a process named kube-proxy)
# are learned, not undone: the next wipe brings back the new state; the owner deleting its own
# table is learned too (not recreated).
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
ng_require_root
for t in socat nft; do command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }; done
SERVICES=${NG_NATIVE_SERVICES:-1000}

node=$(ng_netns_add node)
pod=$(ng_netns_add pod)
ip link add ngn0 netns "$node" type veth peer name ngp0 netns "$pod"
ng_in "$node" ip addr add 10.244.0.1/24 dev ngn0
ng_in "$node" ip link set ngn0 up
ng_in "$node" ip route add 10.96.0.0/12 dev ngn0
for a in 2 3 4; do ng_in "$pod" ip addr add "10.244.0.$a/24" dev ngp0; done
ng_in "$pod" ip link set ngp0 up
ng_bg "$pod" socat -T2 TCP4-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello-from-endpoint' >/dev/null

"$NG_SOURCE_DIR/tools/bench/gen-kube-proxy-nft.sh" "$SERVICES" >"$NG_TMP/kube-proxy.nft"
t0=$(date +%s%N)
ng_in "$node" nft -f "$NG_TMP/kube-proxy.nft"
ng_log "nft -f of $SERVICES services: $((($(date +%s%N) - t0) / 1000000)) ms"
listing() { ng_in "$node" nft list table ip kube-proxy 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'; }
answers() { [[ $(ng_in "$node" timeout 3 socat -T2 - TCP4:10.96.0.1:80,connect-timeout=2 </dev/null 2>/dev/null) == hello-from-endpoint ]]; }
ng_wait_until 10 answers || ng_fail "the ClusterIP does not answer before the test"

log=$NG_TMP/agent.log
NG_LOG_LEVEL=debug ng_nf_agent_config "$NG_TMP/nodeguard.yaml" "$NG_TMP/state" "$NG_TMP/ng.sock" \
  '{backend: nft, families: [ipv4], nft_tables: ["ip kube-proxy kube-proxy", "ip calico calico-node", "inet objects"], nft_tables_coalesce: 100ms}'
ip netns exec "$node" env XTABLES_LOCKFILE="$NG_TMP/xtables.lock" \
  "$NG_BUILD_DIR/agent/nodeguard" --config "$NG_TMP/nodeguard.yaml" >"$log" 2>&1 &
agent=$!
ng_track_pid "$agent"
fail() {
  echo "--- agent log (last 30 lines):" >&2
  grep -v '"component":"grpc"' "$log" | tail -n 30 >&2 || true
  ng_fail "$*"
}
ng_wait_until 20 grep -q '"msg":"native table guarded"' "$log" || fail "the table was not guarded"

# restored_by_nft [TABLE]: restores of the table (default ip kube-proxy) naming writer nft.
restored_by_nft() {
  grep '"msg":"native table restored"' "$log" | grep "\"table\":\"${1:-ip kube-proxy}\"" |
    grep -c '"writer_comm":"nft"' || true
}
# wipe NAME CMD...: runs the wipe in the node, waits for the restore, checks listing and DNAT.
wipe() {
  local name=$1 before
  shift
  before=$(restored_by_nft)
  local t=$SECONDS
  ng_in "$node" "$@" || fail "$name: the wipe itself failed"
  local deadline=$((SECONDS + 15))
  until (($(restored_by_nft) > before)); do
    ((SECONDS < deadline)) || fail "$name: no restore naming writer nft"
    sleep 0.05
  done
  [[ $(listing) == "$want" ]] || { diff <(echo "$want") <(listing) | head -20 >&2; fail "$name: listing differs"; }
  ng_wait_until 10 answers || fail "$name: the ClusterIP does not answer after the restore"
  ng_log "$name: restored, listing identical, ClusterIP answers ($((SECONDS - t)) s)"
}

want=$(listing)
wipe "nft flush ruleset" nft flush ruleset
wipe "nft delete table" nft delete table ip kube-proxy
wipe "nft flush table" nft flush table ip kube-proxy
wipe "Debian nftables.conf" nft -f "$NG_SOURCE_DIR/tests/integration/nftables/debian-nftables.conf"
ng_in "$node" nft list table inet filter >/dev/null || fail "the admin's own table is gone"

# A Calico-shaped table (interval sets, ifname verdict maps, anonymous sets) and one with named
# counter and quota objects, an object map, a timeout set and a catch-all element
# (tests/unit/netfilter/data/native/*.nft), created after the agent started: learned at first
# sight, then all three tables restored after one `nft flush ruleset`.
data=$NG_SOURCE_DIR/tests/unit/netfilter/data/native
ng_in "$node" nft -f "$data/calico.nft"
ng_in "$node" nft -f "$data/objects.nft"
others() {
  for t in "ip calico" "inet objects"; do
    ng_in "$node" nft list table $t 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/; s/ expires [0-9a-z]+//g'
  done
}
want_others=$(others)
ng_wait_until 10 bash -c "(( \$(grep -c '\"msg\":\"native table guarded\"' '$log') >= 3 ))" ||
  fail "the Calico-shaped and object tables were not learned"
sleep 0.5
declare -A before
for t in "ip kube-proxy" "ip calico" "inet objects"; do before[$t]=$(restored_by_nft "$t"); done
ng_in "$node" nft flush ruleset
for t in "ip kube-proxy" "ip calico" "inet objects"; do
  deadline=$((SECONDS + 15))
  until (($(restored_by_nft "$t") > ${before[$t]})); do
    ((SECONDS < deadline)) || fail "$t was not restored after flush ruleset"
    sleep 0.05
  done
done
[[ $(others) == "$want_others" ]] || { diff <(echo "$want_others") <(others) | head -20 >&2; fail "Calico/object tables differ"; }
[[ $(listing) == "$want" ]] || fail "kube-proxy table differs after the three-table restore"
ng_wait_until 10 answers || fail "the ClusterIP does not answer after the three-table restore"
ng_log "flush ruleset with three guarded tables: all restored, listings identical"

# The owner's changes: a process named kube-proxy (nft under that name) adds a service and
# deletes an element; learned, so the next wipe restores the new state, not the old one.
mkdir -p "$NG_TMP/owner" && cp "$(command -v nft)" "$NG_TMP/owner/kube-proxy"
owner() { ng_in "$node" "$NG_TMP/owner/kube-proxy" "$@"; }
owner -f - <<'NFT'
add chain ip kube-proxy service-NEWSVC-ns/new/tcp/p80
add rule ip kube-proxy service-NEWSVC-ns/new/tcp/p80 ip daddr 10.96.99.99 tcp dport 80 dnat to 10.244.0.2:8080
add element ip kube-proxy cluster-ips { 10.96.99.99 }
add element ip kube-proxy service-ips { 10.96.99.99 . tcp . 80 : goto service-NEWSVC-ns/new/tcp/p80 }
delete element ip kube-proxy cluster-ips { 10.96.0.2 }
NFT
want=$(listing)
grep -q 10.96.99.99 <<<"$want" || fail "the owner's change did not apply"
# Learned (after the coalescing delay): 5 elements a service, + 2 added - 1 deleted.
ng_wait_until 15 grep -q "\"msg\":\"native table learned\",\"table\":\"ip kube-proxy\".*\"elements\":$((5 * SERVICES + 1))" "$log" ||
  fail "the owner's change was not learned"
[[ $(listing) == "$want" ]] || fail "the owner's change was undone"
wipe "nft flush ruleset after the owner's change" nft flush ruleset
grep -q 10.96.99.99 <<<"$(listing)" || fail "the restore brought back the old state"

# The owner deleting its own table: learned, not recreated.
owner delete table ip kube-proxy
ng_wait_until 10 grep -q '"msg":"native table removed by its owner' "$log" ||
  fail "the owner's deletion was not learned"
sleep 1
ng_in "$node" nft list table ip kube-proxy >/dev/null 2>&1 && fail "the owner's deletion was undone"
grep -q '"msg":"native table restore failed"' "$log" && fail "a restore failed"
kill -TERM "$agent"
wait "$agent" || fail "agent exit code $?"
ng_log "PASS"
