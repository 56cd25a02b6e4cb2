#!/usr/bin/env bash
# Records the real firewalld's D-Bus answers for the unit tests (tests/testdata/firewalld/):
# firewalld runs in a lab (private mount namespace, own dbus-daemon, a node network namespace;
# tests/integration/firewalld/lib.sh), is configured with firewall-cmd into a few shapes a
# Kubernetes node has, and every answer the watcher asks for is saved as `busctl --json=short`
# prints it. Root only; touches nothing outside the lab.
#
#   sudo tests/integration/firewalld/capture_dbus_answers.sh [OUT_DIR]
#
# Scenarios: stock (Debian's defaults, no interface bound), k8s_ready (what the conflict rules
# accept), partial (some of it, a source-bound zone, rich rules), services (Kubernetes services
# with includes), panic (panic mode on), iptables (FirewallBackend=iptables); legacy_tuples
# holds the pre-0.9 tuple formats, taken from the config interface that still speaks them.
set -euo pipefail
NG_SOURCE_DIR=${NG_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
source "$NG_SOURCE_DIR/tests/integration/firewalld/lib.sh"
ng_fw_private_mounts "$@"
source "$NG_SOURCE_DIR/tests/support/netns.sh"
command -v busctl >/dev/null || { echo "SKIP: busctl missing" >&2; exit 77; }
OUT=${1:-$NG_SOURCE_DIR/tests/testdata/firewalld}

B() { busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" --json=short "$@"; }
FW=org.fedoraproject.FirewallD1
P=/org/fedoraproject/FirewallD1

# record DIR: every answer the watcher's policy query asks for.
record() {
  local dir=$OUT/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  B call $FW $P $FW getDefaultZone >"$dir/getDefaultZone.json"
  B call $FW $P $FW.zone getActiveZones >"$dir/getActiveZones.json"
  B call $FW $P org.freedesktop.DBus.Properties Get ss $FW version >"$dir/Get-version.json"
  B call $FW $P/config org.freedesktop.DBus.Properties Get ss $FW.config FirewallBackend \
    >"$dir/Get-FirewallBackend.json"
  B call $FW $P $FW queryPanicMode >"$dir/queryPanicMode.json"
  local zones z s
  zones=$( (jq -r '.data[0]' "$dir/getDefaultZone.json"; jq -r '.data[0] | keys[]' "$dir/getActiveZones.json") | sort -u)
  local services=()
  for z in $zones; do
    B call $FW $P $FW.zone getZoneSettings2 s "$z" >"$dir/getZoneSettings2-$z.json"
    mapfile -t -O "${#services[@]}" services < <(jq -r '.data[0].services.data[]?' "$dir/getZoneSettings2-$z.json")
  done
  local done_services=" "
  while ((${#services[@]})); do
    s=${services[0]}
    services=("${services[@]:1}")
    [[ $done_services == *" $s "* ]] && continue
    done_services+="$s "
    B call $FW $P $FW getServiceSettings2 s "$s" >"$dir/getServiceSettings2-$s.json"
    mapfile -t -O "${#services[@]}" services < <(jq -r '.data[0].includes.data[]?' "$dir/getServiceSettings2-$s.json")
  done
  ng_log "recorded $1: zones $(echo $zones), services$done_services"
}

node=$(ng_netns_add node)
peer=$(ng_netns_add peer)
ng_veth "$node" eth0 "$peer" eth0p
ip -n "$node" addr add 192.168.50.1/24 dev eth0
ip -n "$node" link add cni0 type bridge
ip -n "$node" link set cni0 up
ng_fw_setup nftables nft
ng_fw_start "$node"
fc() { ng_fw_cmd "$node" "$@" >/dev/null; }

record stock

# What the conflict rules accept: uplink in public with every port, CNI interfaces trusted.
fc --zone=public --add-interface=eth0
fc --zone=public --add-port=179/tcp --add-port=4789/udp --add-port=10250/tcp \
  --add-port=30000-32767/tcp --add-port=30000-32767/udp --add-port=8080/tcp
fc --zone=public --add-protocol=4
fc --zone=trusted --add-interface=cali+ --add-interface=tunl0 --add-interface=vxlan.calico \
  --add-interface=cni0 --add-interface=flannel.1
fc --zone=trusted --add-source=10.244.0.0/16
record k8s_ready

# Some of it: part of the NodePort range, the peers' subnet bound to the internal zone (BGP open
# there only), cali+ in internal (not accepting), a rich rule, the pod CIDR in the work zone.
ng_fw_cmd "$node" --reload >/dev/null
fc --zone=public --add-interface=eth0
fc --zone=public --add-port=30000-31000/tcp
fc --zone=public --add-service=http
fc --zone=public --add-rich-rule='rule family="ipv4" source address="192.0.2.0/24" port port="10250" protocol="tcp" accept'
fc --zone=internal --add-source=192.168.50.0/24
fc --zone=internal --add-port=179/tcp
fc --zone=internal --add-protocol=ipip
fc --zone=internal --add-interface=cali+
fc --zone=work --add-source=10.244.0.0/16
record partial

# Kubernetes' own firewalld services: kube-worker includes kubelet and kube-nodeport-services.
ng_fw_cmd "$node" --reload >/dev/null
fc --zone=public --add-interface=eth0
fc --zone=public --add-service=kube-worker
fc --zone=public --add-service=bgp
fc --zone=trusted --add-interface=cni0
record services

ng_fw_cmd "$node" --reload >/dev/null
fc --panic-on
record panic
fc --panic-off

# The pre-0.9 tuple formats: the config interface still answers getSettings with them.
dir=$OUT/legacy_tuples
rm -rf "$dir"
mkdir -p "$dir"
zpath=$(B call $FW $P/config $FW.config getZoneByName s public | jq -r '.data[0]')
B call $FW "$zpath" $FW.config.zone getSettings >"$dir/getZoneSettings-public.json"
spath=$(B call $FW $P/config $FW.config getServiceByName s ssh | jq -r '.data[0]')
B call $FW "$spath" $FW.config.service getSettings >"$dir/getServiceSettings-ssh.json"
ng_log "recorded legacy_tuples"

# The iptables backend (its own firewalld start).
ng_fw_stop
sed -i 's/^FirewallBackend=.*/FirewallBackend=iptables/' /etc/firewalld/firewalld.conf
ng_fw_start "$node"
record iptables
ng_fw_stop
echo "answers in $OUT"
