// The simulator: hand-written scenarios with exact expectations, determinism, and several
// hundred random seeds checked against the invariants of sim/scenario.h.
//
// FAILOVERD_SIM_SEED=N runs only seed N (and prints its scenario and timeline);
// FAILOVERD_SIM_SEEDS=N changes how many seeds the random test runs.
#include "failoverd/sim/simulator.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "failoverd/sim/scenario.h"

namespace failoverd::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using K = ScriptedEvent::Kind;

core::Params node_params(std::uint8_t priority, std::uint8_t octet, Duration interval = seconds(1),
                         bool preempt = true) {
  core::Params p;
  p.priority = priority;
  p.advert_interval = interval;
  p.preempt = preempt;
  p.primary_address = util::Ipv4::from_octets(10, 0, 0, octet);
  return p;
}

NetworkConfig lan() {
  return NetworkConfig{Duration{200}, Duration{2000}, 0.0};
}

ScriptedEvent at(Duration t, K kind, int node = 0, bool flag = false) {
  return make_event(Time{t}, kind, node, flag);
}

// When `node` entered `state` after `after`; nullopt if it did not.
std::optional<Time> entered(const Simulator& sim, int node, core::State state,
                            Time after = Time{0}) {
  for (const auto& e : sim.timeline()) {
    if (e.node == node && e.running && e.state == state && e.time > after) return e.time;
  }
  return std::nullopt;
}

bool ever(const Simulator& sim, int node, core::State state) {
  return entered(sim, node, state, Time{-1}).has_value();
}

// Three nodes at 1 s: node0 200, node1 150, node2 100. All start at 0; node0 wins.
Simulator three_nodes(std::uint64_t seed = 7) {
  Simulator sim(seed, {node_params(200, 3), node_params(150, 2), node_params(100, 1)}, lan());
  for (int i = 0; i < 3; ++i) sim.schedule(at(Duration{0}, K::Start, i));
  return sim;
}

TEST(Scenario, StartupElectsHighestPriority) {
  Simulator sim = three_nodes();
  sim.run_until(Time{seconds(10)});
  EXPECT_EQ(sim.masters(), std::vector<int>{0});
  // node0 takes over after its own Master_Down_Interval and is never contested.
  EXPECT_EQ(entered(sim, 0, core::State::Master),
            Time{core::master_down_interval(200, seconds(1))});
  EXPECT_FALSE(ever(sim, 1, core::State::Master));
  EXPECT_FALSE(ever(sim, 2, core::State::Master));
  EXPECT_TRUE(sim.errors().empty());
}

TEST(Scenario, MasterCrashHighestRemainingTakesOverWithinMasterDownInterval) {
  Simulator sim = three_nodes();
  sim.schedule(at(seconds(20), K::Crash, 0));
  sim.run_until(Time{seconds(40)});
  const auto took = entered(sim, 1, core::State::Master, Time{seconds(20)});
  ASSERT_TRUE(took.has_value()) << format_timeline(sim.timeline());
  // node1 last heard node0 at most one interval (plus delay) before the crash.
  const Duration mdi = core::master_down_interval(150, seconds(1));
  EXPECT_GT(*took, Time{seconds(20)} + mdi - seconds(1));
  EXPECT_LE(*took, Time{seconds(20)} + mdi + lan().delay_max);
  EXPECT_FALSE(ever(sim, 2, core::State::Master)) << format_timeline(sim.timeline());
  EXPECT_EQ(sim.masters(), std::vector<int>{1});
}

TEST(Scenario, GracefulShutdownHandsOverAfterSkewTime) {
  Simulator sim = three_nodes();
  sim.schedule(at(seconds(20), K::Shutdown, 0));
  sim.run_until(Time{seconds(30)});
  const auto took = entered(sim, 1, core::State::Master, Time{seconds(20)});
  ASSERT_TRUE(took.has_value());
  EXPECT_LE(*took, Time{seconds(20)} + lan().delay_max + core::skew_time(150, seconds(1)));
  EXPECT_FALSE(ever(sim, 2, core::State::Master));
  EXPECT_FALSE(sim.running(0));
  EXPECT_EQ(sim.masters(), std::vector<int>{1});
  EXPECT_GT(sim.counters().to_stopped_node, 0u) << "node1's adverts to the stopped node0";
}

TEST(Scenario, RestartedHighestPriorityPreemptsAfterMasterDownInterval) {
  Simulator sim = three_nodes();
  sim.schedule(at(seconds(20), K::Crash, 0));
  sim.schedule(at(seconds(30), K::Start, 0));
  sim.run_until(Time{seconds(45)});
  const auto back = entered(sim, 0, core::State::Master, Time{seconds(30)});
  ASSERT_TRUE(back.has_value());
  // node0 discards node1's lower-priority adverts, so its timer runs out undisturbed.
  EXPECT_EQ(*back, Time{seconds(30)} + core::master_down_interval(200, seconds(1)));
  const auto stepped_down = entered(sim, 1, core::State::Backup, *back);
  ASSERT_TRUE(stepped_down.has_value());
  EXPECT_LE(*stepped_down - *back, lan().delay_max);
  EXPECT_EQ(sim.masters(), std::vector<int>{0});
}

TEST(Scenario, PartitionHealLeavesOneMaster) {
  Simulator sim(
      11, {node_params(200, 3, milliseconds(100)), node_params(100, 1, milliseconds(100))}, lan());
  sim.schedule(at(Duration{0}, K::Start, 0));
  sim.schedule(at(Duration{0}, K::Start, 1));
  ScriptedEvent split = at(seconds(5), K::Partition);
  split.groups = {0, 1};
  sim.schedule(split);
  sim.schedule(at(seconds(15), K::Heal));
  sim.run_until(Time{seconds(14)});
  EXPECT_EQ(sim.masters(), (std::vector<int>{0, 1})) << "each side elects itself";
  sim.run_until(Time{seconds(20)});
  EXPECT_EQ(sim.masters(), std::vector<int>{0});
  const auto down = entered(sim, 1, core::State::Backup, Time{seconds(15)});
  ASSERT_TRUE(down.has_value());
  // node0's next periodic advert or its answer to node1's advert, whichever is first.
  EXPECT_LE(*down, Time{seconds(15)} + milliseconds(100) + lan().delay_max);
  EXPECT_GT(sim.counters().partitioned, 0u);
}

TEST(Scenario, PreemptOffKeepsTheOldMaster) {
  Simulator sim(5, {node_params(200, 3, seconds(1), false), node_params(100, 1, seconds(1), false)},
                lan());
  sim.schedule(at(Duration{0}, K::Start, 1));
  sim.schedule(at(seconds(10), K::Start, 0));
  sim.run_until(Time{seconds(60)});
  EXPECT_EQ(sim.masters(), std::vector<int>{1});
  EXPECT_FALSE(ever(sim, 0, core::State::Master)) << format_timeline(sim.timeline());
  EXPECT_EQ(sim.instance(0)->master(), util::Ipv4::from_octets(10, 0, 0, 1));
}

TEST(Scenario, PreemptOnTakesOverFromTheOldMaster) {
  Simulator sim(5, {node_params(200, 3), node_params(100, 1)}, lan());
  sim.schedule(at(Duration{0}, K::Start, 1));
  sim.schedule(at(seconds(10), K::Start, 0));
  sim.run_until(Time{seconds(60)});
  EXPECT_EQ(sim.masters(), std::vector<int>{0});
}

TEST(Scenario, FaultedMasterResignsAndRecoveredNodePreemptsBack) {
  Simulator sim = three_nodes();
  ScriptedEvent fault = at(seconds(20), K::SetFault, 0, true);
  ScriptedEvent clear = at(seconds(30), K::SetFault, 0, false);
  sim.schedule(fault);
  sim.schedule(clear);
  sim.run_until(Time{seconds(25)});
  EXPECT_EQ(sim.state(0), core::State::Fault);
  const auto took = entered(sim, 1, core::State::Master, Time{seconds(20)});
  ASSERT_TRUE(took.has_value());
  EXPECT_LE(*took, Time{seconds(20)} + lan().delay_max + core::skew_time(150, seconds(1)));
  sim.run_until(Time{seconds(40)});
  EXPECT_EQ(entered(sim, 0, core::State::Master, Time{seconds(30)}),
            Time{seconds(30)} + core::master_down_interval(200, seconds(1)));
  EXPECT_EQ(sim.masters(), std::vector<int>{0});
}

TEST(Scenario, EqualPrioritiesStartingTogetherHigherAddressWins) {
  Simulator sim(3, {node_params(100, 1, milliseconds(30)), node_params(100, 9, milliseconds(30))},
                NetworkConfig{Duration{1000}, Duration{1000}, 0.0});
  sim.schedule(at(Duration{0}, K::Start, 0));
  sim.schedule(at(Duration{0}, K::Start, 1));
  sim.run_until(Time{seconds(2)});
  // Same priority, same start: both time out together, then 10.0.0.9 wins the tie.
  EXPECT_TRUE(ever(sim, 0, core::State::Master));
  EXPECT_EQ(sim.masters(), std::vector<int>{1});
}

TEST(Scenario, PermanentLossIsReportedByTheInvariants) {
  Scenario s;
  s.seed = 99;
  s.nodes = {node_params(200, 3, milliseconds(100)), node_params(100, 1, milliseconds(100))};
  s.net = lan();
  s.events = {at(Duration{0}, K::Start, 0), at(Duration{0}, K::Start, 1)};
  ScriptedEvent lossy = at(Duration{0}, K::SetLoss);
  lossy.loss = 1.0;
  s.events.push_back(lossy);
  s.quiet_from = Time{milliseconds(1)};  // a lie: the loss never ends
  s.end = Time{seconds(10)};
  const Verdict v = run_and_check(s);
  EXPECT_FALSE(v.ok());
  EXPECT_EQ(v.overlaps_checked, 0) << "a lossy overlap is excused, not measured";
  EXPECT_GT(v.overlaps_excused, 0);
  bool two_masters = false;
  for (const auto& m : v.violations) two_masters |= m.find("2 MASTERs") != std::string::npos;
  EXPECT_TRUE(two_masters);
}

TEST(Scenario, ScriptErrorsAreReportedNotFatal) {
  Simulator sim = three_nodes();
  sim.schedule(at(seconds(1), K::Crash, 7));
  ScriptedEvent bad = at(seconds(2), K::Partition);
  bad.groups = {0, 1};
  sim.schedule(bad);
  sim.run_until(Time{seconds(10)});
  EXPECT_EQ(sim.errors().size(), 2u);
  EXPECT_EQ(sim.masters(), std::vector<int>{0});
}

TEST(Invariants, PreemptionOverlapLastsOneDelivery) {
  Scenario s;
  s.seed = 1;
  s.nodes = {node_params(200, 3), node_params(100, 1)};
  s.net = NetworkConfig{milliseconds(1), milliseconds(1), 0.0};
  s.events = {at(Duration{0}, K::Start, 1), at(seconds(10), K::Start, 0)};
  s.quiet_from = Time{seconds(10)};
  s.end = Time{seconds(30)};
  Simulator sim(0, {}, {});
  const Verdict v = run_and_check(s, &sim);
  EXPECT_TRUE(v.ok()) << v.violations.front();
  EXPECT_EQ(v.overlaps_checked, 1);
  EXPECT_EQ(v.longest_overlap, milliseconds(1)) << format_timeline(sim.timeline());
  EXPECT_EQ(v.overlap_bound, milliseconds(1) + Duration{10});
}

TEST(Invariants, ShorterIntervalNodeIntrudesForOneRoundTrip) {
  Scenario s;
  s.seed = 2;
  s.nodes = {node_params(200, 3, seconds(1)), node_params(100, 1, milliseconds(30))};
  s.net = NetworkConfig{milliseconds(1), milliseconds(1), 0.0};
  // node0 is MASTER from 3.21875 s and advertises at .21875 every second; node1 starts just
  // after one of those and times out (108 ms) long before the next.
  s.events = {at(Duration{0}, K::Start, 0), at(milliseconds(10'300), K::Start, 1)};
  s.quiet_from = Time{seconds(11)};
  s.end = Time{seconds(30)};
  Simulator sim(0, {}, {});
  const Verdict v = run_and_check(s, &sim);
  EXPECT_TRUE(v.ok()) << format_timeline(sim.timeline());
  const auto intruded = entered(sim, 1, core::State::Master);
  ASSERT_TRUE(intruded.has_value());
  EXPECT_EQ(*intruded,
            Time{milliseconds(10'300)} + core::master_down_interval(100, milliseconds(30)));
  // node1's advert reaches node0, whose answer reaches node1: two deliveries.
  EXPECT_EQ(v.longest_overlap, milliseconds(2));
  EXPECT_EQ(v.overlap_bound, milliseconds(2) + Duration{10});
  EXPECT_EQ(sim.counters().lower_priority_adverts, 1u);
  // Having heard node0, node1 waits on node0's interval and does not intrude again.
  EXPECT_EQ(sim.instance(1)->master_adver_interval(), seconds(1));
  EXPECT_EQ(sim.masters(), std::vector<int>{0});
}

// ---- determinism ----

TEST(Determinism, SameSeedSameTimeline) {
  for (std::uint64_t seed : {1ull, 42ull, 4242ull, 987654321ull}) {
    const Scenario s1 = random_scenario(seed);
    const Scenario s2 = random_scenario(seed);
    ASSERT_EQ(s1.describe(), s2.describe());
    Simulator a(0, {}, {}), b(0, {}, {});
    (void)run_and_check(s1, &a);
    (void)run_and_check(s2, &b);
    EXPECT_FALSE(a.timeline().empty());
    EXPECT_EQ(a.timeline(), b.timeline()) << "seed " << seed;
    EXPECT_EQ(a.counters().deliveries, b.counters().deliveries);
    EXPECT_EQ(a.counters().lost, b.counters().lost);
  }
}

TEST(Determinism, DifferentSeedsDiffer) {
  // The network seed alone changes delays, and so the timeline's times.
  auto run = [](std::uint64_t seed) {
    Simulator sim = three_nodes(seed);
    sim.schedule(at(seconds(20), K::Crash, 0));
    sim.run_until(Time{seconds(30)});
    return sim.timeline();
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

// ---- random seeds ----

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 10);
}

TEST(RandomSeeds, InvariantsHold) {
  const char* only = std::getenv("FAILOVERD_SIM_SEED");
  std::vector<std::uint64_t> seeds;
  if (only && *only) {
    seeds.push_back(std::strtoull(only, nullptr, 10));
  } else {
    const std::uint64_t n = env_number("FAILOVERD_SIM_SEEDS", 5000);
    for (std::uint64_t i = 1; i <= n; ++i) seeds.push_back(i);
  }
  int failures = 0;
  int checked = 0;
  std::uint64_t events = 0;
  // Longest overlap as a multiple of the maximum delay, for runs whose bound is one delay
  // (in-order network, one interval) and for the others (bound: two delays).
  struct Worst {
    double ratio = 0.0;
    std::uint64_t seed = 0;
  } strict, relaxed;
  for (std::uint64_t seed : seeds) {
    const Scenario s = random_scenario(seed);
    Simulator sim(0, {}, {});
    const Verdict v = run_and_check(s, &sim);
    checked += v.overlaps_checked;
    events += sim.counters().events;
    if (v.overlaps_checked > 0) {
      const double ratio = static_cast<double>(v.longest_overlap.count()) /
                           static_cast<double>(s.net.delay_max.count());
      Worst& w = v.overlap_bound < 2 * s.net.delay_max ? strict : relaxed;
      if (ratio > w.ratio) w = Worst{ratio, seed};
    }
    if (seeds.size() == 1) {
      std::printf("%s%s", s.describe().c_str(), format_timeline(sim.timeline()).c_str());
    }
    if (!v.ok()) {
      ++failures;
      std::string why;
      for (const auto& m : v.violations) why += "  VIOLATION: " + m + "\n";
      ADD_FAILURE() << why << s.describe()
                    << (seeds.size() == 1 ? "" : format_timeline(sim.timeline()))
                    << "replay with FAILOVERD_SIM_SEED=" << seed;
      if (failures >= 3) break;  // enough to debug; the rest would drown the log
    }
  }
  std::printf(
      "%zu seeds, %llu events, %d master overlaps checked; longest in order: %.2f x max "
      "delay (seed %llu), with reordering or mixed intervals: %.2f x (seed %llu)\n",
      seeds.size(), static_cast<unsigned long long>(events), checked, strict.ratio,
      static_cast<unsigned long long>(strict.seed), relaxed.ratio,
      static_cast<unsigned long long>(relaxed.seed));
  EXPECT_EQ(failures, 0);
  if (seeds.size() > 100) {
    EXPECT_GT(checked, 0) << "the overlap rule never applied: the scenarios are too lossy";
  }
}

}  // namespace
}  // namespace failoverd::sim
