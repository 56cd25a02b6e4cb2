#pragma once

// The address types live in core (the CNI cache reader uses them too); routes keeps its names.
#include "core/ip_prefix.h"

namespace ng::probes::routes {

using Family = core::IpFamily;
using core::IpAddress;
using core::IpAddressHash;
using core::IpPrefix;
using core::IpPrefixHash;

}  // namespace ng::probes::routes
