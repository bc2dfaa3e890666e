// Seeded schedules for sim::NodeSim and the check of invariants 1 and 2 (node_sim.h).
#include <algorithm>
#include <utility>

#include "draw.h"
#include "failoverd/sim/node_sim.h"

namespace failoverd::sim {

using std::chrono::milliseconds;
using std::chrono::seconds;
using K = NodeEvent::Kind;
using detail::Draw;

namespace {

constexpr util::Ipv4 kReserved = util::Ipv4::from_octets(203, 0, 113, 10);
// The longest wait ClaimBackoff hands out (node/reserved_ip.h).
constexpr Duration kMaxClaimBackoff = std::chrono::seconds(30);

NodeEvent event(Time at, K kind, int node = 0, bool flag = false, double value = 0.0) {
  NodeEvent ev;
  ev.at = at;
  ev.kind = kind;
  ev.node = node;
  ev.flag = flag;
  ev.value = value;
  return ev;
}

Duration max_mdi(const NodeSchedule& s) {
  Duration out{0};
  for (const auto& c : s.nodes) {
    out = std::max(out, core::master_down_interval(c.vrrp.priority, c.vrrp.advert_interval));
  }
  return out;
}

Duration max_of(const NodeSchedule& s, Duration (*get)(const config::Config&)) {
  Duration out{0};
  for (const auto& c : s.nodes) out = std::max(out, get(c));
  return out;
}

}  // namespace

Time settled_at(const NodeSchedule& s) {
  return s.quiet_from + s.first_verdict + kSimFailoverHold +
         max_of(s, [](const config::Config& c) { return c.vrrp.preempt_delay; }) + max_mdi(s) +
         2 * max_of(s, [](const config::Config& c) { return c.vrrp.advert_interval; }) +
         s.net.delay_max;
}

Time claim_settled_at(const NodeSchedule& s) {
  const Duration r =
      max_of(s, [](const config::Config& c) { return c.reserved_ip.reconcile_interval; });
  const auto p = core::ClaimPolicyParams::for_check_interval(r);
  return settled_at(s) + r + p.max_hold_off + 2 * (kMaxClaimBackoff + s.api.max_call());
}

std::string NodeSchedule::describe() const {
  std::string out = "seed " + std::to_string(seed) + ": " + summary + "\n";
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto& c = nodes[i];
    out += "  node" + std::to_string(i) + ": priority " + std::to_string(c.vrrp.priority) +
           " advert " + format_time(c.vrrp.advert_interval) +
           (c.vrrp.preempt ? " preempt" : " no preempt") + " delay " +
           format_time(c.vrrp.preempt_delay) + (c.vrrp.peers.empty() ? " multicast" : " unicast") +
           " reconcile " + format_time(c.reserved_ip.reconcile_interval) +
           (c.virtual_ip.addresses.empty() ? "" : " +vip") + "\n";
  }
  out += "  net delay " + format_time(net.delay_min) + ".." + format_time(net.delay_max) +
         ", api " + format_time(api.latency_min) + ".." + format_time(api.latency_max) +
         " action .." + format_time(api.action_max) + ", quiet from " + format_time(quiet_from) +
         ", end " + format_time(end) + "\n";
  for (const auto& e : events) out += "  script: " + e.describe() + "\n";
  return out;
}

NodeSchedule random_node_schedule(std::uint64_t seed) {
  // Separate from the simulator's stream (seeded with `seed` itself).
  Draw d(seed * 0x9E3779B97F4A7C15ULL + 0x51);
  NodeSchedule s;
  s.seed = seed;
  const int n = d.chance(70) ? 2 : 3;
  const Duration interval = d.chance(50) ? Duration{seconds(1)} : Duration{milliseconds(500)};
  const bool preempt = d.chance(75);
  const Duration preempt_delay = d.chance(70) ? Duration{0} : Duration{seconds(d.between(1, 3))};
  const Duration reconcile{seconds(d.between(1, 3))};
  const bool vips = d.chance(50);
  const std::vector<int> prios = d.distinct(n, 20, 250);
  for (int i = 0; i < n; ++i) {
    config::Config c;
    c.instance.name = "node" + std::to_string(i);
    c.instance.interface = "eth1";
    c.vrrp.virtual_router_id = 51;
    c.vrrp.priority = static_cast<std::uint8_t>(prios[static_cast<std::size_t>(i)]);
    c.vrrp.advert_interval = interval;
    c.vrrp.preempt = preempt;
    c.vrrp.preempt_delay = preempt_delay;
    if (n == 2) {
      // One unicast peer over udp: the instant handover of a priority-0 advert applies.
      c.vrrp.transport = config::Transport::kUdp;
      c.vrrp.peers = {util::Ipv4::from_octets(10, 0, 0, static_cast<std::uint8_t>(2 - i))};
      c.vrrp.auth_key_file = "/etc/failoverd/web.key";
    }
    config::CheckConfig check;
    check.name = "svc";
    check.weight = 0;
    check.spec = config::TcpCheckSpec{config::HostPort{"127.0.0.1", 80}};
    c.checks.push_back(check);
    c.notify.master = c.notify.backup = c.notify.fault = c.notify.stop = "/etc/failoverd/hook";
    c.reserved_ip.provider = config::Provider::kDigitalOcean;
    c.reserved_ip.address = kReserved;
    c.reserved_ip.token_file = "/etc/failoverd/do.token";
    c.reserved_ip.droplet_id = 1000 + static_cast<std::uint64_t>(i);
    c.reserved_ip.reconcile_interval = reconcile;
    if (vips) c.virtual_ip.addresses = {config::Cidr{util::Ipv4::from_octets(10, 0, 0, 100), 24}};
    c.control.socket = "/run/failoverd/node" + std::to_string(i) + ".sock";
    s.nodes.push_back(std::move(c));
  }
  s.net = NetworkConfig{Duration{milliseconds(1)}, Duration{milliseconds(d.between(2, 60))}, 0.0,
                        d.chance(80)};
  s.api.latency_max = Duration{milliseconds(d.between(20, 300))};
  s.api.action_max = Duration{milliseconds(d.between(0, 2000))};
  s.api.timeout = Duration{seconds(d.between(2, 10))};
  s.first_verdict = Duration{milliseconds(d.between(100, 3000))};

  for (int i = 0; i < n; ++i) {
    s.events.push_back(event(Time{d.duration(Duration{0}, seconds(2))}, K::Start, i));
  }
  // The disturbed phase: faults that each end by `until`, where everything is put right.
  const Time until{seconds(d.between(30, 120))};
  const int faults = static_cast<int>(d.between(2, 14));
  std::string kinds;
  auto window = [&](Duration max_len) {
    const Time from{d.duration(Duration{seconds(3)}, until - seconds(1))};
    const Time to = std::min(until, from + d.duration(Duration{milliseconds(100)}, max_len));
    return std::make_pair(from, to);
  };
  for (int f = 0; f < faults; ++f) {
    const int node = static_cast<int>(d.between(0, n - 1));
    const auto [from, to] = window(seconds(d.chance(50) ? 5 : 40));
    switch (d.between(0, 11)) {
      case 0: {
        NodeEvent p = event(from, K::Partition);
        for (int i = 0; i < n; ++i) p.groups.push_back(static_cast<int>(d.between(0, 1)));
        s.events.push_back(p);
        s.events.push_back(event(to, K::Heal));
        kinds += "P";
        break;
      }
      case 1:
        s.events.push_back(
            event(from, K::SetLoss, 0, false, 0.05 * static_cast<double>(d.between(1, 10))));
        s.events.push_back(event(to, K::SetLoss, 0, false, 0.0));
        kinds += "L";
        break;
      case 2:
        s.events.push_back(event(from, K::Crash, node));
        if (d.chance(80)) s.events.push_back(event(to, K::Start, node));
        kinds += "C";
        break;
      case 3:
        s.events.push_back(event(from, K::Shutdown, node));
        if (d.chance(80)) s.events.push_back(event(to, K::Start, node));
        kinds += "S";
        break;
      case 4:
        s.events.push_back(event(from, K::Health, node, true));
        s.events.push_back(event(to, K::Health, node, false));
        kinds += "H";
        break;
      case 5:
        s.events.push_back(event(from, K::Link, node, true));
        s.events.push_back(event(to, K::Link, node, false));
        kinds += "K";
        break;
      case 6:
        s.events.push_back(event(from, K::ApiDown, 0, true));
        s.events.push_back(event(to, K::ApiDown, 0, false));
        kinds += "D";
        break;
      case 7:
        s.events.push_back(
            event(from, K::ApiFlaky, 0, false, 0.1 * static_cast<double>(d.between(1, 8))));
        s.events.push_back(event(to, K::ApiFlaky, 0, false, 0.0));
        kinds += "F";
        break;
      case 8:
        // A bad token faults the node for good once a claim is refused: an operator fixes the
        // token and restarts the daemon (sometimes).
        s.events.push_back(event(from, K::BadToken, node, true));
        s.events.push_back(event(to, K::BadToken, node, false));
        if (d.chance(60)) s.events.push_back(event(to, K::Start, node));
        kinds += "T";
        break;
      case 9:
        s.events.push_back(event(from, K::Failover, node));
        kinds += "O";
        break;
      case 10:
        s.events.push_back(event(from, K::Maintenance, node, true));
        s.events.push_back(event(to, K::Maintenance, node, false));
        kinds += "M";
        break;
      default:
        // A restart in place of a running node (a crash and a fresh Node at once).
        s.events.push_back(event(from, K::Start, node));
        kinds += "R";
        break;
    }
  }
  // Everything put right at `until`, so that the quiet phase owes nothing to the script.
  s.events.push_back(event(until, K::Heal));
  s.events.push_back(event(until, K::SetLoss, 0, false, 0.0));
  s.events.push_back(event(until, K::ApiDown, 0, false));
  s.events.push_back(event(until, K::ApiFlaky, 0, false, 0.0));
  for (int i = 0; i < n; ++i) {
    s.events.push_back(event(until, K::Health, i, false));
    s.events.push_back(event(until, K::Link, i, false));
    s.events.push_back(event(until, K::BadToken, i, false));
    s.events.push_back(event(until, K::Maintenance, i, false));
  }
  std::stable_sort(s.events.begin(), s.events.end(),
                   [](const NodeEvent& a, const NodeEvent& b) { return a.at < b.at; });
  // A call made before `until` may still be answered (with a bad token, a 503) until then.
  s.quiet_from = until + s.api.max_call();
  s.end = claim_settled_at(s) + seconds(5);
  s.summary = std::to_string(n) + " nodes, faults " + kinds + (vips ? ", vips" : "") +
              (preempt ? "" : ", no preempt");
  return s;
}

NodeVerdict check_node_run(const NodeSchedule& s, const NodeSim& sim) {
  NodeVerdict v;
  const std::string who = "seed " + std::to_string(s.seed) + ": ";
  for (const auto& x : sim.violations()) v.violations.push_back(who + x);
  v.settled_at = settled_at(s);
  v.claim_settled_at = claim_settled_at(s);

  // Invariant 1: the states at settled_at, and no change after it.
  std::vector<core::State> state(s.nodes.size(), core::State::Initialize);
  for (const auto& e : sim.timeline()) {
    if (e.time <= v.settled_at) {
      state[static_cast<std::size_t>(e.node)] = e.state;
    } else {
      v.violations.push_back(who + format_time(e.time) + " node" + std::to_string(e.node) +
                             " changed state (" + core::to_string(e.state) +
                             ") after the election settled at " + format_time(v.settled_at));
    }
  }
  std::vector<int> masters;
  for (int i = 0; i < sim.size(); ++i) {
    if (state[static_cast<std::size_t>(i)] == core::State::Master) masters.push_back(i);
  }
  if (masters.size() > 1) {
    v.violations.push_back(who + format_time(v.settled_at) + ": " + std::to_string(masters.size()) +
                           " MASTERs after the election settled");
  }
  bool could_serve = false;
  for (int i = 0; i < sim.size(); ++i) {
    const node::Node* n = sim.node(i);
    if (n && n->joined() && !n->fault_reason()) could_serve = true;
  }
  if (could_serve && sim.masters().size() != 1) {
    v.violations.push_back(who + format_time(sim.now()) + ": " +
                           std::to_string(sim.masters().size()) +
                           " MASTERs although a running node could serve");
  }

  // Invariant 2: the reserved IP on that MASTER from claim_settled_at on.
  if (masters.size() == 1 && sim.masters() == masters) {
    const int m = masters.front();
    v.one_master = true;
    std::optional<int> holder;
    for (const auto& c : sim.holder_changes()) {
      if (c.at <= v.claim_settled_at) {
        holder = c.to;
      } else {
        v.violations.push_back(who + format_time(c.at) + ": the reserved IP moved to " +
                               (c.to ? "node" + std::to_string(*c.to) : "nobody") +
                               " after the claims settled at " + format_time(v.claim_settled_at));
      }
    }
    if (holder != m) {
      v.violations.push_back(who + format_time(v.claim_settled_at) + ": the reserved IP is on " +
                             (holder ? "node" + std::to_string(*holder) : "nobody") +
                             ", not on the MASTER node" + std::to_string(m));
    }
  }
  return v;
}

NodeVerdict run_node_schedule(const NodeSchedule& s, NodeSimCounters* counters,
                              std::string* trace) {
  NodeSim sim(s.seed, s.nodes, s.net, s.api, s.first_verdict);
  sim.schedule(s.events);
  sim.run_until(s.end);
  NodeVerdict v = check_node_run(s, sim);
  if (counters) *counters = sim.counters();
  if (trace) {
    *trace = s.describe() + "timeline:\n" + format_timeline(sim.timeline());
    for (int i = 0; i < sim.size(); ++i) {
      *trace += "hooks of node" + std::to_string(i) + ":";
      for (const auto& h : sim.hook_log(i)) {
        static const char* const kNames[] = {"master", "backup", "fault", "stop"};
        *trace += " " + format_time(h.at) + "#" + std::to_string(h.incarnation) + ":" +
                  kNames[static_cast<int>(h.hook)] + (h.claim.empty() ? "" : "=" + h.claim);
      }
      *trace += "\n";
    }
    *trace += "holder:";
    for (const auto& c : sim.holder_changes()) {
      *trace += " " + format_time(c.at) + "->" + (c.to ? "node" + std::to_string(*c.to) : "-");
    }
    *trace += "\n";
  }
  return v;
}

}  // namespace failoverd::sim
