#include "probes/connectivity/prober.h"

#include <chrono>

#include "core/config_binder.h"

namespace ng::probes::connectivity {
namespace {

struct KindCondition {
  const char* kind;
  const char* type;
  const char* fix;
};

const KindCondition kConditions[] = {
    {"external", "ExternalUnreachable",
     "a firewall or egress policy between this node and the endpoint drops it (the seed's "
     "firewall allowed only the master): allow this node's address, or the cluster's egress "
     "range, and check the node's default route and NAT"},
    {"peer", "PeerUnreachable",
     "the peer node does not answer: check the link and routes between the nodes (ngctl routes), "
     "and that its firewall allows this node"},
    {"pod", "PodUnreachable",
     "a pod in the peer's block does not answer: check the route verdict for that block (ngctl "
     "routes); a PodRouteViaGateway or missing route explains it"},
};

double seconds(core::Duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

Prober::Prober(const ProbesConfig& config, std::unique_ptr<ProbeTransport> transport, Deps deps)
    : config_(config),
      transport_(std::move(transport)),
      clock_(deps.clock),
      health_(deps.health),
      env_errors_(deps.env_errors),
      log_(std::move(deps.log)),
      timer_(deps.clock.make_timer()),
      duration_(prometheus::BuildHistogram()
                    .Name("nodeguard_probe_duration_seconds")
                    .Help("Latency of successful connectivity probes (TCP connect or ICMP echo), "
                          "by target name, kind and protocol")
                    .Register(deps.metrics)),
      failures_(prometheus::BuildCounter()
                    .Name("nodeguard_probe_failures_total")
                    .Help("Failed connectivity probes by target, kind, protocol and reason "
                          "(timeout, refused, unreachable, resolve, permission, error)")
                    .Register(deps.metrics)),
      attempts_(prometheus::BuildCounter()
                    .Name("nodeguard_probes_total")
                    .Help("Connectivity probes run, by target, kind and protocol (loss = "
                          "failures / probes)")
                    .Register(deps.metrics)) {}

Prober::~Prober() {
  stop();
}

void Prober::start() {
  if (!config_.enabled) return;
  running_ = true;
  targets_.clear();
  auto add = [this](const std::string& name, const std::string& kind, const char* protocol,
                    const std::string& address) {
    TargetState t;
    t.name = name;
    t.kind = kind;
    t.protocol = protocol;
    t.address = address;
    targets_.push_back(std::move(t));
  };
  for (const auto& t : config_.tcp) add(t.name, t.kind, "tcp", t.address);
  for (const auto& t : config_.icmp) add(t.name, t.kind, "icmp", t.address);
  run_round();
}

void Prober::stop() {
  running_ = false;
  timer_->cancel();
  transport_->cancel_all();
  for (auto& t : targets_) t.in_flight = false;
}

core::ComponentStatus Prober::status() const {
  if (!config_.enabled) return {core::ComponentState::kDisabled, "disabled by config", {}};
  if (!running_) return {core::ComponentState::kStopped, "", {}};
  core::ComponentStatus st;
  st.state = core::ComponentState::kRunning;
  size_t failing = 0;
  size_t skipped = 0;
  for (const auto& t : targets_) {
    failing += t.consecutive_failures > 0;
    skipped += t.skipped;
    st.details.emplace_back(t.protocol + " " + t.name, !t.last      ? "pending"
                                                       : t.last->ok ? "ok"
                                                                    : t.last->failure);
  }
  st.message =
      std::to_string(targets_.size()) + " probe targets, " + std::to_string(failing) + " failing";
  if (skipped) {
    st.state = core::ComponentState::kDegraded;
    st.message += ", " + std::to_string(skipped) + " ICMP probes not permitted";
  }
  return st;
}

void Prober::schedule() {
  if (!running_) return;
  timer_->arm(config_.interval, [this] { run_round(); });
}

void Prober::run_round() {
  if (!running_) return;
  for (size_t i = 0; i < targets_.size(); ++i) {
    auto& t = targets_[i];
    if (t.in_flight || t.skipped) continue;
    t.in_flight = true;
    auto done = [this, i](ProbeOutcome o) { on_outcome(i, std::move(o)); };
    if (t.protocol == "tcp") {
      auto hp = core::parse_host_port(t.address);
      if (!hp || hp->host.empty()) {
        t.in_flight = false;
        on_outcome(i, ProbeOutcome{false, "error", "bad address " + t.address, {}});
        continue;
      }
      transport_->tcp_connect(hp->host, hp->port, config_.timeout, std::move(done));
    } else {
      transport_->ping(t.address, config_.timeout, std::move(done));
    }
  }
  report_conditions();
  schedule();
}

void Prober::on_outcome(size_t i, ProbeOutcome o) {
  if (!running_ || i >= targets_.size()) return;
  auto& t = targets_[i];
  t.in_flight = false;
  const prometheus::Labels labels{{"target", t.name}, {"kind", t.kind}, {"protocol", t.protocol}};
  if (o.failure == "permission" && t.protocol == "icmp") {
    // Not a connectivity failure: this node does not allow ICMP probes. Reported once, skipped.
    t.skipped = true;
    env_errors_.report("probes", core::EnvError{core::EnvErrorKind::kPermission, o.detail});
    t.last = std::move(o);
    return;
  }
  attempts_.Add(labels).Increment();
  ++t.attempts;
  t.last_at = clock_.wall_now();
  if (o.ok) {
    duration_
        .Add(labels,
             prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                     0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
        .Observe(seconds(o.elapsed));
    if (t.consecutive_failures > 0) {
      log_.info("probe recovered", {{"target", t.name}, {"kind", t.kind}});
    }
    t.consecutive_failures = 0;
  } else {
    auto fl = labels;
    fl["reason"] = o.failure;
    failures_.Add(fl).Increment();
    ++t.failures;
    ++t.consecutive_failures;
    if (t.consecutive_failures == config_.failure_threshold) {
      log_.warn(
          "probe failing",
          {{"target", t.name}, {"kind", t.kind}, {"reason", o.failure}, {"detail", o.detail}});
    }
  }
  t.last = std::move(o);
  report_conditions();
}

void Prober::report_conditions() {
  if (last_messages_.empty()) last_messages_.resize(std::size(kConditions));
  for (size_t k = 0; k < std::size(kConditions); ++k) {
    const auto& kc = kConditions[k];
    std::vector<const TargetState*> failing;
    size_t total = 0;
    for (const auto& t : targets_) {
      if (t.kind != kc.kind || t.skipped) continue;
      ++total;
      if (t.consecutive_failures >= config_.failure_threshold) failing.push_back(&t);
    }
    core::ConditionReport c;
    c.type = kc.type;
    c.severity = core::Severity::kWarning;
    c.active = !failing.empty();
    if (c.active) {
      c.reason = "ProbeFailing";
      c.message = std::to_string(failing.size()) + " of " + std::to_string(total) + " " + kc.kind +
                  " probe targets failing: ";
      for (size_t i = 0; i < failing.size() && i < 5; ++i) {
        const auto* t = failing[i];
        c.message += (i ? "; " : "") + t->name + " (" + t->protocol + " " + t->address + ") " +
                     (t->last ? t->last->detail : std::string());
      }
      c.message += ". Fix: " + std::string(kc.fix) + ".";
    } else {
      c.reason = "ProbesPassing";
      c.message = std::to_string(total) + " " + kc.kind + " probe targets answering";
    }
    // Only kinds that have targets are reported, and only when something changed.
    if (total == 0 && !reported_once_) continue;
    const std::string key = std::to_string(c.active) + c.message;
    if (key == last_messages_[k]) continue;
    if (total == 0 && last_messages_[k].empty()) continue;
    last_messages_[k] = key;
    health_.set_condition(c);
  }
  reported_once_ = true;
}

}  // namespace ng::probes::connectivity
