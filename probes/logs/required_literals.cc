#include "probes/logs/required_literals.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>

namespace ng::probes::logs {
namespace {

using Strings = std::vector<std::string>;

constexpr size_t kMaxExact = 16;    // strings tracked for one node before giving up on it
constexpr size_t kMaxFactor = 64;   // strings in a factor set built from alternatives
constexpr size_t kMaxLength = 256;  // bytes of one literal
constexpr size_t kMaxClass = 4;     // a class this small ([Nn], 50[234]) is expanded
constexpr int kMaxDepth = 64;       // nested groups before giving up (bounded stack)
constexpr size_t kGoodLength = 12;  // a literal this long rarely occurs by chance
constexpr size_t kMinTrimmed = 8;   // trimming to letters keeps at least this (trimmed_edges)
constexpr size_t kMinLiteral = 4;   // and trimming spaces at least this
constexpr int kUnbounded = std::numeric_limits<int>::max();

// What a node of the pattern can match, as far as literals go. `exact` over-approximates the
// strings the node matches (every match is one of them); `factor` is a set one of which occurs
// in every match. Neither known: the node is opaque (a class, ".", a repeat).
struct Info {
  std::optional<Strings> exact;
  std::optional<Strings> factor;
};

bool has_empty(const Strings& s) {
  return std::any_of(s.begin(), s.end(), [](const std::string& x) { return x.empty(); });
}

// Sorted, without duplicates and without strings that contain another member: a string holding
// "abc" also holds "abc" when it holds "xabcx", so the longer one adds nothing.
Strings simplified(Strings s) {
  std::sort(s.begin(), s.end(), [](const std::string& a, const std::string& b) {
    return a.size() < b.size() || (a.size() == b.size() && a < b);
  });
  s.erase(std::unique(s.begin(), s.end()), s.end());
  Strings out;
  for (auto& x : s) {
    const bool covered = std::any_of(out.begin(), out.end(), [&](const std::string& kept) {
      return x.find(kept) != std::string::npos;
    });
    if (!covered) out.push_back(std::move(x));
  }
  return out;
}

size_t shortest(const Strings& s) {
  size_t n = kMaxLength + 1;
  for (const auto& x : s) n = std::min(n, x.size());
  return n;
}

// The better of two factor sets for a prefilter: a set whose literals are all long enough to
// be rare wins, then among those the one with fewer strings (each literal costs the matcher; the
// cross product of "(a|b) (c|d)" adds up fast); otherwise the longer shortest literal.
bool better(const Strings& a, const Strings& b) {
  const size_t sa = shortest(a), sb = shortest(b);
  const bool ga = sa >= kGoodLength, gb = sb >= kGoodLength;
  if (ga != gb) return ga;
  if (ga && a.size() != b.size()) return a.size() < b.size();
  return sa != sb ? sa > sb : a.size() < b.size();
}

// Hyperscan's literal matcher keys on a literal's edge bytes; digits, spaces and punctuation
// there ("etcdserver: ", "code=") fill logs and make it confirm candidates all the time. Any
// substring of a required literal is required too, so the edges are cut back to letters when
// that leaves a literal long enough to stay rare; otherwise only spaces are cut ("HTTP/1.0\" 502 "
// must not become "HTTP"). Took ~40 % off the prefilter's
// time on the benchmark's log (tools/bench/logs.sh).
std::string trimmed_edges(const std::string& s) {
  auto cut = [&](auto keep) {
    size_t b = 0, e = s.size();
    while (b < e && !keep(s[b])) ++b;
    while (e > b && !keep(s[e - 1])) --e;
    return s.substr(b, e - b);
  };
  std::string letters =
      cut([](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
  if (letters.size() >= kMinTrimmed) return letters;
  std::string spaces = cut([](char c) { return c != ' '; });
  return spaces.size() >= kMinLiteral ? spaces : s;
}

Info literal(Strings exact) {
  Info i;
  if (!has_empty(exact)) i.factor = exact;
  i.exact = std::move(exact);
  return i;
}

class Reader {
 public:
  explicit Reader(std::string_view p) : p_(p) {}

  std::optional<Info> read() {
    Info i = alternation(0);
    if (failed_ || pos_ != p_.size()) return std::nullopt;
    return i;
  }

 private:
  std::string_view p_;
  size_t pos_ = 0;
  bool failed_ = false;

  bool at_end() const { return pos_ >= p_.size(); }
  char peek(size_t ahead = 0) const { return pos_ + ahead < p_.size() ? p_[pos_ + ahead] : '\0'; }
  Info fail() {
    failed_ = true;
    return {};
  }

  // branch ('|' branch)*
  Info alternation(int depth) {
    if (depth > kMaxDepth) return fail();
    std::vector<Info> branches{sequence(depth)};
    while (!failed_ && peek() == '|') {
      ++pos_;
      branches.push_back(sequence(depth));
    }
    if (failed_) return {};
    if (branches.size() == 1) return std::move(branches[0]);
    Info out;
    Strings exact, factor;
    bool all_exact = true, all_factor = true;
    for (auto& b : branches) {
      if (b.exact) {
        exact.insert(exact.end(), b.exact->begin(), b.exact->end());
      } else {
        all_exact = false;
      }
      if (b.factor) {
        factor.insert(factor.end(), b.factor->begin(), b.factor->end());
      } else {
        all_factor = false;
      }
    }
    if (all_exact) {
      std::sort(exact.begin(), exact.end());
      exact.erase(std::unique(exact.begin(), exact.end()), exact.end());
      if (exact.size() <= kMaxExact) out.exact = std::move(exact);
    }
    if (all_factor) {
      factor = simplified(std::move(factor));
      if (factor.size() <= kMaxFactor) out.factor = std::move(factor);
    }
    return out;
  }

  // Items up to '|', ')' or the end. Runs of items with exact strings are multiplied out; each
  // run, each stretch of items with exactly one string (one literal, no variants), and the
  // factor of every other item are candidates; the best candidate is the factor.
  Info sequence(int depth) {
    Strings run{""};
    std::string single;  // the items since the last one with several strings: one literal
    bool all_exact = true;
    std::optional<Strings> best;
    auto consider = [&](Strings s) {
      if (s.empty() || has_empty(s)) return;
      s = simplified(std::move(s));
      if (!best || better(s, *best)) best = std::move(s);
    };
    auto close_single = [&] {
      if (!single.empty()) consider({single});
      single.clear();
    };
    auto close_run = [&] {
      consider(run);
      run = {""};
      close_single();
    };
    while (!failed_ && !at_end() && peek() != '|' && peek() != ')') {
      Info item = quantified(atom(depth));
      if (failed_) return {};
      if (!item.exact) {
        all_exact = false;
        close_run();
        if (item.factor) consider(*item.factor);
        continue;
      }
      if (item.exact->size() == 1 && single.size() + item.exact->front().size() <= kMaxLength) {
        single += item.exact->front();
      } else {
        close_single();
        if (item.exact->size() == 1) single = item.exact->front().substr(0, kMaxLength);
      }
      Strings product;
      bool fits = run.size() * item.exact->size() <= kMaxExact;
      if (fits) {
        for (const auto& a : run) {
          for (const auto& b : *item.exact) {
            if (a.size() + b.size() > kMaxLength) fits = false;
            product.push_back(a + b);
          }
        }
      }
      if (fits) {
        run = std::move(product);
      } else {
        // Too many or too long: what the run has so far still occurs in every match.
        all_exact = false;
        close_run();
        if (item.exact->size() <= kMaxExact) run = *item.exact;
        if (item.factor) consider(*item.factor);
      }
    }
    Info out;
    if (all_exact) out.exact = run;
    close_run();
    out.factor = std::move(best);
    return out;
  }

  // One of * + ? {n} {n,} {n,m} (then an optional lazy '?' or possessive '+') applied to `x`.
  Info quantified(Info x) {
    if (failed_ || at_end()) return x;
    int lo = 0, hi = 0;
    const char c = peek();
    if (c == '*') {
      lo = 0, hi = kUnbounded, ++pos_;
    } else if (c == '+') {
      lo = 1, hi = kUnbounded, ++pos_;
    } else if (c == '?') {
      lo = 0, hi = 1, ++pos_;
    } else if (c == '{') {
      if (!bounds(&lo, &hi)) return fail();
    } else {
      return x;
    }
    if (peek() == '?' || peek() == '+') ++pos_;
    if (!at_end() && std::strchr("*+?{", peek())) return fail();  // stacked repeats: not followed
    if (hi == 0) return literal({""});
    if (lo == 1 && hi == 1) return x;
    if (lo == 0) {
      if (hi == 1 && x.exact) {
        Strings e = *x.exact;
        e.push_back("");
        return Info{std::move(e), std::nullopt};
      }
      return {};
    }
    return Info{std::nullopt, std::move(x.factor)};  // at least once: its factor still occurs
  }

  // "{n}", "{n,}", "{n,m}"; anything else starting with '{' is refused (PCRE would read some of
  // it as literal text; not worth following).
  bool bounds(int* lo, int* hi) {
    size_t i = pos_ + 1;
    auto number = [&](int* out) {
      const size_t start = i;
      long v = 0;
      while (i < p_.size() && std::isdigit(static_cast<unsigned char>(p_[i])) && v < 100000) {
        v = v * 10 + (p_[i++] - '0');
      }
      *out = static_cast<int>(v);
      return i > start && v < 100000;
    };
    if (!number(lo)) return false;
    *hi = *lo;
    if (i < p_.size() && p_[i] == ',') {
      ++i;
      *hi = kUnbounded;
      if (i < p_.size() && p_[i] != '}' && !number(hi)) return false;
    }
    if (i >= p_.size() || p_[i] != '}' || *hi < *lo) return false;
    pos_ = i + 1;
    return true;
  }

  Info atom(int depth) {
    const char c = p_[pos_++];
    switch (c) {
      case '(':
        return group(depth);
      case '[':
        return char_class();
      case '\\':
        return escape();
      case '.':
        return {};
      case '^':
      case '$':
        return literal({""});  // zero-width: adds no bytes to a match
      case '*':
      case '+':
      case '?':
      case '{':
        return fail();  // nothing to repeat, or a brace PCRE reads as text: not followed
      default:
        return literal({std::string(1, c)});
    }
  }

  Info group(int depth) {
    if (peek() == '?') {
      // Non-capturing and named groups only; flags, look-around, comments, atomic groups,
      // branch resets and the rest change what literals mean here.
      if (peek(1) == ':') {
        pos_ += 2;
      } else if ((peek(1) == '<' || peek(1) == '\'' || (peek(1) == 'P' && peek(2) == '<')) &&
                 name_follows()) {
      } else {
        return fail();
      }
    } else if (peek() == '*') {
      return fail();  // (*VERB)
    }
    Info inner = alternation(depth + 1);
    if (failed_ || peek() != ')') return fail();
    ++pos_;
    return inner;
  }

  // After "(?": "<name>", "P<name>" or "'name'" with a word name; moves past it.
  bool name_follows() {
    size_t i = pos_ + 1;
    if (p_[i] == 'P') ++i;
    const char close = p_[i] == '<' ? '>' : '\'';
    ++i;
    const size_t start = i;
    while (i < p_.size() && (std::isalnum(static_cast<unsigned char>(p_[i])) || p_[i] == '_')) ++i;
    if (i == start || std::isdigit(static_cast<unsigned char>(p_[start])) || i >= p_.size() ||
        p_[i] != close) {
      return false;
    }
    pos_ = i + 1;
    return true;
  }

  Info escape() {
    if (at_end()) return fail();
    const auto c = static_cast<unsigned char>(p_[pos_++]);
    if (c >= 0x80) return fail();
    if (!std::isalnum(c)) return literal({std::string(1, static_cast<char>(c))});
    if (std::strchr("bBAzZG", c)) return literal({""});    // assertions: zero-width
    if (std::strchr("dDwWsShHvVNRXntrfea", c)) return {};  // classes and control characters
    return fail();  // \x, \p, \Q, \k, back-references, ...: not followed
  }

  // A class of at most kMaxClass plain characters becomes those strings; anything else (negated,
  // \d, [:alpha:], wide ranges) is opaque. Refuses what it does not follow.
  Info char_class() {
    bool negated = false, large = false;
    std::string members;
    if (peek() == '^') negated = true, ++pos_;
    bool first = true;
    for (;;) {
      if (at_end()) return fail();
      char c = p_[pos_];
      if (c == ']' && !first) {
        ++pos_;
        break;
      }
      first = false;
      int lo = -1;  // a plain character, or -1 when the item is a set
      if (c == '[' && peek(1) == ':') {
        const size_t end = p_.find(":]", pos_ + 2);
        if (end == std::string_view::npos) return fail();
        pos_ = end + 2;
        large = true;
        continue;
      }
      if (c == '[' && (peek(1) == '=' || peek(1) == '.')) return fail();
      if (!member(&lo)) return fail();
      if (lo < 0) {
        large = true;
        continue;
      }
      if (peek() == '-' && peek(1) != ']' && pos_ + 1 < p_.size()) {
        ++pos_;
        int hi = -1;
        if (!member(&hi)) return fail();
        if (hi < 0) return fail();  // "a-\d": PCRE has its own reading of that
        if (hi < lo) return fail();
        if (hi - lo + 1 > static_cast<int>(kMaxClass)) {
          large = true;
          continue;
        }
        for (int x = lo; x <= hi; ++x) members.push_back(static_cast<char>(x));
        continue;
      }
      members.push_back(static_cast<char>(lo));
    }
    std::sort(members.begin(), members.end());
    members.erase(std::unique(members.begin(), members.end()), members.end());
    if (negated || large || members.empty() || members.size() > kMaxClass) return {};
    Strings s;
    for (char m : members) s.emplace_back(1, m);
    return literal(std::move(s));
  }

  // One item inside a class: a plain character (*out = its byte) or a set (*out = -1).
  bool member(int* out) {
    const auto c = static_cast<unsigned char>(p_[pos_++]);
    if (c != '\\') {
      *out = c;
      return true;
    }
    if (at_end()) return false;
    const auto e = static_cast<unsigned char>(p_[pos_++]);
    if (e >= 0x80) return false;
    if (!std::isalnum(e)) {
      *out = e;
      return true;
    }
    if (std::strchr("dDwWsShHvVntrfeab", e)) {
      *out = -1;  // a set, or a control character: not worth spelling out
      return true;
    }
    return false;
  }
};

}  // namespace

std::optional<Strings> required_literals(std::string_view pattern) {
  // Hyperscan reads a pattern as a C string: past a NUL it sees nothing, and neither may we.
  if (pattern.find('\0') != std::string_view::npos) return std::nullopt;
  auto info = Reader(pattern).read();
  if (!info || !info->factor || info->factor->empty() || has_empty(*info->factor)) {
    return std::nullopt;
  }
  Strings out;
  for (const auto& l : *info->factor) out.push_back(trimmed_edges(l));
  return simplified(std::move(out));
}

}  // namespace ng::probes::logs
