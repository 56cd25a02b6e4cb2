#!/usr/bin/env bash
# Foreign rules and `ngctl forget`, against real iptables, the real CNI plugins and the real
# agent, in namespaces this test creates. Usage: foreign_test.sh legacy|nft ipv4|ipv6
#
# A node namespace gets a pod from the real bridge + host-local + portmap plugins behind a
# hostPort; nodeguard runs there with its API on the unix socket and on loopback with mutual TLS
# (tests/integration/api/gen_certs.sh: "controller" may mutate, "viewer" may only read). Then:
#   1. Another process appends a DNAT to CNI-HOSTPORT-DNAT: the agent reports it (NetfilterForeignRule
#      event, NetfilterForeignRules condition, nodeguard_netfilter_foreign_rules, ngctl rules) and
#      leaves it alone; the operator deletes it: it stays deleted and the condition clears; a
#      flush brings back the plugins' rules, not it.
#   2. ngctl forget: refused for the viewer (Repair-level authorization), done for the controller
#      (a chain) and over the unix socket (a rule); after a flush neither comes back, the rest
#      does.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
ng_require_root
BACKEND=${1:?backend}
FAMILY=${2:?family}
IPT=iptables
[[ $FAMILY == ipv6 ]] && IPT=ip6tables
for t in socat jq curl openssl "$IPT-$BACKEND-save"; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
[[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/portmap ]] || { echo "SKIP: CNI plugins missing" >&2; exit 77; }
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl

ng_nf_node_with_pod "$BACKEND" "$FAMILY" 79
ipt() { ng_nf_ipt "$node" "$BACKEND" "$FAMILY" "$@"; }
save() { ng_nf_save "$node" "$BACKEND" "$FAMILY" "$@"; }
ng_wait_until 15 ng_nf_answers || ng_fail "hostPort does not answer before the test (pod $POD_IP)"
guarded() { save -t nat | ng_nf_guarded_lines; }
want_nat=$(guarded)
grep -q 'CNI-HOSTPORT-DNAT' <<<"$want_nat" || ng_fail "portmap made no CNI-HOSTPORT-DNAT"

# The agent: unix socket (root: trusted) and TLS on the node's loopback.
pki=$NG_TMP/pki
bash "$NG_SOURCE_DIR/tests/integration/api/gen_certs.sh" "$pki"
state=$NG_TMP/state log=$NG_TMP/agent.log sock=$NG_TMP/ng.sock config=$NG_TMP/nodeguard.yaml
cat >"$config" <<YAML
node_name: nf-foreign-node
state_dir: $state
grpc_socket: $sock
grpc_listen: 127.0.0.1:0
metrics_listen: 127.0.0.1:0
log_level: info
api:
  tls_cert: $pki/server.pem
  tls_key: $pki/server.key
  tls_client_ca: $pki/ca.pem
  allowed_clients: ["dns:controller.example"]
netfilter: {backend: $BACKEND, families: [$FAMILY], poll_interval: 50ms}
firewalld: {enabled: false}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
YAML
fail() { ng_nf_agent_fail "$log" 60 "$node" "$BACKEND" "$FAMILY" "$*"; }
ng_nf_agent_start "$node" "$config" "$log" || fail "agent did not start"
canary() { save -t nat | grep -q '^:NODEGUARD-CANARY'; }
ng_wait_until 10 canary || fail "canary chain not created"
port=$(grep -o '"tcp_port":[0-9]*' "$log.cur" | head -1 | cut -d: -f2)
mport=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$log.cur" | grep -o '[0-9]*$')
[[ -n $port && -n $mport ]] || fail "no API or metrics port in the log"
ngctl() { ip netns exec "$node" "$NGCTL" --socket "$sock" "$@"; }
ngctl_as() {
  local who=$1
  shift
  ip netns exec "$node" "$NGCTL" --addr "127.0.0.1:$port" --tls-ca "$pki/ca.pem" \
    --tls-cert "$pki/$who.pem" --tls-key "$pki/$who.key" --tls-server-name agent.test "$@"
}
metric() { ip netns exec "$node" curl -sf "http://127.0.0.1:$mport/metrics" | grep -F "$1" || true; }
foreign_gauge() {
  metric "nodeguard_netfilter_foreign_rules{backend=\"$BACKEND\",family=\"$FAMILY\",table=\"nat\"}" |
    awk '{print $2}'
}
condition() {  # prints the status of NetfilterForeignRules, or "none"
  ngctl status -o json | jq -r '[.conditions[]? | select(.type == "NetfilterForeignRules") | .status] | first // "none"'
}
repairs() { grep -c '"msg":"repair applied"' "$log.cur" || true; }
flush_nat() { ng_nf_flush_tables "$node" "$BACKEND" "$FAMILY" nat; }

# 1. A foreign process writes a DNAT into portmap's chain.
dest=10.0.0.9:80
[[ $FAMILY == ipv6 ]] && dest=[fd00:9::9]:80
foreign=(-p tcp -m tcp --dport 9999 -j DNAT --to-destination "$dest")
ip netns exec "$node" bash -c "exec $IPT-$BACKEND -w -t nat -A CNI-HOSTPORT-DNAT ${foreign[*]}"
foreign_line=$(save -t nat | grep -E '^-A CNI-HOSTPORT-DNAT .*--dport 9999' || true)
[[ -n $foreign_line ]] || fail "could not add the foreign rule"
reported() {
  [[ $(ngctl rules -t nat -o json | jq -r '.tables[0].foreign_rules // 0') == 1 ]] &&
    [[ $(condition) == True ]] && [[ $(foreign_gauge) == 1 ]]
}
ng_wait_until 15 reported || fail "foreign rule not reported (rules: $(ngctl rules -t nat -o json | jq -c '.tables[0].foreign'), condition: $(condition), gauge: $(foreign_gauge))"
ngctl status -o json | jq -r '.conditions[] | select(.type == "NetfilterForeignRules") | .message' |
  grep -qF -- "--dport 9999" || fail "the condition does not name the rule"
ngctl status --events 50 -o json | jq -e '.recent_events[] | select(.reason == "NetfilterForeignRule")' >/dev/null ||
  fail "no NetfilterForeignRule event"
grep -q '"msg":"netfilter foreign rule"' "$log.cur" || fail "foreign rule not logged"
ngctl rules -t nat | grep -q 'foreign (kept, not restored)' || fail "ngctl rules does not show it"
ng_log "foreign rule reported (event, condition, metric, ngctl rules)"

# The operator deletes it: it must stay deleted, and the report clears.
n=$(repairs)
ipt -t nat ${foreign_line/-A/-D}
sleep 3  # poll 50 ms + drift grace 1 s, with room: a repair would have put it back by now
save -t nat | grep -qE '^-A CNI-HOSTPORT-DNAT .*--dport 9999' && fail "the deleted foreign rule was restored"
(( $(repairs) == n )) || fail "a repair ran after the foreign rule was deleted"
cleared() { [[ $(condition) == False || $(condition) == none ]] && [[ $(foreign_gauge) == 0 ]]; }
ng_wait_until 10 cleared || fail "condition/metric not cleared (condition $(condition), gauge $(foreign_gauge))"
[[ $(guarded) == "$want_nat" ]] || fail "guarded rules changed"
# Nor does a flush bring it back (the plugins' rules do come back).
flush_nat
restored() { [[ $(guarded) == "$want_nat" ]]; }
ng_wait_until 10 restored || { diff <(echo "$want_nat") <(guarded) >&2 || true; fail "flush not repaired as before"; }
ng_wait_until 10 ng_nf_answers || fail "hostPort does not answer after the flush"
ng_log "deleted foreign rule stayed deleted; condition cleared; flush repaired without it"

# 2. ngctl forget: Repair-level authorization.
dn=$(save -t nat | grep -oE '^:CNI-DN-[^ ]+' | head -1 | tr -d :)
[[ -n $dn ]] || fail "no CNI-DN chain"
rc=0
out=$(ngctl_as viewer forget nat "$dn" 2>&1) || rc=$?
((rc == 3)) || fail "viewer forget: exit $rc, want 3 (refused): $out"
grep -qi 'refused\|denied\|allowed_clients' <<<"$out" || fail "viewer refused for another reason: $out"
ngctl rules -t nat -o json | jq -e --arg dn "$dn" '.tables[0].chains[] | select(.name == $dn)' >/dev/null ||
  fail "the refused forget changed the snapshot"
out=$(ngctl_as controller forget nat "$dn" --reason "test" -o json) || fail "controller forget failed: $out"
jq -e --arg dn "$dn" '.tables[0].removed | index(":" + $dn)' <<<"$out" >/dev/null || fail "forget answer: $out"
grep -q '"msg":"snapshot entry forgotten".*controller' "$log.cur" || fail "forget not logged with who"
masq=$(save -t nat | grep -E '^-A CNI-HOSTPORT-MASQ ' | head -1)
[[ -n $masq ]] || fail "no CNI-HOSTPORT-MASQ rule"
ngctl forget nat CNI-HOSTPORT-MASQ -- "$masq" >/dev/null || fail "forget of one rule over the unix socket failed"
out=$(ngctl forget nat CNI-HOSTPORT-MASQ -- "$masq" 2>&1) && fail "a second forget found it again: $out"
want_after=$(grep -vF -- "$masq" <<<"$want_nat" | grep -v -- "$dn" || true)
flush_nat
after_forget() { [[ $(guarded) == "$want_after" ]]; }
ng_wait_until 10 after_forget || { diff <(echo "$want_after") <(guarded) >&2 || true; fail "forgotten entries restored, or others not"; }
sleep 2
after_forget || fail "forgotten entries came back later"
ngctl_as controller status >/dev/null || fail "the TLS connection is unusable"
metric "nodeguard_netfilter_forgotten_total{backend=\"$BACKEND\",family=\"$FAMILY\",table=\"nat\"} 2" |
  grep -q . || fail "nodeguard_netfilter_forgotten_total not 2"
ng_log "ngctl forget: refused for the viewer, forgotten entries stay out after a flush"
ng_nf_agent_stop "$log" || fail "agent exit code $?"
grep -q '"level":"error"' "$log" && { grep '"level":"error"' "$log" >&2; ng_fail "errors in the agent log"; }
echo "PASS: $BACKEND/$FAMILY foreign rules reported not adopted; ngctl forget"
