#pragma once

#include <optional>

#include "probes/routes/route_source.h"

namespace ng::testing {

// A route view the test edits by hand: set the table, then emit() what netlink would have said.
class FakeRouteSource final : public probes::routes::RouteSource {
 public:
  core::Status start(Callbacks cb) override {
    ++starts;
    if (start_error) return *start_error;
    cb_ = std::move(cb);
    return core::Ok{};
  }
  void stop() override { ++stops; }
  void resync() override { ++resyncs; }
  const probes::routes::RouteTable& table() const override { return table_; }
  bool synced() const override { return synced_; }

  probes::routes::RouteTable& edit() { return table_; }
  // The first dump finished (or a batch of events arrived).
  void emit() {
    synced_ = true;
    if (cb_.changed) cb_.changed();
  }
  void fail(const core::EnvError& e) {
    if (cb_.health) cb_.health(&e);
  }
  void recover() {
    if (cb_.health) cb_.health(nullptr);
  }

  std::optional<core::EnvError> start_error;
  int starts = 0;
  int stops = 0;
  int resyncs = 0;

 private:
  Callbacks cb_;
  probes::routes::RouteTable table_;
  bool synced_ = false;
};

}  // namespace ng::testing
