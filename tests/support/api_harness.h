#pragma once

#include <chrono>
#include <string>
#include <thread>

#include <prometheus/registry.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "agent/health/health_model.h"
#include "core/asio_clock.h"
#include "core/component_registry.h"
#include "core/executor.h"
#include "core/log.h"
#include "core/loop_call.h"
#include "tests/support/metric_value.h"

namespace ng::testing {

// The agent's loop and the state the API reads, as in the daemon: one io_context on its own
// thread owning a HealthModel and a ComponentRegistry. For tests of the real gRPC server.
struct ApiLoop {
  explicit ApiLoop(size_t event_capacity) : health(clock, metrics, event_capacity) {}
  ~ApiLoop() { stop(); }

  void start() {
    thread = std::thread([this] { io.run(); });
  }
  void stop() {
    // Handlers posted before now (a reactor's Finish after the server cancelled its call) run
    // first: a stream abandoned on a stopped loop would never reach OnDone and would leak.
    if (thread.joinable() && !io.stopped()) run([] {});
    work.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }
  // Runs fn on the loop (the model is loop-owned) and waits; false if the loop did not answer.
  template <class Fn>
  bool run(Fn fn) {
    return core::call_on_loop(
               io,
               [&] {
                 fn();
                 return true;
               },
               std::chrono::seconds(10))
        .has_value();
  }

  boost::asio::io_context io;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work =
      boost::asio::make_work_guard(io);
  core::AsioClock clock{io};
  core::IoContextExecutor loop{io};
  prometheus::Registry metrics;
  agent::HealthModel health;
  core::ComponentRegistry components{core::Logger::discard()};
  std::thread thread;
};

}  // namespace ng::testing
