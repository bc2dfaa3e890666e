#include "failoverd/daemon/reserved_ip.h"

#include <algorithm>
#include <cstdint>
#include <ctime>

#include <boost/asio/post.hpp>

#include "failoverd/util/time_format.h"

namespace failoverd::daemon {

namespace asio = boost::asio;

ReservedIpKeeper::ReservedIpKeeper(asio::io_context& io, std::string address,
                                   std::string provider_name,
                                   std::chrono::milliseconds reconcile_interval,
                                   MakeProvider make_provider, std::shared_ptr<spdlog::logger> log,
                                   OnPermanentFailure on_permanent_failure,
                                   OnClaimReport on_claim_report, ClaimBackoff backoff)
    : io_(io),
      address_(std::move(address)),
      provider_name_(std::move(provider_name)),
      reconcile_interval_(reconcile_interval),
      log_(std::move(log)),
      on_permanent_failure_(std::move(on_permanent_failure)),
      on_claim_report_(std::move(on_claim_report)),
      check_timer_(io),
      retry_timer_(io),
      backoff_(backoff),
      provider_(std::make_shared<std::unique_ptr<cloud::ReservedAddressProvider>>()),
      make_provider_(std::move(make_provider)),
      alive_(std::make_shared<bool>(true)),
      policy_(core::ClaimPolicyParams::for_check_interval(
                  std::chrono::duration_cast<core::Duration>(reconcile_interval)),
              now()) {
  const auto& p = policy_.params();
  log_->debug("reserved IP {}: checks every {} ms; a holder other than this MASTER is taken "
              "over after {} ms (doubling per loss, at most {} ms)",
              address_, reconcile_interval_.count(),
              std::chrono::duration_cast<std::chrono::milliseconds>(p.hold_off).count(),
              std::chrono::duration_cast<std::chrono::milliseconds>(p.max_hold_off).count());
  arm_timer();  // the first check is due now: status shows the holder early
}

ReservedIpKeeper::~ReservedIpKeeper() {
  stop();
  worker_.join();
}

core::Time ReservedIpKeeper::now() {
  return std::chrono::duration_cast<core::Time>(
      std::chrono::steady_clock::now().time_since_epoch());
}

void ReservedIpKeeper::stop() {
  *alive_ = false;
  check_timer_.cancel();
  retry_timer_.cancel();
}

void ReservedIpKeeper::became_master() {
  master_ = true;
  act(policy_.became_master(now()));
}

void ReservedIpKeeper::left_master() {
  master_ = false;
  // A queued claim would act for a MASTER we no longer are; a call in flight cannot be
  // stopped, and its report is only logged. A queued check may stay.
  if (queued_ && queued_->first == Job::kClaim) queued_.reset();
  // A pending retry is a MASTER's too. The backoff itself stays: a node that flaps between
  // MASTER and BACKUP while claims fail must not claim faster for it.
  retry_timer_.cancel();
  retry_at_.reset();
  act(policy_.left_master(now()));
}

void ReservedIpKeeper::heard_lower_priority_master() {
  act(policy_.heard_lower_priority(now()));
}

void ReservedIpKeeper::act(const core::ClaimDecision& d) {
  switch (d.action) {
    case core::ClaimAction::kClaim:
      if (retry_at_) {
        // A failed claim waits for its retry; claiming sooner (a reconcile that finds nobody
        // holding it) would undo the backoff. The retry claims anyway.
        log_->debug("reserved IP {}: not claiming now ({}): the retry after a failure is due "
                    "first",
                    address_, d.reason);
        break;
      }
      submit(Job::kClaim, d.reason);
      break;
    case core::ClaimAction::kCheck:
      submit(Job::kCheck, d.reason);
      break;
    case core::ClaimAction::kReport:
      log_->warn("reserved IP {}: {}", address_, d.reason);
      break;
    case core::ClaimAction::kNothing:
      break;
  }
  arm_timer();
}

void ReservedIpKeeper::submit(Job job, std::string why) {
  if (!*alive_) return;
  if (busy_) {
    // Coalesce: one job waits at most, and a claim replaces a check.
    if (!queued_ || job == Job::kClaim) queued_ = std::make_pair(job, std::move(why));
    return;
  }
  busy_ = true;
  auto provider = provider_;
  auto make = make_provider_;
  auto alive = alive_;
  if (job == Job::kClaim) {
    log_->debug("reserved IP {}: claiming: {}", address_, why);
    asio::post(worker_, [this, provider, make, alive, why = std::move(why)] {
      if (!*provider) *provider = make();
      cloud::ClaimReport report = (*provider)->claim();
      asio::post(io_, [this, alive, report = std::move(report), why] {
        if (*alive) on_claim(report, why);
      });
    });
  } else {
    asio::post(worker_, [this, provider, make, alive] {
      if (!*provider) *provider = make();
      auto status = (*provider)->status();
      asio::post(io_, [this, alive, status = std::move(status)] {
        if (*alive) on_check(status);
      });
    });
  }
}

void ReservedIpKeeper::run_next() {
  busy_ = false;
  if (!queued_) return;
  auto [job, why] = std::move(*queued_);
  queued_.reset();
  if (job == Job::kClaim && !master_) return;
  submit(job, std::move(why));
}

void ReservedIpKeeper::on_claim(const cloud::ClaimReport& report, const std::string& why) {
  ++counters_.claims;
  counters_.last_latency = report.latency;
  ++(report.ok() ? counters_.successes : counters_.failures);
  if (report.ok()) {
    last_claim_ = util::iso8601(std::chrono::system_clock::now());
    last_error_.reset();
    last_failure_.reset();
    backoff_.on_success();
    holder_ = "this node";
    log_->info("reserved IP {} ({}): {} in {} ms after {} assign request(s), {}: {}", address_,
               provider_name_, cloud::to_string(report.outcome), report.latency.count(),
               report.attempts, why, report.detail);
    if (!master_) {
      log_->warn("reserved IP {}: claimed, but this node is no longer MASTER; the master takes "
                 "it over after its hold-off",
                 address_);
    }
  } else {
    last_error_ = report.detail;
    last_failure_ = report.detail;
    log_->error("reserved IP {} ({}): claim failed after {} ms: {}", address_, provider_name_,
                report.latency.count(), report.detail);
    if (report.permanent_failure() && on_permanent_failure_) {
      on_permanent_failure_("reserved IP " + address_ + ": " + report.detail);
    }
  }
  const auto decision = policy_.on_claim(now(), report.ok(), report.permanent_failure());
  if (on_claim_report_) on_claim_report_(report);
  if (!report.ok() && decision.action == core::ClaimAction::kClaim) {
    // Not at once: the provider already retried within its claim (a rate limit, an outage);
    // asking again straight away only adds load. A queued claim waits for the retry too.
    if (queued_ && queued_->first == Job::kClaim) queued_.reset();
    const auto wait = backoff_.on_failure();
    log_->warn("reserved IP {}: next claim attempt in {} ms ({} failed in a row)", address_,
               wait.count(), backoff_.failures());
    arm_retry(wait);
    run_next();
    arm_timer();
    return;
  }
  run_next();
  act(decision);
}

void ReservedIpKeeper::arm_retry(std::chrono::milliseconds wait) {
  if (!*alive_) return;
  retry_at_ = std::chrono::steady_clock::now() + wait;
  retry_timer_.expires_after(wait);
  retry_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    retry_at_.reset();
    if (!master_) return;
    submit(Job::kClaim, "retrying after a failed claim (" +
                            std::to_string(backoff_.failures()) + " in a row)");
  });
}

void ReservedIpKeeper::on_check(const cloud::CloudResult<cloud::HolderStatus>& status) {
  core::HolderView view;
  if (!status) {
    last_error_ = status.error().message;
    view.kind = core::HolderView::Kind::kFailed;
    view.holder = status.error().message;
  } else {
    view.locked = status->locked;
    if (status->ours) {
      holder_ = "this node";
      view.kind = core::HolderView::Kind::kUs;
    } else if (status->holder) {
      holder_ = status->holder;
      view.kind = core::HolderView::Kind::kOther;
      view.holder = *status->holder;
    } else {
      holder_.reset();
      view.kind = core::HolderView::Kind::kNobody;
    }
  }
  const auto decision = policy_.on_check(now(), view);
  run_next();
  act(decision);
}

void ReservedIpKeeper::arm_timer() {
  if (!*alive_) return;
  const auto delay = policy_.next_check() - now();
  check_timer_.expires_after(std::max(delay, core::Duration{0}));
  check_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    act(policy_.on_timer(now()));
  });
}

control::ReservedIpStatus ReservedIpKeeper::status() const {
  control::ReservedIpStatus s;
  s.address = address_;
  s.provider = provider_name_;
  s.holder = holder_;
  s.last_claim = last_claim_;
  if (last_failure_) {
    std::string text = "failed: " + *last_failure_;
    if (retry_at_) {
      // Whole seconds, rounded up: "in 0s" would read as "now" while it is still waiting.
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *retry_at_ - std::chrono::steady_clock::now());
      const auto secs = std::max<std::int64_t>((left.count() + 999) / 1000, 1);
      text += "; next attempt in " + std::to_string(secs) + "s";
    }
    s.last_claim = std::move(text);
  }
  return s;
}

}  // namespace failoverd::daemon
