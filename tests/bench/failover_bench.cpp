// Failover benchmark: failoverd and keepalived in the same two-namespace setup, one after the
// other, measured the same way at the protocol level.
//
// A packet sniffer on the backup's side of the link records every VRRP advert with its kernel
// timestamp, incoming (from the master) and outgoing (from the backup). A backup that becomes
// MASTER sends its first advert at once, so:
//   crash detection = first advert of the backup - last advert of the killed master
//                     (protocol floor: the backup's Master_Down_Interval)
//   switchover      = first advert of the backup - the moment SIGTERM was sent
//                     (protocol floor: the backup's Skew_Time)
// Also: idle resident memory of each daemon.
//
// Usage (root): failover_bench [--trials N] [--out docs/benchmarks.md]
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

#include "harness/harness.h"
#include "failoverd/core/timing.h"

namespace fe = failoverd::e2e;
using namespace std::chrono_literals;
using RealClock = std::chrono::system_clock;

namespace {

struct Packet {
  RealClock::time_point at;
  std::string source;
  int priority;
  bool outgoing;
};

// Records VRRP packets seen on `ifname` in `netns`, with kernel receive timestamps.
class Sniffer {
 public:
  Sniffer(const std::string& netns, const std::string& ifname) {
    std::thread([&] {
      const int nsfd = ::open(("/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
      if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) throw std::runtime_error("setns " + netns);
      ::close(nsfd);
      // ETH_P_ALL: only "all protocols" taps see outgoing frames, and we need the backup's.
      fd_ = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
      if (fd_ < 0) throw std::runtime_error("AF_PACKET socket");
      sockaddr_ll sll{};
      sll.sll_family = AF_PACKET;
      sll.sll_protocol = htons(ETH_P_ALL);
      sll.sll_ifindex = static_cast<int>(if_nametoindex(ifname.c_str()));
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) {
        throw std::runtime_error("bind AF_PACKET");
      }
      int on = 1;
      ::setsockopt(fd_, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    }).join();
    thread_ = std::thread([this] { loop(); });
  }
  ~Sniffer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  void clear() {
    std::lock_guard lock(mu_);
    packets_.clear();
  }
  std::vector<Packet> packets() {
    std::lock_guard lock(mu_);
    return packets_;
  }

 private:
  void loop() {
    std::vector<unsigned char> buf(2048);
    char control[256];
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      sockaddr_ll from{};
      iovec iov{buf.data(), buf.size()};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      const ssize_t n = ::recvmsg(fd_, &msg, 0);
      if (n < 28 || from.sll_protocol != htons(ETH_P_IP)) continue;
      const std::size_t ihl = (buf[0] & 0x0F) * 4u;
      if (buf[9] != 112 || static_cast<std::size_t>(n) < ihl + 8) continue;
      RealClock::time_point at = RealClock::now();
      for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
          timespec ts;
          std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
          at = RealClock::time_point(std::chrono::duration_cast<RealClock::duration>(
              std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
        }
      }
      char src[INET_ADDRSTRLEN];
      ::inet_ntop(AF_INET, &buf[12], src, sizeof src);
      std::lock_guard lock(mu_);
      packets_.push_back({at, src, buf[ihl + 2], from.sll_pkttype == PACKET_OUTGOING});
    }
  }

  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Packet> packets_;
};

double ms_between(RealClock::time_point a, RealClock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The backup's first advert after `after`, and the master's last one before it.
std::optional<RealClock::time_point> first_from(const std::vector<Packet>& ps, const std::string& src,
                                                RealClock::time_point after) {
  for (const auto& p : ps) {
    if (p.source == src && p.priority > 0 && p.at >= after) return p.at;
  }
  return std::nullopt;
}
std::optional<RealClock::time_point> last_from(const std::vector<Packet>& ps, const std::string& src,
                                               RealClock::time_point before) {
  std::optional<RealClock::time_point> last;
  for (const auto& p : ps) {
    if (p.source == src && p.priority > 0 && p.at <= before) last = p.at;
  }
  return last;
}

long rss_kb(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

struct Stats {
  double min = 0, median = 0, max = 0;
  std::size_t n = 0;
};
Stats stats(std::vector<double> v) {
  Stats s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  s.min = v.front();
  s.max = v.back();
  s.median = v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  return s;
}

// One implementation under test: how to start the pair and how to stop the master.
struct Pair {
  virtual ~Pair() = default;
  virtual void start_master() = 0;
  virtual void start_backup() = 0;
  virtual bool master_is_master(fe::Ms timeout) = 0;
  virtual bool backup_is(const std::string& state, fe::Ms timeout) = 0;
  virtual void crash_master() = 0;
  virtual void terminate_master() = 0;
  virtual long idle_rss_kb() = 0;
};

constexpr int kMasterPriority = 150;
constexpr int kBackupPriority = 100;
const std::string kVip = "10.99.0.100/24";

struct FailoverdPair : Pair {
  FailoverdPair(fe::NetnsPair& net, const std::filesystem::path& dir, const std::string& interval) {
    for (int host = 0; host < 2; ++host) {
      fe::NodeConfig c;
      c.name = host == 0 ? "fo-master" : "fo-backup";
      c.netns = net.ns(host);
      c.priority = host == 0 ? kMasterPriority : kBackupPriority;
      c.advert_interval = interval;
      c.peers = {fe::NetnsPair::address(1 - host)};
      c.source = fe::NetnsPair::address(host);
      c.virtual_ips = {kVip};
      c.socket = (dir / (c.name + ".sock")).string();
      nodes[host] = std::make_unique<fe::Node>(c, dir);
    }
  }
  void start_master() override { nodes[0]->start(); }
  void start_backup() override { nodes[1]->start(); }
  bool master_is_master(fe::Ms t) override { return nodes[0]->wait_state("MASTER", t).has_value(); }
  bool backup_is(const std::string& s, fe::Ms t) override { return nodes[1]->wait_state(s, t).has_value(); }
  void crash_master() override { nodes[0]->kill9(); }
  void terminate_master() override {
    nodes[0]->terminate();
    nodes[0]->wait_exit(5s);
  }
  long idle_rss_kb() override { return rss_kb(nodes[1]->pid()); }
  std::unique_ptr<fe::Node> nodes[2];
};

struct KeepalivedPair : Pair {
  KeepalivedPair(fe::NetnsPair& net, const std::filesystem::path& dir, const std::string& interval) {
    for (int host = 0; host < 2; ++host) {
      fe::KeepalivedConfig c;
      c.name = host == 0 ? "ka-master" : "ka-backup";
      c.netns = net.ns(host);
      c.priority = host == 0 ? kMasterPriority : kBackupPriority;
      c.advert_int = interval == "1s" ? "1" : "0.1";
      c.unicast_src_ip = fe::NetnsPair::address(host);
      c.unicast_peers = {fe::NetnsPair::address(1 - host)};
      c.virtual_ips = {kVip};
      std::filesystem::create_directories(dir / c.name);
      kas[host] = std::make_unique<fe::Keepalived>(c, dir / c.name);
    }
  }
  void start_master() override { kas[0]->start(); }
  void start_backup() override { kas[1]->start(); }
  bool master_is_master(fe::Ms t) override { return kas[0]->wait_state("MASTER", t).has_value(); }
  bool backup_is(const std::string& s, fe::Ms t) override { return kas[1]->wait_state(s, t).has_value(); }
  void crash_master() override { kas[0]->crash(); }
  void terminate_master() override {
    kas[0]->terminate();
    kas[0]->wait_exit(5s);
  }
  long idle_rss_kb() override { return -1; }  // two processes; not compared
  std::unique_ptr<fe::Keepalived> kas[2];
};

struct Row {
  std::string impl, interval, event;
  Stats s;
  std::string floor;
  std::string note;
};

// Runs `trials` crash or SIGTERM trials; the master is restarted (and preempts) between them.
std::vector<double> run_trials(Pair& pair, Sniffer& sniffer, bool crash, int trials,
                               std::chrono::milliseconds interval, std::mt19937& rng,
                               std::vector<double>* kill_to_takeover) {
  std::vector<double> out;
  const std::string master_ip = fe::NetnsPair::address(0);
  const std::string backup_ip = fe::NetnsPair::address(1);
  for (int i = 0; i < trials; ++i) {
    if (!pair.master_is_master(30s) || !pair.backup_is("BACKUP", 30s)) {
      std::cerr << "  trial " << i << ": pair did not settle; skipped\n";
      pair.start_master();
      continue;
    }
    // Kill at a random point of the advert cycle, so the floor's range is sampled.
    sniffer.clear();
    std::uniform_int_distribution<long> jitter(0, interval.count());
    std::this_thread::sleep_for(interval + std::chrono::milliseconds(jitter(rng)));
    const auto t_event = RealClock::now();
    if (crash) {
      pair.crash_master();
    } else {
      pair.terminate_master();
    }
    if (!pair.backup_is("MASTER", 30s)) {
      std::cerr << "  trial " << i << ": backup never became MASTER\n";
    }
    std::this_thread::sleep_for(50ms);  // let the sniffer catch up
    const auto ps = sniffer.packets();
    const auto first_b = first_from(ps, backup_ip, t_event);
    if (!first_b) {
      std::cerr << "  trial " << i << ": no advert from the backup seen (" << ps.size()
                << " packets captured)\n";
    } else if (crash) {
      // The capture started more than one interval before the kill, so it holds the
      // master's last advert.
      const auto last_a = last_from(ps, master_ip, t_event);
      if (last_a) {
        out.push_back(ms_between(*last_a, *first_b));
      } else {
        std::cerr << "  trial " << i << ": master's last advert not captured; skipped\n";
      }
      if (kill_to_takeover) kill_to_takeover->push_back(ms_between(t_event, *first_b));
    } else {
      out.push_back(ms_between(t_event, *first_b));
    }
    std::cerr << "  trial " << i << ": " << (out.empty() ? 0.0 : out.back()) << " ms\n";
    pair.start_master();
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 10;
  std::string out_path;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--trials" && i + 1 < argc) trials = std::stoi(argv[++i]);
    else if (a == "--out" && i + 1 < argc) out_path = argv[++i];
    else {
      std::cerr << "usage: failover_bench [--trials N] [--out FILE]\n";
      return 2;
    }
  }
  if (geteuid() != 0) {
    std::cerr << "failover_bench: needs root (network namespaces)\n";
    return 2;
  }
  std::mt19937 rng(12345);
  std::vector<Row> rows;
  long fo_rss = -1;
  for (const std::string interval : {"1s", "100ms"}) {
    const auto ival = interval == "1s" ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(100);
    const auto ival_us = std::chrono::duration_cast<failoverd::core::Duration>(ival);
    const double mdi = static_cast<double>(failoverd::core::master_down_interval(kBackupPriority, ival_us).count()) / 1000.0;
    const double skew = static_cast<double>(failoverd::core::skew_time(kBackupPriority, ival_us).count()) / 1000.0;
    for (const std::string impl : {"failoverd", "keepalived"}) {
      std::cerr << impl << " at " << interval << "\n";
      fe::NetnsPair net("bench");
      fe::TempDir dir("bench");
      Sniffer sniffer(net.ns(1), fe::NetnsPair::iface());
      std::unique_ptr<Pair> pair;
      if (impl == "failoverd") pair = std::make_unique<FailoverdPair>(net, dir.path(), interval);
      else pair = std::make_unique<KeepalivedPair>(net, dir.path(), interval);
      pair->start_backup();
      pair->start_master();
      std::vector<double> kill_to;
      auto crash = run_trials(*pair, sniffer, true, trials, ival, rng, &kill_to);
      auto term = run_trials(*pair, sniffer, false, trials, ival, rng, nullptr);
      if (impl == "failoverd" && interval == "1s") fo_rss = pair->idle_rss_kb();
      char floor[96];
      std::snprintf(floor, sizeof floor, "%.1f (Master_Down_Interval)", mdi);
      rows.push_back({impl, interval, "crash: last advert of master -> first advert of backup",
                      stats(crash), floor, ""});
      std::snprintf(floor, sizeof floor, "%.1f..%.1f", mdi - static_cast<double>(ival.count()), mdi);
      rows.push_back({impl, interval, "crash: kill -> first advert of backup", stats(kill_to), floor,
                      ""});
      std::snprintf(floor, sizeof floor, "%.1f (Skew_Time)", skew);
      rows.push_back({impl, interval, "SIGTERM -> first advert of backup", stats(term), floor, ""});
    }
  }
  std::ostringstream md;
  md << "| implementation | advert_interval | event | trials | min ms | median ms | max ms | "
        "protocol floor ms |\n|---|---|---|---|---|---|---|---|\n";
  char line[512];
  for (const auto& r : rows) {
    std::snprintf(line, sizeof line, "| %s | %s | %s | %zu | %.1f | %.1f | %.1f | %s |\n",
                  r.impl.c_str(), r.interval.c_str(), r.event.c_str(), r.s.n, r.s.min, r.s.median,
                  r.s.max, r.floor.c_str());
    md << line;
  }
  md << "\nIdle failoverd (backup, 1s adverts) resident memory: " << fo_rss << " KiB\n";
  std::cout << md.str();
  if (!out_path.empty()) {
    std::ofstream(out_path) << md.str();
    std::cerr << "wrote " << out_path << "\n";
  }
  return 0;
}
