#include "failoverd/node/node.h"

#include <algorithm>

#include "failoverd/util/duration.h"
#include "failoverd/util/time_format.h"

namespace failoverd::node {

std::vector<util::Ipv4> advert_addresses(const config::Config& cfg, util::Ipv4 source) {
  std::vector<util::Ipv4> out;
  for (const auto& vip : cfg.virtual_ip.addresses) out.push_back(vip.address);
  if (out.empty() && cfg.reserved_ip.address) out.push_back(*cfg.reserved_ip.address);
  if (out.empty()) out.push_back(source);
  return out;
}

namespace {

std::optional<Hook> hook_for(core::State s) {
  switch (s) {
    case core::State::Master: return Hook::kMaster;
    case core::State::Backup: return Hook::kBackup;
    case core::State::Fault: return Hook::kFault;
    case core::State::Initialize: return std::nullopt;
  }
  return std::nullopt;
}

std::string status_line(core::State s) { return std::string("STATUS=") + core::to_string(s); }

}  // namespace

Node::Node(config::Config cfg)
    : cfg_(std::move(cfg)),
      advert_addresses_(node::advert_addresses(cfg_, source_)),
      instance_(config::to_core_params(cfg_, source_)) {
  if (has_reserved_ip()) {
    reserved_ip_.emplace(cfg_.reserved_ip.address ? cfg_.reserved_ip.address->to_string() : "",
                         config::to_string(cfg_.reserved_ip.provider),
                         cfg_.reserved_ip.reconcile_interval);
  }
  // The verdict of fresh trackers, as the check runner's before its first result.
  std::vector<health::Tracker> fresh;
  fresh.reserve(cfg_.checks.size());
  for (const auto& c : cfg_.checks) fresh.emplace_back(c);
  std::vector<std::pair<const config::CheckConfig*, const health::Tracker*>> all;
  for (std::size_t i = 0; i < fresh.size(); ++i) all.emplace_back(&cfg_.checks[i], &fresh[i]);
  verdict_ = health::evaluate(all);
}

bool Node::has_hooks() const {
  const auto& n = cfg_.notify;
  return !n.master.empty() || !n.backup.empty() || !n.fault.empty() || !n.stop.empty();
}

bool Node::has_reserved_ip() const { return cfg_.reserved_ip.provider != config::Provider::kNone; }

std::optional<std::string> Node::fault_reason() const {
  if (link_problem_) return *link_problem_;
  if (verdict_.fault) return verdict_.fault_reason;
  if (claim_fault_) return *claim_fault_;
  return std::nullopt;
}

// "Check not run yet" is no fault: a node with checks stays in INIT (silent, never MASTER)
// until each of them has risen or failed, so a normal start does not pass through FAULT and
// trip an alert on transitions into it. A link fault or a failed claim is one at once.
bool Node::waiting_for_first_verdicts() const {
  return !joined_ && verdict_.settling && !link_problem_ && !claim_fault_;
}

std::optional<core::Time> Node::next_deadline() const {
  auto at = instance_.next_deadline();
  if (garp_at_ && (!at || *garp_at_ < *at)) at = garp_at_;
  if (reserved_ip_) {
    if (auto r = reserved_ip_->next_deadline(); r && (!at || *r < *at)) at = r;
  }
  return at;
}

Effects Node::finish(Effects out) const {
  out.push_back(ArmTimer{next_deadline()});
  return out;
}

Effects Node::start(Now now) {
  Effects out;
  started_ = true;
  if (reserved_ip_) reserved_ip_->start(now.steady, out);
  if (waiting_for_first_verdicts()) {
    out.push_back(Log{LogLevel::kInfo,
                      "waiting for the first results of the health checks before joining the "
                      "election (" + verdict_.fault_reason + ")"});
    out.push_back(
        NotifySystemd{"READY=1\nSTATUS=INIT: waiting for the first health check results"});
  } else {
    join_election(now, out);
    out.push_back(NotifySystemd{"READY=1\n" + status_line(instance_.state())});
  }
  return finish(std::move(out));
}

void Node::join_election(Now now, Effects& out) {
  joined_ = true;
  const auto reason = fault_reason();
  faulted_ = reason.has_value();
  apply(instance_.set_priority_delta(now.steady, verdict_.priority_delta), now, out);
  apply(instance_.start(now.steady, faulted_, reason.value_or("")), now, out);
}

void Node::update_fault(Now now, Effects& out) {
  if (!started_ || stopping_) return;
  if (!joined_) {
    // A link fault while waiting for the checks' first results is a fault now.
    if (!waiting_for_first_verdicts()) {
      join_election(now, out);
      out.push_back(NotifySystemd{status_line(instance_.state())});
    }
    return;
  }
  const auto reason = fault_reason();
  const bool faulted = reason.has_value();
  if (faulted == faulted_) return;
  faulted_ = faulted;
  apply(instance_.set_fault(now.steady, faulted, faulted ? *reason : std::string("no fault left")),
        now, out);
}

Effects Node::shutdown(Now now) {
  Effects out;
  if (stopping_) return out;
  out.push_back(NotifySystemd{"STOPPING=1"});
  apply(instance_.shutdown(now.steady), now, out);
  stopping_ = true;
  if (reserved_ip_) reserved_ip_->stop();
  // The stop hook runs after the priority-0 advert is out: the peer is already taking over.
  if (has_hooks()) out.push_back(RunHook{Hook::kStop, instance_.effective_priority(), {}});
  return finish(std::move(out));
}

Effects Node::on_source(Now now, util::Ipv4 source) {
  Effects out;
  source_ = source;
  advert_addresses_ = node::advert_addresses(cfg_, source_);
  apply(instance_.reconfigure(now.steady, config::to_core_params(cfg_, source_)), now, out);
  return finish(std::move(out));
}

Effects Node::on_advert(Now now, const core::Advert& advert) {
  Effects out;
  ++adverts_received_;
  apply(instance_.on_advert(now.steady, advert), now, out);
  return finish(std::move(out));
}

Effects Node::on_timer(Now now) {
  Effects out;
  apply(instance_.on_timer(now.steady), now, out);
  if (garp_at_ && now.steady >= *garp_at_ && instance_.state() == core::State::Master) {
    out.push_back(AnnounceVips{});
    garp_at_.reset();
    if (--garp_left_ > 0) garp_at_ = now.steady + cfg_.virtual_ip.garp_interval;
  }
  if (reserved_ip_ && !stopping_) reserved_ip_->on_timer(now.steady, out);
  return finish(std::move(out));
}

Effects Node::on_verdict(Now now, const health::Verdict& v) {
  Effects out;
  if (v.priority_delta != verdict_.priority_delta) {
    const int next = std::clamp(int{cfg_.vrrp.priority} + v.priority_delta, 1, 254);
    out.push_back(Log{LogLevel::kInfo, "checks: priority " +
                                           std::to_string(instance_.effective_priority()) +
                                           " -> " + std::to_string(next) + " (delta " +
                                           (v.priority_delta >= 0 ? "+" : "") +
                                           std::to_string(v.priority_delta) + ")"});
  }
  verdict_ = v;
  if (!started_ || stopping_) return out;
  if (!joined_) {
    if (waiting_for_first_verdicts()) return out;
    join_election(now, out);
    out.push_back(NotifySystemd{status_line(instance_.state())});
    return finish(std::move(out));
  }
  apply(instance_.set_priority_delta(now.steady, v.priority_delta), now, out);
  update_fault(now, out);
  return finish(std::move(out));
}

Effects Node::on_links(Now now, std::optional<std::string> problem) {
  Effects out;
  link_problem_ = std::move(problem);
  update_fault(now, out);
  return finish(std::move(out));
}

Effects Node::on_claim_report(Now now, const ClaimReport& report) {
  Effects out;
  if (!reserved_ip_ || stopping_) return out;
  const bool current = reserved_ip_->claim_is_current();
  reserved_ip_->on_claim(now, report, out);
  // The outcome goes to the history and the master hook before the FAULT a permanent failure
  // causes, so the hook of the transition into MASTER runs first and learns why. A claim
  // started before the node last left MASTER says nothing of this period: the hook waits for
  // this period's claim (queued behind that one, or its retry).
  if (current) {
    record_claim_in_history(report);
    run_pending_master_hook(report.ok() ? "ok" : "failed", report.detail, out);
  }
  if (!report.ok() && report.permanent && !claim_fault_) {
    claim_fault_ = "reserved IP " + reserved_ip_->address() + ": " + report.detail;
    update_fault(now, out);
  }
  return finish(std::move(out));
}

Effects Node::on_check_report(Now now, const HolderReport& report) {
  Effects out;
  if (!reserved_ip_ || stopping_) return out;
  reserved_ip_->on_check(now.steady, report, out);
  return finish(std::move(out));
}

// The newest transition into MASTER still waiting for its claim gets the outcome; a claim
// made later (a re-claim while MASTER) finds none pending and is in status and the log only.
void Node::record_claim_in_history(const ClaimReport& report) {
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    if (it->to != core::State::Master) continue;
    if (it->claim && *it->claim == "pending") {
      switch (report.outcome) {
        case ClaimReport::Outcome::kAlreadyHeld: it->claim = "already held"; break;
        case ClaimReport::Outcome::kClaimed:
          it->claim = "claimed in " + std::to_string(report.latency.count()) + " ms";
          break;
        case ClaimReport::Outcome::kFailed: it->claim = "failed: " + report.detail; break;
      }
    }
    return;
  }
}

void Node::run_pending_master_hook(const std::string& claim, const std::string& detail,
                                   Effects& out) {
  if (!master_hook_pending_) return;
  out.push_back(RunHook{Hook::kMaster, *master_hook_pending_,
                        {{"FAILOVERD_CLAIM", claim}, {"FAILOVERD_CLAIM_DETAIL", detail}}});
  master_hook_pending_.reset();
}

// Hooks run in the order of the transitions. The master hook runs once the address is ours
// (the VIPs are added before this; the reserved IP is claimed on a worker, so its hook waits
// for the report), and learns the outcome from FAILOVERD_CLAIM: ok, failed, or none.
void Node::run_hooks_for(const core::Transition& t, Effects& out) {
  if (!has_hooks()) return;
  if (t.to == core::State::Master) {
    if (has_reserved_ip()) {
      master_hook_pending_ = instance_.effective_priority();
    } else {
      out.push_back(RunHook{Hook::kMaster, instance_.effective_priority(),
                            {{"FAILOVERD_CLAIM", "none"}}});
    }
    return;
  }
  // Leaving MASTER before the claim reported: its hook still runs first, to keep the order.
  run_pending_master_hook("pending", "left MASTER before the claim finished", out);
  if (auto hook = hook_for(t.to)) out.push_back(RunHook{*hook, instance_.effective_priority(), {}});
}

void Node::apply(const core::Actions& actions, Now now, Effects& out) {
  for (const core::Action& action : actions) {
    if (const auto* send = std::get_if<core::SendAdvert>(&action)) {
      proto::Advertisement ad;
      ad.virtual_router_id = cfg_.vrrp.virtual_router_id;
      ad.priority = send->priority;
      ad.max_adver_interval_cs = send->max_adver_interval_cs;
      ad.addresses = advert_addresses_;
      out.push_back(SendAdvert{std::move(ad)});
    } else if (const auto* t = std::get_if<core::Transition>(&action)) {
      on_transition(*t, now, out);
    } else if (const auto* low = std::get_if<core::LowerPriorityAdvert>(&action)) {
      out.push_back(Log{LogLevel::kWarn,
                        "MASTER heard a lower-priority advert from " + low->source.to_string() +
                            " (priority " + std::to_string(low->priority) +
                            "): another node believed it was master; re-asserted"});
      if (reserved_ip_) reserved_ip_->heard_lower_priority(now.steady, out);
    }
  }
}

void Node::on_transition(const core::Transition& t, Now now, Effects& out) {
  ++transitions_;
  ++transitions_to_[core::to_string(t.to)];
  std::optional<std::string> claim;
  if (has_reserved_ip() && t.to == core::State::Master) claim = "pending";
  history_.push_back({now.wall, t.from, t.to, t.reason, claim});
  if (history_.size() > kHistorySize) history_.pop_front();
  out.push_back(Log{LogLevel::kInfo, std::string(core::to_string(t.from)) + " -> " +
                                         core::to_string(t.to) + ": " + t.reason});
  out.push_back(NotifySystemd{status_line(t.to)});
  if (reserved_ip_) {
    if (t.to == core::State::Master) reserved_ip_->became_master(now.steady, out);
    if (t.from == core::State::Master) reserved_ip_->left_master(now.steady, out);
  }
  if (!cfg_.virtual_ip.addresses.empty()) {
    if (t.to == core::State::Master) {
      out.push_back(TakeVips{});
      garp_left_ = cfg_.virtual_ip.garp_count - 1;
      if (garp_left_ > 0) garp_at_ = now.steady + cfg_.virtual_ip.garp_interval;
    } else if (t.from == core::State::Master) {
      garp_at_.reset();
      out.push_back(ReleaseVips{});
    }
  }
  run_hooks_for(t, out);
}

std::optional<Node::Reply> Node::on_control(Now now, const control::Request& request) {
  if (request.command == "failover") {
    if (instance_.state() != core::State::Master) {
      const auto m = instance_.master();
      return Reply{util::unexpected(std::string("this node is ") +
                                    core::to_string(instance_.state()) +
                                    ", not MASTER: run failover on the master" +
                                    (m ? " (" + m->to_string() + ")" : std::string())),
                   {}};
    }
    // failoverctl failover --hold: the protocol checked hold_ms (0..kMaxFailoverHoldMs).
    const core::Duration hold =
        request.args.contains("hold_ms")
            ? core::Duration(std::chrono::milliseconds(request.args["hold_ms"].get<std::int64_t>()))
            : kFailoverHold;
    Effects out;
    apply(*instance_.resign(now.steady, hold), now, out);
    out = finish(std::move(out));
    const auto window =
        std::chrono::duration_cast<std::chrono::milliseconds>(instance_.failover_window());
    return Reply{
        nlohmann::json{
            {"message", std::string("resigned: priority 0 sent, ") +
                            (instance_.instant_handover_peer()
                                 ? "the peer takes over at once"
                                 : "a backup takes over after its Skew_Time") +
                            "; if none has within " + std::to_string(window.count()) +
                            " ms, this node takes the address back. It will not preempt back for " +
                            util::format_duration(hold)},
            {"window_ms", window.count()}},
        std::move(out)};
  }
  if (request.command == "maintenance") {
    const bool on = request.args.at("enabled").get<bool>();
    Effects out;
    apply(instance_.set_maintenance(now.steady, on), now, out);
    out.push_back(Log{LogLevel::kInfo, on ? "maintenance on: staying BACKUP"
                                          : "maintenance off: rejoining the election"});
    out = finish(std::move(out));
    return Reply{nlohmann::json{{"maintenance", on}, {"state", core::to_string(instance_.state())}},
                 std::move(out)};
  }
  if (request.command == "history") {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& h : history_) {
      entries.push_back({{"at", util::iso8601(h.at, /*millis=*/true)},
                         {"from", core::to_string(h.from)},
                         {"to", core::to_string(h.to)},
                         {"reason", h.reason},
                         {"claim", h.claim ? nlohmann::json(*h.claim) : nlohmann::json()}});
    }
    return Reply{nlohmann::json{{"history", entries}}, {}};
  }
  return std::nullopt;
}

util::Expected<ReloadPlan, std::string> Node::plan_reload(const config::Config& next) const {
  const auto& cur = cfg_;
  if (next.instance.name != cur.instance.name ||
      next.instance.interface != cur.instance.interface ||
      next.vrrp.virtual_router_id != cur.vrrp.virtual_router_id ||
      next.control.socket != cur.control.socket || next.vrrp.source != cur.vrrp.source ||
      next.virtual_ip.addresses != cur.virtual_ip.addresses ||
      next.instance.track_interfaces != cur.instance.track_interfaces ||
      !(next.reserved_ip == cur.reserved_ip) || !(next.checks == cur.checks) ||
      !(next.notify == cur.notify) || next.metrics.listen != cur.metrics.listen) {
    return util::unexpected(std::string(
        "name, interface, track_interface, source, virtual_router_id, virtual_ip, reserved_ip, "
        "checks, notify, metrics and control socket cannot change without a restart"));
  }
  // The key file is compared by name only: to roll a key, change the file name (or restart).
  ReloadPlan plan;
  plan.transport_changed =
      next.vrrp.transport != cur.vrrp.transport || next.vrrp.peers != cur.vrrp.peers ||
      next.vrrp.port != cur.vrrp.port || next.vrrp.auth_key_file != cur.vrrp.auth_key_file ||
      next.vrrp.checksum_pseudo_header != cur.vrrp.checksum_pseudo_header;
  return plan;
}

Node::Reloaded Node::reload(Now now, config::Config next) {
  Reloaded r;
  cfg_ = std::move(next);
  advert_addresses_ = node::advert_addresses(cfg_, source_);
  apply(instance_.reconfigure(now.steady, config::to_core_params(cfg_, source_)), now, r.effects);
  r.effects = finish(std::move(r.effects));
  r.message = "reloaded: priority " + std::to_string(cfg_.vrrp.priority) + ", advert_interval " +
              util::format_duration(cfg_.vrrp.advert_interval) + ", preempt " +
              (cfg_.vrrp.preempt ? "true" : "false");
  return r;
}

NodeSnapshot::Identity snapshot_identity(const config::Config& cfg) {
  NodeSnapshot::Identity id;
  id.name = cfg.instance.name;
  id.interface = cfg.instance.interface;
  id.virtual_router_id = cfg.vrrp.virtual_router_id;
  for (const auto& v : cfg.virtual_ip.addresses) {
    id.virtual_ips.push_back(v.address.to_string() + "/" + std::to_string(v.prefix_len));
  }
  if (cfg.reserved_ip.provider != config::Provider::kNone && cfg.reserved_ip.address) {
    id.reserved_ip = cfg.reserved_ip.address->to_string();
  }
  return id;
}

std::optional<std::string> Node::restart_blocker() const {
  if (stopping_) return std::string("the daemon is shutting down");
  if (!started_) return std::string("the daemon has not started yet");
  if (reserved_ip_) return reserved_ip_->restart_blocker();
  return std::nullopt;
}

NodeSnapshot Node::snapshot() const {
  NodeSnapshot s;
  s.identity = snapshot_identity(cfg_);
  s.instance = instance_.snapshot();
  s.source = source_;
  s.garp_at = garp_at_;
  s.garp_left = garp_left_;
  s.verdict = verdict_;
  s.link_problem = link_problem_;
  s.claim_fault = claim_fault_;
  s.faulted = faulted_;
  s.joined = joined_;
  s.master_hook_pending = master_hook_pending_;
  s.transitions = transitions_;
  s.transitions_to = transitions_to_;
  s.adverts_received = adverts_received_;
  s.history = history_;
  if (reserved_ip_) s.reserved_ip = reserved_ip_->snapshot();
  return s;
}

util::Expected<util::Ok, std::string> Node::can_restore(const NodeSnapshot& s) const {
  const auto mine = snapshot_identity(cfg_);
  auto differs = [](const std::string& what, const std::string& was, const std::string& is) {
    return util::unexpected(what + " changed from \"" + was + "\" to \"" + is +
                            "\": that needs a full restart (systemctl restart), not one in place");
  };
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
    return out;
  };
  if (s.identity.name != mine.name) return differs("name", s.identity.name, mine.name);
  if (s.identity.interface != mine.interface) {
    return differs("interface", s.identity.interface, mine.interface);
  }
  if (s.identity.virtual_router_id != mine.virtual_router_id) {
    return differs("virtual_router_id", std::to_string(s.identity.virtual_router_id),
                   std::to_string(mine.virtual_router_id));
  }
  if (s.identity.virtual_ips != mine.virtual_ips) {
    return differs("virtual_ip", join(s.identity.virtual_ips), join(mine.virtual_ips));
  }
  if (s.identity.reserved_ip != mine.reserved_ip) {
    return differs("reserved_ip", s.identity.reserved_ip, mine.reserved_ip);
  }
  if (s.reserved_ip.has_value() != reserved_ip_.has_value()) {
    return util::unexpected(std::string("the snapshot's reserved IP state does not match the config"));
  }
  if (s.instance.state == core::State::Initialize && s.joined) {
    return util::unexpected(std::string("the snapshot is of a node that was stopping"));
  }
  return util::Ok{};
}

Effects Node::restore(Now now, const NodeSnapshot& s) {
  Effects out;
  started_ = true;
  joined_ = s.joined;
  if (s.source != util::Ipv4{} && source_ == util::Ipv4{}) {
    // The interface has no address (yet) in this process: keep the one the state was built on.
    source_ = s.source;
    advert_addresses_ = node::advert_addresses(cfg_, source_);
    (void)instance_.reconfigure(now.steady, config::to_core_params(cfg_, source_));
  }
  garp_at_ = s.garp_at;
  garp_left_ = s.garp_left;
  verdict_ = s.verdict;
  link_problem_ = s.link_problem;
  claim_fault_ = s.claim_fault;
  faulted_ = s.faulted;
  master_hook_pending_ = s.master_hook_pending;
  transitions_ = s.transitions;
  transitions_to_ = s.transitions_to;
  adverts_received_ = s.adverts_received;
  history_ = s.history;
  while (history_.size() > kHistorySize) history_.pop_front();
  // The verdict's delta may differ under a reloaded config's priority: the Instance keeps the
  // one it had, which is the checks' (the priority itself comes from the new config).
  if (joined_) apply(instance_.restore(now.steady, s.instance), now, out);
  if (reserved_ip_ && s.reserved_ip) reserved_ip_->restore(now.steady, *s.reserved_ip, out);
  const auto state = instance_.state();
  out.push_back(Log{LogLevel::kInfo,
                    std::string("restarted in place: resuming as ") + core::to_string(state) +
                        (joined_ ? "" : " (waiting for the first health check results)")});
  out.push_back(NotifySystemd{"READY=1\n" + (joined_ ? status_line(state)
                                                      : std::string("STATUS=INIT: waiting for "
                                                                    "the first health check "
                                                                    "results"))});
  return finish(std::move(out));
}

CrashRecord Node::crash_record() const {
  CrashRecord r;
  r.identity = crash_identity(cfg_, source_);
  r.master = instance_.state() == core::State::Master && !stopping_;
  r.adver_interval_cs = core::to_centiseconds(cfg_.vrrp.advert_interval);
  r.priority_delta = instance_.priority_delta();
  r.reserved_ip_ours = reserved_ip_ && reserved_ip_->holds_address();
  return r;
}

Effects Node::resume_after_crash(Now now, const CrashResume& r) {
  Effects out;
  started_ = true;
  joined_ = true;
  faulted_ = false;
  // It was MASTER, so no weight-0 check was failing; the runner holds its fresh verdicts
  // back until every check has its first result (as after a restart in place).
  verdict_ = health::Verdict{false, "", r.record.priority_delta, false};
  core::InstanceSnapshot s;
  s.state = core::State::Master;
  s.priority_delta = r.record.priority_delta;
  s.master_adver_interval = cfg_.vrrp.advert_interval;
  s.adver_timer = now.steady;
  s.preempt_allowed_at = now.steady;
  s.started = true;
  apply(instance_.restore(now.steady, s), now, out);  // the advert, at once
  if (reserved_ip_) reserved_ip_->resumed_master(now.steady, out);
  if (!cfg_.virtual_ip.addresses.empty()) out.push_back(TakeVips{});
  const std::string why = "the previous process (pid " + std::to_string(r.record.pid) +
                          ") crashed as MASTER and sent its last advert " +
                          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             r.age).count()) +
                          " ms ago, less than the " +
                          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             r.bound).count()) +
                          " ms after which a peer may take over";
  // Not counted as a transition: in the cluster's eyes nothing changed.
  history_.push_back({now.wall, core::State::Initialize, core::State::Master,
                      "resumed after a crash: " + why,
                      reserved_ip_ ? std::optional<std::string>("already held") : std::nullopt});
  out.push_back(Log{LogLevel::kInfo, "resumed MASTER from the crash record: " + why +
                                         "; no claim, no hook"});
  out.push_back(NotifySystemd{"READY=1\n" + status_line(core::State::Master)});
  return finish(std::move(out));
}

}  // namespace failoverd::node
