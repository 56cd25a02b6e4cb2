#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "core/process_runner.h"
#include "netfilter/guard.h"
#include "netfilter/netfilter_config.h"

namespace ng::netfilter {

// The production guard: legacy (libiptc) and nft (iptables-nft tools) backends, nft netlink
// notifications on the loop, snapshots under <state_dir>/netfilter.
std::unique_ptr<Guard> make_guard(const NetfilterConfig& config, bool dry_run,
                                  const std::string& state_dir, boost::asio::io_context& io,
                                  core::ProcessRunner& runner, Guard::Deps deps);

GuardOptions guard_options(const NetfilterConfig& config, bool dry_run,
                           const std::string& state_dir);

}  // namespace ng::netfilter
