#!/usr/bin/env bash
# The state dir full or read-only: the agent keeps guarding (and tailing logs) from memory and
# reports it. The agent runs in a private mount namespace (unshare --mount) where its state dir
# is a tiny tmpfs filled to the last byte, or a read-only bind mount; the host's mounts are
# never touched.
#   1. full (ENOSPC): starts, guards, repairs flushes from memory, logs problems from kubelet's
#      log (a node condition: container lines never set one); environment error kind resource_limit counted; netfilter and logs degraded with
#      the reason; space freed -> snapshots written again, netfilter running again.
#   2. read-only (EROFS) over snapshots written earlier: loads them, repairs a flush from them,
#      a legitimate change cannot be persisted: kind permission counted; still guarding.
set -euo pipefail
: "${NG_BUILD_DIR:?}" "${NG_SOURCE_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
source "$NG_SOURCE_DIR/tests/integration/reliability/lib.sh"
BACKEND=${1:-nft}
rel_require unshare nsenter
rel_node "$BACKEND" 5
mkdir -p "$STATE" "$NG_TMP/containers"
cat >"$NG_TMP/rules.json" <<'JSON'
{"source": "rel", "conditions": [{"type": "DiskOnFire", "reason": "DiskIsFine", "message": "ok"}],
 "rules": [{"type": "permanent", "condition": "DiskOnFire", "reason": "DiskBurning", "pattern": "disk on fire"}]}
JSON
rel_config "{backend: $BACKEND, families: [ipv4]}" "logs:
  container_dirs: [$NG_TMP/containers]
  kubelet: $NG_TMP/kubelet.log
  rules: [$NG_TMP/rules.json]
  checkpoint_interval: 200ms"
component() { # NAME -> "state|message" from ngctl status
  "$NGCTL" --socket "$SOCK" status -o json |
    jq -r --arg n "$1" '.components[] | select(.name == $n) | "\(.state)|\(.message)"'
}
# Predicates for ng_wait_until (it runs a command, so shell functions, not `bash -c` strings
# that cannot see them).
component_is() { [[ $(component "$1") == $2 ]]; }
metric_at_least() { (($(rel_metric "$1") >= $2)); }
env_errors() { rel_metric "nodeguard_environment_errors_total{component=\"$1\",kind=\"$2\"}"; }
problem() { # LINE: kubelet logs LINE (klog format)
  echo "E$(date -u +%m%d\ %H:%M:%S.%6N) 1234 kubelet.go:1400] $1" >>"$NG_TMP/kubelet.log"
}
: >"$NG_TMP/kubelet.log"

# 1. Full: a 1 MiB tmpfs, filled (room for every snapshot, with its netlink encodings, once
#    freed: 64 KiB was not, once nft snapshots carried them).
rel_start unshare --mount --propagation private bash -c '
  mount -t tmpfs -o size=1m,mode=0700 nodeguard-state "$1" || exit 1
  dd if=/dev/zero of="$1/filler" bs=4k 2>/dev/null || true
  shift; exec "$@"' _ "$STATE"
ng_wait_until 10 grep -q '"msg":"netfilter snapshot not persisted; guarding from memory"' "$LOG" ||
  rel_fail "full state dir not reported by the guard"
ng_wait_until 10 component_is netfilter 'degraded*' ||
  rel_fail "netfilter not degraded: $(component netfilter)"
[[ $(component netfilter) == *"guarding from memory"* ]] || rel_fail "netfilter status: $(component netfilter)"
((${ENV_FULL:=$(env_errors netfilter resource_limit)} >= 1)) || rel_fail "resource_limit not counted"
rel_flush
ng_wait_until 10 rel_restored || { rel_explain; rel_fail "flush not repaired with a full state dir"; }
ng_wait_until 10 rel_answers || rel_fail "hostPort does not answer (full state dir)"
sleep 1  # the file is followed before it is written to
problem "the disk on fire, again"
ng_wait_until 10 metric_at_least 'nodeguard_log_problems_total{reason="DiskBurning",source="kubelet"}' 1 ||
  rel_fail "log problem not counted with a full state dir"
[[ $(rel_condition DiskOnFire) == 1 ]] || rel_fail "DiskOnFire not raised with a full state dir"
ng_wait_until 10 component_is logs 'degraded*' || rel_fail "logs not degraded: $(component logs)"
logs_full=$(env_errors logs resource_limit)
ng_log "full: netfilter $(component netfilter | cut -d'|' -f1), logs $(component logs | cut -d'|' -f1);" \
  "resource_limit counted: netfilter $ENV_FULL, logs $logs_full"
# Space freed: the next change is persisted, and the guard is running again.
nsenter -t "$AGENT_PID" -m rm -f "$STATE/filler"
rel_flush
ng_wait_until 10 rel_restored || rel_fail "flush not repaired after space was freed"
ng_wait_until 10 grep -q '"msg":"netfilter snapshot persisted again"' "$LOG" || rel_fail "snapshots not written after space was freed"
ng_wait_until 10 component_is netfilter 'running*' || rel_fail "netfilter still $(component netfilter)"
rel_intact || { rel_explain; rel_fail "tables not intact (full)"; }
kill -0 "$AGENT_PID" || rel_fail "agent died"
rel_stop

# 2. Read-only over snapshots written by a normal run.
rel_start
rel_stop
[[ -s $STATE/netfilter/$BACKEND-ipv4-nat.rules ]] || rel_fail "no snapshot written by the normal run"
rel_flush  # while the agent is down: the next start repairs it from the read-only snapshot
rel_start unshare --mount --propagation private bash -c '
  mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" || exit 1
  shift; exec "$@"' _ "$STATE"
grep -q '"msg":"netfilter snapshot loaded"' "$LOG" || rel_fail "read-only snapshot not loaded"
ng_wait_until 10 rel_restored || { rel_explain; rel_fail "flush while down not repaired from the read-only snapshot"; }
# A legitimate change (a new kube-proxy chain) cannot be persisted: reported, still guarding.
rel_restore --noflush <<<$'*nat\n:KUBE-SVC-RONLY - [0:0]\n-A KUBE-SERVICES -d 10.96.200.1/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-RONLY\nCOMMIT'
rel_snapshot_tables
ng_wait_until 10 metric_at_least 'nodeguard_environment_errors_total{component="netfilter",kind="permission"}' 1 ||
  rel_fail "read-only state dir not counted (kind permission)"
ng_wait_until 10 component_is netfilter 'degraded*guarding from memory*' ||
  rel_fail "netfilter status: $(component netfilter)"
rel_flush
ng_wait_until 10 rel_restored || { rel_explain; rel_fail "flush not repaired with a read-only state dir"; }
ng_wait_until 10 rel_answers || rel_fail "hostPort does not answer (read-only state dir)"
rel_intact || { rel_explain; rel_fail "tables not intact (read-only)"; }
ro=$(env_errors netfilter permission)
rel_stop
echo "PASS: state dir full: guarded from memory (flush repaired), log problem counted and raised," \
  "resource_limit counted (netfilter $ENV_FULL, logs $logs_full), recovered after space was freed;" \
  "read-only: snapshot loaded, flushes repaired, permission counted $ro"
