#include "agent/api/watch_events_reactor.h"

#include <grpcpp/server_context.h>

#include "agent/api/health_proto.h"

namespace ng::agent {

using nodeguard::v1::WatchEventsResponse;

WatchEventsReactor::WatchEventsReactor(grpc::CallbackServerContext* ctx, core::Executor& loop,
                                       core::Clock& clock, HealthModel& health, Options options,
                                       prometheus::Counter* cut_counter)
    : ctx_(ctx),
      loop_(loop),
      clock_(clock),
      health_(health),
      options_(options),
      cut_counter_(cut_counter) {}

void WatchEventsReactor::start(const nodeguard::v1::WatchEventsRequest& request) {
  const std::uint64_t after = request.after_seq();
  const bool only_new = request.only_new();
  loop_.post([this, after, only_new] { subscribe(after, only_new); });
}

void WatchEventsReactor::refuse(const grpc::Status& status) {
  {
    std::lock_guard lock(mu_);
    closing_ = true;
    status_ = status;
  }
  pump();
}

void WatchEventsReactor::subscribe(std::uint64_t after_seq, bool only_new) {
  {
    std::lock_guard lock(mu_);
    if (closing_) return;
  }
  const std::uint64_t newest = health_.last_seq();
  std::uint64_t after = only_new ? newest : after_seq;
  std::optional<nodeguard::v1::Gap> gap;
  auto make_gap = [&](std::string reason) {
    nodeguard::v1::Gap g;
    g.set_requested_after_seq(after_seq);
    g.set_oldest_available_seq(health_.oldest_seq());
    g.set_reason(std::move(reason));
    gap = std::move(g);
  };
  if (!only_new && after > newest) {
    make_gap("resume point is newer than the agent's newest event (agent restarted)");
    after = 0;
  } else if (!only_new && after > 0 && health_.oldest_seq() > after + 1) {
    make_gap("events dropped from the agent's ring");
  }
  // The replay is bounded by the model's ring; the queue limit applies to what comes after.
  const auto backlog = health_.events_after(after);
  {
    std::lock_guard lock(mu_);
    if (gap) *queue_.emplace_back().mutable_gap() = *gap;
    for (const auto& e : backlog) to_proto(e, *queue_.emplace_back().mutable_event());
    replay_pending_ = queue_.size();
  }
  listener_ = health_.subscribe([this](const RecordedEvent& e) { deliver(e); });
  pump();
}

void WatchEventsReactor::deliver(const RecordedEvent& event) {
  bool cut = false;
  {
    std::lock_guard lock(mu_);
    if (closing_) return;
    if (queue_.size() - replay_pending_ >= options_.max_queue) {
      closing_ = cut_ = cut = true;
      queue_.clear();
      replay_pending_ = 0;
    } else {
      to_proto(event, *queue_.emplace_back().mutable_event());
    }
  }
  if (cut) {
    // Called from inside the model's listener loop, which allows unsubscribing.
    health_.unsubscribe(listener_);
    listener_ = 0;
    if (cut_counter_) cut_counter_->Increment();
    // A reader that takes nothing at all never completes its pending write: cancel it.
    stuck_timer_ = clock_.make_timer();
    stuck_timer_->arm(options_.stuck_reader_grace, [this] {
      if (!finished_) ctx_->TryCancel();
    });
  }
  pump();
}

void WatchEventsReactor::pump() {
  bool write = false;
  bool finish = false;
  {
    std::lock_guard lock(mu_);
    if (writing_ || finish_requested_) return;
    if (!closing_ && !queue_.empty()) {
      in_flight_ = std::move(queue_.front());
      queue_.pop_front();
      if (replay_pending_ > 0) --replay_pending_;
      writing_ = write = true;
    } else if (closing_) {
      finish_requested_ = finish = true;
    }
  }
  if (write) StartWrite(&in_flight_);
  if (finish) loop_.post([this] { finish_on_loop(); });
}

void WatchEventsReactor::finish_on_loop() {
  if (finished_) return;
  finished_ = true;
  if (stuck_timer_) stuck_timer_->cancel();
  if (listener_) {
    health_.unsubscribe(listener_);
    listener_ = 0;
  }
  grpc::Status status;
  {
    std::lock_guard lock(mu_);
    if (cut_) {
      status = grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          "watcher too slow: more than " + std::to_string(options_.max_queue) +
              " events waited for this client (api.watch_queue_events); the last event sent "
              "was seq " +
              std::to_string(last_sent_seq_) +
              ": call WatchEvents again with after_seq set to the last seq you received");
    } else {
      status = status_.value_or(grpc::Status::CANCELLED);
    }
  }
  Finish(status);
}

void WatchEventsReactor::OnWriteDone(bool ok) {
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (ok && in_flight_.has_event()) last_sent_seq_ = in_flight_.event().seq();
    if (!ok && !closing_) {
      // The stream broke (client gone or call cancelled): nothing more can be sent.
      closing_ = true;
      status_ = grpc::Status(grpc::StatusCode::CANCELLED, "stream closed by the client");
    }
  }
  pump();
}

void WatchEventsReactor::OnCancel() {
  {
    std::lock_guard lock(mu_);
    queue_.clear();
    replay_pending_ = 0;
    if (!closing_) {
      closing_ = true;
      status_ = grpc::Status::CANCELLED;
    }
  }
  pump();
}

void WatchEventsReactor::OnDone() {
  // After unsubscribing on the loop, nothing refers to this reactor any more.
  loop_.post([this] {
    if (stuck_timer_) stuck_timer_->cancel();
    if (listener_) health_.unsubscribe(listener_);
    delete this;
  });
}

}  // namespace ng::agent
