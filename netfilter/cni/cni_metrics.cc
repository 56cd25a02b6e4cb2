#include "netfilter/cni/cni_metrics.h"

namespace ng::netfilter::cni {

namespace {
constexpr const char* kStates[] = {"hostport",   "no_hostport", "stale",
                                   "unverified", "unsupported", "invalid"};
constexpr SkipReason kReasons[] = {SkipReason::kMalformed,      SkipReason::kTruncated,
                                   SkipReason::kForeignVersion, SkipReason::kLegacyLayout,
                                   SkipReason::kTooLarge,       SkipReason::kUnreadable};
}  // namespace

CniMetrics::CniMetrics(prometheus::Registry& r)
    : entries_(prometheus::BuildGauge()
                   .Name("nodeguard_cni_cache_entries")
                   .Help("Files in the CNI result cache by state: hostport (rules rebuilt when "
                         "missing), no_hostport, stale (namespace gone), unverified (cannot tell "
                         "whether the pod exists), unsupported (rules cannot be reproduced), "
                         "invalid (file skipped).")
                   .Register(r)),
      skipped_(prometheus::BuildCounter()
                   .Name("nodeguard_cni_cache_files_skipped_total")
                   .Help("CNI cache file versions skipped without producing rules, by reason "
                         "(malformed, truncated, foreign_version, legacy_layout, too_large, "
                         "unreadable).")
                   .Register(r)),
      rules_(prometheus::BuildGauge()
                 .Name("nodeguard_cni_hostport_rules")
                 .Help("portmap rules the CNI cache implies (state=expected) and how many of them "
                       "the tables lack (state=missing).")
                 .Register(r)),
      mismatched_(prometheus::BuildGauge()
                      .Name("nodeguard_cni_hostport_mismatched_chains")
                      .Help("Per-container CNI-DN chains present with other rules than the cache "
                            "implies; left as they are.")
                      .Register(r)),
      rebuilt_(prometheus::BuildCounter()
                   .Name("nodeguard_cni_rules_rebuilt_total")
                   .Help("portmap rules written back from the CNI cache through the netfilter "
                         "guard's commit.")
                   .Register(r)),
      scans_(prometheus::BuildCounter()
                 .Name("nodeguard_cni_cache_scans_total")
                 .Help("Looks at the CNI results directory that read or re-checked entries.")
                 .Register(r)
                 .Add({})) {
  for (const char* s : kStates) entries_.Add({{"state", s}}).Set(0);
  for (auto reason : kReasons) skipped_.Add({{"reason", std::string(to_string(reason))}});
  for (Family f : {Family::kIPv4, Family::kIPv6}) {
    const std::string fam(to_string(f));
    rules_.Add({{"family", fam}, {"state", "expected"}});
    rules_.Add({{"family", fam}, {"state", "missing"}});
    mismatched_.Add({{"family", fam}});
    rebuilt_.Add({{"family", fam}});
  }
}

void CniMetrics::entries(const std::map<std::string, size_t>& by_state) {
  for (const char* s : kStates) {
    auto it = by_state.find(s);
    entries_.Add({{"state", s}}).Set(it == by_state.end() ? 0.0 : static_cast<double>(it->second));
  }
}

void CniMetrics::skipped(SkipReason reason) {
  skipped_.Add({{"reason", std::string(to_string(reason))}}).Increment();
}

void CniMetrics::rules(Family f, size_t expected, size_t missing) {
  const std::string fam(to_string(f));
  rules_.Add({{"family", fam}, {"state", "expected"}}).Set(static_cast<double>(expected));
  rules_.Add({{"family", fam}, {"state", "missing"}}).Set(static_cast<double>(missing));
}

void CniMetrics::mismatched(Family f, size_t chains) {
  mismatched_.Add({{"family", std::string(to_string(f))}}).Set(static_cast<double>(chains));
}

void CniMetrics::rebuilt(Family f, size_t rules) {
  rebuilt_.Add({{"family", std::string(to_string(f))}}).Increment(static_cast<double>(rules));
}

void CniMetrics::scanned() {
  scans_.Increment();
}

}  // namespace ng::netfilter::cni
