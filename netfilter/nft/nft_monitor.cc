#include "netfilter/nft/nft_monitor.h"

#include <cerrno>
#include <set>
#include <utility>

#include <linux/netfilter/nf_tables.h>
#include <boost/asio/post.hpp>

#include "netfilter/nft/nft_netlink.h"

namespace ng::netfilter {

namespace {
struct Batch {
  NftMonitor* monitor;
  std::set<std::pair<int, std::string>> tables;
};
void collect(void* ctx, const ngnft_change* c) {
  auto* b = static_cast<Batch*>(ctx);
  b->monitor->on_message(c->msg, c->nfproto, c->table, c->genid, c->proc_pid, c->proc_name);
  if (!c->table || (c->family != 4 && c->family != 6)) return;
  b->tables.emplace(c->family, c->table);
}
int nfproto_of(Family f) {
  return f == Family::kIPv4 ? 2 : 10;  // NFPROTO_IPV4, NFPROTO_IPV6
}
}  // namespace

void NftMonitor::on_message(int msg, int nfproto, const char* table, std::uint32_t genid,
                            std::uint32_t pid, const char* comm) {
  if (msg != NFT_MSG_NEWGEN) {
    if (!table) return;
    NftTableRef ref{nfproto, table};
    auto it = pending_.find(ref);
    if (it == pending_.end()) {
      if (pending_.size() >= NftGeneration::kMaxTables) {
        pending_truncated_ = true;
        return;
      }
      it = pending_.emplace(std::move(ref), 0).first;
    }
    if (msg >= 0 && msg < 64) it->second |= std::uint64_t{1} << msg;
    return;
  }
  ChangeWriter w;
  w.genid = genid;
  w.pid = pid;
  if (comm) w.comm = std::string(comm).substr(0, 64);
  if (resolve_ && w.pid != 0) resolve_(w);
  end_generation(std::move(w));
}

void NftMonitor::end_generation(ChangeWriter writer) {
  NftGeneration g;
  g.writer = std::move(writer);
  g.truncated = pending_truncated_;
  g.tables.reserve(pending_.size());
  const std::uint64_t age = ++generations_heard_;
  for (auto& [ref, msgs] : pending_) {
    writers_[ref] = {age, g.writer};
    g.tables.push_back({ref, msgs});
  }
  pending_.clear();
  pending_truncated_ = false;
  // Bounded: forget the tables written longest ago.
  while (writers_.size() > kMaxRemembered) {
    auto oldest = writers_.begin();
    for (auto it = writers_.begin(); it != writers_.end(); ++it) {
      if (it->second.first < oldest->second.first) oldest = it;
    }
    writers_.erase(oldest);
  }
  if (on_generation_) on_generation_(g);
}

std::optional<ChangeWriter> NftMonitor::last_writer(const NftTableRef& table) const {
  auto it = writers_.find(table);
  if (it == writers_.end()) return std::nullopt;
  return it->second.second;
}

std::optional<ChangeWriter> NftMonitor::last_writer(Family family, const std::string& table) const {
  return last_writer(NftTableRef{nfproto_of(family), table});
}

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
  if (hold_timer_) hold_timer_->cancel();
  hold_armed_ = false;
  held_.clear();
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
                    Batch batch{this, {}};
                    const int rc = ngnft_monitor_drain(sd_->native_handle(), collect, &batch);
                    held_.insert(batch.tables.begin(), batch.tables.end());
                    if (rc == -ENOBUFS) {
                      // The transaction's messages are incomplete: its NEWGEN must not name a
                      // writer for tables it did not see whole.
                      pending_.clear();
                      pending_truncated_ = false;
                    }
                    if (pending_.empty()) {
                      report_held();
                    } else {
                      hold_until_generation();
                    }
                    if (rc == -ENOBUFS) {
                      on_lost_(true);
                    } else if (rc < 0) {
                      log_.warn("nftables monitor read failed", {{"errno", -rc}});
                    }
                    arm();
                  });
}

// A big transaction's notifications arrive over several reads, its NEWGEN (and with it the
// committing process) last: the tables it touched are reported once it ended, so a check
// started by them can name the writer. Bounded wait: a NEWGEN that never comes (our own listen
// gate left the group meanwhile) holds them at most kHoldLimit.
void NftMonitor::hold_until_generation() {
  if (!hold_timer_) hold_timer_ = std::make_unique<boost::asio::steady_timer>(io_);
  if (hold_armed_) return;
  hold_armed_ = true;
  hold_timer_->expires_after(kHoldLimit);
  hold_timer_->async_wait(
      [this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& ec) {
        if (ec || alive.expired()) return;
        hold_armed_ = false;
        report_held();
      });
}

void NftMonitor::report_held() {
  if (hold_armed_ && hold_timer_) {
    hold_timer_->cancel();
    hold_armed_ = false;
  }
  auto tables = std::move(held_);
  held_.clear();
  for (const auto& [family, table] : tables) {
    on_change_(family == 4 ? Family::kIPv4 : Family::kIPv6, table);
  }
}

}  // namespace ng::netfilter
