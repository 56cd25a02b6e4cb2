#!/usr/bin/env bash
# A container log directory with FILES (default 10,000) files, the real agent tailing it:
#   many_log_files_test.sh LOG_WRITER [FILES]
# Every file is followed (nodeguard_log_files_tailed), a line written to each of them is read
# exactly once (twice over), and the agent's memory and CPU stay bounded: RSS under
# 64 KiB per file plus 64 MiB, no CPU to speak of while the files are idle (no busy loop), fds
# one per file plus a fixed few. Prints RSS, fds and CPU.
set -euo pipefail
WRITER=$1
FILES=${2:-10000}
source "$(dirname "$0")/../logs/lib.sh"
need=$((FILES + 200))
if (($(ulimit -Hn) < need)); then
  echo "SKIP: the open-file hard limit $(ulimit -Hn) is below $need" >&2
  exit 77
fi
cpu_ms() { echo $(($(awk '{print $14 + $15}' "/proc/$1/stat") * 1000 / $(getconf CLK_TCK))); }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
fds() { find "/proc/$1/fd" -mindepth 1 -maxdepth 1 | wc -l; }

# kubelet's names: <pod>_<namespace>_<container>-<64 hex>.log, all in one directory.
# name I: sets F to file I's path (no subshell: this runs FILES times per round).
name() { printf -v F '%s/pod-%05d_ns-%d_app-%064x.log' "$T/containers" "$1" $(($1 % 50)) "$1"; }
for ((i = 1; i <= FILES; i++)); do name "$i"; echo "$F"; done | xargs touch
write_config "  rotate_wait: 3s
  max_files: $FILES"
start_agent
deadline=$((SECONDS + 120))
until (($(metric nodeguard_log_files_tailed) >= FILES)); do
  ((SECONDS < deadline)) || fail "only $(metric nodeguard_log_files_tailed) of $FILES files followed"
  sleep 0.5
done
log "$FILES files followed: rss $(rss_kb "$AGENT_PID") kB, fds $(fds "$AGENT_PID")"

# round N: one line into every file (SEQ numbers (N-1)*FILES+1 .. N*FILES).
round() {
  local r=$1 i base=$((($1 - 1) * FILES))
  local c0 t0
  c0=$(cpu_ms "$AGENT_PID")
  t0=$(date +%s%3N)
  for ((i = 1; i <= FILES; i++)); do
    name "$i"
    echo "2024-05-01T12:00:00.000000000Z stdout F SEQ-$((base + i)) payload file $i" >>"$F"
  done
  wait_for_metric 'nodeguard_log_lines_total{source="container"}' $((r * FILES)) 120 ||
    fail "round $r: $(metric 'nodeguard_log_lines_total{source="container"}') of $((r * FILES)) lines read"
  ROUND_MS=$(($(date +%s%3N) - t0))
  ROUND_CPU=$(($(cpu_ms "$AGENT_PID") - c0))
}
round 1
r1_ms=$ROUND_MS r1_cpu=$ROUND_CPU
round 2
r2_ms=$ROUND_MS r2_cpu=$ROUND_CPU
# Lines are counted when read; matches are counted and logged just after: wait for both.
wait_for_metric 'nodeguard_log_problems_total{reason="SeqLine",source="container"}' $((2 * FILES)) 60 ||
  fail "$(metric 'nodeguard_log_problems_total{reason="SeqLine",source="container"}') problems counted, want $((2 * FILES))"
logged() { (($(seen_numbers | wc -l) + $(summarized) >= 2 * FILES)); }
deadline=$((SECONDS + 60))
until logged || ((SECONDS >= deadline)); do sleep 0.5; done
check_exactly_once 1 $((2 * FILES))

# Idle: every file followed, nothing written. A full rescan runs every 10 s.
c0=$(cpu_ms "$AGENT_PID")
sleep 20
idle_cpu=$(($(cpu_ms "$AGENT_PID") - c0))
rss=$(rss_kb "$AGENT_PID")
nfd=$(fds "$AGENT_PID")
log "rounds: ${r1_ms} ms / ${r1_cpu} ms CPU, ${r2_ms} ms / ${r2_cpu} ms CPU; idle 20 s: ${idle_cpu} ms CPU; rss ${rss} kB; fds $nfd"
((rss <= FILES * 64 + 65536)) || fail "RSS ${rss} kB for $FILES files"
((idle_cpu <= 2000)) || fail "${idle_cpu} ms CPU in 20 idle seconds with $FILES files: busy loop?"
((nfd <= FILES + 100)) || fail "$nfd fds for $FILES files"
[[ $(metric nodeguard_log_files_tailed) == "$FILES" ]] || fail "files_tailed $(metric nodeguard_log_files_tailed)"
stop_agent
echo "PASS: $FILES files in one directory: all followed, $((2 * FILES)) lines each read once" \
  "(round 1: ${r1_ms} ms, ${r1_cpu} ms CPU; round 2: ${r2_ms} ms, ${r2_cpu} ms CPU); idle 20 s:" \
  "${idle_cpu} ms CPU; RSS ${rss} kB; fds $nfd"
