// SdBusConnection against a real dbus-daemon (a private bus in a temp dir, no root): connect
// through DBUS_SYSTEM_BUS_ADDRESS, signals with match rules, calls and their errors and
// timeouts, every D-Bus type decoded, no service auto-start, and a daemon that dies.
#include "netfilter/firewalld/sd_bus_connection.h"

#include <gmock/gmock.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "core/asio_clock.h"
#include "tests/support/temp_dir.h"

namespace ng::netfilter::firewalld {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;

class PrivateBus {
 public:
  explicit PrivateBus(const std::filesystem::path& dir) : dir_(dir) {
    std::filesystem::create_directories(dir / "services");
    // An activatable firewalld: starting it would create a marker file. Nothing may start it.
    std::ofstream(dir / "services" / "org.fedoraproject.FirewallD1.service")
        << "[D-BUS Service]\nName=org.fedoraproject.FirewallD1\nExec=/bin/sh -c 'touch "
        << (dir / "activated").string() << "; sleep 30'\n";
    std::ofstream(dir / "bus.conf")
        << "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
           " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
           "<busconfig><type>session</type><listen>unix:path="
        << (dir / "bus").string() << "</listen><auth>EXTERNAL</auth><servicedir>"
        << (dir / "services").string()
        << "</servicedir><policy context=\"default\"><allow send_destination=\"*\" "
           "eavesdrop=\"true\"/><allow eavesdrop=\"true\"/><allow own=\"*\"/></policy>"
           "</busconfig>\n";
    address_ = "unix:path=" + (dir / "bus").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string conf = "--config-file=" + (dir / "bus.conf").string();
      ::execlp("dbus-daemon", "dbus-daemon", conf.c_str(), "--nofork", "--nopidfile",
               static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // The socket file appears at bind(), before listen(): wait until a connect is accepted.
    for (int i = 0; i < 300 && !accepts(dir / "bus"); ++i) {
      std::this_thread::sleep_for(10ms);
    }
  }
  static bool accepts(const std::filesystem::path& path) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path.c_str());
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
    ::close(fd);
    return ok;
  }
  ~PrivateBus() { kill(); }
  void kill() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  bool up() const { return std::filesystem::exists(dir_ / "bus"); }
  const std::string& address() const { return address_; }
  bool activated() const { return std::filesystem::exists(dir_ / "activated"); }

 private:
  std::filesystem::path dir_;
  std::string address_;
  pid_t pid_ = -1;
};

// A second client playing firewalld with the plain blocking sd-bus API.
class FakeFirewalld {
 public:
  explicit FakeFirewalld(const std::string& address) {
    EXPECT_GE(sd_bus_new(&bus_), 0);
    sd_bus_set_address(bus_, address.c_str());
    sd_bus_set_bus_client(bus_, 1);
    EXPECT_GE(sd_bus_start(bus_), 0);
    const char* unique = nullptr;
    EXPECT_GE(sd_bus_get_unique_name(bus_, &unique), 0);
    unique_ = unique ? unique : "";
  }
  ~FakeFirewalld() { sd_bus_flush_close_unref(bus_); }
  void own_name() { EXPECT_GE(sd_bus_request_name(bus_, kFirewalldName, 0), 0); }
  void release_name() { EXPECT_GE(sd_bus_release_name(bus_, kFirewalldName), 0); }
  // Reloaded, and a signal carrying every container type the decoder must handle.
  void emit() {
    EXPECT_GE(sd_bus_emit_signal(bus_, kFirewalldPath, kFirewalldName, "Reloaded", nullptr), 0);
    sd_bus_message* m = nullptr;
    EXPECT_GE(sd_bus_message_new_signal(bus_, &m, kFirewalldPath,
                                        "org.fedoraproject.FirewallD1.zone", "PortAdded"),
              0);
    EXPECT_GE(sd_bus_message_append(m, "ssi", "public", "179", 7), 0);
    EXPECT_GE(sd_bus_message_append(m, "a{sv}", 2, "target", "s", "default", "forward", "b", 1), 0);
    EXPECT_GE(sd_bus_message_append(m, "a(ss)", 2, "22", "tcp", "30000-32767", "udp"), 0);
    EXPECT_GE(sd_bus_message_append(m, "(tdy)", uint64_t{1} << 40, 2.5, uint8_t{9}), 0);
    EXPECT_GE(sd_bus_send(bus_, m, nullptr), 0);
    sd_bus_message_unref(m);
    sd_bus_flush(bus_);
  }
  const std::string& unique() const { return unique_; }

 private:
  sd_bus* bus_ = nullptr;
  std::string unique_;
};

class SdBusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::system("command -v dbus-daemon >/dev/null") != 0) GTEST_SKIP() << "dbus-daemon missing";
    daemon = std::make_unique<PrivateBus>(tmp.path());
    ASSERT_TRUE(daemon->up());
    ::setenv("DBUS_SYSTEM_BUS_ADDRESS", daemon->address().c_str(), 1);
    conn = std::make_unique<SdBusConnection>(io, clock);
  }
  void TearDown() override { ::unsetenv("DBUS_SYSTEM_BUS_ADDRESS"); }
  // Runs the loop until `done` or 5 s.
  bool run_until(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!done() && std::chrono::steady_clock::now() < deadline) {
      io.run_for(10ms);
      io.restart();
    }
    return done();
  }

  testing::TempDir tmp;
  std::unique_ptr<PrivateBus> daemon;
  boost::asio::io_context io;
  core::AsioClock clock{io};
  std::unique_ptr<SdBusConnection> conn;
};

TEST_F(SdBusTest, HonoursTheEnvironmentAndAnswersAsynchronously) {
  EXPECT_EQ(conn->address(), daemon->address());
  std::string lost;
  ASSERT_TRUE(conn->connect([&](std::string why) { lost = why; }).ok());
  std::optional<BusReply> reply;
  conn->call(BusCall{kDbusName, kDbusPath, kDbusName, "GetNameOwner", {kFirewalldName}},
             [&](BusReply r) { reply = std::move(r); });
  EXPECT_FALSE(reply) << "answered inside call()";
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  EXPECT_EQ(reply->error_name, "org.freedesktop.DBus.Error.NameHasNoOwner");
  EXPECT_TRUE(lost.empty());
}

TEST_F(SdBusTest, SignalsAndTheirValuesArriveOnTheLoop) {
  ASSERT_TRUE(conn->connect([](std::string) {}).ok());
  std::vector<BusSignal> owners, fw;
  int installed = 0;
  conn->add_match(
      "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',"
      "member='NameOwnerChanged',arg0='org.fedoraproject.FirewallD1'",
      [&](const BusSignal& s) { owners.push_back(s); }, [&](BusReply r) { installed += r.ok(); });
  conn->add_match(
      "type='signal',path='/org/fedoraproject/FirewallD1'",
      [&](const BusSignal& s) { fw.push_back(s); }, [&](BusReply r) { installed += r.ok(); });
  ASSERT_TRUE(run_until([&] { return installed == 2; }));

  FakeFirewalld other(daemon->address());
  other.own_name();
  ASSERT_TRUE(run_until([&] { return owners.size() == 1; }));
  ASSERT_EQ(owners[0].args.size(), 3u);
  EXPECT_EQ(*owners[0].args[0].as_string(), kFirewalldName);
  EXPECT_EQ(*owners[0].args[1].as_string(), "");
  EXPECT_EQ(*owners[0].args[2].as_string(), other.unique());

  other.emit();
  ASSERT_TRUE(run_until([&] { return fw.size() == 2; }));
  EXPECT_EQ(fw[0].member, "Reloaded");
  EXPECT_EQ(fw[0].interface, kFirewalldName);
  EXPECT_EQ(fw[0].sender, other.unique());
  const auto& a = fw[1].args;
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(*a[1].as_string(), "179");
  EXPECT_EQ(std::get<std::int64_t>(a[2].data), 7);
  EXPECT_EQ(*a[3].get("target")->as_string(), "default");
  EXPECT_EQ(a[3].get("forward")->as_bool(), true);
  ASSERT_EQ(a[4].as_array()->items.size(), 2u);
  EXPECT_EQ(*a[4].as_array()->items[1].as_struct()->fields[0].as_string(), "30000-32767");
  const auto& t = a[5].as_struct()->fields;
  EXPECT_EQ(std::get<std::uint64_t>(t[0].data), uint64_t{1} << 40);
  EXPECT_EQ(std::get<double>(t[1].data), 2.5);
  EXPECT_EQ(std::get<std::uint64_t>(t[2].data), 9u);

  other.release_name();
  ASSERT_TRUE(run_until([&] { return owners.size() == 2; }));
  EXPECT_EQ(*owners[1].args[2].as_string(), "");
}

TEST_F(SdBusTest, CallsNeverStartAServiceAndTimeOut) {
  ASSERT_TRUE(conn->connect([](std::string) {}).ok());
  std::optional<BusReply> reply;
  conn->call(BusCall{kFirewalldName, kFirewalldPath, kFirewalldName, "getDefaultZone", {}},
             [&](BusReply r) { reply = std::move(r); });
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  // NO_AUTO_START: the daemon answers NameHasNoOwner instead of activating the service.
  EXPECT_EQ(reply->error_name, "org.freedesktop.DBus.Error.NameHasNoOwner");
  std::this_thread::sleep_for(200ms);
  EXPECT_FALSE(daemon->activated()) << "the call started the activatable service";

  // A peer that owns the name but never answers: the call's own timeout ends it.
  FakeFirewalld silent(daemon->address());
  silent.own_name();
  reply.reset();
  const auto t0 = std::chrono::steady_clock::now();
  conn->call(BusCall{kFirewalldName, kFirewalldPath, kFirewalldName, "getDefaultZone", {}, 300ms},
             [&](BusReply r) { reply = std::move(r); });
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  EXPECT_FALSE(reply->ok());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 250ms);
}

TEST_F(SdBusTest, ADeadDaemonIsReportedOnceAndConnectFailsCleanly) {
  std::vector<std::string> lost;
  ASSERT_TRUE(conn->connect([&](std::string why) { lost.push_back(why); }).ok());
  std::optional<BusReply> reply;
  conn->call(BusCall{kDbusName, kDbusPath, kDbusName, "GetId", {}},
             [&](BusReply r) { reply = std::move(r); });
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  EXPECT_TRUE(reply->ok());
  daemon->kill();
  ASSERT_TRUE(run_until([&] { return !lost.empty(); }));
  io.run_for(100ms);
  EXPECT_EQ(lost.size(), 1u);
  EXPECT_FALSE(conn->connected());
  std::filesystem::remove(tmp / "bus");
  auto st = conn->connect([](std::string) {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind, core::EnvErrorKind::kNotFound);
  EXPECT_THAT(st.error().message, HasSubstr(daemon->address()));
  // Calls on a closed connection fail asynchronously, never inside call().
  reply.reset();
  conn->call(BusCall{kDbusName, kDbusPath, kDbusName, "GetId", {}},
             [&](BusReply r) { reply = std::move(r); });
  EXPECT_FALSE(reply);
  ASSERT_TRUE(run_until([&] { return reply.has_value(); }));
  EXPECT_EQ(reply->error_name, "org.freedesktop.DBus.Error.Disconnected");
}

}  // namespace
}  // namespace ng::netfilter::firewalld
