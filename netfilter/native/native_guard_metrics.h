#pragma once

#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace ng::netfilter::native {

// The native table guard's series. drift_events_total and repairs_total are the iptables
// guard's families (netfilter/guard_metrics.cc): registering a family with the same name and
// no constant labels returns the existing one (prometheus-cpp's Registry::InsertBehavior::Merge),
// so both guards count into one family; backend="nftables" and table="ip kube-proxy" tell the
// native series apart. Labels are bounded: family and table come from config, kind and result
// from small fixed sets, writer from writer_label().
class NativeGuardMetrics {
 public:
  explicit NativeGuardMetrics(prometheus::Registry& registry);

  // kind: table_deleted | chains_deleted | base_chains_emptied
  void drift(std::string_view family, const std::string& table, std::string_view kind,
             const std::string& writer);
  // result: applied | failed | verify_failed | not_needed | dry_run
  void repair(std::string_view family, const std::string& table, std::string_view result,
              const std::string& writer);
  void repair_duration(double seconds);
  // reason: start | owner | change | request | lost
  void dump(std::string_view family, const std::string& table, std::string_view reason,
            double seconds);
  void table(std::string_view family, const std::string& table, std::size_t chains,
             std::size_t rules, std::size_t elements, bool present);

 private:
  prometheus::Family<prometheus::Counter>& drift_;
  prometheus::Family<prometheus::Counter>& repairs_;
  prometheus::Family<prometheus::Histogram>& repair_seconds_;
  prometheus::Family<prometheus::Counter>& dumps_;
  prometheus::Family<prometheus::Histogram>& dump_seconds_;
  prometheus::Family<prometheus::Gauge>& size_;
};

}  // namespace ng::netfilter::native
