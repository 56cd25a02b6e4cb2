#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netfilter/nft/nft_replay_wire.h"
#include "netfilter/repair_plan.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// The nft backend's fast write path, as pure functions: pair the rules iptables-nft-save
// prints with the kernel's own encoding of them (from a netlink dump of the same generation),
// and turn a TablePlan into the messages of one netlink batch that replays those encodings.
// No parsing or translating of rule text: the kernel gets back exactly what it held. The I/O
// lives in nft_replay_wire.{h,c} and NftBackend.

struct NftKernelRule {
  std::uint64_t handle = 0;
  std::string attrs;  // NEWRULE attributes (nft_replay_wire.h); empty: not replayable
  bool has_verdict = false;
  std::int32_t verdict = 0;
  std::string verdict_chain;  // jump/goto target
  std::uint64_t packets = 0;  // what its counters held when dumped (zeroed in attrs)
};

struct NftKernelChain {
  std::string name;
  bool base = false;
  int policy = -1;
  std::string def;  // base chains: hook and type attributes
  std::vector<NftKernelRule> rules;
  // Set by attach_nft_blobs: the chain's rules line up 1:1 with the saved text's.
  bool aligned = false;
};

// One table of one family as the kernel held it at generation `genid`.
struct NftKernelTable {
  std::string name;
  bool exists = false;
  std::uint32_t flags = 0;
  std::string def;  // table attributes (userdata)
  std::vector<NftKernelChain> chains;
  std::uint32_t genid = 0;
  std::vector<std::string> unaligned;  // chains whose rules did not line up, with why

  NftKernelChain* find(std::string_view chain);
  const NftKernelChain* find(std::string_view chain) const;
};

// Collects one table from dump callbacks (ngnft_dump_table / ngnft_parse_dump): messages of
// other families or tables are skipped. Use callbacks() with the C API, then take().
class NftDumpCollector {
 public:
  NftDumpCollector(Family family, std::string table);
  // For the C API, with this collector as ctx.
  static const ngnft_dump_cb* callbacks();
  NftKernelTable take() { return std::move(t_); }

  void on_table(int family, std::string_view name, std::uint32_t flags, std::string_view def);
  void on_chain(int family, std::string_view table, std::string_view name, bool base, int policy,
                std::string_view def);
  void on_rule(int family, std::string_view table, std::string_view chain, std::uint64_t handle,
               std::string_view attrs, bool replayable, bool has_verdict, std::int32_t verdict,
               const char* verdict_chain, std::uint64_t packets);

 private:
  int family_;
  NftKernelTable t_;
  std::map<std::string, size_t, std::less<>> index_;
};

// Parses captured dump replies, one recv buffer per element (tests, fuzzing).
NftKernelTable parse_nft_dump(const std::vector<std::string>& replies, Family family,
                              const std::string& table);

// Rule::blob of an nft rule: "nft1" followed by its NEWRULE attributes.
inline constexpr std::string_view kNftBlobMagic = "nft1";
std::string nft_rule_blob(std::string_view attrs);
// The attributes of a well-formed nft blob; nullopt for anything else (legacy bytes, a
// corrupted snapshot file).
std::optional<std::string_view> nft_blob_attrs(std::string_view blob);

// Gives every rule of `text` (iptables-nft-save of the table) the kernel's encoding of it when,
// chain by chain, the kernel holds as many rules and each pair agrees on what can be checked
// cheaply: the jump/goto target, the verdict, the comment. A chain that does not line up gets
// no blobs and is listed in kernel.unaligned; rules the kernel holds with expressions we do not
// replay get none either. Marks aligned chains in `kernel`.
void attach_nft_blobs(Table& text, NftKernelTable& kernel);

// Definitions seen in earlier reads, to re-create a table and its base chains when something
// deleted the whole table (`nft flush ruleset`, firewalld before 2.0).
struct NftTableDefs {
  bool table_known = false;
  std::string table_def;
  std::map<std::string, std::string> base_chains;  // name -> hook and type attributes
};
void remember_defs(NftTableDefs& defs, const NftKernelTable& kernel);

// One message of the batch.
struct NftBatchOp {
  enum class Kind { kNewTable, kNewChain, kFlushChain, kDeleteRule, kNewRule };
  enum class Where { kEnd, kHead, kAfter };
  Kind kind = Kind::kNewRule;
  std::string chain;
  std::string attrs;         // rule attributes, or the table / base chain definition
  int policy = -1;           // kNewChain of a base chain: NF_ACCEPT (1) / NF_DROP (0); -1: leave it
  std::uint64_t handle = 0;  // kDeleteRule: the rule; kNewRule kAfter: the anchor
  Where where = Where::kEnd;
  std::string what;  // for error messages: the plan step it came from
};

struct NftBatchPlan {
  std::vector<NftBatchOp> ops;
  std::string declined;  // non-empty: the plan cannot be written this way, and why
};

// The plan as one batch against `kernel` (the table as last read; the batch is pinned to its
// generation): missing table and chains created, guarded chains flushed and refilled, jumps in
// built-in chains deleted by handle and inserted next to the handle of their neighbour, policies
// set. Declined when a rule to write has no kernel encoding, a built-in chain to edit did not
// line up, or a table or base chain to create was never seen.
NftBatchPlan plan_nft_batch(const TablePlan& plan, const NftKernelTable& kernel,
                            const NftTableDefs& defs);

}  // namespace ng::netfilter
