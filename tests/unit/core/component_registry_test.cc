#include <gtest/gtest.h>

#include "core/component_registry.h"

namespace ng::core {
namespace {

class ScriptedComponent final : public core::Component {
 public:
  ScriptedComponent(std::string name, std::vector<std::string>& journal,
                    core::ComponentState after_start = core::ComponentState::kRunning)
      : name_(std::move(name)), journal_(journal), after_start_(after_start) {}
  std::string_view name() const override { return name_; }
  void start() override {
    journal_.push_back("start " + name_);
    state_ = after_start_;
  }
  void stop() override {
    journal_.push_back("stop " + name_);
    state_ = core::ComponentState::kStopped;
  }
  core::ComponentStatus status() const override { return {state_, name_ + " says hi", {}}; }

 private:
  std::string name_;
  std::vector<std::string>& journal_;
  core::ComponentState after_start_;
  core::ComponentState state_ = core::ComponentState::kStopped;
};

TEST(ComponentRegistry, StartsInOrderStopsInReverse) {
  std::vector<std::string> journal;
  core::ComponentRegistry reg(core::Logger::discard());
  reg.add(std::make_unique<ScriptedComponent>("netfilter", journal));
  reg.add(std::make_unique<ScriptedComponent>("firewalld", journal));
  reg.add(std::make_unique<ScriptedComponent>("logs", journal));
  EXPECT_FALSE(reg.all_started());
  reg.start_all();
  EXPECT_TRUE(reg.all_started());
  reg.stop_all();
  EXPECT_EQ(journal, (std::vector<std::string>{"start netfilter", "start firewalld", "start logs",
                                               "stop logs", "stop firewalld", "stop netfilter"}));
  reg.stop_all();  // idempotent
  EXPECT_EQ(journal.size(), 6u);
}

TEST(ComponentRegistry, ReadinessCountsDegradedAndDisabledButNotFailed) {
  std::vector<std::string> journal;
  core::ComponentRegistry reg(core::Logger::discard());
  reg.add(std::make_unique<ScriptedComponent>("a", journal, core::ComponentState::kDegraded));
  reg.add(std::make_unique<ScriptedComponent>("b", journal, core::ComponentState::kDisabled));
  reg.start_all();
  EXPECT_TRUE(reg.all_started());
  reg.add(std::make_unique<ScriptedComponent>("c", journal, core::ComponentState::kFailed));
  EXPECT_FALSE(reg.all_started());  // registered but not started
  reg.start_all();
  EXPECT_FALSE(reg.all_started());  // started but failed
  const auto st = reg.statuses();
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[2].name, "c");
  EXPECT_EQ(st[2].status.state, core::ComponentState::kFailed);
}

}  // namespace
}  // namespace ng::core
