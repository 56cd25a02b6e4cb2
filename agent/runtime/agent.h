#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include <prometheus/registry.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include "agent/api/agent_service.h"
#include "agent/api/call_gate.h"
#include "agent/api/grpc_server.h"
#include "agent/api/tls_certificate_monitor.h"
#include "agent/components.h"
#include "agent/config/agent_config.h"
#include "agent/health/health_model.h"
#include "agent/metrics/metrics_server.h"
#include "agent/metrics/process_collector.h"
#include "agent/runtime/shutdown_watchdog.h"
#include "core/asio_clock.h"
#include "core/component_registry.h"
#include "core/env_error_reporter.h"
#include "core/executor.h"
#include "core/files.h"
#include "core/process_runner.h"

namespace ng::agent {

// The daemon: one io_context thread (the caller of run()) owns all agent state; a small worker
// pool does blocking work; gRPC and HTTP threads only post to the loop.
class Agent {
 public:
  Agent(AgentConfig config, core::Logger log);
  ~Agent();

  // Starts endpoints and components, runs the loop until SIGTERM/SIGINT or request_stop(), then
  // shuts down within config.shutdown_timeout. Returns the process exit code.
  int run();
  // Thread-safe.
  void request_stop();

  // Bound ports, known once run() started the endpoints (tests use port 0).
  int metrics_port() const { return metrics_port_.load(); }
  int grpc_tcp_port() const { return grpc_ ? grpc_->tcp_port() : 0; }
  bool started() const { return started_.load(); }

 private:
  void begin_shutdown();

  AgentConfig config_;
  core::Logger log_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  core::AsioClock clock_;
  core::IoContextExecutor loop_;
  core::WorkerPool workers_;
  core::PosixFiles files_;
  core::PosixProcessRunner processes_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<ProcessCollector> process_collector_;
  std::shared_ptr<BuildInfoCollector> build_info_;
  HealthModel health_;
  core::EnvErrorReporter env_errors_;
  core::ComponentRegistry components_;
  ComponentContext ctx_;
  ComponentHandles handles_;
  AgentIdentity identity_;
  CallGate gate_;
  std::unique_ptr<TlsCertificateMonitor> tls_monitor_;
  std::unique_ptr<AgentService> agent_service_;
  std::vector<std::unique_ptr<grpc::Service>> component_services_;
  std::unique_ptr<GrpcServer> grpc_;
  std::unique_ptr<MetricsServer> metrics_;
  boost::asio::signal_set signals_;
  ShutdownWatchdog watchdog_;
  std::thread endpoint_stopper_;
  std::atomic<int> metrics_port_{0};
  std::atomic<bool> started_{false};
  bool stopping_ = false;
};

}  // namespace ng::agent
