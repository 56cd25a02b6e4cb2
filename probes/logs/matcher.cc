#include "probes/logs/matcher.h"

#include <hs/hs.h>

#include <algorithm>

namespace ng::probes::logs {
namespace {

constexpr unsigned kFlags = HS_FLAG_SINGLEMATCH;

// Compiles one pattern alone to name the rule when it fails; returns the reason or "".
std::string check_pattern(const std::string& pattern) {
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile(pattern.c_str(), kFlags, HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    std::string why = err && err->message ? err->message : "unknown Hyperscan error";
    hs_free_compile_error(err);
    return why;
  }
  hs_free_database(db);
  return "";
}

int on_match(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  static_cast<std::vector<unsigned>*>(ctx)->push_back(id);
  return 0;
}

int on_any_match(unsigned int, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  *static_cast<bool*>(ctx) = true;
  return 1;  // stop: one match is enough
}

}  // namespace

RuleMatcher::~RuleMatcher() {
  for (auto* db : dbs_) hs_free_database(db);
  hs_free_scratch(scratch_);
}

RuleMatcher::RuleMatcher(RuleMatcher&& o) noexcept
    : dbs_(o.dbs_), scratch_(o.scratch_), usable_(std::move(o.usable_)), hits_(std::move(o.hits_)) {
  o.dbs_ = {};
  o.scratch_ = nullptr;
}

RuleMatcher& RuleMatcher::operator=(RuleMatcher&& o) noexcept {
  if (this != &o) {
    for (auto* db : dbs_) hs_free_database(db);
    hs_free_scratch(scratch_);
    dbs_ = o.dbs_;
    scratch_ = o.scratch_;
    usable_ = std::move(o.usable_);
    hits_ = std::move(o.hits_);
    o.dbs_ = {};
    o.scratch_ = nullptr;
  }
  return *this;
}

RuleMatcher RuleMatcher::compile(const std::vector<Rule>& rules, std::vector<std::string>* errors) {
  RuleMatcher m;
  m.usable_.assign(rules.size(), false);
  for (size_t i = 0; i < rules.size(); ++i) {
    const std::string why = check_pattern(rules[i].pattern);
    if (why.empty()) {
      m.usable_[i] = true;
    } else {
      errors->push_back(rules[i].origin + ": pattern \"" + rules[i].pattern +
                        "\" does not compile: " + why + "; rule skipped");
    }
  }
  for (int k = 0; k < kSourceKinds; ++k) {
    std::vector<const char*> exprs;
    std::vector<unsigned> flags, ids;
    for (size_t i = 0; i < rules.size(); ++i) {
      if (!m.usable_[i] || !(rules[i].sources & (1u << k))) continue;
      exprs.push_back(rules[i].pattern.c_str());
      flags.push_back(kFlags);
      ids.push_back(static_cast<unsigned>(i));
    }
    if (exprs.empty()) continue;
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(exprs.data(), flags.data(), ids.data(),
                         static_cast<unsigned>(exprs.size()), HS_MODE_BLOCK, nullptr, &m.dbs_[k],
                         &err) != HS_SUCCESS) {
      // Every pattern compiled alone, so this is a limit of the whole set (size): say so.
      errors->push_back(std::string("rules for source ") +
                        std::string(to_string(static_cast<SourceKind>(k))) +
                        " do not compile together: " + (err ? err->message : "?"));
      hs_free_compile_error(err);
      m.dbs_[k] = nullptr;
      continue;
    }
    if (hs_alloc_scratch(m.dbs_[k], &m.scratch_) != HS_SUCCESS) {
      errors->push_back("Hyperscan scratch allocation failed");
    }
  }
  m.hits_.reserve(rules.size());
  return m;
}

size_t RuleMatcher::rules_loaded() const {
  return static_cast<size_t>(std::count(usable_.begin(), usable_.end(), true));
}

const std::vector<unsigned>& RuleMatcher::scan(SourceKind kind, std::string_view line) {
  hits_.clear();
  hs_database_t* db = dbs_[static_cast<int>(kind)];
  if (!db || !scratch_) return hits_;
  hs_scan(db, line.data(), static_cast<unsigned>(std::min<size_t>(line.size(), 0xFFFFFFFFu)), 0,
          scratch_, on_match, &hits_);
  if (hits_.size() > 1) std::sort(hits_.begin(), hits_.end());
  return hits_;
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
