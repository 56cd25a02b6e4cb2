#include "probes/bgp/bgp_monitor.h"

#include <algorithm>

#include "probes/bgp/bird_routes.h"

namespace ng::probes::bgp {
namespace {

// The state label set of nodeguard_bgp_sessions: bounded, every value always exported.
const char* const kStates[] = {"Established", "Active",  "Connect", "Idle", "OpenSent",
                               "OpenConfirm", "Passive", "Close",   "Down", "Other"};

std::string state_label(const BirdProtocol& p) {
  std::string s = p.bgp_state;
  if (s.empty()) s = p.state == "down" ? "Down" : "Other";
  for (const char* k : kStates) {
    if (s == k) return s;
  }
  return "Other";
}

std::string describe(const BgpSession& s) {
  const auto& p = s.protocol;
  std::string out = p.name;
  if (p.neighbor_address) out += " (" + p.neighbor_address->to_string() + ")";
  out += " is " + (p.bgp_state.empty() ? p.state : p.bgp_state);
  if (!p.since.empty()) out += " since " + p.since;
  if (!p.last_error.empty()) out += ": " + p.last_error;
  return out;
}

}  // namespace

BgpMonitor::BgpMonitor(const BgpConfig& config, BirdConnectionFactory factory, Deps deps)
    : config_(config),
      factory_(std::move(factory)),
      clock_(deps.clock),
      health_(deps.health),
      env_errors_(deps.env_errors),
      log_(std::move(deps.log)),
      timer_(deps.clock.make_timer()),
      sessions_gauge_(prometheus::BuildGauge()
                          .Name("nodeguard_bgp_sessions")
                          .Help("BGP sessions BIRD reports, by BGP state (Established, Active, "
                                "Connect, Idle, OpenSent, OpenConfirm, Passive, Close, Down, "
                                "Other)")
                          .Register(deps.metrics)),
      skipped_lines_(prometheus::BuildCounter()
                         .Name("nodeguard_bird_reply_lines_skipped_total")
                         .Help("Lines of BIRD control-socket replies that did not parse and were "
                               "skipped")
                         .Register(deps.metrics)
                         .Add({})),
      polls_(prometheus::BuildCounter()
                 .Name("nodeguard_bird_polls_total")
                 .Help("Queries to BIRD control sockets, by result (ok, error)")
                 .Register(deps.metrics)) {
  for (const char* s : kStates) sessions_gauge_.Add({{"state", s}}).Set(0);
}

BgpMonitor::~BgpMonitor() {
  stop();
}

void BgpMonitor::start() {
  if (!config_.enabled) return;
  running_ = true;
  runtime_.clear();
  sockets_.clear();
  for (const auto& path : config_.bird_sockets) {
    SocketRuntime rt;
    rt.conn = factory_(path);
    runtime_.push_back(std::move(rt));
    BirdSocketState st;
    st.path = path;
    sockets_.push_back(st);
  }
  poll();
}

void BgpMonitor::stop() {
  running_ = false;
  timer_->cancel();
  for (auto& rt : runtime_) {
    if (rt.conn) rt.conn->cancel();
    rt.in_flight = false;
  }
  pending_ = 0;
}

core::ComponentStatus BgpMonitor::status() const {
  if (!config_.enabled) return {core::ComponentState::kDisabled, "disabled by config", {}};
  if (!running_) return {core::ComponentState::kStopped, "", {}};
  if (rounds_ == 0) return {core::ComponentState::kStarting, "first BIRD poll running", {}};
  size_t up = 0;
  for (const auto& s : sessions_) up += s.protocol.established();
  core::ComponentStatus st;
  st.state = core::ComponentState::kRunning;
  st.message =
      std::to_string(up) + "/" + std::to_string(sessions_.size()) + " BGP sessions established";
  std::string unreachable;
  bool any_reachable = false;
  for (const auto& s : sockets_) {
    st.details.emplace_back("socket " + s.path, s.reachable ? "ok" : s.error);
    any_reachable |= s.reachable;
    // A socket that answered before and stopped, or one that exists but refuses, times out or
    // is denied: degraded. One that never existed (bird6.ctl on an IPv4-only node, a node
    // without BIRD) is only a detail.
    if (!s.reachable && (s.ever_reachable || s.error_kind != core::EnvErrorKind::kNotFound)) {
      unreachable += (unreachable.empty() ? "" : ", ") + s.path;
    }
  }
  if (!unreachable.empty()) {
    st.state = core::ComponentState::kDegraded;
    st.message += "; BIRD not answering on " + unreachable;
  } else if (!any_reachable && !sockets_.empty()) {
    st.message = "no BIRD control socket found (BGP not in use on this node?)";
  }
  st.details.emplace_back("sessions", std::to_string(sessions_.size()));
  st.details.emplace_back("established", std::to_string(up));
  return st;
}

void BgpMonitor::schedule() {
  if (!running_) return;
  timer_->arm(config_.poll_interval, [this] { poll(); });
}

void BgpMonitor::poll() {
  if (!running_ || pending_ > 0) return;
  if (runtime_.empty()) {
    ++rounds_;
    return schedule();
  }
  pending_ = static_cast<int>(runtime_.size());
  for (size_t i = 0; i < runtime_.size(); ++i) {
    runtime_[i].in_flight = true;
    runtime_[i].conn->query(
        {"show protocols all", "show route all"}, config_.timeout,
        [this, i](core::Result<BirdConnection::Replies> r) { on_result(i, std::move(r)); });
  }
}

void BgpMonitor::on_result(size_t i, core::Result<BirdConnection::Replies> result) {
  if (!running_ || i >= runtime_.size() || !runtime_[i].in_flight) return;
  auto& rt = runtime_[i];
  auto& st = sockets_[i];
  rt.in_flight = false;
  const std::string component = "bgp";
  if (!result) {
    polls_.Add({{"result", "error"}}).Increment();
    if (st.reachable || st.error != result.error().message) {
      log_.debug("BIRD socket not answering",
                 {{"socket", st.path}, {"error", result.error().message}});
    }
    // A socket file that does not exist and never did is how a node without BGP looks (Calico
    // VXLAN, bird6.ctl on IPv4-only nodes): not an environment error. Anything else is.
    if (result.error().kind != core::EnvErrorKind::kNotFound || st.ever_reachable) {
      env_errors_.report(component, result.error());
    }
    st.reachable = false;
    st.error = result.error().message;
    st.error_kind = result.error().kind;
    rt.sessions.clear();
    // Keep what it learned: routes do not vanish because BIRD's socket hiccupped.
  } else {
    polls_.Add({{"result", "ok"}}).Increment();
    const auto& replies = result.value();
    const BirdReply proto_reply = parse_reply(replies.size() > 0 ? replies[0] : "");
    const BirdReply route_reply = parse_reply(replies.size() > 1 ? replies[1] : "");
    if (proto_reply.error()) {
      log_.warn("BIRD refused show protocols",
                {{"socket", st.path}, {"error", proto_reply.error_text()}});
    }
    auto protocols = parse_protocols(proto_reply);
    auto routes = parse_routes(route_reply);
    const size_t skipped = protocols.skipped + routes.skipped;
    if (skipped) {
      skipped_lines_.Increment(static_cast<double>(skipped));
      log_.debug("BIRD reply lines skipped", {{"socket", st.path}, {"lines", skipped}});
    }
    rt.sessions.clear();
    std::map<std::string, routes::IpAddress> neighbor_of;
    for (auto& p : protocols.protocols) {
      if (!p.is_bgp()) continue;
      BgpSession s;
      s.socket = st.path;
      if (auto d = decode_peer_name(p.name)) s.peer_type = d->type;
      if (p.neighbor_address) neighbor_of[p.name] = *p.neighbor_address;
      s.protocol = std::move(p);
      rt.sessions.push_back(std::move(s));
    }
    rt.learned.clear();
    for (const auto& r : routes.routes) {
      auto it = neighbor_of.find(r.protocol);
      if (it == neighbor_of.end()) continue;  // not learned over BGP
      if (r.prefix.length == 0) continue;     // a default route is not a pod block
      // The node that owns the block: BGP next hop (survives route reflectors), else the
      // multihop source, else the session's neighbor.
      routes::IpAddress owner = r.bgp_next_hop ? *r.bgp_next_hop : r.from ? *r.from : it->second;
      if (r.bgp_next_hop && r.bgp_next_hop->is_link_local()) owner = it->second;
      if (!r.primary &&
          std::any_of(routes.routes.begin(), routes.routes.end(), [&](const BirdRoute& o) {
            return o.primary && o.prefix == r.prefix && neighbor_of.count(o.protocol);
          })) {
        continue;
      }
      rt.learned.emplace_back(r.prefix, owner);
    }
    if (!st.reachable) {
      if (st.ever_reachable || !st.error.empty()) {
        log_.info("BIRD socket answering", {{"socket", st.path}});
      }
      env_errors_.recovered(component);
    }
    st.reachable = true;
    st.ever_reachable = true;
    st.error.clear();
    st.last_ok = clock_.wall_now();
    st.sessions = rt.sessions.size();
  }
  if (--pending_ == 0) finish_round();
}

void BgpMonitor::finish_round() {
  ++rounds_;
  sessions_.clear();
  for (const auto& rt : runtime_) {
    sessions_.insert(sessions_.end(), rt.sessions.begin(), rt.sessions.end());
  }
  std::map<std::string, double> counts;
  for (const char* s : kStates) counts[s] = 0;
  std::vector<const BgpSession*> down;
  for (const auto& s : sessions_) {
    counts[state_label(s.protocol)] += 1;
    if (!s.protocol.established()) down.push_back(&s);
  }
  for (const auto& [state, n] : counts) sessions_gauge_.Add({{"state", state}}).Set(n);

  // BGPPeerDown: any session not Established.
  core::ConditionReport c;
  c.type = "BGPPeerDown";
  c.severity = core::Severity::kError;
  c.active = !down.empty();
  if (c.active) {
    c.reason = "SessionNotEstablished";
    c.message = std::to_string(down.size()) + " of " + std::to_string(sessions_.size()) +
                " BGP sessions down: ";
    for (size_t i = 0; i < down.size() && i < 5; ++i) {
      c.message += (i ? "; " : "") + describe(*down[i]);
    }
    if (down.size() > 5) c.message += "; and " + std::to_string(down.size() - 5) + " more";
    c.message +=
        ". Fix: check that calico-node (BIRD) runs on the peer, that TCP port 179 is "
        "open between the nodes (firewall, security groups), and that the AS numbers "
        "and peer addresses match (calicoctl node status on both nodes).";
  } else {
    c.reason = "AllSessionsEstablished";
    c.message = std::to_string(sessions_.size()) + " BGP sessions established";
  }
  if (!reported_once_ || c.message != last_down_message_) {
    health_.set_condition(c);
    if (c.active) {
      for (const auto* s : down) {
        log_.warn("BGP session down", {{"protocol", s->protocol.name},
                                       {"state", s->protocol.bgp_state},
                                       {"error", s->protocol.last_error}});
      }
    }
    last_down_message_ = c.message;
  }

  // BIRDUnreachable: a socket that answered before stopped answering (BIRD died or restarted).
  std::string lost;
  for (const auto& s : sockets_) {
    if (!s.reachable && s.ever_reachable)
      lost += (lost.empty() ? "" : "; ") + s.path + ": " + s.error;
  }
  core::ConditionReport u;
  u.type = "BIRDUnreachable";
  u.severity = core::Severity::kWarning;
  u.active = !lost.empty();
  u.reason = u.active ? "ControlSocketNotAnswering" : "ControlSocketsAnswering";
  u.message = u.active ? "BIRD stopped answering on " + lost +
                             ". Routes are no longer maintained; check calico-node's BIRD "
                             "process (kubectl logs -c calico-node) and the socket path "
                             "(bgp.bird_sockets)."
                       : "BIRD answers on every socket that answered before";
  if (!reported_once_ || u.message != last_unreachable_message_) {
    health_.set_condition(u);
    last_unreachable_message_ = u.message;
  }
  reported_once_ = true;
  publish();
  schedule();
}

void BgpMonitor::publish() {
  std::map<routes::IpAddress, const BgpSession*> session_of;
  bool all_established = true;
  for (const auto& s : sessions_) {
    if (s.protocol.neighbor_address) session_of[*s.protocol.neighbor_address] = &s;
    all_established &= s.protocol.established();
  }
  bool any_reachable = false;
  for (const auto& s : sockets_) any_reachable |= s.reachable;
  if (!any_reachable) return;  // nothing new: keep what the route checker has

  std::map<routes::IpAddress, std::set<routes::IpPrefix>> seen;
  std::map<routes::IpPrefix, routes::IpAddress> owner_of;
  for (size_t i = 0; i < runtime_.size(); ++i) {
    for (const auto& [block, owner] : runtime_[i].learned) {
      seen[owner].insert(block);
      owner_of[block] = owner;
    }
  }
  // Forget remembered blocks that are really gone: withdrawn while the owner's session is up,
  // announced by someone else now, or whose owner's session no longer exists.
  for (auto it = remembered_.begin(); it != remembered_.end();) {
    const auto& owner = it->first;
    auto s = session_of.find(owner);
    const bool owner_up =
        s != session_of.end() ? s->second->protocol.established() : all_established;
    auto& blocks = it->second;
    for (auto b = blocks.begin(); b != blocks.end();) {
      auto o = owner_of.find(*b);
      const bool moved = o != owner_of.end() && o->second != owner;
      const bool withdrawn = !seen[owner].count(*b) && owner_up;
      b = moved || withdrawn ? blocks.erase(b) : std::next(b);
    }
    it = blocks.empty() ? remembered_.erase(it) : std::next(it);
  }
  for (const auto& [owner, blocks] : seen) remembered_[owner].insert(blocks.begin(), blocks.end());

  std::vector<routes::Peer> peers;
  std::set<routes::IpAddress> done;
  auto add = [&](const routes::IpAddress& ip) {
    if (!done.insert(ip).second) return;
    routes::Peer p;
    p.node_ip = ip;
    p.name = ip.to_string();
    p.sources = {routes::PeerSource::kBird};
    auto r = remembered_.find(ip);
    if (r != remembered_.end()) p.blocks.assign(r->second.begin(), r->second.end());
    peers.push_back(std::move(p));
  };
  // Session peers first (in BIRD's order), then owners learned through them (route reflectors).
  for (const auto& s : sessions_) {
    if (s.protocol.neighbor_address) add(*s.protocol.neighbor_address);
  }
  for (const auto& [owner, _] : remembered_) add(owner);
  if (listener_) listener_(std::move(peers));
}

}  // namespace ng::probes::bgp
