#pragma once

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "probes/logs/journal_reader.h"

namespace ng::testing {

// An in-memory journal: entries with cursors "c1", "c2", ...; open() resumes after a cursor
// like sd-journal (empty: at the end).
class FakeJournalReader final : public probes::logs::JournalReader {
 public:
  void append(std::string message) { entries_.push_back(std::move(message)); }

  core::Status open(const std::string& cursor) override {
    if (open_error) return *open_error;
    opened_with = cursor;
    is_open = true;
    if (cursor.empty()) {
      pos_ = entries_.size();
    } else {
      pos_ = std::stoul(cursor.substr(1));  // entry n has cursor "c<n>", 1-based
    }
    return core::Ok{};
  }
  core::Result<bool> next(std::string_view* message, core::WallTime* time) override {
    if (pos_ >= entries_.size()) return false;
    current_ = entries_[pos_++];
    *message = current_;
    *time = core::WallTime(std::chrono::seconds(1'700'000'000 + pos_));
    return true;
  }
  std::string cursor() override { return "c" + std::to_string(pos_); }
  int wait_fd() override { return -1; }
  void process() override {}
  void close() override { is_open = false; }

  std::optional<core::EnvError> open_error;
  std::string opened_with;
  bool is_open = false;

 private:
  std::vector<std::string> entries_;
  size_t pos_ = 0;
  std::string current_;
};

}  // namespace ng::testing
