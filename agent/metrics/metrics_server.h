#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>

#include "core/log.h"
#include "core/result.h"

class CivetServer;
class CivetHandler;

namespace ng::agent {

// Answers from the agent loop for /healthz and /readyz. Called on HTTP threads: implementations
// hand the question to the loop (core::call_on_loop) and wait a bounded time.
struct ProbeAnswers {
  std::function<bool()> healthy;                        // the loop answers
  std::function<std::pair<bool, std::string>()> ready;  // every component started, and why not
};

// One small HTTP server: /metrics (Prometheus text format via prometheus-cpp's serializer),
// /healthz and /readyz. prometheus-cpp's Exposer cannot serve non-metric paths, so we drive its
// CivetServer ourselves and keep one port. Read-only: every other method gets 405.
class MetricsServer {
 public:
  MetricsServer(std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
                ProbeAnswers answers, core::Logger log);
  ~MetricsServer();

  // Binds HOST:PORT (port 0 picks a free one); returns the bound port.
  core::Result<int> start(const std::string& listen);
  void stop();

 private:
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  ProbeAnswers answers_;
  core::Logger log_;
  std::vector<std::unique_ptr<CivetHandler>> handlers_;
  std::unique_ptr<CivetServer> server_;
};

}  // namespace ng::agent
