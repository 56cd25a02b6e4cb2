#include "probes/routes/netlink_route_source.h"

#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <boost/asio/post.hpp>

extern "C" {
#include <netlink/addr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
}

namespace ng::probes::routes {
namespace {

constexpr int kMaxReadsPerWakeup = 64;
constexpr size_t kBufferBytes = 256 * 1024;

std::optional<IpAddress> from_nl(const nl_addr* a) {
  if (!a) return std::nullopt;
  IpAddress out;
  const int fam = nl_addr_get_family(a);
  const unsigned len = nl_addr_get_len(a);
  if (fam == AF_INET) {
    out.family = Family::kV4;
    if (len != 0 && len != 4) return std::nullopt;
  } else if (fam == AF_INET6) {
    out.family = Family::kV6;
    if (len != 0 && len != 16) return std::nullopt;
  } else {
    return std::nullopt;
  }
  if (len) std::memcpy(out.bytes.data(), nl_addr_get_binary_addr(a), len);
  return out;
}

RouteType route_type(std::uint8_t t) {
  switch (t) {
    case RTN_UNICAST:
      return RouteType::kUnicast;
    case RTN_LOCAL:
      return RouteType::kLocal;
    case RTN_BROADCAST:
    case RTN_ANYCAST:
    case RTN_MULTICAST:
      return RouteType::kBroadcast;
    case RTN_BLACKHOLE:
      return RouteType::kBlackhole;
    case RTN_UNREACHABLE:
      return RouteType::kUnreachable;
    case RTN_PROHIBIT:
      return RouteType::kProhibit;
    default:
      return RouteType::kOther;
  }
}

std::optional<Route> convert_route(rtnl_route* r) {
  const int fam = rtnl_route_get_family(r);
  if (fam != AF_INET && fam != AF_INET6) return std::nullopt;
  Route out;
  nl_addr* dst = rtnl_route_get_dst(r);
  IpAddress addr;
  addr.family = fam == AF_INET ? Family::kV4 : Family::kV6;
  int len = 0;
  if (dst) {
    auto a = from_nl(dst);
    if (!a) return std::nullopt;
    if (nl_addr_get_len(dst)) addr = *a;
    len = static_cast<int>(nl_addr_get_prefixlen(dst));
  }
  out.dst = IpPrefix::of(addr, len);
  out.table = rtnl_route_get_table(r);
  out.protocol = rtnl_route_get_protocol(r);
  out.type = route_type(rtnl_route_get_type(r));
  out.metric = rtnl_route_get_priority(r);
  out.tos = rtnl_route_get_tos(r);
  const bool route_onlink = rtnl_route_get_flags(r) & RTNH_F_ONLINK;
  const int n = rtnl_route_get_nnexthops(r);
  for (int i = 0; i < n; ++i) {
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r, i);
    if (!nh) continue;
    NextHop h;
    h.ifindex = rtnl_route_nh_get_ifindex(nh);
    h.gateway = from_nl(rtnl_route_nh_get_gateway(nh));
    h.onlink = route_onlink || (rtnl_route_nh_get_flags(nh) & RTNH_F_ONLINK);
    out.nexthops.push_back(h);
  }
  return out;
}

struct ParseResult {
  bool changed = false;
  bool remove = false;
  RouteTable* table = nullptr;
};

void on_object(nl_object* obj, void* arg) {
  auto* ctx = static_cast<ParseResult*>(arg);
  const std::string type = nl_object_get_type(obj);
  if (type == "route/link") {
    auto* l = reinterpret_cast<rtnl_link*>(obj);
    const int index = rtnl_link_get_ifindex(l);
    if (ctx->remove) {
      ctx->table->remove_link(index);
    } else {
      Link link;
      link.index = index;
      if (const char* name = rtnl_link_get_name(l)) link.name = name;
      if (const char* kind = rtnl_link_get_type(l)) link.kind = kind;
      link.admin_up = rtnl_link_get_flags(l) & IFF_UP;
      const auto oper = rtnl_link_get_operstate(l);
      link.carrier =
          oper != IF_OPER_DOWN && oper != IF_OPER_LOWERLAYERDOWN && oper != IF_OPER_NOTPRESENT;
      ctx->table->upsert_link(std::move(link));
    }
    ctx->changed = true;
  } else if (type == "route/addr") {
    auto* a = reinterpret_cast<rtnl_addr*>(obj);
    auto local = from_nl(rtnl_addr_get_local(a));
    if (!local) return;
    Address addr{rtnl_addr_get_ifindex(a), *local, rtnl_addr_get_prefixlen(a)};
    if (ctx->remove) {
      ctx->table->remove_address(addr);
    } else {
      ctx->table->add_address(addr);
    }
    ctx->changed = true;
  }
}

}  // namespace

NetlinkRouteSource::NetlinkRouteSource(boost::asio::io_context& io, core::Logger log,
                                       prometheus::Registry* metrics)
    : io_(io), log_(std::move(log)), buf_(kBufferBytes) {
  if (metrics) {
    messages_ = &prometheus::BuildCounter()
                     .Name("nodeguard_route_netlink_messages_total")
                     .Help("Netlink link/address/route messages read by the route view")
                     .Register(*metrics)
                     .Add({});
    resyncs_ = &prometheus::BuildCounter()
                    .Name("nodeguard_route_resyncs_total")
                    .Help(
                        "Full re-dumps of links, addresses and routes, by reason (start, "
                        "overrun, interrupted, periodic)")
                    .Register(*metrics);
  }
}

NetlinkRouteSource::~NetlinkRouteSource() {
  stop();
}

core::Status NetlinkRouteSource::start(Callbacks callbacks) {
  cb_ = std::move(callbacks);
  sock_ = nl_socket_alloc();
  if (!sock_) return core::EnvError{core::EnvErrorKind::kResourceLimit, "nl_socket_alloc failed"};
  nl_socket_disable_seq_check(sock_);
  nl_socket_disable_auto_ack(sock_);
  if (int err = nl_connect(sock_, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sock_);
    sock_ = nullptr;
    return core::EnvError{core::EnvErrorKind::kUnavailable,
                          std::string("netlink route socket: ") + nl_geterror(err)};
  }
  if (int err =
          nl_socket_add_memberships(sock_, RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR,
                                    RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, 0);
      err < 0) {
    nl_socket_free(sock_);
    sock_ = nullptr;
    return core::EnvError{core::EnvErrorKind::kPermission,
                          std::string("netlink route groups: ") + nl_geterror(err)};
  }
  // Big enough for a burst of thousands of route changes; overruns are handled anyway.
  nl_socket_set_buffer_size(sock_, 4 * 1024 * 1024, 0);
  nl_socket_set_nonblocking(sock_);
  fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, nl_socket_get_fd(sock_));
  begin_dump("start");
  arm();
  return core::Ok{};
}

void NetlinkRouteSource::stop() {
  *alive_ = false;
  alive_ = std::make_shared<bool>(true);
  if (fd_) {
    boost::system::error_code ec;
    fd_->cancel(ec);
    fd_->release();  // libnl owns and closes the fd
    fd_.reset();
  }
  if (sock_) {
    nl_socket_free(sock_);
    sock_ = nullptr;
  }
  stage_ = Stage::kIdle;
}

void NetlinkRouteSource::resync() {
  if (!sock_) return;
  if (stage_ != Stage::kIdle) {
    dump_dirty_ = true;
    return;
  }
  begin_dump("periodic");
}

void NetlinkRouteSource::set_receive_buffer(int bytes) {
  if (!sock_) return;
  const int fd = nl_socket_get_fd(sock_);
  // SO_RCVBUFFORCE ignores rmem_max (we are root in tests); fall back to the capped one.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
}

void NetlinkRouteSource::begin_dump(const char* reason) {
  ++dumps_;
  if (resyncs_) resyncs_->Add({{"reason", reason}}).Increment();
  log_.debug("route view: full dump", {{"reason", reason}});
  building_.clear();
  dump_dirty_ = false;
  stage_ = Stage::kLinks;
  request(RTM_GETLINK);
}

void NetlinkRouteSource::request(int type) {
  nl_msg* m = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_DUMP);
  rtgenmsg g{};
  g.rtgen_family = AF_UNSPEC;
  nlmsg_append(m, &g, sizeof g, NLMSG_ALIGNTO);
  nlmsg_hdr(m)->nlmsg_seq = ++seq_;
  const int err = nl_send_auto(sock_, m);
  nlmsg_free(m);
  if (err < 0) {
    fail({core::EnvErrorKind::kIo, std::string("netlink dump request: ") + nl_geterror(err)});
  }
}

void NetlinkRouteSource::next_stage() {
  switch (stage_) {
    case Stage::kLinks:
      stage_ = Stage::kAddresses;
      request(RTM_GETADDR);
      return;
    case Stage::kAddresses:
      stage_ = Stage::kRoutes;
      request(RTM_GETROUTE);
      return;
    case Stage::kRoutes:
      current_ = std::move(building_);
      building_.clear();
      stage_ = Stage::kIdle;
      synced_ = true;
      if (cb_.health) cb_.health(nullptr);
      if (cb_.changed) cb_.changed();
      if (dump_dirty_) begin_dump("interrupted");
      return;
    case Stage::kIdle:
      return;
  }
}

void NetlinkRouteSource::arm() {
  if (!fd_) return;
  fd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                  [this, alive = alive_](const boost::system::error_code& ec) {
                    if (!*alive || ec) return;
                    on_readable();
                  });
}

void NetlinkRouteSource::fail(const core::EnvError& e) {
  log_.warn("route view: netlink error", {{"error", e.message}});
  if (cb_.health) cb_.health(&e);
}

void NetlinkRouteSource::on_readable() {
  const int fd = nl_socket_get_fd(sock_);
  bool changed = false;
  for (int i = 0; i < kMaxReadsPerWakeup && sock_; ++i) {
    const ssize_t n = ::recv(fd, buf_.data(), buf_.size(), MSG_DONTWAIT | MSG_TRUNC);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == ENOBUFS) {
        // The kernel dropped events: the view can no longer be trusted. Re-read it whole.
        ++overruns_;
        log_.info("route view: netlink overrun; re-reading links, addresses and routes");
        if (stage_ == Stage::kIdle) {
          begin_dump("overrun");
        } else {
          dump_dirty_ = true;
        }
        continue;
      }
      fail(core::EnvError::from_errno(errno, "netlink recv"));
      break;
    }
    if (static_cast<size_t>(n) > buf_.size()) {
      // Truncated: grow and treat as an overrun (the message is lost).
      buf_.resize(static_cast<size_t>(n) * 2);
      ++overruns_;
      if (stage_ == Stage::kIdle) {
        begin_dump("overrun");
      } else {
        dump_dirty_ = true;
      }
      continue;
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf_.data());
         NLMSG_OK(h, static_cast<unsigned>(len)); h = NLMSG_NEXT(h, len)) {
      if (messages_) messages_->Increment();
      if (h->nlmsg_flags & NLM_F_DUMP_INTR) dump_dirty_ = true;
      if (h->nlmsg_type == NLMSG_DONE) {
        next_stage();
        continue;
      }
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        if (e->error != 0 && stage_ != Stage::kIdle) {
          if (e->error == -EBUSY || e->error == -EINTR || e->error == -EAGAIN) {
            // Another dump was running or the dump was interrupted: start over.
            log_.info("route view: dump failed; retrying", {{"errno", -e->error}});
            begin_dump("interrupted");
          } else {
            stage_ = Stage::kIdle;
            fail(core::EnvError::from_errno(-e->error, "netlink dump"));
          }
        }
        continue;
      }
      if (handle(h) && stage_ == Stage::kIdle) changed = true;
    }
  }
  if (changed && cb_.changed) cb_.changed();
  arm();
}

bool NetlinkRouteSource::handle(const nlmsghdr* h) {
  switch (h->nlmsg_type) {
    case RTM_NEWROUTE:
    case RTM_DELROUTE: {
      rtnl_route* r = nullptr;
      if (rtnl_route_parse(const_cast<nlmsghdr*>(h), &r) < 0 || !r) return false;
      auto route = convert_route(r);
      rtnl_route_put(r);
      if (!route) return false;
      if (h->nlmsg_type == RTM_NEWROUTE) {
        target().upsert_route(std::move(*route));
      } else {
        target().remove_route(RouteKey::of(*route));
      }
      return true;
    }
    case RTM_NEWLINK:
    case RTM_DELLINK: {
      const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
      if (ifi->ifi_family == AF_BRIDGE) return false;  // bridge port news, not the link itself
      [[fallthrough]];
    }
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      nl_msg* m = nlmsg_convert(const_cast<nlmsghdr*>(h));
      if (!m) return false;
      nlmsg_set_proto(m, NETLINK_ROUTE);
      ParseResult ctx;
      ctx.remove = h->nlmsg_type == RTM_DELLINK || h->nlmsg_type == RTM_DELADDR;
      ctx.table = &target();
      nl_msg_parse(m, on_object, &ctx);
      nlmsg_free(m);
      return ctx.changed;
    }
    default:
      return false;
  }
}

}  // namespace ng::probes::routes
