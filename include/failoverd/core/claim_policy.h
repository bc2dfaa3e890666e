// core::ClaimPolicy: when a node claims its reserved address (a cloud IP that only one host can
// hold at a time), as a pure state machine. Events come in with the time they happened; a
// decision comes out, and next_check() says when the holder should be looked at again. No I/O:
// the daemon's node::ReservedIp and the simulator's cloud witness drive it the same way.
//
// The provider's assignment is the witness of a split (docs/split-brain.md):
//   1. every transition to MASTER claims (idempotent when the address is already ours);
//   2. a MASTER that hears a lower-priority advert (a split healing) claims, at most once per
//      check_interval while such adverts keep coming;
//   3. every check_interval the holder is checked, as MASTER and as BACKUP (status shows it);
//      a MASTER claims an address that nobody holds;
//   4. a MASTER that finds the address on another node takes it only after that node has held
//      it, unchanged, for its hold-off. The hold-off starts at `hold_off` and doubles every
//      time the address is taken from this MASTER during one episode (a MASTER stretch without
//      a lower-priority advert), up to `max_hold_off`. Two live MASTERs of a split therefore
//      move the address at growing intervals (H, H, 2H, 2H, 4H, ...), never every few
//      seconds, while a MASTER whose peer died (the split-then-crash gap) takes the address
//      within check_interval + its hold-off.
// Not thread-safe: one thread owns a ClaimPolicy.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "failoverd/core/timing.h"

namespace failoverd::core {

struct ClaimPolicyParams {
  Duration check_interval = std::chrono::seconds(30);  // [reserved_ip] reconcile_interval
  Duration hold_off = std::chrono::seconds(90);        // H: 3 × check_interval
  Duration max_hold_off = std::chrono::seconds(360);   // 4 × H

  // The defaults derived from the reconcile interval: H = 3 R, max = 4 H.
  static ClaimPolicyParams for_check_interval(Duration check_interval);
};

// What a holder check found.
struct HolderView {
  enum class Kind : std::uint8_t {
    kUs,      // this node holds it
    kNobody,  // unassigned
    kOther,   // another node (`holder`) holds it
    kFailed,  // the check did not get an answer
  };
  Kind kind = Kind::kFailed;
  std::string holder;   // kOther: the provider's id of the holder; kFailed: the error
  bool locked = false;  // the provider has an action pending on it
};

enum class ClaimAction : std::uint8_t {
  kNothing,
  kClaim,   // claim the address now (the provider's claim is idempotent)
  kCheck,   // ask the provider who holds it
  kReport,  // nothing to do, but `reason` is worth a warning (held elsewhere as MASTER)
};
const char* to_string(ClaimAction a);  // "nothing", "claim", "check", "report"

struct ClaimDecision {
  ClaimAction action = ClaimAction::kNothing;
  std::string reason;  // one line for the log: why

  bool operator==(const ClaimDecision&) const = default;
};

// A ClaimPolicy's state without its params, for a restart in place (see InstanceSnapshot).
struct ClaimPolicySnapshot {
  bool master = false;
  Time next_check{0};
  Time episode_start{0};
  int losses = 0;
  std::optional<Time> last_loss;
  bool had_it = false;
  std::optional<std::string> foreign;
  std::optional<Time> foreign_since;
  std::optional<Time> last_advert_claim;

  bool operator==(const ClaimPolicySnapshot&) const = default;
};

class ClaimPolicy {
 public:
  // Not MASTER; the first check is due at `now` (so status shows the holder early).
  ClaimPolicy(ClaimPolicyParams params, Time now);

  ClaimDecision became_master(Time now);
  ClaimDecision left_master(Time now);
  ClaimDecision heard_lower_priority(Time now);
  // The answer of a check (asked for with kCheck, or any other look at the holder).
  ClaimDecision on_check(Time now, const HolderView& view);
  // The report of a claim: `ok` (ours now, or already was), else whether retrying can help.
  ClaimDecision on_claim(Time now, bool ok, bool permanent);
  // kCheck once next_check() has come; calling it early is harmless.
  ClaimDecision on_timer(Time now);

  ClaimPolicySnapshot snapshot() const;
  // Resumes at `s`, under this policy's params.
  void restore(const ClaimPolicySnapshot& s);

  Time next_check() const { return next_check_; }
  bool master() const { return master_; }
  // Times the address was taken from this MASTER in the current episode.
  int losses() const { return losses_; }
  Time episode_start() const { return episode_start_; }
  // The hold-off now in force, and when the current foreign holder may be taken (nullopt:
  // the address is not known to be on another node, or we are not MASTER).
  Duration current_hold_off() const { return hold_off_for(losses_); }
  std::optional<Time> takeover_at() const;
  const ClaimPolicyParams& params() const { return params_; }

  // The hold-off after `losses` losses: H for 0 and 1, then doubling, at most max_hold_off.
  Duration hold_off_for(int losses) const;
  // The most times one MASTER can take the address from another node in an episode of
  // length `d` (its n-th take-over is at least hold_off_for(0) + ... + hold_off_for(n-1)
  // after the episode began).
  int max_takeovers(Duration d) const;

 private:
  void schedule_check(Time now);

  ClaimPolicyParams params_;
  bool master_ = false;
  Time next_check_{0};
  Time episode_start_{0};
  int losses_ = 0;
  std::optional<Time> last_loss_;
  bool had_it_ = false;                   // the last thing we knew: the address was ours
  std::optional<std::string> foreign_;    // the other holder we last saw
  std::optional<Time> foreign_since_;     // when we first saw it there (MASTER only)
  std::optional<Time> last_advert_claim_;  // rule 2's rate limit
};

}  // namespace failoverd::core
