#!/usr/bin/env bash
# inotify exhausted: the agent runs in a user namespace this test creates, with that
# namespace's inotify limits lowered (/proc/sys/user/max_inotify_*; the host's limits are not
# touched). With no instance at all it must poll: every line still exactly once, rotation
# included, and bounded CPU while idle (no busy loop). With too few watches, the directories
# that got none are polled.
WRITER=$1
source "$(dirname "$0")/lib.sh"
if ! unshare -U -r true 2>/dev/null; then
  echo "SKIP: cannot create a user namespace" >&2
  exit 77
fi

# in_userns LIMIT_FILE VALUE CMD...: CMD in a new user namespace with that inotify limit.
in_userns() {
  local file=$1 value=$2
  shift 2
  exec unshare -U -r sh -c "echo $value > /proc/sys/user/$file && exec \"\$@\"" sh "$@"
}

status_detail() {
  "$NGCTL" --socket "$T/ng.sock" status -o json | jq -r ".components[] | select(.name==\"logs\") | .details.$1"
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# 200 idle containers plus one busy one.
for i in $(seq 1 200); do
  f=$(new_container "idle$i" quiet app)
  echo "2024-05-01T12:00:00Z stdout F idle $i" >>"$f"
done
busy=$(new_container busy prod app)
write_config "  poll_interval: 500ms"

log "run 1: no inotify instance at all"
start_agent in_userns max_inotify_instances 0
grep -q 'inotify instance' "$T/agent.1.log" || fail "exhaustion not reported"
[[ $(status_detail polled_dirs) -ge 201 ]] || fail "not polling: $(status_detail polled_dirs) dirs"
"$WRITER" --file "$busy" --start 1 --count 20000 --rate "$(rate 10000)" --rotate-every 5000 \
  --modes kubelet,copytruncate,recreate
wait_for_number 20000 30 || fail "SEQ-20000 never reported while polling"
sleep 4  # rotated files drained and closed (rotate_wait 3s)
check_exactly_once 1 20000
log "polling: 20000 numbers exactly once"

ticks_per_s=$(getconf CLK_TCK)
before=$(cpu_ticks "$AGENT_PID")
sleep 5
after=$(cpu_ticks "$AGENT_PID")
used_ms=$(( (after - before) * 1000 / ticks_per_s ))
log "idle CPU while polling 201 directories every 500ms: ${used_ms} ms in 5 s"
(( used_ms < 1000 )) || fail "polling used ${used_ms} ms CPU in 5 s: busy loop?"
stop_agent

log "run 2: one inotify watch only"
rm -f "$T"/agent.*.log
start_agent in_userns max_inotify_watches 1
grep -q 'no inotify watch left' "$T/agent.2.log" || fail "watch exhaustion not reported"
polled=$(status_detail polled_dirs)
[[ $polled -ge 200 ]] || fail "expected >= 200 polled dirs, got $polled"
# kubelet rotates a container log at most once per 10 s and gzips only the older rotated files;
# a file created, rotated and compressed within one poll interval is gone before any poll can
# see it. Rotate once a second here: twice the poll interval, still far faster than kubelet.
"$WRITER" --file "$busy" --start 30001 --count 5000 --rate "$(rate 2500)" --rotate-every 2500 --modes kubelet
wait_for_number 35000 30 || fail "SEQ-35000 never reported with partial polling"
sleep 1
check_exactly_once 30001 35000
stop_agent
echo "PASS: inotify exhausted -> polling: every line exactly once, idle CPU ${used_ms} ms/5 s"
