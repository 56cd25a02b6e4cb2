#pragma once

#include <prometheus/registry.h>

#include "core/clock.h"
#include "core/env_error_reporter.h"
#include "core/health_sink.h"
#include "core/log.h"

namespace ng::core {

// What every component reports through: the clock, the health sink, the environment error
// reporter, the metrics registry and its logger. A component that needs nothing more takes
// exactly this as its Deps; one that does (the loop, workers, files) declares its own struct
// with these first, in this order.
struct ComponentDeps {
  Clock& clock;
  HealthSink& health;
  EnvErrorReporter& env_errors;
  prometheus::Registry& metrics;
  Logger log;
};

}  // namespace ng::core
