#include "failoverd/sim/split_scenario.h"

#include <algorithm>
#include <map>
#include <utility>

#include "draw.h"

namespace failoverd::sim {

using std::chrono::milliseconds;
using std::chrono::seconds;
using K = ScriptedEvent::Kind;
using detail::Draw;

Duration api_slack(const CloudConfig& c) {
  return 2 * c.max_check() + 2 * c.max_claim();
}

Duration recovery_bound(const CloudConfig& c, int losses) {
  const core::ClaimPolicy p(c.policy, Time{0});
  return p.params().check_interval + p.hold_off_for(losses) + api_slack(c);
}

std::string SplitScenario::describe() const {
  std::string out = base.describe();
  const auto& p = cloud.policy;
  out += "  cloud: check " + format_time(p.check_interval) + " hold-off " +
         format_time(p.hold_off) + " max " + format_time(p.max_hold_off) + " api " +
         format_time(cloud.api_min) + ".." + format_time(cloud.api_max) + " action " +
         format_time(cloud.action_min) + ".." + format_time(cloud.action_max) +
         " initial holder " + (initial_holder ? "node" + std::to_string(*initial_holder) : "none") +
         "\n";
  for (const auto& c : holder_crashes) {
    out += "  script: " + format_time(c.at) + " crash the holder" +
           (c.restart_after.count() ? ", restart it " + format_time(c.restart_after) + " later"
                                    : std::string()) +
           "\n";
  }
  return out;
}

SplitScenario random_split_scenario(std::uint64_t seed) {
  // Separate from the simulator's stream (seeded with `seed` itself).
  Draw d(seed * 0x2545F4914F6CDD1DULL + 17);
  SplitScenario s;
  Scenario& b = s.base;
  b.seed = seed;
  const int n = d.chance(65) ? 2 : 3;
  const Duration interval = d.chance(50) ? Duration{seconds(1)} : Duration{milliseconds(500)};
  const bool preempt = d.chance(70);
  const std::vector<int> prios = d.distinct(n, 20, 250);
  for (int i = 0; i < n; ++i) {
    core::Params p;
    p.priority = static_cast<std::uint8_t>(prios[static_cast<std::size_t>(i)]);
    p.advert_interval = interval;
    p.preempt = preempt;
    p.primary_address = util::Ipv4::from_octets(10, 0, 0, static_cast<std::uint8_t>(i + 1));
    b.nodes.push_back(p);
  }
  b.net = NetworkConfig{Duration{milliseconds(1)}, Duration{milliseconds(d.between(2, 50))}, 0.0,
                        true};

  const Duration r{seconds(d.between(1, 3))};
  s.cloud.policy = core::ClaimPolicyParams::for_check_interval(r);
  s.cloud.api_max = Duration{milliseconds(d.between(20, 300))};
  s.cloud.action_max = Duration{milliseconds(d.between(0, 2000))};
  if (d.chance(50)) s.initial_holder = static_cast<int>(d.between(0, n - 1));
  const Duration h = s.cloud.policy.hold_off;

  for (int i = 0; i < n; ++i) {
    b.events.push_back(make_event(Time{d.duration(Duration{0}, seconds(2))}, K::Start, i));
  }
  const Duration mdi = max_master_down_interval(b.nodes);
  Time t{seconds(10)};
  Time quiet = t;
  const int episodes = static_cast<int>(d.between(1, 2));
  std::string kinds;
  for (int e = 0; e < episodes; ++e) {
    Duration len;
    const auto kind = d.between(0, 2);
    if (kind == 0) {
      len = d.duration(Duration{seconds(2)}, h);  // short: no take-over yet
      kinds += "short";
    } else if (kind == 1) {
      len = d.duration(h, 4 * h);
      kinds += "medium";
    } else {
      len = d.duration(4 * h, 14 * h);  // long enough to climb the ladder
      kinds += "long";
    }
    ScriptedEvent part = make_event(t, K::Partition);
    if (n == 2) {
      part.groups = {0, 1};
    } else {
      // Every node alone, or two together and one alone.
      const auto shape = d.between(0, 3);
      part.groups = shape == 0 ? std::vector<int>{0, 1, 2}
                               : std::vector<int>{shape == 1 ? 1 : 0, shape == 2 ? 1 : 0,
                                                  shape == 3 ? 1 : 0};
    }
    b.events.push_back(part);
    s.episodes.push_back({t, t + len});
    if (len > mdi + seconds(2) && d.chance(45)) {
      SplitScenario::HolderCrash c;
      c.at = t + d.duration(mdi + seconds(1), len - seconds(1));
      const Duration window = recovery_bound(s.cloud, 30) + seconds(2);
      if (d.chance(60)) c.restart_after = window + d.duration(Duration{0}, h);
      s.holder_crashes.push_back(c);
      quiet = std::max(quiet, c.at + c.restart_after);
      kinds += "+crash";
    }
    b.events.push_back(make_event(t + len, K::Heal));
    quiet = std::max(quiet, t + len);
    t = t + len + d.duration(Duration{seconds(5)}, 2 * h);
    kinds += " ";
  }
  b.quiet_from = quiet;
  b.end = quiet + mdi + interval + b.net.delay_max + s.cloud.policy.check_interval +
          s.cloud.policy.max_hold_off + api_slack(s.cloud) + seconds(10);
  b.summary = std::to_string(n) + " nodes, " + kinds + "partition(s), check " +
              format_time(r) + (preempt ? "" : ", no preempt");
  return s;
}

namespace {

std::string node_name(std::optional<int> n) {
  return n ? "node" + std::to_string(*n) : "nobody";
}

}  // namespace

SplitVerdict run_split(const SplitScenario& s) {
  SplitVerdict v;
  Simulator sim(s.base.seed, s.base.nodes, s.base.net);
  CloudWitness witness(sim, s.cloud, s.base.seed, s.initial_holder);
  sim.schedule(s.base.events);

  // Holder crashes are decided when they happen; they and the restarts they cause join the
  // script afterwards so the VRRP checks know about them.
  struct Crash {
    Time at{0};
    int node = 0;
    std::vector<std::pair<int, int>> survivors;  // MASTER nodes and their losses at the crash
  };
  std::vector<Crash> crashes;
  std::vector<ScriptedEvent> dynamic_events;
  for (const auto& c : s.holder_crashes) {
    sim.call_at(c.at, [&, c] {
      const auto h = witness.holder();
      if (!h || !sim.running(*h)) return;
      Crash x{sim.now(), *h, {}};
      for (int m : sim.masters()) {
        if (m != *h && witness.policy(m)) x.survivors.push_back({m, witness.policy(m)->losses()});
      }
      crashes.push_back(x);
      const ScriptedEvent crash = make_event(sim.now(), K::Crash, *h);
      sim.schedule(crash);
      dynamic_events.push_back(crash);
      if (c.restart_after.count() > 0) {
        const ScriptedEvent start = make_event(sim.now() + c.restart_after, K::Start, *h);
        sim.schedule(start);
        dynamic_events.push_back(start);
      }
    });
  }
  sim.run_until(s.base.end);

  Scenario with_crashes = s.base;
  with_crashes.events.insert(with_crashes.events.end(), dynamic_events.begin(),
                             dynamic_events.end());
  v.vrrp = check(with_crashes, sim);
  for (const auto& x : v.vrrp.violations) v.violations.push_back("vrrp: " + x);

  const auto& changes = witness.changes();
  v.changes = static_cast<int>(changes.size());
  v.takeovers = static_cast<int>(witness.takeovers().size());
  const core::ClaimPolicy ladder(s.cloud.policy, Time{0});
  const Duration slack = api_slack(s.cloud);

  // Ladder: per node and episode, the n-th take-over not before the sum of the first n
  // hold-offs.
  std::map<std::pair<int, std::int64_t>, int> nth;
  for (const auto& t : witness.takeovers()) {
    const int k = ++nth[{t.node, t.episode_start.count()}];
    Duration least{0};
    for (int i = 0; i < k; ++i) least += ladder.hold_off_for(i);
    if (t.at < t.episode_start + least) {
      v.violations.push_back("ladder: node" + std::to_string(t.node) + " took the address from node" +
                             std::to_string(t.holder) + " at " + format_time(t.at) +
                             ", take-over " + std::to_string(k) + " of the episode begun at " +
                             format_time(t.episode_start) + ", before " +
                             format_time(t.episode_start + least));
    }
  }

  // Fight: changes during each partition.
  for (const auto& e : s.episodes) {
    int in = 0;
    int advert = 0;
    for (const auto& c : changes) {
      if (c.at < e.from || c.at >= e.to) continue;
      ++in;
      if (c.cause == ClaimCause::kAdvert) ++advert;
    }
    int transitions = 0;
    for (const auto& t : sim.timeline()) {
      if (t.running && t.state == core::State::Master && t.time >= e.from - slack && t.time < e.to)
        ++transitions;
    }
    const int bound =
        2 + transitions + advert + sim.size() * ladder.max_takeovers(e.to - e.from);
    v.most_changes_in_a_partition = std::max(v.most_changes_in_a_partition, in);
    if (in > bound) {
      v.violations.push_back("fight: " + std::to_string(in) + " changes of holder during the " +
                             "partition " + format_time(e.from) + ".." + format_time(e.to) +
                             ", bound " + std::to_string(bound));
    }
  }

  // Recovery from a crashed holder.
  for (const auto& x : crashes) {
    if (x.survivors.empty()) continue;
    Duration bound = Duration::max();
    for (const auto& [m, losses] : x.survivors) {
      bound = std::min(bound, recovery_bound(s.cloud, losses + 1));
    }
    // Only when a survivor stays MASTER that long (a restart of the dead node is later).
    bool steady = true;
    for (const auto& t : sim.timeline()) {
      if (t.time <= x.at || t.time > x.at + bound) continue;
      for (const auto& [m, losses] : x.survivors) {
        if (t.node == m && (!t.running || t.state != core::State::Master)) steady = false;
      }
    }
    if (!steady) continue;
    ++v.recoveries_checked;
    std::optional<Time> moved;
    for (const auto& c : changes) {
      if (c.at > x.at && c.to != x.node) {
        moved = c.at;
        break;
      }
    }
    if (moved) v.longest_recovery = std::max(v.longest_recovery, *moved - x.at);
    if (!moved || *moved > x.at + bound) {
      v.violations.push_back("recovery: node" + std::to_string(x.node) + " held the address when " +
                             "it crashed at " + format_time(x.at) + "; it moved " +
                             (moved ? "at " + format_time(*moved) : std::string("never")) +
                             ", bound " + format_time(x.at + bound));
    }
  }

  // Quiet: the address on the single MASTER, and no change after the bound.
  const Time settled = v.vrrp.settled_at + s.cloud.policy.check_interval +
                       s.cloud.policy.max_hold_off + slack;
  const auto masters = sim.masters();
  if (masters.size() == 1 && witness.holder() != masters[0]) {
    v.violations.push_back("quiet: the address ends on " + node_name(witness.holder()) +
                           " but node" + std::to_string(masters[0]) + " is MASTER");
  }
  for (const auto& c : changes) {
    if (c.at > settled) {
      v.violations.push_back("quiet: the address moved at " + format_time(c.at) + ", after " +
                             format_time(settled));
    }
  }
  if (s.base.end <= settled) v.violations.push_back("quiet: the run ends before it settles");

  if (!v.ok()) {
    v.trace = s.describe() + "timeline:\n" + format_timeline(sim.timeline()) + "holders:\n" +
              witness.describe_changes();
  }
  return v;
}

}  // namespace failoverd::sim
