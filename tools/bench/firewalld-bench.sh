#!/usr/bin/env bash
# The firewalld benchmark (docs/benchmarks.md): how long a real pod's hostPort is broken by a
# real `firewall-cmd --reload`, with nodeguard and without. Root; every run happens in a private
# mount namespace with its own dbus-daemon and in network namespaces made for it
# (tests/integration/firewalld/lib.sh), never on the host's bus or firewall.
#
#   sudo tools/bench/firewalld-bench.sh                       # 20 reloads per backend
#   sudo tools/bench/firewalld-bench.sh --reloads 50 --combos "nftables:nft"
#
# For each combination (firewalld backend : iptables tools; default iptables:legacy and
# nftables:nft) a prober connects to the hostPort every 10 ms (100 ms timeout) from a client
# namespace while firewall-cmd --reload runs --reloads times (one every --gap seconds). The
# bus is monitored for the reload call and firewalld's Reloaded signal. Printed, p50/p99/max:
#   reload       firewalld's own reload duration (reload call -> Reloaded signal)
#   outage       first failed probe -> first answered probe
#   after_reload Reloaded signal -> first answered probe (negative: answered before firewalld
#                finished; the target is p99 <= 100 ms)
# Then nodeguard is stopped and one more reload shows the hostPort never answers again.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export NG_SOURCE_DIR=$ROOT
BUILD=${NG_BUILD_DIR:-$ROOT/build}
reloads=20
gap=2
combos="iptables:legacy nftables:nft"
one=
while (($#)); do
  case $1 in
    --reloads) reloads=$2; shift ;;
    --gap) gap=$2; shift ;;
    --combos) combos=$2; shift ;;
    --one) one=$2; shift ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "firewalld-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "firewalld-bench: needs root (namespaces)" >&2; exit 2; }
PROBER=$BUILD/tests/integration/firewalld/hostport_prober
[[ -x $BUILD/agent/nodeguard && -x $PROBER ]] || { echo "build first: cmake --build build" >&2; exit 2; }

if [[ -z $one ]]; then
  echo "# firewalld hostPort outage benchmark, $(date -u +%FT%TZ), $(nproc) cores," \
    "load $(cut -d' ' -f1-3 /proc/loadavg), firewalld $(dpkg-query -W -f='${Version}' firewalld 2>/dev/null)"
  for c in $combos; do
    NG_BUILD_DIR=$BUILD bash "$0" --one "$c" --reloads "$reloads" --gap "$gap" || echo "  ($c failed: exit $?)"
  done
  exit 0
fi

source "$ROOT/tests/integration/firewalld/lib.sh"
ng_fw_private_mounts --one "$one" --reloads "$reloads" --gap "$gap"
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
run_reloads "$reloads"
kill -TERM "$agent"
wait "$agent" || true
sleep 1
run_reloads 1
sleep 8
kill -TERM "$prober"
wait "$prober" || true

# reload call and Reloaded signal times (ns), one line per reload: "<call> <signal>".
jq -r 'select(.member == "reload" and .type == "method_call") | "C \(.["timestamp-realtime"])",
       select(.member == "Reloaded" and .type == "signal") | "S \(.["timestamp-realtime"])"' \
  "$NG_TMP/bus.json" | awk '$1 == "C" {c = $2} $1 == "S" && c {print c * 1000, $2 * 1000; c = 0}' \
  >"$NG_TMP/reloads.txt"
[[ $(wc -l <"$NG_TMP/reloads.txt") -eq $((reloads + 1)) ]] ||
  ng_fail "expected $((reloads + 1)) reloads on the bus, saw $(wc -l <"$NG_TMP/reloads.txt")"

# One line per reload: reload_ms outage_ms after_reload_ms (outage "none": no probe failed;
# "never": no probe answered again).
awk 'NR == FNR { call[n] = $1; sig[n] = $2; n++; next }
     { t = $1; while (i + 1 < n && t >= call[i + 1]) i++
       if (t < call[i]) next
       if ($2 == "fail" && !(i in fail)) fail[i] = t
       if ($2 == "ok" && (i in fail) && !(i in back)) back[i] = t }
     END { for (k = 0; k < n; k++) {
             r = (sig[k] - call[k]) / 1e6
             if (!(k in fail)) { printf "%.1f none %.1f\n", r, 0; continue }
             if (!(k in back)) { printf "%.1f never never\n", r; continue }
             printf "%.1f %.1f %.1f\n", r, (back[k] - fail[k]) / 1e6, (back[k] - sig[k]) / 1e6 } }' \
  "$NG_TMP/reloads.txt" "$NG_TMP/probes.txt" >"$NG_TMP/results.txt"

# pct COLUMN FILE: p50 p99 max of the numeric values of a column.
pct() {
  awk -v c="$1" '$c ~ /^-?[0-9.]+$/ {print $c}' "$2" | sort -g | awk '
    {v[NR] = $1} END { if (!NR) { print "n/a"; exit }
      i50 = int(NR * 0.50 + 0.999); i99 = int(NR * 0.99 + 0.999)
      printf "p50 %.0f ms  p99 %.0f ms  max %.0f ms  (n=%d)\n", v[i50], v[i99], v[NR], NR }'
}
head -n "$reloads" "$NG_TMP/results.txt" >"$NG_TMP/guarded.txt"
tail -n 1 "$NG_TMP/results.txt" >"$NG_TMP/unguarded.txt"
repairs=$(grep -c '"msg":"repair applied"' "$NG_TMP/agent.log" || true)
echo "## firewalld $BACKEND backend, iptables-$TOOLS, $reloads reloads"
echo "  firewalld reload (call -> Reloaded):  $(pct 1 "$NG_TMP/guarded.txt")"
echo "  with nodeguard, outage:               $(pct 2 "$NG_TMP/guarded.txt")"
echo "  with nodeguard, Reloaded -> answered: $(pct 3 "$NG_TMP/guarded.txt")"
echo "  with nodeguard, reloads without a failed probe: $(grep -c ' none ' "$NG_TMP/guarded.txt" || true);" \
  "never answered again: $(grep -c never "$NG_TMP/guarded.txt" || true); repairs logged: $repairs"
read -r r o a <"$NG_TMP/unguarded.txt"
if [[ $o == never ]]; then
  echo "  without nodeguard: the hostPort never answered again (8 s watched after a ${r} ms reload)"
else
  echo "  without nodeguard: outage $o ms, answered $a ms after Reloaded (unexpected)"
fi
