#include "probes/logs/file_tailer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "probes/logs/pod_path.h"

namespace ng::probes::logs {
namespace {

constexpr size_t kReadChunk = 256 * 1024;
constexpr size_t kPerFileTurn = 1024 * 1024;
constexpr auto kHousekeeping = std::chrono::seconds(1);

std::string dirname_of(const std::string& p) {
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

std::string basename_of(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

std::optional<std::string> real_path(const std::string& p) {
  char buf[PATH_MAX];
  if (!::realpath(p.c_str(), buf)) return std::nullopt;
  return std::string(buf);
}

// kubelet's rotation suffix: ".YYYYMMDD-hhmmss" (names sort by rotation time).
bool kubelet_rotation_of(std::string_view name, std::string_view base) {
  if (name.size() != base.size() + 16 || !name.starts_with(base) || name[base.size()] != '.') {
    return false;
  }
  const std::string_view sfx = name.substr(base.size() + 1);
  for (size_t i = 0; i < sfx.size(); ++i) {
    const bool digit = sfx[i] >= '0' && sfx[i] <= '9';
    if (i == 8 ? sfx[i] != '-' : !digit) return false;
  }
  return true;
}

bool compressed(std::string_view name) {
  for (std::string_view ext : {".gz", ".bz2", ".xz", ".zst", ".lz4", ".zip"}) {
    if (name.ends_with(ext)) return true;
  }
  return false;
}

// Up to n first bytes of fd.
std::string read_head(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<size_t>(r);
  }
  out.resize(got);
  return out;
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.' && (e->d_name[1] == 0 || (e->d_name[1] == '.' && e->d_name[2] == 0))) {
      continue;
    }
    out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

// Removes one (key, value) entry from a multimap.
template <class M, class V>
void erase_entry(M& map, const typename M::key_type& key, const V& value) {
  auto range = map.equal_range(key);
  for (auto it = range.first; it != range.second; ++it) {
    if (it->second == value) {
      map.erase(it);
      return;
    }
  }
}

}  // namespace

FileTailer::FileTailer(TailerOptions options, FsWatcher& watcher, core::Clock& clock,
                       core::Executor& loop, LineSink& sink, LogMetrics& metrics)
    : opt_(std::move(options)),
      watcher_(watcher),
      clock_(clock),
      loop_(loop),
      sink_(sink),
      metrics_(metrics),
      buf_(kReadChunk),
      housekeeping_timer_(clock.make_timer()) {}

FileTailer::~FileTailer() {
  stop();
}

void FileTailer::start(const std::optional<CheckpointState>& restored) {
  stopped_ = false;
  had_checkpoint_ = restored.has_value();
  if (restored) {
    for (const auto& cp : restored->files) restored_[Key{cp.id.dev, cp.id.ino}] = cp;
  }
  watcher_.set_handler([this](const std::string& dir, std::string_view name) {
    if (!stopped_) on_hint(dir, name);
  });
  start_mode_ = (had_checkpoint_ || opt_.read_from_head) ? StartAt::kBeginning : StartAt::kEnd;
  for (const auto& dir : opt_.container_dirs) {
    const std::string d = real_path(dir).value_or(dir);
    if (!container_dirs_.insert(d).second) continue;
    watcher_.watch_dir(d);
    discover_dir(d);
  }
  for (const auto& file : opt_.files) {
    follow(file, real_path(file).value_or(file), SourceKind::kFile, LineFormat::kPlain, {}, false,
           start_mode_);
  }
  if (!opt_.kubelet_file.empty()) {
    follow(opt_.kubelet_file, real_path(opt_.kubelet_file).value_or(opt_.kubelet_file),
           SourceKind::kKubelet, LineFormat::kPlain, {}, false, start_mode_);
  }
  // Checkpointed files no followed path leads to any more: rotated (or copied) while we were
  // away. Finish them from where we stopped.
  auto left = std::move(restored_);
  restored_.clear();
  for (const auto& [key, cp] : left) restore_rotated(cp);
  start_mode_ = StartAt::kBeginning;  // anything appearing from now on is new: read it all
  last_rescan_ = clock_.now();
  housekeeping_timer_->arm(kHousekeeping, [this] { housekeeping(); });
}

void FileTailer::stop() {
  if (stopped_) return;
  stopped_ = true;
  *alive_ = false;
  housekeeping_timer_->cancel();
  for (auto& [k, f] : files_) {
    if (f->fd >= 0) ::close(f->fd);
    f->fd = -1;
  }
}

void FileTailer::set_error(std::string e) {
  last_error_ = std::move(e);
}

TailerStatus FileTailer::status() const {
  TailerStatus s;
  s.files_open = files_.size();
  for (const auto& [k, f] : files_) s.files_rotated += f->rotated;
  s.followed_paths = followed_.size();
  s.polled_dirs = watcher_.polled_dirs();
  s.waiting_paths = waiting_.size();
  s.last_error = last_error_;
  return s;
}

void FileTailer::snapshot(std::vector<FileCheckpoint>& out) const {
  out.reserve(out.size() + files_.size());
  for (const auto& [k, f] : files_) {
    FileCheckpoint cp;
    cp.id = f->id;
    cp.pos = f->dec.position();
    cp.rotated = f->rotated;
    cp.path = f->path;
    out.push_back(std::move(cp));
  }
}

void FileTailer::history(const std::function<bool(SourceKind, const PodRef*)>& want,
                         std::vector<HistoryFile>& out) const {
  for (const auto& [k, f] : files_) {
    if (f->rotated) continue;
    const PodRef* pod = f->src->kind == SourceKind::kContainer ? &f->src->pod : nullptr;
    if (!want(f->src->kind, pod)) continue;
    HistoryFile h;
    h.path = f->path;
    h.display = f->src->display;
    h.kind = f->src->kind;
    h.pod = f->src->pod;
    h.format = f->src->format;
    h.end = f->dec.position().done;
    out.push_back(std::move(h));
  }
}

// --- discovery ---------------------------------------------------------------------------

void FileTailer::on_hint(const std::string& dir, std::string_view name) {
  if (container_dirs_.count(dir)) {
    if (name.empty()) {
      discover_dir(dir);
    } else if (name.ends_with(".log")) {
      check_link(dir, std::string(name));
    }
  }
  std::vector<std::string> reals;
  if (name.empty()) {
    for (auto it = followed_by_name_.lower_bound({dir, std::string()});
         it != followed_by_name_.end() && it->first.first == dir; ++it) {
      reals.push_back(it->second);
    }
  } else {
    auto range = followed_by_name_.equal_range({dir, std::string(name)});
    for (auto it = range.first; it != range.second; ++it) reals.push_back(it->second);
  }
  for (const auto& r : reals) {
    auto it = followed_.find(r);
    if (it != followed_.end()) check_followed(it->second, StartAt::kBeginning);
  }
  route_to_files(dir, name.empty());
}

void FileTailer::route_to_files(const std::string& dir, bool all) {
  std::vector<Key> keys;
  if (all) {
    auto range = files_by_dir_.equal_range(dir);
    for (auto it = range.first; it != range.second; ++it) keys.push_back(it->second);
  } else {
    // A hint for one name: the followed file is handled by name; rotated files (renamed away,
    // deleted) have no name to match, so each of them is looked at. Only those, not the dir.
    for (auto it = rotated_by_dir_.lower_bound({dir, Key{}});
         it != rotated_by_dir_.end() && it->first == dir; ++it) {
      keys.push_back(it->second);
    }
  }
  for (const auto& k : keys) {
    auto f = files_.find(k);
    if (f != files_.end()) queue(*f->second);
  }
}

void FileTailer::discover_dir(const std::string& dir) {
  std::set<std::string> seen;
  for (const auto& name : list_dir(dir)) {
    if (!name.ends_with(".log")) continue;
    seen.insert(dir + "/" + name);
    check_link(dir, name);
  }
  // Links that disappeared: the container is gone.
  std::vector<std::string> gone;
  const std::string prefix = dir + "/";
  for (auto it = links_.lower_bound(prefix); it != links_.end() && it->first.starts_with(prefix);
       ++it) {
    if (!seen.count(it->first) && it->first.find('/', prefix.size()) == std::string::npos) {
      gone.push_back(it->first);
    }
  }
  for (const auto& link : gone) check_link(dir, basename_of(link));
}

// Where a dangling symlink will lead once its file exists: its target's directory resolved
// plus the target's name. nullopt when `link` is not a symlink or that directory is missing.
std::optional<std::string> dangling_target(const std::string& link, const std::string& dir) {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n <= 0) return std::nullopt;
  std::string target(buf, static_cast<size_t>(n));
  if (target.front() != '/') target = dir + "/" + target;
  auto parent = real_path(dirname_of(target));
  if (!parent) return std::nullopt;
  return (*parent == "/" ? std::string() : *parent) + "/" + basename_of(target);
}

void FileTailer::check_link(const std::string& dir, const std::string& name) {
  const std::string link = dir + "/" + name;
  auto real = real_path(link);
  auto known = links_.find(link);
  bool dangling = false;
  if (!real) {
    // kubelet may link a container's log before the runtime creates it: follow the target now
    // (its directory watched), so its first line, and any rotation, is read from the start.
    struct stat lst {};
    if (::lstat(link.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
      real = dangling_target(link, dir);
      if (!real) {
        dangling_.insert({dir, name});  // its directory is not there yet: look again soon
        return;
      }
      dangling = true;
    }
  }
  // A link that dangled when we first saw it: its file, and rotations of it, are all new.
  if (dangling_.erase({dir, name})) dangling = true;
  if (!real) {
    if (known != links_.end()) {
      const std::string old = known->second;
      links_.erase(known);
      unfollow(old);
    }
    return;
  }
  if (known != links_.end()) {
    if (known->second == *real) {
      auto f = followed_.find(*real);
      if (f != followed_.end()) check_followed(f->second, StartAt::kBeginning);
      return;
    }
    const std::string old = known->second;
    links_.erase(known);
    unfollow(old);
  }
  links_[link] = *real;
  auto pod = pod_from_path(link);
  if (!pod) pod = pod_from_path(*real);
  follow(link, *real, SourceKind::kContainer, LineFormat::kAuto, pod.value_or(PodRef{}), true,
         dangling ? StartAt::kBeginning : start_mode_, dangling);
}

void FileTailer::follow(const std::string& display, const std::string& real, SourceKind kind,
                        LineFormat format, PodRef pod, bool from_link, StartAt start, bool unborn) {
  if (followed_.count(real)) return;  // two links to one file: read it once
  Followed f;
  f.real = real;
  f.unborn = unborn;
  f.dir = dirname_of(real);
  f.base = basename_of(real);
  f.from_link = from_link;
  auto src = std::make_shared<Source>();
  src->kind = kind;
  src->format = format;
  src->pod = std::move(pod);
  src->display = display;
  f.src = std::move(src);
  watcher_.watch_dir(f.dir);
  followed_by_name_.emplace(std::pair{f.dir, f.base}, real);
  auto [it, _] = followed_.emplace(real, std::move(f));
  check_followed(it->second, start);
}

void FileTailer::unfollow(const std::string& real) {
  auto it = followed_.find(real);
  if (it == followed_.end()) return;
  Followed& f = it->second;
  if (f.current) {
    auto file = files_.find(*f.current);
    if (file != files_.end()) mark_rotated(*file->second, false);
  }
  erase_entry(followed_by_name_, std::pair{f.dir, f.base}, real);
  watcher_.unwatch_dir(f.dir);
  waiting_.erase(real);
  followed_.erase(it);
}

void FileTailer::check_followed(Followed& f, StartAt start_new) {
  struct stat st {};
  if (::stat(f.real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    waiting_.erase(f.real);
    if (f.current) {
      f.previous = f.current;  // before mark_rotated, which resets current
      auto file = files_.find(*f.current);
      if (file != files_.end()) mark_rotated(*file->second, true);
      f.current.reset();
    }
    return;
  }
  const Key k{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  if (f.current && *f.current == k) {
    auto file = files_.find(k);
    if (file != files_.end()) queue(*file->second);
    return;
  }
  if (f.current) {
    // Another file at the path: the old one was renamed away (kubelet rotation) or replaced.
    f.previous = f.current;  // before mark_rotated, which resets current
    auto file = files_.find(*f.current);
    if (file != files_.end()) mark_rotated(*file->second, false);
    f.current.reset();
  }
  if (f.unborn) {
    // Its first file: everything rotated away before we got here is new to us too.
    f.unborn = false;
    open_rotations_of(f.dir, f.base, f.src);
  }
  if (f.previous) {
    // Rotated more than once since we last looked (polling, a slow loop): the files rotated
    // after ours were never open here; read them too.
    open_newer_rotations(f.dir, f.base, *f.previous, f.src);
    f.previous.reset();
  }
  if (auto open = files_.find(k); open != files_.end()) {
    f.current = k;
    queue(*open->second);
    return;
  }
  const FileCheckpoint* cp = nullptr;
  auto r = restored_.find(k);
  if (r != restored_.end()) cp = &r->second;
  TailedFile* t = open_file(f.real, f.src, cp, start_new, false);
  if (r != restored_.end()) restored_.erase(r);
  if (t) f.current = t->key;
}

FileTailer::TailedFile* FileTailer::open_file(const std::string& path,
                                              const std::shared_ptr<const Source>& src,
                                              const FileCheckpoint* cp, StartAt start,
                                              bool rotated) {
  if (files_.size() >= opt_.max_open_files) {
    // The fds left belong to the rest of the agent (guard, API, journal).
    metrics_.files_not_opened.Increment();
    if (waiting_.insert(path).second) {
      set_error("not opening " + path + ": " + std::to_string(files_.size()) +
                " files open (logs.max_files or the open-file limit)");
    }
    return nullptr;
  }
  waiting_.erase(path);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    set_error("open " + path + ": " + std::strerror(errno));
    return nullptr;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return nullptr;
  }
  const Key key{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
  auto t = std::make_unique<TailedFile>(src->format, opt_.max_line_bytes);
  t->key = key;
  t->id.dev = key.dev;
  t->id.ino = key.ino;
  t->path = path;
  t->dir = dirname_of(path);
  t->src = src;
  t->fd = fd;
  t->rotated = rotated;
  t->last_growth = clock_.now();
  TailedFile& f = *t;
  files_[key] = std::move(t);
  files_by_dir_.emplace(f.dir, key);
  if (rotated) rotated_by_dir_.emplace(f.dir, key);
  watcher_.watch_dir(f.dir);
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (cp) {
    const std::string head = read_head(fd, cp->id.fp_len);
    f.dec.restore(cp->pos);
    f.id = cp->id;
    if (head.size() != cp->id.fp_len || fingerprint_hash(head) != cp->id.fp_hash ||
        size < cp->pos.done) {
      // Same inode, other bytes: truncated in place while we were away (copytruncate).
      restart_truncated(f);
    }
  } else if (start == StartAt::kEnd) {
    f.dec.reset(size);
  } else {
    f.dec.reset(0);
  }
  verify_identity(f, size);
  ++progress_;
  metrics_.files_tailed.Set(static_cast<double>(files_.size()));
  queue(f);
  return &f;
}

void FileTailer::restore_rotated(const FileCheckpoint& cp) {
  const std::string dir = dirname_of(cp.path);
  for (const auto& name : list_dir(dir)) {
    const std::string p = dir + "/" + name;
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (static_cast<std::uint64_t>(st.st_ino) != cp.id.ino ||
        static_cast<std::uint64_t>(st.st_dev) != cp.id.dev) {
      continue;
    }
    if (files_.count(Key{cp.id.dev, cp.id.ino})) return;
    auto src = std::make_shared<Source>();
    if (auto pod = pod_from_path(cp.path)) {
      src->kind = SourceKind::kContainer;
      src->format = LineFormat::kAuto;
      src->pod = *pod;
    } else {
      src->kind = cp.path == opt_.kubelet_file ? SourceKind::kKubelet : SourceKind::kFile;
      src->format = LineFormat::kPlain;
    }
    src->display = cp.path;
    // A rotated file whose first bytes changed is not ours any more: open_file checks that.
    open_file(p, src, &cp, StartAt::kBeginning, true);
    // It was the current file and was rotated more than once while we were away: the later
    // rotations are new to us. (A file already draining then may be older than files we
    // finished since, so only the current one can order the others.)
    const std::string base = basename_of(cp.path);
    if (!cp.rotated && kubelet_rotation_of(name, base)) {
      open_newer_rotations(dir, base, Key{cp.id.dev, cp.id.ino}, src);
    }
    return;
  }
}

void FileTailer::open_newer_rotations(const std::string& dir, const std::string& base,
                                      const Key& ours, const std::shared_ptr<const Source>& src) {
  std::vector<std::pair<std::string, Key>> rotations;
  std::string our_name;
  for (const auto& name : list_dir(dir)) {
    if (!kubelet_rotation_of(name, base)) continue;
    struct stat st {};
    if (::stat((dir + "/" + name).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    const Key k{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
    if (k == ours) our_name = name;
    rotations.emplace_back(name, k);
  }
  if (our_name.empty()) return;  // ours is gone (gzipped): nothing to order by
  for (const auto& [name, k] : rotations) {
    if (name <= our_name || files_.count(k)) continue;
    metrics_.rotated_rename.Increment();
    open_file(dir + "/" + name, src, nullptr, StartAt::kBeginning, true);
  }
}

void FileTailer::open_rotations_of(const std::string& dir, const std::string& base,
                                   const std::shared_ptr<const Source>& src) {
  std::vector<std::string> names;
  for (const auto& name : list_dir(dir)) {
    if (kubelet_rotation_of(name, base)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());  // oldest first: read in the order written
  for (const auto& name : names) {
    struct stat st {};
    const std::string p = dir + "/" + name;
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (files_.count(
            Key{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)})) {
      continue;
    }
    metrics_.rotated_rename.Increment();
    open_file(p, src, nullptr, StartAt::kBeginning, true);
  }
}

// --- reading -----------------------------------------------------------------------------

void FileTailer::mark_rotated(TailedFile& f, bool deleted) {
  if (f.rotated) return;
  f.rotated = true;
  rotated_by_dir_.emplace(f.dir, f.key);
  f.last_growth = clock_.now();
  (deleted ? metrics_.rotated_delete : metrics_.rotated_rename).Increment();
  for (auto& [real, fol] : followed_) {
    if (fol.current && *fol.current == f.key) fol.current.reset();
  }
  queue(f);
}

void FileTailer::close_file(const Key& key, bool finish) {
  auto it = files_.find(key);
  if (it == files_.end()) return;
  TailedFile& f = *it->second;
  if (finish) {
    f.dec.finish([&](const DecodedInfo& i, std::string_view m) { emit(f, i, m); });
    sink_.on_batch_end();
  }
  if (f.fd >= 0) ::close(f.fd);
  erase_entry(files_by_dir_, f.dir, key);
  rotated_by_dir_.erase({f.dir, key});
  watcher_.unwatch_dir(f.dir);
  for (auto& [real, fol] : followed_) {
    if (fol.current && *fol.current == key) fol.current.reset();
  }
  files_.erase(it);
  ++progress_;
  metrics_.files_tailed.Set(static_cast<double>(files_.size()));
}

void FileTailer::queue(TailedFile& f) {
  if (!f.queued) {
    f.queued = true;
    ready_.push_back(f.key);
  }
  if (!run_posted_ && !stopped_) {
    run_posted_ = true;
    loop_.post([this, alive = alive_] {
      if (*alive) run_queue();
    });
  }
}

void FileTailer::run_queue() {
  run_posted_ = false;
  size_t budget = opt_.read_budget_per_turn;
  while (!ready_.empty() && budget > 0) {
    const Key k = ready_.front();
    ready_.pop_front();
    auto it = files_.find(k);
    if (it == files_.end()) continue;
    TailedFile& f = *it->second;
    f.queued = false;
    const size_t per_file = std::min(budget, kPerFileTurn);
    const size_t n = pump(f, per_file);
    budget -= std::min(budget, n);
    if (n >= per_file) queue(f);  // more to read: to the back of the line, stay fair
  }
  if (!ready_.empty() && !run_posted_ && !stopped_) {
    run_posted_ = true;
    loop_.post([this, alive = alive_] {
      if (*alive) run_queue();
    });
  }
}

void FileTailer::drain_now() {
  for (auto& [k, f] : files_) {
    if (!f->queued) {
      f->queued = true;
      ready_.push_back(k);
    }
  }
  while (!ready_.empty()) run_queue();
}

bool FileTailer::verify_identity(TailedFile& f, std::uint64_t size) {
  if (size < f.dec.next_offset()) return false;
  const auto want = static_cast<std::uint32_t>(std::min<std::uint64_t>(size, kFingerprintBytes));
  if (want == 0) return true;
  char head[kFingerprintBytes];
  ssize_t got = ::pread(f.fd, head, want, 0);
  if (got < 0) return true;  // cannot tell; reading will report the error
  if (f.id.fp_len > 0) {
    if (static_cast<std::uint32_t>(got) < f.id.fp_len ||
        fingerprint_hash(std::string_view(head, f.id.fp_len)) != f.id.fp_hash) {
      return false;
    }
  }
  if (static_cast<std::uint32_t>(got) > f.id.fp_len) {
    f.id.fp_len = static_cast<std::uint32_t>(got);
    f.id.fp_hash = fingerprint_hash(std::string_view(head, got));
  }
  return true;
}

void FileTailer::restart_truncated(TailedFile& f) {
  // The lines not read yet are in the copy, if there is one; then start again at 0.
  metrics_.rotated_truncate.Increment();
  recover_from_copy(f);
  f.dec.finish([&](const DecodedInfo& i, std::string_view m) { emit(f, i, m); });
  f.dec.reset(0);
  f.id.fp_len = 0;
  f.id.fp_hash = fingerprint_hash({});
  ++progress_;
}

void FileTailer::recover_from_copy(TailedFile& f) {
  if (f.id.fp_len == 0) return;
  const std::string base = basename_of(f.path);
  std::string best;
  std::int64_t best_mtime = -1;
  for (const auto& name : list_dir(f.dir)) {
    if (name.size() <= base.size() || !name.starts_with(base) ||
        (name[base.size()] != '.' && name[base.size()] != '-') || compressed(name)) {
      continue;
    }
    const std::string p = f.dir + "/" + name;
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0 || !S_ISREG(st.st_mode) ||
        static_cast<std::uint64_t>(st.st_ino) == f.key.ino ||
        static_cast<std::uint64_t>(st.st_size) <= f.dec.next_offset()) {
      continue;
    }
    const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    const std::string head = read_head(fd, f.id.fp_len);
    ::close(fd);
    if (head.size() == f.id.fp_len && fingerprint_hash(head) == f.id.fp_hash &&
        st.st_mtime > best_mtime) {
      best = p;
      best_mtime = st.st_mtime;
    }
  }
  if (best.empty()) return;
  const int fd = ::open(best.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  for (;;) {
    const ssize_t n = ::pread(fd, buf_.data(), buf_.size(), f.dec.next_offset());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    metrics_.bytes(f.src->kind).Increment(static_cast<double>(n));
    feed(f, std::string_view(buf_.data(), static_cast<size_t>(n)));
  }
  ::close(fd);
  sink_.on_batch_end();
}

size_t FileTailer::pump(TailedFile& f, size_t budget) {
  if (f.fd < 0) return 0;
  struct stat st {};
  if (::fstat(f.fd, &st) != 0) {
    set_error("fstat " + f.path + ": " + std::strerror(errno));
    return 0;
  }
  if (!f.rotated && st.st_nlink == 0) mark_rotated(f, true);
  if (!verify_identity(f, static_cast<std::uint64_t>(st.st_size))) {
    // Truncated or rewritten in place (copytruncate).
    restart_truncated(f);
    verify_identity(f, static_cast<std::uint64_t>(st.st_size));
  }
  size_t total = 0;
  while (total < budget) {
    const size_t want = std::min(buf_.size(), budget - total);
    const ssize_t n = ::pread(f.fd, buf_.data(), want, static_cast<off_t>(f.dec.next_offset()));
    if (n < 0) {
      if (errno == EINTR) continue;
      set_error("read " + f.path + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    feed(f, std::string_view(buf_.data(), static_cast<size_t>(n)));
    total += static_cast<size_t>(n);
    if (static_cast<size_t>(n) < want) break;
  }
  if (total > 0) {
    f.last_growth = clock_.now();
    ++progress_;
    metrics_.bytes(f.src->kind).Increment(static_cast<double>(total));
    sink_.on_batch_end();
  }
  return total;
}

size_t FileTailer::feed(TailedFile& f, std::string_view data) {
  sink_.begin_chunk(f.src->kind, data);
  LineDecoder::QuietLines quiet;
  quiet.base = data.data();
  quiet.hits = sink_.quiet_hits();
  f.dec.feed(
      data, [&](const DecodedInfo& info, std::string_view msg) { emit(f, info, msg); },
      quiet.hits ? &quiet : nullptr);
  if (quiet.count) sink_.count_quiet(f.src->kind, quiet.count);
  sink_.end_chunk();
  return data.size();
}

void FileTailer::emit(const TailedFile& f, const DecodedInfo& info, std::string_view msg) {
  LineMeta m;
  m.kind = f.src->kind;
  m.stream = info.stream;
  m.time = info.time;
  m.pod = f.src->kind == SourceKind::kContainer ? &f.src->pod : nullptr;
  m.path = &f.src->display;
  m.truncated = info.truncated;
  m.decode_error = info.decode_error;
  sink_.on_line(m, msg);
}

void FileTailer::housekeeping() {
  if (stopped_) return;
  const auto now = clock_.now();
  std::vector<Key> done;
  for (auto& [k, f] : files_) {
    if (!f->rotated) continue;
    const size_t n = pump(*f, kPerFileTurn);
    if (n == 0 && now - f->last_growth >= opt_.rotate_wait) done.push_back(k);
  }
  for (const auto& k : done) close_file(k, true);
  // Container log links whose target's directory did not exist yet.
  const auto dangling = dangling_;
  for (const auto& [dir, name] : dangling) check_link(dir, name);
  if (now - last_rescan_ >= opt_.rescan_interval) {
    last_rescan_ = now;
    rescan();
  }
  metrics_.polled_dirs.Set(static_cast<double>(watcher_.polled_dirs()));
  housekeeping_timer_->arm(kHousekeeping, [this] { housekeeping(); });
}

void FileTailer::rescan() {
  for (const auto& dir : container_dirs_) discover_dir(dir);
  std::vector<std::string> reals;
  for (const auto& [real, f] : followed_) reals.push_back(real);
  for (const auto& r : reals) {
    auto it = followed_.find(r);
    if (it != followed_.end()) check_followed(it->second, StartAt::kBeginning);
  }
  for (auto& [k, f] : files_) queue(*f);
}

}  // namespace ng::probes::logs
