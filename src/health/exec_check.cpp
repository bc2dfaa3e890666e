#include "failoverd/health/exec_check.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "failoverd/util/duration.h"

extern char** environ;

namespace failoverd::health {

RunAs lookup_user(const std::string& name) {
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 16384);
  passwd pw{};
  passwd* found = nullptr;
  int rc;
  while ((rc = ::getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found)) == ERANGE &&
         buf.size() < (1u << 20)) {
    buf.resize(buf.size() * 2);
  }
  if (rc != 0) throw std::runtime_error("cannot look up user '" + name + "': " + std::strerror(rc));
  if (found == nullptr) throw std::runtime_error("unknown user '" + name + "'");
  RunAs r;
  r.uid = pw.pw_uid;
  r.gid = pw.pw_gid;
  int n = 32;
  r.groups.resize(static_cast<std::size_t>(n));
  while (::getgrouplist(name.c_str(), pw.pw_gid, r.groups.data(), &n) == -1) {
    if (n <= static_cast<int>(r.groups.size())) n = static_cast<int>(r.groups.size()) * 2;
    if (n > 65536) throw std::runtime_error("user '" + name + "' has too many groups");
    r.groups.resize(static_cast<std::size_t>(n));
  }
  r.groups.resize(static_cast<std::size_t>(n));
  return r;
}

ExecCheck::ExecCheck(config::ExecCheckSpec spec, std::chrono::microseconds timeout,
                     std::optional<RunAs> run_as)
    : spec_(std::move(spec)), timeout_(timeout), run_as_(std::move(run_as)) {}

namespace {

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(o.release()) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Keeps our descriptors off 0..2, so the child's dup2()s onto 0..2 never clobber them even
// when the daemon runs with a standard descriptor closed.
int above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

// What the child reports through the close-on-exec pipe when it cannot exec.
struct ChildFailure {
  int stage;  // 1: switching user, 2: execve
  int error;
};

std::optional<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::string_view dirs = path != nullptr && *path != '\0'
                              ? std::string_view(path)
                              : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

// Between fork() and execve() only async-signal-safe calls: everything else is prepared before.
[[noreturn]] void child(const char* path, char* const* argv, int null_fd, int out_fd,
                        int report_fd, const RunAs* run_as) {
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
  ::close_range(4, ~0u, 0);  // the daemon's sockets are not the command's business

  ChildFailure failure{1, 0};
  if (run_as != nullptr &&
      (::setgroups(run_as->groups.size(), run_as->groups.data()) != 0 ||
       ::setgid(run_as->gid) != 0 || ::setuid(run_as->uid) != 0)) {
    failure.error = errno;
  } else {
    ::execve(path, argv, environ);
    failure = {2, errno};
  }
  [[maybe_unused]] auto n = ::write(3, &failure, sizeof failure);
  ::_exit(127);
}

struct Output {
  std::string kept;
  std::size_t total = 0;
};

// Reads what is available; false at end of file (or a read error).
bool drain(int fd, Output& out, int max_reads) {
  std::array<char, 65536> buf;
  for (int i = 0; i < max_reads; ++i) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n > 0) {
      const auto got = static_cast<std::size_t>(n);
      out.total += got;
      if (out.kept.size() < kExecMaxOutput) {
        out.kept.append(buf.data(), std::min(got, kExecMaxOutput - out.kept.size()));
      }
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
  return true;
}

}  // namespace

CheckResult ExecCheck::run() {
  const auto start = Clock::now();
  const auto deadline = start + timeout_;
  auto finish = [&](bool ok, std::string detail) {
    CheckResult r;
    r.ok = ok;
    r.detail = std::move(detail);
    r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    return r;
  };
  auto sys_fail = [&](const char* what) {
    return finish(false, std::string("cannot run the command: ") + what + ": " +
                             std::strerror(errno));
  };

  const auto path = find_program(spec_.command.front());
  if (!path) {
    return finish(false, one_line("cannot execute " + spec_.command.front() + ": not found in PATH",
                                  300));
  }
  std::vector<char*> argv;
  for (const auto& a : spec_.command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_fail("pipe");
  Fd out_r(above_stdio(p[0])), out_w(above_stdio(p[1]));
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_fail("pipe");
  Fd report_r(above_stdio(p[0])), report_w(above_stdio(p[1]));
  Fd null_fd(above_stdio(::open("/dev/null", O_RDWR | O_CLOEXEC)));
  if (out_r.get() < 0 || out_w.get() < 0 || report_r.get() < 0 || report_w.get() < 0 ||
      null_fd.get() < 0) {
    return sys_fail("descriptors");
  }
  ::fcntl(out_r.get(), F_SETFL, O_NONBLOCK);  // only our end: the command writes blocking
  ::fcntl(report_r.get(), F_SETFL, O_NONBLOCK);

  const pid_t pid = ::fork();
  if (pid < 0) return sys_fail("fork");
  if (pid == 0) {
    child(path->c_str(), argv.data(), null_fd.get(), out_w.get(), report_w.get(),
          run_as_ ? &*run_as_ : nullptr);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before we might signal it
  out_w.reset();
  report_w.reset();
  null_fd.reset();
  // A pidfd makes the child's exit pollable next to the pipe; without one, poll in ticks.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  Output output;
  std::optional<ChildFailure> failure;
  bool exited = false;
  bool timed_out = false;
  auto read_report = [&] {
    ChildFailure f{};
    const ssize_t n = ::read(report_r.get(), &f, sizeof f);
    if (n == static_cast<ssize_t>(sizeof f)) failure = f;
    if (n == 0 || n == static_cast<ssize_t>(sizeof f)) report_r.reset();  // exec'd, or failed
  };
  while (!exited) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    if (out_r.get() >= 0) fds[n++] = {out_r.get(), POLLIN, 0};
    if (report_r.get() >= 0) fds[n++] = {report_r.get(), POLLIN, 0};
    if (pidfd.get() >= 0) fds[n++] = {pidfd.get(), POLLIN, 0};
    const long wait_ms = pidfd.get() >= 0 ? left + 1 : std::min<long>(left + 1, 10);
    const int rc = ::poll(fds.data(), n, static_cast<int>(wait_ms));
    if (rc < 0 && errno != EINTR) break;
    if (out_r.get() >= 0 && !drain(out_r.get(), output, 16)) out_r.reset();
    if (report_r.get() >= 0) read_report();
    if (pidfd.get() >= 0) {
      pollfd pf{pidfd.get(), POLLIN, 0};
      exited = ::poll(&pf, 1, 0) == 1;
    } else {
      siginfo_t info{};
      exited = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == pid;
    }
  }

  // The leader is not reaped yet, so its process group id cannot have been reused: at the
  // timeout this kills the command, after its exit whatever it left behind holding the pipe.
  ::kill(-pid, SIGKILL);
  if (out_r.get() >= 0) drain(out_r.get(), output, 64);
  if (report_r.get() >= 0) read_report();
  int status = 0;
  pid_t waited;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }

  std::string what;
  bool ok = false;
  if (timed_out) {
    what = "timed out after " + util::format_duration(timeout_) + ", process group killed";
  } else if (failure) {
    what = std::string(failure->stage == 1 ? "cannot switch to user " + spec_.user.value_or("?")
                                           : "cannot execute " + *path) +
           ": " + std::strerror(failure->error);
  } else if (waited != pid) {
    what = "exit status unknown (the child was reaped elsewhere: is SIGCHLD ignored?)";
  } else if (WIFEXITED(status)) {
    ok = WEXITSTATUS(status) == 0;
    what = "exit status " + std::to_string(WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    what = "killed by " + (name != nullptr ? "SIG" + std::string(name)
                                           : "signal " + std::to_string(WTERMSIG(status)));
  } else {
    what = "ended with wait status " + std::to_string(status);
  }
  std::string detail = one_line(what, 200);
  const std::string shown = one_line(output.kept, kExecMaxOutput);
  if (!shown.empty()) detail += ": " + shown;
  if (output.total > output.kept.size()) {
    detail += " [" + std::to_string(output.total) + " bytes of output in all]";
  }
  return finish(ok, std::move(detail));
}

}  // namespace failoverd::health
