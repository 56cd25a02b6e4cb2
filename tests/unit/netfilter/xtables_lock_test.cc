#include "netfilter/xtables_lock.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tests/support/temp_dir.h"

namespace ng::netfilter {
namespace {

TEST(XtablesLock, SecondHolderGetsLockBusyAndTheLockIsReleasedOnDestruction) {
  testing::TempDir dir;
  XtablesLock lock(dir / "xtables.lock");
  auto first = lock.acquire(std::chrono::milliseconds(0));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->held());
  auto second = lock.acquire(std::chrono::milliseconds(0));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, core::EnvErrorKind::kLockBusy);
  EXPECT_NE(second.error().message.find("xtables.lock"), std::string::npos);
  { auto released = std::move(*first); }
  EXPECT_TRUE(lock.acquire(std::chrono::milliseconds(0)).ok());
}

TEST(XtablesLock, HonoursXtablesLockfile) {
  testing::TempDir dir;
  const std::string path = dir / "from-env.lock";
  ::setenv("XTABLES_LOCKFILE", path.c_str(), 1);
  EXPECT_EQ(XtablesLock().path(), path);
  ::unsetenv("XTABLES_LOCKFILE");
  EXPECT_EQ(XtablesLock().path(), "/run/xtables.lock");
}

TEST(XtablesLock, UnopenablePathIsAnEnvError) {
  XtablesLock lock("/nonexistent-dir/xtables.lock");
  auto held = lock.acquire(std::chrono::milliseconds(0));
  ASSERT_FALSE(held.ok());
  EXPECT_EQ(held.error().kind, core::EnvErrorKind::kNotFound);
}

}  // namespace
}  // namespace ng::netfilter
