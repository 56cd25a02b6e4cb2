#include "probes/routes/route_table.h"

#include <algorithm>

namespace ng::probes::routes {

std::string_view to_string(RouteType t) {
  switch (t) {
    case RouteType::kUnicast:
      return "unicast";
    case RouteType::kLocal:
      return "local";
    case RouteType::kBroadcast:
      return "broadcast";
    case RouteType::kBlackhole:
      return "blackhole";
    case RouteType::kUnreachable:
      return "unreachable";
    case RouteType::kProhibit:
      return "prohibit";
    case RouteType::kOther:
      return "other";
  }
  return "other";
}

std::string protocol_name(std::uint8_t protocol) {
  switch (protocol) {
    case kProtoKernel:
      return "kernel";
    case kProtoBoot:
      return "boot";
    case kProtoStatic:
      return "static";
    case kProtoBird:
      return "bird";
    default:
      return std::to_string(protocol);
  }
}

void RouteTable::remove_link(int index) {
  links_.erase(index);
  std::erase_if(addresses_, [index](const Address& a) { return a.ifindex == index; });
}

void RouteTable::add_address(const Address& a) {
  if (std::find(addresses_.begin(), addresses_.end(), a) == addresses_.end()) {
    addresses_.push_back(a);
  }
}

void RouteTable::remove_address(const Address& a) {
  std::erase(addresses_, a);
}

const Link* RouteTable::link(int index) const {
  auto it = links_.find(index);
  return it == links_.end() ? nullptr : &it->second;
}

const Link* RouteTable::link_by_name(const std::string& name) const {
  for (const auto& [_, l] : links_) {
    if (l.name == name) return &l;
  }
  return nullptr;
}

std::string RouteTable::link_name(int index) const {
  const Link* l = link(index);
  return l ? l->name : "if" + std::to_string(index);
}

std::string RouteTable::describe(const Route& r) const {
  std::string out;
  out.reserve(64);
  auto append = [&out](std::string_view s) {
    if (!out.empty()) out += ' ';
    out += s;
  };
  if (r.type != RouteType::kUnicast) append(to_string(r.type));
  for (const NextHop& nh : r.nexthops) {
    if (r.nexthops.size() > 1) append("nexthop");
    if (nh.gateway) {
      append("via ");
      out += nh.gateway->to_string();
    }
    if (nh.ifindex) {
      append("dev ");
      const Link* l = link(nh.ifindex);
      if (l) {
        out += l->name;
      } else {
        out += "if" + std::to_string(nh.ifindex);
      }
    }
    if (nh.onlink) append("onlink");
  }
  append("proto ");
  out += protocol_name(r.protocol);
  if (r.metric) {
    append("metric ");
    out += std::to_string(r.metric);
  }
  if (r.table != kMainTable) {
    append("table ");
    out += std::to_string(r.table);
  }
  return out;
}

}  // namespace ng::probes::routes
