#include "failoverd/core/instance.h"

#include <algorithm>
#include <cstdio>
#include <utility>

namespace failoverd::core {

const char* to_string(State s) {
  switch (s) {
    case State::Initialize: return "INIT";
    case State::Backup: return "BACKUP";
    case State::Master: return "MASTER";
    case State::Fault: return "FAULT";
  }
  return "UNKNOWN";
}

namespace {
// "341.4ms", "3.609s": precise enough for a log line, unlike the exact config form.
std::string ms(Duration d) {
  char buf[32];
  const double millis = static_cast<double>(d.count()) / 1000.0;
  if (millis >= 1000.0) {
    std::snprintf(buf, sizeof buf, "%.3fs", millis / 1000.0);
  } else {
    std::snprintf(buf, sizeof buf, "%.1fms", millis);
  }
  return buf;
}
}  // namespace

Instance::Instance(Params params)
    : params_(std::move(params)), master_adver_interval_(params_.advert_interval) {}

std::uint8_t Instance::effective_priority() const {
  if (params_.priority == kPriorityOwner) return kPriorityOwner;
  const int p = std::clamp(int{params_.priority} + priority_delta_, 1, 254);
  return static_cast<std::uint8_t>(p);
}

Duration Instance::skew_time() const {
  return core::skew_time(effective_priority(), master_adver_interval_);
}

Duration Instance::master_down_interval() const {
  return core::master_down_interval(effective_priority(), master_adver_interval_);
}

std::optional<util::Ipv4> Instance::instant_handover_peer() const {
  if (!params_.instant_handover) return std::nullopt;
  std::optional<util::Ipv4> only;
  for (const auto& p : params_.peers) {
    if (p == params_.primary_address || p == only) continue;
    if (only) return std::nullopt;  // several peers: Skew_Time orders the backups
    only = p;
  }
  return only;  // none when multicast
}

std::optional<util::Ipv4> Instance::master() const {
  if (state_ == State::Master) return params_.primary_address;
  return master_;
}

std::optional<Time> Instance::next_deadline() const {
  if (state_ == State::Backup) return master_down_timer_;
  if (state_ == State::Master) return adver_timer_;
  return std::nullopt;
}

SendAdvert Instance::advert() const {
  return SendAdvert{effective_priority(), to_centiseconds(params_.advert_interval)};
}

void Instance::transition(Actions& out, State to, std::string reason) {
  const State from = state_;
  state_ = to;
  if (to != State::Backup) master_down_timer_.reset();
  if (to != State::Master) {
    adver_timer_.reset();
    woke_from_stall_ = false;
  }
  out.push_back(Transition{from, to, std::move(reason)});
}

bool Instance::may_preempt(Time now) const {
  return params_.preempt && now >= preempt_allowed_at_;
}

// RFC 5798 §6.4.1 (Startup, priority 255) and §6.4.2 (Master_Down_Timer fires).
Actions Instance::become_master(Time now, std::string reason) {
  Actions out;
  out.push_back(advert());
  transition(out, State::Master, std::move(reason));
  adver_timer_ = now + params_.advert_interval;
  master_.reset();
  return out;
}

// RFC 5798 §6.4.1 (Startup) and leaving FAULT: Master_Adver_Interval starts as our own
// Advertisement_Interval and the Master_Down_Timer runs one Master_Down_Interval.
Actions Instance::become_backup(Time now, State from, std::string reason) {
  Actions out;
  (void)from;
  master_adver_interval_ = params_.advert_interval;
  transition(out, State::Backup, std::move(reason));
  if (!maintenance_) master_down_timer_ = now + master_down_interval();
  master_down_from_resign_ = false;
  master_down_from_failover_ = false;
  preempt_allowed_at_ = now + params_.preempt_delay;
  master_.reset();
  return out;
}

Actions Instance::start(Time now, bool faulted, const std::string& fault_reason) {
  if (started_) return {};
  started_ = true;
  faulted_ = faulted;
  fault_reason_ = fault_reason;
  if (faulted) {
    Actions out;
    transition(out, State::Fault, "started with a fault: " + fault_reason);
    return out;
  }
  if (params_.priority == kPriorityOwner && !maintenance_) {
    return become_master(now, "started as address owner (priority 255)");
  }
  return become_backup(now, State::Initialize,
                       "started; waiting " + ms(master_down_interval()) + " for a master");
}

Actions Instance::shutdown(Time /*now*/) {
  Actions out;
  if (state_ == State::Initialize) return out;
  if (state_ == State::Master) {
    out.push_back(SendAdvert{kPriorityResign, to_centiseconds(params_.advert_interval)});
  }
  transition(out, State::Initialize, "shutting down");
  master_.reset();
  started_ = false;
  return out;
}

// A loop that stalled (a paused VM, SIGSTOP) wakes to a deadline long past, and acting on it
// at once would be a second failover.
// - A MASTER silent for longer than Master_Down_Interval may have been replaced by its backup;
//   its next advert would preempt that backup back at once. Whether it was replaced is in the
//   socket: the new master's adverts wait there. So it holds its advert for a moment (the
//   grace), in which the daemon reads what is waiting. An advert from a master that ranks
//   below it means it was replaced: it steps down as a restarted node would (BACKUP,
//   preempt_delay applying). Nothing: its peer slept too, or is gone, and it carries on.
// - A BACKUP whose Master_Down_Timer ran out long ago would take over before reading the
//   adverts waiting in its socket: it waits one Master_Down_Interval afresh, as after a start.
// A node that slept less than that acts on its timers as usual.
bool Instance::rejoin_if_stalled(Time now) {
  const Duration down = core::master_down_interval(effective_priority(), params_.advert_interval);
  if (state_ == State::Master && adver_timer_ && !woke_from_stall_) {
    const Duration silent = now - (*adver_timer_ - params_.advert_interval);
    if (silent <= down) return false;
    woke_from_stall_ = true;
    stall_silence_ = silent;
    adver_timer_ = now + stall_grace();
    return true;
  }
  if (state_ == State::Backup && master_down_timer_ && now - *master_down_timer_ > down) {
    master_adver_interval_ = params_.advert_interval;
    master_down_timer_ = now + master_down_interval();
    master_down_from_resign_ = false;
    master_down_from_failover_ = false;
    preempt_allowed_at_ = now + params_.preempt_delay;
    return true;
  }
  return false;
}

Duration Instance::stall_grace() const {
  // Long enough for the loop to read what waits in its socket, short next to any peer's
  // Master_Down_Interval (at least three intervals).
  return std::min<Duration>(params_.advert_interval / 2, std::chrono::milliseconds(20));
}

Actions Instance::on_advert(Time now, const Advert& ad) {
  // Our own advert looped back (a transport should drop it already). Answering it as a
  // "lower-priority master" would make a MASTER echo itself forever.
  Actions out;
  if (ad.source == params_.primary_address) return out;
  // The socket is often read before the timer fires on waking: a stall counts here too.
  rejoin_if_stalled(now);
  switch (state_) {
    case State::Initialize:
      return out;
    case State::Fault:
      // Remember who is master for status; a faulted node takes no part in the election.
      if (ad.priority != kPriorityResign) master_ = ad.source;
      return out;
    case State::Backup: {
      if (maintenance_) {
        // Out of the election: follow who is master, for status, and nothing else.
        if (ad.priority != kPriorityResign) master_ = ad.source;
        return out;
      }
      // RFC 5798 §6.4.2.
      if (ad.priority == kPriorityResign) {
        // Instant handover: the RFC waits Skew_Time here so that, of several backups, the one
        // with the highest priority takes over first. Our only peer just resigned: nobody
        // else can. The RFC takes priority 0 from any accepted source; the instant path only
        // from that peer (a transport with peers drops other sources already).
        if (instant_handover_peer() == ad.source) {
          return become_master(now, "master " + ad.source.to_string() +
                                        " resigned (priority 0); took over at once (one peer: "
                                        "no other backup to wait for)");
        }
        master_down_timer_ = now + skew_time();
        master_down_from_resign_ = true;
        master_down_from_failover_ = false;
        return out;
      }
      if (!may_preempt(now) || ad.priority >= effective_priority()) {
        master_adver_interval_ = from_centiseconds(ad.max_adver_interval_cs);
        master_down_timer_ = now + master_down_interval();
        master_down_from_resign_ = false;
        master_down_from_failover_ = false;
        master_ = ad.source;
      }
      // Otherwise: a lower-priority master and we may preempt. Discard the advert, so our
      // Master_Down_Timer runs out and we take over.
      return out;
    }
    case State::Master: {
      // RFC 5798 §6.4.3.
      if (ad.priority == kPriorityResign) {
        out.push_back(advert());
        adver_timer_ = now + params_.advert_interval;
        woke_from_stall_ = false;  // we have just advertised: the grace is over
        return out;
      }
      const std::uint8_t mine = effective_priority();
      if (woke_from_stall_) {
        // Woken from a stall and a master that ranks below us is advertising: it took over
        // while we slept (see rejoin_if_stalled).
        const std::string why = "the event loop stalled: no advert sent for " +
                                ms(stall_silence_) + " and " + ad.source.to_string() +
                                " took over meanwhile; rejoining as a restarted node";
        out = become_backup(now, State::Master, why);
        master_adver_interval_ = from_centiseconds(ad.max_adver_interval_cs);
        master_down_timer_ = now + master_down_interval();
        master_ = ad.source;
        return out;
      }
      if (ad.priority > mine ||
          (ad.priority == mine && ad.source > params_.primary_address)) {
        const std::string why =
            ad.priority > mine
                ? "advert from " + ad.source.to_string() + " with higher priority " +
                      std::to_string(ad.priority) + " > " + std::to_string(mine)
                : "advert from " + ad.source.to_string() + " with equal priority " +
                      std::to_string(ad.priority) + " and a higher address";
        master_adver_interval_ = from_centiseconds(ad.max_adver_interval_cs);
        transition(out, State::Backup, why);
        master_down_timer_ = now + master_down_interval();
        master_down_from_resign_ = false;
        master_down_from_failover_ = false;
        master_ = ad.source;
        return out;
      }
      // Another node thinks it is master but ranks below us: assert ourselves at once so it
      // steps down after one delivery, and let the owner of the address re-check it.
      out.push_back(advert());
      adver_timer_ = now + params_.advert_interval;
      out.push_back(LowerPriorityAdvert{ad.source, ad.priority});
      return out;
    }
  }
  return out;
}

Actions Instance::on_timer(Time now) {
  Actions out;
  if (rejoin_if_stalled(now)) return out;
  if (state_ == State::Backup && master_down_timer_ && *master_down_timer_ <= now) {
    const std::string reason =
        master_down_from_failover_
            ? "failover: no peer took over within " + ms(failover_window()) +
                  "; took the address back"
        : master_down_from_resign_
            ? "master resigned (priority 0); took over after Skew_Time " + ms(skew_time())
            : "no advertisement from master for Master_Down_Interval " +
                  ms(master_down_interval());
    return become_master(now, reason);
  }
  if (state_ == State::Master && adver_timer_ && *adver_timer_ <= now) {
    // The grace after a stall passed with no new master heard: we still are the master.
    woke_from_stall_ = false;
    out.push_back(advert());
    // Next deadline from this one, not from `now`: a timer that fires a little late must not
    // push every later advert back. After a long stall, restart the cadence from now.
    const Time next = *adver_timer_ + params_.advert_interval;
    adver_timer_ = next > now ? next : now + params_.advert_interval;
  }
  return out;
}

Actions Instance::set_fault(Time now, bool faulted, const std::string& reason) {
  Actions out;
  faulted_ = faulted;
  fault_reason_ = reason;
  if (!started_) return out;
  if (faulted) {
    if (state_ == State::Fault) return out;
    if (state_ == State::Master) {
      out.push_back(SendAdvert{kPriorityResign, to_centiseconds(params_.advert_interval)});
    }
    transition(out, State::Fault, reason);
    master_.reset();
    return out;
  }
  if (state_ != State::Fault) return out;
  return become_backup(now, State::Fault,
                       reason.empty() ? std::string("fault cleared") : "fault cleared: " + reason);
}

Actions Instance::set_priority_delta(Time now, int delta) {
  (void)now;
  priority_delta_ = delta;
  // The next advert carries the new priority; a BACKUP compares it with the next advert it
  // receives. Nothing to do at once.
  return {};
}

Duration Instance::failover_window() const {
  // A quarter interval (at least 20 ms) of slack for the two one-way delays and timer jitter.
  return params_.advert_interval +
         std::max<Duration>(params_.advert_interval / 4, std::chrono::milliseconds(20));
}

std::optional<Actions> Instance::resign(Time now, Duration hold) {
  if (state_ != State::Master) return std::nullopt;
  Actions out;
  out.push_back(SendAdvert{kPriorityResign, to_centiseconds(params_.advert_interval)});
  master_adver_interval_ = params_.advert_interval;
  transition(out, State::Backup, "resigned by the operator (failover)");
  master_.reset();
  master_down_from_resign_ = false;
  master_down_from_failover_ = false;
  preempt_allowed_at_ = now + hold;
  // A healthy peer takes over within its Skew_Time (less than our advert interval, which it
  // learned) and advertises at once. Hearing nobody by then means nobody can: take the
  // address back after this window rather than after a whole Master_Down_Interval.
  master_down_from_failover_ = true;
  if (!maintenance_) master_down_timer_ = now + failover_window();
  return out;
}

Actions Instance::set_maintenance(Time now, bool on) {
  Actions out;
  if (on == maintenance_) return out;
  maintenance_ = on;
  if (on) {
    if (state_ == State::Master) {
      out.push_back(SendAdvert{kPriorityResign, to_centiseconds(params_.advert_interval)});
      transition(out, State::Backup, "maintenance on: resigned");
      master_.reset();
    }
    master_down_timer_.reset();
    return out;
  }
  if (state_ == State::Backup) {
    // Rejoin as if just started: wait one Master_Down_Interval for a master.
    master_adver_interval_ = params_.advert_interval;
    master_down_timer_ = now + master_down_interval();
    master_down_from_resign_ = false;
    master_down_from_failover_ = false;
    preempt_allowed_at_ = now + params_.preempt_delay;
  }
  return out;
}

Actions Instance::reconfigure(Time now, const Params& params) {
  Actions out;
  const Duration old_interval = params_.advert_interval;
  params_ = params;
  if (state_ == State::Master) {
    // Announce the change at once: a peer that now outranks us should know now, not in one
    // interval.
    out.push_back(advert());
    adver_timer_ = now + params_.advert_interval;
  } else if (state_ == State::Backup && !master_) {
    // No master heard yet: the down timer was computed from our own interval.
    if (old_interval != params_.advert_interval) master_adver_interval_ = params_.advert_interval;
  }
  return out;
}

InstanceSnapshot Instance::snapshot() const {
  InstanceSnapshot s;
  s.state = state_;
  s.priority_delta = priority_delta_;
  s.master_adver_interval = master_adver_interval_;
  s.master_down_timer = master_down_timer_;
  s.adver_timer = adver_timer_;
  s.master_down_from_resign = master_down_from_resign_;
  s.woke_from_stall = woke_from_stall_;
  s.stall_silence = stall_silence_;
  s.master_down_from_failover = master_down_from_failover_;
  s.preempt_allowed_at = preempt_allowed_at_;
  s.master = master_;
  s.started = started_;
  s.maintenance = maintenance_;
  s.faulted = faulted_;
  s.fault_reason = fault_reason_;
  return s;
}

Actions Instance::restore(Time now, const InstanceSnapshot& s) {
  state_ = s.state;
  priority_delta_ = s.priority_delta;
  master_adver_interval_ = s.master_adver_interval;
  master_down_timer_ = s.master_down_timer;
  adver_timer_ = s.adver_timer;
  master_down_from_resign_ = s.master_down_from_resign;
  woke_from_stall_ = s.woke_from_stall;
  stall_silence_ = s.stall_silence;
  master_down_from_failover_ = s.master_down_from_failover;
  preempt_allowed_at_ = s.preempt_allowed_at;
  master_ = s.master;
  started_ = s.started;
  maintenance_ = s.maintenance;
  faulted_ = s.faulted;
  fault_reason_ = s.fault_reason;
  // The state's timer must be there (a snapshot from an older Instance may lack it).
  if (state_ == State::Master && !adver_timer_) adver_timer_ = now;
  if (state_ == State::Backup && !master_down_timer_ && !maintenance_) {
    master_down_timer_ = now + master_down_interval();
  }
  Actions out;
  if (rejoin_if_stalled(now)) return out;
  if (state_ == State::Master && !woke_from_stall_) {
    // The peer heard our last advert before the exec; the next one goes now, not at the old
    // deadline: the gap the peer sees is the time the restart took.
    out.push_back(advert());
    adver_timer_ = now + params_.advert_interval;
  }
  return out;
}

}  // namespace failoverd::core
