#!/usr/bin/env bash
# Real firewalld (nftables backend, private bus and mount namespace) next to a kube-proxy-shaped
# native table guarded by nodeguard: after firewalld starts, reloads, completely reloads and
# stops, `nft list table ip kube-proxy` equals the listing before (counters stripped), whether
# firewalld left the table alone or wiped it and nodeguard put it back (then the log names the
# writer). firewalld 1.3.3's nftables backend keeps to its own `inet firewalld` tables, so
# this mostly shows that firewalld's own transactions are learned around, never fought.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/integration/firewalld/lib.sh"
ng_fw_private_mounts "$@"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
command -v nft >/dev/null || { echo "SKIP: nft missing" >&2; exit 77; }
ng_fw_setup nftables nft
node=$(ng_netns_add node)
"$NG_SOURCE_DIR/tools/bench/gen-kube-proxy-nft.sh" 200 >"$NG_TMP/kube-proxy.nft"
ng_in "$node" nft -f "$NG_TMP/kube-proxy.nft"
listing() { ng_in "$node" nft list table ip kube-proxy 2>/dev/null | sed -E 's/counter packets [0-9]+ bytes [0-9]+/counter/'; }
want=$(listing)

log=$NG_TMP/agent.log
ng_nf_agent_config "$NG_TMP/nodeguard.yaml" "$NG_TMP/state" "$NG_TMP/ng.sock" \
  '{backend: nft, families: [ipv4], nft_tables: ["ip kube-proxy kube-proxy"]}'
ip netns exec "$node" env XTABLES_LOCKFILE="$NG_TMP/xtables.lock" \
  "$NG_BUILD_DIR/agent/nodeguard" --config "$NG_TMP/nodeguard.yaml" >"$log" 2>&1 &
agent=$!
ng_track_pid "$agent"
fail() {
  echo "--- agent log (last 30 lines):" >&2
  grep -v '"component":"grpc"' "$log" | tail -n 30 >&2 || true
  ng_fail "$*"
}
ng_wait_until 20 grep -q '"msg":"native table guarded"' "$log" || fail "the table was not guarded"
same() { [[ $(listing) == "$want" ]]; }
settled() {  # STEP: the table equals the listing before, and stays so
  ng_wait_until 15 same || { diff <(echo "$want") <(listing) | head >&2; fail "$1: listing differs"; }
  sleep 1
  same || fail "$1: listing changed again"
  ng_log "$1: kube-proxy table intact ($(grep -c '"msg":"native table restored"' "$log" || true) restores so far)"
}
ng_fw_start "$node"
settled "firewalld start"
ng_fw_cmd "$node" --reload >/dev/null
settled "firewall-cmd --reload"
ng_fw_cmd "$node" --complete-reload >/dev/null
settled "firewall-cmd --complete-reload"
ng_fw_stop
settled "firewalld stop"
grep -q '"msg":"native table restore failed"' "$log" && fail "a restore failed"
if grep -q '"msg":"native table restored"' "$log"; then
  grep '"msg":"native table restored"' "$log" | grep -q '"writer_comm":"firewall' ||
    fail "a restore did not name firewalld"
fi
kill -TERM "$agent"
wait "$agent" || fail "agent exit code $?"
ng_log "PASS"
