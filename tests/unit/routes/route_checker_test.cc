#include "probes/routes/route_checker.h"

#include <gtest/gtest.h>

#include "agent/api/network_service.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_route_source.h"
#include "tests/fakes/manual_executor.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/support/metric_values.h"
#include "tests/unit/routes/route_test_util.h"

namespace ng::probes::routes {
namespace {

using namespace test;
using namespace std::chrono_literals;

class RouteCheckerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto src = std::make_unique<testing::FakeRouteSource>();
    source_ = src.get();
    checker_ =
        std::make_unique<RouteChecker>(config_, std::move(src),
                                       RouteChecker::Deps{clock_, loop_, health_, env_errors_,
                                                          registry_, core::Logger::discard()});
  }
  double gauge(const std::string& name, const std::string& label, const std::string& value) {
    return testing::metric_value(registry_, name, {{label, value}});
  }
  void sync() {
    source_->emit();
    loop_.run_all();
  }

  RoutesConfig config_;
  testing::FakeClock clock_;
  testing::ManualExecutor loop_;
  prometheus::Registry registry_;
  testing::RecordingHealthSink health_;
  core::EnvErrorReporter env_errors_{registry_, core::Logger::discard()};
  testing::FakeRouteSource* source_ = nullptr;
  std::unique_ptr<RouteChecker> checker_;
};

TEST_F(RouteCheckerTest, ClassifiesAfterTheFirstDumpAndReportsConditions) {
  config_.peers.push_back({"node-c", "192.168.2.10", {"10.244.3.0/26"}, "", "none"});
  checker_->start();
  EXPECT_EQ(checker_->status().state, core::ComponentState::kStarting);
  source_->edit() = node_a();
  source_->edit().upsert_route(via("10.244.3.0/26", "192.168.1.1", kEth0));
  sync();
  ASSERT_EQ(checker_->verdicts().size(), 2u);  // own block + node-c's block
  EXPECT_EQ(checker_->status().state, core::ComponentState::kRunning);
  ASSERT_TRUE(health_.active("PodRouteViaGateway"));
  const auto& c = health_.conditions.at("PodRouteViaGateway");
  EXPECT_EQ(c.severity, core::Severity::kError);
  EXPECT_NE(c.message.find("10.244.3.0/26 of node-c"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("Fix: switch the IP pool to IPIP or VXLAN CrossSubnet"),
            std::string::npos)
      << c.message;
  EXPECT_FALSE(health_.active("PodRouteMissing"));
  EXPECT_EQ(gauge("nodeguard_route_verdicts", "kind", "PodRouteViaGateway"), 1);
  EXPECT_EQ(gauge("nodeguard_route_verdicts", "kind", "Healthy"), 1);
  EXPECT_EQ(gauge("nodeguard_route_verdicts", "kind", "PodRouteMissing"), 0);

  // IPIP lands while the config still says "none": the gateway problem clears, and the
  // mismatch with the expected encapsulation is reported instead.
  source_->edit().upsert_route(via("10.244.3.0/26", "192.168.2.10", kTunl0, true));
  source_->emit();
  loop_.run_all();
  EXPECT_FALSE(health_.active("PodRouteViaGateway"));
  EXPECT_TRUE(health_.active("PodRouteEncapsulationMismatch"));
  EXPECT_EQ(gauge("nodeguard_route_verdicts", "kind", "PodRouteEncapsulationMismatch"), 1);
}

TEST_F(RouteCheckerTest, BurstsOfEventsAreCoalesced) {
  checker_->start();
  source_->edit() = node_a();
  for (int i = 0; i < 10; ++i) source_->emit();
  EXPECT_EQ(loop_.pending(), 1u);
  loop_.run_all();
  EXPECT_EQ(checker_->checks(), 1u);
}

TEST_F(RouteCheckerTest, BirdAndControllerPeersAreMerged) {
  checker_->start();
  source_->edit() = node_a();
  source_->edit().upsert_route(via("10.244.2.0/26", "192.168.1.11", kEth0));
  sync();
  checker_->set_bird_peers({peer("192.168.1.11", "192.168.1.11", {"10.244.2.0/26"})});
  loop_.run_all();
  EXPECT_EQ(checker_->verdicts().size(), 2u);
  ControllerView view;
  view.peers.push_back(peer("node-c", "192.168.2.10", {"10.244.3.0/26"}, Encapsulation::kVxlan));
  view.own_blocks = {net("10.244.1.0/26")};
  checker_->set_controller_view(view);
  loop_.run_all();
  EXPECT_EQ(checker_->peers().size(), 2u);
  EXPECT_TRUE(health_.active("PodRouteMissing"));
  EXPECT_EQ(gauge("nodeguard_expected_peers", "source", "bird"), 1);
  EXPECT_EQ(gauge("nodeguard_expected_peers", "source", "controller"), 1);
}

TEST_F(RouteCheckerTest, PeriodicResyncAndStop) {
  config_.recheck_interval = 30s;
  checker_->start();
  clock_.advance(31s);
  EXPECT_EQ(source_->resyncs, 1);
  clock_.advance(30s);
  EXPECT_EQ(source_->resyncs, 2);
  checker_->stop();
  clock_.advance(60s);
  EXPECT_EQ(source_->resyncs, 2);
  EXPECT_EQ(source_->stops, 1);
}

TEST_F(RouteCheckerTest, SourceErrorsDegradeAndRecover) {
  checker_->start();
  source_->edit() = node_a();
  sync();
  source_->fail({core::EnvErrorKind::kIo, "netlink recv: boom"});
  EXPECT_EQ(checker_->status().state, core::ComponentState::kDegraded);
  source_->recover();
  EXPECT_EQ(checker_->status().state, core::ComponentState::kRunning);
  RoutesConfig off;  // the checker keeps a reference: the config outlives it
  off.enabled = false;
  RouteChecker disabled_checker(
      off, std::make_unique<testing::FakeRouteSource>(),
      RouteChecker::Deps{clock_, loop_, health_, env_errors_, registry_, core::Logger::discard()});
  EXPECT_EQ(disabled_checker.status().state, core::ComponentState::kDisabled);
}

TEST_F(RouteCheckerTest, StartFailureIsReported) {
  source_->start_error = core::EnvError{core::EnvErrorKind::kPermission, "netlink: denied"};
  checker_->start();
  EXPECT_EQ(checker_->status().state, core::ComponentState::kFailed);
}

TEST_F(RouteCheckerTest, NodeAddressFromConfigKeepsItsLength) {
  config_.node_address = "192.168.1.10/32";
  config_.peers.push_back({"b", "192.168.1.11", {"10.244.2.0/26"}, "", "ipip-crosssubnet"});
  checker_->start();
  source_->edit() = node_a();
  source_->edit().upsert_route(via("10.244.2.0/26", "192.168.1.11", kTunl0, true));
  sync();
  EXPECT_TRUE(health_.active("NodeAddressHostPrefix"));
  EXPECT_TRUE(health_.active("PodRouteEncapsulatedSameSubnet"));
  EXPECT_NE(health_.conditions.at("NodeAddressHostPrefix").message.find("192.168.1.10/32"),
            std::string::npos);
}

// The Network service's handlers over a real checker (no gRPC transport needed).
TEST_F(RouteCheckerTest, NetworkServiceListsAndValidates) {
  checker_->start();
  source_->edit() = node_a();
  source_->edit().upsert_route(via("10.244.3.0/26", "192.168.1.1", kEth0));
  sync();
  agent::NetworkService svc(loop_, checker_.get(), nullptr, nullptr);
  nodeguard::v1::SetExpectedPeersRequest req;
  auto* p = req.add_peers();
  p->set_name("node-c");
  p->set_node_ip("192.168.2.10");
  p->add_blocks("10.244.3.0/26");
  p->set_encapsulation("none");
  req.set_node_address("192.168.1.10/24");
  nodeguard::v1::SetExpectedPeersResponse resp;
  ASSERT_TRUE(svc.set_expected_peers(req, resp).ok());
  EXPECT_EQ(resp.peers(), 1);
  loop_.run_all();
  nodeguard::v1::ListRoutesRequest lr;
  lr.set_problems_only(true);
  nodeguard::v1::ListRoutesResponse routes;
  svc.fill_routes(lr, routes);
  ASSERT_EQ(routes.verdicts_size(), 1);
  EXPECT_EQ(routes.verdicts(0).kind(), "PodRouteViaGateway");
  EXPECT_EQ(routes.verdicts(0).severity(), "error");
  EXPECT_EQ(routes.verdicts(0).peer(), "node-c");
  EXPECT_EQ(routes.counts().at("Healthy"), 1);
  EXPECT_TRUE(routes.synced());
  nodeguard::v1::ListPeersResponse peers;
  svc.fill_peers(peers);
  ASSERT_EQ(peers.peers_size(), 1);
  EXPECT_FALSE(peers.peers(0).same_subnet());
  EXPECT_EQ(peers.peers(0).sources(0), "controller");

  // Bad input is refused whole, naming the field; the previous view stays.
  nodeguard::v1::SetExpectedPeersRequest bad = req;
  bad.mutable_peers(0)->add_blocks("10.244.3.7/26");
  auto st = svc.set_expected_peers(bad, resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(st.error_message().find("peers[0].blocks[1]"), std::string::npos) << st.error_message();
  bad = req;
  bad.set_node_address("192.168.1.10");
  EXPECT_EQ(svc.set_expected_peers(bad, resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad = req;
  bad.add_own_blocks("nope");
  EXPECT_EQ(svc.set_expected_peers(bad, resp).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(checker_->peers().size(), 1u);

  agent::NetworkService none(loop_, nullptr, nullptr, nullptr);
  EXPECT_EQ(none.set_expected_peers(req, resp).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
}

}  // namespace
}  // namespace ng::probes::routes
