#!/usr/bin/env bash
# `ngctl fleet` against 50 real agents (observe-only, every node-touching component off) on
# loopback TLS ports with mutual TLS, two of them stopped: the table marks those two
# Unreachable within the timeout and shows the other 48; -o json has one object per target
# with its address and whether it was reachable. Also: ngctl explains a refused handshake.
# Needs no root.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
N=${NG_FLEET_AGENTS:-50}
tmp=$(mktemp -d /tmp/ng-fleet-XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

bash "$NG_SOURCE_DIR/tests/integration/api/gen_certs.sh" "$tmp/pki"
P=$tmp/pki
source "$NG_SOURCE_DIR/tests/integration/api/agent_lab.sh"
for i in $(seq 1 "$N"); do
  ng_agent_yaml "fleet-node-$i" "$tmp" "$P" >"$tmp/agent$i.yaml"
  "$NODEGUARD" --config "$tmp/agent$i.yaml" >"$tmp/agent$i.log" 2>&1 &
  pids+=($!)
done

# Each agent logs the port the kernel gave it.
: >"$tmp/targets"
echo "# $N nodeguard agents on loopback" >>"$tmp/targets"
for i in $(seq 1 "$N"); do
  port=$(ng_agent_tcp_port "$tmp/agent$i.log") || fail "agent $i did not start"
  echo "127.0.0.1:$port" >>"$tmp/targets"
  ports[$i]=$port
done

# Stop two of them.
for i in 7 33; do
  kill -TERM "${pids[$((i - 1))]}"
  wait "${pids[$((i - 1))]}" || true
done
down="127.0.0.1:${ports[7]} 127.0.0.1:${ports[33]}"

tls=(--tls-ca "$P/ca.pem" --tls-cert "$P/controller.pem" --tls-key "$P/controller.key"
     --tls-server-name agent.test)
start=$(date +%s%N)
set +e
"$NGCTL" "${tls[@]}" --timeout 3s fleet --targets "$tmp/targets" --parallel 16 >"$tmp/table"
rc=$?
set -e
ms=$(( ($(date +%s%N) - start) / 1000000 ))
cat "$tmp/table"
[[ $rc -eq 1 ]] || fail "fleet with unreachable agents exited $rc, want 1"
(( ms < 10000 )) || fail "fleet took ${ms} ms with a 3 s timeout"
[[ $(grep -c ' Healthy ' "$tmp/table" || true) -eq $((N - 2)) ]] || fail "want $((N - 2)) Healthy rows"
for a in $down; do
  grep -q "^-  *$a  *Unreachable" "$tmp/table" || fail "$a not marked Unreachable"
done
grep -q "^fleet-node-1 " "$tmp/table" || fail "node names missing"
grep -q "$N targets in .*$((N - 2)) Healthy.* 2 unreachable" "$tmp/table" || fail "summary line"
# Worst first: the unreachable rows come before the healthy ones.
[[ $(sed -n 2p "$tmp/table") == *Unreachable* ]] || fail "unreachable rows are not first"

set +e
"$NGCTL" "${tls[@]}" --timeout 3s -o json fleet --targets "$tmp/targets" >"$tmp/json"
rc=$?
set -e
[[ $rc -eq 1 ]] || fail "json fleet exited $rc"
jq -e "length == $N" "$tmp/json" >/dev/null || fail "want $N objects"
jq -e 'all(.[]; has("address") and has("reachable"))' "$tmp/json" >/dev/null || fail "fields"
jq -e "[.[] | select(.reachable == false) | .address] | sort == ($(printf '%s\n' $down | jq -R . | jq -sc 'sort'))" \
  "$tmp/json" >/dev/null || fail "unreachable set in JSON"
jq -e '[.[] | select(.reachable) | .verdict] | all(. == "Healthy")' "$tmp/json" >/dev/null ||
  fail "verdicts"
jq -e '.[0].address == "127.0.0.1:'"${ports[1]}"'"' "$tmp/json" >/dev/null || fail "input order"

# A client without a certificate is refused at the TLS handshake; ngctl says so (exit 3).
set +e
out=$("$NGCTL" --addr "127.0.0.1:${ports[1]}" --tls-ca "$P/ca.pem" --tls-server-name agent.test status 2>&1)
rc=$?
set -e
[[ $rc -eq 3 ]] || fail "no-certificate status exited $rc: $out"
[[ $out == *"requires a client certificate"* ]] || fail "no explanation: $out"
# ... and the agent's log stays one JSON object per line (gRPC's own lines are bridged).
while IFS= read -r line; do
  jq -e . >/dev/null 2>&1 <<<"$line" || fail "agent log line is not JSON: $line"
done <"$tmp/agent1.log"
echo "PASS: fleet of $N agents ($((N - 2)) up, 2 stopped) in ${ms} ms"
