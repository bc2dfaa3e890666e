// From check results to what they mean for the VRRP instance.
//
// Tracker applies rise/fall to one check's results; evaluate() combines every check's verdict
// into a fault flag and a priority delta. Both are pure: no clock, no I/O, times passed in.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "failoverd/config/config.h"
#include "failoverd/health/check.h"

namespace failoverd::health {

// The rise/fall state of one check. A fresh tracker is unhealthy: `rise` consecutive passes
// are needed before it counts as healthy, so a node whose service is broken at start-up never
// becomes MASTER. Once healthy, `fall` consecutive failures make it unhealthy again.
class Tracker {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  explicit Tracker(const config::CheckConfig& cfg);

  // Records one result, run at `at`. Returns true when healthy() changed.
  bool record(const CheckResult& result, TimePoint at);

  bool healthy() const { return healthy_; }
  // Its first verdict is in: it has been healthy, or it has failed a run. Until then a fresh
  // node does not know yet whether this check puts it in FAULT.
  bool settled() const { return settled_; }
  int consecutive_passes() const { return passes_; }
  int consecutive_failures() const { return failures_; }
  int rise() const { return rise_; }
  int fall() const { return fall_; }
  const std::optional<CheckResult>& last() const { return last_; }
  std::optional<TimePoint> last_run() const { return last_run_; }

 private:
  int rise_;
  int fall_;
  bool healthy_ = false;
  bool settled_ = false;
  int passes_ = 0;
  int failures_ = 0;
  std::optional<CheckResult> last_;
  std::optional<TimePoint> last_run_;
};

struct Verdict {
  bool fault = false;        // some check with weight 0 is unhealthy
  std::string fault_reason;  // "check containers: 3 of 10 required containers running (...)"
  int priority_delta = 0;    // to add to the configured priority (see evaluate)
  // Some weight-0 check has neither risen nor failed yet ("not run yet", "1 of 2 passes"):
  // fault is set, but it is not known yet to be a fault. A starting node waits for this to
  // clear before it joins the election, so a normal start does not pass through FAULT.
  bool settling = false;

  bool operator==(const Verdict&) const = default;
};

// What the checks mean for the instance ([check.NAME] weight in failoverd.conf(5)), as keepalived does:
// - weight 0: while the check is unhealthy the instance is in FAULT. fault_reason names every
//   such check with its last detail ("not run yet" before the first result; "1 of 2 passes
//   needed" while rising), joined by "; ".
// - weight > 0: the weight is added to the priority while the check is healthy.
// - weight < 0: the weight (negative) is added to the priority while the check is unhealthy.
// priority_delta is the plain sum; clamping the effective priority to 1..254 is the caller's
// job. Null entries are ignored.
Verdict evaluate(const std::vector<std::pair<const config::CheckConfig*, const Tracker*>>& checks);

}  // namespace failoverd::health
