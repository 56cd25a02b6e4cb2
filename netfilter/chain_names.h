#pragma once

// Table and chain names that several files must agree on: one spelling each (kube-proxy keeps
// its names as constants for the same reason).

namespace ng::netfilter {

inline constexpr char kNatTable[] = "nat";
inline constexpr char kFilterTable[] = "filter";
inline constexpr char kMangleTable[] = "mangle";
inline constexpr char kRawTable[] = "raw";

// portmap's chains (containernetworking/plugins, plugins/meta/portmap): unchanged across
// releases. Per-container DNAT chains are "CNI-DN-" + hex (utils.FormatChainName).
inline constexpr char kHostportDnat[] = "CNI-HOSTPORT-DNAT";
inline constexpr char kHostportSetmark[] = "CNI-HOSTPORT-SETMARK";
inline constexpr char kHostportMasq[] = "CNI-HOSTPORT-MASQ";
inline constexpr char kDnatChainPrefix[] = "CNI-DN-";

}  // namespace ng::netfilter
