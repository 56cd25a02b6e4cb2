#!/usr/bin/env bash
# Truth before memory: a pod deleted while the agent was down is not brought back from the
# agent's snapshot. Real bridge (ipMasq) + portmap + host-local plugins, real libcni cache
# entries, real iptables of one backend, in namespaces this test creates.
# Usage: stale_pod_test.sh legacy|nft
#
# Two pods with a hostPort each; the agent runs and snapshots both. The agent stops (a rolling
# upgrade) and one pod is deleted the normal way: portmap DEL, bridge DEL, its cache entry
# removed, its namespace deleted. Then
#   (a) the agent starts again with the nat table as the plugins left it;
#   (b) the agent starts again with its snapshot from before the deletion after a nat flush
#       (-F, -X: what firewalld's reload does).
# Both times the live pod's hostPort rules must be there (restored in b) and its hostPort must
# answer; none of the dead pod's 7 rules (its CNI-DN chain and jump, bridge's masquerade chain
# and jump) may come back, so its IP, handed to a new pod, gets no stale hostPort.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
source "$NG_SOURCE_DIR/tests/integration/cni/lib.sh"
ng_require_root
BACKEND=${1:?backend}
FAMILY=ipv4
for t in socat jq curl sha512sum "iptables-$BACKEND-save"; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
for p in bridge host-local portmap; do
  [[ -x /usr/lib/cni/$p ]] || { echo "SKIP: /usr/lib/cni/$p missing" >&2; exit 77; }
done

node=$(ng_netns_add node)
client=$(ng_netns_add client)
ng_veth "$node" ngn0 "$client" ngc0
NODE_IP=192.168.79.1
ip -n "$node" addr add $NODE_IP/24 dev ngn0
ip -n "$client" addr add 192.168.79.2/24 dev ngc0
ng_in "$node" sysctl -qw net.ipv4.ip_forward=1
nat() { ng_cni_nat_text "$node" "$BACKEND" "$FAMILY"; }

NET=stale-net
cache=$NG_TMP/cni
mkdir -p "$cache"
ng_cni_conflist "$NG_TMP/raw.conflist" "$NET" 1.0.0 cni-st 10.246.1.0/24 '{}'
jq '.plugins[0].ipMasq = true' "$NG_TMP/raw.conflist" >"$NG_TMP/net.conflist"
CONF=$NG_TMP/net.conflist

LIVE_CID=11ve0000c0ffee11
DEAD_CID=dead0000c0ffee22
declare -A POD_NS
pod() { # pod NAME CONTAINER_ID HOSTPORT
  local ns
  ns=$(ng_netns_add "$1")
  POD_NS[$1]=$ns
  ng_cni_add "$node" "$ns" "$BACKEND" "$CONF" "$2" "[{\"hostPort\":$3,\"containerPort\":80,\"protocol\":\"tcp\"}]" "$cache"
  ng_bg "$ns" socat TCP4-LISTEN:80,fork,reuseaddr SYSTEM:"echo $1" >/dev/null
}
pod live "$LIVE_CID" 8090
pod dead "$DEAD_CID" 8091
answers() { [[ $(ng_nf_connect "$client" "$NODE_IP" "$1") == "$2" ]]; }
ng_wait_until 20 answers 8090 live || ng_fail "live pod's hostPort does not answer: $(nat)"
ng_wait_until 20 answers 8091 dead || ng_fail "dead pod's hostPort does not answer: $(nat)"

# The dead pod's chains, named the way the plugins name them, and every rule that is its.
hash() { printf '%s' "$NET$1" | sha512sum | cut -c1-"$2"; }
DEAD_DN=CNI-DN-$(hash "$DEAD_CID" 21)
DEAD_MASQ=CNI-$(hash "$DEAD_CID" 24)
LIVE_DN=CNI-DN-$(hash "$LIVE_CID" 21)
LIVE_MASQ=CNI-$(hash "$LIVE_CID" 24)
dead_rules() { nat | grep -E '^-A' | grep -cE "$DEAD_CID|$DEAD_DN|$DEAD_MASQ" || true; }
live_rules() { nat | grep -E '^-A' | grep -cE "$LIVE_CID|$LIVE_DN|$LIVE_MASQ" || true; }
[[ $(dead_rules) == 7 ]] || ng_fail "expected 7 rules of the dead pod, got $(dead_rules): $(nat)"
LIVE_RULES=$(live_rules)
[[ $LIVE_RULES == 7 ]] || ng_fail "expected 7 rules of the live pod, got $LIVE_RULES: $(nat)"
# Sorted: nft lists user chains in creation order, which a restore may change.
with_live=$(nat | grep -E '^-A' | grep -vE "$DEAD_CID|$DEAD_DN|$DEAD_MASQ" | sort)

log=$NG_TMP/agent.log
state=$NG_TMP/state
snapfile=$state/netfilter/$BACKEND-ipv4-nat.rules
NG_METRICS_LISTEN=127.0.0.1:0 NG_LOG_LEVEL=debug ng_nf_agent_config "$NG_TMP/nodeguard.yaml" \
  "$state" "$NG_TMP/ng.sock" "{backend: $BACKEND, families: [$FAMILY]}"
sed -i "s|^cni: .*|cni: {mode: repair, cache_dir: $cache, poll_interval: 100ms}|" \
  "$NG_TMP/nodeguard.yaml"
fail() { ng_nf_agent_fail "$log" 80 "$node" "$BACKEND" "$FAMILY" "$*"; }
start() { ng_nf_agent_start "$node" "$NG_TMP/nodeguard.yaml" "$log" || fail "agent did not start"; }
stop() { ng_nf_agent_stop "$log" || fail "agent exit code $?"; }
metric() { # metric NAME_WITH_LABELS: its value (0 when absent)
  local port
  port=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$log.cur" |
    grep -o '[0-9]*$')
  ip netns exec "$node" curl -sf "http://127.0.0.1:$port/metrics" |
    awk -v m="$1" '$1 == m { v = $2 } END { print v + 0 }'
}

start
snapped() { grep -q "$DEAD_CID" "$snapfile" && grep -q "$LIVE_CID" "$snapfile"; }
ng_wait_until 20 snapped || fail "the agent did not snapshot both pods"
stop
cp -a "$state/netfilter" "$NG_TMP/snapshot-before-delete"
ng_log "agent snapshotted both pods and stopped"

# The pod is deleted while the agent is down, the way the runtime does it (libcni's
# DelNetworkList: plugins in reverse order, then the cache entry), then its sandbox goes.
ng_cni_del_portmap "$node" "${POD_NS[dead]}" "$BACKEND" "$CONF" "$DEAD_CID" "$cache"
ng_cni_del_bridge "$node" "${POD_NS[dead]}" "$BACKEND" "$CONF" "$DEAD_CID"
rm -f "$cache/results/$NET-$DEAD_CID-eth0"
ip netns del "${POD_NS[dead]}"
[[ $(dead_rules) == 0 ]] || ng_fail "the plugins' DEL left $(dead_rules) rules: $(nat)"
answers 8090 live || ng_fail "live pod's hostPort broken by the other pod's DEL"

# (a) Start without a flush: the deletion is taken into the snapshot, nothing comes back.
start
ng_wait_until 20 bash -c "! grep -q '$DEAD_CID' '$snapfile'" ||
  fail "(a) the dead pod stays in the snapshot"
sleep 2  # a late repair would show now
[[ $(dead_rules) == 0 ]] || fail "(a) $(dead_rules) rules of the dead pod restored"
[[ $(live_rules) == "$LIVE_RULES" ]] || fail "(a) live pod's rules changed"
ng_wait_until 10 answers 8090 live || fail "(a) live pod's hostPort does not answer"
stop
ng_log "(a) no flush: the dead pod's rules stay gone, the live pod answers"

# (b) The snapshot from before the deletion, and a flush of nat before the start.
rm -rf "$state/netfilter"
cp -a "$NG_TMP/snapshot-before-delete" "$state/netfilter"
ng_nf_flush_tables "$node" "$BACKEND" "$FAMILY" nat
[[ $(nat | grep -c '^-A') == 0 ]] || ng_fail "nat not flushed"
answers 8090 live && ng_fail "the live hostPort answers after the flush (is the test real?)"
start
restored() { [[ $(live_rules) == "$LIVE_RULES" ]] && grep -q '"msg":"repair applied"' "$log.cur"; }
ng_wait_until 30 restored || fail "(b) the live pod's rules were not restored"
ng_wait_until 15 answers 8090 live || fail "(b) live pod's hostPort does not answer"
sleep 2
[[ $(dead_rules) == 0 ]] || fail "(b) $(dead_rules) rules of the dead pod restored from the snapshot"
# Every rule the plugins left for the live pod is back, byte for byte, and nothing else.
now=$(nat | grep -E '^-A' | sort)
[[ $now == "$with_live" ]] || {
  diff <(echo "$with_live") <(echo "$now") >&2 || true
  fail "(b) the restored nat table differs from what the plugins left for the live pod"
}
answers 8091 dead && fail "(b) the dead pod's hostPort answers"
grep -q "\"msg\":\"snapshot entry dropped; its pod is gone\".*\"chain\":\"$DEAD_DN\".*\"container_id\":\"$DEAD_CID\"" "$log.cur" ||
  fail "(b) no log line for the dead pod's DNAT chain"
grep -q "\"msg\":\"snapshot entry dropped; its pod is gone\".*\"chain\":\"$DEAD_MASQ\"" "$log.cur" ||
  fail "(b) no log line for the dead pod's masquerade chain"
[[ $(grep -c '"msg":"snapshot entry dropped; its pod is gone"' "$log.cur") == 2 ]] ||
  fail "(b) dropped entries not logged exactly once each"
[[ $(metric 'nodeguard_netfilter_snapshot_pruned_total{reason="no_cache_entry"}') == 2 ]] ||
  fail "(b) nodeguard_netfilter_snapshot_pruned_total{reason=\"no_cache_entry\"} is not 2"
grep -q "$DEAD_CID" "$snapfile" && fail "(b) the dead pod is still in the snapshot file"
stop
ng_log "(b) flush + old snapshot: the live pod restored ($LIVE_RULES rules) and answers, the dead pod's 7 rules dropped"
