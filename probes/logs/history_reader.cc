#include "probes/logs/history_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace ng::probes::logs {

HistoryReader::HistoryReader(std::vector<HistoryFile> files, size_t max_line_bytes)
    : files_(std::move(files)), max_line_(max_line_bytes) {}

HistoryReader::~HistoryReader() {
  if (fd_ >= 0) ::close(fd_);
}

bool HistoryReader::step(size_t budget, const Emit& emit) {
  if (buf_.empty()) buf_.resize(64 * 1024);
  while (index_ < files_.size() && budget > 0) {
    const HistoryFile& h = files_[index_];
    if (fd_ < 0) {
      fd_ = ::open(h.path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd_ < 0) {
        ++index_;  // gone since: nothing to show
        continue;
      }
      dec_ = std::make_unique<LineDecoder>(h.format, max_line_);
      dec_->reset(0);
    }
    const std::uint64_t at = dec_->next_offset();
    if (at >= h.end) {
      // Lines after `end` reach the stream live; a line still open at `end` is not shown twice.
      ::close(fd_);
      fd_ = -1;
      dec_.reset();
      ++index_;
      continue;
    }
    const size_t want = static_cast<size_t>(
        std::min<std::uint64_t>(std::min<std::uint64_t>(buf_.size(), budget), h.end - at));
    const ssize_t n = ::pread(fd_, buf_.data(), want, static_cast<off_t>(at));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd_);
      fd_ = -1;
      dec_.reset();
      ++index_;
      continue;
    }
    budget -= std::min(budget, static_cast<size_t>(n));
    const PodRef* pod = h.kind == SourceKind::kContainer ? &h.pod : nullptr;
    dec_->feed(std::string_view(buf_.data(), static_cast<size_t>(n)),
               [&](const DecodedInfo& info, std::string_view msg) {
                 LineMeta m;
                 m.kind = h.kind;
                 m.stream = info.stream;
                 m.time = info.time;
                 m.pod = pod;
                 m.path = &h.display;
                 m.truncated = info.truncated;
                 m.decode_error = info.decode_error;
                 emit(m, msg);
               });
  }
  return index_ < files_.size();
}

}  // namespace ng::probes::logs
