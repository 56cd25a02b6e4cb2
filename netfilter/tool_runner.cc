#include "netfilter/tool_runner.h"

#include <unistd.h>

#include <cstdlib>

namespace ng::netfilter {

bool executable_on_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (dir.empty()) dir = ".";
    if (::access((dir + "/" + name).c_str(), X_OK) == 0) return true;
    start = end + 1;
  }
  return false;
}

core::Result<std::string> run_tool(core::ProcessRunner& runner, std::vector<std::string> argv,
                                   std::string stdin_data, std::chrono::milliseconds timeout,
                                   std::map<std::string, std::string> env) {
  core::ProcessRequest req;
  req.argv = std::move(argv);
  req.stdin_data = std::move(stdin_data);
  req.timeout = timeout;
  req.extra_env = std::move(env);
  auto r = runner.run(req);
  if (!r) return r.error();
  if (r->exit_code != 0) {
    std::string err = r->err;
    if (auto nl = err.find('\n'); nl != std::string::npos) err.resize(nl);
    auto kind = core::EnvErrorKind::kIo;
    if (err.find("Permission denied") != std::string::npos ||
        err.find("Operation not permitted") != std::string::npos) {
      kind = core::EnvErrorKind::kPermission;
    } else if (err.find("xtables lock") != std::string::npos) {
      kind = core::EnvErrorKind::kLockBusy;
    }
    return core::EnvError{kind, req.argv[0] + " exited " + std::to_string(r->exit_code) +
                                    (err.empty() ? "" : ": " + err)};
  }
  return std::move(r->out);
}

}  // namespace ng::netfilter
