#include "netfilter/native/native_config.h"

#include <sstream>

#include "netfilter/native/native_snapshot.h"

namespace ng::netfilter::native {

using namespace std::chrono_literals;

namespace {
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  return out;
}

bool name_ok(const std::string& n, size_t max) {
  if (n.empty() || n.size() > max) return false;
  for (char ch : n) {
    if (static_cast<unsigned char>(ch) < 0x21 || ch == 0x7f) return false;
  }
  return true;
}
}  // namespace

std::variant<NativeTableSpec, std::string> parse_native_table_spec(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> tokens;
  for (std::string t; in >> t;) tokens.push_back(t);
  if (tokens.size() < 2 || tokens.size() > 3) {
    return "want \"FAMILY NAME [OWNER[,OWNER...]]\", got \"" + s + "\"";
  }
  NativeTableSpec spec;
  const auto proto = nfproto_from_name(tokens[0]);
  if (!proto) {
    return "unknown family \"" + tokens[0] + "\" (ip, ip6, inet, arp, bridge, netdev)";
  }
  spec.table.nfproto = *proto;
  if (!name_ok(tokens[1], 255)) return "bad table name \"" + tokens[1] + "\"";
  spec.table.name = tokens[1];
  if (tokens.size() == 3) {
    for (const auto& o : split(tokens[2], ',')) {
      if (!name_ok(o, 15)) {
        return "bad owner \"" + o + "\" (a process name of 1 to 15 characters)";
      }
      spec.owners.push_back(o);
    }
  }
  return spec;
}

void bind_native_config(core::ConfigBinder& b, NativeTablesConfig& c) {
  b.field("nft_tables", c.tables,
          "Native nftables tables guarded whole, one \"FAMILY NAME [OWNER[,OWNER...]]\" each "
          "(family ip, ip6, inet, arp, bridge or netdev; owners: the process names, as in "
          "/proc/PID/comm, of the table's owner, or of the parent of the `nft` it runs). A "
          "wipe-shaped change (table deleted, its chains gone, its base chains emptied) by a "
          "process that is not an owner is undone from the last snapshot; every other change "
          "is learned. Empty list: the native guard is off. See docs/nftables.md.",
          [](const std::string& s) -> std::optional<std::string> {
            auto r = parse_native_table_spec(s);
            if (auto* err = std::get_if<std::string>(&r)) return *err;
            return std::nullopt;
          });
  b.field("nft_tables_coalesce", c.coalesce,
          "Quiet time before a native table is read again after its owner (or anyone) changed "
          "it without wiping it: a burst of transactions costs one read. Wipe-shaped "
          "transactions (deletions by a non-owner) are read at once.",
          core::duration_range(0ms, 60s));
}

std::vector<NativeTableSpec> native_table_specs(const NativeTablesConfig& c) {
  std::vector<NativeTableSpec> out;
  for (const auto& s : c.tables) {
    auto r = parse_native_table_spec(s);
    if (auto* spec = std::get_if<NativeTableSpec>(&r)) out.push_back(std::move(*spec));
  }
  return out;
}

}  // namespace ng::netfilter::native
