#include "failoverd/sim/cloud_witness.h"

#include <utility>

namespace failoverd::sim {

Duration CloudConfig::max_claim() const {
  return 2 * api_max + locked_attempts * (2 * api_max + locked_retry) + action_max + api_max;
}

const char* to_string(ClaimCause c) {
  switch (c) {
    case ClaimCause::kTransition:
      return "became MASTER";
    case ClaimCause::kAdvert:
      return "lower-priority advert";
    case ClaimCause::kNobody:
      return "nobody held it";
    case ClaimCause::kTakeover:
      return "take-over after the hold-off";
  }
  return "?";
}

CloudWitness::CloudWitness(Simulator& sim, CloudConfig config, std::uint64_t seed,
                           std::optional<int> initial_holder)
    : sim_(sim),
      config_(config),
      rng_(seed ^ 0x9e3779b97f4a7c15ULL),
      nodes_(static_cast<std::size_t>(sim.size())),
      holder_(initial_holder) {
  Simulator::Observer o;
  o.on_timeline = [this](const TimelineEntry& e) { on_timeline(e); };
  o.on_lower_priority = [this](Time t, int node, const core::LowerPriorityAdvert&) {
    Node& n = nodes_[static_cast<std::size_t>(node)];
    if (n.policy) act(node, n.policy->heard_lower_priority(t), ClaimCause::kAdvert);
  };
  sim_.set_observer(std::move(o));
}

const core::ClaimPolicy* CloudWitness::policy(int node) const {
  const Node& n = nodes_.at(static_cast<std::size_t>(node));
  return n.policy ? &*n.policy : nullptr;
}

std::string CloudWitness::describe_changes() const {
  std::string out;
  for (const auto& c : changes_) {
    out += "  " + format_time(c.at) + " " + (c.from ? "node" + std::to_string(*c.from) : "nobody") +
           " -> node" + std::to_string(c.to) + " (" + to_string(c.cause) + ")\n";
  }
  return out;
}

Duration CloudWitness::draw(Duration lo, Duration hi) {
  const auto span = static_cast<std::uint64_t>((hi - lo).count());
  return lo + Duration{static_cast<std::int64_t>(span == 0 ? 0 : rng_() % (span + 1))};
}

Duration CloudWitness::one_way() {
  return draw(config_.api_min, config_.api_max);
}

bool CloudWitness::alive(int node, std::uint64_t generation) const {
  const Node& n = nodes_[static_cast<std::size_t>(node)];
  return n.policy && n.generation == generation;
}

void CloudWitness::on_timeline(const TimelineEntry& e) {
  Node& n = nodes_[static_cast<std::size_t>(e.node)];
  if (!e.running) {
    n.policy.reset();
    ++n.generation;
    ++n.timer_generation;
    n.master = false;
    n.busy = false;
    n.queued.reset();
    return;
  }
  if (!n.policy) {
    n.policy.emplace(config_.policy, e.time);
    arm(e.node);
  }
  if (e.state == core::State::Master && !n.master) {
    n.master = true;
    act(e.node, n.policy->became_master(e.time), ClaimCause::kTransition);
  } else if (e.state != core::State::Master && n.master) {
    n.master = false;
    if (n.queued && n.queued->job == Job::kClaim) n.queued.reset();
    act(e.node, n.policy->left_master(e.time), ClaimCause::kTransition);
  }
}

void CloudWitness::act(int node, const core::ClaimDecision& d, ClaimCause cause) {
  if (d.action == core::ClaimAction::kClaim) submit(node, {Job::kClaim, cause});
  if (d.action == core::ClaimAction::kCheck) submit(node, {Job::kCheck, cause});
  arm(node);
}

void CloudWitness::arm(int node) {
  Node& n = nodes_[static_cast<std::size_t>(node)];
  if (!n.policy) return;
  const std::uint64_t tg = ++n.timer_generation;
  sim_.call_at(n.policy->next_check(), [this, node, tg] {
    Node& m = nodes_[static_cast<std::size_t>(node)];
    if (!m.policy || m.timer_generation != tg) return;
    act(node, m.policy->on_timer(sim_.now()), ClaimCause::kTakeover);
  });
}

void CloudWitness::submit(int node, Pending p) {
  Node& n = nodes_[static_cast<std::size_t>(node)];
  if (n.busy) {
    if (!n.queued || p.job == Job::kClaim) n.queued = p;
    return;
  }
  n.busy = true;
  if (p.job == Job::kCheck) {
    start_check(node);
  } else {
    start_claim(node, p.cause);
  }
}

void CloudWitness::run_next(int node) {
  Node& n = nodes_[static_cast<std::size_t>(node)];
  n.busy = false;
  if (!n.queued) return;
  const Pending p = *n.queued;
  n.queued.reset();
  if (p.job == Job::kClaim && !n.master) return;
  submit(node, p);
}

void CloudWitness::start_check(int node) {
  ++counters_.checks;
  const std::uint64_t gen = nodes_[static_cast<std::size_t>(node)].generation;
  sim_.call_at(sim_.now() + one_way(), [this, node, gen] {
    // At the API: read the assignment.
    core::HolderView view;
    view.locked = locked_;
    if (!holder_) {
      view.kind = core::HolderView::Kind::kNobody;
    } else if (*holder_ == node) {
      view.kind = core::HolderView::Kind::kUs;
    } else {
      view.kind = core::HolderView::Kind::kOther;
      view.holder = std::to_string(*holder_);
    }
    const std::optional<int> seen = holder_;
    sim_.call_at(sim_.now() + one_way(), [this, node, gen, view, seen] {
      if (!alive(node, gen)) return;
      Node& n = nodes_[static_cast<std::size_t>(node)];
      const Time now = sim_.now();
      const auto d = n.policy->on_check(now, view);
      const bool other = view.kind == core::HolderView::Kind::kOther;
      if (d.action == core::ClaimAction::kClaim && other) {
        takeovers_.push_back(Takeover{now, node, *seen, n.policy->episode_start(),
                                      n.policy->losses(), n.policy->current_hold_off()});
      }
      run_next(node);
      act(node, d, other ? ClaimCause::kTakeover : ClaimCause::kNobody);
    });
  });
}

void CloudWitness::start_claim(int node, ClaimCause cause) {
  ++counters_.claims;
  ++counters_.claims_by_cause[static_cast<int>(cause)];
  const std::uint64_t gen = nodes_[static_cast<std::size_t>(node)].generation;
  // The provider's claim: GET first; when the address is already ours nothing is changed.
  sim_.call_at(sim_.now() + one_way(), [this, node, gen, cause] {
    const bool ours = holder_ == node;
    sim_.call_at(sim_.now() + one_way(), [this, node, gen, cause, ours] {
      if (!alive(node, gen)) return;
      if (ours) {
        finish_claim(node, gen, true, cause);
      } else {
        post_assign(node, gen, cause, 1);
      }
    });
  });
}

void CloudWitness::post_assign(int node, std::uint64_t gen, ClaimCause cause, int attempt) {
  if (!alive(node, gen)) return;  // a dead process sends nothing
  sim_.call_at(sim_.now() + one_way(), [this, node, gen, cause, attempt] {
    if (locked_) {
      ++counters_.locked;
      sim_.call_at(sim_.now() + one_way(), [this, node, gen, cause, attempt] {
        if (!alive(node, gen)) return;
        if (attempt >= config_.locked_attempts) {
          finish_claim(node, gen, false, cause);
          return;
        }
        sim_.call_at(sim_.now() + config_.locked_retry, [this, node, gen, cause, attempt] {
          post_assign(node, gen, cause, attempt + 1);
        });
      });
      return;
    }
    ++counters_.assigns;
    locked_ = true;
    // The action runs whether or not the claimer lives to see it complete.
    sim_.call_at(sim_.now() + draw(config_.action_min, config_.action_max),
                 [this, node, gen, cause] {
                   locked_ = false;
                   const std::optional<int> from = holder_;
                   holder_ = node;
                   if (from != node) changes_.push_back({sim_.now(), from, node, cause});
                   sim_.call_at(sim_.now() + one_way(), [this, node, gen, cause] {
                     if (alive(node, gen)) finish_claim(node, gen, true, cause);
                   });
                 });
  });
}

void CloudWitness::finish_claim(int node, std::uint64_t gen, bool ok, ClaimCause cause) {
  (void)gen;
  Node& n = nodes_[static_cast<std::size_t>(node)];
  const auto d = n.policy->on_claim(sim_.now(), ok, false);
  run_next(node);
  act(node, d, cause);
}

}  // namespace failoverd::sim
