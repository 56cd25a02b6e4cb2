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

  // One peer block being classified: the verdict so far and the words its problems need.
  struct BlockCheck {
    const Peer& p;
    const IpPrefix& block;
    const Address* subnet;  // the uplink subnet the peer is in, or null
    RouteVerdict v;
    std::string who_text;

    // Only problems need these words; healthy blocks (the common case) skip building them.
    const std::string& who() {
      if (who_text.empty()) {
        const std::string ip = p.node_ip.to_string();
        who_text = p.name == ip ? p.name : p.name + " (" + ip + ")";
      }
      return who_text;
    }
    std::string enc() const { return std::string(to_string(p.encapsulation)); }
    RouteVerdict done() { return std::move(v); }
    RouteVerdict verdict(VerdictKind kind, std::string reason, std::string fix) {
      v.kind = kind;
      v.reason = std::move(reason);
      v.fix = std::move(fix);
      return done();
    }
  };

  // The route's one next hop and its device.
  struct Hop {
    const NextHop& nh;
    const Link* dev;
    std::string dev_name;
  };

  RouteVerdict classify_block(const Peer& p, const IpPrefix& block) const {
    BlockCheck c{p, block, subnet_of(p.node_ip), {}, {}};
    c.v.peer = p.name;
    c.v.peer_ip = p.node_ip;
    c.v.block = block;
    c.v.encapsulation = p.encapsulation;
    c.v.same_subnet = c.subnet != nullptr;

    auto it = by_dst_.find(block);
    if (it == by_dst_.end() || it->second.empty()) return route_missing(c);
    const auto& found = it->second;
    for (size_t i = 0; i < found.size(); ++i) {
      if (i) c.v.route += "; ";
      c.v.route += t_.describe(*found.at(i));
    }
    if (found.size() > 1) return duplicate_routes(c, found.size());
    const Route& r = *found.front();
    if (r.drops()) return foreign_blackhole(c, r);
    if (r.nexthops.size() != 1) return not_one_next_hop(c, r);
    const NextHop& nh = r.nexthops.front();
    const Link* dev = t_.link(nh.ifindex);
    const Hop hop{nh, dev, dev ? dev->name : t_.link_name(nh.ifindex)};
    if (!dev || !dev->usable()) return link_down(c, hop);
    if (is_ipip_link(dev) || is_vxlan_link(dev)) return tunneled_route(c, hop);
    return plain_route(c, hop);
  }

  RouteVerdict route_missing(BlockCheck& c) const {
    const Peer& p = c.p;
    return c.verdict(
        VerdictKind::kPodRouteMissing,
        "no route for " + c.block.to_string() + " of " + c.who() + " in table " +
            std::to_string(o_.table) + "; pod traffic to it follows the default route",
        expects_vxlan(p.encapsulation)
            ? "Felix programs VXLAN routes: check that calico-node runs on this node and "
              "knows the peer's VTEP (calicoctl get node " +
                  p.name + " -o yaml: ipv4VXLANTunnelAddr)"
            : "check the BGP session to " + c.who() +
                  " (ngctl peers) and that BIRD exports its routes to the kernel");
  }

  static RouteVerdict duplicate_routes(BlockCheck& c, size_t count) {
    return c.verdict(VerdictKind::kPodRouteDuplicate,
                     std::to_string(count) + " routes for " + c.block.to_string() + " of " +
                         c.who() + ": the first by metric wins and the others hide a disagreement",
                     "two route programmers disagree (BIRD and Felix, or a leftover static route): "
                     "delete the stale one (ip route del " +
                         c.block.to_string() + " <its next hop and metric>)");
  }

  static RouteVerdict foreign_blackhole(BlockCheck& c, const Route& r) {
    return c.verdict(
        VerdictKind::kPodRouteBlackhole,
        std::string(to_string(r.type)) + " route for " + c.block.to_string() +
            ", a block this node does not own (" + c.who() +
            " owns it): its pods are "
            "unreachable from here",
        "a stale block affinity or a leftover route: check IPAM blocks (calicoctl ipam "
        "check; calicoctl ipam show --show-blocks) and remove the route (ip route del " +
            c.block.to_string() + ")");
  }

  static RouteVerdict not_one_next_hop(BlockCheck& c, const Route& r) {
    const std::string block = c.block.to_string();
    return c.verdict(
        r.nexthops.empty() ? VerdictKind::kPodRouteWrongNextHop : VerdictKind::kPodRouteDuplicate,
        r.nexthops.empty()
            ? "route for " + block + " has no next hop"
            : "route for " + block + " spreads over " + std::to_string(r.nexthops.size()) +
                  " next hops; a pod block lives on one node",
        "replace the route with one via " + c.who());
  }

  RouteVerdict link_down(BlockCheck& c, const Hop& hop) const {
    const std::string& dev_name = hop.dev_name;
    return c.verdict(
        VerdictKind::kPodRouteLinkDown,
        "the next hop device " + dev_name + (hop.dev ? " is down" : " does not exist"),
        is_ipip_link(hop.dev) || is_vxlan_link(hop.dev) || dev_name == o_.ipip_device
            ? "calico-node creates and brings up " + dev_name + ": check it runs"
            : "bring the link up (ip link set " + dev_name + " up) or fix its cable/NIC");
  }

  // The pool wants this peer reached without encapsulation.
  static bool wants_direct(const BlockCheck& c) {
    const Encapsulation e = c.p.encapsulation;
    return e == Encapsulation::kNone || (is_cross_subnet(e) && c.subnet);
  }
  // The pool wants this peer reached through a tunnel.
  static bool wants_tunnel(const BlockCheck& c) {
    const Encapsulation e = c.p.encapsulation;
    return expects_tunnel_always(e) || (is_cross_subnet(e) && !c.subnet);
  }

  // A route over an IPIP or VXLAN device.
  RouteVerdict tunneled_route(BlockCheck& c, const Hop& hop) const {
    const Peer& p = c.p;
    const bool via_ipip = is_ipip_link(hop.dev);
    const bool via_vxlan = is_vxlan_link(hop.dev);
    const bool want_direct = wants_direct(c);
    if (want_direct && is_cross_subnet(p.encapsulation)) return encapsulated_same_subnet(c, hop);
    if (want_direct || (expects_ipip(p.encapsulation) && via_vxlan) ||
        (expects_vxlan(p.encapsulation) && via_ipip)) {
      return c.verdict(
          VerdictKind::kPodRouteEncapsulationMismatch,
          "route to " + c.who() + " goes over " + hop.dev_name + " but the pool says " + c.enc(),
          "make the IP pool's ipipMode/vxlanMode and the expected encapsulation agree, "
          "then let calico-node reprogram the routes");
    }
    const NextHop& nh = hop.nh;
    std::optional<IpAddress> want_gw = p.node_ip;
    if (via_vxlan) want_gw = p.tunnel_address;  // unknown VTEP: any gateway is accepted
    if (!nh.gateway || (want_gw && *nh.gateway != *want_gw)) {
      return wrong_tunnel_gateway(c, hop, via_vxlan, want_gw);
    }
    if (!nh.onlink) {
      return c.verdict(VerdictKind::kPodRouteNotOnlink,
                       "tunnel route over " + hop.dev_name +
                           " without onlink: the kernel resolves " + nh.gateway->to_string() +
                           " through other routes",
                       "Calico programs tunnel routes with onlink; recreate it (ip route replace " +
                           c.block.to_string() + " via " + nh.gateway->to_string() + " dev " +
                           hop.dev_name + " onlink)");
    }
    c.v.kind = VerdictKind::kHealthy;
    c.v.reason.reserve(64);
    c.v.reason += via_ipip ? "IPIP via " : "VXLAN via ";
    c.v.reason += nh.gateway->to_string();
    c.v.reason += " dev ";
    c.v.reason += hop.dev_name;
    c.v.reason += " onlink";
    return c.done();
  }

  RouteVerdict encapsulated_same_subnet(BlockCheck& c, const Hop& hop) const {
    return c.verdict(VerdictKind::kPodRouteEncapsulatedSameSubnet,
                     c.who() + " is in this node's subnet (" + c.subnet->network().to_string() +
                         ") but traffic to it is encapsulated over " + hop.dev_name +
                         (host_prefix_ ? ": the node address is registered as a host prefix"
                                       : ": CrossSubnet judged the peer remote"),
                     host_prefix_
                         ? "register the node addresses with their subnet prefix, not /32"
                         : "check both nodes' registered addresses and prefixes (calicoctl "
                           "get node -o wide)");
  }

  static RouteVerdict wrong_tunnel_gateway(BlockCheck& c, const Hop& hop, bool via_vxlan,
                                           const std::optional<IpAddress>& want_gw) {
    const Peer& p = c.p;
    const NextHop& nh = hop.nh;
    return c.verdict(VerdictKind::kPodRouteWrongNextHop,
                     "route over " + hop.dev_name + " goes via " +
                         (nh.gateway ? nh.gateway->to_string() : std::string("no gateway")) +
                         ", expected " +
                         (!via_vxlan ? "the peer's node address " + p.node_ip.to_string()
                          : want_gw  ? "the peer's VTEP " + want_gw->to_string()
                                     : std::string("a gateway (the peer's VTEP is not known)")),
                     via_vxlan ? "the VTEP address changed: check calicoctl get node " + p.name +
                                     " (ipv4VXLANTunnelAddr) and restart calico-node here"
                               : "BIRD learned a wrong next hop: check the peer's BGP address");
  }

  // The device calico-node encapsulates this peer's traffic with.
  std::string tunnel_device(const BlockCheck& c) const {
    return std::string(expects_vxlan(c.p.encapsulation) ? "vxlan.calico" : o_.ipip_device);
  }

  // A plain route on an uplink.
  RouteVerdict plain_route(BlockCheck& c, const Hop& hop) const {
    const NextHop& nh = hop.nh;
    const std::string& dev_name = hop.dev_name;
    if (!nh.gateway) {
      return c.verdict(VerdictKind::kPodRouteWrongNextHop,
                       "route for " + c.block.to_string() + " points at " + dev_name +
                           " without a next hop; " + c.who() + " never sees the traffic",
                       "route the block via " + c.who());
    }
    if (*nh.gateway == c.p.node_ip) return direct_to_peer(c, hop);
    if (peer_ips_.count(*nh.gateway)) {
      return c.verdict(
          VerdictKind::kPodRouteWrongNextHop,
          "route for " + c.block.to_string() + " of " + c.who() + " goes via another node, " +
              nh.gateway->to_string(),
          "two nodes claim the block, or BIRD learned it from the wrong peer: check IPAM "
          "block affinities (calicoctl ipam show --show-blocks)");
    }
    if (!c.subnet) {
      return c.verdict(
          VerdictKind::kPodRouteViaGateway,
          c.who() + " is in another subnet than this node, and the route for " +
              c.block.to_string() + " resolved its next hop to the gateway " +
              nh.gateway->to_string() + " dev " + dev_name +
              " instead of the peer; the gateway knows no pod CIDRs and drops the traffic",
          wants_tunnel(c) ? "the pool expects " + c.enc() +
                                " but the route is not encapsulated: check that "
                                "calico-node runs, that " +
                                tunnel_device(c) +
                                " exists, and that both nodes are registered with their "
                                "subnet prefix"
                          : std::string(kCrossSubnetFix));
    }
    return c.verdict(VerdictKind::kPodRouteWrongNextHop,
                     "route for " + c.block.to_string() + " goes via " + nh.gateway->to_string() +
                         ", which is not " + c.who() + " though both are in " +
                         c.subnet->network().to_string(),
                     "route the block via the peer's node address (check the peer's registered BGP "
                     "address)");
  }

  // A plain route straight to the peer's node address.
  RouteVerdict direct_to_peer(BlockCheck& c, const Hop& hop) const {
    if (wants_tunnel(c)) {
      return c.verdict(VerdictKind::kPodRouteNotEncapsulated,
                       "the pool says " + c.enc() + " but the route to " + c.who() +
                           " is plain (dev " + hop.dev_name + ")" +
                           (c.subnet ? ""
                                     : "; the peer is in another subnet, so the network between "
                                       "drops pod addresses"),
                       "check that calico-node runs with the pool's encapsulation and that " +
                           tunnel_device(c) + " exists");
    }
    c.v.kind = VerdictKind::kHealthy;
    c.v.reason.reserve(64);
    c.v.reason += "direct via ";
    c.v.reason += c.p.node_ip.to_string();
    c.v.reason += " dev ";
    c.v.reason += hop.dev_name;
    if (c.subnet) {
      c.v.reason += " (same subnet ";
      c.v.reason += c.subnet->network().to_string();
      c.v.reason += ')';
    }
    return c.done();
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
