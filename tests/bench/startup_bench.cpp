// Daemon start-up (issue 5): from exec of failoverd until it tells systemd READY=1, the way
// systemd sees it (Type=notify): the benchmark binds a unix datagram socket, hands it to the
// daemon as NOTIFY_SOCKET and timestamps the READY=1 datagram.
//
// The daemon runs in a namespace of its own (veth, 10.99.0.1/24, one unicast peer, one
// virtual IP: the documented minimal setup), once without checks and once with a docker check
// against a canned Docker Engine API served from a unix socket by a thread of the benchmark.
// Each run: posix_spawn (t0) ... READY=1 received (t1), then SIGTERM and reap. As a floor,
// `failoverd --version` (exec, dynamic linking, static initialisation, exit) is timed too.
//
// Usage (root): startup_bench [--runs N] [--out FILE]
#include <sys/un.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "bench/bench_common.h"
#include "harness/harness.h"

namespace fe = failoverd::e2e;
namespace fb = failoverd::bench;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fb::WallClock;

namespace {

// A unix datagram socket at `path`; receive() returns each datagram with its arrival time.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw std::runtime_error(fb::errno_text("socket(AF_UNIX)"));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.string().size() >= sizeof addr.sun_path) throw std::runtime_error("path too long");
    std::strcpy(addr.sun_path, path.c_str());
    ::unlink(path.c_str());
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error(fb::errno_text("bind " + path.string()));
    }
    int on = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
  }
  ~NotifySocket() {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // The next datagram within `timeout`: its text and its (kernel, when given) arrival time.
  std::optional<std::pair<std::string, WallClock::time_point>> receive(
      std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    char buf[4096];
    char control[256];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(fd_, &msg, 0);
    WallClock::time_point at = WallClock::now();
    if (n < 0) return std::nullopt;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
        timespec ts;
        std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
        at = WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(
            std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
      }
    }
    return std::make_pair(std::string(buf, static_cast<std::size_t>(n)), at);
  }

 private:
  fs::path path_;
  int fd_ = -1;
};

// A canned Docker Engine API on a unix socket: /_ping and one running container, labelled
// project "bench", for whatever listing is asked. One thread, one request per connection.
class CannedDocker {
 public:
  explicit CannedDocker(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, path.c_str());
    ::unlink(path.c_str());
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0) {
      throw std::runtime_error(fb::errno_text("docker socket " + path.string()));
    }
    thread_ = std::thread([this] { loop(); });
  }
  ~CannedDocker() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  CannedDocker(const CannedDocker&) = delete;
  CannedDocker& operator=(const CannedDocker&) = delete;
  std::uint64_t requests() const { return requests_; }

 private:
  void loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) continue;
      // Serve keep-alive requests on this connection until the client closes it.
      std::string in;
      char buf[4096];
      for (;;) {
        pollfd q{c, POLLIN, 0};
        if (stop_ || ::poll(&q, 1, 200) <= 0) break;
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        in.append(buf, static_cast<std::size_t>(n));
        bool ok = true;
        for (auto end = in.find("\r\n\r\n"); ok && end != std::string::npos;
             end = in.find("\r\n\r\n")) {
          const std::string line = in.substr(0, in.find("\r\n"));
          in.erase(0, end + 4);
          ++requests_;
          const bool ping = line.find(" /_ping ") != std::string::npos;
          const std::string body =
              ping ? "OK"
                   : R"([{"Id":"4f1d2a","Names":["/bench-1"],"Image":"busybox","State":"running",)"
                     R"("Status":"Up 2 hours","Labels":{"com.docker.compose.project":"bench"}}])";
          const std::string head = std::string("HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n") +
                                   "Content-Type: " +
                                   (ping ? "text/plain" : "application/json") +
                                   "\r\nContent-Length: " + std::to_string(body.size()) +
                                   "\r\n\r\n";
          const std::string all = head + body;
          ok = ::send(c, all.data(), all.size(), MSG_NOSIGNAL) ==
               static_cast<ssize_t>(all.size());
        }
        if (!ok) break;
      }
      ::close(c);
    }
  }

  fs::path path_;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> requests_{0};
  std::thread thread_;
};

// CPU time and run-queue wait of every thread of `pid` so far, in ms, from
// /proc/PID/task/*/schedstat (ns): what the wall time was made of on a busy machine.
std::pair<double, double> cpu_and_wait_ms(pid_t pid) {
  double cpu = 0, wait = 0;
  std::error_code ec;
  for (fs::directory_iterator it("/proc/" + std::to_string(pid) + "/task", ec), end;
       !ec && it != end; it.increment(ec)) {
    std::ifstream f(it->path() / "schedstat");
    double run_ns = 0, wait_ns = 0;
    if (f >> run_ns >> wait_ns) {
      cpu += run_ns / 1e6;
      wait += wait_ns / 1e6;
    }
  }
  return {cpu, wait};
}

struct Row {
  std::string label;
  fb::Stats ms;
  fb::Stats cpu_ms;   // on CPU until READY, all threads
  fb::Stats wait_ms;  // runnable but waiting for a CPU until READY
  int failures = 0;
};

// `runs` starts of failoverd with `conf`: exec -> READY=1, in ms.
Row time_starts(const std::string& label, const fe::NetnsPair& net, const fs::path& dir,
                const fs::path& conf, int runs) {
  std::cerr << label << "\n";
  const fs::path notify_path = dir / "notify.sock";
  NotifySocket notify(notify_path);
  Row row;
  row.label = label;
  std::vector<double> ms, cpu, wait;
  for (int i = 0; i < runs + 1; ++i) {  // run 0 warms the page cache; not counted
    WallClock::time_point t0;
    const pid_t pid = fb::spawn_in(
        net.ns(0), {fe::binary_path("failoverd"), "--config", conf.string()},
        {"NOTIFY_SOCKET=" + notify_path.string(), "PATH=/usr/sbin:/usr/bin:/sbin:/bin"},
        (dir / "failoverd.log").string(), &t0);
    std::optional<WallClock::time_point> ready;
    const auto give_up = std::chrono::steady_clock::now() + 5s;
    while (!ready && std::chrono::steady_clock::now() < give_up) {
      auto got = notify.receive(500ms);
      if (got && got->first.find("READY=1") != std::string::npos) ready = got->second;
    }
    const auto [cpu_ms, wait_ms] = cpu_and_wait_ms(pid);
    ::kill(pid, SIGTERM);
    fb::reap(pid, 5s);
    if (!ready) {
      ++row.failures;
      std::cerr << "  run " << i << ": no READY=1\n"
                << fe::tail_lines(fe::read_file(dir / "failoverd.log"), 10);
      continue;
    }
    if (i > 0) {
      ms.push_back(fb::ms_between(t0, *ready));
      cpu.push_back(cpu_ms);
      wait.push_back(wait_ms);
    }
    // Drain what the stop sent (STOPPING=1), so the next run reads only its own datagrams.
    while (notify.receive(0ms)) {
    }
  }
  row.ms = fb::stats(ms);
  row.cpu_ms = fb::stats(cpu);
  row.wait_ms = fb::stats(wait);
  std::cerr << "  median " << fb::fixed(row.ms.median, 2) << " ms, max " << fb::fixed(row.ms.max, 2)
            << " ms\n";
  return row;
}

// `failoverd --version`: exec -> exit.
Row time_version(int runs, const fs::path& dir) {
  Row row;
  row.label = "`failoverd --version` (exec, dynamic linking, exit; no config)";
  std::vector<double> ms;
  for (int i = 0; i < runs + 1; ++i) {
    WallClock::time_point t0;
    const pid_t pid = fb::spawn_in("", {fe::binary_path("failoverd"), "--version"}, {},
                                   (dir / "version.log").string(), &t0);
    fb::reap(pid, 5s);
    if (i > 0) ms.push_back(fb::ms_between(t0, WallClock::now()));
  }
  row.ms = fb::stats(ms);
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--runs" && i + 1 < argc) {
      runs = std::stoi(argv[++i]);
    } else if (a == "--out" && i + 1 < argc) {
      out_path = argv[++i];
    } else {
      std::cerr << "usage: startup_bench [--runs N] [--out FILE]\n";
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::cerr << "startup_bench: needs root (network namespaces)\n";
    return 2;
  }
  fe::NetnsPair net("sub");
  fe::TempDir dir("subench");
  CannedDocker docker(dir / "docker.sock");

  fe::NodeConfig c;
  c.name = "startup";
  c.netns = net.ns(0);
  c.priority = 100;
  c.advert_interval = "1s";
  c.peers = {fe::NetnsPair::address(1)};
  c.source = fe::NetnsPair::address(0);
  c.virtual_ips = {"10.99.0.100/24"};
  c.socket = (dir / "failoverd.sock").string();
  const fs::path plain = dir / "plain.conf";
  fe::write_file(plain, fe::render_config(c), fs::perms(0600));
  c.extra = "[check.containers]\ntype = docker\nsocket = " + (dir / "docker.sock").string() +
            "\nlabel = com.docker.compose.project=bench\nmin_running = 1\ninterval = 1s\n"
            "timeout = 500ms\n";
  const fs::path with_docker = dir / "docker.conf";
  fe::write_file(with_docker, fe::render_config(c), fs::perms(0600));

  std::vector<Row> rows;
  rows.push_back(time_version(runs, dir.path()));
  rows.push_back(time_starts("no checks", net, dir.path(), plain, runs));
  rows.push_back(time_starts("one docker check", net, dir.path(), with_docker, runs));

  std::ostringstream md;
  md << "| run | runs | min ms | median ms | max ms | CPU median ms | run-queue wait median / max "
        "ms |\n|---|---:|---:|---:|---:|---:|---:|\n";
  bool met = true;
  for (const auto& r : rows) {
    md << "| " << r.label << " | " << r.ms.n << " | " << fb::fixed(r.ms.min, 2) << " | "
       << fb::fixed(r.ms.median, 2) << " | " << fb::fixed(r.ms.max, 2) << " | ";
    if (r.cpu_ms.n == 0) {
      md << "- | - |\n";
    } else {
      md << fb::fixed(r.cpu_ms.median, 2) << " | " << fb::fixed(r.wait_ms.median, 2) << " / "
         << fb::fixed(r.wait_ms.max, 2) << " |\n";
    }
    if (&r != &rows.front() && (r.ms.n == 0 || r.failures > 0 || r.ms.max >= 50)) met = false;
  }
  md << "\nTarget: exec until READY under 50 ms: " << (met ? "met" : "NOT met")
     << " (max over every run, with and without the docker check; " << docker.requests()
     << " requests reached the canned Docker API).\n\nMeasured on " << fb::machine_line()
     << ".\n";
  std::cout << md.str();
  if (!out_path.empty()) {
    std::ofstream(out_path) << md.str();
    std::cerr << "wrote " << out_path << "\n";
  }
  return 0;
}
