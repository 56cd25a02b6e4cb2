#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "netfilter/backend.h"
#include "netfilter/save_codec.h"

namespace ng::testing {

// A stateful in-memory iptables, like kube-proxy's FakeIPTables: tables are loaded from
// iptables-save text, commits go through iptables-restore --noflush input (the plan is rendered
// and parsed back, so the restore text itself is under test), and a restore that jumps to a
// chain that does not exist, deletes a missing rule or touches an unknown chain is rejected
// whole, leaving the tables as they were.
class FakeNetfilterBackend final : public netfilter::Backend {
 public:
  using Family = netfilter::Family;
  using Table = netfilter::Table;

  explicit FakeNetfilterBackend(netfilter::BackendKind kind = netfilter::BackendKind::kNft)
      : kind_(kind) {}

  netfilter::BackendKind kind() const override { return kind_; }
  core::Status available(Family) override {
    if (unavailable_) return *unavailable_;
    return core::Ok{};
  }

  core::Result<Table> read(Family f, const std::string& table) override {
    std::lock_guard lock(mu_);
    ++reads_;
    if (read_error_) return *read_error_;
    if (garbage_) return netfilter::parse_table(*garbage_, table).error();
    auto it = tables_.find({f, table});
    if (it == tables_.end()) {
      Table t;
      t.name = table;
      return t;
    }
    return it->second;
  }

  core::Status commit(Family f, const netfilter::TablePlan& plan) override {
    std::string text = netfilter::render_restore(plan);
    std::function<void()> after;
    {
      std::lock_guard lock(mu_);
      restores_.push_back(text);
      if (commit_error_) return *commit_error_;
    }
    auto st = apply_restore(f, text);
    if (st) {
      std::lock_guard lock(mu_);
      ++commits_;
      after = after_commit_;
    }
    if (after) after();
    return st;
  }

  // A simulated fast write path (like nft's netlink batch). kOff: write() is commit() through
  // the "tools". kOk: applies the plan and reports the netlink path. kRefuse: reports the fast
  // path refused, then applies through the tools. kMismatch: applies the plan minus the last
  // rule of its first non-empty chain write and reports netlink, so it reads back different.
  // kMoved: applies nothing and reports the table moved under the batch (kUnavailable).
  enum class FastMode { kOff, kOk, kRefuse, kMismatch, kMoved };
  void set_fast_mode(FastMode m) {
    std::lock_guard lock(mu_);
    fast_mode_ = m;
  }
  // WriteOptions::fast of every write() so far.
  std::vector<bool> fast_requests() {
    std::lock_guard lock(mu_);
    return fast_requests_;
  }
  netfilter::WriteReport write(Family f, const netfilter::TablePlan& plan,
                               const netfilter::WriteOptions& options) override {
    FastMode mode;
    {
      std::lock_guard lock(mu_);
      mode = fast_mode_;
      fast_requests_.push_back(options.fast);
    }
    netfilter::WriteReport r;
    if (mode == FastMode::kOff || !options.fast) {
      r.status = commit(f, plan);
      return r;
    }
    if (mode == FastMode::kRefuse) {
      r.fast_failed = "fake kernel refused the batch";
      r.status = commit(f, plan);
      return r;
    }
    if (mode == FastMode::kMoved) {
      r.path = netfilter::WritePath::kNetlink;
      r.status = core::EnvError{core::EnvErrorKind::kUnavailable, "fake generation moved"};
      return r;
    }
    netfilter::TablePlan p = plan;
    if (mode == FastMode::kMismatch) {
      for (auto& c : p.chains) {
        if (c.rules.empty()) continue;
        c.rules.pop_back();
        break;
      }
    }
    r.path = netfilter::WritePath::kNetlink;
    r.status = commit(f, p);
    return r;
  }

  // A hash of the table's content: changes with the table, like IPT_SO_GET_INFO would.
  core::Result<std::uint64_t> change_token(Family f, const std::string& table) override {
    std::lock_guard lock(mu_);
    ++token_reads_;
    auto it = tables_.find({f, table});
    if (it == tables_.end()) return std::uint64_t{0};
    netfilter::RenderOptions o;
    o.comments = false;
    return static_cast<std::uint64_t>(
        std::hash<std::string>{}(netfilter::render_table(it->second, o)));
  }

  // --- test controls ---
  // Loads iptables-save text (one or more tables) for a family, replacing those tables.
  void load(Family f, const std::string& save) {
    auto file = netfilter::parse_save(save);
    if (!file) throw std::runtime_error("fake load: " + file.error().message);
    std::lock_guard lock(mu_);
    for (auto& t : file->tables) {
      for (auto& c : t.chains) c.counters.clear();
      t.before.clear();
      t.after.clear();
      tables_[{f, t.name}] = std::move(t);
    }
    ++version_;
  }
  std::string save(Family f, const std::string& table) {
    std::lock_guard lock(mu_);
    auto it = tables_.find({f, table});
    if (it == tables_.end()) return "";
    netfilter::RenderOptions o;
    o.comments = false;
    return netfilter::render_table(it->second, o);
  }
  std::optional<Table> table(Family f, const std::string& name) {
    std::lock_guard lock(mu_);
    auto it = tables_.find({f, name});
    if (it == tables_.end()) return std::nullopt;
    return it->second;
  }

  // iptables-restore --noflush semantics: *table, :CHAIN POLICY, -A -I -D -N -X -F -P, COMMIT.
  core::Status apply_restore(Family f, const std::string& text) {
    std::lock_guard lock(mu_);
    std::map<std::pair<Family, std::string>, Table> work = tables_;
    Table* cur = nullptr;
    size_t line_no = 0;
    size_t pos = 0;
    auto fail = [&](const std::string& why) -> core::Status {
      return core::EnvError{core::EnvErrorKind::kInvalidInput,
                            "restore line " + std::to_string(line_no) + ": " + why};
    };
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (line.empty() || line[0] == '#') continue;
      if (line[0] == '*') {
        auto& t = work[{f, line.substr(1)}];
        t.name = line.substr(1);
        if (t.chains.empty()) {
          for (const auto& b : netfilter::builtin_chains(t.name)) {
            netfilter::Chain c;
            c.name = b;
            c.policy = "ACCEPT";
            t.chains.push_back(c);
          }
        }
        cur = &t;
        continue;
      }
      if (!cur) return fail("no table");
      if (line == "COMMIT") {
        cur = nullptr;
        continue;
      }
      if (line[0] == ':') {
        auto args = netfilter::split_args(line.substr(1));
        if (!args || args->size() < 2) return fail("bad chain line");
        netfilter::Chain* c = cur->find((*args)[0]);
        if ((*args)[1] == "-") {
          if (c && c->builtin()) return fail("cannot redeclare built-in " + c->name);
          if (c) {
            c->rules.clear();  // --noflush: a declared user chain is flushed
          } else {
            netfilter::Chain n;
            n.name = (*args)[0];
            cur->chains.push_back(n);
          }
        } else {
          if (!c || !c->builtin()) return fail("policy for non-built-in chain " + (*args)[0]);
          c->policy = (*args)[1];
        }
        continue;
      }
      auto st = apply_command(*cur, line);
      if (!st) return fail(st.error().message);
    }
    if (cur) return fail("no COMMIT");
    // Validate jumps table-wide after the whole restore, as the kernel does at commit.
    for (auto& [key, t] : work) {
      if (key.first != f) continue;
      for (const auto& c : t.chains) {
        for (const auto& r : c.rules) {
          if (r.target.empty() || t.has(r.target) || is_extension_target(r.target)) continue;
          return core::EnvError{core::EnvErrorKind::kInvalidInput,
                                "restore: chain " + c.name + " jumps to missing chain " + r.target};
        }
      }
    }
    tables_ = std::move(work);
    ++version_;
    return core::Ok{};
  }

  // Direct edits, as another writer would make them.
  void flush_table(Family f, const std::string& table, bool delete_chains = true) {
    std::lock_guard lock(mu_);
    auto& t = tables_[{f, table}];
    std::vector<netfilter::Chain> kept;
    for (auto& c : t.chains) {
      c.rules.clear();
      if (c.builtin() || !delete_chains) kept.push_back(c);
    }
    t.chains = std::move(kept);
    ++version_;
  }
  void set_read_error(std::optional<core::EnvError> e) {
    std::lock_guard l(mu_);
    read_error_ = std::move(e);
  }
  void set_commit_error(std::optional<core::EnvError> e) {
    std::lock_guard l(mu_);
    commit_error_ = std::move(e);
  }
  void set_unavailable(std::optional<core::EnvError> e) {
    std::lock_guard l(mu_);
    unavailable_ = std::move(e);
  }
  // Reads return this text as the dump (malformed tool output).
  void set_garbage(std::optional<std::string> g) {
    std::lock_guard l(mu_);
    garbage_ = std::move(g);
  }
  // Runs after every successful commit (a writer fighting the guard).
  void after_commit(std::function<void()> fn) {
    std::lock_guard l(mu_);
    after_commit_ = std::move(fn);
  }

  std::vector<std::string> restores() const {
    std::lock_guard l(mu_);
    return restores_;
  }
  // Commits made through the Backend interface (the guard's), not the test's own restores.
  int commits() const {
    std::lock_guard l(mu_);
    return commits_;
  }
  int reads() const {
    std::lock_guard l(mu_);
    return reads_;
  }
  int token_reads() const {
    std::lock_guard l(mu_);
    return token_reads_;
  }

  static bool is_extension_target(const std::string& t) {
    static const std::set<std::string> k = {
        "ACCEPT",     "DROP",     "RETURN", "QUEUE",    "NFQUEUE", "REJECT",  "DNAT", "SNAT",
        "MASQUERADE", "REDIRECT", "MARK",   "CONNMARK", "LOG",     "NOTRACK", "CT",   "TPROXY",
        "TCPMSS",     "CLASSIFY", "NFLOG",  "SET",      "TRACE",   "CHECKSUM"};
    return k.count(t) > 0;
  }

 private:
  static core::Status bad(const std::string& why) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput, why};
  }

  core::Status apply_command(Table& t, const std::string& line) {
    auto args = netfilter::split_args(line);
    if (!args || args->size() < 2) return bad("bad command");
    const std::string cmd = (*args)[0];
    const std::string chain = (*args)[1];
    // The rule spec is the raw text after "<cmd> <chain> [num] ".
    auto rest_after = [&](size_t tokens) {
      size_t p = 0;
      for (size_t k = 0; k < tokens; ++k) {
        while (p < line.size() && line[p] == ' ') ++p;
        while (p < line.size() && line[p] != ' ') ++p;
      }
      while (p < line.size() && line[p] == ' ') ++p;
      return line.substr(p);
    };
    auto is_num = [](const std::string& s) {
      return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
    };
    netfilter::Chain* c = t.find(chain);
    if (cmd == "-N") {
      if (c) return bad("chain " + chain + " already exists");
      netfilter::Chain n;
      n.name = chain;
      t.chains.push_back(n);
      return core::Ok{};
    }
    if (!c) return bad("no chain " + chain);
    if (cmd == "-F") {
      c->rules.clear();
      return core::Ok{};
    }
    if (cmd == "-X") {
      if (c->builtin()) return bad("cannot delete built-in chain " + chain);
      for (const auto& o : t.chains) {
        for (const auto& r : o.rules) {
          if (r.target == chain) return bad("chain " + chain + " is referenced");
        }
      }
      t.chains.erase(t.chains.begin() + (c - t.chains.data()));
      return core::Ok{};
    }
    if (cmd == "-A" || cmd == "-I" || cmd == "-D") {
      size_t num = 0;
      size_t skip = 2;
      if (args->size() > 2 && is_num((*args)[2]) && cmd != "-A") {
        num = std::stoul((*args)[2]);
        skip = 3;
      }
      netfilter::Rule r;
      r.spec = rest_after(skip);
      if (auto st = netfilter::parse_rule_fields(r); !st) return st;
      if (cmd == "-A") {
        c->rules.push_back(std::move(r));
      } else if (cmd == "-I") {
        const size_t at = num == 0 ? 1 : num;
        if (at > c->rules.size() + 1) return bad("index of insertion too big");
        c->rules.insert(c->rules.begin() + static_cast<std::ptrdiff_t>(at - 1), std::move(r));
      } else {
        if (skip == 3 && r.spec.empty()) {
          if (num == 0 || num > c->rules.size()) return bad("index of deletion too big");
          c->rules.erase(c->rules.begin() + static_cast<std::ptrdiff_t>(num - 1));
        } else {
          auto it = std::find_if(c->rules.begin(), c->rules.end(),
                                 [&](const netfilter::Rule& x) { return x.spec == r.spec; });
          if (it == c->rules.end())
            return bad("bad rule (does a matching rule exist in that chain?)");
          c->rules.erase(it);
        }
      }
      return core::Ok{};
    }
    if (cmd == "-P") {
      if (!c->builtin() || args->size() < 3) return bad("bad policy");
      c->policy = (*args)[2];
      return core::Ok{};
    }
    return bad("unknown command " + cmd);
  }

  netfilter::BackendKind kind_;
  mutable std::mutex mu_;
  std::map<std::pair<Family, std::string>, Table> tables_;
  std::uint64_t version_ = 1;
  std::optional<core::EnvError> read_error_, commit_error_, unavailable_;
  std::optional<std::string> garbage_;
  std::function<void()> after_commit_;
  std::vector<std::string> restores_;
  int commits_ = 0, reads_ = 0, token_reads_ = 0;
  FastMode fast_mode_ = FastMode::kOff;
  std::vector<bool> fast_requests_;
};

}  // namespace ng::testing
