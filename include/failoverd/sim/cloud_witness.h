// sim::CloudWitness: a cloud reserved address (one holder at a time) beside the simulated
// network, with every node's core::ClaimPolicy driving it the way node::ReservedIp does: one
// API call at a time per node (a claim replaces a queued check), checks every interval, claims
// on the policy's word. The API answers after a random latency; an assign locks the address
// while its action runs and moves it when the action completes; a POST that finds the address
// locked is refused (422) and retried by the claimer. Randomness comes from its own seeded
// generator: the same seeds give the same run.
//
// It installs itself as the simulator's observer: node state changes drive the policies, a
// stopped node's calls in flight are answered to nobody (a request already at the API still
// takes effect, as on the real API).
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "failoverd/core/claim_policy.h"
#include "failoverd/sim/simulator.h"

namespace failoverd::sim {

struct CloudConfig {
  core::ClaimPolicyParams policy = core::ClaimPolicyParams::for_check_interval(
      std::chrono::seconds(2));
  Duration api_min{std::chrono::milliseconds(10)};  // one way, node to API or back
  Duration api_max{std::chrono::milliseconds(200)};
  Duration action_min{std::chrono::milliseconds(0)};  // an assign in progress (locked)
  Duration action_max{std::chrono::milliseconds(1500)};
  Duration locked_retry{std::chrono::milliseconds(500)};  // wait after a 422 before posting again
  int locked_attempts = 4;  // then the claim fails (not permanent: the policy retries)

  // The longest one claim can take: GET, then every POST refused but the last, the action, the
  // answer. Used for the bounds below.
  Duration max_claim() const;
  Duration max_check() const { return 2 * api_max; }
};

// Why a claim was made.
enum class ClaimCause : std::uint8_t { kTransition, kAdvert, kNobody, kTakeover };
const char* to_string(ClaimCause c);

struct OwnershipChange {
  Time at{0};
  std::optional<int> from;  // nullopt: nobody held it
  int to = 0;
  ClaimCause cause = ClaimCause::kTransition;
};

// A claim the policy made against another holder (rule 4), with the ladder it stood on.
struct Takeover {
  Time at{0};
  int node = 0;
  int holder = 0;
  Time episode_start{0};
  int losses = 0;
  Duration hold_off{0};
};

struct WitnessCounters {
  std::uint64_t checks = 0;
  std::uint64_t claims = 0;   // claims started, retries included
  std::uint64_t assigns = 0;  // POSTs that started an action
  std::uint64_t locked = 0;   // POSTs refused because an action was pending
  std::uint64_t claims_by_cause[4] = {0, 0, 0, 0};
};

class CloudWitness {
 public:
  // REQUIRES: `sim` outlives this, and nothing has run yet.
  CloudWitness(Simulator& sim, CloudConfig config, std::uint64_t seed,
               std::optional<int> initial_holder = std::nullopt);
  CloudWitness(const CloudWitness&) = delete;
  CloudWitness& operator=(const CloudWitness&) = delete;

  std::optional<int> holder() const { return holder_; }
  bool locked() const { return locked_; }
  const std::vector<OwnershipChange>& changes() const { return changes_; }
  const std::vector<Takeover>& takeovers() const { return takeovers_; }
  const WitnessCounters& counters() const { return counters_; }
  const CloudConfig& config() const { return config_; }
  // The policy of a running node (nullptr for a stopped one).
  const core::ClaimPolicy* policy(int node) const;
  // One line per change, for failure messages.
  std::string describe_changes() const;

 private:
  enum class Job : std::uint8_t { kCheck, kClaim };
  struct Pending {
    Job job;
    ClaimCause cause;
  };
  struct Node {
    std::optional<core::ClaimPolicy> policy;
    std::uint64_t generation = 0;  // a new process: answers to the old one are dropped
    std::uint64_t timer_generation = 0;
    bool master = false;
    bool busy = false;
    std::optional<Pending> queued;
  };

  void on_timeline(const TimelineEntry& e);
  void act(int node, const core::ClaimDecision& d, ClaimCause cause);
  void submit(int node, Pending p);
  void run_next(int node);
  void arm(int node);
  void start_check(int node);
  void start_claim(int node, ClaimCause cause);
  void post_assign(int node, std::uint64_t generation, ClaimCause cause, int attempt);
  void finish_claim(int node, std::uint64_t generation, bool ok, ClaimCause cause);
  bool alive(int node, std::uint64_t generation) const;
  Duration one_way();
  Duration draw(Duration lo, Duration hi);

  Simulator& sim_;
  CloudConfig config_;
  std::mt19937_64 rng_;
  std::vector<Node> nodes_;
  std::optional<int> holder_;
  bool locked_ = false;
  std::vector<OwnershipChange> changes_;
  std::vector<Takeover> takeovers_;
  WitnessCounters counters_;
};

}  // namespace failoverd::sim
