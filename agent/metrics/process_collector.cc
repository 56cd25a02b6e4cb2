#include "agent/metrics/process_collector.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/version.h"

namespace ng::agent {
namespace {

prometheus::MetricFamily gauge_family(std::string name, std::string help, double value,
                                      prometheus::MetricType type = prometheus::MetricType::Gauge) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(m);
  return f;
}

double boot_time_seconds() {
  std::ifstream in("/proc/stat");
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime") {
      in >> value;
      return value;
    }
    in.ignore(1 << 20, '\n');
  }
  return 0;
}

}  // namespace

std::vector<prometheus::MetricFamily> ProcessCollector::Collect() const {
  std::vector<prometheus::MetricFamily> out;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(::sysconf(_SC_PAGESIZE));

  std::ifstream stat_in(proc_ + "/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_in)), std::istreambuf_iterator<char>());
  // Fields after the ")" that closes the command name, which may itself hold spaces.
  const auto close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream fields(stat.substr(close + 2));
    std::vector<std::string> f;
    std::string tok;
    while (fields >> tok) f.push_back(tok);
    // f[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
    if (f.size() > 21) {
      const double utime = std::stod(f[11]);
      const double stime = std::stod(f[12]);
      const double start = std::stod(f[19]);
      const double vsize = std::stod(f[20]);
      const double rss = std::stod(f[21]);
      out.push_back(gauge_family("process_cpu_seconds_total",
                                 "Total user and system CPU time spent in seconds.",
                                 (utime + stime) / ticks, prometheus::MetricType::Counter));
      out.push_back(gauge_family("process_resident_memory_bytes", "Resident memory size in bytes.",
                                 rss * page));
      out.push_back(
          gauge_family("process_virtual_memory_bytes", "Virtual memory size in bytes.", vsize));
      out.push_back(gauge_family("process_start_time_seconds",
                                 "Start time of the process since unix epoch in seconds.",
                                 boot_time_seconds() + start / ticks));
    }
  }

  double fds = 0;
  if (DIR* d = ::opendir((proc_ + "/fd").c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ++fds;
    }
    ::closedir(d);
    --fds;  // the directory stream's own fd
  }
  out.push_back(gauge_family("process_open_fds", "Number of open file descriptors.", fds));
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    out.push_back(gauge_family("process_max_fds", "Maximum number of open file descriptors.",
                               static_cast<double>(rl.rlim_cur)));
  }
  return out;
}

std::vector<prometheus::MetricFamily> BuildInfoCollector::Collect() const {
  prometheus::MetricFamily f;
  f.name = "nodeguard_build_info";
  f.help = "Build of the running agent; always 1";
  f.type = prometheus::MetricType::Gauge;
  prometheus::ClientMetric m;
  m.label = {{"version", std::string(kVersion)},
             {"commit", std::string(kCommit)},
             {"compiler", std::string(kCompiler)}};
  m.gauge.value = 1;
  f.metric.push_back(m);
  return {f};
}

}  // namespace ng::agent
