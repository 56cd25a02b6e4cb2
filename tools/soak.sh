#!/usr/bin/env bash
# Soak: the real agent (netfilter guard, log tailing, route view) for a while under steady
# churn, its memory and fds sampled over time. Root; everything happens in namespaces this
# script creates (tests/support/netns.sh) and is removed at exit.
#   tools/soak.sh [--minutes N] [--interval SECONDS] [--backend nft|legacy] [--out FILE]
# Churn, all the time:
#   - pods added and removed with the real CNI plugins (bridge, host-local, portmap with a
#     hostPort), each with its own container log file that appears and goes away with it;
#   - log lines at 200/s into a long-lived container log, rotated as kubelet does every 5000;
#   - routes added and deleted in the node namespace every few seconds;
#   - a firewalld-like flush of nat and filter every 30 s.
# Every INTERVAL seconds a row: elapsed, RSS (kB), open fds, CPU seconds, pods, repairs. At the
# end a verdict per series from a least-squares line over the samples after the first fifth
# (warm-up): "flat" when the fitted rise over the run is under 2 % of the mean (RSS) or under 2
# (fds), else "growing"; exit 1 if anything grows, the agent died, or the tables or hostPorts
# are wrong at the end. Builds build/ first if needed.
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=10 INTERVAL=30 BACKEND=nft OUT=
while (($#)); do
  case $1 in
    --minutes) MINUTES=$2; shift 2 ;;
    --interval) INTERVAL=$2; shift 2 ;;
    --backend) BACKEND=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
export NG_SOURCE_DIR=$PWD NG_BUILD_DIR=${NG_BUILD_DIR:-$PWD/build}
if [[ ! -x $NG_BUILD_DIR/agent/nodeguard || ! -x $NG_BUILD_DIR/tests/integration/logs/ng_log_writer ]]; then
  cmake --preset default >/dev/null && cmake --build --preset default -j "$(nproc)" --target nodeguard ng_log_writer
fi
source tests/support/netns.sh
source tests/integration/netfilter/lib.sh
source tests/integration/reliability/lib.sh
rel_require
WRITER=$NG_BUILD_DIR/tests/integration/logs/ng_log_writer
OUT=${OUT:-$PWD/soak-$(date +%Y%m%d-%H%M%S).txt}

rel_node "$BACKEND" 50
LOGDIR=$NG_TMP/containers
mkdir -p "$LOGDIR" "$NG_TMP/pods"
cat >"$NG_TMP/rules.json" <<'JSON'
{"source": "soak", "rules": [{"type": "temporary", "reason": "SoakLine", "pattern": "SEQ-[0-9]*0000 payload"}]}
JSON
rel_config "{backend: $BACKEND, families: [ipv4]}" "logs:
  container_dirs: [$LOGDIR]
  kubelet: \"\"
  rules: [$NG_TMP/rules.json]
routes:
  enabled: true
  recheck_interval: 30s"
rel_start
ng_log "soak: $MINUTES min, sample every ${INTERVAL}s, backend $BACKEND, agent pid $AGENT_PID; table in $OUT"

# The long-lived container log: written and rotated all the time (the writer restarts where
# it stopped).
busy_dir=$NG_TMP/pods/default_busy_uid/app
mkdir -p "$busy_dir"
ln -s "$busy_dir/0.log" "$LOGDIR/busy_default_app-$(printf '%064x' 1).log"
(
  n=1
  while true; do
    "$WRITER" --file "$busy_dir/0.log" --start "$n" --count 20000 --rate 200 --rotate-every 5000 \
      --modes kubelet >/dev/null 2>&1 || exit 0
    n=$((n + 20000))
  done
) &
ng_track_pid $!

# Pods: slots 0..3, each added, then removed a while later, with a log file of its own.
declare -A live
pod_add() { # SLOT
  local s=$1 cid ns
  cid=$(printf 'soak%04d%08x' "$s" "$RANDOM$RANDOM")
  ns=$(ng_netns_add "p$s-$RANDOM")
  ng_nf_pod "$NODE" "$ns" "$BACKEND" ipv4 "$cid" $((9000 + s)) "$REL_SUBNET" >/dev/null
  live[$s]="$ns $cid"
  local f=$NG_TMP/pods/default_p${s}_$cid/app
  mkdir -p "$f"
  echo "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ) stdout F pod $cid up" >"$f/0.log"
  ln -s "$f/0.log" "$LOGDIR/p${s}_default_app-$(printf '%064x' $((added + 100))).log"
}
pod_del() { # SLOT
  local s=$1 ns cid
  read -r ns cid <<<"${live[$s]}"
  ng_nf_pod_del "$NODE" "$ns" "$BACKEND" "$cid"
  ip netns del "$ns"
  rm -rf "$NG_TMP/pods/default_p${s}_$cid" "$LOGDIR/p${s}_default_app-"*
  unset "live[$s]"
}
for s in 0 1 2 3; do pod_add "$s"; done
added=4 removed=0 flushes=0 routes=0 failures=0

sample() {
  local pid=$AGENT_PID
  kill -0 "$pid" 2>/dev/null || { echo "agent died" >&2; return 1; }
  local cpu
  cpu=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$pid/stat")
  local repairs
  repairs=$(grep -c '"msg":"repair applied"' "$LOG" || true)
  printf '%8d %10d %6d %9s %5d %8d\n' $((SECONDS - T0)) "$(rel_rss_kb "$pid")" "$(rel_fds "$pid")" \
    "$cpu" "${#live[@]}" "$repairs" | tee -a "$OUT"
}
printf '%8s %10s %6s %9s %5s %8s\n' elapsed_s rss_kB fds cpu_s pods repairs | tee "$OUT"
T0=$SECONDS
end=$((SECONDS + MINUTES * 60))
next_sample=$SECONDS
tick=0
while ((SECONDS < end)); do
  if ((SECONDS >= next_sample)); then
    sample || break
    next_sample=$((next_sample + INTERVAL))
  fi
  tick=$((tick + 1))
  # A pod in turn is removed and another added every 2 s: churn of CNI chains and log files.
  s=$((tick % 4))
  if [[ -n ${live[$s]:-} ]]; then pod_del "$s"; removed=$((removed + 1)); fi
  pod_add "$s"
  added=$((added + 1))
  # Routes: one added, one (older) deleted.
  ip -n "$NODE" route add "10.250.$((tick % 200)).0/24" via "$REL_CLIENT_IP" 2>/dev/null && routes=$((routes + 1)) || true
  ip -n "$NODE" route del "10.250.$(((tick + 100) % 200)).0/24" 2>/dev/null || true
  if ((tick % 15 == 0)); then
    rel_flush
    flushes=$((flushes + 1))
  fi
  sleep 2
done
sample || true

# The end: a last flush is repaired to exactly what was there, and every live pod's hostPort
# answers.
sleep 3
rel_snapshot_tables
rel_flush
flushes=$((flushes + 1))
ng_wait_until 20 rel_intact || { rel_explain; failures=$((failures + 1)); echo "tables not intact at the end" >&2; }
for s in "${!live[@]}"; do
  read -r ns cid <<<"${live[$s]}"
  ng_bg "$ns" socat TCP4-LISTEN:80,fork,reuseaddr SYSTEM:"echo hello-from-pod" >/dev/null
  ng_wait_until 10 bash -c "[[ \$(ip netns exec $CLIENT timeout 3 socat -T2 - TCP4:$REL_NODE_IP:$((9000 + s)),connect-timeout=2 </dev/null 2>/dev/null) == hello-from-pod ]]" ||
    { failures=$((failures + 1)); echo "hostPort $((9000 + s)) does not answer at the end" >&2; }
done
errors=$(grep -c '"level":"error"' "$LOG" || true)
fights=$(grep -c '"msg":"netfilter fight: backing off"' "$LOG" || true)
lines=$(rel_metric 'nodeguard_log_lines_total{source="container"}')
alive=yes
kill -0 "$AGENT_PID" 2>/dev/null || alive=no
[[ $alive == yes ]] && rel_stop

# Verdicts: least squares over the samples after the warm-up fifth.
verdict() { # COLUMN NAME TOLERANCE(awk expression of mean)
  awk -v col="$1" -v name="$2" -v tol="$3" 'NR > 1 {x[n] = $1; y[n] = $col; n++}
    END {
      skip = int(n / 5); m = 0; sx = sy = sxx = sxy = 0
      for (i = skip; i < n; i++) { m++; sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i] }
      if (m < 3) { printf "%s: too few samples (%d)\n", name, m; exit 2 }
      slope = (m * sxy - sx * sy) / (m * sxx - sx * sx)
      mean = sy / m; span = x[n - 1] - x[skip]; rise = slope * span
      limit = (tol == "pct") ? 0.02 * mean : 2
      printf "%s: first %d, last %d, mean %.0f, slope %.3f per hour, fitted rise %.1f over %d s (limit %.1f): %s\n",
        name, y[skip], y[n - 1], mean, slope * 3600, rise, span, limit, (rise <= limit ? "flat" : "growing")
      exit (rise <= limit ? 0 : 1)
    }' "$OUT"
}
status=0
{
  echo
  echo "churn: pods added $added, removed $removed; routes added $routes; flushes $flushes;" \
    "container log lines read $lines; repairs $(grep -c '"msg":"repair applied"' "$LOG" || true);" \
    "fights $fights; error log lines $errors; agent alive at the end: $alive; end checks failed: $failures"
} | tee -a "$OUT"
verdict 2 rss_kB pct | tee -a "$OUT" || status=1
verdict 3 fds abs | tee -a "$OUT" || status=1
[[ $alive == yes && $failures == 0 && $fights == 0 ]] || status=1
((status == 0)) && echo "SOAK PASS" | tee -a "$OUT" || echo "SOAK FAIL" | tee -a "$OUT"
exit "$status"
