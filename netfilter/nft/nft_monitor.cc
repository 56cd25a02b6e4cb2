#include "netfilter/nft/nft_monitor.h"

#include <cerrno>
#include <set>
#include <utility>

#include <boost/asio/post.hpp>

#include "netfilter/nft/nft_netlink.h"

namespace ng::netfilter {

namespace {
struct Batch {
  std::set<std::pair<int, std::string>> tables;
};
void collect(void* ctx, int family, const char* table, int /*msg*/) {
  if (!table || (family != 4 && family != 6)) return;
  static_cast<Batch*>(ctx)->tables.emplace(family, table);
}
}  // namespace

NftMonitor::NftMonitor(boost::asio::io_context& io, core::Logger log,
                       std::shared_ptr<NftListenGate> gate)
    : io_(io), log_(std::move(log)), gate_(std::move(gate)) {}

NftMonitor::~NftMonitor() {
  stop();
}

core::Status NftMonitor::start(OnChange on_change, OnLost on_lost) {
  on_change_ = std::move(on_change);
  on_lost_ = std::move(on_lost);
  // 8 MiB: a 50k-rule restore sends tens of megabytes; ENOBUFS beyond that is handled.
  const int fd = ngnft_monitor_open(8 << 20);
  if (fd < 0) return core::EnvError::from_errno(-fd, "nftables monitor socket");
  sd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
  alive_ = std::make_shared<bool>(true);
  if (gate_) {
    // Called on a worker after a batch of ours when someone else wrote while we were deaf.
    auto post_lost = [this, &io = io_, alive = std::weak_ptr<bool>(alive_)](bool certain) {
      boost::asio::post(io, [this, alive, certain] {
        if (!alive.expired()) on_lost_(certain);
      });
    };
    gate_->attach(
        fd, [post_lost] { post_lost(true); }, [post_lost] { post_lost(false); });
  }
  arm();
  return core::Ok{};
}

void NftMonitor::stop() {
  if (gate_) gate_->detach();
  alive_.reset();
  if (sd_) {
    boost::system::error_code ec;
    sd_->cancel(ec);
    sd_->close(ec);
    sd_.reset();
  }
}

void NftMonitor::arm() {
  sd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                  [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
                    if (ec || alive.expired()) return;
                    Batch batch;
                    const int rc = ngnft_monitor_drain(sd_->native_handle(), collect, &batch);
                    for (const auto& [family, table] : batch.tables) {
                      on_change_(family == 4 ? Family::kIPv4 : Family::kIPv6, table);
                    }
                    if (rc == -ENOBUFS) {
                      on_lost_(true);
                    } else if (rc < 0) {
                      log_.warn("nftables monitor read failed", {{"errno", -rc}});
                    }
                    arm();
                  });
}

}  // namespace ng::netfilter
