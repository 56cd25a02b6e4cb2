#!/bin/sh
# Installs nodeguard's .deb in the image (both Dockerfile targets) and leaves nothing else.
# Offline when the base image already holds the package's dependencies (tools/pod-image.sh
# builds such a base with mmdebstrap); otherwise apt fetches them (debian:12-slim on a laptop).
set -eu
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq --no-install-recommends /tmp/deb/nodeguard_*.deb; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends /tmp/deb/nodeguard_*.deb
fi
# The agent execs iptables-{legacy,nft}{,-save,-restore}: fail the build, not the rollout.
for t in iptables-legacy-restore iptables-nft-restore ip6tables-legacy-restore ip6tables-nft-restore; do
  command -v "$t" >/dev/null || { echo "install-deb: $t missing" >&2; exit 1; }
done
/usr/bin/nodeguard --help >/dev/null
apt-get clean
# Documentation, manuals and apt's lists are no use in a read-only container.
find /usr/share/doc -type f ! -name copyright -delete
rm -rf /tmp/deb /var/lib/apt/lists/* /var/cache/apt/* /var/cache/debconf/*-old /var/log/* \
  /usr/share/man/* /usr/share/info/* /usr/share/locale/*
