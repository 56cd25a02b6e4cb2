#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>

#include "core/files.h"

namespace ng::testing {

// An in-memory filesystem with injectable failures (full disk, read-only state dir).
class FakeFiles final : public core::Files {
 public:
  core::Result<std::string> read(const std::string& path) override {
    auto it = files_.find(path);
    if (it == files_.end()) return core::EnvError{core::EnvErrorKind::kNotFound, "no " + path};
    return it->second;
  }
  core::Status write_atomic(const std::string& path, std::string_view data) override {
    ++writes_;
    if (write_error_) return *write_error_;
    files_[path] = std::string(data);
    return core::Ok{};
  }
  core::Status make_dirs(const std::string& path) override {
    dirs_.insert(path);
    return core::Ok{};
  }
  core::Status remove(const std::string& path) override {
    files_.erase(path);
    return core::Ok{};
  }
  core::Result<std::vector<std::string>> list(const std::string& dir) override {
    std::vector<std::string> out;
    const std::string prefix = dir.back() == '/' ? dir : dir + "/";
    for (const auto& [p, _] : files_) {
      if (p.compare(0, prefix.size(), prefix) == 0 &&
          p.find('/', prefix.size()) == std::string::npos) {
        out.push_back(p.substr(prefix.size()));
      }
    }
    return out;
  }
  bool exists(const std::string& path) override { return files_.count(path) || dirs_.count(path); }

  void fail_writes(std::optional<core::EnvError> e) { write_error_ = std::move(e); }
  std::map<std::string, std::string>& contents() { return files_; }
  int writes() const { return writes_; }

 private:
  std::map<std::string, std::string> files_;
  std::set<std::string> dirs_;
  std::optional<core::EnvError> write_error_;
  int writes_ = 0;
};

}  // namespace ng::testing
