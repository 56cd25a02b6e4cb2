/* IPv4 half of the libiptc shim (see iptc_shim.h and iptc_shim_impl.inc). */
#include <libiptc/libiptc.h>

#define P(name) iptc_##name
#define ENTRY struct ipt_entry
#define GETINFO struct ipt_getinfo
#define GET_ENTRIES struct ipt_get_entries
#define SOL_LEVEL IPPROTO_IP
#define SO_GET_INFO IPT_SO_GET_INFO
#define SO_GET_ENTRIES IPT_SO_GET_ENTRIES
#define FAMILY_AF AF_INET
#define SFX(name) ngiptc4_##name
#define PUB(name) ngiptc4_do_##name
#include "netfilter/legacy/iptc_shim_impl.inc"
