#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/config_binder.h"
#include "netfilter/nft/nft_generation.h"

namespace ng::netfilter::native {

// One entry of netfilter.nft_tables: "FAMILY NAME [OWNER[,OWNER...]]".
struct NativeTableSpec {
  NftTableRef table;
  std::vector<std::string> owners;  // comm names (15 characters at most, like the kernel's)
};

// The spec, or why it is not one (for the config error naming the key).
std::variant<NativeTableSpec, std::string> parse_native_table_spec(const std::string& s);

struct NativeTablesConfig {
  // Sources: kubernetes pkg/proxy/nftables/proxier.go (kubeProxyTable, ip and ip6); projectcalico
  // felix/dataplane/linux/int_dataplane.go (nftables.NewTable("calico", 4|6), and its deleting
  // of the kube-proxy tables when Calico replaces kube-proxy); containernetworking/plugins
  // plugins/meta/portmap/portmap_nftables.go (tableName "cni_hostport", IPv4Family and
  // IPv6Family). docs/nftables.md.
  std::vector<std::string> tables = {
      "ip kube-proxy kube-proxy,calico-node",
      "ip6 kube-proxy kube-proxy,calico-node",
      "ip calico calico-node",
      "ip6 calico calico-node",
      "ip cni_hostport portmap",
      "ip6 cni_hostport portmap",
  };
  // Owner (and other non-wipe) changes are re-read after this quiet time, so a burst of the
  // owner's transactions costs one dump.
  core::Millis coalesce{250};
};

// Binds the keys nft_tables and nft_tables_coalesce into the netfilter section.
void bind_native_config(core::ConfigBinder& b, NativeTablesConfig& c);

std::vector<NativeTableSpec> native_table_specs(const NativeTablesConfig& c);

}  // namespace ng::netfilter::native
