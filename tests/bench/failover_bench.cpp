// Failover benchmark: failoverd and keepalived in the same two-namespace setup, one after the
// other, measured the same way at the protocol level.
//
// A packet sniffer on the backup's side of the link records every VRRP advert with its kernel
// timestamp, incoming (from the master) and outgoing (from the backup). A backup that becomes
// MASTER sends its first advert at once, so:
//   crash detection = first advert of the backup - last advert of the killed master
//                     (protocol floor: the backup's Master_Down_Interval)
//   switchover      = first advert of the backup - the moment SIGTERM was sent
//                     (protocol floor: the backup's Skew_Time; failoverd with one peer has
//                     none, instant handover)
// Also: idle resident memory of each daemon.
//
// Usage (root): failover_bench [--trials N] [--out docs/benchmarks.md]
#include <iostream>
#include <memory>
#include <random>
#include <sstream>

#include "bench_pair.h"

namespace fe = failoverd::e2e;
namespace fb = failoverd::bench;
using namespace std::chrono_literals;
using fb::WallClock;

namespace {

long rss_kb(pid_t pid) {
  const std::string v = fb::proc_status_field(pid, "VmRSS");  // "5124 kB"
  return v == "?" ? -1 : std::stol(v);
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

// The calls both implementations share; `Daemon` is fe::Node or fe::Keepalived.
template <typename Daemon>
struct PairOf : Pair {
  void start_master() override { d[0]->start(); }
  void start_backup() override { d[1]->start(); }
  bool master_is_master(fe::Ms t) override { return d[0]->wait_state("MASTER", t).has_value(); }
  bool backup_is(const std::string& s, fe::Ms t) override {
    return d[1]->wait_state(s, t).has_value();
  }
  void terminate_master() override {
    d[0]->terminate();
    d[0]->wait_exit(5s);
  }
  std::unique_ptr<Daemon> d[2];
};

struct FailoverdPair : PairOf<fe::Node> {
  FailoverdPair(fe::NetnsPair& net, const std::filesystem::path& dir, const std::string& interval) {
    for (int host = 0; host < 2; ++host) {
      d[host] =
          std::make_unique<fe::Node>(fb::pair_node_config(net, dir, host, "fo", interval), dir);
    }
  }
  void crash_master() override { d[0]->kill9(); }
  long idle_rss_kb() override { return rss_kb(d[1]->pid()); }
};

struct KeepalivedPair : PairOf<fe::Keepalived> {
  KeepalivedPair(fe::NetnsPair& net, const std::filesystem::path& dir, const std::string& interval) {
    for (int host = 0; host < 2; ++host) {
      const fe::KeepalivedConfig c = fb::pair_keepalived_config(net, host, interval);
      std::filesystem::create_directories(dir / c.name);
      d[host] = std::make_unique<fe::Keepalived>(c, dir / c.name);
    }
  }
  void crash_master() override { d[0]->crash(); }
  long idle_rss_kb() override { return -1; }  // two processes; not compared
};

struct Row {
  std::string impl, interval, event;
  fb::Stats s;
  std::string floor;
  std::string note;
};

// Runs `trials` crash or SIGTERM trials; the master is restarted (and preempts) between them.
std::vector<double> run_trials(Pair& pair, fb::Sniffer& sniffer, bool crash, int trials,
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
    fb::sleep_to_random_phase(interval, rng);
    const auto t_event = WallClock::now();
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
    const auto first_b = fb::first_advert(ps, backup_ip, t_event);
    if (!first_b) {
      std::cerr << "  trial " << i << ": no advert from the backup seen (" << ps.size()
                << " packets captured)\n";
    } else if (crash) {
      // The capture started more than one interval before the kill, so it holds the
      // master's last advert.
      const auto last_a = fb::last_advert(ps, master_ip, t_event);
      if (last_a) {
        out.push_back(fb::ms_between(*last_a, *first_b));
      } else {
        std::cerr << "  trial " << i << ": master's last advert not captured; skipped\n";
      }
      if (kill_to_takeover) kill_to_takeover->push_back(fb::ms_between(t_event, *first_b));
    } else {
      out.push_back(fb::ms_between(t_event, *first_b));
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
  if (!fb::parse_count_and_out(argc, argv, "failover_bench", "--trials", trials, out_path)) {
    return 2;
  }
  std::mt19937 rng(12345);
  std::vector<Row> rows;
  long fo_rss = -1;
  for (const std::string interval : {"1s", "100ms"}) {
    const auto ival = fb::advert_interval(interval);
    const double mdi = fb::backup_master_down_ms(ival);
    const double skew = fb::backup_skew_ms(ival);
    for (const std::string impl : {"failoverd", "keepalived"}) {
      std::cerr << impl << " at " << interval << "\n";
      fe::NetnsPair net("bench");
      fe::TempDir dir("bench");
      fb::Sniffer sniffer(net.ns(1), fe::NetnsPair::iface());
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
                      fb::stats(crash), floor, ""});
      std::snprintf(floor, sizeof floor, "%.1f..%.1f", mdi - static_cast<double>(ival.count()), mdi);
      rows.push_back({impl, interval, "crash: kill -> first advert of backup", fb::stats(kill_to),
                      floor, ""});
      // failoverd's default with its one peer is instant handover: no timer after priority 0.
      if (impl == "failoverd") {
        std::snprintf(floor, sizeof floor, "none (instant handover; RFC wait: %.1f)", skew);
      } else {
        std::snprintf(floor, sizeof floor, "%.1f (Skew_Time)", skew);
      }
      rows.push_back(
          {impl, interval, "SIGTERM -> first advert of backup", fb::stats(term), floor, ""});
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
  return fb::emit_report(md.str(), out_path, "failover_bench") ? 0 : 1;
}
