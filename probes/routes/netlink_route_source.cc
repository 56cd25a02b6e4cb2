#include "probes/routes/netlink_route_source.h"

#include "probes/routes/route_messages.h"

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
  return apply_route_message(h, target());
}

}  // namespace ng::probes::routes
