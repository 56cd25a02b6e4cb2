#!/usr/bin/env bash
# Native table guard benchmark (root; everything in namespaces this script creates):
# wipe -> restored p50/p99 over WIPES wipes of a kube-proxy-shaped table of N services
# (tools/bench/gen-kube-proxy-nft.sh, 3 endpoints each), beside the time `nft -f` takes to load
# the same table into an empty namespace (the owner's own cost: the floor).
#
#   tools/bench/nft-native-bench.sh [BUILD_DIR] [WIPES] [SERVICES...]
#   tools/bench/nft-native-bench.sh build 100 1000 10000
#   NG_BENCH_LOADS=3 tools/bench/nft-native-bench.sh build 5 10000   # 10,000: ~60 s a round here
#   NG_BENCH_RAW=1 tools/bench/nft-native-bench.sh build 20 1000      # + each round's stamps
#
# A wipe is one transaction deleting the table (nft_native_bench, a process that is not the
# owner); "restored" is when the agent's transaction re-creating it commits (heard on the
# nftables monitor group). The agent's read-back after it is not counted.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(realpath "${1:-$src/build}")
wipes=${2:-100}
shift 2 || true
sizes=("$@")
((${#sizes[@]})) || sizes=(1000 10000)
export NG_SOURCE_DIR=$src NG_BUILD_DIR=$build
source "$src/tests/support/netns.sh"
source "$src/tests/integration/netfilter/lib.sh"
ng_require_root

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for n in "${sizes[@]}"; do
  "$src/tools/bench/gen-kube-proxy-nft.sh" "$n" >"$NG_TMP/kp-$n.nft"
  # nft -f into an empty namespace, NG_BENCH_LOADS times (default 5): the median.
  loads=()
  for i in $(seq 1 "${NG_BENCH_LOADS:-5}"); do
    ns=$(ng_netns_add "load$n-$i")
    t0=$(date +%s%N)
    ng_in "$ns" nft -f "$NG_TMP/kp-$n.nft"
    loads+=($((($(date +%s%N) - t0) / 1000000)))
  done
  load_ms=$(printf '%s\n' "${loads[@]}" | median)
  node=$(ng_netns_add "node$n")
  ng_in "$node" nft -f "$NG_TMP/kp-$n.nft"
  ng_nf_agent_config "$NG_TMP/ng-$n.yaml" "$NG_TMP/state-$n" "$NG_TMP/ng-$n.sock" \
    '{backend: nft, families: [ipv4], nft_tables: ["ip kube-proxy kube-proxy"]}'
  log=$NG_TMP/agent-$n.log
  ip netns exec "$node" env XTABLES_LOCKFILE="$NG_TMP/xtables.lock" \
    "$build/agent/nodeguard" --config "$NG_TMP/ng-$n.yaml" >"$log" 2>&1 &
  agent=$!
  ng_track_pid "$agent"
  ng_wait_until 600 grep -q '"msg":"native table guarded"' "$log" || ng_fail "not guarded: $(tail -5 "$log")"
  result=$(ng_in "$node" "$build/tools/bench/nft_native_bench" ip kube-proxy "$wipes")
  fails=$(grep -c '"msg":"native table restore failed"' "$log" || true)
  restored=$(grep -c '"msg":"native table restored"' "$log" || true)
  echo "services $n: $result; restores read back equal $restored/$wipes (failed $fails); nft -f load median $load_ms ms; load average $(cut -d' ' -f1-3 /proc/loadavg)"
  # NG_BENCH_RAW=1: the bench's rounds (wall clock, on stderr) and the agent's own stamps to
  # line them up with: "wiped" is logged when the guard has judged the wipe and posts the restore.
  if [[ -n ${NG_BENCH_RAW:-} ]]; then
    grep -E '"msg":"native table (wiped|restored)"' "$log" |
      sed -E 's/.*"ts":"[^T]*T([^Z]*)Z".*"msg":"native table ([a-z]*)".*/agent \2 \1/' >&2
  fi
  kill -TERM "$agent"
  wait "$agent" || true
done
