# The shipped DaemonSet run for real: its pod template under `podman kube play`, host networking
# in a node namespace of the test, every hostPath under a throwaway node root. Source after
# tests/support/netns.sh. Everything made here (image, pod, volumes, mounts) is unique to the
# run and removed at exit; podman never touches the machine's own network (the pod runs with
# `nsenter --net=` into the test's namespace and has no network of podman's).
#
#   pod_require                       # skip (77) without podman, runc, kubectl
#   pod_image                         # the image from the build tree's .deb -> POD_IMAGE
#   pod_render OVERLAY                # kubectl kustomize -> $NG_TMP/render.yaml, POD_* values
#   pod_node_root                     # the node's directories under POD_ROOT
#   pod_yaml NODE_NS [variant args]   # the Pod for podman (pod_from_daemonset.py)
#   pod_play NODE_NS                  # kube play with host networking in NODE_NS
#   pod_wait_running                  # until the agent logs "nodeguard running"
#   pod_down                          # SIGTERM with the grace period, kube down; POD_EXIT
POD_SRC=${NG_SOURCE_DIR:?}
POD_ROOT=$NG_TMP/node
POD_NAME=$NG_RUN_ID-agent
POD_IMAGE=
POD_CTR=$POD_NAME-nodeguard
POD_LOG=$NG_TMP/agent.log
export CONTAINERS_CONF=${CONTAINERS_CONF:-$POD_SRC/packaging/podman/containers.conf}

pod_require() {
  ng_require_root
  local t
  for t in podman runc mmdebstrap kubectl nsenter socat jq curl python3; do
    command -v "$t" >/dev/null || { echo "SKIP: $t missing (tools/install-deps.sh)" >&2; exit 77; }
  done
  /usr/bin/python3 -c 'import yaml' 2>/dev/null ||
    { echo "SKIP: python3-yaml missing (tools/install-deps.sh)" >&2; exit 77; }
}

# pod_image: the .deb of the build tree (cpack, as tests/integration/deploy does), then the
# runtime-only image (tools/pod-image.sh). NG_POD_IMAGE reuses an image built beforehand.
pod_image() {
  if [[ -n ${NG_POD_IMAGE:-} ]]; then
    POD_IMAGE=$NG_POD_IMAGE
    return
  fi
  cpack --config "$NG_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$NG_TMP/deb" >"$NG_TMP/cpack.log" 2>&1 ||
    { cat "$NG_TMP/cpack.log"; ng_fail "cpack"; }
  local deb
  deb=$(ls "$NG_TMP"/deb/nodeguard_*.deb)
  POD_IMAGE=localhost/nodeguard-e2e:$NG_RUN_ID
  ng_on_exit "podman rmi -f $POD_IMAGE"
  "$POD_SRC/tools/pod-image.sh" --deb "$deb" --tag "$POD_IMAGE" >/dev/null 2>"$NG_TMP/image.log" ||
    { cat "$NG_TMP/image.log"; ng_fail "image build"; }
  ng_log "$(tail -n 1 "$NG_TMP/image.log")"
}

# pod_render OVERLAY: renders the kustomization and reads what the test needs from it, so the
# test follows the manifests (ports, paths, grace period) instead of repeating them.
pod_render() {
  kubectl kustomize "$POD_SRC/manifests/$1" >"$NG_TMP/render.yaml" || ng_fail "kubectl kustomize $1"
  /usr/bin/python3 - "$NG_TMP/render.yaml" >"$NG_TMP/render.env" <<'PY' || ng_fail "reading the rendering"
import shlex, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
ds = next(d for d in docs if d["kind"] == "DaemonSet")
spec = ds["spec"]["template"]["spec"]
c = spec["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
def probe(kind):
    p = c.get(kind) or {}
    h = p.get("httpGet") or {}
    port = h.get("port")
    port = ports.get(port, port)
    return [("PATH", h.get("path", "")), ("PORT", port or ""), ("TIMEOUT", p.get("timeoutSeconds", 1))]
out = {"POD_GRACE": spec.get("terminationGracePeriodSeconds", 30),
       "POD_METRICS_PORT": ports.get("metrics", ""),
       "POD_MEMORY_LIMIT": c.get("resources", {}).get("limits", {}).get("memory", "")}
for kind, name in (("livenessProbe", "LIVENESS"), ("readinessProbe", "READINESS")):
    for k, v in probe(kind):
        out[f"POD_{name}_{k}"] = v
cm = next((d for d in docs if d["kind"] == "ConfigMap"), {})
agent = yaml.safe_load(cm.get("data", {}).get("nodeguard.yaml", "")) or {}
for section in ("bgp", "firewalld", "logs"):
    out[f"POD_{section.upper()}_ENABLED"] = int((agent.get(section) or {}).get("enabled", True))
for k, v in out.items():
    print(f"{k}={shlex.quote(str(v))}")
PY
  # shellcheck disable=SC1091
  source "$NG_TMP/render.env"
}

# pod_node_root: what a node has before the kubelet starts the pod: the hostPaths that must
# exist (type "" and File) and the runtime's netns directory as a shared mount (containerd and
# `ip netns` make it one), so mounts made later propagate into a HostToContainer volume.
pod_node_root() {
  mkdir -p "$POD_ROOT"/{etc,run/dbus,var/log/containers,var/log/pods,var/log/journal,var/lib/cni/results}
  mkdir -p "$POD_ROOT/var/run/netns" "$POD_ROOT/var/run/calico" "$POD_ROOT/run/log/journal"
  # The host-proc volume (netfilter.proc_root): empty here, so writers are named by pid and name.
  mkdir -p "$POD_ROOT/proc"
  # A machine id as systemd writes it (the journal reader keys on it).
  printf '%s\n' "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" >"$POD_ROOT/etc/machine-id"
  mount --bind "$POD_ROOT/var/run/netns" "$POD_ROOT/var/run/netns" || ng_fail "bind netns dir"
  mount --make-shared "$POD_ROOT/var/run/netns" || ng_fail "make netns dir shared"
  ng_on_exit "pod_umount_netns"
}

# pod_umount_netns: every namespace bind under the node root, then the directory itself.
pod_umount_netns() {
  local m
  for m in $(findmnt -rn -o TARGET | grep "^$POD_ROOT/var/run/netns/" | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  umount "$POD_ROOT/var/run/netns" 2>/dev/null || umount -l "$POD_ROOT/var/run/netns" 2>/dev/null || true
}

# pod_netns_bind POD_NS NAME: the pod's namespace where a runtime keeps it on the node
# (/var/run/netns/NAME, under the node root); prints that node path.
pod_netns_bind() {
  local target=$POD_ROOT/var/run/netns/$2
  touch "$target"
  mount --bind "/run/netns/$1" "$target" || ng_fail "bind $1 -> $target"
  echo "/var/run/netns/$2"
}

# pod_yaml: the Pod and its ConfigMaps for podman (tests/integration/pod/pod_from_daemonset.py);
# ConfigMap and volume names made unique (podman keeps them as named volumes).
# Extra arguments (--drop-volume NAME, --selinux-type T) make the variants the test runs on
# purpose; POD_NAME and POD_CTR follow the name given in POD_NAME.
pod_yaml() {
  local node=$1
  shift
  POD_CTR=$POD_NAME-nodeguard
  /usr/bin/python3 "$POD_SRC/tests/integration/pod/pod_from_daemonset.py" --image "$POD_IMAGE" \
    --node-root "$POD_ROOT" --name "$POD_NAME" --node-name "$node" --unique "$POD_NAME" "$@" \
    --pod "$NG_TMP/pod.yaml" --configmaps "$NG_TMP/configmaps.yaml" <"$NG_TMP/render.yaml" \
    2>"$NG_TMP/pod-changes.txt" || { cat "$NG_TMP/pod-changes.txt"; ng_fail "pod_from_daemonset"; }
}

# pod_play NODE_NS: the pod, with host networking being the node namespace.
pod_play() {
  local ns=$1
  ng_own_netns "$ns" || ng_fail "not this run's namespace: $ns"
  ng_on_exit "pod_remove $POD_NAME"
  nsenter --net="/run/netns/$ns" podman kube play --log-driver k8s-file \
    --log-opt "path=$POD_LOG" --configmap "$NG_TMP/configmaps.yaml" "$NG_TMP/pod.yaml" \
    >"$NG_TMP/play.log" 2>&1 || { cat "$NG_TMP/play.log"; ng_fail "podman kube play"; }
  POD_PID=$(podman inspect "$POD_CTR" --format '{{.State.Pid}}')
  [[ $(stat -L -c %i "/proc/$POD_PID/ns/net") == $(stat -L -c %i "/run/netns/$ns") ]] ||
    ng_fail "the pod is not in the node namespace $ns"
}

pod_wait_running() {
  ng_wait_until "${1:-60}" grep -q '"msg":"nodeguard running"' "$POD_LOG" ||
    { pod_dump; ng_fail "the agent in the pod did not start"; }
}

pod_dump() {
  echo "--- agent log (last 40 lines)" >&2
  tail -n 40 "$POD_LOG" >&2 || true
  podman ps -a --filter "pod=$POD_NAME" >&2 || true
}

# pod_down: the pod deleted as the kubelet deletes it: SIGTERM, SIGKILL after the grace period
# (`podman pod stop -t GRACE`), then `podman kube down`. (podman 4.3's kube down alone stops
# with a timeout of 0: SIGKILL at once, whatever terminationGracePeriodSeconds says.)
# POD_DOWN_SECONDS is how long the stop took, POD_EXIT the agent's exit code.
pod_down() {
  local t0 id
  id=$(podman inspect "$POD_CTR" --format '{{.Id}}')
  t0=$(date +%s.%N)
  podman pod stop -t "$POD_GRACE" "$POD_NAME" >"$NG_TMP/down.log" 2>&1 ||
    { cat "$NG_TMP/down.log"; ng_fail "pod stop"; }
  POD_DOWN_SECONDS=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  POD_EXIT=$(podman events --stream=false --since 10m --filter "container=$id" --filter event=died \
    --format '{{.ContainerExitCode}}' 2>/dev/null | tail -n 1)
  podman kube down "$NG_TMP/pod.yaml" >>"$NG_TMP/down.log" 2>&1 || { cat "$NG_TMP/down.log"; ng_fail "kube down"; }
}

# pod_remove POD: the pod and the volumes podman made for it (ConfigMaps, emptyDirs), all named
# POD-* (pod_from_daemonset.py --unique).
pod_remove() {
  local v
  podman pod rm -f -t 0 "$1"
  for v in $(podman volume ls -q); do
    [[ $v == "$1"-* ]] && podman volume rm -f "$v"
  done
  return 0
}

# pod_probe KIND (LIVENESS | READINESS) NS ADDR: the kubelet's httpGet probe of a hostNetwork pod:
# the node's address, the probe's port and path, its timeout; success is 200-399.
pod_probe() {
  local path port timeout code
  path=$(eval echo "\$POD_$1_PATH")
  port=$(eval echo "\$POD_$1_PORT")
  timeout=$(eval echo "\$POD_$1_TIMEOUT")
  code=$(ip netns exec "$2" curl -s -o /dev/null -w '%{http_code}' --max-time "$timeout" \
    "http://$3:$port$path") || true
  [[ $code =~ ^[23][0-9][0-9]$ ]]
}
