#include "probes/routes/route_messages.h"

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <optional>
#include <string>

extern "C" {
#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
}

namespace ng::probes::routes {
namespace {

std::optional<IpAddress> from_nl(const nl_addr* a) {
  if (!a) return std::nullopt;
  IpAddress out;
  const int fam = nl_addr_get_family(a);
  const unsigned len = nl_addr_get_len(a);
  if (fam == AF_INET) {
    out.family = Family::kV4;
    if (len != 0 && len != 4) return std::nullopt;
  } else if (fam == AF_INET6) {
    out.family = Family::kV6;
    if (len != 0 && len != 16) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (len) std::memcpy(out.bytes.data(), nl_addr_get_binary_addr(a), len);
  return out;
}

RouteType route_type(std::uint8_t t) {
  switch (t) {
    case RTN_UNICAST:
      return RouteType::kUnicast;
    case RTN_LOCAL:
      return RouteType::kLocal;
    case RTN_BROADCAST:
    case RTN_ANYCAST:
    case RTN_MULTICAST:
      return RouteType::kBroadcast;
    case RTN_BLACKHOLE:
      return RouteType::kBlackhole;
    case RTN_UNREACHABLE:
      return RouteType::kUnreachable;
    case RTN_PROHIBIT:
      return RouteType::kProhibit;
    default:
      return RouteType::kOther;
  }
}

std::optional<Route> convert_route(rtnl_route* r) {
  const int fam = rtnl_route_get_family(r);
  if (fam != AF_INET && fam != AF_INET6) return std::nullopt;
  Route out;
  nl_addr* dst = rtnl_route_get_dst(r);
  IpAddress addr;
  addr.family = fam == AF_INET ? Family::kV4 : Family::kV6;
  int len = 0;
  if (dst) {
    auto a = from_nl(dst);
    if (!a) return std::nullopt;
    if (nl_addr_get_len(dst)) addr = *a;
    len = static_cast<int>(nl_addr_get_prefixlen(dst));
  }
  if (len > addr.bits()) return std::nullopt;  // rtm_dst_len past the family's width
  out.dst = IpPrefix::of(addr, len);
  out.table = rtnl_route_get_table(r);
  out.protocol = rtnl_route_get_protocol(r);
  out.type = route_type(rtnl_route_get_type(r));
  out.metric = rtnl_route_get_priority(r);
  out.tos = rtnl_route_get_tos(r);
  const bool route_onlink = rtnl_route_get_flags(r) & RTNH_F_ONLINK;
  const int n = rtnl_route_get_nnexthops(r);
  for (int i = 0; i < n; ++i) {
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, i);
    if (!nh) continue;
    NextHop h;
    h.ifindex = rtnl_route_nh_get_ifindex(nh);
    h.gateway = from_nl(rtnl_route_nh_get_gateway(nh));
    h.onlink = route_onlink || (rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK);
    out.nexthops.push_back(h);
  }
  return out;
}

struct ParseResult {
  bool changed = false;
  bool remove = false;
  RouteTable* table = nullptr;
};

void on_object(nl_object* obj, void* arg) {
  auto* ctx = static_cast<ParseResult*>(arg);
  const std::string type = nl_object_get_type(obj);
  if (type == "route/link") {
    auto* l = reinterpret_cast<rtnl_link*>(obj);
    const int index = rtnl_link_get_ifindex(l);
    if (ctx->remove) {
      ctx->table->remove_link(index);
    } else {
      Link link;
      link.index = index;
      if (const char* name = rtnl_link_get_name(l)) link.name = name;
      if (const char* kind = rtnl_link_get_type(l)) link.kind = kind;
      link.admin_up = rtnl_link_get_flags(l) & IFF_UP;
      const auto oper = rtnl_link_get_operstate(l);
      link.carrier =
          oper != IF_OPER_DOWN && oper != IF_OPER_LOWERLAYERDOWN && oper != IF_OPER_NOTPRESENT;
      ctx->table->upsert_link(std::move(link));
    }
    ctx->changed = true;
  } else if (type == "route/addr") {
    auto* a = reinterpret_cast<rtnl_addr*>(obj);
    auto local = from_nl(rtnl_addr_get_local(a));
    if (!local) return;
    Address addr{rtnl_addr_get_ifindex(a), *local, rtnl_addr_get_prefixlen(a)};
    if (addr.length < 0 || addr.length > local->bits()) return;
    if (ctx->remove) {
      ctx->table->remove_address(addr);
    } else {
      ctx->table->add_address(addr);
    }
    ctx->changed = true;
  }
}

// The fixed header after nlmsghdr that each message type carries.
size_t family_header_size(std::uint16_t type) {
  switch (type) {
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
      return sizeof(rtmsg);
    case RTM_NEWLINK:
    case RTM_DELLINK:
      return sizeof(ifinfomsg);
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return sizeof(ifaddrmsg);
    default:
      return 0;
  }
}

// libnl 3.7's multipath parser loops for ever (allocating a nexthop each turn) on a nexthop whose
// rtnh_len is shorter than its header: the kernel never sends one, a corrupt or hostile buffer
// can (found by the route_messages fuzzer). Such a message is refused before libnl sees it.
bool multipath_well_formed(const nlmsghdr* h) {
  const auto* rtm = static_cast<const rtmsg*>(NLMSG_DATA(h));
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(rtmsg)));
  for (const rtattr* a = RTM_RTA(rtm); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (a->rta_type != RTA_MULTIPATH) continue;
    const auto* nh = static_cast<const rtnexthop*>(RTA_DATA(a));
    size_t left = RTA_PAYLOAD(a);
    while (left >= sizeof(rtnexthop)) {
      if (nh->rtnh_len < sizeof(rtnexthop) || nh->rtnh_len > left) return false;
      const size_t step = static_cast<size_t>(RTNH_ALIGN(nh->rtnh_len));
      left -= step < left ? step : left;
      nh = RTNH_NEXT(nh);
    }
  }
  return true;
}

}  // namespace

bool apply_route_message(const nlmsghdr* h, RouteTable& table) {
  const size_t need = family_header_size(h->nlmsg_type);
  // Unknown types, and news too short to carry their header (never from the kernel; a
  // truncated or hostile buffer), change nothing.
  if (need == 0 || h->nlmsg_len < NLMSG_LENGTH(need)) return false;
  switch (h->nlmsg_type) {
    case RTM_NEWROUTE:
    case RTM_DELROUTE: {
      if (!multipath_well_formed(h)) return false;
      rtnl_route* r = nullptr;
      if (rtnl_route_parse(const_cast<nlmsghdr*>(h), &r) < 0 || !r) return false;
      auto route = convert_route(r);
      rtnl_route_put(r);
      if (!route) return false;
      if (h->nlmsg_type == RTM_NEWROUTE) {
        table.upsert_route(std::move(*route));
      } else {
        table.remove_route(RouteKey::of(*route));
      }
      return true;
    }
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
      if (ifi->ifi_family == AF_BRIDGE) return false;  // bridge port news, not the link itself
      [[fallthrough]];
    }
    default: {
      nl_msg* m = nlmsg_convert(const_cast<nlmsghdr*>(h));
      if (!m) return false;
      nlmsg_set_proto(m, NETLINK_ROUTE);
      ParseResult ctx;
      ctx.remove = h->nlmsg_type == RTM_DELLINK || h->nlmsg_type == RTM_DELADDR;
      ctx.table = &table;
      nl_msg_parse(m, on_object, &ctx);
      nlmsg_free(m);
      return ctx.changed;
    }
  }
}

MessageWalk apply_route_messages(std::span<const std::uint8_t> bytes, RouteTable& table) {
  MessageWalk w;
  // NLMSG_NEXT needs an aligned header: work on an aligned copy, as recv() fills one.
  std::string buf(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  int len = static_cast<int>(buf.size());
  for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, static_cast<unsigned>(len));
       h = NLMSG_NEXT(h, len)) {
    ++w.messages;
    if (h->nlmsg_type == NLMSG_DONE) {
      w.done = true;
      continue;
    }
    if (h->nlmsg_type == NLMSG_ERROR) {
      ++w.errors;
      continue;
    }
    if (apply_route_message(h, table)) ++w.applied;
  }
  return w;
}

}  // namespace ng::probes::routes
