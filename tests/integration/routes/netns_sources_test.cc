// Privileged: each test moves this process into a fresh network namespace (unshare), so the
// real libnl route view, the real TCP/ICMP probes and `ip` commands only ever touch that
// namespace. Skipped when not root.
#include <sched.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "core/asio_clock.h"
#include "probes/connectivity/asio_probe_transport.h"
#include "probes/routes/netlink_route_source.h"

namespace ng::probes {
namespace {

using namespace std::chrono_literals;

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (creates a network namespace)";
    ASSERT_EQ(::unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET)";
    sh("ip link set lo up");
  }
  static void sh(const std::string& cmd) { ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd; }
  // Runs the loop until pred() holds; false after the (generous) deadline.
  bool run_until(const std::function<bool()>& pred, std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      io_.restart();
      io_.run_for(20ms);
    }
    return true;
  }
  boost::asio::io_context io_;
  core::AsioClock clock_{io_};
};

const routes::Route* find_route(const routes::RouteTable& t, const std::string& dst) {
  auto want = routes::IpPrefix::parse(dst);
  for (const auto& [k, r] : t.routes()) {
    if (r.dst == *want && r.table == routes::kMainTable) return &r;
  }
  return nullptr;
}

TEST_F(NetnsTest, RouteViewFollowsLinksAddressesAndRoutes) {
  sh("ip link add eth0 type veth peer name peer0 && ip link set eth0 up && ip link set peer0 up");
  sh("ip addr add 192.168.1.10/24 dev eth0 && ip -6 addr add fd00:1::10/64 dev eth0 nodad");
  routes::NetlinkRouteSource src(io_, core::Logger::discard());
  int changes = 0;
  routes::RouteSource::Callbacks cb;
  cb.changed = [&] { ++changes; };
  ASSERT_TRUE(src.start(cb));
  ASSERT_TRUE(run_until([&] { return src.synced(); }));
  const auto* eth0 = src.table().link_by_name("eth0");
  ASSERT_TRUE(eth0);
  EXPECT_TRUE(eth0->admin_up);
  EXPECT_EQ(eth0->kind, "veth");
  bool has_addr = false;
  for (const auto& a : src.table().addresses()) {
    has_addr |= a.local.to_string() == "192.168.1.10" && a.length == 24;
  }
  EXPECT_TRUE(has_addr);

  sh("ip route add 10.244.3.0/26 via 192.168.1.1 dev eth0 proto bird metric 32");
  sh("ip route add 10.244.4.0/26 via 192.168.2.10 dev eth0 proto 80 onlink");
  sh("ip route add blackhole 10.244.1.0/26 proto bird");
  sh("ip -6 route add fd00:10:3::/122 via fd00:1::1 dev eth0 proto bird");
  ASSERT_TRUE(run_until([&] { return find_route(src.table(), "fd00:10:3::/122") != nullptr; }));
  const auto* r = find_route(src.table(), "10.244.3.0/26");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->protocol, routes::kProtoBird);
  EXPECT_EQ(r->metric, 32u);
  ASSERT_EQ(r->nexthops.size(), 1u);
  EXPECT_EQ(r->nexthops[0].gateway->to_string(), "192.168.1.1");
  EXPECT_EQ(r->nexthops[0].ifindex, eth0->index);
  EXPECT_FALSE(r->nexthops[0].onlink);
  const auto* onlink = find_route(src.table(), "10.244.4.0/26");
  ASSERT_TRUE(onlink);
  EXPECT_TRUE(onlink->nexthops[0].onlink);
  EXPECT_EQ(onlink->protocol, 80);
  EXPECT_EQ(src.table().describe(*onlink), "via 192.168.2.10 dev eth0 onlink proto 80");
  const auto* bh = find_route(src.table(), "10.244.1.0/26");
  ASSERT_TRUE(bh);
  EXPECT_EQ(bh->type, routes::RouteType::kBlackhole);

  sh("ip route del 10.244.3.0/26");
  sh("ip link set eth0 down");
  ASSERT_TRUE(run_until([&] {
    const auto* l = src.table().link_by_name("eth0");
    return !find_route(src.table(), "10.244.3.0/26") && l && !l->admin_up;
  }));
  // A VXLAN device shows its kind (what the classifier keys on besides the name).
  sh("ip link add vxlan.calico type vxlan id 4096 dstport 4789 local 192.168.1.10 nolearning");
  ASSERT_TRUE(run_until([&] { return src.table().link_by_name("vxlan.calico") != nullptr; }));
  EXPECT_EQ(src.table().link_by_name("vxlan.calico")->kind, "vxlan");
  sh("ip link del vxlan.calico");
  ASSERT_TRUE(run_until([&] { return src.table().link_by_name("vxlan.calico") == nullptr; }));
  EXPECT_GT(changes, 1);
  src.stop();
}

TEST_F(NetnsTest, OverrunTriggersAFullRedump) {
  sh("ip link add eth0 type veth peer name peer0 && ip link set eth0 up && ip link set peer0 up");
  sh("ip addr add 192.168.1.10/24 dev eth0");
  routes::NetlinkRouteSource src(io_, core::Logger::discard());
  ASSERT_TRUE(src.start({}));
  ASSERT_TRUE(run_until([&] { return src.synced(); }));
  src.set_receive_buffer(4096);  // tiny: the burst below cannot fit while we are not reading
  std::string batch;
  for (int i = 0; i < 3000; ++i) {
    batch += "route add 10." + std::to_string(100 + i / 250) + "." + std::to_string(i % 250) +
             ".0/24 via 192.168.1." + std::to_string(1 + i % 200) + " dev eth0 proto bird\n";
  }
  const std::string file = "/tmp/ng-overrun-" + std::to_string(::getpid()) + ".batch";
  FILE* f = std::fopen(file.c_str(), "w");
  ASSERT_TRUE(f);
  std::fputs(batch.c_str(), f);
  std::fclose(f);
  sh("ip -batch " + file);
  std::remove(file.c_str());
  ASSERT_TRUE(run_until([&] {
    size_t n = 0;
    for (const auto& [k, r] : src.table().routes()) n += r.protocol == routes::kProtoBird;
    return n == 3000;
  }));
  EXPECT_GT(src.overruns(), 0u);
  EXPECT_GE(src.dumps(), 2u);
}

TEST_F(NetnsTest, TcpAndIcmpProbes) {
  sh("ip link add eth0 type veth peer name peer0 && ip link set eth0 up");
  sh("ip addr add 192.168.77.10/24 dev eth0");
  connectivity::AsioProbeTransport t(io_, clock_);
  boost::asio::ip::tcp::acceptor acceptor(
      io_, boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  const int port = acceptor.local_endpoint().port();
  std::optional<connectivity::ProbeOutcome> ok, refused, timeout, ping, unreachable;
  t.tcp_connect("127.0.0.1", port, 2s, [&](auto o) { ok = o; });
  t.tcp_connect("127.0.0.1", 1, 2s, [&](auto o) { refused = o; });
  // The peer end is down: the SYN waits for ARP forever, so the probe's deadline ends it.
  t.tcp_connect("192.168.77.99", 80, 300ms, [&](auto o) { timeout = o; });
  t.tcp_connect("10.99.0.1", 80, 2s, [&](auto o) { unreachable = o; });
  t.ping("127.0.0.1", 2s, [&](auto o) { ping = o; });
  ASSERT_TRUE(run_until([&] { return ok && refused && timeout && ping && unreachable; }));
  EXPECT_TRUE(ok->ok) << ok->detail;
  EXPECT_EQ(refused->failure, "refused") << refused->detail;
  EXPECT_EQ(timeout->failure, "timeout") << timeout->detail;
  EXPECT_EQ(unreachable->failure, "unreachable") << unreachable->detail;
  EXPECT_TRUE(ping->ok) << ping->detail;
  EXPECT_GT(ok->elapsed.count(), 0);
}

}  // namespace
}  // namespace ng::probes
