#include "netfilter/rule_provenance.h"

#include <algorithm>
#include <cctype>

#include "netfilter/chain_names.h"

namespace ng::netfilter {

namespace {

constexpr std::string_view kPortmap = "portmap";
constexpr std::string_view kBridge = "bridge";
constexpr std::string_view kKubeProxy = "kube-proxy";
constexpr std::string_view kCalico = "calico";

bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}
bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}
bool contains(std::string_view s, std::string_view p) {
  return s.find(p) != std::string_view::npos;
}
bool all_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isdigit(c) || (c >= 'a' && c <= 'f');
  });
}

// portmap's per-container chain: "CNI-DN-" + 21 hex (28 characters, utils.FormatChainName).
// The prefix is what counts: no other owner writes CNI-DN-* chains.
bool is_dnat_chain(std::string_view name) {
  return starts_with(name, kDnatChainPrefix) && name.size() > sizeof(kDnatChainPrefix) - 1;
}
// bridge's ipMasq chain: "CNI-" + 24 hex.
bool is_masq_chain(std::string_view name) {
  return name.size() == 28 && starts_with(name, "CNI-") && all_hex(name.substr(4));
}

Provenance explained(std::string_view owner) {
  Provenance p;
  p.owner = owner;
  return p;
}
Provenance unexplained(std::string_view owner, std::string_view why) {
  Provenance p;
  p.explained = false;
  p.owner = owner;
  p.why = why;
  return p;
}

// A CNI comment signature is required; the container id comes with it.
Provenance by_cni_comment(const Rule& r, std::string_view owner, bool dnat, std::string_view why) {
  auto sig = parse_cni_comment(r.comment);
  if (!sig || sig->dnat != dnat) return unexplained(owner, why);
  Provenance p = explained(owner);
  p.network = std::move(sig->network);
  p.container_id = std::move(sig->container_id);
  return p;
}

// kube-proxy's comments: the service port name ("ns/name:port", with suffixes such as " cluster
// IP", " has no endpoints", " -> ip:port"), or a fixed phrase ("kubernetes service portals",
// "masquerade traffic for ns/name:port external destinations"); kubelet's "block incoming
// localnet connections". Any comment counts: kube-proxy labels every per-service rule.
bool kube_rule(std::string_view chain, const Rule& r) {
  if (!r.comment.empty()) return true;
  if (starts_with(r.target, "KUBE-") || r.target == "RETURN") return true;
  // The uncommented rules kube-proxy and kubelet write: the mark chains, the masquerade mark
  // check, conntrack INVALID drops, and (largeClusterMode drops comments on per-endpoint
  // rules) KUBE-SEP-* DNAT.
  if (r.target == "MARK" && contains(r.spec, "--set-xmark ")) return true;
  if (r.target == "DROP" && (starts_with(r.spec, "-m mark --mark ") ||
                             contains(r.spec, "-m conntrack --ctstate INVALID"))) {
    return true;
  }
  if (r.target == "DNAT" && starts_with(chain, "KUBE-SEP-")) return true;
  return false;
}

Provenance user_chain_rule(std::string_view chain, const Rule& r) {
  if (chain == kHostportDnat) {
    if (!is_dnat_chain(r.target)) return unexplained(kPortmap, "no jump to a CNI-DN-* chain");
    return by_cni_comment(r, kPortmap, true, "no \"dnat name: ... id: ...\" comment");
  }
  if (chain == kHostportSetmark) {
    if (r.target == "MARK" && r.comment == "CNI portfwd masquerade mark")
      return explained(kPortmap);
    return unexplained(kPortmap, "not portmap's masquerade mark");
  }
  if (chain == kHostportMasq) {
    if (r.target == "MASQUERADE" && starts_with(r.spec, "-m mark --mark ")) {
      return explained(kPortmap);
    }
    return unexplained(kPortmap, "not portmap's marked masquerade");
  }
  if (is_dnat_chain(chain)) {
    // One mapping: mark hairpin / localhost traffic (jump to the set-mark chain), then DNAT.
    if (contains(r.spec, "--dport ") && (r.target == "DNAT" || !is_verdict_target(r.target))) {
      return explained(kPortmap);
    }
    return unexplained(kPortmap, "not a port mapping of portmap");
  }
  if (is_masq_chain(chain)) return by_cni_comment(r, kBridge, false, "no CNI name/id comment");
  if (starts_with(chain, "KUBE-")) {
    return kube_rule(chain, r) ? explained(kKubeProxy)
                               : unexplained(kKubeProxy, "no comment and not a fixed kube rule");
  }
  if (starts_with(chain, "cali-")) {
    return starts_with(r.comment, "cali:") ? explained(kCalico)
                                           : unexplained(kCalico, "no cali:<hash> comment");
  }
  return explained("");
}

// A built-in chain's jump into a guarded chain.
Provenance builtin_jump(const Rule& r) {
  const std::string_view t = r.target;
  if (t == kHostportDnat) {
    if (r.spec == "-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT") return explained(kPortmap);
    return unexplained(kPortmap, "not portmap's -m addrtype --dst-type LOCAL jump");
  }
  if (t == kHostportMasq) {
    if (r.comment == "CNI portfwd requiring masquerade") return explained(kPortmap);
    return unexplained(kPortmap, "no \"CNI portfwd requiring masquerade\" comment");
  }
  if (is_masq_chain(t)) return by_cni_comment(r, kBridge, false, "no CNI name/id comment");
  if (starts_with(t, "KUBE-")) {
    // kube-proxy comments its jumps; kubelet's -j KUBE-FIREWALL is bare.
    if (!r.comment.empty() || r.spec == "-j " + r.target) return explained(kKubeProxy);
    return unexplained(kKubeProxy, "uncommented jump with matches");
  }
  if (starts_with(t, "cali-")) {
    return starts_with(r.comment, "cali:") ? explained(kCalico)
                                           : unexplained(kCalico, "no cali:<hash> comment");
  }
  return explained("");
}

// The value of `key: "..."` in s, from pos; the rest of s when the closing quote was cut off.
std::optional<std::string> quoted_after(std::string_view s, std::string_view key, size_t& pos) {
  const size_t k = s.find(key, pos);
  if (k == std::string_view::npos) return std::nullopt;
  const size_t b = k + key.size();
  size_t e = s.find('"', b);
  if (e == std::string_view::npos) e = s.size();
  pos = std::min(e + 1, s.size());
  return std::string(s.substr(b, e - b));
}

}  // namespace

std::optional<CniSignature> parse_cni_comment(std::string_view comment) {
  CniSignature sig;
  std::string_view rest = comment;
  if (starts_with(rest, "dnat ")) {
    sig.dnat = true;
    rest.remove_prefix(5);
  }
  if (!starts_with(rest, "name: \"")) return std::nullopt;
  size_t pos = 0;
  auto net = quoted_after(rest, "name: \"", pos);
  if (!net || pos >= rest.size()) return std::nullopt;
  auto id = quoted_after(rest, " id: \"", pos);
  if (!id) return std::nullopt;
  // A cut comment ends in "..." (portmap's trimComment).
  if (ends_with(*id, "...")) id->resize(id->size() - 3);
  sig.network = std::move(*net);
  sig.container_id = std::move(*id);
  return sig;
}

Provenance explain_rule(std::string_view chain, bool builtin, const Rule& r) {
  return builtin ? builtin_jump(r) : user_chain_rule(chain, r);
}

}  // namespace ng::netfilter
