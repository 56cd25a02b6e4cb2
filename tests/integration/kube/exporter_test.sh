#!/usr/bin/env bash
# The Kubernetes API exporter end to end: the real agent, a strict stand-in API server over
# HTTPS (fake_apiserver.py), and real clients as witnesses (kubectl, python3-kubernetes).
# - a kubelet log line sets DiskFull: Node condition (other conditions untouched), event, and
#   the opt-in taint (next to a taint someone else owns), through two injected 409 conflicts;
# - an agent restart keeps the condition (and its lastTransitionTime) it cannot judge yet;
# - the condition clears: status False, taint removed;
# - a server certificate from another CA is refused (no request goes through);
# - token rotation: the old token gets 401, the new one is picked up from the file;
# - 500, 429 with Retry-After (waited), a timeout whose write landed anyway (409 -> update), 403;
# - the API down for NG_KUBE_DOWN_SECONDS (60 by default) then back: nothing lost, no flood.
source "$(dirname "$0")/lib.sh"
DOWN=${NG_KUBE_DOWN_SECONDS:-60}

start_api
kubeconfig "$T/agent.kubeconfig" "{tokenFile: $T/agent-token}"
kubeconfig "$T/witness.kubeconfig" "{token: witness-token}"
mkdir -p "$T/containers" "$T/state"
: >"$T/kubelet.log"
cat >"$T/rules.json" <<'JSON'
{"source": "kube-test",
 "conditions": [{"type": "DiskFull", "reason": "DiskHasSpace", "message": "disk has space"}],
 "rules": [{"type": "permanent", "condition": "DiskFull", "reason": "DiskFullSeen",
            "pattern": "no space left on device"},
           {"type": "temporary", "reason": "TestProblem", "pattern": "TEST-PROBLEM [0-9]+"}]}
JSON
cat >"$T/nodeguard.yaml" <<YAML
node_name: $NODE
state_dir: $T/state
grpc_socket: $T/ng.sock
metrics_listen: 127.0.0.1:0
health_listen: ""
# The logs component writes a last checkpoint with fsync at stop; on a machine busy with builds
# that alone took over the default 5 s once (and the watchdog aborted): not what is tested here.
shutdown_timeout: 30s
netfilter: {enabled: false}
firewalld: {enabled: false}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
cni: {mode: "off"}
logs:
  container_dirs: [$T/containers]
  kubelet: $T/kubelet.log
  rules: [$T/rules.json]
  checkpoint_interval: 200ms
  condition_clear_after: 8s
kubernetes:
  enabled: "true"
  kubeconfig: $T/agent.kubeconfig
  heartbeat: 10s
  taints: [DiskFull=NoSchedule]
  request_timeout: 2s
  retry_max: 2s
  unreachable_after: 5s
  events: {burst: 10, refill_interval: 200ms}
YAML
"$NODEGUARD" --config "$T/nodeguard.yaml" --check-config >/dev/null || fail "config rejected"
disk_line='E1205 07:00:02.000000 1234 kubelet_pods.go:160] "Failed to write hosts file" err="write /var/lib/kubelet/pods/x/etc-hosts: no space left on device" pod="prod/web"'

log "an API server whose certificate the agent's CA did not sign is refused"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout "$T/other.key" \
  -out "$T/other-ca.crt" 2>/dev/null
sed "s|certificate-authority: $T/ca.crt|certificate-authority: $T/other-ca.crt|" \
  "$T/agent.kubeconfig" >"$T/other.kubeconfig"
sed "s|kubeconfig: $T/agent.kubeconfig|kubeconfig: $T/other.kubeconfig|" "$T/nodeguard.yaml" \
  >"$T/other.yaml"
"$NODEGUARD" --config "$T/other.yaml" --state-dir "$T/other-state" --grpc-socket "$T/other.sock" \
  >"$T/agent.other.log" 2>&1 &
AGENT_PID=$!
wait_until 15 "the handshake refused" grep -q 'certificate verify failed' "$T/agent.other.log"
kill -9 "$AGENT_PID"; wait "$AGENT_PID" 2>/dev/null || true; AGENT_PID=
[[ $(requests GET /nodes/) == 0 ]] || fail "a request went through an unverified connection"

log "start: the agent reads the Node and writes DiskFull False"
api POST /_test/fault '{"conflicts": 2}' >/dev/null
start_agent
wait_until 15 "DiskFull False on the Node" cond_is DiskFull status False
[[ $(condition Ready reason) == KubeletReady ]] || fail "kubelet's Ready condition was touched"

log "a kubelet log line sets DiskFull: condition, event, taint (through two 409s)"
echo "$disk_line" >>"$T/kubelet.log"
wait_until 15 "DiskFull True" cond_is DiskFull status True
[[ $(condition DiskFull reason) == DiskFullSeen ]] || fail "reason: $(condition DiskFull reason)"
wait_until 15 "the taint" taints_are "example.com/team,nodeguard.io/DiskFull"
[[ $(requests PATCH "/nodes/$NODE" 409) -ge 2 ]] || fail "no 409 was answered"
wait_until 15 "the DiskFull event (kubectl get events)" kubectl_sees_event DiskFull
t0=$(condition DiskFull lastTransitionTime)

log "restart: the condition is kept, not reset"
stop_agent
start_agent
wait_until 15 "the restarted agent read the Node" grep -q '"msg":"read the Node"' "$T/agent.$AGENT_RUN.log"
sleep 2  # the first status write after start
[[ $(condition DiskFull status) == True ]] || fail "restart reset DiskFull"
[[ $(condition DiskFull lastTransitionTime) == "$t0" ]] || fail "restart moved lastTransitionTime"
[[ $(taints) == "example.com/team,nodeguard.io/DiskFull" ]] || fail "restart removed the taint"

log "witnesses: kubectl describe node and python3-kubernetes"
desc=$(kubectl --kubeconfig "$T/witness.kubeconfig" describe node "$NODE")
grep -Eq 'DiskFull +True +.*DiskFullSeen' <<<"$desc" || fail "kubectl describe: $desc"
grep -q 'nodeguard.io/DiskFull:NoSchedule' <<<"$desc" || fail "kubectl describe: no taint"
w=$($PY "$HERE/witness.py" "$T/witness.kubeconfig" "$NODE")
jq -e '.conditions.DiskFull.status == "True" and .conditions.Ready.status == "True"
       and (.taints | map(.key) | index("nodeguard.io/DiskFull")) and .events.DiskFull >= 1' \
  <<<"$w" >/dev/null || fail "python3-kubernetes saw: $w"

log "the condition clears (logs.condition_clear_after): False, taint removed"
echo "$disk_line" >>"$T/kubelet.log"
wait_until 30 "DiskFull False again" cond_is DiskFull status False
wait_until 15 "the taint removed" taints_are "example.com/team"

log "token rotation: the old token is refused, the new file is read"
printf 'agent-token-2\nwitness-token\n' >"$T/tokens"
echo "E1205 07:00:05.000000 1234 x.go:1] TEST-PROBLEM 1" >>"$T/kubelet.log"
wait_until 15 "a 401" count_at_least 1 requests POST /events 401
echo agent-token-2 >"$T/agent-token.new" && mv "$T/agent-token.new" "$T/agent-token"
wait_until 15 "the event with the new token" has_event TestProblem

log "faults: 500, 429 with Retry-After, a timeout (the event is created anyway), 403"
for f in '{"status": 500}' '{"status": 429, "retry_after": 2}' '{"delay": 3}' '{"status": 403}'; do
  api POST /_test/fault "${f%\}}, \"count\": 1, \"verb\": \"POST\", \"path_contains\": \"/events\"}" >/dev/null
done
echo "E1205 07:00:05.500000 1234 x.go:1] TEST-PROBLEM 3" >>"$T/kubelet.log"
# After the timeout the retry finds the event created (409) and updates it instead.
wait_until 40 "the retries through the faults" count_at_least 1 requests POST /events 409
has_event_message "TEST-PROBLEM 3" || fail "the event did not make it through the faults"
for code in 500 429 403 409; do
  [[ $(requests POST /events "$code") -ge 1 ]] || fail "no $code answered to an event write"
done
gap=$(jq -s '[.[] | select(.verb == "POST" and (.path | contains("/events")))] as $p
  | ($p | map(.code) | index(429)) as $i | $p[$i + 1].t - $p[$i].t' "$T/requests.log")
jq -e -n --argjson g "$gap" '$g >= 1.9' >/dev/null || fail "Retry-After not honoured: ${gap}s"

log "the API down for ${DOWN}s: events aggregated and bounded, then flushed"
stop_api
for _ in $(seq 1 20); do echo "E1205 07:00:06.000000 1234 x.go:1] TEST-PROBLEM 2"; done >>"$T/kubelet.log"
sleep 7
metric_line=$(curl -sf "http://127.0.0.1:$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' \
  "$T/agent.$AGENT_RUN.log" | grep -o '[0-9]*$')/metrics")
grep -q 'nodeguard_condition{status="true",type="KubernetesAPIUnreachable"} 1' <<<"$metric_line" ||
  fail "no KubernetesAPIUnreachable while the API is down"
grep -Eq 'nodeguard_kube_api_requests_total\{code="error",verb="[a-z]+"\} [1-9]' <<<"$metric_line" ||
  fail "failed requests not counted"
sleep $((DOWN > 8 ? DOWN - 8 : 0))
# Right before the API returns: a problem that is still True then (clear_after is 8 s).
echo "E1205 07:00:07.000000 1234 x.go:1] TEST-PROBLEM 2" >>"$T/kubelet.log"
echo "$disk_line" >>"$T/kubelet.log"
sleep 1
before=$(wc -l <"$T/requests.log")
start_api "$PORT"
wait_until 30 "DiskFull True after the outage" cond_is DiskFull status True
sleep 3
after=$(tail -n +"$((before + 1))" "$T/requests.log")
writes=$(jq -s 'map(select(.verb != "GET")) | length' <<<"$after")
((writes <= 12)) || fail "flood after the outage: $writes writes: $after"
seen=$(grep -h '"msg":"log problem"' "$T"/agent.*.log | grep -c '"reason":"TestProblem"')
sent=$(api GET /api/v1/namespaces/default/events |
  jq '[.items[] | select(.reason == "TestProblem") | .count] | add')
[[ $sent == "$seen" ]] || fail "events lost: the agent recorded $seen TestProblem, the API has $sent"
evs=$(kubectl --kubeconfig "$T/witness.kubeconfig" get events)
grep -q TestProblem <<<"$evs" || fail "kubectl get events shows no TestProblem: $evs"
stop_agent
echo "PASS: conditions, events and taints on the Node; restart kept them; rotation; ${DOWN}s outage without loss or flood ($writes writes after)"
