#include "netfilter/legacy/legacy_backend.h"

#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "netfilter/legacy/iptc_shim.h"
#include "netfilter/save_codec.h"
#include "netfilter/tool_runner.h"
#include "netfilter/xtables_lock.h"

namespace ng::netfilter {

namespace {

int fam(Family f) {
  return f == Family::kIPv4 ? 4 : 6;
}
std::string tool(Family f, const char* what) {
  return std::string(f == Family::kIPv4 ? "iptables" : "ip6tables") + "-legacy-" + what;
}
std::string names_file(Family f) {
  return f == Family::kIPv4 ? "ip_tables_names" : "ip6_tables_names";
}

core::EnvError iptc_error(Family f, int err, const std::string& what) {
  core::EnvError e = core::EnvError::from_errno(err, what);
  e.message = what + ": " + ngiptc_strerror(fam(f), err);
  if (err == EAGAIN) e.kind = core::EnvErrorKind::kUnavailable;
  return e;
}

struct TableCopy {
  ngiptc_table* t = nullptr;
  ~TableCopy() { ngiptc_table_free(t); }
};

std::uint64_t fnv1a(const void* data, size_t n, std::uint64_t h = 1469598103934665603ull) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace

LegacyBackend::LegacyBackend(core::ProcessRunner& runner, std::string proc_net,
                             std::chrono::milliseconds content_every)
    : runner_(runner), proc_net_(std::move(proc_net)), content_every_(content_every) {}

LegacyBackend::~LegacyBackend() {
  for (int fd : info_fd_) {
    if (fd >= 0) ::close(fd);
  }
}

core::Status LegacyBackend::available(Family f) {
  if (::access((proc_net_ + "/" + names_file(f)).c_str(), R_OK) != 0) {
    return core::EnvError{core::EnvErrorKind::kNotFound,
                          proc_net_ + "/" + names_file(f) + " missing: no legacy xtables"};
  }
  for (const char* what : {"save", "restore"}) {
    if (!executable_on_path(tool(f, what))) {
      return core::EnvError{core::EnvErrorKind::kMissingBinary, tool(f, what) + " not found"};
    }
  }
  return core::Ok{};
}

bool LegacyBackend::listed(Family f, const std::string& table) {
  std::lock_guard lock(info_mu_);
  auto now = std::chrono::steady_clock::now();
  auto& entry = names_[f];
  // Tables appear when first used and stay; a second of staleness costs nothing.
  if (entry.second.empty() || now - entry.first > std::chrono::seconds(1)) {
    entry.second.clear();
    std::ifstream in(proc_net_ + "/" + names_file(f));
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) entry.second.insert(line);
    }
    entry.first = now;
  }
  return entry.second.count(table) > 0;
}

// info_mu_ held. The raw socket, made once per family; -errno on failure.
int LegacyBackend::info_fd(Family f) {
  int& fd = info_fd_[f == Family::kIPv4 ? 0 : 1];
  if (fd < 0) {
    fd = ngiptc_info_socket(fam(f));
    if (fd < 0) {
      const int err = fd;
      fd = -1;
      return err;
    }
  }
  return fd;
}

core::Result<std::uint64_t> LegacyBackend::content_token(Family f, const std::string& table) {
  std::lock_guard lock(info_mu_);
  const int fd = info_fd(f);
  if (fd < 0) return core::EnvError::from_errno(-fd, "raw socket for IPT_SO_GET_ENTRIES");
  std::uint64_t h = 0;
  if (int rc = ngiptc_content_hash(fd, fam(f), table.c_str(), &h); rc != 0) {
    return core::EnvError::from_errno(rc, "IPT_SO_GET_ENTRIES " + table);
  }
  return h;
}

core::Result<std::uint64_t> LegacyBackend::info_token(Family f, const std::string& table) {
  std::lock_guard lock(info_mu_);
  const int fd = info_fd(f);
  if (fd < 0) return core::EnvError::from_errno(-fd, "raw socket for IPT_SO_GET_INFO");
  ngiptc_info info{};
  if (int rc = ngiptc_get_info(fd, fam(f), table.c_str(), &info); rc != 0) {
    return core::EnvError::from_errno(rc, "IPT_SO_GET_INFO " + table);
  }
  return fnv1a(&info, sizeof(info));
}

std::optional<std::uint64_t> LegacyBackend::loop_token(Family f, const std::string& table) {
  std::unique_lock lock(info_mu_, std::try_to_lock);
  if (!lock.owns_lock()) return std::nullopt;
  auto& entry = names_[f];
  // The names as the last listed() saw them (refreshed by the workers' calls): no file read here.
  if (entry.second.count(table) == 0)
    return entry.second.empty() ? std::nullopt : std::optional<std::uint64_t>(0);
  const int fd = info_fd(f);
  if (fd < 0) return std::nullopt;
  ngiptc_info info{};
  if (ngiptc_get_info(fd, fam(f), table.c_str(), &info) != 0) return std::nullopt;
  return fnv1a(&info, sizeof(info));
}

core::Result<std::uint64_t> LegacyBackend::change_token(Family f, const std::string& table) {
  if (!listed(f, table)) return std::uint64_t{0};
  auto info = info_token(f, table);
  if (!info) return info.error();
  const auto now = std::chrono::steady_clock::now();
  Content c;
  {
    std::lock_guard lock(info_mu_);
    c = content_[{f, table}];
  }
  if (c.info != *info || now - c.at >= content_every_) {
    auto h = content_token(f, table);
    if (!h) return h.error();
    c = Content{*info, *h, now};
    std::lock_guard lock(info_mu_);
    content_[{f, table}] = c;
  }
  return fnv1a(&c.hash, sizeof(c.hash), *info);
}

core::Result<Table> LegacyBackend::read(Family f, const std::string& table) {
  if (!listed(f, table)) {
    Table t;
    t.name = table;
    return t;
  }
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto before = info_token(f, table);
    if (!before) return before.error();
    TableCopy copy;
    {
      std::lock_guard lock(iptc_mu_);
      if (int rc = ngiptc_read(fam(f), table.c_str(), &copy.t); rc != 0) {
        return iptc_error(f, rc, "libiptc read of " + table);
      }
    }
    auto text = run_tool(runner_, {tool(f, "save"), "-t", table});
    if (!text) return text.error();
    auto after = info_token(f, table);
    if (!after) return after.error();
    if (*before != *after) continue;  // changed under us: the two views may differ
    auto parsed = parse_table(*text, table);
    if (!parsed) return parsed.error();
    // Pair text and bytes chain by chain, rule by rule (both walk libiptc's order).
    bool match = ngiptc_chain_count(copy.t) == parsed->chains.size();
    for (size_t i = 0; match && i < parsed->chains.size(); ++i) {
      Chain& c = parsed->chains[i];
      match =
          c.name == ngiptc_chain_name(copy.t, i) && c.rules.size() == ngiptc_rule_count(copy.t, i);
      for (size_t j = 0; match && j < c.rules.size(); ++j) {
        size_t len = 0;
        const unsigned char* b = ngiptc_rule_blob(copy.t, i, j, &len);
        c.rules[j].blob.assign(reinterpret_cast<const char*>(b), len);
      }
    }
    if (match) return parsed;
  }
  return core::EnvError{core::EnvErrorKind::kUnavailable,
                        "legacy table " + table + " kept changing while being read"};
}

core::Status LegacyBackend::commit(Family f, const TablePlan& plan) {
  return write(f, plan, WriteOptions{}).status;
}

WriteReport LegacyBackend::write(Family f, const TablePlan& plan, const WriteOptions& options) {
  bool all_blobs = true;
  for (const auto& c : plan.chains) {
    for (const auto& r : c.rules) all_blobs = all_blobs && !r.blob.empty();
  }
  for (const auto& e : plan.edits) {
    if (e.op == BuiltinEdit::Op::kInsert) all_blobs = all_blobs && !e.rule.blob.empty();
  }
  WriteReport r;
  if (all_blobs && options.fast) {
    r.path = WritePath::kLibiptc;
    r.status = commit_libiptc(f, plan);
  } else {
    r.path = WritePath::kRestore;
    r.status = commit_restore(f, plan);
  }
  return r;
}

core::Status LegacyBackend::commit_libiptc(Family f, const TablePlan& plan) {
  std::lock_guard lock(iptc_mu_);
  ngiptc_txn* x = nullptr;
  if (int rc = ngiptc_begin(fam(f), plan.table.c_str(), &x); rc != 0) {
    return iptc_error(f, rc, "libiptc open of " + plan.table);
  }
  auto fail = [&](int rc, const std::string& what) {
    ngiptc_abort(x);
    return iptc_error(f, rc, what);
  };
  auto bytes = [](const Rule& r) { return reinterpret_cast<const unsigned char*>(r.blob.data()); };
  for (const auto& c : plan.chains) {
    if (int rc = ngiptc_chain_reset(x, c.name.c_str()); rc != 0) return fail(rc, "chain " + c.name);
  }
  for (const auto& c : plan.chains) {
    for (const auto& r : c.rules) {
      if (int rc = ngiptc_append(x, c.name.c_str(), bytes(r), r.blob.size()); rc != 0) {
        return fail(rc, "append to " + c.name + ": " + r.spec);
      }
    }
  }
  for (const auto& e : plan.edits) {
    const auto pos = static_cast<unsigned int>(e.position - 1);
    int rc = 0;
    if (e.op == BuiltinEdit::Op::kDelete) {
      rc = ngiptc_delete_num(x, e.chain.c_str(), pos);
    } else if (e.append) {
      rc = ngiptc_append(x, e.chain.c_str(), bytes(e.rule), e.rule.blob.size());
    } else {
      rc = ngiptc_insert(x, e.chain.c_str(), bytes(e.rule), e.rule.blob.size(), pos);
    }
    if (rc != 0) return fail(rc, "edit of " + e.chain + " at " + std::to_string(e.position));
  }
  for (const auto& p : plan.policies) {
    if (int rc = ngiptc_set_policy(x, p.chain.c_str(), p.policy.c_str()); rc != 0) {
      return fail(rc, "policy of " + p.chain);
    }
  }
  if (int rc = ngiptc_commit(x); rc != 0) return iptc_error(f, rc, "iptc_commit of " + plan.table);
  return core::Ok{};
}

core::Status LegacyBackend::commit_restore(Family f, const TablePlan& plan) {
  // We already hold the xtables lock; the tool would wait for it forever, so it locks a
  // private file instead.
  const std::string private_lock = XtablesLock::default_path() + ".nodeguard-child";
  auto out = run_tool(runner_, {tool(f, "restore"), "--noflush"}, render_restore(plan),
                      std::chrono::seconds(60), {{"XTABLES_LOCKFILE", private_lock}});
  if (!out) return out.error();
  return core::Ok{};
}

}  // namespace ng::netfilter
