#include "netfilter/native/netlink_native_backend.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "netfilter/nft/nft_restore_order.h"
#include "netfilter/nft/nft_table_wire.h"

namespace ng::netfilter::native {

namespace {
struct Collect {
  std::vector<NativeMsg>* msgs;
  std::size_t bytes = 0;
  std::size_t max_bytes = 0;
  bool too_big = false;
};

void on_msg(void* ctx, int kind, const void* attrs, size_t len) {
  auto* c = static_cast<Collect*>(ctx);
  c->bytes += len;
  if (c->bytes > c->max_bytes) {
    c->too_big = true;
    return;
  }
  c->msgs->push_back(
      NativeMsg{static_cast<NativeKind>(kind), std::string(static_cast<const char*>(attrs), len)});
}

struct SockCloser {
  void operator()(ngnft_sock* s) const { ngnft_close(s); }
};
using Sock = std::unique_ptr<ngnft_sock, SockCloser>;

std::vector<ngnft_tmsg> wire_msgs(const std::vector<NativeMsg>& msgs) {
  std::vector<ngnft_tmsg> out;
  out.reserve(msgs.size());
  for (const auto& m : msgs) {
    out.push_back(ngnft_tmsg{static_cast<int>(m.kind), m.attrs.data(), m.attrs.size()});
  }
  return out;
}

// Empty when the messages are malformed: the restore then sends them in dump order and the
// kernel (or the batch's own checks) refuses them there.
std::vector<std::size_t> restore_order(const std::vector<NativeMsg>& msgs) {
  const auto wire = wire_msgs(msgs);
  std::size_t* order = nullptr;
  if (ngnft_restore_order(wire.data(), wire.size(), &order) < 0) return {};
  std::vector<std::size_t> out(order, order + wire.size());
  std::free(order);
  return out;
}

core::Result<Sock> open_sock() {
  ngnft_sock* s = nullptr;
  if (int rc = ngnft_open(&s); rc < 0) {
    return core::EnvError::from_errno(-rc, "nftables netlink socket");
  }
  return Sock(s);
}
}  // namespace

core::Result<NativeDump> NetlinkNativeBackend::dump(const NftTableRef& table) {
  int rc = -EINTR;
  // EINTR: a transaction landed mid-dump; read again, on a fresh socket (ngnft_request already
  // reads a given-up dump to its end; a socket whose drain failed is not reused either).
  for (int attempt = 0; attempt < limits_.dump_attempts && rc == -EINTR; ++attempt) {
    auto sock = open_sock();
    if (!sock) return sock.error();
    NativeTableSnapshot snap;
    snap.table = table;
    Collect c{&snap.msgs, 0, limits_.max_bytes, false};
    std::uint32_t genid = 0;
    rc = ngnft_table_dump(sock->get(), table.nfproto, table.name.c_str(), limits_.max_sets, on_msg,
                          &c, &genid, nullptr, nullptr);
    if (c.too_big || rc == -E2BIG) {
      return core::EnvError{core::EnvErrorKind::kResourceLimit,
                            "table " + native_table_id(table) + " is larger than the dump limit"};
    }
    if (rc == -ENOENT) return NativeDump{std::nullopt, genid};
    if (rc == 0) {
      snap.genid = genid;
      snap.counts = count_native(snap.msgs);
      snap.restore_order = restore_order(snap.msgs);
      return NativeDump{std::move(snap), genid};
    }
  }
  return core::EnvError::from_errno(-rc, "dump of table " + native_table_id(table));
}

NativeRestore NetlinkNativeBackend::restore(const NativeTableSnapshot& good, bool exists,
                                            std::uint32_t genid) {
  auto sock = open_sock();
  if (!sock) return {NativeRestoreResult::kFailed, sock.error().message};
  const auto wire = wire_msgs(good.msgs);
  std::vector<ngnft_tmsg> msgs = wire;
  if (good.restore_order.size() == wire.size()) {
    for (std::size_t k = 0; k < wire.size(); ++k) msgs[k] = wire[good.restore_order[k]];
  }
  int failed = -1;
  const int rc =
      ngnft_table_restore(sock->get(), good.table.nfproto, good.table.name.c_str(), exists ? 1 : 0,
                          msgs.data(), msgs.size(), genid, limits_.commit_timeout_ms, &failed);
  if (rc == 0) return {NativeRestoreResult::kApplied, ""};
  if (rc == -ERESTART) return {NativeRestoreResult::kRaced, ""};
  return {NativeRestoreResult::kFailed, std::string(std::strerror(-rc)) + " (message " +
                                            std::to_string(failed) + " of the batch)"};
}

}  // namespace ng::netfilter::native
