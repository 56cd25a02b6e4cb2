#!/usr/bin/env bash
# Installs every build and test dependency of nodeguard from Debian 12's archive (apt-get), and
# the npm packages of the offline manifest checks (tools/manifests, pinned by its lockfile).
# Idempotent: only what is missing is installed; nothing is downloaded at build time.
#   tools/install-deps.sh               # build + test dependencies
#   tools/install-deps.sh --build-only  # what compiling needs (the container image build)
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_PKGS=(
  build-essential dpkg-dev cmake ninja-build pkg-config git
  libboost-dev libboost-system-dev
  libiptc-dev libip4tc-dev libip6tc-dev libxtables-dev
  libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev
  libsystemd-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev libgrpc-dev protobuf-compiler-grpc
  prometheus-cpp-dev libcivetweb-dev
  libhyperscan-dev libyaml-cpp-dev libcli11-dev libssl-dev zlib1g-dev
  nlohmann-json3-dev
)
TEST_PKGS=(
  clang clang-format libclang-rt-14-dev
  libgtest-dev libgmock-dev libbenchmark-dev grpc-proto
  iproute2 iptables nftables firewalld dbus bird2 containernetworking-plugins socat
  curl jq openssl procps psmisc util-linux systemd gzip systemd-journal-remote time
  # the pod stage (tests/integration/pod, tools/e2e-pod.sh): podman with runc (crun refuses the
  # hybrid cgroup layout), catatonit for its pause image, mmdebstrap for the image's base.
  # kubectl (kustomize) is not in Debian 12: the machine image provides it.
  podman runc catatonit mmdebstrap python3-yaml
  # the Kubernetes exporter tests: a second real API client as witness (kubectl is the first)
  python3-kubernetes
)

if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
build_only=0
[[ ${1:-} == --build-only ]] && build_only=1

pkgs=("${BUILD_PKGS[@]}")
((build_only)) || pkgs+=("${TEST_PKGS[@]}")
# Node.js runs the manifest checks; the machine's own node is fine, else Debian's.
((build_only)) || command -v node >/dev/null || pkgs+=(nodejs npm)

want=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    want+=("$p")
  fi
done

if ((${#want[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # Installing firewalld must never start it on the host: policy-rc.d forbids service starts.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $SUDO apt-get install -y -qq --no-install-recommends "${want[@]}"
  echo "install-deps: installed ${#want[@]} packages: ${want[*]}"
else
  echo "install-deps: all ${#pkgs[@]} Debian packages present"
fi

if ((!build_only)) && [[ ! -d tools/manifests/node_modules ]]; then
  (cd tools/manifests && npm ci --no-audit --no-fund --loglevel=error)
  echo "install-deps: npm packages for the manifest checks installed"
fi
