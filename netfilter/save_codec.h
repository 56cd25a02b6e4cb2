#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// iptables-save / iptables-restore text, both directions. Pure functions, no I/O.
//
// parse_save() accepts what iptables-save and ip6tables-save (legacy and nft) print: comment
// lines, "*table", ":CHAIN POLICY [p:b]", "[p:b] -A CHAIN spec" and "COMMIT". render_save() of a
// parsed dump gives back the same bytes. Errors are kInvalidInput with the line number, the
// reason and the offending line: a dump that does not parse is rejected whole, so nothing is
// ever planned or applied from half a table.

core::Result<SaveFile> parse_save(std::string_view text);
// Exactly one table expected (iptables-save -t NAME); an empty dump yields an empty table.
core::Result<Table> parse_table(std::string_view text, std::string_view table);

struct RenderOptions {
  bool comments = true;  // the before/after comment lines
  bool counters = true;  // "[p:b]" on chains and rules (without: chains get "[0:0]")
  bool blobs = false;    // "#blob <base64>" lines before rules that carry one (snapshot files)
};
std::string render_save(const SaveFile& file, const RenderOptions& opts = {});
std::string render_table(const Table& table, const RenderOptions& opts = {});
// "-A CHAIN spec" (without counters).
std::string render_rule(std::string_view chain, const Rule& rule);

// Splits one restore line into arguments like iptables-restore does: whitespace separates,
// double quotes group, a backslash inside quotes escapes the next character. Error text on an
// unterminated quote.
core::Result<std::vector<std::string>> split_args(std::string_view line);

// Fills target/is_goto/comment of a rule from its spec. Error on a dangling -j/-g/--comment or
// an unterminated quote.
core::Status parse_rule_fields(Rule& rule);

// Quotes a value the way iptables-save does (xtables_save_string): bare when it is made only of
// [A-Za-z0-9_-], else in double quotes with \" \\ \' escaped.
std::string save_quote(std::string_view value);

std::string base64_encode(std::string_view bytes);
core::Result<std::string> base64_decode(std::string_view text);

}  // namespace ng::netfilter
