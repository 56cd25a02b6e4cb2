#!/usr/bin/env bash
# Attribution and mixed firewall modes (issue 19, items 3 and 4) against the real kernel, in
# namespaces this test creates. A node namespace with a real bridge + portmap pod on
# iptables-nft, the real nodeguard binary in it (netfilter only, verify every 2 s). Then:
#   1. `iptables-nft -t nat -F CNI-HOSTPORT-DNAT` (a guarded chain the CNI plugin writes once)
#      is repaired; the drift and repair log lines, the NetfilterDrift event, `ngctl rules`
#      and the writer label name the writer as the kernel does: iptables-nft.
#   2. a long-lived `nft -i` wiping the same chain: writer "nft", with its cgroup read from /proc.
#   3. iptables-legacy rules beside the iptables-nft ones: IptablesBackendsMixed, and cleared.
#   4. a native nftables rule inside the iptables-nft nat table (iptables-nft-save prints
#      "Table `nat' is incompatible"): IptablesNftIncompatible, the table is not read as empty
#      (no repair, no "flush"), and after the native rule goes the guard repairs again.
#   5. table `ip kube-proxy` (kube-proxy's nftables mode) beside cali-* iptables chains:
#      KubeProxyNftablesCalicoIptables (calico#8025).
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
ng_require_root
for t in socat jq nft iptables-nft-save iptables-legacy; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/portmap ]] || { echo "SKIP: CNI plugins missing" >&2; exit 77; }
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
BACKEND=nft FAMILY=ipv4

ng_nf_node_with_pod nft ipv4 79
answers() { ng_nf_answers; }
ng_wait_until 15 answers || ng_fail "hostPort does not answer before the test (pod $POD_IP)"
save() { ng_nf_save "$node" nft ipv4 "$@"; }
guarded() { save -t nat | ng_nf_guarded_lines; }
want_nat=$(guarded)
grep -q 'CNI-HOSTPORT-DNAT' <<<"$want_nat" || ng_fail "portmap made no CNI-HOSTPORT-DNAT"
# Legacy xtables usable in the namespace from the start (the agent probes it once).
ng_in "$node" iptables-legacy -t filter -S >/dev/null

state=$NG_TMP/state log=$NG_TMP/agent.log sock=$NG_TMP/ng.sock
NG_METRICS_LISTEN=127.0.0.1:0 NG_LOG_LEVEL=debug ng_nf_agent_config "$NG_TMP/nodeguard.yaml" \
  "$state" "$sock" "{backend: nft, families: [ipv4], verify_interval: 2s, drift_grace: 200ms}"
ng_nf_agent_start "$node" "$NG_TMP/nodeguard.yaml" "$log" || ng_fail "agent did not start"
fail() { ng_nf_agent_fail "$log" 60 "$node" nft ipv4 "$*"; }
restored() { [[ $(guarded) == "$want_nat" ]]; }
canary() { save -t nat | grep -q '^:NODEGUARD-CANARY'; }
ng_wait_until 10 canary || fail "canary chain not created"
line_with() { grep "\"msg\":\"$1\"" "$log.cur" | grep -F "$2" >/dev/null; }
rules_json() { ip netns exec "$node" "$NGCTL" --socket "$sock" rules -t nat --family ipv4 -o json; }

# 1. The CNI hostPort chain wiped by iptables-nft.
ng_in "$node" iptables-nft -w -t nat -F CNI-HOSTPORT-DNAT
ng_wait_until 10 restored || fail "CNI-HOSTPORT-DNAT not restored"
ng_wait_until 10 answers || fail "hostPort does not answer after the repair"
ng_wait_until 5 line_with "repair applied" '"writer_comm":"iptables-nft"' ||
  fail "the repair log line does not name iptables-nft"
line_with "netfilter drift" '"writer_pid":' || fail "the drift log line has no writer_pid"
events=$(ip netns exec "$node" "$NGCTL" --socket "$sock" status --events 20 -o json) || fail "ngctl status"
jq -e '[.. | objects | select(.reason? == "NetfilterDrift") | .attributes.writer_comm] | index("iptables-nft")' \
  <<<"$events" >/dev/null || { echo "$events" >&2; fail "no NetfilterDrift event naming iptables-nft"; }
rules=$(rules_json) || fail "ngctl rules"
[[ $(jq -r '.tables[0].drift_writer.comm' <<<"$rules") == iptables-nft ]] ||
  { echo "$rules" | jq '.tables[0] | {last_writer, drift_writer, writer_note}' >&2; fail "ngctl rules: drift_writer"; }
ip netns exec "$node" "$NGCTL" --socket "$sock" rules -t nat | grep -q 'LAST WRITER' ||
  fail "ngctl rules has no LAST WRITER column"
port=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$log.cur" | grep -o '[0-9]*$')
metrics=$(ip netns exec "$node" curl -sf "http://127.0.0.1:$port/metrics") || fail "scrape failed"
grep -qE '^nodeguard_netfilter_repairs_total\{[^}]*result="applied",table="nat",writer="iptables-nft"\} 1' \
  <<<"$metrics" || { grep repairs_total <<<"$metrics" >&2; fail "repairs_total without writer=iptables-nft"; }
ng_log "iptables-nft wipe repaired and attributed"

# 2. A writer that is still running when its generation is read: /proc names its cgroup.
ng_in "$node" bash -c '{ echo "flush chain ip nat CNI-HOSTPORT-DNAT"; sleep 3; } | nft -i' >/dev/null &
ng_track_pid $!
ng_wait_until 10 line_with "repair applied" '"writer_comm":"nft"' || fail "nft -i wipe not attributed to nft"
ng_wait_until 10 restored || fail "CNI-HOSTPORT-DNAT not restored after nft"
unit=$(sed -n 's|^0::/.*/\([^/]*\.\(service\|scope\)\)$|\1|p' /proc/self/cgroup)
if [[ -n $unit ]]; then
  line_with "repair applied" "\"writer_unit\":\"$unit\"" || fail "writer_unit $unit not in the repair line"
fi
ng_log "nft wipe attributed (unit: ${unit:-none on this machine})"

# 3. Both iptables backends holding rules.
mixed() { line_with "netfilter mixed firewall modes" "\"condition\":\"$1\""; }
cleared() { line_with "netfilter mixed firewall modes cleared" "\"condition\":\"$1\""; }
ng_in "$node" iptables-legacy -w -t filter -A INPUT -s 198.51.100.7 -j DROP
ng_wait_until 10 mixed IptablesBackendsMixed || fail "IptablesBackendsMixed not raised"
line_with "netfilter mixed firewall modes" 'legacy/ipv4/filter' || fail "the message does not name legacy/ipv4/filter"
ng_in "$node" iptables-legacy -w -t filter -F INPUT
ng_wait_until 10 cleared IptablesBackendsMixed || fail "IptablesBackendsMixed not cleared"
ng_log "both backends holding rules reported and cleared"

# 4. A native rule in the iptables-nft nat table.
repairs() { grep -c '"msg":"repair applied"' "$log.cur" || true; }
n=$(repairs)
ng_in "$node" nft add rule ip nat CNI-HOSTPORT-DNAT tcp dport 9 ct state new log
save -t nat | grep -q "incompatible" || fail "iptables-nft-save prints the table: no native rule?"
ng_wait_until 10 mixed IptablesNftIncompatible || fail "IptablesNftIncompatible not raised"
sleep 1
(( $(repairs) == n )) || fail "a table iptables-nft-save cannot print was 'repaired'"
grep -q '"kinds":"flush"' <(tail -n +1 "$log.cur" | grep '"msg":"netfilter drift"' | tail -1) &&
  [[ $(grep -c '"msg":"netfilter drift"' "$log.cur") -gt 2 ]] && fail "the unreadable table was taken for a flush"
handle=$(ng_in "$node" nft -a list chain ip nat CNI-HOSTPORT-DNAT | grep ' log ' | grep -o 'handle [0-9]*' | cut -d' ' -f2)
ng_in "$node" nft delete rule ip nat CNI-HOSTPORT-DNAT handle "$handle"
ng_wait_until 10 cleared IptablesNftIncompatible || fail "IptablesNftIncompatible not cleared"
ng_in "$node" iptables-nft -w -t nat -F CNI-HOSTPORT-DNAT
ng_wait_until 10 restored || fail "guard does not repair after the native rule went"
ng_log "native rule in an iptables-nft table reported, not misread; guarding resumed"

# 5. kube-proxy in nftables mode beside Calico's iptables chains.
ng_in "$node" nft add table ip kube-proxy
ng_in "$node" iptables-nft -w -t filter -N cali-INPUT
ng_wait_until 10 mixed KubeProxyNftablesCalicoIptables || fail "KubeProxyNftablesCalicoIptables not raised"
line_with "netfilter mixed firewall modes" 'calico#8025' || fail "the message does not cite calico#8025"
ng_in "$node" nft delete table ip kube-proxy
ng_wait_until 10 cleared KubeProxyNftablesCalicoIptables || fail "KubeProxyNftablesCalicoIptables not cleared"
ng_log "kube-proxy nftables beside Calico iptables reported and cleared"

ng_nf_agent_stop "$log" || ng_fail "agent exit code $?"
grep -q '"level":"error"' "$log" && { grep '"level":"error"' "$log" >&2; ng_fail "errors in the agent log"; }
echo "PASS: drift attributed to its writer; mixed firewall modes reported with the fix"
