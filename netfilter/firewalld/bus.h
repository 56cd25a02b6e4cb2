#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "netfilter/firewalld/dbus_value.h"

namespace ng::netfilter::firewalld {

// A signal as it arrived.
struct BusSignal {
  std::string sender;  // unique name (":1.42")
  std::string path;
  std::string interface;
  std::string member;
  std::vector<DbusValue> args;
};

// A method call: destination, object, interface, member and string arguments (all firewalld and
// bus-driver calls used here take strings only).
struct BusCall {
  std::string destination;
  std::string path;
  std::string interface;
  std::string member;
  std::vector<std::string> args;
  std::chrono::milliseconds timeout{5000};
};

// The answer to a call: the reply's values, or the D-Bus error (name and message). A call that
// cannot be sent or times out is an error too ("org.freedesktop.DBus.Error.NoReply", ...).
struct BusReply {
  std::string error_name;  // empty on success
  std::string error_message;
  std::vector<DbusValue> values;
  bool ok() const { return error_name.empty(); }
};

// The D-Bus seam: the few things the firewalld watcher needs from the system bus. Production:
// SdBusConnection (sd-bus, its fd driven by the agent loop); unit tests: FakeBus. Every callback
// runs on the loop thread, never inside the call that registered it.
class Bus {
 public:
  virtual ~Bus() = default;

  // Opens the connection (DBUS_SYSTEM_BUS_ADDRESS honoured). An error is an environment fact
  // (no socket, permission); `on_lost` is called once if an open connection later breaks.
  virtual core::Status connect(std::function<void(std::string why)> on_lost) = 0;
  // Subscribes to signals matching a D-Bus match rule ("type='signal',interface='...'").
  // `installed` reports whether the bus daemon accepted the rule.
  virtual void add_match(const std::string& rule, std::function<void(const BusSignal&)> on_signal,
                         std::function<void(BusReply)> installed) = 0;
  virtual void call(const BusCall& call, std::function<void(BusReply)> done) = 0;
  // Closes the connection; pending callbacks are dropped, never called.
  virtual void close() = 0;
  virtual bool connected() const = 0;
  // Where it connects, for status and logs ("unix:path=/run/dbus/system_bus_socket").
  virtual std::string address() const = 0;
};

// Well-known names.
inline constexpr char kFirewalldName[] = "org.fedoraproject.FirewallD1";
inline constexpr char kFirewalldPath[] = "/org/fedoraproject/FirewallD1";
inline constexpr char kFirewalldConfigPath[] = "/org/fedoraproject/FirewallD1/config";
inline constexpr char kDbusName[] = "org.freedesktop.DBus";
inline constexpr char kDbusPath[] = "/org/freedesktop/DBus";
inline constexpr char kPropertiesInterface[] = "org.freedesktop.DBus.Properties";

}  // namespace ng::netfilter::firewalld
