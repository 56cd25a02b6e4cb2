#include "netfilter/snapshot_store.h"

#include <sys/stat.h>

#include <charconv>
#include <fstream>
#include <map>

#include "netfilter/save_codec.h"

namespace ng::netfilter {

namespace {
constexpr std::string_view kMagic = "# nodeguard-snapshot v1";
}

std::string snapshot_file_name(BackendKind b, Family f, const std::string& table) {
  return std::string(to_string(b)) + "-" + std::string(to_string(f)) + "-" + table + ".rules";
}

std::string encode_snapshot(const SnapshotHeader& h, const Table& t) {
  std::string out(kMagic);
  out += " backend=" + std::string(to_string(h.backend));
  out += " family=" + std::string(to_string(h.family));
  out += " table=" + h.table;
  out += " identity=" + (h.identity.empty() ? std::string("-") : h.identity);
  out += std::string(" canary=") + (h.canary ? "1" : "0");
  if (h.taken_at) {
    out += " taken=" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                          h.taken_at->time_since_epoch())
                                          .count());
  }
  out += "\n";
  Table body = t;
  body.before.clear();
  body.after.clear();
  RenderOptions o;
  o.blobs = true;
  o.counters = false;
  out += render_table(body, o);
  return out;
}

core::Result<LoadedSnapshot> decode_snapshot(std::string_view text) {
  auto bad = [](std::string why) {
    return core::EnvError{core::EnvErrorKind::kInvalidInput, "snapshot: " + why};
  };
  const size_t nl = text.find('\n');
  if (nl == std::string_view::npos || text.substr(0, kMagic.size()) != kMagic) {
    return bad("missing \"" + std::string(kMagic) + "\" header");
  }
  std::map<std::string, std::string> kv;
  std::string_view rest = text.substr(kMagic.size(), nl - kMagic.size());
  while (!rest.empty()) {
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    size_t sp = rest.find(' ');
    std::string_view item = rest.substr(0, sp);
    rest = sp == std::string_view::npos ? std::string_view{} : rest.substr(sp);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      if (!item.empty()) return bad("bad header item \"" + std::string(item) + "\"");
      continue;
    }
    kv[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
  }
  LoadedSnapshot out;
  auto b = parse_backend_kind(kv["backend"]);
  auto f = parse_family(kv["family"]);
  if (!b || !f || kv["table"].empty()) return bad("header lacks backend, family or table");
  out.header.backend = *b;
  out.header.family = *f;
  out.header.table = kv["table"];
  out.header.identity = kv["identity"] == "-" ? "" : kv["identity"];
  out.header.canary = kv["canary"] == "1";
  if (auto it = kv.find("taken"); it != kv.end()) {
    std::int64_t secs = 0;
    auto [end, ec] =
        std::from_chars(it->second.data(), it->second.data() + it->second.size(), secs);
    if (ec != std::errc{} || end != it->second.data() + it->second.size() || secs < 0) {
      return bad("bad taken=\"" + it->second + "\"");
    }
    out.header.taken_at = core::WallTime(std::chrono::seconds(secs));
  }
  auto t = parse_table(text.substr(nl + 1), out.header.table);
  if (!t) return bad(t.error().message);
  out.table = std::move(*t);
  return out;
}

std::string host_identity() {
  std::string boot;
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::getline(in, boot);
  struct stat st {};
  std::string ns;
  if (::stat("/proc/self/ns/net", &st) == 0) ns = std::to_string(st.st_ino);
  return boot + "/" + ns;
}

}  // namespace ng::netfilter
