#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <systemd/sd-bus.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include "core/clock.h"
#include "netfilter/firewalld/bus.h"

namespace ng::netfilter::firewalld {

// The system bus through sd-bus, without a thread of its own: the connection's fd is watched by
// a posix::stream_descriptor on the agent's io_context and sd-bus's own deadline (call timeouts,
// the auth handshake) by a loop timer; on readiness sd_bus_process() runs until it has nothing
// left (bounded per turn so other components stay served). Nothing here blocks: connect() starts
// a non-blocking connect and the handshake continues on the loop.
class SdBusConnection final : public Bus {
 public:
  // `address` empty: $DBUS_SYSTEM_BUS_ADDRESS, else unix:path=/run/dbus/system_bus_socket.
  SdBusConnection(boost::asio::io_context& io, core::Clock& clock, std::string address = "");
  ~SdBusConnection() override;

  core::Status connect(std::function<void(std::string why)> on_lost) override;
  void add_match(const std::string& rule, std::function<void(const BusSignal&)> on_signal,
                 std::function<void(BusReply)> installed) override;
  void call(const BusCall& call, std::function<void(BusReply)> done) override;
  void close() override;
  bool connected() const override { return bus_ != nullptr; }
  std::string address() const override { return address_; }

  // The system bus address as sd-bus would pick it.
  static std::string system_bus_address();

 private:
  struct Match {
    SdBusConnection* self = nullptr;
    std::function<void(const BusSignal&)> on_signal;
    std::function<void(BusReply)> installed;
    sd_bus_slot* slot = nullptr;
  };
  struct Pending {
    SdBusConnection* self = nullptr;
    std::uint64_t id = 0;
    std::function<void(BusReply)> done;
  };

  static int on_reply(sd_bus_message* m, void* userdata, sd_bus_error* ret_error);
  static int on_match(sd_bus_message* m, void* userdata, sd_bus_error* ret_error);
  static int on_match_installed(sd_bus_message* m, void* userdata, sd_bus_error* ret_error);

  void arm();
  void process();
  void lost(std::string why);
  void fail_later(std::function<void(BusReply)> done, std::string name, std::string message);

  boost::asio::io_context& io_;
  core::Clock& clock_;
  std::string address_;
  sd_bus* bus_ = nullptr;
  std::unique_ptr<boost::asio::posix::stream_descriptor> fd_;
  std::unique_ptr<core::Timer> timer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(false);  // this connection's handlers
  std::shared_ptr<bool> life_ = std::make_shared<bool>(true);    // this object's
  bool read_wait_ = false;
  bool write_wait_ = false;
  bool process_posted_ = false;
  std::function<void(std::string)> on_lost_;
  std::vector<std::unique_ptr<Match>> matches_;
  std::map<std::uint64_t, std::unique_ptr<Pending>> pending_;
  std::uint64_t next_id_ = 1;
};

// Reads every value of a message from the current position (tests use it on hand-built
// messages). Errors: a type this decoder does not know.
core::Result<std::vector<DbusValue>> read_message_values(sd_bus_message* m);

}  // namespace ng::netfilter::firewalld
