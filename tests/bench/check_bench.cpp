// Health-check benchmark: what checks cost and whether they disturb adverts.
//
//  1. One docker check (health::make_check + run()) against a canned Docker Engine API served
//     from a unix socket by a thread of this process, at 10, 100 and 1000 containers: CPU time
//     of the calling thread (CLOCK_THREAD_CPUTIME_ID, so the server's work is not counted) and
//     wall time per check. The check object is reused, as the daemon reuses it: after the first
//     run the connection and the negotiated API version (/_ping) are cached; the first run is
//     reported on its own.
//  2. The built failoverd, MASTER in a network namespace of its own with three checks at a 1 s
//     interval (docker against the canned API with 100 containers, exec, tcp to a socket
//     listening in the namespace): CPU from /proc/PID/stat (utime+stime; exec'd children
//     separately as cutime+cstime) over the run, and VmRSS.
//  3. During 2, an AF_PACKET tap (ETH_P_ALL: only such taps see outgoing frames) timestamps
//     every advert the daemon sends (SO_TIMESTAMPNS); |interval - advert_interval| is the
//     jitter. Once more with an exec check that sleeps 0.9 s of its 1 s interval.
//
// Usage (root): check_bench [--runs N] [--seconds S] [--out FILE] [--no-daemon] [FAILOVERD]
// FAILOVERD defaults to $FAILOVERD_BINARY_DIR/failoverd, else /work/main/build/failoverd.
#include <netinet/in.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "failoverd/config/config.h"
#include "failoverd/health/check.h"

namespace fb = failoverd::bench;
namespace fs = std::filesystem;
namespace health = failoverd::health;
namespace config = failoverd::config;
using namespace std::chrono_literals;

extern char** environ;

namespace {

std::atomic<bool> g_interrupted{false};

void on_signal(int) {
  g_interrupted = true;
}

// Sleeps up to `d`, returning early (false) when interrupted.
bool sleep_for(std::chrono::milliseconds d) {
  const auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
    if (g_interrupted) return false;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        50ms, std::chrono::duration_cast<std::chrono::milliseconds>(
                  end - std::chrono::steady_clock::now()) +
                  1ms));
  }
  return !g_interrupted;
}

// ---- the canned Engine API ----

std::string hex64(std::mt19937_64& rng) {
  std::ostringstream s;
  s << std::hex << std::setfill('0');
  for (int i = 0; i < 4; ++i) s << std::setw(16) << rng();
  return s.str();
}

// N running containers, each shaped like an entry of podman's answer
// (tests/data/podman-containers-running.json), all labelled project "bench".
std::string containers_body(int n) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(n));
  const std::string image_id = hex64(rng);
  std::string out = "[";
  for (int i = 0; i < n; ++i) {
    if (i != 0) out += ',';
    const std::string k = std::to_string(i + 1);
    out += R"({"Id":")" + hex64(rng) + R"(","Names":["/bench-)" + k +
           R"("],"Image":"localhost/lab-busybox:latest","ImageID":"sha256:)" + image_id +
           R"(","Command":"sleep 1000","Created":)" + std::to_string(1795373412 + i) +
           R"(,"Ports":[],"Labels":{"com.docker.compose.project":"bench",)"
           R"("com.docker.compose.service":"svc)" +
           k +
           R"("},"State":"running","Status":"Up 2 hours","NetworkSettings":{"Networks":null},)"
           R"("Mounts":[],"Name":"","Config":null,"NetworkingConfig":null,"Platform":null,)"
           R"("AdjustCPUShares":false})";
  }
  return out + "]";
}

// One poll() thread: serves GET /_ping and GET /vX.Y/containers/json (HTTP/1.1, keep-alive)
// on a unix socket, and accepts-and-closes on an optional TCP listener (the tcp check's target).
class FakeServer {
 public:
  explicit FakeServer(const fs::path& socket_path) : path_(socket_path) {
    unix_fd_ = fb::bind_unix(SOCK_STREAM, path_.string());
    if (::listen(unix_fd_, 16) != 0) {
      throw std::runtime_error(fb::errno_text("listen " + path_.string()));
    }
    if (::pipe2(wake_, O_CLOEXEC) != 0) throw std::runtime_error(fb::errno_text("pipe2"));
    set_containers(0);
  }
  ~FakeServer() {
    stop();
    for (const auto& c : clients_) ::close(c.fd);
    if (tcp_fd_ >= 0) ::close(tcp_fd_);
    ::close(unix_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
    ::unlink(path_.c_str());
  }

  // A listening TCP socket (made by the caller, e.g. inside a namespace) to accept and close.
  void add_tcp_listener(int fd) { tcp_fd_ = fd; }

  void start() {
    thread_ = std::thread([this] { loop(); });
  }
  void stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    [[maybe_unused]] auto n = ::write(wake_[1], "x", 1);
    thread_.join();
  }

  void set_containers(int n) {
    auto body = std::make_shared<const std::string>(containers_body(n));
    std::lock_guard lock(mu_);
    body_ = std::move(body);
  }
  std::size_t body_size() const {
    std::lock_guard lock(mu_);
    return body_->size();
  }
  std::uint64_t listings() const { return listings_; }
  std::uint64_t pings() const { return pings_; }
  std::uint64_t tcp_accepts() const { return tcp_accepts_; }
  // CLOCK_REALTIME seconds of every listing and tcp accept: when the daemon's checks ran.
  std::vector<double> activity() const {
    std::lock_guard lock(mu_);
    return activity_;
  }

 private:
  struct Client {
    int fd;
    std::string in;
  };

  void loop() {
    std::vector<pollfd> fds;
    while (!stop_) {
      fds.clear();
      fds.push_back({wake_[0], POLLIN, 0});
      fds.push_back({unix_fd_, POLLIN, 0});
      fds.push_back({tcp_fd_, POLLIN, 0});  // a negative fd is ignored by poll()
      for (const auto& c : clients_) fds.push_back({c.fd, POLLIN, 0});
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents & POLLIN) {
        const int fd = ::accept4(unix_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) clients_.push_back({fd, {}});
      }
      if (tcp_fd_ >= 0 && (fds[2].revents & POLLIN)) {
        const int fd = ::accept4(tcp_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd >= 0) {
          ++tcp_accepts_;
          note_activity();
          ::close(fd);
        }
      }
      // Clients polled this round are fds[3..]; new ones (appended above) wait for the next.
      std::vector<std::size_t> dead;
      for (std::size_t i = 3; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        if (!serve(clients_[i - 3])) dead.push_back(i - 3);
      }
      for (auto it = dead.rbegin(); it != dead.rend(); ++it) {
        ::close(clients_[*it].fd);
        clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(*it));
      }
    }
  }

  // Reads what is there and answers every complete request; false when the client is gone.
  bool serve(Client& c) {
    char buf[4096];
    const ssize_t n = ::read(c.fd, buf, sizeof buf);
    if (n <= 0) return false;
    c.in.append(buf, static_cast<std::size_t>(n));
    for (auto end = c.in.find("\r\n\r\n"); end != std::string::npos; end = c.in.find("\r\n\r\n")) {
      const std::string line = c.in.substr(0, c.in.find("\r\n"));
      c.in.erase(0, end + 4);
      if (!answer(c.fd, line)) return false;
    }
    return c.in.size() < 65536;
  }

  bool answer(int fd, const std::string& request_line) {
    // "GET /v1.41/containers/json?filters=... HTTP/1.1"
    const auto sp1 = request_line.find(' ');
    const auto sp2 = request_line.rfind(' ');
    const std::string target =
        sp1 == std::string::npos || sp2 <= sp1 ? "" : request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string head;
    std::shared_ptr<const std::string> body;
    if (target == "/_ping") {
      ++pings_;
      head = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: text/plain\r\n";
      body = std::make_shared<const std::string>("OK");
    } else if (target.rfind("/v1.41/containers/json", 0) == 0) {
      ++listings_;
      note_activity();
      head = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n";
      std::lock_guard lock(mu_);
      body = body_;
    } else {
      head = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n";
      body = std::make_shared<const std::string>(R"({"message":"page not found"})");
    }
    head += "Content-Length: " + std::to_string(body->size()) + "\r\n\r\n";
    return write_all(fd, head) && write_all(fd, *body);
  }

  void note_activity() {
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    std::lock_guard lock(mu_);
    activity_.push_back(static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9);
  }

  static bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  fs::path path_;
  int unix_fd_ = -1;
  int tcp_fd_ = -1;
  int wake_[2]{-1, -1};
  std::vector<Client> clients_;
  mutable std::mutex mu_;
  std::shared_ptr<const std::string> body_;
  std::vector<double> activity_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> listings_{0}, pings_{0}, tcp_accepts_{0};
  std::thread thread_;
};

// ---- statistics ----

struct Summary {
  double min = 0, median = 0, p99 = 0, max = 0, mean = 0;
};

// Nearest-rank percentiles.
Summary summarize(std::vector<double> v) {
  Summary s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto rank = [&](double p) {
    const auto k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
    return v[std::min(v.size() - 1, k == 0 ? 0 : k - 1)];
  };
  s.min = v.front();
  s.median = rank(0.5);
  s.p99 = rank(0.99);
  s.max = v.back();
  double sum = 0;
  for (const double x : v) sum += x;
  s.mean = sum / static_cast<double>(v.size());
  return s;
}

double thread_cpu_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double wall_us() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

// ---- part 1: one docker check ----

struct DockerRow {
  int containers = 0;
  std::size_t body_bytes = 0;
  double first_cpu_us = 0, first_wall_us = 0;
  Summary cpu, wall;
};

DockerRow bench_docker_check(FakeServer& server, const fs::path& socket, int containers, int runs) {
  server.set_containers(containers);
  config::CheckConfig cfg;
  cfg.name = "containers";
  cfg.interval = 2s;
  cfg.timeout = 1s;
  config::DockerCheckSpec spec;
  spec.socket = socket.string();
  spec.min_running = containers;
  spec.labels = {"com.docker.compose.project=bench"};
  cfg.spec = spec;
  const auto check = health::make_check(cfg);
  const std::string expect = std::to_string(containers) + " containers running";

  auto one = [&](double& cpu, double& wall) {
    const double c0 = thread_cpu_us(), w0 = wall_us();
    const auto r = check->run();
    cpu = thread_cpu_us() - c0;
    wall = wall_us() - w0;
    if (!r.ok || r.detail.rfind(expect, 0) != 0) {
      throw std::runtime_error("docker check with " + std::to_string(containers) +
                               " containers: unexpected result: " + r.detail);
    }
  };

  DockerRow row;
  row.containers = containers;
  row.body_bytes = server.body_size();
  one(row.first_cpu_us, row.first_wall_us);  // connect + GET /_ping + listing
  double cpu = 0, wall = 0;
  for (int i = 0; i < 10; ++i) one(cpu, wall);  // warm caches and allocator
  std::vector<double> cpus, walls;
  for (int i = 0; i < runs; ++i) {
    one(cpu, wall);
    cpus.push_back(cpu);
    walls.push_back(wall);
  }
  row.cpu = summarize(cpus);
  row.wall = summarize(walls);
  return row;
}

// ---- part 2 and 3: the daemon in a namespace ----

// Runs a command to completion; throws when it fails.
void run(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  if (::posix_spawnp(&pid, args[0], nullptr, nullptr, args.data(), environ) != 0) {
    throw std::runtime_error("cannot run " + argv[0]);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto& a : argv) cmd += (cmd.empty() ? "" : " ") + a;
    throw std::runtime_error("failed: " + cmd);
  }
}

constexpr const char* kIfname = "cb0";
constexpr const char* kPeerIfname = "cb1";
constexpr const char* kAddress = "10.213.0.1";
constexpr const char* kPeer = "10.213.0.9";  // unused; a permanent neighbour entry stands in

// A network namespace with a veth pair: cb0 = 10.213.0.1/24 (the daemon's), cb1 = .2; lo up.
// Removed on destruction.
class Netns {
 public:
  Netns() : name_("checkbench-" + std::to_string(::getpid())) {
    run({"ip", "netns", "add", name_});
    try {
      run({"ip", "-n", name_, "link", "set", "lo", "up"});
      run({"ip", "-n", name_, "link", "add", kIfname, "type", "veth", "peer", "name", kPeerIfname});
      run({"ip", "-n", name_, "addr", "add", std::string(kAddress) + "/24", "dev", kIfname});
      run({"ip", "-n", name_, "addr", "add", "10.213.0.2/24", "dev", kPeerIfname});
      run({"ip", "-n", name_, "link", "set", kIfname, "up"});
      run({"ip", "-n", name_, "link", "set", kPeerIfname, "up"});
      // Unicast adverts to an address nobody answers ARP for would never leave the host.
      run({"ip", "-n", name_, "neigh", "replace", kPeer, "lladdr", "02:00:5e:cb:00:09", "dev",
           kIfname, "nud", "permanent"});
    } catch (...) {
      remove();
      throw;
    }
  }
  ~Netns() { remove(); }
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }

  // Runs `f` on a thread that has entered the namespace (setns is per thread).
  void inside(const std::function<void()>& f) const { fb::in_netns(name_, f); }

 private:
  void remove() {
    if (removed_) return;
    removed_ = true;
    try {
      run({"ip", "netns", "del", name_});
    } catch (const std::exception& e) {
      std::cerr << "check_bench: " << e.what() << "\n";
    }
  }
  std::string name_;
  bool removed_ = false;
};

struct Advert {
  double at_s;  // kernel timestamp, CLOCK_REALTIME seconds
  int priority;
};

// Records the adverts the daemon sends (outgoing VRRP from kAddress) on kIfname.
class AdvertTap {
 public:
  explicit AdvertTap(const Netns& ns) : sniffer_(ns.name(), kIfname) {}

  std::vector<Advert> adverts() const {
    std::vector<Advert> out;
    for (const auto& p : sniffer_.packets()) {
      if (p.kind != fb::Packet::Kind::kAdvert || !p.outgoing || p.source != kAddress) continue;
      // tv_sec + tv_nsec / 1e9, as the kernel gave it (a double straight from the nanosecond
      // count would round differently).
      const auto since_epoch = p.at.time_since_epoch();
      const auto sec = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
      const auto nsec = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - sec);
      out.push_back({static_cast<double>(sec.count()) + static_cast<double>(nsec.count()) / 1e9,
                     p.priority});
    }
    return out;
  }

 private:
  fb::Sniffer sniffer_;
};

struct ProcCpu {
  long long self_ticks = 0;      // utime + stime
  long long children_ticks = 0;  // cutime + cstime (reaped exec checks)
};

ProcCpu read_proc_cpu(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  if (paren == std::string::npos) throw std::runtime_error("cannot read /proc/PID/stat");
  std::istringstream rest(text.substr(paren + 2));
  // Fields after "(comm)": 3 state ... 14 utime 15 stime 16 cutime 17 cstime.
  std::vector<std::string> fields;
  std::string tok;
  while (rest >> tok && fields.size() < 15) fields.push_back(tok);
  if (fields.size() < 15) throw std::runtime_error("short /proc/PID/stat");
  ProcCpu c;
  c.self_ticks = std::stoll(fields[11]) + std::stoll(fields[12]);
  c.children_ticks = std::stoll(fields[13]) + std::stoll(fields[14]);
  return c;
}

// The failoverd process, started inside the namespace; SIGTERM (then SIGKILL) on destruction.
class Daemon {
 public:
  Daemon(const std::string& binary, const fs::path& conf, const fs::path& log, const Netns& ns) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    pid_ = fb::spawn_in(ns.name(), {binary, "--config", conf.string()}, env, log.string());
  }
  ~Daemon() {
    ::kill(pid_, SIGTERM);
    fb::reap(pid_, 5s);
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  pid_t pid() const { return pid_; }
  bool alive() const { return ::waitpid(pid_, nullptr, WNOHANG) == 0; }

 private:
  pid_t pid_ = -1;
};

struct DaemonRow {
  std::string label;
  std::string checks;
  double seconds = 0;
  double cpu_ms_per_s = 0;        // utime+stime
  double schedstat_ms_per_s = 0;  // all threads, ns precision
  double children_ms_per_s = 0;   // exec'd commands
  std::string rss;
  std::uint64_t listings = 0, tcp_accepts = 0;
  std::size_t adverts = 0;
  int min_priority = 0, max_priority = 0;
  Summary jitter_us;  // |interval - 1 s|
  double mean_interval_ms = 0;
  // For each advert more than 1 ms late: ms since the last docker or tcp check request before it.
  std::vector<double> late_after_check_ms;
  std::string loadavg;  // 1-minute load average at the end: how busy the machine was
};

std::string render_daemon_config(const fs::path& dir, const std::string& checks) {
  std::ostringstream s;
  s << "[instance]\nname = checkbench\ninterface = " << kIfname << "\n\n"
    << "[vrrp]\nvirtual_router_id = 77\npriority = 150\nadvert_interval = 1s\n"
    << "peer = " << kPeer << "\n\n"
    << "[control]\nsocket = " << (dir / "failoverd.sock").string() << "\n\n"
    << checks;
  return s.str();
}

DaemonRow bench_daemon(const std::string& binary, const Netns& ns, FakeServer& server,
                       const fs::path& dir, const std::string& label,
                       const std::string& checks_desc, const std::string& checks, int seconds) {
  const fs::path conf = dir / "failoverd.conf";
  const fs::path log = dir / ("failoverd-" + std::to_string(::time(nullptr)) + ".log");
  {
    std::ofstream f(conf);
    f << render_daemon_config(dir, checks);
  }
  ::chmod(conf.c_str(), 0600);

  AdvertTap tap(ns);
  Daemon daemon(binary, conf, log, ns);

  // MASTER = the first advert at our priority (needs the checks to rise first).
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    const auto ads = tap.adverts();
    if (std::any_of(ads.begin(), ads.end(), [](const Advert& a) { return a.priority == 150; })) {
      break;
    }
    if (!daemon.alive()) throw std::runtime_error("failoverd exited; see " + log.string());
    if (std::chrono::steady_clock::now() > give_up || g_interrupted) {
      throw std::runtime_error("failoverd did not become MASTER within 30 s; see " + log.string());
    }
    std::this_thread::sleep_for(50ms);
  }
  if (!sleep_for(1500ms)) throw std::runtime_error("interrupted");  // settle after the switch

  const std::size_t first_advert = tap.adverts().size();
  const auto listings0 = server.listings();
  const auto accepts0 = server.tcp_accepts();
  const ProcCpu cpu0 = read_proc_cpu(daemon.pid());
  const double sched0 = fb::schedstat_ns(daemon.pid()).cpu;
  const double w0 = wall_us();
  if (!sleep_for(std::chrono::seconds(seconds))) throw std::runtime_error("interrupted");
  const ProcCpu cpu1 = read_proc_cpu(daemon.pid());
  const double sched1 = fb::schedstat_ns(daemon.pid()).cpu;
  const double elapsed_s = (wall_us() - w0) / 1e6;
  if (!daemon.alive()) throw std::runtime_error("failoverd exited; see " + log.string());

  DaemonRow row;
  row.label = label;
  row.checks = checks_desc;
  row.seconds = elapsed_s;
  const double tick_ms = 1000.0 / static_cast<double>(::sysconf(_SC_CLK_TCK));
  row.cpu_ms_per_s = static_cast<double>(cpu1.self_ticks - cpu0.self_ticks) * tick_ms / elapsed_s;
  row.children_ms_per_s =
      static_cast<double>(cpu1.children_ticks - cpu0.children_ticks) * tick_ms / elapsed_s;
  row.schedstat_ms_per_s = (sched1 - sched0) / 1e6 / elapsed_s;
  row.rss = fb::proc_status_field(daemon.pid(), "VmRSS");
  {
    std::ifstream f("/proc/loadavg");
    f >> row.loadavg;
  }
  row.listings = server.listings() - listings0;
  row.tcp_accepts = server.tcp_accepts() - accepts0;

  // Adverts sent during the window (one before it, to measure the first interval).
  const auto all = tap.adverts();
  std::vector<Advert> ads(all.begin() + static_cast<std::ptrdiff_t>(first_advert - 1), all.end());
  row.adverts = ads.size() - 1;
  row.min_priority = 255;
  std::vector<double> jitter;
  double sum_interval = 0;
  for (std::size_t i = 0; i < ads.size(); ++i) {
    row.min_priority = std::min(row.min_priority, ads[i].priority);
    row.max_priority = std::max(row.max_priority, ads[i].priority);
    if (i == 0) continue;
    const double interval = ads[i].at_s - ads[i - 1].at_s;
    sum_interval += interval;
    jitter.push_back(std::abs(interval - 1.0) * 1e6);
  }
  row.jitter_us = summarize(jitter);
  const auto activity = server.activity();
  for (std::size_t i = 1; i < ads.size(); ++i) {
    if (std::abs(ads[i].at_s - ads[i - 1].at_s - 1.0) <= 1e-3) continue;
    double since = -1;
    for (const double t : activity) {
      if (t < ads.front().at_s - 1.0) continue;  // earlier runs' checks
      if (t <= ads[i].at_s && (since < 0 || ads[i].at_s - t < since)) since = ads[i].at_s - t;
    }
    row.late_after_check_ms.push_back(since < 0 ? -1 : since * 1e3);
  }
  row.mean_interval_ms =
      jitter.empty() ? 0 : sum_interval / static_cast<double>(jitter.size()) * 1e3;
  return row;
}

std::string check_section(const std::string& name, const std::string& body) {
  return "[check." + name + "]\n" + body + "interval = 1s\n\n";
}

// ---- output ----

std::string ms(double us, int decimals = 3) {
  return fb::fixed(us / 1000.0, decimals);
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 200;
  int seconds = 30;
  bool with_daemon = true;
  std::string out_path;
  std::string binary;
  std::string command = "check_bench";
  for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << "check_bench: " << a << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "--runs") {
        runs = std::stoi(value());
      } else if (a == "--seconds") {
        seconds = std::stoi(value());
      } else if (a == "--out") {
        out_path = value();
      } else if (a == "--no-daemon") {
        with_daemon = false;
      } else if (a == "-h" || a == "--help") {
        std::cout << "usage: check_bench [--runs N] [--seconds S] [--out FILE] [--no-daemon] "
                     "[FAILOVERD]\n";
        return 0;
      } else if (!a.empty() && a[0] != '-' && binary.empty()) {
        binary = a;
      } else {
        std::cerr << "check_bench: unknown argument " << a << "\n";
        return 2;
      }
    } catch (const std::exception&) {
      std::cerr << "check_bench: bad number for " << a << "\n";
      return 2;
    }
  }
  if (runs < 1 || seconds < 5) {
    std::cerr << "check_bench: --runs >= 1, --seconds >= 5\n";
    return 2;
  }
  if (binary.empty()) {
    const char* dir = std::getenv("FAILOVERD_BINARY_DIR");
    binary = std::string(dir != nullptr ? dir : "/work/main/build") + "/failoverd";
  }
  if (with_daemon && ::access(binary.c_str(), X_OK) != 0) {
    std::cerr << "check_bench: no failoverd at " << binary
              << " (pass its path, or set FAILOVERD_BINARY_DIR)\n";
    return 2;
  }

  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  const fs::path dir = fs::temp_directory_path() / ("checkbench-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ostringstream md;
  int rc = 0;
  try {
    const fs::path socket = dir / "engine.sock";
    FakeServer server(socket);

    // The tcp check's target listens inside the namespace, so the namespace comes first.
    std::unique_ptr<Netns> ns;
    int tcp_port = 0;
    if (with_daemon) {
      ns = std::make_unique<Netns>();
      int fd = -1;
      ns->inside([&] {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(fd, 64) != 0 ||
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
          throw std::runtime_error(fb::errno_text("tcp listener"));
        }
        tcp_port = ntohs(a.sin_port);
      });
      server.add_tcp_listener(fd);
    }
    server.start();

    // 1. One docker check.
    std::vector<DockerRow> docker_rows;
    for (const int n : {10, 100, 1000}) {
      docker_rows.push_back(bench_docker_check(server, socket, n, runs));
      if (g_interrupted) throw std::runtime_error("interrupted");
    }

    md << "## Health checks: cost of a check, daemon CPU, advert timing\n\n"
       << "Produced by `" << command << "` (as root) on " << fb::today_utc() << ", "
       << std::thread::hardware_concurrency() << " cores, " << fb::kernel_release() << ".\n\n"
       << "### One docker check\n\n"
       << "`health::make_check` on a `type = docker` check (label filter, `min_running` =\n"
       << "the count), then `run()`, against a canned Docker Engine API served from a unix\n"
       << "socket by a thread of the benchmark: `GET /_ping` (Api-Version 1.41) and\n"
       << "`GET /v1.41/containers/json?filters=...` answering N running containers shaped\n"
       << "like `tests/data/podman-containers-running.json`. The check object is reused, as\n"
       << "the daemon does: its connection and negotiated API version are kept, so the first\n"
       << "run (connect + `/_ping` + listing) is shown on its own. CPU =\n"
       << "`CLOCK_THREAD_CPUTIME_ID` of the calling thread (the server thread's work is not\n"
       << "counted); " << runs << " runs after 10 warm-up runs; times in ms.\n\n"
       << "| containers | body | CPU min | CPU median | CPU p99 | wall min | wall median | "
          "wall p99 | first run CPU / wall |\n"
       << "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
    for (const auto& r : docker_rows) {
      md << "| " << r.containers << " | "
         << fb::fixed(static_cast<double>(r.body_bytes) / 1024.0, 1)
         << " KiB | " << ms(r.cpu.min) << " | " << ms(r.cpu.median) << " | " << ms(r.cpu.p99)
         << " | " << ms(r.wall.min) << " | " << ms(r.wall.median) << " | " << ms(r.wall.p99)
         << " | " << ms(r.first_cpu_us) << " / " << ms(r.first_wall_us) << " |\n";
    }
    const auto& at100 = docker_rows[1];
    md << "\nTarget: under 1 ms of CPU per check at 100 containers: "
       << (at100.cpu.p99 < 1000 ? "met" : "NOT met") << " (median " << ms(at100.cpu.median)
       << " ms, p99 " << ms(at100.cpu.p99) << " ms).\n\n";

    // 2 and 3. The daemon.
    if (with_daemon) {
      server.set_containers(100);
      const std::string docker =
          check_section("containers", "type = docker\nsocket = " + socket.string() +
                                          "\nmin_running = 100\n"
                                          "label = com.docker.compose.project=bench\n"
                                          "timeout = 500ms\n");
      const std::string tcp =
          check_section("port", "type = tcp\naddress = 127.0.0.1:" + std::to_string(tcp_port) +
                                    "\ntimeout = 500ms\n");
      const std::string exec_fast =
          check_section("script", "type = exec\ncommand = /bin/true\ntimeout = 500ms\n");
      const std::string exec_slow =
          check_section("script", "type = exec\ncommand = /bin/sleep 0.9\ntimeout = 950ms\n");

      std::vector<DaemonRow> rows;
      rows.push_back(bench_daemon(binary, *ns, server, dir, "no checks", "-", "", seconds));
      rows.push_back(bench_daemon(binary, *ns, server, dir, "three checks",
                                  "docker (100), exec `/bin/true`, tcp", docker + exec_fast + tcp,
                                  seconds));
      rows.push_back(bench_daemon(binary, *ns, server, dir, "three checks, slow exec",
                                  "docker (100), exec `/bin/sleep 0.9` (timeout 950ms), tcp",
                                  docker + exec_slow + tcp, seconds));

      md << "### The daemon with three checks at a 1 s interval\n\n"
         << "`" << binary << "` as MASTER (priority 150, `advert_interval = 1s`, unicast peer)\n"
         << "in a network namespace of its own (veth, 10.213.0.1/24), with every check at\n"
         << "`interval = 1s`, `weight = 0` (a failing check would mean FAULT and no adverts at\n"
         << "priority 150): docker against the canned API (100 containers, `min_running = 100`),\n"
         << "exec, and tcp to a socket listening in the namespace. Measured over " << seconds
         << " s after\n"
         << "it became MASTER. CPU: `utime+stime` of `/proc/PID/stat` (all threads); the exec'd\n"
         << "commands' own CPU (`cutime+cstime`) separately; the sum of\n"
         << "`/proc/PID/task/*/schedstat` as a finer cross-check. VmRSS at the end.\n\n"
         << "| run | checks | CPU % | CPU ms/s | schedstat ms/s | exec'd children ms/s | "
            "VmRSS | listings / tcp accepts |\n"
         << "|---|---|---:|---:|---:|---:|---:|---:|\n";
      for (const auto& r : rows) {
        md << "| " << r.label << " | " << r.checks << " | " << fb::fixed(r.cpu_ms_per_s / 10.0, 2)
           << " | " << fb::fixed(r.cpu_ms_per_s, 2) << " | " << fb::fixed(r.schedstat_ms_per_s, 2)
           << " | "
           << fb::fixed(r.children_ms_per_s, 2) << " | " << r.rss << " | " << r.listings << " / "
           << r.tcp_accepts << " |\n";
      }
      md << "\n### Adverts are not delayed by checks\n\n"
         << "Every advert the daemon sent during those runs, timestamped by the kernel on an\n"
         << "`AF_PACKET`/`ETH_P_ALL` tap on its interface (`SO_TIMESTAMPNS`, outgoing frames);\n"
         << "jitter = |interval between consecutive adverts - 1 s|, in ms.\n\n"
         << "| run | adverts | priority | mean interval | jitter median | jitter p99 | "
            "jitter max | load avg |\n"
         << "|---|---:|---:|---:|---:|---:|---:|---:|\n";
      bool jitter_ok = true;
      std::size_t late_checks = 0, adverts_checks = 0;
      for (const auto& r : rows) {
        md << "| " << r.label << " | " << r.adverts << " | "
           << (r.min_priority == r.max_priority
                   ? std::to_string(r.min_priority)
                   : std::to_string(r.min_priority) + ".." + std::to_string(r.max_priority))
           << " | " << fb::fixed(r.mean_interval_ms, 3) << " | " << ms(r.jitter_us.median) << " | "
           << ms(r.jitter_us.p99) << " | " << ms(r.jitter_us.max) << " | " << r.loadavg << " |\n";
        if (r.min_priority != 150) jitter_ok = false;  // a FAULT or a lost mastership
        if (&r != &rows.front()) {
          if (r.jitter_us.max >= 1000) jitter_ok = false;
          late_checks += r.late_after_check_ms.size();
          adverts_checks += r.adverts;
        }
      }
      md << "\nAdverts more than 1 ms late, with the time since the last docker or tcp check\n"
         << "request the canned servers saw before each (checks start together, so a small value\n"
         << "means the advert was due while the checks were running):\n\n";
      for (const auto& r : rows) {
        md << "- " << r.label << ": " << r.late_after_check_ms.size();
        std::string sep = r.late_after_check_ms.empty() ? "" : " (";
        for (const double t : r.late_after_check_ms) {
          md << sep << (t < 0 ? std::string("no check before") : fb::fixed(t, 1) + " ms");
          sep = ", ";
        }
        md << (r.late_after_check_ms.empty() ? "" : ")") << "\n";
      }
      // The daemon re-arms Adver_Timer from the moment it fires (RFC 5798 6.4.3), so every
      // interval also carries that wake-up's scheduling latency; the run without checks shows
      // how much of the jitter is the machine's rather than the checks'.
      md << "\nTarget: checks never delay an advert by more than 1 ms: "
         << (jitter_ok ? "met" : "NOT met") << "; " << late_checks << " of " << adverts_checks
         << " adverts of the runs with checks were more than 1 ms late, "
         << rows.front().late_after_check_ms.size() << " of " << rows.front().adverts
         << " without checks. The run without checks is the baseline: the same daemon, "
            "machine and load.\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "check_bench: " << e.what() << "\n";
    rc = 1;
  }
  if (rc != 0) {
    std::cerr << "check_bench: files (daemon logs) kept in " << dir.string() << "\n";
    return rc;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);

  return fb::emit_report(md.str(), out_path, "check_bench") ? 0 : 1;
}
