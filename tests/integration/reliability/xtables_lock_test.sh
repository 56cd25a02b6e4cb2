#!/usr/bin/env bash
# Another process holds the xtables lock (flock on XTABLES_LOCKFILE, as iptables -w and
# firewalld take it) for HOLD seconds right after it flushed the tables:
#   xtables_lock_test.sh BACKEND [HOLD]
# 1. lock_timeout (2 s here) shorter than the hold: the agent waits, never writes while the
#    lock is held, reports (environment error kind lock_busy, counted), then repairs once the
#    lock is free; no corruption.
# 2. lock_timeout (default 5 s) longer than a 3 s hold: the agent waits and repairs right after
#    the release, without an error.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
source "$NG_SOURCE_DIR/tests/integration/reliability/lib.sh"
BACKEND=${1:?backend} HOLD=${2:-5}
rel_require flock
rel_node "$BACKEND" 20

# hold_and_flush SECONDS: takes the lock, flushes (the holder's own writes go through another
# lock file: it already holds ours), keeps the lock SECONDS, releases. Prints when the flush
# was done and when the lock was released (ms).
hold_and_flush() {
  flock -x "$LOCKFILE" bash -c '
    ip netns exec '"$NODE"' env XTABLES_LOCKFILE='"$NG_TMP"'/holder.lock \
      iptables-'"$BACKEND"'-restore -w --noflush <<<"$1" || exit 1
    echo "flushed $(date +%s%3N)"
    sleep '"$1"'
    echo "released $(date +%s%3N)"' _ "$(printf '*nat\n-F\n-X\nCOMMIT\n*filter\n-F\n-X\nCOMMIT\n%s\n' "$REL_UNOWNED")"
}
busy_metric='nodeguard_environment_errors_total{component="netfilter",kind="lock_busy"}'

# 1. The lock outlives the agent's wait.
rel_config "{backend: $BACKEND, families: [ipv4], lock_timeout: 2s}"
rel_start
hold_and_flush "$HOLD" >"$NG_TMP/holder.out" &
holder=$!
ng_wait_until 5 grep -q flushed "$NG_TMP/holder.out" || rel_fail "holder did not flush"
# While the lock is held nothing of ours may appear in the tables.
while ! grep -q released "$NG_TMP/holder.out"; do
  [[ -z $(rel_save -t nat | ng_nf_guarded_lines) ]] || rel_fail "the agent wrote while the lock was held"
  sleep 0.1
done
wait "$holder"
released=$(awk '/released/ {print $2}' "$NG_TMP/holder.out")
ng_wait_until 20 rel_restored || { rel_explain; rel_fail "not repaired after the lock was released"; }
repaired_after=$(($(now_ms) - released))
busy=$(rel_metric "$busy_metric")
((busy >= 1)) || rel_fail "lock_busy not counted ($busy_metric = $busy)"
grep -q '"kind":"lock_busy"' "$LOG" || grep -q 'held by another process' "$LOG" ||
  rel_fail "lock_busy not logged"
ng_wait_until 10 rel_answers || rel_fail "hostPort does not answer after the repair"
rel_intact || { rel_explain; rel_fail "tables not intact"; }
ng_log "phase 1: lock held ${HOLD}s; lock_busy counted $busy; repaired ${repaired_after} ms after the release"
rel_stop

# 2. The agent's wait outlives the lock.
rel_config "{backend: $BACKEND, families: [ipv4]}"
rel_start
busy0=$(rel_metric "$busy_metric")
hold_and_flush 3 >"$NG_TMP/holder2.out"
released2=$(awk '/released/ {print $2}' "$NG_TMP/holder2.out")
ng_wait_until 20 rel_restored || { rel_explain; rel_fail "phase 2: not repaired"; }
repaired_after2=$(($(now_ms) - released2))
[[ $(rel_metric "$busy_metric") == "$busy0" ]] || rel_fail "phase 2: lock_busy reported though the wait sufficed"
[[ $(rel_condition NetfilterRepairFailing) == 0 ]] || rel_fail "phase 2: NetfilterRepairFailing raised"
rel_intact || { rel_explain; rel_fail "phase 2: tables not intact"; }
rel_stop
echo "PASS: $BACKEND: lock held ${HOLD}s past a 2s lock_timeout: lock_busy counted $busy, nothing" \
  "written while held, repaired ${repaired_after} ms after the release; held 3s within the 5s" \
  "timeout: repaired ${repaired_after2} ms after the release, no error; tables intact"
