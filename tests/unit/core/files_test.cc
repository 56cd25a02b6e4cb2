#include <gtest/gtest.h>
#include <sys/stat.h>

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

}  // namespace
}  // namespace ng::core
