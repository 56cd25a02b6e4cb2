#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/env_error_reporter.h"
#include "core/executor.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "probes/routes/peer_topology.h"
#include "probes/routes/route_classifier.h"
#include "probes/routes/route_source.h"
#include "probes/routes/routes_config.h"

namespace ng::probes::routes {

// The "routes" component: keeps the route view (RouteSource), merges the expected peers
// (BIRD, config, controller), classifies every peer block after each change and reports
// nodeguard_route_verdicts{kind} and one condition per problem kind (PodRouteViaGateway,
// PodRouteMissing, ...), whose message says what is wrong and the fix. Loop thread only.
class RouteChecker final : public core::Component {
 public:
  struct Deps {
    core::Clock& clock;
    core::Executor& loop;
    core::HealthSink& health;
    core::EnvErrorReporter& env_errors;
    prometheus::Registry& metrics;
    core::Logger log;
  };

  RouteChecker(const RoutesConfig& config, std::unique_ptr<RouteSource> source, Deps deps);
  ~RouteChecker() override;

  std::string_view name() const override { return "routes"; }
  void start() override;
  void stop() override;
  core::ComponentStatus status() const override;

  // Peers learned from BIRD (the bgp component calls this after every poll).
  void set_bird_peers(std::vector<Peer> peers);
  // The controller's view (SetExpectedPeers): replaces the previous one.
  void set_controller_view(ControllerView view);

  const std::vector<RouteVerdict>& verdicts() const { return verdicts_; }
  std::vector<Peer> peers() const { return topology_.merged(); }
  const RouteTable& table() const { return source_->table(); }
  bool synced() const { return source_->synced(); }
  RouteSource& source() { return *source_; }
  core::WallTime checked_at() const { return checked_at_; }
  std::uint64_t checks() const { return checks_; }
  // Called after each classification (benchmarks measure event-to-verdict with it).
  void set_on_checked(std::function<void()> fn) { on_checked_ = std::move(fn); }
  // Classifies now, synchronously (tests and benchmarks).
  void check_now();

 private:
  void schedule_check();
  void arm_recheck();
  void report(const std::vector<RouteVerdict>& verdicts);
  NodeFacts node_facts() const;

  const RoutesConfig& config_;
  std::unique_ptr<RouteSource> source_;
  core::Clock& clock_;
  core::Executor& loop_;
  core::HealthSink& health_;
  core::EnvErrorReporter& env_errors_;
  core::Logger log_;
  std::unique_ptr<core::Timer> recheck_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  PeerTopology topology_;
  std::vector<Peer> peers_;  // topology_.merged(), recomputed when a source changes
  bool peers_dirty_ = true;
  ControllerView controller_;
  ClassifierOptions options_;
  std::vector<RouteVerdict> verdicts_;
  std::map<std::string, std::string> last_reported_;  // condition type -> active+message
  std::optional<core::EnvError> source_error_;
  bool running_ = false;
  bool check_pending_ = false;
  std::uint64_t checks_ = 0;
  core::WallTime checked_at_{};
  std::function<void()> on_checked_;
  prometheus::Family<prometheus::Gauge>& verdict_gauge_;
  prometheus::Family<prometheus::Gauge>& peers_gauge_;
};

}  // namespace ng::probes::routes
