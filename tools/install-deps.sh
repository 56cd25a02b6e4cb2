#!/usr/bin/env bash
# Installs every build and test dependency of nodeguard from Debian 12's archive.
# Idempotent: packages already present are skipped by apt-get; nothing is downloaded at build time.
set -euo pipefail

BUILD_PKGS=(
  build-essential cmake ninja-build pkg-config clang-format clang libclang-rt-14-dev
  libboost-dev libboost-system-dev
  libiptc-dev libip4tc-dev libip6tc-dev libxtables-dev
  libnl-3-dev libnl-route-3-dev libmnl-dev libnftnl-dev
  libsystemd-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev libgrpc-dev protobuf-compiler-grpc
  prometheus-cpp-dev
  libhyperscan-dev libyaml-cpp-dev libcli11-dev libssl-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev grpc-proto nlohmann-json3-dev
)
TEST_PKGS=(
  iproute2 iptables nftables firewalld dbus bird2 containernetworking-plugins socat
  curl jq openssl procps psmisc util-linux systemd gzip systemd-journal-remote time
)

if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi

want=()
for p in "${BUILD_PKGS[@]}" "${TEST_PKGS[@]}"; do
  # grpcurl is not in Debian 12; skip names apt does not know.
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    want+=("$p")
  fi
done

if ((${#want[@]} == 0)); then
  echo "install-deps: all ${#BUILD_PKGS[@]}+${#TEST_PKGS[@]} packages present"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
avail=()
for p in "${want[@]}"; do
  if apt-cache show "$p" >/dev/null 2>&1; then avail+=("$p"); else echo "install-deps: $p not in the archive, skipped"; fi
done
# Installing firewalld must never start it on the host: policy-rc.d forbids service starts.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${avail[@]}"
echo "install-deps: installed ${#avail[@]} packages"
