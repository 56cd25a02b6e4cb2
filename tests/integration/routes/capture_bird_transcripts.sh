#!/usr/bin/env bash
# Captures real BIRD 2 control-socket replies from the routes lab into DIR (default
# tests/testdata/bird): show protocols [all], show route [all], show status, errors, and the
# replies after the peer in the other subnet stopped. Root; namespaces are removed at exit.
#   sudo tests/integration/routes/capture_bird_transcripts.sh [DIR]
set -euo pipefail
NG_SOURCE_DIR=${NG_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
out=$(realpath -m "${1:-$NG_SOURCE_DIR/tests/testdata/bird}")
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/support/topology.sh"
ng_require_root
mkdir -p "$out"
rl_setup
rl_start_all_birds
ng_wait_until 60 bash -c "[[ \$(birdc -s $NG_TMP/bird-a.ctl show protocols | grep -c Established) -eq 2 ]]" ||
  ng_fail "mesh not established"
sleep 3  # let the routes settle
raw() { (printf '%s\n' "$2"; sleep 1) | socat - "UNIX-CONNECT:$NG_TMP/bird-$1.ctl"; }
raw a "show protocols" >"$out/bird2_show_protocols.txt"
raw a "show protocols all" >"$out/bird2_show_protocols_all.txt"
raw a "show route" >"$out/bird2_show_route.txt"
raw a "show route all" >"$out/bird2_show_route_all.txt"
raw a "show status" >"$out/bird2_show_status.txt"
raw a "show nonsense" >"$out/bird2_syntax_error.txt"
rl_stop_bird C
sleep 3
raw a "show protocols" >"$out/bird2_show_protocols_peer_down.txt"
raw a "show protocols all" >"$out/bird2_show_protocols_all_peer_down.txt"
echo "transcripts written to $out"
