#pragma once

#include <string>

#include "core/clock.h"

namespace ng::netfilter {

// When repeated drift is a fight (GuardOptions: fight_threshold, fight_window, backoff_*).
struct FightPolicy {
  int threshold = 3;
  core::Duration window{0};
  core::Duration backoff_initial{0};
  core::Duration backoff_max{0};
};

// Fight detection of one table: the same non-flush drift back within the window of our last
// repair, more than `threshold` times in a row, means another writer undoes our repairs; the
// repairs then back off exponentially instead of racing it. Pure: the guard acts on the verdicts.
class FightTracker {
 public:
  enum class Verdict {
    kRepair,        // repair now
    kFightStarted,  // a backoff began, and the table was not fighting before
    kBackOff,       // a longer backoff began in a fight already known
    kWait,          // still within the current backoff
  };

  explicit FightTracker(FightPolicy policy = {}) : p_(policy) {}

  // A non-flush drift with this signature, seen at `now`: repair it or wait?
  Verdict on_drift(const std::string& signature, core::MonoTime now);
  // Our repair committed at `at`; a flush is never a fight candidate.
  void repaired(core::MonoTime at, bool flush, const std::string& signature);
  // A check found no drift: the fight is over once the other writer stayed quiet long enough.
  // True when it just ended.
  bool end_if_quiet(core::MonoTime now);

  bool fighting() const { return fighting_; }
  core::Duration backoff() const { return backoff_; }
  int repeats() const { return repeats_; }

 private:
  FightPolicy p_;
  std::string last_sig_;
  core::MonoTime last_repair_at_{};
  int repeats_ = 0;
  bool waiting_ = false;
  core::MonoTime next_allowed_{};
  core::Duration backoff_{0};
  bool fighting_ = false;
};

}  // namespace ng::netfilter
