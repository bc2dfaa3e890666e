// The exec provider against small scripts in a temp dir: every exit status of the contract,
// "held", retries (a counter file), the claim deadline, timeouts that kill the process group,
// and status parsing, garbage included. Backoff waits run on a FakeClock.
#include "failoverd/cloud/exec_provider.h"

#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "cloud/test_support.h"
#include "failoverd/util/unique_fd.h"
#include "health/test_support.h"

namespace failoverd::cloud {
namespace {

using namespace std::chrono_literals;
using testing::FakeClock;
using testing::LogCapture;

// An executable /bin/sh script in `dir`; DIR in `body` is that directory.
std::string script(const health::testing::TempDir& dir, const std::string& name,
                   const std::string& body) {
  const std::string path = dir / name;
  std::ofstream(path) << "#!/bin/sh\nDIR='" << dir.path() << "'\n" << body;
  ::chmod(path.c_str(), 0755);
  return path;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool contains(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

// True once `pid` has ended (a zombie counts: it is init's to reap), waiting at most 2s.
bool gone_soon(pid_t pid) {
  util::UniqueFd fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (!fd.valid()) return errno == ESRCH;
  pollfd pf{fd.get(), POLLIN, 0};
  return ::poll(&pf, 1, 2000) == 1;
}

// Exits 75 (or `fail_with`) on the first `failures` runs, then 0; counts runs in DIR/count.
std::string flaky_body(int failures, int fail_with = 75) {
  return "n=$(cat \"$DIR/count\" 2>/dev/null || echo 0); n=$((n+1)); echo $n > \"$DIR/count\"\n"
         "if [ $n -le " + std::to_string(failures) + " ]; then echo \"busy $n\" >&2; exit " +
         std::to_string(fail_with) + "; fi\necho claimed\n";
}

struct Fixture {
  health::testing::TempDir dir;
  FakeClock clock;
  LogCapture logs;

  ExecProviderOptions options(const std::string& body) {
    ExecProviderOptions o;
    o.argv = {script(dir, "provider.sh", body), "a b"};
    o.address = *util::Ipv4::parse("203.0.113.10");
    o.instance = "web";
    o.call_timeout = 5s;
    o.claim_deadline = 60s;
    o.retry_initial = 1s;
    o.retry_max = 4s;
    o.log = logs.sink();
    o.random = [] { return 0.5; };
    return o;
  }
  ExecProvider provider(const std::string& body) { return ExecProvider(options(body), clock); }
};

TEST(ExecProvider, ClaimExitZeroIsClaimedWithArgvAndEnvironment) {
  Fixture f;
  auto p = f.provider(
      "printf '%s|' \"$@\" > \"$DIR/args\"\n"
      "echo \"$FAILOVERD_ADDRESS $FAILOVERD_INSTANCE $FAILOVERD_ACTION\" > \"$DIR/env\"\n"
      "readlink /proc/self/fd/0 > \"$DIR/stdin\"\necho moved\n");
  EXPECT_STREQ(p.name(), "exec");
  const ClaimReport r = p.claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.attempts, 1);
  EXPECT_FALSE(r.error.has_value());
  EXPECT_TRUE(contains(r.detail, "reserved IP 203.0.113.10: claimed by ")) << r.detail;
  EXPECT_EQ(read_file(f.dir / "args"), "a b|claim|");
  EXPECT_EQ(read_file(f.dir / "env"), "203.0.113.10 web claim\n");
  EXPECT_EQ(read_file(f.dir / "stdin"), "/dev/null\n");
  EXPECT_TRUE(f.clock.sleeps.empty());
}

TEST(ExecProvider, HeldMeansAlreadyHeld) {
  Fixture f;
  auto r = f.provider("echo '  held '\necho more\n").claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kAlreadyHeld) << r.detail;
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.attempts, 1);
  // Only the first line counts, and only exactly "held".
  r = f.provider("echo claimed\necho held\n").claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kClaimed);
  r = f.provider("echo held-ish\n").claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kClaimed);
}

TEST(ExecProvider, ExitSeventySevenIsAPermanentAuthErrorWithoutRetries) {
  Fixture f;
  const auto r = f.provider(flaky_body(100, 77)).claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kFailed);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->kind, CloudErrorKind::kAuth);
  EXPECT_TRUE(r.permanent_failure());
  EXPECT_EQ(r.attempts, 1);
  EXPECT_TRUE(f.clock.sleeps.empty());
  EXPECT_TRUE(contains(r.detail, "claim: exit status 77 (EX_NOPERM: not authorised): busy 1"))
      << r.detail;
  EXPECT_EQ(read_file(f.dir / "count"), "1\n");
}

TEST(ExecProvider, ExitSeventyFiveIsRetriedWithBackoffUntilItSucceeds) {
  Fixture f;
  auto o = f.options(flaky_body(3));
  ExecProvider p(o, f.clock);
  const auto r = p.claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(read_file(f.dir / "count"), "4\n");
  // d = 1s, 2s, 4s with random 0.5: d/2 + d/4.
  EXPECT_EQ(f.clock.sleeps, (std::vector<Millis>{750ms, 1500ms, 3000ms}));
  EXPECT_EQ(r.latency, 5250ms);  // the fake clock only moves by the waits
  EXPECT_TRUE(contains(r.detail, "after 4 runs")) << r.detail;
  const auto logs = f.logs.joined();
  EXPECT_TRUE(contains(logs, "claim run 1: " + o.argv[0] +
                                 " claim: exit status 75 (EX_TEMPFAIL: unavailable): busy 1; "
                                 "retrying in 750ms"))
      << logs;
  EXPECT_TRUE(contains(logs, "claim claimed in 5250ms")) << logs;
}

TEST(ExecProvider, OtherExitStatusesAreRetriedAndReportedWithTheLastStderrLine) {
  Fixture f;
  auto r = f.provider(flaky_body(1, 3)).claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_TRUE(contains(f.logs.joined(), "claim: exit status 3: busy 1; retrying in 750ms"))
      << f.logs.joined();

  // A failure that never ends: the report names the status and the last stderr line only.
  Fixture g;
  auto o = g.options("echo 'first line' >&2\necho 'no such droplet' >&2\necho >&2\nexit 2\n");
  o.claim_deadline = 3s;
  r = ExecProvider(o, g.clock).claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kFailed);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->kind, CloudErrorKind::kDeadline);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_TRUE(contains(r.detail, "claim: exit status 2: no such droplet")) << r.detail;
  EXPECT_FALSE(contains(r.detail, "first line")) << r.detail;
}

TEST(ExecProvider, DeadlineBoundsTheRetries) {
  Fixture f;
  auto o = f.options(flaky_body(1000));
  o.claim_deadline = 5s;
  o.retry_initial = 1s;
  o.retry_max = 2s;
  const auto r = ExecProvider(o, f.clock).claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kFailed);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->kind, CloudErrorKind::kDeadline);
  EXPECT_FALSE(r.permanent_failure());
  // Waits 750 + 1500 + 1500 = 3750ms; a fourth (to 5250ms) would pass the deadline.
  EXPECT_EQ(f.clock.sleeps, (std::vector<Millis>{750ms, 1500ms, 1500ms}));
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(read_file(f.dir / "count"), "4\n");
  EXPECT_TRUE(contains(r.detail, "gave up after 4 runs (claim deadline 5000ms); last: ")) << r.detail;
  EXPECT_TRUE(contains(r.detail, "exit status 75 (EX_TEMPFAIL: unavailable): busy 4")) << r.detail;
}

TEST(ExecProvider, HangingCommandIsKilledWithItsProcessGroupAtTheTimeout) {
  health::testing::TempDir dir;
  ExecProviderOptions o;
  o.argv = {script(dir, "hang.sh", "sleep 100 &\necho $! >> \"$DIR/pids\"\nsleep 100\n")};
  o.address = *util::Ipv4::parse("203.0.113.10");
  o.call_timeout = 300ms;
  o.claim_deadline = 1s;
  o.retry_initial = 100ms;
  o.retry_max = 100ms;
  o.random = [] { return 0.0; };  // 50ms between runs
  LogCapture logs;
  o.log = logs.sink();
  ExecProvider p(o);  // the real clock: the runs really hang
  const auto start = std::chrono::steady_clock::now();
  const auto r = p.claim();
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, 900ms);
  EXPECT_LT(took, 2500ms);
  EXPECT_EQ(r.outcome, ClaimOutcome::kFailed);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->kind, CloudErrorKind::kDeadline);
  // The last run only gets what is left of the deadline.
  EXPECT_TRUE(contains(r.detail, "claim: timed out after ")) << r.detail;
  EXPECT_TRUE(contains(logs.joined(),
                       "claim run 1: " + o.argv[0] +
                           " claim: timed out after 300ms, process group killed; retrying in "
                           "50ms"))
      << logs.joined();
  EXPECT_GE(r.attempts, 2);
  std::istringstream pids(read_file(dir / "pids"));
  int seen = 0;
  for (pid_t pid; pids >> pid; ++seen) EXPECT_TRUE(gone_soon(pid)) << "background " << pid;
  EXPECT_EQ(seen, r.attempts);

  // status: one run, a timeout is "unavailable".
  const auto s = p.status();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().kind, CloudErrorKind::kUnavailable);
  EXPECT_TRUE(contains(s.error().message, "status: timed out after 300ms")) << s.error().message;
}

TEST(ExecProvider, SignalsAreRetriedLikeFailures) {
  Fixture f;
  auto o = f.options("kill -TERM $$\n");
  o.claim_deadline = 2s;
  const auto r = ExecProvider(o, f.clock).claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.attempts, 2);  // waits 750ms, then 1500ms would pass 2s
  EXPECT_TRUE(contains(r.detail, "claim: killed by SIGTERM")) << r.detail;
}

TEST(ExecProvider, UnexecutableCommandIsAPermanentConfigError) {
  Fixture f;
  auto o = f.options("exit 0\n");
  o.argv = {f.dir / "missing.sh"};
  auto r = ExecProvider(o, f.clock).claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kFailed);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->kind, CloudErrorKind::kConfig);
  EXPECT_TRUE(r.permanent_failure());
  EXPECT_EQ(r.attempts, 1);
  EXPECT_TRUE(contains(r.detail, "cannot execute " + o.argv[0] + ": No such file or directory"))
      << r.detail;
  const auto s = ExecProvider(o, f.clock).status();
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().kind, CloudErrorKind::kConfig);

  o.argv = {"no-such-provider-cli-fod"};
  r = ExecProvider(o, f.clock).claim();
  EXPECT_EQ(r.error->kind, CloudErrorKind::kConfig);
  EXPECT_TRUE(contains(r.detail, "not found in PATH")) << r.detail;

  o.argv = {};
  r = ExecProvider(o, f.clock).claim();
  EXPECT_EQ(r.error->kind, CloudErrorKind::kConfig);
  EXPECT_FALSE(ExecProvider(o, f.clock).status().has_value());
}

TEST(ExecProvider, StderrLineIsOneLineAndCapped) {
  Fixture f;
  const auto r =
      f.provider("printf 'x%.0s' $(seq 1 1000) >&2\nprintf '\\001tab\\there\\n' >&2\n"
                 "printf 'y%.0s' $(seq 1 1000) >&2\nexit 77\n")
          .claim();
  ASSERT_TRUE(r.error.has_value());
  const auto& m = r.error->message;
  EXPECT_TRUE(contains(m, "(EX_NOPERM: not authorised): " + std::string(200, 'y') + "..."))
      << m;
  EXPECT_EQ(m.find('\n'), std::string::npos);
  EXPECT_LT(m.size(), 400u + (f.dir / "provider.sh").size());
}

TEST(ExecProvider, StatusAnswers) {
  Fixture f;
  auto status = [&](const std::string& body) { return f.provider(body).status(); };
  auto s = status("echo \"$FAILOVERD_ACTION $*\" > \"$DIR/args\"; echo ours\n");
  ASSERT_TRUE(s.has_value()) << s.error().message;
  EXPECT_TRUE(s->ours);
  EXPECT_EQ(s->holder, "web");
  EXPECT_EQ(read_file(f.dir / "args"), "status a b status\n");

  s = status("printf 'none\\r\\n'\n");
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->ours);
  EXPECT_EQ(s->holder, std::nullopt);

  s = status("echo 'other droplet 1234'\necho ignored\n");
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->ours);
  EXPECT_EQ(s->holder, "droplet 1234");
}

TEST(ExecProvider, StatusErrorsAreTyped) {
  Fixture f;
  auto error = [&](const std::string& body) {
    auto s = f.provider(body).status();
    EXPECT_FALSE(s.has_value()) << body;
    return s ? CloudError{} : s.error();
  };
  auto e = error("exit 64\n");
  EXPECT_EQ(e.kind, CloudErrorKind::kUnavailable);
  EXPECT_FALSE(e.permanent());
  EXPECT_TRUE(contains(e.message, "status is not implemented by the command (exit status 64, "
                                  "EX_USAGE)"))
      << e.message;
  EXPECT_EQ(error("echo 'try later' >&2; exit 75\n").kind, CloudErrorKind::kUnavailable);
  e = error("exit 77\n");
  EXPECT_EQ(e.kind, CloudErrorKind::kAuth);
  e = error("echo boom >&2; exit 3\n");
  EXPECT_EQ(e.kind, CloudErrorKind::kBadResponse);
  EXPECT_TRUE(contains(e.message, "status: exit status 3: boom")) << e.message;
  e = error("echo maybe\n");
  EXPECT_EQ(e.kind, CloudErrorKind::kBadResponse);
  EXPECT_TRUE(contains(e.message,
                       "status: exit status 0 but printed \"maybe\" (expected ours, none or "
                       "other HOLDER)"))
      << e.message;
  EXPECT_EQ(error("true\n").kind, CloudErrorKind::kBadResponse);  // no output at all
  EXPECT_EQ(error("head -c 100000 /dev/urandom\n").kind, CloudErrorKind::kBadResponse);
  EXPECT_EQ(error("kill -KILL $$\n").kind, CloudErrorKind::kBadResponse);
  EXPECT_TRUE(f.clock.sleeps.empty());  // status never retries
}

TEST(ExecStatusParse, AcceptsTheThreeAnswersOnly) {
  auto ours = parse_exec_status("ours\n", "web");
  ASSERT_TRUE(ours.has_value());
  EXPECT_TRUE(ours->ours);
  EXPECT_EQ(ours->holder, "web");
  EXPECT_EQ(parse_exec_status("  ours  ", "")->holder, "this node");
  EXPECT_EQ(parse_exec_status("none", "web")->holder, std::nullopt);
  EXPECT_EQ(parse_exec_status("other\tnode-b \r\nx", "web")->holder, "node-b");
  for (const char* bad : {"", "\n", "OURS", "other", "other   ", "ours now", "nonesuch",
                          "other a\x01" "b", "held", "\xff\xfe"}) {
    EXPECT_FALSE(parse_exec_status(bad, "web").has_value()) << bad;
  }
  EXPECT_FALSE(parse_exec_status("other " + std::string(201, 'h'), "web").has_value());
  EXPECT_TRUE(parse_exec_status("other " + std::string(200, 'h'), "web").has_value());
  EXPECT_EQ(parse_exec_status("maybe\x07", "web").error(),
            "printed \"maybe?\" (expected ours, none or other HOLDER)");
  EXPECT_EQ(parse_exec_status("\nours", "web").error(),
            "printed no first line (expected ours, none or other HOLDER)");
}

TEST(ExecLastLine, PicksTheLastNonBlankLine) {
  EXPECT_EQ(last_line("a\nb\n\n  \n", 100), "b");
  EXPECT_EQ(last_line("only", 100), "only");
  EXPECT_EQ(last_line("", 100), "");
  EXPECT_EQ(last_line("\n \r\n", 100), "");
  EXPECT_EQ(last_line("x\n\tspaced out\r\n", 100), "spaced out");
  // A line of \v or \f only: nothing, and no endless loop (a fuzz finding).
  EXPECT_EQ(last_line("\v", 100), "");
  EXPECT_EQ(last_line("a\n\f", 100), "a");
  EXPECT_EQ(last_line("bell\x07", 100), "bell?");
  EXPECT_EQ(last_line("abcdef", 3), "abc...");
  // Never cut inside a UTF-8 character: "é" is two bytes.
  EXPECT_EQ(last_line("a\xc3\xa9", 2), "a...");
}

TEST(ExecRetryDelay, DoublesUpToTheMaxWithJitterInTheUpperHalf) {
  EXPECT_EQ(exec_retry_delay(1, 1000ms, 10s, 0.0), 500ms);
  EXPECT_EQ(exec_retry_delay(1, 1000ms, 10s, 1.0), 1000ms);
  EXPECT_EQ(exec_retry_delay(2, 1000ms, 10s, 0.5), 1500ms);
  EXPECT_EQ(exec_retry_delay(4, 1000ms, 10s, 0.0), 4000ms);
  EXPECT_EQ(exec_retry_delay(5, 1000ms, 10s, 0.0), 5000ms);
  EXPECT_EQ(exec_retry_delay(60, 1000ms, 10s, 0.0), 5000ms);  // no overflow
  EXPECT_EQ(exec_retry_delay(1, 0ms, 0ms, 0.5), 0ms);
}

TEST(ExecProviderOptionsTest, FromConfig) {
  config::ReservedIpConfig cfg;
  cfg.provider = config::Provider::kExec;
  cfg.address = util::Ipv4::parse("198.51.100.7");
  cfg.command = {"/usr/local/bin/fip", "--zone", "fra1"};
  auto o = exec_provider_options(cfg, "web");
  ASSERT_TRUE(o.has_value()) << o.error().message;
  EXPECT_EQ(o->argv, cfg.command);
  EXPECT_EQ(o->address.to_string(), "198.51.100.7");
  EXPECT_EQ(o->instance, "web");
  EXPECT_EQ(o->call_timeout, 30s);

  auto bad = cfg;
  bad.command.clear();
  EXPECT_EQ(exec_provider_options(bad).error().message, "[reserved_ip] command is not set");
  EXPECT_EQ(exec_provider_options(bad).error().kind, CloudErrorKind::kConfig);
  bad = cfg;
  bad.address.reset();
  EXPECT_EQ(exec_provider_options(bad).error().message, "[reserved_ip] address is not set");
  bad = cfg;
  bad.provider = config::Provider::kDigitalOcean;
  EXPECT_EQ(exec_provider_options(bad).error().message, "[reserved_ip] provider is not exec");
}

}  // namespace
}  // namespace failoverd::cloud
