#include "failoverd/daemon/reserved_ip.h"

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
                                   OnClaimReport on_claim_report)
    : io_(io),
      address_(std::move(address)),
      provider_name_(std::move(provider_name)),
      reconcile_interval_(reconcile_interval),
      log_(std::move(log)),
      on_permanent_failure_(std::move(on_permanent_failure)),
      on_claim_report_(std::move(on_claim_report)),
      reconcile_timer_(io),
      provider_(std::make_shared<std::unique_ptr<cloud::ReservedAddressProvider>>()),
      make_provider_(std::move(make_provider)),
      alive_(std::make_shared<bool>(true)) {}

ReservedIpKeeper::~ReservedIpKeeper() {
  stop();
  worker_.join();
}

void ReservedIpKeeper::stop() {
  *alive_ = false;
  reconcile_timer_.cancel();
}

void ReservedIpKeeper::became_master() {
  master_ = true;
  submit(Job::kClaim, "became MASTER");
  arm_reconcile();
}

void ReservedIpKeeper::left_master() {
  master_ = false;
  reconcile_timer_.cancel();
  // A queued job would act for a MASTER we no longer are; a call in flight cannot be
  // stopped, and its report is only logged.
  queued_.reset();
}

void ReservedIpKeeper::heard_lower_priority_master() {
  if (master_) submit(Job::kClaim, "a lower-priority node believed it was master");
}

void ReservedIpKeeper::submit(Job job, std::string why) {
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
  if (!queued_ || !master_) {
    queued_.reset();
    return;
  }
  auto [job, why] = std::move(*queued_);
  queued_.reset();
  submit(job, std::move(why));
}

void ReservedIpKeeper::on_claim(const cloud::ClaimReport& report, const std::string& why) {
  ++counters_.claims;
  counters_.last_latency = report.latency;
  ++(report.ok() ? counters_.successes : counters_.failures);
  if (report.ok()) {
    last_claim_ = util::iso8601(std::chrono::system_clock::now());
    last_error_.reset();
    holder_ = "this node";
    log_->info("reserved IP {} ({}): {} in {} ms after {} assign request(s), {}: {}", address_,
               provider_name_, cloud::to_string(report.outcome), report.latency.count(),
               report.attempts, why, report.detail);
    if (!master_) {
      log_->warn("reserved IP {}: claimed, but this node is no longer MASTER; the new master "
                 "claims it again",
                 address_);
    }
  } else {
    last_error_ = report.detail;
    log_->error("reserved IP {} ({}): claim failed after {} ms: {}", address_, provider_name_,
                report.latency.count(), report.detail);
    if (report.permanent_failure()) {
      on_permanent_failure_("reserved IP " + address_ + ": " + report.detail);
    } else if (master_ && !queued_) {
      // Not permanent: try again until it holds (the client already retried with backoff).
      queued_ = std::make_pair(Job::kClaim, std::string("retrying after a failed claim"));
    }
  }
  if (on_claim_report_) on_claim_report_(report);
  run_next();
}

void ReservedIpKeeper::on_check(const cloud::CloudResult<cloud::HolderStatus>& status) {
  if (!status) {
    last_error_ = status.error().message;
    log_->warn("reserved IP {}: cannot check the holder: {}", address_, status.error().message);
  } else if (status->ours) {
    holder_ = "this node";
  } else {
    holder_ = status->holder;
    if (!status->holder) {
      if (master_ && !status->locked && !queued_) {
        queued_ = std::make_pair(Job::kClaim, std::string("nobody holds it"));
      }
    } else if (master_) {
      log_->warn("reserved IP {} is held by {} while this node is MASTER: another node claimed "
                 "it (a split?); not taking it back until the election says so",
                 address_, *status->holder);
    }
  }
  run_next();
}

void ReservedIpKeeper::arm_reconcile() {
  reconcile_timer_.expires_after(reconcile_interval_);
  reconcile_timer_.async_wait([this, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive || !master_) return;
    submit(Job::kCheck, "reconcile");
    arm_reconcile();
  });
}

control::ReservedIpStatus ReservedIpKeeper::status() const {
  control::ReservedIpStatus s;
  s.address = address_;
  s.provider = provider_name_;
  s.holder = holder_;
  s.last_claim = last_claim_;
  return s;
}

}  // namespace failoverd::daemon
