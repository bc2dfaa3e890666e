#include "failoverd/util/subprocess.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
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
#include <string_view>
#include <utility>

#include "failoverd/util/duration.h"
#include "failoverd/util/unique_fd.h"

extern char** environ;

namespace failoverd::util {

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
  r.name = name;
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

const char* to_string(SubprocessOutcome o) {
  switch (o) {
    case SubprocessOutcome::kExited: return "exited";
    case SubprocessOutcome::kSignaled: return "signaled";
    case SubprocessOutcome::kTimedOut: return "timed out";
    case SubprocessOutcome::kAborted: return "aborted";
    case SubprocessOutcome::kFailedToStart: return "failed to start";
    case SubprocessOutcome::kLost: return "lost";
  }
  return "?";
}

std::string signal_name(int sig) {
  const char* name = ::sigabbrev_np(sig);
  return name != nullptr ? "SIG" + std::string(name) : "signal " + std::to_string(sig);
}

std::string describe(const SubprocessResult& r) {
  switch (r.outcome) {
    case SubprocessOutcome::kExited: return "exit status " + std::to_string(r.exit_code);
    case SubprocessOutcome::kSignaled: return "killed by " + signal_name(r.signal);
    case SubprocessOutcome::kTimedOut:
      return "timed out after " + format_duration(r.timeout) + ", process group killed";
    case SubprocessOutcome::kAborted: return "aborted, process group killed";
    case SubprocessOutcome::kFailedToStart:
    case SubprocessOutcome::kLost: return r.error;
  }
  return r.error;
}

namespace {

using Clock = std::chrono::steady_clock;
using Fd = UniqueFd;

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// Keeps our descriptors off 0..2, so the child's dup2()s onto 0..2 never clobber them even
// when the daemon runs with a standard descriptor closed.
int above_stdio(int fd) {
  if (fd < 0 || fd > 2) return fd;
  const int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  ::close(fd);
  return moved;
}

bool valid_env_name(const std::string& name) {
  return !name.empty() && name.find('=') == std::string::npos;
}

// "NAME=value" strings: the inherited environment minus the overridden names, then `extra`.
std::vector<std::string> build_environment(const SubprocessOptions& o) {
  std::vector<std::string> out;
  if (o.inherit_environment) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      const std::string_view entry(*e);
      const std::string name(entry.substr(0, entry.find('=')));
      const auto over = o.env.find(name);
      if (over != o.env.end() && valid_env_name(over->first)) continue;
      out.emplace_back(entry);
    }
  }
  for (const auto& [name, value] : o.env) {
    if (valid_env_name(name)) out.push_back(name + "=" + value);
  }
  return out;
}

// The PATH the command will see, for looking up a bare argv[0].
std::string search_path(const SubprocessOptions& o) {
  const auto it = o.env.find("PATH");
  if (it != o.env.end()) return it->second;
  if (o.inherit_environment) {
    const char* path = std::getenv("PATH");
    if (path != nullptr && *path != '\0') return path;
  }
  return kDefaultPath;
}

std::optional<std::string> find_program(const std::string& name, std::string_view dirs) {
  if (name.find('/') != std::string::npos) return name;
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";
    const std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    if (colon == std::string_view::npos) return std::nullopt;
    dirs.remove_prefix(colon + 1);
  }
}

// What the child reports through the close-on-exec descriptor 3 when it cannot exec.
struct ChildFailure {
  int stage;  // 1: switching user, 2: execve
  int error;
};

// Between fork() and execve() only async-signal-safe calls: everything else is prepared before.
[[noreturn]] void child(const char* path, char* const* argv, char* const* envp, int null_fd,
                        int out_fd, int err_fd, int report_fd, const RunAs* run_as) {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) ::sigaction(sig, &dfl, nullptr);  // ignored ones too

  ::dup2(null_fd, 0);
  ::dup2(out_fd, 1);
  ::dup2(err_fd, 2);
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
    ::execve(path, argv, envp);
    failure = {2, errno};
  }
  [[maybe_unused]] auto n = ::write(3, &failure, sizeof failure);
  ::_exit(127);
}

// One output pipe and where its bytes go: the first `max` bytes, or the last `max`.
struct Stream {
  Fd fd;
  CapturedOutput* out = nullptr;
  std::size_t max = 0;
  bool keep_tail = false;

  void add(const char* data, std::size_t n) {
    out->total += n;
    std::string& text = out->text;
    if (!keep_tail) {
      if (text.size() < max) text.append(data, std::min(n, max - text.size()));
      return;
    }
    if (n >= max) {
      text.assign(data + (n - max), max);
      return;
    }
    text.append(data, n);
    if (text.size() > 2 * max) text.erase(0, text.size() - max);  // amortised trimming
  }

  // Reads what is available (at most `max_reads` chunks); closes the pipe at end of file or on
  // an error.
  void read_some(int max_reads) {
    if (!fd.valid()) return;
    std::array<char, 65536> buf;
    for (int i = 0; i < max_reads; ++i) {
      const ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n > 0) {
        add(buf.data(), static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (!(n < 0 && errno == EAGAIN)) fd.reset();
      return;
    }
  }

  void finish() {
    if (keep_tail && out->text.size() > max) out->text.erase(0, out->text.size() - max);
  }
};

bool readable_now(int fd) {
  pollfd pf{fd, POLLIN, 0};
  return ::poll(&pf, 1, 0) == 1;
}

}  // namespace

SubprocessResult run_subprocess(const SubprocessOptions& o) {
  const auto start = Clock::now();
  const auto deadline = start + o.timeout;
  SubprocessResult r;
  r.timeout = o.timeout;
  auto done = [&]() -> SubprocessResult& {
    r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    return r;
  };
  auto fail = [&](std::string error, int error_number) -> SubprocessResult& {
    r.outcome = SubprocessOutcome::kFailedToStart;
    r.error = std::move(error);
    r.error_number = error_number;
    return done();
  };
  if (o.argv.empty() || o.argv.front().empty()) return fail("cannot execute: empty command", EINVAL);
  const std::string& program = o.argv.front();
  auto sys_fail = [&](const char* what) -> SubprocessResult& {
    const int err = errno;
    return fail("cannot start " + program + ": " + what + ": " + std::strerror(err), err);
  };

  // Everything the child needs, built before fork(): no allocation after it.
  const auto path = find_program(program, search_path(o));
  if (!path) return fail("cannot execute " + program + ": not found in PATH", ENOENT);
  std::vector<char*> argv;
  for (const auto& a : o.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const std::vector<std::string> env_strings = build_environment(o);
  std::vector<char*> envp;
  for (const auto& e : env_strings) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_fail("pipe");
  Stream out{Fd(above_stdio(p[0])), &r.output, o.max_output, false};
  Fd out_w(above_stdio(p[1]));
  Stream err{Fd(), &r.errors, o.max_output, true};
  Fd err_w;
  if (o.separate_stderr) {
    if (::pipe2(p, O_CLOEXEC) != 0) return sys_fail("pipe");
    err.fd.reset(above_stdio(p[0]));
    err_w.reset(above_stdio(p[1]));
    if (!err.fd.valid() || !err_w.valid()) return sys_fail("descriptors");
  }
  if (::pipe2(p, O_CLOEXEC) != 0) return sys_fail("pipe");
  Fd report_r(above_stdio(p[0])), report_w(above_stdio(p[1]));
  Fd null_fd(above_stdio(::open("/dev/null", O_RDWR | O_CLOEXEC)));
  if (!out.fd.valid() || !out_w.valid() || !report_r.valid() || !report_w.valid() ||
      !null_fd.valid()) {
    return sys_fail("descriptors");
  }
  // Only our ends: the command writes blocking.
  ::fcntl(out.fd.get(), F_SETFL, O_NONBLOCK);
  if (err.fd.valid()) ::fcntl(err.fd.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(report_r.get(), F_SETFL, O_NONBLOCK);

  const pid_t pid = ::fork();
  if (pid < 0) return sys_fail("fork");
  if (pid == 0) {
    child(path->c_str(), argv.data(), envp.data(), null_fd.get(), out_w.get(),
          err_w.valid() ? err_w.get() : out_w.get(), report_w.get(),
          o.run_as ? &*o.run_as : nullptr);
  }
  r.pid = pid;
  ::setpgid(pid, pid);  // also here, so the group exists before we might signal it
  out_w.reset();
  err_w.reset();
  report_w.reset();
  null_fd.reset();
  // A pidfd makes the child's exit pollable next to the pipes; without one, poll in ticks.
  Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));

  std::optional<ChildFailure> failure;
  auto read_report = [&] {
    ChildFailure f{};
    const ssize_t n = ::read(report_r.get(), &f, sizeof f);
    if (n == static_cast<ssize_t>(sizeof f)) failure = f;
    if (n == 0 || n == static_cast<ssize_t>(sizeof f)) report_r.reset();  // exec'd, or failed
  };
  bool exited = false;
  bool timed_out = false;
  bool aborted = false;
  while (!exited) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    std::array<pollfd, 5> fds{};
    nfds_t n = 0;
    for (int fd : {out.fd.get(), err.fd.get(), report_r.get(), pidfd.get(), o.abort_fd}) {
      if (fd >= 0) fds[n++] = {fd, POLLIN, 0};
    }
    const long wait_ms = pidfd.valid() ? left + 1 : std::min<long>(left + 1, 10);
    if (::poll(fds.data(), n, static_cast<int>(wait_ms)) < 0 && errno != EINTR) break;
    out.read_some(16);
    err.read_some(16);
    if (report_r.valid()) read_report();
    if (o.abort_fd >= 0 && readable_now(o.abort_fd)) {
      aborted = true;
      break;
    }
    if (pidfd.valid()) {
      exited = readable_now(pidfd.get());
    } else {
      siginfo_t info{};
      exited = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
               info.si_pid == pid;
    }
  }

  // The leader is not reaped yet, so its process group id cannot have been reused: at the
  // timeout this kills the command, after its exit whatever it left behind holding a pipe.
  ::kill(-pid, SIGKILL);
  out.read_some(64);
  err.read_some(64);
  err.finish();
  if (report_r.valid()) read_report();
  int status = 0;
  pid_t waited;
  while ((waited = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }

  if (failure) {
    const std::string what = failure->stage == 1
                                 ? "cannot switch to user " + (o.run_as ? o.run_as->name : "?")
                                 : "cannot execute " + *path;
    return fail(what + ": " + std::strerror(failure->error), failure->error);
  }
  if (aborted) {
    r.outcome = SubprocessOutcome::kAborted;
  } else if (timed_out) {
    r.outcome = SubprocessOutcome::kTimedOut;
  } else if (waited != pid) {
    r.outcome = SubprocessOutcome::kLost;
    r.error = "exit status unknown (the child was reaped elsewhere: is SIGCHLD ignored?)";
  } else if (WIFEXITED(status)) {
    r.outcome = SubprocessOutcome::kExited;
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.outcome = SubprocessOutcome::kSignaled;
    r.signal = WTERMSIG(status);
  } else {
    r.outcome = SubprocessOutcome::kLost;
    r.error = "ended with wait status " + std::to_string(status);
  }
  return done();
}

}  // namespace failoverd::util
