#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"

namespace ng::probes::bgp {

// One BIRD control socket. A query connects, reads the welcome line, sends each command in
// order and collects each raw reply (up to and including its final line), then disconnects.
// Non-blocking: `done` runs later on the agent loop, exactly once, unless cancel() came first.
// Production: AsioBirdConnection (unix socket on the loop); unit tests: FakeBirdConnection.
class BirdConnection {
 public:
  using Replies = std::vector<std::string>;
  using Done = std::function<void(core::Result<Replies>)>;

  virtual ~BirdConnection() = default;
  virtual void query(std::vector<std::string> commands, core::Duration timeout, Done done) = 0;
  virtual void cancel() = 0;
};

using BirdConnectionFactory = std::function<std::unique_ptr<BirdConnection>(const std::string&)>;

}  // namespace ng::probes::bgp
