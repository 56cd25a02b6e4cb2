/* The request socket shared by the nftables netlink C files (private: not for C++). */
#ifndef NODEGUARD_NETFILTER_NFT_NFT_SOCK_H
#define NODEGUARD_NETFILTER_NFT_NFT_SOCK_H

#include <libmnl/libmnl.h>

struct ngnft_sock {
  struct mnl_socket* nl;
  unsigned int portid;
  unsigned int seq;
};

#endif
