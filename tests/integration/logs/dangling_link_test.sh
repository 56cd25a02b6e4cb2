#!/usr/bin/env bash
# kubelet links a container's log into /var/log/containers before the runtime creates the file.
# With the real agent running: a dangling link appears, then its file is created, written and
# rotated kubelet-style (rename, reopen) at once, before any rescan. Every line, those of the
# rotated file included, must be read exactly once. Twice: target directory present, and
# target directory created only after the link.
source "$(dirname "$0")/lib.sh"

write_config
start_agent
problems='nodeguard_log_problems_total{reason="SeqLine",source="container"}'

cri() { printf '2024-05-01T12:00:00.000000000Z stdout F SEQ-%d payload\n' "$@"; }

# burst DIR FIRST: writes FIRST..FIRST+99 into DIR/0.log, rotates it, then FIRST+100..+199.
burst() {
  local dir=$1 first=$2
  cri $(seq "$first" $((first + 99))) >"$dir/0.log"
  mv "$dir/0.log" "$dir/0.log.20240501-120000"
  cri $(seq $((first + 100)) $((first + 199))) >"$dir/0.log"
}

log "phase 1: dangling link, target directory present"
d1="$T/pods/prod_early_uid-early/app"
mkdir -p "$d1"
ln -s "$d1/0.log" "$T/containers/early_prod_app-$(printf '%064d' 1).log"
sleep 1 # the agent has seen the link (and, unchanged, ignored it until the next rescan)
burst "$d1" 1
wait_for_metric "$problems" 200 8 ||
  fail "phase 1: $(metric "$problems") of 200 lines read (lines before the rotation lost?)"

log "phase 2: dangling link into a directory that does not exist yet"
d2="$T/pods/prod_later_uid-later/app"
ln -s "$d2/0.log" "$T/containers/later_prod_app-$(printf '%064d' 2).log"
sleep 1
mkdir -p "$d2"
burst "$d2" 1001
wait_for_metric "$problems" 400 8 ||
  fail "phase 2: $(metric "$problems") of 400 lines read"
# Later lines keep coming in.
cri 1201 >>"$d2/0.log"
wait_for_metric "$problems" 401 8 || fail "a line written after the rotation was not read"
sleep 1
[[ $(metric "$problems") == 401 ]] || fail "lines read twice: $(metric "$problems") of 401"
stop_agent
seen_numbers | sort -n >"$T/seen.txt"
[[ -z $(uniq -d "$T/seen.txt") ]] || fail "numbers reported twice"
echo "PASS: dangling links followed at once: 401 lines, rotated ones included, each read once"
