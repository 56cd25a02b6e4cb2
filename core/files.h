#pragma once

#include <string>
#include <vector>

#include "core/result.h"

namespace ng::core {

// The seam for state files (snapshots, checkpoints). Log tailing reads files directly through
// its own source interface because it needs fds, inodes and inotify.
class Files {
 public:
  virtual ~Files() = default;
  virtual Result<std::string> read(const std::string& path) = 0;
  // At most max_bytes from the start of the file: for files whose size is not ours to trust
  // (another process's /proc entries). The default reads whole and cuts.
  virtual Result<std::string> read_prefix(const std::string& path, size_t max_bytes) {
    auto r = read(path);
    if (r && r->size() > max_bytes) r->resize(max_bytes);
    return r;
  }
  // Crash-safe replace: write a temp file in the same directory, fsync, rename, fsync the
  // directory. A reader sees the old content or the new, never a mix.
  virtual Status write_atomic(const std::string& path, std::string_view data) = 0;
  virtual Status make_dirs(const std::string& path) = 0;
  virtual Status remove(const std::string& path) = 0;
  virtual Result<std::vector<std::string>> list(const std::string& dir) = 0;  // names only
  virtual bool exists(const std::string& path) = 0;
};

class PosixFiles final : public Files {
 public:
  Result<std::string> read(const std::string& path) override;
  Result<std::string> read_prefix(const std::string& path, size_t max_bytes) override;
  Status write_atomic(const std::string& path, std::string_view data) override;
  Status make_dirs(const std::string& path) override;
  Status remove(const std::string& path) override;
  Result<std::vector<std::string>> list(const std::string& dir) override;
  bool exists(const std::string& path) override;
};

// Removes what an interrupted write_atomic left in `dir` (a kill -9 between creating the temp
// file and the rename): names "<file>.tmp.<pid>" of processes other than this one. Called by
// the owner of a state directory at start. Returns how many were removed.
int remove_stale_temp_files(Files& files, const std::string& dir);

}  // namespace ng::core
