// Route benchmarks (issue 6):
//   1. classification time for N peer blocks (default 5,000) over a synthetic route table;
//   2. netlink-event-to-verdict latency: inside a fresh network namespace (unshare, root), a
//      real NetlinkRouteSource + RouteChecker on an io_context thread, while this thread
//      replaces a peer block's route through libnl and waits for the new verdict.
// Prints percentiles. Usage: ng_route_bench [--blocks N] [--runs N] [--changes N]
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <prometheus/registry.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

extern "C" {
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
}

#include "core/asio_clock.h"
#include "core/env_error_reporter.h"
#include "core/executor.h"
#include "probes/routes/netlink_route_source.h"
#include "probes/routes/route_checker.h"
#include "probes/routes/route_classifier.h"

namespace {

using namespace ng::probes::routes;
using Clock = std::chrono::steady_clock;

struct Stats {
  std::vector<double> ms;
  void print(const char* what) {
    std::sort(ms.begin(), ms.end());
    auto pct = [this](double p) {
      return ms[std::min(ms.size() - 1, static_cast<size_t>(p * static_cast<double>(ms.size())))];
    };
    std::printf("%-44s n=%-5zu p50=%8.3f ms  p90=%8.3f ms  p99=%8.3f ms  max=%8.3f ms\n", what,
                ms.size(), pct(0.50), pct(0.90), pct(0.99), ms.back());
  }
};

IpAddress v4(std::uint32_t x) {
  return IpAddress::v4(x);
}

// A node with N peer blocks: a quarter each same-subnet direct, IPIP, VXLAN, and the seed's
// via-gateway failure; 4 blocks per peer, plus the node's own blackholed block.
void synthetic(int blocks, RouteTable& t, std::vector<Peer>& peers) {
  t.upsert_link({1, "eth0", "", true, true});
  t.upsert_link({2, "tunl0", "ipip", true, true});
  t.upsert_link({3, "vxlan.calico", "vxlan", true, true});
  t.add_address({1, v4(0x0a000001), 16});  // 10.0.0.1/16
  Route def;
  def.dst = IpPrefix::of(v4(0), 0);
  def.nexthops.push_back({v4(0x0a0000fe), 1, false});
  t.upsert_route(def);
  const int n_peers = (blocks + 3) / 4;
  int made = 0;
  for (int p = 0; p < n_peers; ++p) {
    Peer peer;
    const int shape = p % 4;
    // same subnet 10.0.x.y for shapes 0; other subnets 10.1.x.y for the rest
    peer.node_ip = v4((shape == 0 ? 0x0a000000u : 0x0a010000u) + 2 + static_cast<std::uint32_t>(p));
    peer.name = peer.node_ip.to_string();
    peer.encapsulation = shape == 0   ? Encapsulation::kNone
                         : shape == 1 ? Encapsulation::kIpipCrossSubnet
                         : shape == 2 ? Encapsulation::kVxlanCrossSubnet
                                      : Encapsulation::kNone;
    if (shape == 2) peer.tunnel_address = v4(0x64400000u + static_cast<std::uint32_t>(p));
    for (int b = 0; b < 4 && made < blocks; ++b, ++made) {
      // 100.64.0.0/10 carved in /26 blocks
      IpPrefix block = IpPrefix::of(v4(0x64400000u + static_cast<std::uint32_t>(made) * 64), 26);
      peer.blocks.push_back(block);
      Route r;
      r.dst = block;
      r.protocol = kProtoBird;
      if (shape == 0) r.nexthops.push_back({peer.node_ip, 1, false});
      if (shape == 1) r.nexthops.push_back({peer.node_ip, 2, true});
      if (shape == 2) r.nexthops.push_back({peer.tunnel_address, 3, true});
      if (shape == 3) r.nexthops.push_back({v4(0x0a0000fe), 1, false});
      t.upsert_route(r);
    }
    peers.push_back(std::move(peer));
  }
  Route own;
  own.dst = IpPrefix::of(v4(0x0a640000), 26);
  own.type = RouteType::kBlackhole;
  t.upsert_route(own);
}

void bench_classify(int blocks, int runs) {
  RouteTable t;
  std::vector<Peer> peers;
  synthetic(blocks, t, peers);
  NodeFacts facts;
  ClassifierOptions opts;
  Stats s;
  size_t sink = 0;
  for (int i = 0; i < runs + 5; ++i) {
    const auto t0 = Clock::now();
    auto v = classify(t, peers, facts, opts);
    const auto t1 = Clock::now();
    sink += v.size();
    if (i >= 5) s.ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
  }
  char what[96];
  std::snprintf(what, sizeof what, "classify %d peer blocks (%zu peers)", blocks, peers.size());
  s.print(what);
  if (sink == 0) std::puts("(no verdicts?)");
}

class NullSink final : public ng::core::HealthSink {
 public:
  void set_condition(const ng::core::ConditionReport&) override {}
  void record_event(ng::core::HealthEvent) override {}
};

int sh(const std::string& cmd) {
  return std::system(cmd.c_str());
}

int bench_event_to_verdict(int blocks, int changes) {
  if (::geteuid() != 0) {
    std::puts("event-to-verdict: skipped (needs root for a private network namespace)");
    return 0;
  }
  if (::unshare(CLONE_NEWNET) != 0) {
    std::perror("unshare(CLONE_NEWNET)");
    return 1;
  }
  if (sh("ip link set lo up && ip link add eth0 type veth peer name peer0 && "
         "ip link set eth0 up && ip link set peer0 up && ip addr add 10.0.0.1/16 dev eth0 && "
         "ip link add tunl0 type veth peer name tunl0p && ip link set tunl0 up && "
         "ip link set tunl0p up && ip route add default via 10.0.255.254") != 0) {
    std::puts("event-to-verdict: cannot build the namespace");
    return 1;
  }
  // The same N peer blocks as kernel routes (same-subnet direct), so every event re-classifies
  // a realistic table.
  std::vector<Peer> peers;
  {
    std::string batch;
    RouteTable ignored;
    synthetic(blocks, ignored, peers);
    for (auto& p : peers) {
      p.node_ip = v4(0x0a000000u + 2 + static_cast<std::uint32_t>(&p - &peers[0]));
      p.encapsulation = Encapsulation::kNone;
      p.tunnel_address.reset();
      for (const auto& b : p.blocks) {
        batch += "route add " + b.to_string() + " via " + p.node_ip.to_string() +
                 " dev eth0 proto bird\n";
      }
    }
    FILE* f = std::fopen("/tmp/ng-route-bench.batch", "w");
    std::fputs(batch.c_str(), f);
    std::fclose(f);
    if (sh("ip -batch /tmp/ng-route-bench.batch") != 0) return 1;
    std::remove("/tmp/ng-route-bench.batch");
  }
  // The block under test: owned by a peer in another subnet, expected IPIP CrossSubnet.
  Peer target;
  target.name = "far";
  target.node_ip = v4(0x0a630002);  // 10.99.0.2
  target.encapsulation = Encapsulation::kIpipCrossSubnet;
  const IpPrefix block = IpPrefix::of(v4(0xac100000), 26);  // 172.16.0.0/26
  target.blocks = {block};

  boost::asio::io_context io;
  auto work = boost::asio::make_work_guard(io);
  ng::core::AsioClock clock(io);
  ng::core::IoContextExecutor loop(io);
  prometheus::Registry registry;
  NullSink sink;
  ng::core::EnvErrorReporter env(registry, ng::core::Logger::discard());
  RoutesConfig config;
  for (const auto& p : peers) {
    PeerSpec s;
    s.name = p.name;
    s.node_ip = p.node_ip.to_string();
    for (const auto& b : p.blocks) s.blocks.push_back(b.to_string());
    config.peers.push_back(std::move(s));
  }
  config.peers.push_back({"far", "10.99.0.2", {block.to_string()}, "", "ipip-crosssubnet"});
  config.recheck_interval = std::chrono::hours(1);
  RouteChecker checker(
      config, std::make_unique<NetlinkRouteSource>(io, ng::core::Logger::discard()),
      RouteChecker::Deps{clock, loop, sink, env, registry, ng::core::Logger::discard()});
  std::mutex mu;
  std::condition_variable cv;
  VerdictKind want = VerdictKind::kHealthy;
  bool seen = false;
  Clock::time_point t_verdict{};
  checker.set_on_checked([&] {
    for (const auto& v : checker.verdicts()) {
      if (v.block != block) continue;
      std::lock_guard l(mu);
      if (v.kind == want && !seen) {
        seen = true;
        t_verdict = Clock::now();
        cv.notify_all();
      }
    }
  });
  std::thread loop_thread([&] {
    checker.start();
    io.run();
  });

  nl_sock* sock = nl_socket_alloc();
  nl_connect(sock, NETLINK_ROUTE);
  int eth0 = 0;
  int tunl0 = 0;
  {
    rtnl_link* l = nullptr;
    rtnl_link_get_kernel(sock, 0, "eth0", &l);
    eth0 = rtnl_link_get_ifindex(l);
    rtnl_link_put(l);
    rtnl_link_get_kernel(sock, 0, "tunl0", &l);
    tunl0 = rtnl_link_get_ifindex(l);
    rtnl_link_put(l);
  }
  auto replace = [&](bool via_gateway) {
    rtnl_route* r = rtnl_route_alloc();
    nl_addr* dst = nullptr;
    nl_addr_parse(block.to_string().c_str(), AF_INET, &dst);
    rtnl_route_set_dst(r, dst);
    rtnl_route_set_protocol(r, kProtoBird);
    rtnl_route_set_table(r, RT_TABLE_MAIN);
    rtnl_nexthop* nh = rtnl_route_nh_alloc();
    nl_addr* gw = nullptr;
    nl_addr_parse(via_gateway ? "10.0.255.254" : "10.99.0.2", AF_INET, &gw);
    rtnl_route_nh_set_gateway(nh, gw);
    rtnl_route_nh_set_ifindex(nh, via_gateway ? eth0 : tunl0);
    if (!via_gateway) rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
    rtnl_route_add_nexthop(r, nh);
    const int err = rtnl_route_add(sock, r, NLM_F_REPLACE | NLM_F_CREATE);
    nl_addr_put(gw);
    nl_addr_put(dst);
    rtnl_route_put(r);
    return err;
  };
  // Wait for the first full dump and check.
  {
    const auto deadline = Clock::now() + std::chrono::seconds(30);
    while (checker.checks() == 0 && Clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  Stats s;
  for (int i = 0; i < changes + 3; ++i) {
    const bool to_gateway = i % 2 == 0;
    {
      std::lock_guard l(mu);
      want = to_gateway ? VerdictKind::kPodRouteViaGateway : VerdictKind::kHealthy;
      seen = false;
    }
    const auto t0 = Clock::now();
    if (int err = replace(to_gateway); err < 0) {
      std::printf("route replace failed: %s\n", nl_geterror(err));
      break;
    }
    std::unique_lock l(mu);
    if (!cv.wait_for(l, std::chrono::seconds(10), [&] { return seen; })) {
      std::puts("verdict never arrived");
      break;
    }
    if (i >= 3) s.ms.push_back(std::chrono::duration<double, std::milli>(t_verdict - t0).count());
    l.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  nl_socket_free(sock);
  boost::asio::post(io, [&] {
    checker.stop();
    work.reset();
    io.stop();
  });
  loop_thread.join();
  if (!s.ms.empty()) {
    char what[96];
    std::snprintf(what, sizeof what, "netlink event -> verdict (%d blocks in table)", blocks + 1);
    s.print(what);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int blocks = 5000;
  int runs = 200;
  int changes = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--blocks")) blocks = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--runs")) runs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--changes")) changes = std::atoi(argv[i + 1]);
  }
  if (argc > 1 && (std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help")) {
    std::puts("usage: ng_route_bench [--blocks 5000] [--runs 200] [--changes 100]");
    return 0;
  }
  bench_classify(blocks, runs);
  return bench_event_to_verdict(blocks, changes);
}
