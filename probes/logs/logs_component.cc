#include "probes/logs/logs_component.h"

#include <sys/resource.h>

#include <algorithm>

#include <boost/asio/post.hpp>

#include "probes/logs/sd_journal_reader.h"
#include "probes/logs/system_fs_watcher.h"

namespace ng::probes::logs {
namespace {

using namespace std::chrono_literals;
constexpr auto kCommitTick = 100ms;
constexpr auto kJournalRetry = 30s;
constexpr size_t kJournalBatch = 1000;

// fds kept free for the rest of the agent (netfilter guard, gRPC, metrics, sd-journal's
// journal files, checkpoint writes) however many log files are followed.
constexpr rlim_t kFdReserve = 256;

// Following max_files files needs as many fds plus the reserve: the soft limit is raised that
// far (no further, up to the hard limit). Returns how many files may be open at once.
size_t fd_budget(std::int64_t max_files, const core::Logger& log) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return static_cast<size_t>(max_files);
  const rlim_t want = static_cast<rlim_t>(max_files) + kFdReserve;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
    const rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? want : std::min(want, rl.rlim_max);
    if (rl.rlim_cur > old && ::setrlimit(RLIMIT_NOFILE, &rl) == 0) {
      log.info("raised the open-file limit for log tailing",
               {{"from", static_cast<std::int64_t>(old)},
                {"to", static_cast<std::int64_t>(rl.rlim_cur)}});
    } else {
      rl.rlim_cur = old;
    }
  }
  if (rl.rlim_cur == RLIM_INFINITY) return static_cast<size_t>(max_files);
  // Below twice the reserve (a tiny limit) half of it goes to logs.
  const rlim_t files = rl.rlim_cur > 2 * kFdReserve ? rl.rlim_cur - kFdReserve : rl.rlim_cur / 2;
  if (files < static_cast<rlim_t>(max_files)) {
    log.warn("the open-file limit allows fewer log files than logs.max_files",
             {{"max_files", max_files},
              {"files", static_cast<std::int64_t>(files)},
              {"open_file_limit", static_cast<std::int64_t>(rl.rlim_cur)},
              {"reserved", static_cast<std::int64_t>(kFdReserve)}});
  }
  return static_cast<size_t>(std::min<rlim_t>(files, static_cast<rlim_t>(max_files)));
}

}  // namespace

LoadedRules load_rules(const std::vector<std::string>& paths, core::Files& files) {
  LoadedRules out;
  if (paths.empty()) {
    for (const auto& [name, text] : builtin_rule_files()) {
      parse_rule_file(text, "built-in " + name, out.set);
    }
  } else {
    for (const auto& p : paths) {
      auto text = files.read(p);
      if (!text) {
        out.set.errors.push_back(p + ": cannot read: " + text.error().message);
        continue;
      }
      parse_rule_file(*text, p, out.set);
    }
  }
  out.matcher = RuleMatcher::compile(out.set.rules, &out.set.errors);
  return out;
}

LogsComponent::LogsComponent(LogsConfig config, Deps deps, std::unique_ptr<FsWatcher> watcher,
                             std::unique_ptr<JournalReader> journal)
    : config_(std::move(config)),
      d_(std::move(deps)),
      metrics_(d_.metrics),
      watcher_(std::move(watcher)),
      journal_(std::move(journal)),
      commit_timer_(d_.clock.make_timer()),
      journal_timer_(d_.clock.make_timer()),
      conditions_timer_(d_.clock.make_timer()) {}

LogsComponent::~LogsComponent() {
  *alive_ = false;
  if (journal_fd_) journal_fd_->release();  // sd-journal owns that fd
}

std::string LogsComponent::checkpoint_path() const {
  return d_.state_dir + "/logs/checkpoints";
}

void LogsComponent::report(const std::string& what, const core::EnvError& e) {
  if (d_.env_errors.report("logs", e)) {
    d_.log.warn("log tailing degraded", {{"kind", core::to_string(e.kind)}, {"error", e.message}});
  }
  degraded_[what] = e.message;
}

void LogsComponent::recovered(const std::string& what) {
  if (degraded_.erase(what) && degraded_.empty()) {
    d_.env_errors.recovered("logs");
    d_.log.info("log tailing recovered", {{"what", what}});
  }
}

void LogsComponent::start() {
  if (!config_.enabled) {
    state_ = core::ComponentState::kDisabled;
    return;
  }
  state_ = core::ComponentState::kRunning;
  const size_t max_open = fd_budget(config_.max_files, d_.log);
  metrics_.files_limit.Set(static_cast<double>(max_open));

  // Rules: a bad file or rule is reported and skipped; the others still work.
  auto loaded = load_rules(config_.rules, d_.files);
  rule_errors_ = loaded.set.errors;
  rule_warnings_ = loaded.set.warnings;
  for (const auto& w : rule_warnings_) d_.log.warn("log rules", {{"warning", w}});
  for (const auto& e : rule_errors_) d_.log.error("log rule rejected", {{"error", e}});
  metrics_.rules_loaded.Set(static_cast<double>(loaded.matcher.rules_loaded()));
  metrics_.rules_rejected.Set(static_cast<double>(rule_errors_.size()));
  if (!rule_errors_.empty()) {
    report("rules", core::EnvError{core::EnvErrorKind::kInvalidInput,
                                   std::to_string(rule_errors_.size()) +
                                       " log rule(s) rejected; first: " + rule_errors_.front()});
  }
  PipelineOptions popt;
  popt.condition_clear_after = config_.condition_clear_after;
  pipeline_ = std::make_unique<LogPipeline>(std::move(loaded.set), std::move(loaded.matcher),
                                            metrics_, d_.health, d_.clock, d_.log, popt);
  pipeline_->init_conditions();

  // Checkpoints.
  if (auto st = d_.files.make_dirs(d_.state_dir + "/logs"); !st) {
    state_writable_ = false;
    report("checkpoint", st.error());
  } else {
    (void)core::remove_stale_temp_files(d_.files, d_.state_dir + "/logs");  // after a kill -9
  }
  auto restored = load_checkpoint();
  if (restored) {
    journal_cursor_ = committed_cursor_ = restored->journal_cursor;
    pipeline_->restore_counters(*restored);
  }

  if (!watcher_) {
    watcher_ = std::make_unique<SystemFsWatcher>(d_.io, d_.clock, config_.poll_interval);
  }
  watcher_->set_degraded_handler([this](const core::EnvError& e) { report("inotify", e); });
  TailerOptions topt;
  topt.container_dirs = config_.container_dirs;
  topt.files = config_.files;
  if (!config_.kubelet.empty() && config_.kubelet != "journald") {
    topt.kubelet_file = config_.kubelet;
  }
  topt.max_line_bytes = static_cast<size_t>(config_.max_line_bytes);
  topt.rotate_wait = config_.rotate_wait;
  topt.read_from_head = config_.read_from_head;
  topt.max_open_files = max_open;
  tailer_ = std::make_unique<FileTailer>(topt, *watcher_, d_.clock, d_.loop, *pipeline_, metrics_);
  tailer_->start(restored);

  if (config_.kubelet == "journald") {
    if (!journal_) {
      journal_ = std::make_unique<SdJournalReader>(config_.kubelet_unit, config_.journal_dir,
                                                   static_cast<size_t>(config_.max_line_bytes));
    }
    open_journal();
  }
  last_commit_ = d_.clock.now();
  commit_timer_->arm(kCommitTick, [this] { commit_tick(); });
  conditions_timer_->arm(10s, [this] { conditions_tick(); });
  d_.log.info(
      "log tailing started",
      {{"container_dirs", static_cast<std::int64_t>(config_.container_dirs.size())},
       {"files", static_cast<std::int64_t>(config_.files.size())},
       {"max_open_files", static_cast<std::int64_t>(max_open)},
       {"kubelet", config_.kubelet},
       {"rules", static_cast<std::int64_t>(pipeline_->matcher().rules_loaded())},
       {"rules_rejected", static_cast<std::int64_t>(rule_errors_.size())},
       {"restored_files", static_cast<std::int64_t>(restored ? restored->files.size() : 0)}});
}

std::optional<CheckpointState> LogsComponent::load_checkpoint() {
  auto text = d_.files.read(checkpoint_path());
  if (!text) {
    if (text.error().kind != core::EnvErrorKind::kNotFound) report("checkpoint", text.error());
    return std::nullopt;
  }
  std::string error;
  auto state = parse_checkpoints(*text, &error);
  if (!state) {
    report("checkpoint",
           core::EnvError{core::EnvErrorKind::kInvalidInput,
                          checkpoint_path() + ": " + error + "; starting at the end of files"});
    return std::nullopt;
  }
  return state;
}

void LogsComponent::stop() {
  if (state_ == core::ComponentState::kStopped || state_ == core::ComponentState::kDisabled) {
    return;
  }
  commit_timer_->cancel();
  journal_timer_->cancel();
  conditions_timer_->cancel();
  if (journal_fd_) {
    boost::system::error_code ec;
    journal_fd_->cancel(ec);
    journal_fd_->release();
    journal_fd_.reset();
  }
  // A last checkpoint, so a clean restart resumes exactly here.
  if (tailer_) {
    tailer_->stop();
    commit(/*sync=*/true);
  }
  if (journal_) journal_->close();
  if (watcher_) watcher_->stop();
  state_ = core::ComponentState::kStopped;
}

core::ComponentStatus LogsComponent::status() const {
  core::ComponentStatus s;
  s.state = state_;
  if (state_ == core::ComponentState::kDisabled) {
    s.message = "disabled by config";
    return s;
  }
  if (!tailer_) return s;
  const auto t = tailer_->status();
  s.message = "tailing " + std::to_string(t.files_open) + " files";
  if (t.files_rotated) s.message += " (" + std::to_string(t.files_rotated) + " rotated, draining)";
  if (config_.kubelet == "journald") {
    s.message += journal_open_ ? "; kubelet from journald" : "; journald unavailable";
  }
  s.message += "; " + std::to_string(pipeline_->matcher().rules_loaded()) + " rules";
  if (!rule_errors_.empty()) s.message += " (" + std::to_string(rule_errors_.size()) + " rejected)";
  if (t.polled_dirs) s.message += "; polling " + std::to_string(t.polled_dirs) + " dirs";
  if (t.waiting_paths) {
    s.message += "; " + std::to_string(t.waiting_paths) +
                 " files not followed (at logs.max_files or the open-file limit)";
  }
  for (const auto& [what, why] : degraded_) s.message += "; " + why;
  if (s.state == core::ComponentState::kRunning &&
      (!degraded_.empty() || t.polled_dirs || t.waiting_paths)) {
    s.state = core::ComponentState::kDegraded;
  }
  s.details = {{"files", std::to_string(t.files_open)},
               {"rotated_files", std::to_string(t.files_rotated)},
               {"followed_paths", std::to_string(t.followed_paths)},
               {"polled_dirs", std::to_string(t.polled_dirs)},
               {"waiting_files", std::to_string(t.waiting_paths)},
               {"rules", std::to_string(pipeline_->matcher().rules_loaded())},
               {"rules_rejected", std::to_string(rule_errors_.size())},
               {"lines", std::to_string(pipeline_->lines_seen())},
               {"problems", std::to_string(pipeline_->problems_seen())},
               {"journal", journal_open_ ? "open" : "closed"},
               {"streams", std::to_string(pipeline_->subscribers())}};
  for (size_t i = 0; i < rule_errors_.size() && i < 5; ++i) {
    s.details.emplace_back("rule_error_" + std::to_string(i + 1), rule_errors_[i]);
  }
  for (size_t i = 0; i < rule_warnings_.size() && i < 5; ++i) {
    s.details.emplace_back("rule_warning_" + std::to_string(i + 1), rule_warnings_[i]);
  }
  if (!t.last_error.empty()) s.details.emplace_back("last_error", t.last_error);
  return s;
}

void LogsComponent::conditions_tick() {
  pipeline_->expire_conditions();
  conditions_timer_->arm(10s, [this] { conditions_tick(); });
}

// --- checkpoints and publishing ------------------------------------------------------------

void LogsComponent::commit_tick() {
  const auto now = d_.clock.now();
  const bool moved =
      tailer_->progress() != committed_progress_ || journal_cursor_ != committed_cursor_;
  if (pipeline_->has_staged() || (moved && now - last_commit_ >= config_.checkpoint_interval)) {
    commit(false);
  }
  commit_timer_->arm(kCommitTick, [this] { commit_tick(); });
}

void LogsComponent::commit_now() {
  commit(true);
}

void LogsComponent::commit(bool sync) {
  if (write_in_flight_ && !sync) return;  // the next tick covers what came meanwhile
  auto job = std::make_shared<CommitJob>();
  CheckpointState st;
  tailer_->snapshot(st.files);
  st.journal_cursor = journal_cursor_;
  job->problems = pipeline_->take_staged();
  pipeline_->snapshot_counters(job->problems, st);
  job->text = serialize_checkpoints(st);
  committed_progress_ = tailer_->progress();
  committed_cursor_ = journal_cursor_;
  last_commit_ = d_.clock.now();
  const std::string path = checkpoint_path();
  if (!state_writable_) {
    // No durable checkpoint possible: publish anyway (a restart may repeat these).
    for (const auto& p : job->problems) pipeline_->log_problem(p);
    pipeline_->publish(job->problems);
    return;
  }
  // The write and the problem log lines happen together on one thread, in that order: what
  // was logged is what a restart will not read again.
  auto run = [files = &d_.files, path, job, pipeline = pipeline_.get(), mu = write_mu_,
              metrics = &metrics_]() -> core::Status {
    std::lock_guard lock(*mu);
    auto status = files->write_atomic(path, job->text);
    if (status) metrics->checkpoint_writes.Increment();
    for (const auto& p : job->problems) pipeline->log_problem(p);
    return status;
  };
  if (sync) {
    auto status = run();
    on_committed(status, std::move(job->problems));
    return;
  }
  write_in_flight_ = true;
  d_.workers.post([run, job, loop = &d_.loop, this, alive = alive_]() mutable {
    auto status = run();
    loop->post([this, alive, status, job]() mutable {
      if (!*alive) return;
      write_in_flight_ = false;
      on_committed(status, std::move(job->problems));
    });
  });
}

void LogsComponent::on_committed(const core::Status& st, std::vector<Problem> problems) {
  if (!st) {
    report("checkpoint", st.error());
  } else if (state_writable_) {
    recovered("checkpoint");
  }
  if (pipeline_) pipeline_->publish(problems);
}

// --- journald ------------------------------------------------------------------------------

void LogsComponent::open_journal() {
  last_journal_attempt_ = d_.clock.now();
  auto st = journal_->open(journal_cursor_);
  if (!st) {
    journal_open_ = false;
    report("journal", st.error());
    journal_timer_->arm(kJournalRetry, [this] { open_journal(); });
    return;
  }
  journal_open_ = true;
  recovered("journal");
  const int fd = journal_->wait_fd();
  if (fd >= 0) {
    journal_fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(d_.io, fd);
  }
  read_journal();
}

void LogsComponent::wait_journal() {
  if (!journal_open_ || state_ == core::ComponentState::kStopped) return;
  if (journal_fd_) {
    journal_fd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                            [this, alive = alive_](const boost::system::error_code& ec) {
                              if (ec || !*alive || !journal_open_) return;
                              journal_->process();
                              read_journal();
                            });
  }
  // Also look now and then: sd-journal may want a timeout-driven look (file rotation).
  journal_timer_->arm(journal_fd_ ? core::Duration(5s) : core::Duration(config_.poll_interval),
                      [this] {
                        if (journal_fd_) {
                          boost::system::error_code ec;
                          journal_fd_->cancel(ec);
                        }
                        journal_->process();
                        read_journal();
                      });
}

void LogsComponent::read_journal() {
  std::string_view msg;
  core::WallTime when{};
  size_t n = 0;
  std::uint64_t bytes = 0;
  for (; n < kJournalBatch; ++n) {
    auto r = journal_->next(&msg, &when);
    if (!r) {
      report("journal", r.error());
      break;
    }
    if (!*r) break;
    LineMeta m;
    m.kind = SourceKind::kKubelet;
    m.wall = when;
    static const std::string kJournalPath = "journald";
    m.path = &kJournalPath;
    if (msg.size() > static_cast<size_t>(config_.max_line_bytes)) {
      msg = msg.substr(0, static_cast<size_t>(config_.max_line_bytes));
      m.truncated = true;
    }
    while (!msg.empty() && msg.back() == '\n') msg.remove_suffix(1);
    bytes += msg.size();
    pipeline_->on_line(m, msg);
  }
  if (n > 0) {
    journal_cursor_ = journal_->cursor();
    journal_entries_ += n;
    metrics_.bytes(SourceKind::kKubelet).Increment(static_cast<double>(bytes));
    pipeline_->on_batch_end();
  }
  if (n == kJournalBatch) {
    // More waiting: continue on a later turn so the loop stays responsive.
    d_.loop.post([this, alive = alive_] {
      if (*alive && journal_open_) read_journal();
    });
    return;
  }
  wait_journal();
}

void LogsComponent::subscribe(std::shared_ptr<LogSubscriber> s) {
  if (pipeline_) {
    pipeline_->add_subscriber(std::move(s));
    metrics_.streams.Set(static_cast<double>(pipeline_->subscribers()));
  }
}

void LogsComponent::unsubscribe(const LogSubscriber* s) {
  if (pipeline_) {
    pipeline_->remove_subscriber(s);
    metrics_.streams.Set(static_cast<double>(pipeline_->subscribers()));
  }
}

std::vector<HistoryFile> LogsComponent::history(const LogFilter& filter) const {
  std::vector<HistoryFile> out;
  if (tailer_) {
    tailer_->history([&](SourceKind k, const PodRef* pod) { return filter.matches_file(k, pod); },
                     out);
  }
  return out;
}

}  // namespace ng::probes::logs
