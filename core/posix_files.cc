#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "core/files.h"

namespace ng::core {
namespace {

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string dirname_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

Result<std::string> PosixFiles::read(const std::string& path) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return EnvError::from_errno(errno, "open " + path);
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(f.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return EnvError::from_errno(errno, "read " + path);
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
  }
  return data;
}

Result<std::string> PosixFiles::read_prefix(const std::string& path, size_t max_bytes) {
  Fd f(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return EnvError::from_errno(errno, "open " + path);
  std::string data(max_bytes, '\0');
  size_t got = 0;
  while (got < max_bytes) {
    const ssize_t n = ::read(f.fd, data.data() + got, max_bytes - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return EnvError::from_errno(errno, "read " + path);
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

Status PosixFiles::write_atomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    Fd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (f.fd < 0) return EnvError::from_errno(errno, "create " + tmp);
    size_t off = 0;
    while (off < data.size()) {
      const ssize_t n = ::write(f.fd, data.data() + off, data.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        ::unlink(tmp.c_str());
        return EnvError::from_errno(e, "write " + tmp);
      }
      off += static_cast<size_t>(n);
    }
    if (::fsync(f.fd) != 0) {
      const int e = errno;
      ::unlink(tmp.c_str());
      return EnvError::from_errno(e, "fsync " + tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return EnvError::from_errno(e, "rename " + tmp);
  }
  Fd dir(::open(dirname_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd >= 0) ::fsync(dir.fd);
  return Ok{};
}

Status PosixFiles::make_dirs(const std::string& path) {
  if (path.empty()) return Ok{};
  std::string cur;
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0700) != 0 && errno != EEXIST) {
      return EnvError::from_errno(errno, "mkdir " + cur);
    }
  }
  return Ok{};
}

Status PosixFiles::remove(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return EnvError::from_errno(errno, "unlink " + path);
  }
  return Ok{};
}

Result<std::vector<std::string>> PosixFiles::list(const std::string& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
  if (!d) return EnvError::from_errno(errno, "opendir " + dir);
  std::vector<std::string> names;
  while (dirent* e = ::readdir(d.get())) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  return names;
}

bool PosixFiles::exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

int remove_stale_temp_files(Files& files, const std::string& dir) {
  auto names = files.list(dir);
  if (!names) return 0;
  const std::string mine = ".tmp." + std::to_string(::getpid());
  int removed = 0;
  for (const auto& n : *names) {
    const size_t at = n.rfind(".tmp.");
    if (at == std::string::npos || at == 0 || n.size() == at + 5) continue;
    if (n.find_first_not_of("0123456789", at + 5) != std::string::npos) continue;
    if (n.compare(at, std::string::npos, mine) == 0) continue;
    if (files.remove(dir + "/" + n)) ++removed;
  }
  return removed;
}

}  // namespace ng::core
