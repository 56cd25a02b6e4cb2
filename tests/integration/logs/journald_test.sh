#!/usr/bin/env bash
# kubelet's log from journald, end to end with the real agent: journal files in the real format
# (written by systemd-journal-remote from the export format) in a directory the agent reads
# (logs.journal_dir). Only kubelet.service entries count; the built-in rules turn "PLEG is not
# healthy" into a condition; the cursor survives a restart (no entry twice, none skipped).
source "$(dirname "$0")/lib.sh"
REMOTE=/lib/systemd/systemd-journal-remote
[[ -x $REMOTE ]] || { echo "SKIP: systemd-journal-remote not installed" >&2; exit 77; }
mkdir -p "$T/journal"
BOOT=$(tr -d - </proc/sys/kernel/random/boot_id)

# journal NAME FIRST LAST: kubelet entries "SEQ-n payload" for n in FIRST..LAST, each followed
# by a containerd entry that must be ignored; one PLEG line in the middle.
journal() {
  local name=$1 first=$2 last=$3 n
  # Now, in microseconds: later files sort after earlier ones (the loop runs in a subshell).
  USEC=$(date +%s%6N)
  for n in $(seq "$first" "$last"); do
    USEC=$((USEC + 2))
    printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n_SYSTEMD_UNIT=kubelet.service\nMESSAGE=SEQ-%s payload kubelet\n\n' \
      "$USEC" "$USEC" "$BOOT" "$n"
    printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n_SYSTEMD_UNIT=containerd.service\nMESSAGE=containerd SEQ-9%s payload\n\n' \
      "$((USEC + 1))" "$((USEC + 1))" "$BOOT" "$n"
    if [[ $n -eq $(((first + last) / 2)) ]]; then
      printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n_SYSTEMD_UNIT=kubelet.service\nMESSAGE=%s\n\n' \
        "$((USEC + 1))" "$((USEC + 1))" "$BOOT" \
        'E0501 kubelet.go:2331] "Skipping pod synchronization" err="PLEG is not healthy: pleg was last seen active 3m0.1s ago; threshold is 3m0s"'
    fi
  done | "$REMOTE" -o "$T/journal/$name.journal" - 2>/dev/null || fail "journal-remote"
}

# The SEQ rule plus the built-in kubelet rules.
cp "$NG_SOURCE_DIR/config/rules/kubelet-monitor.json" "$T/kubelet-monitor.json"
write_config "  kubelet_unit: kubelet.service
  journal_dir: $T/journal"
sed -i "s|rules: \[$SEQ_RULES\]|rules: [$SEQ_RULES, $T/kubelet-monitor.json]|; s|kubelet: \"\"|kubelet: journald|" "$T/nodeguard.yaml"

journal before 1 50  # before the first start: not read (a first start begins at the end)
start_agent
journal live 101 400
wait_for_number 400 20 || fail "kubelet entries from the journal never reported"
grep -q '"msg":"log condition set","condition":"PLEGNotHealthy"' "$T/agent.1.log" ||
  fail "PLEG condition not set"
stop_agent
grep -q '^J ' "$T/state/logs/checkpoints" || fail "no journald cursor in the checkpoint"

journal down 401 500  # written while the agent is down
start_agent
journal after 501 600
wait_for_number 600 20 || fail "entries after the restart never reported"
kill9_agent
journal after-kill 601 700
start_agent
wait_for_number 700 20 || fail "entries after kill -9 never reported"
sleep 1
stop_agent
check_exactly_once 101 700
! grep -q 'SEQ-9' <(seen_numbers) || fail "containerd entries were read"
grep -q '"source":"kubelet"' "$T/agent.1.log" || fail "lines not labelled kubelet"
echo "PASS: journald: 600 kubelet entries exactly once across SIGTERM and kill -9; others ignored"
