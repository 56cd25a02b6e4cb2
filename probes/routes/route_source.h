#pragma once

#include <cstdint>
#include <functional>

#include "core/result.h"
#include "probes/routes/route_table.h"

namespace ng::probes::routes {

// The seam to the kernel's links, addresses and routes. The production source is
// NetlinkRouteSource (libnl, one socket on the agent loop); unit tests use FakeRouteSource.
// All calls and callbacks happen on the loop.
class RouteSource {
 public:
  struct Callbacks {
    // The table changed: after the first full dump, after each re-dump, and after each batch of
    // events read in one wake-up.
    std::function<void()> changed;
    // The source lost its view (socket error) or got it back (error == nullptr).
    std::function<void(const core::EnvError* error)> health;
  };

  virtual ~RouteSource() = default;
  // Opens the source and starts the first full dump; an error means nothing will be reported.
  virtual core::Status start(Callbacks callbacks) = 0;
  virtual void stop() = 0;
  // Re-read everything (periodic safety net; overruns do this by themselves).
  virtual void resync() = 0;
  // The current view; complete once synced().
  virtual const RouteTable& table() const = 0;
  virtual bool synced() const = 0;
};

}  // namespace ng::probes::routes
