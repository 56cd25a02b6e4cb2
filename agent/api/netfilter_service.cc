#include "agent/api/netfilter_service.h"

#include <algorithm>

#include "agent/api/proto_time.h"
#include "agent/api/unary_on_loop.h"
#include "netfilter/save_codec.h"

namespace ng::agent {

namespace {

struct Filter {
  std::optional<netfilter::BackendKind> backend;
  std::optional<netfilter::Family> family;
  std::string table;
};

// Empty means all; anything else must name a backend / family.
grpc::Status parse_filter(const std::string& backend, const std::string& family,
                          const std::string& table, Filter& f) {
  if (!backend.empty()) {
    f.backend = netfilter::parse_backend_kind(backend);
    if (!f.backend) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "backend must be legacy or nft, got \"" + backend + "\""};
    }
  }
  if (!family.empty()) {
    f.family = netfilter::parse_family(family);
    if (!f.family) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "family must be ipv4 or ipv6, got \"" + family + "\""};
    }
  }
  if (table.size() > 32 || table.find_first_of(" \t\n/") != std::string::npos) {
    return {grpc::StatusCode::INVALID_ARGUMENT, "bad table name \"" + table + "\""};
  }
  f.table = table;
  return grpc::Status::OK;
}

void fill_finding(const netfilter::DriftFinding& f, nodeguard::v1::DriftFinding* out) {
  out->set_kind(std::string(netfilter::to_string(f.kind)));
  out->set_chain(f.chain);
  out->set_rule(f.rule);
  out->set_detail(f.detail);
}

void fill_writer(const netfilter::ChangeWriter& w, nodeguard::v1::ChangeWriter* out) {
  out->set_pid(w.pid);
  out->set_comm(w.comm);
  out->set_unit(w.unit);
  out->set_container(w.container);
  out->set_generation(w.genid);
}

}  // namespace

void NetfilterService::fill(const netfilter::GuardView& view,
                            const nodeguard::v1::ListRulesRequest& req,
                            nodeguard::v1::ListRulesResponse& out) {
  Filter f;
  (void)parse_filter(req.backend(), req.family(), req.table(), f);
  out.set_backend_mode(view.mode);
  for (auto b : view.backends) out.add_backends(std::string(netfilter::to_string(b)));
  out.set_backend_reason(view.backend_why);
  out.set_dry_run(view.dry_run);
  netfilter::GuardPolicy policy;  // only for counting: the snapshot is already a projection
  for (const auto& t : view.tables) {
    if (f.backend && t.key.backend != *f.backend) continue;
    if (f.family && t.key.family != *f.family) continue;
    if (!f.table.empty() && t.key.table != f.table) continue;
    auto* g = out.add_tables();
    g->set_backend(std::string(netfilter::to_string(t.key.backend)));
    g->set_family(std::string(netfilter::to_string(t.key.family)));
    g->set_table(t.key.table);
    g->set_state(t.state);
    g->set_guarded_chains(static_cast<uint32_t>(t.guarded_chains));
    g->set_guarded_rules(static_cast<uint32_t>(t.guarded_rules));
    g->set_canary_present(t.canary_present);
    if (t.last_check) *g->mutable_last_check() = to_proto(*t.last_check);
    if (t.last_repair) *g->mutable_last_repair() = to_proto(*t.last_repair);
    g->set_last_repair_result(t.last_repair_result);
    for (const auto& c : t.last_repair_changes) g->add_last_repair_changes(c);
    for (const auto& d : t.last_drift) fill_finding(d, g->add_last_drift());
    for (const auto& d : t.reports) fill_finding(d, g->add_reports());
    g->set_last_error(t.last_error);
    g->set_repairs(t.repairs);
    g->set_fighting(t.fighting);
    *g->mutable_backoff() = to_proto_duration(t.backoff);
    for (const auto& fr : t.foreign) {
      auto* x = g->add_foreign();
      x->set_chain(fr.chain);
      x->set_rule(fr.rule);
      x->set_owner(fr.owner);
      x->set_why(fr.why);
    }
    g->set_foreign_rules(static_cast<uint32_t>(t.foreign_total));
    if (t.last_writer) fill_writer(*t.last_writer, g->mutable_last_writer());
    if (t.drift_writer) fill_writer(*t.drift_writer, g->mutable_drift_writer());
    g->set_writer_note(t.writer_note);
    if (!t.snapshot) continue;
    for (const auto& c : t.snapshot->chains) {
      if (c.name == netfilter::GuardPolicy::kCanary) continue;
      // Built-in chains appear only when they hold jumps into guarded chains.
      std::vector<const netfilter::Rule*> rules;
      for (const auto& r : c.rules) {
        if (!c.builtin()) {
          rules.push_back(&r);
        } else if (!r.target.empty() && t.snapshot->has(r.target) &&
                   r.target != netfilter::GuardPolicy::kCanary) {
          rules.push_back(&r);
        }
      }
      if (c.builtin() && rules.empty()) continue;
      auto* gc = g->add_chains();
      gc->set_name(c.name);
      gc->set_builtin(c.builtin());
      gc->set_policy(c.policy);
      gc->set_guarded_rules(static_cast<uint32_t>(rules.size()));
      if (req.include_rules()) {
        for (const auto* r : rules) gc->add_rules(netfilter::render_rule(c.name, *r));
      }
    }
  }
}

grpc::ServerUnaryReactor* NetfilterService::ListRules(grpc::CallbackServerContext* ctx,
                                                      const nodeguard::v1::ListRulesRequest* req,
                                                      nodeguard::v1::ListRulesResponse* resp) {
  Filter f;
  if (auto st = parse_filter(req->backend(), req->family(), req->table(), f); !st.ok()) {
    auto* reactor = ctx->DefaultReactor();
    reactor->Finish(st);
    return reactor;
  }
  return unary_on_loop(ctx, loop_, [this, req, resp] {
    fill(guard_.view(), *req, *resp);
    if (native_) fill_native(native_->tables(), *resp);
    return grpc::Status::OK;
  });
}

void NetfilterService::fill_native(const std::vector<netfilter::native::NativeTableView>& tables,
                                   nodeguard::v1::ListRulesResponse& out) {
  for (const auto& t : tables) {
    auto* n = out.add_native_tables();
    n->set_family(t.family);
    n->set_name(t.name);
    for (const auto& o : t.owners) n->add_owners(o);
    n->set_state(t.state);
    n->set_chains(static_cast<uint32_t>(t.counts.chains));
    n->set_base_chains(static_cast<uint32_t>(t.counts.base_chains));
    n->set_rules(static_cast<uint32_t>(t.counts.rules));
    n->set_sets(static_cast<uint32_t>(t.counts.sets));
    n->set_elements(static_cast<uint32_t>(t.counts.elements));
    n->set_objects(static_cast<uint32_t>(t.counts.objects));
    n->set_flowtables(static_cast<uint32_t>(t.counts.flowtables));
    if (t.last_writer) {
      n->set_last_writer_pid(t.last_writer->writer.pid);
      n->set_last_writer_comm(t.last_writer->writer.comm);
      n->set_last_writer_parent(t.last_writer->parent_comm);
      n->set_last_writer_unit(t.last_writer->writer.unit);
      n->set_last_writer_container(t.last_writer->writer.container);
    }
    n->set_last_drift(t.last_drift);
    n->set_last_error(t.last_error);
    n->set_wipes(t.wipes);
    n->set_repairs(t.repairs);
  }
}

grpc::ServerUnaryReactor* NetfilterService::Repair(grpc::CallbackServerContext* ctx,
                                                   const nodeguard::v1::RepairRequest* req,
                                                   nodeguard::v1::RepairResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  Filter f;
  if (auto st = parse_filter(req->backend(), req->family(), req->table(), f); !st.ok()) {
    reactor->Finish(st);
    return reactor;
  }
  netfilter::RepairRequest r;
  r.dry_run = req->dry_run();
  r.table = f.table;
  r.family = f.family;
  r.backend = f.backend;
  r.reason = req->reason().empty() ? "Repair RPC" : "Repair RPC: " + req->reason().substr(0, 200);
  // Work continues on the loop and the workers; the call finishes when every table is done.
  loop_.post([this, reactor, r = std::move(r), resp] {
    if (!guard_.started()) {
      reactor->Finish({grpc::StatusCode::UNAVAILABLE,
                       "the netfilter guard is not running (disabled, or still starting)"});
      return;
    }
    resp->set_dry_run(r.dry_run || guard_.view().dry_run);
    // Native tables: a forced re-read; those that look wiped are restored (not in dry run).
    if (native_ && !r.dry_run) {
      native_->recheck();
      for (const auto& t : native_->tables()) resp->add_native_rechecked(t.family + " " + t.name);
    }
    guard_.repair_now(r, [reactor, resp](std::vector<netfilter::TableRepairResult> results) {
      for (const auto& t : results) {
        auto* c = resp->add_tables();
        c->set_backend(std::string(netfilter::to_string(t.key.backend)));
        c->set_family(std::string(netfilter::to_string(t.key.family)));
        c->set_table(t.key.table);
        for (const auto& d : t.drift) fill_finding(d, c->add_drift());
        for (const auto& d : t.reports) fill_finding(d, c->add_reports());
        for (const auto& ch : t.changes) c->add_changes(ch);
        c->set_restore_text(t.restore_text);
        c->set_committed(t.committed);
        c->set_error(t.error);
      }
      reactor->Finish(grpc::Status::OK);
    });
  });
  return reactor;
}

namespace {

// Who asked, for the log and the event: the TLS identities when verified, else the peer
// address (unix socket: "unix:...").
std::string caller(const grpc::CallbackServerContext& ctx) {
  std::string who;
  if (auto auth = ctx.auth_context(); auth && auth->IsPeerAuthenticated()) {
    for (const auto& id : auth->GetPeerIdentity()) {
      who += (who.empty() ? "" : ",") + std::string(id.data(), id.size());
    }
  }
  const std::string peer = ctx.peer();
  return who.empty() ? peer : who + " (" + peer + ")";
}

bool bad_name(const std::string& s) {
  return s.empty() || s.size() > 64 || s.find_first_of(" \t\n\"'/") != std::string::npos;
}

}  // namespace

grpc::ServerUnaryReactor* NetfilterService::Forget(grpc::CallbackServerContext* ctx,
                                                   const nodeguard::v1::ForgetRequest* req,
                                                   nodeguard::v1::ForgetResponse* resp) {
  auto* reactor = ctx->DefaultReactor();
  Filter f;
  grpc::Status st = parse_filter(req->backend(), req->family(), req->table(), f);
  if (st.ok() && f.table.empty()) {
    st = {grpc::StatusCode::INVALID_ARGUMENT, "table is required (nat, filter, ...)"};
  }
  if (st.ok() && bad_name(req->chain())) {
    st = {grpc::StatusCode::INVALID_ARGUMENT,
          "bad or missing chain name \"" + req->chain().substr(0, 80) + "\""};
  }
  netfilter::ForgetRequest r;
  r.entry.chain = req->chain();
  r.entry.rule = netfilter::rule_spec_argument(req->chain(), req->rule().substr(0, 8192));
  const auto& builtins = netfilter::builtin_chains(f.table);
  const bool builtin = std::find(builtins.begin(), builtins.end(), req->chain()) != builtins.end();
  if (st.ok() && r.entry.rule.empty() &&
      (builtin || req->chain() == netfilter::GuardPolicy::kCanary)) {
    st = {grpc::StatusCode::INVALID_ARGUMENT,
          "a built-in chain or the agent's canary cannot be forgotten; name one rule of it"};
  }
  if (!st.ok()) {
    reactor->Finish(st);
    return reactor;
  }
  r.table = f.table;
  r.family = f.family;
  r.backend = f.backend;
  r.who = caller(*ctx);
  r.reason = req->reason().substr(0, 200);
  loop_.post([this, reactor, r = std::move(r), resp] {
    if (!guard_.started()) {
      reactor->Finish({grpc::StatusCode::UNAVAILABLE,
                       "the netfilter guard is not running (disabled, or still starting)"});
      return;
    }
    auto results = guard_.forget(r);
    if (results.empty()) {
      reactor->Finish({grpc::StatusCode::NOT_FOUND,
                       "no guarded snapshot of table " + r.table + " holds " +
                           (r.entry.rule.empty() ? "chain " + r.entry.chain
                                                 : "-A " + r.entry.chain + " " + r.entry.rule) +
                           " (ngctl rules -t " + r.table + " --rules lists what is kept)"});
      return;
    }
    for (const auto& t : results) {
      auto* e = resp->add_tables();
      e->set_backend(std::string(netfilter::to_string(t.key.backend)));
      e->set_family(std::string(netfilter::to_string(t.key.family)));
      e->set_table(t.key.table);
      for (const auto& line : t.removed) e->add_removed(line);
    }
    reactor->Finish(grpc::Status::OK);
  });
  return reactor;
}

}  // namespace ng::agent
