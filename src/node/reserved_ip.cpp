#include "failoverd/node/reserved_ip.h"

#include "failoverd/util/time_format.h"

namespace failoverd::node {

namespace {

std::string ms(std::chrono::milliseconds d) { return std::to_string(d.count()); }
std::string ms(core::Duration d) {
  return ms(std::chrono::duration_cast<std::chrono::milliseconds>(d));
}

}  // namespace

const char* to_string(ClaimReport::Outcome o) {
  switch (o) {
    case ClaimReport::Outcome::kAlreadyHeld: return "already held";
    case ClaimReport::Outcome::kClaimed: return "claimed";
    case ClaimReport::Outcome::kFailed: return "failed";
  }
  return "?";
}

ReservedIp::ReservedIp(std::string address, std::string provider,
                       core::Duration reconcile_interval, ClaimBackoff backoff)
    : address_(std::move(address)),
      provider_(std::move(provider)),
      policy_(core::ClaimPolicyParams::for_check_interval(reconcile_interval), core::Time{0}),
      backoff_(backoff) {}

void ReservedIp::log(LogLevel level, std::string line, Effects& out) const {
  out.push_back(Log{level, "reserved IP " + address_ + line});
}

void ReservedIp::start(core::Time now, Effects& out) {
  policy_ = core::ClaimPolicy(policy_.params(), now);
  started_ = true;
  const auto& p = policy_.params();
  log(LogLevel::kDebug,
      ": checks every " + ms(p.check_interval) + " ms; a holder other than this MASTER is taken "
      "over after " + ms(p.hold_off) + " ms (doubling per loss, at most " + ms(p.max_hold_off) +
      " ms)",
      out);
}

void ReservedIp::became_master(core::Time now, Effects& out) {
  master_ = true;
  act(policy_.became_master(now), out);
}

void ReservedIp::resumed_master(core::Time now, Effects& out) {
  start(now, out);
  master_ = true;
  holder_ = kThisNode;
  core::ClaimPolicySnapshot p;
  p.master = true;
  p.next_check = now;
  p.episode_start = now;
  p.had_it = true;
  policy_.restore(p);
  act(policy_.on_timer(now), out);  // the check, now
}

void ReservedIp::left_master(core::Time now, Effects& out) {
  master_ = false;
  claim_current_ = false;
  // A queued claim would act for a MASTER we no longer are; a call in flight cannot be
  // stopped, and its report is only logged. A queued check may stay.
  if (queued_ && queued_->first == Job::kClaim) queued_.reset();
  // A pending retry is a MASTER's too. The backoff itself stays: a node that flaps between
  // MASTER and BACKUP while claims fail must not claim faster for it.
  retry_at_.reset();
  act(policy_.left_master(now), out);
}

void ReservedIp::heard_lower_priority(core::Time now, Effects& out) {
  act(policy_.heard_lower_priority(now), out);
}

void ReservedIp::act(const core::ClaimDecision& d, Effects& out) {
  switch (d.action) {
    case core::ClaimAction::kClaim:
      if (retry_at_) {
        // A failed claim waits for its retry; claiming sooner (a reconcile that finds nobody
        // holding it) would undo the backoff. The retry claims anyway.
        log(LogLevel::kDebug,
            ": not claiming now (" + d.reason + "): the retry after a failure is due first", out);
        break;
      }
      submit(Job::kClaim, d.reason, out);
      break;
    case core::ClaimAction::kCheck:
      submit(Job::kCheck, d.reason, out);
      break;
    case core::ClaimAction::kReport:
      log(LogLevel::kWarn, ": " + d.reason, out);
      break;
    case core::ClaimAction::kNothing:
      break;
  }
}

void ReservedIp::submit(Job job, std::string why, Effects& out) {
  if (stopped_) return;
  if (busy_) {
    // Coalesce: one job waits at most, and a claim replaces a check.
    if (!queued_ || job == Job::kClaim) queued_ = std::make_pair(job, std::move(why));
    return;
  }
  busy_ = true;
  running_ = job;
  if (job == Job::kClaim) {
    log(LogLevel::kDebug, ": claiming: " + why, out);
    claim_why_ = why;
    claim_current_ = master_;
    out.push_back(StartClaim{std::move(why)});
  } else {
    out.push_back(StartCheck{});
  }
}

void ReservedIp::run_next(Effects& out) {
  busy_ = false;
  if (!queued_) return;
  auto [job, why] = std::move(*queued_);
  queued_.reset();
  if (job == Job::kClaim && !master_) return;
  submit(job, std::move(why), out);
}

void ReservedIp::on_claim(Now now, const ClaimReport& report, Effects& out) {
  ++counters_.claims;
  counters_.last_latency = report.latency;
  ++(report.ok() ? counters_.successes : counters_.failures);
  if (report.ok()) {
    last_claim_ = util::iso8601(now.wall);
    last_failure_.reset();
    backoff_.on_success();
    holder_ = kThisNode;
    out.push_back(Log{LogLevel::kInfo, "reserved IP " + address_ + " (" + provider_ + "): " +
                                           to_string(report.outcome) + " in " +
                                           ms(report.latency) + " ms after " +
                                           std::to_string(report.attempts) +
                                           " assign request(s), " + claim_why_ + ": " +
                                           report.detail});
    if (!master_) {
      log(LogLevel::kWarn,
          ": claimed, but this node is no longer MASTER; the master takes it over after its "
          "hold-off",
          out);
    }
  } else {
    last_failure_ = report.detail;
    out.push_back(Log{LogLevel::kError, "reserved IP " + address_ + " (" + provider_ +
                                            "): claim failed after " + ms(report.latency) +
                                            " ms: " + report.detail});
    // No claim can succeed now (the Node puts itself in FAULT and leaves MASTER next): a
    // claim waiting behind this one must not start first.
    if (report.permanent && queued_ && queued_->first == Job::kClaim) queued_.reset();
  }
  const auto decision = policy_.on_claim(now.steady, report.ok(), report.permanent);
  if (!report.ok() && decision.action == core::ClaimAction::kClaim) {
    // Not at once: the provider already retried within its claim (a rate limit, an outage);
    // asking again straight away only adds load. A queued claim waits for the retry too.
    if (queued_ && queued_->first == Job::kClaim) queued_.reset();
    const auto wait = backoff_.on_failure();
    log(LogLevel::kWarn,
        ": next claim attempt in " + ms(wait) + " ms (" + std::to_string(backoff_.failures()) +
            " failed in a row)",
        out);
    if (!stopped_) retry_at_ = now.steady + std::chrono::duration_cast<core::Duration>(wait);
    run_next(out);
    return;
  }
  run_next(out);
  act(decision, out);
}

void ReservedIp::on_check(core::Time now, const HolderReport& report, Effects& out) {
  core::HolderView view;
  if (report.error) {
    view.kind = core::HolderView::Kind::kFailed;
    view.holder = *report.error;
  } else {
    view.locked = report.locked;
    if (report.ours) {
      holder_ = kThisNode;
      view.kind = core::HolderView::Kind::kUs;
    } else if (report.holder) {
      holder_ = report.holder;
      view.kind = core::HolderView::Kind::kOther;
      view.holder = *report.holder;
    } else {
      holder_.reset();
      view.kind = core::HolderView::Kind::kNobody;
    }
  }
  const auto decision = policy_.on_check(now, view);
  run_next(out);
  act(decision, out);
}

void ReservedIp::on_timer(core::Time now, Effects& out) {
  if (!started_ || stopped_) return;
  if (retry_at_ && now >= *retry_at_) {
    retry_at_.reset();
    if (master_) {
      submit(Job::kClaim,
             "retrying after a failed claim (" + std::to_string(backoff_.failures()) +
                 " in a row)",
             out);
    }
  }
  if (now >= policy_.next_check()) act(policy_.on_timer(now), out);
}

std::optional<core::Time> ReservedIp::next_deadline() const {
  if (!started_ || stopped_) return std::nullopt;
  if (retry_at_) return std::min(*retry_at_, policy_.next_check());
  return policy_.next_check();
}

control::ReservedIpStatus ReservedIp::status(core::Time now) const {
  control::ReservedIpStatus s;
  s.address = address_;
  s.provider = provider_;
  s.holder = holder_;
  s.last_claim = last_claim_;
  if (last_failure_) {
    std::string text = "failed: " + *last_failure_;
    if (retry_at_) {
      // Whole seconds, rounded up: "in 0s" would read as "now" while it is still waiting.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*retry_at_ - now);
      const auto secs = std::max<std::int64_t>((left.count() + 999) / 1000, 1);
      text += "; next attempt in " + std::to_string(secs) + "s";
    }
    s.last_claim = std::move(text);
  }
  return s;
}

std::optional<std::string> ReservedIp::restart_blocker() const {
  if ((busy_ && running_ == Job::kClaim) || (queued_ && queued_->first == Job::kClaim)) {
    return "a claim of the reserved IP " + address_ + " is in progress; try again when it has reported";
  }
  return std::nullopt;
}

ReservedIpSnapshot ReservedIp::snapshot() const {
  ReservedIpSnapshot s;
  s.policy = policy_.snapshot();
  s.backoff_failures = backoff_.failures();
  s.backoff_last = backoff_.last();
  s.started = started_;
  s.master = master_;
  s.check_pending = busy_ || queued_.has_value();
  s.retry_at = retry_at_;
  s.holder = holder_;
  s.last_claim = last_claim_;
  s.last_failure = last_failure_;
  s.counters = counters_;
  return s;
}

void ReservedIp::restore(core::Time /*now*/, const ReservedIpSnapshot& s, Effects& out) {
  policy_.restore(s.policy);
  backoff_.restore(s.backoff_failures, s.backoff_last);
  started_ = s.started;
  master_ = s.master;
  retry_at_ = s.retry_at;
  holder_ = s.holder;
  last_claim_ = s.last_claim;
  last_failure_ = s.last_failure;
  counters_ = s.counters;
  busy_ = false;
  queued_.reset();
  if (s.check_pending) submit(Job::kCheck, "after a restart in place", out);
}

}  // namespace failoverd::node
