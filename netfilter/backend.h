#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "netfilter/repair_plan.h"
#include "netfilter/rule_model.h"

namespace ng::netfilter {

// One iptables backend (legacy xtables or nft), both families. Every call blocks (exec,
// libiptc, netlink round trips) and runs on the worker pool, never on the loop. Implementations
// must be safe to call from several workers at once.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual BackendKind kind() const = 0;

  // Whether the backend can be used at all for the family (tools installed, kernel support).
  virtual core::Status available(Family family) = 0;
  // Full read of one table. A table the backend does not hold reads as a Table without chains.
  // Bad output from the tools is kInvalidInput (nothing is planned from it).
  virtual core::Result<Table> read(Family family, const std::string& table) = 0;
  // Applies one plan as one atomic commit. The caller holds the xtables lock.
  virtual core::Status commit(Family family, const TablePlan& plan) = 0;
  // A cheap value that changes whenever the table may have changed, costing microseconds and
  // copying no rules (legacy: IPT_SO_GET_INFO size, entry count and hook offsets; nft: the
  // ruleset generation id, which covers every table). kNotFound when the table is not there.
  virtual core::Result<std::uint64_t> change_token(Family family, const std::string& table) = 0;
};

}  // namespace ng::netfilter
