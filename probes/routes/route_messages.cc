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

// libnl 3.7 trusts the kernel: its route parser loops for ever (allocating a nexthop each turn)
// on a multipath nexthop whose rtnh_len is shorter than its header, and copies a negative size
// for an RTA_VIA shorter than its family field. The kernel never sends either; a corrupt or
// hostile buffer can (both found by the route_messages fuzzer). Such messages are refused
// before libnl sees them.
// The type as libnl reads it: without the NESTED and byte-order flag bits.
int attr_type(const rtattr* a) {
  return a->rta_type & NLA_TYPE_MASK;
}

bool route_attr_well_formed(const rtattr* a) {
  const size_t n = RTA_PAYLOAD(a);
  switch (attr_type(a)) {
    case RTA_DST:
    case RTA_SRC:
    case RTA_GATEWAY:
    case RTA_PREFSRC:
      return n == 4 || n == 16;
    case RTA_VIA:
      return n >= sizeof(rtvia);
    default:
      return true;
  }
}

bool attrs_well_formed(const rtattr* a, int len, bool top) {
  for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (!route_attr_well_formed(a)) return false;
    if (!top || attr_type(a) != RTA_MULTIPATH) continue;
    const auto* nh = static_cast<const rtnexthop*>(RTA_DATA(a));
    size_t left = RTA_PAYLOAD(a);
    while (left >= sizeof(rtnexthop)) {
      // (libnl subtracts the aligned length from a size_t: it must fit, or it wraps around)
      if (nh->rtnh_len < sizeof(rtnexthop) ||
          static_cast<size_t>(RTNH_ALIGN(nh->rtnh_len)) > left) {
        return false;
      }
      if (!attrs_well_formed(RTNH_DATA(nh), static_cast<int>(nh->rtnh_len - RTNH_LENGTH(0)),
                             false)) {
        return false;
      }
      left -= static_cast<size_t>(RTNH_ALIGN(nh->rtnh_len));
      nh = RTNH_NEXT(nh);
    }
  }
  return true;
}

bool route_message_well_formed(const nlmsghdr* h) {
  const auto* rtm = static_cast<const rtmsg*>(NLMSG_DATA(h));
  const int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(rtmsg)));
  return attrs_well_formed(RTM_RTA(rtm), len, true);
}

// Links and addresses are read here, not through libnl's cache parsers: those follow nested
// attributes without checking them (a SEGV in nla_parse_nested on a corrupt IFLA_LINKINFO,
// found by the route_messages fuzzer), and only a few fields are needed.
std::string attr_string(const rtattr* a) {
  const char* p = static_cast<const char*>(RTA_DATA(a));
  const size_t n = RTA_PAYLOAD(a);
  return std::string(p, strnlen(p, n));
}

bool apply_link(const nlmsghdr* h, RouteTable& table) {
  const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  if (ifi->ifi_family == AF_BRIDGE) return false;  // bridge port news, not the link itself
  if (ifi->ifi_index <= 0) return false;
  if (h->nlmsg_type == RTM_DELLINK) {
    table.remove_link(ifi->ifi_index);
    return true;
  }
  Link link;
  link.index = ifi->ifi_index;
  link.admin_up = ifi->ifi_flags & IFF_UP;
  std::uint8_t oper = IF_OPER_UNKNOWN;
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(ifinfomsg)));
  for (const rtattr* a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    switch (attr_type(a)) {
      case IFLA_IFNAME:
        link.name = attr_string(a);
        break;
      case IFLA_OPERSTATE:
        if (RTA_PAYLOAD(a) >= 1) oper = *static_cast<const std::uint8_t*>(RTA_DATA(a));
        break;
      case IFLA_LINKINFO: {
        int n = static_cast<int>(RTA_PAYLOAD(a));
        for (const rtattr* i = static_cast<const rtattr*>(RTA_DATA(a)); RTA_OK(i, n);
             i = RTA_NEXT(i, n)) {
          if (attr_type(i) == IFLA_INFO_KIND) link.kind = attr_string(i);
        }
        break;
      }
      default:
        break;
    }
  }
  link.carrier =
      oper != IF_OPER_DOWN && oper != IF_OPER_LOWERLAYERDOWN && oper != IF_OPER_NOTPRESENT;
  table.upsert_link(std::move(link));
  return true;
}

bool apply_address(const nlmsghdr* h, RouteTable& table) {
  const auto* ifa = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
  const size_t want = ifa->ifa_family == AF_INET ? 4 : ifa->ifa_family == AF_INET6 ? 16 : 0;
  if (want == 0) return false;
  const rtattr* local = nullptr;
  const rtattr* address = nullptr;
  int len = static_cast<int>(h->nlmsg_len) - static_cast<int>(NLMSG_LENGTH(sizeof(ifaddrmsg)));
  for (const rtattr* a = IFA_RTA(ifa); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
    if (attr_type(a) == IFA_LOCAL) local = a;
    if (attr_type(a) == IFA_ADDRESS) address = a;
  }
  // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer on point-to-point links);
  // IPv6 sends only IFA_ADDRESS.
  const rtattr* a = local ? local : address;
  if (!a || RTA_PAYLOAD(a) != want) return false;
  IpAddress ip;
  ip.family = want == 4 ? Family::kV4 : Family::kV6;
  std::memcpy(ip.bytes.data(), RTA_DATA(a), want);
  Address addr{static_cast<int>(ifa->ifa_index), ip, ifa->ifa_prefixlen};
  if (addr.length < 0 || addr.length > ip.bits()) return false;
  if (h->nlmsg_type == RTM_DELADDR) {
    table.remove_address(addr);
  } else {
    table.add_address(addr);
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
      if (!route_message_well_formed(h)) return false;
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
    case RTM_DELLINK:
      return apply_link(h, table);
    default:
      return apply_address(h, table);  // RTM_NEWADDR, RTM_DELADDR (family_header_size vetted)
  }
}

MessageWalk apply_route_messages(std::span<const std::uint8_t> bytes, RouteTable& table) {
  MessageWalk w;
  // NLMSG_NEXT needs an aligned header: work on an aligned copy, as recv() fills one.
  std::string buf(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  int len = static_cast<int>(buf.size());
  // NLMSG_NEXT can take len below zero (an unaligned last message): test the sign before the
  // unsigned NLMSG_OK (found by the route_messages fuzzer: it read past the buffer).
  const auto ok = [&len](const nlmsghdr* h) {
    return len >= static_cast<int>(sizeof(nlmsghdr)) && NLMSG_OK(h, static_cast<unsigned>(len));
  };
  for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); ok(h); h = NLMSG_NEXT(h, len)) {
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
