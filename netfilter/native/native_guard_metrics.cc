#include "netfilter/native/native_guard_metrics.h"

#include "netfilter/drift_metric_families.h"

namespace ng::netfilter::native {

namespace {
const prometheus::Histogram::BucketBoundaries kSeconds = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

NativeGuardMetrics::NativeGuardMetrics(prometheus::Registry& r)
    : drift_(drift_events_family(r)),
      repairs_(repairs_family(r)),
      repair_seconds_(prometheus::BuildHistogram()
                          .Name("nodeguard_netfilter_native_repair_duration_seconds")
                          .Help("Native nftables tables: time from reading the wiped table to "
                                "the restore read back.")
                          .Register(r)),
      dumps_(prometheus::BuildCounter()
                 .Name("nodeguard_netfilter_native_dumps_total")
                 .Help("Whole reads of a native nftables table, by what caused them (start, "
                       "owner, change, request, lost).")
                 .Register(r)),
      dump_seconds_(prometheus::BuildHistogram()
                        .Name("nodeguard_netfilter_native_dump_duration_seconds")
                        .Help("Time one whole read of a native nftables table takes.")
                        .Register(r)),
      size_(prometheus::BuildGauge()
                .Name("nodeguard_netfilter_native_table_objects")
                .Help("What the snapshot of a native nftables table holds, by what (chains, "
                      "rules, elements, present: 1 when the table exists).")
                .Register(r)) {}

void NativeGuardMetrics::drift(std::string_view family, const std::string& table,
                               std::string_view kind, const std::string& writer) {
  drift_
      .Add({{"backend", "nftables"},
            {"family", std::string(family)},
            {"table", table},
            {"kind", std::string(kind)},
            {"writer", writer}})
      .Increment();
}

void NativeGuardMetrics::repair(std::string_view family, const std::string& table,
                                std::string_view result, const std::string& writer) {
  repairs_
      .Add({{"backend", "nftables"},
            {"family", std::string(family)},
            {"table", table},
            {"result", std::string(result)},
            {"writer", writer}})
      .Increment();
}

void NativeGuardMetrics::repair_duration(double seconds) {
  repair_seconds_.Add({{"backend", "nftables"}}, kSeconds).Observe(seconds);
}

void NativeGuardMetrics::dump(std::string_view family, const std::string& table,
                              std::string_view reason, double seconds) {
  dumps_.Add({{"family", std::string(family)}, {"table", table}, {"reason", std::string(reason)}})
      .Increment();
  // One histogram for every table: 16 series per table would be most of the agent's budget.
  dump_seconds_.Add({}, kSeconds).Observe(seconds);
}

void NativeGuardMetrics::table(std::string_view family, const std::string& table,
                               std::size_t chains, std::size_t rules, std::size_t elements,
                               bool present) {
  auto set = [&](const char* what, double v) {
    size_.Add({{"family", std::string(family)}, {"table", table}, {"what", what}}).Set(v);
  };
  set("chains", static_cast<double>(chains));
  set("rules", static_cast<double>(rules));
  set("elements", static_cast<double>(elements));
  set("present", present ? 1 : 0);
}

}  // namespace ng::netfilter::native
