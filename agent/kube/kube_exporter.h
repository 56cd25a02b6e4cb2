#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "agent/health/health_model.h"
#include "agent/kube/backoff.h"
#include "agent/kube/kube_config.h"
#include "agent/kube/kube_transport.h"
#include "agent/kube/node_json.h"
#include "core/clock.h"
#include "core/component.h"
#include "core/env_error_reporter.h"
#include "core/executor.h"
#include "core/files.h"
#include "core/log.h"

namespace ng::agent::kube {

// The condition the exporter sets (in the health model, not on the Node) when writes keep failing.
inline constexpr const char* kUnreachableCondition = "KubernetesAPIUnreachable";
// Taint keys are this prefix and the Node condition type.
inline constexpr const char* kTaintPrefix = "nodeguard.io/";

// Writes the health model to the Node object, as node-problem-detector's exporter does, and
// better: conditions by strategic merge patch of nodes/NAME/status (merge key `type`, nothing
// else touched), Events aggregated by reason and message, opt-in taints by read-modify-write on
// resourceVersion. One request in flight at a time, built when it is sent from the newest
// state, so an API outage leaves a bounded backlog (one status, one taint set, max_pending
// events) and never replays old states. Loop thread only.
class KubeExporter final : public core::Component {
 public:
  struct Deps {
    core::Clock& clock;
    core::HealthSink& health;
    core::EnvErrorReporter& env_errors;
    prometheus::Registry& metrics;
    core::Logger log;
    HealthModel& model;
    core::Executor& workers;
    core::Files& files;
  };
  struct Options {
    core::Duration tick = std::chrono::seconds(1);  // how often the model is compared
    core::Duration retry_initial = std::chrono::milliseconds(500);
    core::Duration settle = std::chrono::seconds(60);  // before removing types in "all" mode
    unsigned seed = std::random_device{}();
  };

  // `transport` null: disabled (`setup_error` says why when it was asked for and failed).
  KubeExporter(KubeConfig config, std::string node_name, std::string state_dir,
               std::unique_ptr<KubeTransport> transport, std::optional<core::EnvError> setup_error,
               Deps deps, Options options);
  KubeExporter(KubeConfig config, std::string node_name, std::string state_dir,
               std::unique_ptr<KubeTransport> transport, std::optional<core::EnvError> setup_error,
               Deps deps)
      : KubeExporter(std::move(config), std::move(node_name), std::move(state_dir),
                     std::move(transport), std::move(setup_error), deps, Options{}) {}
  ~KubeExporter() override;

  std::string_view name() const override { return "kubernetes"; }
  void start() override;
  void stop() override;
  core::ComponentStatus status() const override;

  // For tests and status: what the exporter last wrote or read per Node condition type.
  const std::map<std::string, NodeCondition>& written() const { return written_; }
  size_t pending_events() const { return pending_order_.size(); }

 private:
  struct Pending {
    NodeEvent event;
    bool exists = false;  // created on the server: update its count instead
  };
  enum class Lane { kNone, kGetNode, kStatus, kTaintsGet, kTaintsPatch, kEvent };

  void tick();
  void pump();
  void send(Lane lane, KubeRequest req);
  void on_answer(Lane lane, const KubeResponse& r);
  bool failed(const KubeResponse& r, const std::string& what);
  void succeeded();
  void schedule_retry(std::optional<core::Duration> retry_after);

  void read_node_answer(const KubeResponse& r);
  std::map<std::string, NodeCondition> desired() const;
  bool status_due() const;
  void write_status();
  void status_answer(const KubeResponse& r);
  std::map<std::string, std::string> wanted_taints() const;
  void taints_get_answer(const KubeResponse& r);
  void taints_patch_answer(const KubeResponse& r);

  void on_event(const RecordedEvent& e);
  bool take_event_token();
  void send_event();
  void event_answer(const KubeResponse& r);

  void load_owned();
  void save_owned();
  void update_unreachable();
  void plan_removals();
  std::string export_name(const std::string& type) const;  // "" when not exported

  KubeConfig config_;
  std::string node_;
  std::string state_file_;
  std::unique_ptr<KubeTransport> transport_;
  std::optional<core::EnvError> setup_error_;
  Deps deps_;
  Options opt_;
  std::map<std::string, std::string> renames_;        // model type -> Node type
  std::map<std::string, std::string> taint_effects_;  // Node type -> effect
  std::unique_ptr<core::Timer> tick_timer_;
  std::unique_ptr<core::Timer> retry_timer_;
  std::unique_ptr<core::Timer> event_timer_;
  Backoff backoff_;
  int listener_ = 0;
  bool running_ = false;
  Lane in_flight_ = Lane::kNone;
  bool handling_ = false;
  core::MonoTime started_{};

  bool node_read_ = false;
  std::map<std::string, NodeCondition> written_;  // as on the Node (ours, after our writes)
  std::set<std::string> carried_;                 // True at start, not judged yet: kept
  std::set<std::string> owned_;                   // types we wrote (state file)
  std::vector<std::string> to_remove_;            // owned, no longer exported: delete once
  bool removal_planned_ = false;
  core::MonoTime last_heartbeat_{};
  bool heartbeat_pending_ = false;
  std::vector<std::string> status_removing_;
  std::vector<NodeCondition> pending_status_;  // the patch in flight

  std::map<std::string, std::string> applied_taints_;  // key -> effect, as last written/seen
  bool taints_known_ = false;
  int conflicts_in_row_ = 0;
  std::vector<Taint> taints_sent_;
  std::map<std::string, std::string> pending_taints_;

  std::deque<std::string> pending_order_;  // keys (reason \x1f message), oldest first
  std::map<std::string, Pending> pending_;
  std::map<std::string, NodeEvent> known_;  // created on the server, for aggregation
  std::deque<std::string> known_order_;
  std::string event_in_flight_;
  std::int64_t event_sent_count_ = 0;
  double tokens_ = 0;
  core::MonoTime tokens_at_{};

  std::optional<core::MonoTime> failing_since_;
  std::string last_error_;
  bool unreachable_ = false;
  std::uint64_t writes_ok_ = 0;

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& events_dropped_family_;
  prometheus::Family<prometheus::Gauge>& reachable_family_;
  prometheus::Counter* events_dropped_ = nullptr;  // set when exporting
  prometheus::Gauge* reachable_ = nullptr;
};

// The metric label for an HTTP status: a fixed set of codes, else the class, "error" for no
// answer.
std::string code_label(int status);

}  // namespace ng::agent::kube
