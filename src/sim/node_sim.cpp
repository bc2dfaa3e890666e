#include "failoverd/sim/node_sim.h"

#include <algorithm>
#include <utility>

namespace failoverd::sim {

namespace {

// Far more events than any schedule needs: a Node that re-arms its timer for "now" in a loop
// would otherwise never end.
constexpr std::uint64_t kMaxEvents = 5'000'000;

util::Ipv4 address_of(int i) {
  return util::Ipv4::from_octets(10, 0, 0, static_cast<std::uint8_t>(i + 1));
}

std::string name_of(node::Hook h) {
  switch (h) {
    case node::Hook::kMaster:
      return "master";
    case node::Hook::kBackup:
      return "backup";
    case node::Hook::kFault:
      return "fault";
    case node::Hook::kStop:
      return "stop";
  }
  return "?";
}

std::optional<node::Hook> hook_for(core::State s) {
  switch (s) {
    case core::State::Master:
      return node::Hook::kMaster;
    case core::State::Backup:
      return node::Hook::kBackup;
    case core::State::Fault:
      return node::Hook::kFault;
    case core::State::Initialize:
      return std::nullopt;
  }
  return std::nullopt;
}

// "STATUS=MASTER", "READY=1\nSTATUS=BACKUP", "READY=1\nSTATUS=INIT: waiting ...": the state the
// node tells systemd, which is what on_transition announces for every transition.
std::optional<core::State> status_state(const std::string& text) {
  const auto at = text.find("STATUS=");
  if (at == std::string::npos) return std::nullopt;
  const auto word_end = text.find_first_of(":\n", at + 7);
  const std::string word =
      text.substr(at + 7, word_end == std::string::npos ? std::string::npos : word_end - at - 7);
  for (auto s :
       {core::State::Initialize, core::State::Backup, core::State::Master, core::State::Fault}) {
    if (word == core::to_string(s)) return s;
  }
  return std::nullopt;
}

bool has_reserved_ip(const config::Config& c) {
  return c.reserved_ip.provider != config::Provider::kNone;
}

}  // namespace

std::string NodeEvent::describe() const {
  const std::string who = " node" + std::to_string(node);
  const std::string t = format_time(at);
  switch (kind) {
    case Kind::Start:
      return t + " start" + who;
    case Kind::Crash:
      return t + " crash" + who;
    case Kind::Shutdown:
      return t + " shutdown" + who;
    case Kind::Partition: {
      std::string g;
      for (int x : groups) g += std::to_string(x);
      return t + " partition groups=" + g;
    }
    case Kind::Heal:
      return t + " heal";
    case Kind::SetLoss:
      return t + " loss=" + std::to_string(value);
    case Kind::Health:
      return t + (flag ? " checks fail" : " checks pass") + who;
    case Kind::Link:
      return t + (flag ? " link down" : " link up") + who;
    case Kind::ApiDown:
      return t + (flag ? " API down" : " API up");
    case Kind::ApiFlaky:
      return t + " API flaky=" + std::to_string(value);
    case Kind::BadToken:
      return t + (flag ? " bad token" : " good token") + who;
    case Kind::Failover:
      return t + " failover" + who;
    case Kind::Maintenance:
      return t + (flag ? " maintenance on" : " maintenance off") + who;
  }
  return t + " ?";
}

NodeSim::NodeSim(std::uint64_t seed, std::vector<config::Config> nodes, NetworkConfig net,
                 ApiConfig api, Duration first_verdict)
    : configs_(std::move(nodes)),
      net_(net),
      api_(api),
      first_verdict_(first_verdict),
      rng_(seed),
      hosts_(configs_.size()),
      groups_(configs_.size(), 0) {}

const node::Node* NodeSim::node(int i) const {
  const auto& h = hosts_.at(i);
  return h.node ? &*h.node : nullptr;
}

std::vector<int> NodeSim::masters() const {
  std::vector<int> out;
  for (int i = 0; i < size(); ++i) {
    if (state(i) == core::State::Master) out.push_back(i);
  }
  return out;
}

void NodeSim::at(Time t, std::function<void()> fn) {
  queue_.push_back(Event{std::max(t, now_), next_seq_++, std::move(fn)});
  std::push_heap(queue_.begin(), queue_.end(), Later{});
}

void NodeSim::schedule(NodeEvent ev) {
  const bool per_node = ev.kind != NodeEvent::Kind::Partition && ev.kind != NodeEvent::Kind::Heal &&
                        ev.kind != NodeEvent::Kind::SetLoss &&
                        ev.kind != NodeEvent::Kind::ApiDown && ev.kind != NodeEvent::Kind::ApiFlaky;
  if (ev.at < now_ || (per_node && (ev.node < 0 || ev.node >= size())) ||
      (ev.kind == NodeEvent::Kind::Partition && ev.groups.size() != hosts_.size())) {
    violations_.push_back("bad scripted event: " + ev.describe());
    return;
  }
  const Time t = ev.at;
  at(t, [this, ev = std::move(ev)] { run_script(ev); });
}

void NodeSim::schedule(const std::vector<NodeEvent>& evs) {
  for (const auto& ev : evs) schedule(ev);
}

void NodeSim::run_until(Time until) {
  while (!queue_.empty() && queue_.front().at <= until) {
    std::pop_heap(queue_.begin(), queue_.end(), Later{});
    Event ev = std::move(queue_.back());
    queue_.pop_back();
    now_ = ev.at;
    if (++counters_.events > kMaxEvents) {
      violations_.push_back(format_time(now_) + ": event storm: more than " +
                            std::to_string(kMaxEvents) + " events");
      queue_.clear();
      break;
    }
    ev.fn();
  }
  now_ = std::max(now_, until);
}

node::Now NodeSim::now_for() const {
  // The wall clock only stamps the history: any fixed epoch will do.
  return node::Now{now_, std::chrono::system_clock::time_point{} +
                             std::chrono::duration_cast<std::chrono::system_clock::duration>(
                                 now_ + std::chrono::hours(24 * 365 * 50))};
}

health::Verdict NodeSim::verdict_of(int i) const {
  health::Verdict v;
  if (hosts_[i].health_failing) {
    v.fault = true;
    v.fault_reason = "check svc: connection refused";
  }
  return v;
}

std::optional<std::string> NodeSim::link_problem_of(int i) const {
  if (!hosts_[i].link_down) return std::nullopt;
  return "interface " + configs_[i].instance.interface + " is down";
}

void NodeSim::violation(int i, const std::string& what) {
  violations_.push_back(format_time(now_) + " node" + std::to_string(i) + ": " + what);
}

Duration NodeSim::draw(Duration lo, Duration hi) {
  // Our own arithmetic instead of std::uniform_int_distribution, whose output differs between
  // standard libraries: a seed must replay the same run everywhere.
  const auto span = static_cast<std::uint64_t>((hi - lo).count());
  return lo + Duration{static_cast<std::int64_t>(rng_() % (span + 1))};
}

double NodeSim::unit() {
  return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
}

// ---- the script ----

void NodeSim::run_script(const NodeEvent& ev) {
  using K = NodeEvent::Kind;
  Host& h = hosts_[static_cast<std::size_t>(ev.node)];
  switch (ev.kind) {
    case K::Start:
      if (h.node) stop(ev.node, "crashed (restarted)");
      start(ev.node);
      return;
    case K::Crash:
      if (h.node) stop(ev.node, "crashed");
      return;
    case K::Shutdown:
      if (!h.node) return;
      h.stopping = true;
      carry_out(ev.node, h.node->shutdown(now_for()));
      stop(ev.node, "shut down");
      return;
    case K::Partition:
      groups_ = ev.groups;
      return;
    case K::Heal:
      std::fill(groups_.begin(), groups_.end(), 0);
      return;
    case K::SetLoss:
      net_.loss = ev.value;
      return;
    case K::Health:
      h.health_failing = ev.flag;
      if (h.node) carry_out(ev.node, h.node->on_verdict(now_for(), verdict_of(ev.node)));
      return;
    case K::Link:
      h.link_down = ev.flag;
      if (h.node) carry_out(ev.node, h.node->on_links(now_for(), link_problem_of(ev.node)));
      return;
    case K::ApiDown:
      api_down_ = ev.flag;
      return;
    case K::ApiFlaky:
      api_flaky_ = ev.value;
      return;
    case K::BadToken:
      h.bad_token = ev.flag;
      return;
    case K::Failover:
    case K::Maintenance: {
      if (!h.node) return;
      control::Request req;
      if (ev.kind == K::Failover) {
        req.command = "failover";
        req.args["hold_ms"] =
            std::chrono::duration_cast<std::chrono::milliseconds>(kSimFailoverHold).count();
      } else {
        req.command = "maintenance";
        req.args["enabled"] = ev.flag;
      }
      ++counters_.commands;
      auto reply = h.node->on_control(now_for(), req);
      if (!reply) {
        violation(ev.node, req.command + ": not handled by the Node");
        return;
      }
      if (!reply->outcome) {
        ++counters_.refused;
        if (!reply->effects.empty()) violation(ev.node, req.command + ": refused with effects");
      }
      carry_out(ev.node, std::move(reply->effects));
      return;
    }
  }
}

void NodeSim::start(int i) {
  Host& h = hosts_[static_cast<std::size_t>(i)];
  ++h.incarnation;
  h.node.emplace(configs_[static_cast<std::size_t>(i)]);
  h.node_transitions = 0;
  h.state = core::State::Initialize;
  h.owed.clear();
  h.stopping = false;
  h.stop_hook_ran = false;
  h.call_out = false;
  // As the daemon starts: the source address and the links are known before start(); the
  // checks' first results come later.
  carry_out(i, h.node->on_source(now_for(), address_of(i)));
  if (h.link_down) carry_out(i, h.node->on_links(now_for(), link_problem_of(i)));
  carry_out(i, h.node->start(now_for()));
  const int inc = h.incarnation;
  at(now_ + first_verdict_, [this, i, inc] {
    Host& x = hosts_[static_cast<std::size_t>(i)];
    if (x.node && x.incarnation == inc) carry_out(i, x.node->on_verdict(now_for(), verdict_of(i)));
  });
}

void NodeSim::stop(int i, const std::string& why) {
  Host& h = hosts_[static_cast<std::size_t>(i)];
  end_incarnation(i);
  const bool crash = !h.stopping;
  if (crash && h.vips_held) h.vips_left = true;  // still on the dead node's interface
  h.vips_held = false;
  h.node.reset();
  ++h.timer_generation;
  h.call_out = false;
  h.state = core::State::Initialize;
  timeline_.push_back(TimelineEntry{now_, i, core::State::Initialize, false, why});
}

// Invariant 3 at the end of a process: a crash may lose the master hook that waited for its
// claim (effects are lost with the process); a graceful stop owes nothing and ran its stop hook.
void NodeSim::end_incarnation(int i) {
  Host& h = hosts_[static_cast<std::size_t>(i)];
  const auto& cfg = configs_[static_cast<std::size_t>(i)];
  const bool waiting_for_claim =
      h.owed.size() == 1 && h.owed.front() == node::Hook::kMaster && has_reserved_ip(cfg);
  if (h.stopping) {
    if (!h.owed.empty())
      violation(i, "stopped with " + std::to_string(h.owed.size()) + " hook(s) owed, first " +
                       name_of(h.owed.front()));
    if (!h.stop_hook_ran) violation(i, "shut down without running the stop hook");
  } else if (!h.owed.empty() && !waiting_for_claim) {
    violation(i, "crashed with hook " + name_of(h.owed.front()) + " owed");
  }
}

// ---- effects ----

void NodeSim::carry_out(int i, node::Effects effects, Call call) {
  Host& h = hosts_[static_cast<std::size_t>(i)];
  if (!h.node) return;
  const auto& cfg = configs_[static_cast<std::size_t>(i)];
  const std::uint64_t transitions_before = counters_.transitions;
  std::optional<std::optional<core::Time>> timer;
  for (auto& effect : effects) {
    if (const auto* send = std::get_if<node::SendAdvert>(&effect)) {
      broadcast(i, send->advert);
    } else if (std::holds_alternative<node::TakeVips>(effect)) {
      if (h.state != core::State::Master) {
        violation(i, std::string("TakeVips as ") + core::to_string(h.state));
      }
      h.vips_held = true;
      h.vips_left = false;
    } else if (std::holds_alternative<node::ReleaseVips>(effect)) {
      h.vips_held = false;
    } else if (std::holds_alternative<node::StartClaim>(effect)) {
      ++counters_.claims;
      if (h.state != core::State::Master) {
        violation(i, std::string("StartClaim as ") + core::to_string(h.state));
      }
      if (h.call_out) violation(i, "StartClaim while a provider call is out");
      h.call_out = true;
      h.claim_epoch = h.master_epoch;
      api_claim(i);
    } else if (std::holds_alternative<node::StartCheck>(effect)) {
      ++counters_.checks;
      if (h.call_out) violation(i, "StartCheck while a provider call is out");
      h.call_out = true;
      api_check(i);
    } else if (const auto* hook = std::get_if<node::RunHook>(&effect)) {
      on_hook(i, *hook, call);
    } else if (const auto* n = std::get_if<node::NotifySystemd>(&effect)) {
      if (auto s = status_state(n->text); s && *s != h.state) on_state(i, *s);
    } else if (const auto* arm = std::get_if<node::ArmTimer>(&effect)) {
      timer = arm->at;
    }
  }
  if (!h.node) return;
  // The Node counts every transition; each must have been announced.
  const std::uint64_t made = h.node->transitions() - h.node_transitions;
  h.node_transitions = h.node->transitions();
  if (counters_.transitions - transitions_before != made) {
    violation(i, "the Node made " + std::to_string(made) + " transition(s) but announced " +
                     std::to_string(counters_.transitions - transitions_before));
  }
  if (h.node->instance().state() != h.state &&
      !(h.stopping && h.state == core::State::Initialize)) {
    violation(i, std::string("announced ") + core::to_string(h.state) + " but is " +
                     core::to_string(h.node->instance().state()));
  }
  // Invariant 3 between calls: at most the master hook waits, for its claim.
  const bool waiting_for_claim = h.owed.size() == 1 && h.owed.front() == node::Hook::kMaster &&
                                 has_reserved_ip(cfg) && h.state == core::State::Master;
  if (!h.owed.empty() && !waiting_for_claim) {
    violation(i, "a call ended with hook " + name_of(h.owed.front()) + " owed, as " +
                     core::to_string(h.state));
    h.owed.clear();  // reported once
  }
  // Invariant 5.
  if (!cfg.virtual_ip.addresses.empty() && h.vips_held != (h.state == core::State::Master)) {
    violation(i, std::string(h.vips_held ? "holds" : "does not hold") + " the VIPs as " +
                     core::to_string(h.state));
  }
  if (cfg.virtual_ip.addresses.empty() && h.vips_held) violation(i, "VIPs without [virtual_ip]");
  if (timer) {
    const std::uint64_t gen = ++h.timer_generation;
    if (*timer) {
      at(**timer, [this, i, gen] {
        Host& x = hosts_[static_cast<std::size_t>(i)];
        if (x.node && x.timer_generation == gen) carry_out(i, x.node->on_timer(now_for()));
      });
    }
  }
}

void NodeSim::on_state(int i, core::State to) {
  Host& h = hosts_[static_cast<std::size_t>(i)];
  const auto& cfg = configs_[static_cast<std::size_t>(i)];
  ++counters_.transitions;
  const bool waiting_for_claim =
      h.owed.size() == 1 && h.owed.front() == node::Hook::kMaster && has_reserved_ip(cfg);
  if (!h.owed.empty() && !waiting_for_claim) {
    violation(i, std::string("transition to ") + core::to_string(to) + " while hook " +
                     name_of(h.owed.front()) + " is owed");
    h.owed.clear();
  }
  if (to == core::State::Master) ++h.master_epoch;
  if (auto hook = hook_for(to)) h.owed.push_back(*hook);
  h.state = to;
  timeline_.push_back(TimelineEntry{now_, i, to, true, ""});
}

void NodeSim::on_hook(int i, const node::RunHook& run, Call call) {
  Host& h = hosts_[static_cast<std::size_t>(i)];
  const auto& cfg = configs_[static_cast<std::size_t>(i)];
  ++counters_.hooks;
  std::string claim;
  if (auto it = run.env.find("FAILOVERD_CLAIM"); it != run.env.end()) claim = it->second;
  h.hooks.push_back(HookRun{now_, h.incarnation, run.hook, claim});
  const std::string what = name_of(run.hook) + " hook";
  if (run.hook == node::Hook::kStop) {
    if (!h.stopping) violation(i, what + " without a shutdown");
    if (h.stop_hook_ran) violation(i, what + " twice");
    h.stop_hook_ran = true;
    return;
  }
  if (h.owed.empty()) {
    violation(i, what + " for no transition");
    return;
  }
  if (h.owed.front() != run.hook) {
    violation(i, what + ", but the " + name_of(h.owed.front()) + " hook is owed first");
    h.owed.erase(h.owed.begin());
    return;
  }
  h.owed.erase(h.owed.begin());
  if (run.hook != node::Hook::kMaster) return;
  if (!has_reserved_ip(cfg)) {
    if (claim != "none") violation(i, what + " with FAILOVERD_CLAIM=" + claim + ", not none");
    return;
  }
  // With a reserved IP: after the claim's report, with its outcome, or "pending" when the
  // node left MASTER first (then it runs in the call of that transition, before its hook).
  const std::string expected = call == Call::kClaimOk       ? "ok"
                               : call == Call::kClaimFailed ? "failed"
                                                            : "pending";
  if (claim != expected) {
    violation(i, what + " with FAILOVERD_CLAIM=" + claim + " where " + expected + " was due");
  }
  if (call != Call::kOther && h.claim_epoch != h.master_epoch) {
    violation(i, what + " reports a claim started in an earlier MASTER period (" +
                     std::to_string(h.claim_epoch) + " of " + std::to_string(h.master_epoch) + ")");
  }
  if (call == Call::kOther && h.state == core::State::Master) {
    violation(i, what + " with FAILOVERD_CLAIM=pending while still MASTER");
  }
}

// ---- the network ----

void NodeSim::broadcast(int from, const proto::Advertisement& ad) {
  ++counters_.adverts_sent;
  const core::Advert advert{address_of(from), ad.priority, ad.max_adver_interval_cs};
  for (int to = 0; to < size(); ++to) {
    if (to == from ||
        groups_[static_cast<std::size_t>(from)] != groups_[static_cast<std::size_t>(to)]) {
      continue;
    }
    // Draw the delay even for a lost advert so that loss does not shift later draws.
    const Duration delay = draw(net_.delay_min, net_.delay_max);
    if (net_.loss > 0.0 && unit() < net_.loss) {
      ++counters_.lost;
      continue;
    }
    Host& r = hosts_[static_cast<std::size_t>(to)];
    Time arrival = now_ + delay;
    if (net_.ordered) arrival = std::max(arrival, r.last_arrival);
    r.last_arrival = arrival;
    at(arrival, [this, from, to, advert] {
      Host& x = hosts_[static_cast<std::size_t>(to)];
      // Stopped, or a partition began while it was on its way.
      if (!x.node ||
          groups_[static_cast<std::size_t>(from)] != groups_[static_cast<std::size_t>(to)]) {
        return;
      }
      ++counters_.deliveries;
      carry_out(to, x.node->on_advert(now_for(), advert));
    });
  }
}

// ---- the fake API ----

NodeSim::Fate NodeSim::draw_fate(int i) {
  // Drawn whatever the state, so that a fault does not shift later draws.
  const double u = unit();
  if (hosts_[static_cast<std::size_t>(i)].bad_token) return Fate::kUnauthorized;
  if (api_down_) return Fate::kDown;
  if (u < api_flaky_ / 2) return Fate::kError;
  if (u < api_flaky_) return Fate::kTimeout;
  return Fate::kOk;
}

void NodeSim::answer(int i, int incarnation, Duration after, std::function<void()> fn) {
  at(now_ + after, [this, i, incarnation, fn = std::move(fn)] {
    Host& h = hosts_[static_cast<std::size_t>(i)];
    // A dead process hears nothing; its successor did not ask.
    if (!h.node || h.incarnation != incarnation) return;
    h.call_out = false;
    fn();
  });
}

void NodeSim::set_holder(std::optional<int> to) {
  if (to == holder_) return;
  holder_ = to;
  ++counters_.holder_changes;
  holder_changes_.push_back({now_, to});
}

void NodeSim::api_claim(int i) {
  const int inc = hosts_[static_cast<std::size_t>(i)].incarnation;
  const Time started = now_;
  auto report = [this, i, started](node::ClaimReport r) {
    r.latency = std::chrono::duration_cast<std::chrono::milliseconds>(now_ - started);
    if (!r.ok()) ++counters_.claim_failures;
    Host& h = hosts_[static_cast<std::size_t>(i)];
    carry_out(i, h.node->on_claim_report(now_for(), r),
              r.ok() ? Call::kClaimOk : Call::kClaimFailed);
  };
  auto failed = [](std::string detail, bool permanent = false) {
    node::ClaimReport r;
    r.outcome = node::ClaimReport::Outcome::kFailed;
    r.attempts = 1;
    r.detail = std::move(detail);
    r.permanent = permanent;
    return r;
  };
  // GET /v2/reserved_ips/ADDR, at the API after one latency.
  at(now_ + draw(api_.latency_min, api_.latency_max), [=, this] {
    const Fate fate = draw_fate(i);
    const Duration back = draw(api_.latency_min, api_.latency_max);
    switch (fate) {
      case Fate::kUnauthorized:
        answer(i, inc, back, [=] { report(failed("401 Unauthorized: check the token", true)); });
        return;
      case Fate::kDown:
        answer(i, inc, back, [=] { report(failed("503 Service Unavailable")); });
        return;
      case Fate::kError:
        answer(i, inc, back, [=] { report(failed("500 Internal Server Error")); });
        return;
      case Fate::kTimeout:
      case Fate::kOk:
        break;
    }
    const bool timeout = fate == Fate::kTimeout;
    if (!timeout && holder_ == i) {
      answer(i, inc, back, [=] {
        node::ClaimReport r;
        r.outcome = node::ClaimReport::Outcome::kAlreadyHeld;
        r.detail = "already assigned to this droplet";
        report(r);
      });
      return;
    }
    // POST .../actions {"type":"assign"}, sent when the GET's answer arrives. A timeout is
    // this POST's answer lost: the assign still happens, the client hears of it only as a
    // failure at its timeout (so a failed claim may have moved the address).
    at(now_ + back + draw(api_.latency_min, api_.latency_max), [=, this] {
      const Host& h = hosts_[static_cast<std::size_t>(i)];
      if (!h.node || h.incarnation != inc) return;  // the process died before it sent the POST
      const Duration left = std::max(api_.timeout - (now_ - started), Duration{0});
      if (locked_) {
        if (timeout) {
          answer(i, inc, left, [=] { report(failed("timed out")); });
        } else {
          answer(i, inc, draw(api_.latency_min, api_.latency_max),
                 [=] { report(failed("422 Unprocessable Entity: the IP has a pending event")); });
        }
        return;
      }
      locked_ = true;
      // The action runs whether or not the claimer lives to see it complete.
      const Duration action = draw(api_.action_min, api_.action_max);
      at(now_ + action, [=, this] {
        locked_ = false;
        set_holder(i);
      });
      if (timeout) {
        answer(i, inc, left, [=] { report(failed("timed out")); });
      } else {
        answer(i, inc, action + draw(api_.latency_min, api_.latency_max), [=] {
          node::ClaimReport r;
          r.outcome = node::ClaimReport::Outcome::kClaimed;
          r.attempts = 1;
          r.detail = "assign action completed";
          report(r);
        });
      }
    });
  });
}

void NodeSim::api_check(int i) {
  const int inc = hosts_[static_cast<std::size_t>(i)].incarnation;
  const Time started = now_;
  auto report = [this, i](node::HolderReport r) {
    Host& h = hosts_[static_cast<std::size_t>(i)];
    carry_out(i, h.node->on_check_report(now_for(), r));
  };
  auto error = [](std::string why) {
    node::HolderReport r;
    r.error = std::move(why);
    return r;
  };
  at(now_ + draw(api_.latency_min, api_.latency_max), [=, this] {
    const Fate fate = draw_fate(i);
    const Duration back = draw(api_.latency_min, api_.latency_max);
    switch (fate) {
      case Fate::kUnauthorized:
        answer(i, inc, back, [=] { report(error("401 Unauthorized")); });
        return;
      case Fate::kDown:
        answer(i, inc, back, [=] { report(error("503 Service Unavailable")); });
        return;
      case Fate::kError:
        answer(i, inc, back, [=] { report(error("500 Internal Server Error")); });
        return;
      case Fate::kTimeout:
        answer(i, inc, std::max(api_.timeout - (now_ - started), Duration{0}),
               [=] { report(error("timed out")); });
        return;
      case Fate::kOk:
        break;
    }
    node::HolderReport r;
    r.locked = locked_;
    r.ours = holder_ == i;
    if (holder_) r.holder = "droplet-" + std::to_string(*holder_);
    answer(i, inc, back, [=] { report(r); });
  });
}

}  // namespace failoverd::sim
