#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ng::core {

using Millis = std::chrono::milliseconds;

// A validator: nullopt when the value is fine, else the reason in words ("must be 1-65535").
template <class T>
using Check = std::function<std::optional<std::string>(const T&)>;

class ConfigBinder;

// Type-erased access to a std::vector of config objects (peers, probe targets, ...).
class ObjectList {
 public:
  virtual ~ObjectList() = default;
  virtual size_t size() const = 0;
  virtual void resize(size_t n) = 0;
  virtual void bind_element(size_t i, ConfigBinder& binder) = 0;
};

// Each config section describes its keys once, as calls on a binder:
//
//   void bind_config(ConfigBinder& b, NetfilterConfig& c) {
//     b.field("poll_interval", c.poll_interval, "How often ...", duration_range(1ms, 10s));
//   }
//
// The same description then loads YAML (with file lines in errors), registers one command-line
// flag per key, prints the effective config, and writes the reference in docs/configuration.md.
// Keys are snake_case; nested sections make dotted paths (netfilter.poll_interval) and flags
// (--netfilter-poll-interval).
class ConfigBinder {
 public:
  virtual ~ConfigBinder() = default;

  virtual void section(std::string_view key, std::string_view doc,
                       const std::function<void(ConfigBinder&)>& body) = 0;
  virtual void field(std::string_view key, bool& v, std::string_view doc) = 0;
  virtual void field(std::string_view key, std::int64_t& v, std::string_view doc,
                     const Check<std::int64_t>& check) = 0;
  virtual void field(std::string_view key, double& v, std::string_view doc,
                     const Check<double>& check) = 0;
  virtual void field(std::string_view key, std::string& v, std::string_view doc,
                     const Check<std::string>& check) = 0;
  virtual void field(std::string_view key, Millis& v, std::string_view doc,
                     const Check<Millis>& check) = 0;
  // `each` validates every element.
  virtual void field(std::string_view key, std::vector<std::string>& v, std::string_view doc,
                     const Check<std::string>& each) = 0;
  // A map from a name (a table, say) to a list of strings.
  virtual void field(std::string_view key, std::map<std::string, std::vector<std::string>>& v,
                     std::string_view doc, const Check<std::string>& each) = 0;
  virtual void objects(std::string_view key, std::string_view doc, ObjectList& list) = 0;

  // Conveniences with no check.
  void field(std::string_view key, std::int64_t& v, std::string_view doc) {
    field(key, v, doc, Check<std::int64_t>{});
  }
  void field(std::string_view key, std::string& v, std::string_view doc) {
    field(key, v, doc, Check<std::string>{});
  }
  void field(std::string_view key, Millis& v, std::string_view doc) {
    field(key, v, doc, Check<Millis>{});
  }
  void field(std::string_view key, std::vector<std::string>& v, std::string_view doc) {
    field(key, v, doc, Check<std::string>{});
  }

  // A list of objects of type T; T is described by a free `bind_config(ConfigBinder&, T&)`.
  template <class T>
  void list(std::string_view key, std::vector<T>& v, std::string_view doc);
};

template <class T>
class VectorObjectList final : public ObjectList {
 public:
  explicit VectorObjectList(std::vector<T>& v) : v_(v) {}
  size_t size() const override { return v_.size(); }
  void resize(size_t n) override { v_.resize(n); }
  void bind_element(size_t i, ConfigBinder& binder) override { bind_config(binder, v_[i]); }

 private:
  std::vector<T>& v_;
};

template <class T>
void ConfigBinder::list(std::string_view key, std::vector<T>& v, std::string_view doc) {
  VectorObjectList<T> access(v);
  objects(key, doc, access);
}

// Common checks.
Check<std::int64_t> int_range(std::int64_t lo, std::int64_t hi);
Check<double> double_range(double lo, double hi);
Check<Millis> duration_range(Millis lo, Millis hi);
Check<std::string> one_of(std::vector<std::string> allowed);
Check<std::string> host_port(bool allow_empty);  // "HOST:PORT", "[v6]:PORT", ":PORT"
Check<std::string> absolute_path(bool allow_empty);
Check<std::string> cidr();  // "10.0.0.0/24" or "fd00::/64"
Check<std::string> ip_address();
Check<std::string> not_empty();

// Durations in config are written "250ms", "1.5s", "2m", "1h".
std::optional<Millis> parse_duration(std::string_view s);
std::string format_duration(Millis d);

// Splits "HOST:PORT" / "[v6]:PORT"; nullopt when malformed.
struct HostPort {
  std::string host;  // without brackets; empty means all addresses
  int port = 0;
};
std::optional<HostPort> parse_host_port(std::string_view s);

}  // namespace ng::core
