#include "failoverd/daemon/realtime.h"

#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace failoverd::daemon {

namespace {

std::atomic<unsigned> g_demotions{0};
static_assert(std::atomic<unsigned>::is_always_lock_free);

// SIGXCPU from RLIMIT_RTTIME is sent to the thread that used the time: drop that thread to
// normal scheduling. sched_setscheduler is a plain system call, safe in a handler.
void on_sigxcpu(int) {
  const int saved = errno;
  sched_param p{};
  p.sched_priority = 0;
  if (::sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &p) == 0) {
    g_demotions.fetch_add(1, std::memory_order_relaxed);
  }
  errno = saved;
}

std::string err(int e) { return std::strerror(e); }

bool has_effective_capability(int cap) {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
  if (::syscall(SYS_capget, &header, data) != 0) return false;
  return (data[cap / 32].effective & (1U << (cap % 32))) != 0;
}

// With MCL_FUTURE, every later mapping counts against RLIMIT_MEMLOCK (without CAP_IPC_LOCK):
// under a finite limit a new thread's stack or a large allocation would fail, which is far
// worse than being swapped. So lock only without a limit.
std::string lock_memory() {
  rlimit lim{};
  ::getrlimit(RLIMIT_MEMLOCK, &lim);
  if (lim.rlim_cur != RLIM_INFINITY && !has_effective_capability(CAP_IPC_LOCK)) {
    return "memory not locked (RLIMIT_MEMLOCK is " + std::to_string(lim.rlim_cur / 1024) +
           " KiB and CAP_IPC_LOCK is not held: later allocations would fail)";
  }
  // MCL_ONFAULT: pages are locked as they are used, so each thread's stack reservation does
  // not become resident all at once.
  if (::mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0) {
    return "memory not locked (mlockall: " + err(errno) + ")";
  }
  return {};
}

}  // namespace

unsigned realtime_demotions() { return g_demotions.load(std::memory_order_relaxed); }

RealtimeOutcome apply_realtime(const RealtimeRequest& request) {
  RealtimeOutcome out;
  std::string rt_part;
  if (request.priority <= 0) {
    rt_part = "normal scheduling (realtime_priority = 0)";
  } else {
    // The guard first: the loop must never run realtime without it.
    struct sigaction sa {};
    sa.sa_handler = on_sigxcpu;
    ::sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    const auto soft_us = static_cast<rlim_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(kRtTimeSoft).count());
    // Soft limit: the demotion; hard limit (a kill) twice that, or lower if it already is.
    // RLIM_INFINITY is the largest rlim_t, so min() keeps a lower existing hard limit.
    rlimit lim{};
    ::getrlimit(RLIMIT_RTTIME, &lim);
    const rlim_t hard = std::min<rlim_t>(lim.rlim_max, soft_us * 2);
    const rlimit want{std::min(soft_us, hard), hard};
    if (::sigaction(SIGXCPU, &sa, nullptr) != 0 || ::setrlimit(RLIMIT_RTTIME, &want) != 0) {
      rt_part = "no SCHED_RR: the runaway guard (RLIMIT_RTTIME) could not be set (" +
                err(errno) + ")";
    } else {
      sched_param p{};
      p.sched_priority = request.priority;
      if (::sched_setscheduler(0, SCHED_RR | SCHED_RESET_ON_FORK, &p) == 0) {
        out.realtime = true;
        rt_part = "SCHED_RR priority " + std::to_string(request.priority);
      } else {
        rt_part = "SCHED_RR priority " + std::to_string(request.priority) +
                  " not permitted (" + err(errno) + "): normal scheduling";
      }
    }
  }
  std::string mem_part;
  if (!request.lock_memory) {
    mem_part = "memory not locked (lock_memory = no)";
  } else if (mem_part = lock_memory(); mem_part.empty()) {
    out.memory_locked = true;
    mem_part = "memory locked";
  }
  out.summary = rt_part + ", " + mem_part;
  return out;
}

}  // namespace failoverd::daemon
