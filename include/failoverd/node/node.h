// node::Node: the rules of one failoverd node around core::Instance, as a pure object. It owns
// the Instance, the reserved IP's claim rules (node::ReservedIp: core::ClaimPolicy, one provider
// call at a time, the retry backoff), the fault computed from its sources (links, health checks,
// a claim that failed for good), the wait in INIT for the checks' first verdicts, the advert's
// address list, the order of the hooks (the master hook after the claim of the reserved IP
// reports), the transition history and counters, the reload diff and the control commands that
// change state.
//
// Events come in with the time they happened; effects come out as an ordered list that the
// caller carries out after the call returns. No sockets, clocks, threads or logging inside (log
// lines are effects), so nothing is ever called back while the Node is mid-change: a claim
// report that puts the node in FAULT leaves MASTER (dropping a queued claim and the retry) in
// the same call, and a provider call is only ever started as an effect.
//
// Driving contract (as core::Instance's): call the event functions from one thread, in time
// order; carry out every returned effect in order; arm one timer for the last ArmTimer effect
// and call on_timer() when it expires (early or late is harmless). Events before start() only
// update the sources.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "failoverd/config/config.h"
#include "failoverd/control/control_protocol.h"
#include "failoverd/core/instance.h"
#include "failoverd/health/tracker.h"
#include "failoverd/node/crash_resume.h"
#include "failoverd/node/effects.h"
#include "failoverd/node/reserved_ip.h"
#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::node {

// One entry of the transition history (failoverctl history, status "since").
struct HistoryEntry {
  std::chrono::system_clock::time_point at;
  core::State from;
  core::State to;
  std::string reason;
  // Into MASTER with a [reserved_ip]: "pending" until the claim reports, then its outcome
  // ("claimed in 80 ms", "already held", "failed: ..."). nullopt otherwise.
  std::optional<std::string> claim;

  bool operator==(const HistoryEntry&) const = default;
};

inline constexpr std::size_t kHistorySize = 100;
// After `failoverctl failover`, the node does not preempt back for this long, so a planned
// switchover to a lower-priority peer holds long enough to be tested. For longer, use
// maintenance.
inline constexpr core::Duration kFailoverHold = std::chrono::seconds(60);

// What a reload changes beyond the Node: the heartbeat transport must be rebuilt.
struct ReloadPlan {
  bool transport_changed = false;
};

// What a restart in place (failoverctl restart) carries from the old process to the new one:
// everything of the Node that is not its config. Steady times stay valid across exec
// (CLOCK_MONOTONIC); the adapter checks the boot. `identity` names the config the state
// belongs to: a new config with another identity is refused.
struct NodeSnapshot {
  struct Identity {
    std::string name;
    std::string interface;
    int virtual_router_id = 0;
    std::vector<std::string> virtual_ips;  // "a.b.c.d/len"
    std::string reserved_ip;               // "" without [reserved_ip]
    bool operator==(const Identity&) const = default;
  };
  Identity identity;
  core::InstanceSnapshot instance;
  util::Ipv4 source;
  std::optional<core::Time> garp_at;
  int garp_left = 0;
  health::Verdict verdict;
  std::optional<std::string> link_problem;
  std::optional<std::string> claim_fault;
  bool faulted = false;
  bool joined = false;
  std::optional<int> master_hook_pending;
  std::uint64_t transitions = 0;
  std::map<std::string, std::uint64_t> transitions_to;
  std::uint64_t adverts_received = 0;
  std::deque<HistoryEntry> history;
  std::optional<ReservedIpSnapshot> reserved_ip;

  bool operator==(const NodeSnapshot&) const = default;
};

// The identity of `cfg`'s instance (see NodeSnapshot).
NodeSnapshot::Identity snapshot_identity(const config::Config& cfg);

class Node {
 public:
  // The heartbeat source is unknown (0.0.0.0) until on_source(). The checks count as failing
  // until they have risen (health::Tracker): a fresh node with a broken service never becomes
  // MASTER.
  explicit Node(config::Config cfg);

  // Joins the election, or waits in INIT for the checks' first verdicts (a normal start does
  // not pass through FAULT). Tells systemd READY either way.
  Effects start(Now now);
  // SIGTERM/SIGINT: the priority-0 advert, the transition to INIT, then the stop hook.
  Effects shutdown(Now now);

  // The heartbeat source is known (at start or when a late interface appears): it is our
  // tie-break and, without VIPs or a reserved IP, the advertised address.
  Effects on_source(Now now, util::Ipv4 source);
  Effects on_advert(Now now, const core::Advert& advert);
  Effects on_timer(Now now);
  Effects on_verdict(Now now, const health::Verdict& verdict);
  // The links' first problem in watch order (the heartbeat interface first), nullopt when all
  // are fine.
  Effects on_links(Now now, std::optional<std::string> problem);
  // The reports of the provider calls that StartClaim and StartCheck asked for.
  Effects on_claim_report(Now now, const ClaimReport& report);
  Effects on_check_report(Now now, const HolderReport& report);

  // The control commands that act on the Node: failover, maintenance, history. nullopt for
  // the others (status, checks, reload), which need the adapters' data.
  struct Reply {
    control::Outcome outcome;
    Effects effects;
  };
  std::optional<Reply> on_control(Now now, const control::Request& request);

  // The reload diff: why `next` cannot be applied without a restart, or what it needs.
  util::Expected<ReloadPlan, std::string> plan_reload(const config::Config& next) const;
  // Applies `next` (REQUIRES: plan_reload(next) succeeded and its transport is in place); the
  // state, history and counters are kept. `message` is the one-line outcome.
  struct Reloaded {
    std::string message;
    Effects effects;
  };
  Reloaded reload(Now now, config::Config next);

  // Restart in place. restart_blocker(): why the state cannot be handed over now (shutting
  // down, a claim in progress), nullopt when it can. snapshot(): REQUIRES start() has run.
  std::optional<std::string> restart_blocker() const;
  NodeSnapshot snapshot() const;
  // Whether this Node (its config) can resume `s`: the same identity, and the config
  // differs from the one `s` was taken under only where a reload could apply it (the old
  // process checks that with plan_reload before it execs).
  util::Expected<util::Ok, std::string> can_restore(const NodeSnapshot& s) const;
  // Instead of start(): resumes exactly at `s` (REQUIRES: can_restore(s) succeeded, start()
  // not called, on_source() already called if the source is known). Its effects: an advert at
  // once as MASTER, a holder check if one was pending, READY=1 for systemd, the timer; never
  // a hook, TakeVips or a claim: nothing transitioned.
  Effects restore(Now now, const NodeSnapshot& s);

  // Crash resume (node/crash_resume.h). crash_record(): what this node's crash record says
  // now, but the writer's process and the advert time, which the daemon adds.
  CrashRecord crash_record() const;
  // Instead of start(), after decide_crash_resume said yes (REQUIRES: start() not called,
  // on_source() called): MASTER at once, as the crashed process was. Its effects: an advert
  // at once, TakeVips (adds what is missing: the rest is still on the interface), READY=1,
  // a holder check of the reserved IP (never a claim), the timer; no hook: nothing
  // transitioned. The checks' verdict is the crashed MASTER's (healthy, its recorded
  // priority delta) until the check runner reports. The history starts with one entry
  // INIT -> MASTER saying so, not counted as a transition.
  Effects resume_after_crash(Now now, const CrashResume& r);

  // The earliest of the Instance's deadline, a GARP repeat and the reserved IP's (retry,
  // holder check).
  std::optional<core::Time> next_deadline() const;
  const core::Instance& instance() const { return instance_; }
  // nullptr without [reserved_ip].
  const ReservedIp* reserved_ip() const { return reserved_ip_ ? &*reserved_ip_ : nullptr; }
  const config::Config& config() const { return cfg_; }
  const std::deque<HistoryEntry>& history() const { return history_; }
  std::uint64_t transitions() const { return transitions_; }
  const std::map<std::string, std::uint64_t>& transitions_to() const { return transitions_to_; }
  std::uint64_t adverts_received() const { return adverts_received_; }
  const std::vector<util::Ipv4>& advert_addresses() const { return advert_addresses_; }
  // Why the node is (or would be) in FAULT, from links, checks and the claim, in that order.
  std::optional<std::string> fault_reason() const;
  bool joined() const { return joined_; }

 private:
  bool waiting_for_first_verdicts() const;
  void join_election(Now now, Effects& out);
  void update_fault(Now now, Effects& out);
  void apply(const core::Actions& actions, Now now, Effects& out);
  // Ends a call's effects with the timer for next_deadline().
  Effects finish(Effects out) const;
  void on_transition(const core::Transition& t, Now now, Effects& out);
  void run_hooks_for(const core::Transition& t, Effects& out);
  void run_pending_master_hook(const std::string& claim, const std::string& detail, Effects& out);
  void record_claim_in_history(const ClaimReport& report);
  bool has_hooks() const;
  bool has_reserved_ip() const;

  config::Config cfg_;
  util::Ipv4 source_;  // 0.0.0.0 until on_source()
  std::vector<util::Ipv4> advert_addresses_;
  core::Instance instance_;
  std::optional<ReservedIp> reserved_ip_;  // with [reserved_ip]
  std::optional<core::Time> garp_at_;  // the next repeated gratuitous ARP, while MASTER
  int garp_left_ = 0;
  health::Verdict verdict_;  // of the checks, as last reported
  std::optional<std::string> link_problem_;
  std::optional<std::string> claim_fault_;  // a claim failed for good (e.g. bad token)
  bool faulted_ = false;                     // as last told to the Instance
  bool started_ = false;                     // start() has run
  bool joined_ = false;                      // core::Instance::start has run
  bool stopping_ = false;
  // The master hook waits for the claim of the reserved IP, so it can tell the hook whether
  // the address is ours; this is the priority it will be run with.
  std::optional<int> master_hook_pending_;
  std::uint64_t transitions_ = 0;
  std::map<std::string, std::uint64_t> transitions_to_;  // by state entered
  std::uint64_t adverts_received_ = 0;
  std::deque<HistoryEntry> history_;
};

// The addresses an advert carries: keepalived compares them with its own virtual addresses,
// so carry the list it is configured with: the virtual IPs, else the reserved IP, else our own
// address (the count must not be 0).
std::vector<util::Ipv4> advert_addresses(const config::Config& cfg, util::Ipv4 source);

}  // namespace failoverd::node
