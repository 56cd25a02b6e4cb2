#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/clock.h"

namespace ng::agent::kube {

// One API request: verb (GET, POST, PATCH, PUT), path with query, and a JSON body.
struct KubeRequest {
  std::string verb;
  std::string path;
  std::string content_type;  // for PATCH: strategic-merge-patch+json or merge-patch+json
  std::string body;
};

// status 0: no HTTP answer (connect, TLS, timeout, reset); `error` says which.
struct KubeResponse {
  int status = 0;
  std::string body;
  std::optional<core::Duration> retry_after;  // from a 429/503's Retry-After (seconds)
  std::string error;
};

// The HTTP seam of the Kubernetes client: production is BeastTransport (HTTPS on the agent
// loop), unit tests a stateful fake API server. `done` runs on the loop, exactly once, unless
// shutdown() was called first.
class KubeTransport {
 public:
  virtual ~KubeTransport() = default;
  virtual void send(KubeRequest request, std::function<void(KubeResponse)> done) = 0;
  // Drops requests in flight without calling their `done`.
  virtual void shutdown() = 0;
};

}  // namespace ng::agent::kube
