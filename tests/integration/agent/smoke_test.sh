#!/usr/bin/env bash
# Smoke test of the real binaries: start nodeguard with a temp config (observe-only, every
# component that needs the node off), query it with ngctl, scrape /metrics, SIGTERM, exit 0.
# Needs no root: unix socket and metrics on loopback in a temp dir.
set -euo pipefail
: "${NG_BUILD_DIR:?}"
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
tmp=$(mktemp -d /tmp/ng-smoke-XXXXXX)
agent_pid=
cleanup() {
  [[ -n $agent_pid ]] && kill -9 "$agent_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- agent log:" >&2; cat "$tmp/agent.log" >&2 || true; exit 1; }

cat > "$tmp/nodeguard.yaml" <<YAML
node_name: smoke-node
state_dir: $tmp/state
grpc_socket: $tmp/run/nodeguard.sock
metrics_listen: 127.0.0.1:0
health_listen: ""
dry_run: true
log_level: debug
netfilter: {enabled: false}
firewalld: {enabled: false}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
YAML

"$NODEGUARD" --config "$tmp/nodeguard.yaml" --check-config >/dev/null || fail "config rejected"
"$NODEGUARD" --config "$tmp/nodeguard.yaml" >"$tmp/agent.log" 2>&1 &
agent_pid=$!

# Wait (bounded) for the endpoints; the log says which port the kernel gave us.
port=
for _ in $(seq 1 100); do
  port=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$tmp/agent.log" 2>/dev/null |
         grep -o '"port":[0-9]*' | cut -d: -f2 || true)
  [[ -n $port ]] && grep -q '"msg":"nodeguard running"' "$tmp/agent.log" && break
  sleep 0.1
done
[[ -n $port ]] || fail "agent never reported its metrics port"

# Every log line is one JSON object.
while IFS= read -r line; do
  jq -e . >/dev/null <<<"$line" || fail "log line is not JSON: $line"
done <"$tmp/agent.log"

status=$("$NGCTL" --socket "$tmp/run/nodeguard.sock" status -o json) || fail "ngctl status failed"
[[ $(jq -r .node_name <<<"$status") == smoke-node ]] || fail "wrong node name: $status"
[[ $(jq -r .dry_run <<<"$status") == true ]] || fail "dry_run not reported: $status"
[[ $(jq -r .verdict <<<"$status") =~ ^(Healthy|Degraded|Unhealthy)$ ]] || fail "no verdict: $status"
"$NGCTL" --socket "$tmp/run/nodeguard.sock" status | grep "Node:.*smoke-node" >/dev/null || fail "table output"
[[ $(stat -c %a "$tmp/run/nodeguard.sock") == 600 ]] || fail "socket mode is not 0600"

metrics=$(curl -sf "http://127.0.0.1:$port/metrics") || fail "scrape failed"
for m in 'nodeguard_build_info{' process_cpu_seconds_total process_resident_memory_bytes process_open_fds; do
  grep -q "^$m" <<<"$metrics" || fail "metric $m missing"
done
curl -sf "http://127.0.0.1:$port/healthz" | grep ok >/dev/null || fail "/healthz"
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || fail "/readyz not ready"

# An unreachable agent: one line, non-zero.
set +e
out=$("$NGCTL" --socket "$tmp/nope.sock" --timeout 1s status 2>&1)
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "ngctl against nothing exited $rc, want 1"
[[ $(wc -l <<<"$out") -eq 1 ]] || fail "unreachable message is not one line: $out"

kill -TERM "$agent_pid"
start=$(date +%s%N)
set +e
wait "$agent_pid"
rc=$?
set -e
agent_pid=
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $rc -eq 0 ]] || fail "agent exited $rc after SIGTERM"
(( ms < 5000 )) || fail "shutdown took ${ms} ms"
grep -q '"msg":"nodeguard stopped"' "$tmp/agent.log" || fail "no clean stop logged"
[[ ! -S $tmp/run/nodeguard.sock ]] || echo "note: socket file left behind" >&2
echo "PASS: agent answered ngctl and /metrics, stopped cleanly in ${ms} ms"
