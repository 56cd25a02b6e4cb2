#include "agent/runtime/agent.h"

#include <csignal>
#include <cstdlib>

#include <boost/asio/post.hpp>

#include "agent/api/grpc_log_bridge.h"
#include "core/loop_call.h"

namespace ng::agent {

using namespace std::chrono_literals;

Agent::Agent(AgentConfig config, core::Logger log)
    : config_(std::move(config)),
      log_(std::move(log)),
      work_(boost::asio::make_work_guard(io_)),
      clock_(io_),
      loop_(io_),
      workers_(static_cast<size_t>(config_.worker_threads)),
      registry_(std::make_shared<prometheus::Registry>()),
      process_collector_(std::make_shared<ProcessCollector>()),
      build_info_(std::make_shared<BuildInfoCollector>()),
      health_(clock_, *registry_, 1024),
      env_errors_(*registry_, log_.with_component("agent")),
      components_(log_.with_component("agent")),
      ctx_{config_, io_,         clock_, loop_,  workers_,   *registry_,
           health_, env_errors_, log_,   files_, processes_, health_},
      gate_(config_.api, clock_, *registry_),
      signals_(io_, SIGINT, SIGTERM) {
  identity_.node_name = config_.node_name;
  identity_.dry_run = config_.dry_run;
  identity_.started_at = clock_.wall_now();
  identity_.started_mono = clock_.now();
  handles_ = register_components(components_, ctx_);
  WatchEventsReactor::Options watch;
  watch.max_queue = static_cast<size_t>(config_.api.watch_queue_events);
  agent_service_ = std::make_unique<AgentService>(loop_, clock_, identity_, components_, health_,
                                                  *registry_, watch);
  component_services_ = make_component_services(handles_, ctx_);
}

Agent::~Agent() {
  if (endpoint_stopper_.joinable()) endpoint_stopper_.join();
  uninstall_grpc_log_bridge();
}

// The start sequence, in order, top to bottom (about 100 lines): kept in one function because
// the order is the point (endpoints first, so a port in use fails before anything touches the
// node; the components last, once the API can report them).
int Agent::run() {
  log_.info("nodeguard starting", {{"node", config_.node_name},
                                   {"dry_run", config_.dry_run},
                                   {"components", components_.size()}});
  // Endpoints first: a port in use fails fast, before anything touches the node.
  install_grpc_log_bridge(log_, &gate_);
  grpc_ = std::make_unique<GrpcServer>(config_, gate_, log_.with_component("grpc"));
  grpc_->add_service(agent_service_.get());
  for (auto& s : component_services_) grpc_->add_service(s.get());
  if (!config_.grpc_socket.empty() || !config_.grpc_listen.empty()) {
    if (auto st = grpc_->start(); !st) {
      log_.error("cannot start the gRPC API", {{"error", st.error().message}});
      return 1;
    }
    log_.info("gRPC API listening", {{"socket", config_.grpc_socket},
                                     {"tcp", config_.grpc_listen},
                                     {"tcp_port", grpc_->tcp_port()}});
  }
  if (!config_.metrics_listen.empty() || !config_.health_listen.empty()) {
    ProbeAnswers answers;
    answers.healthy = [this] {
      return core::call_on_loop(
                 io_, [] { return true; }, 2s)
          .value_or(false);
    };
    answers.ready = [this] {
      return core::call_on_loop(
                 io_,
                 [this] {
                   std::string detail;
                   for (const auto& s : components_.statuses()) {
                     detail += s.name + ": " + std::string(core::to_string(s.status.state)) +
                               (s.status.message.empty() ? "" : " (" + s.status.message + ")") +
                               "\n";
                   }
                   return std::pair<bool, std::string>{started_.load() && components_.all_started(),
                                                       detail};
                 },
                 2s)
          .value_or(std::pair<bool, std::string>{false, "agent loop not answering\n"});
    };
    HttpLimits limits;
    limits.max_connections = static_cast<std::size_t>(config_.http_max_connections);
    limits.max_connections_per_client =
        static_cast<std::size_t>(config_.http_max_connections_per_client);
    limits.header_timeout = config_.http_header_timeout;
    metrics_ = std::make_unique<MetricsServer>(
        std::vector<std::weak_ptr<prometheus::Collectable>>{registry_, process_collector_,
                                                            build_info_},
        std::move(answers), log_.with_component("metrics"), limits);
    if (!config_.metrics_listen.empty()) {
      auto port = metrics_->start(config_.metrics_listen);
      if (!port) {
        log_.error("cannot start the metrics endpoint", {{"error", port.error().message}});
        grpc_->shutdown(0ms);
        return 1;
      }
      metrics_port_ = *port;
      log_.info("metrics endpoint listening", {{"address", config_.metrics_listen},
                                               {"port", *port},
                                               {"paths", "/metrics /healthz /readyz"}});
    }
    if (!config_.health_listen.empty()) {
      auto port = metrics_->start_health(config_.health_listen);
      if (!port) {
        log_.error("cannot start the health endpoint", {{"error", port.error().message}});
        grpc_->shutdown(0ms);
        return 1;
      }
      log_.info(
          "health endpoint listening",
          {{"address", config_.health_listen}, {"port", *port}, {"paths", "/healthz /readyz"}});
    }
  }

  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    log_.info("signal received; shutting down",
              {{"signal", signo == SIGTERM ? "SIGTERM" : "SIGINT"}});
    begin_shutdown();
  });
  boost::asio::post(io_, [this] {
    if (!config_.grpc_listen.empty()) {
      tls_monitor_ = std::make_unique<TlsCertificateMonitor>(config_.api, clock_, *registry_,
                                                             log_.with_component("grpc"));
      tls_monitor_->start();
    }
    components_.start_all();
    started_ = true;
    log_.info("nodeguard running", {{"node", config_.node_name}});
  });

  io_.run();

  if (endpoint_stopper_.joinable()) endpoint_stopper_.join();
  workers_.join();
  watchdog_.disarm();
  log_.info("nodeguard stopped");
  return 0;
}

void Agent::request_stop() {
  boost::asio::post(io_, [this] { begin_shutdown(); });
}

void Agent::begin_shutdown() {
  if (stopping_) return;
  stopping_ = true;
  watchdog_.arm(config_.shutdown_timeout, [log = log_] {
    log.error("shutdown did not finish in time; aborting");
    std::abort();
  });
  signals_.cancel();
  if (tls_monitor_) tls_monitor_->stop();
  components_.stop_all();
  // gRPC shutdown waits for in-flight calls, which finish on this loop: run it elsewhere and
  // keep the loop turning until it is done.
  endpoint_stopper_ = std::thread([this] {
    if (grpc_) grpc_->shutdown(1s);
    if (metrics_) metrics_->stop();
    boost::asio::post(io_, [this] {
      work_.reset();
      io_.stop();
    });
  });
}

}  // namespace ng::agent
