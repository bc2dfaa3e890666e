// sim::Simulator: several core::Instances on a simulated broadcast network, driven by a
// discrete event queue ordered by (time, sequence). Everything random (message delay, loss)
// comes from one std::mt19937_64 seeded by the caller: the same seed and script give the
// same timeline, bit for bit. No wall clock, no threads.
//
// The network delivers every advert to every other running node after a delay drawn from
// [delay_min, delay_max], unless it is lost (probability `loss`, per receiver) or the two
// nodes are in different partition groups when it is sent or when it arrives. With `ordered`
// a receiver gets adverts in the order they were sent, as on one LAN segment; without it an
// advert may overtake an earlier one (a stale priority 0 can then arrive after the new
// master's first advert, which RFC 5798 obeys).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "failoverd/core/instance.h"
#include "failoverd/core/timing.h"

namespace failoverd::sim {

using core::Duration;
using core::Time;

struct NetworkConfig {
  Duration delay_min{100};
  Duration delay_max{1000};
  double loss = 0.0;
  bool ordered = true;
};

// One change of a node's state, or of whether it runs at all.
struct TimelineEntry {
  Time time{0};
  int node = 0;
  core::State state = core::State::Initialize;
  bool running = true;  // false: crashed or shut down (state is then Initialize)
  std::string reason;

  bool operator==(const TimelineEntry&) const = default;
};

// Something the script makes happen at a given time.
struct ScriptedEvent {
  enum class Kind : std::uint8_t {
    Start,             // a fresh Instance (a process (re)start); a running node is crashed first
    Crash,             // the node stops silently: no priority 0, in-flight adverts to it are lost
    Shutdown,          // graceful: Instance::shutdown() (a MASTER sends priority 0), then stops
    Partition,         // `groups[i]` is node i's group; only nodes of one group can talk
    Heal,              // everyone can talk again
    SetLoss,           // loss probability from now on
    SetFault,          // Instance::set_fault(flag)
    SetPriorityDelta,  // Instance::set_priority_delta(value)
  };
  Time at{0};
  Kind kind = Kind::Start;
  int node = 0;
  bool flag = false;        // Start: start faulted; SetFault: faulted
  int value = 0;            // SetPriorityDelta
  double loss = 0.0;        // SetLoss
  std::vector<int> groups;  // Partition

  std::string describe() const;
};

inline ScriptedEvent make_event(Time at, ScriptedEvent::Kind kind, int node = 0,
                                bool flag = false) {
  ScriptedEvent ev;
  ev.at = at;
  ev.kind = kind;
  ev.node = node;
  ev.flag = flag;
  return ev;
}

struct Counters {
  std::uint64_t adverts_sent = 0;
  std::uint64_t deliveries = 0;
  std::uint64_t lost = 0;             // loss probability
  std::uint64_t partitioned = 0;      // blocked by a partition
  std::uint64_t to_stopped_node = 0;  // the receiver was not running on arrival
  std::uint64_t lower_priority_adverts = 0;
  std::uint64_t events = 0;
};

class Simulator {
 public:
  // `nodes[i]` configures node i; nothing runs until a Start event for it.
  Simulator(std::uint64_t seed, std::vector<core::Params> nodes, NetworkConfig net);

  // Queues a scripted event. REQUIRES: ev.at is not before now().
  void schedule(ScriptedEvent ev);
  void schedule(const std::vector<ScriptedEvent>& evs);

  // Runs `fn` at time `at` (not before now()), in the same (time, sequence) order as every
  // other event: how models built on top (the cloud witness) add their own events.
  void call_at(Time at, std::function<void()> fn);

  // Observers, called while the event happens: every timeline entry as it is recorded (state
  // changes, stops), and every LowerPriorityAdvert a node's core emits.
  struct Observer {
    std::function<void(const TimelineEntry&)> on_timeline;
    std::function<void(Time, int node, const core::LowerPriorityAdvert&)> on_lower_priority;
  };
  void set_observer(Observer observer) { observer_ = std::move(observer); }

  // Processes every event up to and including time `until`; now() becomes `until`.
  void run_until(Time until);

  Time now() const { return now_; }
  int size() const { return static_cast<int>(nodes_.size()); }
  bool running(int node) const { return nodes_.at(node).instance.has_value(); }
  bool faulted(int node) const { return nodes_.at(node).faulted; }
  // State of a running node; Initialize for a stopped one.
  core::State state(int node) const;
  const core::Instance* instance(int node) const;
  std::vector<int> masters() const;
  const std::vector<core::Params>& params() const { return params_; }
  const NetworkConfig& network() const { return net_; }

  const std::vector<TimelineEntry>& timeline() const { return timeline_; }
  // Times at which an advert between two running nodes was lost or blocked by a partition,
  // and at which a priority changed: the moments after which "every advert arrives" does not
  // hold. Adverts to stopped nodes are not counted here.
  const std::vector<Time>& disturbances() const { return disturbances_; }
  // Contract breaches seen while running: a transition whose `from` is not the state we knew,
  // a deadline that did not move after on_timer, MASTER while faulted, an event storm.
  const std::vector<std::string>& errors() const { return errors_; }
  const Counters& counters() const { return counters_; }

 private:
  struct Node {
    std::optional<core::Instance> instance;
    std::uint64_t timer_generation = 0;
    std::optional<Time> armed;  // the deadline a live timer event is queued for
    bool faulted = false;       // as last told (survives restarts: a broken host stays broken)
    int priority_delta = 0;     // likewise
    core::State last_state = core::State::Initialize;
    Time last_arrival{0};  // of the latest advert queued to this node
  };

  struct Event {
    enum class Kind : std::uint8_t { Script, Deliver, Timer, Call };
    Time at{0};
    std::uint64_t seq = 0;
    Kind kind = Kind::Script;
    int node = 0;              // Deliver: receiver; Timer: owner
    int from = 0;              // Deliver: sender
    std::uint64_t generation;  // Timer: must match Node::timer_generation
    core::Advert advert;       // Deliver
    std::size_t script = 0;    // Script: index into script_; Call: index into calls_
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };

  void push(Event ev);
  void handle(const Event& ev);
  void run_script(const ScriptedEvent& ev);
  void apply(int node, core::Actions actions);
  void rearm(int node);
  void broadcast(int from, const core::Advert& advert);
  void stop(int node, const std::string& reason);
  void record(int node, core::State state, bool running, std::string reason);
  bool connected(int a, int b) const;
  Duration draw_delay();
  bool draw_loss();

  std::vector<core::Params> params_;
  NetworkConfig net_;
  std::mt19937_64 rng_;
  std::vector<Node> nodes_;
  std::vector<int> groups_;  // partition group per node; all 0 when healed
  std::vector<ScriptedEvent> script_;
  std::vector<std::function<void()>> calls_;  // emptied once run
  Observer observer_;
  std::vector<Event> queue_;  // a heap ordered by Later
  std::uint64_t next_seq_ = 0;
  int fired_node_ = -1;  // the node whose on_timer() is being applied
  Time now_{0};
  std::vector<TimelineEntry> timeline_;
  std::vector<Time> disturbances_;
  std::vector<std::string> errors_;
  Counters counters_;
};

// "  12.345678s node2 BACKUP -> MASTER: reason", one line per entry, for failure messages.
std::string format_timeline(const std::vector<TimelineEntry>& timeline);
std::string format_time(Time t);

}  // namespace failoverd::sim
