#include "probes/bgp/asio_bird_connection.h"

#include <array>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include "probes/bgp/bird_reply.h"

namespace ng::probes::bgp {

namespace {

core::EnvError from_ec(const boost::system::error_code& ec, const std::string& what) {
  core::EnvErrorKind kind = core::EnvErrorKind::kIo;
  if (ec == boost::asio::error::connection_refused) kind = core::EnvErrorKind::kUnavailable;
  if (ec == boost::asio::error::access_denied) kind = core::EnvErrorKind::kPermission;
  if (ec == boost::system::errc::no_such_file_or_directory) kind = core::EnvErrorKind::kNotFound;
  if (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
      ec == boost::asio::error::broken_pipe) {
    kind = core::EnvErrorKind::kUnavailable;
  }
  return {kind, what + ": " + ec.message()};
}

}  // namespace

// One query's state; shared by the pending handlers so cancel() and destruction are safe.
struct AsioBirdConnection::Query : std::enable_shared_from_this<AsioBirdConnection::Query> {
  Query(boost::asio::io_context& io, std::unique_ptr<core::Timer> t)
      : socket(io), timer(std::move(t)) {}

  boost::asio::local::stream_protocol::socket socket;
  std::unique_ptr<core::Timer> timer;
  std::string path;
  std::vector<std::string> commands;
  size_t next_command = 0;
  bool welcomed = false;
  Done done;
  Replies replies;
  std::string buffer;
  size_t scanned = 0;
  size_t max_bytes = 0;
  std::array<char, 65536> chunk{};
  bool finished = false;

  void finish(core::Result<Replies> result) {
    if (finished) return;
    finished = true;
    timer->cancel();
    boost::system::error_code ignored;
    socket.close(ignored);
    auto cb = std::move(done);
    if (cb) cb(std::move(result));
  }

  void send_next() {
    if (next_command == commands.size()) {
      finish(std::move(replies));
      return;
    }
    auto line = std::make_shared<std::string>(commands[next_command] + "\n");
    boost::asio::async_write(
        socket, boost::asio::buffer(*line),
        [self = shared_from_this(), line](const boost::system::error_code& ec, size_t) {
          if (self->finished) return;
          if (ec) return self->finish(from_ec(ec, "write to " + self->path));
          self->read();
        });
  }

  void read() {
    socket.async_read_some(
        boost::asio::buffer(chunk),
        [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
          if (self->finished) return;
          if (ec) return self->finish(from_ec(ec, "read from " + self->path));
          self->buffer.append(self->chunk.data(), n);
          if (self->buffer.size() > self->max_bytes) {
            return self->finish(core::EnvError{core::EnvErrorKind::kInvalidInput,
                                               "reply from " + self->path + " exceeds " +
                                                   std::to_string(self->max_bytes) + " bytes"});
          }
          self->consume();
        });
  }

  void consume() {
    const size_t end = find_reply_end(buffer, &scanned);
    if (end == 0) return read();
    std::string reply = buffer.substr(0, end);
    buffer.erase(0, end);
    scanned = 0;
    if (!welcomed) {
      welcomed = true;
      if (parse_reply(reply).final_code != 1) {
        return finish(core::EnvError{core::EnvErrorKind::kInvalidInput,
                                     path + " did not greet like BIRD: " + reply.substr(0, 80)});
      }
    } else {
      replies.push_back(std::move(reply));
      ++next_command;
    }
    send_next();
  }
};

AsioBirdConnection::AsioBirdConnection(boost::asio::io_context& io, core::Clock& clock,
                                       std::string path, size_t max_reply_bytes)
    : io_(io), clock_(clock), path_(std::move(path)), max_reply_bytes_(max_reply_bytes) {}

AsioBirdConnection::~AsioBirdConnection() {
  cancel();
}

void AsioBirdConnection::query(std::vector<std::string> commands, core::Duration timeout,
                               Done done) {
  cancel();
  auto q = std::make_shared<Query>(io_, clock_.make_timer());
  q->path = path_;
  q->commands = std::move(commands);
  q->done = std::move(done);
  q->max_bytes = max_reply_bytes_;
  current_ = q;
  std::weak_ptr<Query> weak = q;
  q->timer->arm(timeout, [weak, timeout] {
    if (auto self = weak.lock()) {
      self->finish(core::EnvError{
          core::EnvErrorKind::kTimeout,
          self->path + ": no complete answer within " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
              " ms"});
    }
  });
  q->socket.async_connect(boost::asio::local::stream_protocol::endpoint(path_),
                          [q](const boost::system::error_code& ec) {
                            if (q->finished) return;
                            if (ec) return q->finish(from_ec(ec, "connect " + q->path));
                            q->consume();  // the welcome line
                          });
}

void AsioBirdConnection::cancel() {
  if (!current_) return;
  current_->done = nullptr;
  current_->finish(core::EnvError{core::EnvErrorKind::kUnavailable, "cancelled"});
  current_.reset();
}

}  // namespace ng::probes::bgp
