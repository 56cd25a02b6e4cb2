#!/usr/bin/env bash
# netfilter.backend: auto on a node where both backends hold guarded rules (a CNI plugin writing
# through iptables-legacy, kube-proxy through iptables-nft): both are watched, and a flush of
# either is repaired. The kubelet's hint chain in nft mangle makes nft the primary.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
ng_require_root
for t in iptables-legacy-restore iptables-nft-restore jq; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
node=$(ng_netns_add node)
ng_nf_restore "$node" legacy ipv4 <<'R'
*nat
:CNI-HOSTPORT-DNAT - [0:0]
:CNI-DN-0a1b2c3d4e5f60718293a - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT
-A CNI-HOSTPORT-DNAT -p tcp -m comment --comment "dnat name: \"net\" id: \"x\"" -m multiport --dports 8080 -j CNI-DN-0a1b2c3d4e5f60718293a
-A CNI-DN-0a1b2c3d4e5f60718293a -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.244.1.2:80
COMMIT
R
# KUBE-* rules in kube-proxy's shapes (a comment on the DNAT): rules no owner explains are not restored.
ng_nf_restore "$node" nft ipv4 <<'R'
*mangle
:KUBE-IPTABLES-HINT - [0:0]
COMMIT
*nat
:KUBE-SERVICES - [0:0]
:KUBE-SVC-A - [0:0]
-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 443 -j KUBE-SVC-A
-A KUBE-SVC-A -p tcp -m comment --comment "default/kubernetes:https" -j DNAT --to-destination 192.168.0.1:6443
COMMIT
R
want_legacy=$(ng_nf_save "$node" legacy ipv4 -t nat | ng_nf_guarded_lines)
want_nft=$(ng_nf_save "$node" nft ipv4 -t nat | ng_nf_guarded_lines)
log=$NG_TMP/agent.log
ng_nf_agent_config "$NG_TMP/ng.yaml" "$NG_TMP/state" "$NG_TMP/ng.sock" "{backend: auto, families: [ipv4]}"
ip netns exec "$node" env XTABLES_LOCKFILE="$NG_TMP/xtables.lock" "$NG_BUILD_DIR/agent/nodeguard" \
  --config "$NG_TMP/ng.yaml" >"$log" 2>&1 &
ng_track_pid $!
fail() { tail -n 40 "$log" >&2; ng_fail "$*"; }
ng_wait_until 20 grep -q '"msg":"netfilter guard running"' "$log" || fail "agent did not start"
grep -q '"backends":"nft,legacy"' "$log" || fail "auto did not pick nft first and legacy too"
ng_wait_until 10 bash -c "ip netns exec $node iptables-legacy-save -t nat | grep -q NODEGUARD-CANARY" ||
  fail "no canary in legacy nat"
ng_wait_until 10 bash -c "ip netns exec $node iptables-nft-save -t nat | grep -q NODEGUARD-CANARY" ||
  fail "no canary in nft nat"
for b in legacy nft; do
  ng_nf_restore "$node" $b ipv4 --noflush <<<$'*nat\n-F\n-X\nCOMMIT\n'
  want=want_$b
  ok() { [[ $(ng_nf_save "$node" "$1" ipv4 -t nat | ng_nf_guarded_lines) == "$2" ]]; }
  ng_wait_until 10 ok $b "${!want}" || fail "$b nat not restored"
done
status=$(ip netns exec "$node" "$NG_BUILD_DIR/tools/ngctl/ngctl" --socket "$NG_TMP/ng.sock" rules -o json)
[[ $(jq -r '.backends | join(",")' <<<"$status") == nft,legacy ]] || fail "ngctl rules backends: $status"
echo "PASS: auto watches both backends and repairs each"
