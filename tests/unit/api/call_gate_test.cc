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
    c.allowed_clients = {"controller.example", "spiffe://cluster/ns/ops/sa/repairer"};
    return c;
  }
  testing::FakeClock clock_;
  prometheus::Registry registry_;
};

TEST_F(CallGateTest, WithClientCaEveryCallNeedsAVerifiedPeer) {
  auto gate = make(mtls());
  auto st = gate.authorize_tls({false, {}}, "/nodeguard.v1.Agent/GetHealth");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(st.error_message().find("client certificate"), std::string::npos);
  EXPECT_EQ(counter(registry_, "nodeguard_api_refused_total", {{"reason", "unauthenticated"}}), 1);
}

TEST_F(CallGateTest, ReadOnlyCallsAreOpenToAnyVerifiedClient) {
  auto gate = make(mtls());
  EXPECT_TRUE(gate.authorize_tls({true, {"random.example"}}, "/nodeguard.v1.Agent/GetHealth").ok());
  EXPECT_TRUE(gate.authorize_tls({true, {}}, "/nodeguard.v1.Netfilter/ListRules").ok());
}

TEST_F(CallGateTest, MutatingCallsNeedAnAllowedIdentity) {
  auto gate = make(mtls());
  auto st = gate.authorize_tls({true, {"intruder.example", "intruder-cn"}},
                               "/nodeguard.v1.Netfilter/Repair");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(st.error_message().find("intruder.example"), std::string::npos);
  EXPECT_NE(st.error_message().find("api.allowed_clients"), std::string::npos);
  EXPECT_TRUE(
      gate.authorize_tls({true, {"other", "controller.example"}}, "/nodeguard.v1.Netfilter/Repair")
          .ok());
  EXPECT_TRUE(gate.authorize_tls({true, {"spiffe://cluster/ns/ops/sa/repairer"}},
                                 "/nodeguard.v1.Network/SetExpectedPeers")
                  .ok());
  // Identities match exactly: no prefixes, no case folding.
  EXPECT_FALSE(
      gate.authorize_tls({true, {"Controller.example"}}, "/nodeguard.v1.Netfilter/Repair").ok());
  EXPECT_FALSE(
      gate.authorize_tls({true, {"controller.example.evil"}}, "/nodeguard.v1.Netfilter/Repair")
          .ok());
  EXPECT_EQ(counter(registry_, "nodeguard_api_refused_total", {{"reason", "permission_denied"}}),
            3);
}

TEST_F(CallGateTest, WithoutClientCaMutatingCallsAreRefusedOnTcp) {
  ApiConfig c;
  c.allowed_clients = {"anyone"};  // config validation forbids this; the gate stays safe anyway
  auto gate = make(c);
  EXPECT_TRUE(gate.authorize_tls({false, {}}, "/nodeguard.v1.Agent/GetHealth").ok());
  auto st = gate.authorize_tls({false, {"anyone"}}, "/nodeguard.v1.Netfilter/Repair");
  EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(st.error_message().find("unix socket"), std::string::npos);
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
