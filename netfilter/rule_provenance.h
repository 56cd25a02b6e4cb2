#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "netfilter/rule_model.h"

namespace ng::netfilter {

// Who explains a rule in a guarded chain. The guard restores only what an owner wrote: a rule
// that no owner's output explains (someone appended a DNAT to CNI-HOSTPORT-DNAT by hand) is
// reported and kept where it is, but never put back once deleted. The signatures are the owners'
// real output (docs/architecture.md, "Foreign rules"):
//
//  * portmap (CNI-HOSTPORT-DNAT): `-m comment --comment "dnat name: \"<net>\" id: \"<id>\""`
//    jumping to a CNI-DN-* chain (<21 hex> from the plugin); CNI-HOSTPORT-SETMARK: the comment "CNI
//    portfwd masquerade mark" with -j MARK; CNI-HOSTPORT-MASQ: `-m mark --mark M -j MASQUERADE`;
//    CNI-DN-*: `... --dport N ... -j DNAT` or a jump to the set-mark chain; built-in jumps
//    `-m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT` and the "CNI portfwd requiring
//    masquerade" jump to CNI-HOSTPORT-MASQ.
//  * bridge ipMasq (CNI-<24 hex> and the POSTROUTING jump into it): the comment
//    `name: "<net>" id: "<id>"`.
//  * kube-proxy / kubelet (KUBE-*): a comment on every per-service rule ("ns/svc:port cluster
//    IP", "kubernetes service portals", ...), jumps to KUBE-* chains, RETURN, and the few
//    uncommented fixed rules (-j MARK --set-xmark, -m mark ... -j DROP, conntrack INVALID DROP).
//    Built-in jumps into KUBE-* carry a comment, or are the bare `-j KUBE-FIREWALL` of kubelet.
//  * Calico (cali-*): every rule carries `-m comment --comment "cali:<hash>"`.
//  * Any other chain (a custom netfilter.guarded_chains pattern, CNI-FORWARD, ...): no opinion,
//    explained.
struct Provenance {
  bool explained = true;
  std::string_view owner;    // portmap | bridge | kube-proxy | calico | "" (no opinion)
  std::string_view why;      // when not explained: what the owner's rules carry and this lacks
  std::string network;       // from a CNI comment
  std::string container_id;  // from a CNI comment; empty when the rule carries none
};

// A rule of chain `chain` (builtin: a built-in chain, where only jumps into guarded chains are
// asked about). `r` must have its fields parsed (parse_rule_fields).
Provenance explain_rule(std::string_view chain, bool builtin, const Rule& r);

// The network and container id of a CNI plugin's comment (`dnat name: "n" id: "c"` or
// `name: "n" id: "c"`); nullopt for any other comment. A comment cut at 255 characters by the
// plugin keeps what survived.
struct CniSignature {
  std::string network;
  std::string container_id;
  bool dnat = false;  // portmap's "dnat name:" form
};
std::optional<CniSignature> parse_cni_comment(std::string_view comment);

// Asked (on the loop) whether the CNI cache still vouches for a container; rules carrying the
// comment of a container it does not vouch for count as unexplained. Default (none): the comment
// is trusted.
using ContainerVouch =
    std::function<bool(const std::string& network, const std::string& container_id)>;

}  // namespace ng::netfilter
