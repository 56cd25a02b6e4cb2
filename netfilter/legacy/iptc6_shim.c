/* IPv6 half of the libiptc shim (see iptc_shim.h). */
#include <libiptc/libip6tc.h>

#define P(name) ip6tc_##name
#define ENTRY struct ip6t_entry
#define SFX(name) ngiptc6_##name
#include "netfilter/legacy/iptc_shim_impl.inc"

#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int ngiptc6_do_read(const char* table, void** out) {
  return ngiptc6_read(table, (struct ngiptc6_table**)out);
}
void ngiptc6_do_free(void* t) {
  ngiptc6_free_table((struct ngiptc6_table*)t);
}
size_t ngiptc6_do_chain_count(const void* t) {
  return ((const struct ngiptc6_table*)t)->nchains;
}
const void* ngiptc6_do_chain(const void* t, size_t i) {
  return &((const struct ngiptc6_table*)t)->chains[i];
}
int ngiptc6_do_begin(const char* table, void** out) {
  return ngiptc6_begin(table, (struct xtc_handle**)out);
}
int ngiptc6_do_chain_reset(void* h, const char* c) {
  return ngiptc6_chain_reset(h, c);
}
int ngiptc6_do_append(void* h, const char* c, const unsigned char* b) {
  return ngiptc6_append(h, c, b);
}
int ngiptc6_do_insert(void* h, const char* c, const unsigned char* b, unsigned int p) {
  return ngiptc6_insert(h, c, b, p);
}
int ngiptc6_do_delete_num(void* h, const char* c, unsigned int p) {
  return ngiptc6_delete_num(h, c, p);
}
int ngiptc6_do_set_policy(void* h, const char* c, const char* p) {
  return ngiptc6_set_policy(h, c, p);
}
int ngiptc6_do_commit(void* h) {
  return ngiptc6_commit(h);
}
void ngiptc6_do_abort(void* h) {
  ip6tc_free(h);
}
const char* ngiptc6_do_strerror(int err) {
  return ip6tc_strerror(err);
}

int ngiptc6_do_get_info(int fd, const char* table, unsigned int* out /* 13 words */) {
  struct ip6t_getinfo info;
  socklen_t len = sizeof(info);
  memset(&info, 0, sizeof(info));
  strncpy(info.name, table, sizeof(info.name) - 1);
  if (getsockopt(fd, IPPROTO_IPV6, IP6T_SO_GET_INFO, &info, &len) < 0) return errno;
  out[0] = info.valid_hooks;
  for (int i = 0; i < 5; ++i) {
    out[1 + i] = info.hook_entry[i];
    out[6 + i] = info.underflow[i];
  }
  out[11] = info.num_entries;
  out[12] = info.size;
  return 0;
}
int ngiptc6_do_socket(void) {
  int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
  return fd < 0 ? -errno : fd;
}

/* Hash of the table's entries without their packet/byte counters (which move with traffic):
 * changes with any rule, policy or chain change. Copies the whole table (IPT_SO_GET_ENTRIES). */
int ngiptc6_do_content_hash(int fd, const char* table, unsigned long long* out) {
  struct ip6t_getinfo info;
  socklen_t len = sizeof(info);
  memset(&info, 0, sizeof(info));
  strncpy(info.name, table, sizeof(info.name) - 1);
  if (getsockopt(fd, IPPROTO_IPV6, IP6T_SO_GET_INFO, &info, &len) < 0) return errno;
  size_t total = sizeof(struct ip6t_get_entries) + info.size;
  struct ip6t_get_entries* e = malloc(total);
  if (!e) return ENOMEM;
  memset(e, 0, sizeof(*e));
  strncpy(e->name, table, sizeof(e->name) - 1);
  e->size = info.size;
  socklen_t elen = (socklen_t)total;
  if (getsockopt(fd, IPPROTO_IPV6, IP6T_SO_GET_ENTRIES, e, &elen) < 0) {
    int err = errno;
    free(e);
    return err;
  }
  /* Word-wise multiply-xorshift over each entry, skipping the 16 counter bytes. */
  unsigned long long h = 0x9e3779b97f4a7c15ull ^ e->size;
  const unsigned char* p = (const unsigned char*)e->entrytable;
  const unsigned char* end = p + e->size;
  const size_t cstart = offsetof(struct ip6t_entry, counters);
  const size_t cend = cstart + sizeof(((struct ip6t_entry*)0)->counters);
  while (p < end) {
    const struct ip6t_entry* en = (const struct ip6t_entry*)p;
    if (en->next_offset < sizeof(*en) || p + en->next_offset > end) break;
    for (size_t i = 0; i + 8 <= en->next_offset; i += 8) {
      if (i >= cstart && i < cend) continue;
      unsigned long long w;
      memcpy(&w, p + i, 8);
      h = (h ^ w) * 0xff51afd7ed558ccdull;
      h ^= h >> 32;
    }
    p += en->next_offset;
  }
  free(e);
  *out = h;
  return 0;
}
