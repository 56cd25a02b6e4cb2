#include "netfilter/cni/cache_scan.h"

#include <gmock/gmock.h>

#include "tests/unit/cni/cni_test_data.h"
#include "tests/unit/cni/fake_cni.h"

namespace ng::netfilter::cni {
namespace {

using json = nlohmann::json;

constexpr std::int64_t kNow = 1'800'000'000'000'000'000;

std::map<std::string, KnownFile> known_from(const ScanReport& r) {
  std::map<std::string, KnownFile> k;
  for (const auto& [n, f] : r.changed) {
    std::string netns;
    if (auto* e = std::get_if<CacheEntry>(&f.parsed)) netns = e->netns_path();
    if (!f.young) k[n] = {f.stamp, netns};
  }
  return k;
}

TEST(CacheScan, ReadsNewFilesOnceAndProbesEveryEntry) {
  testing::FakeCacheStore store;
  testing::FakeSandboxProbe probe;
  store.write("net-a-eth0", testing::cache_file("net", "a", testing::conflist("net"),
                                                json::array({testing::mapping(80, 8080)}))
                                .dump());
  store.write("net-b-eth0", "{\"kind\":\"cniCacheV1\",\"conta");
  auto r = scan_cache(store, probe, {}, PortmapVersion{}, kNow);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.names.size(), 2u);
  ASSERT_EQ(r.changed.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<CacheEntry>(r.changed["net-a-eth0"].parsed));
  EXPECT_EQ(r.changed["net-a-eth0"].plan.invocations.size(), 1u);
  EXPECT_EQ(std::get<CacheFileError>(r.changed["net-b-eth0"].parsed).reason,
            SkipReason::kTruncated);
  EXPECT_FALSE(r.changed["net-b-eth0"].young);  // written long ago: not a write in progress
  EXPECT_EQ(r.presence.size(), 1u);
  EXPECT_EQ(r.presence["net-a-eth0"].presence, Presence::kPresent);
  const int reads = store.reads();
  // Nothing changed: nothing read again, the namespaces probed again.
  auto again = scan_cache(store, probe, known_from(r), PortmapVersion{}, kNow);
  EXPECT_TRUE(again.changed.empty());
  EXPECT_EQ(store.reads(), reads);
  EXPECT_EQ(again.presence.size(), 1u);
  probe.set("/var/run/netns/cni-1234", Presence::kGone);
  again = scan_cache(store, probe, known_from(r), PortmapVersion{}, kNow);
  EXPECT_EQ(again.presence["net-a-eth0"].presence, Presence::kGone);
}

TEST(CacheScan, AFileBeingWrittenIsYoungNotBroken) {
  testing::FakeCacheStore store;
  testing::FakeSandboxProbe probe;
  store.set_now(kNow - 100'000'000);
  store.write("net-a-eth0", "{\"kind\":\"cniCacheV1\",\"conta");
  auto r = scan_cache(store, probe, {}, PortmapVersion{}, kNow);
  ASSERT_EQ(r.changed.size(), 1u);
  EXPECT_TRUE(r.changed.begin()->second.young);
}

TEST(CacheScan, MissingDirectoryAndListingErrorsAreTold) {
  testing::FakeCacheStore store;
  testing::FakeSandboxProbe probe;
  store.set_exists(false);
  auto r = scan_cache(store, probe, {}, PortmapVersion{}, kNow);
  EXPECT_TRUE(r.dir_missing);
  EXPECT_FALSE(r.error);
  store.set_exists(true);
  store.set_list_error(core::EnvError{core::EnvErrorKind::kPermission, "denied"});
  r = scan_cache(store, probe, {}, PortmapVersion{}, kNow);
  ASSERT_TRUE(r.error);
  EXPECT_EQ(r.error->kind, core::EnvErrorKind::kPermission);
}

TEST(CacheScan, UnreadableFileIsSkipped) {
  testing::FakeCacheStore store;
  testing::FakeSandboxProbe probe;
  store.write("x", "{}");
  store.set_unreadable("x");
  auto r = scan_cache(store, probe, {}, PortmapVersion{}, kNow);
  EXPECT_EQ(std::get<CacheFileError>(r.changed["x"].parsed).reason, SkipReason::kUnreadable);
}

}  // namespace
}  // namespace ng::netfilter::cni
