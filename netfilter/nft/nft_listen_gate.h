#pragma once

#include <cstdint>
#include <functional>
#include <mutex>

extern "C" {
struct ngnft_sock;
}

namespace ng::netfilter {

// Lets the nft backend's own repair batch go unheard by the agent's own monitor. The kernel
// builds a change notification for every rule of a transaction only when someone listens to
// NFNLGRP_NFTABLES; at 10,000 rules that is a third of the kernel's work for the batch, and the
// loop would then read (or overflow on) tens of thousands of messages about the repair it just
// made. So while a batch is sent the monitor socket leaves the group, and joins again after.
//
// Nothing written by anyone else goes unnoticed: the batch is pinned to the generation of the
// last read (a write before ours makes the kernel refuse it), and after joining again the gate
// compares the ruleset generation with the one before the pause plus our own commits. When it
// moved further, someone wrote while we were deaf: the monitor's "events lost" callback runs
// and the guard re-reads every table, as after ENOBUFS. Otherwise the guard still re-checks
// every table, quietly: a commit in flight when we left is counted in the baseline but its
// notifications come after we left (the kernel moves the generation first); found when a
// two-table flush raced a repair of its first table.
//
// Thread-safe: the monitor attaches and detaches on the loop, writers pause on workers
// (several at once: the first pause leaves the group, the last resume joins it again).
class NftListenGate {
 public:
  // The kernel calls (nft_netlink.h); unit tests pass fakes.
  struct Kernel {
    int (*listen)(int fd, int on);
    int (*genid)(ngnft_sock* s, std::uint32_t* genid);
  };
  NftListenGate();
  explicit NftListenGate(Kernel kernel) : k_(kernel) {}

  // Monitor side. The callbacks must be safe to call from any thread (they post to the loop).
  // on_lost: a write went unheard for sure. on_deaf: after every other pause, because one
  // window stays open: the kernel moves the generation before it sends a commit's
  // notifications, so a commit in flight when we leave is counted in the baseline yet never
  // heard; the guard then re-checks its tables (cheap: reads from the netlink dump).
  void attach(int fd, std::function<void()> on_lost, std::function<void()> on_deaf = nullptr);
  void detach();

  // Writer side. pause() returns false (and changes nothing) without an attached monitor or
  // when the socket or the generation request fails; resume() only after a true pause().
  bool pause(ngnft_sock* s);
  void resume(ngnft_sock* s, bool committed);

  bool paused() const;

 private:
  Kernel k_;
  mutable std::mutex mu_;
  int fd_ = -1;
  std::function<void()> on_lost_;
  std::function<void()> on_deaf_;
  int pauses_ = 0;
  std::uint32_t start_gen_ = 0;  // the generation when the first pause left the group
  std::uint32_t ours_ = 0;       // batches committed since
  bool unsure_ = false;          // a monitor attached during the pause
};

}  // namespace ng::netfilter
