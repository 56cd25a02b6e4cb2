# The real firewalld in a lab: a private mount namespace (own /run, own /etc/firewalld copy, own
# iptables alternatives), its own dbus-daemon on a socket in the test's temp dir
# (DBUS_SYSTEM_BUS_ADDRESS), firewalld started inside a node network namespace. Nothing here
# touches the host's bus, firewall, /etc or /run.
#
#   source "$NG_SOURCE_DIR/tests/integration/firewalld/lib.sh"
#   ng_fw_private_mounts "$@"          # FIRST: re-executes the script in a private mount ns
#   source "$NG_SOURCE_DIR/tests/support/netns.sh"
#   ng_fw_setup nftables nft           # firewalld backend, iptables tools (nft | legacy)
#   node=$(ng_netns_add node)
#   ng_fw_start "$node"; ng_fw_cmd "$node" --reload; ng_fw_stop

# ng_fw_private_mounts ARGS...: run the rest of the calling script in a private mount namespace
# with a fresh /run (so /run/netns, /run/firewalld, /run/xtables.lock and /run/dbus are the
# test's own). Exits 77 (skip) without root or the tools.
ng_fw_private_mounts() {
  if [[ -n ${NG_FW_PRIVATE:-} ]]; then
    mount -t tmpfs -o mode=0755 nodeguard-test-run /run || { echo "FAIL: tmpfs on /run" >&2; exit 1; }
    mkdir -p /run/netns /run/lock
    return 0
  fi
  if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: needs root (network and mount namespaces)" >&2
    exit 77
  fi
  local t
  for t in firewalld firewall-cmd dbus-daemon unshare socat jq; do
    command -v "$t" >/dev/null || { echo "SKIP: $t missing (tools/install-deps.sh)" >&2; exit 77; }
  done
  exec env NG_FW_PRIVATE=1 unshare --mount --propagation private bash "$0" "$@"
}

# ng_fw_setup BACKEND TOOLS: firewalld's FirewallBackend (nftables | iptables) in a copy of
# /etc/firewalld bind-mounted over it, the iptables/ip6tables commands pointed at TOOLS (nft |
# legacy) through a copy of /etc/alternatives, and a dbus-daemon for this test. Exports
# DBUS_SYSTEM_BUS_ADDRESS. Call after sourcing netns.sh (uses NG_TMP and its cleanup).
ng_fw_setup() {
  local backend=$1 tools=$2
  [[ -n ${NG_FW_PRIVATE:-} ]] || ng_fail "ng_fw_setup outside the private mount namespace"
  mkdir -p "$NG_TMP/fwetc" "$NG_TMP/alternatives" "$NG_TMP/bus"
  cp -a /etc/firewalld/. "$NG_TMP/fwetc/"
  sed -i "s/^FirewallBackend=.*/FirewallBackend=$backend/" "$NG_TMP/fwetc/firewalld.conf"
  mount --bind "$NG_TMP/fwetc" /etc/firewalld || ng_fail "bind /etc/firewalld"
  cp -a /etc/alternatives/. "$NG_TMP/alternatives/"
  local t s
  for t in iptables ip6tables; do
    for s in "" -save -restore; do
      ln -sfn "/usr/sbin/$t-$tools$s" "$NG_TMP/alternatives/$t$s"
    done
  done
  mount --bind "$NG_TMP/alternatives" /etc/alternatives || ng_fail "bind /etc/alternatives"
  [[ $(readlink -f /usr/sbin/iptables) == *xtables-$tools-multi ]] ||
    ng_fail "iptables does not resolve to $tools tools: $(readlink -f /usr/sbin/iptables)"
  cat >"$NG_TMP/bus/system.conf" <<XML
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$NG_TMP/bus/system_bus_socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
  </policy>
</busconfig>
XML
  export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$NG_TMP/bus/system_bus_socket"
  NG_FW_DBUS_PID=$(dbus-daemon --config-file="$NG_TMP/bus/system.conf" --fork --print-pid --nopidfile) ||
    ng_fail "dbus-daemon did not start"
  ng_track_pid "$NG_FW_DBUS_PID"
  ng_wait_until 10 test -S "$NG_TMP/bus/system_bus_socket" || ng_fail "no bus socket"
}

# ng_fw_start NS [LOG]: firewalld in the namespace on the test's bus; waits until it answers.
# Sets NG_FW_PID.
ng_fw_start() {
  local ns=$1 log=${2:-$NG_TMP/firewalld.log}
  ip netns exec "$ns" firewalld --nofork --nopid --log-target console >>"$log" 2>&1 &
  NG_FW_PID=$!
  ng_track_pid "$NG_FW_PID"
  ng_wait_until 60 ng_fw_running "$ns" || { tail -n 30 "$log" >&2; ng_fail "firewalld did not start"; }
}

ng_fw_running() { [[ $(ip netns exec "$1" firewall-cmd --state 2>/dev/null) == running ]]; }

# ng_fw_stop: SIGTERM to firewalld (its CleanupOnExit flushes what it made), waits for the exit.
ng_fw_stop() {
  [[ -n ${NG_FW_PID:-} ]] || return 0
  kill -TERM "$NG_FW_PID" 2>/dev/null || true
  local i
  for i in $(seq 1 200); do kill -0 "$NG_FW_PID" 2>/dev/null || break; sleep 0.05; done
  wait "$NG_FW_PID" 2>/dev/null || true
  NG_FW_PID=
}

# ng_fw_cmd NS ARGS...: firewall-cmd against the test's firewalld.
ng_fw_cmd() {
  local ns=$1
  shift
  ip netns exec "$ns" firewall-cmd "$@"
}
