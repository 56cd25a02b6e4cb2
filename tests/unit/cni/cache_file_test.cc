#include "netfilter/cni/cache_file.h"

#include <gmock/gmock.h>

#include "tests/unit/cni/cni_test_data.h"

namespace ng::netfilter::cni {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

CacheEntry ok(std::string_view bytes) {
  auto r = parse_cache_file(bytes);
  if (auto* e = std::get_if<CacheFileError>(&r)) {
    ADD_FAILURE() << to_string(e->reason) << ": " << e->message;
    return {};
  }
  return std::get<CacheEntry>(r);
}

CacheFileError bad(std::string_view bytes) {
  auto r = parse_cache_file(bytes);
  if (std::holds_alternative<CacheEntry>(r)) {
    ADD_FAILURE() << "parsed: " << bytes;
    return {};
  }
  return std::get<CacheFileError>(r);
}

TEST(CacheFile, ReadsWhatLibcniWroteForAContainerdPod) {
  // A real cache file written by the capture (libcni's cachedInfo for a conflist ADD).
  const auto text = testing::cni_data("matrix/results/dual-c1-eth0");
  CacheEntry e = ok(text);
  EXPECT_EQ(e.container_id, "c1");
  EXPECT_EQ(e.network_name, "dual");
  EXPECT_EQ(e.if_name, "eth0");
  EXPECT_EQ(e.key(), "dual/c1/eth0");
  ASSERT_TRUE(e.config.has_value());
  EXPECT_THAT(*e.config, HasSubstr("\"plugins\""));
  EXPECT_THAT(*e.config, HasSubstr("portmap"));
  ASSERT_TRUE(e.port_mappings.has_value());
  ASSERT_EQ(e.port_mappings->size(), 7u);
  EXPECT_EQ((*e.port_mappings)[1].host_port, 8081);
  EXPECT_EQ((*e.port_mappings)[1].container_port, 81);
  EXPECT_EQ((*e.port_mappings)[1].protocol, "udp");
  EXPECT_EQ((*e.port_mappings)[1].host_ip, "192.168.5.1");
  EXPECT_EQ((*e.port_mappings)[2].protocol, "TCP");  // kept as given
  EXPECT_EQ(e.result_version, "1.0.0");
  ASSERT_EQ(e.ips.size(), 2u);
  EXPECT_EQ(e.ips[0].address, "10.244.1.2/24");
  EXPECT_EQ(e.ips[0].interface, 2);
  EXPECT_EQ(e.cni_args.size(), 4u);
  EXPECT_EQ(e.netns, "");  // libcni 1.1 does not write it: the result's sandbox says it
  EXPECT_THAT(e.netns_path(), HasSubstr("/run/netns/"));
}

TEST(CacheFile, OlderLayoutsWithoutOptionalFieldsAreRead) {
  // libcni 0.8: no netns, no cniArgs, no capabilityArgs, no result.
  json f = {{"kind", "cniCacheV1"},
            {"containerId", "abc"},
            {"config", netfilter::base64_encode(testing::conflist("k8s").dump())},
            {"ifName", "eth0"},
            {"networkName", "k8s"}};
  CacheEntry e = ok(f.dump());
  EXPECT_FALSE(e.port_mappings.has_value());
  EXPECT_FALSE(e.result_version.has_value());
  EXPECT_TRUE(e.netns_path().empty());
  // Nulls are Go's zero values; unknown fields are ignored.
  f["cniArgs"] = nullptr;
  f["capabilityArgs"] = nullptr;
  f["somethingNew"] = {{"x", 1}};
  f["netns"] = "/var/run/netns/cni-9";
  e = ok(f.dump());
  EXPECT_EQ(e.netns_path(), "/var/run/netns/cni-9");
}

TEST(CacheFile, ResultsOfSpec020CarryIp4AndIp6) {
  json f = testing::cache_file("k8s", "abc", testing::conflist("k8s"),
                               json::array({testing::mapping(80, 8080)}));
  f["result"] = {{"cniVersion", "0.2.0"},
                 {"ip4", {{"ip", "10.1.0.5/16"}, {"gateway", "10.1.0.1"}}},
                 {"ip6", {{"ip", "fd00::5/64"}}}};
  CacheEntry e = ok(f.dump());
  ASSERT_EQ(e.ips.size(), 2u);
  EXPECT_EQ(e.ips[0].address, "10.1.0.5/16");
  EXPECT_FALSE(e.ips[0].interface.has_value());
  EXPECT_EQ(e.ips[1].address, "fd00::5/64");
}

TEST(CacheFile, ForeignKindIsSkippedAsForeignVersion) {
  auto e = bad(R"({"kind":"cniCacheV2","containerId":"a","networkName":"n","ifName":"eth0"})");
  EXPECT_EQ(e.reason, SkipReason::kForeignVersion);
  EXPECT_THAT(e.message, HasSubstr("cniCacheV2"));
}

// A number too large for a double makes the JSON parser throw out_of_range, not parse_error
// (found by the cni_cache fuzzer): skipped as malformed like any other bad JSON.
TEST(CacheFile, NumberTooLargeIsMalformedNotACrash) {
  auto e = bad(R"({"kind":"cniCacheV1","containerId":"a","config":5e888888888})");
  EXPECT_EQ(e.reason, SkipReason::kMalformed);
}

TEST(CacheFile, BareResultOfOldLibcniIsLegacyLayout) {
  auto e = bad(R"({"cniVersion":"0.3.1","interfaces":[{"name":"eth0"}],"ips":[]})");
  EXPECT_EQ(e.reason, SkipReason::kLegacyLayout);
}

TEST(CacheFile, TruncatedFilesAreSkippedNeverRead) {
  const auto text = testing::cni_data("matrix/results/dual-c1-eth0");
  // Every cut of a real file, as a reader racing libcni's in-place write would see it.
  size_t truncated = 0;
  const size_t last = text.find_last_not_of(" \t\r\n");  // the closing brace
  for (size_t n = 0; n <= last; ++n) {
    const std::string_view cut(text.data(), n);
    auto r = parse_cache_file(cut);
    ASSERT_TRUE(std::holds_alternative<CacheFileError>(r)) << "a cut at " << n << " parsed";
    truncated += std::get<CacheFileError>(r).reason == SkipReason::kTruncated;
  }
  EXPECT_GT(truncated, last / 2);
  EXPECT_EQ(bad("").reason, SkipReason::kTruncated);
  EXPECT_EQ(bad("  \n").reason, SkipReason::kTruncated);
  EXPECT_EQ(bad(R"({"kind":"cniCacheV1","containerId":"abc")").reason, SkipReason::kTruncated);
}

TEST(CacheFile, MalformedFilesNameWhatIsWrong) {
  const json good = testing::cache_file("k8s", "abc", testing::conflist("k8s"),
                                        json::array({testing::mapping(8080, 80)}));
  struct Case {
    std::string what;
    std::function<void(json&)> edit;
    std::string says;
  } cases[] = {
      {"no container id", [](json& f) { f.erase("containerId"); }, "containerId"},
      {"id not a string", [](json& f) { f["containerId"] = 12; }, "containerId"},
      {"id libcni refuses", [](json& f) { f["containerId"] = "a\"b"; }, "containerId"},
      {"network libcni refuses", [](json& f) { f["networkName"] = "-x y"; }, "networkName"},
      {"bad interface name", [](json& f) { f["ifName"] = "eth0/x"; }, "ifName"},
      {"config not base64", [](json& f) { f["config"] = "@@@"; }, "base64"},
      {"config not a string", [](json& f) { f["config"] = json::object(); }, "config"},
      {"mappings not a list", [](json& f) { f["capabilityArgs"]["portMappings"] = 1; }, "array"},
      {"port not an integer",
       [](json& f) { f["capabilityArgs"]["portMappings"][0]["hostPort"] = "80"; }, "hostPort"},
      {"port a float", [](json& f) { f["capabilityArgs"]["portMappings"][0]["hostPort"] = 80.5; },
       "hostPort"},
      {"bad address", [](json& f) { f["result"]["ips"][0]["address"] = "10.0.0.300/24"; },
       "address"},
      {"address not an address", [](json& f) { f["result"]["ips"][0]["address"] = "nonsense"; },
       "address"},
      {"cniArgs not pairs", [](json& f) { f["cniArgs"] = json::array({json::array({"a"})}); },
       "cniArgs"},
      {"kind not a string", [](json& f) { f["kind"] = 1; }, "kind"},
      {"no kind", [](json& f) { f.erase("kind"); }, "kind"},
      {"result not an object", [](json& f) { f["result"] = "x"; }, "result"},
  };
  for (auto& c : cases) {
    json f = good;
    c.edit(f);
    auto e = bad(f.dump());
    EXPECT_EQ(e.reason, SkipReason::kMalformed) << c.what;
    EXPECT_THAT(e.message, HasSubstr(c.says)) << c.what;
  }
  EXPECT_EQ(bad("not json").reason, SkipReason::kMalformed);
  EXPECT_EQ(bad("[1,2]").reason, SkipReason::kMalformed);
  EXPECT_EQ(bad("{} trailing").reason, SkipReason::kMalformed);
  EXPECT_EQ(bad("\xff\xfe{}").reason, SkipReason::kMalformed);
}

TEST(CacheFile, OversizedFileIsSkipped) {
  std::string big(kMaxCacheFileBytes + 1, ' ');
  EXPECT_EQ(bad(big).reason, SkipReason::kTooLarge);
}

TEST(CacheFile, DeepNestingDoesNotCrash) {
  std::string deep(100000, '[');
  EXPECT_NE(bad(deep).message, "");
  std::string nested =
      "{\"kind\":\"cniCacheV1\",\"x\":" + std::string(50000, '[') + std::string(50000, ']') + "}";
  EXPECT_EQ(bad(nested).reason, SkipReason::kMalformed);  // no container id
}

}  // namespace
}  // namespace ng::netfilter::cni
