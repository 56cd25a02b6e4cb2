#include "probes/logs/sd_journal_reader.h"

#include <systemd/sd-journal.h>

#include <cstdlib>
#include <cstring>

namespace ng::probes::logs {
namespace {

core::EnvError journal_error(int r, std::string_view what) {
  return core::EnvError::from_errno(-r, what);
}

}  // namespace

core::Status SdJournalReader::open(const std::string& cursor) {
  close();
  int r = directory_.empty() ? sd_journal_open(&j_, SD_JOURNAL_LOCAL_ONLY)
                             : sd_journal_open_directory(&j_, directory_.c_str(), 0);
  if (r < 0) {
    j_ = nullptr;
    return journal_error(
        r, directory_.empty() ? "sd_journal_open" : "sd_journal_open_directory " + directory_);
  }
  sd_journal_set_data_threshold(j_, max_bytes_ + 8);  // + "MESSAGE="
  const std::string match = "_SYSTEMD_UNIT=" + unit_;
  if ((r = sd_journal_add_match(j_, match.c_str(), 0)) < 0) {
    close();
    return journal_error(r, "sd_journal_add_match");
  }
  peeked_ = false;
  if (!cursor.empty() && sd_journal_seek_cursor(j_, cursor.c_str()) >= 0) {
    // seek_cursor lands on the entry itself when it still exists, else on the nearest one.
    if (sd_journal_next(j_) > 0 && sd_journal_test_cursor(j_, cursor.c_str()) <= 0) {
      peeked_ = true;  // the cursor's entry is gone: this one was never processed
    }
    return core::Ok{};
  }
  if ((r = sd_journal_seek_tail(j_)) < 0) {
    close();
    return journal_error(r, "sd_journal_seek_tail");
  }
  // After seek_tail, step back onto the last entry so next() returns only newer ones.
  sd_journal_previous(j_);
  return core::Ok{};
}

core::Result<bool> SdJournalReader::next(std::string_view* message, core::WallTime* time) {
  if (!j_) return core::EnvError{core::EnvErrorKind::kUnavailable, "journal not open"};
  if (peeked_) {
    peeked_ = false;
  } else {
    const int r = sd_journal_next(j_);
    if (r < 0) return journal_error(r, "sd_journal_next");
    if (r == 0) return false;
  }
  const void* data = nullptr;
  size_t len = 0;
  const int r = sd_journal_get_data(j_, "MESSAGE", &data, &len);
  if (r < 0) {
    *message = {};  // an entry without MESSAGE (or a binary one past the threshold)
  } else {
    std::string_view v(static_cast<const char*>(data), len);
    if (v.starts_with("MESSAGE=")) v.remove_prefix(8);
    *message = v;
  }
  std::uint64_t usec = 0;
  if (sd_journal_get_realtime_usec(j_, &usec) >= 0) {
    *time = core::WallTime(
        std::chrono::duration_cast<core::WallTime::duration>(std::chrono::microseconds(usec)));
  }
  return true;
}

std::string SdJournalReader::cursor() {
  if (!j_) return {};
  char* c = nullptr;
  if (sd_journal_get_cursor(j_, &c) < 0 || !c) return {};
  std::string out(c);
  std::free(c);
  return out;
}

int SdJournalReader::wait_fd() {
  return j_ ? sd_journal_get_fd(j_) : -1;
}

void SdJournalReader::process() {
  if (j_) sd_journal_process(j_);
}

void SdJournalReader::close() {
  if (j_) sd_journal_close(j_);
  j_ = nullptr;
}

}  // namespace ng::probes::logs
