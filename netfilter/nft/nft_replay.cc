#include "netfilter/nft/nft_replay.h"

#include <algorithm>

namespace ng::netfilter {

namespace {

int family_number(Family f) {
  return f == Family::kIPv4 ? 4 : 6;
}

std::string_view view(const void* p, size_t n) {
  return n ? std::string_view(static_cast<const char*>(p), n) : std::string_view();
}

void on_table_cb(void* ctx, const ngnft_table_info* t) {
  static_cast<NftDumpCollector*>(ctx)->on_table(t->family, t->name, t->flags,
                                                view(t->def, t->def_len));
}
void on_chain_cb(void* ctx, const ngnft_chain_info* c) {
  static_cast<NftDumpCollector*>(ctx)->on_chain(c->family, c->table, c->name, c->base != 0,
                                                c->policy, view(c->def, c->def_len));
}
void on_rule_cb(void* ctx, const ngnft_rule_info* r) {
  static_cast<NftDumpCollector*>(ctx)->on_rule(
      r->family, r->table, r->chain, r->handle, view(r->attrs, r->attrs_len), r->replayable != 0,
      r->has_verdict != 0, r->verdict, r->verdict_chain, r->packets);
}

std::optional<std::int32_t> verdict_of(std::string_view target) {
  if (target == "ACCEPT") return NGNFT_VERDICT_ACCEPT;
  if (target == "DROP") return NGNFT_VERDICT_DROP;
  if (target == "RETURN") return NGNFT_VERDICT_RETURN;
  return std::nullopt;
}

// Whether a saved rule and the kernel's rule at the same position are the same rule, as far
// as cheap checks tell; else why not.
std::string disagreement(const Rule& r, const NftKernelRule& k, const ChainIndex& chains) {
  const bool k_jumps =
      k.has_verdict && (k.verdict == NGNFT_VERDICT_JUMP || k.verdict == NGNFT_VERDICT_GOTO);
  const bool to_chain = !r.target.empty() && chains.find(r.target) != nullptr;
  if (to_chain) {
    if (!k_jumps || k.verdict_chain != r.target || (k.verdict == NGNFT_VERDICT_GOTO) != r.is_goto) {
      return "saved rule jumps to " + r.target + ", the kernel's " +
             (k_jumps ? "to " + k.verdict_chain : std::string("does not"));
    }
  } else if (k_jumps) {
    return "the kernel's rule jumps to " + k.verdict_chain + ", the saved one does not";
  } else if (auto v = verdict_of(r.target)) {
    if (!k.has_verdict || k.verdict != *v) return "verdict " + r.target + " not in the kernel's";
  }
  if (!r.comment.empty() && !k.attrs.empty() && k.attrs.find(r.comment) == std::string::npos) {
    return "comment not in the kernel's rule";
  }
  return {};
}

}  // namespace

NftKernelChain* NftKernelTable::find(std::string_view chain) {
  for (auto& c : chains) {
    if (c.name == chain) return &c;
  }
  return nullptr;
}

const NftKernelChain* NftKernelTable::find(std::string_view chain) const {
  return const_cast<NftKernelTable*>(this)->find(chain);
}

NftDumpCollector::NftDumpCollector(Family family, std::string table)
    : family_(family_number(family)) {
  t_.name = std::move(table);
}

const ngnft_dump_cb* NftDumpCollector::callbacks() {
  static const ngnft_dump_cb cb = {on_table_cb, on_chain_cb, on_rule_cb};
  return &cb;
}

void NftDumpCollector::on_table(int family, std::string_view name, std::uint32_t flags,
                                std::string_view def) {
  if (family != family_ || name != t_.name) return;
  t_.exists = true;
  t_.flags = flags;
  t_.def = std::string(def);
}

void NftDumpCollector::on_chain(int family, std::string_view table, std::string_view name,
                                bool base, int policy, std::string_view def) {
  if (family != family_ || table != t_.name || index_.count(name)) return;
  NftKernelChain c;
  c.name = std::string(name);
  c.base = base;
  c.policy = policy;
  c.def = std::string(def);
  index_.emplace(c.name, t_.chains.size());
  t_.chains.push_back(std::move(c));
}

void NftDumpCollector::on_rule(int family, std::string_view table, std::string_view chain,
                               std::uint64_t handle, std::string_view attrs, bool replayable,
                               bool has_verdict, std::int32_t verdict, const char* verdict_chain,
                               std::uint64_t packets) {
  if (family != family_ || table != t_.name) return;
  auto it = index_.find(chain);
  if (it == index_.end()) {
    // Rules of a chain the chain dump did not list (it changed in between): keep them so the
    // counts disagree and the chain is not trusted.
    NftKernelChain c;
    c.name = std::string(chain);
    it = index_.emplace(c.name, t_.chains.size()).first;
    t_.chains.push_back(std::move(c));
  }
  NftKernelRule r;
  r.handle = handle;
  if (replayable) r.attrs = std::string(attrs);
  r.has_verdict = has_verdict;
  r.verdict = verdict;
  if (verdict_chain) r.verdict_chain = verdict_chain;
  r.packets = packets;
  t_.chains[it->second].rules.push_back(std::move(r));
}

NftKernelTable parse_nft_dump(const std::vector<std::string>& replies, Family family,
                              const std::string& table) {
  NftDumpCollector c(family, table);
  for (const auto& r : replies) {
    (void)ngnft_parse_dump(r.data(), r.size(), NftDumpCollector::callbacks(), &c);
  }
  return c.take();
}

std::string nft_rule_blob(std::string_view attrs) {
  std::string b(kNftBlobMagic);
  b += attrs;
  return b;
}

std::optional<std::string_view> nft_blob_attrs(std::string_view blob) {
  if (blob.size() <= kNftBlobMagic.size() || blob.substr(0, kNftBlobMagic.size()) != kNftBlobMagic)
    return std::nullopt;
  std::string_view attrs = blob.substr(kNftBlobMagic.size());
  if (!ngnft_rule_attrs_valid(attrs.data(), attrs.size())) return std::nullopt;
  return attrs;
}

void attach_nft_blobs(Table& text, NftKernelTable& kernel) {
  kernel.unaligned.clear();
  for (auto& kc : kernel.chains) kc.aligned = false;
  const ChainIndex chains(text);
  for (auto& c : text.chains) {
    for (auto& r : c.rules) r.blob.clear();
    NftKernelChain* kc = kernel.find(c.name);
    if (!kc) {
      // iptables-nft-save prints every built-in chain, even those the kernel does not hold.
      if (!c.rules.empty()) kernel.unaligned.push_back(c.name + ": not in the kernel's dump");
      continue;
    }
    if (kc->rules.size() != c.rules.size()) {
      kernel.unaligned.push_back(c.name + ": the kernel holds " + std::to_string(kc->rules.size()) +
                                 " rules, iptables-nft-save printed " +
                                 std::to_string(c.rules.size()));
      continue;
    }
    std::string why;
    size_t i = 0;
    for (; i < c.rules.size() && why.empty(); ++i)
      why = disagreement(c.rules[i], kc->rules[i], chains);
    if (!why.empty()) {
      kernel.unaligned.push_back(c.name + " rule " + std::to_string(i) + ": " + why);
      continue;
    }
    kc->aligned = true;
    for (size_t j = 0; j < c.rules.size(); ++j) {
      if (!kc->rules[j].attrs.empty()) c.rules[j].blob = nft_rule_blob(kc->rules[j].attrs);
    }
  }
}

void remember_defs(NftTableDefs& defs, const NftKernelTable& kernel) {
  if (!kernel.exists) return;
  // A table with flags (dormant, owned by a process) is not iptables-nft's: never re-create it.
  if (kernel.flags != 0) {
    defs = NftTableDefs{};
    return;
  }
  defs.table_known = true;
  defs.table_def = kernel.def;
  for (const auto& c : kernel.chains) {
    if (c.base && !c.def.empty()) defs.base_chains[c.name] = c.def;
  }
}

namespace {

using Op = NftBatchOp;

// Why the plan has a rule to write without a kernel encoding, or "".
std::string missing_encoding(const TablePlan& plan) {
  for (const auto& c : plan.chains) {
    for (const auto& r : c.rules) {
      if (!nft_blob_attrs(r.blob)) return "no kernel encoding of -A " + c.name + " " + r.spec;
    }
  }
  for (const auto& e : plan.edits) {
    if (e.op == BuiltinEdit::Op::kInsert && !nft_blob_attrs(e.rule.blob)) {
      return "no kernel encoding of -A " + e.chain + " " + e.rule.spec;
    }
  }
  return "";
}

// Built-in chains the plan edits or sets a policy on, in the order it first touches them.
std::vector<std::string> touched_builtins(const TablePlan& plan) {
  std::vector<std::string> builtins;
  auto touch = [&](const std::string& n) {
    if (std::find(builtins.begin(), builtins.end(), n) == builtins.end()) builtins.push_back(n);
  };
  for (const auto& e : plan.edits) touch(e.chain);
  for (const auto& p : plan.policies) touch(p.chain);
  return builtins;
}

// A built-in chain's rules as read, with the plan's inserts in their places.
struct Entry {
  const NftKernelRule* existing = nullptr;
  const BuiltinEdit* insert = nullptr;
};

// Appends the batch's messages for plan_nft_batch, step by step; each step returns why the plan
// cannot be written this way, or "".
class BatchBuilder {
 public:
  BatchBuilder(const TablePlan& plan, const NftKernelTable& kernel, const NftTableDefs& defs,
               std::vector<Op>& ops)
      : plan_(plan), kernel_(kernel), defs_(defs), ops_(ops) {}

  std::string create_table() {
    if (kernel_.exists) return "";
    if (!defs_.table_known) {
      return "table " + plan_.table + " is not in the kernel and was never read there";
    }
    push(Op::Kind::kNewTable, "", "create table " + plan_.table).attrs = defs_.table_def;
    return "";
  }

  // Creates the guarded chains the kernel lacks and flushes the others.
  std::string create_and_flush_chains() {
    for (const auto& c : plan_.chains) {
      const NftKernelChain* kc = kernel_.find(c.name);
      if (kc && kc->base) return c.name + " is a base chain in the kernel";
      if (!kc) push(Op::Kind::kNewChain, c.name, "create chain " + c.name);
    }
    for (const auto& c : plan_.chains) {
      if (kernel_.find(c.name)) push(Op::Kind::kFlushChain, c.name, "flush chain " + c.name);
    }
    return "";
  }

  // Creates missing built-in chains and sets the plan's policies.
  std::string set_up_builtin(const std::string& name) {
    int policy = -1;
    for (const auto& p : plan_.policies) {
      if (p.chain != name) continue;
      if (p.policy == "ACCEPT") {
        policy = NGNFT_VERDICT_ACCEPT;
      } else if (p.policy == "DROP") {
        policy = NGNFT_VERDICT_DROP;
      } else {
        return "policy " + p.policy + " of " + name;
      }
    }
    const NftKernelChain* kc = kernel_.find(name);
    if (!kc) {
      auto it = defs_.base_chains.find(name);
      if (it == defs_.base_chains.end()) {
        return "built-in chain " + name + " is not in the kernel and was never read there";
      }
      // Created the way iptables-nft-restore would: policy ACCEPT unless the plan says.
      Op& op = push(Op::Kind::kNewChain, name, "create built-in chain " + name);
      op.attrs = it->second;
      op.policy = policy >= 0 ? policy : NGNFT_VERDICT_ACCEPT;
    } else if (!kc->base) {
      return name + " is not a base chain in the kernel";
    } else if (policy >= 0) {
      push(Op::Kind::kNewChain, name, "policy " + name).policy = policy;
    }
    return "";
  }

  void fill_guarded_chains() {
    for (const auto& c : plan_.chains) {
      for (const auto& r : c.rules) {
        push(Op::Kind::kNewRule, c.name, "-A " + c.name + " " + r.spec).attrs =
            std::string(*nft_blob_attrs(r.blob));
      }
    }
  }

  // Positional edits of a built-in chain, replayed on the chain as read: deletes by handle,
  // inserts next to the nearest rule that stays (after it, or at the head of the chain).
  std::string edit_builtin(const std::string& name) {
    const NftKernelChain* kc = kernel_.find(name);
    bool edited = false;
    for (const auto& e : plan_.edits) edited = edited || e.chain == name;
    if (!edited) return "";
    if (kc && !kc->aligned) {
      return "built-in chain " + name + " did not line up with iptables-nft-save";
    }
    std::vector<Entry> list;
    if (kc) {
      for (const auto& r : kc->rules) list.push_back({&r, nullptr});
    }
    std::string why = apply_edits(name, list);
    if (why.empty()) push_inserts(name, list);
    return why;
  }

 private:
  Op& push(Op::Kind kind, std::string chain, std::string what) {
    Op op;
    op.kind = kind;
    op.chain = std::move(chain);
    op.what = std::move(what);
    ops_.push_back(std::move(op));
    return ops_.back();
  }

  // Pushes the deletes of `name` and places its inserts in `list`.
  std::string apply_edits(const std::string& name, std::vector<Entry>& list) {
    for (const auto& e : plan_.edits) {
      if (e.chain != name) continue;
      if (e.position == 0) return "edit of " + name + " at position 0";
      if (e.op == BuiltinEdit::Op::kDelete) {
        const size_t at = e.position - 1;
        if (at >= list.size() || !list[at].existing) {
          return "delete " + name + " " + std::to_string(e.position) + ": no such rule";
        }
        auto want = nft_blob_attrs(e.rule.blob);
        if (want && *want != list[at].existing->attrs) {
          return "delete " + name + " " + std::to_string(e.position) +
                 ": the kernel holds another rule there";
        }
        Op& op = push(Op::Kind::kDeleteRule, name,
                      "delete " + name + " " + std::to_string(e.position) + ": " + e.rule.spec);
        op.handle = list[at].existing->handle;
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(at));
      } else {
        const size_t at = e.append ? list.size() : e.position - 1;
        if (at > list.size()) {
          return "insert " + name + " " + std::to_string(e.position) + ": past the end";
        }
        list.insert(list.begin() + static_cast<std::ptrdiff_t>(at), Entry{nullptr, &e});
      }
    }
    return "";
  }

  // Pushes each run of inserts in `list` after the rule before it (or at the head).
  void push_inserts(const std::string& name, const std::vector<Entry>& list) {
    for (size_t i = 0; i < list.size();) {
      if (list[i].existing) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < list.size() && !list[j].existing) ++j;
      const NftKernelRule* anchor = i > 0 ? list[i - 1].existing : nullptr;
      // Each lands right after the anchor (or at the head): the last one first.
      for (size_t m = j; m-- > i;) {
        const BuiltinEdit& e = *list[m].insert;
        Op& op = push(Op::Kind::kNewRule, name,
                      "insert " + name + " " + std::to_string(m + 1) + ": " + e.rule.spec);
        op.attrs = std::string(*nft_blob_attrs(e.rule.blob));
        op.where = anchor ? Op::Where::kAfter : Op::Where::kHead;
        op.handle = anchor ? anchor->handle : 0;
      }
      i = j;
    }
  }

  const TablePlan& plan_;
  const NftKernelTable& kernel_;
  const NftTableDefs& defs_;
  std::vector<Op>& ops_;
};

// Runs the batch's steps in order; the first that declines ends it.
std::string build_batch(BatchBuilder& b, const std::vector<std::string>& builtins) {
  std::string why = b.create_table();
  if (why.empty()) why = b.create_and_flush_chains();
  for (const auto& name : builtins) {
    if (why.empty()) why = b.set_up_builtin(name);
  }
  if (why.empty()) b.fill_guarded_chains();
  for (const auto& name : builtins) {
    if (why.empty()) why = b.edit_builtin(name);
  }
  return why;
}

}  // namespace

NftBatchPlan plan_nft_batch(const TablePlan& plan, const NftKernelTable& kernel,
                            const NftTableDefs& defs) {
  NftBatchPlan out;
  std::string why = missing_encoding(plan);
  if (why.empty()) {
    BatchBuilder builder(plan, kernel, defs, out.ops);
    why = build_batch(builder, touched_builtins(plan));
  }
  if (why.empty() && out.ops.empty()) why = "nothing to write";
  if (!why.empty()) {
    out.ops.clear();
    out.declined = std::move(why);
  }
  return out;
}

}  // namespace ng::netfilter
