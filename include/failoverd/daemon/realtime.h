// Realtime scheduling and locked memory for the event loop, so that load on the box does not
// delay an advert past the peer's Master_Down_Interval (at advert_interval = 10ms that is about
// 34 ms, less than one scheduler slice of a busy CPU).
//
// apply_realtime() is called once, on the thread that will run the event loop, before any other
// thread or child exists:
// - SCHED_RR at `priority`, with SCHED_RESET_ON_FORK: every thread and child made afterwards
//   (HTTP claims, checks, hooks) starts at normal priority, so blocking work
//   never runs realtime;
// - mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT): the loop's pages are never swapped out,
//   so no page fault waits on a disk under memory pressure (only without an RLIMIT_MEMLOCK
//   limit, or with CAP_IPC_LOCK: under a limit, later allocations would fail);
// - a guard against a runaway realtime loop: RLIMIT_RTTIME makes the kernel send SIGXCPU after
//   kRtTimeSoft of CPU without sleeping, and the handler drops that thread to SCHED_OTHER (the
//   daemon goes on, without realtime, until it is restarted). The hard limit
//   is never reached after the drop, since the limit counts realtime CPU only.
// Each step is done when it is permitted (root, CAP_SYS_NICE / CAP_IPC_LOCK, or the unit's
// LimitRTPRIO= / LimitMEMLOCK=) and reported otherwise; none is an error.
#pragma once

#include <chrono>
#include <string>

namespace failoverd::daemon {

// Realtime CPU time, without sleeping, after which the loop is demoted. The loop sleeps in
// epoll between adverts and packets; only a flood or a bug keeps it running this long.
inline constexpr std::chrono::milliseconds kRtTimeSoft{2000};

struct RealtimeRequest {
  int priority = 0;          // 1..99 for SCHED_RR; 0: normal scheduling
  bool lock_memory = false;  // mlockall
};

struct RealtimeOutcome {
  bool realtime = false;       // SCHED_RR is in effect
  bool memory_locked = false;  // mlockall succeeded
  // One line for the log: what was done and, for what was not, why (e.g. "SCHED_RR priority
  // 10 not permitted (Operation not permitted): normal scheduling, memory locked").
  std::string summary;
};

RealtimeOutcome apply_realtime(const RealtimeRequest& request);

// How many times the SIGXCPU guard demoted a thread since start (tests read it; the daemon
// does not report it yet).
unsigned realtime_demotions();

}  // namespace failoverd::daemon
