// Daemon start-up: from exec of failoverd until it tells systemd READY=1, the way
// systemd sees it (Type=notify): the benchmark binds a unix datagram socket, hands it to the
// daemon as NOTIFY_SOCKET and timestamps the READY=1 datagram.
//
// The daemon runs in a namespace of its own (veth, 10.99.0.1/24, one unicast peer, one
// virtual IP: the documented minimal setup), once without checks and once with a docker check
// against a canned Docker Engine API served from a unix socket by a thread of the benchmark.
// Each run: posix_spawn (t0) ... READY=1 received (t1), then SIGTERM and reap. As a floor,
// `failoverd --version` (exec, dynamic linking, static initialisation, exit) is timed too.
// Half a second after READY=1, once the first check has run, the idle daemon's memory is read:
// VmRSS (/proc/PID/status), Pss (/proc/PID/smaps_rollup: shared pages divided among their
// users) and the shared objects it maps (/proc/PID/maps).
//
// Usage (root): startup_bench [--runs N] [--out FILE]
#include <iostream>
#include <sstream>

#include "bench_common.h"
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
    fd_ = fb::bind_unix(SOCK_DGRAM, path.string());
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
    const fb::Stamped got = fb::receive_stamped(fd_, buf, sizeof buf, nullptr, 0, 0);
    if (got.size < 0) return std::nullopt;
    return std::make_pair(std::string(buf, static_cast<std::size_t>(got.size)), got.at);
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
    fd_ = fb::bind_unix(SOCK_STREAM, path.string());
    if (::listen(fd_, 16) != 0) throw std::runtime_error(fb::errno_text("listen " + path.string()));
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

struct Row {
  std::string label;
  fb::Stats ms;
  fb::Stats cpu_ms;   // on CPU until READY, all threads
  fb::Stats wait_ms;  // runnable but waiting for a CPU until READY
  fb::Stats rss_kib, pss_kib, libraries;  // 500 ms after READY
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
  std::vector<double> ms, cpu, wait, rss, pss, libs;
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
    // What the wall time was made of on a busy machine: CPU and run-queue wait until READY.
    const fb::SchedNs sched = fb::schedstat_ns(pid);
    if (ready) std::this_thread::sleep_for(500ms);
    const double rss_now = fb::proc_kib(pid, "status", "VmRSS");
    const double pss_now = fb::proc_kib(pid, "smaps_rollup", "Pss");
    const int libs_now = fb::mapped_shared_objects(pid);
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
      cpu.push_back(sched.cpu / 1e6);
      wait.push_back(sched.wait / 1e6);
      rss.push_back(rss_now);
      pss.push_back(pss_now);
      libs.push_back(libs_now);
    }
    // Drain what the stop sent (STOPPING=1), so the next run reads only its own datagrams.
    while (notify.receive(0ms)) {
    }
  }
  row.ms = fb::stats(ms);
  row.cpu_ms = fb::stats(cpu);
  row.wait_ms = fb::stats(wait);
  row.rss_kib = fb::stats(rss);
  row.pss_kib = fb::stats(pss);
  row.libraries = fb::stats(libs);
  std::cerr << "  median " << fb::fixed(row.ms.median, 2) << " ms, max " << fb::fixed(row.ms.max, 2)
            << " ms\n";
  return row;
}

// `failoverd --version`: exec -> exit.
Row time_version(int runs, const fs::path& dir) {
  Row row;
  row.label = "`failoverd --version` (exec, dynamic linking, exit; no config)";
  row.ms = fb::stats(fb::time_exec_ms({fe::binary_path("failoverd"), "--version"},
                                      (dir / "version.log").string(), runs));
  return row;
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20;
  std::string out_path;
  if (!fb::parse_count_and_out(argc, argv, "startup_bench", "--runs", runs, out_path)) return 2;
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
        "ms | VmRSS median KiB | Pss median KiB | shared objects mapped |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  bool met = true;
  for (const auto& r : rows) {
    md << "| " << r.label << " | " << r.ms.n << " | " << fb::fixed(r.ms.min, 2) << " | "
       << fb::fixed(r.ms.median, 2) << " | " << fb::fixed(r.ms.max, 2) << " | ";
    if (r.cpu_ms.n == 0) {
      md << "- | - | - | - | - |\n";
    } else {
      md << fb::fixed(r.cpu_ms.median, 2) << " | " << fb::fixed(r.wait_ms.median, 2) << " / "
         << fb::fixed(r.wait_ms.max, 2) << " | " << fb::fixed(r.rss_kib.median, 0) << " | "
         << fb::fixed(r.pss_kib.median, 0) << " | " << fb::fixed(r.libraries.median, 0) << " |\n";
    }
    if (&r != &rows.front() && (r.ms.n == 0 || r.failures > 0 || r.ms.max >= 50)) met = false;
  }
  md << "\nTarget: exec until READY under 50 ms: " << (met ? "met" : "NOT met")
     << " (max over every run, with and without the docker check; " << docker.requests()
     << " requests reached the canned Docker API).\n\nMeasured on " << fb::machine_line()
     << ".\n";
  return fb::emit_report(md.str(), out_path, "startup_bench") ? 0 : 1;
}
