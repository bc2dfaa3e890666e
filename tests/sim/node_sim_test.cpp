// The Node simulator (sim/node_sim.h): whole node::Nodes with their configs, a fake
// reserved-IP API, hand-written runs with exact expectations, determinism, and a few hundred
// seeded schedules checked against the invariants written out in node_sim.h.
//
// FAILOVERD_NODE_SIM_SEED=N runs only schedule N and prints its trace;
// FAILOVERD_NODE_SIM_SEEDS=N changes how many the random test runs.
#include "failoverd/sim/node_sim.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace failoverd::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using K = NodeEvent::Kind;

// node i at 10.0.0.(i+1) with `priority`, one unicast peer, a check, every hook, the reserved
// IP at DigitalOcean and a virtual IP: the README's pair.
config::Config pair_config(int i, std::uint8_t priority) {
  config::Config c;
  c.instance.name = "web";
  c.instance.interface = "eth1";
  c.vrrp.virtual_router_id = 51;
  c.vrrp.priority = priority;
  c.vrrp.transport = config::Transport::kUdp;
  c.vrrp.peers = {util::Ipv4::from_octets(10, 0, 0, static_cast<std::uint8_t>(2 - i))};
  config::CheckConfig check;
  check.name = "containers";
  check.spec = config::DockerCheckSpec{};
  c.checks.push_back(check);
  c.notify.master = c.notify.backup = c.notify.fault = c.notify.stop = "/etc/failoverd/hook";
  c.reserved_ip.provider = config::Provider::kDigitalOcean;
  c.reserved_ip.address = util::Ipv4::from_octets(203, 0, 113, 10);
  c.reserved_ip.reconcile_interval = seconds(2);
  c.virtual_ip.addresses = {config::Cidr{util::Ipv4::from_octets(10, 0, 0, 100), 24}};
  return c;
}

NodeEvent ev(Duration at, K kind, int node = 0, bool flag = false) {
  NodeEvent e;
  e.at = Time{at};
  e.kind = kind;
  e.node = node;
  e.flag = flag;
  return e;
}

// node0 (priority 150) and node1 (100), both started at 0 s.
NodeSim pair(std::uint64_t seed = 7) {
  NodeSim sim(seed, {pair_config(0, 150), pair_config(1, 100)},
              NetworkConfig{Duration{milliseconds(1)}, Duration{milliseconds(5)}, 0.0, true},
              ApiConfig{});
  sim.schedule(ev(Duration{0}, K::Start, 0));
  sim.schedule(ev(Duration{0}, K::Start, 1));
  return sim;
}

std::string hooks_of(const NodeSim& sim, int i) {
  std::string out;
  for (const auto& h : sim.hook_log(i)) {
    static const char* const kNames[] = {"master", "backup", "fault", "stop"};
    if (!out.empty()) out += " ";
    out += std::string(kNames[static_cast<int>(h.hook)]) + (h.claim.empty() ? "" : "=" + h.claim);
  }
  return out;
}

std::string all_violations(const NodeSim& sim) {
  std::string out;
  for (const auto& v : sim.violations()) out += v + "\n";
  return out;
}

TEST(NodeSim, ThePreferredNodeBecomesMasterClaimsAndRunsItsHookAfterTheClaim) {
  NodeSim sim = pair();
  sim.run_until(Time{seconds(20)});
  EXPECT_EQ(sim.masters(), std::vector<int>{0});
  EXPECT_EQ(sim.holder(), std::optional<int>(0));
  EXPECT_TRUE(sim.vips_held(0));
  EXPECT_FALSE(sim.vips_held(1));
  EXPECT_EQ(hooks_of(sim, 0), "backup master=ok");
  EXPECT_EQ(hooks_of(sim, 1), "backup");
  // The master hook ran after the address moved (the claim's report comes after the action).
  ASSERT_EQ(sim.holder_changes().size(), 1u);
  EXPECT_GT(sim.hook_log(0).back().at, sim.holder_changes().front().at);
  EXPECT_TRUE(sim.violations().empty()) << all_violations(sim);
}

TEST(NodeSim, ACrashedMastersVipsStayOnItsInterfaceAndThePeerTakesTheAddress) {
  NodeSim sim = pair();
  sim.schedule(ev(seconds(20), K::Crash, 0));
  sim.run_until(Time{seconds(30)});
  EXPECT_FALSE(sim.running(0));
  EXPECT_TRUE(sim.vips_left_by_crash(0));
  EXPECT_EQ(sim.masters(), std::vector<int>{1});
  EXPECT_TRUE(sim.vips_held(1));
  EXPECT_EQ(sim.holder(), std::optional<int>(1)) << "no holder check needed: it became MASTER";
  EXPECT_EQ(hooks_of(sim, 1), "backup master=ok");
  // A restart is a fresh Node: INIT until the first verdict, then preempts back (priority 150).
  sim.schedule(ev(seconds(30), K::Start, 0));
  sim.run_until(Time{seconds(45)});
  EXPECT_EQ(sim.masters(), std::vector<int>{0});
  EXPECT_EQ(sim.holder(), std::optional<int>(0));
  EXPECT_FALSE(sim.vips_left_by_crash(0)) << "taken again by the new process";
  EXPECT_EQ(sim.hook_log(0).back().incarnation, 2);
  EXPECT_EQ(hooks_of(sim, 0), "backup master=ok backup master=ok");
  EXPECT_EQ(hooks_of(sim, 1), "backup master=ok backup");
  EXPECT_TRUE(sim.violations().empty()) << all_violations(sim);
}

TEST(NodeSim, ABadTokenFaultsTheMasterOnceAndThePeerTakesOver) {
  NodeSim sim(7, {pair_config(0, 150), pair_config(1, 100)},
              NetworkConfig{Duration{milliseconds(1)}, Duration{milliseconds(5)}, 0.0, true},
              ApiConfig{});
  sim.schedule(ev(Duration{0}, K::BadToken, 0, true));
  sim.schedule(ev(Duration{0}, K::Start, 0));
  sim.schedule(ev(Duration{0}, K::Start, 1));
  sim.run_until(Time{seconds(60)});
  EXPECT_EQ(sim.state(0), core::State::Fault);
  EXPECT_EQ(hooks_of(sim, 0), "backup master=failed fault");
  EXPECT_EQ(sim.masters(), std::vector<int>{1});
  EXPECT_EQ(sim.holder(), std::optional<int>(1));
  EXPECT_EQ(sim.node(0)->transitions_to().at("FAULT"), 1u);
  EXPECT_TRUE(sim.violations().empty()) << all_violations(sim);
}

TEST(NodeSim, AGracefulStopReleasesTheVipsAndRunsTheStopHookLast) {
  NodeSim sim = pair();
  sim.schedule(ev(seconds(20), K::Shutdown, 0));
  sim.run_until(Time{seconds(25)});
  EXPECT_FALSE(sim.vips_held(0));
  EXPECT_FALSE(sim.vips_left_by_crash(0));
  EXPECT_EQ(hooks_of(sim, 0), "backup master=ok stop");
  EXPECT_EQ(sim.masters(), std::vector<int>{1}) << "the priority-0 advert hands over";
  EXPECT_TRUE(sim.violations().empty()) << all_violations(sim);
}

// ---- the checker fails what it should ----

NodeSchedule quiet_pair(std::uint64_t seed) {
  NodeSchedule s;
  s.seed = seed;
  s.nodes = {pair_config(0, 150), pair_config(1, 100)};
  s.net = NetworkConfig{Duration{milliseconds(1)}, Duration{milliseconds(5)}, 0.0, true};
  s.events = {ev(Duration{0}, K::Start, 0), ev(Duration{0}, K::Start, 1)};
  s.quiet_from = Time{seconds(10)};
  s.end = claim_settled_at(s) + seconds(5);
  return s;
}

TEST(NodeSimInvariants, HoldOnAQuietPair) {
  const NodeVerdict v = run_node_schedule(quiet_pair(3));
  EXPECT_TRUE(v.ok()) << v.violations.front();
  EXPECT_TRUE(v.one_master);
}

TEST(NodeSimInvariants, APartitionThatNeverHealsIsTwoMasters) {
  NodeSchedule s = quiet_pair(3);
  NodeEvent p = ev(seconds(5), K::Partition);
  p.groups = {0, 1};
  s.events.push_back(p);
  const NodeVerdict v = run_node_schedule(s);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.violations.front().find("seed 3: "), std::string::npos) << "names the seed";
  EXPECT_NE(v.violations.front().find("2 MASTERs after the election settled"), std::string::npos)
      << v.violations.front();
}

TEST(NodeSimInvariants, AnApiThatStaysDownLeavesTheAddressOffTheMaster) {
  NodeSchedule s = quiet_pair(3);
  s.events.insert(s.events.begin(), ev(Duration{0}, K::ApiDown, 0, true));
  const NodeVerdict v = run_node_schedule(s);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.violations.back().find("the reserved IP is on nobody, not on the MASTER node0"),
            std::string::npos)
      << v.violations.back();
}

// ---- determinism ----

TEST(NodeSimDeterminism, SameSeedSameRun) {
  for (std::uint64_t seed : {1u, 2u, 42u, 481u}) {
    const NodeSchedule a = random_node_schedule(seed);
    const NodeSchedule b = random_node_schedule(seed);
    ASSERT_EQ(a.describe(), b.describe());
    std::string ta, tb;
    NodeSimCounters ca, cb;
    run_node_schedule(a, &ca, &ta);
    run_node_schedule(b, &cb, &tb);
    EXPECT_EQ(ta, tb) << "seed " << seed;  // schedule, timeline, hook logs, holder changes
    EXPECT_EQ(ca.events, cb.events);
    EXPECT_EQ(ca.claims, cb.claims);
    EXPECT_GT(ca.transitions, 0u);
  }
}

TEST(NodeSimDeterminism, DifferentSeedsDiffer) {
  std::string t1, t2;
  run_node_schedule(random_node_schedule(1), nullptr, &t1);
  run_node_schedule(random_node_schedule(2), nullptr, &t2);
  EXPECT_NE(t1, t2);
}

// ---- seeded schedules ----

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::strtoull(v, nullptr, 10);
}

TEST(NodeSimRandom, InvariantsHold) {
  std::vector<std::uint64_t> seeds;
  if (const char* only = std::getenv("FAILOVERD_NODE_SIM_SEED"); only && *only) {
    seeds.push_back(std::strtoull(only, nullptr, 10));
  } else {
    const std::uint64_t n = env_number("FAILOVERD_NODE_SIM_SEEDS", 300);
    for (std::uint64_t i = 1; i <= n; ++i) seeds.push_back(i);
  }
  int failures = 0;
  int one_master = 0;
  NodeSimCounters total;
  for (std::uint64_t seed : seeds) {
    const NodeSchedule s = random_node_schedule(seed);
    NodeSimCounters c;
    std::string trace;
    const NodeVerdict v = run_node_schedule(s, &c, &trace);
    total.events += c.events;
    total.transitions += c.transitions;
    total.claims += c.claims;
    total.claim_failures += c.claim_failures;
    total.hooks += c.hooks;
    if (v.one_master) ++one_master;
    if (seeds.size() == 1) std::printf("%s", trace.c_str());
    if (!v.ok()) {
      ++failures;
      std::string why;
      for (const auto& m : v.violations) why += "  VIOLATION: " + m + "\n";
      ADD_FAILURE() << why << trace << "replay with FAILOVERD_NODE_SIM_SEED=" << seed;
      if (failures >= 3) break;
    }
  }
  std::printf(
      "%zu schedules (%d settled on one MASTER), %llu events, %llu transitions, %llu claims "
      "(%llu failed), %llu hooks\n",
      seeds.size(), one_master, static_cast<unsigned long long>(total.events),
      static_cast<unsigned long long>(total.transitions),
      static_cast<unsigned long long>(total.claims),
      static_cast<unsigned long long>(total.claim_failures),
      static_cast<unsigned long long>(total.hooks));
  EXPECT_EQ(failures, 0);
  if (seeds.size() >= 100) {
    // The schedules reach every invariant: most settle on one MASTER, claims fail and succeed.
    EXPECT_GT(one_master, static_cast<int>(seeds.size()) / 2);
    EXPECT_GT(total.claim_failures, 0u);
    EXPECT_GT(total.claims, total.claim_failures);
  }
}

}  // namespace
}  // namespace failoverd::sim
