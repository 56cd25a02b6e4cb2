#include <gtest/gtest.h>
#include <sys/stat.h>

#include <grpcpp/create_channel.h>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>

#include "agent/api/agent_service.h"
#include "agent/api/grpc_server.h"
#include "core/asio_clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
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
    identity_.node_name = "node-a";
    identity_.started_at = clock_.wall_now();
    identity_.started_mono = clock_.now();
    registry_.add(std::make_unique<FixedComponent>());
    registry_.start_all();
    service_ = std::make_unique<AgentService>(loop_, clock_, identity_, registry_, health_);
    server_ = std::make_unique<GrpcServer>(config_, core::Logger::discard());
    server_->add_service(service_.get());
    ASSERT_TRUE(server_->start());
    loop_thread_ = std::thread([this] { io_.run(); });
    channel_ =
        grpc::CreateChannel("unix://" + config_.grpc_socket, grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    server_->shutdown(1s);
    work_.reset();
    io_.stop();
    loop_thread_.join();
  }

  testing::TempDir dir_;
  AgentConfig config_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  core::AsioClock clock_{io_};
  core::IoContextExecutor loop_{io_};
  prometheus::Registry metrics_;
  HealthModel health_{clock_, metrics_, 16};
  ComponentRegistry registry_{core::Logger::discard()};
  AgentIdentity identity_;
  std::unique_ptr<AgentService> service_;
  std::unique_ptr<GrpcServer> server_;
  std::thread loop_thread_;
  std::shared_ptr<grpc::Channel> channel_;
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
