#include "probes/logs/required_literals.h"

#include <gtest/gtest.h>
#include <hs/hs.h>

#include <string>
#include <vector>

#include "probes/logs/logs_component.h"
#include "probes/logs/matcher.h"
#include "probes/logs/rules.h"

namespace ng::probes::logs {
namespace {

using Strings = std::vector<std::string>;

Strings sorted(Strings s) {
  std::sort(s.begin(), s.end());
  return s;
}

Strings lits(std::string_view pattern) {
  auto r = required_literals(pattern);
  return r ? sorted(*r) : Strings{"<none>"};
}

TEST(RequiredLiteralsTest, PlainTextIsItsOwnLiteral) {
  EXPECT_EQ(lits("OOMKilled"), Strings{"OOMKilled"});
  EXPECT_EQ(lits("Remounting filesystem read-only"), Strings{"Remounting filesystem read-only"});
}

TEST(RequiredLiteralsTest, SmallClassesAndAlternativesMultiplyOut) {
  EXPECT_EQ(lits("Stale (file|NFS file) handle"),
            (Strings{"Stale NFS file handle", "Stale file handle"}));
  EXPECT_EQ(lits("no (such|route to) host"), (Strings{"no route to host", "no such host"}));
  EXPECT_EQ(lits("(?:ErrImagePull|ImagePullBackOff)"),
            (Strings{"ErrImagePull", "ImagePullBackOff"}));
  EXPECT_EQ(lits("(?<what>foo|bar)baz"), (Strings{"barbaz", "foobaz"}));
}

TEST(RequiredLiteralsTest, PrefersOneLongLiteralOverManyVariants) {
  // "[Nn]o space" has two spellings; the text after the class is one literal and long enough.
  EXPECT_EQ(lits("[Nn]o space left on device"), Strings{"o space left on device"});
  EXPECT_EQ(lits("[Ee]viction manager: (attempting to reclaim|must evict pod)"),
            Strings{"viction manager"});
}

TEST(RequiredLiteralsTest, OpaquePartsSplitTheLiterals) {
  EXPECT_EQ(lits("task [^ ]+:[0-9]+ blocked for more than [0-9]+ seconds\\."),
            Strings{"blocked for more than"});
  EXPECT_EQ(lits("segfault at [0-9a-f]+ ip [0-9a-f]+"), Strings{"segfault at"});
  EXPECT_EQ(lits("\\d+ errors? in \\w+"), (Strings{"error in", "errors in"}));
  // Repeated at least once: the group's literal still occurs.
  EXPECT_EQ(lits("(retrying )+now"), Strings{"retrying"});
}

TEST(RequiredLiteralsTest, EdgesAreCutBackToLetters) {
  // Digits, spaces and punctuation at a literal's edges are what logs are full of.
  EXPECT_EQ(lits("with CrashLoopBackOff: "), Strings{"with CrashLoopBackOff"});
  EXPECT_EQ(lits("neighbou?r table overflow"), Strings{"r table overflow"});
  // Cutting to letters would leave too little ("HTTP"): only the spaces go.
  EXPECT_EQ(lits("HTTP/1\\.[01]\" 50[234] "),
            (Strings{"HTTP/1.0\" 502", "HTTP/1.0\" 503", "HTTP/1.0\" 504", "HTTP/1.1\" 502",
                     "HTTP/1.1\" 503", "HTTP/1.1\" 504"}));
  // ... but not below four bytes: "ORA-" stays.
  EXPECT_EQ(lits("(ORA|PLS)-[0-9]{5}"), (Strings{"ORA-", "PLS-"}));
}

TEST(RequiredLiteralsTest, EscapesAndAssertions) {
  EXPECT_EQ(lits("java\\.lang\\.OutOfMemoryError"), Strings{"java.lang.OutOfMemoryError"});
  EXPECT_EQ(lits("\\bkernel BUG at\\b"), Strings{"kernel BUG at"});
  EXPECT_EQ(lits("^Killed process$"), Strings{"Killed process"});
  EXPECT_EQ(lits("[]x] value \\[a\\]"), Strings{"value [a"});
}

TEST(RequiredLiteralsTest, NoLiteralWhenAMatchNeedsNone) {
  EXPECT_EQ(lits("(foo)?bar?"), Strings{"ba"});  // every match holds "ba", at least
  for (const char* p : {"[0-9]+", "a?", "x*", "(foo|.*)", ".", "(foo)?b?", "[^a]{2,}", "()"}) {
    EXPECT_FALSE(required_literals(p)) << p;
  }
}

TEST(RequiredLiteralsTest, RefusesSyntaxItDoesNotFollow) {
  const std::string nested = std::string(100, '(') + "a" + std::string(100, ')');
  for (const std::string& p : std::vector<std::string>{"(?i)no space left",
                                                       "(?i:no) space left",
                                                       "\\Qa.b\\E",
                                                       "(foo)\\1 bar",
                                                       "(?=foo)foo",
                                                       "(?<=x)foo",
                                                       "a{,3} foo",
                                                       "foo{bar",
                                                       "\\x41BC",
                                                       "\\p{L}abc",
                                                       "(abc",
                                                       "abc)",
                                                       "[abc",
                                                       "[[=a=]]xyz",
                                                       "*abc",
                                                       "a**b",
                                                       "(?#c)abc",
                                                       "(*UTF8)abc",
                                                       std::string("ab\0cd", 5),
                                                       nested}) {
    EXPECT_FALSE(required_literals(p)) << p;
  }
}

// The property the prefilter relies on, checked with Hyperscan itself: a line that a pattern
// matches holds one of the pattern's literals.
TEST(RequiredLiteralsTest, EveryMatchingLineHoldsALiteral) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"Stale (file|NFS file) handle", {"read: Stale NFS file handle", "Stale file handle x"}},
      {"[Nn]o space left on device", {"write: No space left on device", "no space left on device"}},
      {"(ORA|PLS)-[0-9]{5}", {"ORA-00942: table", "PLS-00201"}},
      {"HTTP/1\\.[01]\" 50[234] ", {"\"GET / HTTP/1.1\" 503 12"}},
      {"(Buffer )?I/O error,? (on )?dev(ice)? [a-z0-9]+",
       {"Buffer I/O error on dev sda1", "I/O error, device sdb"}},
      {"plugin type=\\\\?\"portmap\\\\?\" failed", {"plugin type=\\\"portmap\\\" failed (add)"}},
      {"\\bkernel BUG at\\b", {"kernel BUG at mm/slub.c:123"}},
  };
  for (const auto& [pattern, lines] : cases) {
    auto literals = required_literals(pattern);
    ASSERT_TRUE(literals) << pattern;
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    ASSERT_EQ(hs_compile(pattern.c_str(), 0, HS_MODE_BLOCK, nullptr, &db, &err), HS_SUCCESS)
        << pattern;
    hs_scratch_t* scratch = nullptr;
    ASSERT_EQ(hs_alloc_scratch(db, &scratch), HS_SUCCESS);
    for (const auto& line : lines) {
      bool matched = false;
      hs_scan(
          db, line.data(), static_cast<unsigned>(line.size()), 0, scratch,
          [](unsigned, unsigned long long, unsigned long long, unsigned, void* ctx) {
            *static_cast<bool*>(ctx) = true;
            return 1;
          },
          &matched);
      EXPECT_TRUE(matched) << pattern << " on " << line;
      bool holds = false;
      for (const auto& l : *literals) holds = holds || line.find(l) != std::string::npos;
      EXPECT_TRUE(holds) << pattern << " on " << line;
    }
    hs_free_scratch(scratch);
    hs_free_database(db);
  }
}

// Every shipped rule has literals worth prefiltering for (none falls back to its pattern).
TEST(RequiredLiteralsTest, BuiltInRulesAllHaveLiterals) {
  size_t n = 0;
  for (const auto& [name, text] : builtin_rule_files()) {
    RuleSet set;
    parse_rule_file(text, name, set);
    for (const auto& r : set.rules) {
      auto l = required_literals(r.pattern);
      ASSERT_TRUE(l) << name << ": " << r.pattern;
      for (const auto& s : *l) EXPECT_GE(s.size(), 4u) << r.pattern;
      ++n;
    }
  }
  EXPECT_GT(n, 15u);
}

// The chunk prefilter (literals) still finds every line the rules match, and an anchored rule
// with literals no longer turns the prefilter off.
TEST(RequiredLiteralsTest, PrefilterFindsEveryMatchingLine) {
  std::vector<Rule> rules(3);
  rules[0].pattern = "[Nn]o space left on device";
  rules[1].pattern = "^Killed process [0-9]+";
  rules[2].pattern = "HTTP/1\\.[01]\" 50[234] ";
  std::vector<std::string> errors;
  auto m = RuleMatcher::compile(rules, &errors);
  ASSERT_TRUE(errors.empty());
  const std::vector<std::string> lines = {"2024-05-01T12:00:00Z stdout F all good",
                                          "2024-05-01T12:00:00Z stdout F No space left on device",
                                          "2024-05-01T12:00:00Z stdout F nothing",
                                          "2024-05-01T12:00:00Z stderr F Killed process 12",
                                          "2024-05-01T12:00:00Z stdout F \"GET /x HTTP/1.0\" 502 0",
                                          "2024-05-01T12:00:00Z stdout F ok"};
  std::string chunk;
  std::vector<std::pair<size_t, size_t>> spans;  // message begin, end
  for (const auto& l : lines) {
    const size_t msg = chunk.size() + l.find(" F ") + 3;
    chunk += l;
    spans.emplace_back(msg, chunk.size());
    chunk += '\n';
  }
  std::vector<std::uint32_t> ends;
  ASSERT_TRUE(m.prefilter(SourceKind::kContainer, chunk, &ends));
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto [b, e] = spans[i];
    const bool matches =
        !m.scan(SourceKind::kContainer, std::string_view(chunk).substr(b, e - b)).empty();
    const bool hit = std::any_of(ends.begin(), ends.end(), [&](auto x) { return x > b && x <= e; });
    if (matches) {
      EXPECT_TRUE(hit) << lines[i];
    }
    if (i == 0 || i == 2 || i == 5) {
      EXPECT_FALSE(hit) << lines[i];  // the quiet lines stay quiet
    }
  }
}

}  // namespace
}  // namespace ng::probes::logs
