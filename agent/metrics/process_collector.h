#pragma once

#include <string>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>

namespace ng::agent {

// The standard process_* metrics, read from /proc/self at scrape time (prometheus-cpp has no
// process collector): cpu seconds, resident and virtual memory, open and max fds, start time.
class ProcessCollector final : public prometheus::Collectable {
 public:
  explicit ProcessCollector(std::string proc_self = "/proc/self") : proc_(std::move(proc_self)) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  std::string proc_;
};

// nodeguard_build_info{version,commit,compiler} 1.
class BuildInfoCollector final : public prometheus::Collectable {
 public:
  std::vector<prometheus::MetricFamily> Collect() const override;
};

}  // namespace ng::agent
