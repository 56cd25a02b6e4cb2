#include "agent/metrics/metrics_server.h"

#include <CivetServer.h>
#include <prometheus/text_serializer.h>

#include "core/config_binder.h"

namespace ng::agent {
namespace {

void respond(mg_connection* conn, int code, const char* reason, const std::string& content_type,
             const std::string& body) {
  // Built without printf: civetweb's worker threads have small stacks, and mg_printf's 8 KiB
  // buffer plus ASan's printf interceptor overflowed them (found by the ASan suite).
  std::string head = "HTTP/1.1 " + std::to_string(code) + " " + reason +
                     "\r\nContent-Type: " + content_type +
                     "\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n";
  mg_write(conn, head.data(), head.size());
  mg_write(conn, body.data(), body.size());
}

class ReadOnlyHandler : public CivetHandler {
 public:
  bool handlePost(CivetServer*, mg_connection* conn) override { return refuse(conn); }
  bool handlePut(CivetServer*, mg_connection* conn) override { return refuse(conn); }
  bool handleDelete(CivetServer*, mg_connection* conn) override { return refuse(conn); }
  bool handlePatch(CivetServer*, mg_connection* conn) override { return refuse(conn); }

 private:
  static bool refuse(mg_connection* conn) {
    respond(conn, 405, "Method Not Allowed", "text/plain", "read-only endpoint\n");
    return true;
  }
};

class MetricsHandler final : public ReadOnlyHandler {
 public:
  explicit MetricsHandler(const std::vector<std::weak_ptr<prometheus::Collectable>>& c)
      : collectables_(c) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    std::vector<prometheus::MetricFamily> families;
    for (const auto& weak : collectables_) {
      if (auto c = weak.lock()) {
        auto f = c->Collect();
        families.insert(families.end(), std::make_move_iterator(f.begin()),
                        std::make_move_iterator(f.end()));
      }
    }
    const std::string body = prometheus::TextSerializer().Serialize(families);
    respond(conn, 200, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
    return true;
  }

 private:
  const std::vector<std::weak_ptr<prometheus::Collectable>>& collectables_;
};

class HealthzHandler final : public ReadOnlyHandler {
 public:
  explicit HealthzHandler(const ProbeAnswers& a) : answers_(a) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    if (answers_.healthy && answers_.healthy()) {
      respond(conn, 200, "OK", "text/plain", "ok\n");
    } else {
      respond(conn, 503, "Service Unavailable", "text/plain", "agent loop not answering\n");
    }
    return true;
  }

 private:
  const ProbeAnswers& answers_;
};

class ReadyzHandler final : public ReadOnlyHandler {
 public:
  explicit ReadyzHandler(const ProbeAnswers& a) : answers_(a) {}
  bool handleGet(CivetServer*, mg_connection* conn) override {
    auto [ready, detail] =
        answers_.ready ? answers_.ready() : std::pair<bool, std::string>{false, "no answer"};
    if (ready) {
      respond(conn, 200, "OK", "text/plain", "ok\n" + detail);
    } else {
      respond(conn, 503, "Service Unavailable", "text/plain", "not ready\n" + detail);
    }
    return true;
  }

 private:
  const ProbeAnswers& answers_;
};

}  // namespace

MetricsServer::MetricsServer(std::vector<std::weak_ptr<prometheus::Collectable>> collectables,
                             ProbeAnswers answers, core::Logger log)
    : collectables_(std::move(collectables)), answers_(std::move(answers)), log_(std::move(log)) {}

MetricsServer::~MetricsServer() {
  stop();
}

core::Result<int> MetricsServer::start(const std::string& listen) {
  auto hp = core::parse_host_port(listen);
  if (!hp) return core::EnvError{core::EnvErrorKind::kInvalidInput, "bad listen address " + listen};
  std::string port_spec;
  if (hp->host.empty()) {
    port_spec = std::to_string(hp->port);
  } else if (hp->host.find(':') != std::string::npos) {
    port_spec = "[" + hp->host + "]:" + std::to_string(hp->port);
  } else {
    port_spec = hp->host + ":" + std::to_string(hp->port);
  }
  const std::vector<std::string> options = {"listening_ports",    port_spec, "num_threads", "2",
                                            "request_timeout_ms", "10000"};
  try {
    server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& e) {
    return core::EnvError{core::EnvErrorKind::kUnavailable,
                          "cannot listen on " + listen + ": " + e.what()};
  }
  handlers_.push_back(std::make_unique<MetricsHandler>(collectables_));
  server_->addHandler("/metrics", handlers_.back().get());
  handlers_.push_back(std::make_unique<HealthzHandler>(answers_));
  server_->addHandler("/healthz", handlers_.back().get());
  handlers_.push_back(std::make_unique<ReadyzHandler>(answers_));
  server_->addHandler("/readyz", handlers_.back().get());
  const auto ports = server_->getListeningPorts();
  return ports.empty() ? hp->port : ports.front();
}

void MetricsServer::stop() {
  if (server_) {
    server_->close();
    server_.reset();
  }
  handlers_.clear();
}

}  // namespace ng::agent
