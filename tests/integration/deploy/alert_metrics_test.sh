#!/usr/bin/env bash
# Every metric the alerts (manifests/monitoring/prometheusrule.yaml) and the Grafana dashboard
# use must exist in a real agent's /metrics: catches renames. Runs a real agent in a lab
# namespace and makes it busy enough that every family has series (prometheus-cpp omits a
# family until its first series): guarded kube-proxy-like rules that get flushed and repaired,
# TCP probes to an open and a closed port, a container log line that matches a rule.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
ng_require_root
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
T=$NG_TMP
node=$(ng_netns_add node)

node "$NG_SOURCE_DIR/tools/manifests/check.mjs" --metrics-out "$T/used.txt" >/dev/null ||
  ng_fail "manifests do not validate (see tests/integration/deploy/manifests_test.sh)"

# Rules nodeguard guards by default, made with the nft backend as kube-proxy would.
ng_in "$node" iptables-nft -t nat -N KUBE-SERVICES
ng_in "$node" iptables-nft -t nat -A KUBE-SERVICES -d 10.96.0.1/32 -p tcp --dport 443 \
  -m comment --comment "default/kubernetes:https" -j DNAT --to-destination 192.0.2.10:6443
ng_in "$node" iptables-nft -t nat -A PREROUTING -m comment --comment "kubernetes service portals" \
  -j KUBE-SERVICES
ng_bg "$node" socat TCP-LISTEN:18080,bind=127.0.0.1,reuseaddr,fork EXEC:/bin/true >/dev/null
mkdir -p "$T/pods/default_web_uid1/app" "$T/containers"
log=$T/pods/default_web_uid1/app/0.log
: >"$log"
ln -s "$log" "$T/containers/web_default_app-$(printf '%064d' 1).log"

cat >"$T/nodeguard.yaml" <<YAML
node_name: alert-node
state_dir: $T/state
grpc_socket: $T/ng.sock
metrics_listen: 127.0.0.1:9746
health_listen: ""
netfilter: {backend: nft, families: [ipv4]}
firewalld: {enabled: false}
cni: {cache_dir: $T/cni}
bgp: {bird_sockets: [$T/bird.ctl]}
probes:
  interval: 200ms
  tcp:
    - {name: open, address: "127.0.0.1:18080", kind: external}
    - {name: closed, address: "127.0.0.1:1", kind: external}
logs: {container_dirs: [$T/containers], kubelet: ""}
YAML
ng_bg "$node" env XTABLES_LOCKFILE="$T/xtables.lock" "$NODEGUARD" --config "$T/nodeguard.yaml" \
  >"$T/agent.log" 2>&1
scrape() { ng_in "$node" curl -sf http://127.0.0.1:9746/metrics; }
ng_wait_until 20 ng_in "$node" curl -sf http://127.0.0.1:9746/readyz ||
  { cat "$T/agent.log" >&2; ng_fail "agent not ready"; }

echo "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ) stderr F E1127 kubelet PLEG is not healthy: pleg was last seen active 3m0s ago" >>"$log"
ng_in "$node" iptables-nft -t nat -F
ng_in "$node" iptables-nft -t nat -X   # what a firewalld reload does to every table
has_series() { scrape | grep -E "$1" >/dev/null; }
ng_wait_until 20 has_series '^nodeguard_netfilter_repairs_total\{[^}]*result="applied"' ||
  { tail -20 "$T/agent.log" >&2; ng_fail "no applied repair counted"; }
ng_wait_until 20 has_series '^nodeguard_probe_failures_total\{' || ng_fail "no probe failure counted"
ng_wait_until 20 has_series '^nodeguard_log_problems_total\{' || ng_fail "no log problem counted"

metrics=$(scrape)
families=$(grep '^# TYPE ' <<<"$metrics" | awk '{print $3}')
missing=0
while read -r name; do
  [[ -n $name ]] || continue
  family=$name
  for suffix in _bucket _sum _count; do
    if [[ $name == *$suffix ]] && grep -qx "${name%"$suffix"}" <<<"$families"; then
      family=${name%"$suffix"}
    fi
  done
  if grep -qx "$family" <<<"$families"; then
    echo "ok      $name"
  else
    echo "MISSING $name (used by an alert or the dashboard, not exported)"
    missing=1
  fi
done <"$T/used.txt"
((missing == 0)) || ng_fail "alerts or dashboard use metrics the agent does not export"
echo "PASS: $(wc -l <"$T/used.txt") metrics used by alerts and dashboard all exist"
