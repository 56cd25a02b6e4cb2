#!/usr/bin/env bash
# Log pipeline benchmark (numbers quoted in docs/benchmarks.md):
#   1. throughput of the full pipeline (read, CRI decode, partial join, one Hyperscan scan for
#      100 rules, counters) over a 1 GiB CRI log, in MiB/s per core (CPU time), beside
#      `grep -E -f <the same 100 patterns>` and `cat >/dev/null` on the same file;
#   2. the real agent's RSS while tailing 1,000 container logs that keep being written.
# Data is generated under --dir (default: /dev/shm when it has room for twice the log, else
# /tmp) and deleted afterwards. On a VM that reclaims cold page cache proactively (kdamond runs
# on this one), a 1 GiB file on disk is partly re-read from disk between runs (perf shows
# workingset refaults) and the figure includes that I/O; tmpfs keeps every page resident.
#   tools/bench/logs.sh [--size BYTES] [--files N] [--runs N] [--build DIR] [--dir DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
size=$((1024 * 1024 * 1024))
files=1000
runs=3
build=build
dir=
while (($#)); do
  case $1 in
    --size) size=$2; shift ;;
    --files) files=$2; shift ;;
    --runs) runs=$2; shift ;;
    --build) build=$2; shift ;;
    --dir) dir=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "logs.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
BENCH=$build/tools/bench/log_pipeline_bench
NODEGUARD=$build/agent/nodeguard
NGCTL=$build/tools/ngctl/ngctl
for b in "$BENCH" "$NODEGUARD" "$NGCTL"; do
  [[ -x $b ]] || { echo "logs.sh: $b missing: cmake --build $build" >&2; exit 2; }
done
if [[ -z $dir ]]; then
  dir=/tmp
  shm_free=$(df -B1 --output=avail /dev/shm 2>/dev/null | tail -1 || echo 0)
  ((${shm_free:-0} > 2 * size)) && dir=/dev/shm
fi
T=$(mktemp -d "$dir/ng-logbench-XXXXXX")
agent=
cleanup() {
  [[ -n $agent ]] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

echo "== machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== generating $((size / 1048576)) MiB CRI log and 100 rules in $T ($(df --output=fstype "$T" | tail -1))"
"$BENCH" generate "$T/bench.log" "$size"
"$BENCH" rules "$T/rules.json" "$T/patterns.txt" 100
cat "$T/bench.log" >/dev/null  # page cache warm for everyone

echo "== nodeguard pipeline (CPU time of the one thread that does it)"
"$BENCH" pipeline "$T/bench.log" "$T/rules.json" "$runs"

cpu_rate() {  # OUT command... -> MiB/s per core from user+sys time
  local t out=$1
  shift
  /usr/bin/time -o "$T/time" -f "%U %S" "$@" >"$out" 2>/dev/null || true
  t=$(tail -1 "$T/time")
  awk -v s="$size" -v t="$t" 'BEGIN { split(t, a, " "); c = a[1] + a[2]; if (c < 0.01) c = 0.01;
    printf "%.0f MiB/s per core (%.2f s CPU)\n", s / 1048576 / c, c }'
}
median_of() {  # label OUT command...
  local label=$1
  shift
  local out=()
  for _ in $(seq 1 "$runs"); do out+=("$(cpu_rate "$@")"); done
  printf '%s\n' "${out[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p" | sed "s/^/$label median: /"
}
echo "== grep -E -f (GNU grep $(grep --version | head -1 | grep -o '[0-9.]*$'), same 100 patterns)"
# Output to a file, not /dev/null: GNU grep stops at the first match when writing to /dev/null.
median_of "grep -E -f" "$T/grep.out" grep -c -E -f "$T/patterns.txt" "$T/bench.log"
echo "== cat >/dev/null"
median_of "cat" /dev/null cat "$T/bench.log"
rm -f "$T/bench.log"

echo "== agent RSS tailing $files container logs (built-in rules, lines keep coming)"
mkdir -p "$T/containers" "$T/state"
for i in $(seq 1 "$files"); do
  d="$T/pods/ns${i}_pod${i}_uid$i/app"
  mkdir -p "$d"
  for l in $(seq 1 20); do echo "2024-05-01T12:00:00.000000000Z stdout F pod $i line $l some text here"; done >"$d/0.log"
  ln -s "$d/0.log" "$T/containers/pod${i}_ns${i}_app-$(printf '%064d' "$i").log"
done
cat >"$T/nodeguard.yaml" <<YAML
state_dir: $T/state
grpc_socket: $T/ng.sock
metrics_listen: ""
health_listen: ""
netfilter: {enabled: false}
firewalld: {enabled: false}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
cni: {mode: "off"}
logs: {container_dirs: [$T/containers], kubelet: "", read_from_head: true}
YAML
"$NODEGUARD" --config "$T/nodeguard.yaml" >"$T/agent.log" 2>&1 &
agent=$!
for _ in $(seq 1 200); do
  "$NGCTL" --socket "$T/ng.sock" status 2>/dev/null | grep -q "tailing $files files" && break
  sleep 0.1
done
"$NGCTL" --socket "$T/ng.sock" status | grep '^logs' || { echo "agent did not come up"; exit 1; }
# 10 s of writes: 200 rounds, one line into every file per round, a round every 50 ms.
start=$SECONDS
awk -v n="$files" -v t="$T" 'BEGIN {
  pad = sprintf("%80s", ""); gsub(/ /, "x", pad)
  for (r = 1; r <= 200; r++) {
    for (i = 1; i <= n; i++) {
      f = t "/pods/ns" i "_pod" i "_uid" i "/app/0.log"
      print "2024-05-01T12:00:01.000000000Z stdout F pod " i " round " r " " pad >> f
      fflush(f)
    }
    system("sleep 0.05")
  }
}' &
writer=$!
peak=0
while kill -0 "$writer" 2>/dev/null; do
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$agent/status")
  ((rss > peak)) && peak=$rss
  sleep 0.2
done
wait "$writer"
sleep 1
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$agent/status")
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$agent/status")
fds=$(ls "/proc/$agent/fd" | wc -l)
echo "wrote $((files * 200)) lines into $files files in $((SECONDS - start)) s"
echo "agent RSS with $files files: now $((rss / 1024)) MiB, peak sampled $((peak / 1024)) MiB, VmHWM $((hwm / 1024)) MiB; $fds fds open"
"$NGCTL" --socket "$T/ng.sock" status | grep '^logs'
