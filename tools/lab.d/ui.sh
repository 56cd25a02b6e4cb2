# Output for tools/lab: short sentences, the commands it runs with their real output indented,
# and a mark per finding. LAB_PLAIN=1 (--plain, or output not a terminal): no colour, ASCII only.

if [[ ${LAB_PLAIN:-0} == 1 || ! -t 1 ]]; then
  UI_B='' UI_DIM='' UI_OK='' UI_BAD='' UI_OFF='' UI_RULE='=' UI_TICK='OK  ' UI_CROSS='FAIL'
else
  UI_B=$'\e[1m' UI_DIM=$'\e[2m' UI_OK=$'\e[32m' UI_BAD=$'\e[31m' UI_OFF=$'\e[0m'
  UI_RULE='━' UI_TICK='✔' UI_CROSS='✘'
fi
UI_WIDTH=96

# ui_title TEXT: a heading line across the width.
ui_title() {
  local text=" $* " line
  line=$(printf "%*s" $((UI_WIDTH - ${#text} - 3)) '' | sed "s/ /$UI_RULE/g")
  printf '\n%s%s%s%s%s%s\n' "$UI_B" "$UI_RULE$UI_RULE$UI_RULE" "$text" "$line" "$UI_OFF" ''
}

# ui_say TEXT...: a paragraph, wrapped; ui_say_in: the same, indented under a finding.
ui_say() { printf '%s\n' "$*" | fold -s -w "$UI_WIDTH" | sed 's/ *$//'; }
ui_say_in() { printf '%s\n' "$*" | fold -s -w $((UI_WIDTH - 7)) | sed 's/ *$//; s/^/       /'; }

# ui_step TEXT: a set-up step (no newline; ui_done ends it).
ui_step() {
  UI_STEP_START=$(date +%s%N)
  printf '  %s ... ' "$*"
}
ui_done() {
  local ms=$((($(date +%s%N) - UI_STEP_START) / 1000000))
  printf '%s%s%s\n' "$UI_DIM" "${*:-done} ($(ui_seconds "$ms"))" "$UI_OFF"
}

# ui_seconds MS: "0.42 s" or "12 ms".
ui_seconds() {
  if (($1 < 1000)); then echo "$1 ms"; else printf '%d.%02d s' $(($1 / 1000)) $(($1 % 1000 / 10)); fi
}

# ui_cmd SHOWN CMD...: prints "$ SHOWN", runs CMD, prints its output indented. Returns CMD's
# exit code. UI_MAX_LINES bounds the lines shown (the rest is counted).
ui_cmd() {
  local shown=$1 out rc max=${UI_MAX_LINES:-40}
  shift
  printf '%s  $ %s%s\n' "$UI_DIM" "$shown" "$UI_OFF"
  set +e
  out=$("$@" 2>&1)
  rc=$?
  set -e
  local n
  n=$(printf '%s\n' "$out" | wc -l)
  printf '%s\n' "$out" | head -n "$max" | sed 's/^/    /'
  ((n <= max)) || printf '    %s... %d more lines%s\n' "$UI_DIM" $((n - max)) "$UI_OFF"
  return $rc
}

ui_ok() { printf '  %s%s%s %s\n' "$UI_OK" "$UI_TICK" "$UI_OFF" "$*"; }
ui_bad() { printf '  %s%s%s %s\n' "$UI_BAD" "$UI_CROSS" "$UI_OFF" "$*"; }
ui_note() { printf '  %s%s%s\n' "$UI_DIM" "$*" "$UI_OFF"; }
