// Random scenarios for the simulator and the invariants every run must keep.
//
// A scenario has a disturbed phase (staggered starts, crashes, restarts, graceful shutdowns,
// faults, priority changes, partitions, loss) and then a quiet phase from `quiet_from` on: the
// network is healed and lossless and nothing else happens. Invariants:
//  - convergence: from settled_at = max(quiet_from, last (re)start or fault clear +
//    preempt_delay) + Master_Down_Interval (max over nodes) + one advert interval + the
//    maximum delay, no node changes state again and exactly one running, healthy node is
//    MASTER (none when there is no such node). With preempt it has the highest effective
//    priority among them. Ties are not broken by address here: a BACKUP accepts an advert of
//    equal priority, so of two tied nodes the one that became MASTER first stays MASTER.
//  - overlap: while every advert arrives (no loss, no partition and no priority change since
//    a Master_Down_Interval + an advert interval + the maximum delay before the overlap
//    began, nor during it), two nodes are never both MASTER for longer than the maximum
//    delay. Twice that when the nodes advertise different intervals (a node that starts with
//    a shorter interval than the master's takes over before it first hears it) or when the
//    network reorders (a stale priority 0 that arrives after the new master's first advert
//    sets a backup's timer to Skew_Time, as RFC 5798 says it must): the master answers the
//    intruder's advert at once, so it steps down one round trip after taking over.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "failoverd/sim/simulator.h"

namespace failoverd::sim {

struct Scenario {
  std::uint64_t seed = 0;
  std::vector<core::Params> nodes;
  NetworkConfig net;
  std::vector<ScriptedEvent> events;
  Time quiet_from{0};
  Time end{0};
  std::string summary;  // one line: what kind of run this is

  std::string describe() const;  // summary, nodes and the script, for failure messages
};

// A reproducible scenario: the same seed gives the same scenario.
Scenario random_scenario(std::uint64_t seed);

struct Verdict {
  std::vector<std::string> violations;
  Duration longest_overlap{0};  // the longest overlap of two MASTERs the overlap rule checked
  Duration overlap_bound{0};
  int overlaps_checked = 0;
  int overlaps_excused = 0;  // began or lasted while adverts were lost
  Time settled_at{0};

  bool ok() const { return violations.empty(); }
};

Duration max_master_down_interval(const std::vector<core::Params>& nodes);
Duration max_advert_interval(const std::vector<core::Params>& nodes);

// Checks a finished run of `s` (the simulator must have run until s.end).
Verdict check(const Scenario& s, const Simulator& sim);

// Runs `s` on a fresh simulator seeded with s.seed and checks it. `sim_out`, when given,
// receives the simulator for inspection.
Verdict run_and_check(const Scenario& s, Simulator* sim_out = nullptr);

}  // namespace failoverd::sim
