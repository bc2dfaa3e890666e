#include "failoverd/daemon/hook_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <utility>

#include <boost/asio/post.hpp>

#include "failoverd/util/duration.h"

namespace failoverd::daemon {

const char* to_string(HookEvent e) {
  switch (e) {
    case HookEvent::kMaster: return "MASTER";
    case HookEvent::kBackup: return "BACKUP";
    case HookEvent::kFault: return "FAULT";
    case HookEvent::kStop: return "STOP";
  }
  return "?";
}

const char* hook_name(HookEvent e) {
  switch (e) {
    case HookEvent::kMaster: return "master";
    case HookEvent::kBackup: return "backup";
    case HookEvent::kFault: return "fault";
    case HookEvent::kStop: return "stop";
  }
  return "?";
}

std::optional<HookEvent> hook_event(core::State s) {
  switch (s) {
    case core::State::Master: return HookEvent::kMaster;
    case core::State::Backup: return HookEvent::kBackup;
    case core::State::Fault: return HookEvent::kFault;
    case core::State::Initialize: return std::nullopt;
  }
  return std::nullopt;
}

namespace {

using Clock = std::chrono::steady_clock;
using Fd = util::UniqueFd;

constexpr const char* kCleanPath = "/usr/sbin:/usr/bin:/sbin:/bin";

// Keeps our descriptors off 0..2, so the child's dup2()s onto 0..2 never clobber them even
// when the daemon runs with a standard descriptor closed.
int above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

// Between fork() and execve() only async-signal-safe calls: argv and envp are built before.
// An exec failure is reported as errno through the close-on-exec `report_fd`.
[[noreturn]] void child(const char* path, char* const* argv, char* const* envp, int null_fd,
                        int out_fd, int report_fd) {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // ignored ones too

  ::dup2(null_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(out_fd, 2);
  if (report_fd != 3) {
    ::dup2(report_fd, 3);
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
  }
  ::close_range(4, ~0u, 0);  // the daemon's sockets are not the hook's business
  ::execve(path, argv, envp);
  const int err = errno;
  [[maybe_unused]] auto n = ::write(3, &err, sizeof err);
  ::_exit(127);
}

struct Output {
  std::string kept;
  std::size_t total = 0;
};

// Reads what is available (at most `max_reads` chunks); false at end of file or on an error.
bool read_output(int fd, Output& out, int max_reads) {
  std::array<char, 65536> buf;
  for (int i = 0; i < max_reads; ++i) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      const auto got = static_cast<std::size_t>(n);
      out.total += got;
      if (out.kept.size() < kHookMaxOutput) {
        out.kept.append(buf.data(), std::min(got, kHookMaxOutput - out.kept.size()));
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
  return true;
}

std::string signal_text(int sig) {
  const char* name = ::sigabbrev_np(sig);
  return name != nullptr ? "SIG" + std::string(name) : "signal " + std::to_string(sig);
}

// The output as one log line: trimmed, newlines shown as "\n", other control bytes as '?'.
std::string one_line(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  std::string out;
  out.reserve(last - first + 16);
  for (std::size_t i = first; i <= last; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7f) {
      out += c == '\t' ? ' ' : '?';
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

HookRunner::HookRunner(boost::asio::io_context& io, config::NotifyConfig notify,
                       std::string instance, std::shared_ptr<spdlog::logger> log)
    : io_(io),
      notify_(std::move(notify)),
      instance_(std::move(instance)),
      log_(std::move(log)),
      abort_fd_(above_stdio(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))) {
  worker_ = std::thread([this] { work(); });
}

HookRunner::~HookRunner() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  if (abort_fd_.valid()) {
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(abort_fd_.get(), &one, sizeof one);
  }
  worker_.join();
}

void HookRunner::set_on_run(OnRun on_run) {
  std::lock_guard lock(mu_);
  on_run_ = std::move(on_run);
}

void HookRunner::notify(HookEvent event, int priority,
                        std::map<std::string, std::string> extra_env) {
  const std::string* path = nullptr;
  switch (event) {
    case HookEvent::kMaster: path = &notify_.master; break;
    case HookEvent::kBackup: path = &notify_.backup; break;
    case HookEvent::kFault: path = &notify_.fault; break;
    case HookEvent::kStop: path = &notify_.stop; break;
  }
  if (path == nullptr || path->empty()) return;
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    queue_.push_back(Job{event, *path, priority, std::move(extra_env)});
  }
  wake_.notify_one();
}

void HookRunner::notify(core::State to, int priority,
                        std::map<std::string, std::string> extra_env) {
  if (auto event = hook_event(to)) notify(*event, priority, std::move(extra_env));
}

bool HookRunner::drain(std::chrono::milliseconds max) {
  std::unique_lock lock(mu_);
  return idle_.wait_for(lock, max, [this] { return queue_.empty() && !running_; });
}

std::vector<HookRun> HookRunner::history() const {
  std::lock_guard lock(mu_);
  return {history_.begin(), history_.end()};
}

HookCounters HookRunner::counters() const {
  std::lock_guard lock(mu_);
  return counters_;
}

std::size_t HookRunner::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size() + (running_ ? 1 : 0);
}

void HookRunner::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) break;
      // Taken and marked running in one step, so drain() never sees "empty and idle" between.
      job = std::move(queue_.front());
      queue_.pop_front();
      running_ = true;
    }
    finish(run(job));
  }
  std::lock_guard lock(mu_);
  running_ = false;
  idle_.notify_all();
}

void HookRunner::finish(HookRun r) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.duration).count();
  std::string outcome;
  if (!r.error.empty()) {
    outcome = r.error;
  } else if (r.timed_out) {
    outcome = "killed after timeout " + util::format_duration(notify_.timeout);
  } else if (r.exit_code) {
    outcome = "exit status " + std::to_string(*r.exit_code);
  } else {
    outcome = "killed by " + signal_text(r.signal);
  }
  std::string line = "hook " + std::string(hook_name(r.event)) + " (" + r.path + " " +
                     instance_ + " " + to_string(r.event) + " " + std::to_string(r.priority) +
                     "): " + outcome + ", ran " + std::to_string(ms) + "ms";
  const std::string shown = one_line(r.output);
  if (!shown.empty()) line += "; output: " + shown;
  if (r.output_bytes > r.output.size()) {
    line += " [" + std::to_string(r.output_bytes) + " bytes of output in all]";
  }
  if (log_) log_->log(r.ok() ? spdlog::level::info : spdlog::level::warn, line);

  OnRun callback;
  {
    std::lock_guard lock(mu_);
    ++counters_.runs;
    if (!r.ok()) ++counters_.failures;
    if (r.timed_out) ++counters_.timeouts;
    history_.push_back(r);
    while (history_.size() > kHookHistory) history_.pop_front();
    callback = on_run_;
  }
  // A copy of the callback and of the run: nothing here touches `this` once it is posted.
  // Posted before the run counts as done, so after drain() the loop has it queued.
  if (callback) boost::asio::post(io_, [callback, r = std::move(r)] { callback(r); });
  {
    std::lock_guard lock(mu_);
    running_ = false;
  }
  idle_.notify_all();
}

HookRun HookRunner::run(const Job& job) {
  HookRun r;
  r.event = job.event;
  r.path = job.path;
  r.priority = job.priority;
  const auto start = Clock::now();
  const auto deadline = start + notify_.timeout;
  auto sys_fail = [&](const char* what) {
    r.error = std::string("cannot run the hook: ") + what + ": " + std::strerror(errno);
    r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    return r;
  };

  // Everything the child needs, built before fork(): no allocation after it.
  const std::vector<std::string> args = {job.path, instance_, to_string(job.event),
                                         std::to_string(job.priority)};
  std::map<std::string, std::string> env = {{"PATH", kCleanPath}};
  for (const auto& [name, value] : job.env) {
    if (name.empty() || name.find('=') != std::string::npos) continue;
    env[name] = value;
  }
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : env) env_strings.push_back(name + "=" + value);
  std::vector<char*> argv, envp;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_fail("pipe");
  Fd out_r(above_stdio(p[0])), out_w(above_stdio(p[1]));
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_fail("pipe");
  Fd report_r(above_stdio(p[0])), report_w(above_stdio(p[1]));
  Fd null_fd(above_stdio(::open("/dev/null", O_RDWR | O_CLOEXEC)));
  if (!out_r.valid() || !out_w.valid() || !report_r.valid() || !report_w.valid() ||
      !null_fd.valid()) {
    return sys_fail("descriptors");
  }
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);  // only our end: the hook writes blocking
  ::fcntl(report_r.get(), F_SETFL, O_NONBLOCK);

  const pid_t pid = ::fork();
  if (pid < 0) return sys_fail("fork");
  if (pid == 0) {
    child(job.path.c_str(), argv.data(), envp.data(), null_fd.get(), out_w.get(),
          report_w.get());
  }
  ::setpgid(pid, pid);  // also here, so the group exists before we might signal it
  out_w.reset();
  report_w.reset();
  null_fd.reset();
  // A pidfd makes the child's exit pollable next to the pipe; without one, poll in ticks.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  Output output;
  std::optional<int> exec_errno;
  bool exited = false;
  bool aborted = false;
  auto read_report = [&] {
    int err = 0;
    const ssize_t n = ::read(report_r.get(), &err, sizeof err);
    if (n == static_cast<ssize_t>(sizeof err)) exec_errno = err;
    if (n == 0 || n == static_cast<ssize_t>(sizeof err)) report_r.reset();  // exec'd, or failed
  };
  while (!exited) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      r.timed_out = true;
      break;
    }
    std::array<pollfd, 4> fds{};
    nfds_t n = 0;
    if (out_r.valid()) fds[n++] = {out_r.get(), POLLIN, 0};
    if (report_r.valid()) fds[n++] = {report_r.get(), POLLIN, 0};
    if (pidfd.valid()) fds[n++] = {pidfd.get(), POLLIN, 0};
    if (abort_fd_.valid()) fds[n++] = {abort_fd_.get(), POLLIN, 0};
    const long wait_ms = pidfd.valid() ? left + 1 : std::min<long>(left + 1, 10);
    const int rc = ::poll(fds.data(), n, static_cast<int>(wait_ms));
    if (rc < 0 && errno != EINTR) break;
    if (out_r.valid() && !read_output(out_r.get(), output, 16)) out_r.reset();
    if (report_r.valid()) read_report();
    if (abort_fd_.valid()) {
      pollfd pf{abort_fd_.get(), POLLIN, 0};
      if (::poll(&pf, 1, 0) == 1) {
        aborted = true;
        break;
      }
    }
    if (pidfd.valid()) {
      pollfd pf{pidfd.get(), POLLIN, 0};
      exited = ::poll(&pf, 1, 0) == 1;
    } else {
      siginfo_t info{};
      exited = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == pid;
    }
  }

  // The leader is not reaped yet, so its process group id cannot have been reused: at the
  // timeout this kills the hook, after its exit whatever it left behind holding the pipe.
  ::kill(-pid, SIGKILL);
  if (out_r.valid()) read_output(out_r.get(), output, 64);
  if (report_r.valid()) read_report();
  int status = 0;
  pid_t waited;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
  r.output = std::move(output.kept);
  r.output_bytes = output.total;

  if (exec_errno) {
    r.error = "cannot execute " + job.path + ": " + std::strerror(*exec_errno);
  } else if (aborted) {
    r.error = "killed: failoverd is shutting down";
  } else if (r.timed_out) {
    // the outcome says it all
  } else if (waited != pid) {
    r.error = "exit status unknown (the hook was reaped elsewhere: is SIGCHLD ignored?)";
  } else if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  } else {
    r.error = "ended with wait status " + std::to_string(status);
  }
  return r;
}

}  // namespace failoverd::daemon
