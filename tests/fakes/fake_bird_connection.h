#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "probes/bgp/bird_connection.h"

namespace ng::testing {

// A scripted BIRD control socket: replies per command, or an error for the whole query. Queries
// complete when the test calls complete() (like a real socket answering later), or at once when
// `immediate` is set.
class FakeBird {
 public:
  std::map<std::string, std::string> replies;  // command -> raw reply bytes
  std::optional<core::EnvError> error;         // every query fails with this
  bool immediate = true;
  std::vector<std::vector<std::string>> queries;
  std::vector<probes::bgp::BirdConnection::Done> pending;

  void answer(probes::bgp::BirdConnection::Done done) {
    if (error) return done(*error);
    probes::bgp::BirdConnection::Replies out;
    for (const auto& c : queries.back()) {
      auto it = replies.find(c);
      out.push_back(it == replies.end() ? "0001 BIRD 2.0.12 ready.\n9001 syntax error\n"
                                        : it->second);
    }
    done(std::move(out));
  }
  void complete_all() {
    auto p = std::move(pending);
    pending.clear();
    for (auto& d : p) answer(std::move(d));
  }
};

class FakeBirdConnection final : public probes::bgp::BirdConnection {
 public:
  explicit FakeBirdConnection(std::shared_ptr<FakeBird> bird) : bird_(std::move(bird)) {}
  void query(std::vector<std::string> commands, core::Duration, Done done) override {
    bird_->queries.push_back(std::move(commands));
    if (bird_->immediate) {
      bird_->answer(std::move(done));
    } else {
      bird_->pending.push_back(std::move(done));
    }
  }
  void cancel() override { bird_->pending.clear(); }

 private:
  std::shared_ptr<FakeBird> bird_;
};

}  // namespace ng::testing
