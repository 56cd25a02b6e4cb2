#!/usr/bin/env bash
# The .deb builds from the build tree, unpacks into a scratch root (dpkg -x, nothing installed
# on this machine), and the unpacked binaries run.
set -euo pipefail
: "${NG_BUILD_DIR:?}"
tmp=$(mktemp -d /tmp/ng-deb-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
cpack --config "$NG_BUILD_DIR/CPackConfig.cmake" -G DEB -B "$tmp/out" >"$tmp/cpack.log" 2>&1 ||
  { cat "$tmp/cpack.log"; echo "FAIL: cpack"; exit 1; }
deb=$(ls "$tmp"/out/nodeguard_*_amd64.deb)
# Read the control fields once: `cmd | grep -q` under pipefail fails when grep exits early.
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == *iptables* ]] || { echo "FAIL: no iptables dependency: $depends"; exit 1; }
[[ $depends == *libgrpc++* ]] || { echo "FAIL: shlibdeps missing: $depends"; exit 1; }
dpkg -x "$deb" "$tmp/root"
for f in usr/bin/nodeguard usr/bin/ngctl etc/nodeguard/nodeguard.yaml lib/systemd/system/nodeguard.service; do
  [[ -e $tmp/root/$f ]] || { echo "FAIL: $f not in the package"; exit 1; }
done
help=$("$tmp/root/usr/bin/nodeguard" --help)
[[ $help == *--dry-run* ]] || { echo "FAIL: nodeguard --help"; exit 1; }
help=$("$tmp/root/usr/bin/ngctl" --help)
[[ $help == *status* ]] || { echo "FAIL: ngctl --help"; exit 1; }
"$tmp/root/usr/bin/nodeguard" --config "$tmp/root/etc/nodeguard/nodeguard.yaml" --check-config ||
  { echo "FAIL: packaged config does not validate"; exit 1; }
conffiles=$(dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles)
[[ $conffiles == *"/etc/nodeguard/nodeguard.yaml"* ]] ||
  { echo "FAIL: config is not a conffile"; exit 1; }
echo "PASS: $(basename "$deb") ($(du -h "$deb" | cut -f1)) unpacks and runs"
