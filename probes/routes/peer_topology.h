#pragma once

#include <optional>
#include <string>
#include <vector>

#include "probes/routes/peer.h"
#include "probes/routes/routes_config.h"

namespace ng::probes::routes {

// Expected peers as the controller sets them (SetExpectedPeers), already validated.
struct ControllerView {
  std::vector<Peer> peers;
  std::vector<IpPrefix> own_blocks;
  std::optional<IpPrefix> node_address;  // as registered with the CNI (Calico's BGP address)
};

// Converts a config or RPC peer; on error, a reason naming the field ("blocks[0]: ...").
std::optional<Peer> peer_from_spec(const PeerSpec& spec, PeerSource source, std::string* error);

// Merges the three sources of expected peers into one list keyed by node IP: BIRD (sessions and
// the blocks they announced), static config, and the controller. Name, encapsulation and tunnel
// address come from the most authoritative source that sets them (controller > config > BIRD);
// blocks are the union, so a block BIRD learned is checked even if a static list forgot it.
class PeerTopology {
 public:
  void set_config(std::vector<Peer> peers) { config_ = std::move(peers); }
  void set_bird(std::vector<Peer> peers) { bird_ = std::move(peers); }
  void set_controller(std::vector<Peer> peers) { controller_ = std::move(peers); }

  std::vector<Peer> merged() const;
  size_t count(PeerSource s) const;

 private:
  std::vector<Peer> config_;
  std::vector<Peer> bird_;
  std::vector<Peer> controller_;
};

}  // namespace ng::probes::routes
