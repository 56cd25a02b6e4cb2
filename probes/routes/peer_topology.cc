#include "probes/routes/peer_topology.h"

#include <algorithm>
#include <map>

namespace ng::probes::routes {

std::optional<Peer> peer_from_spec(const PeerSpec& spec, PeerSource source, std::string* error) {
  Peer p;
  auto ip = IpAddress::parse(spec.node_ip);
  if (!ip) {
    *error = "node_ip: not an IP address: \"" + spec.node_ip + "\"";
    return std::nullopt;
  }
  p.node_ip = *ip;
  p.name = spec.name.empty() ? spec.node_ip : spec.name;
  for (size_t i = 0; i < spec.blocks.size(); ++i) {
    auto b = IpPrefix::parse(spec.blocks[i]);
    if (!b) {
      *error = "blocks[" + std::to_string(i) + "]: not a CIDR block: \"" + spec.blocks[i] + "\"";
      return std::nullopt;
    }
    p.blocks.push_back(*b);
  }
  if (!spec.tunnel_address.empty()) {
    auto t = IpAddress::parse(spec.tunnel_address);
    if (!t) {
      *error = "tunnel_address: not an IP address: \"" + spec.tunnel_address + "\"";
      return std::nullopt;
    }
    p.tunnel_address = *t;
  }
  auto e = parse_encapsulation(spec.encapsulation);
  if (!e) {
    *error =
        "encapsulation: must be one of none, ipip, vxlan, ipip-crosssubnet, "
        "vxlan-crosssubnet; got \"" +
        spec.encapsulation + "\"";
    return std::nullopt;
  }
  p.encapsulation = *e;
  p.sources = {source};
  return p;
}

std::vector<Peer> PeerTopology::merged() const {
  std::map<IpAddress, Peer> by_ip;
  std::vector<IpAddress> order;  // first seen, so output is stable
  // Least authoritative first; later sources overwrite what they set.
  for (const auto* list : {&bird_, &config_, &controller_}) {
    for (const Peer& p : *list) {
      auto [it, inserted] = by_ip.try_emplace(p.node_ip, Peer{});
      Peer& m = it->second;
      if (inserted) {
        m.node_ip = p.node_ip;
        order.push_back(p.node_ip);
      }
      if (!p.name.empty() && (m.name.empty() || p.sources.front() != PeerSource::kBird)) {
        m.name = p.name;
      }
      if (p.tunnel_address) m.tunnel_address = p.tunnel_address;
      if (p.encapsulation != Encapsulation::kUnknown) m.encapsulation = p.encapsulation;
      for (const auto& b : p.blocks) {
        if (std::find(m.blocks.begin(), m.blocks.end(), b) == m.blocks.end()) {
          m.blocks.push_back(b);
        }
      }
      for (auto s : p.sources) {
        if (std::find(m.sources.begin(), m.sources.end(), s) == m.sources.end()) {
          m.sources.push_back(s);
        }
      }
    }
  }
  std::vector<Peer> out;
  out.reserve(order.size());
  for (const auto& ip : order) {
    Peer p = std::move(by_ip[ip]);
    if (p.name.empty()) p.name = ip.to_string();
    std::sort(p.sources.begin(), p.sources.end());
    out.push_back(std::move(p));
  }
  return out;
}

size_t PeerTopology::count(PeerSource s) const {
  switch (s) {
    case PeerSource::kBird:
      return bird_.size();
    case PeerSource::kConfig:
      return config_.size();
    case PeerSource::kController:
      return controller_.size();
  }
  return 0;
}

}  // namespace ng::probes::routes
