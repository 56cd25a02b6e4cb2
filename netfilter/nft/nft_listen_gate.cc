#include "netfilter/nft/nft_listen_gate.h"

#include <utility>

#include "netfilter/nft/nft_netlink.h"

namespace ng::netfilter {

NftListenGate::NftListenGate() : k_{ngnft_monitor_listen, ngnft_get_genid} {}

void NftListenGate::attach(int fd, std::function<void()> on_lost, std::function<void()> on_deaf) {
  std::lock_guard lock(mu_);
  fd_ = fd;
  on_lost_ = std::move(on_lost);
  on_deaf_ = std::move(on_deaf);
  // A monitor (re)attached during a pause starts subscribed; the last resume joins again, which
  // is harmless. Its generation baseline is unknown: report lost at the end to be safe.
  if (pauses_ > 0) unsure_ = true;
}

void NftListenGate::detach() {
  std::lock_guard lock(mu_);
  fd_ = -1;
  on_lost_ = nullptr;
  on_deaf_ = nullptr;
}

bool NftListenGate::pause(ngnft_sock* s) {
  std::lock_guard lock(mu_);
  if (fd_ < 0 || !s) return false;
  if (pauses_ == 0) {
    // Read the generation while still listening, then leave: a write before the read was
    // heard (its notification is already queued on the monitor socket), and every write after
    // it moves the generation past start_gen_, so resume() cannot miss it. (Leaving first
    // would leave a window in which a write is neither heard nor counted.)
    std::uint32_t gen = 0;
    if (k_.genid(s, &gen) < 0) return false;
    if (k_.listen(fd_, 0) < 0) return false;
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
    lost = heard ? on_deaf_ : on_lost_;
  }
  if (lost) lost();
}

bool NftListenGate::paused() const {
  std::lock_guard lock(mu_);
  return pauses_ > 0;
}

}  // namespace ng::netfilter
