#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "core/env_error_reporter.h"

namespace ng::core {
namespace {

double counter_value(prometheus::Registry& reg, const std::string& component,
                     const std::string& kind) {
  for (const auto& f : reg.Collect()) {
    if (f.name != "nodeguard_environment_errors_total") continue;
    for (const auto& m : f.metric) {
      std::map<std::string, std::string> labels;
      for (const auto& l : m.label) labels[l.name] = l.value;
      if (labels["component"] == component && labels["kind"] == kind) return m.counter.value;
    }
  }
  return 0;
}

TEST(EnvErrorReporter, LogsOncePerKindCountsEveryTimeAndLogsRecovery) {
  prometheus::Registry reg;
  auto sink = std::make_shared<MemoryLogSink>();
  EnvErrorReporter reporter(reg, Logger(sink, LogLevel::kInfo));
  const EnvError busy{EnvErrorKind::kLockBusy, "xtables lock held"};
  EXPECT_TRUE(reporter.report("netfilter", busy));
  EXPECT_FALSE(reporter.report("netfilter", busy));
  EXPECT_FALSE(reporter.report("netfilter", busy));
  EXPECT_TRUE(reporter.report("netfilter", {EnvErrorKind::kPermission, "EPERM"}));
  EXPECT_EQ(counter_value(reg, "netfilter", "lock_busy"), 3);
  EXPECT_EQ(sink->lines().size(), 2u);
  EXPECT_TRUE(reporter.has_error("netfilter"));
  reporter.recovered("netfilter");
  EXPECT_FALSE(reporter.has_error("netfilter"));
  EXPECT_TRUE(sink->contains("environment error cleared"));
  EXPECT_TRUE(reporter.report("netfilter", busy));  // news again after recovery
}

}  // namespace
}  // namespace ng::core
