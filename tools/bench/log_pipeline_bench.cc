// Log pipeline benchmark: the same code the agent runs (tailer -> CRI decode -> partial join
// -> one Hyperscan scan per line against every rule -> counters), single-threaded on one file.
//
//   log_pipeline_bench generate FILE BYTES         # a CRI log, ~1% lines matching some rule
//   log_pipeline_bench rules JSON PATTERNS COUNT   # COUNT rules: the built-in ones + synthetic
//   log_pipeline_bench pipeline FILE JSON [RUNS]   # prints MiB/s per run and the median
//
// tools/bench/logs.sh runs all of it beside grep -E -f and cat, and measures the agent's RSS.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/log.h"
#include "probes/logs/file_tailer.h"
#include "probes/logs/log_pipeline.h"
#include "probes/logs/logs_component.h"

namespace {

using namespace ng;
using namespace std::chrono_literals;

const char* kWords[] = {"request", "handled", "user",    "cache",    "miss",    "hit",   "GET",
                        "POST",    "status",  "200",     "404",      "latency", "ms",    "db",
                        "query",   "rows",    "worker",  "queue",    "depth",   "retry", "ok",
                        "session", "token",   "refresh", "upstream", "pod",     "shard", "commit"};

// Lines that some rule matches, sprinkled at ~1%.
const char* kProblems[] = {
    "write /data/x: no space left on device",
    "dial tcp 10.0.3.7:5432: connect: connection refused",
    "java.lang.OutOfMemoryError: Java heap space",
    "panic: runtime error: index out of range [7] with length 3",
    "Readiness probe failed: HTTP probe failed with statuscode: 503",
};

int generate(const std::string& path, long long bytes) {
  std::ofstream out(path, std::ios::binary);
  std::mt19937_64 rng(42);
  std::string line;
  long long written = 0, n = 0;
  while (written < bytes) {
    line = "2024-05-01T12:00:00.";
    char frac[16];
    std::snprintf(frac, sizeof frac, "%09lldZ", n % 1000000000);
    line += frac;
    line += (n % 9 == 0) ? " stderr " : " stdout ";
    // Every 50th line is split into a partial and a final fragment, as runtimes do.
    const bool split = n % 50 == 0;
    std::string msg;
    if (rng() % 100 == 0) {
      msg = kProblems[rng() % (sizeof kProblems / sizeof *kProblems)];
    } else {
      msg = "level=info ts=" + std::to_string(n) + " msg=\"";
      const int words = 8 + static_cast<int>(rng() % 20);
      for (int w = 0; w < words; ++w) {
        msg += kWords[rng() % (sizeof kWords / sizeof *kWords)];
        msg += ' ';
      }
      msg += "\" trace_id=" + std::to_string(rng());
    }
    if (split) {
      const size_t half = msg.size() / 2;
      const std::string header = line;
      line = header + "P " + msg.substr(0, half) + "\n" + header + "F " + msg.substr(half) + "\n";
    } else {
      line += "F " + msg + "\n";
    }
    out << line;
    written += static_cast<long long>(line.size());
    ++n;
  }
  std::printf("generated %s: %lld bytes, %lld lines\n", path.c_str(), written, n);
  return 0;
}

int rules(const std::string& json_path, const std::string& patterns_path, int count) {
  nlohmann::json doc;
  doc["source"] = "bench-monitor";
  doc["conditions"] = nlohmann::json::array();
  doc["rules"] = nlohmann::json::array();
  std::vector<std::string> patterns;
  // The built-in rules first (what a node really runs), then synthetic application rules in
  // the style operators write: literals with character classes and bounded wildcards.
  for (const auto& [name, text] : probes::logs::builtin_rule_files()) {
    auto f = nlohmann::json::parse(text);
    for (auto& c : f.value("conditions", nlohmann::json::array())) doc["conditions"].push_back(c);
    for (auto& r : f["rules"]) {
      if (static_cast<int>(patterns.size()) >= count) break;
      doc["rules"].push_back(r);
      patterns.push_back(r["pattern"].get<std::string>());
    }
  }
  // Application and node rules in the style operators write: a distinctive literal, often
  // with a class or an alternation around it.
  static const char* kSynthetic[] = {
      "Liveness probe failed: (HTTP probe failed with statuscode: [0-9]+|Get \"http[^\"]*\": dial "
      "tcp)",
      "Readiness probe failed: (HTTP probe failed|Get \"http)",
      "Back-off pulling image \"[^\"]+\"",
      "ErrImagePull|ImagePullBackOff",
      "x509: certificate (has expired|signed by unknown authority|is valid for [^,]+, not)",
      "context deadline exceeded \\(Client\\.Timeout",
      "dial tcp [0-9.]+:[0-9]+: connect: connection refused",
      "too many open files",
      "[Rr]ead-only file system",
      "segfault at [0-9a-f]+ ip [0-9a-f]+",
      "MountVolume\\.(SetUp|MountDevice) failed for volume",
      "Unable to attach or mount volumes",
      "FailedScheduling",
      "TLS handshake timeout",
      "etcdserver: (request timed out|leader changed|too many requests)",
      "leader(election| election) lost",
      "failed to (acquire|renew) lease",
      "upstream connect error or disconnect/reset before headers",
      "HTTP/1\\.[01]\" 50[234] ",
      "deadlock detected",
      "could not serialize access due to (concurrent update|read/write dependencies)",
      "(FATAL|ERROR): +too many (connections|clients)",
      "Lock wait timeout exceeded; try restarting transaction",
      "Disk quota exceeded",
      "Stale (file|NFS file) handle",
      "Transport endpoint is not connected",
      "nf_conntrack: (nf_conntrack: )?table full, dropping packet",
      "neighbou?r table overflow",
      "blocked for more than [0-9]+ seconds",
      "soft lockup - CPU#[0-9]+ stuck",
      "rcu_(sched|preempt) self-detected stall",
      "EXT4-fs (error|warning) \\(device [a-z0-9]+\\)",
      "XFS \\([a-z0-9]+\\): (Corruption|metadata I/O error)",
      "(Buffer )?I/O error,? (on )?dev(ice)? [a-z0-9]+",
      "NETDEV WATCHDOG: [a-z0-9]+ \\([a-z0-9_]+\\): transmit queue [0-9]+ timed out",
      "Link is Down",
      "page allocation failure: order:[0-9]+",
      "invoked oom-killer: gfp_mask=0x[0-9a-f]+",
      "kernel BUG at [^ ]+:[0-9]+",
      "general protection fault(, probably for non-canonical address)?",
      "Start request repeated too quickly",
      "Main process exited, code=(killed|dumped), status=[0-9]+",
      "Dependency failed for [A-Z]",
      "Timed out waiting for device",
      "(ImageGCFailed|ContainerGCFailed|failed to garbage collect required amount of images)",
      "Failed to (create|start) (pod )?sandbox",
      "node (is )?not ready|NodeNotReady",
      "Throttling request took [0-9.]+m?s",
      "error killing pod: failed to \"KillPodSandbox\"",
      "failed to reserve (sandbox|container) name",
      "PodSandboxChanged|SandboxChanged",
      "Failed to pull image \"[^\"]+\": rpc error",
      "manifest unknown|manifest for [^ ]+ not found",
      "pull access denied for [^,]+, repository does not exist",
      "(net/http: )?request canceled while waiting for connection",
      "broken pipe",
      "connection reset by peer",
      "no route to host",
      "network is unreachable",
      "java\\.net\\.(SocketTimeoutException|ConnectException)",
      "Exception in thread \"[^\"]+\" java\\.lang\\.[A-Za-z]+Error",
      "Traceback \\(most recent call last\\)",
      "panic: (runtime error|assignment to entry in nil map|send on closed channel)",
      "fatal error: (concurrent map (read and )?writes|all goroutines are asleep)",
      "SIGSEGV: segmentation violation",
      "std::bad_alloc",
      "terminate called after throwing an instance of",
      "Assertion `[^`]+' failed",
      "(ORA|PLS)-[0-9]{5}",
      "SQLSTATE\\[(08|40|53)[0-9A-Z]{3}\\]",
      "ECONNRESET|ETIMEDOUT|EHOSTUNREACH",
      "Redis(Connection|Timeout)Error",
      "KafkaException: (Timeout|Broker)",
      "Circuit ?breaker (is )?open",
      "rate limit(ed| exceeded)",
      "quota exceeded for (resource|quota metric)",
      "OperationalError: \\(psycopg2",
      "MongoNetworkError|MongoServerSelectionError",
      "AccessDenied(Exception)?: (User|Access denied)",
  };
  for (const char* p : kSynthetic) {
    if (static_cast<int>(patterns.size()) >= count) break;
    nlohmann::json r;
    r["type"] = "temporary";
    r["reason"] = "App" + std::to_string(patterns.size());
    r["pattern"] = p;
    doc["rules"].push_back(r);
    patterns.push_back(p);
  }
  std::ofstream(json_path) << doc.dump(2);
  std::ofstream pat(patterns_path);
  for (const auto& p : patterns) pat << p << "\n";
  std::printf("wrote %zu rules to %s and %s\n", patterns.size(), json_path.c_str(),
              patterns_path.c_str());
  return 0;
}

// A loop executor that runs posted work at once (the benchmark is single-threaded).
struct Inline final : core::Executor {
  std::vector<std::function<void()>> q;
  void post(std::function<void()> fn) override { q.push_back(std::move(fn)); }
  void run() {
    while (!q.empty()) {
      auto v = std::move(q);
      q.clear();
      for (auto& f : v) f();
    }
  }
};

struct NullWatcher final : probes::logs::FsWatcher {
  void set_handler(Handler) override {}
  void set_degraded_handler(DegradedHandler) override {}
  void watch_dir(const std::string&) override {}
  void unwatch_dir(const std::string&) override {}
  size_t watched_dirs() const override { return 0; }
  size_t polled_dirs() const override { return 0; }
  void stop() override {}
};

struct NullHealth final : core::HealthSink {
  void set_condition(const core::ConditionReport&) override {}
  void record_event(core::HealthEvent) override {}
};

struct Clock final : core::Clock {
  core::MonoTime now() const override { return std::chrono::steady_clock::now(); }
  core::WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  struct T final : core::Timer {
    void arm(core::Duration, std::function<void()>) override {}
    void cancel() override {}
    bool armed() const override { return false; }
  };
  std::unique_ptr<core::Timer> make_timer() override { return std::make_unique<T>(); }
};

struct PosixReader final : core::Files {
  core::PosixFiles f;
  core::Result<std::string> read(const std::string& p) override { return f.read(p); }
  core::Status write_atomic(const std::string& p, std::string_view d) override {
    return f.write_atomic(p, d);
  }
  core::Status make_dirs(const std::string& p) override { return f.make_dirs(p); }
  core::Status remove(const std::string& p) override { return f.remove(p); }
  core::Result<std::vector<std::string>> list(const std::string& d) override { return f.list(d); }
  bool exists(const std::string& p) override { return f.exists(p); }
};

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

int pipeline(const std::string& file, const std::string& rules_json, int runs) {
  PosixReader files;
  auto loaded = probes::logs::load_rules({rules_json}, files);
  if (!loaded.set.errors.empty()) {
    for (const auto& e : loaded.set.errors) std::fprintf(stderr, "rule error: %s\n", e.c_str());
    return 1;
  }
  std::printf("rules compiled: %zu\n", loaded.matcher.rules_loaded());
  std::vector<double> mibs;
  for (int run = 0; run < runs; ++run) {
    auto again = probes::logs::load_rules({rules_json}, files);
    prometheus::Registry registry;
    probes::logs::LogMetrics metrics(registry);
    NullHealth health;
    Clock clock;
    probes::logs::LogPipeline pipe(std::move(again.set), std::move(again.matcher), metrics, health,
                                   clock, core::Logger::discard());
    NullWatcher watcher;
    Inline loop;
    probes::logs::TailerOptions o;
    o.read_from_head = true;
    // Followed the way kubelet lays container logs out: a symlink in a container log dir.
    char tmpl[] = "/tmp/ng-bench-XXXXXX";
    const std::string dir = ::mkdtemp(tmpl);
    const std::string link = dir + "/bench_default_app-" + std::string(64, 'b') + ".log";
    if (::symlink(file.c_str(), link.c_str()) != 0) return 1;
    o.container_dirs = {dir};
    probes::logs::FileTailer tailer(o, watcher, clock, loop, pipe, metrics);
    // CPU time of this thread: "per core", and fair on a machine shared with other work.
    const double c0 = thread_cpu_seconds();
    const auto t0 = std::chrono::steady_clock::now();
    tailer.start(std::nullopt);
    loop.run();
    tailer.drain_now();
    const double secs = thread_cpu_seconds() - c0;
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double bytes = metrics.bytes(probes::logs::SourceKind::kContainer).Value();
    const double lines = metrics.lines(probes::logs::SourceKind::kContainer).Value();
    const double mib = bytes / (1024.0 * 1024.0) / secs;
    mibs.push_back(mib);
    std::printf(
        "run %d: %.0f MiB in %.2f s CPU (%.2f s wall) = %.0f MiB/s per core, %.1f M lines/s, %zu "
        "matches\n",
        run + 1, bytes / 1048576.0, secs, wall, mib, lines / secs / 1e6,
        static_cast<size_t>(pipe.problems_seen()));
    tailer.stop();
    ::unlink(link.c_str());
    ::rmdir(dir.c_str());
  }
  std::sort(mibs.begin(), mibs.end());
  std::printf("pipeline median: %.0f MiB/s (one core)\n", mibs[mibs.size() / 2]);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "generate" && argc == 4) return generate(argv[2], std::atoll(argv[3]));
  if (mode == "rules" && argc == 5) return rules(argv[2], argv[3], std::atoi(argv[4]));
  if (mode == "pipeline" && argc >= 4)
    return pipeline(argv[2], argv[3], argc > 4 ? std::atoi(argv[4]) : 3);
  std::fprintf(stderr,
               "usage: log_pipeline_bench generate FILE BYTES | rules JSON PATTERNS COUNT | "
               "pipeline FILE RULES.json [RUNS]\n");
  return 2;
}
