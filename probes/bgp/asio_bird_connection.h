#pragma once

#include <memory>
#include <string>

#include <boost/asio/io_context.hpp>

#include "core/clock.h"
#include "probes/bgp/bird_connection.h"

namespace ng::probes::bgp {

// BIRD's control socket over boost::asio local stream sockets on the agent loop. Every wait is
// asynchronous and bounded by the query's timeout (a timer closes the socket). Replies larger
// than max_reply_bytes are refused (kInvalidInput) so a runaway table cannot eat memory.
class AsioBirdConnection final : public BirdConnection {
 public:
  AsioBirdConnection(boost::asio::io_context& io, core::Clock& clock, std::string path,
                     size_t max_reply_bytes = 64 * 1024 * 1024);
  ~AsioBirdConnection() override;

  void query(std::vector<std::string> commands, core::Duration timeout, Done done) override;
  void cancel() override;

 private:
  struct Query;
  boost::asio::io_context& io_;
  core::Clock& clock_;
  std::string path_;
  size_t max_reply_bytes_;
  std::shared_ptr<Query> current_;
};

}  // namespace ng::probes::bgp
