#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>

#include "probes/connectivity/probe_transport.h"

namespace ng::testing {

// Probes answer with the outcome the test set per target ("host:port" for TCP, the address for
// ICMP); unanswered ones stay pending until complete_all() or forever (a hang).
class FakeProbeTransport final : public probes::connectivity::ProbeTransport {
 public:
  std::map<std::string, probes::connectivity::ProbeOutcome> outcomes;
  bool immediate = true;
  std::deque<std::pair<std::string, Done>> pending;
  int cancels = 0;
  std::vector<std::string> calls;

  void tcp_connect(const std::string& host, int port, core::Duration, Done done) override {
    run(host + ":" + std::to_string(port), std::move(done));
  }
  void ping(const std::string& address, core::Duration, Done done) override {
    run(address, std::move(done));
  }
  void cancel_all() override {
    ++cancels;
    pending.clear();
  }
  void complete_all() {
    auto p = std::move(pending);
    pending.clear();
    for (auto& [key, done] : p) done(outcome(key));
  }

 private:
  probes::connectivity::ProbeOutcome outcome(const std::string& key) {
    auto it = outcomes.find(key);
    if (it == outcomes.end()) return {false, "timeout", key + ": no answer", {}};
    return it->second;
  }
  void run(const std::string& key, Done done) {
    calls.push_back(key);
    if (immediate) {
      done(outcome(key));
    } else {
      pending.emplace_back(key, std::move(done));
    }
  }
};

}  // namespace ng::testing
