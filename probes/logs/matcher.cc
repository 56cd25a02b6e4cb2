#include "probes/logs/matcher.h"

#include <hs/hs.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <set>

#include "probes/logs/quote_mask.h"
#include "probes/logs/required_literals.h"

namespace ng::probes::logs {
namespace {

int on_prefilter_match(unsigned int, unsigned long long, unsigned long long to, unsigned int,
                       void* ctx) {
  auto* ends = static_cast<std::vector<std::uint32_t>*>(ctx);
  const auto e = static_cast<std::uint32_t>(to);
  if (ends->empty() || ends->back() != e) ends->push_back(e);
  return 0;
}

// True when the pattern is anchored (^, $, \A, \z, \Z, \G outside a class): such a pattern
// means something else inside a chunk of many lines than on one line.
bool anchored(const std::string& p) {
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 < p.size() && !in_class && std::strchr("AzZG", p[i + 1])) return true;
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
      if (i + 1 < p.size() && p[i + 1] == '^') ++i;
      if (i + 1 < p.size() && p[i + 1] == ']') ++i;  // "[]...]" and "[^]...]"
      continue;
    }
    if (c == '^' || c == '$') return true;
  }
  return false;
}

// "x.*" matches exactly where "x" does (". " never crosses a line): drop a leading and a
// trailing ".*" so the prefilter does not report every byte after a match.
std::string trim_wildcards(std::string p) {
  while (p.size() > 2 && p.starts_with(".*")) p.erase(0, 2);
  while (p.size() > 2 && p.ends_with(".*") && (p.size() < 3 || p[p.size() - 3] != '\\')) {
    p.resize(p.size() - 2);
  }
  return p;
}

// A literal shorter than this hits too often in ordinary text to be worth a line scan per hit;
// the rule's own pattern prefilters better then.
constexpr size_t kMinPrefilterLiteral = 4;

// `literal` as a pattern matching exactly its bytes.
std::string escaped(const std::string& literal) {
  std::string out;
  for (unsigned char c : literal) {
    if (std::isalnum(c)) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

int on_any_match(unsigned int, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  *static_cast<bool*>(ctx) = true;
  return 1;  // stop: one match is enough
}

}  // namespace

RuleMatcher::~RuleMatcher() {
  for (auto* db : dbs_) hs_free_database(db);
  for (auto* db : prefilter_dbs_) hs_free_database(db);
  hs_free_database(masked_db_);
  hs_free_scratch(scratch_);
}

RuleMatcher::RuleMatcher(RuleMatcher&& o) noexcept
    : dbs_(o.dbs_),
      prefilter_dbs_(o.prefilter_dbs_),
      anchored_(o.anchored_),
      masked_db_(o.masked_db_),
      scratch_(o.scratch_),
      usable_(std::move(o.usable_)),
      hits_(std::move(o.hits_)),
      seen_(std::move(o.seen_)) {
  o.dbs_ = {};
  o.prefilter_dbs_ = {};
  o.masked_db_ = nullptr;
  o.scratch_ = nullptr;
}

RuleMatcher& RuleMatcher::operator=(RuleMatcher&& o) noexcept {
  if (this != &o) {
    for (auto* db : dbs_) hs_free_database(db);
    for (auto* db : prefilter_dbs_) hs_free_database(db);
    hs_free_database(masked_db_);
    hs_free_scratch(scratch_);
    dbs_ = o.dbs_;
    masked_db_ = o.masked_db_;
    o.masked_db_ = nullptr;
    prefilter_dbs_ = o.prefilter_dbs_;
    anchored_ = o.anchored_;
    scratch_ = o.scratch_;
    usable_ = std::move(o.usable_);
    hits_ = std::move(o.hits_);
    seen_ = std::move(o.seen_);
    o.dbs_ = {};
    o.prefilter_dbs_ = {};
    o.scratch_ = nullptr;
  }
  return *this;
}

RuleMatcher RuleMatcher::compile(const std::vector<Rule>& rules, std::vector<std::string>* errors) {
  RuleMatcher m;
  m.usable_.assign(rules.size(), true);
  m.seen_.assign(rules.size(), 0);
  // One database per source kind serves both the chunk prefilter and single lines: it reports
  // every match end (no SINGLEMATCH; scan() keeps one hit per rule). A leading or trailing
  // ".*" does not change whether a line matches, so it is dropped (fewer reports).
  std::vector<std::string> trimmed;
  trimmed.reserve(rules.size());
  for (const auto& r : rules) trimmed.push_back(trim_wildcards(r.pattern));
  for (int k = 0; k < kSourceKinds; ++k) {
    const bool kubelet = k == static_cast<int>(SourceKind::kKubelet);
    std::vector<unsigned> want, want_masked;
    for (size_t i = 0; i < rules.size(); ++i) {
      if (!(rules[i].sources & (1u << k))) continue;
      (kubelet && !rules[i].match_quoted ? want_masked : want).push_back(static_cast<unsigned>(i));
    }
    const std::string kind(to_string(static_cast<SourceKind>(k)));
    const auto ids =
        m.compile_db(rules, trimmed, want, "rules for source " + kind, &m.dbs_[k], errors);
    std::vector<unsigned> masked_ids;
    if (kubelet) {
      masked_ids = m.compile_db(rules, trimmed, want_masked,
                                "node-condition rules for source kubelet", &m.masked_db_, errors);
    }
    if (!ids.empty() || !masked_ids.empty())
      m.compile_prefilter(k, rules, trimmed, ids, masked_ids);
  }
  m.hits_.reserve(rules.size());
  return m;
}

std::vector<unsigned> RuleMatcher::compile_db(const std::vector<Rule>& rules,
                                              const std::vector<std::string>& trimmed,
                                              const std::vector<unsigned>& want,
                                              const std::string& what, hs_database** db,
                                              std::vector<std::string>* errors) {
  for (;;) {
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    for (unsigned i : want) {
      if (!usable_[i]) continue;
      exprs.push_back(trimmed[i].c_str());
      flags.push_back(0);
      ids.push_back(i);
    }
    if (exprs.empty()) return {};
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, db,
                         &err) == HS_SUCCESS) {
      if (hs_alloc_scratch(*db, &scratch_) != HS_SUCCESS) {
        errors->push_back("Hyperscan scratch allocation failed");
      }
      return ids;
    }
    const int bad = err ? err->expression : -1;
    std::string why = err && err->message ? err->message : "unknown Hyperscan error";
    hs_free_compile_error(err);
    *db = nullptr;
    if (bad < 0 || static_cast<size_t>(bad) >= ids.size()) {
      // Not one pattern's fault: a limit of the whole set. Say so and go without.
      errors->push_back(what + " do not compile together: " + why);
      return {};
    }
    // Name the rule, drop it everywhere, and compile the rest again.
    const unsigned id = ids[static_cast<size_t>(bad)];
    usable_[id] = false;
    errors->push_back(rules[id].origin + ": pattern \"" + rules[id].pattern +
                      "\" does not compile: " + why + "; rule skipped");
  }
}

// The chunk prefilter scans for each rule's required literals, and for the rule's own pattern
// where it has none long enough. A line can match a rule only if it holds one of the rule's
// literals, so a line with no hit needs no scan of its own, as before; the literal set is what
// makes the chunk scan faster (docs/benchmarks.md, Logs).
// A rule matched over masked text (masked_ids) can use its literals only when none holds a
// quote or brace: masking removes bytes between those, so any other literal found in the masked
// text is in the line itself. Otherwise its source kind is not prefiltered.
void RuleMatcher::compile_prefilter(int k, const std::vector<Rule>& rules,
                                    const std::vector<std::string>& trimmed,
                                    const std::vector<unsigned>& ids,
                                    const std::vector<unsigned>& masked_ids) {
  std::set<std::string> literals;
  std::vector<std::string> exprs;
  bool any_anchored = false, fallback_anchored = false;
  for (unsigned id : masked_ids) {
    const auto lits = required_literals(trimmed[id]);
    const bool fits =
        !anchored(rules[id].pattern) && lits &&
        std::all_of(lits->begin(), lits->end(), [](const auto& l) {
          return l.size() >= kMinPrefilterLiteral && l.find_first_of("\"{}") == std::string::npos;
        });
    if (!fits) {
      anchored_[k] = true;
      return;
    }
    for (const auto& l : *lits) {
      if (literals.insert(l).second) exprs.push_back(escaped(l));
    }
  }
  for (unsigned id : ids) {
    const bool a = anchored(rules[id].pattern);
    any_anchored = any_anchored || a;
    auto lits = required_literals(trimmed[id]);
    const bool long_enough = lits && std::all_of(lits->begin(), lits->end(), [](const auto& l) {
                               return l.size() >= kMinPrefilterLiteral;
                             });
    if (!long_enough) {
      exprs.push_back(trimmed[id]);
      fallback_anchored = fallback_anchored || a;
      continue;
    }
    for (const auto& l : *lits) {
      if (literals.insert(l).second) exprs.push_back(escaped(l));
    }
  }
  std::vector<const char*> ptrs;
  std::vector<unsigned> flags(exprs.size(), 0), pids(exprs.size(), 0);
  for (const auto& e : exprs) ptrs.push_back(e.c_str());
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(ptrs.data(), flags.data(), pids.data(), static_cast<unsigned>(ptrs.size()),
                       HS_MODE_BLOCK, nullptr, &prefilter_dbs_[k], &err) == HS_SUCCESS &&
      hs_alloc_scratch(prefilter_dbs_[k], &scratch_) == HS_SUCCESS) {
    anchored_[k] = fallback_anchored;
    return;
  }
  // Not expected (every part compiled on its own already); the rules' database still works.
  hs_free_compile_error(err);
  hs_free_database(prefilter_dbs_[k]);
  prefilter_dbs_[k] = nullptr;
  anchored_[k] = any_anchored || !masked_ids.empty() || !dbs_[k];
}

size_t RuleMatcher::rules_loaded() const {
  return static_cast<size_t>(std::count(usable_.begin(), usable_.end(), true));
}

const std::vector<unsigned>& RuleMatcher::scan(SourceKind kind, std::string_view line) {
  hits_.clear();
  if (!scratch_) return hits_;
  const auto len = [](std::string_view s) {
    return static_cast<unsigned>(std::min<size_t>(s.size(), 0xFFFFFFFFu));
  };
  if (hs_database_t* db = dbs_[static_cast<int>(kind)]) {
    hs_scan(db, line.data(), len(line), 0, scratch_, on_match, this);
  }
  if (kind == SourceKind::kKubelet && masked_db_) {
    const std::string_view text = mask_quoted(line, masked_);
    hs_scan(masked_db_, text.data(), len(text), 0, scratch_, on_match, this);
  }
  for (unsigned id : hits_) seen_[id] = 0;
  if (hits_.size() > 1) std::sort(hits_.begin(), hits_.end());
  return hits_;
}

int RuleMatcher::on_match(unsigned int id, unsigned long long, unsigned long long, unsigned int,
                          void* ctx) {
  auto* m = static_cast<RuleMatcher*>(ctx);
  if (!m->seen_[id]) {
    m->seen_[id] = 1;
    m->hits_.push_back(id);
  }
  return 0;
}

bool RuleMatcher::prefilter(SourceKind kind, std::string_view chunk,
                            std::vector<std::uint32_t>* ends) {
  if (empty(kind)) return true;  // no rules for this source: nothing can match
  hs_database_t* db = prefilter_dbs_[static_cast<int>(kind)];
  if (!db) db = dbs_[static_cast<int>(kind)];
  if (!db || anchored_[static_cast<int>(kind)] || !scratch_ || chunk.size() > 0xFFFFFFFFu) {
    return false;
  }
  hs_scan(db, chunk.data(), static_cast<unsigned>(chunk.size()), 0, scratch_, on_prefilter_match,
          ends);
  return true;
}

std::unique_ptr<LineRegex> LineRegex::compile(const std::string& pattern, std::string* error) {
  std::unique_ptr<LineRegex> r(new LineRegex());
  hs_compile_error_t* err = nullptr;
  if (hs_compile(pattern.c_str(), HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY, HS_MODE_BLOCK, nullptr,
                 &r->db_, &err) != HS_SUCCESS) {
    *error = err && err->message ? err->message : "does not compile";
    hs_free_compile_error(err);
    return nullptr;
  }
  if (hs_alloc_scratch(r->db_, &r->scratch_) != HS_SUCCESS) {
    *error = "Hyperscan scratch allocation failed";
    return nullptr;
  }
  return r;
}

LineRegex::~LineRegex() {
  hs_free_database(db_);
  hs_free_scratch(scratch_);
}

bool LineRegex::matches(std::string_view line) {
  bool hit = false;
  hs_scan(db_, line.data(), static_cast<unsigned>(line.size()), 0, scratch_, on_any_match, &hit);
  return hit;
}

}  // namespace ng::probes::logs
