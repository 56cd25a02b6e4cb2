#pragma once

#include <string>

#include "probes/logs/journal_reader.h"

struct sd_journal;

namespace ng::probes::logs {

// sd-journal: the local system journal (or the journal files in `directory` when set), entries
// of one systemd unit (_SYSTEMD_UNIT=kubelet.service). Messages longer than max_bytes are cut
// by sd-journal's data threshold.
class SdJournalReader final : public JournalReader {
 public:
  SdJournalReader(std::string unit, std::string directory, size_t max_bytes)
      : unit_(std::move(unit)), directory_(std::move(directory)), max_bytes_(max_bytes) {}
  ~SdJournalReader() override { close(); }

  core::Status open(const std::string& cursor) override;
  core::Result<bool> next(std::string_view* message, core::WallTime* time) override;
  std::string cursor() override;
  int wait_fd() override;
  void process() override;
  void close() override;

 private:
  std::string unit_;
  std::string directory_;
  size_t max_bytes_;
  sd_journal* j_ = nullptr;
  bool peeked_ = false;  // positioned on an entry not yet returned (cursor vanished)
};

}  // namespace ng::probes::logs
