# Sourced by privileged test scripts. Every namespace, process and temp dir a test makes is
# registered here and removed on exit (success, failure or Ctrl-C). Names carry the test's pid
# and a random part so runs can overlap. Nothing ever runs in the host's own namespace: helpers
# take a namespace name and use `ip netns exec`.
#
#   source "$NG_SOURCE_DIR/tests/support/netns.sh"
#   ng_require_root
#   node=$(ng_netns_add node)            # -> ng12345-ab12-node
#   ng_in "$node" iptables-save
#   ng_bg "$node" socat ...              # background process, killed at exit
#   ng_wait_until 10 ng_in "$node" test -S /x   # bounded wait
#
# A long-lived user (tools/lab) may set, before sourcing: NG_RUN_ID (a fixed prefix, so a later
# process can find and remove the namespaces: ng_netns_remove_all), NG_TMP (a fixed directory),
# NG_KEEP=1 (leave everything in place when the script exits 0; failures still clean up).

NG_RUN_ID=${NG_RUN_ID:-"ng$$-$(printf '%04x' $((RANDOM % 65536)))"}
NG_NAMESPACES=()
NG_PIDS=()
NG_CLEANUP_CMDS=()
if [[ -n ${NG_TMP:-} ]]; then
  mkdir -p "$NG_TMP"
else
  NG_TMP=$(mktemp -d "/tmp/${NG_RUN_ID}-XXXXXX")
fi
NG_KEEP=${NG_KEEP:-0}

ng_log() { echo "[$(date +%H:%M:%S.%3N)] $*" >&2; }
ng_fail() {
  echo "FAIL: $*" >&2
  exit 1
}

ng_require_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "SKIP: needs root (creates network namespaces)" >&2
    exit 77
  fi
  command -v ip >/dev/null || ng_fail "iproute2 missing: run tools/install-deps.sh"
}

# ng_netns_add SHORTNAME -> prints the full unique namespace name; lo is up.
ng_netns_add() {
  local name="${NG_RUN_ID}-$1"
  ip netns add "$name" || ng_fail "ip netns add $name"
  NG_NAMESPACES+=("$name")
  ip -n "$name" link set lo up
  echo "$name"
}

# ng_not_host_ns KIND PATH: PATH (a namespace file) is not the namespace of kind KIND (net, mnt)
# this script runs in, nor init's where that is readable. A namespace file can be a bind of any
# namespace, the machine's own included: compare the inodes.
ng_not_host_ns() {
  local id p
  id=$(stat -L -c %d:%i "$2") || return 1
  for p in "/proc/$$/ns/$1" "/proc/1/ns/$1"; do
    [[ -r $p && $(stat -L -c %d:%i "$p" 2>/dev/null) == "$id" ]] && return 1
  done
  return 0
}

# ng_own_netns NS: succeeds if NS is a namespace of this run and not the machine's own.
ng_own_netns() {
  [[ $1 == "$NG_RUN_ID"-* && -e /run/netns/$1 ]] && ng_not_host_ns net "/run/netns/$1"
}

# ng_in NS CMD... runs CMD inside the namespace; refuses any namespace this run did not create.
ng_in() {
  local ns=$1
  shift
  ng_own_netns "$ns" || ng_fail "refusing to run '$*' in namespace '$ns': not one of this run's"
  ip netns exec "$ns" "$@"
}

# ng_bg NS CMD... starts CMD in the namespace in the background; its pid is killed at exit.
# The pid is printed.
ng_bg() {
  local ns=$1
  shift
  ng_own_netns "$ns" || ng_fail "refusing to run '$*' in namespace '$ns': not one of this run's"
  ip netns exec "$ns" "$@" &
  local pid=$!
  NG_PIDS+=("$pid")
  echo "$pid"
}

# ng_bg_to LOG NS CMD...: like ng_bg, with CMD's stdout and stderr appended to LOG; the pid is
# left in NG_LAST_PID (call it in the main shell, not in $(...)).
ng_bg_to() {
  local log=$1 ns=$2
  shift 2
  ng_own_netns "$ns" || ng_fail "refusing to run '$*' in namespace '$ns': not one of this run's"
  ip netns exec "$ns" "$@" >>"$log" 2>&1 &
  NG_LAST_PID=$!
  NG_PIDS+=("$NG_LAST_PID")
}

# ng_track_pid PID: kill this process at exit too.
ng_track_pid() { NG_PIDS+=("$1"); }

# ng_on_exit "CMD": run CMD (eval) during cleanup, before namespaces are deleted.
ng_on_exit() { NG_CLEANUP_CMDS+=("$1"); }

# ng_wait_until SECONDS CMD...: polls CMD every 50 ms until it succeeds; fails the test after
# SECONDS.
ng_wait_until() {
  local limit=$1
  shift
  local deadline=$((SECONDS + limit))
  while ! "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# ng_veth NS_A IF_A NS_B IF_B: a veth pair between two namespaces (interface names <= 15 chars),
# made from inside NS_A so no device ever exists in the machine's own namespace.
ng_veth() {
  ng_in "$1" ip link add "$2" type veth peer name "$4" netns "$3" || ng_fail "veth $2/$4"
  ng_in "$1" ip link set "$2" up
  ng_in "$3" ip link set "$4" up
}

# ng_netns_del NS: deletes one of this run's namespaces early (its processes are killed).
ng_netns_del() {
  ng_own_netns "$1" || ng_fail "refusing to delete namespace '$1': not one of this run's"
  ip netns pids "$1" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
  ip netns del "$1"
}

# ng_netns_remove_all PREFIX: kills every process inside the namespaces named PREFIX-* (forked
# daemons included) and deletes those namespaces.
ng_netns_remove_all() {
  local prefix=$1 ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${prefix}-" || true); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}

ng_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ $NG_KEEP == 1 && $rc == 0 ]]; then exit 0; fi
  local cmd pid ns
  for cmd in "${NG_CLEANUP_CMDS[@]}"; do eval "$cmd" >/dev/null 2>&1 || true; done
  for pid in "${NG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${NG_PIDS[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # ng_netns_add usually runs in $(...), a subshell whose NG_NAMESPACES append is lost: find
  # this run's namespaces by their unique prefix.
  ng_netns_remove_all "$NG_RUN_ID"
  rm -rf "$NG_TMP"
  exit "$rc"
}
trap ng_cleanup EXIT
trap 'exit 130' INT TERM

# ng_grep ARGS...: `cmd | ng_grep PATTERN` is `grep -q` that reads all its input. Under
# `set -o pipefail`, grep -q exits at the first match, the writer dies of SIGPIPE and the
# pipeline fails at random: never pipe into grep -q in these scripts.
ng_grep() { grep "$@" >/dev/null; }
