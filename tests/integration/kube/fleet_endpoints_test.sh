#!/usr/bin/env bash
# `ngctl fleet --endpoints NS/SERVICE:PORT` finds the agents from the Service's EndpointSlices
# through the Kubernetes API (the stand-in fake_apiserver.py, HTTPS, bearer token): four agents
# on loopback with mutual TLS, one of them stopped; slices of another Service are not asked; the
# list comes in pages (continue). Needs no root.
source "$(dirname "$0")/lib.sh"
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
bash "$NG_SOURCE_DIR/tests/integration/api/gen_certs.sh" "$T/pki" >/dev/null
P=$T/pki
source "$NG_SOURCE_DIR/tests/integration/api/agent_lab.sh"
pids=()
ng_on_exit_agents() { for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; }
trap 'rc=$?; ng_on_exit_agents; (exit $rc); cleanup' EXIT
for i in 1 2 3 4; do
  ng_agent_yaml "fleet-node-$i" "$T" "$P" >"$T/agent$i.yaml"
  "$NODEGUARD" --config "$T/agent$i.yaml" >"$T/agent$i.log" 2>&1 &
  pids+=($!)
done
slices="["
for i in 1 2 3 4; do
  port=$(ng_agent_tcp_port "$T/agent$i.log") || fail "agent $i did not start"
  ports[$i]=$port
  # One slice per agent: they share 127.0.0.1, so each needs its own port (a slice has one set).
  slices+="{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\",
    \"metadata\":{\"name\":\"nodeguard-$i\",\"namespace\":\"nodeguard\",
      \"labels\":{\"kubernetes.io/service-name\":\"nodeguard\"}},
    \"addressType\":\"IPv4\",\"ports\":[{\"name\":\"metrics\",\"port\":9746},
      {\"name\":\"grpc\",\"port\":$port}],
    \"endpoints\":[{\"addresses\":[\"127.0.0.1\"],\"nodeName\":\"fleet-node-$i\",
      \"conditions\":{\"ready\":true}}]},"
done
slices+="{\"kind\":\"EndpointSlice\",\"apiVersion\":\"discovery.k8s.io/v1\",
  \"metadata\":{\"name\":\"other\",\"namespace\":\"nodeguard\",
    \"labels\":{\"kubernetes.io/service-name\":\"other\"}},\"addressType\":\"IPv4\",
  \"ports\":[{\"name\":\"grpc\",\"port\":1}],\"endpoints\":[{\"addresses\":[\"127.0.0.2\"]}]}]"
echo "$slices" >"$T/slices.json"
API_ARGS="--seed $T/slices.json --max-page 2" start_api
kubeconfig "$T/witness.kubeconfig" "{token: witness-token}"
kill -TERM "${pids[3]}"
wait "${pids[3]}" || true

tls=(--tls-ca "$P/ca.pem" --tls-cert "$P/controller.pem" --tls-key "$P/controller.key"
     --tls-server-name agent.test)
set +e
"$NGCTL" "${tls[@]}" --timeout 3s fleet --endpoints nodeguard/nodeguard:grpc \
  --kubeconfig "$T/witness.kubeconfig" >"$T/table" 2>"$T/err"
rc=$?
set -e
cat "$T/table" "$T/err"
[[ $rc -eq 1 ]] || fail "fleet with one stopped agent exited $rc, want 1"
[[ $(grep -c ' Healthy ' "$T/table" || true) -eq 3 ]] || fail "want 3 Healthy rows"
grep -q "127.0.0.1:${ports[4]}  *Unreachable" "$T/table" || fail "the stopped agent is not Unreachable"
grep -q '127.0.0.2' "$T/table" && fail "another Service's endpoints were asked"
[[ $(requests GET /endpointslices) -ge 2 ]] || fail "the list was not paged"
# A wrong token is an error that says so, not an empty fleet.
kubeconfig "$T/bad.kubeconfig" "{token: nope}"
set +e
"$NGCTL" "${tls[@]}" fleet --endpoints nodeguard/nodeguard --kubeconfig "$T/bad.kubeconfig" \
  >/dev/null 2>"$T/err"
rc=$?
set -e
[[ $rc -ne 0 ]] && grep -q 'HTTP 401' "$T/err" || fail "a refused token: rc $rc, $(cat "$T/err")"
echo "PASS: ngctl fleet found the agents from the Service's EndpointSlices (paged), stopped one marked"
