#include <gtest/gtest.h>

#include "agent/api/call_gate.h"
#include "agent/api/grpc_log_bridge.h"
#include "tests/fakes/fake_clock.h"
#include "tests/support/metric_value.h"

namespace ng::agent {
namespace {

using namespace std::chrono_literals;

double counter(prometheus::Registry& r, const std::string& name,
               const std::map<std::string, std::string>& labels) {
  return testing::metric_value(r, name, labels);
}

class CallGateTest : public ::testing::Test {
 protected:
  CallGate make(ApiConfig c) { return CallGate(c, clock_, registry_); }
  ApiConfig mtls() {
    ApiConfig c;
    c.tls_client_ca = "/etc/nodeguard/ca.pem";
    c.allowed_clients = {"dns:controller.example", "uri:spiffe://cluster/ns/ops/sa/repairer",
                         "cn:legacy-controller"};
    c.allowed_log_clients = {"uri:spiffe://cluster/ns/ops/sa/log-reader"};
    return c;
  }
  static TlsPeer peer(std::vector<std::string> dns, std::vector<std::string> uri = {},
                      std::vector<std::string> cn = {}) {
    return TlsPeer{true, std::move(dns), std::move(uri), std::move(cn)};
  }
  testing::FakeClock clock_;
  prometheus::Registry registry_;
};

TEST_F(CallGateTest, WithClientCaEveryCallNeedsAVerifiedPeer) {
  auto gate = make(mtls());
  auto st = gate.authorize_tls({}, "/nodeguard.v1.Agent/GetHealth");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(st.error_message().find("client certificate"), std::string::npos);
  EXPECT_EQ(gate.authorize_tls({}, "/nodeguard.v1.Logs/TailLogs").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(counter(registry_, "nodeguard_api_refused_total", {{"reason", "unauthenticated"}}), 2);
}

TEST_F(CallGateTest, ReadOnlyCallsAreOpenToAnyVerifiedClient) {
  auto gate = make(mtls());
  EXPECT_TRUE(gate.authorize_tls(peer({"random.example"}), "/nodeguard.v1.Agent/GetHealth").ok());
  EXPECT_TRUE(gate.authorize_tls(peer({}), "/nodeguard.v1.Netfilter/ListRules").ok());
  EXPECT_TRUE(gate.authorize_tls(peer({}), "/nodeguard.v1.Agent/NoSuchMethod").ok());
}

TEST_F(CallGateTest, MutatingCallsNeedAnAllowedIdentity) {
  auto gate = make(mtls());
  auto st = gate.authorize_tls(peer({"intruder.example"}, {}, {"intruder-cn"}),
                               "/nodeguard.v1.Netfilter/Repair");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(st.error_message().find("dns:intruder.example"), std::string::npos);
  EXPECT_NE(st.error_message().find("cn:intruder-cn"), std::string::npos);
  EXPECT_NE(st.error_message().find("api.allowed_clients"), std::string::npos);
  EXPECT_TRUE(
      gate.authorize_tls(peer({"other", "controller.example"}), "/nodeguard.v1.Netfilter/Repair")
          .ok());
  EXPECT_TRUE(gate.authorize_tls(peer({}, {"spiffe://cluster/ns/ops/sa/repairer"}),
                                 "/nodeguard.v1.Network/SetExpectedPeers")
                  .ok());
  EXPECT_TRUE(
      gate.authorize_tls(peer({}, {}, {"legacy-controller"}), "/nodeguard.v1.Netfilter/Repair")
          .ok());
  // Identities match exactly: no prefixes, no case folding.
  EXPECT_FALSE(
      gate.authorize_tls(peer({"Controller.example"}), "/nodeguard.v1.Netfilter/Repair").ok());
  EXPECT_FALSE(
      gate.authorize_tls(peer({"controller.example.evil"}), "/nodeguard.v1.Netfilter/Repair").ok());
  EXPECT_EQ(counter(registry_, "nodeguard_api_refused_total", {{"reason", "permission_denied"}}),
            3);
}

TEST_F(CallGateTest, EachIdentityMatchesOnlyItsOwnCertificateField) {
  auto gate = make(mtls());
  const char* repair = "/nodeguard.v1.Netfilter/Repair";
  // The allowed DNS name as a CN or a URI; the allowed URI as a DNS name or CN; the allowed
  // CN as a DNS SAN: none of them is the identity that was allowed.
  EXPECT_FALSE(gate.authorize_tls(peer({}, {}, {"controller.example"}), repair).ok());
  EXPECT_FALSE(gate.authorize_tls(peer({}, {"controller.example"}), repair).ok());
  EXPECT_FALSE(gate.authorize_tls(peer({"spiffe://cluster/ns/ops/sa/repairer"}), repair).ok());
  EXPECT_FALSE(
      gate.authorize_tls(peer({}, {}, {"spiffe://cluster/ns/ops/sa/repairer"}), repair).ok());
  EXPECT_FALSE(gate.authorize_tls(peer({"legacy-controller"}), repair).ok());
  EXPECT_TRUE(gate.authorize_tls(peer({"controller.example"}), repair).ok());
}

TEST_F(CallGateTest, TailLogsNeedsAnAllowedLogClient) {
  auto gate = make(mtls());
  const char* tail = "/nodeguard.v1.Logs/TailLogs";
  // A verified viewer, and the controller allowed to repair: neither may read logs.
  for (const auto& p : {peer({"viewer.example"}), peer({"controller.example"})}) {
    auto st = gate.authorize_tls(p, tail);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_NE(st.error_message().find("api.allowed_log_clients"), std::string::npos);
  }
  EXPECT_TRUE(gate.authorize_tls(peer({}, {"spiffe://cluster/ns/ops/sa/log-reader"}), tail).ok());
  // The log reader has no mutating role.
  EXPECT_FALSE(gate.authorize_tls(peer({}, {"spiffe://cluster/ns/ops/sa/log-reader"}),
                                  "/nodeguard.v1.Netfilter/Repair")
                   .ok());
}

TEST_F(CallGateTest, TailLogsOnTheUnixSocketNeedsAnAllowedLogUid) {
  ApiConfig c;  // defaults: allowed_log_uids = {"0"}
  c.allowed_uids = {"0", "1000"};
  auto gate = make(c);
  const char* tail = "/nodeguard.v1.Logs/TailLogs";
  EXPECT_TRUE(gate.authorize_unix(0, tail).ok());
  auto st = gate.authorize_unix(1000, tail);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(st.error_message().find("api.allowed_log_uids"), std::string::npos);
  EXPECT_EQ(gate.authorize_unix(std::nullopt, tail).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Other methods keep the socket's uid rule alone.
  EXPECT_TRUE(gate.authorize_unix(1000, "/nodeguard.v1.Agent/GetHealth").ok());
  EXPECT_TRUE(gate.authorize_unix(1000, "/nodeguard.v1.Netfilter/Repair").ok());
  c.allowed_log_uids = {"0", "1000"};
  prometheus::Registry other;
  CallGate wider(c, clock_, other);
  EXPECT_TRUE(wider.authorize_unix(1000, tail).ok());
}

TEST_F(CallGateTest, WithoutClientCaMutatingCallsAreRefusedOnTcp) {
  ApiConfig c;
  c.allowed_clients = {"dns:anyone"};  // config validation forbids this; the gate stays safe
  c.allowed_log_clients = {"dns:anyone"};
  auto gate = make(c);
  EXPECT_TRUE(gate.authorize_tls({}, "/nodeguard.v1.Agent/GetHealth").ok());
  TlsPeer unverified{false, {"anyone"}, {}, {}};
  auto st = gate.authorize_tls(unverified, "/nodeguard.v1.Netfilter/Repair");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(st.error_message().find("unix socket"), std::string::npos);
  EXPECT_EQ(gate.authorize_tls(unverified, "/nodeguard.v1.Logs/TailLogs").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CallGateTest, TokenBucketAllowsOneSecondOfBurstThenTheRate) {
  ApiConfig c;
  c.max_requests_per_second = 5;
  auto gate = make(c);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(gate.take_unary_token().ok()) << i;
  auto st = gate.take_unary_token();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(st.error_message().find("api.max_requests_per_second"), std::string::npos);
  clock_.advance(200ms);  // one token back
  EXPECT_TRUE(gate.take_unary_token().ok());
  EXPECT_FALSE(gate.take_unary_token().ok());
  clock_.advance(10s);  // refills to the burst, not beyond
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(gate.take_unary_token().ok()) << i;
  EXPECT_FALSE(gate.take_unary_token().ok());
  EXPECT_EQ(counter(registry_, "nodeguard_api_refused_total", {{"reason", "rate_limited"}}), 3);
}

TEST_F(CallGateTest, FractionalRatesStillAdmitOneCall) {
  ApiConfig c;
  c.max_requests_per_second = 1;
  auto gate = make(c);
  EXPECT_TRUE(gate.take_unary_token().ok());
  EXPECT_FALSE(gate.take_unary_token().ok());
  clock_.advance(1s);
  EXPECT_TRUE(gate.take_unary_token().ok());
}

TEST_F(CallGateTest, StreamSlots) {
  ApiConfig c;
  c.max_streams = 2;
  auto gate = make(c);
  EXPECT_TRUE(gate.check_stream_room().ok());
  EXPECT_TRUE(gate.open_stream().ok());
  EXPECT_TRUE(gate.open_stream().ok());
  EXPECT_EQ(gate.active_streams(), 2);
  EXPECT_EQ(counter(registry_, "nodeguard_api_active_streams", {}), 2);
  EXPECT_EQ(gate.check_stream_room().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  auto st = gate.open_stream();
  EXPECT_EQ(st.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(st.error_message().find("api.max_streams"), std::string::npos);
  gate.close_stream();
  EXPECT_TRUE(gate.open_stream().ok());
  gate.close_stream();
  gate.close_stream();
  gate.close_stream();  // never below zero
  EXPECT_EQ(gate.active_streams(), 0);
  EXPECT_EQ(counter(registry_, "nodeguard_api_refused_total", {{"reason", "too_many_streams"}}), 2);
}

TEST_F(CallGateTest, ResultsAreCountedByMethodAndCodeName) {
  auto gate = make({});
  gate.count_result("/nodeguard.v1.Agent/GetHealth", 0);
  gate.count_result("/nodeguard.v1.Agent/GetHealth", 0);
  gate.count_result("/nodeguard.v1.Agent/GetHealth", 8);
  gate.count_result("/nodeguard.v1.Agent/GetHealth", 99);
  EXPECT_EQ(counter(registry_, "nodeguard_api_requests_total",
                    {{"method", "/nodeguard.v1.Agent/GetHealth"}, {"code", "OK"}}),
            2);
  EXPECT_EQ(counter(registry_, "nodeguard_api_requests_total",
                    {{"method", "/nodeguard.v1.Agent/GetHealth"}, {"code", "RESOURCE_EXHAUSTED"}}),
            1);
  EXPECT_EQ(counter(registry_, "nodeguard_api_requests_total",
                    {{"method", "/nodeguard.v1.Agent/GetHealth"}, {"code", "UNKNOWN"}}),
            1);
}

TEST_F(CallGateTest, UnknownMethodsShareOneSeries) {
  auto gate = make({});
  for (int i = 0; i < 500; ++i) {
    gate.count_result("/nodeguard.v1.Agent/Made" + std::to_string(i), 12);
    gate.count_result("/x" + std::to_string(i) + ".Y/Z", 12);
  }
  gate.count_result("/grpc.health.v1.Health/Check", 0);
  EXPECT_EQ(counter(registry_, "nodeguard_api_requests_total",
                    {{"method", "unknown"}, {"code", "UNIMPLEMENTED"}}),
            1000);
  EXPECT_EQ(counter(registry_, "nodeguard_api_requests_total",
                    {{"method", "/grpc.health.v1.Health/Check"}, {"code", "OK"}}),
            1);
  size_t series = 0;
  for (const auto& f : registry_.Collect()) {
    if (f.name == "nodeguard_api_requests_total") series += f.metric.size();
  }
  EXPECT_EQ(series, 2u);
}

TEST_F(CallGateTest, EveryRefusalReasonIsExportedFromTheStart) {
  make({});
  for (const char* r : {"unauthenticated", "permission_denied", "rate_limited", "too_many_streams",
                        "peer_uid", "tls_handshake"}) {
    EXPECT_EQ(counter(registry_, "nodeguard_api_refused_total", {{"reason", r}}), 0) << r;
  }
}

TEST(GrpcLogBridge, RecognisesHandshakeFailures) {
  EXPECT_TRUE(is_tls_handshake_failure(
      "Handshake failed with fatal error SSL_ERROR_SSL: error:0A0000C7:SSL routines::peer did "
      "not return a certificate."));
  EXPECT_FALSE(is_tls_handshake_failure("Failed to bind to port"));
  EXPECT_FALSE(is_tls_handshake_failure(nullptr));
}

}  // namespace
}  // namespace ng::agent
