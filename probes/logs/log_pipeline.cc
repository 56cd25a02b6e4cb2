#include "probes/logs/log_pipeline.h"

#include <algorithm>

#include "core/json_writer.h"

namespace ng::probes::logs {
namespace {

std::string where(const Problem& p) {
  if (!p.pod.empty()) return p.namespace_ + "/" + p.pod + "/" + p.container;
  return p.path;
}

std::string one_line(std::string_view s, size_t max) {
  std::string out = core::sanitize_utf8(s.substr(0, max));
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

// Whose event budget a problem spends: its pod (container lines; kubelet lines naming one
// with pod="ns/name"), else the node's ("").
std::string budget_key(const Problem& p) {
  if (!p.pod.empty()) return p.namespace_ + "/" + p.pod;
  if (p.kind != SourceKind::kKubelet) return {};
  const size_t at = p.line.find(" pod=\"");
  if (at == std::string::npos) return {};
  const size_t from = at + 6;
  const size_t end = p.line.find('"', from);
  if (end == std::string::npos || end - from > 253 + 64) return {};
  return p.line.substr(from, end - from);
}

}  // namespace

LogPipeline::LogPipeline(RuleSet rules, RuleMatcher matcher, LogMetrics& metrics,
                         core::HealthSink& health, core::Clock& clock, core::Logger log,
                         PipelineOptions options)
    : rules_(std::move(rules)),
      matcher_(std::move(matcher)),
      metrics_(metrics),
      health_(health),
      clock_(clock),
      log_(std::move(log)),
      opt_(options) {
  rule_state_.resize(rules_.rules.size());
  for (size_t i = 0; i < rules_.rules.size(); ++i) {
    auto& st = rule_state_[i];
    st.ceiling.tokens = opt_.rule_event_burst;
    st.ceiling.refilled = clock_.now();
    const auto& r = rules_.rules[i];
    if (!matcher_.usable(static_cast<unsigned>(i))) continue;
    st.suppressed_counter = &metrics_.events_suppressed(r.reason);
    for (int k = 0; k < kSourceKinds; ++k) {
      if (r.sources & (1u << k)) {
        st.problems[k] = &metrics_.problems(r.reason, static_cast<SourceKind>(k));
      }
    }
  }
  for (const auto& c : rules_.conditions) {
    auto& st = conditions_[c.type];
    if (!st.def) st.def = &c;  // the first declaration of a type wins
  }
}

void LogPipeline::on_line(const LineMeta& meta, std::string_view message) {
  ++pending_lines_[static_cast<int>(meta.kind)];
  if (meta.truncated) metrics_.truncated(meta.kind).Increment();
  if (meta.decode_error) metrics_.decode_errors(meta.kind).Increment();
  // Scan a line alone unless the chunk prefilter showed that no rule can match inside it.
  bool scan = true;
  if (chunk_filtered_ && message.data() >= chunk_.data() &&
      message.data() + message.size() <= chunk_.data() + chunk_.size()) {
    const auto begin = static_cast<std::uint32_t>(message.data() - chunk_.data());
    const auto end = static_cast<std::uint32_t>(begin + message.size());
    while (hit_cursor_ < chunk_hits_.size() && chunk_hits_[hit_cursor_] <= begin) ++hit_cursor_;
    scan = hit_cursor_ < chunk_hits_.size() && chunk_hits_[hit_cursor_] <= end;
  }
  if (!scan) {
    if (!subscribers_.empty()) deliver(meta, message);
    return;
  }
  const auto& hits = matcher_.scan(meta.kind, message);
  for (unsigned id : hits) {
    ++problems_seen_;
    if (staged_.size() >= kMaxStagedProblems) {
      ++overflow_[{id, meta.kind}];
      continue;
    }
    Problem p;
    p.rule = id;
    p.kind = meta.kind;
    p.line.assign(message.substr(0, kProblemLineBytes));
    if (meta.path) p.path = *meta.path;
    if (meta.pod) {
      p.namespace_ = meta.pod->namespace_;
      p.pod = meta.pod->pod;
      p.container = meta.pod->container;
    }
    p.time = clock_.wall_now();
    staged_.push_back(std::move(p));
  }
  if (!subscribers_.empty()) deliver(meta, message);
}

void LogPipeline::deliver(const LineMeta& meta, std::string_view message) {
  const auto now = clock_.wall_now();
  for (const auto& s : subscribers_) {
    if (s->filter().matches(meta, message, now)) s->deliver(meta, message, now);
  }
}

void LogPipeline::begin_chunk(SourceKind kind, std::string_view raw) {
  chunk_ = raw;
  chunk_hits_.clear();
  hit_cursor_ = 0;
  chunk_filtered_ = matcher_.prefilter(kind, raw, &chunk_hits_);
}

// Lines without a prefilter match need nothing from us but a count, unless a TailLogs stream
// wants every line.
const std::vector<std::uint32_t>* LogPipeline::quiet_hits() const {
  return chunk_filtered_ && subscribers_.empty() ? &chunk_hits_ : nullptr;
}

void LogPipeline::count_quiet(SourceKind kind, size_t lines) {
  pending_lines_[static_cast<int>(kind)] += lines;
}

void LogPipeline::end_chunk() {
  chunk_ = {};
  chunk_filtered_ = false;
}

void LogPipeline::on_batch_end() {
  for (int k = 0; k < kSourceKinds; ++k) {
    if (pending_lines_[k]) {
      metrics_.lines(static_cast<SourceKind>(k)).Increment(static_cast<double>(pending_lines_[k]));
      lines_seen_ += pending_lines_[k];
      lines_total_[k] += pending_lines_[k];
      pending_lines_[k] = 0;
    }
  }
  for (const auto& s : subscribers_) s->flush();
}

std::vector<Problem> LogPipeline::take_staged() {
  std::vector<Problem> out;
  out.swap(staged_);
  for (const auto& [key, n] : overflow_) {
    Problem p;
    p.rule = key.first;
    p.kind = key.second;
    p.count = n;
    p.time = clock_.wall_now();
    out.push_back(std::move(p));
  }
  overflow_.clear();
  return out;
}

void LogPipeline::log_problem(const Problem& p) const {
  const Rule& r = rules_.rules[p.rule];
  if (auto* c = rule_state_[p.rule].problems[static_cast<int>(p.kind)]) {
    c->Increment(static_cast<double>(p.count));
  }
  if (!log_.enabled(core::LogLevel::kDebug)) return;
  if (p.count > 1) {
    log_.debug("log lines matched rule, not logged one by one",
               {{"reason", r.reason},
                {"source", to_string(p.kind)},
                {"count", static_cast<std::int64_t>(p.count)},
                {"why", "more matches than a checkpoint holds line by line"}});
    return;
  }
  log_.debug("log line matched rule",
             {{"reason", r.reason},
              {"type", r.type == RuleType::kPermanent ? "permanent" : "temporary"},
              {"source", to_string(p.kind)},
              {"namespace", p.namespace_},
              {"pod", p.pod},
              {"container", p.container},
              {"path", p.path},
              {"line", core::sanitize_utf8(p.line)}});
}

void LogPipeline::TokenBucket::refill(core::MonoTime now, int burst, core::Duration every) {
  if (every.count() > 0) {
    const double add = std::chrono::duration<double>(now - refilled).count() /
                       std::chrono::duration<double>(every).count();
    tokens = std::min<double>(burst, tokens + add);
  }
  refilled = now;
}

LogPipeline::PodBudget& LogPipeline::budget(unsigned rule, std::string pod) {
  auto key = std::make_pair(rule, std::move(pod));
  if (auto it = budget_index_.find(key); it != budget_index_.end()) {
    budgets_.splice(budgets_.begin(), budgets_, it->second);
    return budgets_.front();
  }
  while (!budgets_.empty() && budgets_.size() >= std::max<size_t>(1, opt_.max_event_budgets)) {
    budget_index_.erase(budgets_.back().key);
    budgets_.pop_back();
  }
  PodBudget b;
  b.key = key;
  b.bucket.tokens = opt_.event_burst;
  b.bucket.refilled = clock_.now();
  budgets_.push_front(std::move(b));
  budget_index_.emplace(std::move(key), budgets_.begin());
  return budgets_.front();
}

bool LogPipeline::take_token(RuleState& st, PodBudget& b) {
  const auto now = clock_.now();
  b.bucket.refill(now, opt_.event_burst, opt_.event_refill);
  st.ceiling.refill(now, opt_.rule_event_burst, opt_.rule_event_refill);
  if (b.bucket.tokens < 1 || st.ceiling.tokens < 1) return false;
  b.bucket.tokens -= 1;
  st.ceiling.tokens -= 1;
  return true;
}

void LogPipeline::publish(const std::vector<Problem>& problems) {
  const auto now = clock_.now();
  for (const auto& p : problems) {
    const Rule& r = rules_.rules[p.rule];
    auto& st = rule_state_[p.rule];
    const std::string text =
        p.count > 1 ? std::to_string(p.count) + " lines matched while a checkpoint was slow"
                    : one_line(p.line, 300);
    bool want_event = r.type == RuleType::kTemporary;
    if (r.type == RuleType::kPermanent) {
      auto& c = conditions_[r.condition];
      c.last_match = now;
      // Report on a change, and refresh at most once a second while lines keep matching.
      if (!c.active || now - c.last_report >= std::chrono::seconds(1)) {
        const bool transition = !c.active;
        c.active = true;
        c.last_report = now;
        core::ConditionReport rep;
        rep.type = r.condition;
        rep.active = true;
        rep.reason = r.reason;
        rep.message = text + " (" + where(p) + ")";
        rep.severity = c.def ? c.def->severity : r.severity;
        health_.set_condition(rep);
        if (transition) {
          want_event = true;
          log_.warn("log condition set", {{"condition", r.condition},
                                          {"reason", r.reason},
                                          {"line", text},
                                          {"where", where(p)}});
        }
      }
    }
    if (want_event) {
      auto& b = budget(p.rule, budget_key(p));
      if (p.count > 1) {  // a summary: all but one are suppressed
        b.suppressed += p.count - 1;
        if (st.suppressed_counter)
          st.suppressed_counter->Increment(static_cast<double>(p.count - 1));
      }
      if (!take_token(st, b)) {
        ++b.suppressed;
        if (st.suppressed_counter) st.suppressed_counter->Increment();
        continue;
      }
      core::HealthEvent ev;
      ev.source = "logs";
      ev.reason = r.reason;
      ev.message = text;
      ev.severity = r.severity;
      ev.attributes["source"] = std::string(to_string(p.kind));
      ev.attributes["rule"] = r.origin;
      if (!r.monitor.empty()) ev.attributes["monitor"] = r.monitor;
      if (!p.pod.empty()) {
        ev.attributes["namespace"] = p.namespace_;
        ev.attributes["pod"] = p.pod;
        ev.attributes["container"] = p.container;
      }
      if (!p.path.empty()) ev.attributes["path"] = p.path;
      if (b.suppressed) {
        ev.attributes["suppressed"] = std::to_string(b.suppressed);
        b.suppressed = 0;
      }
      if (r.type == RuleType::kPermanent) ev.attributes["condition"] = r.condition;
      log_.info("log problem", {{"reason", r.reason},
                                {"source", to_string(p.kind)},
                                {"where", where(p)},
                                {"line", text}});
      health_.record_event(std::move(ev));
    }
  }
}

void LogPipeline::init_conditions() {
  for (auto& [type, c] : conditions_) {
    if (!c.def) continue;
    core::ConditionReport rep;
    rep.type = type;
    rep.active = false;
    rep.reason = c.def->reason;
    rep.message = c.def->message;
    rep.severity = c.def->severity;
    health_.set_condition(rep);
  }
}

void LogPipeline::expire_conditions() {
  if (opt_.condition_clear_after.count() <= 0) return;
  const auto now = clock_.now();
  for (auto& [type, c] : conditions_) {
    if (!c.active || now - c.last_match < opt_.condition_clear_after) continue;
    c.active = false;
    core::ConditionReport rep;
    rep.type = type;
    rep.active = false;
    rep.reason = c.def ? c.def->reason : "NoRecentMatch";
    rep.message =
        (c.def ? c.def->message : std::string("no matching log line")) +
        " (no matching log line for " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(opt_.condition_clear_after).count()) +
        "s)";
    rep.severity = c.def ? c.def->severity : core::Severity::kWarning;
    health_.set_condition(rep);
    log_.info("log condition cleared", {{"condition", type}});
  }
}

void LogPipeline::restore_counters(const CheckpointState& st) {
  for (int k = 0; k < kSourceKinds; ++k) {
    auto it = st.lines.find(std::string(to_string(static_cast<SourceKind>(k))));
    if (it == st.lines.end()) continue;
    lines_total_[k] = it->second;
    metrics_.lines(static_cast<SourceKind>(k)).Increment(static_cast<double>(it->second));
  }
  for (const auto& [key, n] : st.problems) {
    for (int k = 0; k < kSourceKinds; ++k) {
      if (key.second != to_string(static_cast<SourceKind>(k))) continue;
      problems_committed_[key] = n;
      metrics_.problems(key.first, static_cast<SourceKind>(k)).Increment(static_cast<double>(n));
    }
  }
}

void LogPipeline::snapshot_counters(const std::vector<Problem>& committing, CheckpointState& st) {
  for (const auto& p : committing) {
    problems_committed_[{rules_.rules[p.rule].reason, std::string(to_string(p.kind))}] += p.count;
  }
  for (int k = 0; k < kSourceKinds; ++k) {
    const auto n = lines_total_[k] + pending_lines_[k];
    if (n) st.lines[std::string(to_string(static_cast<SourceKind>(k)))] = n;
  }
  st.problems = problems_committed_;
}

void LogPipeline::add_subscriber(std::shared_ptr<LogSubscriber> s) {
  subscribers_.push_back(std::move(s));
}

void LogPipeline::remove_subscriber(const LogSubscriber* s) {
  subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                    [s](const auto& p) { return p.get() == s; }),
                     subscribers_.end());
}

}  // namespace ng::probes::logs
