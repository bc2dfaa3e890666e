// run_subprocess with real processes: exit codes, signals, timeouts that kill the whole process
// group, output caps, start failures, the environment, descriptors and zombies.
#include "failoverd/util/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "failoverd/util/unique_fd.h"

namespace failoverd::util {
namespace {

using namespace std::chrono_literals;

SubprocessResult run(std::vector<std::string> argv, std::chrono::microseconds timeout = 5s) {
  SubprocessOptions o;
  o.argv = std::move(argv);
  o.timeout = timeout;
  return run_subprocess(o);
}

SubprocessResult sh(const std::string& script, std::chrono::microseconds timeout = 5s) {
  return run({"/bin/sh", "-c", script}, timeout);
}

// True once `pid` has ended (a zombie counts: it is init's to reap), waiting at most 2s. A pidfd
// follows the process itself, so a reused pid cannot fool it.
bool gone_soon(pid_t pid) {
  UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd.valid()) return errno == ESRCH;
  pollfd pf{fd.get(), POLLIN, 0};
  return ::poll(&pf, 1, 2000) == 1;
}

// This test process has no child left: not running, not a zombie waiting to be reaped.
bool no_children() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

std::vector<pid_t> pids_in(const std::string& text) {
  std::vector<pid_t> out;
  std::istringstream in(text);
  pid_t p = 0;
  while (in >> p) out.push_back(p);
  return out;
}

TEST(Subprocess, ExitCodes) {
  auto r = run({"true"});
  EXPECT_EQ(r.outcome, SubprocessOutcome::kExited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_TRUE(r.succeeded());
  EXPECT_EQ(describe(r), "exit status 0");
  r = sh("exit 75");
  EXPECT_EQ(r.outcome, SubprocessOutcome::kExited);
  EXPECT_EQ(r.exit_code, 75);
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(describe(r), "exit status 75");
  r = sh("exit 255");
  EXPECT_EQ(r.exit_code, 255);
  EXPECT_GT(r.pid, 0);
  EXPECT_TRUE(no_children());
}

TEST(Subprocess, KilledBySignal) {
  auto r = sh("kill -TERM $$");
  EXPECT_EQ(r.outcome, SubprocessOutcome::kSignaled);
  EXPECT_EQ(r.signal, SIGTERM);
  EXPECT_EQ(r.exit_code, -1);
  EXPECT_FALSE(r.succeeded());
  EXPECT_EQ(describe(r), "killed by SIGTERM");
  r = sh("kill -SEGV $$");
  EXPECT_EQ(r.signal, SIGSEGV);
  EXPECT_EQ(signal_name(SIGKILL), "SIGKILL");
  EXPECT_EQ(signal_name(9999), "signal 9999");
}

TEST(Subprocess, SignalsIgnoredOrBlockedByTheCallerAreResetInTheChild) {
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ignore, &old);
  sigset_t block, old_mask;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  ::pthread_sigmask(SIG_BLOCK, &block, &old_mask);
  const auto term = sh("kill -TERM $$; sleep 5");
  const auto usr1 = sh("kill -USR1 $$; sleep 5");
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::sigaction(SIGTERM, &old, nullptr);
  EXPECT_EQ(describe(term), "killed by SIGTERM");
  EXPECT_EQ(describe(usr1), "killed by SIGUSR1");
}

TEST(Subprocess, TimeoutKillsTheWholeProcessGroupGrandchildrenToo) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = sh("sleep 100 & echo $!; sleep 100 & echo $!; wait", 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(r.outcome, SubprocessOutcome::kTimedOut);
  EXPECT_EQ(describe(r), "timed out after 300ms, process group killed");
  EXPECT_GE(r.duration, 300ms);
  EXPECT_LT(r.duration, 1500ms);
  const auto grandchildren = pids_in(r.output.text);
  ASSERT_EQ(grandchildren.size(), 2u) << r.output.text;
  for (pid_t p : grandchildren) EXPECT_TRUE(gone_soon(p)) << "grandchild " << p << " survived";
  EXPECT_TRUE(gone_soon(r.pid));
  EXPECT_TRUE(no_children());
}

TEST(Subprocess, LeftoversOfAnExitedCommandAreKilledNotWaitedFor) {
  const auto start = std::chrono::steady_clock::now();
  const auto r = sh("sleep 100 & echo $!", 10s);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);  // the sleep still held stdout
  EXPECT_TRUE(r.succeeded()) << describe(r);
  const auto bg = pids_in(r.output.text);
  ASSERT_EQ(bg.size(), 1u);
  EXPECT_TRUE(gone_soon(bg[0]));
}

TEST(Subprocess, ClosedOutputDoesNotEndTheRunEarly) {
  const auto r = sh("exec >&- 2>&-; sleep 30", 300ms);
  EXPECT_EQ(r.outcome, SubprocessOutcome::kTimedOut);
  EXPECT_LT(r.duration, 1500ms);
}

TEST(Subprocess, OutputIsCappedButCountedAndNeverBlocksTheCommand) {
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "head -c 3000000 /dev/zero | tr '\\0' a; exit 4"};
  o.max_output = 100;
  o.timeout = 20s;
  const auto r = run_subprocess(o);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.output.text, std::string(100, 'a'));
  EXPECT_EQ(r.output.total, 3000000u);
  EXPECT_TRUE(r.output.truncated());
  EXPECT_EQ(r.errors.total, 0u);
}

TEST(Subprocess, StdoutAndStderrShareOnePipeByDefault) {
  const auto r = sh("echo out; echo err >&2; echo out2");
  EXPECT_EQ(r.output.text, "out\nerr\nout2\n");
  EXPECT_FALSE(r.output.truncated());
  EXPECT_TRUE(r.errors.text.empty());
}

TEST(Subprocess, SeparateStderrKeepsItsTail) {
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c",
            "echo first; i=0; while [ $i -lt 2000 ]; do echo noise$i >&2; i=$((i+1)); done; "
            "echo 'the real reason' >&2; echo second"};
  o.separate_stderr = true;
  o.max_output = 64;
  const auto r = run_subprocess(o);
  EXPECT_TRUE(r.succeeded()) << describe(r);
  EXPECT_EQ(r.output.text, "first\nsecond\n");
  EXPECT_EQ(r.errors.text.size(), 64u);
  EXPECT_EQ(r.errors.text.substr(r.errors.text.size() - 16), "the real reason\n");
  EXPECT_GT(r.errors.total, 10000u);
  EXPECT_TRUE(r.errors.truncated());
}

TEST(Subprocess, MissingOrNonExecutableProgram) {
  auto r = run({"no-such-program-fod"});
  EXPECT_EQ(r.outcome, SubprocessOutcome::kFailedToStart);
  EXPECT_EQ(r.error, "cannot execute no-such-program-fod: not found in PATH");
  EXPECT_EQ(r.error_number, ENOENT);
  EXPECT_EQ(r.pid, 0);
  r = run({"/nonexistent/prog"});
  EXPECT_EQ(r.outcome, SubprocessOutcome::kFailedToStart);
  EXPECT_EQ(r.error, "cannot execute /nonexistent/prog: No such file or directory");
  EXPECT_EQ(describe(r), r.error);
  EXPECT_EQ(r.error_number, ENOENT);
  EXPECT_TRUE(r.output.text.empty());
  r = run({"/etc/passwd"});
  EXPECT_EQ(r.error, "cannot execute /etc/passwd: Permission denied");
  EXPECT_EQ(r.error_number, EACCES);
  r = run({});
  EXPECT_EQ(r.outcome, SubprocessOutcome::kFailedToStart);
  EXPECT_EQ(r.error_number, EINVAL);
  EXPECT_TRUE(no_children());
}

TEST(Subprocess, ArgumentsReachTheProgramUnchangedWithoutAShell) {
  const auto r = run({"/usr/bin/printf", "%s|", "a  b", "$HOME", "*", ";", ""});
  EXPECT_EQ(r.output.text, "a  b|$HOME|*|;||");
}

TEST(Subprocess, ExtraEnvironmentIsAddedToTheInheritedOne) {
  ::setenv("FOD_SUBPROCESS_INHERITED", "from-parent", 1);
  ::setenv("FOD_SUBPROCESS_OVERRIDDEN", "old", 1);
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c",
            "echo \"$FOD_SUBPROCESS_INHERITED|$FOD_SUBPROCESS_OVERRIDDEN|$FOD_NEW\"; "
            "env | grep -c '^FOD_SUBPROCESS_OVERRIDDEN='"};
  o.env = {{"FOD_SUBPROCESS_OVERRIDDEN", "new"}, {"FOD_NEW", "x y=z"}, {"", "dropped"},
           {"BAD=NAME", "dropped"}};
  auto r = run_subprocess(o);
  EXPECT_EQ(r.output.text, "from-parent|new|x y=z\n1\n");

  o.inherit_environment = false;
  o.argv = {"/usr/bin/env"};
  r = run_subprocess(o);
  ::unsetenv("FOD_SUBPROCESS_INHERITED");
  ::unsetenv("FOD_SUBPROCESS_OVERRIDDEN");
  EXPECT_EQ(r.output.text, "FOD_NEW=x y=z\nFOD_SUBPROCESS_OVERRIDDEN=new\n");
}

TEST(Subprocess, BareProgramNamesAreFoundInTheCommandsPath) {
  SubprocessOptions o;
  o.argv = {"env"};
  o.inherit_environment = false;
  o.env = {{"PATH", "/nonexistent:/usr/bin"}};
  auto r = run_subprocess(o);
  EXPECT_TRUE(r.succeeded()) << describe(r);
  EXPECT_EQ(r.output.text, "PATH=/nonexistent:/usr/bin\n");
  o.env = {{"PATH", "/nonexistent"}};
  r = run_subprocess(o);
  EXPECT_EQ(r.error, "cannot execute env: not found in PATH");
}

TEST(Subprocess, NoDescriptorsLeakIntoTheChild) {
  // Descriptors of ours without close-on-exec, and one that takes a low number.
  UniqueFd plain(::dup(1));
  UniqueFd also(::open("/dev/null", O_RDONLY));
  ASSERT_TRUE(plain.valid() && also.valid());
  for (bool separate : {false, true}) {
    SubprocessOptions o;
    o.argv = {"/bin/ls", "/proc/self/fd"};
    o.separate_stderr = separate;
    const auto r = run_subprocess(o);
    // 0, 1, 2, and 3: the directory ls opened to list them. A leaked descriptor would take 3
    // and push ls's own to 4.
    EXPECT_EQ(r.output.text, "0\n1\n2\n3\n") << "separate_stderr=" << separate;
  }
  const auto r = run({"/bin/sh", "-c", "readlink /proc/self/fd/0"});
  EXPECT_EQ(r.output.text, "/dev/null\n");
}

TEST(Subprocess, RunsInItsOwnProcessGroup) {
  const auto r = sh("ps -o pgid= -p $$ | tr -d ' '; echo $$");
  const auto ids = pids_in(r.output.text);
  ASSERT_EQ(ids.size(), 2u) << r.output.text;
  EXPECT_EQ(ids[0], ids[1]);
  EXPECT_NE(ids[0], ::getpgrp());
}

TEST(Subprocess, NoZombieIsLeftByAnyOutcome) {
  std::vector<pid_t> pids;
  pids.push_back(run({"true"}).pid);
  pids.push_back(sh("kill -KILL $$").pid);
  pids.push_back(sh("sleep 30", 100ms).pid);
  pids.push_back(run({"/etc/passwd"}).pid);
  pids.push_back(sh("sleep 30 & exit 0").pid);
  for (pid_t p : pids) {
    ASSERT_GT(p, 0);
    // Reaped: neither running nor a zombie under this process.
    EXPECT_FALSE(std::filesystem::exists("/proc/" + std::to_string(p))) << p;
  }
  EXPECT_TRUE(no_children());
}

TEST(Subprocess, AbortDescriptorCutsTheRunShort) {
  UniqueFd abort_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  ASSERT_TRUE(abort_fd.valid());
  std::thread trigger([&] {
    std::this_thread::sleep_for(200ms);
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(abort_fd.get(), &one, sizeof one);
  });
  SubprocessOptions o;
  o.argv = {"/bin/sh", "-c", "sleep 100 & echo $!; wait"};
  o.timeout = 30s;
  o.abort_fd = abort_fd.get();
  const auto r = run_subprocess(o);
  trigger.join();
  EXPECT_EQ(r.outcome, SubprocessOutcome::kAborted);
  EXPECT_EQ(describe(r), "aborted, process group killed");
  EXPECT_LT(r.duration, 2s);
  const auto bg = pids_in(r.output.text);
  ASSERT_EQ(bg.size(), 1u);
  EXPECT_TRUE(gone_soon(bg[0]));
}

TEST(Subprocess, RunsAsAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  SubprocessOptions o;
  o.run_as = lookup_user("nobody");
  EXPECT_EQ(o.run_as->name, "nobody");
  o.argv = {"/bin/sh", "-c", "id -u; id -g"};
  const auto r = run_subprocess(o);
  EXPECT_EQ(r.output.text,
            std::to_string(o.run_as->uid) + "\n" + std::to_string(o.run_as->gid) + "\n");
  EXPECT_THROW(lookup_user("no-such-user-fod"), std::runtime_error);
}

TEST(Subprocess, SeveralThreadsAtOnce) {
  std::vector<std::thread> threads;
  std::vector<SubprocessResult> results(8);
  for (std::size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = sh("echo " + std::to_string(i) + "; exit 3"); });
  }
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < results.size(); ++i) {
    EXPECT_EQ(results[i].exit_code, 3);
    EXPECT_EQ(results[i].output.text, std::to_string(i) + "\n");
  }
  EXPECT_TRUE(no_children());
}

}  // namespace
}  // namespace failoverd::util
