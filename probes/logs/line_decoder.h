#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "probes/logs/log_format.h"

namespace ng::probes::logs {

inline constexpr std::uint64_t kNoOffset = ~std::uint64_t{0};

// One logical line as the decoder hands it on.
struct DecodedInfo {
  Stream stream = Stream::kUnknown;
  std::string_view time;      // as written; empty for plain text
  bool truncated = false;     // cut at max_line_bytes
  bool decode_error = false;  // a container line that is neither CRI nor Docker JSON
};

// Where a decoder stands in its file, for checkpoints: every logical line that ends at or
// before `done` was handed on; partial lines still being joined started at `pending[s]`;
// `discarding` means the bytes at `done` are the rest of a line already cut and handed on.
struct DecoderPosition {
  std::uint64_t done = 0;
  std::array<std::uint64_t, 2> pending{kNoOffset, kNoOffset};  // stdout, stderr
  bool discarding = false;

  // Where reading must resume after a restart.
  std::uint64_t resume_at() const {
    std::uint64_t r = done;
    for (auto p : pending) r = p < r ? p : r;
    return r;
  }
};

// Splits a file's bytes into raw lines, decodes them (CRI, Docker JSON or plain) and joins
// partial fragments, with bounded memory: a raw line longer than max_line_bytes (plus room for
// the CRI header) is cut, handed on as truncated and the rest skipped up to its newline.
// Lines inside the caller's buffer are handed on without copying.
//
// Per-file cap: what a file holds between reads (an unterminated last line, and partial lines
// of both streams waiting for their end) shares one max_line_bytes + 128; a line that does not
// fit in what is left is cut (truncated, counted). After each feed, buffers give back memory
// beyond what they hold plus kBufferSlack, so buffered_bytes() <= buffer_cap() then.
class LineDecoder {
 public:
  LineDecoder(LineFormat format, size_t max_line_bytes)
      : format_(format),
        max_line_(max_line_bytes),
        max_raw_(max_line_bytes + kHeaderRoom),
        assemblers_{PartialAssembler(max_line_bytes), PartialAssembler(max_line_bytes)} {}

  // Starts at a checkpointed position: reading resumes at pos.resume_at(); complete lines that
  // end before pos.done are not handed on again, fragments of pending lines are re-joined.
  void restore(const DecoderPosition& pos) {
    reset(pos.resume_at());
    replay_until_ = pos.done;
    replay_pending_ = pos.pending;
    discarding_ = pos.discarding && pos.resume_at() == pos.done;
    pos_.done = pos.done;
    pos_.discarding = discarding_;
  }

  // Forgets everything; the next byte fed is at file offset `at`.
  void reset(std::uint64_t at) {
    next_ = at;
    carry_.clear();
    if (carry_.capacity() > 64 * 1024) std::string().swap(carry_);
    discarding_ = false;
    replay_until_ = 0;
    replay_pending_ = {kNoOffset, kNoOffset};
    for (auto& a : assemblers_) a.reset();
    pos_ = DecoderPosition{at, {kNoOffset, kNoOffset}, false};
  }

  std::uint64_t next_offset() const { return next_; }
  const DecoderPosition& position() const { return pos_; }
  // Heap held by this file's line buffers (capacities, not sizes).
  size_t buffered_bytes() const {
    return carry_.capacity() + scratch_.capacity() + assemblers_[0].capacity() +
           assemblers_[1].capacity();
  }
  // The most buffered_bytes() can be between feeds (docs/operations.md, memory budget).
  static constexpr size_t buffer_cap(size_t max_line_bytes) {
    return max_line_bytes + kHeaderRoom + 4 * kBufferSlack;
  }

  // Lines the caller does not need one by one: whole CRI lines (tag F, no fragment of the same
  // stream pending, not cut, not replayed) in which no prefilter match ends. They are counted,
  // not handed on: at ~200 bytes a line, handing each on costs more than finding it.
  struct QuietLines {
    const char* base = nullptr;                        // the bytes `hits` is relative to
    const std::vector<std::uint32_t>* hits = nullptr;  // sorted match ends
    size_t cursor = 0;
    size_t count = 0;  // lines counted, not handed on
    // No match ends in (begin, end]: a match ending at `begin` belongs to the line before.
    bool clear(const char* begin, const char* end) {
      const auto b = static_cast<std::uint32_t>(begin - base);
      const auto e = static_cast<std::uint32_t>(end - base);
      while (cursor < hits->size() && (*hits)[cursor] <= b) ++cursor;
      return cursor == hits->size() || (*hits)[cursor] > e;
    }
  };

  // Feeds bytes that follow the previous ones. emit(const DecodedInfo&, std::string_view).
  // With `quiet` (its base at data.data()), quiet lines are counted there instead of emitted.
  template <class Emit>
  void feed(std::string_view data, Emit&& emit, QuietLines* quiet = nullptr) {
    const char* p = data.data();
    const char* end = p + data.size();
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', end - p));
      const char* stop = nl ? nl : end;
      const size_t piece = stop - p;
      const std::uint64_t piece_at = next_;
      if (discarding_) {
        next_ += piece + (nl ? 1 : 0);
        if (nl) {
          discarding_ = false;
          pos_.done = next_;
          pos_.discarding = false;
        }
        p = nl ? nl + 1 : end;
        continue;
      }
      if (carry_.empty() && nl && piece <= max_raw_) {
        next_ += piece + 1;
        if (quiet && (format_ == LineFormat::kCri || (format_ == LineFormat::kAuto && *p != '{')) &&
            next_ > replay_until_ && piece <= max_line_ && quiet->clear(p, nl) &&
            quiet_cri(std::string_view(p, piece))) {
          ++quiet->count;
          settle(next_);
          p = nl + 1;
          continue;
        }
        raw_line(std::string_view(p, piece), piece_at, next_, emit);
        p = nl + 1;
        continue;
      }
      // A line crossing a read boundary, or too long: goes through the bounded carry, which
      // shares the file's cap with partial lines waiting for their end.
      const size_t held = carry_.size() + assemblers_[0].held() + assemblers_[1].held();
      const size_t room = max_raw_ - std::min(max_raw_, held);
      if (piece > room) {
        carry_.append(p, room);
        next_ += piece + (nl ? 1 : 0);
        const std::uint64_t start = piece_at - (carry_.size() - room);
        cut_line(start, next_, nl != nullptr, emit);
        p = nl ? nl + 1 : end;
        continue;
      }
      carry_.append(p, piece);
      next_ += piece + (nl ? 1 : 0);
      if (nl) {
        const std::uint64_t start = next_ - 1 - carry_.size();
        raw_line(carry_, start, next_, emit);
        carry_.clear();
      }
      p = nl ? nl + 1 : end;
    }
    trim();
  }

  // The file will not grow again (rotated and drained, or gone): hands on an unterminated
  // last line and any partial lines, marked truncated.
  template <class Emit>
  void finish(Emit&& emit) {
    if (!carry_.empty() && !discarding_) {
      const std::uint64_t start = next_ - carry_.size();
      std::string last = std::move(carry_);
      carry_.clear();
      raw_line(last, start, next_, emit);
    }
    for (int s = 0; s < 2; ++s) {
      if (!assemblers_[s].pending()) continue;
      std::string_view out;
      bool cut = false;
      assemblers_[s].add({}, false, &out, &cut);
      DecodedInfo info;
      info.stream = s == 0 ? Stream::kStdout : Stream::kStderr;
      info.truncated = true;
      emit(info, out);
      pos_.pending[s] = kNoOffset;
    }
    pos_.done = next_;
  }

 private:
  static constexpr size_t kHeaderRoom = 128;
  static constexpr size_t kBufferSlack = 1024;

  // Once per feed (not per line): buffers keep at most kBufferSlack beyond what they hold.
  void trim() {
    if (carry_.capacity() > carry_.size() + kBufferSlack) std::string(carry_).swap(carry_);
    if (scratch_.capacity() > kBufferSlack) std::string().swap(scratch_);
    for (auto& a : assemblers_) a.trim(kBufferSlack);
  }

  // How long a partial line of stream s may grow: the other stream's waiting line counts.
  size_t partial_limit(int s) const {
    return max_line_ - std::min(max_line_, assemblers_[1 - s].held());
  }
  // A whole CRI line that raw_line() would hand on as is (so it may be counted instead). Docker
  // JSON lines (kAuto, starting with '{') never get here: their message is unescaped first.
  bool quiet_cri(std::string_view line) const {
    auto d = decode_cri(line);
    return d && !d->partial && !assemblers_[d->stream == Stream::kStderr ? 1 : 0].pending();
  }

  template <class Emit>
  void cut_line(std::uint64_t start, std::uint64_t end_now, bool complete, Emit& emit) {
    // Hand on what fits; the rest of the line (up to its newline) is skipped.
    raw_line(carry_, start, end_now, emit, /*cut=*/true);
    carry_.clear();
    if (!complete) {
      discarding_ = true;
      pos_.discarding = true;
    }
  }

  template <class Emit>
  void raw_line(std::string_view line, std::uint64_t start, std::uint64_t end, Emit& emit,
                bool cut = false) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const bool replaying = end <= replay_until_;
    if (format_ == LineFormat::kPlain) {
      if (!replaying) {
        DecodedInfo info;
        info.truncated = cut || line.size() > max_line_;
        emit(info, line.substr(0, max_line_));
      }
      pos_.done = end;
      return;
    }
    auto d = decode(line);
    if (!d) {
      if (!replaying) {
        DecodedInfo info;
        info.decode_error = true;
        info.truncated = cut || line.size() > max_line_;
        emit(info, line.substr(0, max_line_));
      }
      settle(end);
      return;
    }
    const int s = d->stream == Stream::kStderr ? 1 : 0;
    if (replaying) {
      // Before the checkpoint: only fragments of a line that was still open are joined again.
      if (d->partial && replay_pending_[s] != kNoOffset && start >= replay_pending_[s]) {
        std::string_view out;
        bool t = false;
        if (!assemblers_[s].pending()) pos_.pending[s] = start;
        assemblers_[s].add(d->message, true, &out, &t, false, partial_limit(s));
      }
      settle(end);
      return;
    }
    if (d->partial) {
      if (!assemblers_[s].pending()) pos_.pending[s] = start;
      std::string_view out;
      bool t = false;
      assemblers_[s].add(d->message, true, &out, &t, cut, partial_limit(s));
      settle(end);
      return;
    }
    std::string_view out;
    bool t = false;
    assemblers_[s].add(d->message, false, &out, &t, false, partial_limit(s));
    pos_.pending[s] = kNoOffset;
    DecodedInfo info;
    info.stream = d->stream;
    info.time = d->time;
    info.truncated = t || cut;
    emit(info, out);
    settle(end);
  }

  // Everything up to `end` is handed on or held in an assembler (whose start is recorded).
  void settle(std::uint64_t end) {
    pos_.done = end;
    pos_.discarding = discarding_;
  }

  std::optional<DecodedLine> decode(std::string_view line) {
    switch (format_) {
      case LineFormat::kCri:
        return decode_cri(line);
      case LineFormat::kDocker:
        return decode_docker_json(line, scratch_);
      default:
        return decode_container_line(line, scratch_);
    }
  }

  LineFormat format_;
  size_t max_line_;
  size_t max_raw_;
  std::uint64_t next_ = 0;
  std::string carry_;
  std::string scratch_;
  bool discarding_ = false;
  std::uint64_t replay_until_ = 0;
  std::array<std::uint64_t, 2> replay_pending_{kNoOffset, kNoOffset};
  std::array<PartialAssembler, 2> assemblers_;
  DecoderPosition pos_;
};

}  // namespace ng::probes::logs
