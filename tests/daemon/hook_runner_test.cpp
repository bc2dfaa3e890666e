#include "failoverd/daemon/hook_runner.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <spdlog/sinks/ringbuffer_sink.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace failoverd::daemon {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;

// A private directory for one test's scripts and their traces; removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "fod-hooks-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

  // Writes an executable (unless `mode` says otherwise) script; returns its path.
  std::string script(const std::string& name, const std::string& body, mode_t mode = 0755) const {
    const std::string p = *this / name;
    std::ofstream(p) << "#!/bin/sh\n" << body;
    ::chmod(p.c_str(), mode);
    return p;
  }

 private:
  fs::path path_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A runner with a logger whose lines ("info hook master ...") the test can read.
struct Fixture {
  explicit Fixture(config::NotifyConfig notify, std::string instance = "web")
      : sink(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256)),
        log(std::make_shared<spdlog::logger>("test", sink)) {
    log->set_pattern("%l %v");
    runner = std::make_unique<HookRunner>(io, std::move(notify), std::move(instance), log);
  }
  std::vector<std::string> logs() const { return sink->last_formatted(); }
  std::string all_logs() const {
    std::string s;
    for (const auto& l : logs()) s += l;
    return s;
  }

  boost::asio::io_context io;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink;
  std::shared_ptr<spdlog::logger> log;
  std::unique_ptr<HookRunner> runner;
};

config::NotifyConfig all_hooks(const std::string& path, util::Duration timeout = 10s) {
  config::NotifyConfig n;
  n.master = n.backup = n.fault = n.stop = path;
  n.timeout = timeout;
  return n;
}

// True once `pid` is gone (or a zombie waiting for init): polled, as the reaper is not us.
bool process_gone(pid_t pid, std::chrono::milliseconds within) {
  const auto until = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < until) {
    const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
    if (stat.empty()) return true;
    const auto paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z') {
      return true;
    }
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(HookRunner, StateNames) {
  EXPECT_STREQ(to_string(HookEvent::kMaster), "MASTER");
  EXPECT_STREQ(to_string(HookEvent::kStop), "STOP");
  EXPECT_STREQ(hook_name(HookEvent::kFault), "fault");
  EXPECT_EQ(hook_event(core::State::Backup), HookEvent::kBackup);
  EXPECT_EQ(hook_event(core::State::Initialize), std::nullopt);
}

// A burst of transitions: the hooks run in the order of the calls and never overlap (a second
// run while one holds the O_EXCL lock file would record OVERLAP and fail).
TEST(HookRunner, ABurstRunsInOrderOneAtATime) {
  TempDir dir;
  const std::string hook = dir.script("hook.sh", R"(
if ! (set -C; : > "$T/lock") 2>/dev/null; then echo "OVERLAP $2 $SEQ" >> "$T/trace"; exit 3; fi
echo "$2 $SEQ" >> "$T/trace"
sleep 0.01
rm -f "$T/lock"
)");
  Fixture f(all_hooks(hook));
  const std::array<core::State, 3> states = {core::State::Master, core::State::Backup,
                                             core::State::Fault};
  std::vector<std::string> expected;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    const core::State s = states[static_cast<std::size_t>(i * 7 % 3)];
    f.runner->notify(s, 100, {{"T", dir.path().string()}, {"SEQ", std::to_string(i)}});
    expected.push_back(std::string(core::to_string(s)) + " " + std::to_string(i));
  }
  // Queueing never waits for a hook: 20 runs take well over 200ms, the calls far less.
  EXPECT_LT(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_GT(f.runner->pending(), 0u);
  ASSERT_TRUE(f.runner->drain(30s));
  EXPECT_EQ(f.runner->pending(), 0u);
  EXPECT_EQ(lines_of(read_file(dir / "trace")), expected);
  EXPECT_FALSE(fs::exists(dir / "lock"));
  const HookCounters c = f.runner->counters();
  EXPECT_EQ(c.runs, 20u);
  EXPECT_EQ(c.failures, 0u);
  const auto history = f.runner->history();
  ASSERT_EQ(history.size(), 20u);
  EXPECT_EQ(history.back().event, HookEvent::kBackup);  // 19 * 7 % 3 == 1
  EXPECT_EQ(history.back().path, hook);
}

TEST(HookRunner, ArgvEnvironmentStdinAndProcessGroup) {
  TempDir dir;
  ::setenv("FAILOVERD_TEST_LEAK", "1", 1);  // the daemon's environment must not reach hooks
  const std::string hook = dir.script("master.sh", R"(
/usr/bin/env > "$(dirname "$0")/env"
readlink /proc/self/fd/0 > "$(dirname "$0")/stdin"
pgid=$(cut -d' ' -f5 /proc/$$/stat)
[ "$pgid" = "$$" ] && echo own > "$(dirname "$0")/pgid"
echo "$0|$1|$2|$3|$#" > "$(dirname "$0")/argv"
)");
  config::NotifyConfig n;
  n.master = hook;
  Fixture f(n, "web-1");
  f.runner->notify(core::State::Master, 150,
                   {{"FAILOVERD_CLAIM", "ok"}, {"FAILOVERD_CLAIM_DETAIL", "assigned in 80ms"},
                    {"BAD=NAME", "dropped"}, {"", "dropped"}});
  ASSERT_TRUE(f.runner->drain(10s));
  ::unsetenv("FAILOVERD_TEST_LEAK");
  EXPECT_EQ(read_file(dir / "argv"), hook + "|web-1|MASTER|150|3\n");
  EXPECT_EQ(read_file(dir / "stdin"), "/dev/null\n");
  EXPECT_EQ(read_file(dir / "pgid"), "own\n");
  std::vector<std::string> env = lines_of(read_file(dir / "env"));
  // The shell itself adds PWD; everything else is ours.
  std::erase_if(env, [](const std::string& l) { return l.rfind("PWD=", 0) == 0; });
  std::sort(env.begin(), env.end());
  EXPECT_EQ(env, (std::vector<std::string>{"FAILOVERD_CLAIM=ok",
                                           "FAILOVERD_CLAIM_DETAIL=assigned in 80ms",
                                           "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}));
  ASSERT_EQ(f.runner->history().size(), 1u);
  EXPECT_TRUE(f.runner->history()[0].ok());
  EXPECT_EQ(f.runner->history()[0].priority, 150);
}

TEST(HookRunner, TimeoutKillsTheHookAndItsBackgroundChild) {
  TempDir dir;
  const std::string hook = dir.script("slow.sh", R"(
echo started
sleep 60 &
echo $! > "$(dirname "$0")/bgpid"
sleep 60
)");
  config::NotifyConfig n;
  n.fault = hook;
  n.timeout = 300ms;
  Fixture f(n);
  const auto start = std::chrono::steady_clock::now();
  f.runner->notify(HookEvent::kFault, 90);
  ASSERT_TRUE(f.runner->drain(10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  const auto history = f.runner->history();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_TRUE(history[0].timed_out);
  EXPECT_FALSE(history[0].ok());
  EXPECT_FALSE(history[0].exit_code.has_value());
  EXPECT_GE(history[0].duration, 300ms);
  EXPECT_EQ(history[0].output, "started\n");
  const pid_t bg = std::stoi(read_file(dir / "bgpid"));
  EXPECT_TRUE(process_gone(bg, 2s)) << "background child " << bg << " survived";
  const HookCounters c = f.runner->counters();
  EXPECT_EQ(c.runs, 1u);
  EXPECT_EQ(c.failures, 1u);
  EXPECT_EQ(c.timeouts, 1u);
  const auto logs = f.logs();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_TRUE(contains(logs[0], "warning hook fault (" + hook + " web FAULT 90): "
                                "killed after timeout 300ms, ran "))
      << logs[0];
  EXPECT_TRUE(contains(logs[0], "; output: started")) << logs[0];
}

// A hook that exits but leaves a child holding its stdout is over when it exits: the leftover
// is killed, the queue moves on without waiting for the timeout.
TEST(HookRunner, AnExitedHookDoesNotWaitForItsLeftovers) {
  TempDir dir;
  const std::string hook = dir.script("bg.sh", R"(
sleep 60 &
echo $! > "$(dirname "$0")/bgpid"
echo done
)");
  Fixture f(all_hooks(hook, 20s));
  const auto start = std::chrono::steady_clock::now();
  f.runner->notify(HookEvent::kBackup, 100);
  ASSERT_TRUE(f.runner->drain(10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  const auto history = f.runner->history();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].exit_code, 0);
  EXPECT_FALSE(history[0].timed_out);
  EXPECT_EQ(history[0].output, "done\n");
  EXPECT_TRUE(process_gone(std::stoi(read_file(dir / "bgpid")), 2s));
}

TEST(HookRunner, MegabytesOfOutputDoNotBlock) {
  TempDir dir;
  const std::string hook = dir.script("loud.sh", R"(
head -c 8000000 /dev/zero | tr '\0' 'x'
echo tail >&2
exit 0
)");
  Fixture f(all_hooks(hook, 20s));
  f.runner->notify(HookEvent::kMaster, 100);
  ASSERT_TRUE(f.runner->drain(20s));
  const auto history = f.runner->history();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_TRUE(history[0].ok());
  EXPECT_FALSE(history[0].timed_out);
  EXPECT_EQ(history[0].output, std::string(kHookMaxOutput, 'x'));
  EXPECT_EQ(history[0].output_bytes, 8000000u + 5u);
  const auto logs = f.logs();
  ASSERT_EQ(logs.size(), 1u);
  EXPECT_TRUE(contains(logs[0], "[8000005 bytes of output in all]")) << logs[0].substr(0, 200);
  EXPECT_LT(logs[0].size(), kHookMaxOutput + 400);
}

TEST(HookRunner, ExitStatusAndSignalAreRecordedAndLogged) {
  TempDir dir;
  config::NotifyConfig n;
  n.master = dir.script("seven.sh", "echo 'no such droplet'\necho second line\nexit 7\n");
  n.backup = dir.script("term.sh", "kill -TERM $$\n");
  Fixture f(n);
  f.runner->notify(HookEvent::kMaster, 100);
  f.runner->notify(HookEvent::kBackup, 100);
  ASSERT_TRUE(f.runner->drain(10s));
  const auto history = f.runner->history();
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].exit_code, 7);
  EXPECT_FALSE(history[0].ok());
  EXPECT_FALSE(history[1].exit_code.has_value());
  EXPECT_EQ(history[1].signal, SIGTERM);
  EXPECT_EQ(f.runner->counters().failures, 2u);
  const auto logs = f.logs();
  ASSERT_EQ(logs.size(), 2u);
  EXPECT_TRUE(contains(logs[0], "warning hook master (")) << logs[0];
  EXPECT_TRUE(contains(logs[0], "): exit status 7, ran ")) << logs[0];
  EXPECT_TRUE(contains(logs[0], "; output: no such droplet\\nsecond line")) << logs[0];
  EXPECT_TRUE(contains(logs[1], "killed by SIGTERM")) << logs[1];
}

TEST(HookRunner, MissingOrNonExecutableHooksAreLoggedFailures) {
  TempDir dir;
  config::NotifyConfig n;
  n.master = dir / "missing.sh";
  n.backup = dir.script("noexec.sh", "exit 0\n", 0644);
  n.fault = dir.script("fine.sh", "echo fine\n");
  Fixture f(n);
  f.runner->notify(HookEvent::kMaster, 100);
  f.runner->notify(HookEvent::kBackup, 100);
  f.runner->notify(HookEvent::kFault, 100);  // the runner is still alive after two failures
  ASSERT_TRUE(f.runner->drain(10s));
  const auto history = f.runner->history();
  ASSERT_EQ(history.size(), 3u);
  EXPECT_EQ(history[0].error, "cannot execute " + n.master + ": No such file or directory");
  EXPECT_EQ(history[1].error, "cannot execute " + n.backup + ": Permission denied");
  EXPECT_TRUE(history[2].ok());
  EXPECT_EQ(history[2].output, "fine\n");
  EXPECT_EQ(f.runner->counters().runs, 3u);
  EXPECT_EQ(f.runner->counters().failures, 2u);
  const auto logs = f.logs();
  ASSERT_EQ(logs.size(), 3u);
  EXPECT_TRUE(contains(logs[0], "warning hook master (" + n.master + " web MASTER 100): cannot "
                                "execute " + n.master + ": No such file or directory"))
      << logs[0];
}

TEST(HookRunner, UnconfiguredHooksAndInitDoNothing) {
  TempDir dir;
  config::NotifyConfig n;
  n.master = dir.script("m.sh", "exit 0\n");
  Fixture f(n);
  f.runner->notify(HookEvent::kBackup, 100);
  f.runner->notify(core::State::Fault, 100);
  f.runner->notify(core::State::Initialize, 100);
  f.runner->notify(HookEvent::kStop, 0);
  EXPECT_EQ(f.runner->pending(), 0u);
  EXPECT_TRUE(f.runner->drain(1s));
  EXPECT_TRUE(f.runner->history().empty());
  EXPECT_EQ(f.runner->counters().runs, 0u);
}

TEST(HookRunner, DrainWaitsForTheStopHook) {
  TempDir dir;
  config::NotifyConfig n;
  n.stop = dir.script("stop.sh", "sleep 0.3\necho \"$2 $3\" > \"$(dirname \"$0\")/stopped\"\n");
  Fixture f(n);
  f.runner->notify(HookEvent::kStop, 0);
  EXPECT_TRUE(f.runner->drain(10s));
  EXPECT_EQ(read_file(dir / "stopped"), "STOP 0\n");
  EXPECT_EQ(f.runner->counters().runs, 1u);
}

// At shutdown drain() is bounded; what still runs after it is killed by the destructor, which
// must not wait for the hook's own timeout.
TEST(HookRunner, DrainGivesUpAtMaxAndTheDestructorKillsTheHook) {
  TempDir dir;
  config::NotifyConfig n;
  n.stop = dir.script("stuck.sh", "echo $$ > \"$(dirname \"$0\")/pid\"\nsleep 60\n");
  n.master = dir.script("m.sh", "touch \"$(dirname \"$0\")/master-ran\"\n");
  n.timeout = 60s;
  auto f = std::make_unique<Fixture>(n);
  f->runner->notify(HookEvent::kStop, 0);
  f->runner->notify(HookEvent::kMaster, 100);  // queued behind: dropped at destruction
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(f->runner->drain(300ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  EXPECT_EQ(f->runner->pending(), 2u);
  const pid_t pid = std::stoi(read_file(dir / "pid"));
  const auto destroy_start = std::chrono::steady_clock::now();
  f->runner.reset();
  EXPECT_LT(std::chrono::steady_clock::now() - destroy_start, 2s);
  EXPECT_TRUE(process_gone(pid, 2s));
  EXPECT_FALSE(fs::exists(dir / "master-ran"));
  EXPECT_TRUE(contains(f->all_logs(), "killed: failoverd is shutting down"));
}

TEST(HookRunner, OnRunIsPostedToTheLoop) {
  TempDir dir;
  config::NotifyConfig n;
  n.master = dir.script("m.sh", "exit 4\n");
  Fixture f(n);
  std::vector<HookRun> seen;
  std::thread::id seen_on;
  f.runner->set_on_run([&](const HookRun& r) {
    seen.push_back(r);
    seen_on = std::this_thread::get_id();
  });
  f.runner->notify(HookEvent::kMaster, 120);
  ASSERT_TRUE(f.runner->drain(10s));
  EXPECT_TRUE(seen.empty());  // not called on the worker: it waits for the loop
  f.io.run();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen_on, std::this_thread::get_id());
  EXPECT_EQ(seen[0].exit_code, 4);
  EXPECT_EQ(seen[0].priority, 120);
}

}  // namespace
}  // namespace failoverd::daemon
