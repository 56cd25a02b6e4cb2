#!/usr/bin/env bash
# The firewalld benchmark (docs/benchmarks.md): how long a real pod's hostPort is broken by a
# real `firewall-cmd --reload`, with nodeguard and without. Root; every run happens in a private
# mount namespace with its own dbus-daemon and in network namespaces made for it
# (tests/integration/firewalld/lib.sh), never on the host's bus or firewall.
#
#   sudo tools/bench/firewalld-bench.sh                       # 20 reloads per backend, each way
#   sudo tools/bench/firewalld-bench.sh --reloads 50 --unguarded 5 --combos "nftables:nft"
#
# For each combination (firewalld backend : iptables tools; default iptables:legacy and
# nftables:nft) a prober connects to the hostPort every 10 ms (100 ms timeout) from a client
# namespace while firewall-cmd --reload runs --reloads times (one every --gap seconds). The
# bus is monitored for the reload call and firewalld's Reloaded signal. Printed, p50/p99/max:
#   reload       firewalld's own reload duration (reload call -> Reloaded signal)
#   outage       first failed probe -> first answered probe (of 5 in a row; probes in start order)
#   after_reload Reloaded signal -> first answered probe (negative: answered before firewalld
#                finished; the target is p99 <= 100 ms)
# Then nodeguard is stopped and --unguarded reloads (default: as many) run without it: after
# each, the prober is watched for --watch seconds (default 3), then the CNI's rules are put
# back by hand (iptables-restore --noflush of the pre-reload dump, what re-creating the pod
# would do) so the next reload starts from a working hostPort.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export NG_SOURCE_DIR=$ROOT
BUILD=${NG_BUILD_DIR:-$ROOT/build}
reloads=20
unguarded=
watch=3
gap=2
combos="iptables:legacy nftables:nft"
one=
while (($#)); do
  case $1 in
    --reloads) reloads=$2; shift ;;
    --gap) gap=$2; shift ;;
    --unguarded) unguarded=$2; shift ;;
    --watch) watch=$2; shift ;;
    --combos) combos=$2; shift ;;
    --one) one=$2; shift ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "firewalld-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
unguarded=${unguarded:-$reloads}
[[ $(id -u) -eq 0 ]] || { echo "firewalld-bench: needs root (namespaces)" >&2; exit 2; }
PROBER=$BUILD/tests/integration/firewalld/hostport_prober
[[ -x $BUILD/agent/nodeguard && -x $PROBER ]] || { echo "build first: cmake --build build" >&2; exit 2; }

if [[ -z $one ]]; then
  echo "# firewalld hostPort outage benchmark, $(date -u +%FT%TZ), $(nproc) cores," \
    "load $(cut -d' ' -f1-3 /proc/loadavg), firewalld $(dpkg-query -W -f='${Version}' firewalld 2>/dev/null)"
  for c in $combos; do
    NG_BUILD_DIR=$BUILD bash "$0" --one "$c" --reloads "$reloads" --gap "$gap" \
      --unguarded "$unguarded" --watch "$watch" || echo "  ($c failed: exit $?)"
  done
  exit 0
fi

source "$ROOT/tests/integration/firewalld/lib.sh"
ng_fw_private_mounts --one "$one" --reloads "$reloads" --gap "$gap" --unguarded "$unguarded" \
  --watch "$watch"
source "$ROOT/tests/support/netns.sh"
source "$ROOT/tests/integration/netfilter/lib.sh"
BACKEND=${one%%:*} TOOLS=${one#*:}

node=$(ng_netns_add node)
pod=$(ng_netns_add pod)
client=$(ng_netns_add client)
ng_veth "$node" eth0 "$client" eth0c
ip -n "$node" addr add 192.168.77.1/24 dev eth0
ip -n "$client" addr add 192.168.77.2/24 dev eth0c
ng_in "$node" sysctl -qw net.ipv4.ip_forward=1
ng_fw_setup "$BACKEND" "$TOOLS"
ng_fw_start "$node"
ng_nf_pod "$node" "$pod" "$TOOLS" ipv4 c0ffee0123456789 8080 10.244.1.0/24 >/dev/null
ng_bg "$pod" socat TCP4-LISTEN:80,fork,reuseaddr SYSTEM:"echo hello-from-pod" >/dev/null
answers() { [[ $(ng_nf_connect "$client" 192.168.77.1 8080) == hello-from-pod ]]; }
ng_wait_until 15 answers || ng_fail "hostPort does not answer"

cat >"$NG_TMP/nodeguard.yaml" <<YAML
node_name: bench
state_dir: $NG_TMP/state
grpc_socket: $NG_TMP/ng.sock
metrics_listen: ""
health_listen: ""
netfilter: {backend: $TOOLS, families: [ipv4]}
firewalld: {enabled: true}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
YAML
ip netns exec "$node" "$BUILD/agent/nodeguard" --config "$NG_TMP/nodeguard.yaml" >"$NG_TMP/agent.log" 2>&1 &
agent=$!
ng_track_pid "$agent"
ng_wait_until 20 grep -q '"firewalld":"running"' "$NG_TMP/agent.log" || ng_fail "agent did not find firewalld"
ng_wait_until 10 bash -c "ip netns exec $node iptables-$TOOLS-save -t nat | grep -q NODEGUARD-CANARY" ||
  ng_fail "no canary"

busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" monitor --json=short \
  --match "interface='org.fedoraproject.FirewallD1'" >"$NG_TMP/bus.json" 2>/dev/null &
ng_track_pid $!
ip netns exec "$client" "$PROBER" --target 192.168.77.1:8080 --interval-ms 10 --timeout-ms 100 \
  >"$NG_TMP/probes.txt" &
prober=$!
ng_track_pid "$prober"
sleep 1

# reloads COUNT: firewall-cmd --reload COUNT times, GAP seconds apart.
run_reloads() {
  local i
  for ((i = 0; i < $1; i++)); do
    ng_fw_cmd "$node" --reload >/dev/null
    sleep "$gap"
  done
}
# The CNI's rules before any reload: what the unguarded runs put back by hand.
save() { ng_in "$node" "iptables-$TOOLS-save" "$@"; }
for t in nat filter; do save -t "$t" >"$NG_TMP/before.$t"; done
put_back() {
  local t
  # Only after a flush (firewalld 1.3.3 wipes the tables on every reload): never doubles a jump.
  ! save -t nat | grep -q '^:CNI-HOSTPORT-DNAT' || return 0
  for t in nat filter; do
    {
      echo "*$t"
      grep -E '^:(CNI-|KUBE-|cali-)' "$NG_TMP/before.$t" | sed -E 's/\[[0-9]+:[0-9]+\]$/[0:0]/' || true
      ng_nf_guarded_lines <"$NG_TMP/before.$t"
      echo COMMIT
    } | ng_in "$node" "iptables-$TOOLS-restore" --noflush
  done
}

run_reloads "$reloads"
kill -TERM "$agent"
wait "$agent" || true
sleep 1
# Unguarded: reload, watch, put back (the cut line ends this reload's window), wait for answers.
: >"$NG_TMP/cuts.txt"
for ((i = 0; i < unguarded; i++)); do
  ng_fw_cmd "$node" --reload >/dev/null
  sleep "$watch"
  echo "$((reloads + i)) $(date +%s%N)" >>"$NG_TMP/cuts.txt"
  put_back
  ng_wait_until 10 answers || ng_fail "the hostPort does not answer after putting the rules back"
  sleep 0.5
done
kill -TERM "$prober"
wait "$prober" || true

# reload call and Reloaded signal times (ns), one line per reload: "<call> <signal>".
jq -r '(select(.member == "reload" and .type == "method_call") | "C \(.["timestamp-realtime"])"),
       (select(.member == "Reloaded" and .type == "signal") | "S \(.["timestamp-realtime"])")' \
  "$NG_TMP/bus.json" | awk '$1 == "C" {c = $2} $1 == "S" && c {printf "%.0f %.0f\n", c * 1000, $2 * 1000; c = 0}' \
  >"$NG_TMP/reloads.txt"
total=$((reloads + unguarded))
[[ $(wc -l <"$NG_TMP/reloads.txt") -eq $total ]] ||
  ng_fail "expected $total reloads on the bus, saw $(wc -l <"$NG_TMP/reloads.txt")"

# One line per reload: reload_ms outage_ms after_reload_ms (outage 0 and "none": no probe
# failed; "never": no probe answered again before the next reload or the cut).
awk 'BEGIN { n = 0; i = 0 }
     FILENAME == ARGV[1] { cut[$1] = $2; next }
     FILENAME == ARGV[2] { call[n] = $1; sig[n] = $2; n++; next }
     { t = $1; while (i + 1 < n && t >= call[i + 1]) i++
       if (t < call[i] || ((i in cut) && t >= cut[i])) next
       if ($2 == "fail" && !(i in fail)) fail[i] = t
       # Answered again: the first of 5 answered probes in a row. A lone answer after a flush
       # is a probe whose source port matched a conntrack entry DNATed before it.
       if ((i in fail) && !(i in back)) {
         if ($2 == "ok") { if (!run) first = t; if (++run == 5) back[i] = first } else run = 0
       } else run = 0 }
     END { for (k = 0; k < n; k++) {
             r = (sig[k] - call[k]) / 1e6
             if (!(k in fail)) { printf "%.1f 0 none\n", r; continue }
             if (!(k in back)) { printf "%.1f never never\n", r; continue }
             printf "%.1f %.1f %.1f\n", r, (back[k] - fail[k]) / 1e6, (back[k] - sig[k]) / 1e6 } }' \
  "$NG_TMP/cuts.txt" "$NG_TMP/reloads.txt" <(sort -n -k1,1 "$NG_TMP/probes.txt") >"$NG_TMP/results.txt"

[[ -z ${NG_FW_BENCH_KEEP:-} ]] || cp -a "$NG_TMP/." "$NG_FW_BENCH_KEEP/"
# pct COLUMN FILE: p50 p99 max of the numeric values of a column.
pct() {
  awk -v c="$1" '$c ~ /^-?[0-9.]+$/ {print $c}' "$2" | sort -g | awk '
    {v[NR] = $1} END { if (!NR) { print "n/a"; exit }
      i50 = int(NR * 0.50 + 0.999); i99 = int(NR * 0.99 + 0.999)
      printf "p50 %.0f ms  p99 %.0f ms  max %.0f ms  (n=%d)\n", v[i50], v[i99], v[NR], NR }'
}
head -n "$reloads" "$NG_TMP/results.txt" >"$NG_TMP/guarded.txt"
tail -n +"$((reloads + 1))" "$NG_TMP/results.txt" >"$NG_TMP/unguarded.txt"
repairs=$(grep -c '"msg":"repair applied"' "$NG_TMP/agent.log" || true)
echo "## firewalld $BACKEND backend, iptables-$TOOLS, $reloads reloads with nodeguard, $unguarded without"
echo "  firewalld reload (call -> Reloaded):  $(pct 1 "$NG_TMP/results.txt")"
echo "  with nodeguard, outage:               $(pct 2 "$NG_TMP/guarded.txt")"
echo "  with nodeguard, Reloaded -> answered: $(pct 3 "$NG_TMP/guarded.txt")"
echo "  with nodeguard, reloads without a failed probe: $(grep -c ' none$' "$NG_TMP/guarded.txt" || true);" \
  "never answered again: $(grep -c never "$NG_TMP/guarded.txt" || true); repairs logged: $repairs"
never=$(grep -c never "$NG_TMP/unguarded.txt" || true)
echo "  without nodeguard: $never of $unguarded reloads left the hostPort broken for the whole" \
  "${watch} s watch (outage > ${watch}000 ms, until someone re-creates the rules)"
if ((never != unguarded)); then
  echo "  without nodeguard, outage of the others: $(pct 2 "$NG_TMP/unguarded.txt") (unexpected)"
fi
