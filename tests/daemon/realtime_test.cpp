// The event loop's realtime scheduling and locked memory (daemon/realtime.h). Each case runs in
// a forked child, since the changes are to the calling process and must not leak into the rest
// of the suite; the child reports what it saw through a pipe.
#include "failoverd/daemon/realtime.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

namespace failoverd::daemon {
namespace {

// Runs `body` in a child and returns what it wrote, or a description of how the child died.
std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const std::string out = body();
    const ssize_t n = ::write(fds[1], out.data(), out.size());
    ::_exit(n == static_cast<ssize_t>(out.size()) ? 0 : 1);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, n);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    out += " [child died: status " + std::to_string(status) + "]";
  }
  return out;
}

std::string policy_name(int policy) {
  std::string s;
  switch (policy & ~SCHED_RESET_ON_FORK) {
    case SCHED_OTHER: s = "OTHER"; break;
    case SCHED_RR: s = "RR"; break;
    case SCHED_FIFO: s = "FIFO"; break;
    default: s = std::to_string(policy);
  }
  if (policy & SCHED_RESET_ON_FORK) s += "+reset";
  return s;
}

std::string own_policy() { return policy_name(::sched_getscheduler(0)); }

std::string forked_child_policy() {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const char c = static_cast<char>(::sched_getscheduler(0));
    (void)!::write(fds[1], &c, 1);
    ::_exit(0);
  }
  char c = -1;
  (void)!::read(fds[0], &c, 1);
  ::close(fds[0]);
  ::close(fds[1]);
  ::waitpid(pid, nullptr, 0);
  return policy_name(c);
}

std::string status_field(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(key + ":", 0) == 0) return line.substr(key.size() + 1);
  }
  return "?";
}

bool root() { return ::geteuid() == 0; }

// "RL POLICY SUMMARY": realtime and memory_locked as digits, then this thread's policy.
std::string flags_policy_summary(const RealtimeOutcome& o) {
  return std::to_string(o.realtime) + std::to_string(o.memory_locked) + " " + own_policy() + " " +
         o.summary;
}

TEST(Realtime, TheLoopRunsRoundRobinAndEverythingItStartsRunsNormally) {
  if (!root()) GTEST_SKIP() << "needs root (or an RLIMIT_RTPRIO) for SCHED_RR";
  const std::string seen = in_child([] {
    const RealtimeOutcome o = apply_realtime({10, true});
    std::string thread_policy;
    std::thread([&] { thread_policy = own_policy(); }).join();
    sched_param p{};
    ::sched_getparam(0, &p);
    rlimit rt{};
    ::getrlimit(RLIMIT_RTTIME, &rt);
    return "realtime=" + std::to_string(o.realtime) + " locked=" + std::to_string(o.memory_locked) +
           " loop=" + own_policy() + "/" + std::to_string(p.sched_priority) +
           " thread=" + thread_policy + " child=" + forked_child_policy() +
           " rttime=" + std::to_string(rt.rlim_cur) + " summary=" + o.summary;
  });
  EXPECT_EQ(seen,
            "realtime=1 locked=1 loop=RR+reset/10 thread=OTHER child=OTHER rttime=2000000 "
            "summary=SCHED_RR priority 10, memory locked");
}

TEST(Realtime, LockedMemoryShowsInTheKernelsAccounting) {
  if (!root()) GTEST_SKIP() << "needs root (or RLIMIT_MEMLOCK unlimited) for mlockall";
  const std::string seen = in_child([] {
    const RealtimeOutcome o = apply_realtime({0, true});
    std::string big(4 << 20, 'x');  // touched after the lock: its pages are locked on fault
    const std::string locked = status_field("VmLck");
    return std::to_string(o.memory_locked) + " " + std::to_string(big.size()) + " " +
           std::to_string(std::stol(locked) >= 4096);
  });
  EXPECT_EQ(seen, "1 4194304 1");
}

TEST(Realtime, OffMeansNormalSchedulingAndNoLock) {
  const std::string seen = in_child([] {
    const RealtimeOutcome o = apply_realtime({0, false});
    return flags_policy_summary(o);
  });
  EXPECT_EQ(seen,
            "00 OTHER normal scheduling (realtime_priority = 0), memory not locked "
            "(lock_memory = no)");
}

TEST(Realtime, WhatIsNotPermittedIsReportedNotFatal) {
  if (!root()) GTEST_SKIP() << "needs root to drop to an unprivileged user";
  const std::string seen = in_child([] {
    const rlimit none{0, 0};
    const rlimit small{64 * 1024, 64 * 1024};
    if (::setrlimit(RLIMIT_RTPRIO, &none) != 0 || ::setrlimit(RLIMIT_MEMLOCK, &small) != 0 ||
        ::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
      return std::string("could not drop privileges");
    }
    const RealtimeOutcome o = apply_realtime({10, true});
    return flags_policy_summary(o);
  });
  EXPECT_EQ(seen,
            "00 OTHER SCHED_RR priority 10 not permitted (Operation not permitted): normal "
            "scheduling, memory not locked (RLIMIT_MEMLOCK is 64 KiB and CAP_IPC_LOCK is not "
            "held: later allocations would fail)");
}

// A loop that never sleeps is demoted once kRtTimeSoft of realtime CPU is used up, and carries
// on at normal priority (about 2 s of one core).
TEST(Realtime, ARunawayLoopIsDemotedNotKilled) {
  if (!root()) GTEST_SKIP() << "needs root (or an RLIMIT_RTPRIO) for SCHED_RR";
  const std::string seen = in_child([] {
    const RealtimeOutcome o = apply_realtime({1, false});
    const auto give_up = std::chrono::steady_clock::now() + kRtTimeSoft * 4;
    while (realtime_demotions() == 0 && std::chrono::steady_clock::now() < give_up) {
    }
    return std::to_string(o.realtime) + " demotions=" + std::to_string(realtime_demotions()) +
           " now=" + own_policy();
  });
  EXPECT_EQ(seen, "1 demotions=1 now=OTHER+reset");
}

}  // namespace
}  // namespace failoverd::daemon
