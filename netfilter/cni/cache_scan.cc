#include "netfilter/cni/cache_scan.h"

namespace ng::netfilter::cni {

namespace {

constexpr std::int64_t kYoungNs = 2'000'000'000;

ScannedFile interpret(CacheStore& store, const std::string& name, const FileStamp& stamp,
                      const PortmapVersion& version, std::int64_t now_ns) {
  ScannedFile f;
  f.stamp = stamp;
  auto bytes = store.read(name, kMaxCacheFileBytes);
  if (!bytes) {
    f.parsed = CacheFileError{SkipReason::kUnreadable, bytes.error().message};
    return f;
  }
  f.parsed = parse_cache_file(*bytes);
  if (auto* entry = std::get_if<CacheEntry>(&f.parsed)) {
    f.plan = plan_portmap(*entry, version);
    if (!f.plan.invalid.empty()) {
      f.parsed = CacheFileError{SkipReason::kMalformed, f.plan.invalid};
      f.plan = {};
    }
  }
  if (const auto* err = std::get_if<CacheFileError>(&f.parsed)) {
    const bool partial =
        err->reason == SkipReason::kTruncated || err->reason == SkipReason::kMalformed;
    f.young = partial && now_ns - stamp.mtime_ns < kYoungNs;
  }
  return f;
}

}  // namespace

ScanReport scan_cache(CacheStore& store, SandboxProbe& probe,
                      const std::map<std::string, KnownFile>& known, const PortmapVersion& version,
                      std::int64_t now_ns) {
  ScanReport r;
  auto stamp = store.dir_stamp();
  if (!stamp) {
    if (stamp.error().kind == core::EnvErrorKind::kNotFound) {
      r.dir_missing = true;
    } else {
      r.error = stamp.error();
    }
    return r;
  }
  r.dir_stamp = *stamp;
  auto files = store.list();
  if (!files) {
    r.error = files.error();
    return r;
  }
  for (const auto& [name, st] : *files) {
    r.names.push_back(name);
    std::string netns;
    auto it = known.find(name);
    if (it != known.end() && it->second.stamp == st) {
      netns = it->second.netns;
      if (netns.empty()) continue;  // a skipped file, or an entry without a namespace
    } else {
      ScannedFile f = interpret(store, name, st, version, now_ns);
      if (const auto* e = std::get_if<CacheEntry>(&f.parsed)) netns = e->netns_path();
      const bool entry = std::holds_alternative<CacheEntry>(f.parsed);
      r.changed.emplace(name, std::move(f));
      if (!entry) continue;
    }
    r.presence[name] = probe.netns(netns);
  }
  return r;
}

}  // namespace ng::netfilter::cni
