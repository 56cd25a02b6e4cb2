#include "netfilter/nft/nft_listen_gate.h"

#include <utility>

#include "netfilter/nft/nft_netlink.h"

namespace ng::netfilter {

NftListenGate::NftListenGate() : k_{ngnft_monitor_listen, ngnft_get_genid} {}

void NftListenGate::attach(int fd, std::function<void()> on_lost) {
  std::lock_guard lock(mu_);
  fd_ = fd;
  on_lost_ = std::move(on_lost);
  // A monitor (re)attached during a pause starts subscribed; the last resume joins again, which
  // is harmless. Its generation baseline is unknown: report lost at the end to be safe.
  if (pauses_ > 0) unsure_ = true;
}

void NftListenGate::detach() {
  std::lock_guard lock(mu_);
  fd_ = -1;
  on_lost_ = nullptr;
}

bool NftListenGate::pause(ngnft_sock* s) {
  std::lock_guard lock(mu_);
  if (fd_ < 0 || !s) return false;
  if (pauses_ == 0) {
    if (k_.listen(fd_, 0) < 0) return false;
    // Read after leaving the group: every later write either shows in the generation or was
    // heard before we left.
    std::uint32_t gen = 0;
    if (k_.genid(s, &gen) < 0) {
      (void)k_.listen(fd_, 1);
      return false;
    }
    start_gen_ = gen;
    ours_ = 0;
    unsure_ = false;
  }
  ++pauses_;
  return true;
}

void NftListenGate::resume(ngnft_sock* s, bool committed) {
  std::function<void()> lost;
  {
    std::lock_guard lock(mu_);
    if (pauses_ == 0) return;
    if (committed) ++ours_;
    if (--pauses_ > 0) return;
    if (fd_ < 0) return;  // the monitor stopped meanwhile
    bool heard = k_.listen(fd_, 1) == 0;
    std::uint32_t gen = 0;
    heard = heard && !unsure_ && k_.genid(s, &gen) == 0 && gen == start_gen_ + ours_;
    if (!heard) lost = on_lost_;
  }
  if (lost) lost();
}

bool NftListenGate::paused() const {
  std::lock_guard lock(mu_);
  return pauses_ > 0;
}

}  // namespace ng::netfilter
