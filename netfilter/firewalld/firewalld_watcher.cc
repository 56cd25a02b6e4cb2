#include "netfilter/firewalld/firewalld_watcher.h"

#include <algorithm>

#include "core/strings.h"

namespace ng::netfilter::firewalld {

using namespace std::chrono_literals;

namespace {

constexpr char kComponent[] = "firewalld";
constexpr char kNameHasNoOwner[] = "org.freedesktop.DBus.Error.NameHasNoOwner";
constexpr char kNoReply[] = "org.freedesktop.DBus.Error.NoReply";
constexpr char kTimeout[] = "org.freedesktop.DBus.Error.Timeout";
constexpr char kServiceUnknown[] = "org.freedesktop.DBus.Error.ServiceUnknown";
constexpr char kNotWatched[] = "FirewalldNotWatched";

// NameOwnerChanged for firewalld's name only, from the bus driver.
constexpr char kOwnerRule[] =
    "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
    "interface='org.freedesktop.DBus',member='NameOwnerChanged',"
    "arg0='org.fedoraproject.FirewallD1'";
// Every runtime signal of firewalld (Reloaded, zone and policy changes, panic mode). Matched by
// path rather than by the well-known sender name, which a client cannot match locally; the
// sender is compared with the current owner instead.
constexpr char kFirewalldRule[] = "type='signal',path='/org/fedoraproject/FirewallD1'";

using core::join;

std::string reply_error(const BusReply& r) {
  return r.error_name + (r.error_message.empty() ? "" : ": " + r.error_message);
}

std::string_view reason_of(Check c) {
  switch (c) {
    case Check::kNodePorts:
      return "NodePortRangeClosed";
    case Check::kHostPort:
      return "HostPortClosed";
    case Check::kKubelet:
      return "KubeletPortClosed";
    case Check::kBgp:
      return "BGPPortClosed";
    case Check::kVxlan:
      return "VXLANPortClosed";
    case Check::kIpip:
      return "IPIPProtocolClosed";
    case Check::kCniInterface:
      return "InterfaceNotInAcceptingZone";
    case Check::kPodForwarding:
      return "PodCIDRNotAccepted";
    case Check::kPanicMode:
      return "PanicModeOn";
    case Check::kPolicyDrop:
      return "BuiltinPolicyDrop";
  }
  return "Conflict";
}

long long whole_seconds(core::Duration d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

}  // namespace

NetfilterLink NetfilterLink::of(Guard& guard) {
  return NetfilterLink{[&guard](std::string reason) { guard.request_check(std::move(reason)); },
                       [&guard] { return guard.view(); }};
}

FirewalldWatcher::FirewalldWatcher(FirewalldConfig config, std::unique_ptr<Bus> bus,
                                   NetfilterLink netfilter, Deps deps, WatcherOptions options)
    : config_(std::move(config)),
      bus_(std::move(bus)),
      netfilter_(std::move(netfilter)),
      d_(std::move(deps)),
      opt_(options),
      metrics_(d_.metrics),
      reconnect_timer_(d_.clock.make_timer()),
      query_timer_(d_.clock.make_timer()),
      rejudge_timer_(d_.clock.make_timer()) {}

FirewalldWatcher::~FirewalldWatcher() {
  *alive_ = false;
  if (bus_) bus_->close();
}

void FirewalldWatcher::start() {
  if (started_ || !config_.enabled) return;
  started_ = true;
  d_.log.info("firewalld watcher starting", {{"bus", bus_->address()}});
  rejudge_timer_->arm(opt_.rejudge_interval, [this] { rejudge(); });
  connect();
}

void FirewalldWatcher::stop() {
  if (!started_) return;
  started_ = false;
  ++gen_;
  reconnect_timer_->cancel();
  query_timer_->cancel();
  rejudge_timer_->cancel();
  bus_->close();
  bus_ok_ = false;
  query_in_flight_ = false;
  metrics_.bus_connected(false);
  metrics_.up(false);
  d_.log.info("firewalld watcher stopped");
}

core::Duration FirewalldWatcher::next_backoff(core::Duration& current) const {
  const core::Duration cap = config_.retry_max;
  current = current.count() == 0 ? opt_.retry_initial : std::min<core::Duration>(2 * current, cap);
  current = std::min<core::Duration>(current, cap);
  return current;
}

void FirewalldWatcher::connect() {
  if (!started_) return;
  const std::uint64_t gen = ++gen_;
  ++fw_gen_;
  bus_ok_ = false;
  owner_.clear();  // unknown until GetNameOwner answers on this connection
  auto st = bus_->connect([this, gen](std::string why) {
    if (gen == gen_) on_bus_lost(why);
  });
  if (!st) {
    bus_unreachable(st.error());
    return;
  }
  auto installed = [this, gen](const char* what) {
    return [this, gen, what](BusReply r) {
      if (gen != gen_ || r.ok()) return;
      d_.log.warn("firewalld watcher: the bus refused a signal subscription",
                  {{"match", what}, {"error", reply_error(r)}});
    };
  };
  bus_->add_match(
      kOwnerRule, [this, gen](const BusSignal& s) { on_signal(s, gen); }, installed("owner"));
  bus_->add_match(
      kFirewalldRule, [this, gen](const BusSignal& s) { on_signal(s, gen); },
      installed("firewalld"));
  // Sent after the matches on the same connection: the bus driver handles them in order, so no
  // start of firewalld can fall between the answer and the subscription.
  bus_->call(BusCall{kDbusName,
                     kDbusPath,
                     kDbusName,
                     "GetNameOwner",
                     {kFirewalldName},
                     std::chrono::duration_cast<std::chrono::milliseconds>(opt_.call_timeout)},
             [this, gen](BusReply r) { on_name_owner(r, gen); });
}

void FirewalldWatcher::on_name_owner(const BusReply& r, std::uint64_t gen) {
  if (gen != gen_) return;
  const std::string* owner = r.ok() && !r.values.empty() ? r.values[0].as_string() : nullptr;
  if (!owner && r.error_name != kNameHasNoOwner) {
    bus_unreachable(core::EnvError{core::EnvErrorKind::kUnavailable,
                                   "system bus " + bus_->address() + " does not answer: " +
                                       (r.ok() ? "GetNameOwner gave no name" : reply_error(r))});
    return;
  }
  bus_ok_ = true;
  bus_error_.clear();
  reconnect_backoff_ = core::Duration{0};
  metrics_.bus_connected(true);
  d_.env_errors.recovered(kComponent);
  set_not_watched(false, "");
  d_.log.info("firewalld watcher connected to the system bus",
              {{"bus", bus_->address()}, {"firewalld", owner ? "running" : "not running"}});
  if (owner) {
    owner_ = *owner;
    fw_ = Fw::kStarting;
    wait_ready(false);
  } else {
    owner_.clear();
    fw_ = Fw::kAbsent;
    metrics_.up(false);
  }
  rejudge_timer_->arm(opt_.rejudge_interval, [this] { rejudge(); });
}

void FirewalldWatcher::on_bus_lost(const std::string& why) {
  bus_->close();
  ++gen_;
  const bool had_firewalld = fw_ == Fw::kRunning || fw_ == Fw::kStarting;
  firewalld_gone();
  fw_ = Fw::kUnknown;
  if (had_firewalld) {
    // Whatever happens to firewalld now is invisible: look at the tables once more.
    netfilter_.request_check("system bus connection lost");
  }
  bus_unreachable(core::EnvError{core::EnvErrorKind::kUnavailable,
                                 "system bus " + bus_->address() + " connection lost: " + why});
}

void FirewalldWatcher::bus_unreachable(const core::EnvError& e) {
  bus_->close();
  bus_ok_ = false;
  bus_error_ = e.message;
  metrics_.bus_connected(false);
  metrics_.up(false);
  d_.env_errors.report(kComponent, e);
  schedule_reconnect();
  set_not_watched(true, "firewalld reloads and restarts cannot be seen: " + e.message +
                            ". nodeguard retries (backoff up to " +
                            std::to_string(whole_seconds(config_.retry_max)) +
                            "s); give the agent the host's /run/dbus if firewalld runs here.");
}

void FirewalldWatcher::schedule_reconnect() {
  if (!started_) return;
  const auto d = next_backoff(reconnect_backoff_);
  reconnect_timer_->arm(d, [this] { connect(); });
}

void FirewalldWatcher::set_not_watched(bool active, const std::string& message) {
  if (!active && !not_watched_) return;
  not_watched_ = active;
  d_.health.set_condition(core::ConditionReport{
      kNotWatched, active, active ? "SystemBusUnreachable" : "", message, core::Severity::kInfo});
}

void FirewalldWatcher::on_signal(const BusSignal& s, std::uint64_t gen) {
  if (gen != gen_) return;
  if (s.interface == kDbusName && s.member == "NameOwnerChanged") {
    // Only the bus daemon speaks for the bus: any client can emit a signal with this name on
    // firewalld's path, which our path match delivers.
    if (s.sender != kDbusName || s.path != kDbusPath) {
      ignore(s, "not_bus_driver");
      return;
    }
    on_owner_changed(s);
    return;
  }
  if (s.path != kFirewalldPath) return;
  // firewalld's signals count only from the connection that owns its name, as the bus daemon
  // said (GetNameOwner at connect, NameOwnerChanged since): any process on the system bus can
  // send a Reloaded of its own.
  if (owner_.empty() || s.sender != owner_) {
    ignore(s, owner_.empty() ? "no_owner" : "not_owner");
    return;
  }
  if (s.interface == kFirewalldName && s.member == "Reloaded") {
    trigger("reloaded", "Reloaded", "firewalld reload", s.sender);
    if (fw_ != Fw::kRunning) {
      // A reload while we thought it absent or starting: it clearly answers.
      fw_ = Fw::kRunning;
      metrics_.up(true);
    }
    query();
    return;
  }
  // Runtime zone, policy or panic-mode changes: read the policy again once the burst is over.
  if (fw_ == Fw::kRunning) {
    query_timer_->arm(opt_.signal_debounce, [this] { query(); });
  }
}

void FirewalldWatcher::ignore(const BusSignal& s, std::string_view reason) {
  metrics_.ignored_signal(reason);
  // string_views on both branches: a ternary of "none" and a std::string makes a temporary
  // string that a LogField (a view) would outlive.
  auto or_none = [](const std::string& v) -> std::string_view {
    return v.empty() ? std::string_view("none") : std::string_view(v);
  };
  const std::vector<core::LogField> fields{{"sender", or_none(s.sender)},
                                           {"member", s.member},
                                           {"interface", s.interface},
                                           {"reason", reason},
                                           {"firewalld_owner", or_none(owner_)}};
  if (ignored_logged_) {
    d_.log.log(core::LogLevel::kDebug, "firewalld watcher: signal not from firewalld ignored",
               fields);
    return;
  }
  ignored_logged_ = true;  // once: a flood must not flood the log too
  d_.log.log(core::LogLevel::kWarn,
             "firewalld watcher: a signal not sent by firewalld's bus name owner was ignored; "
             "further ones are counted in nodeguard_firewalld_ignored_signals_total",
             fields);
}

void FirewalldWatcher::on_owner_changed(const BusSignal& s) {
  auto str = [&](size_t i) -> const std::string* {
    return i < s.args.size() ? s.args[i].as_string() : nullptr;
  };
  const std::string *name = str(0), *old_owner = str(1), *new_owner = str(2);
  if (!name || !old_owner || !new_owner) {
    metrics_.invalid_answer("NameOwnerChanged");
    d_.log.warn("firewalld watcher: NameOwnerChanged with unexpected arguments skipped",
                {{"args", s.args.empty() ? std::string("none") : s.args[0].describe()}});
    return;
  }
  if (*name != kFirewalldName) return;
  if (!new_owner->empty()) {
    owner_ = *new_owner;
    ++fw_gen_;  // answers of the previous instance are stale
    query_in_flight_ = false;
    query_again_ = false;
    fw_ = Fw::kStarting;
    trigger("started", "NameOwnerChanged", "firewalld restart", *new_owner);
    wait_ready(true);
  } else {
    trigger("stopped", "NameOwnerChanged", "firewalld stop", *old_owner);
    owner_.clear();
    firewalld_gone();
  }
}

void FirewalldWatcher::trigger(std::string_view event, std::string_view signal,
                               const std::string& reason, const std::string& sender) {
  if (event == "reloaded") ++reloads_;
  if (event == "started") ++starts_;
  if (event == "stopped") ++stops_;
  metrics_.reload(event);
  last_event_ = d_.clock.wall_now();
  last_event_trigger_ = std::string(signal) + " (" + std::string(event) + ")";
  d_.log.info("firewalld event; netfilter check requested", {{"trigger", signal},
                                                             {"event", event},
                                                             {"reason", reason},
                                                             {"sender", sender},
                                                             {"events_seen", events_seen()}});
  // An event too (the Kubernetes exporter makes it an Event on the Node): a reload or restart
  // is what wipes the chains the guard is about to check.
  core::HealthEvent ev;
  ev.source = "firewalld";
  ev.reason = event == "reloaded"  ? "FirewalldReloaded"
              : event == "started" ? "FirewalldStarted"
                                   : "FirewalldStopped";
  ev.message = reason + " (" + std::string(signal) + "); netfilter check requested";
  ev.attributes = {{"trigger", std::string(signal)}, {"event", std::string(event)}};
  d_.health.record_event(std::move(ev));
  if (netfilter_.request_check) netfilter_.request_check(reason);
}

void FirewalldWatcher::wait_ready(bool after_start) {
  const std::uint64_t gen = gen_, fw_gen = fw_gen_;
  bus_->call(
      BusCall{kFirewalldName,
              kFirewalldPath,
              kPropertiesInterface,
              "Get",
              {kFirewalldName, "state"},
              std::chrono::duration_cast<std::chrono::milliseconds>(opt_.ready_timeout)},
      [this, gen, fw_gen, after_start](BusReply r) {
        if (gen != gen_ || fw_gen != fw_gen_ || fw_ != Fw::kStarting) return;
        if (!r.ok() && (r.error_name == kNoReply || r.error_name == kTimeout)) {
          d_.log.warn("firewalld has not answered since it started; asking again",
                      {{"error", reply_error(r)}});
          wait_ready(after_start);
          return;
        }
        if (!r.ok() && (r.error_name == kServiceUnknown || r.error_name == kNameHasNoOwner)) {
          return;  // gone again; NameOwnerChanged says so
        }
        fw_ = Fw::kRunning;
        metrics_.up(true);
        const std::string* state = r.ok() && !r.values.empty() ? r.values[0].as_string() : nullptr;
        if (after_start) {
          d_.log.info("firewalld answers after its start; netfilter check requested",
                      {{"state", state ? *state : reply_error(r)}});
          if (netfilter_.request_check) netfilter_.request_check("firewalld ready");
        }
        query();
      });
}

void FirewalldWatcher::query() {
  if (!started_ || fw_ != Fw::kRunning) return;
  if (query_in_flight_) {
    query_again_ = true;
    return;
  }
  query_in_flight_ = true;
  query_again_ = false;
  query_timer_->cancel();
  const std::uint64_t gen = gen_, fw_gen = fw_gen_;
  query_policy(*bus_, std::chrono::duration_cast<std::chrono::milliseconds>(opt_.call_timeout),
               [this, gen, fw_gen, alive = alive_](PolicyQueryResult r) {
                 if (!*alive || gen != gen_ || fw_gen != fw_gen_) return;
                 on_policy(std::move(r));
               });
}

void FirewalldWatcher::on_policy(PolicyQueryResult r) {
  query_in_flight_ = false;
  last_query_ = d_.clock.wall_now();
  for (const auto& m : r.invalid_methods) metrics_.invalid_answer(m);
  if (!r.policy) {
    metrics_.query(false);
    if (query_error_ != r.policy.error().message) {
      d_.log.warn("firewalld policy could not be read; retrying",
                  {{"error", r.policy.error().message}});
    }
    query_error_ = r.policy.error().message;
    query_timer_->arm(next_backoff(query_backoff_), [this] { query(); });
  } else {
    metrics_.query(true);
    query_error_.clear();
    query_backoff_ = core::Duration{0};
    FirewalldPolicy& p = *r.policy;
    if (!p.problems.empty()) {
      d_.log.warn("firewalld answers skipped", {{"problems", join(p.problems, "; ")}});
    }
    const bool news = !policy_ || policy_->version != p.version || policy_->backend != p.backend ||
                      policy_->default_zone != p.default_zone ||
                      policy_->zones.size() != p.zones.size();
    if (news) {
      d_.log.info("firewalld policy read", {{"version", p.version},
                                            {"backend", p.backend},
                                            {"default_zone", p.default_zone},
                                            {"zones", p.zones.size()},
                                            {"services", p.services.size()},
                                            {"panic_mode", p.panic_mode}});
    }
    metrics_.backend(p.backend);
    policy_ = std::move(p);
    rejudge();
    query_timer_->arm(config_.recheck_interval, [this] { query(); });
  }
  if (query_again_) {
    query_again_ = false;
    query();
  }
}

ConflictReport FirewalldWatcher::judge_now() const {
  const GuardView view = netfilter_.view ? netfilter_.view() : GuardView{};
  if (policy_ && fw_ == Fw::kRunning) {
    const NodeFacts facts = facts_ ? facts_() : NodeFacts{};
    return judge(*policy_, assemble_needs(config_, facts, view));
  }
  // No firewalld policy to judge: the built-in iptables policies still matter (a firewalld
  // killed in the middle of a reload leaves them at DROP).
  NodeNeeds n;
  n.policy_drops = policy_drops_from(view);
  for (const auto& name : config_.ignore_checks) {
    if (auto c = parse_check(name)) n.ignored.insert(*c);
  }
  return judge_policy_drops(n);
}

void FirewalldWatcher::rejudge() {
  if (started_) rejudge_timer_->arm(opt_.rejudge_interval, [this] { rejudge(); });
  ConflictReport report = judge_now();
  publish(report);
  report_ = std::move(report);
}

void FirewalldWatcher::publish(const ConflictReport& report) {
  for (Check c : all_checks()) {
    const Finding* f = report.find(c);
    metrics_.conflicts(c, f ? f->items.size() : 0);
    const std::string type(condition_type(c));
    if (type.empty()) continue;
    bool& active = conditions_[type];
    if (f) {
      if (!active) {
        d_.log.log(
            f->severity == core::Severity::kInfo ? core::LogLevel::kInfo : core::LogLevel::kWarn,
            "firewalld policy conflict",
            {{"check", check_name(c)},
             {"condition", type},
             {"items", join(f->items, "; ")},
             {"remedy", join(f->remedies, "; ")}});
      }
      active = true;
      d_.health.set_condition(
          core::ConditionReport{type, true, std::string(reason_of(c)), f->message, f->severity});
    } else if (active) {
      active = false;
      d_.log.info("firewalld policy conflict resolved", {{"check", check_name(c)}});
      d_.health.set_condition(core::ConditionReport{type, false, "", "", core::Severity::kWarning});
    }
  }
}

void FirewalldWatcher::firewalld_gone() {
  fw_ = Fw::kAbsent;
  ++fw_gen_;
  query_in_flight_ = false;
  query_again_ = false;
  query_timer_->cancel();
  metrics_.up(false);
  policy_.reset();
  rejudge();
}

core::ComponentStatus FirewalldWatcher::status() const {
  core::ComponentStatus s;
  if (!config_.enabled) {
    s.state = core::ComponentState::kDisabled;
    s.message = "firewalld.enabled is false";
    return s;
  }
  if (!started_) return s;
  s.state = core::ComponentState::kRunning;
  const bool running = fw_ == Fw::kRunning || fw_ == Fw::kStarting;
  std::vector<std::string> conflicts;
  if (report_) {
    for (const auto& f : report_->findings) {
      const auto type = condition_type(f.check);
      conflicts.emplace_back(type.empty() ? std::string(check_name(f.check)) : std::string(type));
    }
  }
  const std::uint64_t seen = events_seen();
  std::string events =
      std::to_string(seen) + (seen == 1 ? " reload/restart" : " reloads/restarts") + " seen";
  if (last_event_)
    events += ", last " + core::format_rfc3339(*last_event_) + " (" + last_event_trigger_ + ")";
  const std::string conflict_text =
      conflicts.empty() ? std::string("no conflicts") : "conflicts: " + join(conflicts, ", ");
  if (!bus_ok_) {
    s.message = "system bus unreachable (" + bus_error_ + "); retrying within " +
                std::to_string(whole_seconds(reconnect_backoff_)) + "s; " + events;
    if (!conflicts.empty()) s.message += "; " + conflict_text;
  } else if (!running) {
    s.message = "firewalld not running (watching the bus for it); " + events;
    if (!conflicts.empty()) s.message += "; " + conflict_text;
  } else if (fw_ == Fw::kStarting) {
    s.message = "firewalld starting (waiting for it to answer); " + events;
  } else {
    s.message = "firewalld " +
                (policy_ && !policy_->version.empty() ? policy_->version + " " : std::string()) +
                "running";
    if (policy_) {
      s.message += " (backend " +
                   (policy_->backend.empty() ? std::string("unknown") : policy_->backend) +
                   ", default zone " + policy_->default_zone + ")";
    }
    s.message += "; " + events + "; " + conflict_text;
    if (!query_error_.empty()) s.message += "; policy read failing: " + query_error_;
  }
  auto& d = s.details;
  d.emplace_back("running", running ? "true" : "false");
  d.emplace_back("bus", bus_ok_ ? "connected" : "unreachable: " + bus_error_);
  d.emplace_back("bus_address", bus_->address());
  d.emplace_back("reloads_seen", std::to_string(seen));
  d.emplace_back("reloads", std::to_string(reloads_));
  d.emplace_back("starts", std::to_string(starts_));
  d.emplace_back("stops", std::to_string(stops_));
  d.emplace_back("last_reload", last_event_ ? core::format_rfc3339(*last_event_) : "");
  d.emplace_back("last_reload_trigger", last_event_trigger_);
  d.emplace_back("conflicts", join(conflicts, ","));
  d.emplace_back("conflict_count", std::to_string(conflicts.size()));
  if (policy_ && running) {
    d.emplace_back("version", policy_->version);
    d.emplace_back("backend", policy_->backend.empty() ? "unknown" : policy_->backend);
    d.emplace_back("default_zone", policy_->default_zone);
    std::vector<std::string> active;
    for (const auto& [zone, bound] : policy_->active) {
      std::vector<std::string> all = bound.first;
      all.insert(all.end(), bound.second.begin(), bound.second.end());
      active.push_back(zone + "(" + join(all, ",") + ")");
    }
    d.emplace_back("active_zones", join(active, " "));
    d.emplace_back("panic_mode", policy_->panic_mode ? "true" : "false");
    if (!policy_->problems.empty())
      d.emplace_back("answer_problems", join(policy_->problems, "; "));
  }
  if (report_) {
    d.emplace_back("uplink_zones", join(report_->uplink_zones, ","));
    for (const auto& f : report_->findings) {
      d.emplace_back("conflict_" + std::string(check_name(f.check)), join(f.items, "; "));
    }
    d.emplace_back("not_judged", join(report_->skipped, "; "));
  }
  if (last_query_) d.emplace_back("last_policy_read", core::format_rfc3339(*last_query_));
  if (!query_error_.empty()) d.emplace_back("policy_error", query_error_);
  return s;
}

}  // namespace ng::netfilter::firewalld
