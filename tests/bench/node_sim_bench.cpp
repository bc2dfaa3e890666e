// Runs N seeded Node-simulator schedules (sim/node_sim.h: whole node::Nodes, a fake
// reserved-IP API, loss, delay, partitions, crashes, restarts, API faults, failing checks,
// links down) and checks the invariants after each. Prints the counts and the time; exits 1
// when any schedule broke an invariant (the first few are printed with their trace).
//
//   node_sim_bench [--schedules N] [--seed S]     seeds S .. S+N-1 (default 10000 from 1)
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "failoverd/sim/node_sim.h"

namespace {

bool number(const char* s, std::uint64_t& out) {
  if (!s || !*s) return false;
  char* end = nullptr;
  out = std::strtoull(s, &end, 10);
  return *end == '\0';
}

}  // namespace

int main(int argc, char** argv) {
  using namespace failoverd::sim;
  std::uint64_t schedules = 10000;
  std::uint64_t first = 1;
  for (int i = 1; i < argc; ++i) {
    const bool has_value = i + 1 < argc;
    if (std::strcmp(argv[i], "--schedules") == 0 && has_value && number(argv[i + 1], schedules)) {
      ++i;
    } else if (std::strcmp(argv[i], "--seed") == 0 && has_value && number(argv[i + 1], first)) {
      ++i;
    } else {
      std::fprintf(stderr, "usage: node_sim_bench [--schedules N] [--seed S]\n");
      return 2;
    }
  }
  NodeSimCounters total;
  std::uint64_t violations = 0;
  std::uint64_t broken = 0;
  std::uint64_t one_master = 0;
  double sim_seconds = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::uint64_t seed = first; seed < first + schedules; ++seed) {
    const NodeSchedule s = random_node_schedule(seed);
    NodeSimCounters c;
    std::string trace;
    const NodeVerdict v = run_node_schedule(s, &c, broken < 3 ? &trace : nullptr);
    total.events += c.events;
    total.adverts_sent += c.adverts_sent;
    total.transitions += c.transitions;
    total.claims += c.claims;
    total.claim_failures += c.claim_failures;
    total.checks += c.checks;
    total.hooks += c.hooks;
    total.holder_changes += c.holder_changes;
    total.commands += c.commands;
    total.refused += c.refused;
    sim_seconds += std::chrono::duration<double>(s.end).count();
    if (v.one_master) ++one_master;
    if (!v.ok()) {
      violations += v.violations.size();
      if (broken++ < 3) {
        for (const auto& m : v.violations) std::printf("VIOLATION: %s\n", m.c_str());
        std::printf("%s", trace.c_str());
      }
    }
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "schedules %llu (seeds %llu..%llu, %llu settled on one MASTER), simulated %.0f s\n"
      "events %llu, adverts %llu, transitions %llu, claims %llu (%llu failed), holder checks "
      "%llu, hooks %llu, reserved IP moves %llu, control commands %llu (%llu refused)\n"
      "violations %llu in %llu schedules\n"
      "time %.2f s (%.0f schedules/s, %.2f M events/s)\n",
      static_cast<unsigned long long>(schedules), static_cast<unsigned long long>(first),
      static_cast<unsigned long long>(first + schedules - 1),
      static_cast<unsigned long long>(one_master), sim_seconds,
      static_cast<unsigned long long>(total.events),
      static_cast<unsigned long long>(total.adverts_sent),
      static_cast<unsigned long long>(total.transitions),
      static_cast<unsigned long long>(total.claims),
      static_cast<unsigned long long>(total.claim_failures),
      static_cast<unsigned long long>(total.checks), static_cast<unsigned long long>(total.hooks),
      static_cast<unsigned long long>(total.holder_changes),
      static_cast<unsigned long long>(total.commands),
      static_cast<unsigned long long>(total.refused), static_cast<unsigned long long>(violations),
      static_cast<unsigned long long>(broken), secs, static_cast<double>(schedules) / secs,
      static_cast<double>(total.events) / secs / 1e6);
  return broken == 0 ? 0 : 1;
}
