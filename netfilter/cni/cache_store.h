#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/result.h"

namespace ng::netfilter::cni {

// What identifies one version of a file (or the directory): a rewrite in place changes the
// size or mtime, a replacement the inode.
struct FileStamp {
  std::uint64_t dev = 0;
  std::uint64_t ino = 0;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;  // wall clock, ns since the epoch
  bool operator==(const FileStamp&) const = default;
};

// The seam to libcni's results directory (blocking: called on a worker).
class CacheStore {
 public:
  virtual ~CacheStore() = default;
  virtual const std::string& dir() const = 0;
  // The directory's stamp: one stat, for the cheap "did anything change" poll. kNotFound when
  // the directory does not exist (no pod was ever set up on this node).
  virtual core::Result<FileStamp> dir_stamp() = 0;
  // Regular files in the directory (names not starting with '.'), sorted by name.
  virtual core::Result<std::vector<std::pair<std::string, FileStamp>>> list() = 0;
  // At most max_bytes + 1 bytes of a file (more means too large).
  virtual core::Result<std::string> read(const std::string& name, size_t max_bytes) = 0;
};

// Production: `<cache_dir>/results`.
class PosixCacheStore final : public CacheStore {
 public:
  explicit PosixCacheStore(std::string results_dir);
  const std::string& dir() const override { return dir_; }
  core::Result<FileStamp> dir_stamp() override;
  core::Result<std::vector<std::pair<std::string, FileStamp>>> list() override;
  core::Result<std::string> read(const std::string& name, size_t max_bytes) override;

 private:
  std::string dir_;
};

}  // namespace ng::netfilter::cni
