#pragma once

#include <boost/asio/io_context.hpp>

#include "core/clock.h"

namespace ng::core {

// Real time; timers are steady_timers on the agent's io_context, so callbacks run on the loop.
class AsioClock final : public Clock {
 public:
  explicit AsioClock(boost::asio::io_context& io) : io_(io) {}
  MonoTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  std::unique_ptr<Timer> make_timer() override;

 private:
  boost::asio::io_context& io_;
};

}  // namespace ng::core
