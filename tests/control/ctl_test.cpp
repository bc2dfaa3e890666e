#include "failoverd/control/ctl.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include <sys/wait.h>
#include <unistd.h>

#include "control/status_sample.h"
#include "control/test_support.h"

namespace failoverd::control {
namespace {

using nlohmann::json;
using testing::LoopServer;
using namespace std::chrono_literals;

using testing::sample_status;

TEST(FormatStatusTable, ShowsEverythingAPersonLooksFor) {
  const std::string t = format_status_table(sample_status());
  EXPECT_EQ(t,
            "failoverd web: MASTER since 2024-05-01T12:00:00Z (3 transitions)\n"
            "  priority      150 (effective 140)\n"
            "  master        10.114.0.4\n"
            "  router        VRID 51, transport vrrp on eth1\n"
            "  intervals     advert 1s, master down 3.414s, skew 414.062ms\n"
            "  adverts       sent 1200, received 7\n"
            "  drops         bad_checksum 2\n"
            "  maintenance   off\n"
            "  reserved ip   none\n"
            "  process       pid 4242, up 1d 2h 3m 4s\n"
            "checks (2):\n"
            "  NAME        TYPE    OK    PASSES  FAILS  LAST RUN              DETAIL\n"
            "  containers  docker  ok    5       0      2026-11-22T19:00:00Z  10/10 running\n"
            "  site        http    FAIL  0       3      never                 HTTP 503\n");
}

TEST(FormatStatusTable, NoMasterNoChecksReservedIp) {
  Status s = sample_status();
  s.master.reset();
  s.checks.clear();
  s.maintenance = true;
  s.reserved_ip = ReservedIpStatus{"203.0.113.10", "digitalocean", "droplet 42", std::nullopt};
  const std::string t = format_status_table(s);
  EXPECT_NE(t.find("  master        none known\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  maintenance   on (stays BACKUP)\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  reserved ip   203.0.113.10 via digitalocean, held by droplet 42\n"),
            std::string::npos)
      << t;
  EXPECT_NE(t.find("checks: none configured\n"), std::string::npos) << t;
}

class ResolveSocketTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::make_temp_dir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void touch(const char* name) { std::ofstream(dir_ / name) << ""; }
  std::filesystem::path dir_;
};

TEST_F(ResolveSocketTest, ExplicitSocketWins) {
  touch("a.sock");
  auto p = resolve_socket(std::filesystem::path("/x/y.sock"), std::string("web"), dir_);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, "/x/y.sock");
}

TEST_F(ResolveSocketTest, InstanceNamesTheSocket) {
  auto p = resolve_socket(std::nullopt, std::string("web"), dir_);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(*p, dir_ / "web.sock");
  EXPECT_EQ(resolve_socket(std::nullopt, std::string("../etc"), dir_).error(),
            "invalid instance name \"../etc\"");
}

TEST_F(ResolveSocketTest, DefaultIsTheOnlySocketOrFailoverd) {
  EXPECT_EQ(*resolve_socket(std::nullopt, std::nullopt, dir_), dir_ / "failoverd.sock");
  EXPECT_EQ(*resolve_socket(std::nullopt, std::nullopt, dir_ / "missing"),
            dir_ / "missing" / "failoverd.sock");
  touch("web.sock");
  touch("notes.txt");
  EXPECT_EQ(*resolve_socket(std::nullopt, std::nullopt, dir_), dir_ / "web.sock");
  touch("db.sock");
  auto several = resolve_socket(std::nullopt, std::nullopt, dir_);
  ASSERT_FALSE(several.has_value());
  EXPECT_EQ(several.error(),
            "several failoverd instances are running (db, web); choose one with --instance NAME");
}

TEST_F(ResolveSocketTest, AnUnreadableRunDirectoryIsSaidNotGuessedAround) {
  touch("file");
  auto not_dir = resolve_socket(std::nullopt, std::nullopt, dir_ / "file");
  ASSERT_FALSE(not_dir.has_value());
  EXPECT_EQ(not_dir.error(), "cannot list " + (dir_ / "file").string() +
                                 " to find the instance: Not a directory");
  if (::geteuid() != 0) GTEST_SKIP() << "the permission case needs root to become nobody";
  // A user outside the group failoverd: the child becomes nobody and reports what it was told.
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    auto r = resolve_socket(std::nullopt, std::nullopt, dir_);
    const std::string text = r ? "resolved: " + r->string() : r.error();
    (void)!::write(pipe_fds[1], text.data(), text.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string got;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof(buf))) > 0;) got.append(buf, n);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(got, "cannot list " + dir_.string() +
                     " to find the instance: Permission denied (run failoverctl as root or as a "
                     "member of the group failoverd)");
}

// run_ctl against a real server on a temporary socket.
class RunCtlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir();
    server_ = std::make_unique<LoopServer>(dir_ / "web.sock");
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start() {
    server_->start([this](const Request& r) -> Outcome {
      if (r.command == "status") {
        Status s = sample_status();
        if (++polls_ > healthy_after_polls_.load()) s.checks[1].ok = true;
        if (resigned_) {
          // After a failover: the peer took over, or nobody did and this node is back.
          s.state = peer_takes_over_ ? "BACKUP" : "MASTER";
          s.master = peer_takes_over_ ? std::optional<std::string>("10.114.0.5") : std::nullopt;
        }
        return to_json(s);
      }
      if (r.command == "failover") {
        resigned_ = true;
        return json{{"message", "resigned"}, {"window_ms", 125}};
      }
      if (r.command == "maintenance")
        return json{{"message", r.args["enabled"] ? "maintenance on" : "maintenance off"}};
      return util::unexpected(std::string("not implemented yet"));
    });
  }

  int run(CtlInvocation inv) {
    out_.str("");
    err_.str("");
    return run_ctl(inv, out_, err_, dir_);
  }

  std::filesystem::path dir_;
  std::unique_ptr<LoopServer> server_;
  std::atomic<int> polls_{0};
  std::atomic<bool> resigned_{false};
  std::atomic<bool> peer_takes_over_{true};
  std::atomic<int> healthy_after_polls_{1'000'000};
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(RunCtlTest, StatusPrintsTheTable) {
  start();
  CtlInvocation inv;
  inv.command = "status";  // the only socket in the run dir is picked
  EXPECT_EQ(run(inv), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), format_status_table(sample_status()));
  EXPECT_EQ(err_.str(), "");
}

TEST_F(RunCtlTest, StatusJsonPrintsOneLine) {
  start();
  CtlInvocation inv;
  inv.command = "status";
  inv.json = true;
  inv.instance = "web";
  EXPECT_EQ(run(inv), kExitOk);
  const std::string out = out_.str();
  EXPECT_EQ(out.find('\n'), out.size() - 1);
  EXPECT_EQ(json::parse(out), to_json(sample_status()));
}

TEST_F(RunCtlTest, DaemonErrorExitsOne) {
  start();
  CtlInvocation inv;
  inv.command = "reload";
  EXPECT_EQ(run(inv), kExitDaemonError);
  EXPECT_EQ(err_.str(), "failoverctl: not implemented yet\n");
}

TEST_F(RunCtlTest, FailoverWaitsForThePeerToTakeOver) {
  start();
  CtlInvocation inv;
  inv.command = "failover";
  EXPECT_EQ(run(inv), kExitOk) << err_.str();
  EXPECT_EQ(out_.str().rfind("resigned\n10.114.0.5 is MASTER after ", 0), 0U) << out_.str();
  EXPECT_NE(out_.str().find(" ms; this node is BACKUP\n"), std::string::npos) << out_.str();
}

TEST_F(RunCtlTest, FailoverThatNobodyTakesIsRefused) {
  peer_takes_over_ = false;
  start();
  CtlInvocation inv;
  inv.command = "failover";
  inv.json = true;
  EXPECT_EQ(run(inv), kExitDaemonError);
  const auto j = json::parse(out_.str());
  EXPECT_EQ(j["outcome"], "refused");
  EXPECT_EQ(j["window_ms"], 125);
  EXPECT_EQ(err_.str(), "failoverctl: refused: no healthy peer took over within 125 ms; this "
                        "node took the address back and is MASTER again\n");
}

TEST_F(RunCtlTest, MaintenancePrintsTheMessage) {
  start();
  CtlInvocation inv;
  inv.command = "maintenance";
  inv.args = {{"enabled", true}};
  EXPECT_EQ(run(inv), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "maintenance on\n");
}

TEST_F(RunCtlTest, NoDaemonExitsThree) {
  CtlInvocation inv;
  inv.command = "status";
  EXPECT_EQ(run(inv), kExitUnreachable);
  EXPECT_EQ(err_.str(), "failoverctl: failoverd is not running (no socket at " +
                            (dir_ / "failoverd.sock").string() + ")\n");
}

TEST_F(RunCtlTest, SeveralInstancesWithoutChoiceIsAUsageError) {
  start();
  std::ofstream(dir_ / "db.sock") << "";
  CtlInvocation inv;
  inv.command = "status";
  EXPECT_EQ(run(inv), kExitUsage);
  EXPECT_NE(err_.str().find("several failoverd instances are running (db, web)"),
            std::string::npos);
}

TEST_F(RunCtlTest, WaitHealthyReturnsOnceEveryCheckPasses) {
  healthy_after_polls_ = 2;
  start();
  CtlInvocation inv;
  inv.command = "wait-healthy";
  inv.poll_interval = 20ms;
  inv.wait_timeout = 5s;
  EXPECT_EQ(run(inv), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "healthy: 2 checks pass\n");
  EXPECT_EQ(polls_.load(), 3);
}

TEST_F(RunCtlTest, WaitHealthyTimesOutNamingTheFailingCheck) {
  start();
  CtlInvocation inv;
  inv.command = "wait-healthy";
  inv.poll_interval = 50ms;
  inv.wait_timeout = 300ms;
  const auto start_time = std::chrono::steady_clock::now();
  EXPECT_EQ(run(inv), kExitDaemonError);
  EXPECT_GE(std::chrono::steady_clock::now() - start_time, 300ms);
  EXPECT_EQ(err_.str(), "failoverctl: not healthy after 300ms: failing: site (HTTP 503)\n");
  EXPECT_GE(polls_.load(), 3);
}

TEST_F(RunCtlTest, WaitHealthyWithoutDaemonExitsThree) {
  CtlInvocation inv;
  inv.command = "wait-healthy";
  inv.poll_interval = 20ms;
  inv.wait_timeout = 100ms;
  EXPECT_EQ(run(inv), kExitUnreachable);
  EXPECT_NE(err_.str().find("not healthy after 100ms: failoverd is not running"), std::string::npos)
      << err_.str();
}

}  // namespace
}  // namespace failoverd::control
