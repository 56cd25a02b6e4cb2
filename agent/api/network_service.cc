#include "agent/api/network_service.h"

#include <map>

#include "agent/api/proto_time.h"
#include "agent/api/unary_on_loop.h"

namespace ng::agent {
namespace {

namespace pr = probes::routes;
namespace v1 = nodeguard::v1;

constexpr int kMaxPeers = 100000;

void fill_session(const probes::bgp::BgpSession& s, v1::BgpSession& out) {
  const auto& p = s.protocol;
  out.set_socket(s.socket);
  out.set_name(p.name);
  out.set_state(p.state);
  out.set_bgp_state(p.bgp_state);
  out.set_since(p.since);
  out.set_info(p.info);
  out.set_last_error(p.last_error);
  if (p.neighbor_address) out.set_neighbor_address(p.neighbor_address->to_string());
  out.set_peer_type(s.peer_type);
  out.set_neighbor_as(p.neighbor_as);
}

}  // namespace

grpc::ServerUnaryReactor* NetworkService::ListPeers(grpc::CallbackServerContext* ctx,
                                                    const v1::ListPeersRequest*,
                                                    v1::ListPeersResponse* response) {
  return unary_on_loop(ctx, loop_, [this, response] {
    fill_peers(*response);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* NetworkService::ListRoutes(grpc::CallbackServerContext* ctx,
                                                     const v1::ListRoutesRequest* request,
                                                     v1::ListRoutesResponse* response) {
  return unary_on_loop(ctx, loop_, [this, request, response] {
    fill_routes(*request, *response);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* NetworkService::SetExpectedPeers(
    grpc::CallbackServerContext* ctx, const v1::SetExpectedPeersRequest* request,
    v1::SetExpectedPeersResponse* response) {
  return unary_on_loop(
      ctx, loop_, [this, request, response] { return set_expected_peers(*request, *response); });
}

grpc::ServerUnaryReactor* NetworkService::ListProbes(grpc::CallbackServerContext* ctx,
                                                     const v1::ListProbesRequest*,
                                                     v1::ListProbesResponse* response) {
  return unary_on_loop(ctx, loop_, [this, response] {
    fill_probes(*response);
    return grpc::Status::OK;
  });
}

void NetworkService::fill_peers(v1::ListPeersResponse& out) const {
  std::multimap<pr::IpAddress, const probes::bgp::BgpSession*> by_neighbor;
  if (bgp_) {
    for (const auto& s : bgp_->sessions()) {
      fill_session(s, *out.add_sessions());
      if (s.protocol.neighbor_address) by_neighbor.emplace(*s.protocol.neighbor_address, &s);
    }
    for (const auto& s : bgp_->sockets()) {
      auto* b = out.add_bird_sockets();
      b->set_path(s.path);
      b->set_reachable(s.reachable);
      b->set_error(s.error);
      if (s.last_ok != core::WallTime{}) *b->mutable_last_ok() = to_proto(s.last_ok);
    }
  }
  if (!routes_) return;
  std::map<pr::IpAddress, bool> same_subnet;
  for (const auto& v : routes_->verdicts()) {
    if (v.peer_ip) same_subnet[*v.peer_ip] = v.same_subnet;
  }
  // Peers without blocks get their subnet from the node's addresses.
  auto in_subnet = [this](const pr::IpAddress& ip) {
    for (const auto& a : routes_->table().addresses()) {
      if (a.length < a.local.bits() && !a.local.is_loopback() && a.network().contains(ip)) {
        return true;
      }
    }
    return false;
  };
  for (const auto& p : routes_->peers()) {
    auto* o = out.add_peers();
    o->set_name(p.name);
    o->set_node_ip(p.node_ip.to_string());
    for (const auto& b : p.blocks) o->add_blocks(b.to_string());
    if (p.tunnel_address) o->set_tunnel_address(p.tunnel_address->to_string());
    o->set_encapsulation(std::string(pr::to_string(p.encapsulation)));
    for (auto s : p.sources) o->add_sources(std::string(pr::to_string(s)));
    auto ss = same_subnet.find(p.node_ip);
    o->set_same_subnet(ss != same_subnet.end() ? ss->second : in_subnet(p.node_ip));
    auto [lo, hi] = by_neighbor.equal_range(p.node_ip);
    for (auto it = lo; it != hi; ++it) fill_session(*it->second, *o->add_sessions());
  }
}

void NetworkService::fill_routes(const v1::ListRoutesRequest& in,
                                 v1::ListRoutesResponse& out) const {
  if (!routes_) return;
  out.set_synced(routes_->synced());
  if (routes_->checked_at() != core::WallTime{}) {
    *out.mutable_checked_at() = to_proto(routes_->checked_at());
  }
  auto& counts = *out.mutable_counts();
  for (const auto& v : routes_->verdicts()) {
    const std::string kind(pr::to_string(v.kind));
    counts[kind] += 1;
    if (in.problems_only() && v.kind == pr::VerdictKind::kHealthy) continue;
    auto* o = out.add_verdicts();
    o->set_kind(kind);
    o->set_severity(std::string(core::to_string(pr::severity_of(v.kind))));
    o->set_peer(v.peer);
    if (v.peer_ip) o->set_peer_ip(v.peer_ip->to_string());
    o->set_block(v.block.to_string());
    o->set_encapsulation(std::string(pr::to_string(v.encapsulation)));
    o->set_same_subnet(v.same_subnet);
    o->set_route(v.route);
    o->set_reason(v.reason);
    o->set_fix(v.fix);
  }
}

grpc::Status NetworkService::set_expected_peers(const v1::SetExpectedPeersRequest& in,
                                                v1::SetExpectedPeersResponse& out) {
  if (!routes_) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        "the routes component is not running on this agent");
  }
  if (in.peers_size() > kMaxPeers) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "too many peers: " + std::to_string(in.peers_size()));
  }
  pr::ControllerView view;
  int blocks = 0;
  for (int i = 0; i < in.peers_size(); ++i) {
    const auto& s = in.peers(i);
    pr::PeerSpec spec;
    spec.name = s.name();
    spec.node_ip = s.node_ip();
    spec.blocks.assign(s.blocks().begin(), s.blocks().end());
    spec.tunnel_address = s.tunnel_address();
    spec.encapsulation = s.encapsulation();
    std::string error;
    auto p = pr::peer_from_spec(spec, pr::PeerSource::kController, &error);
    if (!p) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "peers[" + std::to_string(i) + "]." + error);
    }
    blocks += static_cast<int>(p->blocks.size());
    view.peers.push_back(std::move(*p));
  }
  for (int i = 0; i < in.own_blocks_size(); ++i) {
    auto b = pr::IpPrefix::parse(in.own_blocks(i));
    if (!b) {
      return grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          "own_blocks[" + std::to_string(i) + "]: not a CIDR block: \"" + in.own_blocks(i) + "\"");
    }
    view.own_blocks.push_back(*b);
  }
  if (!in.node_address().empty()) {
    const auto& text = in.node_address();
    auto prefix = pr::IpPrefix::parse(text, true);
    auto addr = pr::IpAddress::parse(text.substr(0, text.find('/')));
    if (!prefix || !addr || text.find('/') == std::string::npos) {
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "node_address: must be ADDRESS/PREFIX; got \"" + text + "\"");
    }
    prefix->address = *addr;
    view.node_address = prefix;
  }
  out.set_peers(static_cast<int>(view.peers.size()));
  out.set_blocks(blocks);
  routes_->set_controller_view(std::move(view));
  return grpc::Status::OK;
}

void NetworkService::fill_probes(v1::ListProbesResponse& out) const {
  if (!probes_) return;
  for (const auto& t : probes_->targets()) {
    auto* o = out.add_targets();
    o->set_name(t.name);
    o->set_kind(t.kind);
    o->set_protocol(t.protocol);
    o->set_address(t.address);
    o->set_skipped(t.skipped);
    o->set_consecutive_failures(t.consecutive_failures);
    o->set_attempts(t.attempts);
    o->set_failures(t.failures);
    if (t.last) {
      o->set_ok(t.last->ok);
      o->set_failure(t.last->failure);
      o->set_detail(t.last->detail);
      o->set_latency_seconds(std::chrono::duration<double>(t.last->elapsed).count());
    }
    if (t.last_at != core::WallTime{}) *o->mutable_last_at() = to_proto(t.last_at);
  }
}

}  // namespace ng::agent
