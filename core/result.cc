#include "core/result.h"

#include <cerrno>
#include <cstring>

namespace ng::core {

std::string_view to_string(EnvErrorKind kind) {
  switch (kind) {
    case EnvErrorKind::kPermission:
      return "permission";
    case EnvErrorKind::kNotFound:
      return "not_found";
    case EnvErrorKind::kMissingBinary:
      return "missing_binary";
    case EnvErrorKind::kLockBusy:
      return "lock_busy";
    case EnvErrorKind::kUnavailable:
      return "unavailable";
    case EnvErrorKind::kTimeout:
      return "timeout";
    case EnvErrorKind::kInvalidInput:
      return "invalid_input";
    case EnvErrorKind::kResourceLimit:
      return "resource_limit";
    case EnvErrorKind::kIo:
      return "io";
  }
  return "unknown";
}

EnvError EnvError::from_errno(int err, std::string_view what) {
  EnvErrorKind kind = EnvErrorKind::kIo;
  switch (err) {
    case EPERM:
    case EACCES:
    case EROFS:
      kind = EnvErrorKind::kPermission;
      break;
    case ENOENT:
    case ENOTDIR:
      kind = EnvErrorKind::kNotFound;
      break;
    case EWOULDBLOCK:
      kind = EnvErrorKind::kLockBusy;
      break;
    case ETIMEDOUT:
      kind = EnvErrorKind::kTimeout;
      break;
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
      kind = EnvErrorKind::kUnavailable;
      break;
    case ENOSPC:
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EDQUOT:
      kind = EnvErrorKind::kResourceLimit;
      break;
    default:
      break;
  }
  std::string msg(what);
  msg += ": ";
  msg += std::strerror(err);
  return EnvError{kind, std::move(msg)};
}

}  // namespace ng::core
