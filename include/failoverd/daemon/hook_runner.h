// Runs the [notify] hooks: one at a time, in the order of the transitions, on a worker thread
// of its own so a slow hook never delays the loop (or an advert).
//
// Each run is one util::run_subprocess() of the hook with argv {path, INSTANCE, STATE,
// PRIORITY}: no shell, a clean environment (PATH=/usr/sbin:/usr/bin:/sbin:/bin plus the
// caller's extra variables), its own process group, stdin from /dev/null, stdout and stderr
// captured into one pipe (the first kHookMaxOutput bytes kept, the rest read and dropped so the
// hook never blocks on a full pipe). At the timeout the whole process group is killed (SIGKILL)
// and the hook reaped by pid; when the hook exits, whatever it left in its process group is
// killed too, so one run is over before the next starts. The destructor cuts a running hook
// short the same way. One log line per run (info when the hook exits 0, warn otherwise).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <spdlog/logger.h>

#include "failoverd/config/config.h"
#include "failoverd/core/instance.h"
#include "failoverd/util/unique_fd.h"

namespace failoverd::daemon {

// Output kept per run (stdout and stderr together); the rest is drained and counted.
inline constexpr std::size_t kHookMaxOutput = 4096;
// Runs kept in history().
inline constexpr std::size_t kHookHistory = 32;

// Which hook: one per [notify] key.
enum class HookEvent : std::uint8_t { kMaster, kBackup, kFault, kStop };
// The STATE argument: "MASTER", "BACKUP", "FAULT", "STOP" (keepalived's names).
const char* to_string(HookEvent e);
// The [notify] key: "master", "backup", "fault", "stop".
const char* hook_name(HookEvent e);
// MASTER/BACKUP/FAULT; nullopt for INIT, which has no hook.
std::optional<HookEvent> hook_event(core::State s);

// One finished run.
struct HookRun {
  HookEvent event = HookEvent::kMaster;
  std::string path;
  int priority = 0;
  std::optional<int> exit_code;  // set when the hook exited normally
  int signal = 0;                // the signal that ended it, when it did not exit (not timeouts)
  bool timed_out = false;        // killed (with its process group) at the timeout
  std::string error;             // set when it could not be started: "cannot execute ...: ..."
  std::string output;            // the first kHookMaxOutput bytes of stdout+stderr, as is
  std::size_t output_bytes = 0;  // all the bytes it wrote
  std::chrono::microseconds duration{0};

  bool ok() const { return exit_code == 0 && !timed_out && error.empty(); }
};

struct HookCounters {
  std::uint64_t runs = 0;      // every finished run
  std::uint64_t failures = 0;  // runs that were not ok(): exit != 0, signal, timeout, no exec
  std::uint64_t timeouts = 0;  // of which killed at the timeout
};

class HookRunner {
 public:
  // Called on the loop thread (posted to `io`) after each run; for status and metrics.
  using OnRun = std::function<void(const HookRun&)>;

  // Starts the worker thread. `instance` is argv[1] of every hook.
  HookRunner(boost::asio::io_context& io, config::NotifyConfig notify, std::string instance,
             std::shared_ptr<spdlog::logger> log);
  // Drops the runs still queued, kills a hook still running (its process group) and reaps it,
  // then joins the worker. Call drain() first to let the queue finish.
  ~HookRunner();
  HookRunner(const HookRunner&) = delete;
  HookRunner& operator=(const HookRunner&) = delete;

  void set_on_run(OnRun on_run);

  // Queues a run of the hook of `event` (nothing when that hook is not configured) and returns
  // at once. Safe from any thread; runs happen in the order of the calls, never two at once.
  // `extra_env` is added to the clean environment (and may override PATH); names that are
  // empty or hold '=' are dropped.
  void notify(HookEvent event, int priority, std::map<std::string, std::string> extra_env = {});
  // The same for a state: MASTER/BACKUP/FAULT; INIT has no hook.
  void notify(core::State to, int priority, std::map<std::string, std::string> extra_env = {});

  // Blocks until nothing is queued or running, or `max` has passed; true when all is done.
  bool drain(std::chrono::milliseconds max);

  // The last kHookHistory runs, oldest first. Safe from any thread.
  std::vector<HookRun> history() const;
  HookCounters counters() const;
  // Runs queued or running now.
  std::size_t pending() const;

 private:
  struct Job {
    HookEvent event = HookEvent::kMaster;
    std::string path;
    int priority = 0;
    std::map<std::string, std::string> env;
  };
  void work();
  HookRun run(const Job& job);
  void finish(HookRun r);

  boost::asio::io_context& io_;
  const config::NotifyConfig notify_;
  const std::string instance_;
  std::shared_ptr<spdlog::logger> log_;
  util::UniqueFd abort_fd_;  // an eventfd, signalled by the destructor to cut a run short

  mutable std::mutex mu_;
  std::condition_variable wake_;  // the worker: a job or stop
  std::condition_variable idle_;  // drain(): the queue is empty and nothing runs
  std::deque<Job> queue_;
  bool running_ = false;
  bool stop_ = false;
  std::deque<HookRun> history_;
  HookCounters counters_;
  OnRun on_run_;
  std::thread worker_;  // last: started when everything above exists
};

}  // namespace failoverd::daemon
