#pragma once

#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "netfilter/firewalld/bus.h"

namespace ng::testing {

// A system bus in memory, for the firewalld watcher's unit tests. Answers come from a table the
// test fills (`answer(interface, member, args, reply)`), or from a handler; they are queued and
// delivered only by deliver() (the seam's contract: never inside call()). Signals are sent with
// emit() to every subscription whose rule names the same member/interface/path and arg0.
class FakeBus final : public netfilter::firewalld::Bus {
 public:
  using BusReply = netfilter::firewalld::BusReply;
  using BusCall = netfilter::firewalld::BusCall;
  using BusSignal = netfilter::firewalld::BusSignal;

  // --- test controls
  core::Status connect_result = core::Ok{};
  size_t connects = 0;
  std::vector<BusCall> calls;  // every call made, in order
  // Calls whose answer is held back until release() (firewalld still starting, say).
  std::function<bool(const BusCall&)> hold;

  void answer(const std::string& interface, const std::string& member,
              std::vector<std::string> args, BusReply reply) {
    table_[key(interface, member, args)] = std::move(reply);
  }
  void answer_any(std::function<std::optional<BusReply>(const BusCall&)> fn) {
    handler_ = std::move(fn);
  }
  static BusReply ok(std::vector<netfilter::firewalld::DbusValue> values) {
    BusReply r;
    r.values = std::move(values);
    return r;
  }
  static BusReply error(std::string name, std::string message = "") {
    BusReply r;
    r.error_name = std::move(name);
    r.error_message = std::move(message);
    return r;
  }

  // Delivers every queued answer (and answers queued meanwhile); returns how many.
  size_t deliver() {
    size_t n = 0;
    while (!queue_.empty()) {
      auto fn = std::move(queue_.front());
      queue_.pop_front();
      fn();
      ++n;
    }
    return n;
  }
  // Answers the held calls now (with the table as it is) and delivers.
  void release() {
    auto held = std::move(held_);
    held_.clear();
    for (auto& [c, done] : held) respond(c, std::move(done));
    deliver();
  }
  size_t held() const { return held_.size(); }

  void emit(const BusSignal& s) {
    for (auto& m : matches_) {
      if (matches(m.rule, s)) m.on_signal(s);
    }
  }
  void emit_reloaded(const std::string& sender = ":1.7") {
    emit(BusSignal{sender,
                   netfilter::firewalld::kFirewalldPath,
                   netfilter::firewalld::kFirewalldName,
                   "Reloaded",
                   {}});
  }
  void emit_owner_changed(const std::string& old_owner, const std::string& new_owner) {
    using netfilter::firewalld::DbusValue;
    emit(BusSignal{"org.freedesktop.DBus",
                   netfilter::firewalld::kDbusPath,
                   netfilter::firewalld::kDbusName,
                   "NameOwnerChanged",
                   {DbusValue::str(netfilter::firewalld::kFirewalldName), DbusValue::str(old_owner),
                    DbusValue::str(new_owner)}});
  }
  // The daemon went away: on_lost is called as the real connection does.
  void drop(const std::string& why = "connection reset") {
    auto cb = std::move(on_lost_);
    close();
    if (cb) cb(why);
  }
  size_t subscriptions() const { return matches_.size(); }
  size_t calls_to(const std::string& member) const {
    size_t n = 0;
    for (const auto& c : calls) n += c.member == member;
    return n;
  }

  // --- Bus
  core::Status connect(std::function<void(std::string)> on_lost) override {
    ++connects;
    if (!connect_result) return connect_result;
    connected_ = true;
    on_lost_ = std::move(on_lost);
    return core::Ok{};
  }
  void add_match(const std::string& rule, std::function<void(const BusSignal&)> on_signal,
                 std::function<void(BusReply)> installed) override {
    matches_.push_back({rule, std::move(on_signal)});
    queue_.push_back([installed = std::move(installed), epoch = epoch_, this] {
      if (epoch == epoch_ && installed) installed(BusReply{});
    });
  }
  void call(const BusCall& c, std::function<void(BusReply)> done) override {
    calls.push_back(c);
    if (!connected_) {
      queue_.push_back([done = std::move(done), epoch = epoch_, this] {
        if (epoch == epoch_) done(error("org.freedesktop.DBus.Error.Disconnected"));
      });
      return;
    }
    if (hold && hold(c)) {
      held_.emplace_back(c, std::move(done));
      return;
    }
    respond(c, std::move(done));
  }
  void close() override {
    connected_ = false;
    ++epoch_;  // queued answers of this connection are dropped
    matches_.clear();
    held_.clear();
    on_lost_ = nullptr;
  }
  bool connected() const override { return connected_; }
  std::string address() const override { return "unix:path=/fake/system_bus_socket"; }

 private:
  struct Match {
    std::string rule;
    std::function<void(const BusSignal&)> on_signal;
  };

  static std::string key(const std::string& i, const std::string& m,
                         const std::vector<std::string>& args) {
    std::string k = i + "." + m + "(";
    for (const auto& a : args) k += a + ",";
    return k + ")";
  }
  // The value of key='...' in a match rule, or empty.
  static std::string rule_value(const std::string& rule, const std::string& k) {
    const std::string needle = k + "='";
    const auto at = rule.find(needle);
    if (at == std::string::npos) return "";
    const auto start = at + needle.size();
    return rule.substr(start, rule.find('\'', start) - start);
  }
  static bool matches(const std::string& rule, const BusSignal& s) {
    auto check = [&](const char* k, const std::string& v) {
      const std::string want = rule_value(rule, k);
      return want.empty() || want == v;
    };
    const std::string arg0 = !s.args.empty() && s.args[0].as_string() ? *s.args[0].as_string() : "";
    return check("member", s.member) && check("interface", s.interface) && check("path", s.path) &&
           check("arg0", arg0);
  }
  void respond(const BusCall& c, std::function<void(BusReply)> done) {
    BusReply r = error("org.freedesktop.DBus.Error.ServiceUnknown", "no answer recorded");
    if (auto it = table_.find(key(c.interface, c.member, c.args)); it != table_.end()) {
      r = it->second;
    } else if (handler_) {
      if (auto h = handler_(c)) r = *h;
    }
    queue_.push_back([done = std::move(done), r = std::move(r), epoch = epoch_, this] {
      if (epoch == epoch_) done(r);
    });
  }

  bool connected_ = false;
  std::uint64_t epoch_ = 0;
  std::function<void(std::string)> on_lost_;
  std::vector<Match> matches_;
  std::deque<std::function<void()>> queue_;
  std::vector<std::pair<BusCall, std::function<void(BusReply)>>> held_;
  std::map<std::string, BusReply> table_;
  std::function<std::optional<BusReply>(const BusCall&)> handler_;
};

}  // namespace ng::testing
