# Sourced by the log integration tests: a temp dir laid out like a node's /var/log, a config
# for the real nodeguard with everything but logs off, and helpers to start, kill and check it.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
NODEGUARD=$NG_BUILD_DIR/agent/nodeguard
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
T=$(mktemp -d /tmp/ng-logs-XXXXXX)
# Sanitizer builds run several times slower: writers slow down by this factor so the agent's
# per-line debug log (what the tests read) keeps up instead of being summarised.
RATE_DIV=1
if ldd "$NODEGUARD" 2>/dev/null | grep -Eq 'lib(a|t)san'; then RATE_DIV=5; fi
rate() { echo $(($1 / RATE_DIV)); }
AGENT_PID=
AGENT_RUN=0
PIDS=()
cleanup() {
  local rc=$?
  [[ -n $AGENT_PID ]] && kill -9 "$AGENT_PID" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  if [[ $rc -ne 0 ]]; then
    echo "--- last agent log lines:" >&2
    tail -n 30 "$T"/agent.*.log 2>/dev/null | grep -v '"log line matched rule"' | tail -n 30 >&2 || true
  fi
  if [[ -n ${NG_KEEP:-} ]]; then echo "kept $T" >&2; else rm -rf "$T"; fi
  exit "$rc"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S.%3N)] $*" >&2; }

mkdir -p "$T/containers" "$T/state"
SEQ_RULES=$T/seq-rules.json
cat >"$SEQ_RULES" <<'JSON'
{"source": "test-monitor",
 "rules": [{"type": "temporary", "reason": "SeqLine", "pattern": "SEQ-[0-9]+ payload"}]}
JSON

# new_container POD NS CONTAINER -> prints the real log path; the /var/log/containers-style
# symlink points at it.
new_container() {
  local pod=$1 ns=$2 c=$3
  local dir="$T/pods/${ns}_${pod}_uid-$pod/$c"
  mkdir -p "$dir"
  : >"$dir/0.log"
  local id
  id=$(printf '%s' "$pod$ns$c" | sha256sum | cut -c1-64)
  ln -sf "$dir/0.log" "$T/containers/${pod}_${ns}_${c}-$id.log"
  echo "$dir/0.log"
}

# write_config [extra logs yaml keys...]
write_config() {
  local extra=${1:-}
  cat >"$T/nodeguard.yaml" <<YAML
node_name: logs-test
state_dir: $T/state
grpc_socket: $T/ng.sock
metrics_listen: 127.0.0.1:0
health_listen: ""
log_level: debug
netfilter: {enabled: false}
firewalld: {enabled: false}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
cni: {mode: "off"}
logs:
  container_dirs: [$T/containers]
  kubelet: ""
  rules: [$SEQ_RULES]
  checkpoint_interval: 200ms
  rotate_wait: 3s
$extra
YAML
  "$NODEGUARD" --config "$T/nodeguard.yaml" --check-config >/dev/null || fail "config rejected"
}

# start_agent [wrapper...]: starts nodeguard (optionally under a wrapper command), waits until
# it runs; its log is $T/agent.N.log.
start_agent() {
  AGENT_RUN=$((AGENT_RUN + 1))
  local out="$T/agent.$AGENT_RUN.log"
  "$@" "$NODEGUARD" --config "$T/nodeguard.yaml" >"$out" 2>&1 &
  AGENT_PID=$!
  for _ in $(seq 1 200); do
    grep -q '"msg":"nodeguard running"' "$out" 2>/dev/null && return 0
    kill -0 "$AGENT_PID" 2>/dev/null || fail "agent exited: $(tail -5 "$out")"
    sleep 0.05
  done
  fail "agent did not start"
}

# metric NAME_WITH_LABELS: its value from the running agent's /metrics (0 when absent).
metric() {
  local port
  port=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$T/agent.$AGENT_RUN.log" |
    grep -o '[0-9]*$')
  curl -sf "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2; found=1} END {if (!found) print 0}'
}

kill9_agent() {
  kill -9 "$AGENT_PID"
  wait "$AGENT_PID" 2>/dev/null || true
  AGENT_PID=
}

stop_agent() {
  kill -TERM "$AGENT_PID"
  wait "$AGENT_PID" || fail "agent exited non-zero after SIGTERM"
  AGENT_PID=
}

# The sequence numbers the agents reported (every run's log), one per line.
seen_numbers() {
  cat "$T"/agent.*.log | grep -h '"msg":"log line matched rule"' |
    grep -o '"line":"SEQ-[0-9]*' | cut -d- -f2 || true
}

# Matches the agent summarised instead of logging one by one (a burst larger than a checkpoint
# holds line by line: by design, memory stays bounded; the counters still count each line).
summarized() {
  awk '/"msg":"log lines matched rule, not logged one by one"/ {
         if (match($0, /"count":[0-9]+/)) s += substr($0, RSTART + 8, RLENGTH - 8)
       } END {print s + 0}' "$T"/agent.*.log
}

# wait_for_metric NAME VALUE SECONDS: until the running agent's metric reaches VALUE.
wait_for_metric() {
  local name=$1 want=$2 limit=$3
  local deadline=$((SECONDS + limit))
  while [[ $(metric "$name") != "$want" ]]; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# wait_for_number N SECONDS: until some agent log reports SEQ-N.
wait_for_number() {
  local n=$1 limit=$2
  local deadline=$((SECONDS + limit))
  while ! grep -q "\"line\":\"SEQ-$n payload" "$T"/agent.*.log 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

# check_exactly_once FIRST LAST: every number in [FIRST, LAST] reported exactly once, no others.
check_exactly_once() {
  local first=$1 last=$2
  seen_numbers | sort -n >"$T/seen.txt"
  local total dup missing
  total=$(wc -l <"$T/seen.txt")
  # (|| true: head closing the pipe early is not a failure)
  dup=$(uniq -d "$T/seen.txt" | head -5 | tr '\n' ' ' || true)
  missing=$(comm -23 <(seq "$first" "$last" | sort) <(sort -u "$T/seen.txt") | head -5 |
    tr '\n' ' ' || true)
  [[ -z $dup ]] || fail "numbers reported twice (first few): $dup"
  local sum
  sum=$(summarized)
  if ((sum > 0)); then
    # Some matches were summarised: the numbers logged one by one plus the summaries add up.
    ((total + sum >= last - first + 1)) || fail "saw $total numbers + $sum summarised, want $((last - first + 1))"
    log "$total numbers logged one by one, $sum in summaries"
    return 0
  fi
  [[ -z $missing ]] || fail "numbers never reported (first few): $missing (saw $total)"
  [[ $total -eq $((last - first + 1)) ]] || fail "saw $total numbers, want $((last - first + 1))"
}
