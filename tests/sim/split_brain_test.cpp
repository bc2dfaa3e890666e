// Split brain with a cloud witness: the claim policy of docs/split-brain.md driven by several
// simulated nodes against a simulated reserved address. Hand-written scenarios with exact
// expectations, then many random seeds checked against the invariants of split_scenario.h.
//
// FAILOVERD_SPLIT_SEED=N runs only seed N (and prints its trace);
// FAILOVERD_SPLIT_SEEDS=N changes how many seeds the random test runs.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "failoverd/sim/cloud_witness.h"
#include "failoverd/sim/split_scenario.h"

namespace failoverd::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using K = ScriptedEvent::Kind;

core::Params node_params(std::uint8_t priority, std::uint8_t octet) {
  core::Params p;
  p.priority = priority;
  p.advert_interval = seconds(1);
  p.primary_address = util::Ipv4::from_octets(10, 0, 0, octet);
  return p;
}

ScriptedEvent at(Duration t, K kind, int node = 0) {
  return make_event(Time{t}, kind, node);
}

ScriptedEvent partition(Duration t, std::vector<int> groups) {
  ScriptedEvent e = at(t, K::Partition);
  e.groups = std::move(groups);
  return e;
}

// R = 2s: H = 6s, max = 24s. API 10..200ms one way, actions up to 1.5s.
CloudConfig cloud() {
  return CloudConfig{};
}

struct World {
  Simulator sim;
  CloudWitness witness;
  World(std::vector<core::Params> nodes, std::optional<int> holder = std::nullopt)
      : sim(11, std::move(nodes), NetworkConfig{Duration{1000}, Duration{5000}, 0.0}),
        witness(sim, cloud(), 11, holder) {}
  std::string trace() const {
    return "timeline:\n" + format_timeline(sim.timeline()) + "holders:\n" +
           witness.describe_changes();
  }
  int changes_between(Duration from, Duration to) const {
    int n = 0;
    for (const auto& c : witness.changes()) n += c.at >= Time{from} && c.at < Time{to};
    return n;
  }
};

// node0 (200) becomes MASTER and holds the address; node1 (100) is BACKUP.
struct TwoNodes : World {
  TwoNodes() : World({node_params(200, 2), node_params(100, 1)}) {
    sim.schedule(at(seconds(0), K::Start, 0));
    sim.schedule(at(seconds(0), K::Start, 1));
  }
};

TEST(SimulatorHooks, CallsRunInTimeOrderAndObserversSeeTransitions) {
  Simulator sim(1, {node_params(200, 2)}, NetworkConfig{});
  std::vector<std::string> seen;
  Simulator::Observer o;
  o.on_timeline = [&](const TimelineEntry& e) {
    seen.push_back(format_time(e.time) + " " + core::to_string(e.state));
  };
  sim.set_observer(o);
  sim.call_at(Time{seconds(5)}, [&] { seen.push_back("call at " + format_time(sim.now())); });
  sim.call_at(Time{seconds(1)}, [&] {
    seen.push_back("call at " + format_time(sim.now()));
    sim.call_at(Time{seconds(2)}, [&] { seen.push_back("nested at " + format_time(sim.now())); });
  });
  sim.schedule(at(seconds(0), K::Start, 0));
  sim.run_until(Time{seconds(6)});
  ASSERT_GE(seen.size(), 5u);
  EXPECT_EQ(seen[0], "0.000000s BACKUP");
  EXPECT_EQ(seen[1], "call at 1.000000s");
  EXPECT_EQ(seen[2], "nested at 2.000000s");
  EXPECT_EQ(seen[3], "3.218750s MASTER");  // Master_Down_Interval of priority 200 at 1s
  EXPECT_EQ(seen[4], "call at 5.000000s");
}

TEST(CloudWitness, TheMasterClaimsAndTheBackupOnlyChecks) {
  TwoNodes r;
  r.sim.run_until(Time{seconds(60)});
  ASSERT_EQ(r.witness.changes().size(), 1u) << r.trace();
  EXPECT_EQ(r.witness.changes()[0].to, 0);
  EXPECT_EQ(r.witness.changes()[0].cause, ClaimCause::kTransition);
  EXPECT_EQ(r.witness.holder(), 0);
  EXPECT_EQ(r.witness.counters().assigns, 1u);
  // Both check every 2s: ~30 each.
  EXPECT_GE(r.witness.counters().checks, 50u);
  EXPECT_LE(r.witness.counters().checks, 62u);
  EXPECT_TRUE(r.witness.takeovers().empty());
}

TEST(CloudWitness, ACrashMovesTheAddressOnTheTransition) {
  TwoNodes r;
  r.sim.schedule(at(seconds(20), K::Crash, 0));
  r.sim.run_until(Time{seconds(40)});
  EXPECT_EQ(r.witness.holder(), 1) << r.trace();
  ASSERT_EQ(r.witness.changes().size(), 2u) << r.trace();
  EXPECT_EQ(r.witness.changes()[1].cause, ClaimCause::kTransition);
  EXPECT_LT(r.witness.changes()[1].at, Time{seconds(20) + seconds(4) + cloud().max_claim()});
}

// The old policy's promise kept: a live split does not fight. Over a 120 s split (20 H) the
// two MASTERs move the address at growing intervals, far fewer times than a fixed-period
// fight would, and never twice within one hold-off.
TEST(CloudWitness, ALiveSplitMovesTheAddressAtGrowingIntervals) {
  TwoNodes r;
  r.sim.schedule(partition(seconds(10), {0, 1}));
  r.sim.schedule(at(seconds(130), K::Heal));
  r.sim.run_until(Time{seconds(200)});
  const auto& ch = r.witness.changes();
  const int in_split = r.changes_between(seconds(10), seconds(130));
  const core::ClaimPolicy p(cloud().policy, Time{0});
  // 1 (node1 became MASTER) + each node's take-overs: H, H, 2H, 2H, 4H, 4H, 8H... in 120 s.
  EXPECT_LE(in_split, 1 + 2 * p.max_takeovers(seconds(120))) << r.trace();
  EXPECT_GE(in_split, 3) << "the survivor must not wait forever\n" << r.trace();
  // Gaps between moves in the split grow: no two within H.
  for (std::size_t i = 2; i < ch.size() && ch[i].at < Time{seconds(130)}; ++i) {
    EXPECT_GE(ch[i].at - ch[i - 1].at, p.hold_off_for(1)) << i << "\n" << r.trace();
  }
  // Healed: node0 wins the election and holds it within R + max hold-off.
  EXPECT_EQ(r.sim.masters(), std::vector<int>{0});
  EXPECT_EQ(r.witness.holder(), 0) << r.trace();
  const Duration settle = seconds(5) + cloud().policy.check_interval +
                          cloud().policy.max_hold_off + api_slack(cloud());
  EXPECT_EQ(r.changes_between(seconds(130) + settle, seconds(200)), 0) << r.trace();
}

// The gap of the old policy: split, then the holder (node1, which claimed when it became
// MASTER) dies. node0 takes the address within R + H (+ API time).
TEST(CloudWitness, SplitThenTheHolderDiesTheSurvivorTakesOverWithinTheBound) {
  TwoNodes r;
  r.sim.schedule(partition(seconds(10), {0, 1}));
  r.sim.run_until(Time{seconds(16)});
  ASSERT_EQ(r.witness.holder(), 1) << r.trace();
  r.sim.schedule(at(seconds(16), K::Crash, 1));
  r.sim.run_until(Time{seconds(60)});
  ASSERT_EQ(r.witness.holder(), 0) << r.trace();
  const auto& last = r.witness.changes().back();
  EXPECT_EQ(last.cause, ClaimCause::kTakeover);
  EXPECT_LE(last.at, Time{seconds(16)} + recovery_bound(cloud(), 1)) << r.trace();
  ASSERT_EQ(r.witness.takeovers().size(), 1u);
  EXPECT_EQ(r.witness.takeovers()[0].hold_off, cloud().policy.hold_off);
}

// At the heal the loser hears the winner's advert and steps down. If the winner also heard
// the loser's advert (the loser's timer fired first), it claims at once; if not, it takes the
// address at the end of its hold-off, which the test reads from its policy.
TEST(CloudWitness, AHealedSplitSettlesOnTheWinner) {
  for (const Duration heal : {seconds(14), seconds(40)}) {
    TwoNodes r;
    r.sim.schedule(partition(seconds(10), {0, 1}));
    r.sim.schedule(at(heal, K::Heal));
    r.sim.run_until(Time{heal});
    ASSERT_NE(r.witness.holder(), 0) << "node1 claimed when it became MASTER\n" << r.trace();
    const core::ClaimPolicy* p = r.witness.policy(0);
    ASSERT_TRUE(p);
    const Time by = std::max(p->takeover_at().value_or(Time{heal}), Time{heal}) +
                    cloud().policy.check_interval + api_slack(cloud());
    r.sim.run_until(Time{heal + seconds(60)});
    EXPECT_EQ(r.witness.holder(), 0) << r.trace();
    EXPECT_LE(r.witness.changes().back().at, by) << r.trace();
  }
}

// The winner heard the loser: it claims at once, no hold-off.
TEST(CloudWitness, AWinnerThatHearsTheLoserClaimsAtOnce) {
  TwoNodes r;
  r.sim.schedule(partition(seconds(10), {0, 1}));
  // node1 advertises at 13.83 + k s, node0 at 3.22 + k s: healed at 14.5 s, node1's advert
  // (14.83) reaches node0 before node0's (15.22) makes node1 step down.
  r.sim.schedule(at(milliseconds(14500), K::Heal));
  r.sim.run_until(Time{milliseconds(14500)});
  ASSERT_EQ(r.witness.holder(), 1) << r.trace();
  r.sim.run_until(Time{seconds(30)});
  EXPECT_EQ(r.witness.holder(), 0) << r.trace();
  const auto& last = r.witness.changes().back();
  EXPECT_EQ(last.cause, ClaimCause::kAdvert) << r.trace();
  EXPECT_LE(last.at, Time{seconds(15) + cloud().max_claim()}) << r.trace();
}

TEST(CloudWitness, AThreeWaySplitStaysBoundedAndSettles) {
  World r({node_params(200, 3), node_params(150, 2), node_params(100, 1)});
  for (int i = 0; i < 3; ++i) r.sim.schedule(at(seconds(0), K::Start, i));
  r.sim.schedule(partition(seconds(10), {0, 1, 2}));
  r.sim.schedule(at(seconds(100), K::Heal));
  r.sim.run_until(Time{seconds(200)});
  const core::ClaimPolicy p(cloud().policy, Time{0});
  EXPECT_LE(r.changes_between(seconds(10), seconds(100)), 2 + 3 * p.max_takeovers(seconds(90)))
      << r.trace();
  EXPECT_EQ(r.sim.masters(), std::vector<int>{0});
  EXPECT_EQ(r.witness.holder(), 0) << r.trace();
}

TEST(SplitScenario, TheSameSeedGivesTheSameRun) {
  const SplitScenario s = random_split_scenario(42);
  const SplitVerdict a = run_split(s);
  const SplitVerdict b = run_split(random_split_scenario(42));
  EXPECT_EQ(a.changes, b.changes);
  EXPECT_EQ(a.takeovers, b.takeovers);
  EXPECT_EQ(a.longest_recovery, b.longest_recovery);
  EXPECT_EQ(s.describe(), random_split_scenario(42).describe());
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

TEST(SplitScenario, RandomSeedsKeepEveryInvariant) {
  const int only = env_int("FAILOVERD_SPLIT_SEED", -1);
  const int seeds = env_int("FAILOVERD_SPLIT_SEEDS", 800);
  int failures = 0;
  int recoveries = 0;
  int takeovers = 0;
  int most = 0;
  Duration longest{0};
  for (int seed = only >= 0 ? only : 1; seed <= (only >= 0 ? only : seeds); ++seed) {
    const SplitScenario s = random_split_scenario(static_cast<std::uint64_t>(seed));
    const SplitVerdict v = run_split(s);
    recoveries += v.recoveries_checked;
    takeovers += v.takeovers;
    most = std::max(most, v.most_changes_in_a_partition);
    longest = std::max(longest, v.longest_recovery);
    if (only >= 0) std::printf("%s", (s.describe() + v.trace).c_str());
    if (!v.ok() && ++failures <= 3) {
      std::string why;
      for (const auto& x : v.violations) why += "  " + x + "\n";
      ADD_FAILURE() << "seed " << seed << ":\n" << why << v.trace;
    }
  }
  std::printf("split seeds: %d recoveries checked (longest %s), %d take-overs, at most %d "
              "changes in one partition\n",
              recoveries, format_time(longest).c_str(), takeovers, most);
  EXPECT_EQ(failures, 0);
  if (only < 0) {
    // The seeds must exercise what they claim to.
    EXPECT_GE(recoveries, seeds / 10);
    EXPECT_GE(takeovers, seeds / 5);
  }
}

}  // namespace
}  // namespace failoverd::sim
