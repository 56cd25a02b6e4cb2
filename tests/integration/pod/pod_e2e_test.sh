#!/usr/bin/env bash
# The shipped pod, run for real (issue 21): the image built from the build tree's .deb, the
# DaemonSet's pod template of an overlay (default calico-bgp, NG_POD_OVERLAY to change) under
# `podman kube play` with everything the manifest says (capabilities, read-only root, user,
# mounts and their propagation, env, args, limits), host networking being a node namespace of
# this test, and real parts on the node: pods made by the real bridge + portmap plugins with
# their libcni cache entries and runtime-shaped netns paths, firewalld on a bus whose socket is
# the mounted one, BIRD on the mounted calico socket, container log files and a journal file.
# What it shows:
#   - the kubelet's liveness and readiness probes (from the manifest: port, path, timeout) pass;
#   - nat flushed before the agent starts, state dir empty: the hostPort rules are rebuilt from
#     the CNI cache (needs the runtime's netns directory mounted, HostToContainer);
#   - a pod made after the agent started (its netns mounted later) is verified too, and a flush
#     with the agent running brings both hostPorts back;
#   - ngctl on the host reaches the agent over the mounted unix socket;
#   - firewalld's reload (signal through the mounted bus socket) is repaired; BIRD's session
#     state is read through the mounted calico directory; a container log line and a journal
#     entry become conditions;
#   - RSS stays under the pod's memory limit while 1,000 log files are followed;
#   - the pod deleted as a kubelet deletes it (SIGTERM, terminationGracePeriodSeconds): exit 0
#     within the grace period;
#   - a pod without the netns mount reports NodePathMissing naming it; a pod with SELinux type
#     spc_t (docs/operations.md) is accepted by the runtime.
# About 2 minutes after the image (the runtime base image is cached across runs).
set -euo pipefail
: "${NG_SOURCE_DIR:?}" "${NG_BUILD_DIR:?}"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
source "$NG_SOURCE_DIR/tests/integration/netfilter/lib.sh"
source "$NG_SOURCE_DIR/tests/integration/cni/lib.sh"
source "$NG_SOURCE_DIR/tests/integration/pod/lib.sh"
pod_require
NGCTL=$NG_BUILD_DIR/tools/ngctl/ngctl
OVERLAY=${NG_POD_OVERLAY:-overlays/calico-bgp}
NODE_IP=192.168.77.1
CLIENT_IP=192.168.77.2
BACKEND=nft
t_start=$SECONDS
step() { ng_log "== $* ($((SECONDS - t_start)) s)"; }
fail() { pod_dump; ng_fail "$*"; }
ngctl() { "$NGCTL" --socket "$POD_ROOT/run/nodeguard/nodeguard.sock" --timeout 5s "$@"; }

step "image from the build tree's .deb"
pod_image
step "render $OVERLAY"
pod_render "$OVERLAY"
ng_log "probes: liveness :$POD_LIVENESS_PORT$POD_LIVENESS_PATH, readiness :$POD_READINESS_PORT$POD_READINESS_PATH; grace ${POD_GRACE}s; memory limit $POD_MEMORY_LIMIT"

step "node namespace, client, node root"
NODE=$(ng_netns_add node)
CLIENT=$(ng_netns_add client)
ng_veth "$NODE" eth0 "$CLIENT" eth0
ng_in "$NODE" ip addr add "$NODE_IP/24" dev eth0
ng_in "$CLIENT" ip addr add "$CLIENT_IP/24" dev eth0
ng_in "$NODE" sysctl -qw net.ipv4.ip_forward=1
pod_node_root
CACHE=$POD_ROOT/var/lib/cni

# make_pod SHORT HOSTPORT ID: a pod as containerd makes it: its netns bound at
# /var/run/netns/cni-<uuid> on the node, bridge + portmap from a conflist, libcni's cache entry
# whose sandbox is that node path, and a server answering "SHORT".
CONFLIST=$NG_TMP/10-k8s.conflist
ng_cni_conflist "$CONFLIST" k8s-pod-network 1.0.0 cni0 10.244.1.0/24 '{}'
make_pod() {
  local short=$1 hostport=$2 cid=$3 ns uuid nodepath file
  ns=$(ng_netns_add "$short")
  uuid=$(cat /proc/sys/kernel/random/uuid)
  nodepath=$(pod_netns_bind "$ns" "cni-$uuid")
  # libcni records the path it was given; the plugins here need the machine's path, so the
  # entry is made aside and moved into results/ (one rename) with the node's path.
  ng_cni_add "$NODE" "$ns" "$BACKEND" "$CONFLIST" "$cid" \
    "[{\"hostPort\":$hostport,\"containerPort\":80,\"protocol\":\"tcp\"}]" "$NG_TMP/cni-$short"
  file=k8s-pod-network-$cid-eth0
  jq -c --arg p "$nodepath" '.result.interfaces |= map(if .sandbox then .sandbox = $p else . end)' \
    "$NG_TMP/cni-$short/results/$file" >"$CACHE/.$file"
  chmod 600 "$CACHE/.$file"
  mv "$CACHE/.$file" "$CACHE/results/$file"
  ng_bg "$ns" socat TCP-LISTEN:80,reuseaddr,fork SYSTEM:"echo $short" >/dev/null
}
metric() { # NAME{labels} -> value (empty when absent)
  ng_in "$NODE" curl -s --max-time 5 "http://$NODE_IP:$POD_METRICS_PORT/metrics" |
    awk -v m="$1" '$1 == m { print $2 }'
}
metric_is() { [[ $(metric "$1") == "$2" ]]; }
condition_is() { metric_is "nodeguard_condition{status=\"true\",type=\"$1\"}" "$2"; }
metric_at_least() { local v; v=$(metric "$1"); [[ -n $v ]] && ((${v%.*} >= $2)); }
answers() { [[ $(ng_nf_connect "$CLIENT" "$NODE_IP" "$1") == "$2" ]]; }
# What a firewalld reload does to the nat table: everything gone, in one transaction.
flush_nat() { printf '*nat\nCOMMIT\n' | ng_in "$NODE" "iptables-$BACKEND-restore" -w; }

step "pod-a with hostPort 8080"
make_pod pod-a 8080 "$(printf 'a%.0s' {1..64})"
ng_wait_until 10 answers 8080 pod-a || ng_fail "hostPort 8080 does not answer before any flush"
flush_nat
answers 8080 pod-a && ng_fail "hostPort 8080 still answers after the nat flush"

step "the pod: kube play in the node namespace (state dir empty, nat flushed)"
pod_yaml "$NODE"
sed 's/^/  /' "$NG_TMP/pod-changes.txt" >&2
pod_play "$NODE"
pod_wait_running 60

step "hostPort 8080 rebuilt from the CNI cache"
if ! ng_wait_until 30 answers 8080 pod-a; then
  grep -E 'CNI cache entry' "$POD_LOG" | tail -n 3 >&2 || true
  fail "hostPort 8080 was not rebuilt from the CNI cache (flush before start, empty state dir)"
fi
grep -q 'CNI cache entry unverified' "$POD_LOG" && fail "a live pod's cache entry was unverified"

step "kubelet probes (liveness, readiness) against the node address"
ng_wait_until 30 pod_probe LIVENESS "$NODE" "$NODE_IP" || fail "liveness probe fails"
ng_wait_until 60 pod_probe READINESS "$NODE" "$NODE_IP" || fail "readiness probe fails"

step "ngctl on the host over the mounted socket"
ngctl status >"$NG_TMP/status.txt" 2>&1 || { cat "$NG_TMP/status.txt"; fail "ngctl status over $POD_ROOT/run/nodeguard"; }
[[ -S $POD_ROOT/run/nodeguard/nodeguard.sock ]] || fail "no socket in the node's /run/nodeguard"
grep -q "$NODE" "$NG_TMP/status.txt" || { cat "$NG_TMP/status.txt"; fail "ngctl status does not name the node $NODE (NODE_NAME, --node-name)"; }

ng_wait_until 20 condition_is NodePathMissing 0 ||
  fail "NodePathMissing with the shipped mounts: $(grep 'node path missing' "$POD_LOG" | head -n 3)"

step "pod-b made after the agent started (its netns mount propagates), flush with the agent running"
make_pod pod-b 8081 "$(printf 'b%.0s' {1..64})"
ng_wait_until 10 answers 8081 pod-b || fail "hostPort 8081 does not answer"
# Let the agent see pod-b's rules and cache entry before they go.
sleep 2
flush_nat
ng_wait_until 30 answers 8080 pod-a || fail "hostPort 8080 not back after a flush with the agent running"
ng_wait_until 30 answers 8081 pod-b || fail "hostPort 8081 (pod made after start) not back after the flush"
grep -q 'CNI cache entry unverified' "$POD_LOG" && fail "a live pod's cache entry was unverified"

if [[ ${NG_POD_SKIP_FIREWALLD:-0} != 1 && $POD_FIREWALLD_ENABLED == 1 ]] && command -v firewalld >/dev/null; then
  step "firewalld on the node's bus (the mounted /run/dbus): start and reload repaired"
  BUS=$POD_ROOT/run/dbus/system_bus_socket
  # The real system bus configuration and policy (firewalld's own included), on the node's path.
  DBUS_PID=$(dbus-daemon --config-file=/usr/share/dbus-1/system.conf --address="unix:path=$BUS" \
    --fork --print-pid --nopidfile) || fail "dbus-daemon"
  ng_track_pid "$DBUS_PID"
  ng_wait_until 10 test -S "$BUS" || fail "no bus socket at $BUS"
  # firewalld in the node namespace with a private /run and /etc/firewalld (its runtime files
  # are its own); the bus and the node's xtables lock are the node root's.
  mkdir -p "$NG_TMP/fwetc"
  cp -a /etc/firewalld/. "$NG_TMP/fwetc/"
  nsenter --net="/run/netns/$NODE" unshare --mount --propagation private bash -c '
    mount --bind "$1" /etc/firewalld && mount -t tmpfs -o mode=0755 ng-fw-run /run &&
    touch /run/xtables.lock && mount --bind "$2" /run/xtables.lock &&
    DBUS_SYSTEM_BUS_ADDRESS=unix:path=$3 exec firewalld --nofork --nopid --log-target console' \
    fw "$NG_TMP/fwetc" "$POD_ROOT/run/xtables.lock" "$BUS" >"$NG_TMP/firewalld.log" 2>&1 &
  ng_track_pid $!
  fw() { ng_in "$NODE" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BUS" firewall-cmd "$@"; }
  fw_running() { [[ $(fw --state 2>/dev/null) == running ]]; }
  ng_wait_until 90 fw_running ||
    { tail -n 20 "$NG_TMP/firewalld.log" >&2; fail "firewalld did not start"; }
  ng_wait_until 60 metric_is nodeguard_firewalld_bus_connected 1 ||
    fail "the agent never connected to the bus through the mounted /run/dbus"
  ng_wait_until 30 answers 8080 pod-a || fail "hostPort 8080 not back after firewalld started"
  # firewall-cmd --reload, with a reply timeout for a busy 2-core machine (firewall-cmd's is 25 s).
  ng_in "$NODE" env DBUS_SYSTEM_BUS_ADDRESS="unix:path=$BUS" dbus-send --system --print-reply \
    --reply-timeout=120000 --dest=org.fedoraproject.FirewallD1 /org/fedoraproject/FirewallD1 \
    org.fedoraproject.FirewallD1.reload >/dev/null || fail "firewalld reload"
  ng_wait_until 30 grep -q '"msg":"firewalld event; netfilter check requested","trigger":"Reloaded"' "$POD_LOG" ||
    fail "firewalld's Reloaded signal never reached the agent"
  ng_wait_until 30 answers 8080 pod-a || fail "hostPort 8080 not back after firewalld's reload"
  ng_wait_until 30 answers 8081 pod-b || fail "hostPort 8081 not back after firewalld's reload"
fi

if [[ ${NG_POD_SKIP_BIRD:-0} != 1 && $POD_BGP_ENABLED == 1 ]] && command -v bird >/dev/null; then
  step "BIRD on the node's calico socket, peer on the client: session state"
  bird_conf() { # LOCAL PEER
    printf 'router id %s;
protocol device {}
protocol bgp Mesh_peer {
  local %s as 64512;
  neighbor %s as 64512;
  ipv4 { import none; export none; };
}
' "$1" "$1" "$2"
  }
  bird_conf "$NODE_IP" "$CLIENT_IP" >"$NG_TMP/bird-node.conf"
  bird_conf "$CLIENT_IP" "$NODE_IP" >"$NG_TMP/bird-peer.conf"
  ng_in "$NODE" bird -c "$NG_TMP/bird-node.conf" -s "$POD_ROOT/var/run/calico/bird.ctl" -P "$NG_TMP/bird-node.pid" ||
    fail "bird on the node"
  ng_in "$CLIENT" bird -c "$NG_TMP/bird-peer.conf" -s "$NG_TMP/bird-peer.ctl" -P "$NG_TMP/bird-peer.pid" ||
    fail "bird on the peer"
  ng_on_exit "kill \$(cat $NG_TMP/bird-node.pid) \$(cat $NG_TMP/bird-peer.pid)"
  ng_wait_until 90 metric_is 'nodeguard_bgp_sessions{state="Established"}' 1 ||
    { ngctl peers >&2 || true; fail "the agent never read an Established session through /var/run/calico"; }
  ngctl peers >"$NG_TMP/peers.txt" 2>&1 || fail "ngctl peers"
  grep -q Established "$NG_TMP/peers.txt" || { cat "$NG_TMP/peers.txt" >&2; fail "ngctl peers shows no Established session"; }
fi

step "a container log line and a journal entry on the node"
LOGS=$POD_ROOT/var/log
# container_log N: a CRI log file under /var/log/pods and its /var/log/containers symlink (the
# link holds the node's path, as the kubelet writes it).
container_log() {
  local n=$1 id dir
  id=$(printf 'c%s' "$n" | sha256sum | cut -c1-64)
  dir=default_app-${n}_uid-$n/app
  mkdir -p "$LOGS/pods/$dir"
  : >"$LOGS/pods/$dir/0.log"
  ln -s "/var/log/pods/$dir/0.log" "$LOGS/containers/app-${n}_default_app-$id.log"
  echo "$LOGS/pods/$dir/0.log"
}
f=$(container_log 0)
sleep 1
printf '%s stderr F write /data/x: no space left on device\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)" >>"$f"
ng_wait_until 30 grep -q '"msg":"log problem".*"reason":"ContainerNoSpaceLeftOnDevice"' "$POD_LOG" ||
  fail "a container log line never became a log problem"
REMOTE=/lib/systemd/systemd-journal-remote
if [[ -x $REMOTE ]]; then
  MID=$(cat "$POD_ROOT/etc/machine-id")
  mkdir -p "$LOGS/journal/$MID"
  USEC=$(date +%s%6N)
  printf '__REALTIME_TIMESTAMP=%s\n__MONOTONIC_TIMESTAMP=%s\n_BOOT_ID=%s\n_MACHINE_ID=%s\n_SYSTEMD_UNIT=kubelet.service\nMESSAGE=%s\n\n' \
    "$USEC" "$USEC" "$(tr -d - </proc/sys/kernel/random/boot_id)" "$MID" \
    'E0501 kubelet.go:2331] "Skipping pod synchronization" err="PLEG is not healthy: pleg was last seen active 3m0.1s ago; threshold is 3m0s"' |
    "$REMOTE" -o "$LOGS/journal/$MID/system.journal" - 2>/dev/null || fail "systemd-journal-remote"
  ng_wait_until 30 grep -q '"msg":"log condition set","condition":"PLEGNotHealthy"' "$POD_LOG" ||
    fail "a kubelet journal entry in the node's /var/log/journal never became a condition"
fi

step "RSS with 1,000 followed log files, against the pod's memory limit"
# The same layout as container_log, in one process (a thousand forks take minutes on 2 busy cores).
/usr/bin/python3 - "$LOGS" <<'PY'
import hashlib, os, sys, time
logs = sys.argv[1]
ts = time.strftime("%Y-%m-%dT%H:%M:%S.000000000Z", time.gmtime())
for n in range(1, 1001):
    d = f"default_app-{n}_uid-{n}/app"
    os.makedirs(f"{logs}/pods/{d}", exist_ok=True)
    with open(f"{logs}/pods/{d}/0.log", "w") as f:
        f.write(f"{ts} stdout F hello {n}\n")
    cid = hashlib.sha256(f"c{n}".encode()).hexdigest()
    os.symlink(f"/var/log/pods/{d}/0.log", f"{logs}/containers/app-{n}_default_app-{cid}.log")
PY
ng_wait_until 60 metric_at_least nodeguard_log_files_tailed 1000 ||
  fail "the agent does not follow 1,000 files: $(metric nodeguard_log_files_tailed)"
rss_kib=$(awk '/^VmRSS/ { print $2 }' "/proc/$POD_PID/status")
limit=$POD_MEMORY_LIMIT
case $limit in *Mi) limit_kib=$((${limit%Mi} * 1024)) ;; *Gi) limit_kib=$((${limit%Gi} * 1048576)) ;; *) limit_kib=0 ;; esac
ng_log "RSS ${rss_kib} KiB with $(metric nodeguard_log_files_tailed) files followed; limit $limit"
((limit_kib == 0 || rss_kib < limit_kib)) || fail "RSS $rss_kib KiB is over the pod's limit $limit"
echo "pod_e2e: rss_kib_1000_files=$rss_kib"
ng_wait_until 30 pod_probe LIVENESS "$NODE" "$NODE_IP" || fail "liveness probe fails with 1,000 files"
ng_wait_until 30 pod_probe READINESS "$NODE" "$NODE_IP" || fail "readiness probe fails with 1,000 files"

step "nothing written outside the mounts (a kubelet gives a read-only root no /run tmpfs)"
# podman mounts a tmpfs on /run of a read-only container (with the image's empty /run/lock);
# what is on it besides podman's own files and the mount points would be a write that fails
# under a kubelet.
extra=$(cd "/proc/$POD_PID/root/run" && find . -xdev -mindepth 1 |
  grep -vxE '\./(\.containerenv|netns|nodeguard|dbus|xtables\.lock|log|log/journal|calico|secrets|lock)' || true)
[[ -z $extra ]] || fail "the agent wrote to its /run outside the mounts: $extra"

step "SIGTERM: the pod deleted (pod stop with the grace period, kube down)"
pod_down
ng_log "stop took ${POD_DOWN_SECONDS}s, agent exit code '${POD_EXIT}'"
[[ $POD_EXIT == 0 ]] || fail "agent exit code after SIGTERM: '$POD_EXIT' (want 0)"
awk -v d="$POD_DOWN_SECONDS" -v g="$POD_GRACE" 'BEGIN { exit !(d < g) }' ||
  fail "stop took ${POD_DOWN_SECONDS}s, not within the ${POD_GRACE}s grace period"
grep -q '"msg":"nodeguard stopped"' "$POD_LOG" || fail "no 'nodeguard stopped' in the agent log"
step "a pod without the netns mount: NodePathMissing names it at start"
POD_NAME=$NG_RUN_ID-nonetns
POD_LOG=$NG_TMP/agent-nonetns.log
pod_yaml "$NODE" --drop-volume netns 2>/dev/null
pod_play "$NODE"
pod_wait_running 60
ng_wait_until 20 grep -q '"msg":"node path missing; mount it into the pod","path":"/var/run/netns"' "$POD_LOG" ||
  fail "no 'node path missing' log line for /var/run/netns"
ng_wait_until 20 condition_is NodePathMissing 1 || fail "condition NodePathMissing not set"
pod_down

step "SELinux type spc_t (docs/operations.md): accepted by the runtime"
POD_NAME=$NG_RUN_ID-spc
POD_LOG=$NG_TMP/agent-spc.log
pod_yaml "$NODE" --selinux-type spc_t 2>/dev/null
pod_play "$NODE"
pod_wait_running 60
ng_wait_until 30 pod_probe READINESS "$NODE" "$NODE_IP" || fail "readiness probe fails with spc_t"
label=$(podman inspect "$POD_CTR" --format '{{.ProcessLabel}}')
if [[ -e /sys/fs/selinux/enforce ]]; then
  [[ $label == *:spc_t:* ]] || fail "SELinux is on and the container's label is '$label', not spc_t"
else
  # Without SELinux podman drops label options: the pod is accepted and runs, unlabelled.
  ng_log "SELinux off here: the spc_t pod runs unlabelled (process label '$label')"
fi
pod_down
[[ $POD_EXIT == 0 ]] || fail "the spc_t pod's agent exit code: '$POD_EXIT'"

step "PASS"
echo "PASS: the shipped pod ($OVERLAY) in $((SECONDS - t_start)) s"
