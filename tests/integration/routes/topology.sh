# Sourced after tests/support/netns.sh. Builds the cross-subnet lab of issue 6 in fresh network
# namespaces: nodes A and B on one subnet, node C on another behind a router that forwards
# between the two and knows no pod CIDRs; each node runs a real BIRD 2 in a full iBGP mesh
# (protocols named Mesh_<ip> as Calico names them) and exports its own pod block.
#
# Every address can be overridden from the environment, so the same lab runs with other subnets:
#   RL_A_IP RL_B_IP RL_C_IP (node addresses), RL_GW1 RL_GW2 (router, one per subnet),
#   RL_LEN1 RL_LEN2 (prefix lengths), RL_A_BLOCK RL_B_BLOCK RL_C_BLOCK (pod blocks),
#   RL_C_POD (a pod address inside C's block), RL_*_VTEP (VXLAN tunnel addresses).
RL_A_IP=${RL_A_IP:-192.168.1.10}
RL_B_IP=${RL_B_IP:-192.168.1.11}
RL_C_IP=${RL_C_IP:-192.168.2.10}
RL_GW1=${RL_GW1:-192.168.1.1}
RL_GW2=${RL_GW2:-192.168.2.1}
RL_LEN1=${RL_LEN1:-24}
RL_LEN2=${RL_LEN2:-24}
RL_A_BLOCK=${RL_A_BLOCK:-10.244.1.0/26}
RL_B_BLOCK=${RL_B_BLOCK:-10.244.2.0/26}
RL_C_BLOCK=${RL_C_BLOCK:-10.244.3.0/26}
RL_C_POD=${RL_C_POD:-10.244.3.2}
RL_A_VTEP=${RL_A_VTEP:-10.244.1.1}
RL_C_VTEP=${RL_C_VTEP:-10.244.3.1}
RL_AS=${RL_AS:-64512}

# Calico's protocol name for a peer: Mesh_ and the address with '_' for '.' or ':'.
rl_mesh_name() { echo "Mesh_$(tr '.:' '__' <<<"$1")"; }

# rl_bird_conf NODE_IP BLOCK PEER_IP... > file. export_to_kernel=0 keeps BGP routes out of the
# kernel (the VXLAN phase, where a Felix stand-in programs routes).
rl_bird_conf() {
  local ip=$1 block=$2 kernel_export=${RL_KERNEL_EXPORT:-"source ~ [ RTS_STATIC, RTS_BGP ]"}
  shift 2
  cat <<CONF
router id $ip;
protocol device { scan time 2; }
protocol direct { ipv4; interface "eth0"; }
protocol kernel {
  learn;
  scan time 2;
  ipv4 { import all; export where $kernel_export; };
}
protocol static pool { ipv4; route $block blackhole; }
template bgp mesh {
  local $ip as $RL_AS;
  connect retry time 1;
  error wait time 1, 5;
  ipv4 { import all; export where proto = "pool"; next hop self; gateway recursive; };
}
CONF
  local p
  for p in "$@"; do
    echo "protocol bgp $(rl_mesh_name "$p") from mesh { neighbor $p as $RL_AS; }"
  done
}

# rl_start_bird SHORT NS NODE_IP BLOCK PEERS...: writes the config and starts BIRD; the control
# socket is $NG_TMP/bird-SHORT.ctl.
rl_start_bird() {
  local short=$1 ns=$2 ip=$3 block=$4
  shift 4
  rl_bird_conf "$ip" "$block" "$@" >"$NG_TMP/bird-$short.conf"
  ng_in "$ns" bird -c "$NG_TMP/bird-$short.conf" -s "$NG_TMP/bird-$short.ctl" \
    -P "$NG_TMP/bird-$short.pid" || ng_fail "bird on $short did not start"
  ng_wait_until 10 test -S "$NG_TMP/bird-$short.ctl" || ng_fail "bird-$short.ctl never appeared"
  ng_on_exit "[[ -f $NG_TMP/bird-$short.pid ]] && kill \$(cat $NG_TMP/bird-$short.pid)"
}

rl_stop_bird() {
  local short=$1 pid
  pid=$(cat "$NG_TMP/bird-$short.pid")
  kill -TERM "$pid"
  ng_wait_until 10 bash -c "! kill -0 $pid" || ng_fail "bird-$short did not stop"
}

# rl_setup: namespaces RL_A RL_B RL_C RL_R, links, addresses, default routes, forwarding.
rl_setup() {
  RL_R=$(ng_netns_add router)
  RL_A=$(ng_netns_add a)
  RL_B=$(ng_netns_add b)
  RL_C=$(ng_netns_add c)
  ip -n "$RL_R" link add br1 type bridge
  ip -n "$RL_R" link set br1 up
  ip -n "$RL_R" addr add "$RL_GW1/$RL_LEN1" dev br1
  local n
  for n in A B; do
    local ns_var=RL_$n
    ip link add "r-$n" netns "$RL_R" type veth peer name eth0 netns "${!ns_var}" || ng_fail "veth $n"
    ip -n "$RL_R" link set "r-$n" master br1 up
    ip -n "${!ns_var}" link set eth0 up
  done
  ip link add r-C netns "$RL_R" type veth peer name eth0 netns "$RL_C" || ng_fail "veth C"
  ip -n "$RL_R" link set r-C up
  ip -n "$RL_C" link set eth0 up
  ip -n "$RL_R" addr add "$RL_GW2/$RL_LEN2" dev r-C
  ng_in "$RL_R" sysctl -qw net.ipv4.ip_forward=1
  ip -n "$RL_A" addr add "$RL_A_IP/$RL_LEN1" dev eth0
  ip -n "$RL_B" addr add "$RL_B_IP/$RL_LEN1" dev eth0
  ip -n "$RL_C" addr add "$RL_C_IP/$RL_LEN2" dev eth0
  ip -n "$RL_A" route add default via "$RL_GW1"
  ip -n "$RL_B" route add default via "$RL_GW1"
  ip -n "$RL_C" route add default via "$RL_GW2"
  for n in A B C; do
    local ns_var=RL_$n
    ng_in "${!ns_var}" sysctl -qw net.ipv4.ip_forward=1
  done
}

# rl_add_pod_on_c: a pod namespace behind C the way Calico wires one: /32 on the pod, a /32
# route on the node to the veth, proxy ARP, default route via 169.254.1.1.
rl_add_pod_on_c() {
  RL_POD=$(ng_netns_add pod-c)
  ip link add cali0c netns "$RL_C" type veth peer name eth0 netns "$RL_POD" || ng_fail "pod veth"
  ip -n "$RL_C" link set cali0c up
  ip -n "$RL_POD" link set eth0 up
  ip -n "$RL_POD" addr add "$RL_C_POD/32" dev eth0
  ip -n "$RL_POD" route add 169.254.1.1 dev eth0 scope link
  ip -n "$RL_POD" route add default via 169.254.1.1 dev eth0
  ip -n "$RL_C" route add "$RL_C_POD/32" dev cali0c scope link
  ng_in "$RL_C" sysctl -qw net.ipv4.conf.cali0c.proxy_arp=1
}

rl_start_all_birds() {
  rl_start_bird a "$RL_A" "$RL_A_IP" "$RL_A_BLOCK" "$RL_B_IP" "$RL_C_IP"
  rl_start_bird b "$RL_B" "$RL_B_IP" "$RL_B_BLOCK" "$RL_A_IP" "$RL_C_IP"
  rl_start_bird c "$RL_C" "$RL_C_IP" "$RL_C_BLOCK" "$RL_A_IP" "$RL_B_IP"
}

# The number of Established sessions BIRD on SHORT reports.
rl_established() {
  birdc -s "$NG_TMP/bird-$1.ctl" show protocols 2>/dev/null | grep -c Established || true
}
