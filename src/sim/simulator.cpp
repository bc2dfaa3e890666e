#include "failoverd/sim/simulator.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace failoverd::sim {

namespace {

// Far more events than any scenario needs: a core that re-arms a timer in a loop or two
// masters that answer each other forever would otherwise never end.
constexpr std::uint64_t kMaxEvents = 20'000'000;

// Our own draws instead of std::uniform_*_distribution, whose output differs between
// standard libraries: a seed must replay the same run everywhere.
std::uint64_t draw_below(std::mt19937_64& rng, std::uint64_t n) {
  return n == 0 ? 0 : rng() % n;
}
double draw_unit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);  // [0, 1)
}

}  // namespace

std::string format_time(Time t) {
  char buf[32];
  const auto us = t.count();
  std::snprintf(buf, sizeof buf, "%lld.%06llds", static_cast<long long>(us / 1'000'000),
                static_cast<long long>(us % 1'000'000));
  return buf;
}

std::string ScriptedEvent::describe() const {
  const std::string who = " node" + std::to_string(node);
  switch (kind) {
    case Kind::Start:
      return format_time(at) + " start" + who + (flag ? " (faulted)" : "");
    case Kind::Crash:
      return format_time(at) + " crash" + who;
    case Kind::Shutdown:
      return format_time(at) + " shutdown" + who;
    case Kind::Partition: {
      std::string g;
      for (int x : groups) g += std::to_string(x);
      return format_time(at) + " partition groups=" + g;
    }
    case Kind::Heal:
      return format_time(at) + " heal";
    case Kind::SetLoss:
      return format_time(at) + " loss=" + std::to_string(loss);
    case Kind::SetFault:
      return format_time(at) + (flag ? " fault" : " clear fault") + who;
    case Kind::SetPriorityDelta:
      return format_time(at) + " priority delta " + std::to_string(value) + who;
  }
  return format_time(at) + " ?";
}

std::string format_timeline(const std::vector<TimelineEntry>& timeline) {
  std::string out;
  for (const auto& e : timeline) {
    out += "  " + format_time(e.time) + " node" + std::to_string(e.node) + " " +
           (e.running ? core::to_string(e.state) : "STOPPED") + ": " + e.reason + "\n";
  }
  return out;
}

Simulator::Simulator(std::uint64_t seed, std::vector<core::Params> nodes, NetworkConfig net)
    : params_(std::move(nodes)),
      net_(net),
      rng_(seed),
      nodes_(params_.size()),
      groups_(params_.size(), 0) {}

void Simulator::push(Event ev) {
  ev.seq = next_seq_++;
  queue_.push_back(ev);
  std::push_heap(queue_.begin(), queue_.end(), Later{});
}

void Simulator::schedule(ScriptedEvent ev) {
  if (ev.at < now_) {
    errors_.push_back("scripted event in the past: " + ev.describe());
    return;
  }
  if (ev.kind != ScriptedEvent::Kind::Partition && ev.kind != ScriptedEvent::Kind::Heal &&
      ev.kind != ScriptedEvent::Kind::SetLoss && (ev.node < 0 || ev.node >= size())) {
    errors_.push_back("scripted event for an unknown node: " + ev.describe());
    return;
  }
  Event e;
  e.at = ev.at;
  e.kind = Event::Kind::Script;
  e.script = script_.size();
  e.generation = 0;
  script_.push_back(std::move(ev));
  push(e);
}

void Simulator::schedule(const std::vector<ScriptedEvent>& evs) {
  for (const auto& ev : evs) schedule(ev);
}

void Simulator::call_at(Time at, std::function<void()> fn) {
  Event e;
  e.at = std::max(at, now_);
  e.kind = Event::Kind::Call;
  e.script = calls_.size();
  e.generation = 0;
  calls_.push_back(std::move(fn));
  push(e);
}

void Simulator::run_until(Time until) {
  while (!queue_.empty() && queue_.front().at <= until) {
    std::pop_heap(queue_.begin(), queue_.end(), Later{});
    const Event ev = queue_.back();
    queue_.pop_back();
    now_ = ev.at;
    if (++counters_.events > kMaxEvents) {
      errors_.push_back("event storm: more than " + std::to_string(kMaxEvents) + " events by " +
                        format_time(now_));
      queue_.clear();
      break;
    }
    handle(ev);
  }
  now_ = std::max(now_, until);
}

core::State Simulator::state(int node) const {
  const auto& n = nodes_.at(node);
  return n.instance ? n.instance->state() : core::State::Initialize;
}

const core::Instance* Simulator::instance(int node) const {
  const auto& n = nodes_.at(node);
  return n.instance ? &*n.instance : nullptr;
}

std::vector<int> Simulator::masters() const {
  std::vector<int> out;
  for (int i = 0; i < size(); ++i) {
    if (state(i) == core::State::Master) out.push_back(i);
  }
  return out;
}

void Simulator::handle(const Event& ev) {
  switch (ev.kind) {
    case Event::Kind::Script:
      run_script(script_[ev.script]);
      return;
    case Event::Kind::Call: {
      auto fn = std::move(calls_[ev.script]);
      calls_[ev.script] = nullptr;
      if (fn) fn();
      return;
    }
    case Event::Kind::Timer: {
      Node& n = nodes_[ev.node];
      if (!n.instance || ev.generation != n.timer_generation) return;  // stale
      n.armed.reset();
      fired_node_ = ev.node;
      apply(ev.node, n.instance->on_timer(now_));
      fired_node_ = -1;
      return;
    }
    case Event::Kind::Deliver: {
      Node& n = nodes_[ev.node];
      if (!n.instance) {
        ++counters_.to_stopped_node;
        return;
      }
      if (!connected(ev.from, ev.node)) {
        // The partition started while the advert was on its way.
        ++counters_.partitioned;
        disturbances_.push_back(now_);
        return;
      }
      ++counters_.deliveries;
      apply(ev.node, n.instance->on_advert(now_, ev.advert));
      return;
    }
  }
}

void Simulator::run_script(const ScriptedEvent& ev) {
  using K = ScriptedEvent::Kind;
  switch (ev.kind) {
    case K::Start: {
      Node& n = nodes_[ev.node];
      if (n.instance) stop(ev.node, "crashed (restarted)");
      n.faulted = ev.flag;
      n.instance.emplace(params_[ev.node]);
      n.last_state = core::State::Initialize;
      core::Actions out = n.instance->set_priority_delta(now_, n.priority_delta);
      core::Actions started = n.instance->start(now_, n.faulted, "started faulted");
      out.insert(out.end(), started.begin(), started.end());
      apply(ev.node, std::move(out));
      return;
    }
    case K::Crash:
      if (nodes_[ev.node].instance) stop(ev.node, "crashed");
      return;
    case K::Shutdown: {
      Node& n = nodes_[ev.node];
      if (!n.instance) return;
      apply(ev.node, n.instance->shutdown(now_));
      stop(ev.node, "shut down");
      return;
    }
    case K::Partition:
      if (ev.groups.size() != nodes_.size()) {
        errors_.push_back("partition with " + std::to_string(ev.groups.size()) + " groups for " +
                          std::to_string(nodes_.size()) + " nodes");
        return;
      }
      groups_ = ev.groups;
      return;
    case K::Heal:
      std::fill(groups_.begin(), groups_.end(), 0);
      return;
    case K::SetLoss:
      net_.loss = ev.loss;
      return;
    case K::SetFault: {
      Node& n = nodes_[ev.node];
      n.faulted = ev.flag;
      if (n.instance) {
        apply(ev.node, n.instance->set_fault(now_, ev.flag, ev.flag ? "check failed" : ""));
      }
      return;
    }
    case K::SetPriorityDelta: {
      Node& n = nodes_[ev.node];
      n.priority_delta = ev.value;
      // Adverts already on their way carry the old priority: a comparison may go either way.
      disturbances_.push_back(now_);
      if (n.instance) apply(ev.node, n.instance->set_priority_delta(now_, ev.value));
      return;
    }
  }
}

void Simulator::apply(int node, core::Actions actions) {
  Node& n = nodes_[node];
  for (auto& action : actions) {
    if (const auto* send = std::get_if<core::SendAdvert>(&action)) {
      broadcast(node, core::Advert{params_[node].primary_address, send->priority,
                                   send->max_adver_interval_cs});
    } else if (auto* t = std::get_if<core::Transition>(&action)) {
      if (t->from != n.last_state) {
        errors_.push_back(format_time(now_) + " node" + std::to_string(node) +
                          ": transition from " + core::to_string(t->from) + " but it was " +
                          core::to_string(n.last_state));
      }
      if (t->to == core::State::Master && n.faulted) {
        errors_.push_back(format_time(now_) + " node" + std::to_string(node) +
                          " became MASTER while faulted");
      }
      record(node, t->to, true, std::move(t->reason));
    } else if (const auto* low = std::get_if<core::LowerPriorityAdvert>(&action)) {
      ++counters_.lower_priority_adverts;
      if (observer_.on_lower_priority) observer_.on_lower_priority(now_, node, *low);
    }
  }
  if (n.instance && n.instance->state() != n.last_state) {
    errors_.push_back(format_time(now_) + " node" + std::to_string(node) + " is " +
                      core::to_string(n.instance->state()) + " without a Transition action");
    n.last_state = n.instance->state();
  }
  rearm(node);
}

void Simulator::rearm(int node) {
  Node& n = nodes_[node];
  if (!n.instance) return;
  const std::optional<Time> d = n.instance->next_deadline();
  if (d == n.armed) return;
  ++n.timer_generation;
  n.armed = d;
  if (!d) return;
  if (*d <= now_ && fired_node_ == node) {
    // The deadline did not move past the moment we acted on it: calling again would loop.
    errors_.push_back(format_time(now_) + " node" + std::to_string(node) +
                      ": next_deadline() is not after now");
    return;
  }
  Event e;
  e.at = std::max(*d, now_);
  e.kind = Event::Kind::Timer;
  e.node = node;
  e.generation = n.timer_generation;
  push(e);
}

void Simulator::broadcast(int from, const core::Advert& advert) {
  ++counters_.adverts_sent;
  for (int to = 0; to < size(); ++to) {
    if (to == from) continue;
    const bool receiver_runs = nodes_[to].instance.has_value();
    if (!connected(from, to)) {
      ++counters_.partitioned;
      if (receiver_runs) disturbances_.push_back(now_);
      continue;
    }
    // Draw the delay even for a lost advert so that loss does not shift later draws.
    const Duration delay = draw_delay();
    if (draw_loss()) {
      ++counters_.lost;
      if (receiver_runs) disturbances_.push_back(now_);
      continue;
    }
    Event e;
    e.at = now_ + delay;
    // Still within delay_max: the earlier advert was sent no later than this one.
    if (net_.ordered) e.at = std::max(e.at, nodes_[to].last_arrival);
    nodes_[to].last_arrival = std::max(nodes_[to].last_arrival, e.at);
    e.kind = Event::Kind::Deliver;
    e.node = to;
    e.from = from;
    e.generation = 0;
    e.advert = advert;
    push(e);
  }
}

void Simulator::stop(int node, const std::string& reason) {
  Node& n = nodes_[node];
  n.instance.reset();
  ++n.timer_generation;
  n.armed.reset();
  record(node, core::State::Initialize, false, reason);
}

void Simulator::record(int node, core::State state, bool running, std::string reason) {
  nodes_[node].last_state = state;
  timeline_.push_back(TimelineEntry{now_, node, state, running, std::move(reason)});
  if (observer_.on_timeline) observer_.on_timeline(timeline_.back());
}

bool Simulator::connected(int a, int b) const {
  return groups_[a] == groups_[b];
}

Duration Simulator::draw_delay() {
  const auto span = static_cast<std::uint64_t>((net_.delay_max - net_.delay_min).count());
  return net_.delay_min + Duration{static_cast<std::int64_t>(draw_below(rng_, span + 1))};
}

bool Simulator::draw_loss() {
  return net_.loss > 0.0 && draw_unit(rng_) < net_.loss;
}

}  // namespace failoverd::sim
