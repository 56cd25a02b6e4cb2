#pragma once

#include <array>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "probes/logs/checkpoint.h"
#include "probes/logs/file_tailer.h"
#include "probes/logs/log_filter.h"
#include "probes/logs/log_metrics.h"
#include "probes/logs/matcher.h"
#include "probes/logs/rules.h"

namespace ng::probes::logs {

// A line that matched a rule, held until the checkpoint covering it is on disk.
struct Problem {
  unsigned rule = 0;
  SourceKind kind = SourceKind::kFile;
  std::string line;  // capped at kProblemLineBytes
  std::string path;
  std::string namespace_, pod, container;
  core::WallTime time{};
  // Matches beyond kMaxStagedProblems (a storm while a checkpoint write is slow) are kept as
  // one summary per rule and source: count > 1, no line.
  std::uint64_t count = 1;
};

inline constexpr size_t kProblemLineBytes = 1024;
inline constexpr size_t kMaxStagedProblems = 20000;

struct PipelineOptions {
  // Events per rule and pod (kubelet lines: the pod="ns/name" they name; other lines: the
  // node): a burst, then one per refill period; the rest are counted, not recorded. So one
  // noisy pod does not silence the same rule for the others.
  int event_burst = 5;
  core::Duration event_refill = std::chrono::seconds(12);
  // And per rule over all pods, a ceiling for storms across many pods.
  int rule_event_burst = 50;
  core::Duration rule_event_refill = std::chrono::milliseconds(1200);
  // (rule, pod) budgets tracked; past this the least recently used one is forgotten.
  size_t max_event_budgets = 4096;
  // A permanent rule's condition clears after this long without a matching line; 0: never
  // (node-problem-detector's behaviour).
  core::Duration condition_clear_after = std::chrono::minutes(10);
};

// Every line goes through here: counted, scanned once against all rules, offered to TailLogs
// streams. Matches are staged, not published: the component publishes them (log line, metric,
// event or condition) once the checkpoint that covers their line is durable, so a restart
// never reports a line twice. Loop thread.
class LogPipeline final : public LineSink {
 public:
  LogPipeline(RuleSet rules, RuleMatcher matcher, LogMetrics& metrics, core::HealthSink& health,
              core::Clock& clock, core::Logger log, PipelineOptions options = {});

  void on_line(const LineMeta& meta, std::string_view message) override;
  void on_batch_end() override;
  void begin_chunk(SourceKind kind, std::string_view raw) override;
  void end_chunk() override;
  const std::vector<std::uint32_t>* quiet_hits() const override;
  void count_quiet(SourceKind kind, size_t lines) override;

  // Staged problems, in line order; the caller owns them now.
  std::vector<Problem> take_staged();
  bool has_staged() const { return !staged_.empty(); }
  // Thread-safe: the log line and counter for a durable problem (the worker calls it right
  // after the checkpoint write, so what is logged matches what a restart resumes from).
  void log_problem(const Problem& p) const;
  // Loop: events and conditions for durable problems.
  void publish(const std::vector<Problem>& problems);
  // Loop: declares every condition inactive (at start) and clears stale ones (periodically).
  void init_conditions();
  void expire_conditions();

  // Counters that survive restarts: restored from the checkpoint at start; written into each
  // checkpoint together with the positions they count up to (`committing`: the problems that
  // checkpoint covers).
  void restore_counters(const CheckpointState& st);
  void snapshot_counters(const std::vector<Problem>& committing, CheckpointState& st);

  void add_subscriber(std::shared_ptr<LogSubscriber> s);
  void remove_subscriber(const LogSubscriber* s);
  size_t subscribers() const { return subscribers_.size(); }

  const RuleSet& rules() const { return rules_; }
  const RuleMatcher& matcher() const { return matcher_; }
  std::uint64_t lines_seen() const { return lines_seen_; }
  std::uint64_t problems_seen() const { return problems_seen_; }
  size_t event_budgets() const { return budgets_.size(); }

 private:
  struct TokenBucket {
    double tokens = 0;
    core::MonoTime refilled{};
    void refill(core::MonoTime now, int burst, core::Duration every);
  };
  struct PodBudget {
    std::pair<unsigned, std::string> key;  // rule, "namespace/pod" ("" for the node)
    TokenBucket bucket;
    std::uint64_t suppressed = 0;
  };
  struct RuleState {
    TokenBucket ceiling;
    prometheus::Counter* suppressed_counter = nullptr;
    std::array<prometheus::Counter*, kSourceKinds> problems{};
  };
  struct ConditionState {
    const ConditionDefault* def = nullptr;
    bool active = false;
    core::MonoTime last_match{};
    core::MonoTime last_report{};
  };

  // The event budget of (rule, pod), most recently used first; creates it (full).
  PodBudget& budget(unsigned rule, std::string pod);
  bool take_token(RuleState& st, PodBudget& b);
  void deliver(const LineMeta& meta, std::string_view message);

  RuleSet rules_;
  RuleMatcher matcher_;
  LogMetrics& metrics_;
  core::HealthSink& health_;
  core::Clock& clock_;
  core::Logger log_;
  PipelineOptions opt_;
  std::vector<RuleState> rule_state_;
  std::list<PodBudget> budgets_;  // LRU order, bounded by max_event_budgets
  std::map<std::pair<unsigned, std::string>, std::list<PodBudget>::iterator> budget_index_;
  std::map<std::string, ConditionState> conditions_;
  std::vector<Problem> staged_;
  std::map<std::pair<unsigned, SourceKind>, std::uint64_t> overflow_;
  // The current raw chunk and where the prefilter found possible matches in it.
  std::string_view chunk_;
  bool chunk_filtered_ = false;
  std::vector<std::uint32_t> chunk_hits_;
  size_t hit_cursor_ = 0;
  std::array<std::uint64_t, kSourceKinds> pending_lines_{};
  std::uint64_t lines_seen_ = 0;
  std::array<std::uint64_t, kSourceKinds> lines_total_{};
  std::map<std::pair<std::string, std::string>, std::uint64_t> problems_committed_;
  std::uint64_t problems_seen_ = 0;
  std::vector<std::shared_ptr<LogSubscriber>> subscribers_;
};

}  // namespace ng::probes::logs
