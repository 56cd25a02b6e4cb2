// Fight detection and backoff: FightTracker's rules, and the guard acting on its verdicts.
#include "netfilter/guard_fight.h"

#include <algorithm>

#include "netfilter/guard_internal.h"

namespace ng::netfilter {

using guard_detail::chains_of;
using guard_detail::join;
using guard_detail::kComponent;

FightTracker::Verdict FightTracker::on_drift(const std::string& signature, core::MonoTime now) {
  const bool same =
      !last_sig_.empty() && signature == last_sig_ && now - last_repair_at_ <= p_.window + backoff_;
  if (!same) {
    repeats_ = 1;
    waiting_ = false;
    backoff_ = core::Duration{0};
    fighting_ = false;
  } else if (!waiting_) {
    ++repeats_;
  }
  if (repeats_ <= p_.threshold) return Verdict::kRepair;
  if (!waiting_) {
    backoff_ = backoff_.count() == 0 ? p_.backoff_initial : std::min(2 * backoff_, p_.backoff_max);
    waiting_ = true;
    next_allowed_ = now + backoff_;
    const bool news = !fighting_;
    fighting_ = true;
    return news ? Verdict::kFightStarted : Verdict::kBackOff;
  }
  if (now < next_allowed_) return Verdict::kWait;
  waiting_ = false;  // the backoff is over: repair once more
  return Verdict::kRepair;
}

void FightTracker::repaired(core::MonoTime at, bool flush, const std::string& signature) {
  last_repair_at_ = at;
  if (!flush && !signature.empty()) last_sig_ = signature;
}

bool FightTracker::end_if_quiet(core::MonoTime now) {
  if (!fighting_ || now - last_repair_at_ <= std::max<core::Duration>(p_.window, 2 * backoff_)) {
    return false;
  }
  fighting_ = false;
  backoff_ = core::Duration{0};
  repeats_ = 0;
  waiting_ = false;
  return true;
}

// A non-flush drift: true when the repair waits for the backoff (the watch is finished).
bool Guard::hold_off(Watch& w, const Assessment& A) {
  const auto verdict = w.fight.on_drift(A.signature, d_.clock.now());
  if (verdict == FightTracker::Verdict::kRepair) return false;
  w.state = "backoff";
  if (verdict != FightTracker::Verdict::kWait) {
    d_.log.warn("netfilter fight: backing off",
                {{"table", w.key.str()},
                 {"repeats", w.fight.repeats()},
                 {"backoff_ms",
                  std::chrono::duration_cast<std::chrono::milliseconds>(w.fight.backoff()).count()},
                 {"drift", A.signature}});
    if (verdict == FightTracker::Verdict::kFightStarted) {
      d_.health.record_event(
          core::HealthEvent{kComponent,
                            "NetfilterFightDetected",
                            "Another writer keeps removing the same guarded rules in " +
                                w.key.str() + "; repairs now back off",
                            core::Severity::kWarning,
                            {{"table", w.key.table},
                             {"family", std::string(to_string(w.key.family))},
                             {"backend", std::string(to_string(w.key.backend))},
                             {"chains", join(chains_of(A.drift), ",")}}});
    }
    w.timer->arm(w.fight.backoff(), [this, k = w.key] {
      if (Watch* x = find(k)) start_check(*x, "backoff", d_.clock.now());
    });
  }
  finish(w);
  return true;
}

}  // namespace ng::netfilter
