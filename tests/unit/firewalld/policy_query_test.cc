#include "netfilter/firewalld/policy_query.h"

#include <gmock/gmock.h>

#include "tests/unit/firewalld/recorded_answers.h"

namespace ng::netfilter::firewalld {
namespace {

using ::testing::ElementsAre;
using testing::FakeBus;
using ::testing::HasSubstr;

PolicyQueryResult run(FakeBus& bus) {
  std::optional<PolicyQueryResult> out;
  EXPECT_TRUE(bus.connect([](std::string) {}).ok());
  query_policy(bus, std::chrono::milliseconds(5000),
               [&](PolicyQueryResult r) { out = std::move(r); });
  EXPECT_FALSE(out) << "answered inside the call";
  bus.deliver();
  EXPECT_TRUE(out) << "no answer after every reply was delivered";
  return out ? std::move(*out) : PolicyQueryResult{};
}

TEST(PolicyQuery, ReadsEverythingFromRecordedAnswers) {
  FakeBus bus;
  testing::load_scenario(bus, "partial");
  auto r = run(bus);
  ASSERT_TRUE(r.policy.ok()) << r.policy.error().message;
  const auto& p = *r.policy;
  EXPECT_EQ(p.version, "1.3.3");
  EXPECT_EQ(p.backend, "nftables");
  EXPECT_EQ(p.default_zone, "public");
  EXPECT_FALSE(p.panic_mode);
  EXPECT_EQ(p.zones.size(), 3u);  // public (default), internal, work (active)
  EXPECT_TRUE(p.zone("internal"));
  EXPECT_TRUE(p.service("samba-client"));
  EXPECT_TRUE(p.problems.empty());
  EXPECT_TRUE(r.invalid_methods.empty());
}

TEST(PolicyQuery, FollowsServiceIncludes) {
  FakeBus bus;
  testing::load_scenario(bus, "services");
  auto r = run(bus);
  ASSERT_TRUE(r.policy.ok());
  EXPECT_TRUE(r.policy->service("kube-worker"));
  EXPECT_TRUE(r.policy->service("kubelet"));  // included by kube-worker, not named by a zone
  EXPECT_TRUE(r.policy->service("kube-nodeport-services"));
}

TEST(PolicyQuery, BackendAndPanicMode) {
  FakeBus a, b;
  testing::load_scenario(a, "iptables");
  testing::load_scenario(b, "panic");
  EXPECT_EQ(run(a).policy->backend, "iptables");
  EXPECT_TRUE(run(b).policy->panic_mode);
}

TEST(PolicyQuery, FallsBackToThePre09Methods) {
  FakeBus bus;
  testing::load_scenario(bus, "stock");
  const auto unknown = FakeBus::error("org.freedesktop.DBus.Error.UnknownMethod", "no such method");
  bus.answer(kZoneInterface, "getZoneSettings2", {"public"}, unknown);
  bus.answer(kFirewalldName, "getServiceSettings2", {"ssh"}, unknown);
  bus.answer(kZoneInterface, "getZoneSettings", {"public"},
             FakeBus::ok({testing::load_answer("legacy_tuples", "getZoneSettings-public.json")}));
  bus.answer(kFirewalldName, "getServiceSettings", {"ssh"},
             FakeBus::ok({testing::load_answer("legacy_tuples", "getServiceSettings-ssh.json")}));
  // Too old to tell its backend.
  bus.answer(kPropertiesInterface, "Get", {kConfigInterface, "FirewallBackend"},
             FakeBus::error("org.freedesktop.DBus.Error.InvalidArgs", "no such property"));
  auto r = run(bus);
  ASSERT_TRUE(r.policy.ok());
  EXPECT_EQ(r.policy->backend, "");
  ASSERT_TRUE(r.policy->zone("public"));
  EXPECT_THAT(r.policy->zone("public")->services, ElementsAre("ssh", "dhcpv6-client"));
  EXPECT_EQ(r.policy->service("ssh")->ports.at(0).str(), "22/tcp");
  EXPECT_EQ(bus.calls_to("getZoneSettings"), 1u);
}

TEST(PolicyQuery, AZoneThatDoesNotDecodeIsSkippedAndCounted) {
  FakeBus bus;
  testing::load_scenario(bus, "partial");
  bus.answer(kZoneInterface, "getZoneSettings2", {"internal"},
             FakeBus::ok({DbusValue::dict({{"ports", DbusValue::str("garbage")}})}));
  auto r = run(bus);
  ASSERT_TRUE(r.policy.ok());
  EXPECT_FALSE(r.policy->zone("internal"));
  EXPECT_TRUE(r.policy->zone("public"));
  EXPECT_THAT(r.invalid_methods, ElementsAre("getZoneSettings2"));
  ASSERT_EQ(r.policy->problems.size(), 1u);
  EXPECT_THAT(r.policy->problems[0], HasSubstr("zone internal ports"));
}

TEST(PolicyQuery, WithoutDefaultZoneThereIsNoPolicy) {
  FakeBus bus;
  testing::load_scenario(bus, "stock");
  bus.answer(kFirewalldName, "getDefaultZone", {},
             FakeBus::error("org.freedesktop.DBus.Error.NoReply", "timed out"));
  auto r = run(bus);
  ASSERT_FALSE(r.policy.ok());
  EXPECT_THAT(r.policy.error().message, HasSubstr("getDefaultZone"));
  EXPECT_THAT(r.policy.error().message, HasSubstr("NoReply"));

  FakeBus garbage;
  testing::load_scenario(garbage, "stock");
  garbage.answer(kZoneInterface, "getActiveZones", {}, FakeBus::ok({DbusValue::str("x")}));
  auto g = run(garbage);
  ASSERT_FALSE(g.policy.ok());
  EXPECT_EQ(g.policy.error().kind, core::EnvErrorKind::kInvalidInput);
  EXPECT_THAT(g.invalid_methods, ElementsAre("getActiveZones"));
}

TEST(PolicyQuery, EveryCallGoesToFirewalldWithTheTimeout) {
  FakeBus bus;
  testing::load_scenario(bus, "stock");
  run(bus);
  EXPECT_EQ(bus.calls.size(), 8u);  // 5 first, public zone, 2 services
  for (const auto& c : bus.calls) {
    EXPECT_EQ(c.destination, kFirewalldName);
    EXPECT_EQ(c.timeout, std::chrono::milliseconds(5000));
  }
}

}  // namespace
}  // namespace ng::netfilter::firewalld
