#include "harness/podman.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace failoverd::e2e {

namespace fs = std::filesystem;

namespace {

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

// One `GET /_ping` over the unix socket, bounded by `timeout`: true when the engine answers
// 200 "OK". Plain sockets, so the harness needs neither libcurl nor the health module.
bool ping(const std::string& socket_path, Ms timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) return false;
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  std::string reply;
  bool ok = false;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request = "GET /_ping HTTP/1.0\r\nHost: podman\r\n\r\n";
    if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      const auto deadline = Clock::now() + timeout;
      char buf[512];
      for (;;) {
        const auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
        if (left <= 0 || reply.size() > 4096) break;
        pollfd p{fd, POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;  // HTTP/1.0: the engine closes after the body
        reply.append(buf, static_cast<std::size_t>(n));
      }
      const auto body = reply.find("\r\n\r\n");
      ok = reply.rfind("HTTP/1.", 0) == 0 && reply.find(" 200 ") != std::string::npos &&
           body != std::string::npos && reply.substr(body + 4) == "OK";
    }
  }
  ::close(fd);
  return ok;
}

// A /proc file of a process that may exit while it is read: read(2) then fails with ESRCH,
// which std::ifstream turns into an exception from inside istreambuf_iterator. Gives what was
// read, empty when the process is gone.
std::string read_proc_file(const fs::path& p) {
  std::string out;
  const int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

// conmon and the `podman container cleanup` it runs when a container exits outlive the
// commands that started them; they carry our directory in their argv. They get a few
// seconds to finish, then SIGKILL, each by its pid.
void end_stragglers(const std::string& dir) {
  for (int round = 0; round < 50; ++round) {
    std::vector<pid_t> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/proc", ec)) {
      const std::string name = e.path().filename();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      const std::string cmdline = read_proc_file(e.path() / "cmdline");
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
void unmount_under(const std::string& dir) {
  std::ifstream mounts("/proc/self/mounts");
  std::vector<std::string> points;
  for (std::string dev, point, rest; mounts >> dev >> point && std::getline(mounts, rest);) {
    if (point.rfind(dir + "/", 0) == 0) points.push_back(point);
  }
  std::sort(points.begin(), points.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& p : points) ::umount2(p.c_str(), MNT_DETACH);
}

}  // namespace

std::optional<std::string> PodmanEngine::unavailable_reason() {
  if (::geteuid() != 0) return "needs root (podman runs the containers as root)";
  if (::access("/usr/bin/podman", X_OK) != 0 || ::access("/usr/sbin/runc", X_OK) != 0) {
    return "podman or runc not installed (apt-get install podman runc busybox-static)";
  }
  if (::access("/bin/busybox", X_OK) != 0) {
    return "busybox not installed (apt-get install busybox-static)";
  }
  return std::nullopt;
}

PodmanEngine::PodmanEngine() {
  // Podman may create these outside its configured directories; remove only what it made.
  for (const char* d : {"/run/containers/networks", "/run/containers",
                        "/var/lib/containers/cache", "/var/lib/containers"}) {
    preexisting_.emplace_back(d, fs::exists(d));
  }
  std::string tmpl = "/tmp/fod-podman-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
  }
  dir_ = tmpl;
  socket_ = (dir_ / "podman.sock").string();
  try {
    write_config();
    build_image();
    start_service();
  } catch (...) {
    cleanup();
    throw;
  }
}

PodmanEngine::~PodmanEngine() { cleanup(); }

void PodmanEngine::cleanup() {
  if (dir_.empty()) return;
  podman({"rm", "-f", "-a", "-t", "0"});  // the CLI needs the storage, not the service
  stop_service();
  end_stragglers(dir_.string());
  unmount_under(dir_.string());
  ::unsetenv("CONTAINERS_CONF");
  ::unsetenv("CONTAINERS_STORAGE_CONF");
  std::error_code ec;
  fs::remove_all(dir_, ec);
  dir_.clear();
  for (const auto& [path, existed] : preexisting_) {
    if (existed) continue;
    if (fs::path(path).filename() == "containers") {
      fs::remove(path, ec);  // only if podman left it empty
    } else {
      fs::remove_all(path, ec);
    }
  }
}

void PodmanEngine::write_config() {
  const std::string d = dir_.string();
  std::ofstream(dir_ / "containers.conf")
      // Why each setting: crun 1.8.1 refuses a hybrid cgroup layout (so runc); podman asks for
      // 1048576 open files, and raising a hard limit may not be permitted; PID 1 may not be
      // systemd (so cgroupfs and a file events log); the containers need no network.
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
  std::ofstream(dir_ / "storage.conf") << "[storage]\n"
                                          "driver = \"overlay\"\n"
                                          "graphroot = \"" << d << "/graph\"\n"
                                       << "runroot = \"" << d << "/run\"\n";
  ::setenv("CONTAINERS_CONF", (dir_ / "containers.conf").c_str(), 1);
  ::setenv("CONTAINERS_STORAGE_CONF", (dir_ / "storage.conf").c_str(), 1);
}

CommandResult PodmanEngine::podman(const std::vector<std::string>& args, Ms timeout) const {
  std::vector<std::string> argv{"podman"};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, timeout);
}

// /bin/busybox with a link per applet and a minimal /etc, imported as an image (~2 MB).
void PodmanEngine::build_image() {
  const fs::path root = dir_ / "rootfs";
  fs::create_directories(root / "bin");
  fs::create_directories(root / "etc");
  fs::copy_file("/bin/busybox", root / "bin/busybox");
  std::istringstream applets(run_checked({"/bin/busybox", "--list"}));
  for (std::string a; std::getline(applets, a);) {
    if (!a.empty() && a != "busybox") fs::create_symlink("busybox", root / "bin" / a);
  }
  std::ofstream(root / "etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
  std::ofstream(root / "etc/group") << "root:x:0:\n";
  const std::string tar = (dir_ / "rootfs.tar").string();
  run_checked({"tar", "-C", root.string(), "-cf", tar, "."}, 60s);
  run_checked({"podman", "import", "--change", "CMD [\"/bin/sh\"]", "--change", "ENV PATH=/bin",
               tar, image()},
              120s);
}

void PodmanEngine::start_service() {
  // Process: killed with the test binary (PDEATHSIG) if the test crashes.
  service_ = std::make_unique<Process>(
      std::vector<std::string>{"podman", "system", "service", "--time=0", "unix://" + socket_},
      Process::Options{"", dir_ / "service.log"});
  const bool up = wait_until([&] { return ping(socket_, 1s) || !service_->running(); }, 10s, 50ms)
                      .has_value() &&
                  service_->running();
  if (!up) {
    throw std::runtime_error("podman system service did not come up on " + socket_ + ": " +
                             tail_lines(read_file(dir_ / "service.log"), 10));
  }
}

void PodmanEngine::stop_service() {
  if (!service_) return;
  service_->signal(SIGTERM);
  if (!service_->wait(5s)) service_->kill_and_reap();
  service_.reset();
}

bool PodmanEngine::service_running() { return service_ && service_->running(); }

std::string PodmanEngine::run_container(const std::string& name,
                                        const std::vector<std::string>& labels) {
  std::vector<std::string> argv = {"podman", "run", "-d", "--init", "--name", name};
  for (const auto& l : labels) {
    argv.push_back("--label");
    argv.push_back(l);
  }
  argv.insert(argv.end(), {image(), "sleep", "1000"});
  const CommandResult r = run_command(argv, 60s);
  if (r.exit_code != 0) {
    throw std::runtime_error("`" + join(argv) + "` failed (exit " + std::to_string(r.exit_code) +
                             "): " + r.output);
  }
  // The id is the last line; podman may print warnings before it.
  return trim(tail_lines(r.output, 1));
}

void PodmanEngine::stop_container(const std::vector<std::string>& names, int timeout_s) {
  std::vector<std::string> argv = {"podman", "stop", "-t", std::to_string(timeout_s)};
  argv.insert(argv.end(), names.begin(), names.end());
  run_checked(argv, Ms(60s));
}

void PodmanEngine::start_container(const std::vector<std::string>& names) {
  std::vector<std::string> argv = {"podman", "start"};
  argv.insert(argv.end(), names.begin(), names.end());
  run_checked(argv, Ms(60s));
}

pid_t PodmanEngine::container_pid(const std::string& name) {
  const std::string out =
      trim(run_checked({"podman", "inspect", "-f", "{{.State.Pid}}", name}, 60s));
  char* end = nullptr;
  const long pid = std::strtol(out.c_str(), &end, 10);
  if (end == out.c_str() || *end != '\0' || pid <= 1) {
    throw std::runtime_error("container " + name + " has no running process: " + out);
  }
  return static_cast<pid_t>(pid);
}

void PodmanEngine::kill_container(const std::string& name) {
  const pid_t pid = container_pid(name);
  if (::kill(pid, SIGKILL) != 0) {
    throw std::runtime_error("kill " + std::to_string(pid) + ": " + std::strerror(errno));
  }
}

void PodmanEngine::remove_all_containers() {
  run_checked({"podman", "rm", "-f", "-a", "-t", "0"}, 60s);
}

}  // namespace failoverd::e2e
