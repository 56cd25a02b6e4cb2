#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ng::core {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

std::optional<LogLevel> parse_log_level(std::string_view s);
// "2024-05-01T12:00:00.123Z": the time format of log lines, also used in status details.
std::string format_rfc3339(std::chrono::system_clock::time_point when);
std::string_view to_string(LogLevel level);

// Where finished JSON lines go. Implementations must be thread-safe: the loop, workers and
// gRPC threads all log.
class LogSink {
 public:
  virtual ~LogSink() = default;
  virtual void write(std::string_view line) = 0;
};

// One JSON object per line on a file descriptor (stdout in a pod, what Fluent Bit expects).
class FdLogSink final : public LogSink {
 public:
  explicit FdLogSink(int fd) : fd_(fd) {}
  void write(std::string_view line) override;

 private:
  std::mutex mu_;
  int fd_;
};

// Keeps lines in memory; for tests and for `ngctl`-visible recent logs.
class MemoryLogSink final : public LogSink {
 public:
  void write(std::string_view line) override;
  std::vector<std::string> lines() const;
  bool contains(std::string_view needle) const;

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

struct LogField {
  using Value = std::variant<std::string_view, std::string, std::int64_t, double, bool>;
  std::string_view key;
  Value value;

  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, std::string&& v) : key(k), value(std::move(v)) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  template <class I, class = std::enable_if_t<std::is_integral_v<I> && !std::is_same_v<I, bool>>>
  LogField(std::string_view k, I v) : key(k), value(static_cast<std::int64_t>(v)) {}
};

// Structured logger handed to every component. Copies share the sink and the level, so
// `--log-level` applies everywhere; `with_component` names the emitter.
class Logger {
 public:
  Logger(std::shared_ptr<LogSink> sink, LogLevel level);
  static Logger discard();  // for code paths and tests that do not care

  Logger with_component(std::string component) const;
  void set_level(LogLevel level) { shared_->level.store(level); }
  bool enabled(LogLevel level) const { return level >= shared_->level.load(); }

  void log(LogLevel level, std::string_view msg, std::initializer_list<LogField> fields = {}) const;
  void log(LogLevel level, std::string_view msg, const std::vector<LogField>& fields) const;
  void debug(std::string_view msg, std::initializer_list<LogField> f = {}) const {
    log(LogLevel::kDebug, msg, f);
  }
  void info(std::string_view msg, std::initializer_list<LogField> f = {}) const {
    log(LogLevel::kInfo, msg, f);
  }
  void warn(std::string_view msg, std::initializer_list<LogField> f = {}) const {
    log(LogLevel::kWarn, msg, f);
  }
  void error(std::string_view msg, std::initializer_list<LogField> f = {}) const {
    log(LogLevel::kError, msg, f);
  }

 private:
  struct Shared {
    std::shared_ptr<LogSink> sink;
    std::atomic<LogLevel> level;
  };
  Logger(std::shared_ptr<Shared> shared, std::string component)
      : shared_(std::move(shared)), component_(std::move(component)) {}
  void emit(LogLevel level, std::string_view msg, const LogField* begin, const LogField* end) const;

  std::shared_ptr<Shared> shared_;
  std::string component_;
};

}  // namespace ng::core
