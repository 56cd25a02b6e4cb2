#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>

#include <grpcpp/support/server_callback.h>
#include <prometheus/counter.h>

#include "agent/health/health_model.h"
#include "core/clock.h"
#include "core/executor.h"
#include "nodeguard/v1/agent.pb.h"

namespace ng::agent {

// One WatchEvents stream. The loop hands it events (a HealthModel listener) and never waits:
// each stream has a bounded queue (api.watch_queue_events, plus the replay of the model's
// ring at the start) drained by gRPC as fast as the client reads. A client that lets the queue fill
// is cut with RESOURCE_EXHAUSTED naming the last event sent, so it can resume from there; a client
// that reads nothing at all is cancelled a little later so its slot and memory come back.
//
// Threads: deliver()/subscribe run on the loop; OnWriteDone/OnCancel on gRPC threads; the
// queue and the call state are under mu_. The reactor deletes itself on the loop after
// unsubscribing, so the model never calls into a dead reactor.
class WatchEventsReactor final
    : public grpc::ServerWriteReactor<nodeguard::v1::WatchEventsResponse> {
 public:
  struct Options {
    size_t max_queue = 1024;
    core::Duration stuck_reader_grace = std::chrono::seconds(10);
  };

  WatchEventsReactor(grpc::CallbackServerContext* ctx, core::Executor& loop, core::Clock& clock,
                     HealthModel& health, Options options, prometheus::Counter* cut_counter);

  // Replays from the request's resume point, then follows new events. gRPC thread.
  void start(const nodeguard::v1::WatchEventsRequest& request);
  // Ends the stream at once with `status` (a refused call). gRPC thread.
  void refuse(const grpc::Status& status);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Loop thread.
  void subscribe(std::uint64_t after_seq, bool only_new);
  void deliver(const RecordedEvent& event);
  void finish_on_loop();
  // Any thread, mu_ not held: starts the next write, or asks the loop to finish the call.
  void pump();

  grpc::CallbackServerContext* ctx_;
  core::Executor& loop_;
  core::Clock& clock_;
  HealthModel& health_;
  const Options options_;
  prometheus::Counter* cut_counter_;

  std::mutex mu_;
  std::deque<nodeguard::v1::WatchEventsResponse> queue_;
  nodeguard::v1::WatchEventsResponse in_flight_;  // owned by gRPC while writing_
  bool writing_ = false;
  bool closing_ = false;                // no more messages: cut, cancelled, broken or refused
  bool finish_requested_ = false;       // a Finish is posted to the loop; no more writes
  bool cut_ = false;                    // closing because the reader was too slow
  std::optional<grpc::Status> status_;  // how to finish when closing (unless cut_)
  std::uint64_t last_sent_seq_ = 0;
  size_t replay_pending_ = 0;  // queued replay messages, not counted against max_queue

  // Loop thread only. Finish is only ever called on the loop, so a loop-side check of
  // finished_ proves the call (and ctx_) is still alive.
  int listener_ = 0;
  bool finished_ = false;
  std::unique_ptr<core::Timer> stuck_timer_;
};

}  // namespace ng::agent
