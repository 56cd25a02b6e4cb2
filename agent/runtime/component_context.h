#pragma once

#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>

#include "agent/config/agent_config.h"
#include "agent/health/health_model.h"
#include "core/clock.h"
#include "core/env_error_reporter.h"
#include "core/executor.h"
#include "core/files.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "core/process_runner.h"

namespace ng::agent {

// Everything a component may be constructed with. Production passes the real seams; tests
// build one around fakes. Components take what they need in their own constructors.
struct ComponentContext {
  const AgentConfig& config;
  boost::asio::io_context& io;  // for fd watchers (posix::stream_descriptor) on the loop
  core::Clock& clock;
  core::Executor& loop;
  core::Executor& workers;
  prometheus::Registry& metrics;
  core::HealthSink& health;
  core::EnvErrorReporter& env_errors;
  core::Logger log;
  core::Files& files;
  core::ProcessRunner& processes;
  HealthModel& model;  // what `health` is; exporters read it (the Kubernetes API exporter)
};

}  // namespace ng::agent
