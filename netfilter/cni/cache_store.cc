#include "netfilter/cni/cache_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

namespace ng::netfilter::cni {

namespace {

FileStamp stamp_of(const struct stat& st) {
  FileStamp s;
  s.dev = st.st_dev;
  s.ino = st.st_ino;
  s.size = static_cast<std::uint64_t>(st.st_size);
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return s;
}

}  // namespace

PosixCacheStore::PosixCacheStore(std::string results_dir) : dir_(std::move(results_dir)) {}

core::Result<FileStamp> PosixCacheStore::dir_stamp() {
  struct stat st {};
  if (::stat(dir_.c_str(), &st) != 0) return core::EnvError::from_errno(errno, dir_);
  if (!S_ISDIR(st.st_mode)) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput, dir_ + " is not a directory"};
  }
  return stamp_of(st);
}

core::Result<std::vector<std::pair<std::string, FileStamp>>> PosixCacheStore::list() {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir_.c_str()), ::closedir);
  if (!d) return core::EnvError::from_errno(errno, dir_);
  std::vector<std::pair<std::string, FileStamp>> out;
  errno = 0;
  while (struct dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (name.empty() || name[0] == '.') continue;
    struct stat st {};
    // The file may be gone between readdir and fstatat (a DEL): skip it.
    if (::fstatat(::dirfd(d.get()), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode)) continue;
    out.emplace_back(name, stamp_of(st));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

core::Result<std::string> PosixCacheStore::read(const std::string& name, size_t max_bytes) {
  const std::string path = dir_ + "/" + name;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return core::EnvError::from_errno(errno, path);
  std::string out;
  char buf[16384];
  while (out.size() <= max_bytes) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return core::EnvError::from_errno(err, path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  if (out.size() > max_bytes + 1) out.resize(max_bytes + 1);
  return out;
}

}  // namespace ng::netfilter::cni
