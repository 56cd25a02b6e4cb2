#pragma once

#include <memory>
#include <mutex>

#include "core/process_runner.h"
#include "netfilter/backend.h"

extern "C" {
struct ngnft_sock;
}

namespace ng::netfilter {

// iptables-nft. Reads with iptables-nft-save -t TABLE and writes one plan as one
// iptables-nft-restore --noflush transaction (atomic in the kernel): the same tools
// kube-proxy and the CNI plugins use, so rules round-trip in exactly the text they print and
// the xtables-compat expressions stay the tools' business (docs/architecture.md). The change
// token is the nftables generation id from one netlink request.
class NftBackend final : public Backend {
 public:
  explicit NftBackend(core::ProcessRunner& runner);
  ~NftBackend() override;

  BackendKind kind() const override { return BackendKind::kNft; }
  core::Status available(Family family) override;
  core::Result<Table> read(Family family, const std::string& table) override;
  core::Status commit(Family family, const TablePlan& plan) override;
  core::Result<std::uint64_t> change_token(Family family, const std::string& table) override;

 private:
  core::ProcessRunner& runner_;
  std::mutex mu_;
  ngnft_sock* sock_ = nullptr;
};

}  // namespace ng::netfilter
