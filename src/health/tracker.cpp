#include "failoverd/health/tracker.h"

#include <algorithm>
#include <climits>

namespace failoverd::health {

Tracker::Tracker(const config::CheckConfig& cfg)
    : rise_(std::max(1, cfg.rise)), fall_(std::max(1, cfg.fall)) {}

bool Tracker::record(const CheckResult& result, TimePoint at) {
  last_ = result;
  last_run_ = at;
  const bool was = healthy_;
  if (result.ok) {
    failures_ = 0;
    if (passes_ < INT_MAX) ++passes_;
    if (passes_ >= rise_) healthy_ = true;
    if (healthy_) settled_ = true;
  } else {
    settled_ = true;
    passes_ = 0;
    if (failures_ < INT_MAX) ++failures_;
    if (failures_ >= fall_) healthy_ = false;
  }
  return healthy_ != was;
}

namespace {

std::string why_unhealthy(const Tracker& t) {
  if (!t.last()) return "not run yet";
  if (t.last()->ok) {
    // Passing, but not yet `rise` times in a row (only reachable while rising).
    return std::to_string(t.consecutive_passes()) + " of " + std::to_string(t.rise()) +
           " passes needed to become healthy (" + t.last()->detail + ")";
  }
  return t.last()->detail;
}

}  // namespace

Verdict evaluate(const std::vector<std::pair<const config::CheckConfig*, const Tracker*>>& checks) {
  Verdict v;
  for (const auto& [cfg, tracker] : checks) {
    if (cfg == nullptr || tracker == nullptr) continue;
    const bool healthy = tracker->healthy();
    if (cfg->weight == 0) {
      if (healthy) continue;
      v.fault = true;
      if (!tracker->settled()) v.settling = true;
      if (!v.fault_reason.empty()) v.fault_reason += "; ";
      v.fault_reason += "check " + cfg->name + ": " + why_unhealthy(*tracker);
    } else if (cfg->weight > 0) {
      if (healthy) v.priority_delta += cfg->weight;
    } else {
      if (!healthy) v.priority_delta += cfg->weight;
    }
  }
  return v;
}

}  // namespace failoverd::health
