#include "agent/metrics/metrics_server.h"

#include <prometheus/text_serializer.h>
#include <boost/asio/post.hpp>

namespace ng::agent {

MetricsServer::MetricsServer(std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
                             ProbeAnswers answers, core::Logger log, HttpLimits limits)
    : collectables_(std::move(collectables)),
      answers_(std::move(answers)),
      log_(std::move(log)),
      http_(limits, *own_metrics_, log_) {
  collectables_.push_back(own_metrics_);
}

MetricsServer::~MetricsServer() {
  stop();
}

core::Result<int> MetricsServer::start(const std::string& listen) {
  return http_.listen("metrics", listen,
                      {{"/metrics", [this](HttpRespond r) { serve_metrics(std::move(r)); }},
                       {"/healthz", [this](HttpRespond r) { serve_healthz(std::move(r)); }},
                       {"/readyz", [this](HttpRespond r) { serve_readyz(std::move(r)); }}});
}

core::Result<int> MetricsServer::start_health(const std::string& listen) {
  return http_.listen("health", listen,
                      {{"/healthz", [this](HttpRespond r) { serve_healthz(std::move(r)); }},
                       {"/readyz", [this](HttpRespond r) { serve_readyz(std::move(r)); }}});
}

void MetricsServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  http_.stop();
  // Queued answers are dropped; a running one (at most a bounded loop call) is waited for.
  collector_.stop();
  probes_.stop();
  collector_.join();
  probes_.join();
}

void MetricsServer::serve_metrics(HttpRespond respond) {
  boost::asio::post(collector_, [this, respond = std::move(respond)] {
    std::vector<prometheus::MetricFamily> families;
    for (const auto& weak : collectables_) {
      if (auto c = weak.lock()) {
        auto f = c->Collect();
        families.insert(families.end(), std::make_move_iterator(f.begin()),
                        std::make_move_iterator(f.end()));
      }
    }
    respond(HttpAnswer{200, "text/plain; version=0.0.4; charset=utf-8",
                       prometheus::TextSerializer().Serialize(families)});
  });
}

void MetricsServer::serve_healthz(HttpRespond respond) {
  boost::asio::post(probes_, [this, respond = std::move(respond)] {
    if (answers_.healthy && answers_.healthy()) {
      respond(HttpAnswer{200, "text/plain", "ok\n"});
    } else {
      respond(HttpAnswer{503, "text/plain", "agent loop not answering\n"});
    }
  });
}

void MetricsServer::serve_readyz(HttpRespond respond) {
  boost::asio::post(probes_, [this, respond = std::move(respond)] {
    auto [ready, detail] =
        answers_.ready ? answers_.ready() : std::pair<bool, std::string>{false, "no answer\n"};
    respond(ready ? HttpAnswer{200, "text/plain", "ok\n" + detail}
                  : HttpAnswer{503, "text/plain", "not ready\n" + detail});
  });
}

}  // namespace ng::agent
