#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <prometheus/registry.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/component_deps.h"
#include "core/env_error_reporter.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "netfilter/firewalld/bus.h"
#include "netfilter/firewalld/conflict_rules.h"
#include "netfilter/firewalld/firewalld_config.h"
#include "netfilter/firewalld/firewalld_metrics.h"
#include "netfilter/firewalld/node_needs.h"
#include "netfilter/firewalld/policy_query.h"
#include "netfilter/guard.h"

namespace ng::netfilter::firewalld {

// What the watcher needs from the netfilter guard: an immediate check, and its view (hostPorts
// in the guarded CNI chains, built-in policies left at DROP). Production: of(Guard&).
struct NetfilterLink {
  std::function<void(std::string reason)> request_check;
  std::function<GuardView()> view;
  static NetfilterLink of(Guard& guard);
};

struct WatcherOptions {
  core::Duration retry_initial = std::chrono::seconds(1);
  core::Duration call_timeout = std::chrono::seconds(5);
  // After a (re)start firewalld answers only once it has rebuilt its rules: the first call waits
  // this long.
  core::Duration ready_timeout = std::chrono::seconds(90);
  core::Duration signal_debounce =
      std::chrono::milliseconds(200);  // zone-change signals come in bursts
  core::Duration rejudge_interval =
      std::chrono::seconds(10);  // node needs (hostPorts, BGP sessions) change too
};

// The firewalld component. On the system bus it subscribes to firewalld's signals and to
// NameOwnerChanged for org.fedoraproject.FirewallD1: a Reloaded signal from the owner of that
// name, firewalld starting or stopping each trigger an immediate netfilter check
// (Guard::request_check) and one log line naming the trigger. Signals from any other sender (while
// firewalld runs, or while nobody owns its name) and NameOwnerChanged not from the bus daemon are
// ignored, counted (nodeguard_firewalld_ignored_signals_total{reason}) and logged once. While
// firewalld runs it reads the runtime policy (query_policy) after every reload, zone-change signal
// and recheck_interval, and judges it against what the node needs (judge()): one condition per
// conflicting check, nodeguard_firewalld_conflicts{check}. firewalld absent is a normal state
// (status detail); an unreachable bus is reported once (EnvErrorReporter, info condition
// FirewalldNotWatched) and retried with exponential backoff up to firewalld.retry_max. Loop thread
// only.
class FirewalldWatcher final : public core::Component {
 public:
  using Deps = core::ComponentDeps;

  FirewalldWatcher(FirewalldConfig config, std::unique_ptr<Bus> bus, NetfilterLink netfilter,
                   Deps deps, WatcherOptions options = {});
  ~FirewalldWatcher() override;

  std::string_view name() const override { return "firewalld"; }
  void start() override;
  void stop() override;
  core::ComponentStatus status() const override;

  // What the other components know about the node (routes, BGP); set in agent/components.cc.
  void set_node_facts(std::function<NodeFacts()> fn) { facts_ = std::move(fn); }

  bool firewalld_running() const { return fw_ == Fw::kRunning || fw_ == Fw::kStarting; }
  bool bus_connected() const { return bus_ok_; }
  const std::optional<FirewalldPolicy>& policy() const { return policy_; }
  const std::optional<ConflictReport>& report() const { return report_; }
  std::uint64_t events_seen() const { return reloads_ + starts_ + stops_; }
  // Judges the last policy against the node's needs now (tests; a timer does it otherwise).
  void rejudge();

 private:
  enum class Fw { kUnknown, kAbsent, kStarting, kRunning };

  void connect();
  void on_bus_lost(const std::string& why);
  void bus_unreachable(const core::EnvError& e);
  void schedule_reconnect();
  void on_name_owner(const BusReply& r, std::uint64_t gen);
  void on_signal(const BusSignal& s, std::uint64_t gen);
  void on_owner_changed(const BusSignal& s);
  void ignore(const BusSignal& s, std::string_view reason);
  void trigger(std::string_view event, std::string_view signal, const std::string& reason,
               const std::string& sender);
  void wait_ready(bool after_start);
  void query();
  void on_policy(PolicyQueryResult r);
  void firewalld_gone();
  void publish(const ConflictReport& report);
  ConflictReport judge_now() const;
  void set_not_watched(bool active, const std::string& message);
  core::Duration next_backoff(core::Duration& current) const;

  FirewalldConfig config_;
  std::unique_ptr<Bus> bus_;
  NetfilterLink netfilter_;
  Deps d_;
  WatcherOptions opt_;
  FirewalldMetrics metrics_;
  std::function<NodeFacts()> facts_;

  bool started_ = false;
  std::uint64_t gen_ = 0;     // bumps on every (dis)connect: callbacks of older connections drop
  std::uint64_t fw_gen_ = 0;  // bumps when firewalld's owner changes: older answers drop
  bool bus_ok_ = false;       // the bus answered since the last connect
  std::string bus_error_;
  Fw fw_ = Fw::kUnknown;
  std::string owner_;
  core::Duration reconnect_backoff_{0};
  core::Duration query_backoff_{0};
  std::unique_ptr<core::Timer> reconnect_timer_;
  std::unique_ptr<core::Timer> query_timer_;  // recheck, debounce and retry of the policy read
  std::unique_ptr<core::Timer> rejudge_timer_;
  bool query_in_flight_ = false;
  bool query_again_ = false;
  std::optional<FirewalldPolicy> policy_;
  std::string query_error_;
  std::optional<core::WallTime> last_query_;
  std::optional<ConflictReport> report_;
  std::map<std::string, bool> conditions_;  // condition type -> reported active
  bool not_watched_ = false;
  bool ignored_logged_ = false;
  std::uint64_t reloads_ = 0, starts_ = 0, stops_ = 0;
  std::optional<core::WallTime> last_event_;
  std::string last_event_trigger_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace ng::netfilter::firewalld
