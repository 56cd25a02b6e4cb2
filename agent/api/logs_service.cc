#include "agent/api/logs_service.h"

#include "agent/api/call_gate_interceptor.h"

#include <deque>
#include <memory>
#include <mutex>

#include "agent/api/proto_time.h"
#include "core/json_writer.h"
#include "probes/logs/history_reader.h"
#include "probes/logs/log_format.h"
#include "probes/logs/logs_component.h"

namespace ng::agent {
namespace {

namespace pl = probes::logs;
using nodeguard::v1::TailLogsRequest;
using nodeguard::v1::TailLogsResponse;

class TailReactor;

// The loop's side of one stream: filters, history, and the bounded queue shared with the
// reactor (the only lock: the queue crosses from the loop to gRPC threads).
class Subscription final : public pl::LogSubscriber,
                           public std::enable_shared_from_this<Subscription> {
 public:
  Subscription(pl::LogFilter filter, bool follow, LogsServiceOptions opt, core::Executor& loop,
               pl::LogsComponent& logs)
      : filter_(std::move(filter)), follow_(follow), opt_(opt), loop_(loop), logs_(logs) {}

  const pl::LogFilter& filter() const override { return filter_; }

  void deliver(const pl::LineMeta& meta, std::string_view message,
               std::chrono::system_clock::time_point now) override {
    TailLogsResponse r;
    fill(r, meta, message, now);
    std::lock_guard lock(mu_);
    if (!reactor_) return;
    auto& q = history_ ? held_ : queue_;
    size_t& bytes = history_ ? held_bytes_ : queue_bytes_;
    const size_t size = r.ByteSizeLong();
    if (bytes + size > opt_.queue_bytes) {
      ++dropped_;
      logs_.metrics().stream_dropped_lines.Increment();
      return;
    }
    if (dropped_ && !history_) push_dropped_locked();
    bytes += size;
    q.push_back(std::move(r));
  }

  void flush() override { kick(); }

  // Loop: starts following and takes the history snapshot in the same turn, so no line is
  // both in the history and live, and none falls between.
  void begin(bool want_history, std::shared_ptr<Subscription> self) {
    if (want_history) {
      history_reader_ =
          std::make_unique<pl::HistoryReader>(logs_.history(filter_), logs_.max_line_bytes());
      std::lock_guard lock(mu_);
      history_ = true;
    }
    if (follow_ || !want_history) logs_.subscribe(self);
    subscribed_ = follow_ || !want_history;
    if (want_history) history_step();
    kick();
  }

  // Loop: reads more history while the queue has room.
  void history_step() {
    if (!history_reader_) return;
    {
      std::lock_guard lock(mu_);
      if (!reactor_) return;
      if (queue_bytes_ > opt_.queue_bytes / 2) return;  // resumed from OnWriteDone
    }
    const auto now = std::chrono::system_clock::now();
    const bool more = history_reader_->step(opt_.history_step_bytes,
                                            [&](const pl::LineMeta& m, std::string_view msg) {
                                              if (!filter_.matches(m, msg, now)) return;
                                              TailLogsResponse r;
                                              fill(r, m, msg, now);
                                              std::lock_guard lock(mu_);
                                              queue_bytes_ += r.ByteSizeLong();
                                              queue_.push_back(std::move(r));
                                            });
    if (!more) {
      history_reader_.reset();
      std::lock_guard lock(mu_);
      history_ = false;
      if (dropped_) push_dropped_locked();
      for (auto& r : held_) queue_.push_back(std::move(r));
      queue_bytes_ += held_bytes_;
      held_.clear();
      held_bytes_ = 0;
      if (!follow_) history_done_ = true;
    } else {
      loop_.post([self = shared_from_this()] { self->history_step(); });
    }
    kick();
  }

  void end_on_loop() {
    if (subscribed_) logs_.unsubscribe(this);
    subscribed_ = false;
    history_reader_.reset();
  }

  // Any thread: start a write when none is running.
  void kick();
  void on_write_done(bool ok);
  void detach() {
    std::lock_guard lock(mu_);
    reactor_ = nullptr;
  }
  void attach(TailReactor* r) {
    std::lock_guard lock(mu_);
    reactor_ = r;
  }

 private:
  void push_dropped_locked() {
    TailLogsResponse d;
    d.set_dropped(dropped_);
    dropped_ = 0;
    queue_bytes_ += d.ByteSizeLong();
    queue_.push_back(std::move(d));
  }

  static void fill(TailLogsResponse& r, const pl::LineMeta& meta, std::string_view message,
                   std::chrono::system_clock::time_point now) {
    auto* l = r.mutable_line();
    std::chrono::system_clock::time_point t = now;
    if (meta.wall.time_since_epoch().count() != 0) {
      t = meta.wall;
    } else if (!meta.time.empty()) {
      t = pl::parse_rfc3339(meta.time).value_or(now);
    }
    *l->mutable_time() = to_proto(t);
    l->set_source(std::string(pl::to_string(meta.kind)));
    if (meta.pod) {
      l->set_namespace_(meta.pod->namespace_);
      l->set_pod(meta.pod->pod);
      l->set_container(meta.pod->container);
    }
    l->set_stream(std::string(pl::to_string(meta.stream)));
    if (meta.path) l->set_path(core::sanitize_utf8(*meta.path));
    l->set_message(core::sanitize_utf8(message));
    l->set_truncated(meta.truncated);
  }

  pl::LogFilter filter_;
  bool follow_;
  LogsServiceOptions opt_;
  core::Executor& loop_;
  pl::LogsComponent& logs_;
  std::unique_ptr<pl::HistoryReader> history_reader_;  // loop only
  bool subscribed_ = false;                            // loop only

  std::mutex mu_;
  TailReactor* reactor_ = nullptr;
  std::deque<TailLogsResponse> queue_;
  size_t queue_bytes_ = 0;
  std::deque<TailLogsResponse> held_;  // live lines while the history is still being sent
  size_t held_bytes_ = 0;
  std::uint64_t dropped_ = 0;
  bool history_ = false;
  bool history_done_ = false;
  bool writing_ = false;
  TailLogsResponse current_;
  friend class TailReactor;
};

class TailReactor final : public grpc::ServerWriteReactor<TailLogsResponse> {
 public:
  explicit TailReactor(core::Executor& loop) : loop_(loop) {}

  void start(std::shared_ptr<Subscription> sub, bool want_history) {
    sub_ = std::move(sub);
    sub_->attach(this);
    loop_.post([sub = sub_, want_history] { sub->begin(want_history, sub); });
  }

  void finish(const grpc::Status& s) {
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      finished_ = true;
    }
    Finish(s);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "client went away"));
      return;
    }
    sub_->on_write_done(true);
  }

  void OnCancel() override { finish(grpc::Status::CANCELLED); }

  void OnDone() override {
    if (sub_) {
      sub_->detach();
      loop_.post([sub = sub_] { sub->end_on_loop(); });
    }
    delete this;
  }

 private:
  core::Executor& loop_;
  std::shared_ptr<Subscription> sub_;
  std::mutex mu_;
  bool finished_ = false;
};

void Subscription::kick() {
  std::unique_lock lock(mu_);
  if (!reactor_ || writing_) return;
  // Every line dropped so far came after everything queued: report the gap at the end.
  if (dropped_ && !history_ && queue_bytes_ < opt_.queue_bytes) push_dropped_locked();
  if (queue_.empty()) {
    if (history_done_) {
      // Under the lock: OnDone (which deletes the reactor) detaches under it first, and gRPC
      // never runs OnDone inline from Finish for application reactors.
      history_done_ = false;
      reactor_->finish(grpc::Status::OK);
    }
    return;
  }
  current_ = std::move(queue_.front());
  queue_.pop_front();
  queue_bytes_ -= std::min(queue_bytes_, current_.ByteSizeLong());
  writing_ = true;
  reactor_->StartWrite(&current_);
}

void Subscription::on_write_done(bool) {
  bool resume_history = false;
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    resume_history = history_ && queue_bytes_ <= opt_.queue_bytes / 2;
  }
  if (resume_history) loop_.post([self = shared_from_this()] { self->history_step(); });
  kick();
}

// Rejects a call at once with a status.
class RejectReactor final : public grpc::ServerWriteReactor<TailLogsResponse> {
 public:
  explicit RejectReactor(const grpc::Status& s) { Finish(s); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<TailLogsResponse>* LogsService::TailLogs(grpc::CallbackServerContext* ctx,
                                                                  const TailLogsRequest* req) {
  // The API's limits (stream count, authorization) were decided by the CallGate interceptor.
  if (auto refused = gate_refusal(*ctx)) return new RejectReactor(*refused);
  auto invalid = [](const std::string& why) {
    return new RejectReactor(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, why));
  };
  if (!logs_ || !logs_->enabled()) {
    return new RejectReactor(
        grpc::Status(grpc::StatusCode::UNAVAILABLE, "log tailing is disabled on this agent"));
  }
  pl::LogFilter f;
  f.namespace_ = req->namespace_();
  f.pod = req->pod();
  f.container = req->container();
  if (req->stream() == "stdout") {
    f.stream = pl::Stream::kStdout;
  } else if (req->stream() == "stderr") {
    f.stream = pl::Stream::kStderr;
  } else if (!req->stream().empty()) {
    return invalid("stream must be stdout, stderr or empty; got \"" + req->stream() + "\"");
  }
  if (req->source() == "container") {
    f.source = pl::SourceKind::kContainer;
  } else if (req->source() == "kubelet") {
    f.source = pl::SourceKind::kKubelet;
  } else if (req->source() == "file") {
    f.source = pl::SourceKind::kFile;
  } else if (!req->source().empty()) {
    return invalid("source must be container, kubelet, file or empty; got \"" + req->source() +
                   "\"");
  }
  if (!req->regex().empty()) {
    std::string error;
    auto re = pl::LineRegex::compile(req->regex(), &error);
    if (!re) return invalid("regex \"" + req->regex() + "\" does not compile: " + error);
    f.regex = std::move(re);
  }
  if (req->has_since()) {
    f.since = std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::seconds(req->since().seconds()) +
            std::chrono::nanoseconds(req->since().nanos())));
  }
  const bool follow = req->follow() || req->no_history();
  auto sub = std::make_shared<Subscription>(std::move(f), follow, opt_, loop_, *logs_);
  auto* reactor = new TailReactor(loop_);
  reactor->start(std::move(sub), !req->no_history());
  return reactor;
}

}  // namespace ng::agent
