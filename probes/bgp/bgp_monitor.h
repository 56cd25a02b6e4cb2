#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/component_deps.h"
#include "core/env_error_reporter.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "probes/bgp/bgp_config.h"
#include "probes/bgp/bird_connection.h"
#include "probes/bgp/bird_protocols.h"
#include "probes/routes/peer.h"

namespace ng::probes::bgp {

// One BGP session as BIRD reports it, with where it came from.
struct BgpSession {
  std::string socket;     // the control socket that reported it
  BirdProtocol protocol;  // name, state, since, info, BGP state, neighbor, last error
  std::string peer_type;  // "node-to-node mesh", "node specific", "global", "" (not Calico's)
};

// What the monitor knows about one control socket.
struct BirdSocketState {
  std::string path;
  bool reachable = false;
  bool ever_reachable = false;
  std::string error;  // last failure, empty when reachable
  core::EnvErrorKind error_kind = core::EnvErrorKind::kNotFound;
  core::WallTime last_ok{};
  size_t sessions = 0;
};

// Polls BIRD's control sockets (BIRD 1.6 bird.ctl/bird6.ctl as Calico ships it, or one BIRD 2/3
// socket) every poll interval with `show protocols all` and `show route all`: session states,
// since-when, last errors, and the pod blocks each peer announced. Reports BGPPeerDown and
// BIRDUnreachable conditions, nodeguard_bgp_sessions{state}, and hands the learned peers to the
// route checker. An unreachable socket is reported once (EnvErrorReporter) and retried at every
// poll. Loop thread only.
class BgpMonitor final : public core::Component {
 public:
  using PeersListener = std::function<void(std::vector<routes::Peer>)>;

  using Deps = core::ComponentDeps;

  BgpMonitor(const BgpConfig& config, BirdConnectionFactory factory, Deps deps);
  ~BgpMonitor() override;

  std::string_view name() const override { return "bgp"; }
  void start() override;
  void stop() override;
  core::ComponentStatus status() const override;

  void set_peers_listener(PeersListener l) { listener_ = std::move(l); }
  // Runs one poll now (tests; the timer does this in production).
  void poll();

  const std::vector<BgpSession>& sessions() const { return sessions_; }
  const std::vector<BirdSocketState>& sockets() const { return sockets_; }
  bool polled() const { return rounds_ > 0; }

 private:
  struct SocketRuntime {
    std::unique_ptr<BirdConnection> conn;
    bool in_flight = false;
    std::vector<BgpSession> sessions;
    std::vector<std::pair<routes::IpPrefix, routes::IpAddress>> learned;  // block -> owner
  };
  void on_result(size_t i, core::Result<BirdConnection::Replies> result);
  void finish_round();
  void publish();
  void schedule();

  const BgpConfig& config_;
  BirdConnectionFactory factory_;
  core::Clock& clock_;
  core::HealthSink& health_;
  core::EnvErrorReporter& env_errors_;
  core::Logger log_;
  std::unique_ptr<core::Timer> timer_;
  std::vector<SocketRuntime> runtime_;
  std::vector<BirdSocketState> sockets_;
  std::vector<BgpSession> sessions_;
  // Blocks each owner announced, kept while the owner's session is not Established so that a
  // session going down shows as PodRouteMissing instead of the block silently vanishing.
  std::map<routes::IpAddress, std::set<routes::IpPrefix>> remembered_;
  PeersListener listener_;
  bool running_ = false;
  int pending_ = 0;
  std::uint64_t rounds_ = 0;
  std::string last_down_message_;
  bool reported_once_ = false;
  std::string last_unreachable_message_;
  prometheus::Family<prometheus::Gauge>& sessions_gauge_;
  prometheus::Counter& skipped_lines_;
  prometheus::Family<prometheus::Counter>& polls_;
};

}  // namespace ng::probes::bgp
