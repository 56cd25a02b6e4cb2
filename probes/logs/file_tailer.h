#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/executor.h"
#include "core/result.h"
#include "probes/logs/checkpoint.h"
#include "probes/logs/fs_watcher.h"
#include "probes/logs/line_decoder.h"
#include "probes/logs/log_metrics.h"
#include "probes/logs/log_types.h"

namespace ng::probes::logs {

// What a line is handed on with.
struct LineMeta {
  SourceKind kind = SourceKind::kFile;
  Stream stream = Stream::kUnknown;
  std::string_view time;              // as written (CRI/Docker); empty for plain text
  core::WallTime wall{};              // journald's own time; zero when unknown
  const PodRef* pod = nullptr;        // container logs only
  const std::string* path = nullptr;  // the followed path (symlink or configured file)
  bool truncated = false;
  bool decode_error = false;
};

// Receives every line, on the loop thread. A message view is valid only during the call.
class LineSink {
 public:
  virtual ~LineSink() = default;
  virtual void on_line(const LineMeta& meta, std::string_view message) = 0;
  // After a batch of lines: flush counters, wake streams.
  virtual void on_batch_end() {}
  // Raw bytes about to be decoded; lines whose message lies inside them follow, then
  // end_chunk. Lets the sink look at many lines at once.
  virtual void begin_chunk(SourceKind /*kind*/, std::string_view /*raw*/) {}
  virtual void end_chunk() {}
  // After begin_chunk: the sorted offsets (in the raw bytes) where prefilter matches end, when
  // the sink needs only the lines holding one; whole decodable lines without one are then
  // counted through count_quiet() instead of on_line(). nullptr: every line, one by one.
  virtual const std::vector<std::uint32_t>* quiet_hits() const { return nullptr; }
  virtual void count_quiet(SourceKind /*kind*/, size_t /*lines*/) {}
};

// A file's content so far, for a stream that wants history before live lines.
struct HistoryFile {
  std::string path;     // to open
  std::string display;  // the followed path
  SourceKind kind = SourceKind::kFile;
  PodRef pod;
  LineFormat format = LineFormat::kPlain;
  std::uint64_t end = 0;  // lines before this offset were handed on; later ones will be
};

struct TailerOptions {
  std::vector<std::string> container_dirs;  // *.log in each (symlinks into /var/log/pods)
  std::vector<std::string> files;           // plain files
  std::string kubelet_file;                 // kubelet's log as a plain file; empty: none
  size_t max_line_bytes = 64 * 1024;
  // A rotated or deleted file is read until it has not grown for this long.
  core::Duration rotate_wait = std::chrono::seconds(10);
  // Everything is looked at again this often, in case a notification was missed.
  core::Duration rescan_interval = std::chrono::seconds(10);
  // On the very first start (no checkpoint), read existing files from the beginning.
  bool read_from_head = false;
  size_t read_budget_per_turn = 8 * 1024 * 1024;  // bytes per loop turn over all files
  // Most files open at once (logs.max_files, lowered to the fd budget); past it a file is not
  // opened (counted) and a followed path is tried again at the next rescan.
  size_t max_open_files = static_cast<size_t>(-1);
};

struct TailerStatus {
  size_t files_open = 0;
  size_t files_rotated = 0;  // draining
  size_t followed_paths = 0;
  size_t polled_dirs = 0;
  size_t waiting_paths = 0;  // followed paths whose file is not open: max_open_files reached
  std::string last_error;
};

// Follows container logs and configured files: discovery, inotify hints (or polling), reading
// with bounded memory, kubelet rotation (rename, later gzip), copytruncate and delete/recreate,
// without losing or repeating a line; positions for checkpoints. Loop thread only.
class FileTailer {
 public:
  FileTailer(TailerOptions options, FsWatcher& watcher, core::Clock& clock, core::Executor& loop,
             LineSink& sink, LogMetrics& metrics);
  ~FileTailer();

  // `restored`: the last checkpoint, or nullopt on a first start.
  void start(const std::optional<CheckpointState>& restored);
  void stop();

  // Offsets of every open file, as of the last line handed on.
  void snapshot(std::vector<FileCheckpoint>& out) const;
  // Bumped whenever a position moved: the checkpoint writer compares it.
  std::uint64_t progress() const { return progress_; }
  TailerStatus status() const;

  // The live (not rotated) files whose origin `want` accepts.
  void history(const std::function<bool(SourceKind, const PodRef*)>& want,
               std::vector<HistoryFile>& out) const;

  // Reads whatever is readable now, synchronously (tests and benchmarks).
  void drain_now();
  // Looks at every followed path and directory now (what the periodic rescan does).
  void rescan();

 private:
  struct Key {
    std::uint64_t dev = 0, ino = 0;
    auto operator<=>(const Key&) const = default;
  };
  struct Source {
    SourceKind kind;
    LineFormat format;
    PodRef pod;
    std::string display;  // the followed path (symlink or configured)
  };
  struct TailedFile {
    Key key;
    FileIdentity id;
    std::string path;  // path at open time
    std::string dir;
    std::shared_ptr<const Source> src;
    int fd = -1;
    LineDecoder dec;
    bool rotated = false;
    bool queued = false;
    core::MonoTime last_growth{};
    TailedFile(LineFormat f, size_t max) : dec(f, max) {}
  };
  struct Followed {
    std::string real;
    std::string dir, base;
    std::shared_ptr<const Source> src;
    std::optional<Key> current;
    std::optional<Key> previous;  // the file that was current before a rotation
    bool from_link = false;
    bool unborn = false;  // followed before its file existed (a dangling link)
  };
  enum class StartAt { kBeginning, kEnd };

  void on_hint(const std::string& dir, std::string_view name);
  void discover_dir(const std::string& dir);
  void route_to_files(const std::string& dir, bool all);
  void check_link(const std::string& dir, const std::string& name);
  // unborn: the path had no file when first seen (a dangling link), so everything is new.
  void follow(const std::string& display, const std::string& real, SourceKind kind,
              LineFormat format, PodRef pod, bool from_link, StartAt start, bool unborn = false);
  void unfollow(const std::string& real);
  void check_followed(Followed& f, StartAt start_new);
  TailedFile* open_file(const std::string& path, const std::shared_ptr<const Source>& src,
                        const FileCheckpoint* cp, StartAt start, bool rotated);
  void mark_rotated(TailedFile& f, bool deleted);
  void close_file(const Key& key, bool finish);
  void queue(TailedFile& f);
  void run_queue();
  // Reads up to budget bytes; returns bytes read.
  size_t pump(TailedFile& f, size_t budget);
  bool verify_identity(TailedFile& f, std::uint64_t size);
  void recover_from_copy(TailedFile& f);
  void restart_truncated(TailedFile& f);
  void restore_rotated(const FileCheckpoint& cp);
  // Opens (from the start) kubelet rotations of dir/base newer than the file `ours`.
  void open_newer_rotations(const std::string& dir, const std::string& base, const Key& ours,
                            const std::shared_ptr<const Source>& src);
  // Opens (from the start, oldest first) every kubelet rotation of dir/base not open yet.
  void open_rotations_of(const std::string& dir, const std::string& base,
                         const std::shared_ptr<const Source>& src);
  void housekeeping();
  size_t feed(TailedFile& f, std::string_view data);
  void emit(const TailedFile& f, const DecodedInfo& info, std::string_view msg);
  void set_error(std::string e);

  TailerOptions opt_;
  FsWatcher& watcher_;
  core::Clock& clock_;
  core::Executor& loop_;
  LineSink& sink_;
  LogMetrics& metrics_;
  std::set<std::string> container_dirs_;
  std::map<Key, std::unique_ptr<TailedFile>> files_;
  std::map<std::string, Followed> followed_;  // by real path
  // (dir, base name) -> real path: an inotify hint names one file; finding it must not walk a
  // directory of thousands (10,000 container logs in one directory is normal).
  std::multimap<std::pair<std::string, std::string>, std::string> followed_by_name_;
  std::map<std::string, std::string> links_;                // container dir entry -> real path
  std::set<std::pair<std::string, std::string>> dangling_;  // (dir, name): target dir missing
  std::set<std::string> waiting_;  // paths not opened: max_open_files reached
  std::multimap<std::string, Key> files_by_dir_;
  std::set<std::pair<std::string, Key>> rotated_by_dir_;  // (dir, key) of rotated open files
  std::map<Key, FileCheckpoint> restored_;                // checkpoints not yet claimed
  bool had_checkpoint_ = false;
  std::deque<Key> ready_;
  bool run_posted_ = false;
  std::vector<char> buf_;
  std::unique_ptr<core::Timer> housekeeping_timer_;
  core::MonoTime last_rescan_{};
  std::uint64_t progress_ = 0;
  std::string last_error_;
  bool stopped_ = true;
  StartAt start_mode_ = StartAt::kBeginning;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ng::probes::logs
