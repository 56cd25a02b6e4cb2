#include "probes/bgp/bgp_monitor.h"

#include <gtest/gtest.h>

#include "tests/fakes/fake_bird_connection.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/recording_health_sink.h"
#include "tests/support/metric_values.h"
#include "tests/unit/bgp/testdata.h"

namespace ng::probes::bgp {
namespace {

using namespace std::chrono_literals;
using ng::testing::bird_reply_of;

class BgpMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.bird_sockets = {"/run/bird.ctl", "/run/bird6.ctl"};
    config_.poll_interval = 5s;
    birds_["/run/bird.ctl"] = std::make_shared<testing::FakeBird>();
    birds_["/run/bird6.ctl"] = std::make_shared<testing::FakeBird>();
    // bird6.ctl does not exist on this IPv4-only node.
    birds_["/run/bird6.ctl"]->error =
        core::EnvError{core::EnvErrorKind::kNotFound, "connect /run/bird6.ctl: No such file"};
    up();
    monitor_ = std::make_unique<BgpMonitor>(
        config_,
        [this](const std::string& path) {
          return std::make_unique<testing::FakeBirdConnection>(birds_.at(path));
        },
        BgpMonitor::Deps{clock_, health_, env_errors_, registry_, core::Logger::discard()});
    monitor_->set_peers_listener([this](std::vector<routes::Peer> p) { peers_ = std::move(p); });
  }
  void up() {
    auto& b = *birds_["/run/bird.ctl"];
    b.replies["show protocols all"] = bird_reply_of("bird2_show_protocols_all.txt");
    b.replies["show route all"] = bird_reply_of("bird2_show_route_all.txt");
  }
  void c_down() {
    auto& b = *birds_["/run/bird.ctl"];
    b.replies["show protocols all"] = bird_reply_of("bird2_show_protocols_all_peer_down.txt");
    // C's route was withdrawn when its session dropped.
    std::string routes = bird_reply_of("bird2_show_route_all.txt");
    const auto start = routes.find("1007-10.244.3.0/26");
    const auto end = routes.find("1007-10.244.2.0/26");
    routes.erase(start, end - start);
    b.replies["show route all"] = routes;
  }
  double gauge(const std::string& name, const std::string& label, const std::string& value) {
    return testing::metric_value(registry_, name, {{label, value}});
  }
  const routes::Peer* peer(const std::string& ip) {
    for (const auto& p : peers_) {
      if (p.node_ip.to_string() == ip) return &p;
    }
    return nullptr;
  }

  BgpConfig config_;
  std::map<std::string, std::shared_ptr<testing::FakeBird>> birds_;
  testing::FakeClock clock_;
  prometheus::Registry registry_;
  testing::RecordingHealthSink health_;
  core::EnvErrorReporter env_errors_{registry_, core::Logger::discard()};
  std::unique_ptr<BgpMonitor> monitor_;
  std::vector<routes::Peer> peers_;
};

TEST_F(BgpMonitorTest, ReadsSessionsAndLearnedBlocks) {
  monitor_->start();
  ASSERT_EQ(monitor_->sessions().size(), 2u);
  EXPECT_EQ(monitor_->sessions()[0].peer_type, "node-to-node mesh");
  EXPECT_EQ(birds_["/run/bird.ctl"]->queries.back(),
            (std::vector<std::string>{"show protocols all", "show route all"}));
  EXPECT_FALSE(health_.active("BGPPeerDown"));
  EXPECT_EQ(gauge("nodeguard_bgp_sessions", "state", "Established"), 2);
  EXPECT_EQ(gauge("nodeguard_bgp_sessions", "state", "Active"), 0);
  ASSERT_EQ(peers_.size(), 2u);
  ASSERT_TRUE(peer("192.168.2.10"));
  ASSERT_EQ(peer("192.168.2.10")->blocks.size(), 1u);
  EXPECT_EQ(peer("192.168.2.10")->blocks[0].to_string(), "10.244.3.0/26");
  EXPECT_EQ(peer("192.168.1.11")->blocks[0].to_string(), "10.244.2.0/26");
  EXPECT_EQ(peer("192.168.1.11")->sources,
            std::vector<routes::PeerSource>{routes::PeerSource::kBird});
  // A socket that never existed is a detail, not a degradation.
  EXPECT_EQ(monitor_->status().state, core::ComponentState::kRunning);
  EXPECT_FALSE(health_.active("BIRDUnreachable"));
}

TEST_F(BgpMonitorTest, SessionDownWithinOnePoll) {
  monitor_->start();
  c_down();
  clock_.advance(5s);  // one poll
  ASSERT_TRUE(health_.active("BGPPeerDown"));
  const auto& c = health_.conditions.at("BGPPeerDown");
  EXPECT_EQ(c.severity, core::Severity::kError);
  EXPECT_NE(c.message.find("Mesh_192_168_2_10 (192.168.2.10) is Active"), std::string::npos)
      << c.message;
  EXPECT_NE(c.message.find("Socket: Connection refused"), std::string::npos);
  EXPECT_NE(c.message.find("TCP port 179"), std::string::npos);
  EXPECT_EQ(gauge("nodeguard_bgp_sessions", "state", "Active"), 1);
  EXPECT_EQ(gauge("nodeguard_bgp_sessions", "state", "Established"), 1);
  // The block BIRD withdrew stays expected while the session is down (so a missing route is
  // reported), and is forgotten once the session is back and the peer no longer announces it.
  ASSERT_TRUE(peer("192.168.2.10"));
  EXPECT_EQ(peer("192.168.2.10")->blocks.size(), 1u);
  auto& b = *birds_["/run/bird.ctl"];
  b.replies["show protocols all"] = bird_reply_of("bird2_show_protocols_all.txt");
  clock_.advance(5s);
  EXPECT_FALSE(health_.active("BGPPeerDown"));
  EXPECT_TRUE(peer("192.168.2.10")->blocks.empty());
  EXPECT_EQ(health_.count_events("BGPPeerDown"), 0u);  // events come from the health model
}

TEST_F(BgpMonitorTest, UnreachableSocketIsReportedAndRetried) {
  monitor_->start();
  auto& b = *birds_["/run/bird.ctl"];
  b.error = core::EnvError{core::EnvErrorKind::kUnavailable, "connect /run/bird.ctl: refused"};
  clock_.advance(5s);
  EXPECT_TRUE(health_.active("BIRDUnreachable"));
  EXPECT_EQ(monitor_->status().state, core::ComponentState::kDegraded);
  EXPECT_TRUE(monitor_->sessions().empty());
  EXPECT_TRUE(env_errors_.has_error("bgp"));
  // Learned peers are kept while BIRD is away.
  EXPECT_EQ(peers_.size(), 2u);
  const size_t queries = b.queries.size();
  b.error.reset();
  clock_.advance(5s);
  EXPECT_GT(b.queries.size(), queries);
  EXPECT_FALSE(health_.active("BIRDUnreachable"));
  EXPECT_EQ(monitor_->status().state, core::ComponentState::kRunning);
}

TEST_F(BgpMonitorTest, NoBirdAtAllIsNotAProblem) {
  // A node without BGP (Calico VXLAN, flannel): no socket file anywhere.
  birds_["/run/bird.ctl"]->error = core::EnvError{core::EnvErrorKind::kNotFound, "no socket"};
  monitor_->start();
  EXPECT_EQ(monitor_->status().state, core::ComponentState::kRunning);
  EXPECT_NE(monitor_->status().message.find("no BIRD control socket"), std::string::npos);
  EXPECT_FALSE(health_.active("BIRDUnreachable"));
  EXPECT_FALSE(env_errors_.has_error("bgp"));
  EXPECT_TRUE(peers_.empty());
}

TEST_F(BgpMonitorTest, ExistingSocketThatRefusesDegrades) {
  birds_["/run/bird.ctl"]->error =
      core::EnvError{core::EnvErrorKind::kPermission, "connect /run/bird.ctl: Permission denied"};
  monitor_->start();
  EXPECT_EQ(monitor_->status().state, core::ComponentState::kDegraded);
  EXPECT_TRUE(env_errors_.has_error("bgp"));
  EXPECT_FALSE(health_.active("BIRDUnreachable"));  // never answered: not "stopped answering"
}

TEST_F(BgpMonitorTest, GarbageAndErrorRepliesAreSkipped) {
  auto& b = *birds_["/run/bird.ctl"];
  b.replies["show protocols all"] = bird_reply_of("bird2_show_protocols_garbage.txt");
  b.replies["show route all"] = bird_reply_of("bird2_syntax_error.txt");
  monitor_->start();
  EXPECT_EQ(monitor_->sessions().size(), 2u);
  EXPECT_TRUE(health_.active("BGPPeerDown"));
  EXPECT_GE(testing::metric_value(registry_, "nodeguard_bird_reply_lines_skipped_total"), 3);
}

TEST_F(BgpMonitorTest, SlowBirdDoesNotStackQueries) {
  auto& b = *birds_["/run/bird.ctl"];
  b.immediate = false;
  birds_["/run/bird6.ctl"]->immediate = false;
  monitor_->start();
  clock_.advance(30s);
  EXPECT_EQ(b.queries.size(), 1u);
  EXPECT_FALSE(monitor_->polled());
  b.complete_all();
  birds_["/run/bird6.ctl"]->complete_all();
  EXPECT_TRUE(monitor_->polled());
  monitor_->stop();
  clock_.advance(30s);
  EXPECT_EQ(b.queries.size(), 1u);
}

TEST_F(BgpMonitorTest, Bird16SocketsWithRouteReflectedOwners) {
  auto& b = *birds_["/run/bird.ctl"];
  b.replies["show protocols all"] = bird_reply_of("bird16_show_protocols.txt");
  b.replies["show route all"] = bird_reply_of("bird16_show_route_all.txt");
  auto& b6 = *birds_["/run/bird6.ctl"];
  b6.error.reset();
  b6.replies["show protocols all"] = bird_reply_of("bird16_v6_show_protocols.txt");
  b6.replies["show route all"] = "0000 \n";
  monitor_->start();
  EXPECT_EQ(monitor_->sessions().size(), 6u);
  EXPECT_TRUE(health_.active("BGPPeerDown"));
  // 10.244.7.0/26 belongs to its BGP next hop 10.0.1.9, not to the mesh peer that relayed it.
  ASSERT_TRUE(peer("10.0.1.9"));
  EXPECT_EQ(peer("10.0.1.9")->blocks[0].to_string(), "10.244.7.0/26");
  EXPECT_EQ(peer("10.0.0.2")->blocks[0].to_string(), "10.244.2.0/26");
  EXPECT_TRUE(peer("fd00:10::2"));
  EXPECT_EQ(gauge("nodeguard_bgp_sessions", "state", "OpenSent"), 1);
  EXPECT_EQ(gauge("nodeguard_bgp_sessions", "state", "Connect"), 1);
}

TEST_F(BgpMonitorTest, Disabled) {
  config_.enabled = false;
  monitor_->start();
  EXPECT_EQ(monitor_->status().state, core::ComponentState::kDisabled);
  EXPECT_TRUE(birds_["/run/bird.ctl"]->queries.empty());
}

}  // namespace
}  // namespace ng::probes::bgp
