// Keeps the [reserved_ip] on this node while it is MASTER. Provider calls block (HTTP with
// retries, polling an action), so they run one at a time on a worker thread of their own and
// post their report back to the loop; everything else runs on the loop thread.
//
// When to claim is decided by core::ClaimPolicy (docs/split-brain.md): every transition to
// MASTER claims; a lower-priority advert heard as MASTER claims; the holder is checked every
// reconcile_interval as MASTER and as BACKUP (status shows it); a MASTER claims an address
// nobody holds, and takes one held by another node only after that node has kept it for the
// hold-off (3 × reconcile_interval, doubling each time it is taken from us in one episode, at
// most 12 × reconcile_interval). This keeper only carries the decisions out.
#pragma once

#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/logger.h>

#include "failoverd/cloud/provider.h"
#include "failoverd/control/control_protocol.h"
#include "failoverd/core/claim_policy.h"

namespace failoverd::daemon {

// The wait before a failed claim is tried again, whatever the provider: each provider retries
// inside one claim, but a claim that still fails must not be repeated at once (a rate-limited
// API answered ~40 claims a second that way). 1 s, doubling to 30 s; a success resets it.
class ClaimBackoff {
 public:
  explicit ClaimBackoff(std::chrono::milliseconds initial = std::chrono::seconds(1),
                        std::chrono::milliseconds max = std::chrono::seconds(30))
      : initial_(initial), max_(std::max(max, initial)) {}
  // A claim failed: the wait before the next one.
  std::chrono::milliseconds on_failure() {
    last_ = failures_ == 0 ? initial_ : std::min(last_ * 2, max_);
    ++failures_;
    return last_;
  }
  void on_success() { failures_ = 0; }
  int failures() const { return failures_; }  // in a row

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds last_{0};  // the last wait handed out
  int failures_ = 0;
};

class ReservedIpKeeper {
 public:
  using MakeProvider = std::function<std::unique_ptr<cloud::ReservedAddressProvider>()>;
  // Called on the loop thread when a claim fails in a way retrying cannot fix (a wrong
  // token); may be empty (the daemon reads permanent_failure() from the report instead).
  using OnPermanentFailure = std::function<void(const std::string& why)>;
  // Called on the loop thread with every claim report (the master hook waits for the first).
  using OnClaimReport = std::function<void(const cloud::ClaimReport& report)>;

  // `make_provider` runs on the worker thread, which then owns the provider. A claim that
  // fails (not permanently) is tried again after `backoff`'s wait, and no other claim runs
  // before then; status() says so.
  ReservedIpKeeper(boost::asio::io_context& io, std::string address, std::string provider_name,
                   std::chrono::milliseconds reconcile_interval, MakeProvider make_provider,
                   std::shared_ptr<spdlog::logger> log, OnPermanentFailure on_permanent_failure,
                   OnClaimReport on_claim_report = {}, ClaimBackoff backoff = ClaimBackoff());
  ~ReservedIpKeeper();  // waits for a call in flight (bounded by the provider's deadline)
  ReservedIpKeeper(const ReservedIpKeeper&) = delete;
  ReservedIpKeeper& operator=(const ReservedIpKeeper&) = delete;

  void became_master();
  void left_master();
  void heard_lower_priority_master();
  void stop();

  // last_claim: the ISO-8601 time of the last successful claim; after a failed one
  // "failed: <detail>; next attempt in 4s" (or without the next attempt when none is due).
  control::ReservedIpStatus status() const;

  struct Counters {
    std::uint64_t claims = 0;  // claims that ran to a report
    std::uint64_t successes = 0;
    std::uint64_t failures = 0;
    std::chrono::milliseconds last_latency{0};
  };
  const Counters& counters() const { return counters_; }

 private:
  enum class Job { kClaim, kCheck };
  static core::Time now();
  void act(const core::ClaimDecision& d);
  void submit(Job job, std::string why);
  void run_next();
  void on_claim(const cloud::ClaimReport& report, const std::string& why);
  void on_check(const cloud::CloudResult<cloud::HolderStatus>& status);
  void arm_timer();
  void arm_retry(std::chrono::milliseconds wait);

  boost::asio::io_context& io_;
  std::string address_;
  std::string provider_name_;
  std::chrono::milliseconds reconcile_interval_;
  std::shared_ptr<spdlog::logger> log_;
  OnPermanentFailure on_permanent_failure_;
  OnClaimReport on_claim_report_;
  boost::asio::steady_timer check_timer_;  // armed for policy_.next_check()
  boost::asio::steady_timer retry_timer_;  // armed after a failed claim
  ClaimBackoff backoff_;
  // Set while a failed claim waits for its retry: when it is due.
  std::optional<std::chrono::steady_clock::time_point> retry_at_;
  boost::asio::thread_pool worker_{1};
  std::shared_ptr<std::unique_ptr<cloud::ReservedAddressProvider>> provider_;  // worker only
  MakeProvider make_provider_;
  std::shared_ptr<bool> alive_;

  core::ClaimPolicy policy_;
  bool master_ = false;
  bool busy_ = false;
  std::optional<std::pair<Job, std::string>> queued_;  // at most one job waits; a claim wins
  std::optional<std::string> holder_;
  std::optional<std::string> last_claim_;  // ISO-8601 time of the last successful claim
  std::optional<std::string> last_error_;
  std::optional<std::string> last_failure_;  // detail of the last claim, when it failed
  Counters counters_;
};

}  // namespace failoverd::daemon
