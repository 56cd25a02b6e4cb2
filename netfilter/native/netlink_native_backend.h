#pragma once

#include <cstddef>

#include "netfilter/native/native_table_backend.h"

namespace ng::netfilter::native {

// NativeTableBackend over NETLINK_NETFILTER (netfilter/nft/nft_table_wire.h). Each call opens
// its own socket, so calls for different tables may run on different workers at once.
class NetlinkNativeBackend final : public NativeTableBackend {
 public:
  struct Limits {
    std::size_t max_sets = 1u << 20;     // kube-proxy: one anonymous map per service
    std::size_t max_bytes = 256u << 20;  // a dump larger than this is refused (kResourceLimit)
    int dump_attempts = 8;               // re-reads when a transaction lands mid-dump
    int commit_timeout_ms = 10000;
  };
  NetlinkNativeBackend() = default;
  explicit NetlinkNativeBackend(Limits limits) : limits_(limits) {}

  core::Result<NativeDump> dump(const NftTableRef& table) override;
  NativeRestore restore(const NativeTableSnapshot& good, bool exists, std::uint32_t genid) override;

 private:
  Limits limits_;
};

}  // namespace ng::netfilter::native
