#include "netfilter/firewalld/policy_query.h"

#include <memory>
#include <optional>
#include <set>

namespace ng::netfilter::firewalld {

namespace {

constexpr char kUnknownMethod[] = "org.freedesktop.DBus.Error.UnknownMethod";
constexpr size_t kMaxServices = 512;  // a zone cannot sensibly use more; include loops stop here

std::string reply_error(const BusReply& r) {
  return r.error_name + (r.error_message.empty() ? "" : ": " + r.error_message);
}

class Query : public std::enable_shared_from_this<Query> {
 public:
  Query(Bus& bus, std::chrono::milliseconds timeout, std::function<void(PolicyQueryResult)> done)
      : bus_(bus), timeout_(timeout), done_(std::move(done)) {}

  void start() {
    // Held until the last answer: every callback keeps the query alive.
    call(main("getDefaultZone", {}), [this](BusReply r) {
      const std::string* s = r.ok() && !r.values.empty() ? r.values[0].as_string() : nullptr;
      if (!r.ok()) return fail("getDefaultZone: " + reply_error(r));
      if (!s) return invalid("getDefaultZone", "not a string");
      policy_.default_zone = *s;
      have_default_ = true;
      maybe_zones();
    });
    call(zone_call("getActiveZones", {}), [this](BusReply r) {
      if (!r.ok()) return fail("getActiveZones: " + reply_error(r));
      if (r.values.empty()) return invalid("getActiveZones", "empty answer");
      auto active = decode_active_zones(r.values[0]);
      if (!active) return invalid("getActiveZones", active.error().message);
      policy_.active = std::move(*active);
      have_active_ = true;
      maybe_zones();
    });
    call(property(kFirewalldPath, kFirewalldName, "version"), [this](BusReply r) {
      if (r.ok() && !r.values.empty() && r.values[0].as_string()) {
        policy_.version = *r.values[0].as_string();
      }
    });
    // FirewallBackend exists since firewalld 0.6; older ones only have iptables.
    call(property(kFirewalldConfigPath, kConfigInterface, "FirewallBackend"), [this](BusReply r) {
      if (r.ok() && !r.values.empty() && r.values[0].as_string()) {
        policy_.backend = *r.values[0].as_string();
      }
    });
    call(main("queryPanicMode", {}), [this](BusReply r) {
      if (!r.ok()) return;
      auto b = r.values.empty() ? std::nullopt : r.values[0].as_bool();
      if (!b) return invalid("queryPanicMode", "not a boolean");
      policy_.panic_mode = *b;
    });
  }

 private:
  BusCall main(const char* member, std::vector<std::string> args) const {
    return BusCall{kFirewalldName, kFirewalldPath,  kFirewalldName,
                   member,         std::move(args), timeout_};
  }
  BusCall zone_call(const char* member, std::vector<std::string> args) const {
    return BusCall{kFirewalldName, kFirewalldPath,  kZoneInterface,
                   member,         std::move(args), timeout_};
  }
  BusCall property(const char* path, const char* iface, const char* name) const {
    return BusCall{kFirewalldName, path, kPropertiesInterface, "Get", {iface, name}, timeout_};
  }

  void call(const BusCall& c, std::function<void(BusReply)> on) {
    ++outstanding_;
    bus_.call(c, [self = shared_from_this(), on = std::move(on)](BusReply r) {
      on(std::move(r));
      if (--self->outstanding_ == 0) self->finish();
    });
  }

  void fail(std::string why) {
    if (!error_) error_ = core::EnvError{core::EnvErrorKind::kUnavailable, std::move(why)};
  }
  void invalid(const std::string& method, const std::string& why) {
    invalid_.push_back(method);
    policy_.problems.push_back(method + ": " + why);
    if (method == "getDefaultZone" || method == "getActiveZones") {
      if (!error_) error_ = core::EnvError{core::EnvErrorKind::kInvalidInput, method + ": " + why};
    }
  }

  void maybe_zones() {
    if (!have_default_ || !have_active_) return;
    for (const auto& z : policy_.zone_names()) zone_settings(z, true);
  }

  void zone_settings(const std::string& zone, bool v2) {
    const char* member = v2 ? "getZoneSettings2" : "getZoneSettings";
    call(zone_call(member, {zone}), [this, zone, v2, member](BusReply r) {
      if (!r.ok()) {
        if (v2 && r.error_name == kUnknownMethod) return zone_settings(zone, false);
        policy_.problems.push_back("zone " + zone + ": " + reply_error(r));
        return;
      }
      if (r.values.empty()) return invalid(member, "zone " + zone + ": empty answer");
      auto z = decode_zone_settings(zone, r.values[0]);
      if (!z) return invalid(member, z.error().message);
      for (const auto& s : z->services) service(s, true);
      policy_.zones[zone] = std::move(*z);
    });
  }

  void service(const std::string& name, bool v2) {
    if (v2) {
      if (asked_.count(name)) return;
      if (asked_.size() >= kMaxServices) {
        policy_.problems.push_back("more than " + std::to_string(kMaxServices) +
                                   " services; the rest are not read");
        return;
      }
      asked_.insert(name);
    }
    const char* member = v2 ? "getServiceSettings2" : "getServiceSettings";
    call(main(member, {name}), [this, name, v2, member](BusReply r) {
      if (!r.ok()) {
        if (v2 && r.error_name == kUnknownMethod) return service(name, false);
        policy_.problems.push_back("service " + name + ": " + reply_error(r));
        return;
      }
      if (r.values.empty()) return invalid(member, "service " + name + ": empty answer");
      auto s = decode_service_settings(name, r.values[0]);
      if (!s) return invalid(member, s.error().message);
      for (const auto& inc : s->includes) service(inc, true);
      policy_.services[name] = std::move(*s);
    });
  }

  void finish() {
    PolicyQueryResult r;
    if (error_) {
      r.policy = *error_;
    } else {
      r.policy = std::move(policy_);
    }
    r.invalid_methods = std::move(invalid_);
    auto done = std::move(done_);
    done(std::move(r));
  }

  Bus& bus_;
  std::chrono::milliseconds timeout_;
  std::function<void(PolicyQueryResult)> done_;
  FirewalldPolicy policy_;
  std::vector<std::string> invalid_;
  std::optional<core::EnvError> error_;
  std::set<std::string> asked_;
  int outstanding_ = 0;
  bool have_default_ = false;
  bool have_active_ = false;
};

}  // namespace

void query_policy(Bus& bus, std::chrono::milliseconds timeout,
                  std::function<void(PolicyQueryResult)> done) {
  std::make_shared<Query>(bus, timeout, std::move(done))->start();
}

}  // namespace ng::netfilter::firewalld
