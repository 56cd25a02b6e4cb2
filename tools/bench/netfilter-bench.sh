#!/usr/bin/env bash
# The netfilter guard benchmark (docs/benchmarks.md). Root; every run happens in a network
# namespace made for it and removed after, never in the host's.
#
#   sudo tools/bench/netfilter-bench.sh                      # the full set (about 30 minutes)
#   sudo tools/bench/netfilter-bench.sh --sizes "100 10000" --flushes 20 --idle-seconds 10
#   sudo tools/bench/netfilter-bench.sh --backends legacy --poll-interval 100ms   # another poll (ms)
#
# For each backend (legacy, nft) and size (guarded rules in nat): p50/p99 of detection and
# detection-to-repair over --flushes flushes (tools/bench/netfilter_bench.cc), the cost of one
# idle change check next to one iptables-save of the table, and the idle CPU of the real
# nodeguard binary holding --idle-rules rules over --idle-seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BUILD=${NG_BUILD_DIR:-$ROOT/build}
sizes="100 10000 50000"
backends="legacy nft"
flushes=100
family=ipv4
idle_seconds=60
idle_rules=10000
poll=  # netfilter.poll_interval for both runs (e.g. 10ms); empty: the default
while (($#)); do
  case $1 in
    --sizes) sizes=$2; shift ;;
    --backends) backends=$2; shift ;;
    --flushes) flushes=$2; shift ;;
    --family) family=$2; shift ;;
    --idle-seconds) idle_seconds=$2; shift ;;
    --idle-rules) idle_rules=$2; shift ;;
    --poll-interval) poll=$2; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "netfilter-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "netfilter-bench: needs root (network namespaces)" >&2; exit 2; }
[[ -x $BUILD/tools/bench/netfilter_bench ]] || { echo "build first: cmake --build build" >&2; exit 2; }
source "$ROOT/tests/support/netns.sh"
source "$ROOT/tests/integration/netfilter/lib.sh"

echo "# netfilter guard benchmark, $(date -u +%FT%TZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for backend in $backends; do
  for n in $sizes; do
    ns=$(ng_netns_add "b$backend$n")
    f=$flushes
    ng_in "$ns" env XTABLES_LOCKFILE="$NG_TMP/xtables.lock" \
      "$BUILD/tools/bench/netfilter_bench" --backend "$backend" --family "$family" --rules "$n" \
      --flushes "$f" ${poll:+--poll-interval-ms "${poll%ms}"} || echo "  (run failed: exit $?)"
    ip netns del "$ns"
  done
done

# Idle CPU of the real agent: one table of idle_rules guarded rules, nothing changing.
hz=$(getconf CLK_TCK)
((idle_seconds > 0)) || backends=  # --idle-seconds 0: no idle run
for backend in $backends; do
  ns=$(ng_netns_add "idle$backend")
  ng_in "$ns" "$BUILD/tools/bench/netfilter_bench" --load-only --backend "$backend" \
    --family "$family" --rules "$idle_rules"
  ng_nf_agent_config "$NG_TMP/idle.yaml" "$NG_TMP/state-$backend" "$NG_TMP/idle-$backend.sock" \
    "{backend: $backend, families: [$family]${poll:+, poll_interval: $poll}}"
  ip netns exec "$ns" env XTABLES_LOCKFILE="$NG_TMP/xtables.lock" "$BUILD/agent/nodeguard" \
    --config "$NG_TMP/idle.yaml" >"$NG_TMP/idle-$backend.log" 2>&1 &
  pid=$!
  ng_track_pid "$pid"
  sleep 10  # start-up: detection, first read, canary
  ticks() { awk '{print $14+$15+$16+$17}' "/proc/$pid/stat"; }
  # Per thread: "loop" (the io_context thread, tid = pid) and the others by name, with their
  # context switches: where the idle cost goes (wake-ups or work).
  threads() {
    local t
    for t in /proc/"$pid"/task/*; do
      echo "$([[ ${t##*/} == "$pid" ]] && echo loop || tr ' ' _ <"$t/comm") $(awk '{print $14+$15}' "$t/stat") $(awk '/ctxt_switches/ {s += $2} END {print s}' "$t/status")"
    done 2>/dev/null | sort
  }
  t0=$(ticks)
  threads >"$NG_TMP/threads0"
  sleep "$idle_seconds"
  t1=$(ticks)
  threads >"$NG_TMP/threads1"
  awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$idle_seconds" -v b="$backend" -v n="$idle_rules" \
    'BEGIN { printf "idle backend=%s rules=%d: %.3f%% of one core over %d s (agent and its children)\n", b, n, 100 * d / hz / s, s }'
  paste "$NG_TMP/threads0" "$NG_TMP/threads1" | awk -v hz="$hz" -v s="$idle_seconds" '
    { cpu[$1] += $5 - $2; sw[$1] += $6 - $3 }
    END { for (k in cpu) printf "  thread %-16s %.3f%% of one core, %.1f wake-ups/s\n", k, 100 * cpu[k] / hz / s, sw[k] / s }' | sort
  kill -TERM "$pid"
  wait "$pid" 2>/dev/null || true
  ip netns del "$ns"
done
