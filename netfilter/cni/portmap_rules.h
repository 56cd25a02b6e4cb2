#pragma once

#include <string>
#include <vector>

#include "netfilter/chain_names.h"
#include "netfilter/cni/portmap_conf.h"
#include "netfilter/drift.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter::cni {

// "CNI-DN-" + hex(sha512(network + containerID)), cut to 28 characters (portmap's
// utils.MustFormatChainNameWithPrefix).
std::string dnat_chain_name(const std::string& network, const std::string& container_id);

// One per-container chain and what belongs to it.
struct DnatChain {
  std::string chain;  // CNI-DN-...
  std::string network;
  std::string container_id;
  std::vector<std::string> entries;  // cache entry keys that produced it (one per interface)
  std::vector<Rule> rules;           // the chain's rules, in order
  std::vector<Rule> entry_rules;     // its jumps in CNI-HOSTPORT-DNAT, in order
  // Chains its rules jump to that portmap does not create (externalSetMarkChain): they must
  // exist before these rules can be written.
  std::vector<std::string> external_chains;
};

// What portmap's ADDs leave in one family's nat table, as iptables-save prints it.
struct PortmapTable {
  Family family = Family::kIPv4;
  std::vector<DnatChain> dnat_chains;  // in ADD order
  // Every chain portmap wrote to, with only portmap's rules, in order: user chains (SETMARK,
  // MASQ, CNI-HOSTPORT-DNAT, CNI-DN-*) and the built-in PREROUTING and OUTPUT (jumps appended)
  // and POSTROUTING (jump prepended).
  std::vector<ExpectedChain> chains;
  size_t rule_count() const;
  const ExpectedChain* find(std::string_view chain) const;
};

// Pure: replays portmap's ADDs (in the order they ran) the way the plugin does them: chains
// created idempotently, each rule inserted only when an equal one is not there yet
// (utils.InsertUnique), the DNAT entry jumps appended, the masquerade jump prepended. Rule texts
// are in iptables-save's canonical form (both backends print the same).
PortmapTable replay_portmap(const std::vector<PortmapInvocation>& adds, Family family);

}  // namespace ng::netfilter::cni
