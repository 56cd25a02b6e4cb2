#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "probes/logs/rules.h"

struct hs_database;
struct hs_scratch;

namespace ng::probes::logs {

// Compiles every rule's pattern into one Hyperscan database per source kind, so each line is
// scanned once for all the rules that apply to it. Patterns match anywhere in the line
// (node-problem-detector anchors them at the end; its patterns end in ".*" for that reason, so
// they match the same lines here). A pattern Hyperscan cannot compile (back-references,
// look-around, empty matches) rejects that rule alone, with an error naming it. Rules with
// match_quoted false get a database of their own for kubelet lines, scanned over the line with
// pod-quoted text masked (quote_mask.h); only kubelet lines pay for that.
class RuleMatcher {
 public:
  RuleMatcher() = default;
  ~RuleMatcher();
  RuleMatcher(RuleMatcher&&) noexcept;
  RuleMatcher& operator=(RuleMatcher&&) noexcept;

  // rules[i] keeps id i. Errors (one per rejected rule) are appended to *errors.
  static RuleMatcher compile(const std::vector<Rule>& rules, std::vector<std::string>* errors);

  // Ids of the rules matching `line`, each at most once, in ascending order; the returned
  // view stays valid until the next scan. Loop thread only (one scratch).
  const std::vector<unsigned>& scan(SourceKind kind, std::string_view line);

  // Whole-chunk prefilter: one scan over many raw lines for every rule's required literals
  // (required_literals.h; the rule's own pattern where it has none long enough), which finds
  // where a rule may match. A line whose message lies contiguous in the chunk needs its own
  // scan only if a prefilter match ends inside it; anything else (joined partials, unescaped
  // JSON) is scanned alone. Appends match end offsets (ascending); false when this source kind
  // cannot use it (a rule without literals is anchored with ^ or $), so every line must be
  // scanned.
  bool prefilter(SourceKind kind, std::string_view chunk, std::vector<std::uint32_t>* ends);

  bool usable(unsigned id) const { return id < usable_.size() && usable_[id]; }
  size_t rules_loaded() const;
  bool empty(SourceKind kind) const {
    return dbs_[static_cast<int>(kind)] == nullptr &&
           (kind != SourceKind::kKubelet || masked_db_ == nullptr);
  }

 private:
  std::array<hs_database*, kSourceKinds> dbs_{};
  std::array<hs_database*, kSourceKinds> prefilter_dbs_{};  // required literals (see .cc)
  std::array<bool, kSourceKinds> anchored_{};
  hs_database* masked_db_ = nullptr;  // kubelet rules with match_quoted false
  std::string masked_;                // the line they are scanned over
  hs_scratch* scratch_ = nullptr;
  std::vector<bool> usable_;
  std::vector<unsigned> hits_;
  std::vector<std::uint8_t> seen_;
  // Compiles rules[i] for every i in `want` that is still usable into *db; a rule whose
  // pattern does not compile is marked unusable (error naming it) and the rest compiled again.
  // Returns the ids compiled.
  std::vector<unsigned> compile_db(const std::vector<Rule>& rules,
                                   const std::vector<std::string>& trimmed,
                                   const std::vector<unsigned>& want, const std::string& what,
                                   hs_database** db, std::vector<std::string>* errors);
  void compile_prefilter(int k, const std::vector<Rule>& rules,
                         const std::vector<std::string>& trimmed, const std::vector<unsigned>& ids,
                         const std::vector<unsigned>& masked_ids);
  static int on_match(unsigned int id, unsigned long long, unsigned long long, unsigned int,
                      void* ctx);
};

// One pattern for a TailLogs filter. nullopt with *error when it does not compile.
class LineRegex {
 public:
  static std::unique_ptr<LineRegex> compile(const std::string& pattern, std::string* error);
  ~LineRegex();
  bool matches(std::string_view line);

 private:
  LineRegex() = default;
  hs_database* db_ = nullptr;
  hs_scratch* scratch_ = nullptr;
};

}  // namespace ng::probes::logs
