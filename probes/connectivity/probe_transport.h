#pragma once

#include <functional>
#include <string>

#include "core/clock.h"

namespace ng::probes::connectivity {

// How one probe ended. `failure` is a bounded reason used as a metric label.
struct ProbeOutcome {
  bool ok = false;
  std::string failure;  // timeout, refused, unreachable, resolve, permission, error
  std::string detail;   // for people: "connect 10.0.0.1:443: No route to host"
  core::Duration elapsed{};
};

// The seam for probes that leave the process. Production: AsioProbeTransport (non-blocking on
// the agent loop, bounded by the timeout); unit tests: FakeProbeTransport. `done` runs on the
// loop exactly once per call, unless cancel_all() came first.
class ProbeTransport {
 public:
  using Done = std::function<void(ProbeOutcome)>;
  virtual ~ProbeTransport() = default;
  virtual void tcp_connect(const std::string& host, int port, core::Duration timeout,
                           Done done) = 0;
  virtual void ping(const std::string& address, core::Duration timeout, Done done) = 0;
  virtual void cancel_all() = 0;
};

}  // namespace ng::probes::connectivity
