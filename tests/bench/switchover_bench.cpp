// Planned switchover (issue 5): `failoverctl failover` on the master until the peer is MASTER,
// measured like failover_bench measures SIGTERM, so the numbers compare.
//
// Two failoverd nodes in two namespaces (master priority 150, backup priority 100, unicast,
// one virtual IP). A sniffer on the backup's side of the link timestamps (kernel time) every
// advert. For each trial, at a random point of the advert cycle:
//   t0         the benchmark starts `failoverctl --socket S failover` (fork + exec)
//   priority 0 the master's resignation advert reaches the backup's link
//   peer       the backup's first advert: it is MASTER (it sends one at once)
// peer - t0 is the switchover; its floor is the backup's Skew_Time (it takes over Skew_Time
// after the priority-0 advert). excess = peer - t0 - Skew_Time, target under 5 ms. The master is
// restarted between trials (the resigned node would not preempt back for 60 s).
//
// Every other trial sends the same request from the benchmark itself over the control socket
// instead (t0 = just before connect): the daemons' share of the excess, without the start of a
// process, which on a small VM is most of it.
//
// Usage (root): switchover_bench [--trials N] [--out FILE]   (N trials of each way)
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

constexpr double kTargetMs = 5;

struct Trial {
  double ctl_to_prio0 = 0;  // t0 -> the priority-0 advert on the backup's link
  double ctl_exit = 0;      // t0 -> failoverctl returned (it waits until a new master shows)
  double peer = 0;          // t0 -> the backup's first advert
  double excess = 0;        // peer - Skew_Time
};

// How the failover request is sent.
enum class Via { kFailoverctl, kSocket };

struct Row {
  std::string interval;
  double skew = 0;
  std::vector<Trial> trials[2];  // by Via
};

Row run_interval(const std::string& interval, int trials, std::mt19937& rng) {
  std::cerr << "failoverctl failover at " << interval << "\n";
  const auto ival = fb::advert_interval(interval);
  Row row;
  row.interval = interval;
  row.skew = fb::backup_skew_ms(ival);
  fe::NetnsPair net("swb");
  fe::TempDir dir("swbench");
  fb::Sniffer sniffer(net.ns(1), fe::NetnsPair::iface());
  std::unique_ptr<fe::Node> nodes[2];
  for (int host = 0; host < 2; ++host) {
    nodes[host] = std::make_unique<fe::Node>(
        fb::pair_node_config(net, dir.path(), host, "sw", interval), dir.path());
  }
  nodes[1]->start();
  nodes[0]->start();
  const std::string ctl = fe::binary_path("failoverctl");
  const std::string master_ip = fe::NetnsPair::address(0);
  const std::string backup_ip = fe::NetnsPair::address(1);
  for (int i = 0; i < 2 * trials; ++i) {
    const Via via = i % 2 == 0 ? Via::kFailoverctl : Via::kSocket;
    if (!nodes[0]->wait_state("MASTER", 30s) || !nodes[1]->wait_state("BACKUP", 30s)) {
      std::cerr << "  trial " << i << ": pair did not settle; skipped\n";
      continue;
    }
    sniffer.clear();
    fb::sleep_to_random_phase(ival, rng);
    WallClock::time_point t0;
    if (via == Via::kFailoverctl) {
      const pid_t pid = fb::spawn_in(
          "", {ctl, "--socket", nodes[0]->config().socket, "failover"}, {},
          (dir / "failoverctl.log").string(), &t0);
      const int status = fb::reap(pid, 10s);
      if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::cerr << "  trial " << i << ": failoverctl failed: "
                  << fe::tail_lines(fe::read_file(dir / "failoverctl.log"), 3);
      }
    } else {
      const failoverd::control::ControlClient client(nodes[0]->config().socket, 5s);
      t0 = WallClock::now();
      const auto answer = client.call("failover");
      if (!answer) std::cerr << "  trial " << i << ": request failed: " << answer.error().message << "\n";
    }
    const auto t_exit = WallClock::now();
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
      t.ctl_to_prio0 = fb::ms_between(t0, *prio0);
      t.ctl_exit = fb::ms_between(t0, t_exit);
      t.peer = fb::ms_between(t0, *peer);
      t.excess = t.peer - row.skew;
      row.trials[static_cast<int>(via)].push_back(t);
      std::cerr << "  trial " << i << (via == Via::kFailoverctl ? " (failoverctl)" : " (socket)")
                << ": peer MASTER after " << fb::fixed(t.peer, 2)
                << " ms (priority 0 after " << fb::fixed(t.ctl_to_prio0, 2) << " ms)\n";
    }
    // The resigned master holds back for 60 s: restart it, it preempts again.
    nodes[0]->kill9();
    nodes[0]->wait_exit(5s);
    nodes[0]->start();
  }
  return row;
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
  std::vector<Row> rows;
  for (const std::string interval : {"1s", "100ms"}) rows.push_back(run_interval(interval, trials, rng));

  std::ostringstream md;
  md << "| advert_interval | request sent by | trials | Skew_Time ms (floor) | -> peer MASTER "
        "min / median / max ms | excess median / p90 / max ms | -> priority 0 on the wire "
        "median / p90 ms | request returns (failoverctl waits for the new master) median ms |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|\n";
  // The target is judged on failoverctl's median and 90th percentile; the max is shown, and
  // the trials over the target are counted, because on a 2-vCPU VM a process start alone has
  // millisecond outliers (see the --version line below).
  bool met = true;
  std::string verdict;
  for (const auto& r : rows) {
    for (const Via via : {Via::kFailoverctl, Via::kSocket}) {
      std::vector<double> peer, excess, prio0, exit;
      int over = 0;
      for (const auto& t : r.trials[static_cast<int>(via)]) {
        peer.push_back(t.peer);
        excess.push_back(t.excess);
        prio0.push_back(t.ctl_to_prio0);
        exit.push_back(t.ctl_exit);
        if (t.excess >= kTargetMs) ++over;
      }
      const auto p = fb::stats(peer), e = fb::stats(excess), z = fb::stats(prio0),
                 x = fb::stats(exit);
      md << "| " << r.interval << " | "
         << (via == Via::kFailoverctl ? "`failoverctl failover` (t0: spawn)"
                                      : "the benchmark, on the socket (t0: connect)")
         << " | " << p.n << " | " << fb::fixed(r.skew) << " | " << fb::fixed(p.min, 2) << " / "
         << fb::fixed(p.median, 2) << " / " << fb::fixed(p.max, 2) << " | "
         << fb::fixed(e.median, 2) << " / " << fb::fixed(e.p90, 2) << " / " << fb::fixed(e.max, 2)
         << " | " << fb::fixed(z.median, 2) << " / " << fb::fixed(z.p90, 2) << " | "
         << fb::fixed(x.median, 2) << " |\n";
      if (via != Via::kFailoverctl) continue;
      if (p.n == 0 || e.median >= kTargetMs || e.p90 >= kTargetMs) met = false;
      verdict += (verdict.empty() ? "" : "; ") + r.interval + ": median " +
                 fb::fixed(e.median, 2) + ", p90 " + fb::fixed(e.p90, 2) + " ms, " +
                 std::to_string(over) + " of " + std::to_string(p.n) + " trials over " +
                 fb::fixed(kTargetMs, 0) + " ms (max " + fb::fixed(e.max, 2) + ")";
    }
  }
  const auto v = fb::stats(version_ms);
  md << "\n`failoverctl --version` (exec of the static binary, exit: the floor of any failoverctl "
        "command) over "
     << v.n << " runs: min " << fb::fixed(v.min, 2) << ", median " << fb::fixed(v.median, 2)
     << ", p90 " << fb::fixed(v.p90, 2) << ", max " << fb::fixed(v.max, 2) << " ms.\n";
  md << "\nTarget: Skew_Time of the peer plus under " << fb::fixed(kTargetMs, 0)
     << " ms, judged on the median and p90 of `failoverctl failover`: "
     << (met ? "met" : "NOT met") << " (" << verdict << ").\n\nMeasured on "
     << fb::machine_line() << ".\n";
  return fb::emit_report(md.str(), out_path, "switchover_bench") ? 0 : 1;
}
