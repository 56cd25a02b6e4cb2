# Shared by the fault-injection tests (tests/integration/reliability) and tools/soak.sh: a node
# namespace with a real pod made by the real CNI plugins (bridge + host-local + portmap) behind
# a hostPort, kube-proxy-like chains, rules nobody guards, a client namespace, and the real
# nodeguard guarding it. Source after tests/support/netns.sh and
# tests/integration/netfilter/lib.sh. IPv4; BACKEND is legacy or nft.
#
#   rel_node BACKEND [SERVICES]   # namespaces, pod, chains (SERVICES extra KUBE-SVC chains)
#   rel_config '{netfilter flow map keys}' [extra top-level yaml]
#   rel_start [WRAPPER...]        # starts the agent in the node namespace, waits for the canary
#   rel_flush                     # what firewalld's reload does, in one transaction
#   rel_intact                    # guarded rules as before, each once; unowned rules as before
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
REL_NODE_IP=${REL_NODE_IP:-192.168.77.1}
REL_CLIENT_IP=${REL_CLIENT_IP:-192.168.77.2}
REL_SUBNET=${REL_SUBNET:-10.244.1.0/24}
REL_HOSTPORT=${REL_HOSTPORT:-8080}
AGENT_PID=
AGENT_RUN=0
LOG=
SOCK=$NG_TMP/ng.sock
STATE=$NG_TMP/state
LOCKFILE=$NG_TMP/xtables.lock

rel_require() {
  ng_require_root
  local t
  for t in socat jq curl "iptables-$BACKEND-save" "$@"; do
    command -v "$t" >/dev/null || { echo "SKIP: $t missing (tools/install-deps.sh)" >&2; exit 77; }
  done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/portmap ]] ||
    { echo "SKIP: CNI plugins missing" >&2; exit 77; }
}

rel_ipt() { ng_nf_ipt "$NODE" "$BACKEND" ipv4 "$@"; }
rel_save() { ng_nf_save "$NODE" "$BACKEND" ipv4 "$@"; }
rel_restore() { ng_nf_restore "$NODE" "$BACKEND" ipv4 "$@"; }
rel_answers() { [[ $(ng_nf_connect "$CLIENT" "$REL_NODE_IP" "$REL_HOSTPORT") == hello-from-pod ]]; }

# The rules a firewalld-like owner keeps in the tables: re-added by every rel_flush, never
# touched by the agent.
REL_UNOWNED='*nat
:MY-OWN - [0:0]
-A PREROUTING -s 192.0.2.0/24 -j MY-OWN
-A MY-OWN -p udp -m udp --dport 53 -j RETURN
COMMIT
*filter
-A INPUT -s 203.0.113.0/24 -j DROP
-A FORWARD -s 198.51.100.0/24 -j DROP
COMMIT'

# rel_kube_chains SERVICES: kube-proxy-like chains with SERVICES services, as one restore.
rel_kube_chains() {
  local n=$1 i
  {
    echo '*nat'
    echo ':KUBE-SERVICES - [0:0]'
    echo ':KUBE-MARK-MASQ - [0:0]'
    echo ':KUBE-POSTROUTING - [0:0]'
    echo ':KUBE-PROXY-CANARY - [0:0]'
    for ((i = 0; i < n; i++)); do printf ':KUBE-SVC-REL%08d - [0:0]\n' "$i"; done
    echo '-I PREROUTING 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
    echo '-I OUTPUT 1 -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
    echo '-I POSTROUTING 1 -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'
    echo '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000'
    echo '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN'
    echo '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE'
    for ((i = 0; i < n; i++)); do
      local svc ip
      svc=$(printf 'KUBE-SVC-REL%08d' "$i")
      ip="10.96.$((i / 250)).$((i % 250 + 1))"
      echo "-A KUBE-SERVICES -d $ip/32 -p tcp -m comment --comment \"default/svc-$i:http cluster IP\" -m tcp --dport 80 -j $svc"
      echo "-A $svc ! -s 10.244.0.0/16 -d $ip/32 -p tcp -m comment --comment \"default/svc-$i:http cluster IP\" -m tcp --dport 80 -j KUBE-MARK-MASQ"
      echo "-A $svc -p tcp -m comment --comment \"default/svc-$i:http\" -j DNAT --to-destination 10.244.9.$((i % 250 + 1)):8080"
    done
    echo 'COMMIT'
    echo '*filter'
    echo ':KUBE-FORWARD - [0:0]'
    echo '-A FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD'
    echo '-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP'
    echo '-A KUBE-FORWARD -m comment --comment "kubernetes forwarding rules" -m mark --mark 0x4000/0x4000 -j ACCEPT'
    echo 'COMMIT'
  } | rel_restore --noflush
}

# rel_node BACKEND [SERVICES]: sets NODE, POD, CLIENT and the expected tables (REL_WANT_*).
rel_node() {
  BACKEND=$1
  local services=${2:-1}
  NODE=$(ng_netns_add node)
  POD=$(ng_netns_add pod)
  CLIENT=$(ng_netns_add client)
  ng_veth "$NODE" ngn0 "$CLIENT" ngc0
  ip -n "$NODE" addr add "$REL_NODE_IP/24" dev ngn0
  ip -n "$CLIENT" addr add "$REL_CLIENT_IP/24" dev ngc0
  ng_in "$NODE" sysctl -qw net.ipv4.ip_forward=1
  ng_nf_pod "$NODE" "$POD" "$BACKEND" ipv4 c0ffee0123456789 "$REL_HOSTPORT" "$REL_SUBNET" >/dev/null
  ng_bg "$POD" socat TCP4-LISTEN:80,fork,reuseaddr SYSTEM:"echo hello-from-pod" >/dev/null
  ng_wait_until 15 rel_answers || ng_fail "hostPort does not answer before the test"
  rel_kube_chains "$services"
  rel_restore --noflush <<<"$REL_UNOWNED"
  rel_snapshot_tables
}

# The tables as they must be: taken before the agent runs (and again after a legitimate change).
rel_snapshot_tables() {
  REL_WANT_NAT=$(rel_save -t nat | ng_nf_guarded_lines)
  REL_WANT_FILTER=$(rel_save -t filter | ng_nf_guarded_lines)
  REL_UNOWNED_NAT=$(rel_save -t nat | ng_nf_unowned_lines)
  REL_UNOWNED_FILTER=$(rel_save -t filter | ng_nf_unowned_lines)
}

rel_guarded_nat() { rel_save -t nat | ng_nf_guarded_lines; }
# Guarded rules exactly as before (each once, same order) in nat and filter.
rel_restored() {
  [[ $(rel_save -t nat | ng_nf_guarded_lines) == "$REL_WANT_NAT" &&
    $(rel_save -t filter | ng_nf_guarded_lines) == "$REL_WANT_FILTER" ]]
}
# Nothing of ours left (what a flush leaves): no guarded rule in nat or filter.
rel_flushed() {
  [[ -z $(rel_save -t nat | ng_nf_guarded_lines) && -z $(rel_save -t filter | ng_nf_guarded_lines) ]]
}
rel_unowned_intact() {
  [[ $(rel_save -t nat | ng_nf_unowned_lines) == "$REL_UNOWNED_NAT" &&
    $(rel_save -t filter | ng_nf_unowned_lines) == "$REL_UNOWNED_FILTER" ]]
}
# Guarded rules restored identical, none twice, unowned rules as the owner left them.
rel_intact() {
  rel_restored && rel_unowned_intact && [[ -z $(rel_save | grep '^-A' | sort | uniq -d) ]]
}
rel_explain() {
  diff <(echo "$REL_WANT_NAT") <(rel_save -t nat | ng_nf_guarded_lines) >&2 || true
  diff <(echo "$REL_WANT_FILTER") <(rel_save -t filter | ng_nf_guarded_lines) >&2 || true
  diff <(echo "$REL_UNOWNED_NAT") <(rel_save -t nat | ng_nf_unowned_lines) >&2 || true
  diff <(echo "$REL_UNOWNED_FILTER") <(rel_save -t filter | ng_nf_unowned_lines) >&2 || true
  rel_save | grep '^-A' | sort | uniq -d | sed 's/^/twice: /' >&2 || true
}

# What firewalld's reload does to the iptables tables: flush and delete every chain, then put
# its own rules back; one transaction, as firewalld's iptables-restore.
# With nft, a restore whose batch races another writer's commit (the agent repairing the other
# table) can be refused as a whole (iptables-nft-restore: CHAIN_DEL failed); nothing is applied,
# so the flush is simply tried again, as often as needed within a few seconds.
rel_flush() {
  local tries=0
  until rel_restore --noflush <<<$'*nat\n-F\n-X\nCOMMIT\n*filter\n-F\n-X\nCOMMIT\n'"$REL_UNOWNED" 2>"$NG_TMP/flush.err"; do
    tries=$((tries + 1))
    ((tries < 50)) || { cat "$NG_TMP/flush.err" >&2; ng_fail "the test's own flush failed $tries times"; }
    sleep 0.05
  done
}

# rel_config NETFILTER_FLOW_MAP [EXTRA_YAML]: the agent's config: the guard on, every other
# component off unless EXTRA_YAML has a top-level section for it.
rel_config() {
  local nf=$1 extra=${2:-} section
  {
    cat <<YAML
node_name: rel-node
state_dir: $STATE
grpc_socket: $SOCK
metrics_listen: 127.0.0.1:0
health_listen: ""
log_level: ${REL_LOG_LEVEL:-info}
netfilter: $nf
YAML
    for section in firewalld bgp routes probes logs; do
      grep -q "^$section:" <<<"$extra" || echo "$section: {enabled: false}"
    done
    grep -q '^cni:' <<<"$extra" || echo 'cni: {mode: "off"}'
    [[ -z $extra ]] || echo "$extra"
  } >"$NG_TMP/nodeguard.yaml"
  "$NODEGUARD" --config "$NG_TMP/nodeguard.yaml" --check-config >/dev/null ||
    ng_fail "config rejected: $("$NODEGUARD" --config "$NG_TMP/nodeguard.yaml" --check-config 2>&1)"
}

# rel_start [WRAPPER...]: starts the agent in the node namespace (through WRAPPER when given,
# which must exec it), waits until the guard runs and the canary exists. LOG is this run's log.
rel_start() {
  AGENT_RUN=$((AGENT_RUN + 1))
  LOG=$NG_TMP/agent.$AGENT_RUN.log
  "$@" ip netns exec "$NODE" env XTABLES_LOCKFILE="$LOCKFILE" \
    "$NODEGUARD" --config "$NG_TMP/nodeguard.yaml" >"$LOG" 2>&1 &
  AGENT_PID=$!
  ng_track_pid "$AGENT_PID"
  ng_wait_until 30 grep -q '"msg":"netfilter guard running"' "$LOG" ||
    rel_fail "agent did not start"
  ng_wait_until 15 bash -c "ip netns exec $NODE iptables-$BACKEND-save -t nat | grep -q '^:NODEGUARD-CANARY'" ||
    rel_fail "canary chain not created"
}
rel_stop() {
  kill -TERM "$AGENT_PID"
  wait "$AGENT_PID" || rel_fail "agent exit code $? after SIGTERM"
  AGENT_PID=
}
rel_kill9() {
  kill -KILL "$AGENT_PID" 2>/dev/null || true
  wait "$AGENT_PID" 2>/dev/null || true
  AGENT_PID=
}
rel_fail() {
  echo "--- agent log (last 40 lines of $LOG):" >&2
  tail -n 40 "$LOG" >&2 2>/dev/null || true
  if [[ -n ${BACKEND:-} ]]; then
    echo "--- nat now:" >&2
    rel_save -t nat >&2 2>/dev/null || true
  fi
  ng_fail "$*"
}

rel_metrics_port() {
  grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$LOG" | grep -o '[0-9]*$'
}
# rel_metric 'NAME{labels}': its value from the running agent (0 when absent).
rel_metric() {
  ng_in "$NODE" curl -sf "http://127.0.0.1:$(rel_metrics_port)/metrics" |
    awk -v m="$1" '$1 == m {print $2; found=1} END {if (!found) print 0}'
}
# rel_metric_sum PREFIX: the sum of every series whose name and labels start with PREFIX (a
# label set left open, e.g. to add up the writer label of the repairs counter).
rel_metric_sum() {
  ng_in "$NODE" curl -sf "http://127.0.0.1:$(rel_metrics_port)/metrics" |
    awk -v p="$1" 'index($1, p) == 1 {s += $2} END {print s + 0}'
}
rel_condition() { rel_metric "nodeguard_condition{status=\"true\",type=\"$1\"}"; }
# How often a log message appears in this run's log.
rel_count() { grep -c "\"msg\":\"$1\"" "$LOG" || true; }

# Process figures: CPU (user+system clock ticks), resident memory (kB), open fds.
rel_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rel_rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
rel_fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
rel_ms_of_ticks() { echo $(($1 * 1000 / $(getconf CLK_TCK))); }
now_ms() { date +%s%3N; }
