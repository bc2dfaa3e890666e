// core::Instance: one VRRPv3 virtual router (RFC 5798 §6.4, as amended by RFC 9568) as a pure
// state machine. Events come in with the time they happened; actions come out. No sockets,
// clocks, threads or logging: the daemon and the simulator drive it the same way.
//
// Driving contract:
//   - call start() once, then feed events in time order;
//   - after every call, arm one timer for next_deadline() (if any) and call on_timer() when
//     it expires (calling it early or a little late is harmless: it only acts on expired
//     deadlines; a deadline missed by more than Master_Down_Interval is a stalled loop, which
//     the instance answers as rejoin_if_stalled says);
//   - carry out the returned actions in order.
// Not thread-safe: one thread owns an Instance.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "failoverd/core/timing.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::core {

enum class State : std::uint8_t { Initialize, Backup, Master, Fault };

// "INIT", "BACKUP", "MASTER", "FAULT": the names of the status contract.
const char* to_string(State s);

inline constexpr std::uint8_t kPriorityOwner = 255;
inline constexpr std::uint8_t kPriorityResign = 0;

struct Params {
  std::uint8_t priority = 100;                    // 1..254, or 255 for the address owner
  Duration advert_interval = std::chrono::seconds(1);  // a multiple of 10ms, 10ms..40.95s
  bool preempt = true;
  Duration preempt_delay{0};  // after start or leaving FAULT, do not preempt for this long
  util::Ipv4 primary_address;  // our source address: the tie-break on equal priority
  // The unicast peers as configured; empty = multicast. May include primary_address (hosts
  // can share one list): it is not counted.
  std::vector<util::Ipv4> peers;
  // Instant handover (a deliberate deviation from RFC 5798 §6.4.2): with exactly one peer
  // besides ourselves, a BACKUP that hears that peer resign (priority 0) becomes MASTER at
  // once instead of after Skew_Time. Skew_Time only orders several backups, so the one with
  // the highest priority wins; with a single peer there is no other backup to wait for. With
  // multicast or several peers this has no effect: the RFC rule applies.
  bool instant_handover = true;
};

// An advertisement as core sees it: the transport has already checked VRID, checksum, TTL
// and authentication.
struct Advert {
  util::Ipv4 source;
  std::uint8_t priority = 0;
  std::uint16_t max_adver_interval_cs = 100;
};

// ---- actions ----

// Send an advertisement now with these fields.
struct SendAdvert {
  std::uint8_t priority;
  std::uint16_t max_adver_interval_cs;
};

// The state changed. `reason` is one human sentence for the log and history.
struct Transition {
  State from;
  State to;
  std::string reason;
};

// As MASTER we heard a lower-priority advert from `source`: another node believed it was
// master (a split that just healed, or a node that started without hearing us). The owner
// of the service address should make sure the address is still ours.
struct LowerPriorityAdvert {
  util::Ipv4 source;
  std::uint8_t priority;
};

using Action = std::variant<SendAdvert, Transition, LowerPriorityAdvert>;
using Actions = std::vector<Action>;

// Everything of an Instance but its Params (those come from the config), for a restart in
// place (failoverctl restart): the new process resumes exactly here. Times are on the steady
// clock (CLOCK_MONOTONIC survives exec, so they stay valid).
struct InstanceSnapshot {
  State state = State::Initialize;
  int priority_delta = 0;
  Duration master_adver_interval{0};
  std::optional<Time> master_down_timer;
  std::optional<Time> adver_timer;
  bool master_down_from_resign = false;
  bool woke_from_stall = false;
  Duration stall_silence{0};
  bool master_down_from_failover = false;
  Time preempt_allowed_at{0};
  std::optional<util::Ipv4> master;
  bool started = false;
  bool maintenance = false;
  bool faulted = false;
  std::string fault_reason;

  bool operator==(const InstanceSnapshot&) const = default;
};

class Instance {
 public:
  explicit Instance(Params params);

  // RFC Startup event. With `faulted`, the instance goes straight to FAULT (a check that has
  // not passed yet, a link that is down): a broken node never becomes MASTER.
  Actions start(Time now, bool faulted, const std::string& fault_reason = {});

  // RFC Shutdown event: a MASTER sends priority 0 so a backup takes over after Skew_Time (at
  // once with instant handover, see Params).
  Actions shutdown(Time now);

  Actions on_advert(Time now, const Advert& advert);

  // Acts on every deadline at or before `now`.
  Actions on_timer(Time now);

  // A health check with weight 0 failed, or a tracked link went down (true); all such
  // problems cleared (false). A MASTER entering FAULT resigns with priority 0 first.
  Actions set_fault(Time now, bool faulted, const std::string& reason);

  // Sum of the weights of the checks that currently count (see health/tracker.h). The effective
  // priority is priority + delta, kept within 1..254; an owner (255) is never adjusted.
  Actions set_priority_delta(Time now, int delta);

  // An operator's planned switchover (failoverctl failover): a MASTER sends priority 0 and
  // becomes BACKUP, so a backup takes over after its Skew_Time. For `hold` it does not preempt
  // back. VRRP backups are silent, so whether a healthy peer exists is learned by asking: if
  // no master is heard within failover_window(), it takes the address back (the failover is
  // refused, in effect, after a gap of about one advert interval). Returns nullopt, with no
  // effect, when not MASTER.
  std::optional<Actions> resign(Time now, Duration hold);
  // How long a resigned node waits for a peer to take over: one advert interval (a peer's
  // Skew_Time is less) plus slack.
  Duration failover_window() const;

  // Maintenance (failoverctl maintenance on|off): the node stays BACKUP and never becomes
  // MASTER (a MASTER resigns with priority 0 first). Off: it rejoins as a fresh BACKUP.
  Actions set_maintenance(Time now, bool on);
  bool maintenance() const { return maintenance_; }

  // SIGHUP with a changed [vrrp] section: new priority, interval, preempt settings take
  // effect from the next advert, without a new election. REQUIRES: the same VRID.
  Actions reconfigure(Time now, const Params& params);

  std::optional<Time> next_deadline() const;

  InstanceSnapshot snapshot() const;
  // Resumes at `s` (taken by snapshot() of an Instance with the same VRID) under this
  // Instance's Params; no Transition. A MASTER advertises at once (its cadence restarts from
  // `now`), unless it was silent for longer than Master_Down_Interval: then it is a stalled
  // loop (see rejoin_if_stalled) and holds its advert for the grace. A BACKUP's
  // Master_Down_Timer runs on; one missed by a whole interval starts afresh.
  // REQUIRES: start() has not been called.
  Actions restore(Time now, const InstanceSnapshot& s);

  State state() const { return state_; }
  const Params& params() const { return params_; }
  std::uint8_t effective_priority() const;
  int priority_delta() const { return priority_delta_; }
  // The current master: ourselves as MASTER, the source of the adverts we accept as BACKUP,
  // none when unknown.
  std::optional<util::Ipv4> master() const;
  Duration master_adver_interval() const { return master_adver_interval_; }
  Duration skew_time() const;
  Duration master_down_interval() const;
  // The one peer instant handover applies to: set when params().instant_handover is on and
  // exactly one peer besides ourselves is configured.
  std::optional<util::Ipv4> instant_handover_peer() const;

 private:
  // After a stall of the caller's loop (a paused VM, SIGSTOP) longer than
  // Master_Down_Interval, moves the missed deadline instead of acting on it (see the .cpp);
  // true when it did.
  bool rejoin_if_stalled(Time now);
  Duration stall_grace() const;
  Actions become_master(Time now, std::string reason);
  Actions become_backup(Time now, State from, std::string reason);
  void transition(Actions& out, State to, std::string reason);
  SendAdvert advert() const;
  bool may_preempt(Time now) const;

  Params params_;
  State state_ = State::Initialize;
  int priority_delta_ = 0;
  Duration master_adver_interval_;
  std::optional<Time> master_down_timer_;  // BACKUP only
  std::optional<Time> adver_timer_;        // MASTER only
  bool master_down_from_resign_ = false;   // the running Master_Down_Timer is a Skew_Time after priority 0
  bool woke_from_stall_ = false;  // MASTER only: in the grace after a stall, see rejoin_if_stalled
  Duration stall_silence_{0};     // how long it had not advertised then
  bool master_down_from_failover_ = false;  // ... is the failover window after our own resignation
  Time preempt_allowed_at_{0};
  std::optional<util::Ipv4> master_;
  bool started_ = false;
  bool maintenance_ = false;
  bool faulted_ = false;
  std::string fault_reason_;
};

}  // namespace failoverd::core
