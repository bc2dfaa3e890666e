// The docker check against a real Docker-compatible engine: podman's API service on a private
// socket, with private storage and configuration under a temporary directory, running
// containers from a tiny busybox image built locally (no registry is reachable). The harness
// (tests/harness/podman.cpp) says why each setting is there.
//
// Needs root, podman, runc and busybox-static; skipped with a message otherwise.
#include <signal.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <thread>

#include "failoverd/health/docker_check.h"
#include "failoverd/health/tracker.h"
#include "harness/podman.h"

namespace failoverd::health {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const char* const kProject = "com.docker.compose.project=fodtest";

config::DockerCheckSpec spec(const std::string& socket, int min_running,
                             std::vector<std::string> labels = {}) {
  config::DockerCheckSpec s;
  s.socket = socket;
  s.min_running = min_running;
  s.labels = std::move(labels);
  return s;
}

// One private engine per test (tests/harness/podman.h).
class PodmanEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = e2e::PodmanEngine::unavailable_reason()) GTEST_SKIP() << *why;
    try {
      engine_ = std::make_unique<e2e::PodmanEngine>();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    socket_ = engine_->socket_path();
    // The harness pings the engine; the docker check must agree it is up.
    const auto r = DockerCheck(spec(socket_, 0), 2s).run();
    ASSERT_TRUE(r.ok) << r.detail;
  }

  void TearDown() override {
    if (!engine_) return;
    const fs::path dir = engine_->dir();
    engine_.reset();
    EXPECT_FALSE(fs::exists(dir)) << "could not remove " << dir;
  }

  void stop_service() { engine_->stop_service(); }

  void run_container(const std::string& name, const std::vector<std::string>& labels) {
    ASSERT_NO_THROW(engine_->run_container(name, labels));
  }

  std::unique_ptr<e2e::PodmanEngine> engine_;
  std::string socket_;
};

TEST_F(PodmanEngine, DockerCheckCountsRealContainersAndNoticesStops) {
  for (int i = 1; i <= 3; ++i) {
    run_container("fod-c" + std::to_string(i),
                  {kProject, "com.docker.compose.service=svc" + std::to_string(i)});
  }
  run_container("fod-other", {});  // running, but not part of the project

  // Passes, with the engine's own API version.
  DockerCheck check(spec(socket_, 3, {kProject}), 2s);
  auto r = check.run();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail, "3 containers running, 3 required (label " + std::string(kProject) + ")");
  EXPECT_EQ(check.api_version(), "1.41");

  // The label filter is honoured: the unlabelled container never counts for the project.
  r = DockerCheck(spec(socket_, 4, {kProject}), 2s).run();
  EXPECT_EQ(r.detail, "3 of 4 required containers running (label " + std::string(kProject) + ")");
  r = DockerCheck(spec(socket_, 4), 2s).run();
  EXPECT_TRUE(r.ok) << r.detail;
  r = DockerCheck(spec(socket_, 1, {"com.docker.compose.project=other"}), 2s).run();
  EXPECT_EQ(r.detail, "0 of 1 required containers running (label com.docker.compose.project=other)");
  r = DockerCheck(spec(socket_, 1, {kProject, "com.docker.compose.service=svc2"}), 2s).run();
  EXPECT_TRUE(r.ok) << r.detail;
  EXPECT_EQ(r.detail.rfind("1 container running", 0), 0u) << r.detail;
  auto named = spec(socket_, 1);
  named.name = "fod-c2";
  r = DockerCheck(named, 2s).run();
  EXPECT_EQ(r.detail, "1 container running, 1 required (name fod-c2)");

  // A container killed from the host: unhealthy within interval x fall.
  config::CheckConfig cfg;
  cfg.name = "containers";
  cfg.interval = 200ms;
  cfg.rise = 1;
  cfg.fall = 2;
  Tracker tracker(cfg);
  tracker.record(check.run(), std::chrono::system_clock::now());
  ASSERT_TRUE(tracker.healthy()) << tracker.last()->detail;
  pid_t pid = -1;
  ASSERT_NO_THROW(pid = engine_->container_pid("fod-c3"));
  ASSERT_GT(pid, 1);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  std::chrono::steady_clock::duration detected{};
  for (int i = 0; i < 20 && tracker.healthy(); ++i) {
    std::this_thread::sleep_for(cfg.interval);
    tracker.record(check.run(), std::chrono::system_clock::now());
    detected = std::chrono::steady_clock::now() - killed_at;
  }
  EXPECT_FALSE(tracker.healthy());
  EXPECT_EQ(tracker.last()->detail,
            "2 of 3 required containers running (label " + std::string(kProject) + ")");
  // fall x interval, plus the two checks' own time and scheduling slack.
  EXPECT_LT(detected, cfg.fall * cfg.interval + 300ms);
  const Verdict v = evaluate({{&cfg, &tracker}});
  EXPECT_TRUE(v.fault);
  EXPECT_EQ(v.fault_reason, "check containers: " + tracker.last()->detail);

  // podman stop: one fewer.
  const e2e::CommandResult stop = engine_->podman({"stop", "-t", "2", "fod-c2"});
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "1 of 3 required containers running (label " + std::string(kProject) + ")");

  // Back up: healthy again after `rise` passes.
  const e2e::CommandResult start = engine_->podman({"start", "fod-c2", "fod-c3"});
  ASSERT_EQ(start.exit_code, 0) << start.output;
  tracker.record(check.run(), std::chrono::system_clock::now());
  EXPECT_TRUE(tracker.healthy()) << tracker.last()->detail;
}

TEST_F(PodmanEngine, StoppedServiceFailsClearly) {
  DockerCheck check(spec(socket_, 0), 1s);
  ASSERT_TRUE(check.run().ok);
  stop_service();
  const auto r = check.run();
  EXPECT_FALSE(r.ok);
  // podman removes its socket on a clean exit; a killed one leaves a refusing socket.
  EXPECT_TRUE(r.detail == "docker socket " + socket_ + ": No such file or directory" ||
              r.detail == "docker socket " + socket_ + ": Connection refused")
      << r.detail;
}

}  // namespace
}  // namespace failoverd::health
