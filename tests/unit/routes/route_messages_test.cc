#include "probes/routes/route_messages.h"

#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include <gtest/gtest.h>

namespace ng::probes::routes {
namespace {

// Builds rtnetlink messages byte by byte, as the kernel lays them out.
class Msg {
 public:
  Msg(std::uint16_t type, const void* family_header, size_t size) {
    nlmsghdr h{};
    h.nlmsg_type = type;
    append(&h, sizeof h);
    append(family_header, size);
  }
  Msg& attr(std::uint16_t type, const void* data, size_t size) {
    rtattr a{};
    a.rta_type = type;
    a.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    append(&a, sizeof a);
    append(data, size);
    return *this;
  }
  Msg& u32(std::uint16_t type, std::uint32_t v) { return attr(type, &v, sizeof v); }
  std::vector<std::uint8_t> bytes() const {
    auto b = b_;
    nlmsghdr h;
    std::memcpy(&h, b.data(), sizeof h);
    h.nlmsg_len = static_cast<std::uint32_t>(b.size());
    std::memcpy(b.data(), &h, sizeof h);
    return b;
  }

 private:
  void append(const void* p, size_t n) {
    const auto* c = static_cast<const std::uint8_t*>(p);
    b_.insert(b_.end(), c, c + n);
    b_.resize(NLMSG_ALIGN(b_.size()));
  }
  std::vector<std::uint8_t> b_;
};

std::vector<std::uint8_t> route(std::uint16_t type, const char* dst, int len, const char* gw,
                                std::uint8_t proto = 12) {
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  rt.rtm_dst_len = static_cast<unsigned char>(len);
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = proto;
  rt.rtm_type = RTN_UNICAST;
  Msg m(type, &rt, sizeof rt);
  std::uint8_t d[4], g[4];
  inet_pton(AF_INET, dst, d);
  inet_pton(AF_INET, gw, g);
  m.attr(RTA_DST, d, 4).attr(RTA_GATEWAY, g, 4).u32(RTA_OIF, 2).u32(RTA_TABLE, RT_TABLE_MAIN);
  return m.bytes();
}

std::vector<std::uint8_t> concat(std::initializer_list<std::vector<std::uint8_t>> parts) {
  std::vector<std::uint8_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(RouteMessages, NewRouteIsApplied) {
  RouteTable t;
  auto bytes = route(RTM_NEWROUTE, "10.244.2.0", 26, "192.168.1.11");
  const auto w = apply_route_messages(bytes, t);
  EXPECT_EQ(w.messages, 1u);
  EXPECT_EQ(w.applied, 1u);
  ASSERT_EQ(t.routes().size(), 1u);
  const Route& r = t.routes().begin()->second;
  EXPECT_EQ(r.dst.to_string(), "10.244.2.0/26");
  EXPECT_EQ(r.protocol, 12);
  ASSERT_EQ(r.nexthops.size(), 1u);
  EXPECT_EQ(r.nexthops[0].gateway->to_string(), "192.168.1.11");
  EXPECT_EQ(r.nexthops[0].ifindex, 2);
}

// A multipath nexthop whose rtnh_len is shorter than its header sends libnl 3.7's parser into an
// endless loop (found by the route_messages fuzzer): the message is refused, the next one
// still applies.
TEST(RouteMessages, MultipathNexthopShorterThanItsHeaderIsRefused) {
  RouteTable t;
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  rt.rtm_dst_len = 26;
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_type = RTN_UNICAST;
  Msg m(RTM_NEWROUTE, &rt, sizeof rt);
  std::uint8_t d[4];
  inet_pton(AF_INET, "10.244.3.0", d);
  rtnexthop nh[2]{};  // both with rtnh_len 0
  m.attr(RTA_DST, d, 4).attr(RTA_MULTIPATH, nh, sizeof nh);
  auto bytes = concat({m.bytes(), route(RTM_NEWROUTE, "10.244.2.0", 26, "192.168.1.11")});
  const auto w = apply_route_messages(bytes, t);
  EXPECT_EQ(w.messages, 2u);
  EXPECT_EQ(w.applied, 1u);
  ASSERT_EQ(t.routes().size(), 1u);
  EXPECT_EQ(t.routes().begin()->second.dst.to_string(), "10.244.2.0/26");
}

// A last message whose length is not a multiple of 4 takes NLMSG_NEXT's remaining length below
// zero; the walk must stop there, not read past the buffer (found by the fuzzer; ASan run).
TEST(RouteMessages, UnalignedLastMessageEndsTheWalk) {
  RouteTable t;
  std::vector<std::uint8_t> bytes(33, 0);
  nlmsghdr h{};
  h.nlmsg_len = 33;
  h.nlmsg_type = 0x202;  // no type we read
  std::memcpy(bytes.data(), &h, sizeof h);
  const auto w = apply_route_messages(bytes, t);
  EXPECT_EQ(w.messages, 1u);
  EXPECT_EQ(w.applied, 0u);
}

TEST(RouteMessages, DelRouteRemovesAndDoneIsSeen) {
  RouteTable t;
  nlmsghdr done{};
  done.nlmsg_type = NLMSG_DONE;
  done.nlmsg_len = NLMSG_LENGTH(sizeof(int));
  std::vector<std::uint8_t> d(NLMSG_ALIGN(done.nlmsg_len), 0);
  std::memcpy(d.data(), &done, sizeof done);
  auto bytes = concat({route(RTM_NEWROUTE, "10.244.2.0", 26, "192.168.1.11"),
                       route(RTM_DELROUTE, "10.244.2.0", 26, "192.168.1.11"), d});
  const auto w = apply_route_messages(bytes, t);
  EXPECT_EQ(w.messages, 3u);
  EXPECT_TRUE(w.done);
  EXPECT_TRUE(t.routes().empty());
}

// Found by tests/fuzz/route_messages_fuzzer.cc's kind of input: an IPv4 route whose prefix
// length is wider than 32 bits must not reach IpPrefix (it indexes bytes by the length).
TEST(RouteMessages, PrefixLengthWiderThanTheFamilyIsIgnored) {
  RouteTable t;
  auto bytes = route(RTM_NEWROUTE, "10.244.2.0", 200, "192.168.1.11");
  const auto w = apply_route_messages(bytes, t);
  EXPECT_EQ(w.messages, 1u);
  EXPECT_EQ(w.applied, 0u);
  EXPECT_TRUE(t.routes().empty());
}

TEST(RouteMessages, NewsTooShortForItsHeaderIsIgnored) {
  for (std::uint16_t type : {RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_NEWROUTE}) {
    RouteTable t;
    nlmsghdr h{};
    h.nlmsg_type = type;
    h.nlmsg_len = sizeof h;  // no ifinfomsg / ifaddrmsg / rtmsg after it
    std::vector<std::uint8_t> b(sizeof h);
    std::memcpy(b.data(), &h, sizeof h);
    const auto w = apply_route_messages(b, t);
    EXPECT_EQ(w.messages, 1u) << type;
    EXPECT_EQ(w.applied, 0u) << type;
  }
}

TEST(RouteMessages, TruncatedBufferStopsAtTheLastWholeMessage) {
  RouteTable t;
  auto one = route(RTM_NEWROUTE, "10.244.2.0", 26, "192.168.1.11");
  auto two = route(RTM_NEWROUTE, "10.244.3.0", 26, "192.168.1.1");
  auto bytes = concat({one, two});
  bytes.resize(one.size() + two.size() / 2);  // the second message cut in half
  const auto w = apply_route_messages(bytes, t);
  EXPECT_EQ(w.messages, 1u);
  EXPECT_EQ(t.routes().size(), 1u);
}

TEST(RouteMessages, GarbageIsHarmless) {
  RouteTable t;
  std::vector<std::uint8_t> junk = {0xff, 0xff, 0xff, 0xff, 0x10, 0x00, 0x00, 0x00, 1, 2, 3};
  EXPECT_EQ(apply_route_messages(junk, t).messages, 0u);
  EXPECT_EQ(apply_route_messages({}, t).messages, 0u);
}

}  // namespace
}  // namespace ng::probes::routes
