#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <prometheus/registry.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/clock.h"
#include "core/component.h"
#include "core/env_error_reporter.h"
#include "core/executor.h"
#include "core/files.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "probes/logs/file_tailer.h"
#include "probes/logs/fs_watcher.h"
#include "probes/logs/journal_reader.h"
#include "probes/logs/log_filter.h"
#include "probes/logs/log_metrics.h"
#include "probes/logs/log_pipeline.h"
#include "probes/logs/logs_config.h"

namespace ng::probes::logs {

// Loads rule files (or the built-in ones) and compiles them; errors name file and rule.
struct LoadedRules {
  RuleSet set;
  RuleMatcher matcher;
};
LoadedRules load_rules(const std::vector<std::string>& paths, core::Files& files);

// The log component: tails container logs and configured files, reads kubelet's journal,
// matches every line against the rules and reports problems; serves TailLogs streams.
class LogsComponent final : public core::Component {
 public:
  struct Deps {
    boost::asio::io_context& io;
    core::Clock& clock;
    core::Executor& loop;
    core::Executor& workers;
    prometheus::Registry& metrics;
    core::HealthSink& health;
    core::EnvErrorReporter& env_errors;
    core::Logger log;
    core::Files& files;
    std::string state_dir;
  };
  // watcher / journal: null builds the production ones (inotify with polling; sd-journal).
  LogsComponent(LogsConfig config, Deps deps, std::unique_ptr<FsWatcher> watcher = nullptr,
                std::unique_ptr<JournalReader> journal = nullptr);
  ~LogsComponent() override;

  std::string_view name() const override { return "logs"; }
  // Any thread (config is fixed at construction).
  bool enabled() const { return config_.enabled; }
  void start() override;
  void stop() override;
  core::ComponentStatus status() const override;

  // Loop thread. TailLogs: live lines go to the subscriber from now on.
  void subscribe(std::shared_ptr<LogSubscriber> s);
  void unsubscribe(const LogSubscriber* s);
  // Files whose current content matches the filter's origin, with how far lines were handed on
  // (the history a new stream reads before its live lines).
  std::vector<HistoryFile> history(const LogFilter& filter) const;

  LogMetrics& metrics() { return metrics_; }
  LogPipeline* pipeline() { return pipeline_.get(); }
  FileTailer* tailer() { return tailer_.get(); }
  size_t max_line_bytes() const { return static_cast<size_t>(config_.max_line_bytes); }
  // Writes the checkpoint now, synchronously, and publishes what it covers (tests).
  void commit_now();
  std::string checkpoint_path() const;

 private:
  struct CommitJob {
    std::string text;
    std::vector<Problem> problems;
  };

  std::optional<CheckpointState> load_checkpoint();
  void commit_tick();
  void conditions_tick();
  void commit(bool sync);
  void on_committed(const core::Status& st, std::vector<Problem> problems);
  void open_journal();
  void wait_journal();
  void read_journal();
  // Degradations by cause (rules, checkpoint, journal, inotify), each reported once and
  // cleared when the cause goes away.
  void report(const std::string& what, const core::EnvError& e);
  void recovered(const std::string& what);

  LogsConfig config_;
  Deps d_;
  LogMetrics metrics_;
  std::unique_ptr<FsWatcher> watcher_;
  std::unique_ptr<JournalReader> journal_;
  std::unique_ptr<LogPipeline> pipeline_;
  std::unique_ptr<FileTailer> tailer_;
  std::unique_ptr<boost::asio::posix::stream_descriptor> journal_fd_;
  std::unique_ptr<core::Timer> commit_timer_;
  std::unique_ptr<core::Timer> journal_timer_;
  std::unique_ptr<core::Timer> conditions_timer_;
  std::vector<std::string> rule_errors_;
  std::vector<std::string> rule_warnings_;
  core::ComponentState state_ = core::ComponentState::kStopped;
  std::map<std::string, std::string> degraded_;
  bool state_writable_ = true;
  bool write_in_flight_ = false;
  std::uint64_t committed_progress_ = ~std::uint64_t{0};
  std::string journal_cursor_;  // of the last kubelet entry processed
  std::string committed_cursor_;
  bool journal_open_ = false;
  std::uint64_t journal_entries_ = 0;
  core::MonoTime last_commit_{};
  core::MonoTime last_journal_attempt_{};
  std::shared_ptr<std::mutex> write_mu_ = std::make_shared<std::mutex>();
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ng::probes::logs
