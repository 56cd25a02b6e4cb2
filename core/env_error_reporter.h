#pragma once

#include <map>
#include <string>
#include <utility>

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include "core/log.h"
#include "core/result.h"

namespace ng::core {

// Environment errors are logged once per (component, kind) until the component recovers, and
// always counted in nodeguard_environment_errors_total{component,kind}. Loop thread only.
class EnvErrorReporter {
 public:
  EnvErrorReporter(prometheus::Registry& registry, Logger log);

  // Returns true when this is news (first of its kind since the last recovery).
  bool report(const std::string& component, const EnvError& error);
  // The component works again: the next error of any kind is logged.
  void recovered(const std::string& component);
  bool has_error(const std::string& component) const;

 private:
  prometheus::Family<prometheus::Counter>& family_;
  Logger log_;
  std::map<std::pair<std::string, EnvErrorKind>, bool> active_;
};

}  // namespace ng::core
