#include <gtest/gtest.h>

#include "agent/api/call_policy.h"
#include "nodeguard/v1/logs.pb.h"
#include "nodeguard/v1/netfilter.pb.h"

namespace ng::agent {
namespace {

TEST(CallPolicy, MutatingMethodsAreExactlyRepairAndSetExpectedPeers) {
  EXPECT_TRUE(method_traits("/nodeguard.v1.Netfilter/Repair").mutating);
  EXPECT_TRUE(method_traits("/nodeguard.v1.Network/SetExpectedPeers").mutating);
  for (const char* read_only :
       {"/nodeguard.v1.Agent/GetHealth", "/nodeguard.v1.Agent/WatchEvents",
        "/nodeguard.v1.Netfilter/ListRules", "/nodeguard.v1.Network/ListPeers",
        "/nodeguard.v1.Logs/TailLogs", "/grpc.health.v1.Health/Check", "", "garbage",
        "/nodeguard.v1.Netfilter/Repair/extra", "/nodeguard.v1.Netfilter/repair"}) {
    EXPECT_FALSE(method_traits(read_only).mutating) << read_only;
  }
}

// Forget drops entries from the netfilter snapshot: Repair-level authorization.
TEST(CallPolicy, ForgetIsMutating) {
  EXPECT_TRUE(method_traits("/nodeguard.v1.Netfilter/Forget").mutating);
  EXPECT_FALSE(method_traits("/nodeguard.v1.Netfilter/forget").mutating);
}

TEST(CallPolicy, StreamingComesFromTheDescriptorsOfLinkedServices) {
  EXPECT_TRUE(method_traits("/nodeguard.v1.Agent/WatchEvents").streaming);
  EXPECT_FALSE(method_traits("/nodeguard.v1.Agent/GetHealth").streaming);
  EXPECT_FALSE(method_traits("/nodeguard.v1.Agent/GetStatus").streaming);
  EXPECT_TRUE(method_traits("/grpc.health.v1.Health/Watch").streaming);
  EXPECT_FALSE(method_traits("/grpc.health.v1.Health/Check").streaming);
  EXPECT_TRUE(
      method_traits("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo").streaming);
  // Unknown methods are unary: they pay a rate token and get UNIMPLEMENTED.
  EXPECT_FALSE(method_traits("/nodeguard.v1.Agent/NoSuchMethod").streaming);
  EXPECT_FALSE(method_traits("/x.Y/Z").streaming);
}

TEST(CallPolicy, RolesAndKnownMethods) {
  // The agent links every service; here, pull the two protos into the pool explicitly.
  ASSERT_NE(nodeguard::v1::TailLogsRequest::descriptor(), nullptr);
  ASSERT_NE(nodeguard::v1::RepairRequest::descriptor(), nullptr);
  EXPECT_EQ(method_traits("/nodeguard.v1.Logs/TailLogs").role, Role::kLogs);
  EXPECT_EQ(method_traits("/nodeguard.v1.Netfilter/Repair").role, Role::kMutating);
  EXPECT_EQ(method_traits("/nodeguard.v1.Agent/GetHealth").role, Role::kReadOnly);
  EXPECT_EQ(method_traits("/nodeguard.v1.Logs/taillogs").role, Role::kReadOnly);
  for (const char* known : {"/nodeguard.v1.Agent/GetHealth", "/nodeguard.v1.Agent/WatchEvents",
                            "/nodeguard.v1.Logs/TailLogs", "/nodeguard.v1.Netfilter/Repair",
                            "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch"}) {
    EXPECT_TRUE(method_traits(known).known) << known;
    EXPECT_EQ(method_label(known), known);
  }
  for (const char* unknown : {"/nodeguard.v1.Agent/NoSuchMethod", "/x.Y/Z", "", "garbage",
                              "/nodeguard.v1.Agent/GetHealth/x", "/nodeguard.v1.Agent/gethealth"}) {
    EXPECT_FALSE(method_traits(unknown).known) << unknown;
    EXPECT_EQ(method_label(unknown), "unknown") << unknown;
  }
}

TEST(CallPolicy, DescriptorNames) {
  EXPECT_EQ(method_descriptor_name("/nodeguard.v1.Agent/GetHealth"),
            "nodeguard.v1.Agent.GetHealth");
  EXPECT_EQ(method_descriptor_name("nodeguard.v1.Agent/GetHealth"), "");
  EXPECT_EQ(method_descriptor_name("/nodeguard.v1.Agent/"), "");
  EXPECT_EQ(method_descriptor_name("//GetHealth"), "");
  EXPECT_EQ(method_descriptor_name("/a/b/c"), "");
}

}  // namespace
}  // namespace ng::agent
