#include <gtest/gtest.h>

#include "tools/ngctl/fleet_endpoints.h"

namespace ng::ngctl {
namespace {

TEST(FleetEndpoints, Spec) {
  EndpointsSpec s;
  std::string err;
  ASSERT_TRUE(parse_endpoints_spec("nodeguard/nodeguard", &s, &err));
  EXPECT_EQ(s.ns, "nodeguard");
  EXPECT_EQ(s.service, "nodeguard");
  EXPECT_EQ(s.port, "grpc");
  ASSERT_TRUE(parse_endpoints_spec("ns/svc:9748", &s, &err));
  EXPECT_EQ(s.port, "9748");
  EXPECT_FALSE(parse_endpoints_spec("svc", &s, &err));
  EXPECT_NE(err.find("NAMESPACE/SERVICE"), std::string::npos);
  EXPECT_FALSE(parse_endpoints_spec("ns/svc:", &s, &err));
  EXPECT_FALSE(parse_endpoints_spec("/svc", &s, &err));
  EXPECT_FALSE(parse_endpoints_spec("ns/svc:99999999999", &s, &err));
  EXPECT_FALSE(parse_endpoints_spec("ns/svc:0", &s, &err));
}

TEST(FleetEndpoints, EveryAddressOfEverySliceByPortName) {
  const std::string body = R"({"kind":"EndpointSliceList","metadata":{"continue":"abc"},
    "items":[
     {"addressType":"IPv4","ports":[{"name":"metrics","port":9746},{"name":"grpc","port":9748}],
      "endpoints":[{"addresses":["10.0.0.1"],"conditions":{"ready":true}},
                   {"addresses":["10.0.0.2"],"conditions":{"ready":false}},
                   {"addresses":["10.0.0.1"]}]},
     {"addressType":"IPv6","ports":[{"name":"grpc","port":9748}],
      "endpoints":[{"addresses":["fd00::1"]}]},
     {"addressType":"IPv4","ports":[{"name":"metrics","port":9746}],
      "endpoints":[{"addresses":["10.0.0.9"]}]},
     "junk", {"endpoints":"junk"}]})";
  EndpointsSpec spec{"nodeguard", "nodeguard", "grpc"};
  std::string next, err;
  auto t = parse_endpoint_slices(body, spec, "", &next, &err);
  EXPECT_TRUE(err.empty()) << err;
  EXPECT_EQ(next, "abc");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].address, "10.0.0.1:9748");
  EXPECT_EQ(t[1].address, "10.0.0.2:9748");  // not ready: still asked (and shown unreachable)
  EXPECT_EQ(t[2].address, "[fd00::1]:9748");
  EXPECT_EQ(t[0].server_name, "nodeguard.nodeguard.svc");
  auto named = parse_endpoint_slices(body, {"n", "s", "9999"}, "agent.test", &next, &err);
  EXPECT_EQ(named[0].address, "10.0.0.1:9999");
  EXPECT_EQ(named[0].server_name, "agent.test");
}

TEST(FleetEndpoints, FieldsOfTheWrongTypeAreAbsentNotAnException) {
  EndpointsSpec spec{"a", "b", "grpc"};
  std::string next, err;
  auto t = parse_endpoint_slices(R"({"kind":"EndpointSliceList","metadata":{"continue":5},
    "items":[{"addressType":7,"ports":[{"name":1,"port":"x"},{"name":"grpc","port":9}],
    "endpoints":[{"addresses":"1.2.3.4"},{"addresses":[1,"1.2.3.5"]}]}]})",
                                 spec, "", &next, &err);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].address, "1.2.3.5:9");
  EXPECT_EQ(next, "");
  EXPECT_TRUE(parse_endpoint_slices(R"({"kind":7,"items":[]})", spec, "", &next, &err).empty());
}

TEST(FleetEndpoints, WhatIsNotAListIsAnError) {
  EndpointsSpec spec{"a", "b", "grpc"};
  std::string next, err;
  EXPECT_TRUE(parse_endpoint_slices("{\"kind\":\"Status\"}", spec, "", &next, &err).empty());
  EXPECT_FALSE(err.empty());
  err.clear();
  parse_endpoint_slices(R"({"kind":"EndpointSliceList","items":[{"ports":[{"name":"x","port":1}],
    "endpoints":[{"addresses":["1.2.3.4"]}]}]})",
                        spec, "", &next, &err);
  EXPECT_NE(err.find("no port \"grpc\""), std::string::npos);
}

}  // namespace
}  // namespace ng::ngctl
