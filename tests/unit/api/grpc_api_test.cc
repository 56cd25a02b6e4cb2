#include <gtest/gtest.h>
#include <sys/stat.h>

#include <grpcpp/create_channel.h>
#include <thread>

#include "agent/api/agent_service.h"
#include "agent/api/grpc_server.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/support/api_harness.h"
#include "tests/support/temp_dir.h"

namespace ng::agent {
namespace {

using namespace std::chrono_literals;

class FixedComponent final : public core::Component {
 public:
  std::string_view name() const override { return "netfilter"; }
  void start() override {}
  void stop() override {}
  core::ComponentStatus status() const override {
    return {core::ComponentState::kDegraded, "xtables lock busy", {{"backend", "nft"}}};
  }
};

// A real server on a temp unix socket with its loop on a thread, as in the agent.
class GrpcApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.grpc_socket = dir_ / "api.sock";
    config_.api.allowed_uids = {std::to_string(::getuid())};
    identity_.node_name = "node-a";
    identity_.started_at = l_.clock.wall_now();
    identity_.started_mono = l_.clock.now();
    l_.components.add(std::make_unique<FixedComponent>());
    l_.components.start_all();
    service_ = std::make_unique<AgentService>(l_.loop, l_.clock, identity_, l_.components, health_,
                                              l_.metrics);
    server_ = std::make_unique<GrpcServer>(config_, gate_, core::Logger::discard());
    server_->add_service(service_.get());
    ASSERT_TRUE(server_->start());
    l_.start();
    channel_ =
        grpc::CreateChannel("unix://" + config_.grpc_socket, grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    server_->shutdown(1s);
    l_.stop();
  }

  testing::TempDir dir_;
  AgentConfig config_;
  testing::ApiLoop l_{16};
  HealthModel& health_ = l_.health;
  CallGate gate_{config_.api, l_.clock, l_.metrics};
  AgentIdentity identity_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::shared_ptr<grpc::Channel> channel_;

  template <class Fn>
  void on_loop(Fn fn) {
    ASSERT_TRUE(l_.run(fn));
  }
  void record(const std::string& reason) {
    on_loop([&] { health_.record_event({"netfilter", reason, "m", core::Severity::kInfo, {}}); });
  }
  std::vector<nodeguard::v1::WatchEventsResponse> watch(nodeguard::v1::WatchEventsRequest req,
                                                        size_t n) {
    auto stub = nodeguard::v1::Agent::NewStub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 5s);
    auto reader = stub->WatchEvents(&ctx, req);
    std::vector<nodeguard::v1::WatchEventsResponse> out(n);
    for (size_t i = 0; i < n; ++i) {
      if (!reader->Read(&out[i])) {
        out.resize(i);
        break;
      }
    }
    ctx.TryCancel();
    reader->Finish();
    return out;
  }
};

TEST_F(GrpcApiTest, GetStatusReturnsIdentityAndComponents) {
  auto stub = nodeguard::v1::Agent::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  nodeguard::v1::GetStatusResponse resp;
  const auto st = stub->GetStatus(&ctx, {}, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.node_name(), "node-a");
  EXPECT_FALSE(resp.version().empty());
  EXPECT_EQ(resp.verdict(), "Degraded");  // the degraded component
  ASSERT_EQ(resp.components_size(), 1);
  EXPECT_EQ(resp.components(0).name(), "netfilter");
  EXPECT_EQ(resp.components(0).state(), "degraded");
  EXPECT_EQ(resp.components(0).details().at("backend"), "nft");
}

TEST_F(GrpcApiTest, GetHealthCarriesVerdictConditionsAndLastRepair) {
  on_loop([&] {
    health_.set_condition({"PodRouteViaGateway", true, "NextHopIsGateway",
                           "route to 10.244.2.0/26 goes via the gateway", core::Severity::kError});
    health_.set_condition({"BGPPeerDown", false, "AllEstablished", "", core::Severity::kError});
    health_.record_event({"netfilter",
                          "DriftRepaired",
                          "put back 3 rules",
                          core::Severity::kInfo,
                          {{"table", "nat"}}});
  });
  auto stub = nodeguard::v1::Agent::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  nodeguard::v1::GetHealthRequest req;
  req.set_recent_events(10);
  nodeguard::v1::GetHealthResponse resp;
  ASSERT_TRUE(stub->GetHealth(&ctx, req, &resp).ok());
  EXPECT_EQ(resp.node_name(), "node-a");
  EXPECT_EQ(resp.verdict(), "Unhealthy");
  ASSERT_GE(resp.verdict_reasons_size(), 2);
  EXPECT_NE(resp.verdict_reasons(0).find("PodRouteViaGateway"), std::string::npos);
  EXPECT_NE(resp.verdict_reasons(1).find("netfilter degraded"), std::string::npos);
  ASSERT_EQ(resp.conditions_size(), 2);
  EXPECT_EQ(resp.conditions(0).type(), "BGPPeerDown");
  EXPECT_EQ(resp.conditions(0).status(), "False");
  EXPECT_EQ(resp.conditions(1).type(), "PodRouteViaGateway");
  EXPECT_EQ(resp.conditions(1).status(), "True");
  EXPECT_EQ(resp.conditions(1).severity(), "error");
  EXPECT_EQ(resp.conditions(1).reason(), "NextHopIsGateway");
  EXPECT_GT(resp.conditions(1).last_transition_time().seconds(), 0);
  EXPECT_EQ(resp.last_repair().reason(), "DriftRepaired");
  EXPECT_EQ(resp.last_repair().attributes().at("table"), "nat");
  EXPECT_EQ(resp.last_event_seq(), 2u);  // condition activation + repair
  ASSERT_EQ(resp.recent_events_size(), 2);
  EXPECT_EQ(resp.recent_events(0).reason(), "PodRouteViaGateway");
  EXPECT_EQ(resp.components_size(), 1);
}

TEST_F(GrpcApiTest, WatchReplaysFromTheResumePoint) {
  record("A");
  record("B");
  record("C");
  nodeguard::v1::WatchEventsRequest req;
  req.set_after_seq(1);
  auto got = watch(req, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].event().seq(), 2u);
  EXPECT_EQ(got[0].event().reason(), "B");
  EXPECT_EQ(got[1].event().reason(), "C");

  // Live delivery (events recorded after the stream opened) is covered by
  // tests/integration/api/api_security_test.cc, which may wait for it.
}

TEST_F(GrpcApiTest, WatchSaysGapWhenTheResumePointIsGone) {
  for (int i = 0; i < 20; ++i) record("E" + std::to_string(i));  // ring holds 16: 5..20
  nodeguard::v1::WatchEventsRequest req;
  req.set_after_seq(2);
  auto got = watch(req, 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(got[0].has_gap());
  EXPECT_EQ(got[0].gap().requested_after_seq(), 2u);
  EXPECT_EQ(got[0].gap().oldest_available_seq(), 5u);
  EXPECT_EQ(got[1].event().seq(), 5u);

  // From the future (an agent that restarted): gap, then everything held.
  req.set_after_seq(500);
  got = watch(req, 2);
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(got[0].has_gap());
  EXPECT_NE(got[0].gap().reason().find("restarted"), std::string::npos);
  EXPECT_EQ(got[1].event().seq(), 5u);

  // after_seq 0 means "whatever you hold": no gap.
  req.set_after_seq(0);
  got = watch(req, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event().seq(), 5u);
}

TEST_F(GrpcApiTest, StandardHealthServiceAnswersServing) {
  auto stub = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  grpc::health::v1::HealthCheckResponse resp;
  const auto st = stub->Check(&ctx, {}, &resp);
  ASSERT_TRUE(st.ok()) << st.error_message();
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(GrpcApiTest, ReflectionListsOurService) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(channel_);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  stream->WritesDone();
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::set<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.insert(s.name());
  EXPECT_TRUE(names.count("nodeguard.v1.Agent"));
  EXPECT_TRUE(names.count("grpc.health.v1.Health"));
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(GrpcApiTest, UnixSocketIsOwnerOnly) {
  struct stat st;
  ASSERT_EQ(::stat(config_.grpc_socket.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

}  // namespace
}  // namespace ng::agent
