#pragma once

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/component.h"
#include "core/env_error_reporter.h"
#include "core/executor.h"
#include "core/health_sink.h"
#include "core/log.h"
#include "netfilter/cni/cache_scan.h"
#include "netfilter/cni/cni_config.h"
#include "netfilter/cni/cni_metrics.h"
#include "netfilter/cni/hostport_audit.h"
#include "netfilter/guard.h"

namespace ng::netfilter::cni {

// The CNI cache as a source of truth for hostPort rules. Reads libcni's result cache (every
// CNI ADD's network config, port mappings and result), replays what the portmap plugin wrote for
// each live pod, holds it against the netfilter guard's view of the nat tables, and
//   repair: hands the guard what is missing (Guard::add_expected_rules_provider): it is written
//           in the guard's one atomic, verified commit per table, like any other repair;
//   report: raises HostPortRulesMissing;
//   off:    does nothing.
// Entries whose network namespace is gone are reported stale (CNICacheStale), and never turned
// into rules; neither are entries whose existence cannot be told. All methods run on the loop;
// directory reads, parsing and namespace checks run on the worker pool.
class CniComponent final : public core::Component {
 public:
  struct Deps {
    core::Clock& clock;
    core::Executor& loop;
    core::Executor& workers;
    core::HealthSink& health;
    core::EnvErrorReporter& env_errors;
    prometheus::Registry& metrics;
    core::Logger log;
  };

  // `guard` may be null (netfilter off): the cache is then only read and reported.
  CniComponent(CniConfig config, Guard* guard, std::shared_ptr<CacheStore> store,
               std::shared_ptr<SandboxProbe> probe, Deps deps);
  ~CniComponent() override;

  std::string_view name() const override { return "cni"; }
  void start() override;
  void stop() override;
  core::ComponentStatus status() const override;

  // Look at the cache now (coalesced with a look in flight).
  void rescan(std::string why);

 private:
  struct FileRec {
    FileStamp stamp;
    std::optional<CacheEntry> entry;
    PortmapPlan plan;
    std::optional<CacheFileError> error;
    PresenceVerdict presence;
    bool young = false;
    std::string state;  // hostport | no_hostport | stale | unverified | unsupported | invalid
  };
  struct FamilyState {
    std::optional<BackendKind> target;
    bool audited = false;
    HostportAudit audit;
    std::string signature;  // of the contributions handed to the guard
    std::optional<core::MonoTime> missing_since;
    std::vector<MissingChain> prev_missing;
    std::uint64_t repairs_seen = 0;
    bool repairs_known = false;
    std::set<std::string> mismatch_logged;
    std::set<std::string> waiting_logged;
  };

  void tick();
  void schedule_tick(core::Duration after);
  void start_scan(bool force);
  void on_scanned(std::optional<ScanReport> report, std::optional<FileStamp> stamp);
  void merge(ScanReport& r);
  void merge_read_error(const core::EnvError& error);
  void merge_dir_state(const ScanReport& r);
  void merge_files(ScanReport& r);
  void classify_files();
  void report_newly_stale(const std::vector<std::string>& newly_stale);
  void classify(const std::string& name, FileRec& rec);
  void evaluate(std::string_view trigger);
  void evaluate_family(Family f, bool* request);
  const TableView* target_view(Family f, BackendKind* target) const;
  void report_rebuilt(const TableKey& key, const FamilyState& fam, const HostportAudit& audit);
  void log_audit_findings(const TableKey& key, FamilyState& fam, const HostportAudit& audit);
  void update_condition();
  void hand_vouchers();
  void on_table(const TableView& v);
  std::vector<ExpectedChain> provide(BackendKind b, Family f, const std::string& table) const;
  static size_t index(Family f) { return f == Family::kIPv4 ? 0 : 1; }

  CniConfig cfg_;
  PortmapVersion version_;
  Guard* guard_;
  std::shared_ptr<CacheStore> store_;
  std::shared_ptr<SandboxProbe> probe_;
  Deps d_;
  CniMetrics metrics_;
  std::shared_ptr<bool> alive_;
  bool running_ = false;
  std::unique_ptr<core::Timer> poll_timer_;
  std::unique_ptr<core::Timer> grace_timer_;
  bool scan_in_flight_ = false;
  bool scan_again_ = false;
  bool force_next_ = true;
  core::MonoTime last_full_scan_{};
  std::optional<FileStamp> dir_stamp_;
  bool dir_missing_ = false;
  std::optional<core::EnvError> dir_error_;
  std::map<std::string, FileRec> files_;
  std::shared_ptr<const std::map<std::string, KnownFile>> known_;
  std::vector<PortmapInvocation> adds_;  // live hostPort entries, in ADD order
  std::set<std::string> stale_reported_;
  std::map<TableKey, TableView> views_;  // nat tables, as the guard last told
  std::array<FamilyState, 2> fams_;
  int provider_id_ = 0;
  int listener_id_ = 0;
  bool condition_active_ = false;
  std::string last_rebuild_;
  std::uint64_t rebuilt_total_ = 0;
};

}  // namespace ng::netfilter::cni
