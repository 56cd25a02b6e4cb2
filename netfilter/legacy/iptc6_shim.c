/* IPv6 half of the libiptc shim (see iptc_shim.h and iptc_shim_impl.inc). */
#include <libiptc/libip6tc.h>

#define P(name) ip6tc_##name
#define ENTRY struct ip6t_entry
#define GETINFO struct ip6t_getinfo
#define GET_ENTRIES struct ip6t_get_entries
#define SOL_LEVEL IPPROTO_IPV6
#define SO_GET_INFO IP6T_SO_GET_INFO
#define SO_GET_ENTRIES IP6T_SO_GET_ENTRIES
#define FAMILY_AF AF_INET6
#define SFX(name) ngiptc6_##name
#define PUB(name) ngiptc6_do_##name
#include "netfilter/legacy/iptc_shim_impl.inc"
