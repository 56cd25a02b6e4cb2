#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <utility>
#include <vector>

#include "core/process_runner.h"
#include "netfilter/backend.h"
#include "netfilter/nft/nft_listen_gate.h"
#include "netfilter/nft/nft_replay.h"
#include "netfilter/nft/nft_rule_texts.h"

extern "C" {
struct ngnft_sock;
}

namespace ng::netfilter {

// iptables-nft. Reads with iptables-nft-save -t TABLE, the text kube-proxy and the CNI plugins
// write and operators read. Writes one plan as one transaction, two ways:
//
// - fast (netlink, WritePath::kNetlink): each read also dumps the table over netlink at the
//   same ruleset generation and pairs every saved rule with the kernel's own encoding of it
//   (Rule::blob, kept in snapshots). A plan whose rules all carry one is written as one
//   netlink batch that replays those encodings (nft_replay.h), pinned to the generation of the
//   last read: a concurrent writer makes the kernel refuse it whole.
// - tools (WritePath::kRestore): one iptables-nft-restore --noflush, for everything the batch
//   cannot express (rules only known as text, tables never seen) and as the fallback when the
//   kernel refuses the batch or the guard's read-back does not verify.
//
// The change token is the nftables generation id from one netlink request.
class NftBackend final : public Backend {
 public:
  // Test hook: make the fast path fail for real, to exercise the fallbacks against the kernel.
  enum class Fault {
    kNone,
    kRefuse,    // the batch also writes to a chain that does not exist: the kernel refuses it
    kMismatch,  // the batch leaves out the last rule of one chain: it reads back different
  };
  struct Options {
    bool fast_path = true;  // netfilter.nft_fast_path
    // Build a read from the netlink dump alone when every rule in it was paired with its
    // saved text before (nft_rule_texts.h); false: every read runs iptables-nft-save.
    bool read_from_dump = true;
    Fault fault = Fault::kNone;
    // Shared with the NftMonitor: our own batches go unheard (nft_listen_gate.h).
    std::shared_ptr<NftListenGate> quiet;
  };
  explicit NftBackend(core::ProcessRunner& runner);
  NftBackend(core::ProcessRunner& runner, Options options);
  ~NftBackend() override;

  BackendKind kind() const override { return BackendKind::kNft; }
  core::Status available(Family family) override;
  core::Result<Table> read(Family family, const std::string& table) override;
  core::Status commit(Family family, const TablePlan& plan) override;
  WriteReport write(Family family, const TablePlan& plan, const WriteOptions& options) override;
  core::Result<std::uint64_t> change_token(Family family, const std::string& table) override;

  // NG_TEST_NFT_FAST_PATH_FAULT=refuse|mismatch (integration tests only); kNone otherwise.
  static Fault fault_from_env();

  // The kernel's view of the table from the last read (tests, the benchmark); null if none.
  std::shared_ptr<const NftKernelTable> kernel_view(Family family, const std::string& table);
  // Reads built from the netlink dump alone, without iptables-nft-save (tests, the benchmark).
  std::uint64_t reads_from_dump() const { return reads_from_dump_.load(); }

 private:
  struct Key {
    Family family;
    std::string table;
    bool operator<(const Key& o) const {
      return std::tie(family, table) < std::tie(o.family, o.table);
    }
  };
  // A request socket for one read or one write, so workers never share one; taken from a
  // small pool and given back when the exchange finished cleanly (nothing left unread).
  // Reused rather than closed because closing a NETLINK_NETFILTER socket makes the kernel wait
  // for the deferred destruction of the last transaction (NETLINK_URELEASE flushes nf_tables'
  // destroy work: an RCU grace period and freeing every rule a flush deleted, ~27 ms after a
  // 10,000-rule flush here), which would sit between detecting a flush and repairing it.
  struct Lease {
    explicit Lease(NftBackend& b);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ngnft_sock* s = nullptr;
    int open_error = 0;
    bool reusable = false;

   private:
    NftBackend& b_;
  };
  static constexpr size_t kPoolMax = 4;
  enum class Fast { kCommitted, kDeclined, kRefused, kMoved };
  Fast write_batch(Family f, const TablePlan& plan, std::string* why);
  // The pinned, paused-monitor part of write_batch: one batch over the leased socket.
  Fast send_batch(Family f, const std::string& table, const NftKernelTable& kernel,
                  const NftBatchPlan& batch, Lease& sock, std::string* why);
  void inject_fault(NftBatchPlan& batch) const;
  core::Status write_restore(Family f, const TablePlan& plan);
  core::Result<std::string> save(Family f, const std::string& table);

  core::ProcessRunner& runner_;
  Options options_;
  std::mutex cache_mu_;
  std::map<Key, std::shared_ptr<const NftKernelTable>> kernel_;
  std::map<Key, NftTableDefs> defs_;
  std::map<Key, NftRuleTexts> texts_;
  std::atomic<std::uint64_t> reads_from_dump_{0};
  std::mutex pool_mu_;
  std::vector<ngnft_sock*> pool_;
};

}  // namespace ng::netfilter
