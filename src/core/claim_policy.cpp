#include "failoverd/core/claim_policy.h"

#include <algorithm>
#include <cstdio>

namespace failoverd::core {

namespace {

std::string secs(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(d.count()) / 1e6);
  return buf;
}

}  // namespace

const char* to_string(ClaimAction a) {
  switch (a) {
    case ClaimAction::kNothing:
      return "nothing";
    case ClaimAction::kClaim:
      return "claim";
    case ClaimAction::kCheck:
      return "check";
    case ClaimAction::kReport:
      return "report";
  }
  return "?";
}

ClaimPolicyParams ClaimPolicyParams::for_check_interval(Duration check_interval) {
  ClaimPolicyParams p;
  p.check_interval = std::max(check_interval, Duration{1000});
  p.hold_off = 3 * p.check_interval;
  p.max_hold_off = 4 * p.hold_off;
  return p;
}

ClaimPolicy::ClaimPolicy(ClaimPolicyParams params, Time now)
    : params_(params), next_check_(now), episode_start_(now) {
  // A zero interval would make every timer due at once: keep the loop sane.
  params_.check_interval = std::max(params_.check_interval, Duration{1000});
  params_.hold_off = std::max(params_.hold_off, Duration{1000});
  params_.max_hold_off = std::max(params_.max_hold_off, params_.hold_off);
}

Duration ClaimPolicy::hold_off_for(int losses) const {
  Duration h = params_.hold_off;
  for (int i = 1; i < losses && h < params_.max_hold_off; ++i) h *= 2;
  return std::min(h, params_.max_hold_off);
}

int ClaimPolicy::max_takeovers(Duration d) const {
  int n = 0;
  Duration sum{0};
  // Bounded: every step adds at least hold_off (>= 1ms).
  while (n < 1'000'000) {
    sum += hold_off_for(n);
    if (sum > d) break;
    ++n;
  }
  return n;
}

std::optional<Time> ClaimPolicy::takeover_at() const {
  if (!master_ || !foreign_since_) return std::nullopt;
  return *foreign_since_ + hold_off_for(losses_);
}

void ClaimPolicy::schedule_check(Time now) {
  next_check_ = now + params_.check_interval;
}

ClaimDecision ClaimPolicy::became_master(Time now) {
  master_ = true;
  losses_ = 0;
  episode_start_ = now;
  foreign_since_.reset();
  last_advert_claim_.reset();
  schedule_check(now);
  return {ClaimAction::kClaim, "became MASTER"};
}

ClaimDecision ClaimPolicy::left_master(Time now) {
  master_ = false;
  losses_ = 0;
  episode_start_ = now;
  foreign_since_.reset();
  // BACKUP keeps checking, for status (and so a provider can cache the holder).
  schedule_check(now);
  return {};
}

ClaimDecision ClaimPolicy::heard_lower_priority(Time now) {
  if (!master_) return {};
  // The other node is reachable again: the split is over, and the election has just said
  // that we are the master. A new episode begins.
  losses_ = 0;
  episode_start_ = now;
  foreign_since_.reset();
  // One claim per check interval while such adverts keep coming (a one-way link): the claim
  // costs a GET even when the address is ours.
  if (last_advert_claim_ && now - *last_advert_claim_ < params_.check_interval) return {};
  last_advert_claim_ = now;
  return {ClaimAction::kClaim, "a lower-priority node believed it was MASTER"};
}

ClaimDecision ClaimPolicy::on_check(Time now, const HolderView& view) {
  schedule_check(now);
  switch (view.kind) {
    case HolderView::Kind::kFailed:
      return {ClaimAction::kReport, "cannot check the holder: " + view.holder};
    case HolderView::Kind::kUs:
      had_it_ = true;
      foreign_.reset();
      foreign_since_.reset();
      // Held undisturbed for longer than any peer's hold-off: whatever fight there was is
      // over, so the next loss starts the ladder from H again.
      if (master_ && losses_ > 0 && last_loss_ && now - *last_loss_ >= 2 * params_.max_hold_off) {
        losses_ = 0;
        episode_start_ = now;
      }
      return {};
    case HolderView::Kind::kNobody:
      had_it_ = false;
      foreign_.reset();
      foreign_since_.reset();
      if (master_ && !view.locked) return {ClaimAction::kClaim, "nobody holds it"};
      return {};
    case HolderView::Kind::kOther:
      break;
  }

  const bool changed = !foreign_ || *foreign_ != view.holder;
  if (had_it_ && master_) {
    // Taken from us while we are MASTER: someone who does not hear us claimed it, and was
    // alive to do so. Wait longer before taking it back each time this happens.
    ++losses_;
    last_loss_ = now;
    foreign_since_ = now;
  } else if (master_ && (changed || !foreign_since_)) {
    foreign_since_ = now;
  }
  had_it_ = false;
  foreign_ = view.holder;
  if (!master_) return {};

  const Duration hold = hold_off_for(losses_);
  const Time due = *foreign_since_ + hold;
  if (view.locked) {
    return {ClaimAction::kReport, "held by " + view.holder +
                                      " with an action pending while this node is MASTER; "
                                      "checking again"};
  }
  if (now >= due) {
    return {ClaimAction::kClaim, "held by " + view.holder + " for " +
                                     secs(now - *foreign_since_) +
                                     " while this node is MASTER and heard no advert from it "
                                     "(hold-off " +
                                     secs(hold) + "): taking it over"};
  }
  next_check_ = std::min(next_check_, due);
  return {ClaimAction::kReport,
          "held by " + view.holder +
              " while this node is MASTER: another node claimed it (a split?); taking it over "
              "in " +
              secs(due - now) + " unless the holder changes or the election settles it"};
}

ClaimDecision ClaimPolicy::on_claim(Time now, bool ok, bool permanent) {
  (void)now;
  if (ok) {
    had_it_ = true;
    foreign_.reset();
    foreign_since_.reset();
    return {};
  }
  // Not permanent: try again until it holds (the provider already retried with backoff).
  if (master_ && !permanent) return {ClaimAction::kClaim, "retrying after a failed claim"};
  return {};
}

ClaimDecision ClaimPolicy::on_timer(Time now) {
  if (now < next_check_) return {};
  schedule_check(now);
  return {ClaimAction::kCheck, "reconcile"};
}

ClaimPolicySnapshot ClaimPolicy::snapshot() const {
  return {master_,    next_check_, episode_start_, losses_,           last_loss_,
          had_it_,    foreign_,    foreign_since_, last_advert_claim_};
}

void ClaimPolicy::restore(const ClaimPolicySnapshot& s) {
  master_ = s.master;
  next_check_ = s.next_check;
  episode_start_ = s.episode_start;
  losses_ = s.losses;
  last_loss_ = s.last_loss;
  had_it_ = s.had_it;
  foreign_ = s.foreign;
  foreign_since_ = s.foreign_since;
  last_advert_claim_ = s.last_advert_claim;
}

}  // namespace failoverd::core
