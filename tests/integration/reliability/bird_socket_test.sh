#!/usr/bin/env bash
# The BIRD control socket vanishing and returning, with real BIRD 2 in namespaces this test
# creates (node A with a BGP session to node B) and the real agent on A polling A's socket:
#   1. BIRD killed with SIGKILL (the socket file stays, connects are refused) and restarted;
#   2. BIRD stopped cleanly (the socket file is removed) and restarted;
#   3. a process that accepts on the socket path and never answers (a hung BIRD), then BIRD.
# Each time: BIRDUnreachable raised while it is gone (the error counted), cleared and the
# session Established again once it is back; the agent keeps answering its API; its fd count
# is the same after CYCLES more vanish/return cycles (no leaked sockets).
#   bird_socket_test.sh [CYCLES]
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/support/topology.sh"
source "$NG_SOURCE_DIR/tests/integration/reliability/lib.sh"
CYCLES=${1:-10}
ng_require_root
for b in bird birdc socat curl jq; do
  command -v $b >/dev/null || { echo "SKIP: $b missing (tools/install-deps.sh)" >&2; exit 77; }
done
NODE=$(ng_netns_add a)
peer=$(ng_netns_add b)
ip link add eth0 netns "$NODE" type veth peer name eth0 netns "$peer"
ip -n "$NODE" link set eth0 up
ip -n "$peer" link set eth0 up
ip -n "$NODE" addr add 192.168.1.10/24 dev eth0
ip -n "$peer" addr add 192.168.1.11/24 dev eth0
CTL=$NG_TMP/bird-a.ctl
start_bird_a() {
  rm -f "$NG_TMP/bird-a.pid"
  ng_in "$NODE" bird -c "$NG_TMP/bird-a.conf" -s "$CTL" -P "$NG_TMP/bird-a.pid" || ng_fail "bird on a"
  ng_wait_until 10 test -S "$CTL" || ng_fail "bird-a.ctl never appeared"
}
RL_A=$NODE RL_B=$peer RL_A_IP=192.168.1.10 RL_B_IP=192.168.1.11
RL_A_BLOCK=10.244.1.0/26 RL_B_BLOCK=10.244.2.0/26
rl_start_bird B A B
rl_bird_conf "$RL_A_IP" "$RL_A_BLOCK" "$RL_B_IP" >"$NG_TMP/bird-a.conf"
start_bird_a
ng_on_exit "[[ -f $NG_TMP/bird-a.pid ]] && kill \$(cat $NG_TMP/bird-a.pid)"
ng_wait_until 60 bash -c "[[ \$(birdc -s $CTL show protocols | grep -c Established) -eq 1 ]]" ||
  ng_fail "BGP session never established"

cat >"$NG_TMP/nodeguard.yaml" <<YAML
node_name: rel-bird
state_dir: $STATE
grpc_socket: $SOCK
metrics_listen: 127.0.0.1:0
health_listen: ""
log_level: info
netfilter: {enabled: false}
firewalld: {enabled: false}
logs: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
cni: {mode: "off"}
bgp:
  bird_sockets: [$CTL]
  poll_interval: 500ms
  timeout: 1s
YAML
AGENT_RUN=1
LOG=$NG_TMP/agent.1.log
# (ip netns exec directly, so $! is the agent itself and its exit code is the agent's)
ng_own_netns "$NODE" || ng_fail "not this run's namespace: $NODE"
ip netns exec "$NODE" "$NODEGUARD" --config "$NG_TMP/nodeguard.yaml" >"$LOG" 2>&1 &
AGENT_PID=$!
ng_track_pid "$AGENT_PID"
ng_wait_until 20 grep -q '"msg":"nodeguard running"' "$LOG" || rel_fail "agent did not start"
established() { [[ $(rel_metric 'nodeguard_bgp_sessions{state="Established"}') == 1 ]]; }
unreachable() { [[ $(rel_condition BIRDUnreachable) == 1 ]]; }
reachable() { [[ $(rel_condition BIRDUnreachable) == 0 ]] && established; }
api_answers() { "$NGCTL" --socket "$SOCK" --timeout 2s peers -o json >/dev/null; }
ng_wait_until 20 established || rel_fail "agent never saw the session"
errors() { rel_metric 'nodeguard_environment_errors_total{component="bgp",kind="'"$1"'"}'; }

kill_bird() { # SIGNAL
  local pid
  pid=$(cat "$NG_TMP/bird-a.pid")
  kill "-$1" "$pid"
  ng_wait_until 10 bash -c "! kill -0 $pid" || ng_fail "bird on a did not die"
}
# vanish_and_return HOW: BIRD goes away HOW, comes back; checks both sides.
vanish_and_return() {
  case $1 in
    kill) kill_bird KILL; [[ -S $CTL ]] || rel_fail "SIGKILL removed the socket file?" ;;
    stop) kill_bird TERM; ng_wait_until 5 bash -c "[[ ! -e $CTL ]]" || rel_fail "socket file stayed after a clean stop" ;;
    hang)
      kill_bird KILL
      rm -f "$CTL"
      ip netns exec "$NODE" socat UNIX-LISTEN:"$CTL",fork SYSTEM:'sleep 30' >/dev/null 2>&1 &
      hang_pid=$!
      ng_wait_until 5 test -S "$CTL" || rel_fail "hung listener did not start" ;;
  esac
  ng_wait_until 15 unreachable || rel_fail "$1: BIRDUnreachable not raised"
  api_answers || rel_fail "$1: the API stopped answering while BIRD was gone"
  if [[ $1 == hang ]]; then
    kill "$hang_pid" 2>/dev/null || true
    wait "$hang_pid" 2>/dev/null || true
    rm -f "$CTL"
  fi
  start_bird_a
  ng_wait_until 60 reachable || rel_fail "$1: not cleared after BIRD came back"
}

for how in kill stop hang; do
  vanish_and_return "$how"
  ng_log "$how: BIRDUnreachable raised and cleared; session Established again"
done
refused=$(errors unavailable) missing=$(errors not_found) timeouts=$(errors timeout)
((refused + missing + timeouts >= 3)) || rel_fail "errors not counted: unavailable $refused, not_found $missing, timeout $timeouts"

# Leaks: the same fd count after CYCLES more cycles.
sleep 1
fds0=$(rel_fds "$AGENT_PID")
for ((c = 1; c <= CYCLES; c++)); do vanish_and_return kill; done
sleep 1
fds1=$(rel_fds "$AGENT_PID")
((fds1 <= fds0)) || rel_fail "fds grew from $fds0 to $fds1 over $CYCLES cycles"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID" || rel_fail "agent exit code $? after SIGTERM"
echo "PASS: BIRD socket killed, removed and hung, then back: BIRDUnreachable raised and cleared" \
  "each time, API answering; errors counted (unavailable $refused, not_found $missing, timeout" \
  "$timeouts); fds $fds0 -> $fds1 over $CYCLES more cycles"
