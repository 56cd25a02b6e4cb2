#include <gtest/gtest.h>

#include "core/process_runner.h"

namespace ng::core {
namespace {

using namespace std::chrono_literals;

TEST(PosixProcessRunner, CapturesOutputExitCodeAndStdin) {
  PosixProcessRunner runner;
  auto r = runner.run({{"sh", "-c", "cat; echo err >&2; exit 3"}, "hello\n", 5s, {}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "hello\n");
  EXPECT_EQ(r->err, "err\n");
}

TEST(PosixProcessRunner, LargeStdinAndStdoutDoNotDeadlock) {
  PosixProcessRunner runner;
  std::string big(4 << 20, 'x');
  auto r = runner.run({{"cat"}, big, 10s, {}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out.size(), big.size());
}

TEST(PosixProcessRunner, MissingBinaryIsAKindedError) {
  PosixProcessRunner runner;
  auto r = runner.run({{"definitely-not-installed-ng"}, "", 1s, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, EnvErrorKind::kMissingBinary);
}

TEST(PosixProcessRunner, TimeoutKillsTheChild) {
  PosixProcessRunner runner;
  const auto start = std::chrono::steady_clock::now();
  auto r = runner.run({{"sleep", "30"}, "", 100ms, {}});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, EnvErrorKind::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(PosixProcessRunner, ExtraEnvironmentOverrides) {
  PosixProcessRunner runner;
  auto r = runner.run({{"sh", "-c", "echo $NG_TEST_VAR"}, "", 5s, {{"NG_TEST_VAR", "v1"}}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->out, "v1\n");
}

}  // namespace
}  // namespace ng::core
