#include "probes/routes/route_classifier.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

namespace ng::probes::routes {
namespace {

bool expects_tunnel_always(Encapsulation e) {
  return e == Encapsulation::kIpip || e == Encapsulation::kVxlan;
}
bool is_cross_subnet(Encapsulation e) {
  return e == Encapsulation::kIpipCrossSubnet || e == Encapsulation::kVxlanCrossSubnet;
}
bool expects_vxlan(Encapsulation e) {
  return e == Encapsulation::kVxlan || e == Encapsulation::kVxlanCrossSubnet;
}
bool expects_ipip(Encapsulation e) {
  return e == Encapsulation::kIpip || e == Encapsulation::kIpipCrossSubnet;
}

const char* kCrossSubnetFix =
    "switch the IP pool to IPIP or VXLAN CrossSubnet (calicoctl patch ippool <pool> --patch "
    "'{\"spec\":{\"ipipMode\":\"CrossSubnet\"}}', or \"vxlanMode\":\"CrossSubnet\"), so traffic "
    "to nodes in other subnets is encapsulated; or peer the router between the subnets so it "
    "learns the pod CIDRs";

class Classifier {
 public:
  Classifier(const RouteTable& t, const std::vector<Peer>& peers, const NodeFacts& node,
             const ClassifierOptions& o)
      : t_(t), peers_(peers), node_(node), o_(o) {}

  std::vector<RouteVerdict> run() {
    index_routes();
    collect_node_addresses();
    for (const auto& p : peers_) {
      peer_ips_.insert(p.node_ip);
      for (const auto& b : p.blocks) peer_blocks_.insert(b);
    }
    std::vector<RouteVerdict> out;
    size_t n = 0;
    for (const auto& p : peers_) n += p.blocks.size();
    out.reserve(n + 4);
    node_verdicts(out);
    for (const auto& p : peers_) {
      for (const auto& b : p.blocks) out.push_back(classify_block(p, b));
    }
    return out;
  }

 private:
  bool is_ipip_link(const Link* l) const {
    return l && (l->name == o_.ipip_device || l->kind == "ipip");
  }
  bool is_vxlan_link(const Link* l) const {
    return l && (l->kind == "vxlan" || std::find(o_.vxlan_devices.begin(), o_.vxlan_devices.end(),
                                                 l->name) != o_.vxlan_devices.end());
  }

  void index_routes() {
    by_dst_.reserve(t_.routes().size());
    for (const auto& [key, r] : t_.routes()) {
      if (r.table != o_.table) continue;
      if (r.type != RouteType::kUnicast && !r.drops()) continue;
      by_dst_[r.dst].add(&r);
    }
  }

  // The node's own addresses on real uplinks: not loopback, link-local or tunnel devices.
  void collect_node_addresses() {
    for (const auto& a : t_.addresses()) {
      if (a.local.is_loopback() || a.local.is_link_local()) continue;
      const Link* l = t_.link(a.ifindex);
      if (is_ipip_link(l) || is_vxlan_link(l)) continue;
      uplinks_.push_back(&a);
    }
  }

  const Address* subnet_of(const IpAddress& ip) const {
    for (const Address* a : uplinks_) {
      if (a->length < a->local.bits() && a->network().contains(ip)) return a;
    }
    return nullptr;
  }

  bool any_cross_subnet_peer() const {
    return std::any_of(peers_.begin(), peers_.end(),
                       [](const Peer& p) { return is_cross_subnet(p.encapsulation); });
  }

  void node_verdicts(std::vector<RouteVerdict>& out) {
    // The node's address as the CNI knows it: a host prefix makes CrossSubnet misjudge every
    // peer as remote (calico#2375, #4254).
    std::optional<IpPrefix> host_addr;
    std::string where;
    if (node_.node_address && node_.node_address->is_host()) {
      host_addr = node_.node_address;
      where = "the node is registered with the CNI as " + node_.node_address->to_string();
    } else if (!node_.node_address && !uplinks_.empty() && any_cross_subnet_peer() &&
               std::all_of(uplinks_.begin(), uplinks_.end(),
                           [](const Address* a) { return a->length == a->local.bits(); })) {
      host_addr = IpPrefix::of(uplinks_.front()->local, uplinks_.front()->length);
      where = "every address of this node is a host prefix (" + host_addr->to_string() + " on " +
              t_.link_name(uplinks_.front()->ifindex) + ")";
    }
    if (host_addr) {
      host_prefix_ = true;
      RouteVerdict v;
      v.kind = VerdictKind::kNodeAddressHostPrefix;
      v.block = *host_addr;
      v.reason = where + ": with a /" + std::to_string(host_addr->length) +
                 " no peer is in this node's subnet, so CrossSubnet encapsulates traffic to "
                 "every peer";
      v.fix =
          "register the node address with its subnet prefix (calico-node IP autodetection, e.g. "
          "IP_AUTODETECTION_METHOD=cidr=<subnet>, or the node's spec.bgp.ipv4Address as "
          "a.b.c.d/24)";
      out.push_back(std::move(v));
    }

    std::vector<IpPrefix> own = node_.own_blocks;
    const bool inferred = own.empty();
    if (inferred) {
      for (const auto& [dst, routes] : by_dst_) {
        if (peer_blocks_.count(dst)) continue;
        if (routes.any_drops_not_kernel()) own.push_back(dst);
      }
      std::sort(own.begin(), own.end());
    }
    for (const auto& b : own) {
      RouteVerdict v;
      v.block = b;
      auto it = by_dst_.find(b);
      const Route* drop = nullptr;
      const Route* other = nullptr;
      if (it != by_dst_.end()) {
        for (size_t i = 0; i < it->second.size(); ++i) {
          const Route* r = it->second.at(i);
          (r->drops() ? drop : other) = r;
        }
      }
      if (drop) {
        v.kind = VerdictKind::kHealthy;
        v.route = t_.describe(*drop);
        v.reason = inferred ? "own block (from its blackhole route)"
                            : "own block, blackholed: unused addresses of the block are dropped "
                              "here instead of looping";
      } else {
        v.kind = VerdictKind::kOwnBlockNotBlackholed;
        if (other) v.route = t_.describe(*other);
        v.reason = other ? "own block has no blackhole route; it is routed " + v.route
                         : "own block has no blackhole route";
        v.fix =
            "calico-node installs `blackhole " + b.to_string() +
            "` (BIRD's static protocol or Felix); without it traffic to unused addresses of the "
            "block follows the default route and may loop: restart calico-node on this node and "
            "check its IPAM block affinity";
      }
      out.push_back(std::move(v));
    }
  }

  RouteVerdict classify_block(const Peer& p, const IpPrefix& block) const {
    RouteVerdict v;
    v.peer = p.name;
    v.peer_ip = p.node_ip;
    v.block = block;
    v.encapsulation = p.encapsulation;
    const Address* subnet = subnet_of(p.node_ip);
    v.same_subnet = subnet != nullptr;
    // Only problems need these words; healthy blocks (the common case) skip building them.
    std::string who_text;
    auto who = [&]() -> const std::string& {
      if (who_text.empty()) {
        const std::string ip = p.node_ip.to_string();
        who_text = p.name == ip ? p.name : p.name + " (" + ip + ")";
      }
      return who_text;
    };
    auto enc = [&] { return std::string(to_string(p.encapsulation)); };

    auto it = by_dst_.find(block);
    if (it == by_dst_.end() || it->second.empty()) {
      v.kind = VerdictKind::kPodRouteMissing;
      v.reason = "no route for " + block.to_string() + " of " + who() + " in table " +
                 std::to_string(o_.table) + "; pod traffic to it follows the default route";
      v.fix = expects_vxlan(p.encapsulation)
                  ? "Felix programs VXLAN routes: check that calico-node runs on this node and "
                    "knows the peer's VTEP (calicoctl get node " +
                        p.name + " -o yaml: ipv4VXLANTunnelAddr)"
                  : "check the BGP session to " + who() +
                        " (ngctl peers) and that BIRD exports its routes to the kernel";
      return v;
    }
    const auto& found = it->second;
    for (size_t i = 0; i < found.size(); ++i) {
      if (i) v.route += "; ";
      v.route += t_.describe(*found.at(i));
    }
    if (found.size() > 1) {
      v.kind = VerdictKind::kPodRouteDuplicate;
      v.reason = std::to_string(found.size()) + " routes for " + block.to_string() + " of " +
                 who() + ": the first by metric wins and the others hide a disagreement";
      v.fix =
          "two route programmers disagree (BIRD and Felix, or a leftover static route): "
          "delete the stale one (ip route del " +
          block.to_string() + " <its next hop and metric>)";
      return v;
    }
    const Route& r = *found.front();
    if (r.drops()) {
      v.kind = VerdictKind::kPodRouteBlackhole;
      v.reason = std::string(to_string(r.type)) + " route for " + block.to_string() +
                 ", a block this node does not own (" + who() +
                 " owns it): its pods are "
                 "unreachable from here";
      v.fix =
          "a stale block affinity or a leftover route: check IPAM blocks (calicoctl ipam "
          "check; calicoctl ipam show --show-blocks) and remove the route (ip route del " +
          block.to_string() + ")";
      return v;
    }
    if (r.nexthops.size() != 1) {
      v.kind =
          r.nexthops.empty() ? VerdictKind::kPodRouteWrongNextHop : VerdictKind::kPodRouteDuplicate;
      v.reason = r.nexthops.empty() ? "route for " + block.to_string() + " has no next hop"
                                    : "route for " + block.to_string() + " spreads over " +
                                          std::to_string(r.nexthops.size()) +
                                          " next hops; a pod block lives on one node";
      v.fix = "replace the route with one via " + who();
      return v;
    }
    const NextHop& nh = r.nexthops.front();
    const Link* dev = t_.link(nh.ifindex);
    const std::string dev_name = dev ? dev->name : t_.link_name(nh.ifindex);
    if (!dev || !dev->usable()) {
      v.kind = VerdictKind::kPodRouteLinkDown;
      v.reason = "the next hop device " + dev_name + (dev ? " is down" : " does not exist");
      v.fix = is_ipip_link(dev) || is_vxlan_link(dev) || dev_name == o_.ipip_device
                  ? "calico-node creates and brings up " + dev_name + ": check it runs"
                  : "bring the link up (ip link set " + dev_name + " up) or fix its cable/NIC";
      return v;
    }
    const bool via_ipip = is_ipip_link(dev);
    const bool via_vxlan = is_vxlan_link(dev);
    const bool tunneled = via_ipip || via_vxlan;
    const bool want_tunnel =
        expects_tunnel_always(p.encapsulation) || (is_cross_subnet(p.encapsulation) && !subnet);
    const bool want_direct =
        p.encapsulation == Encapsulation::kNone || (is_cross_subnet(p.encapsulation) && subnet);

    if (tunneled) {
      if (want_direct && is_cross_subnet(p.encapsulation)) {
        v.kind = VerdictKind::kPodRouteEncapsulatedSameSubnet;
        v.reason = who() + " is in this node's subnet (" + subnet->network().to_string() +
                   ") but traffic to it is encapsulated over " + dev_name +
                   (host_prefix_ ? ": the node address is registered as a host prefix"
                                 : ": CrossSubnet judged the peer remote");
        v.fix = host_prefix_ ? "register the node addresses with their subnet prefix, not /32"
                             : "check both nodes' registered addresses and prefixes (calicoctl "
                               "get node -o wide)";
        return v;
      }
      if (want_direct || (expects_ipip(p.encapsulation) && via_vxlan) ||
          (expects_vxlan(p.encapsulation) && via_ipip)) {
        v.kind = VerdictKind::kPodRouteEncapsulationMismatch;
        v.reason = "route to " + who() + " goes over " + dev_name + " but the pool says " + enc();
        v.fix =
            "make the IP pool's ipipMode/vxlanMode and the expected encapsulation agree, "
            "then let calico-node reprogram the routes";
        return v;
      }
      std::optional<IpAddress> want_gw = p.node_ip;
      if (via_vxlan) want_gw = p.tunnel_address;  // unknown VTEP: any gateway is accepted
      if (!nh.gateway || (want_gw && *nh.gateway != *want_gw)) {
        v.kind = VerdictKind::kPodRouteWrongNextHop;
        v.reason = "route over " + dev_name + " goes via " +
                   (nh.gateway ? nh.gateway->to_string() : std::string("no gateway")) +
                   ", expected " +
                   (via_vxlan ? "the peer's VTEP " + want_gw->to_string()
                              : "the peer's node address " + p.node_ip.to_string());
        v.fix = via_vxlan ? "the VTEP address changed: check calicoctl get node " + p.name +
                                " (ipv4VXLANTunnelAddr) and restart calico-node here"
                          : "BIRD learned a wrong next hop: check the peer's BGP address";
        return v;
      }
      if (!nh.onlink) {
        v.kind = VerdictKind::kPodRouteNotOnlink;
        v.reason = "tunnel route over " + dev_name + " without onlink: the kernel resolves " +
                   nh.gateway->to_string() + " through other routes";
        v.fix = "Calico programs tunnel routes with onlink; recreate it (ip route replace " +
                block.to_string() + " via " + nh.gateway->to_string() + " dev " + dev_name +
                " onlink)";
        return v;
      }
      v.kind = VerdictKind::kHealthy;
      v.reason.reserve(64);
      v.reason += via_ipip ? "IPIP via " : "VXLAN via ";
      v.reason += nh.gateway->to_string();
      v.reason += " dev ";
      v.reason += dev_name;
      v.reason += " onlink";
      return v;
    }

    // A plain route on an uplink.
    if (!nh.gateway) {
      v.kind = VerdictKind::kPodRouteWrongNextHop;
      v.reason = "route for " + block.to_string() + " points at " + dev_name +
                 " without a next hop; " + who() + " never sees the traffic";
      v.fix = "route the block via " + who();
      return v;
    }
    if (*nh.gateway == p.node_ip) {
      if (want_tunnel) {
        v.kind = VerdictKind::kPodRouteNotEncapsulated;
        v.reason = "the pool says " + enc() + " but the route to " + who() + " is plain (dev " +
                   dev_name + ")" +
                   (subnet ? ""
                           : "; the peer is in another subnet, so the network between "
                             "drops pod addresses");
        v.fix = "check that calico-node runs with the pool's encapsulation and that " +
                std::string(expects_vxlan(p.encapsulation) ? "vxlan.calico" : o_.ipip_device) +
                " exists";
        return v;
      }
      v.kind = VerdictKind::kHealthy;
      v.reason.reserve(64);
      v.reason += "direct via ";
      v.reason += p.node_ip.to_string();
      v.reason += " dev ";
      v.reason += dev_name;
      if (subnet) {
        v.reason += " (same subnet ";
        v.reason += subnet->network().to_string();
        v.reason += ')';
      }
      return v;
    }
    if (peer_ips_.count(*nh.gateway)) {
      v.kind = VerdictKind::kPodRouteWrongNextHop;
      v.reason = "route for " + block.to_string() + " of " + who() + " goes via another node, " +
                 nh.gateway->to_string();
      v.fix =
          "two nodes claim the block, or BIRD learned it from the wrong peer: check IPAM "
          "block affinities (calicoctl ipam show --show-blocks)";
      return v;
    }
    if (!subnet) {
      v.kind = VerdictKind::kPodRouteViaGateway;
      v.reason = who() + " is in another subnet than this node, and the route for " +
                 block.to_string() + " resolved its next hop to the gateway " +
                 nh.gateway->to_string() + " dev " + dev_name +
                 " instead of the peer; the gateway knows no pod CIDRs and drops the traffic";
      v.fix = want_tunnel ? "the pool expects " + enc() +
                                " but the route is not encapsulated: check that calico-node "
                                "runs, that " +
                                std::string(expects_vxlan(p.encapsulation) ? "vxlan.calico"
                                                                           : o_.ipip_device) +
                                " exists, and that both nodes are registered with their "
                                "subnet prefix"
                          : std::string(kCrossSubnetFix);
      return v;
    }
    v.kind = VerdictKind::kPodRouteWrongNextHop;
    v.reason = "route for " + block.to_string() + " goes via " + nh.gateway->to_string() +
               ", which is not " + who() + " though both are in " + subnet->network().to_string();
    v.fix =
        "route the block via the peer's node address (check the peer's registered BGP "
        "address)";
    return v;
  }

  const RouteTable& t_;
  const std::vector<Peer>& peers_;
  const NodeFacts& node_;
  const ClassifierOptions& o_;
  // Routes per destination: almost always one, so the first is kept inline (no allocation).
  struct Slot {
    const Route* first = nullptr;
    std::vector<const Route*> more;
    void add(const Route* r) {
      if (!first) {
        first = r;
      } else {
        more.push_back(r);
      }
    }
    size_t size() const { return first ? 1 + more.size() : 0; }
    bool empty() const { return !first; }
    const Route* at(size_t i) const { return i == 0 ? first : more[i - 1]; }
    const Route* front() const { return first; }
    bool any_drops_not_kernel() const {
      for (size_t i = 0; i < size(); ++i) {
        if (at(i)->drops() && at(i)->protocol != kProtoKernel) return true;
      }
      return false;
    }
  };
  std::unordered_map<IpPrefix, Slot, IpPrefixHash> by_dst_;
  std::vector<const Address*> uplinks_;
  std::unordered_set<IpAddress, IpAddressHash> peer_ips_;
  std::unordered_set<IpPrefix, IpPrefixHash> peer_blocks_;
  bool host_prefix_ = false;
};

}  // namespace

std::vector<RouteVerdict> classify(const RouteTable& table, const std::vector<Peer>& peers,
                                   const NodeFacts& node, const ClassifierOptions& options) {
  return Classifier(table, peers, node, options).run();
}

}  // namespace ng::probes::routes
