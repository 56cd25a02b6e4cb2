#pragma once

#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "netfilter/backend.h"
#include "netfilter/drift.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// The guard's Prometheus series (docs/metrics.md). Labels are bounded: backend (2), family (2),
// table (the configured tables), kind/result/trigger (small fixed sets), writer (WriterLabels).
class GuardMetrics {
 public:
  explicit GuardMetrics(prometheus::Registry& registry);

  // writer: a WriterLabels value (writer_label.h), bounded.
  void drift(BackendKind b, Family f, const std::string& table, DriftKind kind,
             const std::string& writer);
  // result: applied | failed | verify_failed | dry_run
  void repair(BackendKind b, Family f, const std::string& table, std::string_view result,
              const std::string& writer);
  void repair_duration(BackendKind b, Family f, double seconds);
  void guarded(BackendKind b, Family f, const std::string& table, size_t rules, size_t chains);
  void backend_info(BackendKind b, Family f, const std::string& mode, bool watched);
  // trigger: start | netlink | poll | verify | request | backoff | retry
  void check(BackendKind b, Family f, std::string_view trigger);
  void read_error(BackendKind b, Family f, const std::string& table, std::string_view reason);
  void accepted(BackendKind b, Family f, const std::string& table);
  void events_lost(BackendKind b);
  // result: ok | verify_failed | failed | declined
  void commit(BackendKind b, Family f, WritePath path, std::string_view result);
  // Foreign rules (no owner explains them) in a table's guarded chains now.
  void foreign(BackendKind b, Family f, const std::string& table, size_t rules);
  // Snapshot entries an operator forgot (Forget RPC).
  void forgotten(BackendKind b, Family f, const std::string& table);

 private:
  prometheus::Family<prometheus::Counter>& drift_;
  prometheus::Family<prometheus::Counter>& repairs_;
  prometheus::Family<prometheus::Histogram>& duration_;
  prometheus::Family<prometheus::Gauge>& rules_;
  prometheus::Family<prometheus::Gauge>& chains_;
  prometheus::Family<prometheus::Gauge>& backend_;
  prometheus::Family<prometheus::Counter>& checks_;
  prometheus::Family<prometheus::Counter>& read_errors_;
  prometheus::Family<prometheus::Counter>& accepted_;
  prometheus::Family<prometheus::Counter>& lost_;
  prometheus::Family<prometheus::Counter>& commits_;
  prometheus::Family<prometheus::Gauge>& foreign_;
  prometheus::Family<prometheus::Counter>& forgotten_;
};

}  // namespace ng::netfilter
