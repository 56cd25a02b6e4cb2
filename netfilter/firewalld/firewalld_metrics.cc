#include "netfilter/firewalld/firewalld_metrics.h"

namespace ng::netfilter::firewalld {

FirewalldMetrics::FirewalldMetrics(prometheus::Registry& r)
    : bus_(prometheus::BuildGauge()
               .Name("nodeguard_firewalld_bus_connected")
               .Help("1 while the agent is connected to the system D-Bus (firewalld's signals "
                     "can reach it).")
               .Register(r)
               .Add({})),
      up_(prometheus::BuildGauge()
              .Name("nodeguard_firewalld_up")
              .Help("1 while firewalld owns its bus name and answers.")
              .Register(r)
              .Add({})),
      backend_(prometheus::BuildGauge()
                   .Name("nodeguard_firewalld_backend_info")
                   .Help("1 for the FirewallBackend firewalld reports (nftables, iptables, "
                         "unknown).")
                   .Register(r)),
      reloads_(prometheus::BuildCounter()
                   .Name("nodeguard_firewalld_reloads_total")
                   .Help("firewalld reloads and restarts seen on the bus, by trigger (reloaded: "
                         "the Reloaded signal; started, stopped: NameOwnerChanged); each one "
                         "triggers an immediate netfilter check.")
                   .Register(r)),
      conflicts_(prometheus::BuildGauge()
                     .Name("nodeguard_firewalld_conflicts")
                     .Help("Things firewalld's runtime policy blocks that the node needs, by "
                           "check (ports, interfaces or CIDRs; 0 when none).")
                     .Register(r)),
      invalid_(prometheus::BuildCounter()
                   .Name("nodeguard_firewalld_invalid_answers_total")
                   .Help("firewalld D-Bus answers that did not decode (skipped), by method.")
                   .Register(r)),
      queries_(prometheus::BuildCounter()
                   .Name("nodeguard_firewalld_policy_queries_total")
                   .Help("Reads of firewalld's zones and services, by result (ok, error).")
                   .Register(r)),
      ignored_(prometheus::BuildCounter()
                   .Name("nodeguard_firewalld_ignored_signals_total")
                   .Help("Signals on firewalld's object path ignored because firewalld did not "
                         "send them, by reason (no_owner: nobody owns firewalld's bus name; "
                         "not_owner: another connection than its owner; not_bus_driver: a "
                         "NameOwnerChanged not from the bus daemon). Nonzero: some process on "
                         "the node's system bus forges firewalld's signals.")
                   .Register(r)) {
  for (const char* b : {"nftables", "iptables", "unknown"}) backend_.Add({{"backend", b}}).Set(0);
  for (const char* t : {"reloaded", "started", "stopped"}) reloads_.Add({{"trigger", t}});
  for (const char* x : {"no_owner", "not_owner", "not_bus_driver"}) ignored_.Add({{"reason", x}});
  for (Check c : all_checks()) conflicts_.Add({{"check", std::string(check_name(c))}}).Set(0);
}

void FirewalldMetrics::bus_connected(bool on) {
  bus_.Set(on ? 1 : 0);
}

void FirewalldMetrics::up(bool on) {
  up_.Set(on ? 1 : 0);
}

void FirewalldMetrics::backend(const std::string& backend) {
  const std::string b = backend == "nftables" || backend == "iptables" ? backend : "unknown";
  for (const char* x : {"nftables", "iptables", "unknown"}) {
    backend_.Add({{"backend", x}}).Set(b == x ? 1 : 0);
  }
}

void FirewalldMetrics::reload(std::string_view trigger) {
  reloads_.Add({{"trigger", std::string(trigger)}}).Increment();
}

void FirewalldMetrics::conflicts(Check c, size_t items) {
  conflicts_.Add({{"check", std::string(check_name(c))}}).Set(static_cast<double>(items));
}

void FirewalldMetrics::invalid_answer(std::string_view method) {
  invalid_.Add({{"method", std::string(method)}}).Increment();
}

void FirewalldMetrics::query(bool ok) {
  queries_.Add({{"result", ok ? "ok" : "error"}}).Increment();
}

void FirewalldMetrics::ignored_signal(std::string_view reason) {
  ignored_.Add({{"reason", std::string(reason)}}).Increment();
}

}  // namespace ng::netfilter::firewalld
