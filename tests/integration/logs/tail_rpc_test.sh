#!/usr/bin/env bash
# TailLogs through `ngctl logs` against the real agent: filters (namespace, pod, container,
# stream, regex, since, source), history then follow, partial lines joined, bad requests, and
# a client that stops reading: the agent drops lines for it (reported, counted) and keeps
# reading and matching every line at full speed.
WRITER=$1
source "$(dirname "$0")/lib.sh"
ngctl() { "$NGCTL" --socket "$T/ng.sock" "$@"; }

web=$(new_container web prod app)
db=$(new_container db dev pg)
old="2020-01-01T00:00:00.000000000Z"
now=$(date -u +%Y-%m-%dT%H:%M:%S.000000000Z)
{
  echo "$old stdout F web old line"
  echo "$now stdout F web hello"
  echo "$now stderr F web oops on stderr"
  echo "$now stdout P web joined "
  echo "$now stdout F from two fragments"
} >>"$web"
echo "$now stdout F db ready" >>"$db"
echo "plain text line" >"$T/extra.log"
write_config "  read_from_head: true
  files: [$T/extra.log]"
start_agent
port=$(grep -o '"msg":"metrics endpoint listening"[^}]*"port":[0-9]*' "$T/agent.1.log" | grep -o '[0-9]*$')
sleep 0.5

out=$(ngctl logs -n prod --no-prefix)
[[ $(wc -l <<<"$out") -eq 4 ]] || fail "namespace filter: $out"
grep -qx "web joined from two fragments" <<<"$out" || fail "partial lines not joined: $out"
[[ $(ngctl logs --pod db --no-prefix) == "db ready" ]] || fail "pod filter"
[[ $(ngctl logs -c pg --no-prefix) == "db ready" ]] || fail "container filter"
s=$(ngctl logs --pod web --stream stderr --no-prefix)
[[ $s == "web oops on stderr" ]] || fail "stream filter: $s"
[[ $(ngctl logs --regex 'oo[pk]s' --no-prefix) == "web oops on stderr" ]] || fail "regex filter"
[[ $(ngctl logs --pod web --since 1h | wc -l) -eq 3 ]] || fail "since filter: $(ngctl logs --pod web --since 1h)"
[[ $(ngctl logs --source file --no-prefix) == "plain text line" ]] || fail "source filter"
j=$(ngctl logs --pod db -o json)
[[ $(jq -r .namespace <<<"$j") == dev && $(jq -r .stream <<<"$j") == stdout ]] || fail "json: $j"

set +e
err=$(ngctl logs --regex '(unclosed' 2>&1)
rc=$?
set -e
[[ $rc -eq 3 && $err == *"does not compile"* ]] || fail "bad regex: rc=$rc $err"

# Follow: history first, then new lines.
ngctl logs -f --pod db --no-prefix >"$T/follow.txt" &
follow=$!
PIDS+=("$follow")
sleep 0.5
echo "$now stdout F db second" >>"$db"
for _ in $(seq 1 50); do grep -q "db second" "$T/follow.txt" && break; sleep 0.1; done
[[ $(cat "$T/follow.txt") == $'db ready\ndb second' ]] || fail "follow: $(cat "$T/follow.txt")"
kill "$follow"

# A client that never reads: its stream is throttled by gRPC flow control, the agent's queue
# for it fills, lines are dropped for it only.
mkfifo "$T/stuck"
ngctl logs -f --no-history --pod web >"$T/stuck" 2>"$T/stuck.err" &
stuck=$!
PIDS+=("$stuck")
exec 3<>"$T/stuck"  # hold the pipe open without reading it
sleep 0.5
start=$(date +%s%N)
"$WRITER" --file "$web" --start 1 --count 100000 --rate 0
wait_for_metric 'nodeguard_log_problems_total{reason="SeqLine",source="container"}' 100000 60 ||
  fail "the agent fell behind while a client was stuck"
ms=$(( ($(date +%s%N) - start) / 1000000 ))
t0=$(date +%s%N)
ngctl status >/dev/null || fail "agent unresponsive"
status_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
dropped=$(curl -sf "http://127.0.0.1:$port/metrics" | awk '/^nodeguard_log_stream_dropped_lines_total/ {print $2}')
log "stuck client: 100000 lines matched in ${ms} ms, ${dropped} dropped for the stuck stream, status in ${status_ms} ms"
awk "BEGIN {exit !($dropped > 0)}" || fail "no drops counted"
check_exactly_once 1 100000
# Let the client read again: it is told about the gap.
cat "$T/stuck" >/dev/null &
PIDS+=("$!")
for _ in $(seq 1 100); do grep -q "dropped" "$T/stuck.err" && break; sleep 0.1; done
grep -q "lines dropped by the agent" "$T/stuck.err" || fail "the client was not told about dropped lines"
kill "$stuck" 2>/dev/null || true
exec 3>&-
stop_agent
echo "PASS: TailLogs filters, history, follow, and a stuck client (${dropped} lines dropped for it only)"
