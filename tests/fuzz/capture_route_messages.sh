#!/usr/bin/env bash
# Regenerates the route_messages seed corpus from a real kernel: in a network namespace this
# script creates, links (veth, bridge, vxlan), IPv4/IPv6 addresses and routes of the shapes the
# route view classifies (via, onlink, blackhole, proto bird/80, other tables, multipath) are
# set up; then the raw NETLINK_ROUTE dump replies and the event messages of a few changes are
# written as recv() returned them, one file per buffer. Root only.
#   sudo tests/fuzz/capture_route_messages.sh tests/fuzz/corpus/route_messages
set -euo pipefail
out=$(realpath "${1:?output dir}")
mkdir -p "$out"
NG_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
source "$NG_SOURCE_DIR/tests/support/netns.sh"
ng_require_root
ns=$(ng_netns_add routes)
peer=$(ng_netns_add peer)
ng_veth "$ns" eth0 "$peer" eth0
ip -n "$ns" addr add 192.168.1.10/24 dev eth0
ip -n "$ns" addr add fd00:1::10/64 dev eth0 nodad
ip -n "$ns" link add br0 type bridge
ip -n "$ns" link set br0 up
ip -n "$ns" link add vxlan.calico type vxlan id 4096 dstport 4789 local 192.168.1.10 dev eth0
ip -n "$ns" addr add 10.244.1.1/32 dev vxlan.calico
ip -n "$ns" link set vxlan.calico up
ip -n "$ns" route add default via 192.168.1.1
ip -n "$ns" route add 10.244.2.0/26 via 192.168.1.11 dev eth0 proto bird
ip -n "$ns" route add 10.244.3.0/26 via 10.244.3.1 dev vxlan.calico onlink proto 80
ip -n "$ns" route add blackhole 10.244.1.0/26 proto bird
ip -n "$ns" route add unreachable 10.99.0.0/16
ip -n "$ns" route add 10.244.4.0/26 table 100 via 192.168.1.12 metric 32
ip -n "$ns" route add 10.244.5.0/26 nexthop via 192.168.1.11 nexthop via 192.168.1.12
ip -n "$ns" -6 route add fd00:10:244:2::/64 via fd00:1::11 proto bird
ip -n "$ns" -6 route add blackhole fd00:10:244:1::/64 proto bird
ip netns exec "$ns" python3 - "$out" <<'PY'
import os, socket, struct, sys
out = sys.argv[1]
NLM_F_REQUEST, NLM_F_DUMP = 1, 0x300
RTM_GETLINK, RTM_GETADDR, RTM_GETROUTE = 18, 22, 26
groups = 1 | 0x10 | 0x40 | 0x100 | 0x400  # link, ipv4 ifaddr, ipv4 route, ipv6 ifaddr, ipv6 route
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
s.bind((0, groups))
def dump(kind, seq):
    s.send(struct.pack("=LHHLL", 17, kind, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + b"\0")
    n = 0
    while True:
        buf = s.recv(1 << 20)
        open(os.path.join(out, f"dump-{kind}-{n}.bin"), "wb").write(buf)
        n += 1
        if struct.unpack_from("=H", buf, 4)[0] == 3:  # NLMSG_DONE
            return
dump(RTM_GETLINK, 1)
dump(RTM_GETADDR, 2)
dump(RTM_GETROUTE, 3)
os.system("ip route add 10.244.6.0/26 via 192.168.1.11 proto bird; ip route del 10.244.6.0/26;"
          " ip addr add 192.168.1.20/24 dev eth0; ip link set br0 down")
s.settimeout(1)
n = 0
try:
    while True:
        buf = s.recv(1 << 20)
        if not buf:
            break
        open(os.path.join(out, f"event-{n}.bin"), "wb").write(buf)
        n += 1
except socket.timeout:
    pass
PY
ls -la "$out" >&2
