#include "core/log.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>

#include "core/json_writer.h"

namespace ng::core {

std::optional<LogLevel> parse_log_level(std::string_view s) {
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "warn" || s == "warning") return LogLevel::kWarn;
  if (s == "error") return LogLevel::kError;
  return std::nullopt;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

void FdLogSink::write(std::string_view line) {
  std::lock_guard lock(mu_);
  // A full pipe or closed stdout must never stop the agent: drop the line on error.
  size_t off = 0;
  while (off < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + off, line.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;
    }
    off += static_cast<size_t>(n);
  }
}

void MemoryLogSink::write(std::string_view line) {
  std::lock_guard lock(mu_);
  lines_.emplace_back(line);
}

std::vector<std::string> MemoryLogSink::lines() const {
  std::lock_guard lock(mu_);
  return lines_;
}

bool MemoryLogSink::contains(std::string_view needle) const {
  std::lock_guard lock(mu_);
  for (const auto& l : lines_) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

namespace {
class NullSink final : public LogSink {
 public:
  void write(std::string_view) override {}
};

std::string rfc3339_now() {
  return format_rfc3339(std::chrono::system_clock::now());
}
}  // namespace

std::string format_rfc3339(std::chrono::system_clock::time_point when) {
  const auto secs = std::chrono::time_point_cast<std::chrono::seconds>(when);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when - secs).count();
  const std::time_t t = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  return buf;
}

Logger::Logger(std::shared_ptr<LogSink> sink, LogLevel level)
    : shared_(std::make_shared<Shared>()), component_("agent") {
  shared_->sink = std::move(sink);
  shared_->level.store(level);
}

Logger Logger::discard() {
  return Logger(std::make_shared<NullSink>(), LogLevel::kError);
}

Logger Logger::with_component(std::string component) const {
  return Logger(shared_, std::move(component));
}

void Logger::log(LogLevel level, std::string_view msg,
                 std::initializer_list<LogField> fields) const {
  if (!enabled(level)) return;
  emit(level, msg, fields.begin(), fields.end());
}

void Logger::log(LogLevel level, std::string_view msg, const std::vector<LogField>& fields) const {
  if (!enabled(level)) return;
  emit(level, msg, fields.data(), fields.data() + fields.size());
}

void Logger::emit(LogLevel level, std::string_view msg, const LogField* begin,
                  const LogField* end) const {
  JsonObjectWriter w;
  w.field("ts", rfc3339_now()).field("level", to_string(level)).field("component", component_);
  w.field("msg", msg);
  for (const LogField* f = begin; f != end; ++f) {
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, std::string_view> || std::is_same_v<V, std::string>) {
            w.field(f->key, std::string_view(v));
          } else {
            w.field(f->key, v);
          }
        },
        f->value);
  }
  std::string line = std::move(w).finish();
  line.push_back('\n');
  shared_->sink->write(line);
}

}  // namespace ng::core
