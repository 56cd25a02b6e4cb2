#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "netfilter/firewalld/bus.h"
#include "netfilter/firewalld/firewalld_policy.h"

namespace ng::netfilter::firewalld {

// What one policy read produced: the policy, or why it could not be read; plus the methods whose
// answers did not decode (counted by the caller, the parts skipped).
struct PolicyQueryResult {
  core::Result<FirewalldPolicy> policy = core::EnvError{core::EnvErrorKind::kUnavailable, ""};
  std::vector<std::string> invalid_methods;
};

// Reads firewalld's runtime policy over D-Bus, all asynchronously: version, backend, panic
// mode, default and active zones, then every such zone's settings (getZoneSettings2, else the
// pre-0.9 getZoneSettings), then every service they use and the services those include
// (getServiceSettings2, else getServiceSettings). Calls that do not matter for the verdict
// (version, backend, panic mode) may fail; the zones may not. `done` runs once, on the loop.
void query_policy(Bus& bus, std::chrono::milliseconds timeout,
                  std::function<void(PolicyQueryResult)> done);

// The names of the calls (metric labels, recorded test data).
inline constexpr char kZoneInterface[] = "org.fedoraproject.FirewallD1.zone";
inline constexpr char kConfigInterface[] = "org.fedoraproject.FirewallD1.config";

}  // namespace ng::netfilter::firewalld
