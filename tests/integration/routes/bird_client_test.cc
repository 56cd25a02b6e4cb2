// The real BIRD control-socket client against a scripted unix-socket server (no root): replies
// split across writes, a silent server (timeout), a missing socket, a non-BIRD greeting.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "core/asio_clock.h"
#include "probes/bgp/asio_bird_connection.h"
#include "tests/support/temp_dir.h"

namespace ng::probes::bgp {
namespace {

using namespace std::chrono_literals;

// Accepts one client and plays a script: greet, then for each command line read, answer.
class ScriptedServer {
 public:
  ScriptedServer(const std::string& path, std::string greeting, std::vector<std::string> answers,
                 bool split = true)
      : fd_(::socket(AF_UNIX, SOCK_STREAM, 0)) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 1) != 0) {
      throw std::runtime_error("bind " + path);
    }
    thread_ = std::thread([this, greeting, answers, split] {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      auto send = [&](const std::string& s) {
        if (!split) {
          (void)!::write(c, s.data(), s.size());
          return;
        }
        for (size_t i = 0; i < s.size(); i += 7) {  // dribble: framing must not care
          (void)!::write(c, s.data() + i, std::min<size_t>(7, s.size() - i));
          std::this_thread::sleep_for(1ms);
        }
      };
      if (!greeting.empty()) send(greeting);
      for (const auto& a : answers) {
        std::string line;
        char ch;
        while (::read(c, &ch, 1) == 1 && ch != '\n') line += ch;
        commands.push_back(line);
        send(a);
      }
      char buf[64];
      while (::read(c, buf, sizeof buf) > 0) {
      }
      ::close(c);
    });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::vector<std::string> commands;

 private:
  int fd_;
  std::thread thread_;
};

class BirdClientTest : public ::testing::Test {
 protected:
  core::Result<BirdConnection::Replies> query(const std::string& path,
                                              std::vector<std::string> commands,
                                              core::Duration timeout = 5s) {
    AsioBirdConnection conn(io_, clock_, path);
    std::optional<core::Result<BirdConnection::Replies>> out;
    conn.query(std::move(commands), timeout, [&](auto r) { out = std::move(r); });
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!out && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_for(10ms);
    }
    if (!out) return core::EnvError{core::EnvErrorKind::kTimeout, "test deadline"};
    return std::move(*out);
  }
  testing::TempDir dir_;
  boost::asio::io_context io_;
  core::AsioClock clock_{io_};
};

TEST_F(BirdClientTest, QueriesInOrderOverOneConnection) {
  ScriptedServer s(dir_ / "bird.ctl", "0001 BIRD 2.0.12 ready.\n",
                   {"2002-Name Proto\n1002-Mesh_10_0_0_2 BGP --- up 10:00 Established\n0000 \n",
                    "1007-Table master4:\n 10.244.2.0/26 unicast [Mesh_10_0_0_2 10:00] * (100)\n"
                    " \tvia 10.0.0.2 on eth0\n0000 \n"});
  auto r = query(dir_ / "bird.ctl", {"show protocols all", "show route all"});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].substr(0, 5), "2002-");
  EXPECT_NE((*r)[1].find("via 10.0.0.2"), std::string::npos);
}

TEST_F(BirdClientTest, ErrorReplyIsAReplyNotAFailure) {
  ScriptedServer s(dir_ / "bird.ctl", "0001 BIRD 1.6.8 ready.\n", {"9001 syntax error\n"}, false);
  auto r = query(dir_ / "bird.ctl", {"show nonsense"});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)[0], "9001 syntax error\n");
}

TEST_F(BirdClientTest, SilentServerTimesOut) {
  ScriptedServer s(dir_ / "bird.ctl", "", {});
  auto r = query(dir_ / "bird.ctl", {"show protocols"}, 300ms);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, core::EnvErrorKind::kTimeout);
}

TEST_F(BirdClientTest, MissingSocketIsNotFound) {
  auto r = query(dir_ / "nope.ctl", {"show protocols"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, core::EnvErrorKind::kNotFound);
  EXPECT_NE(r.error().message.find("nope.ctl"), std::string::npos);
}

TEST_F(BirdClientTest, NotBirdIsInvalidInput) {
  ScriptedServer s(dir_ / "bird.ctl", "HTTP/1.1 400 Bad Request\n\n0000 \n", {}, false);
  auto r = query(dir_ / "bird.ctl", {"show protocols"});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, core::EnvErrorKind::kInvalidInput);
}

}  // namespace
}  // namespace ng::probes::bgp
