#!/usr/bin/env bash
# The lab (tools/lab, issue 11) run the way a newcomer runs it, non-interactively, on the build
# ctest just made (--no-build). As root; the lab makes and removes its own namespaces, under a
# name of this test's own so a developer's kept lab is left alone.
#   0. Nothing networking in the lab's scripts runs outside ng_in/ng_bg/ng_bg_to (netns_lint.py
#      reads every command position: the guard by construction).
#   1. Leftovers of an interrupted run (a namespace with a process in it, a loopback forwarder,
#      state files) are removed before the lab sets up: the second run works.
#   2. With --keep and --summary: every incident is detected, and repaired where that applies
#      (the JSON summary); the story names each incident and prints measured values.
#   3. The kept lab answers: ngctl on node-a's socket, /metrics on the host's loopback.
#   4. --down removes every namespace, process and file the lab made.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
[[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root (creates network namespaces)" >&2; exit 77; }
for b in firewalld firewall-cmd dbus-daemon bird birdc socat curl jq openssl nsenter python3; do
  command -v "$b" >/dev/null || { echo "SKIP: $b missing (tools/install-deps.sh)" >&2; exit 77; }
done
[[ -x /usr/lib/cni/portmap ]] || { echo "SKIP: CNI plugins missing" >&2; exit 77; }
LAB=$NG_SOURCE_DIR/tools/lab
name=nglt$$
port_base=$((20000 + (RANDOM % 4000) * 10))
state=/tmp/$name
work=$(mktemp -d /tmp/nglab-test-XXXXXX)
fail() {
  echo "FAIL: $*" >&2
  [[ -f $work/out ]] && { echo "--- lab output (tail):" >&2; tail -n 60 "$work/out" >&2; }
  exit 1
}
cleanup() {
  local rc=$?
  "$LAB" --down --name "$name" >/dev/null 2>&1 || true
  [[ -n ${fake_fwd:-} ]] && kill "$fake_fwd" 2>/dev/null
  rm -rf "$work" "/tmp/$name-logs"
  exit "$rc"
}
trap cleanup EXIT
left_behind() {
  ip netns list | awk '{print $1}' | grep "^$name-" || true
  [[ ! -e $state ]] || echo "$state"
}

# 0. Every command that touches networking goes through the guarded helpers.
lint=$(python3 "$NG_SOURCE_DIR/tests/integration/lab/netns_lint.py" "$LAB" \
  "$NG_SOURCE_DIR"/tools/lab.d/*.sh "$NG_SOURCE_DIR/tests/support/topology.sh") ||
  fail "commands outside ng_in in the lab's scripts:
$lint"

# 1. An interrupted earlier run of the same lab.
ip netns add "$name-a"
ip netns exec "$name-a" sleep 600 &
mkdir -p "$state/node-a"
echo stale >"$state/node-a/agent.log"
socat "TCP-LISTEN:$((port_base + 1)),bind=127.0.0.1,reuseaddr,fork" \
  "EXEC:ip netns exec $name-a socat STDIO TCP\:127.0.0.1\:9746" >/dev/null 2>&1 &
fake_fwd=$!
echo "$fake_fwd $name-a" >"$state/forwarders"

# 2. The lab, kept at the end.
start=$SECONDS
set +e
"$LAB" --no-build --plain --keep --name "$name" --port-base "$port_base" \
  --summary "$work/summary.json" >"$work/out" 2>&1
rc=$?
set -e
echo "lab ran in $((SECONDS - start)) s (exit $rc)"
sed -n '/= Summary =/,$p' "$work/out"
[[ $rc -eq 0 ]] || fail "tools/lab exited $rc"
kill -0 "$fake_fwd" 2>/dev/null && fail "the stale forwarder survived"
fake_fwd=
S=$work/summary.json
jq -e 'length == 5 and ([.[].id] == [1, 2, 3, 4, 5])' "$S" >/dev/null || fail "want 5 incidents: $(cat "$S")"
jq -e 'all(.[]; .detected == true)' "$S" >/dev/null || fail "an incident was not detected: $(cat "$S")"
jq -e 'all(.[]; .repaired != false)' "$S" >/dev/null || fail "an incident was not repaired: $(cat "$S")"
jq -e '.[0].repaired == true and .[1].repaired == true' "$S" >/dev/null ||
  fail "the hostPort flush and the cross-subnet route must be repaired: $(cat "$S")"
jq -e '.[0].measured | test("hostPort down [0-9]+ ms")' "$S" >/dev/null || fail "no outage measured"
jq -e '.[4].measured | test("^3/3 agents")' "$S" >/dev/null || fail "fleet: $(jq -r '.[4].measured' "$S")"
for want in "1/5  firewalld reload" "2/5  A new node in another subnet" "3/5  A BGP peer stops" \
  "4/5  A CNI sandbox failure" "5/5  The fleet" "PodRouteViaGateway" "BGPPeerDown" \
  "PodIPAllocationFailing" "The lab keeps running"; do
  grep -qF -- "$want" "$work/out" || fail "the story lacks '$want'"
done
grep -q $'\e\[' "$work/out" && fail "--plain output has colour codes"

# 3. The kept lab answers from the host.
"$NG_BUILD_DIR/tools/ngctl/ngctl" --socket "$state/node-a/nodeguard.sock" status >/dev/null ||
  fail "ngctl on the kept node-a"
# (grep without -q: under pipefail an early exit of grep -q makes curl fail on SIGPIPE)
curl -sf "http://127.0.0.1:$((port_base + 1))/metrics" | grep '^nodeguard_netfilter_repairs_total' >/dev/null ||
  fail "node-a's metrics on the host's loopback"
[[ $(ip netns list | awk '{print $1}' | grep -c "^$name-") -ge 4 ]] || fail "kept lab has no namespaces"

# 4. --down removes it all.
"$LAB" --down --name "$name" >/dev/null || fail "--down failed"
[[ -z $(left_behind) ]] || fail "left behind: $(left_behind)"
curl -sf -m 2 "http://127.0.0.1:$((port_base + 1))/metrics" >/dev/null && fail "forwarder still serving"
echo "PASS: lab ($(jq -r 'map("\(.id): \(.measured)") | join("; ")' "$S"))"
