#include "netfilter/guard_factory.h"

#include "netfilter/legacy/legacy_backend.h"
#include "netfilter/mixed_modes.h"
#include "netfilter/nft/nft_backend.h"
#include "netfilter/nft/nft_monitor.h"
#include "netfilter/snapshot_store.h"
#include "netfilter/tool_runner.h"
#include "netfilter/writer_resolver.h"

namespace ng::netfilter {

GuardOptions guard_options(const NetfilterConfig& c, bool dry_run, const std::string& state_dir) {
  GuardOptions o;
  o.enabled = c.enabled;
  o.backend_mode = c.backend;
  o.families.clear();
  for (const auto& f : c.families) {
    if (auto fam = parse_family(f)) o.families.push_back(*fam);
  }
  o.policy = GuardPolicy(c.guard, c.write_once);
  o.poll_interval = c.poll_interval;
  o.verify_interval = c.verify_interval;
  o.lock_timeout = c.lock_timeout;
  o.drift_grace = c.drift_grace;
  o.restore_policies = c.restore_policies;
  o.snapshot_max_age = c.snapshot_max_age;
  o.dry_run = dry_run;
  o.snapshot_dir = state_dir.empty() ? std::string() : state_dir + "/netfilter";
  o.identity = host_identity();
  return o;
}

std::unique_ptr<Guard> make_guard(const NetfilterConfig& config, bool dry_run,
                                  const std::string& state_dir, boost::asio::io_context& io,
                                  core::ProcessRunner& runner, Guard::Deps deps) {
  NftBackend::Options nft;
  nft.fast_path = config.nft_fast_path;
  nft.fault = NftBackend::fault_from_env();
  nft.quiet = std::make_shared<NftListenGate>();
  std::vector<std::shared_ptr<Backend>> backends = {std::make_shared<NftBackend>(runner, nft),
                                                    std::make_shared<LegacyBackend>(runner)};
  auto monitor = std::make_unique<NftMonitor>(io, deps.log, nft.quiet);
  if (!config.proc_root.empty()) {
    // Attribution: the generation's pid -> its unit or container, while /proc still has it.
    auto resolver = std::make_shared<CgroupWriterResolver>(deps.files, config.proc_root);
    monitor->set_writer_resolver([resolver](ChangeWriter& w) { (*resolver)(w); });
  }
  auto guard = std::make_unique<Guard>(guard_options(config, dry_run, state_dir),
                                       std::move(backends), std::move(deps), std::move(monitor));
  // Which native nftables tables exist (kube-proxy's nftables mode beside Calico's iptables
  // mode, calico#8025): `nft list tables` prints names only, whatever the tables hold.
  guard->set_native_table_lister([&runner]() -> core::Result<std::vector<std::string>> {
    auto out = run_tool(runner, {"nft", "list", "tables"});
    if (!out) return out.error();
    return parse_nft_table_list(*out);
  });
  return guard;
}

}  // namespace ng::netfilter
