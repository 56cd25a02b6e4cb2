#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/component_deps.h"
#include "core/env_error_reporter.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "probes/connectivity/probe_transport.h"
#include "probes/connectivity/probes_config.h"

namespace ng::probes::connectivity {

// One configured probe target and what its probes found.
struct TargetState {
  std::string name;
  std::string kind;      // peer | pod | external
  std::string protocol;  // tcp | icmp
  std::string address;   // HOST:PORT (tcp) or IP (icmp)
  bool in_flight = false;
  bool skipped = false;  // ICMP not permitted on this node
  int consecutive_failures = 0;
  std::uint64_t attempts = 0;
  std::uint64_t failures = 0;
  std::optional<ProbeOutcome> last;
  core::WallTime last_at{};
};

// Connectivity probes to peer nodes, pods and external endpoints, every interval, each bounded
// by the timeout and run on the loop without blocking. Metrics: latency histogram
// nodeguard_probe_duration_seconds, nodeguard_probe_failures_total{reason}, attempts in
// nodeguard_probes_total (loss = failures / attempts). Conditions ExternalUnreachable,
// PeerUnreachable, PodUnreachable once a target failed failure_threshold times in a row.
class Prober final : public core::Component {
 public:
  using Deps = core::ComponentDeps;

  Prober(const ProbesConfig& config, std::unique_ptr<ProbeTransport> transport, Deps deps);
  ~Prober() override;

  std::string_view name() const override { return "probes"; }
  void start() override;
  void stop() override;
  core::ComponentStatus status() const override;

  void run_round();  // the timer calls this; tests too
  const std::vector<TargetState>& targets() const { return targets_; }

 private:
  void on_outcome(size_t i, ProbeOutcome outcome);
  void report_conditions();
  void schedule();

  const ProbesConfig& config_;
  std::unique_ptr<ProbeTransport> transport_;
  core::Clock& clock_;
  core::HealthSink& health_;
  core::EnvErrorReporter& env_errors_;
  core::Logger log_;
  std::unique_ptr<core::Timer> timer_;
  std::vector<TargetState> targets_;
  std::vector<std::string> last_messages_;
  bool running_ = false;
  bool reported_once_ = false;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Counter>& failures_;
  prometheus::Family<prometheus::Counter>& attempts_;
};

}  // namespace ng::probes::connectivity
