// Helpers for the benchmark programs (tests/bench/*_bench.cpp): a packet sniffer with kernel
// timestamps inside a namespace, a child started inside a namespace with its own environment,
// small statistics, and the command line and report every benchmark has. Only the C++ library
// and the system: check_bench, which links no test harness, uses it too (the harness-based
// helpers are in bench_pair.h).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <mutex>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace failoverd::bench {

using WallClock = std::chrono::system_clock;
using namespace std::chrono_literals;

inline double ms_between(WallClock::time_point a, WallClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

inline std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// Runs `fn` on a thread that has joined network namespace `netns` (/run/netns/NAME); sockets
// made there stay in it, and children forked there start in it.
inline void in_netns(const std::string& netns, const std::function<void()>& fn) {
  std::exception_ptr error;
  std::thread([&] {
    try {
      const int nsfd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (nsfd < 0) throw std::runtime_error(errno_text("open netns " + netns));
      const int rc = ::setns(nsfd, CLONE_NEWNET);
      ::close(nsfd);
      if (rc != 0) throw std::runtime_error(errno_text("setns " + netns));
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);
}

// ---- kernel timestamps ----

// One recvmsg() on `fd` (SO_TIMESTAMPNS set) into `buf`, the sender into `from` (may be null):
// recvmsg()'s result, and the time the kernel received or sent the datagram (now when it
// attached none, which it does whenever SO_TIMESTAMPNS is on).
struct Stamped {
  ssize_t size = -1;
  WallClock::time_point at;
};
inline Stamped receive_stamped(int fd, void* buf, std::size_t len, void* from,
                               socklen_t from_len, int flags) {
  char control[256];
  iovec iov{buf, len};
  msghdr msg{};
  msg.msg_name = from;
  msg.msg_namelen = from_len;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  Stamped r;
  r.size = ::recvmsg(fd, &msg, flags);
  r.at = WallClock::now();
  if (r.size < 0) return r;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
      timespec ts;
      std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
      r.at = WallClock::time_point(std::chrono::duration_cast<WallClock::duration>(
          std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
    }
  }
  return r;
}

// ---- sockets ----

// A unix socket of `type` (SOCK_STREAM, SOCK_DGRAM) bound at `path`, a stale file there removed
// first. Throws when it cannot be made.
inline int bind_unix(int type, const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("path too long: " + path);
  std::strcpy(addr.sun_path, path.c_str());
  const int fd = ::socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(errno_text("socket(AF_UNIX)"));
  ::unlink(path.c_str());
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string error = errno_text("bind " + path);
    ::close(fd);
    throw std::runtime_error(error);
  }
  return fd;
}

// ---- the sniffer ----

struct Packet {
  enum class Kind { kAdvert, kHttp };
  Kind kind = Kind::kAdvert;
  WallClock::time_point at;  // kernel timestamp (SO_TIMESTAMPNS), receive or send
  std::string source;        // IPv4 source address
  bool outgoing = false;     // sent by this host
  int priority = 0;          // adverts
  std::string payload;       // http: the first bytes of the TCP payload ("POST /v2/...")
  std::uint16_t sport = 0, dport = 0;  // http: the TCP ports (which answer goes with which request)
};

// Records, with kernel timestamps, every VRRP advert and every TCP segment with a payload to
// or from `http_port` (0: none) seen on `ifname` in `netns`, in both directions.
class Sniffer {
 public:
  Sniffer(const std::string& netns, const std::string& ifname, std::uint16_t http_port = 0)
      : http_port_(http_port) {
    in_netns(netns, [&] {
      // ETH_P_ALL: only "all protocols" taps see outgoing frames too.
      fd_ = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
      if (fd_ < 0) throw std::runtime_error(errno_text("AF_PACKET socket"));
      sockaddr_ll sll{};
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = htons(ETH_P_ALL);
      sll.sll_ifindex = static_cast<int>(::if_nametoindex(ifname.c_str()));
      if (sll.sll_ifindex == 0 ||
          ::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        throw std::runtime_error(errno_text("bind AF_PACKET to " + ifname));
      }
      // Kernel timestamps are the measurement: no capture without them.
      int on = 1;
      if (::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
        throw std::runtime_error(errno_text("SO_TIMESTAMPNS"));
      }
      // A capture thread starved for seconds by a loaded machine must not lose frames (a lost
      // advert would read as a gap): room for minutes of adverts. Best effort (needs root).
      const int room = 16 << 20;
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof room);
    });
    thread_ = std::thread([this] { loop(); });
  }
  ~Sniffer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  Sniffer(const Sniffer&) = delete;
  Sniffer& operator=(const Sniffer&) = delete;

  void clear() {
    std::lock_guard lock(mu_);
    packets_.clear();
  }
  std::vector<Packet> packets() const {
    std::lock_guard lock(mu_);
    return packets_;
  }
  // Frames the kernel dropped from this capture so far (its buffer was full): a measurement
  // with drops is not one.
  std::uint64_t drops() {
    tpacket_stats st{};
    socklen_t len = sizeof st;
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) drops_ += st.tp_drops;
    return drops_;
  }

  // Polls the capture until `pred` holds for it (true) or `timeout` passes (false).
  bool wait_for(const std::function<bool(const std::vector<Packet>&)>& pred,
                std::chrono::milliseconds timeout) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (pred(packets())) return true;
      if (std::chrono::steady_clock::now() >= end) return false;
      std::this_thread::sleep_for(5ms);
    }
  }

 private:
  void loop() {
    std::vector<unsigned char> buf(4096);
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      sockaddr_ll from{};
      const Stamped got = receive_stamped(fd_, buf.data(), buf.size(), &from, sizeof from,
                                          MSG_TRUNC);
      if (got.size < 20 || from.sll_protocol != htons(ETH_P_IP)) continue;
      const std::size_t n = std::min(static_cast<std::size_t>(got.size), buf.size());
      const std::size_t ihl = (buf[0] & 0x0F) * 4u;
      if (ihl < 20 || n < ihl + 8) continue;
      Packet pk;
      pk.at = got.at;
      char src[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, &buf[12], src, sizeof src);
      pk.source = src;
      pk.outgoing = from.sll_pkttype == PACKET_OUTGOING;
      if (buf[9] == 112) {
        pk.kind = Packet::Kind::kAdvert;
        pk.priority = buf[ihl + 2];
      } else if (buf[9] == 6 && http_port_ != 0 && n >= ihl + 20) {
        const std::uint16_t sport = static_cast<std::uint16_t>(buf[ihl] << 8 | buf[ihl + 1]);
        const std::uint16_t dport =
            static_cast<std::uint16_t>(buf[ihl + 2] << 8 | buf[ihl + 3]);
        if (sport != http_port_ && dport != http_port_) continue;
        const std::size_t doff = (buf[ihl + 12] >> 4) * 4u;
        // The IP total length, not the frame: short frames may carry padding.
        const std::size_t total = std::min<std::size_t>(n, buf[2] << 8 | buf[3]);
        if (ihl + doff >= total) continue;  // no payload: handshake, ACK, FIN
        pk.kind = Packet::Kind::kHttp;
        pk.sport = sport;
        pk.dport = dport;
        pk.payload.assign(reinterpret_cast<const char*>(&buf[ihl + doff]),
                          std::min<std::size_t>(total - ihl - doff, 64));
      } else {
        continue;
      }
      std::lock_guard lock(mu_);
      packets_.push_back(std::move(pk));
    }
  }

  std::uint16_t http_port_ = 0;
  int fd_ = -1;
  std::uint64_t drops_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<Packet> packets_;
};

// The first advert from `source` with a priority in [min_priority, max_priority] at or after
// `after`; the last one with priority > 0 at or before `before`.
inline std::optional<WallClock::time_point> first_advert(const std::vector<Packet>& ps,
                                                         const std::string& source,
                                                         WallClock::time_point after,
                                                         int min_priority = 1,
                                                         int max_priority = 255) {
  for (const auto& p : ps) {
    if (p.kind == Packet::Kind::kAdvert && p.source == source && p.at >= after &&
        p.priority >= min_priority && p.priority <= max_priority) {
      return p.at;
    }
  }
  return std::nullopt;
}
inline std::optional<WallClock::time_point> last_advert(const std::vector<Packet>& ps,
                                                        const std::string& source,
                                                        WallClock::time_point before) {
  std::optional<WallClock::time_point> last;
  for (const auto& p : ps) {
    if (p.kind == Packet::Kind::kAdvert && p.source == source && p.priority > 0 &&
        p.at <= before) {
      last = p.at;
    }
  }
  return last;
}

// ---- a child in a namespace ----

// posix_spawn()s argv (argv[0] a path) from a thread in `netns` ("" = this namespace) with
// exactly `env`, stdout+stderr to `log` (appended). Returns the pid; the caller reaps it.
inline pid_t spawn_in(const std::string& netns, const std::vector<std::string>& argv,
                      const std::vector<std::string>& env, const std::string& log,
                      WallClock::time_point* spawned_at = nullptr) {
  std::vector<char*> av;
  for (const auto& a : argv) av.push_back(const_cast<char*>(a.c_str()));
  av.push_back(nullptr);
  std::vector<char*> ev;
  for (const auto& e : env) ev.push_back(const_cast<char*>(e.c_str()));
  ev.push_back(nullptr);
  pid_t pid = -1;
  auto run = [&] {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (spawned_at) *spawned_at = WallClock::now();
    const int rc = ::posix_spawn(&pid, av[0], &fa, nullptr, av.data(), ev.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
      errno = rc;
      throw std::runtime_error(errno_text("posix_spawn " + argv[0]));
    }
  };
  if (netns.empty()) {
    run();
  } else {
    in_netns(netns, run);
  }
  return pid;
}

// Waits up to `timeout` for `pid` to exit; SIGKILLs it then. Returns its wait status.
inline int reap(pid_t pid, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid || r < 0) return status;
    if (std::chrono::steady_clock::now() >= end) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return status;
    }
    std::this_thread::sleep_for(2ms);
  }
}

// `runs` times of `argv` (argv[0] a path, started in this namespace with an empty environment)
// from posix_spawn until it has exited and been reaped, in ms, after one untimed run that warms
// the page cache: the floor of any command of that program.
inline std::vector<double> time_exec_ms(const std::vector<std::string>& argv,
                                        const std::string& log, int runs) {
  std::vector<double> ms;
  for (int i = 0; i < runs + 1; ++i) {
    WallClock::time_point t0;
    const pid_t pid = spawn_in("", argv, {}, log, &t0);
    reap(pid, 5s);
    if (i > 0) ms.push_back(ms_between(t0, WallClock::now()));
  }
  return ms;
}

// ---- trials ----

// Sleeps one advert interval and a random part of another, so that what the trial does next
// falls at a random point of the advert cycle and the floor's whole range is sampled.
inline void sleep_to_random_phase(std::chrono::milliseconds interval, std::mt19937& rng) {
  std::uniform_int_distribution<long> jitter(0, interval.count());
  std::this_thread::sleep_for(interval + std::chrono::milliseconds(jitter(rng)));
}

// ---- a process's cost, from /proc ----

// The value of `key` in /proc/PID/status ("VmRSS" -> "5124 kB"), or "?".
inline std::string proc_status_field(pid_t pid, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(f, line);) {
    if (line.rfind(key + ":", 0) == 0) {
      auto v = line.substr(key.size() + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "?";
}

// A "Key:  1234 kB" field of /proc/PID/<file> (status: VmRSS; smaps_rollup: Pss) in KiB, or -1.
inline double proc_kib(pid_t pid, const std::string& file, const std::string& key) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/" + file);
  for (std::string line; std::getline(f, line);) {
    if (line.rfind(key + ":", 0) == 0) return std::strtod(line.c_str() + key.size() + 1, nullptr);
  }
  return -1;
}

// How many distinct shared objects (paths with ".so") /proc/PID/maps maps.
inline int mapped_shared_objects(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/maps");
  std::vector<std::string> paths;
  for (std::string line; std::getline(f, line);) {
    const auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    const std::string path = line.substr(slash);
    if (path.find(".so") != std::string::npos) paths.push_back(path);
  }
  std::sort(paths.begin(), paths.end());
  return static_cast<int>(std::unique(paths.begin(), paths.end()) - paths.begin());
}

// Time on a CPU and time runnable but waiting for one, of every thread of `pid` so far, in ns,
// from /proc/PID/task/*/schedstat: finer than utime+stime, and what wall time was made of.
struct SchedNs {
  double cpu = 0, wait = 0;
};
inline SchedNs schedstat_ns(pid_t pid) {
  SchedNs s;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/task", ec), end;
       !ec && it != end; it.increment(ec)) {
    std::ifstream f(it->path() / "schedstat");
    double run_ns = 0, wait_ns = 0;
    if (f >> run_ns >> wait_ns) {
      s.cpu += run_ns;
      s.wait += wait_ns;
    }
  }
  return s;
}

// ---- statistics and report text ----

struct Stats {
  std::size_t n = 0;
  double min = 0, median = 0, p90 = 0, max = 0;
};
inline Stats stats(std::vector<double> v) {
  Stats s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  // Nearest rank: the smallest value with at least 90% of the trials at or below it.
  s.p90 = v[(v.size() * 9 + 9) / 10 - 1];
  return s;
}

inline std::string fixed(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "2026-11-22"
inline std::string today_utc() {
  char date[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%Y-%m-%d", &tm);
  return date;
}

// "6.1.0-18-amd64"
inline std::string kernel_release() {
  utsname u{};
  ::uname(&u);
  return u.release;
}

// "2026-11-22, 2 cores, 6.1.0-18-amd64, load average 0.42 at the end": what the numbers were
// measured on.
inline std::string machine_line() {
  double load[1] = {0};
  ::getloadavg(load, 1);
  return today_utc() + ", " + std::to_string(std::thread::hardware_concurrency()) + " cores, " +
         kernel_release() + ", load average " + fixed(load[0], 2) + " at the end";
}

// ---- command line and output ----

// One `NAME VALUE` option of a command line; `set` takes VALUE and throws when it is bad
// (std::stoi does).
struct Option {
  std::string name;
  std::function<void(const std::string&)> set;
};

// Reads argv[1..] as `options`. On anything else, a missing value or a bad one, prints
// "usage: USAGE" and returns false.
inline bool parse_options(int argc, char** argv, const std::vector<Option>& options,
                          const std::string& usage) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto o = std::find_if(options.begin(), options.end(),
                                [&](const Option& x) { return x.name == a; });
    bool ok = o != options.end() && i + 1 < argc;
    if (ok) {
      try {
        o->set(argv[++i]);
      } catch (const std::exception&) {
        ok = false;
      }
    }
    if (!ok) {
      std::cerr << "usage: " << usage << "\n";
      return false;
    }
  }
  return true;
}

// True as root; otherwise says so for `program` (the benchmarks make network namespaces).
inline bool running_as_root(const std::string& program) {
  if (::geteuid() == 0) return true;
  std::cerr << program << ": needs root (network namespaces)\n";
  return false;
}

// The command line of most benchmarks, `PROGRAM [COUNT_FLAG N] [--out FILE]` (COUNT_FLAG:
// --trials, --runs), run as root; false, said, when it is not.
inline bool parse_count_and_out(int argc, char** argv, const std::string& program,
                                const std::string& count_flag, int& count,
                                std::string& out_path) {
  return parse_options(argc, argv,
                       {{count_flag, [&](const std::string& v) { count = std::stoi(v); }},
                        {"--out", [&](const std::string& v) { out_path = v; }}},
                       program + " [" + count_flag + " N] [--out FILE]") &&
         running_as_root(program);
}

// The report (markdown) to stdout, and to `out_path` unless empty; false, said, when it could
// not be written there.
inline bool emit_report(const std::string& md, const std::string& out_path,
                        const std::string& program) {
  std::cout << md;
  if (out_path.empty()) return true;
  std::ofstream f(out_path);
  f << md;
  f.close();
  if (!f) {
    std::cerr << program << ": cannot write " << out_path << "\n";
    return false;
  }
  std::cerr << "wrote " << out_path << "\n";
  return true;
}

}  // namespace failoverd::bench
