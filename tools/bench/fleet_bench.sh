#!/usr/bin/env bash
# Wall time of `ngctl fleet` (mutual TLS, --parallel 64, --timeout 3s):
#   - 50 real agent processes (observe-only) on loopback ports;
#   - 500 endpoints served by one ng_fleet_sim process (the real API stack on 500 ports;
#     500 agent processes would not fit next to other work on a 2-core machine).
# The agents run on core 0 and ngctl on core 1, as if the agents were on other machines and
# ngctl had one core of its own. Each is run 5 times; the median and the worst are printed.
#   tools/bench/fleet_bench.sh [--runs 5]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${NG_BUILD_DIR:-build}
runs=5
[[ ${1:-} == --runs ]] && runs=$2
tmp=$(mktemp -d /tmp/ng-fleet-bench-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
bash tests/integration/api/gen_certs.sh "$tmp/pki" >/dev/null
P=$tmp/pki
tls=(--tls-ca "$P/ca.pem" --tls-cert "$P/controller.pem" --tls-key "$P/controller.key"
     --tls-server-name agent.test --timeout 3s)

# 50 real agents.
source tests/integration/api/agent_lab.sh
: >"$tmp/targets50"
for i in $(seq 1 50); do
  ng_agent_yaml "bench-$i" "$tmp" "$P" >"$tmp/a$i.yaml"
  taskset -c 0 "$BUILD/agent/nodeguard" --config "$tmp/a$i.yaml" >"$tmp/a$i.log" 2>&1 &
  pids+=($!)
done
for i in $(seq 1 50); do
  echo "127.0.0.1:$(ng_agent_tcp_port "$tmp/a$i.log")" >>"$tmp/targets50"
done

# 500 simulated endpoints.
mkfifo "$tmp/hold"
taskset -c 0 "$BUILD/tools/bench/ng_fleet_sim" --agents 500 --cert "$P/server.pem" --key "$P/server.key" \
  --client-ca "$P/ca.pem" --targets-out "$tmp/targets500" <"$tmp/hold" 2>/dev/null &
pids+=($!)
exec 9>"$tmp/hold"
for _ in $(seq 1 200); do [[ -s $tmp/targets500 ]] && break; sleep 0.05; done

measure() {  # label targets-file
  local times=() t0 t1 rc
  for _ in $(seq 1 "$runs"); do
    t0=$(date +%s%N)
    set +e
    taskset -c 1 "$BUILD/tools/ngctl/ngctl" "${tls[@]}" fleet --targets "$2" --parallel 64 >"$tmp/out"
    rc=$?
    set -e
    t1=$(date +%s%N)
    [[ $rc -eq 0 ]] || { tail -3 "$tmp/out"; echo "fleet exited $rc" >&2; exit 1; }
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v label="$1" -v n="$runs" \
    '{ t[NR] = $1 } END { printf "%s: median %d ms, worst %d ms over %d runs\n", label, t[int((n + 1) / 2)], t[n], n }'
}
echo "ngctl fleet, mutual TLS, --parallel 64, agents on core 0, ngctl on core 1 (load $(cut -d' ' -f1 /proc/loadavg)):"
measure "  50 agents (real processes)" "$tmp/targets50"
measure "  500 endpoints (ng_fleet_sim)" "$tmp/targets500"
tail -1 "$tmp/out"
