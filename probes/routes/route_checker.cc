#include "probes/routes/route_checker.h"

#include <algorithm>

namespace ng::probes::routes {
namespace {

constexpr size_t kExamples = 5;  // blocks named in one condition message

std::string describe_block(const RouteVerdict& v) {
  std::string s = v.block.to_string();
  if (!v.peer.empty()) s += " of " + v.peer;
  return s + ": " + v.reason;
}

}  // namespace

RouteChecker::RouteChecker(const RoutesConfig& config, std::unique_ptr<RouteSource> source,
                           Deps deps)
    : config_(config),
      source_(std::move(source)),
      clock_(deps.clock),
      loop_(deps.loop),
      health_(deps.health),
      env_errors_(deps.env_errors),
      log_(std::move(deps.log)),
      recheck_(deps.clock.make_timer()),
      verdict_gauge_(prometheus::BuildGauge()
                         .Name("nodeguard_route_verdicts")
                         .Help("Pod blocks (peers' and this node's own) by route verdict kind; "
                               "every kind but Healthy is a problem")
                         .Register(deps.metrics)),
      peers_gauge_(prometheus::BuildGauge()
                       .Name("nodeguard_expected_peers")
                       .Help("Expected peers by the source that named them (bird, config, "
                             "controller)")
                       .Register(deps.metrics)) {
  for (auto k : all_verdict_kinds()) verdict_gauge_.Add({{"kind", std::string(to_string(k))}});
  options_.table = static_cast<std::uint32_t>(config_.table);
  options_.ipip_device = config_.ipip_device;
  options_.vxlan_devices = config_.vxlan_devices;
}

RouteChecker::~RouteChecker() {
  stop();
}

void RouteChecker::start() {
  if (!config_.enabled) return;
  std::vector<Peer> peers;
  for (size_t i = 0; i < config_.peers.size(); ++i) {
    std::string error;
    if (auto p = peer_from_spec(config_.peers[i], PeerSource::kConfig, &error)) {
      peers.push_back(std::move(*p));
    } else {
      // The config binder validated these already; this only guards hand-built configs.
      log_.error("routes.peers entry skipped",
                 {{"index", static_cast<std::int64_t>(i)}, {"error", error}});
    }
  }
  topology_.set_config(std::move(peers));
  peers_dirty_ = true;
  running_ = true;
  RouteSource::Callbacks cb;
  cb.changed = [this] { schedule_check(); };
  cb.health = [this](const core::EnvError* e) {
    if (e) {
      source_error_ = *e;
      env_errors_.report("routes", *e);
    } else if (source_error_) {
      source_error_.reset();
      env_errors_.recovered("routes");
    }
  };
  if (auto st = source_->start(std::move(cb)); !st) {
    source_error_ = st.error();
    env_errors_.report("routes", st.error());
    return;
  }
  // Periodic full re-dump as a safety net for anything netlink did not tell us.
  arm_recheck();
}

void RouteChecker::arm_recheck() {
  recheck_->arm(config_.recheck_interval, [this, alive = alive_] {
    if (!*alive || !running_) return;
    source_->resync();
    arm_recheck();
  });
}

void RouteChecker::stop() {
  if (!running_) return;
  running_ = false;
  *alive_ = false;
  alive_ = std::make_shared<bool>(true);
  recheck_->cancel();
  source_->stop();
}

core::ComponentStatus RouteChecker::status() const {
  if (!config_.enabled) return {core::ComponentState::kDisabled, "disabled by config", {}};
  if (source_error_) {
    return {running_ && source_->synced() ? core::ComponentState::kDegraded
                                          : core::ComponentState::kFailed,
            "route view: " + source_error_->message,
            {}};
  }
  if (!running_) return {core::ComponentState::kStopped, "", {}};
  if (!source_->synced()) return {core::ComponentState::kStarting, "reading routes", {}};
  size_t bad = 0;
  for (const auto& v : verdicts_) bad += v.kind != VerdictKind::kHealthy;
  core::ComponentStatus st;
  st.state = core::ComponentState::kRunning;
  const auto peers = topology_.merged();
  st.message = std::to_string(verdicts_.size()) + " blocks of " + std::to_string(peers.size()) +
               " peers checked, " + std::to_string(bad) + " with problems";
  st.details.emplace_back("blocks", std::to_string(verdicts_.size()));
  st.details.emplace_back("problems", std::to_string(bad));
  st.details.emplace_back("peers", std::to_string(peers.size()));
  st.details.emplace_back("routes", std::to_string(source_->table().routes().size()));
  return st;
}

void RouteChecker::set_bird_peers(std::vector<Peer> peers) {
  topology_.set_bird(std::move(peers));
  peers_dirty_ = true;
  peers_gauge_.Add({{"source", "bird"}})
      .Set(static_cast<double>(topology_.count(PeerSource::kBird)));
  schedule_check();
}

void RouteChecker::set_controller_view(ControllerView view) {
  controller_ = std::move(view);
  topology_.set_controller(controller_.peers);
  peers_dirty_ = true;
  schedule_check();
}

NodeFacts RouteChecker::node_facts() const {
  NodeFacts f;
  if (!controller_.own_blocks.empty()) {
    f.own_blocks = controller_.own_blocks;
  } else {
    for (const auto& b : config_.own_blocks) {
      if (auto p = IpPrefix::parse(b)) f.own_blocks.push_back(*p);
    }
  }
  if (controller_.node_address) {
    f.node_address = controller_.node_address;
  } else if (!config_.node_address.empty()) {
    f.node_address = IpPrefix::parse(config_.node_address, true);
    // Keep the registered length: parse cleared host bits, so restore the address itself.
    if (f.node_address) {
      const auto slash = config_.node_address.find('/');
      if (auto a = IpAddress::parse(config_.node_address.substr(0, slash))) {
        f.node_address->address = *a;
      }
    }
  }
  return f;
}

void RouteChecker::schedule_check() {
  if (!running_ || check_pending_) return;
  check_pending_ = true;
  // Coalesce a burst (a dump's worth of events, a BIRD poll) into one classification.
  loop_.post([this, alive = alive_] {
    if (!*alive) return;
    check_pending_ = false;
    check_now();
  });
}

void RouteChecker::check_now() {
  if (!running_ || !source_->synced()) return;
  if (peers_dirty_) {
    peers_ = topology_.merged();
    peers_dirty_ = false;
  }
  auto verdicts = classify(source_->table(), peers_, node_facts(), options_);
  ++checks_;
  checked_at_ = clock_.wall_now();
  // Log what changed, briefly: a verdict flip is what an operator wants in the log. Verdicts
  // come in a stable order, so compare position by position and fall back to a lookup only
  // when the list changed shape.
  const bool same_shape = verdicts.size() == verdicts_.size() &&
                          std::equal(verdicts.begin(), verdicts.end(), verdicts_.begin(),
                                     [](const RouteVerdict& a, const RouteVerdict& b) {
                                       return a.block == b.block && a.peer == b.peer;
                                     });
  std::map<std::pair<std::string, IpPrefix>, VerdictKind> before;
  if (!same_shape) {
    for (const auto& v : verdicts_) before[{v.peer, v.block}] = v.kind;
  }
  size_t logged = 0;
  for (size_t i = 0; i < verdicts.size(); ++i) {
    const auto& v = verdicts[i];
    bool changed;
    if (same_shape) {
      changed = verdicts_[i].kind != v.kind;
    } else {
      auto it = before.find({v.peer, v.block});
      changed = it == before.end() ? v.kind != VerdictKind::kHealthy : it->second != v.kind;
    }
    if (changed && logged++ < 20) {
      const std::vector<core::LogField> fields = {
          {"block", v.block.to_string()}, {"peer", v.peer},
          {"kind", to_string(v.kind)},    {"route", v.route},
          {"reason", v.reason},           {"fix", v.fix}};
      log_.log(v.kind == VerdictKind::kHealthy ? core::LogLevel::kInfo : core::LogLevel::kWarn,
               "route verdict changed", fields);
    }
  }
  verdicts_ = std::move(verdicts);
  peers_gauge_.Add({{"source", "config"}})
      .Set(static_cast<double>(topology_.count(PeerSource::kConfig)));
  peers_gauge_.Add({{"source", "controller"}})
      .Set(static_cast<double>(topology_.count(PeerSource::kController)));
  report(verdicts_);
  if (on_checked_) on_checked_();
}

void RouteChecker::report(const std::vector<RouteVerdict>& verdicts) {
  std::map<VerdictKind, std::vector<const RouteVerdict*>> by_kind;
  for (const auto& v : verdicts) by_kind[v.kind].push_back(&v);
  for (auto k : all_verdict_kinds()) {
    verdict_gauge_.Add({{"kind", std::string(to_string(k))}})
        .Set(static_cast<double>(by_kind[k].size()));
  }
  for (auto k : all_verdict_kinds()) {
    if (k == VerdictKind::kHealthy) continue;
    const auto& list = by_kind[k];
    core::ConditionReport c;
    c.type = std::string(to_string(k));
    c.severity = severity_of(k);
    c.active = !list.empty();
    if (c.active) {
      c.reason = c.type;
      c.message =
          std::to_string(list.size()) + (list.size() == 1 ? " pod block: " : " pod blocks: ");
      for (size_t i = 0; i < list.size() && i < kExamples; ++i) {
        c.message += (i ? "; " : "") + describe_block(*list[i]);
      }
      if (list.size() > kExamples) {
        c.message += "; and " + std::to_string(list.size() - kExamples) + " more (ngctl routes)";
      }
      c.message += ". Fix: " + list.front()->fix + ".";
    } else {
      c.reason = "NoSuchRoutes";
      c.message = "no pod block has this problem";
    }
    const std::string key = std::to_string(c.active) + c.message;
    auto it = last_reported_.find(c.type);
    if (it != last_reported_.end() && it->second == key) continue;
    // Quiet start: kinds that were never a problem are reported once, as inactive.
    last_reported_[c.type] = key;
    health_.set_condition(c);
  }
}

}  // namespace ng::probes::routes
