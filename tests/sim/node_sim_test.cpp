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
    if (seeds.size() == 1) std::printf("%s", trace.c_str());
    if (!v.ok()) {
      ++failures;
      std::string why;
      for (const auto& m : v.violations) why += "  VIOLATION: " + m + "\n";
      ADD_FAILURE() << why << trace << "replay with FAILOVERD_NODE_SIM_SEED=" << seed;
      if (failures >= 3) break;
    }
  }
  std::printf("%zu schedules, %llu events, %llu transitions, %llu claims (%llu failed), %llu hooks\n",
              seeds.size(), static_cast<unsigned long long>(total.events),
              static_cast<unsigned long long>(total.transitions),
              static_cast<unsigned long long>(total.claims),
              static_cast<unsigned long long>(total.claim_failures),
              static_cast<unsigned long long>(total.hooks));
  EXPECT_EQ(failures, 0);
}

}  // namespace
}  // namespace failoverd::sim
