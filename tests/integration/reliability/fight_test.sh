#!/usr/bin/env bash
# A fighting writer: another process deletes a guarded rule (the PREROUTING jump into
# CNI-HOSTPORT-DNAT) every 100 ms for WINDOW seconds:
#   fight_test.sh BACKEND [WINDOW]
# The agent must back off (repairs spaced out exponentially instead of one per drift grace),
# raise NetfilterFight (condition and event), keep its CPU bounded over the window, and put the
# rule back once the writer stops. Prints the repairs, backoffs and CPU seconds.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
source "$NG_SOURCE_DIR/tests/integration/reliability/lib.sh"
BACKEND=${1:?backend} WINDOW=${2:-30}
rel_require
rel_node "$BACKEND" 20
rel_config "{backend: $BACKEND, families: [ipv4]}"
rel_start
jump=$(rel_save -t nat | grep -E '^-A PREROUTING .*-j CNI-HOSTPORT-DNAT' | head -1)
[[ -n $jump ]] || rel_fail "no PREROUTING jump into CNI-HOSTPORT-DNAT"
read -ra del <<<"${jump/-A/-D}"

# Idle CPU first: the same window with nobody fighting, for comparison.
idle0=$(rel_cpu_ticks "$AGENT_PID")
sleep 10
idle_ms=$(rel_ms_of_ticks $(($(rel_cpu_ticks "$AGENT_PID") - idle0)))

applied() { grep -c '"msg":"repair applied".*"table":"'"$BACKEND"'/ipv4/nat"' "$LOG" || true; }
repairs0=$(applied)
cpu0=$(rel_cpu_ticks "$AGENT_PID")
deletes=0 attempts=0
end=$((SECONDS + WINDOW))
while ((SECONDS < end)); do
  attempts=$((attempts + 1))
  if rel_ipt -t nat "${del[@]}" 2>/dev/null; then deletes=$((deletes + 1)); fi
  sleep 0.1
done
cpu_ms=$(rel_ms_of_ticks $(($(rel_cpu_ticks "$AGENT_PID") - cpu0)))
repairs=$(($(applied) - repairs0))
backoffs=$(grep -c '"msg":"netfilter fight: backing off"' "$LOG" || true)
longest=$(grep '"msg":"netfilter fight: backing off"' "$LOG" | grep -o '"backoff_ms":[0-9]*' | cut -d: -f2 | sort -n | tail -1)
((backoffs >= 2)) || rel_fail "no backoff: $backoffs backoffs for $repairs repairs"
[[ $(rel_condition NetfilterFight) == 1 ]] || rel_fail "NetfilterFight not raised"
"$NGCTL" --socket "$SOCK" status --events 200 -o json | ng_grep NetfilterFightDetected ||
  rel_fail "no NetfilterFightDetected event"
# Without backoff the agent would repair once per drift grace (1 s) plus a poll: about WINDOW
# repairs. With backoff (1, 2, 4, 8 s ...) far fewer.
((repairs <= WINDOW / 2)) || rel_fail "$repairs repairs in ${WINDOW}s: not backing off"
# Bounded CPU: the fight may cost at most a tenth of a core over the window.
((cpu_ms <= WINDOW * 100)) || rel_fail "agent used ${cpu_ms} ms CPU in ${WINDOW}s of fighting"

# The writer stops: the rule comes back after the current backoff (at most 5 min; here short).
ng_wait_until $((longest / 1000 * 2 + 15)) rel_restored || { rel_explain; rel_fail "rule not back after the fight"; }
ng_wait_until 10 rel_answers || rel_fail "hostPort does not answer after the fight"
rel_intact || { rel_explain; rel_fail "tables not intact after the fight"; }
rel_stop
echo "PASS: $BACKEND fight: $attempts delete attempts, $deletes deletions in ${WINDOW}s; $repairs repairs, $backoffs backoffs" \
  "(longest ${longest} ms); NetfilterFight raised; agent CPU ${cpu_ms} ms over the window" \
  "(idle: ${idle_ms} ms per 10 s); rule restored after the writer stopped"
