#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace ng::probes::logs {

// The journald seam: kubelet's entries, in order, from a persisted cursor. Loop thread.
class JournalReader {
 public:
  virtual ~JournalReader() = default;
  // Opens the journal and positions after `cursor`; with an empty cursor, at the end (only
  // entries written from now on). A cursor the journal no longer has (vacuumed) resumes at the
  // oldest entry still there.
  virtual core::Status open(const std::string& cursor) = 0;
  // The next entry: true and the fields filled, false at the end. `message` stays valid until
  // the next call.
  virtual core::Result<bool> next(std::string_view* message, core::WallTime* time) = 0;
  // The cursor of the entry `next` returned last.
  virtual std::string cursor() = 0;
  // An fd that becomes readable when the journal changes, or -1 (then the caller polls).
  virtual int wait_fd() = 0;
  // Call after wait_fd was readable (or a poll tick), before reading again.
  virtual void process() = 0;
  virtual void close() = 0;
};

}  // namespace ng::probes::logs
