#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ng::core {

// Why an outside touch point failed. These are facts about the node, not bugs: callers log them
// once (EnvErrorReporter), count them, and degrade. Broken invariants crash instead.
enum class EnvErrorKind {
  kPermission,     // EPERM/EACCES: missing capability or read-only mount
  kNotFound,       // file, socket, table or chain absent
  kMissingBinary,  // an executable we exec is not installed
  kLockBusy,       // /run/xtables.lock or similar held past our timeout
  kUnavailable,    // peer not answering: D-Bus, BIRD socket, kernel subsystem
  kTimeout,        // an operation exceeded its deadline
  kInvalidInput,   // bytes from outside that do not parse
  kResourceLimit,  // inotify watches, fds, disk space exhausted
  kIo,             // any other I/O error
};

std::string_view to_string(EnvErrorKind kind);

struct EnvError {
  EnvErrorKind kind;
  std::string message;

  static EnvError from_errno(int err, std::string_view what);
};

// A value or an EnvError. Small on purpose: std::expected arrives with C++23.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(EnvError error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const EnvError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, EnvError> v_;
};

struct Ok {};
using Status = Result<Ok>;

}  // namespace ng::core
