#include "netfilter/guard_metrics.h"

#include "netfilter/drift_metric_families.h"

namespace ng::netfilter {

namespace {
prometheus::Labels key(BackendKind b, Family f) {
  return {{"backend", std::string(to_string(b))}, {"family", std::string(to_string(f))}};
}
prometheus::Labels key(BackendKind b, Family f, const std::string& table) {
  auto l = key(b, f);
  l["table"] = table;
  return l;
}
}  // namespace

GuardMetrics::GuardMetrics(prometheus::Registry& r)
    : drift_(drift_events_family(r)),
      repairs_(repairs_family(r)),
      duration_(prometheus::BuildHistogram()
                    .Name("nodeguard_netfilter_repair_duration_seconds")
                    .Help("Time from detecting drift to the committed repair.")
                    .Register(r)),
      rules_(prometheus::BuildGauge()
                 .Name("nodeguard_netfilter_guarded_rules")
                 .Help("Rules the guard keeps in its last-known-good snapshot of a table.")
                 .Register(r)),
      chains_(prometheus::BuildGauge()
                  .Name("nodeguard_netfilter_guarded_chains")
                  .Help("Chains the guard keeps in its last-known-good snapshot of a table.")
                  .Register(r)),
      backend_(prometheus::BuildGauge()
                   .Name("nodeguard_netfilter_backend_info")
                   .Help("1 for each iptables backend and family the guard watches; mode is the "
                         "configured netfilter.backend.")
                   .Register(r)),
      checks_(prometheus::BuildCounter()
                  .Name("nodeguard_netfilter_checks_total")
                  .Help("Full reads of guarded tables, by what triggered them.")
                  .Register(r)),
      read_errors_(prometheus::BuildCounter()
                       .Name("nodeguard_netfilter_read_errors_total")
                       .Help("Table reads that failed or did not parse (the table is skipped "
                             "until the next check).")
                       .Register(r)),
      accepted_(prometheus::BuildCounter()
                    .Name("nodeguard_netfilter_snapshot_updates_total")
                    .Help("Legitimate changes taken into the last-known-good snapshot.")
                    .Register(r)),
      lost_(prometheus::BuildCounter()
                .Name("nodeguard_netfilter_events_lost_total")
                .Help("Change notifications lost (netlink ENOBUFS); every table is re-read.")
                .Register(r)),
      commits_(prometheus::BuildCounter()
                   .Name("nodeguard_netfilter_commits_total")
                   .Help("Writes of a repair by path (netlink, restore, libiptc) and result (ok, "
                         "verify_failed, failed, declined: the fast path could not express the "
                         "plan). A netlink write that failed or did not verify is redone through "
                         "restore in the same repair.")
                   .Register(r)),
      foreign_(prometheus::BuildGauge()
                   .Name("nodeguard_netfilter_foreign_rules")
                   .Help("Rules in guarded chains (or jumps into them) that no owner explains: "
                         "reported, kept in place, never restored once deleted.")
                   .Register(r)),
      forgotten_(prometheus::BuildCounter()
                     .Name("nodeguard_netfilter_forgotten_total")
                     .Help("Snapshot entries (a chain or a rule) an operator made the guard "
                           "forget (ngctl forget).")
                     .Register(r)) {}

void GuardMetrics::drift(BackendKind b, Family f, const std::string& table, DriftKind kind,
                         const std::string& writer) {
  auto l = key(b, f, table);
  l["kind"] = std::string(to_string(kind));
  l["writer"] = writer;
  drift_.Add(l).Increment();
}

void GuardMetrics::repair(BackendKind b, Family f, const std::string& table,
                          std::string_view result, const std::string& writer) {
  auto l = key(b, f, table);
  l["result"] = std::string(result);
  l["writer"] = writer;
  repairs_.Add(l).Increment();
}

void GuardMetrics::repair_duration(BackendKind b, Family f, double seconds) {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  duration_.Add(key(b, f), kBuckets).Observe(seconds);
}

void GuardMetrics::guarded(BackendKind b, Family f, const std::string& table, size_t rules,
                           size_t chains) {
  rules_.Add(key(b, f, table)).Set(static_cast<double>(rules));
  chains_.Add(key(b, f, table)).Set(static_cast<double>(chains));
}

void GuardMetrics::backend_info(BackendKind b, Family f, const std::string& mode, bool watched) {
  auto l = key(b, f);
  l["mode"] = mode;
  backend_.Add(l).Set(watched ? 1 : 0);
}

void GuardMetrics::check(BackendKind b, Family f, std::string_view trigger) {
  auto l = key(b, f);
  l["trigger"] = std::string(trigger);
  checks_.Add(l).Increment();
}

void GuardMetrics::read_error(BackendKind b, Family f, const std::string& table,
                              std::string_view reason) {
  auto l = key(b, f, table);
  l["reason"] = std::string(reason);
  read_errors_.Add(l).Increment();
}

void GuardMetrics::accepted(BackendKind b, Family f, const std::string& table) {
  accepted_.Add(key(b, f, table)).Increment();
}

void GuardMetrics::commit(BackendKind b, Family f, WritePath path, std::string_view result) {
  auto l = key(b, f);
  l["path"] = std::string(to_string(path));
  l["result"] = std::string(result);
  commits_.Add(l).Increment();
}

void GuardMetrics::events_lost(BackendKind b) {
  lost_.Add({{"backend", std::string(to_string(b))}}).Increment();
}

void GuardMetrics::foreign(BackendKind b, Family f, const std::string& table, size_t rules) {
  foreign_.Add(key(b, f, table)).Set(static_cast<double>(rules));
}

void GuardMetrics::forgotten(BackendKind b, Family f, const std::string& table) {
  forgotten_.Add(key(b, f, table)).Increment();
}

}  // namespace ng::netfilter
