#include <gtest/gtest.h>
#include <sys/stat.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "core/files.h"

namespace ng::core {
namespace {

class PosixFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ng-files-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
  std::string dir_;
  PosixFiles files_;
};

TEST_F(PosixFilesTest, AtomicWriteReplacesWholeAndLeavesNoTemp) {
  const std::string p = dir_ + "/state/snap.json";
  ASSERT_TRUE(files_.make_dirs(dir_ + "/state"));
  ASSERT_TRUE(files_.write_atomic(p, "one"));
  ASSERT_TRUE(files_.write_atomic(p, "two-longer"));
  auto r = files_.read(p);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "two-longer");
  auto names = files_.list(dir_ + "/state");
  ASSERT_TRUE(names);
  EXPECT_EQ(names->size(), 1u);
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(PosixFilesTest, ErrorsAreKinded) {
  auto r = files_.read(dir_ + "/missing");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, EnvErrorKind::kNotFound);
  auto w = files_.write_atomic(dir_ + "/no/such/dir/file", "x");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().kind, EnvErrorKind::kNotFound);
  EXPECT_FALSE(files_.exists(dir_ + "/missing"));
  EXPECT_TRUE(files_.remove(dir_ + "/missing"));  // removing nothing is fine
}

// kill -9 between the temp file and the rename leaves "<file>.tmp.<pid>": the owner removes
// those of other processes at start, never the state files themselves or its own temp.
TEST_F(PosixFilesTest, StaleTempFilesOfOtherProcessesAreRemoved) {
  const std::string d = dir_ + "/netfilter";
  ASSERT_TRUE(files_.make_dirs(d));
  ASSERT_TRUE(files_.write_atomic(d + "/nft-ipv4-nat.rules", "snapshot"));
  ASSERT_TRUE(files_.write_atomic(d + "/nft-ipv4-nat.rules.tmp.12345", "half"));
  ASSERT_TRUE(files_.write_atomic(d + "/x.tmp.1", "half"));
  ASSERT_TRUE(files_.write_atomic(d + "/notes.tmp.txt", "keep"));
  ASSERT_TRUE(files_.write_atomic(d + "/y.tmp." + std::to_string(::getpid()), "mine"));
  EXPECT_EQ(remove_stale_temp_files(files_, d), 2);
  auto names = files_.list(d);
  ASSERT_TRUE(names);
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"nft-ipv4-nat.rules", "notes.tmp.txt",
                                              "y.tmp." + std::to_string(::getpid())}));
  EXPECT_EQ(remove_stale_temp_files(files_, dir_ + "/absent"), 0);
}

}  // namespace
}  // namespace ng::core
