#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ng::netfilter::cni {

// One port mapping as the runtime passed it to libcni (capabilityArgs.portMappings; containerd's
// go-cni and cri-o's ocicni write hostPort, containerPort, protocol, hostIP).
struct PortMapping {
  std::int64_t host_port = 0;
  std::int64_t container_port = 0;
  std::string protocol;  // as given: "tcp", "TCP", "udp", "sctp"
  std::string host_ip;   // empty: every address
};

struct ResultInterface {
  std::string name;
  std::string sandbox;  // the network namespace path for interfaces inside the container
};

struct ResultIp {
  std::string address;                    // "10.244.1.2/24" (checked to parse)
  std::optional<std::int64_t> interface;  // index into the result's interfaces
};

// One libcni cache file, `<cache_dir>/results/<network>-<containerID>-<ifname>`: libcni's
// cachedInfo (kind cniCacheV1) written after every successful ADD and removed after DEL.
// Fields that older libcni releases did not write are empty (netns before 1.2).
struct CacheEntry {
  std::string container_id;
  std::string network_name;
  std::string if_name;
  // The network config the ADD ran with, decoded from base64: the whole conflist for
  // AddNetworkList (containerd, cri-o), one plugin's config for AddNetwork. nullopt: not cached.
  std::optional<std::string> config;
  std::string netns;  // the runtime's netns path (libcni >= 1.2)
  std::vector<std::pair<std::string, std::string>> cni_args;
  // capabilityArgs.portMappings; nullopt when the runtime passed none.
  std::optional<std::vector<PortMapping>> port_mappings;
  // The cached result (cniVersion, interfaces, IPs); nullopt when the file has none.
  std::optional<std::string> result_version;
  std::vector<ResultInterface> interfaces;
  std::vector<ResultIp> ips;

  // The container's network namespace: the cached netns, else the sandbox of the result's
  // interface named if_name, else any sandbox in the result. Empty when none is recorded.
  std::string netns_path() const;
  // "<network>/<containerID>/<ifname>" for logs and reports.
  std::string key() const;
};

// Why a file is skipped. Counted (nodeguard_cni_cache_files_skipped_total{reason}) and logged
// once per file version; never turned into rules.
enum class SkipReason {
  kMalformed,       // not JSON, or a field of the wrong type / an impossible value
  kTruncated,       // JSON that ends early (empty, or cut mid-document)
  kForeignVersion,  // "kind" is not cniCacheV1
  kLegacyLayout,    // a bare result from libcni < 0.8: no config or port mappings to rebuild from
  kTooLarge,        // larger than kMaxCacheFileBytes
  kUnreadable,      // open/read failed (permission, I/O)
};
std::string_view to_string(SkipReason r);  // malformed | truncated | foreign_version | ...

struct CacheFileError {
  SkipReason reason = SkipReason::kMalformed;
  std::string message;  // what is wrong, naming the field
};

constexpr size_t kMaxCacheFileBytes = 1 << 20;

// Pure: the bytes of one cache file to an entry, or why it is skipped. Tolerant of what older
// libcni releases wrote (missing netns, cniArgs, capabilityArgs or result; 0.1/0.2 results with
// ip4/ip6) and of unknown fields. Never throws.
std::variant<CacheEntry, CacheFileError> parse_cache_file(std::string_view bytes);

}  // namespace ng::netfilter::cni
