#pragma once

#include <cstdint>
#include <string>

namespace ng::netfilter {

// Who committed a change: the nftables generation's process (NFTA_GEN_PROC_PID and
// NFTA_GEN_PROC_NAME, sent with every NFT_MSG_NEWGEN since Linux 5.x), resolved further from
// /proc/PID/cgroup when the process still existed as the message was read. Legacy iptables
// writes carry no such record: its writer is unknown.
struct ChangeWriter {
  std::uint32_t genid = 0;
  std::uint32_t pid = 0;  // 0: unknown
  std::string comm;       // the kernel's comm of the committing task (15 bytes at most)
  std::string unit;       // systemd unit of its cgroup, when it had one
  std::string container;  // container id from its cgroup path, when it had one

  bool known() const { return pid != 0 || !comm.empty(); }
};

}  // namespace ng::netfilter
