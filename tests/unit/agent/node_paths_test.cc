#include "agent/node_paths.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/fakes/fake_files.h"
#include "tests/fakes/recording_health_sink.h"

namespace ng::agent {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> paths_of(const std::vector<NodePath>& v) {
  std::vector<std::string> out;
  for (const auto& p : v) out.push_back(p.path);
  return out;
}

TEST(RequiredNodePaths, DefaultsNameEveryMountTheDaemonSetHas) {
  AgentConfig c;
  EXPECT_THAT(paths_of(required_node_paths(c, "")),
              ::testing::ElementsAre("/var/lib/cni", "/var/run/netns", "/run/dbus",
                                     "/var/run/calico", "/var/log/containers", "/etc/machine-id"));
}

TEST(RequiredNodePaths, FollowsTheConfigAndTheBusAddress) {
  AgentConfig c;
  c.cni.mode = "off";
  c.bgp.enabled = false;
  c.logs.journal_dir = "/host/journal";
  const auto paths = paths_of(required_node_paths(c, "unix:path=/host/bus/socket,guid=42"));
  EXPECT_THAT(paths, ::testing::ElementsAre("/host/bus", "/var/log/containers", "/host/journal"));
  // An abstract or TCP bus address has no path to check.
  EXPECT_THAT(paths_of(required_node_paths(c, "unix:abstract=/tmp/dbus-x")),
              Not(::testing::Contains("/host/bus")));
}

TEST(NodePathsCheck, MissingMountBecomesAConditionNamingIt) {
  testing::FakeFiles files;
  testing::RecordingHealthSink health;
  (void)files.make_dirs("/var/lib/cni");
  NodePathsCheck check({{"/var/lib/cni", "cache"}, {"/var/run/netns", "verified sandboxes"}}, files,
                       health, core::Logger::discard());
  check.start();
  ASSERT_TRUE(health.active("NodePathMissing"));
  EXPECT_THAT(health.conditions["NodePathMissing"].message, HasSubstr("/var/run/netns"));
  EXPECT_THAT(health.conditions["NodePathMissing"].message, HasSubstr("verified sandboxes"));
  EXPECT_THAT(health.conditions["NodePathMissing"].message, Not(HasSubstr("/var/lib/cni ")));
  EXPECT_EQ(check.status().state, core::ComponentState::kDegraded);
}

TEST(NodePathsCheck, AllPresentClearsTheCondition) {
  testing::FakeFiles files;
  testing::RecordingHealthSink health;
  (void)files.make_dirs("/var/run/netns");
  NodePathsCheck check({{"/var/run/netns", "verified sandboxes"}}, files, health,
                       core::Logger::discard());
  check.start();
  EXPECT_FALSE(health.active("NodePathMissing"));
  EXPECT_EQ(check.status().state, core::ComponentState::kRunning);
}

}  // namespace
}  // namespace ng::agent
