#include "netfilter/nft/nft_backend.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "netfilter/mixed_modes.h"
#include "netfilter/nft/nft_netlink.h"
#include "netfilter/nft/nft_replay_wire.h"
#include "netfilter/save_codec.h"
#include "netfilter/tool_runner.h"

namespace ng::netfilter {

namespace {

std::string tool(Family f, const char* what) {
  return std::string(f == Family::kIPv4 ? "iptables" : "ip6tables") + "-nft-" + what;
}

int fam(Family f) {
  return f == Family::kIPv4 ? 4 : 6;
}

std::string errno_text(int negative_errno) {
  return std::strerror(-negative_errno);
}

constexpr int kBatchAckTimeoutMs = 10000;

// Appends every op of the plan to the batch; false (and why) at the first that does not encode.
bool encode_ops(ngnft_batch* b, const std::string& table, const NftBatchPlan& batch,
                std::string* why) {
  const char* t = table.c_str();
  for (const auto& op : batch.ops) {
    int rc = 0;
    const char* c = op.chain.c_str();
    switch (op.kind) {
      case NftBatchOp::Kind::kNewTable:
        rc = ngnft_batch_new_table(b, t, op.attrs.data(), op.attrs.size());
        break;
      case NftBatchOp::Kind::kNewChain:
        rc = ngnft_batch_new_chain(b, t, c, op.attrs.data(), op.attrs.size(), op.policy);
        break;
      case NftBatchOp::Kind::kFlushChain:
        rc = ngnft_batch_flush_chain(b, t, c);
        break;
      case NftBatchOp::Kind::kDeleteRule:
        rc = ngnft_batch_del_rule(b, t, c, op.handle);
        break;
      case NftBatchOp::Kind::kNewRule:
        rc = ngnft_batch_new_rule(b, t, c, op.attrs.data(), op.attrs.size(),
                                  op.where == NftBatchOp::Where::kEnd    ? NGNFT_AT_END
                                  : op.where == NftBatchOp::Where::kHead ? NGNFT_AT_HEAD
                                                                         : NGNFT_AFTER,
                                  op.handle);
        break;
    }
    if (rc < 0) {
      *why = "cannot encode " + op.what + ": " + errno_text(rc);
      return false;
    }
  }
  return true;
}

}  // namespace

NftBackend::Fault NftBackend::fault_from_env() {
  const char* v = std::getenv("NG_TEST_NFT_FAST_PATH_FAULT");
  const std::string s = v ? v : "";
  if (s == "refuse") return Fault::kRefuse;
  if (s == "mismatch") return Fault::kMismatch;
  return Fault::kNone;
}

NftBackend::NftBackend(core::ProcessRunner& runner) : NftBackend(runner, Options{}) {}

NftBackend::NftBackend(core::ProcessRunner& runner, Options options)
    : runner_(runner), options_(options) {}

NftBackend::~NftBackend() {
  for (auto* p : pool_) ngnft_close(p);
}

NftBackend::Lease::Lease(NftBackend& b) : b_(b) {
  {
    std::lock_guard lock(b_.pool_mu_);
    if (!b_.pool_.empty()) {
      s = b_.pool_.back();
      b_.pool_.pop_back();
      return;
    }
  }
  if (int rc = ngnft_open(&s); rc < 0) {
    s = nullptr;
    open_error = rc;
  }
}

NftBackend::Lease::~Lease() {
  if (!s) return;
  if (reusable) {
    std::lock_guard lock(b_.pool_mu_);
    if (b_.pool_.size() < kPoolMax) {
      b_.pool_.push_back(s);
      return;
    }
  }
  ngnft_close(s);
}

core::Status NftBackend::available(Family f) {
  for (const char* what : {"save", "restore"}) {
    if (!executable_on_path(tool(f, what))) {
      return core::EnvError{core::EnvErrorKind::kMissingBinary, tool(f, what) + " not found"};
    }
  }
  return core::Ok{};
}

core::Result<std::string> NftBackend::save(Family f, const std::string& table) {
  auto out = run_tool(runner_, {tool(f, "save"), "-t", table});
  if (!out && out.error().message.find("does not exist") != std::string::npos) {
    return std::string();  // parses as the table without chains
  }
  // Native nftables rules in the table: iptables-nft-save exits 0 with only a comment, which
  // must not read as a table without chains (every guarded chain "flushed").
  if (out && save_unusable(*out)) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput,
                          tool(f, "save") + " -t " + table + ": " + incompatible_note(*out) +
                              " (native nftables rules in an iptables-nft table; its guarded "
                              "chains are not guarded until they are moved out)"};
  }
  return out;
}

core::Result<Table> NftBackend::read(Family f, const std::string& table) {
  const Key key{f, table};
  if (options_.fast_path) {
    // The dump and the text must show the same generation: the ruleset generation id does
    // not move across both, and the kernel did not flag the dump as interrupted. When every
    // rule the dump holds was paired with its text before, the text is not needed at all.
    for (int attempt = 0; attempt < 3; ++attempt) {
      Lease sock(*this);
      std::uint32_t before = 0, after = 0;
      if (!sock.s || ngnft_get_genid(sock.s, &before) < 0) break;
      NftDumpCollector collect(f, table);
      const int rc =
          ngnft_dump_table(sock.s, fam(f), table.c_str(), NftDumpCollector::callbacks(), &collect);
      if (rc < 0 && rc != -ENOENT && rc != -EINTR) break;
      if (ngnft_get_genid(sock.s, &after) < 0) break;
      if (rc == -EINTR || before != after) continue;
      auto kernel = std::make_shared<NftKernelTable>(collect.take());
      kernel->genid = before;
      std::optional<Table> parsed;
      if (options_.read_from_dump) {
        std::lock_guard lock(cache_mu_);
        parsed = texts_[key].table_from_dump(*kernel);
      }
      bool paired = false;
      if (parsed) {
        for (auto& kc : kernel->chains) kc.aligned = true;
        reads_from_dump_.fetch_add(1, std::memory_order_relaxed);
      } else {
        paired = true;
        auto text = save(f, table);
        if (!text) return text.error();
        if (ngnft_get_genid(sock.s, &after) < 0) break;
        if (before != after) continue;
        auto p = parse_table(*text, table);
        if (!p) return p.error();
        parsed = std::move(*p);
        attach_nft_blobs(*parsed, *kernel);
      }
      sock.reusable = true;
      std::lock_guard lock(cache_mu_);
      if (paired) texts_[key].learn(*parsed);
      remember_defs(defs_[key], *kernel);
      kernel_[key] = std::move(kernel);
      return std::move(*parsed);
    }
  }
  // Text only (no netlink access, or the table kept changing): the fast path declines until
  // the next read that pairs.
  {
    std::lock_guard lock(cache_mu_);
    kernel_.erase(key);
  }
  auto text = save(f, table);
  if (!text) return text.error();
  return parse_table(*text, table);
}

std::shared_ptr<const NftKernelTable> NftBackend::kernel_view(Family f, const std::string& table) {
  std::lock_guard lock(cache_mu_);
  auto it = kernel_.find(Key{f, table});
  return it == kernel_.end() ? nullptr : it->second;
}

core::Status NftBackend::commit(Family f, const TablePlan& plan) {
  return write(f, plan, WriteOptions{}).status;
}

WriteReport NftBackend::write(Family f, const TablePlan& plan, const WriteOptions& options) {
  WriteReport report;
  if (options.fast && options_.fast_path) {
    std::string why;
    auto rr = write_batch(f, plan, &why);
    switch (rr) {
      case Fast::kCommitted:
        report.path = WritePath::kNetlink;
        return report;
      case Fast::kMoved:
        // The table changed under the plan (or the outcome is unknown): re-read and re-plan.
        report.path = WritePath::kNetlink;
        report.status = core::EnvError{core::EnvErrorKind::kUnavailable, why};
        return report;
      case Fast::kDeclined:
        report.fast_declined = why;
        break;
      case Fast::kRefused:
        report.fast_failed = why;
        break;
    }
  }
  report.path = WritePath::kRestore;
  report.status = write_restore(f, plan);
  return report;
}

void NftBackend::inject_fault(NftBatchPlan& batch) const {
  auto& ops = batch.ops;
  if (options_.fault == Fault::kRefuse) {
    NftBatchOp op;
    op.kind = NftBatchOp::Kind::kFlushChain;
    op.chain = "NODEGUARD-NO-SUCH-CHAIN";
    op.what = "injected fault (" + op.chain + ")";
    ops.push_back(std::move(op));
  } else if (options_.fault == Fault::kMismatch) {
    for (size_t i = ops.size(); i-- > 0;) {
      if (ops[i].kind == NftBatchOp::Kind::kNewRule && ops[i].where == NftBatchOp::Where::kEnd) {
        ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    }
  }
}

NftBackend::Fast NftBackend::write_batch(Family f, const TablePlan& plan, std::string* why) {
  std::shared_ptr<const NftKernelTable> kernel;
  NftTableDefs defs;
  {
    std::lock_guard lock(cache_mu_);
    auto it = kernel_.find(Key{f, plan.table});
    if (it != kernel_.end()) kernel = it->second;
    defs = defs_[Key{f, plan.table}];
  }
  if (!kernel) {
    *why = "no netlink view of the table from the last read";
    return Fast::kDeclined;
  }
  NftBatchPlan batch = plan_nft_batch(plan, *kernel, defs);
  if (!batch.declined.empty()) {
    *why = batch.declined;
    if (!kernel->unaligned.empty()) *why += " (not paired: " + kernel->unaligned.front() + ")";
    return Fast::kDeclined;
  }
  inject_fault(batch);
  Lease sock(*this);
  if (!sock.s) {
    *why = "netlink socket: " + errno_text(sock.open_error);
    return Fast::kDeclined;
  }
  return send_batch(f, plan.table, *kernel, batch, sock, why);
}

NftBackend::Fast NftBackend::send_batch(Family f, const std::string& table,
                                        const NftKernelTable& kernel, const NftBatchPlan& batch,
                                        Lease& sock, std::string* why) {
  // Leave the monitor's group first (then the generation check below covers every write
  // since), join again once the batch is answered.
  const bool paused = options_.quiet && options_.quiet->pause(sock.s);
  bool committed = false;
  struct Resume {
    NftListenGate* gate;
    ngnft_sock* s;
    const bool& committed;
    ~Resume() {
      if (gate) gate->resume(s, committed);
    }
  } resume{paused ? options_.quiet.get() : nullptr, sock.s, committed};
  std::uint32_t now = 0;
  if (int rc = ngnft_get_genid(sock.s, &now); rc < 0) {
    *why = "NFT_MSG_GETGEN: " + errno_text(rc);
    return Fast::kDeclined;
  }
  if (now != kernel.genid) {
    *why = "the ruleset changed since the table was read (generation " +
           std::to_string(kernel.genid) + " -> " + std::to_string(now) + ")";
    return Fast::kMoved;
  }
  std::unique_ptr<ngnft_batch, void (*)(ngnft_batch*)> b(ngnft_batch_begin(fam(f), kernel.genid, 1),
                                                         ngnft_batch_free);
  if (!b) {
    *why = "out of memory";
    return Fast::kDeclined;
  }
  if (!encode_ops(b.get(), table, batch, why)) return Fast::kDeclined;
  if (int rc = ngnft_batch_end(b.get()); rc < 0) {
    *why = "cannot close the batch: " + errno_text(rc);
    return Fast::kDeclined;
  }
  int failed = -1;
  const int rc = ngnft_batch_send(sock.s, b.get(), kBatchAckTimeoutMs, &failed);
  {
    // Whatever happened, the next write plans against a fresh read.
    std::lock_guard lock(cache_mu_);
    kernel_.erase(Key{f, table});
  }
  committed = rc == 0;
  sock.reusable = committed;
  if (committed) return Fast::kCommitted;
  const std::string at = failed >= 0 && static_cast<size_t>(failed) < batch.ops.size()
                             ? " at " + batch.ops[static_cast<size_t>(failed)].what
                             : std::string();
  *why =
      "netlink batch of " + std::to_string(batch.ops.size()) + " messages: " + errno_text(rc) + at;
  if (rc == -ERESTART) return Fast::kMoved;
  // Lost or unreadable replies: whether it applied is unknown, so re-read before anything else.
  if (rc == -ETIMEDOUT || rc == -ENOBUFS || rc == -EPROTO) return Fast::kMoved;
  return Fast::kRefused;
}

core::Status NftBackend::write_restore(Family f, const TablePlan& plan) {
  auto out = run_tool(runner_, {tool(f, "restore"), "--noflush"}, render_restore(plan));
  if (!out) return out.error();
  return core::Ok{};
}

core::Result<std::uint64_t> NftBackend::change_token(Family, const std::string&) {
  Lease sock(*this);
  if (!sock.s) return core::EnvError::from_errno(-sock.open_error, "nftables netlink socket");
  uint32_t gen = 0;
  if (int rc = ngnft_get_genid(sock.s, &gen); rc < 0) {
    return core::EnvError::from_errno(-rc, "NFT_MSG_GETGEN");
  }
  sock.reusable = true;
  return static_cast<std::uint64_t>(gen);
}

}  // namespace ng::netfilter
