#pragma once

#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "netfilter/firewalld/conflict_rules.h"

namespace ng::netfilter::firewalld {

// The firewalld watcher's Prometheus series (docs/metrics.md). Labels are bounded: trigger (3),
// check (10), backend (3), method (the fixed set of firewalld calls), result (2), reason (3).
class FirewalldMetrics {
 public:
  explicit FirewalldMetrics(prometheus::Registry& registry);

  void bus_connected(bool on);
  void up(bool on);
  void backend(const std::string& backend);  // nftables | iptables | "" (unknown)
  // trigger: reloaded | started | stopped
  void reload(std::string_view trigger);
  void conflicts(Check c, size_t items);
  void invalid_answer(std::string_view method);
  void query(bool ok);
  // reason: no_owner | not_owner | not_bus_driver
  void ignored_signal(std::string_view reason);

 private:
  prometheus::Gauge& bus_;
  prometheus::Gauge& up_;
  prometheus::Family<prometheus::Gauge>& backend_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Family<prometheus::Gauge>& conflicts_;
  prometheus::Family<prometheus::Counter>& invalid_;
  prometheus::Family<prometheus::Counter>& queries_;
  prometheus::Family<prometheus::Counter>& ignored_;
};

}  // namespace ng::netfilter::firewalld
