# Sourced after tests/support/netns.sh, by the routes lab test and by tools/lab. Builds a small
# cross-subnet cluster in fresh network namespaces: nodes A and B on one subnet, node C on
# another behind a router that forwards between the two and knows no pod CIDRs; each node runs a
# real BIRD 2 in a full iBGP mesh (protocols named Mesh_<ip> as Calico names them) and exports
# its own pod block. Every command runs inside the cluster's namespaces (ng_in), never in the
# machine's own.
#
# Every address can be overridden from the environment, so the same cluster runs with other
# subnets: RL_A_IP RL_B_IP RL_C_IP (node addresses), RL_GW1 RL_GW2 (router, one per subnet),
# RL_LEN1 RL_LEN2 (prefix lengths), RL_A_BLOCK RL_B_BLOCK RL_C_BLOCK (pod blocks), RL_C_POD (a
# pod address inside C's block), RL_A_VTEP RL_B_VTEP RL_C_VTEP (VXLAN tunnel addresses; Calico
# gives each node the first address of its block). Nodes are named by their letter (A, B, C).
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
RL_A_VTEP=${RL_A_VTEP:-10.244.1.0}
RL_B_VTEP=${RL_B_VTEP:-10.244.2.0}
RL_C_VTEP=${RL_C_VTEP:-10.244.3.0}
RL_AS=${RL_AS:-64512}

# rl_var NODE FIELD: the value of RL_<NODE>[_FIELD] (FIELD empty: the namespace).
rl_var() {
  local v=RL_$1${2:+_$2}
  echo "${!v}"
}

# Calico's protocol name for a peer: Mesh_ and the address with '_' for '.' or ':'.
rl_mesh_name() { echo "Mesh_$(tr '.:' '__' <<<"$1")"; }

# rl_bird_conf NODE_IP BLOCK PEER_IP... > file. RL_KERNEL_EXPORT='source = RTS_STATIC' keeps BGP
# routes out of the kernel (Calico's VXLAN backend, where Felix programs the routes).
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

# rl_mesh_peers NODE NODES...: the addresses of the other NODES (NODE's full-mesh peers).
rl_mesh_peers() {
  local self=$1 n
  shift
  for n in "$@"; do [[ $n == "$self" ]] || rl_var "$n" IP; done
}

# rl_start_bird NODE NODES...: writes NODE's config (a full mesh with the other NODES) and starts
# BIRD in NODE's namespace; the control socket is $NG_TMP/bird-<node>.ctl (lower case).
rl_start_bird() {
  local node=$1 short=${1,,}
  rl_bird_conf "$(rl_var "$node" IP)" "$(rl_var "$node" BLOCK)" $(rl_mesh_peers "$@") \
    >"$NG_TMP/bird-$short.conf"
  rm -f "$NG_TMP/bird-$short.pid"
  ng_in "$(rl_var "$node")" bird -c "$NG_TMP/bird-$short.conf" -s "$NG_TMP/bird-$short.ctl" \
    -P "$NG_TMP/bird-$short.pid" || ng_fail "bird on $short did not start"
  ng_wait_until 10 test -S "$NG_TMP/bird-$short.ctl" || ng_fail "bird-$short.ctl never appeared"
  ng_on_exit "[[ -f $NG_TMP/bird-$short.pid ]] && kill \$(cat $NG_TMP/bird-$short.pid)"
}

# rl_configure_bird NODE NODES...: rewrites NODE's config for the mesh of NODES (honouring
# RL_KERNEL_EXPORT) and has the running BIRD load it (`birdc configure`), as calico-node's confd
# does when a node joins or the backend changes.
rl_configure_bird() {
  local node=$1 short=${1,,}
  rl_bird_conf "$(rl_var "$node" IP)" "$(rl_var "$node" BLOCK)" $(rl_mesh_peers "$@") \
    >"$NG_TMP/bird-$short.conf"
  birdc -s "$NG_TMP/bird-$short.ctl" configure >/dev/null || ng_fail "birdc configure on $short"
}

# rl_stop_bird NODE [SIGNAL]: stops NODE's BIRD (TERM: a clean shutdown; KILL: a crash) and waits
# until it is gone.
rl_stop_bird() {
  local short=${1,,} sig=${2:-TERM} pid
  pid=$(cat "$NG_TMP/bird-$short.pid")
  kill "-$sig" "$pid"
  ng_wait_until 10 bash -c "! kill -0 $pid" || ng_fail "bird-$short did not stop"
}

# rl_setup: namespaces RL_A RL_B RL_C RL_R, links, addresses, default routes, forwarding.
rl_setup() {
  RL_R=$(ng_netns_add router)
  RL_A=$(ng_netns_add a)
  RL_B=$(ng_netns_add b)
  RL_C=$(ng_netns_add c)
  ng_in "$RL_R" ip link add br1 type bridge
  ng_in "$RL_R" ip link set br1 up
  ng_in "$RL_R" ip addr add "$RL_GW1/$RL_LEN1" dev br1
  local n ns
  for n in A B C; do
    ns=$(rl_var $n)
    ng_in "$RL_R" ip link add "r-$n" type veth peer name eth0 netns "$ns" || ng_fail "veth $n"
    ng_in "$ns" ip link set eth0 up
    ng_in "$ns" sysctl -qw net.ipv4.ip_forward=1
  done
  ng_in "$RL_R" ip link set r-A master br1 up
  ng_in "$RL_R" ip link set r-B master br1 up
  ng_in "$RL_R" ip link set r-C up
  ng_in "$RL_R" ip addr add "$RL_GW2/$RL_LEN2" dev r-C
  ng_in "$RL_R" sysctl -qw net.ipv4.ip_forward=1
  ng_in "$RL_A" ip addr add "$RL_A_IP/$RL_LEN1" dev eth0
  ng_in "$RL_B" ip addr add "$RL_B_IP/$RL_LEN1" dev eth0
  ng_in "$RL_C" ip addr add "$RL_C_IP/$RL_LEN2" dev eth0
  ng_in "$RL_A" ip route add default via "$RL_GW1"
  ng_in "$RL_B" ip route add default via "$RL_GW1"
  ng_in "$RL_C" ip route add default via "$RL_GW2"
}

# rl_add_pod_on_c: a pod namespace behind C the way Calico wires one: /32 on the pod, a /32
# route on the node to the veth, proxy ARP, default route via 169.254.1.1.
rl_add_pod_on_c() {
  RL_POD=$(ng_netns_add pod-c)
  ng_in "$RL_C" ip link add cali0c type veth peer name eth0 netns "$RL_POD" || ng_fail "pod veth"
  ng_in "$RL_C" ip link set cali0c up
  ng_in "$RL_POD" ip link set eth0 up
  ng_in "$RL_POD" ip addr add "$RL_C_POD/32" dev eth0
  ng_in "$RL_POD" ip route add 169.254.1.1 dev eth0 scope link
  ng_in "$RL_POD" ip route add default via 169.254.1.1 dev eth0
  ng_in "$RL_C" ip route add "$RL_C_POD/32" dev cali0c scope link
  ng_in "$RL_C" sysctl -qw net.ipv4.conf.cali0c.proxy_arp=1
}

rl_start_all_birds() {
  local n
  for n in A B C; do rl_start_bird $n A B C; done
}

# The number of Established sessions BIRD on NODE reports.
rl_established() {
  birdc -s "$NG_TMP/bird-${1,,}.ctl" show protocols 2>/dev/null | grep -c Established || true
}

# rl_same_subnet NODE1 NODE2: A and B share the first subnet, C is alone in the second.
rl_same_subnet() {
  local a=1 b=1
  [[ $1 == C ]] && a=2
  [[ $2 == C ]] && b=2
  [[ $a == "$b" ]]
}

# rl_bird_routes_gone NODE: BIRD no longer programs any route in NODE's kernel.
rl_bird_routes_gone() { [[ -z $(ng_in "$(rl_var "$1")" ip route show proto bird | grep via) ]]; }

# rl_vxlan_crosssubnet NODES...: switches the mesh of NODES to Calico's VXLAN CrossSubnet
# backend. BIRD keeps the sessions but stops programming the kernel; each node gets a real
# vxlan.calico device with its VTEP address; a Felix stand-in programs every peer block: a
# same-subnet peer directly on eth0, a peer in the other subnet over vxlan.calico (static
# neighbour and FDB entries, as Felix writes them). Routes carry proto 80 (Felix's; BIRD prunes
# proto bird routes it did not install).
rl_vxlan_crosssubnet() {
  local x y ns
  for x in "$@"; do RL_KERNEL_EXPORT='source = RTS_STATIC' rl_configure_bird "$x" "$@"; done
  for x in "$@"; do
    ng_wait_until 30 rl_bird_routes_gone "$x" || ng_fail "BIRD on $x kept its kernel routes"
    ns=$(rl_var "$x")
    ng_in "$ns" ip link add vxlan.calico type vxlan id 4096 dstport 4789 \
      local "$(rl_var "$x" IP)" dev eth0 nolearning || ng_fail "vxlan.calico on $x"
    ng_in "$ns" ip addr add "$(rl_var "$x" VTEP)/32" dev vxlan.calico
    ng_in "$ns" ip link set vxlan.calico up
  done
  for x in "$@"; do
    ns=$(rl_var "$x")
    for y in "$@"; do
      [[ $x == "$y" ]] && continue
      if rl_same_subnet "$x" "$y"; then
        ng_in "$ns" ip route replace "$(rl_var "$y" BLOCK)" via "$(rl_var "$y" IP)" dev eth0 \
          onlink proto 80
        continue
      fi
      local mac
      mac=$(ng_in "$(rl_var "$y")" cat /sys/class/net/vxlan.calico/address)
      ng_in "$ns" ip neigh replace "$(rl_var "$y" VTEP)" lladdr "$mac" dev vxlan.calico \
        nud permanent
      ng_in "$ns" bridge fdb append "$mac" dev vxlan.calico dst "$(rl_var "$y" IP)"
      ng_in "$ns" ip route replace "$(rl_var "$y" BLOCK)" via "$(rl_var "$y" VTEP)" \
        dev vxlan.calico onlink proto 80
    done
  done
}

# rl_expected_peers NODE ENCAPSULATION NODES...: the SetExpectedPeersRequest (JSON, for
# `ngctl peers set --file -`) a controller sends NODE: every other node of NODES with its block,
# VTEP and ENCAPSULATION (e.g. vxlan-crosssubnet), NODE's own block and registered address.
rl_expected_peers() {
  local self=$1 encap=$2 n len=$RL_LEN1 peers=()
  shift 2
  [[ $self == C ]] && len=$RL_LEN2
  for n in "$@"; do
    [[ $n == "$self" ]] && continue
    peers+=("$(printf '{"name":"node-%s","node_ip":"%s","blocks":["%s"],"tunnel_address":"%s","encapsulation":"%s"}' \
      "${n,,}" "$(rl_var "$n" IP)" "$(rl_var "$n" BLOCK)" "$(rl_var "$n" VTEP)" "$encap")")
  done
  local IFS=,
  printf '{"peers":[%s],"own_blocks":["%s"],"node_address":"%s/%s"}\n' "${peers[*]}" \
    "$(rl_var "$self" BLOCK)" "$(rl_var "$self" IP)" "$len"
}
