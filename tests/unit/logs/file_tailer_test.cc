#include "probes/logs/file_tailer.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "tests/unit/logs/tailer_fixture.h"

namespace ng::probes::logs {
namespace {

using namespace std::chrono_literals;
using testing::append;
using testing::cri;

class TailerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    containers = dir / "containers";
    pod_dir = dir / "pods/prod_web_uid1/app";
    std::filesystem::create_directories(containers);
    std::filesystem::create_directories(pod_dir);
    log = pod_dir + "/0.log";
    link = containers + "/web_prod_app-" + std::string(64, 'a') + ".log";
    append(log, "");
    std::filesystem::create_symlink(log, link);
  }

  std::unique_ptr<FileTailer> make(const std::optional<CheckpointState>& cp = std::nullopt,
                                   bool from_head = true) {
    TailerOptions o;
    o.container_dirs = {containers};
    o.read_from_head = from_head;
    o.rotate_wait = 5s;
    auto t = std::make_unique<FileTailer>(o, watcher, clock, loop, sink, metrics);
    t->start(cp);
    loop.run_all();
    return t;
  }

  void settle() { loop.run_all(); }

  testing::TempDir dir;
  std::string containers, pod_dir, log, link;
  testing::FakeFsWatcher watcher;
  testing::FakeClock clock;
  testing::ManualExecutor loop;
  testing::CollectingSink sink;
  prometheus::Registry registry;
  LogMetrics metrics{registry};
};

TEST_F(TailerTest, FollowsAContainerLogAndItsPod) {
  append(log, cri("one") + cri("two"));
  auto t = make();
  ASSERT_EQ(sink.lines, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(sink.pods[0], "prod/web/app");
  EXPECT_EQ(*sink.metas[0].path, link);
  EXPECT_TRUE(watcher.refs.count(containers));
  EXPECT_TRUE(watcher.refs.count(pod_dir));
  append(log, cri("three"));
  watcher.hint(pod_dir, "0.log");
  settle();
  EXPECT_EQ(sink.lines.back(), "three");
  EXPECT_EQ(metrics.files_tailed.Value(), 1);
}

TEST_F(TailerTest, KubeletRotationReadsTheRestOfTheOldFile) {
  append(log, cri("1"));
  auto t = make();
  // kubelet renames; the runtime writes two more lines to the old file before reopening.
  std::filesystem::rename(log, log + ".20240501-120000");
  append(log + ".20240501-120000", cri("2") + cri("3"));
  append(log, cri("4"));
  watcher.hint(pod_dir, "0.log");
  settle();
  append(log + ".20240501-120000", cri("late"));
  watcher.hint(pod_dir, "0.log.20240501-120000");
  settle();
  std::vector<std::string> got = sink.lines;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"1", "2", "3", "4", "late"}));
  EXPECT_EQ(t->status().files_rotated, 1u);
  // Later gzip (the rotated file disappears); after rotate_wait the old fd is closed.
  std::filesystem::remove(log + ".20240501-120000");
  clock.advance(6s);
  settle();
  EXPECT_EQ(t->status().files_open, 1u);
  EXPECT_EQ(sink.lines.size(), 5u);
}

TEST_F(TailerTest, SeveralRotationsBetweenTwoLooksLoseNothing) {
  // Polling, or a busy loop: kubelet rotated twice before the tailer looked again.
  append(log, cri("a1"));
  auto t = make();
  append(log, cri("a2"));
  std::filesystem::rename(log, log + ".20240501-120000");
  append(log, cri("b1"));
  std::filesystem::rename(log, log + ".20240501-120010");
  append(log, cri("c1"));
  watcher.hint(pod_dir);
  settle();
  std::vector<std::string> got = sink.lines;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"a1", "a2", "b1", "c1"}));
}

TEST_F(TailerTest, SeveralRotationsWhileDownLoseNothing) {
  append(log, cri("a1"));
  CheckpointState cp;
  {
    auto t = make();
    t->snapshot(cp.files);
    t->stop();
  }
  append(log, cri("a2"));
  std::filesystem::rename(log, log + ".20240501-120000");
  append(log, cri("b1"));
  std::filesystem::rename(log, log + ".20240501-120010");
  append(log, cri("c1"));
  sink.lines.clear();
  auto t2 = make(cp, false);
  std::vector<std::string> got = sink.lines;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"a2", "b1", "c1"}));
}

TEST_F(TailerTest, CopytruncateTakesUnreadLinesFromTheCopy) {
  append(log, cri("1") + cri("2"));
  auto t = make();
  append(log, cri("3") + cri("4"));  // written, not read yet
  std::filesystem::copy_file(log, log + ".1");
  ::truncate(log.c_str(), 0);
  append(log, cri("5"));
  watcher.hint(pod_dir, "0.log");
  settle();
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"1", "2", "3", "4", "5"}));
}

TEST_F(TailerTest, TruncatedAndRegrownPastTheOffsetIsNoticedByFingerprint) {
  append(log, cri("first-generation-line"));
  auto t = make();
  ::truncate(log.c_str(), 0);
  append(log, cri("second-generation-a") + cri("second-generation-b"));
  watcher.hint(pod_dir, "0.log");
  settle();
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"first-generation-line", "second-generation-a",
                                                  "second-generation-b"}));
}

TEST_F(TailerTest, DeleteAndRecreate) {
  append(log, cri("a"));
  auto t = make();
  append(log, cri("b"));
  std::filesystem::remove(log);
  append(log, cri("c"));
  watcher.hint(pod_dir, "0.log");
  settle();
  std::vector<std::string> got = sink.lines;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"a", "b", "c"}));
}

TEST_F(TailerTest, NewContainerAndRemovedContainer) {
  auto t = make();
  const std::string pod2 = dir / "pods/dev_db_uid2/pg";
  std::filesystem::create_directories(pod2);
  append(pod2 + "/0.log", cri("db up"));
  const std::string link2 = containers + "/db_dev_pg-" + std::string(64, 'b') + ".log";
  std::filesystem::create_symlink(pod2 + "/0.log", link2);
  watcher.hint(containers, std::filesystem::path(link2).filename().string());
  settle();
  ASSERT_EQ(sink.lines, (std::vector<std::string>{"db up"}));
  EXPECT_EQ(sink.pods[0], "dev/db/pg");
  std::filesystem::remove(link2);
  watcher.hint(containers);
  settle();
  clock.advance(6s);
  settle();
  EXPECT_EQ(t->status().followed_paths, 1u);
}

TEST_F(TailerTest, FirstStartBeginsAtTheEndUnlessReadFromHead) {
  append(log, cri("old"));
  auto t = make(std::nullopt, /*from_head=*/false);
  EXPECT_TRUE(sink.lines.empty());
  append(log, cri("new"));
  watcher.hint(pod_dir, "0.log");
  settle();
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"new"}));
}

TEST_F(TailerTest, RestartFromCheckpointNeitherRepeatsNorSkips) {
  append(log, cri("1") + cri("2") + cri("half", 'P'));
  CheckpointState cp;
  {
    auto t = make();
    t->snapshot(cp.files);
    t->stop();
  }
  ASSERT_EQ(sink.lines.size(), 2u);
  append(log, cri("-done") + cri("3"));
  sink.lines.clear();
  auto t2 = make(cp, /*from_head=*/false);
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"half-done", "3"}));
}

// Lines counted without being handed on (no prefilter hit) obey the same exactly-once rules:
// across a restart from a checkpoint with a fragment pending, and rotations while down.
TEST_F(TailerTest, QuietLinesAreCountedExactlyOnceAcrossRestartsAndRotations) {
  sink.quiet_marker = "!";
  append(log, cri("q1") + cri("hit1!") + cri("q2") + cri("half", 'P'));
  CheckpointState cp;
  {
    auto t = make();
    t->snapshot(cp.files);
    t->stop();
  }
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"hit1!"}));
  EXPECT_EQ(sink.quiet, 2u);
  append(log, cri("-done") + cri("q3"));
  std::filesystem::rename(log, log + ".20240501-130000");
  append(log, cri("q4") + cri("hit2!"));
  std::filesystem::rename(log, log + ".20240501-130010");
  append(log, cri("q5"));
  sink.lines.clear();
  sink.quiet = 0;
  auto t2 = make(cp, false);
  std::vector<std::string> got = sink.lines;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"half-done", "hit2!"}));
  EXPECT_EQ(sink.quiet, 3u);  // q3, q4, q5
}

TEST_F(TailerTest, RotatedWhileDownIsFinishedFromTheCheckpoint) {
  append(log, cri("1"));
  CheckpointState cp;
  {
    auto t = make();
    t->snapshot(cp.files);
    t->stop();
  }
  append(log, cri("2"));
  std::filesystem::rename(log, log + ".20240501-130000");
  append(log, cri("3"));
  sink.lines.clear();
  auto t2 = make(cp, false);
  std::vector<std::string> got = sink.lines;
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"2", "3"}));
}

TEST_F(TailerTest, CopytruncatedWhileDownUsesTheCopy) {
  append(log, cri("1"));
  CheckpointState cp;
  {
    auto t = make();
    t->snapshot(cp.files);
    t->stop();
  }
  append(log, cri("2"));
  std::filesystem::copy_file(log, log + ".1");
  ::truncate(log.c_str(), 0);
  append(log, cri("3"));
  sink.lines.clear();
  auto t2 = make(cp, false);
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"2", "3"}));
}

TEST_F(TailerTest, ConfiguredFileAppearsLater) {
  const std::string plain = dir / "kubelet.log";
  TailerOptions o;
  o.kubelet_file = plain;
  FileTailer t(o, watcher, clock, loop, sink, metrics);
  t.start(std::nullopt);
  settle();
  append(plain, "I0501 kubelet started\n");
  watcher.hint(dir.path(), "kubelet.log");
  settle();
  ASSERT_EQ(sink.lines, (std::vector<std::string>{"I0501 kubelet started"}));
  EXPECT_EQ(sink.metas[0].kind, SourceKind::kKubelet);
}

TEST_F(TailerTest, PollingTicksAreEnough) {
  // With no inotify, the watcher only says "look at this dir": nothing is missed.
  auto t = make();
  for (int i = 0; i < 3; ++i) {
    append(log, cri("p" + std::to_string(i)));
    watcher.hint_all();
    settle();
  }
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"p0", "p1", "p2"}));
}

// kubelet links a container's log before the runtime creates the file: the link dangles. The
// target is followed at once; its first line, and a rotation before the first look, are read.
TEST_F(TailerTest, DanglingLinkIsFollowedFromItsFirstLineAcrossARotation) {
  const std::string dir2 = dir / "pods/prod_api_uid2/srv";
  std::filesystem::create_directories(dir2);
  auto t = make(std::nullopt, /*from_head=*/false);
  const std::string log2 = dir2 + "/0.log";
  const std::string link2 = containers + "/api_prod_srv-" + std::string(64, 'b') + ".log";
  std::filesystem::create_symlink(log2, link2);
  watcher.hint(containers, basename(link2.c_str()));
  settle();
  EXPECT_TRUE(watcher.refs.count(dir2)) << "the target's directory is watched";
  // The file appears, is written and rotated before the tailer hears of it.
  append(log2, cri("first") + cri("second"));
  std::filesystem::rename(log2, log2 + ".20240501-120000");
  append(log2, cri("third"));
  watcher.hint(dir2, "0.log");
  settle();
  std::vector<std::string> got = sink.lines;
  EXPECT_EQ(got, (std::vector<std::string>{"first", "second", "third"}));
  EXPECT_EQ(sink.pods.back(), "prod/api/srv");
  append(log2, cri("fourth"));
  watcher.hint(dir2, "0.log");
  settle();
  EXPECT_EQ(sink.lines.back(), "fourth");
}

// A dangling link whose target directory does not exist yet is looked at again every second.
TEST_F(TailerTest, DanglingLinkIntoAMissingDirectoryIsRetriedQuickly) {
  auto t = make();
  const std::string dir3 = dir / "pods/prod_late_uid3/c";
  const std::string link3 = containers + "/late_prod_c-" + std::string(64, 'c') + ".log";
  std::filesystem::create_symlink(dir3 + "/0.log", link3);
  watcher.hint(containers, basename(link3.c_str()));
  settle();
  std::filesystem::create_directories(dir3);
  append(dir3 + "/0.log", cri("early"));
  std::filesystem::rename(dir3 + "/0.log", dir3 + "/0.log.20240501-120000");
  append(dir3 + "/0.log", cri("later"));
  clock.advance(1100ms);  // housekeeping, well before the 10 s rescan
  settle();
  EXPECT_TRUE(watcher.refs.count(dir3));
  EXPECT_EQ(sink.lines, (std::vector<std::string>{"early", "later"}));
}

// No more than max_open_files fds for logs: the rest wait (counted) and are opened once
// another file closes.
TEST_F(TailerTest, OpenFilesStayWithinTheLimit) {
  for (int i = 0; i < 3; ++i) {
    const std::string d = dir / ("pods/prod_p" + std::to_string(i) + "_u/c");
    std::filesystem::create_directories(d);
    append(d + "/0.log", cri("x" + std::to_string(i)));
    std::filesystem::create_symlink(d + "/0.log", containers + "/p" + std::to_string(i) +
                                                      "_prod_c-" + std::string(64, 'd') + ".log");
  }
  TailerOptions o;
  o.container_dirs = {containers};
  o.read_from_head = true;
  o.max_open_files = 2;
  FileTailer t(o, watcher, clock, loop, sink, metrics);
  t.start(std::nullopt);
  settle();
  EXPECT_EQ(t.status().files_open, 2u);
  EXPECT_EQ(t.status().waiting_paths, 2u);
  EXPECT_GE(metrics.files_not_opened.Value(), 2);
  EXPECT_EQ(sink.lines.size(), 2u);
}

}  // namespace
}  // namespace ng::probes::logs
