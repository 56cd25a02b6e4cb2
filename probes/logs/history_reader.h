#pragma once

#include <functional>
#include <string>
#include <vector>

#include "probes/logs/file_tailer.h"

namespace ng::probes::logs {

// Reads the lines a file already had when a TailLogs stream started, in bounded steps, so a
// slow client paces the reading and the loop is never held for long. Loop thread.
class HistoryReader {
 public:
  using Emit = std::function<void(const LineMeta&, std::string_view)>;
  HistoryReader(std::vector<HistoryFile> files, size_t max_line_bytes);
  ~HistoryReader();

  // Reads up to `budget` bytes; false once every file is done.
  bool step(size_t budget, const Emit& emit);

 private:
  std::vector<HistoryFile> files_;
  size_t max_line_;
  size_t index_ = 0;
  int fd_ = -1;
  std::unique_ptr<LineDecoder> dec_;
  std::vector<char> buf_;
};

}  // namespace ng::probes::logs
