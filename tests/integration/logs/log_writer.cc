// Test writer: numbered CRI lines at a high rate into one container log, rotating it the ways
// kubelet, logrotate and people do. Every number 1..count is written exactly once.
//
//   log_writer --file DIR/0.log --count N --rate LINES_PER_S --rotate-every K --modes LIST
//     LIST: comma-separated, used in turn: kubelet (rename to .YYYYMMDD-hhmmss, a few more lines
//     into the old file, reopen; the rotated file before the newest is gzipped), copytruncate
//     (copy to .1, truncate in place), recreate (delete, create anew), none.
//   --partial-every M: every M-th line is written as two CRI fragments (P then F).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string arg(int argc, char** argv, const char* name, const char* def) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t c = s.find(',', start);
    if (c == std::string::npos) c = s.size();
    out.push_back(s.substr(start, c - start));
    start = c + 1;
  }
  return out;
}

int open_log(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(path.c_str());
    std::exit(1);
  }
  return fd;
}

void write_all(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0) {
      std::perror("write");
      std::exit(1);
    }
    off += static_cast<size_t>(n);
  }
}

std::string stamp() {
  auto now = std::chrono::system_clock::now();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  std::time_t s = ns / 1000000000;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[96];
  std::snprintf(out, sizeof out, "%s.%09lldZ", buf, static_cast<long long>(ns % 1000000000));
  return out;
}

std::string line(long n, int partial_every) {
  const std::string body = "SEQ-" + std::to_string(n) + " payload " + std::string(40 + n % 60, 'x');
  if (partial_every > 0 && n % partial_every == 0) {
    const size_t half = body.size() / 2;
    return stamp() + " stdout P " + body.substr(0, half) + "\n" + stamp() + " stdout F " +
           body.substr(half) + "\n";
  }
  return stamp() + (n % 7 == 0 ? " stderr F " : " stdout F ") + body + "\n";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string path = arg(argc, argv, "--file", "");
  const long count = std::atol(arg(argc, argv, "--count", "10000").c_str());
  const long start = std::atol(arg(argc, argv, "--start", "1").c_str());
  const double rate = std::atof(arg(argc, argv, "--rate", "10000").c_str());
  const long rotate_every = std::atol(arg(argc, argv, "--rotate-every", "0").c_str());
  const int partial_every = std::atoi(arg(argc, argv, "--partial-every", "0").c_str());
  const auto modes = split(arg(argc, argv, "--modes", "kubelet"));
  if (path.empty()) {
    std::fprintf(stderr, "usage: log_writer --file PATH [--count N] [--rate R] ...\n");
    return 2;
  }
  int fd = open_log(path);
  std::vector<std::string> rotated;
  size_t mode_i = 0;
  int rotation = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (long i = 0; i < count; ++i) {
    const long n = start + i;
    write_all(fd, line(n, partial_every));
    if (rotate_every > 0 && (i + 1) % rotate_every == 0 && i + 1 < count) {
      const std::string mode = modes[mode_i++ % modes.size()];
      ++rotation;
      if (mode == "kubelet") {
        // kubelet's names sort by time; here by (first number, rotation), so runs with later
        // --start values rotate to later names as a later kubelet would.
        char suffix[64];
        std::snprintf(suffix, sizeof suffix, ".%08ld-%06d", start % 100000000, rotation);
        const std::string old = path + suffix;
        std::filesystem::rename(path, old);
        // The runtime writes a little more before kubelet's ReopenContainerLog reaches it.
        for (int k = 0; k < 3 && i + 1 < count; ++k) {
          ++i;
          write_all(fd, line(start + i, partial_every));
        }
        ::close(fd);
        fd = open_log(path);
        rotated.push_back(old);
        if (rotated.size() >= 2) {
          // kubelet compresses every rotated file but the newest.
          const std::string cmd = "gzip -f '" + rotated[rotated.size() - 2] + "'";
          if (std::system(cmd.c_str()) != 0) std::fprintf(stderr, "gzip failed\n");
        }
      } else if (mode == "copytruncate") {
        std::error_code ec;
        std::filesystem::rename(path + ".1", path + ".2", ec);
        std::filesystem::copy_file(path, path + ".1",
                                   std::filesystem::copy_options::overwrite_existing);
        if (::ftruncate(fd, 0) != 0) std::perror("ftruncate");
      } else if (mode == "recreate") {
        ::unlink(path.c_str());
        ::close(fd);
        fd = open_log(path);
      }
    }
    if (rate > 0) {
      const auto due = t0 + std::chrono::duration<double>((i + 1) / rate);
      if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    }
  }
  ::close(fd);
  return 0;
}
