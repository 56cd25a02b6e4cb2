#!/usr/bin/env bash
# The nft backend's fast write path (one netlink batch replaying the kernel's own encoding of
# the saved rules) against the real kernel, in namespaces this test creates.
# Usage: nft_fast_test.sh ipv4|ipv6 PATH-TO-ng_nft_read_check
#
# A node namespace gets a pod from the real bridge + host-local + portmap plugins with a TCP
# server behind a hostPort, kube-proxy-like chains in nat and filter (comments with quotes,
# negations, statistic, multiport, addrtype, mark, conntrack, -j and -g, MARK, MASQUERADE,
# DNAT, REJECT) and some unowned rules, all written by iptables-nft. The real nodeguard runs in
# the node namespace. Each repair must bring the guarded rules back byte-identical in
# iptables-nft-save, through the netlink path:
#   full flush of nat and filter (-F, -X), a nat-only flush, a deleted jump in the middle of a
#   built-in chain, the whole nat table deleted (`nft delete table`, what `nft flush ruleset`
#   does);
# and with a fast path made to fail for real (NG_TEST_NFT_FAST_PATH_FAULT), through
# iptables-nft-restore in the same repair:
#   the kernel refusing the batch, and a batch that commits but reads back different.
# The read built from the netlink dump alone is compared with iptables-nft-save (ng_nft_read_check).
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
ng_require_root
FAMILY=${1:?family}
READ_CHECK=${2:?path to ng_nft_read_check}
IPT=iptables NFT_FAMILY=ip
[[ $FAMILY == ipv6 ]] && IPT=ip6tables NFT_FAMILY=ip6
for t in socat jq curl nft "$IPT-nft-save"; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/portmap ]] || { echo "SKIP: CNI plugins missing" >&2; exit 77; }

ng_nf_node_with_pod nft "$FAMILY" 78
ipt() { ng_nf_ipt "$node" nft "$FAMILY" "$@"; }
save() { ng_nf_save "$node" nft "$FAMILY" "$@"; }
answers() { ng_nf_answers; }
ng_wait_until 15 answers || ng_fail "hostPort does not answer before the test"

ng_nf_kube_rules "$node" nft "$FAMILY"
add_unowned() {
  ng_nf_restore "$node" nft "$FAMILY" --noflush <<R
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
add_unowned
guarded() { save -t "$1" | ng_nf_guarded_lines; }
unowned() { save -t "$1" | ng_nf_unowned_lines; }
# The built-in chains' rules in order, guarded and not: positions must come back too.
builtin_rules() { save -t "$1" | grep -E '^-A (PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ' || true; }
want_nat=$(guarded nat)
want_filter=$(guarded filter)
want_builtin_nat=$(builtin_rules nat)
[[ $(grep -c . <<<"$want_nat") -ge 20 ]] || ng_fail "too few guarded nat rules: $want_nat"
grep -q 'quoted' <<<"$want_nat" || ng_fail "kube-like rules missing"

state=$NG_TMP/state
log=$NG_TMP/agent.log
NG_METRICS_LISTEN=127.0.0.1:0 NG_LOG_LEVEL=debug ng_nf_agent_config "$NG_TMP/nodeguard.yaml" \
  "$state" "$NG_TMP/ng.sock" "{backend: nft, families: [$FAMILY], restore_policies: true, nft_fast_path: true}"
start_agent() {  # [FAULT]
  ng_nf_agent_start "$node" "$NG_TMP/nodeguard.yaml" "$log" \
    NG_TEST_NFT_FAST_PATH_FAULT="${1:-}" || fail "agent did not start"
  # Both tables read and their canaries in: the table definitions are known (a table or base
  # chain never seen cannot be re-created by the batch, and that repair goes through the tool).
  ng_wait_until 10 canary || fail "canary chain not created"
  ng_wait_until 10 canary filter || fail "filter canary not created"
}
stop_agent() { ng_nf_agent_stop "$log" || fail "agent exit code $?"; }
fail() { ng_nf_agent_fail "$log" 40 "$node" nft "$FAMILY" "$*"; }
# No `cmd | grep -q` under pipefail: grep -q exits early and the writer's SIGPIPE fails the pipe.
has() { grep -qE -- "$1" <<<"$2"; }
canary() { has '^:NODEGUARD-CANARY ' "$(save -t "${1:-nat}")"; }  # [TABLE]
flush_tables() { ng_nf_flush_tables "$node" nft "$FAMILY" "$@"; }
restored() { [[ $(guarded nat) == "$want_nat" && $(guarded filter) == "$want_filter" ]]; }
expect_restored() {
  ng_wait_until 10 restored || {
    diff <(echo "$want_nat") <(guarded nat) >&2 || true
    diff <(echo "$want_filter") <(guarded filter) >&2 || true
    fail "$1: guarded rules not restored byte-identical"
  }
  ng_wait_until 10 answers || fail "$1: hostPort does not answer after the repair"
}
repairs() { grep -c '"msg":"repair applied"' "$log.cur" || true; }
# The repair lines logged since line N of the current log.
repair_lines_since() { tail -n +"$(($1 + 1))" "$log.cur" | grep '"msg":"repair applied"' || true; }
lines() { wc -l <"$log.cur"; }
repaired() { has "\"table\":\"nft/$FAMILY/$1\"" "$(repair_lines_since "$mark")"; }
wait_repairs() {  # TABLE... : a repair line for each table since mark
  local t
  for t in "$@"; do
    ng_wait_until 10 repaired "$t" || fail "no repair of $t logged"
  done
}
expect_path() {  # PATH: every repair since mark went that way
  local got
  got=$(repair_lines_since "$mark" | jq -r '.path' | sort -u)
  [[ $got == "$1" ]] || { repair_lines_since "$mark" >&2; fail "repairs went through '$got', want '$1'"; }
}
metric() {
  local port
  port=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$log.cur" | grep -o '[0-9]*$')
  ip netns exec "$node" curl -sf "http://127.0.0.1:$port/metrics" | grep -F "$1" | awk '{print $2}'
}

# The read built from the netlink dump alone (rule texts learned from paired reads) must equal
# iptables-nft-save on these real tables: quoted comments, negations, extensions, CNI chains.
read_check() {
  ng_in "$node" "$READ_CHECK" "$FAMILY" nat filter mangle raw >&2 ||
    fail "$1: the nft read from the dump differs from iptables-nft-save"
}

start_agent
restored || fail "agent changed guarded rules at start"
read_check "at start"

# 1. What firewalld does: flush and delete every chain of nat and filter.
mark=$(lines)
flush_tables nat filter
expect_restored "full flush"
wait_repairs nat filter
expect_path netlink
[[ $(builtin_rules nat | ng_nf_guarded_lines) == "$(ng_nf_guarded_lines <<<"$want_builtin_nat")" ]] ||
  fail "jumps in built-in chains not back in order"
has '^:KUBE-PROXY-CANARY ' "$(save -t nat)" && fail "KUBE-PROXY-CANARY was restored"
has '^:MY-OWN ' "$(save -t nat)" && fail "unowned chain MY-OWN was restored"
read_check "after the full flush"
ng_log "full flush repaired through the netlink batch"

# 2. A nat-only flush (rules only; chains stay): the batch flushes and refills them.
add_unowned
before_filter=$(unowned filter)
mark=$(lines)
ipt -t nat -F
expect_restored "nat-only flush"
wait_repairs nat
expect_path netlink
[[ $(unowned filter) == "$before_filter" ]] || fail "filter's unowned rules changed"
ng_log "nat-only flush repaired through the netlink batch"

# 3. A jump deleted from the middle of PREROUTING: inserted back at its place, next to the
# handle of its neighbour, unowned rules around it untouched.
before_nat=$(unowned nat)
before_builtin=$(builtin_rules nat)
jump=$(save -t nat | grep -E '^-A PREROUTING .*-j CNI-HOSTPORT-DNAT' | head -1)
[[ -n $jump ]] || fail "no CNI-HOSTPORT-DNAT jump"
mark=$(lines)
ipt -t nat ${jump/-A/-D}
expect_restored "deleted PREROUTING jump"
wait_repairs nat
expect_path netlink
[[ $(builtin_rules nat) == "$before_builtin" ]] || {
  diff <(echo "$before_builtin") <(builtin_rules nat) >&2
  fail "PREROUTING not back in its order"
}
[[ $(unowned nat) == "$before_nat" ]] || fail "unowned nat rules touched"
ng_log "deleted jump re-inserted at its place through the netlink batch"

# 4. The whole nat table deleted: re-created from the definitions read before.
mark=$(lines)
ng_in "$node" nft delete table "$NFT_FAMILY" nat
expect_restored "nat table deleted"
wait_repairs nat
expect_path netlink
listing=$(ng_in "$node" nft list table "$NFT_FAMILY" nat)
has 'type nat hook prerouting priority dstnat; policy accept;' "$listing" ||
  fail "PREROUTING re-created wrong: $listing"
ng_log "deleted nat table re-created through the netlink batch"
[[ $(metric "nodeguard_netfilter_commits_total{backend=\"nft\",family=\"$FAMILY\",path=\"netlink\",result=\"ok\"}") -ge 5 ]] ||
  fail "netlink commits not counted"
stop_agent

# 5. The kernel refuses the batch (it also flushes a chain that does not exist): the same write
# goes through iptables-nft-restore.
start_agent refuse
mark=$(lines)
flush_tables nat filter
expect_restored "flush, batch refused"
wait_repairs nat filter
expect_path restore
has '"fallback":"fast path failed: netlink batch .*No such file or directory' "$(repair_lines_since "$mark")" ||
  { repair_lines_since "$mark" >&2; fail "refused batch not reported"; }
[[ $(metric "nodeguard_netfilter_commits_total{backend=\"nft\",family=\"$FAMILY\",path=\"netlink\",result=\"failed\"}") -ge 1 ]] ||
  fail "refused batches not counted"
[[ $(metric "nodeguard_netfilter_commits_total{backend=\"nft\",family=\"$FAMILY\",path=\"restore\",result=\"ok\"}") -ge 2 ]] ||
  fail "restore fallbacks not counted"
ng_log "refused batch fell back to iptables-nft-restore"
stop_agent

# 6. A batch that commits but reads back different (one rule left out): the repair redoes it
# through iptables-nft-restore from the read-back.
start_agent mismatch
mark=$(lines)
flush_tables nat filter
expect_restored "flush, batch read back different"
wait_repairs nat filter
expect_path restore
has '"fallback":"read-back after the netlink batch differs' "$(repair_lines_since "$mark")" ||
  { repair_lines_since "$mark" >&2; fail "verify mismatch not reported"; }
[[ $(metric "nodeguard_netfilter_commits_total{backend=\"nft\",family=\"$FAMILY\",path=\"netlink\",result=\"verify_failed\"}") -ge 1 ]] ||
  fail "unverified batches not counted"
ng_log "batch that read back different redone through iptables-nft-restore"
stop_agent
grep -q '"level":"error"' "$log" && { grep '"level":"error"' "$log" >&2; ng_fail "errors in the agent log"; }
echo "PASS: nft/$FAMILY fast path repairs byte-identical; refusals and mismatches fall back"
