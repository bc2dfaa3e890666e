// sim::NodeSim: whole node::Node objects (each built from its config::Config) on a simulated
// network beside a fake reserved-IP API, driven by a discrete event queue ordered by (time,
// sequence). Everything random (advert delay and loss, API latency and faults) comes from one
// std::mt19937_64 seeded by the caller: the same seed and script give the same run.
//
// The simulator is the daemon's stand-in: it carries out every effect a Node returns, in order.
//  - SendAdvert goes onto the network: every other running node gets it after a delay drawn
//    from [delay_min, delay_max] unless it is lost or a partition separates the two (as
//    sim::Simulator does for bare Instances).
//  - TakeVips / ReleaseVips set a per-node "VIPs held" flag; a crash leaves the addresses on
//    the dead node's interface, as in reality (vips_left_by_crash).
//  - StartClaim / StartCheck are calls to the fake API (FakeApi below, modelled on
//    DigitalOcean's reserved IPs: GET the assignment, POST an assign action that locks the
//    address until it completes). Their reports come back as on_claim_report /
//    on_check_report after the drawn latency, unless the node crashed meanwhile (a request
//    that reached the API still takes effect).
//  - RunHook is appended to the node's hook log with its time; ArmTimer is the node's one timer.
// Health verdicts and link states are the host's, set by the script (they survive restarts: a
// broken host stays broken); a (re)started Node gets the host's verdict after a first-check
// delay, as the check runner's first result.
//
// Invariants (checked by check_node_run() after every run; violations name the seed and time):
//  1. settle: once the quiet phase has begun (network healed and lossless, links up, checks
//     passing, API up, every token good, maintenance off), from settled_at = quiet_from +
//     first_verdict + failover hold (5 s) + preempt_delay + Master_Down_Interval (max over nodes) +
//     2 advert intervals + delay_max on, no node changes state, at most one node is MASTER at any
//     time, and exactly one is when some running node could serve (no fault reason; a node faulted
//     for good by a claim refused with a bad token stays FAULT until restarted, as the real daemon
//     does);
//  2. reserved IP: from claim_settled_at = settled_at + reconcile_interval + max_hold_off +
//     2 x (30 s, the longest claim backoff, + ApiConfig::max_call(), the longest call with its
//     timeout) to the end, the reserved IP is held by that MASTER;
//  3. hooks: each incarnation's hook log matches its transitions one for one, in order (master,
//     backup, fault for the state entered; INIT none); with a reserved IP the master hook waits
//     for the claim report (FAILOVERD_CLAIM=ok|failed, emitted in on_claim_report with the
//     report's outcome) or, if the node leaves MASTER first, runs with "pending" just before
//     the next transition's hook; the stop hook once, only after shutdown. No hook without its
//     transition, none twice;
//  4. claims: no StartClaim from a node that is not MASTER at that point of its effects (so none
//     after it left MASTER);
//  5. VIPs: TakeVips only as MASTER, and after every Node call the VIPs are held exactly while
//     the node is MASTER (ReleaseVips on leaving; a crash leaves them, which is not counted).
// 4 and 5, and the driving contract (one provider call at a time, a transition for every state
// change), are checked as the effects are carried out.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "failoverd/config/config.h"
#include "failoverd/node/node.h"
#include "failoverd/sim/simulator.h"

namespace failoverd::sim {

// The fake reserved-IP API. Latencies are one way (node to API, or back).
struct ApiConfig {
  Duration latency_min{std::chrono::milliseconds(5)};
  Duration latency_max{std::chrono::milliseconds(150)};
  Duration action_min{std::chrono::milliseconds(0)};  // an assign in progress (locked)
  Duration action_max{std::chrono::milliseconds(1500)};
  // A request whose answer is lost fails at the client after this (the request itself may
  // still have taken effect).
  Duration timeout{std::chrono::seconds(10)};

  // The longest a claim or check takes to report: GET, POST, the answer, or a timeout.
  Duration max_call() const { return 4 * latency_max + action_max + timeout; }
};

struct NodeEvent {
  enum class Kind : std::uint8_t {
    Start,        // a fresh Node from the node's config (a running one is crashed first)
    Crash,        // the process dies: effects lost, timers gone, VIPs left on the interface
    Shutdown,     // graceful: Node::shutdown(), its effects carried out, then it stops
    Partition,    // `groups[i]` is node i's group; only nodes of one group can talk
    Heal,         // everyone can talk again
    SetLoss,      // advert loss probability from now on (`value`)
    Health,       // the host's checks: `flag` = failing (the Node hears it as a verdict)
    Link,         // the host's heartbeat link: `flag` = down
    ApiDown,      // `flag`: every request fails (503) while down
    ApiFlaky,     // `value`: the share of requests that fail (500) or, as often, time out
    BadToken,     // node's token: `flag` = refused (401, a permanent claim failure)
    Failover,     // failoverctl failover --hold 5s on the node (refused unless MASTER)
    Maintenance,  // failoverctl maintenance on|off (`flag`)
  };
  Time at{0};
  Kind kind = Kind::Start;
  int node = 0;
  bool flag = false;
  double value = 0.0;
  std::vector<int> groups;

  std::string describe() const;
};

// The --hold of the scripted failovers: shorter than the default minute, so runs stay short.
inline constexpr Duration kSimFailoverHold = std::chrono::seconds(5);

// One hook run: what the hook log of a node holds.
struct HookRun {
  Time at{0};
  int incarnation = 0;
  node::Hook hook = node::Hook::kMaster;
  std::string claim;  // FAILOVERD_CLAIM, "" when not set
};

struct NodeSimCounters {
  std::uint64_t events = 0;
  std::uint64_t adverts_sent = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t lost = 0;
  std::uint64_t transitions = 0;
  std::uint64_t claims = 0;  // StartClaim effects
  std::uint64_t checks = 0;  // StartCheck effects
  std::uint64_t claim_failures = 0;
  std::uint64_t hooks = 0;
  std::uint64_t holder_changes = 0;
  std::uint64_t commands = 0;  // failover and maintenance requests
  std::uint64_t refused = 0;   // of those
};

class NodeSim {
 public:
  // `nodes[i]` configures node i (its heartbeat source is 10.0.0.(i+1)); nothing runs until a
  // Start event. `first_verdict` is the delay of a fresh Node's first check result.
  NodeSim(std::uint64_t seed, std::vector<config::Config> nodes, NetworkConfig net, ApiConfig api,
          Duration first_verdict = std::chrono::milliseconds(500));

  void schedule(NodeEvent ev);
  void schedule(const std::vector<NodeEvent>& evs);
  // Processes every event up to and including `until`.
  void run_until(Time until);

  Time now() const { return now_; }
  int size() const { return static_cast<int>(hosts_.size()); }
  bool running(int i) const { return hosts_.at(i).node.has_value(); }
  const node::Node* node(int i) const;
  // The state as the node last announced it (INIT when stopped).
  core::State state(int i) const { return hosts_.at(i).state; }
  std::vector<int> masters() const;
  bool vips_held(int i) const { return hosts_.at(i).vips_held; }
  bool vips_left_by_crash(int i) const { return hosts_.at(i).vips_left; }
  std::optional<int> holder() const { return holder_; }
  struct HolderChange {
    Time at{0};
    std::optional<int> to;
  };
  const std::vector<HolderChange>& holder_changes() const { return holder_changes_; }
  const std::vector<HookRun>& hook_log(int i) const { return hosts_.at(i).hooks; }
  // State changes and stops, in order (TimelineEntry as in sim::Simulator).
  const std::vector<TimelineEntry>& timeline() const { return timeline_; }
  // Invariants 3, 4, 5 and contract breaches, seen while running: "12.3s node1: ...".
  const std::vector<std::string>& violations() const { return violations_; }
  const NodeSimCounters& counters() const { return counters_; }
  const std::vector<config::Config>& configs() const { return configs_; }
  const NetworkConfig& network() const { return net_; }
  const ApiConfig& api() const { return api_; }
  Duration first_verdict() const { return first_verdict_; }

 private:
  // What kind of Node call the effects being carried out came from.
  enum class Call : std::uint8_t { kOther, kClaimOk, kClaimFailed };
  struct Host {
    std::optional<node::Node> node;
    int incarnation = 0;  // a new process: answers and timers of the old one are dropped
    std::uint64_t timer_generation = 0;
    core::State state = core::State::Initialize;
    bool vips_held = false;
    bool vips_left = false;
    std::uint64_t node_transitions = 0;  // Node::transitions() after the last call
    bool call_out = false;               // a StartClaim or StartCheck is unanswered
    bool health_failing = false;
    bool link_down = false;
    bool bad_token = false;
    Time last_arrival{0};
    std::vector<HookRun> hooks;
    // Hooks owed for this incarnation's transitions, oldest first (invariant 3).
    std::vector<node::Hook> owed;
    bool stopping = false;
    bool stop_hook_ran = false;
    // Counts the transitions into MASTER; a claim remembers the one it was started in, so a
    // master hook can be checked to report a claim of its own MASTER period.
    int master_epoch = 0;
    int claim_epoch = 0;  // of the call out
  };
  struct Event {
    Time at{0};
    std::uint64_t seq = 0;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  void at(Time t, std::function<void()> fn);
  void run_script(const NodeEvent& ev);
  void start(int i);
  void stop(int i, const std::string& why);
  void end_incarnation(int i);
  node::Now now_for() const;
  health::Verdict verdict_of(int i) const;
  std::optional<std::string> link_problem_of(int i) const;
  void carry_out(int i, node::Effects effects, Call call = Call::kOther);
  void on_hook(int i, const node::RunHook& h, Call call);
  void on_state(int i, core::State to);
  void broadcast(int from, const proto::Advertisement& ad);
  void api_claim(int i);
  void api_check(int i);
  // One request: decides at the API (after a latency) what happens, and answers after another.
  enum class Fate : std::uint8_t { kOk, kDown, kError, kTimeout, kUnauthorized };
  Fate draw_fate(int i);
  void answer(int i, int incarnation, Duration after, std::function<void()> fn);
  void set_holder(std::optional<int> to);
  void violation(int i, const std::string& what);
  Duration draw(Duration lo, Duration hi);
  double unit();

  std::vector<config::Config> configs_;
  NetworkConfig net_;
  ApiConfig api_;
  Duration first_verdict_;
  std::mt19937_64 rng_;
  std::vector<Host> hosts_;
  std::vector<int> groups_;
  bool api_down_ = false;
  double api_flaky_ = 0.0;
  std::optional<int> holder_;
  bool locked_ = false;
  std::vector<HolderChange> holder_changes_;
  std::vector<Event> queue_;
  std::uint64_t next_seq_ = 0;
  Time now_{0};
  std::vector<TimelineEntry> timeline_;
  std::vector<std::string> violations_;
  NodeSimCounters counters_;
};

// ---- seeded schedules ----

struct NodeSchedule {
  std::uint64_t seed = 0;
  std::vector<config::Config> nodes;
  NetworkConfig net;
  ApiConfig api;
  Duration first_verdict{std::chrono::milliseconds(500)};
  std::vector<NodeEvent> events;
  Time quiet_from{0};  // every disturbance is over from here on (see invariant 1)
  Time end{0};
  std::string summary;

  std::string describe() const;  // summary, nodes and the script, for failure messages
};

// The same seed gives the same schedule: 2 or 3 nodes with a reserved IP (and virtual IPs in
// some), hooks and a check; loss, delay, partitions and heals, crashes, restarts, graceful
// stops, API outages, errors and timeouts, bad tokens, failing checks, links down.
NodeSchedule random_node_schedule(std::uint64_t seed);

struct NodeVerdict {
  std::vector<std::string> violations;  // each names the seed and the time
  Time settled_at{0};
  Time claim_settled_at{0};
  bool one_master = false;  // one MASTER settled: invariant 2 applied
  bool ok() const { return violations.empty(); }
};

// The bounds of invariants 1 and 2 for a schedule.
Time settled_at(const NodeSchedule& s);
Time claim_settled_at(const NodeSchedule& s);

// Checks a finished run of `s` (the simulator must have run until s.end).
NodeVerdict check_node_run(const NodeSchedule& s, const NodeSim& sim);
// Runs `s` on a fresh simulator seeded with s.seed and checks it; `trace`, when given, gets the
// schedule, the timeline, the hook logs and the holder changes (for failure messages).
NodeVerdict run_node_schedule(const NodeSchedule& s, NodeSimCounters* counters = nullptr,
                              std::string* trace = nullptr);

}  // namespace failoverd::sim
