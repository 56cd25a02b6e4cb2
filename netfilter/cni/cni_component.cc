#include "netfilter/cni/cni_component.h"

#include <algorithm>
#include <chrono>

#include "core/strings.h"

namespace ng::netfilter::cni {

namespace {

using namespace std::chrono_literals;

constexpr char kComponent[] = "cni";
// Every entry is re-read if its stamp moved, and every namespace checked, at least this often.
constexpr core::Duration kFullScan = 10s;
// A directory changed this recently may change again within the same mtime tick: look again.
constexpr std::int64_t kRecentNs = 1'000'000'000;
constexpr Family kFamilies[] = {Family::kIPv4, Family::kIPv6};

std::string join(const std::vector<std::string>& v, size_t max = 10) {
  return core::join(v, ", ", max);
}

std::int64_t wall_ns(core::WallTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bool has_portmap_chain(const Table& t) {
  for (const auto& c : t.chains) {
    if (c.name == kHostportDnat || c.name == kHostportMasq ||
        c.name.rfind(kDnatChainPrefix, 0) == 0) {
      return true;
    }
  }
  return false;
}

std::string contributions_signature(const HostportAudit& audit) {
  std::string sig;
  for (const auto& ec : audit.contributions) {
    sig += ec.chain.name + "\n";
    for (const auto& r : ec.chain.rules) sig += r.spec + "\n";
  }
  return sig;
}

std::string container_of(const MissingChain& m) {
  return m.network + "/" + m.container_id;
}

}  // namespace

CniComponent::CniComponent(CniConfig config, Guard* guard, std::shared_ptr<CacheStore> store,
                           std::shared_ptr<SandboxProbe> probe, Deps deps)
    : cfg_(std::move(config)),
      version_(parse_portmap_version(cfg_.portmap_version).value_or(PortmapVersion{})),
      guard_(guard),
      store_(std::move(store)),
      probe_(std::move(probe)),
      d_(std::move(deps)),
      metrics_(d_.metrics),
      known_(std::make_shared<std::map<std::string, KnownFile>>()) {}

CniComponent::~CniComponent() {
  stop();
}

void CniComponent::start() {
  if (running_ || cfg_.mode == "off") return;
  running_ = true;
  alive_ = std::make_shared<bool>(true);
  poll_timer_ = d_.clock.make_timer();
  grace_timer_ = d_.clock.make_timer();
  if (guard_) {
    if (cfg_.mode == "repair") {
      provider_id_ = guard_->add_expected_rules_provider(
          "cni-cache",
          [this](BackendKind b, Family f, const std::string& t) { return provide(b, f, t); });
    }
    listener_id_ = guard_->add_table_listener([this](const TableView& v) { on_table(v); });
    guard_->expect_pod_vouchers();
  }
  d_.log.info("CNI cache reader starting", {{"mode", cfg_.mode},
                                            {"results", store_->dir()},
                                            {"portmap_version", version_.str()},
                                            {"guard", guard_ != nullptr}});
  start_scan(true);
}

void CniComponent::stop() {
  if (!running_) return;
  running_ = false;
  alive_.reset();
  if (poll_timer_) poll_timer_->cancel();
  if (grace_timer_) grace_timer_->cancel();
  if (guard_) {
    if (provider_id_) guard_->remove_expected_rules_provider(provider_id_);
    if (listener_id_) guard_->remove_table_listener(listener_id_);
    guard_->set_pod_vouchers(nullptr);
  }
  provider_id_ = listener_id_ = 0;
  scan_in_flight_ = false;
}

void CniComponent::rescan(std::string why) {
  if (!running_) return;
  d_.log.debug("CNI cache look requested", {{"why", why}});
  if (scan_in_flight_) {
    scan_again_ = true;
    force_next_ = true;
    return;
  }
  start_scan(true);
}

void CniComponent::schedule_tick(core::Duration after) {
  if (!running_) return;
  poll_timer_->arm(after, [this] { tick(); });
}

void CniComponent::tick() {
  if (!running_) return;
  if (scan_in_flight_) {
    scan_again_ = true;
    return;
  }
  const bool full = d_.clock.now() - last_full_scan_ >= kFullScan;
  if (dir_error_ && !full && !force_next_) {
    // An unreadable directory is tried again with the full look, not at every poll.
    schedule_tick(cfg_.poll_interval);
    return;
  }
  start_scan(force_next_ || full);
}

// One worker job: the directory's stamp, and a scan when it moved, a file was being written,
// the directory changed within the last second, or a full look is due.
void CniComponent::start_scan(bool force) {
  scan_in_flight_ = true;
  force_next_ = false;
  bool young = false;
  for (const auto& [n, f] : files_) young = young || f.young;
  d_.workers.post([this, alive = std::weak_ptr<bool>(alive_), store = store_, probe = probe_,
                   known = known_, last = dir_stamp_, force, young, version = version_,
                   now_ns = wall_ns(d_.clock.wall_now()), &loop = d_.loop] {
    std::optional<ScanReport> report;
    std::optional<FileStamp> stamp;
    auto st = store->dir_stamp();
    if (st) stamp = *st;
    const bool moved = !st || !last || !(*st == *last);
    const bool recent = st && now_ns - st->mtime_ns < kRecentNs;
    if (force || moved || young || recent) {
      report = scan_cache(*store, *probe, *known, version, now_ns);
    }
    loop.post([this, alive, report = std::move(report), stamp]() mutable {
      if (alive.expired()) return;
      on_scanned(std::move(report), stamp);
    });
  });
}

void CniComponent::on_scanned(std::optional<ScanReport> report, std::optional<FileStamp> stamp) {
  scan_in_flight_ = false;
  if (report) {
    last_full_scan_ = d_.clock.now();
    metrics_.scanned();
    merge(*report);
    hand_vouchers();
    evaluate("cache");
  } else {
    dir_stamp_ = stamp;
  }
  if (scan_again_) {
    scan_again_ = false;
    start_scan(force_next_);
    return;
  }
  schedule_tick(cfg_.poll_interval);
}

void CniComponent::merge(ScanReport& r) {
  if (r.error) {
    merge_read_error(*r.error);
    return;
  }
  merge_dir_state(r);
  merge_files(r);
  classify_files();
}

// Keep what was read before: the rules of live pods do not vanish with a read error.
void CniComponent::merge_read_error(const core::EnvError& error) {
  if (!dir_error_) {
    d_.log.warn("CNI cache directory unreadable",
                {{"dir", store_->dir()}, {"error", error.message}});
  }
  d_.env_errors.report(kComponent, error);
  dir_error_ = error;
  dir_stamp_.reset();
}

void CniComponent::merge_dir_state(const ScanReport& r) {
  if (dir_error_) {
    dir_error_.reset();
    d_.env_errors.recovered(kComponent);
  }
  dir_stamp_ = r.dir_stamp;
  if (r.dir_missing != dir_missing_) {
    d_.log.info(r.dir_missing ? "CNI results directory absent (no pod set up yet)"
                              : "CNI results directory present",
                {{"dir", store_->dir()}});
  }
  dir_missing_ = r.dir_missing;
}

void CniComponent::merge_files(ScanReport& r) {
  std::set<std::string> present(r.names.begin(), r.names.end());
  for (auto it = files_.begin(); it != files_.end();) {
    it = present.count(it->first) ? std::next(it) : files_.erase(it);
  }
  for (auto& [name, sf] : r.changed) {
    FileRec rec;
    rec.stamp = sf.stamp;
    rec.young = sf.young;
    if (auto* e = std::get_if<CacheEntry>(&sf.parsed)) {
      rec.entry = std::move(*e);
      rec.plan = std::move(sf.plan);
      if (!rec.plan.unsupported.empty()) {
        d_.log.info("CNI cache entry cannot be rebuilt",
                    {{"file", name}, {"entry", rec.entry->key()}, {"why", rec.plan.unsupported}});
      }
    } else {
      rec.error = std::get<CacheFileError>(sf.parsed);
      if (!sf.young) {
        metrics_.skipped(rec.error->reason);
        d_.log.warn("CNI cache file skipped", {{"file", store_->dir() + "/" + name},
                                               {"reason", to_string(rec.error->reason)},
                                               {"error", rec.error->message}});
      }
    }
    files_[name] = std::move(rec);
  }
  for (auto& [name, v] : r.presence) {
    if (auto it = files_.find(name); it != files_.end()) it->second.presence = std::move(v);
  }
}

// States, stale reports, and the live hostPort ADDs in the order they ran.
void CniComponent::classify_files() {
  std::vector<std::string> newly_stale;
  std::set<std::string> stale_now;
  std::vector<std::pair<std::pair<std::int64_t, std::string>, const FileRec*>> live;
  std::map<std::string, size_t> by_state;
  auto known = std::make_shared<std::map<std::string, KnownFile>>();
  for (auto& [name, rec] : files_) {
    const std::string before = rec.state;
    classify(name, rec);
    ++by_state[rec.state];
    if (!rec.young) {
      (*known)[name] = KnownFile{rec.stamp, rec.entry ? rec.entry->netns_path() : std::string()};
    }
    if (rec.state == "stale") {
      stale_now.insert(name);
      if (!stale_reported_.count(name)) {
        newly_stale.push_back(rec.entry->key());
        d_.log.info("CNI cache entry stale; its rules are not rebuilt",
                    {{"file", name},
                     {"entry", rec.entry->key()},
                     {"netns", rec.entry->netns_path()},
                     {"why", rec.presence.detail}});
      }
    } else if (rec.state == "unverified" && before != "unverified") {
      d_.log.info("CNI cache entry unverified; its rules are not rebuilt",
                  {{"file", name}, {"entry", rec.entry->key()}, {"why", rec.presence.detail}});
    }
    if (rec.state == "hostport") live.push_back({{rec.stamp.mtime_ns, name}, &rec});
  }
  stale_reported_ = std::move(stale_now);
  known_ = std::move(known);
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  adds_.clear();
  for (const auto& [key, rec] : live) {
    for (const auto& inv : rec->plan.invocations) adds_.push_back(inv);
  }
  metrics_.entries(by_state);
  if (!newly_stale.empty()) report_newly_stale(newly_stale);
}

void CniComponent::report_newly_stale(const std::vector<std::string>& newly_stale) {
  d_.health.record_event(core::HealthEvent{
      kComponent,
      "CNICacheStale",
      std::to_string(newly_stale.size()) +
          " CNI cache entries belong to pods whose network namespace is gone (" +
          join(newly_stale, 5) + "); their hostPort rules are not rebuilt",
      core::Severity::kInfo,
      {{"entries", join(newly_stale, 20)}, {"count", std::to_string(newly_stale.size())}}});
}

// The guard's word on which pods are alive (snapshot_pruning.h): a dead pod's chains are not
// restored from a snapshot. An unreadable directory vouches for nothing and knows nothing.
void CniComponent::hand_vouchers() {
  if (!guard_) return;
  auto v = std::make_shared<PodVouchers>();
  v->cache_readable = !dir_error_;
  for (const auto& [name, rec] : files_) {
    if (!rec.entry) {
      v->unparsed_files.push_back(name);
      continue;
    }
    const std::string& id = rec.entry->container_id;
    switch (rec.presence.presence) {
      case Presence::kPresent:
        v->vouched.insert(id);
        break;
      case Presence::kGone:
        v->stale.insert(id);
        break;
      case Presence::kUnknown:
        v->unverified.insert(id);
        break;
    }
  }
  // One id with several interfaces or networks: any live entry vouches for it.
  for (const auto& id : v->vouched) {
    v->stale.erase(id);
    v->unverified.erase(id);
  }
  guard_->set_pod_vouchers(std::move(v));
}

void CniComponent::classify(const std::string&, FileRec& rec) {
  if (!rec.entry) {
    rec.state = "invalid";
  } else if (rec.presence.presence == Presence::kGone) {
    rec.state = "stale";
  } else if (!rec.plan.unsupported.empty()) {
    rec.state = "unsupported";
  } else if (rec.plan.invocations.empty()) {
    rec.state = "no_hostport";
  } else if (rec.presence.presence == Presence::kUnknown) {
    rec.state = "unverified";
  } else {
    rec.state = "hostport";
  }
}

void CniComponent::on_table(const TableView& v) {
  if (!running_ || v.key.table != kNatTable) return;
  views_[v.key] = v;
  // A partial change waits for the guard's grace before it is repaired: look at the cache now,
  // so a pod being deleted (its chain gone, its cache file about to go) is not brought back.
  if (v.state == "drift") rescan("table drift");
  evaluate("table");
}

std::vector<ExpectedChain> CniComponent::provide(BackendKind b, Family f,
                                                 const std::string& table) const {
  if (!running_ || table != kNatTable) return {};
  const auto& fam = fams_[index(f)];
  if (!fam.audited || !fam.target || *fam.target != b) return {};
  return fam.audit.contributions;
}

void CniComponent::evaluate(std::string_view trigger) {
  if (!running_) return;
  bool request = false;
  if (guard_ && guard_->started()) {
    if (views_.empty()) {
      for (auto& t : guard_->view().tables) {
        if (t.key.table == kNatTable && t.last_check) views_[t.key] = t;
      }
    }
    for (Family f : kFamilies) evaluate_family(f, &request);
  }
  update_condition();
  if (request && cfg_.mode == "repair") {
    d_.log.debug("hostPort rules from the CNI cache handed to the guard", {{"trigger", trigger}});
    guard_->request_check("cni cache");
  }
}

void CniComponent::evaluate_family(Family f, bool* request) {
  auto& fam = fams_[index(f)];
  BackendKind target{};
  const TableView* view = target_view(f, &target);
  if (!view) {
    fam.audited = false;
    fam.target.reset();
    return;
  }
  const TableKey key{target, f, kNatTable};
  HostportAudit audit = audit_hostports(adds_, f, *view->snapshot);
  std::string sig = contributions_signature(audit);
  const bool target_moved = fam.target != target;
  if ((sig != fam.signature || target_moved) && audit.missing_rules > 0) *request = true;

  // Rebuilt: the guard committed a repair of this table and rules missing before are there now.
  const bool repaired = fam.repairs_known && !target_moved && view->repairs > fam.repairs_seen;
  if (repaired && audit.missing_rules < fam.audit.missing_rules) {
    report_rebuilt(key, fam, audit);
  }
  log_audit_findings(key, fam, audit);
  if (audit.missing_rules == 0) {
    fam.missing_since.reset();
  } else if (!fam.missing_since) {
    fam.missing_since = d_.clock.now();
  }
  metrics_.rules(f, audit.expected_rules, audit.missing_rules);
  metrics_.mismatched(f, audit.mismatched.size());
  fam.prev_missing = audit.missing;
  fam.repairs_seen = view->repairs;
  fam.repairs_known = true;
  fam.signature = std::move(sig);
  fam.target = target;
  fam.audit = std::move(audit);
  fam.audited = true;
}

// The target table: the watched backend that already holds portmap's chains (the one the
// plugins write to), else the guard's primary backend. Null when no nat table is known.
const TableView* CniComponent::target_view(Family f, BackendKind* target) const {
  const TableView* view = nullptr;
  for (BackendKind b : guard_->watched_backends()) {
    auto it = views_.find(TableKey{b, f, kNatTable});
    if (it == views_.end() || !it->second.snapshot) continue;
    if (!view) {
      *target = b;
      view = &it->second;
    }
    if (has_portmap_chain(*it->second.snapshot)) {
      *target = b;
      view = &it->second;
      break;
    }
  }
  return view;
}

void CniComponent::report_rebuilt(const TableKey& key, const FamilyState& fam,
                                  const HostportAudit& audit) {
  const size_t rules = fam.audit.missing_rules - audit.missing_rules;
  std::vector<std::string> chains, containers;
  for (const auto& m : fam.prev_missing) {
    const bool still = std::any_of(audit.missing.begin(), audit.missing.end(),
                                   [&](const MissingChain& x) { return x.chain == m.chain; });
    if (still) continue;
    chains.push_back(m.chain);
    containers.push_back(container_of(m));
  }
  rebuilt_total_ += rules;
  metrics_.rebuilt(key.family, rules);
  last_rebuild_ = std::to_string(rules) + " rules in " + key.str();
  d_.log.info("hostPort rules rebuilt from the CNI cache", {{"table", key.str()},
                                                            {"rules", rules},
                                                            {"chains", join(chains, 20)},
                                                            {"containers", join(containers, 20)}});
  d_.health.record_event(
      core::HealthEvent{kComponent,
                        "HostPortRulesRebuilt",
                        "Rebuilt " + std::to_string(rules) + " hostPort rules in " + key.str() +
                            " from the CNI cache" +
                            (containers.empty() ? std::string() : " for " + join(containers, 5)),
                        core::Severity::kInfo,
                        {{"table", std::string(kNatTable)},
                         {"family", std::string(to_string(key.family))},
                         {"backend", std::string(to_string(key.backend))},
                         {"chains", join(chains, 20)},
                         {"containers", join(containers, 20)},
                         {"rules", std::to_string(rules)},
                         {"repair", "applied"}}});
}

void CniComponent::log_audit_findings(const TableKey& key, FamilyState& fam,
                                      const HostportAudit& audit) {
  if (audit.missing_rules > 0 && fam.audit.missing_rules == 0) {
    std::vector<std::string> containers;
    for (const auto& m : audit.missing) containers.push_back(container_of(m));
    d_.log.warn("hostPort rules from the CNI cache missing", {{"table", key.str()},
                                                              {"rules", audit.missing_rules},
                                                              {"containers", join(containers, 20)},
                                                              {"mode", cfg_.mode}});
  }
  for (const auto& c : audit.mismatched) {
    if (fam.mismatch_logged.insert(c).second) {
      d_.log.warn("hostPort chain differs from the CNI cache; left as it is",
                  {{"table", key.str()}, {"chain", c}, {"portmap_version", version_.str()}});
    }
  }
  for (const auto& w : audit.waiting) {
    if (fam.waiting_logged.insert(w).second) {
      d_.log.info("hostPort chain waits for the chain it jumps to",
                  {{"table", key.str()}, {"chain", w}});
    }
  }
}

void CniComponent::update_condition() {
  const auto now = d_.clock.now();
  std::vector<std::string> what;
  std::optional<core::Duration> wait;
  for (Family f : kFamilies) {
    const auto& fam = fams_[index(f)];
    if (!fam.audited || fam.audit.missing_rules == 0 || !fam.missing_since) continue;
    const auto age = now - *fam.missing_since;
    const core::Duration grace = cfg_.mode == "repair" ? cfg_.missing_grace : core::Duration{0};
    if (age < grace) {
      const core::Duration left = grace - age;
      wait = wait ? std::min(*wait, left) : left;
      continue;
    }
    std::vector<std::string> containers;
    for (const auto& m : fam.audit.missing) containers.push_back(container_of(m));
    what.push_back(std::to_string(fam.audit.missing_rules) + " in " +
                   TableKey{*fam.target, f, kNatTable}.str() +
                   (containers.empty() ? std::string() : " (" + join(containers, 5) + ")"));
  }
  if (wait) grace_timer_->arm(*wait, [this] { evaluate("grace"); });
  const bool active = !what.empty();
  if (active == condition_active_ && !active) return;
  condition_active_ = active;
  std::string message;
  if (active) {
    message =
        "hostPort DNAT rules the CNI cache holds for running pods are missing: " + join(what, 4) +
        ". ";
    if (cfg_.mode == "report") {
      message += "cni.mode is report; set it to repair to rebuild them.";
    } else if (guard_ && guard_->dry_run()) {
      message += "The agent runs with dry_run: repairs are only logged.";
    } else {
      message += "Repairs are not taking effect; see the netfilter guard's status and log.";
    }
  }
  d_.health.set_condition(core::ConditionReport{"HostPortRulesMissing", active,
                                                active ? "CacheRulesMissing" : "", message,
                                                core::Severity::kWarning});
}

core::ComponentStatus CniComponent::status() const {
  core::ComponentStatus s;
  if (cfg_.mode == "off") {
    s.state = core::ComponentState::kDisabled;
    s.message = "cni.mode is off";
    return s;
  }
  if (!running_) return s;
  std::map<std::string, std::vector<std::string>> by_state;
  for (const auto& [name, rec] : files_) {
    by_state[rec.state].push_back(rec.entry ? rec.entry->key() : name);
  }
  auto count = [&](const char* st) {
    auto it = by_state.find(st);
    return it == by_state.end() ? size_t{0} : it->second.size();
  };
  auto list = [&](const char* st) {
    auto it = by_state.find(st);
    return it == by_state.end() ? std::string() : join(it->second, 10);
  };
  s.state = core::ComponentState::kRunning;
  s.message = std::to_string(files_.size()) + " cache entries, " +
              std::to_string(count("hostport")) + " with hostPorts";
  if (count("stale")) s.message += ", " + std::to_string(count("stale")) + " stale";
  if (count("invalid")) s.message += ", " + std::to_string(count("invalid")) + " skipped";
  size_t missing = 0;
  for (const auto& fam : fams_) missing += fam.audited ? fam.audit.missing_rules : 0;
  s.message += "; " + std::to_string(missing) + " hostPort rules missing (" + cfg_.mode + ")";
  if (dir_missing_) s.message = "no CNI results directory yet (" + store_->dir() + ")";
  if (dir_error_) {
    s.state = core::ComponentState::kDegraded;
    s.message = "cannot read " + store_->dir() + ": " + dir_error_->message;
  } else if (!guard_) {
    s.state = core::ComponentState::kDegraded;
    s.message += "; the netfilter guard is off: nothing is compared or repaired";
  }
  s.details = {{"mode", cfg_.mode},
               {"results_dir", store_->dir()},
               {"portmap_version", version_.str()},
               {"entries", std::to_string(files_.size())},
               {"hostport_entries", std::to_string(count("hostport"))},
               {"stale", list("stale")},
               {"unverified", list("unverified")},
               {"unsupported", list("unsupported")},
               {"skipped_files", list("invalid")},
               {"rules_rebuilt", std::to_string(rebuilt_total_)},
               {"last_rebuild", last_rebuild_}};
  for (Family f : kFamilies) {
    const auto& fam = fams_[index(f)];
    const std::string fs(to_string(f));
    s.details.emplace_back("table_" + fs,
                           fam.target ? TableKey{*fam.target, f, kNatTable}.str() : std::string());
    s.details.emplace_back("expected_rules_" + fs,
                           std::to_string(fam.audited ? fam.audit.expected_rules : 0));
    s.details.emplace_back("missing_rules_" + fs,
                           std::to_string(fam.audited ? fam.audit.missing_rules : 0));
    s.details.emplace_back("mismatched_" + fs, fam.audited ? join(fam.audit.mismatched) : "");
    s.details.emplace_back("waiting_" + fs, fam.audited ? join(fam.audit.waiting) : "");
  }
  return s;
}

}  // namespace ng::netfilter::cni
