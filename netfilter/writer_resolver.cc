#include "netfilter/writer_resolver.h"

#include <array>
#include <optional>
#include <utility>
#include <vector>

namespace ng::netfilter {

namespace {

constexpr size_t kMaxLines = 64;  // cgroup v1 has about a dozen hierarchies
constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxComponents = 32;
constexpr size_t kMaxUnit = 256;  // systemd's own limit on unit names

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool is_hex_id(std::string_view s, size_t min_len) {
  if (s.size() < min_len || s.size() > 128) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A systemd unit name as systemd allows it: [A-Za-z0-9:_.\-@\\], a name before the suffix.
bool is_unit(std::string_view c) {
  if (c.size() > kMaxUnit || !(ends_with(c, ".service") || ends_with(c, ".scope"))) return false;
  if (c.front() == '.') return false;
  for (char ch : c) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == ':' || ch == '_' || ch == '.' || ch == '-' ||
                    ch == '@' || ch == '\\';
    if (!ok) return false;
  }
  return true;
}

struct Found {
  std::string id;
  std::string runtime;
};

// The systemd driver's transient scopes: <runtime>-<id>.scope. The runtimes' conmon scopes
// (crio-conmon-, libpod-conmon-) hold the monitor, not the container, and are not containers.
std::optional<Found> scoped_container(std::string_view c) {
  static constexpr std::array<std::string_view, 4> kRuntimes = {"cri-containerd", "crio", "docker",
                                                                "libpod"};
  const bool scope = ends_with(c, ".scope");
  if (scope) c.remove_suffix(6);
  for (auto rt : kRuntimes) {
    if (!starts_with(c, rt) || c.size() <= rt.size() || c[rt.size()] != '-') continue;
    const auto id = c.substr(rt.size() + 1);
    // Without .scope (the cgroupfs driver of CRI-O and podman) only a full id counts.
    if (is_hex_id(id, scope ? 12 : 64)) return Found{std::string(id), std::string(rt)};
  }
  return std::nullopt;
}

// One path component that names a container: a systemd scope, containerd's
// "<pod slice>:cri-containerd:<id>" (cgroup v1 with the systemd driver under containerd.service),
// or a bare 64-hex id (the cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>, /docker/<id>).
std::optional<Found> container_of(std::string_view c, std::string_view parent) {
  if (auto f = scoped_container(c)) return f;
  if (const auto last = c.rfind(':'); last != std::string_view::npos) {
    const auto id = c.substr(last + 1);
    const auto head = c.substr(0, last);
    const auto mid = head.rfind(':');
    if (mid != std::string_view::npos && is_hex_id(id, 12)) {
      return Found{std::string(id), std::string(head.substr(mid + 1))};
    }
  }
  if (is_hex_id(c, 64)) {
    return Found{std::string(c), parent == "docker" ? "docker" : ""};
  }
  return std::nullopt;
}

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty() && out.size() < kMaxComponents) {
    const auto slash = path.find('/');
    const auto c = path.substr(0, slash);
    if (!c.empty()) out.push_back(c);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

// The deepest container and the deepest unit that is not the container's own scope.
CgroupOwner owner_of_path(std::string_view path) {
  CgroupOwner o;
  const auto parts = components(path.substr(0, kMaxPath));
  for (size_t i = parts.size(); i-- > 0;) {
    const std::string_view parent = i > 0 ? parts[i - 1] : std::string_view();
    if (o.container.empty()) {
      if (auto f = container_of(parts[i], parent)) {
        o.container = std::move(f->id);
        o.runtime = std::move(f->runtime);
        continue;
      }
    }
    if (o.unit.empty() && is_unit(parts[i]) && !scoped_container(parts[i])) {
      o.unit = std::string(parts[i]);
    }
  }
  return o;
}

// One line: "hierarchy-ID:controller-list:cgroup-path"; the path may hold ':' itself.
struct Line {
  int rank = 3;  // 0: v2 (0::), 1: v1 name=systemd, 2: other v1 controllers
  std::string_view path;
};
std::optional<Line> parse_line(std::string_view l) {
  const auto c1 = l.find(':');
  if (c1 == std::string_view::npos) return std::nullopt;
  const auto c2 = l.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return std::nullopt;
  const auto id = l.substr(0, c1);
  const auto controllers = l.substr(c1 + 1, c2 - c1 - 1);
  Line out;
  out.path = l.substr(c2 + 1);
  if (!out.path.empty() && out.path.back() == '\r') out.path.remove_suffix(1);
  if (out.path.empty() || out.path.front() != '/') return std::nullopt;
  if (id == "0" && controllers.empty()) {
    out.rank = 0;
  } else if (controllers.find("name=systemd") != std::string_view::npos) {
    out.rank = 1;
  } else {
    out.rank = 2;
  }
  return out;
}

}  // namespace

CgroupOwner parse_cgroup_owner(std::string_view text) {
  std::array<std::vector<std::string_view>, 3> by_rank;
  for (size_t n = 0; !text.empty() && n < kMaxLines; ++n) {
    const auto nl = text.find('\n');
    const auto line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (auto l = parse_line(line); l && l->path != "/") {
      by_rank[static_cast<size_t>(l->rank)].push_back(l->path);
    }
  }
  // The most authoritative line that names anything wins whole: a unit from one hierarchy and
  // a container from another could describe different placements during a migration.
  for (const auto& paths : by_rank) {
    for (auto p : paths) {
      CgroupOwner o = owner_of_path(p);
      if (!o.unit.empty() || !o.container.empty()) return o;
    }
  }
  return {};
}

std::string short_container_id(std::string_view id) {
  return std::string(id.substr(0, 12));
}

CgroupWriterResolver::CgroupWriterResolver(core::Files& files, std::string proc_root)
    : files_(files), proc_root_(std::move(proc_root)) {
  while (proc_root_.size() > 1 && proc_root_.back() == '/') proc_root_.pop_back();
}

void CgroupWriterResolver::operator()(ChangeWriter& w) {
  if (w.pid == 0) return;
  auto text = files_.read_prefix(proc_root_ + "/" + std::to_string(w.pid) + "/cgroup", kReadLimit);
  if (!text) {
    ++gone_;  // exited before we looked (nft -f is quick): pid and comm are all there is
    return;
  }
  CgroupOwner o = parse_cgroup_owner(*text);
  w.unit = std::move(o.unit);
  w.container = std::move(o.container);
  ++resolved_;
}

}  // namespace ng::netfilter
