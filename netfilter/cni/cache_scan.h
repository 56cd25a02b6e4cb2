#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "netfilter/cni/cache_file.h"
#include "netfilter/cni/cache_store.h"
#include "netfilter/cni/portmap_conf.h"
#include "netfilter/cni/sandbox_probe.h"

namespace ng::netfilter::cni {

// What the loop already holds about a file: a file whose stamp did not move is not read again.
struct KnownFile {
  FileStamp stamp;
  std::string netns;  // its entry's network namespace path ("" for skipped files)
};

// A new or changed file, read and interpreted.
struct ScannedFile {
  FileStamp stamp;
  std::variant<CacheEntry, CacheFileError> parsed;
  PortmapPlan plan;  // for entries
  // Looked truncated or malformed but was written less than 2 s ago: libcni writes in place
  // (os.WriteFile), so this may be a write in progress. Not counted; read again next time.
  bool young = false;
};

struct ScanReport {
  std::optional<core::EnvError> error;  // the directory could not be listed (not: absent)
  bool dir_missing = false;             // no results directory: no pod was ever set up
  std::optional<FileStamp> dir_stamp;
  std::vector<std::string> names;                   // every file present now
  std::map<std::string, ScannedFile> changed;       // files new or changed since `known`
  std::map<std::string, PresenceVerdict> presence;  // every present entry's namespace, now
};

// One look at the results directory (a worker's job: stats, reads, the namespace probes).
ScanReport scan_cache(CacheStore& store, SandboxProbe& probe,
                      const std::map<std::string, KnownFile>& known, const PortmapVersion& version,
                      std::int64_t now_ns);

}  // namespace ng::netfilter::cni
