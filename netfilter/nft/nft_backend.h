#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <utility>

#include "core/process_runner.h"
#include "netfilter/backend.h"
#include "netfilter/nft/nft_listen_gate.h"
#include "netfilter/nft/nft_replay.h"

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

 private:
  struct Key {
    Family family;
    std::string table;
    bool operator<(const Key& o) const {
      return std::tie(family, table) < std::tie(o.family, o.table);
    }
  };
  enum class Fast { kCommitted, kDeclined, kRefused, kMoved };
  Fast write_batch(Family f, const TablePlan& plan, std::string* why);
  void inject_fault(NftBatchPlan& batch) const;
  core::Status write_restore(Family f, const TablePlan& plan);
  core::Result<std::string> save(Family f, const std::string& table);

  core::ProcessRunner& runner_;
  Options options_;
  std::mutex mu_;  // sock_
  ngnft_sock* sock_ = nullptr;
  std::mutex cache_mu_;
  std::map<Key, std::shared_ptr<const NftKernelTable>> kernel_;
  std::map<Key, NftTableDefs> defs_;
};

}  // namespace ng::netfilter
