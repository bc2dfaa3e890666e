// Planned switchover: from the request on the master until the peer's first
// advert (it is MASTER: it sends one at once), for failoverd with instant handover (the
// default with one peer), failoverd with the RFC wait (`instant_handover = no`), and keepalived,
// in one run, measured as failover_bench measures SIGTERM, so the numbers compare.
//
// Two nodes in two namespaces (master priority 150, backup priority 100, unicast, one virtual
// IP). A sniffer on the backup's side of the link timestamps (kernel time) every advert. For
// each trial, at a random point of the advert cycle:
//   t0         the benchmark starts `failoverctl --socket S failover` (fork + exec), or sends
//              the same request itself over the control socket (t0 = just before connect: the
//              daemons' share, without the start of a process), or sends SIGTERM to the
//              master (what `systemctl stop` does; keepalived has no other planned switchover)
//   priority 0 the master's resignation advert reaches the backup's link
//   peer       the backup's first advert
//   hook       the backup's master hook runs: a /bin/sh script, the same for both
//              implementations, that appends `date +%s%N` (the start of the shell and of
//              date are included, the same for both; no reserved IP is configured, so failoverd
//              does not hold the hook for a claim)
// peer - t0 is the switchover. With the RFC wait its floor is the backup's Skew_Time after the
// priority-0 advert; with instant handover there is no timer, only the path. The master is
// restarted between trials (a resigned node would not preempt back for 60 s).
//
// Targets: the RFC-wait failoverctl rows stay within Skew_Time + 5 ms (judged on median and
// p90); the instant rows (SIGTERM and failoverctl) at most 0.25 x keepalived's SIGTERM median
// at the same interval, to the first advert and to the master hook.
//
// Usage (root): switchover_bench [--trials N] [--out FILE]   (N trials of each way and setup)
#include <csignal>
#include <fstream>
#include <optional>
#include <iostream>
#include <random>
#include <sstream>

#include "bench_pair.h"
#include "failoverd/control/control_client.h"

namespace fe = failoverd::e2e;
namespace fb = failoverd::bench;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fb::WallClock;

namespace {

constexpr double kExcessTargetMs = 5;  // RFC wait: over Skew_Time
constexpr double kRatioTarget = 0.25;  // instant: of keepalived's SIGTERM median

struct Trial {
  double to_prio0 = 0;   // t0 -> the priority-0 advert on the backup's link
  double peer = 0;       // t0 -> the backup's first advert
  std::optional<double> hook;  // t0 -> the backup's master hook (its first line)
};

// The script both implementations run as the backup's master hook: one line per run, the
// wall-clock time in ns.
fs::path write_stamp_hook(const fs::path& dir) {
  const fs::path hook = dir / "master-hook.sh";
  const fs::path stamps = dir / "master-hook.stamps";
  fe::write_file(hook, "#!/bin/sh\ndate +%s%N >> '" + stamps.string() + "'\n",
                 fs::perms(0755));
  return hook;
}

// The first stamp the hook wrote (after the file was emptied), waiting up to `timeout`.
std::optional<WallClock::time_point> first_stamp(const fs::path& hook, fe::Ms timeout) {
  const fs::path stamps = hook.parent_path() / "master-hook.stamps";
  const auto end = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::ifstream in(stamps);
    long long ns = 0;
    if (in >> ns && ns > 0) {
      return WallClock::time_point(
          std::chrono::duration_cast<WallClock::duration>(std::chrono::nanoseconds(ns)));
    }
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    std::this_thread::sleep_for(2ms);
  }
}

void clear_stamps(const fs::path& hook) {
  std::ofstream(hook.parent_path() / "master-hook.stamps", std::ios::trunc);
}

// How the switchover is asked for.
enum class Way { kFailoverctl, kSocket, kSigterm };

const char* way_text(Way w) {
  switch (w) {
    case Way::kFailoverctl: return "`failoverctl failover` (t0: spawn)";
    case Way::kSocket: return "failover on the socket (t0: connect)";
    case Way::kSigterm: return "SIGTERM of the master";
  }
  return "?";
}

enum class Setup { kInstant, kRfcWait, kKeepalived };

const char* setup_text(Setup s) {
  switch (s) {
    case Setup::kInstant: return "failoverd, default (instant handover)";
    case Setup::kRfcWait: return "failoverd, `instant_handover = no`";
    case Setup::kKeepalived: return "keepalived";
  }
  return "?";
}

struct Row {
  std::string interval;
  Setup setup;
  Way way;
  double floor = 0;  // ms after the priority-0 advert
  std::vector<Trial> trials;
};

// The master (host 0) and backup (host 1) of one setup, started and restarted the same way.
struct Daemons {
  virtual ~Daemons() = default;
  virtual bool settled() = 0;  // master MASTER, backup BACKUP
  virtual void restart_master(bool exited) = 0;
  virtual void terminate_master() = 0;
  virtual std::string socket() const { return ""; }
};

struct FailoverdDaemons : Daemons {
  FailoverdDaemons(const fe::NetnsPair& net, const fs::path& dir, const std::string& interval,
                   bool instant, const fs::path& hook) {
    for (int host = 0; host < 2; ++host) {
      fe::NodeConfig c = fb::pair_node_config(net, dir, host, instant ? "in" : "rfc", interval);
      if (!instant) c.extra = "[vrrp]\ninstant_handover = no\n";
      if (host == 1) c.extra += "[notify]\nmaster = " + hook.string() + "\n";
      d[host] = std::make_unique<fe::Node>(c, dir);
    }
    d[1]->start();
    d[0]->start();
  }
  bool settled() override {
    return d[0]->wait_state("MASTER", 30s) && d[1]->wait_state("BACKUP", 30s);
  }
  void restart_master(bool exited) override {
    if (!exited) d[0]->kill9();
    d[0]->wait_exit(5s);
    d[0]->start();
  }
  void terminate_master() override { d[0]->terminate(); }
  std::string socket() const override { return d[0]->config().socket; }
  std::unique_ptr<fe::Node> d[2];
};

struct KeepalivedDaemons : Daemons {
  KeepalivedDaemons(const fe::NetnsPair& net, const fs::path& dir, const std::string& interval,
                    const fs::path& hook) {
    for (int host = 0; host < 2; ++host) {
      fe::KeepalivedConfig c = fb::pair_keepalived_config(net, host, interval);
      if (host == 1) c.instance_lines = {"notify_master " + hook.string()};
      fs::create_directories(dir / c.name);
      d[host] = std::make_unique<fe::Keepalived>(c, dir / c.name);
    }
    d[1]->start();
    d[0]->start();
  }
  bool settled() override {
    return d[0]->wait_state("MASTER", 30s) && d[1]->wait_state("BACKUP", 30s);
  }
  void restart_master(bool) override {
    d[0]->wait_exit(5s);
    d[0]->start();
  }
  void terminate_master() override { d[0]->terminate(); }
  std::unique_ptr<fe::Keepalived> d[2];
};

// `trials` trials of each of `ways`, interleaved, against one pair; one Row per way.
std::vector<Row> run_setup(const std::string& interval, Setup setup, const std::vector<Way>& ways,
                           int trials, std::mt19937& rng) {
  std::cerr << setup_text(setup) << " at " << interval << "\n";
  const auto ival = fb::advert_interval(interval);
  std::vector<Row> rows;
  for (const Way w : ways) {
    rows.push_back({interval, setup, w, setup == Setup::kInstant ? 0.0 : fb::backup_skew_ms(ival),
                    {}});
  }
  fe::NetnsPair net("swb");
  fe::TempDir dir("swbench");
  fb::Sniffer sniffer(net.ns(1), fe::NetnsPair::iface());
  const fs::path hook = write_stamp_hook(dir.path());
  std::unique_ptr<Daemons> pair;
  if (setup == Setup::kKeepalived) {
    pair = std::make_unique<KeepalivedDaemons>(net, dir.path(), interval, hook);
  } else {
    pair = std::make_unique<FailoverdDaemons>(net, dir.path(), interval, setup == Setup::kInstant,
                                              hook);
  }
  const std::string ctl = fe::binary_path("failoverctl");
  const std::string master_ip = fe::NetnsPair::address(0);
  const std::string backup_ip = fe::NetnsPair::address(1);
  for (int i = 0; i < static_cast<int>(ways.size()) * trials; ++i) {
    Row& row = rows[i % ways.size()];
    if (!pair->settled()) {
      std::cerr << "  trial " << i << ": pair did not settle; skipped\n";
      continue;
    }
    sniffer.clear();
    clear_stamps(hook);
    fb::sleep_to_random_phase(ival, rng);
    WallClock::time_point t0;
    if (row.way == Way::kFailoverctl) {
      const pid_t pid = fb::spawn_in("", {ctl, "--socket", pair->socket(), "failover"}, {},
                                     (dir / "failoverctl.log").string(), &t0);
      const int status = fb::reap(pid, 10s);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::cerr << "  trial " << i << ": failoverctl failed: "
                  << fe::tail_lines(fe::read_file(dir / "failoverctl.log"), 3);
      }
    } else if (row.way == Way::kSocket) {
      const failoverd::control::ControlClient client(pair->socket(), 5s);
      t0 = WallClock::now();
      const auto answer = client.call("failover");
      if (!answer) std::cerr << "  trial " << i << ": request failed: " << answer.error().message << "\n";
    } else {
      t0 = WallClock::now();
      pair->terminate_master();
    }
    const bool seen = sniffer.wait_for(
        [&](const std::vector<fb::Packet>& ps) {
          return fb::first_advert(ps, backup_ip, t0).has_value();
        },
        10s);
    const auto ps = sniffer.packets();
    const auto prio0 = fb::first_advert(ps, master_ip, t0, 0, 0);
    const auto peer = fb::first_advert(ps, backup_ip, t0);
    if (!seen || !prio0 || !peer) {
      std::cerr << "  trial " << i << ": " << (!prio0 ? "no priority-0 advert" : "")
                << (!peer ? " no advert from the peer" : "") << " (" << ps.size()
                << " packets)\n";
    } else {
      Trial t;
      t.to_prio0 = fb::ms_between(t0, *prio0);
      t.peer = fb::ms_between(t0, *peer);
      if (const auto stamp = first_stamp(hook, 5s)) t.hook = fb::ms_between(t0, *stamp);
      row.trials.push_back(t);
      std::cerr << "  trial " << i << " (" << way_text(row.way) << "): peer MASTER after "
                << fb::fixed(t.peer, 2) << " ms (priority 0 after " << fb::fixed(t.to_prio0, 2)
                << " ms, master hook "
                << (t.hook ? "after " + fb::fixed(*t.hook, 2) + " ms" : std::string("not seen"))
                << ")\n";
    }
    pair->restart_master(/*exited=*/row.way == Way::kSigterm);
  }
  return rows;
}

std::vector<double> peer_ms(const Row& r) {
  std::vector<double> v;
  for (const auto& t : r.trials) v.push_back(t.peer);
  return v;
}

std::vector<double> hook_ms(const Row& r) {
  std::vector<double> v;
  for (const auto& t : r.trials) {
    if (t.hook) v.push_back(*t.hook);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 10;
  std::string out_path;
  if (!fb::parse_count_and_out(argc, argv, "switchover_bench", "--trials", trials, out_path)) {
    return 2;
  }
  std::mt19937 rng(777);
  // The floor of any failoverctl command: exec (a static binary), exit.
  std::vector<double> version_ms;
  {
    fe::TempDir dir("swbench");
    version_ms = fb::time_exec_ms({fe::binary_path("failoverctl"), "--version"},
                                  (dir / "version.log").string(), 20);
  }
  const std::vector<Way> all_ways = {Way::kFailoverctl, Way::kSocket, Way::kSigterm};
  std::vector<Row> rows;
  for (const std::string interval : {"1s", "100ms"}) {
    for (const Setup s : {Setup::kInstant, Setup::kRfcWait}) {
      for (auto& r : run_setup(interval, s, all_ways, trials, rng)) rows.push_back(std::move(r));
    }
    for (auto& r : run_setup(interval, Setup::kKeepalived, {Way::kSigterm}, trials, rng)) {
      rows.push_back(std::move(r));
    }
  }
  // keepalived's median at `interval` of what `measure` takes from a row (advert or hook).
  const auto keepalived_median = [&](const std::string& interval,
                                     std::vector<double> (*measure)(const Row&)) {
    for (const auto& r : rows) {
      if (r.interval == interval && r.setup == Setup::kKeepalived) return fb::stats(measure(r)).median;
    }
    return 0.0;
  };

  std::ostringstream md;
  md << "| advert_interval | setup | switchover asked by | trials | floor after priority 0 ms "
        "| -> peer's first advert min / median / p90 / max ms | -> priority 0 on the wire "
        "median ms | median / keepalived's SIGTERM median | -> peer's master hook runs "
        "(trials) median / p90 / max ms | hook median / keepalived's |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|\n";
  bool met = true;
  std::string verdict;
  for (const auto& r : rows) {
    const auto p = fb::stats(peer_ms(r));
    std::vector<double> prio0;
    for (const auto& t : r.trials) prio0.push_back(t.to_prio0);
    const double ka = keepalived_median(r.interval, peer_ms);
    const double ratio = ka > 0 && p.n > 0 ? p.median / ka : 0;
    md << "| " << r.interval << " | " << setup_text(r.setup) << " | " << way_text(r.way) << " | "
       << p.n << " | "
       << (r.setup == Setup::kInstant ? std::string("none") : fb::fixed(r.floor) + " (Skew_Time)")
       << " | " << fb::fixed(p.min, 2) << " / " << fb::fixed(p.median, 2) << " / "
       << fb::fixed(p.p90, 2) << " / " << fb::fixed(p.max, 2) << " | "
       << fb::fixed(fb::stats(prio0).median, 2) << " | " << fb::fixed(ratio, 3) << " | ";
    const auto h = fb::stats(hook_ms(r));
    const double ka_hook = keepalived_median(r.interval, hook_ms);
    md << "(" << h.n << ") " << fb::fixed(h.median, 2) << " / " << fb::fixed(h.p90, 2) << " / "
       << fb::fixed(h.max, 2) << " | "
       << fb::fixed(ka_hook > 0 && h.n > 0 ? h.median / ka_hook : 0, 3) << " |\n";
    if (r.setup == Setup::kInstant && r.way != Way::kSocket) {
      const double hook_ratio = ka_hook > 0 && h.n > 0 ? h.median / ka_hook : 0;
      const bool ok = p.n > 0 && ratio <= kRatioTarget && h.n > 0 && hook_ratio <= kRatioTarget;
      met = met && ok;
      verdict += (verdict.empty() ? "" : "; ") + r.interval + " " +
                 (r.way == Way::kSigterm ? "SIGTERM" : "failoverctl") + ": " +
                 fb::fixed(ratio, 3) + ", hook " + fb::fixed(hook_ratio, 3);
    }
    if (r.setup == Setup::kRfcWait && r.way == Way::kFailoverctl) {
      std::vector<double> excess;
      for (const auto& t : r.trials) excess.push_back(t.peer - r.floor);
      const auto e = fb::stats(excess);
      const bool ok = e.n > 0 && e.median < kExcessTargetMs && e.p90 < kExcessTargetMs;
      met = met && ok;
      verdict += (verdict.empty() ? "" : "; ") + r.interval +
                 " RFC wait, failoverctl over Skew_Time: median " + fb::fixed(e.median, 2) +
                 ", p90 " + fb::fixed(e.p90, 2) + " ms";
    }
  }
  const auto v = fb::stats(version_ms);
  md << "\n`failoverctl --version` (exec of the static binary, exit: the floor of any failoverctl "
        "command) over "
     << v.n << " runs: min " << fb::fixed(v.min, 2) << ", median " << fb::fixed(v.median, 2)
     << ", p90 " << fb::fixed(v.p90, 2) << ", max " << fb::fixed(v.max, 2) << " ms.\n";
  md << "\nTargets: instant handover (SIGTERM and `failoverctl failover`) at most "
     << fb::fixed(kRatioTarget, 2)
     << " x keepalived's SIGTERM median, to the peer's first advert and to its master hook; with the RFC wait, `failoverctl failover` within "
        "Skew_Time + "
     << fb::fixed(kExcessTargetMs, 0) << " ms (median and p90): " << (met ? "met" : "NOT met")
     << " (" << verdict << ").\n\nMeasured on " << fb::machine_line() << ".\n";
  return fb::emit_report(md.str(), out_path, "switchover_bench") ? 0 : 1;
}
