#include "failoverd/sim/scenario.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "draw.h"

namespace failoverd::sim {

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using K = ScriptedEvent::Kind;
using detail::Draw;

std::string join_priorities(const std::vector<core::Params>& nodes) {
  std::string out;
  for (const auto& p : nodes) {
    if (!out.empty()) out += ",";
    out += std::to_string(p.priority);
  }
  return out;
}

}  // namespace

Duration max_advert_interval(const std::vector<core::Params>& nodes) {
  Duration out{0};
  for (const auto& p : nodes) out = std::max(out, p.advert_interval);
  return out;
}

// The longest a BACKUP can wait: the longest interval it may learn, with the largest
// Skew_Time (priority 1, which a negative priority delta can reach).
Duration max_master_down_interval(const std::vector<core::Params>& nodes) {
  return core::master_down_interval(1, max_advert_interval(nodes));
}

std::string Scenario::describe() const {
  std::string out = "seed " + std::to_string(seed) + ": " + summary + "\n";
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& p = nodes[i];
    out += "  node" + std::to_string(i) + " " + p.primary_address.to_string() + " priority " +
           std::to_string(p.priority) + " interval " +
           std::to_string(core::to_centiseconds(p.advert_interval)) + "cs preempt " +
           (p.preempt ? "yes" : "no") + " delay " + format_time(p.preempt_delay) + "\n";
  }
  out += "  delay " + format_time(net.delay_min) + ".." + format_time(net.delay_max) +
         (net.ordered ? " in order" : " reordering") + ", quiet from " + format_time(quiet_from) +
         ", end " + format_time(end) + "\n";
  for (const auto& ev : events) out += "  script: " + ev.describe() + "\n";
  return out;
}

Scenario random_scenario(std::uint64_t seed) {
  // Separate from the simulator's stream (seeded with `seed` itself).
  Draw d(seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull);
  Scenario s;
  s.seed = seed;
  const int n = static_cast<int>(d.between(2, 5));

  // Advert intervals: one for all nodes, or (sometimes) a mix, as a misconfigured pair has.
  const std::vector<Duration> intervals{seconds(1), milliseconds(100), milliseconds(30)};
  const int interval_mode = static_cast<int>(d.between(0, 99));
  const bool mixed = interval_mode >= 90;
  const Duration common = interval_mode < 40   ? intervals[0]
                          : interval_mode < 70 ? intervals[1]
                                               : intervals[2];

  // Priorities: distinct, all equal, the top two equal, or with an address owner.
  const int prio_mode = static_cast<int>(d.between(0, 99));
  std::vector<int> pool;
  for (int p = 1; p <= 254; ++p) pool.push_back(p);
  d.shuffle(pool);
  std::vector<int> prios(pool.begin(), pool.begin() + n);
  std::string prio_kind = "distinct priorities";
  if (prio_mode >= 60 && prio_mode < 80) {
    std::fill(prios.begin(), prios.end(), static_cast<int>(d.between(1, 254)));
    prio_kind = "equal priorities";
  } else if (prio_mode >= 80 && prio_mode < 90) {
    std::sort(prios.begin(), prios.end());
    prios[static_cast<std::size_t>(n - 2)] = prios[static_cast<std::size_t>(n - 1)];
    d.shuffle(prios);
    prio_kind = "top two tied";
  } else if (prio_mode >= 90) {
    prios[static_cast<std::size_t>(d.between(0, n - 1))] = core::kPriorityOwner;
    prio_kind = "with an owner";
  }

  const bool preempt = d.chance(80);
  const bool with_preempt_delay = d.chance(20);
  std::vector<std::uint8_t> last_octets;
  for (int i = 0; i < n; ++i) last_octets.push_back(static_cast<std::uint8_t>(10 + i));
  d.shuffle(last_octets);

  for (int i = 0; i < n; ++i) {
    core::Params p;
    p.priority = static_cast<std::uint8_t>(prios[static_cast<std::size_t>(i)]);
    p.advert_interval = mixed ? d.pick(intervals) : common;
    p.preempt = preempt;
    p.primary_address = util::Ipv4::from_octets(10, 0, 0, last_octets[static_cast<std::size_t>(i)]);
    s.nodes.push_back(p);
  }
  const Duration imin = std::min_element(s.nodes.begin(), s.nodes.end(), [](auto& a, auto& b) {
                          return a.advert_interval < b.advert_interval;
                        })->advert_interval;
  const Duration imax = max_advert_interval(s.nodes);
  if (with_preempt_delay) {
    const Duration delay = d.duration(Duration{0}, 5 * imax);
    for (auto& p : s.nodes) p.preempt_delay = delay;
  }

  // Delays well under an advert interval, as on a LAN or between droplets of one region.
  s.net.delay_min = d.duration(Duration{10}, Duration{500});
  s.net.delay_max =
      s.net.delay_min + d.duration(Duration{0}, std::min<Duration>(imin / 4, milliseconds(20)));
  s.net.loss = 0.0;
  s.net.ordered = d.chance(75);

  // The disturbed phase.
  const bool loss = d.chance(35);
  const bool partitions = d.chance(35);
  const bool crashes = d.chance(50);
  const bool shutdowns = d.chance(35);
  const bool faults = d.chance(30);
  const bool deltas = d.chance(30);
  const Duration spread = d.duration(Duration{0}, 5 * imax);
  const Duration phase = imax * d.between(20, 80);
  auto at_random = [&] { return Time{d.duration(spread, spread + phase)}; };
  auto later = [&](Time t) { return t + d.duration(imin, 12 * imax); };
  auto node = [&] { return static_cast<int>(d.between(0, n - 1)); };

  for (int i = 0; i < n; ++i) {
    ScriptedEvent st = make_event(Time{d.duration(Duration{0}, spread)}, K::Start, i);
    st.flag = faults && d.chance(20);
    s.events.push_back(st);
    if (st.flag && d.chance(80))
      s.events.push_back(make_event(later(st.at), K::SetFault, i, false));
  }
  std::vector<K> kinds;
  if (loss) kinds.push_back(K::SetLoss);
  if (partitions) kinds.push_back(K::Partition);
  if (crashes) kinds.push_back(K::Crash);
  if (shutdowns) kinds.push_back(K::Shutdown);
  if (faults) kinds.push_back(K::SetFault);
  if (deltas) kinds.push_back(K::SetPriorityDelta);
  const int count = kinds.empty() ? 0 : static_cast<int>(d.between(2, 12));
  for (int k = 0; k < count; ++k) {
    ScriptedEvent ev = make_event(at_random(), d.pick(kinds), node());
    switch (ev.kind) {
      case K::SetLoss:
        ev.loss = static_cast<double>(d.between(5, 60)) / 100.0;
        s.events.push_back(ev);
        s.events.push_back(make_event(later(ev.at), K::SetLoss));
        break;
      case K::Partition:
        for (int i = 0; i < n; ++i) ev.groups.push_back(static_cast<int>(d.between(0, 2)));
        s.events.push_back(ev);
        s.events.push_back(make_event(later(ev.at), K::Heal));
        break;
      case K::Crash:
      case K::Shutdown:
        s.events.push_back(ev);
        if (d.chance(75)) {
          ScriptedEvent st = make_event(later(ev.at), K::Start, ev.node);
          st.flag = faults && d.chance(15);
          s.events.push_back(st);
        }
        break;
      case K::SetFault:
        ev.flag = true;
        s.events.push_back(ev);
        if (d.chance(75)) s.events.push_back(make_event(later(ev.at), K::SetFault, ev.node, false));
        break;
      case K::SetPriorityDelta:
        ev.value = static_cast<int>(d.between(-60, 60));
        s.events.push_back(ev);
        if (d.chance(40)) {
          ScriptedEvent back = make_event(later(ev.at), K::SetPriorityDelta, ev.node);
          back.value = 0;
          s.events.push_back(back);
        }
        break;
      case K::Start:
      case K::Heal:
        break;
    }
  }
  std::stable_sort(s.events.begin(), s.events.end(),
                   [](const auto& a, const auto& b) { return a.at < b.at; });

  // The quiet phase: whatever the script left broken in the network is mended.
  s.quiet_from = s.events.empty() ? Time{0} : s.events.back().at;
  s.quiet_from += milliseconds(1);
  s.events.push_back(make_event(s.quiet_from, K::Heal));
  s.events.push_back(make_event(s.quiet_from, K::SetLoss));
  // Long enough to settle and then to show that nothing changes any more.
  s.end = s.quiet_from + s.nodes[0].preempt_delay + max_master_down_interval(s.nodes) + 12 * imax;

  s.summary = std::to_string(n) + " nodes, " +
              (mixed ? std::string("mixed intervals")
                     : std::to_string(core::to_centiseconds(common)) + "cs") +
              ", " + prio_kind + " (" + join_priorities(s.nodes) + "), preempt " +
              (preempt ? "on" : "off") + (with_preempt_delay ? " with delay" : "") + "; " +
              (loss ? "loss " : "") + (partitions ? "partitions " : "") +
              (crashes ? "crashes " : "") + (shutdowns ? "shutdowns " : "") +
              (faults ? "faults " : "") + (deltas ? "priority-changes" : "");
  return s;
}

namespace {

struct Interval {
  Time from;
  Time to;
};

// MASTER intervals per node, from the timeline; an open one ends at `end`.
std::vector<std::vector<Interval>> master_intervals(const std::vector<TimelineEntry>& timeline,
                                                    int nodes, Time end) {
  std::vector<std::vector<Interval>> out(static_cast<std::size_t>(nodes));
  std::vector<std::optional<Time>> since(static_cast<std::size_t>(nodes));
  for (const auto& e : timeline) {
    auto& open = since[static_cast<std::size_t>(e.node)];
    const bool master = e.running && e.state == core::State::Master;
    if (master && !open) open = e.time;
    if (!master && open) {
      out[static_cast<std::size_t>(e.node)].push_back({*open, e.time});
      open.reset();
    }
  }
  for (int i = 0; i < nodes; ++i) {
    if (since[static_cast<std::size_t>(i)]) {
      out[static_cast<std::size_t>(i)].push_back({*since[static_cast<std::size_t>(i)], end});
    }
  }
  return out;
}

bool disturbed_within(const std::vector<Time>& sorted, Time from, Time to) {
  auto it = std::lower_bound(sorted.begin(), sorted.end(), from);
  return it != sorted.end() && *it <= to;
}

}  // namespace

Verdict check(const Scenario& s, const Simulator& sim) {
  Verdict v;
  for (const auto& e : sim.errors()) v.violations.push_back("simulator: " + e);

  const Duration imax = max_advert_interval(s.nodes);
  const Duration mdi = max_master_down_interval(s.nodes);
  const Duration dmax = s.net.delay_max;
  bool mixed = false;
  for (const auto& p : s.nodes) mixed = mixed || p.advert_interval != s.nodes[0].advert_interval;
  constexpr Duration kEpsilon{10};
  v.overlap_bound = (mixed || !s.net.ordered ? 2 * dmax : dmax) + kEpsilon;

  // Overlap: every pair of nodes, every stretch of time both were MASTER.
  std::vector<Time> disturbances = sim.disturbances();
  std::sort(disturbances.begin(), disturbances.end());
  const Duration lookback = mdi + imax + dmax;
  const auto masters = master_intervals(sim.timeline(), sim.size(), s.end);
  for (int a = 0; a < sim.size(); ++a) {
    for (int b = a + 1; b < sim.size(); ++b) {
      for (const auto& x : masters[static_cast<std::size_t>(a)]) {
        for (const auto& y : masters[static_cast<std::size_t>(b)]) {
          const Time from = std::max(x.from, y.from);
          const Time to = std::min(x.to, y.to);
          if (from >= to) continue;
          if (disturbed_within(disturbances, from - lookback, to)) {
            ++v.overlaps_excused;
            continue;
          }
          ++v.overlaps_checked;
          v.longest_overlap = std::max(v.longest_overlap, to - from);
          if (to - from > v.overlap_bound) {
            v.violations.push_back("node" + std::to_string(a) + " and node" + std::to_string(b) +
                                   " both MASTER from " + format_time(from) + " to " +
                                   format_time(to) + " (" + format_time(to - from) +
                                   ") with every advert delivered; bound " +
                                   format_time(v.overlap_bound));
          }
        }
      }
    }
  }

  // Convergence.
  Time calm = s.quiet_from;
  for (const auto& ev : s.events) {
    const bool rejoins = ev.kind == K::Start || (ev.kind == K::SetFault && !ev.flag);
    if (rejoins)
      calm = std::max(calm, ev.at + s.nodes[static_cast<std::size_t>(ev.node)].preempt_delay);
  }
  v.settled_at = calm + mdi + imax + dmax + kEpsilon;
  if (s.end <= v.settled_at) {
    v.violations.push_back("scenario ends at " + format_time(s.end) + ", before it settles at " +
                           format_time(v.settled_at));
  }
  for (const auto& e : sim.timeline()) {
    if (e.time > v.settled_at) {
      v.violations.push_back("node" + std::to_string(e.node) + " changed state after " +
                             format_time(v.settled_at) + ": " + format_time(e.time) + " " +
                             (e.running ? core::to_string(e.state) : "STOPPED") + " (" + e.reason +
                             ")");
    }
  }
  std::vector<int> candidates;
  int best = -1;
  for (int i = 0; i < sim.size(); ++i) {
    const core::Instance* inst = sim.instance(i);
    if (!inst) continue;
    if (sim.faulted(i)) {
      if (inst->state() != core::State::Fault) {
        v.violations.push_back("node" + std::to_string(i) + " is faulted but " +
                               core::to_string(inst->state()));
      }
      continue;
    }
    candidates.push_back(i);
    best = std::max(best, int{inst->effective_priority()});
  }
  const std::vector<int> now_masters = sim.masters();
  const std::size_t expected = candidates.empty() ? 0 : 1;
  if (now_masters.size() != expected) {
    std::string list;
    for (int m : now_masters) list += " node" + std::to_string(m);
    v.violations.push_back("at the end " + std::to_string(now_masters.size()) +
                           " MASTERs (expected " + std::to_string(expected) + "):" + list);
  } else if (expected == 1 && s.nodes[static_cast<std::size_t>(now_masters[0])].preempt) {
    const int m = now_masters[0];
    const int prio = sim.instance(m)->effective_priority();
    if (prio != best) {
      v.violations.push_back("MASTER node" + std::to_string(m) + " has priority " +
                             std::to_string(prio) + " but a healthy node has " +
                             std::to_string(best));
    }
  }
  return v;
}

Verdict run_and_check(const Scenario& s, Simulator* sim_out) {
  Simulator sim(s.seed, s.nodes, s.net);
  sim.schedule(s.events);
  sim.run_until(s.end);
  Verdict v = check(s, sim);
  if (sim_out) *sim_out = std::move(sim);
  return v;
}

}  // namespace failoverd::sim
