#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/component.h"
#include "core/log.h"

namespace ng::core {

struct NamedStatus {
  std::string name;
  ComponentStatus status;
};

// Owns the components; starts them in registration order and stops them in reverse, so a
// component may rely on the ones registered before it. Loop thread only.
class ComponentRegistry {
 public:
  explicit ComponentRegistry(Logger log) : log_(std::move(log)) {}

  template <class C>
  C& add(std::unique_ptr<C> component) {
    C& ref = *component;
    components_.push_back(std::move(component));
    return ref;
  }

  void start_all();
  void stop_all();
  std::vector<NamedStatus> statuses() const;
  // Every component started (running, degraded or disabled): what /readyz reports.
  bool all_started() const;
  size_t size() const { return components_.size(); }

 private:
  Logger log_;
  std::vector<std::unique_ptr<Component>> components_;
  size_t started_ = 0;
};

}  // namespace ng::core
