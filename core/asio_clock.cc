#include "core/asio_clock.h"

#include <boost/asio/steady_timer.hpp>

namespace ng::core {
namespace {

class AsioTimer final : public Timer {
 public:
  explicit AsioTimer(boost::asio::io_context& io) : timer_(io), state_(std::make_shared<State>()) {}
  ~AsioTimer() override { cancel(); }

  void arm(Duration after, std::function<void()> fn) override {
    ++state_->generation;
    state_->armed = true;
    timer_.expires_after(after);
    // A completion may already be queued when we re-arm or die: the shared generation tells a
    // stale completion to do nothing, without touching this object.
    timer_.async_wait(
        [state = state_, gen = state_->generation, fn = std::move(fn)](const auto& ec) {
          if (ec || gen != state->generation) return;
          state->armed = false;
          fn();
        });
  }
  void cancel() override {
    ++state_->generation;
    state_->armed = false;
    timer_.cancel();
  }
  bool armed() const override { return state_->armed; }

 private:
  struct State {
    unsigned long generation = 0;
    bool armed = false;
  };
  boost::asio::steady_timer timer_;
  std::shared_ptr<State> state_;
};

}  // namespace

std::unique_ptr<Timer> AsioClock::make_timer() {
  return std::make_unique<AsioTimer>(io_);
}

}  // namespace ng::core
