#include "agent/api/tls_certificate_monitor.h"

#include "agent/api/tls_files.h"
#include "core/files.h"

namespace ng::agent {

TlsCertificateMonitor::TlsCertificateMonitor(const ApiConfig& config, core::Clock& clock,
                                             prometheus::Registry& registry, core::Logger log)
    : config_(config),
      clock_(clock),
      log_(std::move(log)),
      expiry_(prometheus::BuildGauge()
                  .Name("nodeguard_api_certificate_expiry_timestamp_seconds")
                  .Help("When the TLS listener's server certificate expires (Unix time)")
                  .Register(registry)
                  .Add({})),
      reloads_(prometheus::BuildCounter()
                   .Name("nodeguard_api_certificate_reloads_total")
                   .Help("Changes of the TLS certificate, key or client CA files seen on disk, "
                         "by result (applied: valid, served to new connections; rejected: "
                         "invalid, the previous files stay in use)")
                   .Register(registry)),
      applied_(reloads_.Add({{"result", "applied"}})),
      rejected_(reloads_.Add({{"result", "rejected"}})) {}

void TlsCertificateMonitor::start() {
  timer_ = clock_.make_timer();
  check();
}

void TlsCertificateMonitor::stop() {
  if (timer_) timer_->cancel();
}

void TlsCertificateMonitor::check() {
  core::PosixFiles files;
  std::string seen;
  for (const auto* path : {&config_.tls_cert, &config_.tls_key, &config_.tls_client_ca}) {
    if (path->empty()) continue;
    auto text = files.read(*path);
    seen += text ? *text : "unreadable:" + text.error().message;
    seen += '\0';
  }
  if (seen != last_seen_) {
    auto facts = inspect_key_pair(config_.tls_cert, config_.tls_key);
    std::string error = facts ? "" : facts.error().message;
    if (facts && !config_.tls_client_ca.empty()) {
      if (auto ca = inspect_ca_bundle(config_.tls_client_ca); !ca) error = ca.error().message;
    }
    if (!error.empty()) {
      if (!first_) rejected_.Increment();
      log_.error("TLS files changed but are not valid; connections keep the previous ones",
                 {{"error", error}});
    } else {
      const auto expires =
          std::chrono::duration_cast<std::chrono::seconds>(facts->not_after.time_since_epoch())
              .count();
      expiry_.Set(static_cast<double>(expires));
      if (!first_) {
        applied_.Increment();
        log_.info("TLS certificate changed on disk; new connections use it",
                  {{"subject", facts->subject}, {"not_after_unix", expires}});
      }
    }
    last_seen_ = std::move(seen);
    first_ = false;
  }
  timer_->arm(config_.tls_reload_interval, [this] { check(); });
}

}  // namespace ng::agent
