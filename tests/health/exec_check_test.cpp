// The exec check with real processes: exit status, output capture, timeouts that kill the
// process group, children that outlive their parent, floods of output, another user.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "failoverd/health/check.h"
#include "failoverd/health/exec_check.h"
#include "health/test_support.h"

namespace failoverd::health {
namespace {

using namespace std::chrono_literals;

CheckResult run(std::vector<std::string> argv, std::chrono::microseconds timeout = 2s,
                std::optional<RunAs> run_as = std::nullopt) {
  config::ExecCheckSpec s;
  s.command = std::move(argv);
  return ExecCheck(s, timeout, std::move(run_as)).run();
}

// True once `pid` is gone (or a zombie nobody reaped yet).
bool gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  const auto close = line.rfind(')');
  return close != std::string::npos && line.size() > close + 2 && line[close + 2] == 'Z';
}

bool gone_soon(pid_t pid) {
  for (int i = 0; i < 100; ++i) {
    if (gone(pid)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(ExecCheck, ExitStatusDecides) {
  auto r = run({"true"});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "exit status 0");
  r = run({"false"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "exit status 1");
}

TEST(ExecCheck, StdoutAndStderrGoIntoTheDetailOnOneLine) {
  const auto r = run({"/bin/sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "exit status 3: out err");
}

TEST(ExecCheck, ArgumentsReachTheProgramUnchangedWithoutAShell) {
  const auto r = run({"/bin/echo", "a  b", "$HOME", "*", ";", "|"});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "exit status 0: a b $HOME * ; |");  // one_line folds the double space
}

TEST(ExecCheck, MissingProgram) {
  auto r = run({"no-such-program-fod"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "cannot execute no-such-program-fod: not found in PATH");
  r = run({"/nonexistent/prog"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "cannot execute /nonexistent/prog: No such file or directory");
  r = run({"/etc/passwd"});
  EXPECT_EQ(r.detail, "cannot execute /etc/passwd: Permission denied");
}

TEST(ExecCheck, HangIsKilledAtTheTimeout) {
  const auto r = run({"sleep", "30"}, 300ms);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "timed out after 300ms, process group killed");
  EXPECT_GE(r.duration, 290ms);
  EXPECT_LT(r.duration, 1s);
}

TEST(ExecCheck, TimeoutKillsTheWholeProcessGroup) {
  testing::TempDir dir;
  const std::string pidfile = dir / "pid";
  const auto r =
      run({"/bin/sh", "-c", "sleep 30 & echo $! > " + pidfile + "; echo started; wait"}, 300ms);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "timed out after 300ms, process group killed: started");
  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(gone_soon(grandchild));
}

TEST(ExecCheck, BackgroundChildHoldingStdoutDoesNotHangTheCheck) {
  testing::TempDir dir;
  const std::string pidfile = dir / "pid";
  const auto r = run({"/bin/sh", "-c", "sleep 30 & echo $! > " + pidfile + "; echo done"}, 5s);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "exit status 0: done");
  EXPECT_LT(r.duration, 1s);
  pid_t grandchild = 0;
  std::ifstream(pidfile) >> grandchild;
  ASSERT_GT(grandchild, 0);
  EXPECT_TRUE(gone_soon(grandchild));  // killed with the group once the command exited
}

TEST(ExecCheck, CommandThatClosesItsOutputButKeepsRunningStillTimesOut) {
  const auto r = run({"/bin/sh", "-c", "exec >&- 2>&-; sleep 30"}, 300ms);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "timed out after 300ms, process group killed");
  EXPECT_LT(r.duration, 1s);
}

TEST(ExecCheck, MegabytesOfOutputAreReadAndDropped) {
  const auto r = run({"/bin/sh", "-c", "head -c 5000000 /dev/zero | tr '\\0' a; exit 4"}, 10s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "exit status 4: " + std::string(kExecMaxOutput, 'a') +
                          " [5000000 bytes of output in all]");
}

TEST(ExecCheck, EndlessOutputIsStoppedAtTheTimeout) {
  const auto r = run({"yes"}, 300ms);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail.rfind("timed out after 300ms, process group killed: y y y", 0), 0u);
  EXPECT_LT(r.duration, 1s);
  EXPECT_LT(r.detail.size(), 700u);
}

TEST(ExecCheck, BinaryOutputBecomesValidText) {
  const auto r = run({"/bin/sh", "-c", "printf 'ok\\377\\001\\n'"});
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "exit status 0: ok?");
}

TEST(ExecCheck, KilledBySignal) {
  const auto r = run({"/bin/sh", "-c", "kill -TERM $$"});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "killed by SIGTERM");
}

TEST(ExecCheck, SignalsIgnoredByTheDaemonAreNotInherited) {
  struct sigaction ignore {}, old {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGTERM, &ignore, &old);
  const auto r = run({"/bin/sh", "-c", "kill -TERM $$; sleep 5"}, 2s);
  ::sigaction(SIGTERM, &old, nullptr);
  EXPECT_EQ(r.detail, "killed by SIGTERM");
}

TEST(ExecCheck, NoDescriptorsLeakIntoTheCommand) {
  const auto r = run({"/bin/sh", "-c", "ls /proc/self/fd | wc -l"});
  EXPECT_TRUE(r.ok);
  // 0, 1, 2, and the one ls opens to read the directory.
  EXPECT_EQ(r.detail, "exit status 0: 4");
}

TEST(ExecCheck, RunsInItsOwnProcessGroup) {
  const auto r = run({"/bin/sh", "-c", "ps -o pgid= -p $$ | tr -d ' '; echo $$"});
  ASSERT_TRUE(r.ok) << r.detail;
  // "exit status 0: PGID PID" with PGID == PID.
  const auto words = r.detail.substr(std::string("exit status 0: ").size());
  const auto space = words.find(' ');
  ASSERT_NE(space, std::string::npos) << r.detail;
  EXPECT_EQ(words.substr(0, space), words.substr(space + 1));
}

TEST(ExecCheck, RunsAsTheConfiguredUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to switch users";
  const RunAs nobody = lookup_user("nobody");
  EXPECT_NE(nobody.uid, 0u);
  const auto r = run({"/bin/sh", "-c", "id -u; id -g"}, 2s, nobody);
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail,
            "exit status 0: " + std::to_string(nobody.uid) + " " + std::to_string(nobody.gid));
}

TEST(ExecCheck, MakeCheckRefusesAnUnknownUser) {
  config::CheckConfig cfg;
  cfg.name = "script";
  cfg.spec = config::ExecCheckSpec{{"true"}, "no-such-user-fod"};
  try {
    make_check(cfg);
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "[check.script] user: unknown user 'no-such-user-fod'");
  }
  cfg.spec = config::ExecCheckSpec{{"true"}, std::nullopt};
  EXPECT_TRUE(make_check(cfg)->run().ok);
}

TEST(MakeCheck, BuildsEachType) {
  config::CheckConfig cfg;
  cfg.timeout = std::chrono::milliseconds(200);
  cfg.spec = config::DockerCheckSpec{"/nonexistent/docker.sock", 1, {}, std::nullopt};
  EXPECT_EQ(make_check(cfg)->run().detail,
            "docker socket /nonexistent/docker.sock: No such file or directory");
  cfg.spec = config::TcpCheckSpec{{"127.0.0.1", 1}};
  EXPECT_EQ(make_check(cfg)->run().detail, "127.0.0.1:1: Connection refused");
  cfg.spec = config::HttpCheckSpec{"http://127.0.0.1:1/", 200, std::nullopt, true};
  EXPECT_EQ(make_check(cfg)->run().detail,
            "GET http://127.0.0.1:1/: cannot connect: Connection refused");
}

}  // namespace
}  // namespace failoverd::health
