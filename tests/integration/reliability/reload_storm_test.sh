#!/usr/bin/env bash
# Reload storm: FLUSHES firewalld-like reloads (flush and delete every chain of nat and filter,
# the owner's own rules put back, one transaction) within SECONDS, against the real agent.
#   reload_storm_test.sh BACKEND FLUSHES SECONDS
# Each flush is repaired (a flush is never a fight and never waits), the storm never raises
# NetfilterFight, and afterwards every guarded rule is present exactly once and in order,
# every unowned rule is as its owner left it, and the hostPort answers. Flushes follow a fixed
# pace; one that would land before the previous one was seen repaired waits for it (a
# generous deadline), so every flush is checked. The repair times are printed, not asserted.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
source "$NG_SOURCE_DIR/tests/integration/reliability/lib.sh"
BACKEND=${1:?backend} FLUSHES=${2:-100} SECONDS_TOTAL=${3:-60}
rel_require
rel_node "$BACKEND" 20
rel_config "{backend: $BACKEND, families: [ipv4]}"
rel_start
rel_intact || { rel_explain; rel_fail "the agent changed the tables at start"; }
ng_log "agent up; $(grep -c . <<<"$REL_WANT_NAT") guarded nat rules; storm: $FLUSHES flushes in ${SECONDS_TOTAL}s"

interval_ms=$((SECONDS_TOTAL * 1000 / FLUSHES))
repairs_before=$(rel_metric_sum "nodeguard_netfilter_repairs_total{backend=\"$BACKEND\",family=\"ipv4\",result=\"applied\",table=\"nat\",")
start=$(now_ms)
late=0
waits=()
for ((i = 1; i <= FLUSHES; i++)); do
  due=$((start + (i - 1) * interval_ms))
  now=$(now_ms)
  if ((now < due)); then
    sleep "$(printf '0.%03d' $((due - now)))"
  fi
  t0=$(now_ms)
  rel_flush
  # Seen repaired (the test's own look, every 20 ms or so): the time until then.
  until rel_restored; do
    (($(now_ms) - t0 < 10000)) || { rel_explain; rel_fail "flush $i not repaired within 10 s"; }
    sleep 0.02
  done
  took=$(($(now_ms) - t0))
  waits+=("$took")
  ((took < interval_ms)) || late=$((late + 1))
done
elapsed=$(($(now_ms) - start))
rel_answers || ng_wait_until 10 rel_answers || rel_fail "hostPort does not answer after the storm"
sleep 1.5  # longer than drift_grace: anything still pending would show now
rel_intact || { rel_explain; rel_fail "tables not intact after the storm"; }

repairs=$(($(rel_metric_sum "nodeguard_netfilter_repairs_total{backend=\"$BACKEND\",family=\"ipv4\",result=\"applied\",table=\"nat\",") - repairs_before))
fights=$(rel_count "netfilter fight: backing off")
((fights == 0)) || rel_fail "the storm was taken for a fight ($fights backoffs)"
[[ $(rel_condition NetfilterFight) == 0 ]] || rel_fail "NetfilterFight raised during a reload storm"
[[ $(rel_condition NetfilterRepairFailing) == 0 ]] || rel_fail "NetfilterRepairFailing raised"
((repairs >= FLUSHES)) || rel_fail "$repairs nat repairs for $FLUSHES flushes"
flush_repairs=$(grep '"msg":"repair applied"' "$LOG" | grep -c '"table":"'"$BACKEND"'/ipv4/nat".*"kinds":"flush"' || true)
grep -q '"level":"error"' "$LOG" && { grep '"level":"error"' "$LOG" | head -5 >&2; rel_fail "errors in the agent log"; }

sorted=$(printf '%s\n' "${waits[@]}" | sort -n)
p50=$(sed -n "$(((FLUSHES + 1) / 2))p" <<<"$sorted")
p99=$(sed -n "$(((FLUSHES * 99 + 99) / 100))p" <<<"$sorted")
max=$(tail -1 <<<"$sorted")
agent_ms=$(grep '"msg":"repair applied"' "$LOG" | grep -o '"detect_to_commit_ms":[0-9.]*' | cut -d: -f2 | sort -n |
  awk '{v[NR]=$1} END {printf "p50 %.1f ms, max %.1f ms", v[int((NR+1)/2)], v[NR]}')
rel_stop
echo "PASS: $BACKEND storm: $FLUSHES flushes in $((elapsed / 1000)).$(((elapsed % 1000) / 100)) s (pace ${interval_ms} ms);" \
  "nat repairs $repairs ($flush_repairs of kind flush); fights 0; seen repaired p50 ${p50} ms," \
  "p99 ${p99} ms, max ${max} ms; $late flushes not yet repaired at the next one's due time;" \
  "agent detect-to-commit $agent_ms; tables intact, hostPort answers"
