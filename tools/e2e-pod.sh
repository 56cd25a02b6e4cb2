#!/usr/bin/env bash
# See the shipped nodeguard pod do its job, for real, on this machine (Debian 12, as root):
# builds the agent (build/, the default preset) and its .deb, the container image from that
# .deb (tools/pod-image.sh: no registry, Debian packages only), renders the DaemonSet with
# `kubectl kustomize`, and runs its pod under `podman kube play` with host networking in a
# network namespace of its own, against real CNI pods, firewalld, BIRD and log files
# (tests/integration/pod/pod_e2e_test.sh says what it checks). The machine's own network,
# firewall and D-Bus are never touched; everything it makes is removed at exit.
#   tools/e2e-pod.sh                          # calico-bgp overlay
#   tools/e2e-pod.sh --overlay overlays/flannel
#   tools/e2e-pod.sh --build-dir build        # use an existing build tree as it is
#   NG_POD_SKIP_FIREWALLD=1 NG_POD_SKIP_BIRD=1 tools/e2e-pod.sh   # quicker: without those parts
set -euo pipefail
cd "$(dirname "$0")/.."
overlay=overlays/calico-bgp build_dir= 
while (($#)); do
  case $1 in
    --overlay) overlay=$2; shift ;;
    --build-dir) build_dir=$2; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "e2e-pod: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[[ $(id -u) -eq 0 ]] || { echo "e2e-pod: run as root (network namespaces, mounts, podman)" >&2; exit 2; }
if [[ -z $build_dir ]]; then
  ./tools/install-deps.sh
  build_dir=build
  cmake --preset default >/dev/null
  cmake --build --preset default -j "$(nproc)" --target nodeguard ngctl
fi
NG_SOURCE_DIR=$PWD NG_BUILD_DIR=$(cd "$build_dir" && pwd) NG_POD_OVERLAY=$overlay \
  exec bash tests/integration/pod/pod_e2e_test.sh
