#include "netfilter/cni/portmap_rules.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <map>

#include "netfilter/save_codec.h"

namespace ng::netfilter::cni {

namespace {

constexpr size_t kChainNameLength = 28;  // portmap's maxChainLength
constexpr size_t kMaxComment = 255;      // the comment match's limit (trimComment)
constexpr size_t kMultiportMax = 15;     // ports per multiport match (splitPortList)

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Go's fmt "%#x/%#x" of 1 << bit, as iptables-save prints a mark.
std::string hex_mark(int bit) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint32_t v = 1u << bit;
  std::string digits;
  do {
    digits.insert(digits.begin(), kHex[v & 15]);
    v >>= 4;
  } while (v);
  return "0x" + digits + "/0x" + digits;
}

Rule make_rule(std::string spec) {
  Rule r;
  r.spec = std::move(spec);
  (void)parse_rule_fields(r);  // specs built here always parse
  return r;
}

std::string address_spec(const core::IpPrefix& p) {
  return p.to_string();
}

// The chains of one family as the ADDs build them: creation order, rules in order.
class Replay {
 public:
  struct SimChain {
    std::string name;
    bool builtin = false;
    bool append = true;  // built-in chains: where portmap puts its jumps
    std::vector<Rule> rules;
  };

  SimChain& ensure(const std::string& name, bool builtin = false, bool append = true) {
    auto it = index_.find(name);
    if (it != index_.end()) return chains_[it->second];
    index_[name] = chains_.size();
    chains_.push_back(SimChain{name, builtin, append, {}});
    return chains_.back();
  }

  // utils.InsertUnique: nothing when an equal rule is in the chain, else insert at the top
  // (prepend) or append. Returns whether the rule was added.
  bool insert_unique(SimChain& c, const std::string& spec, bool prepend) {
    for (const auto& r : c.rules) {
      if (r.spec == spec) return false;
    }
    Rule r = make_rule(spec);
    if (prepend) {
      c.rules.insert(c.rules.begin(), std::move(r));
    } else {
      c.rules.push_back(std::move(r));
    }
    return true;
  }

  const std::vector<SimChain>& chains() const { return chains_; }

 private:
  std::vector<SimChain> chains_;
  std::map<std::string, size_t> index_;
};

}  // namespace

std::string dnat_chain_name(const std::string& network, const std::string& container_id) {
  const std::string data = network + container_id;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha512(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = kDnatChainPrefix;
  for (unsigned int i = 0; i < len && out.size() < kChainNameLength; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  out.resize(kChainNameLength);
  return out;
}

size_t PortmapTable::rule_count() const {
  size_t n = 0;
  for (const auto& c : chains) n += c.chain.rules.size();
  return n;
}

const ExpectedChain* PortmapTable::find(std::string_view chain) const {
  for (const auto& c : chains) {
    if (c.chain.name == chain) return &c;
  }
  return nullptr;
}

namespace {

// 1. The masquerade chains (unless an external mark chain is used), before the DNAT rules
//    that jump to them.
void replay_masquerade(Replay& sim, const PortmapOptions& o) {
  if (!o.snat || o.external_set_mark_chain) return;
  const std::string mark = hex_mark(o.mark_masq_bit);
  auto& setmark = sim.ensure(kHostportSetmark);
  sim.insert_unique(
      setmark, "-m comment --comment \"CNI portfwd masquerade mark\" -j MARK --set-xmark " + mark,
      false);
  auto& masq = sim.ensure(kHostportMasq);
  sim.insert_unique(masq, "-m mark --mark " + mark + " -j MASQUERADE", false);
  auto& post = sim.ensure("POSTROUTING", true, false);
  sim.insert_unique(
      post,
      "-m comment --comment \"CNI portfwd requiring masquerade\" -j " + std::string(kHostportMasq),
      true);
}

// 2. The summary chain and its jumps from PREROUTING and OUTPUT (appended).
void replay_summary(Replay& sim) {
  sim.ensure(kHostportDnat);
  for (const char* entry : {"PREROUTING", "OUTPUT"}) {
    auto& c = sim.ensure(entry, true, true);
    sim.insert_unique(c, "-m addrtype --dst-type LOCAL -j " + std::string(kHostportDnat), false);
  }
}

// The rules of the container's chain, mapping by mapping.
std::vector<std::string> container_rules(const PortmapInvocation& add, const ContainerNet& net,
                                         bool v6, const std::string& set_mark) {
  const auto& o = add.options;
  std::vector<std::string> rules;
  for (const auto& m : add.mappings) {
    bool dst = false;
    std::string dst_spec;
    if (!m.host_ip.empty()) {
      auto h = core::IpAddress::parse(m.host_ip);
      if (!h || (h->family == core::IpFamily::kV6) != v6) continue;  // other family: skipped
      const bool unspecified = std::all_of(h->bytes.begin(), h->bytes.begin() + h->bits() / 8,
                                           [](auto b) { return b == 0; });
      if (!unspecified) {
        dst = true;
        dst_spec = address_spec(core::IpPrefix::of(*h, h->bits()));
      }
    }
    const std::string proto = lower(m.protocol);
    // iptables-save prints the header (-s, -d, -p) before the matches.
    const std::string tail = (dst ? "-d " + dst_spec + " " : std::string()) + "-p " + proto +
                             " -m " + proto + " --dport " + std::to_string(m.host_port);
    if (o.snat) {
      const std::string masq_src =
          o.masq_all ? std::string() : "-s " + address_spec(net.network()) + " ";
      rules.push_back(masq_src + tail + " -j " + set_mark);
      if (!v6 && !o.masq_all) rules.push_back("-s 127.0.0.1/32 " + tail + " -j " + set_mark);
    }
    const std::string to =
        v6 ? "[" + net.address.to_string() + "]:" + std::to_string(m.container_port)
           : net.address.to_string() + ":" + std::to_string(m.container_port);
    rules.push_back(tail + " -j DNAT --to-destination " + to);
  }
  return rules;
}

// Entry rules: one per protocol (sorted as Go sorts strings) and per 15 ports.
std::vector<Rule> replay_entry_rules(Replay& sim, const PortmapInvocation& add, bool v6,
                                     const std::string& dn) {
  const auto ipfam = v6 ? core::IpFamily::kV6 : core::IpFamily::kV4;
  std::string comment = "dnat name: \"" + add.network + "\" id: \"" + add.container_id + "\"";
  if (comment.size() > kMaxComment) comment = comment.substr(0, kMaxComment - 2) + "...";
  std::map<std::string, std::vector<std::int64_t>> by_proto;  // std::map: byte order, as Go
  for (const auto& m : add.mappings) by_proto[m.protocol].push_back(m.host_port);
  const auto& conds = v6 ? add.options.conditions_v6 : add.options.conditions_v4;
  const std::string cond = conds.empty() ? std::string() : render_conditions(conds, ipfam).header;
  auto& top = sim.ensure(kHostportDnat);
  std::vector<Rule> entry_rules;
  for (const auto& [proto, ports] : by_proto) {
    for (size_t i = 0; i < ports.size(); i += kMultiportMax) {
      std::string list;
      for (size_t k = i; k < ports.size() && k < i + kMultiportMax; ++k) {
        if (!list.empty()) list += ",";
        list += std::to_string(ports[k]);
      }
      const std::string spec = (cond.empty() ? std::string() : cond + " ") + "-p " + lower(proto) +
                               " -m comment --comment " + save_quote(comment) +
                               " -m multiport --dports " + list + " -j " + dn;
      sim.insert_unique(top, spec, false);
      entry_rules.push_back(make_rule(spec));
    }
  }
  return entry_rules;
}

// Bookkeeping per container chain (two interfaces of one pod share it).
void book_dnat_chain(PortmapTable& out, std::map<std::string, size_t>& dn_index,
                     const PortmapInvocation& add, const std::string& dn,
                     std::vector<Rule> entry_rules, const std::string& set_mark) {
  auto it = dn_index.find(dn);
  if (it == dn_index.end()) {
    it = dn_index.emplace(dn, out.dnat_chains.size()).first;
    DnatChain d;
    d.chain = dn;
    d.network = add.network;
    d.container_id = add.container_id;
    out.dnat_chains.push_back(std::move(d));
  }
  auto& d = out.dnat_chains[it->second];
  d.entries.push_back(add.network + "/" + add.container_id + "/" + add.if_name);
  for (auto& r : entry_rules) {
    if (std::none_of(d.entry_rules.begin(), d.entry_rules.end(),
                     [&](const Rule& x) { return x.spec == r.spec; })) {
      d.entry_rules.push_back(std::move(r));
    }
  }
  const auto& o = add.options;
  if (o.snat && o.external_set_mark_chain &&
      std::find(d.external_chains.begin(), d.external_chains.end(), set_mark) ==
          d.external_chains.end()) {
    d.external_chains.push_back(set_mark);
  }
}

void collect_chains(PortmapTable& out, const Replay& sim) {
  for (const auto& c : sim.chains()) {
    ExpectedChain ec;
    ec.chain.name = c.name;
    ec.chain.policy = c.builtin ? "ACCEPT" : "-";
    ec.chain.rules = c.rules;
    ec.append = c.append;
    out.chains.push_back(std::move(ec));
  }
  for (auto& d : out.dnat_chains) {
    if (const auto* c = out.find(d.chain)) d.rules = c->chain.rules;
  }
}

}  // namespace

PortmapTable replay_portmap(const std::vector<PortmapInvocation>& adds, Family family) {
  PortmapTable out;
  out.family = family;
  const bool v6 = family == Family::kIPv6;
  Replay sim;
  std::map<std::string, size_t> dn_index;

  for (const auto& add : adds) {
    const auto& net = v6 ? add.ipv6 : add.ipv4;
    if (!net || add.mappings.empty()) continue;  // portmap acts per address family it was given
    const auto& o = add.options;
    replay_masquerade(sim, o);
    replay_summary(sim);
    // 3. The container's chain: its rules, then its entry rules in CNI-HOSTPORT-DNAT.
    const std::string dn = dnat_chain_name(add.network, add.container_id);
    auto& chain = sim.ensure(dn);
    const std::string set_mark =
        o.external_set_mark_chain ? *o.external_set_mark_chain : std::string(kHostportSetmark);
    for (const auto& r : container_rules(add, *net, v6, set_mark)) {
      sim.insert_unique(chain, r, false);
    }
    std::vector<Rule> entry_rules = replay_entry_rules(sim, add, v6, dn);
    book_dnat_chain(out, dn_index, add, dn, std::move(entry_rules), set_mark);
  }
  collect_chains(out, sim);
  return out;
}

}  // namespace ng::netfilter::cni
