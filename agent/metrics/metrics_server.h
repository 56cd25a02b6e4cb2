#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <prometheus/collectable.h>
#include <prometheus/registry.h>
#include <boost/asio/thread_pool.hpp>

#include "agent/metrics/http_server.h"
#include "core/log.h"
#include "core/result.h"

namespace ng::agent {

// Answers from the agent loop for /healthz and /readyz. Called on the probe threads, never on
// the HTTP thread: implementations hand the question to the loop (core::call_on_loop) and wait a
// bounded time.
struct ProbeAnswers {
  std::function<bool()> healthy;                        // the loop answers
  std::function<std::pair<bool, std::string>()> ready;  // every component started, and why not
};

// The agent's HTTP endpoints on one event-driven server (HttpServer, its own thread): the metrics
// listener serves /metrics (Prometheus text format via prometheus-cpp's serializer), /healthz
// and /readyz; the health listener serves only /healthz and /readyz, for the kubelet's probes.
// Answers are computed off the HTTP thread: /metrics on one collector thread, the probes on two
// probe threads, so a probe never waits behind a scrape, and no client, idle or slow, holds a
// thread. Read-only: every other method gets 405.
class MetricsServer {
 public:
  MetricsServer(std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
                ProbeAnswers answers, core::Logger log, HttpLimits limits = {});
  ~MetricsServer();

  // Binds HOST:PORT (port 0 picks a free one) for /metrics, /healthz and /readyz; returns the
  // bound port.
  core::Result<int> start(const std::string& listen);
  // Binds HOST:PORT for /healthz and /readyz only; returns the bound port.
  core::Result<int> start_health(const std::string& listen);
  void stop();

 private:
  void serve_metrics(HttpRespond respond);
  void serve_healthz(HttpRespond respond);
  void serve_readyz(HttpRespond respond);

  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  ProbeAnswers answers_;
  core::Logger log_;
  std::shared_ptr<prometheus::Registry> own_metrics_ = std::make_shared<prometheus::Registry>();
  HttpServer http_;
  // Declared after http_: destroyed first, so answers they drop release their connections while
  // the server's io_context still exists.
  boost::asio::thread_pool collector_{1};
  boost::asio::thread_pool probes_{2};
  bool stopped_ = false;
};

}  // namespace ng::agent
