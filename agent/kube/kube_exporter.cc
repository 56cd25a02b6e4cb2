#include "agent/kube/kube_exporter.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "core/json_writer.h"

namespace ng::agent::kube {

namespace {

constexpr size_t kKnownEvents = 256;  // aggregation memory, like kubelet's LRU cache
constexpr int kMaxConflicts = 5;      // 409s in a row before backing off

std::string event_key(const std::string& reason, const std::string& message) {
  return reason + '\x1f' + message;
}

std::string lower(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

}  // namespace

std::string code_label(int status) {
  switch (status) {
    case 0:
      return "error";
    case 200:
    case 201:
    case 400:
    case 401:
    case 403:
    case 404:
    case 409:
    case 422:
    case 429:
    case 500:
    case 503:
      return std::to_string(status);
    default:
      break;
  }
  if (status >= 200 && status < 600) return std::to_string(status / 100) + "xx";
  return "other";
}

KubeExporter::KubeExporter(KubeConfig config, std::string node_name, std::string state_dir,
                           std::unique_ptr<KubeTransport> transport,
                           std::optional<core::EnvError> setup_error, Deps deps, Options options)
    : config_(std::move(config)),
      node_(std::move(node_name)),
      state_file_(state_dir.empty() ? "" : state_dir + "/kubernetes/owned-conditions"),
      transport_(std::move(transport)),
      setup_error_(std::move(setup_error)),
      deps_(deps),
      opt_(options),
      tick_timer_(deps.clock.make_timer()),
      retry_timer_(deps.clock.make_timer()),
      event_timer_(deps.clock.make_timer()),
      backoff_(options.retry_initial, config_.retry_max, options.seed),
      requests_(prometheus::BuildCounter()
                    .Name("nodeguard_kube_api_requests_total")
                    .Help("Kubernetes API requests by verb and answer (HTTP code, its class, or "
                          "error when there was no answer).")
                    .Register(deps.metrics)),
      events_dropped_family_(prometheus::BuildCounter()
                                 .Name("nodeguard_kube_events_dropped_total")
                                 .Help("Events not sent to the Kubernetes API because more than "
                                       "kubernetes.events.max_pending distinct ones were waiting.")
                                 .Register(deps.metrics)),
      reachable_family_(prometheus::BuildGauge()
                            .Name("nodeguard_kube_api_reachable")
                            .Help("1 when the last Kubernetes API request got a successful "
                                  "answer.")
                            .Register(deps.metrics)) {
  if (transport_) {  // no series at all while the exporter is off
    events_dropped_ = &events_dropped_family_.Add({});
    reachable_ = &reachable_family_.Add({});
  }
  for (const auto& entry : config_.conditions) {
    auto eq = entry.find('=');
    renames_[entry.substr(0, eq)] = eq == std::string::npos ? entry : entry.substr(eq + 1);
  }
  for (const auto& entry : config_.taints) {
    auto eq = entry.find('=');
    taint_effects_[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  tokens_ = static_cast<double>(config_.events.burst);
}

KubeExporter::~KubeExporter() {
  if (running_) stop();
}

std::string KubeExporter::export_name(const std::string& type) const {
  if (type == kUnreachableCondition) return "";  // it could not be written anyway
  if (renames_.empty()) return type;
  auto it = renames_.find(type);
  return it == renames_.end() ? "" : it->second;
}

void KubeExporter::start() {
  if (!transport_) {
    if (setup_error_) {
      deps_.env_errors.report("kubernetes", *setup_error_);
    }
    return;
  }
  running_ = true;
  started_ = deps_.clock.now();
  tokens_at_ = started_;
  load_owned();
  if (config_.events.enabled) {
    listener_ = deps_.model.subscribe([this](const RecordedEvent& e) { on_event(e); });
  }
  deps_.log.info(
      "exporting to the Kubernetes API",
      {{"node", node_}, {"taints", config_.taints.size()}, {"events", config_.events.enabled}});
  tick();
}

void KubeExporter::stop() {
  if (!running_) return;
  running_ = false;
  if (listener_) deps_.model.unsubscribe(listener_);
  listener_ = 0;
  tick_timer_->cancel();
  retry_timer_->cancel();
  event_timer_->cancel();
  transport_->shutdown();
  in_flight_ = Lane::kNone;
}

core::ComponentStatus KubeExporter::status() const {
  core::ComponentStatus s;
  if (!transport_) {
    if (setup_error_) {
      s.state = config_.enabled == "true" ? core::ComponentState::kFailed
                                          : core::ComponentState::kDegraded;
      s.message = "not exporting: " + setup_error_->message;
    } else {
      s.state = core::ComponentState::kDisabled;
      s.message = config_.enabled == "false" ? "disabled by config"
                                             : "no in-cluster config or kubeconfig found";
    }
    return s;
  }
  if (!running_) {
    s.state = core::ComponentState::kStopped;
    return s;
  }
  // Running even before the Node was read: the API down at start is a normal state, and must
  // not hold the pod unready (a rollout would stall on every node during an API outage).
  s.state = unreachable_ ? core::ComponentState::kDegraded : core::ComponentState::kRunning;
  s.message = node_read_
                  ? "node " + node_ + ": " + std::to_string(written_.size()) + " conditions, " +
                        std::to_string(pending_order_.size()) + " events pending"
                  : "reading node " + node_ + " from the API";
  if (failing_since_) s.message += "; failing: " + last_error_;
  s.details = {{"node", node_},
               {"conditions", std::to_string(written_.size())},
               {"pending_events", std::to_string(pending_order_.size())},
               {"writes", std::to_string(writes_ok_)},
               {"last_error", last_error_}};
  return s;
}

void KubeExporter::tick() {
  if (!running_) return;
  update_unreachable();
  plan_removals();
  pump();
  tick_timer_->arm(opt_.tick, [this] { tick(); });
}

// Picks the next request: the Node first, then status, taints, events. A failure waits for the
// retry timer; the next request is built from the newest state when it is sent.
void KubeExporter::pump() {
  // handling_: an answer is being taken in; what it triggers (a health event from a recovered
  // API) must not start the next request before that answer's state is recorded.
  if (!running_ || handling_ || in_flight_ != Lane::kNone || retry_timer_->armed()) return;
  if (!node_read_) {
    send(Lane::kGetNode, KubeRequest{"GET", node_path(node_), "", ""});
    return;
  }
  if (status_due()) return write_status();
  if (!taint_effects_.empty() && (!taints_known_ || wanted_taints() != applied_taints_)) {
    send(Lane::kTaintsGet, KubeRequest{"GET", node_path(node_), "", ""});
    return;
  }
  if (!pending_order_.empty()) {
    if (take_event_token()) return send_event();
    if (!event_timer_->armed())
      event_timer_->arm(config_.events.refill_interval, [this] { pump(); });
  }
}

void KubeExporter::send(Lane lane, KubeRequest req) {
  in_flight_ = lane;
  std::string verb = lower(req.verb);
  transport_->send(std::move(req), [this, lane, verb](KubeResponse r) {
    requests_.Add({{"verb", verb}, {"code", code_label(r.status)}}).Increment();
    in_flight_ = Lane::kNone;
    handling_ = true;
    on_answer(lane, r);
    handling_ = false;
    pump();
  });
}

void KubeExporter::on_answer(Lane lane, const KubeResponse& r) {
  switch (lane) {
    case Lane::kGetNode:
      return read_node_answer(r);
    case Lane::kStatus:
      return status_answer(r);
    case Lane::kTaintsGet:
      return taints_get_answer(r);
    case Lane::kTaintsPatch:
      return taints_patch_answer(r);
    case Lane::kEvent:
      return event_answer(r);
    case Lane::kNone:
      return;
  }
}

// True (and a retry scheduled) when the answer is not a success.
bool KubeExporter::failed(const KubeResponse& r, const std::string& what) {
  if (r.status >= 200 && r.status < 300) return false;
  std::string err = r.status == 0 ? r.error : "HTTP " + std::to_string(r.status);
  if (r.status != 0 && !r.body.empty()) err += ": " + r.body.substr(0, 200);
  if (!failing_since_) {
    failing_since_ = deps_.clock.now();
    deps_.log.warn("Kubernetes API write failed; keeping the newest state to write later",
                   {{"what", what}, {"error", err}});
  }
  last_error_ = what + ": " + err;
  reachable_->Set(0);
  auto kind = r.status == 0                          ? core::EnvErrorKind::kUnavailable
              : (r.status == 401 || r.status == 403) ? core::EnvErrorKind::kPermission
                                                     : core::EnvErrorKind::kUnavailable;
  deps_.env_errors.report("kubernetes", core::EnvError{kind, last_error_});
  schedule_retry(r.retry_after);
  update_unreachable();
  return true;
}

void KubeExporter::succeeded() {
  ++writes_ok_;
  backoff_.reset();
  reachable_->Set(1);
  if (failing_since_) {
    deps_.log.info("Kubernetes API answers again", {{"last_error", last_error_}});
    deps_.env_errors.recovered("kubernetes");
  }
  failing_since_.reset();
  last_error_.clear();
  update_unreachable();
}

void KubeExporter::schedule_retry(std::optional<core::Duration> retry_after) {
  retry_timer_->arm(backoff_.next(retry_after), [this] { pump(); });
}

// With every condition exported, which owned types are gone is only known once the components
// have reported: after `settle`, owned types on the Node that the model does not hold.
void KubeExporter::plan_removals() {
  if (removal_planned_ || !node_read_ || deps_.clock.now() - started_ < opt_.settle) return;
  removal_planned_ = true;
  std::set<std::string> live;
  for (const auto& [type, c] : deps_.model.conditions()) live.insert(export_name(type));
  for (const auto& type : owned_) {
    if (!live.count(type) && written_.count(type)) to_remove_.push_back(type);
  }
}

void KubeExporter::update_unreachable() {
  bool now = failing_since_ && deps_.clock.now() - *failing_since_ >= config_.unreachable_after;
  if (now == unreachable_) return;
  unreachable_ = now;
  core::ConditionReport c;
  c.type = kUnreachableCondition;
  c.active = now;
  c.reason = now ? "WritesFailing" : "WritesSucceed";
  c.message = now ? "writes to the Kubernetes API have failed for over " +
                        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                           config_.unreachable_after)
                                           .count()) +
                        "s: " + last_error_
                  : "the Kubernetes API accepts the node's conditions";
  c.severity = core::Severity::kWarning;
  deps_.health.set_condition(c);
}

void KubeExporter::read_node_answer(const KubeResponse& r) {
  if (failed(r, "get node " + node_)) return;
  auto node = parse_node(r.body);
  if (!node) {
    KubeResponse bad;
    bad.error = node.error().message;
    failed(bad, "get node " + node_);
    return;
  }
  succeeded();
  node_read_ = true;
  const auto now = deps_.clock.now();
  for (const auto& [type, c] : node->conditions) {
    bool ours = owned_.count(type) > 0;
    for (const auto& [from, to] : renames_) ours = ours || to == type;
    if (!ours) continue;
    written_[type] = c;  // what is there: transition times are kept from it
    if (c.status == "True") carried_.insert(type);
  }
  // Owned types the config no longer exports: removed once (NPD #1011 leaves them forever).
  if (!renames_.empty()) {
    for (const auto& type : owned_) {
      bool exported = false;
      for (const auto& [from, to] : renames_) exported = exported || to == type;
      if (!exported && node->conditions.count(type)) to_remove_.push_back(type);
    }
    removal_planned_ = true;
  }
  last_heartbeat_ = now;
  heartbeat_pending_ = true;  // write our view once at start, then every heartbeat
  deps_.log.info("read the Node", {{"node", node_},
                                   {"conditions", node->conditions.size()},
                                   {"carried_over", carried_.size()},
                                   {"to_remove", to_remove_.size()}});
}

// The Node conditions the model judges now. A condition the model only declared (reported once,
// not active, never flipped) is not judged yet: if the Node holds it True from before a
// restart, it is carried over (up to kubernetes.carry_over) instead of reset (NPD #304).
std::map<std::string, NodeCondition> KubeExporter::desired() const {
  std::map<std::string, NodeCondition> out;
  const bool carry_expired = deps_.clock.now() - started_ >= config_.carry_over;
  for (const auto& [type, c] : deps_.model.conditions()) {
    std::string name = export_name(type);
    if (name.empty()) continue;
    bool judged = c.active || c.last_transition != c.since || c.last_update != c.since;
    if (!judged && carried_.count(name) && !carry_expired) continue;
    NodeCondition nc;
    nc.type = name;
    nc.status = c.active ? "True" : "False";
    nc.reason = !c.reason.empty() ? c.reason : (c.active ? type : "No" + type);
    nc.message = !c.message.empty() ? c.message : (c.active ? type : "no " + type + " seen");
    out[name] = nc;
  }
  return out;
}

bool KubeExporter::status_due() const {
  if (!to_remove_.empty()) return true;
  if (heartbeat_pending_ || deps_.clock.now() - last_heartbeat_ >= config_.heartbeat) {
    return !desired().empty();
  }
  for (const auto& [name, want] : desired()) {
    auto it = written_.find(name);
    if (it == written_.end() || it->second.status != want.status ||
        it->second.reason != want.reason || it->second.message != want.message) {
      return true;
    }
  }
  return false;
}

void KubeExporter::write_status() {
  const std::string now = rfc3339(deps_.clock.wall_now());
  std::vector<NodeCondition> set;
  for (auto [name, c] : desired()) {
    auto it = written_.find(name);
    bool same = it != written_.end() && it->second.status == c.status &&
                !it->second.last_transition_time.empty();
    c.last_transition_time = same ? it->second.last_transition_time : now;
    c.last_heartbeat_time = now;
    set.push_back(c);
  }
  status_removing_ = to_remove_;
  std::vector<std::string> new_types;
  for (const auto& c : set) {
    if (!owned_.count(c.type)) new_types.push_back(c.type);
  }
  if (!new_types.empty()) {  // owned before written: a crash in between leaves no orphan
    owned_.insert(new_types.begin(), new_types.end());
    save_owned();
  }
  pending_status_ = set;
  send(Lane::kStatus,
       KubeRequest{"PATCH", node_path(node_) + "/status", "application/strategic-merge-patch+json",
                   conditions_patch(set, status_removing_)});
}

void KubeExporter::status_answer(const KubeResponse& r) {
  if (failed(r, "patch node status")) return;
  succeeded();
  for (const auto& c : pending_status_) {
    auto it = written_.find(c.type);
    if (it == written_.end() || it->second.status != c.status) {
      deps_.log.info("node condition written",
                     {{"type", c.type}, {"status", c.status}, {"reason", c.reason}});
    }
    written_[c.type] = c;
    carried_.erase(c.type);  // judged now
  }
  for (const auto& type : status_removing_) {
    deps_.log.info("node condition removed (no longer exported)", {{"type", type}});
    written_.erase(type);
    owned_.erase(type);
    carried_.erase(type);
    std::erase(to_remove_, type);
  }
  if (!status_removing_.empty()) save_owned();
  status_removing_.clear();
  pending_status_.clear();
  heartbeat_pending_ = false;
  // Read the taints again with every status write (at least every heartbeat): one of ours
  // that someone removed by hand comes back while its condition holds.
  if (!taint_effects_.empty()) taints_known_ = false;
  last_heartbeat_ = deps_.clock.now();
}

std::map<std::string, std::string> KubeExporter::wanted_taints() const {
  std::map<std::string, std::string> out;
  auto want = desired();
  for (const auto& [type, effect] : taint_effects_) {
    std::string name = export_name(type);
    if (name.empty()) name = type;
    auto it = want.find(name);
    bool active = it != want.end() ? it->second.status == "True"
                                   : (carried_.count(name) > 0);  // kept True from before
    if (active) out[kTaintPrefix + name] = effect;
  }
  return out;
}

void KubeExporter::taints_get_answer(const KubeResponse& r) {
  if (failed(r, "get node for taints")) return;
  auto node = parse_node(r.body);
  if (!node) {
    KubeResponse bad;
    bad.error = node.error().message;
    failed(bad, "get node for taints");
    return;
  }
  auto want = wanted_taints();
  auto next = reconcile_taints(node->taints, want, kTaintPrefix, rfc3339(deps_.clock.wall_now()));
  if (!next) {
    succeeded();
    applied_taints_ = want;
    taints_known_ = true;
    conflicts_in_row_ = 0;
    return;
  }
  taints_sent_ = *next;
  pending_taints_ = want;
  send(Lane::kTaintsPatch, KubeRequest{"PATCH", node_path(node_), "application/merge-patch+json",
                                       taints_patch(*next, node->resource_version)});
}

void KubeExporter::taints_patch_answer(const KubeResponse& r) {
  if (r.status == 409 && ++conflicts_in_row_ < kMaxConflicts) {
    // Someone else changed the Node since we read it: read it again now (optimistic
    // concurrency, as kubectl taint does); pump() sends the GET.
    deps_.log.info("taint update conflicted; reading the Node again",
                   {{"attempt", conflicts_in_row_}});
    taints_known_ = false;
    return;
  }
  conflicts_in_row_ = 0;
  if (failed(r, "patch node taints")) return;
  succeeded();
  for (const auto& [key, effect] : pending_taints_) {
    if (!applied_taints_.count(key)) {
      deps_.log.info("node taint added", {{"key", key}, {"effect", effect}});
    }
  }
  for (const auto& [key, effect] : applied_taints_) {
    if (!pending_taints_.count(key)) deps_.log.info("node taint removed", {{"key", key}});
  }
  applied_taints_ = pending_taints_;
  taints_known_ = true;
}

void KubeExporter::on_event(const RecordedEvent& e) {
  if (!running_ || e.event.source == "kubernetes") return;  // never about our own writes
  const std::string now = rfc3339(e.time);
  // Log lines can be long (logs.max_line_bytes); an Event message is for people, and
  // events.k8s.io caps it at 1 KiB. Cut on a byte, then repair a split UTF-8 sequence.
  const std::string message =
      core::sanitize_utf8(std::string_view(e.event.message).substr(0, 1024));
  std::string key = event_key(e.event.reason, message);
  if (auto it = pending_.find(key); it != pending_.end()) {
    it->second.event.count++;
    it->second.event.last_time = now;
    return;  // aggregated while waiting: no new request
  }
  Pending p;
  if (auto it = known_.find(key); it != known_.end()) {
    p.event = it->second;
    p.event.count++;
    p.exists = true;
  } else {
    p.event.node = node_;
    p.event.reason = e.event.reason;
    p.event.message = message;
    p.event.type = e.event.severity == core::Severity::kInfo ? "Normal" : "Warning";
    p.event.first_time = now;
    char hex[24];
    std::snprintf(
        hex, sizeof hex, "%llx",
        static_cast<unsigned long long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(e.time.time_since_epoch())
                .count() +
            static_cast<long long>(e.seq)));
    p.event.name = node_ + "." + hex;
  }
  p.event.last_time = now;
  pending_[key] = std::move(p);
  pending_order_.push_back(key);
  while (pending_order_.size() > static_cast<size_t>(config_.events.max_pending)) {
    if (pending_order_.front() == event_in_flight_) break;
    pending_.erase(pending_order_.front());
    pending_order_.pop_front();
    events_dropped_->Increment();
  }
  pump();
}

bool KubeExporter::take_event_token() {
  const auto now = deps_.clock.now();
  const double per = std::chrono::duration<double>(config_.events.refill_interval).count();
  tokens_ =
      std::min<double>(static_cast<double>(config_.events.burst),
                       tokens_ + std::chrono::duration<double>(now - tokens_at_).count() / per);
  tokens_at_ = now;
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void KubeExporter::send_event() {
  const std::string key = pending_order_.front();
  event_in_flight_ = key;
  const Pending& p = pending_.at(key);
  event_sent_count_ = p.event.count;
  if (p.exists) {
    send(Lane::kEvent,
         KubeRequest{"PATCH", events_path("default") + "/" + p.event.name,
                     "application/strategic-merge-patch+json", event_update_patch(p.event)});
  } else {
    send(Lane::kEvent, KubeRequest{"POST", events_path("default"), "application/json",
                                   event_body(p.event, node_)});
  }
}

void KubeExporter::event_answer(const KubeResponse& r) {
  const std::string key = event_in_flight_;
  event_in_flight_.clear();
  auto it = pending_.find(key);
  if (it == pending_.end()) return;
  if (r.status == 404 && it->second.exists) {
    // The event expired on the server (events live an hour): create it again.
    it->second.exists = false;
    known_.erase(key);
    return;
  }
  if (r.status == 409 && !it->second.exists) {
    it->second.exists = true;  // created by an earlier try whose answer we missed
    return;
  }
  if (failed(r, "write event " + it->second.event.reason)) return;
  succeeded();
  NodeEvent sent = it->second.event;
  if (sent.count > event_sent_count_) {
    it->second.exists = true;  // more came while this one was on its way: update it next
  } else {
    pending_.erase(it);
    std::erase(pending_order_, key);
  }
  if (!known_.count(key)) {
    known_order_.push_back(key);
    if (known_order_.size() > kKnownEvents) {
      known_.erase(known_order_.front());
      known_order_.pop_front();
    }
  }
  known_[key] = std::move(sent);
}

void KubeExporter::load_owned() {
  if (state_file_.empty()) return;
  auto text = deps_.files.read(state_file_);
  if (!text) return;  // first start: nothing owned yet
  std::istringstream in(text.value());
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) owned_.insert(line);
  }
}

void KubeExporter::save_owned() {
  if (state_file_.empty()) return;
  std::string text;
  for (const auto& t : owned_) text += t + "\n";
  auto dir = state_file_.substr(0, state_file_.rfind('/'));
  deps_.workers.post([files = &deps_.files, dir, path = state_file_, text] {
    (void)files->make_dirs(dir);
    (void)files->write_atomic(path, text);
  });
}

}  // namespace ng::agent::kube
