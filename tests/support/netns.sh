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

NG_RUN_ID="ng$$-$(printf '%04x' $((RANDOM % 65536)))"
NG_NAMESPACES=()
NG_PIDS=()
NG_CLEANUP_CMDS=()
NG_TMP=$(mktemp -d "/tmp/${NG_RUN_ID}-XXXXXX")

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

# ng_in NS CMD... runs CMD inside the namespace.
ng_in() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@"
}

# ng_bg NS CMD... starts CMD in the namespace in the background; its pid is killed at exit.
# The pid is printed.
ng_bg() {
  local ns=$1
  shift
  ip netns exec "$ns" "$@" &
  local pid=$!
  NG_PIDS+=("$pid")
  echo "$pid"
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

# ng_veth NS_A IF_A NS_B IF_B: a veth pair between two namespaces (interface names <= 15 chars).
ng_veth() {
  ip link add "$2" netns "$1" type veth peer name "$4" netns "$3" || ng_fail "veth $2/$4"
  ip -n "$1" link set "$2" up
  ip -n "$3" link set "$4" up
}

ng_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local cmd pid ns
  for cmd in "${NG_CLEANUP_CMDS[@]}"; do eval "$cmd" >/dev/null 2>&1 || true; done
  for pid in "${NG_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${NG_PIDS[@]}"; do
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  # ng_netns_add usually runs in $(...), a subshell whose NG_NAMESPACES append is lost: find
  # this run's namespaces by their unique prefix too.
  local found
  found=$(ip netns list 2>/dev/null | awk '{print $1}' | grep "^${NG_RUN_ID}-" || true)
  for ns in $(printf '%s\n' "${NG_NAMESPACES[@]}" $found | sort -u); do
    # Processes still inside (forked daemons) die with their namespace's last reference.
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$NG_TMP"
  exit "$rc"
}
trap ng_cleanup EXIT
trap 'exit 130' INT TERM

# ng_grep ARGS...: `cmd | ng_grep PATTERN` is `grep -q` that reads all its input. Under
# `set -o pipefail`, grep -q exits at the first match, the writer dies of SIGPIPE and the
# pipeline fails at random: never pipe into grep -q in these scripts.
ng_grep() { grep "$@" >/dev/null; }
