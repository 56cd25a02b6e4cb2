#!/usr/bin/env bash
# firewalld's signals count only from firewalld. On a private dbus-daemon (private mount
# namespace, as reload_e2e_test.sh) with nodeguard in a node network namespace:
#   1. firewalld not running: an unprivileged process (uid 65534) sends Reloaded on firewalld's
#      path, and a NameOwnerChanged claiming firewalld's name for itself. Nothing happens: no
#      netfilter check requested (nodeguard_netfilter_checks_total{trigger="request"} and the
#      log), nodeguard_firewalld_up stays 0, the signals are counted as ignored, logged once.
#   2. the real firewalld running: the same Reloaded from uid 65534 is still ignored, and
#      firewall-cmd --reload (the real owner's Reloaded) triggers the check.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/integration/firewalld/lib.sh"
ng_fw_private_mounts "$@"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
command -v setpriv >/dev/null && command -v dbus-send >/dev/null ||
  { echo "SKIP: setpriv or dbus-send missing" >&2; exit 77; }
NODEGUARD=${NG_NODEGUARD:-$NG_BUILD_DIR/agent/nodeguard}  # NG_NODEGUARD: another build, e.g. to see the test fail
FORGED=20

node=$(ng_netns_add node)
ng_fw_setup nftables nft
# The unprivileged sender must reach the test's bus socket (the bus policy allows any user).
chmod 0711 "$NG_TMP" "$NG_TMP/bus"

log=$NG_TMP/agent.log
cat >"$NG_TMP/nodeguard.yaml" <<YAML
node_name: fw-forged-node
state_dir: $NG_TMP/state
grpc_socket: $NG_TMP/ng.sock
metrics_listen: 127.0.0.1:9746
log_level: debug
netfilter: {backend: nft, families: [ipv4], poll_interval: 1s}
firewalld: {enabled: true, retry_max: 5s}
bgp: {enabled: false}
routes: {enabled: false}
probes: {enabled: false}
logs: {enabled: false}
cni: {mode: "off"}
YAML
ip netns exec "$node" "$NODEGUARD" --config "$NG_TMP/nodeguard.yaml" >"$log" 2>&1 &
ng_track_pid $!
fail() {
  echo "--- agent log (last 30 lines):" >&2
  tail -n 30 "$log" >&2 || true
  ng_fail "$*"
}
ng_wait_until 20 grep -q '"msg":"firewalld watcher connected to the system bus".*"firewalld":"not running"' "$log" ||
  fail "the agent did not connect to the private bus"
ng_wait_until 20 grep -q '"msg":"nodeguard running"' "$log" || fail "agent did not start"

scrape() { ip netns exec "$node" curl -sf --max-time 5 http://127.0.0.1:9746/metrics; }
metric() { # NAME{LABELS} -> value (0 when absent)
  scrape | awk -v m="$1" '$1 == m {v = $2} END {print v + 0}'
}
requests() { metric 'nodeguard_netfilter_checks_total{backend="nft",family="ipv4",trigger="request"}'; }
# metric_is NAME{LABELS} VALUE / metric_above NAME{LABELS} VALUE: for ng_wait_until.
metric_is() { [[ $(metric "$1") == "$2" ]]; }
metric_above() { (($(metric "$1") > $2)); }
ng_wait_until 10 scrape || fail "no metrics on 127.0.0.1:9746"
# as_nobody ARGS...: dbus-send on the test's bus as uid/gid 65534.
as_nobody() {
  setpriv --reuid 65534 --regid 65534 --clear-groups \
    env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" dbus-send --system --type=signal "$@"
}
as_nobody /org/fedoraproject/FirewallD1 org.fedoraproject.FirewallD1.Reloaded ||
  fail "uid 65534 cannot send on the test's bus"

# 1. No firewalld: forged Reloaded and a forged NameOwnerChanged.
before=$(requests)
for _ in $(seq 2 "$FORGED"); do
  as_nobody /org/fedoraproject/FirewallD1 org.fedoraproject.FirewallD1.Reloaded
done
as_nobody /org/fedoraproject/FirewallD1 org.freedesktop.DBus.NameOwnerChanged \
  string:org.fedoraproject.FirewallD1 string:"" string:":1.4242"
as_nobody /org/fedoraproject/FirewallD1 org.fedoraproject.FirewallD1.Reloaded
# Handled (ignored, or taken for firewalld's): either shows within the bounded wait.
handled() {
  metric_is 'nodeguard_firewalld_ignored_signals_total{reason="no_owner"}' $((FORGED + 1)) ||
    grep -q '"msg":"firewalld event; netfilter check requested"' "$log"
}
ng_wait_until 10 handled || true
sleep 1  # a check would be requested at once; give a wrong one the chance to show
grep -q '"msg":"firewalld event; netfilter check requested"' "$log" &&
  fail "the agent took a forged signal for firewalld's (firewalld event logged)"
[[ $(requests) == "$before" ]] || fail "forged signals requested netfilter checks: $before -> $(requests)"
[[ $(metric nodeguard_firewalld_up) == 0 ]] || fail "nodeguard_firewalld_up is not 0 without firewalld"
[[ $(metric 'nodeguard_firewalld_reloads_total{trigger="reloaded"}') == 0 ]] ||
  fail "forged Reloaded counted as reloads"
metric_is 'nodeguard_firewalld_ignored_signals_total{reason="no_owner"}' $((FORGED + 1)) ||
  fail "the forged signals were not all counted as ignored (no_owner): $(scrape | grep ignored_signals)"
[[ $(metric 'nodeguard_firewalld_ignored_signals_total{reason="not_bus_driver"}') == 1 ]] ||
  fail "the forged NameOwnerChanged was not counted as ignored"
[[ $(grep -c "a signal not sent by firewalld's bus name owner was ignored" "$log") == 1 ]] ||
  fail "the ignored signals were not logged exactly once"
ng_log "firewalld absent: $((FORGED + 2)) forged signals from uid 65534 ignored, no check"

# 2. The real firewalld owns its name: the forger is still ignored, the owner counts.
ng_fw_start "$node"
ng_wait_until 20 grep -q '"trigger":"NameOwnerChanged","event":"started"' "$log" ||
  fail "nodeguard did not see firewalld start"
ng_wait_until 20 metric_is nodeguard_firewalld_up 1 || fail "nodeguard_firewalld_up not 1"
before=$(requests)
as_nobody /org/fedoraproject/FirewallD1 org.fedoraproject.FirewallD1.Reloaded
ng_wait_until 10 metric_is 'nodeguard_firewalld_ignored_signals_total{reason="not_owner"}' 1 ||
  fail "the forged Reloaded next to the real firewalld was not ignored"
sleep 1
[[ $(requests) == "$before" ]] || fail "a forged Reloaded requested a check while firewalld runs"
ng_fw_cmd "$node" --reload >/dev/null || fail "firewall-cmd --reload"
ng_wait_until 10 grep -q '"msg":"firewalld event; netfilter check requested".*"trigger":"Reloaded"' "$log" ||
  fail "the real firewalld's Reloaded was not counted"
ng_wait_until 10 metric_above 'nodeguard_netfilter_checks_total{backend="nft",family="ipv4",trigger="request"}' "$before" ||
  fail "the real Reloaded requested no check"
ng_fw_stop
echo "PASS: firewalld signals count only from firewalld's bus name owner"
