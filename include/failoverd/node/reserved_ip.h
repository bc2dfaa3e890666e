// node::ReservedIp: keeps the [reserved_ip] on this node while it is MASTER, as the Node's pure
// part. When to claim or check is decided by core::ClaimPolicy (docs/split-brain.md): every
// transition to MASTER claims; a lower-priority advert heard as MASTER claims; the holder is
// checked every reconcile_interval as MASTER and as BACKUP (status shows it); a MASTER claims
// an address nobody holds, and takes one held by another node only after that node has kept it
// for the hold-off. This class adds what the provider calls need around the policy: one call
// at a time (one more waits, a claim replacing a check), the backoff after a failed claim, the
// status and the counters. The calls themselves are effects (StartClaim, StartCheck) that the
// daemon runs on a worker thread; their reports come back as events.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "failoverd/control/control_protocol.h"
#include "failoverd/core/claim_policy.h"
#include "failoverd/node/effects.h"

namespace failoverd::node {

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
  std::chrono::milliseconds last() const { return last_; }
  // A restart in place carries the backoff over.
  void restore(int failures, std::chrono::milliseconds last) {
    failures_ = std::max(failures, 0);
    last_ = std::clamp(last, std::chrono::milliseconds(0), max_);
  }

 private:
  std::chrono::milliseconds initial_;
  std::chrono::milliseconds max_;
  std::chrono::milliseconds last_{0};  // the last wait handed out
  int failures_ = 0;
};

// A claim of the reserved IP finished (the provider's report, provider-neutral).
struct ClaimReport {
  enum class Outcome : std::uint8_t { kAlreadyHeld, kClaimed, kFailed };
  Outcome outcome = Outcome::kFailed;
  int attempts = 0;  // assign requests sent
  std::chrono::milliseconds latency{0};
  std::string detail;      // one line, never the token
  bool permanent = false;  // a failure retrying cannot fix (a wrong token)
  bool ok() const { return outcome != Outcome::kFailed; }
};
// "already held", "claimed", "failed"
const char* to_string(ClaimReport::Outcome o);

// What a look at the holder found.
struct HolderReport {
  std::optional<std::string> error;   // the check got no answer: why
  std::optional<std::string> holder;  // nullopt = nobody
  bool ours = false;
  bool locked = false;  // the provider has an action pending on it
};

struct ReservedIpCounters {
  std::uint64_t claims = 0;  // claims that ran to a report
  std::uint64_t successes = 0;
  std::uint64_t failures = 0;
  std::chrono::milliseconds last_latency{0};
  bool operator==(const ReservedIpCounters&) const = default;
};

// A ReservedIp's state for a restart in place (see core::InstanceSnapshot).
struct ReservedIpSnapshot {
  core::ClaimPolicySnapshot policy;
  int backoff_failures = 0;
  std::chrono::milliseconds backoff_last{0};
  bool started = false;
  bool master = false;
  // A holder check was out or queued when the snapshot was taken: its answer is lost with the
  // old process, so the restored node asks again.
  bool check_pending = false;
  std::optional<core::Time> retry_at;
  std::optional<std::string> holder;
  std::optional<std::string> last_claim;
  std::optional<std::string> last_failure;
  ReservedIpCounters counters;
  bool operator==(const ReservedIpSnapshot&) const = default;
};

class ReservedIp {
 public:
  // The holder as status shows it when it is this node.
  static constexpr const char* kThisNode = "this node";
  using Counters = ReservedIpCounters;

  ReservedIp(std::string address, std::string provider, core::Duration reconcile_interval,
             ClaimBackoff backoff = ClaimBackoff());

  // The first check is due at once: status shows the holder early.
  void start(core::Time now, Effects& out);
  void became_master(core::Time now, Effects& out);
  // Instead of start(), for a MASTER resumed after a crash that held the address: MASTER
  // again without a claim; the holder is checked at once, and the policy's rules take it
  // from there (an address found elsewhere is taken only after the hold-off).
  void resumed_master(core::Time now, Effects& out);
  void left_master(core::Time now, Effects& out);
  void heard_lower_priority(core::Time now, Effects& out);
  // REQUIRES: a StartClaim was the last call started.
  void on_claim(Now now, const ClaimReport& report, Effects& out);
  // REQUIRES: a StartCheck was the last call started.
  void on_check(core::Time now, const HolderReport& report, Effects& out);
  // Acts on the retry and the check that are due; calling it early is harmless.
  void on_timer(core::Time now, Effects& out);
  // The claim out was started in the current MASTER period (not before the node last left
  // MASTER): only its report tells this period's master hook whether the address is ours.
  bool claim_is_current() const { return busy_ && claim_current_; }
  // Shutting down: no call is started any more.
  void stop() { stopped_ = true; }

  // Why the state cannot be carried over to a new process now: a claim is out or waiting
  // (its outcome would be lost, and claiming again is what a restart in place must not do).
  std::optional<std::string> restart_blocker() const;
  ReservedIpSnapshot snapshot() const;
  // Resumes at `s`; a check that was pending is asked for again (StartCheck), never a claim.
  void restore(core::Time now, const ReservedIpSnapshot& s, Effects& out);

  // The earliest of the next check and a pending retry; nullopt before start() or after stop().
  std::optional<core::Time> next_deadline() const;
  // last_claim: the ISO-8601 time of the last successful claim; after a failed one
  // "failed: <detail>; next attempt in 4s" (or without the next attempt when none is due).
  control::ReservedIpStatus status(core::Time now) const;
  const Counters& counters() const { return counters_; }
  const std::string& address() const { return address_; }
  // The last claim or check said this node holds the address.
  bool holds_address() const { return holder_ == kThisNode; }

 private:
  enum class Job : std::uint8_t { kClaim, kCheck };
  void act(const core::ClaimDecision& d, Effects& out);
  void submit(Job job, std::string why, Effects& out);
  void run_next(Effects& out);
  void log(LogLevel level, std::string line, Effects& out) const;

  std::string address_;
  std::string provider_;
  core::ClaimPolicy policy_;
  ClaimBackoff backoff_;
  bool started_ = false;
  bool stopped_ = false;
  bool master_ = false;
  bool busy_ = false;                                  // a call is out
  Job running_ = Job::kCheck;                          // which, while busy_
  std::string claim_why_;                              // of the last claim started
  bool claim_current_ = false;  // the last claim started is of the current MASTER period
  std::optional<std::pair<Job, std::string>> queued_;  // at most one waits; a claim wins
  // Set while a failed claim waits for its retry: when it is due.
  std::optional<core::Time> retry_at_;
  std::optional<std::string> holder_;
  std::optional<std::string> last_claim_;    // ISO-8601 time of the last successful claim
  std::optional<std::string> last_failure_;  // detail of the last claim, when it failed
  Counters counters_;
};

}  // namespace failoverd::node
