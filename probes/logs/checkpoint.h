#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/logs/line_decoder.h"

namespace ng::probes::logs {

// A file is the same file when device, inode and the hash of its first bytes agree: inode
// numbers are reused after a delete, and copytruncate keeps the inode but not the content.
struct FileIdentity {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint32_t fp_len = 0;  // bytes hashed (grows with the file up to kFingerprintBytes)
  std::uint64_t fp_hash = 0;
};

inline constexpr std::uint32_t kFingerprintBytes = 512;
std::uint64_t fingerprint_hash(std::string_view first_bytes);

struct FileCheckpoint {
  FileIdentity id;
  DecoderPosition pos;
  bool rotated = false;  // no longer the file at `path` (being drained)
  std::string path;      // the followed path it was opened at
};

// What survives a restart: per file the end of the last line fully processed, and the
// journald cursor of the last kubelet entry processed.
struct CheckpointState {
  std::vector<FileCheckpoint> files;
  std::string journal_cursor;
  // Lines and matches counted up to exactly these positions, so the counters continue across a
  // restart (even kill -9) without counting any line twice: by source, and by (reason, source).
  std::map<std::string, std::uint64_t> lines;
  std::map<std::pair<std::string, std::string>, std::uint64_t> problems;
};

std::string serialize_checkpoints(const CheckpointState& state);
// nullopt with *error naming the line when the text is not a checkpoint file.
std::optional<CheckpointState> parse_checkpoints(std::string_view text, std::string* error);

}  // namespace ng::probes::logs
