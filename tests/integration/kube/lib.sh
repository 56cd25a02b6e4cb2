# Sourced by the Kubernetes exporter tests: a test CA and server certificate, the stand-in API
# server (fake_apiserver.py), kubeconfigs for the agent and the witnesses, and helpers.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
HERE=$NG_SOURCE_DIR/tests/integration/kube
PY=/usr/bin/python3  # Debian's, with python3-kubernetes
NODE=kube-test-node
# KUBE_EXEC: a prefix for everything that talks over loopback (the API server, the agent, the
# clients), e.g. "ip netns exec NS" when the agent must run in a test's node namespace.
KUBE_EXEC=${KUBE_EXEC:-}
AGENT_PID=
API_PID=
AGENT_RUN=0
kube_kill() {
  for p in $AGENT_PID $API_PID; do kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null; done || true
}
cleanup() {
  local rc=$?
  kube_kill
  if [[ $rc -ne 0 ]]; then
    echo "--- last agent log lines:" >&2
    tail -n 25 "$T"/agent.*.log 2>/dev/null | grep -v '"log line matched rule"' >&2 || true
    echo "--- last API requests:" >&2
    tail -n 15 "$T/requests.log" >&2 2>/dev/null || true
  fi
  if [[ -n ${NG_KEEP:-} ]]; then echo "kept $T" >&2; else rm -rf "$T"; fi
  exit "$rc"
}
if declare -F ng_cleanup >/dev/null; then
  # A privileged test sourced tests/support/netns.sh first: its cleanup owns the exit.
  T=$NG_TMP
  ng_on_exit kube_kill
else
  T=$(mktemp -d /tmp/ng-kube-XXXXXX)
  trap cleanup EXIT
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S.%3N)] $*" >&2; }

command -v kubectl >/dev/null || { echo "SKIP: kubectl missing"; exit 77; }
$PY -c 'import kubernetes' 2>/dev/null || { echo "SKIP: python3-kubernetes missing"; exit 77; }

# A CA and a server certificate for 127.0.0.1 (the agent verifies name and chain).
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout "$T/ca.key" \
  -out "$T/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=kube-apiserver -keyout "$T/server.key" \
  -out "$T/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$T/san.ext"
openssl x509 -req -in "$T/server.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial \
  -days 2 -extfile "$T/san.ext" -out "$T/server.crt" 2>/dev/null
printf 'agent-token-1\nwitness-token\n' >"$T/tokens"
echo agent-token-1 >"$T/agent-token"

# start_api [PORT]: the stand-in API server on loopback; its state survives a restart.
start_api() {
  rm -f "$T/port"
  $KUBE_EXEC $PY "$HERE/fake_apiserver.py" --port "${1:-0}" --cert "$T/server.crt" --key "$T/server.key" \
    --tokens "$T/tokens" --node "$NODE" --state "$T/state.json" --log "$T/requests.log" \
    --port-file "$T/port" ${API_ARGS:-} 2>>"$T/api.err" &
  API_PID=$!
  for _ in $(seq 1 100); do [[ -s $T/port ]] && break; sleep 0.05; done
  [[ -s $T/port ]] || fail "API server did not start: $(cat "$T/api.err")"
  PORT=$(cat "$T/port")
}
stop_api() {
  kill -9 "$API_PID"; wait "$API_PID" 2>/dev/null || true; API_PID=
}

kubeconfig() {  # kubeconfig FILE USER_YAML
  cat >"$1" <<YAML
apiVersion: v1
kind: Config
current-context: test
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:$PORT", certificate-authority: $T/ca.crt}
contexts:
- name: test
  context: {cluster: test, user: u, namespace: default}
users:
- name: u
  user: $2
YAML
}

api() {  # api METHOD PATH [JSON]: the test control endpoints (and raw reads)
  $KUBE_EXEC curl -sS --cacert "$T/ca.crt" -X "$1" -H 'Authorization: Bearer witness-token' \
    "https://127.0.0.1:$PORT$2" ${3:+-d "$3"}
}
node_json() { api GET "/api/v1/nodes/$NODE"; }
condition() {  # condition TYPE FIELD
  node_json | jq -r --arg t "$1" --arg f "$2" '.status.conditions[] | select(.type == $t) | .[$f]'
}
taints() { node_json | jq -r '[.spec.taints[]?.key] | join(",")'; }
requests() {  # requests VERB PATH_PART [CODE]
  jq -r --arg v "$1" --arg p "$2" --arg c "${3:-}" \
    'select(.verb == $v and (.path | contains($p)) and ($c == "" or (.code|tostring) == $c)) | .t' \
    "$T/requests.log" 2>/dev/null | wc -l
}
has_event() {
  api GET /api/v1/namespaces/default/events |
    jq -e --arg r "$1" '[.items[] | select(.reason == $r)] | length > 0' >/dev/null
}
has_event_message() {
  api GET /api/v1/namespaces/default/events |
    jq -e --arg m "$1" '[.items[] | select(.message | contains($m))] | length > 0' >/dev/null
}
kubectl_sees_event() {
  local reasons
  reasons=$($KUBE_EXEC kubectl --kubeconfig "$T/witness.kubeconfig" get events -o jsonpath='{.items[*].reason}')
  grep -qw "$1" <<<"$reasons"
}
cond_is() { [[ $(condition "$1" "$2") == "$3" ]]; }
taints_are() { [[ $(taints) == "$1" ]]; }
count_at_least() { local n=$1; shift; (($("$@") >= n)); }
# wait_until SECONDS WHAT CMD...: CMD runs again on every try (pass a function, not $(...)).
wait_until() {  # wait_until SECONDS WHAT CMD...: until CMD succeeds
  local limit=$1 what=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    ((SECONDS < deadline)) || fail "timed out waiting for: $what"
    sleep 0.2
  done
}

start_agent() {
  AGENT_RUN=$((AGENT_RUN + 1))
  local out="$T/agent.$AGENT_RUN.log"
  $KUBE_EXEC "$NODEGUARD" --config "$T/nodeguard.yaml" >"$out" 2>&1 &
  AGENT_PID=$!
  # 30 s: generous on a loaded CI machine (the start itself takes milliseconds).
  for _ in $(seq 1 600); do
    grep -q '"msg":"nodeguard running"' "$out" 2>/dev/null && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || fail "agent exited: $(tail -5 "$out")"
    sleep 0.05
  done
  fail "agent did not start"
}
stop_agent() {
  kill -TERM "$AGENT_PID"
  wait "$AGENT_PID" || fail "agent exited non-zero after SIGTERM"
  AGENT_PID=
}
metric() {
  local port
  port=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$T/agent.$AGENT_RUN.log" |
    grep -o '[0-9]*$')
  $KUBE_EXEC curl -sf "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2; found=1} END {if (!found) print 0}'
}
