#pragma once

#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "agent/config/agent_config.h"
#include "core/clock.h"
#include "core/log.h"

namespace ng::agent {

// gRPC's FileWatcherCertificateProvider re-reads the TLS files every api.tls_reload_interval
// and serves new connections with a changed certificate; it says nothing when it does. This
// watches the same files on the same period so operators see it: a log line and a metric per
// change (applied, or rejected because the new files do not parse or the key does not match,
// in which case gRPC keeps serving the previous pair), and the certificate's expiry as a gauge
// to alert on. Loop thread only.
class TlsCertificateMonitor {
 public:
  TlsCertificateMonitor(const ApiConfig& config, core::Clock& clock, prometheus::Registry& registry,
                        core::Logger log);
  void start();
  void stop();

 private:
  void check();

  const ApiConfig& config_;
  core::Clock& clock_;
  core::Logger log_;
  std::unique_ptr<core::Timer> timer_;
  std::string last_seen_;  // file contents at the last check
  bool first_ = true;
  prometheus::Gauge& expiry_;
  prometheus::Family<prometheus::Counter>& reloads_;
  prometheus::Counter& applied_;
  prometheus::Counter& rejected_;
};

}  // namespace ng::agent
