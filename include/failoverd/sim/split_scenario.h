// Random split-brain scenarios for the simulator with a cloud witness (sim/cloud_witness.h),
// and the invariants of docs/split-brain.md that every run must keep:
//  - ladder: a MASTER's n-th take-over from another holder in one episode comes at least
//    hold_off_for(0) + ... + hold_off_for(n-1) after the episode began (never a fight every
//    few seconds);
//  - fight: during a partition of length D the address changes hands at most
//    2 + T + A + (nodes) × max_takeovers(D) times, T the transitions to MASTER and A the
//    changes made for a lower-priority advert in it (none in a clean split of two nodes);
//  - recovery: when the holder is crashed while another node is MASTER, the address leaves the
//    dead node within check_interval + hold_off_for(losses + 1) + slack, losses being the
//    survivor's at the crash (slack = 2 checks + 2 claims at the longest API latency);
//  - quiet: once the network is healed and the election has settled, the address ends on the
//    single MASTER within check_interval + max_hold_off + slack and stays there;
//  plus every invariant of sim/scenario.h for the VRRP side.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "failoverd/sim/cloud_witness.h"
#include "failoverd/sim/scenario.h"

namespace failoverd::sim {

struct SplitScenario {
  Scenario base;  // nodes, network, scripted starts, partitions and heals; quiet_from, end
  CloudConfig cloud;
  std::optional<int> initial_holder;
  struct Episode {
    Time from{0};
    Time to{0};  // the heal
  };
  std::vector<Episode> episodes;
  // At each time, whoever holds the address is crashed (if it runs), and restarted
  // `restart_after` later unless that is zero.
  struct HolderCrash {
    Time at{0};
    Duration restart_after{0};
  };
  std::vector<HolderCrash> holder_crashes;

  std::string describe() const;
};

SplitScenario random_split_scenario(std::uint64_t seed);

// The slack the bounds allow for API latency: two checks and two claims at their longest.
Duration api_slack(const CloudConfig& c);
// How long after the holder died a MASTER with `losses` losses has taken the address over.
Duration recovery_bound(const CloudConfig& c, int losses);

struct SplitVerdict {
  std::vector<std::string> violations;
  Verdict vrrp;
  int changes = 0;
  int takeovers = 0;
  int most_changes_in_a_partition = 0;
  int recoveries_checked = 0;
  Duration longest_recovery{0};
  std::string trace;  // scenario, timeline and ownership changes, for failure messages

  bool ok() const { return violations.empty(); }
};

SplitVerdict run_split(const SplitScenario& s);

}  // namespace failoverd::sim
