#!/usr/bin/env bash
# kill -9 of the agent at random moments while it repairs, KILLS times:
#   kill9_test.sh BACKEND KILLS
# Each round flushes nat and filter (firewalld-like), waits a random time drawn around the
# agent's own repair time (before, during and after the commit), and kills the agent with
# SIGKILL. Then:
#   - the tables are never half written: the guarded rules are either all back exactly (the
#     repair committed) or none (the flush, before the commit): nothing in between;
#   - the state files are always readable: the next start loads every snapshot and discards
#     none, and no temporary file is left over from a write the kill interrupted;
#   - the next start repairs what the kill left flushed.
# Prints how many times a table was found before and after its commit (nat and filter are
# separate commits, so each is judged on its own).
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
source "$NG_SOURCE_DIR/tests/integration/reliability/lib.sh"
BACKEND=${1:?backend} KILLS=${2:-50}
rel_require
# 300 services: ~900 guarded nat rules, so a repair takes long enough to be hit in the middle.
rel_node "$BACKEND" 300
rel_config "{backend: $BACKEND, families: [ipv4]}"
rel_start
rel_intact || { rel_explain; rel_fail "the agent changed the tables at start"; }

# The agent's repair time on this machine, from a first flush (detect to commit).
rel_flush
ng_wait_until 20 rel_restored || rel_fail "first flush not repaired"
ng_wait_until 5 grep -q '"msg":"repair applied"' "$LOG" || rel_fail "no repair logged"
repair_ms=$(grep '"msg":"repair applied"' "$LOG" | grep -o '"since_detect_ms":[0-9]*' | cut -d: -f2 | sort -n | tail -1)
# Kill within [0, 2 x (detection + repair)]: before the agent noticed, in the middle of the
# repair (most of the window), after. Legacy tables are polled every 100 ms; nft notifies.
poll_ms=0
[[ $BACKEND == legacy ]] && poll_ms=100
window_ms=$((2 * (poll_ms + repair_ms) + 10))
ng_log "repair took ${repair_ms} ms; killing within 0..${window_ms} ms after each flush"

tables=$(find "$STATE/netfilter" -name '*.rules' | wc -l)
((tables >= 2)) || rel_fail "expected snapshots of nat and filter, found $tables"
before_commit=0 during_commit=0 after_commit=0 interrupted=0
for ((k = 1; k <= KILLS; k++)); do
  mark=$(wc -l <"$LOG")
  rel_flush
  delay=$((RANDOM % window_ms))
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  rel_kill9
  # Whatever the moment, each table is either repaired whole or untouched since the flush. A
  # commit is one kernel transaction; a restore the agent started may still finish after the
  # kill (its child process is not killed), so look twice, a moment apart.
  sleep 0.2
  for t in nat filter; do
    want=REL_WANT_${t^^}
    now=$(rel_save -t "$t" | ng_nf_guarded_lines)
    if [[ $now == "${!want}" ]]; then
      # Repaired: logged before the kill, or committed with the kill before the log line.
      if tail -n +"$((mark + 1))" "$LOG" | grep '"msg":"repair applied"' | ng_grep "\"table\":\"$BACKEND/ipv4/$t\""; then
        after_commit=$((after_commit + 1))
      else
        during_commit=$((during_commit + 1))
      fi
    elif [[ -z $now ]]; then
      before_commit=$((before_commit + 1))
    else
      rel_explain
      rel_fail "kill $k (${delay} ms after the flush): guarded rules of $t half written"
    fi
  done
  rel_unowned_intact || { rel_explain; rel_fail "kill $k: unowned rules changed"; }
  interrupted=$((interrupted + $(find "$STATE" -name '*.tmp.*' | wc -l)))
  # The next start: every snapshot loads (none discarded), an interrupted write's temp file is
  # removed, and a flushed table is repaired.
  rel_start
  # (the new agent's own writes in flight carry its pid)
  leftovers=$(find "$STATE" -name '*.tmp.*' ! -name "*.tmp.$AGENT_PID" | wc -l)
  ((leftovers == 0)) || rel_fail "kill $k: $leftovers temporary state files of dead agents left after the next start"
  loaded=$(rel_count "netfilter snapshot loaded")
  ((loaded == tables)) || rel_fail "kill $k: $loaded of $tables snapshots loaded"
  ! grep -q '"msg":"netfilter snapshot discarded"' "$LOG" || rel_fail "kill $k: a snapshot was discarded"
  ng_wait_until 20 rel_restored || { rel_explain; rel_fail "kill $k: the next start did not repair"; }
done
rel_answers || ng_wait_until 10 rel_answers || rel_fail "hostPort does not answer at the end"
rel_intact || { rel_explain; rel_fail "tables not intact at the end"; }
rel_stop
echo "PASS: $BACKEND: $KILLS kills -9 (0..${window_ms} ms after a flush; repair ${repair_ms} ms):" \
  "tables found flushed (killed before the commit) $before_commit times, repaired but not yet" \
  "logged (killed during the commit) $during_commit, repaired and logged $after_commit, half written 0;" \
  "$interrupted snapshot writes interrupted (temp files removed at the next start);" \
  "every restart loaded $tables snapshots and repaired"
