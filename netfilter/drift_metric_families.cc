#include "netfilter/drift_metric_families.h"

namespace ng::netfilter {

// prometheus-cpp merges a second registration of the same name and constant labels into the
// first family, so each guard may call these with the shared registry.
prometheus::Family<prometheus::Counter>& drift_events_family(prometheus::Registry& r) {
  return prometheus::BuildCounter()
      .Name("nodeguard_netfilter_drift_events_total")
      .Help(
          "Drift found in a guarded table, by kind (flush, chain_missing, rule_missing, "
          "rule_reordered, policy_changed, ...) and writer (the committing process's name, "
          "bounded: unknown for legacy iptables, other past the cap).")
      .Register(r);
}

prometheus::Family<prometheus::Counter>& repairs_family(prometheus::Registry& r) {
  return prometheus::BuildCounter()
      .Name("nodeguard_netfilter_repairs_total")
      .Help(
          "Repairs of a guarded table by result (applied, failed, verify_failed, dry_run) and "
          "writer of the drift repaired (bounded like the drift counter's).")
      .Register(r);
}

}  // namespace ng::netfilter
