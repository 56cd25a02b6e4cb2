#include "netfilter/firewalld/sd_bus_connection.h"

#include <poll.h>
#include <systemd/sd-bus.h>
#include <time.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <boost/asio/post.hpp>

namespace ng::netfilter::firewalld {

namespace {

constexpr int kMaxDepth = 64;           // D-Bus allows 32 arrays + 32 structs
constexpr int kMaxProcessPerTurn = 64;  // messages handled before yielding to the loop

std::string key_text(const DbusValue& v) {
  if (const auto* s = v.as_string()) return *s;
  return v.describe();
}

template <class T>
int read_basic(sd_bus_message* m, char type, T& out) {
  return sd_bus_message_read_basic(m, type, &out);
}

int read_value(sd_bus_message* m, DbusValue& out, int depth);

// Reads the a{..} entries of an entered array container into a dictionary.
int read_dict_entries(sd_bus_message* m, const char* contents, DbusValue& out, int depth) {
  const std::string inner(contents + 1, std::strlen(contents) - 2);
  DbusValue::Dict d;
  int r = 0;
  for (;;) {
    r = sd_bus_message_enter_container(m, SD_BUS_TYPE_DICT_ENTRY, inner.c_str());
    if (r < 0) return r;
    if (r == 0) break;
    DbusValue k, v;
    if ((r = read_value(m, k, depth + 1)) <= 0) return r < 0 ? r : -EBADMSG;
    if ((r = read_value(m, v, depth + 1)) <= 0) return r < 0 ? r : -EBADMSG;
    if ((r = sd_bus_message_exit_container(m)) < 0) return r;
    d.entries[key_text(k)] = std::move(v);
  }
  out = DbusValue(std::move(d));
  return 1;
}

// Reads values until the end of the entered container.
int read_items(sd_bus_message* m, std::vector<DbusValue>& items, int depth) {
  for (;;) {
    DbusValue v;
    const int r = read_value(m, v, depth + 1);
    if (r < 0) return r;
    if (r == 0) return 1;
    items.push_back(std::move(v));
  }
}

int read_array(sd_bus_message* m, const char* contents, DbusValue& out, int depth) {
  int r = sd_bus_message_enter_container(m, SD_BUS_TYPE_ARRAY, contents);
  if (r < 0) return r;
  if (contents && contents[0] == SD_BUS_TYPE_DICT_ENTRY_BEGIN) {
    if ((r = read_dict_entries(m, contents, out, depth)) < 0) return r;
  } else {
    DbusValue::Array a;
    if ((r = read_items(m, a.items, depth)) < 0) return r;
    out = DbusValue(std::move(a));
  }
  if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  return 1;
}

int read_struct(sd_bus_message* m, const char* contents, DbusValue& out, int depth) {
  int r = sd_bus_message_enter_container(m, SD_BUS_TYPE_STRUCT, contents);
  if (r < 0) return r;
  DbusValue::Struct s;
  if ((r = read_items(m, s.fields, depth)) < 0) return r;
  if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  out = DbusValue(std::move(s));
  return 1;
}

int read_variant(sd_bus_message* m, const char* contents, DbusValue& out, int depth) {
  int r = sd_bus_message_enter_container(m, SD_BUS_TYPE_VARIANT, contents);
  if (r < 0) return r;
  if ((r = read_value(m, out, depth + 1)) <= 0) return r < 0 ? r : -EBADMSG;
  if ((r = sd_bus_message_exit_container(m)) < 0) return r;
  return 1;
}

// Reads one number of wire type Wire and stores it widened to Stored.
template <class Wire, class Stored>
int read_number(sd_bus_message* m, char type, DbusValue& out) {
  Wire v = 0;
  const int r = read_basic(m, type, v);
  if (r < 0) return r;
  out = DbusValue(DbusValue::Data(Stored{v}));
  return 1;
}

int read_basic_value(sd_bus_message* m, char type, DbusValue& out) {
  int r = 0;
  switch (type) {
    case SD_BUS_TYPE_STRING:
    case SD_BUS_TYPE_OBJECT_PATH:
    case SD_BUS_TYPE_SIGNATURE: {
      const char* s = nullptr;
      if ((r = read_basic(m, type, s)) < 0) return r;
      out = DbusValue::str(s ? s : "");
      return 1;
    }
    case SD_BUS_TYPE_BOOLEAN: {
      int b = 0;
      if ((r = read_basic(m, type, b)) < 0) return r;
      out = DbusValue::boolean(b != 0);
      return 1;
    }
    case SD_BUS_TYPE_BYTE:
      return read_number<std::uint8_t, std::uint64_t>(m, type, out);
    case SD_BUS_TYPE_INT16:
      return read_number<std::int16_t, std::int64_t>(m, type, out);
    case SD_BUS_TYPE_UINT16:
      return read_number<std::uint16_t, std::uint64_t>(m, type, out);
    case SD_BUS_TYPE_INT32:
    case SD_BUS_TYPE_UNIX_FD:
      return read_number<std::int32_t, std::int64_t>(m, type, out);
    case SD_BUS_TYPE_UINT32:
      return read_number<std::uint32_t, std::uint64_t>(m, type, out);
    case SD_BUS_TYPE_INT64:
      return read_number<std::int64_t, std::int64_t>(m, type, out);
    case SD_BUS_TYPE_UINT64:
      return read_number<std::uint64_t, std::uint64_t>(m, type, out);
    case SD_BUS_TYPE_DOUBLE:
      return read_number<double, double>(m, type, out);
    default:
      return -EPROTO;
  }
}

int read_value(sd_bus_message* m, DbusValue& out, int depth) {
  if (depth > kMaxDepth) return -ELOOP;
  char type = 0;
  const char* contents = nullptr;
  const int r = sd_bus_message_peek_type(m, &type, &contents);
  if (r <= 0) return r;
  switch (type) {
    case SD_BUS_TYPE_ARRAY:
      return read_array(m, contents, out, depth);
    case SD_BUS_TYPE_STRUCT:
      return read_struct(m, contents, out, depth);
    case SD_BUS_TYPE_VARIANT:
      return read_variant(m, contents, out, depth);
    default:
      return read_basic_value(m, type, out);
  }
}

std::string text_or_empty(const char* s) {
  return s ? std::string(s) : std::string();
}

core::EnvError connect_error(int r, const std::string& address) {
  const int err = -r;
  core::EnvErrorKind kind = core::EnvErrorKind::kIo;
  if (err == ENOENT) kind = core::EnvErrorKind::kNotFound;
  if (err == EACCES || err == EPERM) kind = core::EnvErrorKind::kPermission;
  if (err == ECONNREFUSED || err == ECONNRESET || err == ENOTCONN) {
    kind = core::EnvErrorKind::kUnavailable;
  }
  return core::EnvError{kind, "system bus " + address + ": " + std::strerror(err)};
}

std::uint64_t monotonic_usec() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000u +
         static_cast<std::uint64_t>(ts.tv_nsec) / 1000u;
}

}  // namespace

core::Result<std::vector<DbusValue>> read_message_values(sd_bus_message* m) {
  std::vector<DbusValue> out;
  for (;;) {
    DbusValue v;
    const int r = read_value(m, v, 0);
    if (r < 0) {
      return core::EnvError{core::EnvErrorKind::kInvalidInput,
                            std::string("D-Bus message does not decode: ") + std::strerror(-r)};
    }
    if (r == 0) return out;
    out.push_back(std::move(v));
  }
}

std::string SdBusConnection::system_bus_address() {
  const char* env = std::getenv("DBUS_SYSTEM_BUS_ADDRESS");
  if (env && *env) return env;
  return "unix:path=/run/dbus/system_bus_socket";
}

SdBusConnection::SdBusConnection(boost::asio::io_context& io, core::Clock& clock,
                                 std::string address)
    : io_(io),
      clock_(clock),
      address_(address.empty() ? system_bus_address() : std::move(address)),
      timer_(clock_.make_timer()) {}

SdBusConnection::~SdBusConnection() {
  *life_ = false;
  close();
}

core::Status SdBusConnection::connect(std::function<void(std::string)> on_lost) {
  close();
  sd_bus* b = nullptr;
  int r = sd_bus_new(&b);
  if (r < 0) return connect_error(r, address_);
  if ((r = sd_bus_set_address(b, address_.c_str())) < 0 || (r = sd_bus_set_bus_client(b, 1)) < 0 ||
      (r = sd_bus_set_description(b, "nodeguard-firewalld")) < 0 || (r = sd_bus_start(b)) < 0) {
    sd_bus_unref(b);
    return connect_error(r, address_);
  }
  const int fd = sd_bus_get_fd(b);
  if (fd < 0) {
    sd_bus_flush_close_unref(b);
    return connect_error(fd, address_);
  }
  bus_ = b;
  on_lost_ = std::move(on_lost);
  alive_ = std::make_shared<bool>(true);
  fd_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, fd);
  arm();
  return core::Ok{};
}

void SdBusConnection::close() {
  *alive_ = false;
  timer_->cancel();
  read_wait_ = write_wait_ = process_posted_ = false;
  if (fd_) {
    boost::system::error_code ec;
    fd_->cancel(ec);
    fd_->release();  // sd-bus owns and closes the fd
    fd_.reset();
  }
  for (auto& m : matches_) {
    if (m->slot) sd_bus_slot_unref(m->slot);
  }
  matches_.clear();
  if (bus_) {
    sd_bus* b = bus_;
    bus_ = nullptr;
    // Closing first stops dispatch even if sd_bus_process() (our caller) still holds a ref.
    sd_bus_close(b);
    sd_bus_unref(b);
  }
  pending_.clear();
  on_lost_ = nullptr;
}

void SdBusConnection::lost(std::string why) {
  auto cb = std::move(on_lost_);
  close();
  if (cb) cb(std::move(why));
}

void SdBusConnection::fail_later(std::function<void(BusReply)> done, std::string name,
                                 std::string message) {
  // Not tied to the connection: a call made while closed still gets its error.
  boost::asio::post(io_, [life = life_, done = std::move(done), name = std::move(name),
                          message = std::move(message)] {
    if (!*life) return;
    BusReply r;
    r.error_name = name;
    r.error_message = message;
    done(std::move(r));
  });
}

void SdBusConnection::add_match(const std::string& rule,
                                std::function<void(const BusSignal&)> on_signal,
                                std::function<void(BusReply)> installed) {
  if (!bus_) {
    fail_later(std::move(installed), "org.freedesktop.DBus.Error.Disconnected", "not connected");
    return;
  }
  auto m = std::make_unique<Match>();
  m->self = this;
  m->on_signal = std::move(on_signal);
  m->installed = std::move(installed);
  const int r =
      sd_bus_add_match_async(bus_, &m->slot, rule.c_str(), &on_match, &on_match_installed, m.get());
  if (r < 0) {
    fail_later(std::move(m->installed), "org.freedesktop.DBus.Error.MatchRuleInvalid",
               std::string("add match: ") + std::strerror(-r));
    return;
  }
  matches_.push_back(std::move(m));
  arm();
}

void SdBusConnection::call(const BusCall& c, std::function<void(BusReply)> done) {
  if (!bus_) {
    fail_later(std::move(done), "org.freedesktop.DBus.Error.Disconnected", "not connected");
    return;
  }
  sd_bus_message* m = nullptr;
  int r = sd_bus_message_new_method_call(bus_, &m, c.destination.c_str(), c.path.c_str(),
                                         c.interface.c_str(), c.member.c_str());
  // Never start a service by calling it: on RHEL the bus would start firewalld through systemd.
  if (r >= 0) r = sd_bus_message_set_auto_start(m, 0);
  for (size_t i = 0; r >= 0 && i < c.args.size(); ++i) {
    r = sd_bus_message_append_basic(m, SD_BUS_TYPE_STRING, c.args[i].c_str());
  }
  auto p = std::make_unique<Pending>();
  p->self = this;
  p->id = next_id_++;
  if (r >= 0) {
    const auto usec = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(c.timeout).count());
    // A floating slot: the bus owns it and frees it after the reply or with the bus.
    r = sd_bus_call_async(bus_, nullptr, m, &on_reply, p.get(), usec);
  }
  sd_bus_message_unref(m);
  if (r < 0) {
    fail_later(std::move(done), "org.freedesktop.DBus.Error.Failed",
               "cannot send " + c.interface + "." + c.member + ": " + std::strerror(-r));
    return;
  }
  p->done = std::move(done);
  pending_[p->id] = std::move(p);
  arm();
}

int SdBusConnection::on_reply(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* p = static_cast<Pending*>(userdata);
  SdBusConnection* self = p->self;
  auto it = self->pending_.find(p->id);
  if (it == self->pending_.end()) return 0;
  auto done = std::move(it->second->done);
  self->pending_.erase(it);  // frees p
  BusReply reply;
  if (sd_bus_message_is_method_error(m, nullptr)) {
    const sd_bus_error* e = sd_bus_message_get_error(m);
    reply.error_name = e && e->name ? e->name : "org.freedesktop.DBus.Error.Failed";
    reply.error_message = e ? text_or_empty(e->message) : "";
  } else {
    auto values = read_message_values(m);
    if (values) {
      reply.values = std::move(*values);
    } else {
      reply.error_name = "org.freedesktop.DBus.Error.InvalidArgs";
      reply.error_message = values.error().message;
    }
  }
  if (done) done(std::move(reply));
  return 0;
}

int SdBusConnection::on_match(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* match = static_cast<Match*>(userdata);
  BusSignal s;
  s.sender = text_or_empty(sd_bus_message_get_sender(m));
  s.path = text_or_empty(sd_bus_message_get_path(m));
  s.interface = text_or_empty(sd_bus_message_get_interface(m));
  s.member = text_or_empty(sd_bus_message_get_member(m));
  if (auto values = read_message_values(m)) s.args = std::move(*values);
  if (match->on_signal) match->on_signal(s);
  return 0;
}

int SdBusConnection::on_match_installed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* match = static_cast<Match*>(userdata);
  BusReply reply;
  if (sd_bus_message_is_method_error(m, nullptr)) {
    const sd_bus_error* e = sd_bus_message_get_error(m);
    reply.error_name = e && e->name ? e->name : "org.freedesktop.DBus.Error.Failed";
    reply.error_message = e ? text_or_empty(e->message) : "";
  }
  if (match->installed) {
    auto cb = std::move(match->installed);
    match->installed = nullptr;
    cb(std::move(reply));
  }
  return 0;
}

void SdBusConnection::arm() {
  if (!bus_) return;
  const int events = sd_bus_get_events(bus_);
  if (events < 0) {
    lost(std::string("bus connection closed: ") + std::strerror(-events));
    return;
  }
  if ((events & POLLIN) && !read_wait_) {
    read_wait_ = true;
    fd_->async_wait(boost::asio::posix::stream_descriptor::wait_read,
                    [this, alive = alive_](const boost::system::error_code& ec) {
                      if (!*alive) return;
                      read_wait_ = false;
                      if (!ec) process();
                    });
  }
  if ((events & POLLOUT) && !write_wait_) {
    write_wait_ = true;
    fd_->async_wait(boost::asio::posix::stream_descriptor::wait_write,
                    [this, alive = alive_](const boost::system::error_code& ec) {
                      if (!*alive) return;
                      write_wait_ = false;
                      if (!ec) process();
                    });
  }
  std::uint64_t until = 0;
  if (sd_bus_get_timeout(bus_, &until) >= 0 && until != UINT64_MAX) {
    const std::uint64_t now = monotonic_usec();
    const auto delay = std::chrono::microseconds(until > now ? until - now : 0);
    timer_->arm(delay, [this] { process(); });
  } else {
    timer_->cancel();
  }
}

void SdBusConnection::process() {
  if (!bus_) return;
  sd_bus* b = sd_bus_ref(bus_);
  int r = 0;
  for (int i = 0; i < kMaxProcessPerTurn; ++i) {
    r = sd_bus_process(b, nullptr);
    if (r <= 0 || bus_ != b) break;  // idle, broken, or closed by a callback
  }
  const bool ours = bus_ == b;
  const bool open = ours && sd_bus_is_open(b) > 0;
  sd_bus_unref(b);
  if (!ours) return;
  if (r < 0 || !open) {
    lost(r < 0 ? std::string("bus connection lost: ") + std::strerror(-r)
               : std::string("bus connection closed"));
    return;
  }
  if (r > 0) {
    // More to do: yield to the loop, then continue.
    if (!process_posted_) {
      process_posted_ = true;
      boost::asio::post(io_, [this, alive = alive_] {
        if (!*alive) return;
        process_posted_ = false;
        process();
      });
    }
    return;
  }
  arm();
}

}  // namespace ng::netfilter::firewalld
