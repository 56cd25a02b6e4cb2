#include "netfilter/nft/nft_backend.h"

#include "netfilter/nft/nft_netlink.h"
#include "netfilter/save_codec.h"
#include "netfilter/tool_runner.h"

namespace ng::netfilter {

namespace {
std::string tool(Family f, const char* what) {
  return std::string(f == Family::kIPv4 ? "iptables" : "ip6tables") + "-nft-" + what;
}
}  // namespace

NftBackend::NftBackend(core::ProcessRunner& runner) : runner_(runner) {}

NftBackend::~NftBackend() {
  ngnft_close(sock_);
}

core::Status NftBackend::available(Family f) {
  for (const char* what : {"save", "restore"}) {
    if (!executable_on_path(tool(f, what))) {
      return core::EnvError{core::EnvErrorKind::kMissingBinary, tool(f, what) + " not found"};
    }
  }
  return core::Ok{};
}

core::Result<Table> NftBackend::read(Family f, const std::string& table) {
  auto out = run_tool(runner_, {tool(f, "save"), "-t", table});
  if (!out) {
    if (out.error().message.find("does not exist") != std::string::npos) {
      Table t;
      t.name = table;
      return t;
    }
    return out.error();
  }
  return parse_table(*out, table);
}

core::Status NftBackend::commit(Family f, const TablePlan& plan) {
  auto out = run_tool(runner_, {tool(f, "restore"), "--noflush"}, render_restore(plan));
  if (!out) return out.error();
  return core::Ok{};
}

core::Result<std::uint64_t> NftBackend::change_token(Family, const std::string&) {
  std::lock_guard lock(mu_);
  if (!sock_) {
    if (int rc = ngnft_open(&sock_); rc < 0) {
      sock_ = nullptr;
      return core::EnvError::from_errno(-rc, "nftables netlink socket");
    }
  }
  uint32_t gen = 0;
  if (int rc = ngnft_get_genid(sock_, &gen); rc < 0) {
    ngnft_close(sock_);
    sock_ = nullptr;
    return core::EnvError::from_errno(-rc, "NFT_MSG_GETGEN");
  }
  return static_cast<std::uint64_t>(gen);
}

}  // namespace ng::netfilter
