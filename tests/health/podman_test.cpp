// The docker check against a real Docker-compatible engine: podman's API service on a private
// socket, with private storage and configuration under a temporary directory, running
// containers from a tiny busybox image built locally (no registry is reachable). See
// /work/shared/testdata/podman-lab.md for why each setting is there.
//
// Needs root, podman, runc and busybox-static; skipped with a message otherwise.
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "failoverd/health/docker_check.h"
#include "failoverd/health/tracker.h"
#include "health/test_support.h"

extern char** environ;

namespace failoverd::health {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const char* const kImage = "localhost/fod-health-busybox";
const char* const kProject = "com.docker.compose.project=fodtest";

struct Ran {
  int status = -1;  // exit status, or -1
  std::string output;
};

// Runs argv (bounded by coreutils' timeout), stdout and stderr captured.
Ran run_cmd(const std::vector<std::string>& argv, int timeout_s = 60) {
  std::vector<std::string> full = {"timeout", "-s", "KILL", std::to_string(timeout_s)};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (auto& a : full) args.push_back(a.data());
  args.push_back(nullptr);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  posix_spawn_file_actions_adddup2(&fa, p[1], 2);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, "timeout", &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  ::close(p[1]);
  Ran out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.output.append(buf, static_cast<size_t>(n));
  ::close(p[0]);
  if (rc != 0) return out;
  int status = 0;
  ::waitpid(pid, &status, 0);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

config::DockerCheckSpec spec(const std::string& socket, int min_running,
                             std::vector<std::string> labels = {}) {
  config::DockerCheckSpec s;
  s.socket = socket;
  s.min_running = min_running;
  s.labels = std::move(labels);
  return s;
}

class PodmanEngine : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (podman runs the containers as root)";
    if (::access("/usr/bin/podman", X_OK) != 0 || ::access("/usr/sbin/runc", X_OK) != 0) {
      GTEST_SKIP() << "podman or runc not installed (apt-get install podman runc busybox-static)";
    }
    if (::access("/bin/busybox", X_OK) != 0) {
      GTEST_SKIP() << "busybox not installed (apt-get install busybox-static)";
    }
    // Podman may create these outside its configured directories; remove only what it made.
    for (const char* d : {"/run/containers/networks", "/run/containers",
                          "/var/lib/containers/cache", "/var/lib/containers"}) {
      preexisting_.emplace_back(d, fs::exists(d));
    }
    dir_ = std::make_unique<testing::TempDir>();
    socket_ = *dir_ / "podman.sock";
    write_config();

    build_image();
    start_service();
  }

  void TearDown() override {
    if (!dir_) return;
    if (service_pid_ > 0) run_cmd({"podman", "rm", "-f", "-a", "-t", "0"});
    stop_service();
    end_stragglers(dir_->path());
    unmount_under(dir_->path());
    ::unsetenv("CONTAINERS_CONF");
    ::unsetenv("CONTAINERS_STORAGE_CONF");
    const std::string dir_path = dir_->path();
    dir_.reset();
    EXPECT_FALSE(fs::exists(dir_path)) << "could not remove " << dir_path;
    for (const auto& [path, existed] : preexisting_) {
      if (existed) continue;
      std::error_code ec;
      if (fs::path(path).filename() == "containers") {
        fs::remove(path, ec);  // only if podman left it empty
      } else {
        fs::remove_all(path, ec);
      }
    }
  }

  void write_config() {
    const std::string d = dir_->path();
    std::ofstream(*dir_ / "containers.conf")
        << "[containers]\n"
           "default_ulimits = [\"nofile=4096:4096\", \"nproc=4096:4096\"]\n"
           "netns = \"none\"\n"
           "[engine]\n"
           "runtime = \"runc\"\n"
           "cgroup_manager = \"cgroupfs\"\n"
           "events_logger = \"file\"\n"
           "lock_type = \"file\"\n"  // not the host-wide /dev/shm/libpod_lock
           "events_logfile_path = \"" << d << "/events.log\"\n"
        << "tmp_dir = \"" << d << "/tmp\"\n"
        << "static_dir = \"" << d << "/static\"\n"
        << "volume_path = \"" << d << "/volumes\"\n"
        << "[network]\n"
           "network_config_dir = \"" << d << "/networks\"\n";
    std::ofstream(*dir_ / "storage.conf") << "[storage]\n"
                                             "driver = \"overlay\"\n"
                                             "graphroot = \"" << d << "/graph\"\n"
                                          << "runroot = \"" << d << "/run\"\n";
    ::setenv("CONTAINERS_CONF", (*dir_ / "containers.conf").c_str(), 1);
    ::setenv("CONTAINERS_STORAGE_CONF", (*dir_ / "storage.conf").c_str(), 1);
  }

  // /bin/busybox with a link per applet and a minimal /etc, imported as an image (~2 MB).
  void build_image() {
    const fs::path root = *dir_ / "rootfs";
    fs::create_directories(root / "bin");
    fs::create_directories(root / "etc");
    fs::copy_file("/bin/busybox", root / "bin/busybox");
    const Ran list = run_cmd({"/bin/busybox", "--list"});
    ASSERT_EQ(list.status, 0) << list.output;
    std::istringstream applets(list.output);
    for (std::string a; std::getline(applets, a);) {
      if (!a.empty() && a != "busybox") fs::create_symlink("busybox", root / "bin" / a);
    }
    std::ofstream(root / "etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
    std::ofstream(root / "etc/group") << "root:x:0:\n";
    const Ran tar = run_cmd({"tar", "-C", root.string(), "-cf", *dir_ / "rootfs.tar", "."});
    ASSERT_EQ(tar.status, 0) << tar.output;
    const Ran import = run_cmd({"podman", "import", "--change", "CMD [\"/bin/sh\"]", "--change",
                                "ENV PATH=/bin", *dir_ / "rootfs.tar", kImage});
    ASSERT_EQ(import.status, 0) << import.output;
  }

  void start_service() {
    std::vector<std::string> argv = {"podman", "system", "service", "--time=0",
                                     "unix://" + socket_};
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = *dir_ / "service.log";
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    const int rc = ::posix_spawnp(&service_pid_, "podman", &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ASSERT_EQ(rc, 0) << "cannot start podman system service";
    // Ready when the docker check gets an answer (min_running 0: any listing passes).
    DockerCheck probe(spec(socket_, 0), 1s);
    CheckResult r;
    for (int i = 0; i < 100; ++i) {
      r = probe.run();
      if (r.ok) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "podman system service did not come up: " << r.detail;
  }

  void stop_service() {
    if (service_pid_ <= 0) return;
    ::kill(service_pid_, SIGTERM);
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(service_pid_, nullptr, WNOHANG) == service_pid_) {
        service_pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(100ms);
    }
    ::kill(service_pid_, SIGKILL);
    ::waitpid(service_pid_, nullptr, 0);
    service_pid_ = -1;
  }

  // conmon and the `podman container cleanup` it runs when a container exits outlive the
  // commands that started them; they carry our directory in their argv. They get a few
  // seconds to finish, then SIGKILL, each by its pid.
  static void end_stragglers(const std::string& dir) {
    for (int round = 0; round < 50; ++round) {
      std::vector<pid_t> found;
      for (const auto& e : fs::directory_iterator("/proc")) {
        const std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream in(e.path() / "cmdline", std::ios::binary);
        const std::string cmdline((std::istreambuf_iterator<char>(in)), {});
        if (cmdline.find(dir) != std::string::npos) found.push_back(std::stoi(name));
      }
      if (found.empty()) return;
      if (round == 49) {
        for (const pid_t pid : found) ::kill(pid, SIGKILL);
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  // Overlay and shm mounts podman may leave behind, deepest first, before the directory goes.
  static void unmount_under(const std::string& dir) {
    std::ifstream mounts("/proc/self/mounts");
    std::vector<std::string> points;
    for (std::string dev, point, rest; mounts >> dev >> point && std::getline(mounts, rest);) {
      if (point.rfind(dir + "/", 0) == 0) points.push_back(point);
    }
    std::sort(points.begin(), points.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
  }

  void run_container(const std::string& name, std::vector<std::string> labels) {
    std::vector<std::string> argv = {"podman", "run", "-d", "--init", "--name", name};
    for (auto& l : labels) {
      argv.push_back("--label");
      argv.push_back(std::move(l));
    }
    argv.insert(argv.end(), {kImage, "sleep", "1000"});
    const Ran r = run_cmd(argv);
    ASSERT_EQ(r.status, 0) << r.output;
  }

  std::vector<std::pair<std::string, bool>> preexisting_;
  std::unique_ptr<testing::TempDir> dir_;
  std::string socket_;
  pid_t service_pid_ = -1;
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
  const Ran inspect = run_cmd({"podman", "inspect", "-f", "{{.State.Pid}}", "fod-c3"});
  ASSERT_EQ(inspect.status, 0) << inspect.output;
  const pid_t pid = std::stoi(trim(inspect.output));
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
  const Ran stop = run_cmd({"podman", "stop", "-t", "2", "fod-c2"});
  ASSERT_EQ(stop.status, 0) << stop.output;
  r = check.run();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "1 of 3 required containers running (label " + std::string(kProject) + ")");

  // Back up: healthy again after `rise` passes.
  const Ran start = run_cmd({"podman", "start", "fod-c2", "fod-c3"});
  ASSERT_EQ(start.status, 0) << start.output;
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
