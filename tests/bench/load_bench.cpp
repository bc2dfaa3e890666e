// Steady under load: two nodes of one implementation in the two-namespace setup while stress-ng
// loads the machine, counting the transitions nobody asked for and the gaps between the
// master's adverts as the backup's side of the link sees them (kernel timestamps).
//
// Implementations: failoverd as installed (default settings: realtime event loop, memory
// locked), keepalived with its defaults, and keepalived tuned with `vrrp_rt_priority 10` (the
// priority failoverd uses) and `vrrp_no_swap`.
//
// Usage (root): load_bench [--seconds N] [--intervals 10ms,100ms,1s]
//               [--impls failoverd,keepalived,keepalived-tuned] [--load stress|none]
//               [--apart yes|no] [--out FILE]
// The load is `stress-ng --cpu 6 --vm 2 --vm-bytes 25% --hdd 1` for N seconds (default 600).
// At each interval the implementations run side by side, each pair in its own namespaces, under
// one load: they meet the same load at the same moments, and the three take N seconds, not 3N.
// `--apart yes` gives each implementation the load alone, one after the other.
#include <iostream>
#include <memory>
#include <sstream>

#include "bench_pair.h"

namespace fe = failoverd::e2e;
namespace fb = failoverd::bench;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// One pair under test, and how to count its transitions so far.
struct Pair {
  virtual ~Pair() = default;
  virtual void start() = 0;
  virtual bool settled(fe::Ms timeout) = 0;
  // Times the backup became MASTER, and transitions of both nodes, since start.
  virtual std::size_t backup_takeovers() const = 0;
  virtual std::size_t transitions() const = 0;
  // The lines of both logs that say why a transition happened, for the operator to read.
  virtual std::string transition_lines() const = 0;
};

struct FailoverdPair : Pair {
  FailoverdPair(fe::NetnsPair& net, const std::filesystem::path& dir, const std::string& interval)
      : runtime("load-run", "/dev/shm") {
    for (int host = 0; host < 2; ++host) {
      fe::NodeConfig c = fb::pair_node_config(net, dir, host, "fo", interval);
      // As installed, the control socket and the files beside it (the virtual-IP ledger the
      // loop rewrites at each take and release) live in /run/failoverd, a tmpfs. Here /tmp is
      // on the disk stress-ng --hdd keeps busy, where a rename can wait for the journal.
      c.socket = (runtime.path() / (c.name + ".sock")).string();
      d[host] = std::make_unique<fe::Node>(c, dir);
    }
  }
  void start() override {
    d[0]->start();
    d[1]->start();
  }
  bool settled(fe::Ms t) override {
    return d[0]->wait_state("MASTER", t).has_value() && d[1]->wait_state("BACKUP", t).has_value();
  }
  std::size_t backup_takeovers() const override { return d[1]->transitions_to("MASTER"); }
  std::size_t transitions() const override {
    std::size_t n = 0;
    for (const auto& node : d) {
      for (const char* s : {"INIT", "BACKUP", "MASTER", "FAULT"}) n += node->transitions_to(s);
    }
    return n;
  }
  std::string transition_lines() const override {
    std::string out;
    for (const auto& node : d) {
      std::istringstream lines(node->log());
      for (std::string line; std::getline(lines, line);) {
        if (line.find(" -> ") != std::string::npos || line.find("event loop") != std::string::npos) {
          out += "    " + line + "\n";
        }
      }
    }
    return out;
  }
  fe::TempDir runtime;  // a tmpfs, as /run is
  std::unique_ptr<fe::Node> d[2];
};

struct KeepalivedPair : Pair {
  KeepalivedPair(fe::NetnsPair& net, const std::filesystem::path& dir, const std::string& interval,
                 bool tuned) {
    for (int host = 0; host < 2; ++host) {
      fe::KeepalivedConfig c = fb::pair_keepalived_config(net, host, interval);
      if (tuned) c.global_defs = {"vrrp_rt_priority 10", "vrrp_no_swap"};
      std::filesystem::create_directories(dir / c.name);
      d[host] = std::make_unique<fe::Keepalived>(c, dir / c.name);
    }
  }
  void start() override {
    d[0]->start();
    d[1]->start();
  }
  bool settled(fe::Ms t) override {
    return d[0]->wait_state("MASTER", t).has_value() && d[1]->wait_state("BACKUP", t).has_value();
  }
  std::size_t backup_takeovers() const override {
    const auto h = d[1]->state_history();
    return static_cast<std::size_t>(std::count(h.begin(), h.end(), "MASTER"));
  }
  std::size_t transitions() const override {
    return d[0]->state_history().size() + d[1]->state_history().size();
  }
  std::string transition_lines() const override {
    std::string out;
    for (const auto& k : d) {
      for (const auto& state : k->state_history()) out += "    " + k->config().name + ": " + state + "\n";
    }
    return out;
  }
  std::unique_ptr<fe::Keepalived> d[2];
};

double interval_ms(const std::string& interval) {
  if (interval == "10ms") return 10;
  if (interval == "100ms") return 100;
  if (interval == "1s") return 1000;
  throw std::invalid_argument("advert interval " + interval);
}

// Nearest rank.
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())));
  return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

struct Row {
  std::string impl, interval;
  int seconds = 0;
  std::size_t takeovers = 0, transitions = 0, adverts = 0;
  std::size_t wire_takeovers = 0;  // bursts of adverts from the backup, as the link saw them
  std::uint64_t capture_drops = 0;
  double p50 = 0, p99 = 0, max = 0;
};

// One implementation's pair in its own two namespaces, with the capture on the backup's link.
struct Run {
  Run(const std::string& impl_name, const std::string& interval_text)
      : impl(impl_name), interval(interval_text), net("load"), dir("load"),
        sniffer(net.ns(1), fe::NetnsPair::iface()) {
    if (impl == "failoverd") {
      pair = std::make_unique<FailoverdPair>(net, dir.path(), interval);
    } else {
      pair = std::make_unique<KeepalivedPair>(net, dir.path(), interval, impl == "keepalived-tuned");
    }
  }
  void begin() {
    takeovers0 = pair->backup_takeovers();
    transitions0 = pair->transitions();
    sniffer.clear();
    drops0 = sniffer.drops();
  }
  Row row(int seconds) {
    Row r;
    r.impl = impl;
    r.interval = interval;
    r.seconds = seconds;
    r.takeovers = pair->backup_takeovers() - takeovers0;
    r.transitions = pair->transitions() - transitions0;
    r.capture_drops = sniffer.drops() - drops0;
    if (r.transitions > 0) std::cerr << impl << ":\n" << pair->transition_lines();
    std::vector<double> gaps;
    std::optional<fb::WallClock::time_point> prev, backup_prev;
    const double burst_gap_ms = 3.0 * interval_ms(interval);
    for (const auto& p : sniffer.packets()) {
      if (p.kind != fb::Packet::Kind::kAdvert) continue;
      // The backup advertises only as MASTER: a run of its adverts is one takeover, counted
      // the same way for every implementation (their own state records can lag or merge).
      if (p.outgoing && p.source == fe::NetnsPair::address(1) && p.priority != 0) {
        if (!backup_prev || fb::ms_between(*backup_prev, p.at) > burst_gap_ms) ++r.wire_takeovers;
        backup_prev = p.at;
        continue;
      }
      if (p.outgoing || p.source != fe::NetnsPair::address(0)) continue;
      ++r.adverts;
      if (prev) gaps.push_back(fb::ms_between(*prev, p.at));
      prev = p.at;
    }
    r.p50 = percentile(gaps, 0.50);
    r.p99 = percentile(gaps, 0.99);
    r.max = gaps.empty() ? 0 : *std::max_element(gaps.begin(), gaps.end());
    return r;
  }

  std::string impl, interval;
  fe::NetnsPair net;
  fe::TempDir dir;
  fb::Sniffer sniffer;
  std::unique_ptr<Pair> pair;
  std::size_t takeovers0 = 0, transitions0 = 0;
  std::uint64_t drops0 = 0;
};

// Runs `impls` side by side at one advert interval: every pair settles, then one load (or
// none) for `seconds`, so each implementation meets the same load at the same moments.
std::vector<Row> run_together(const std::vector<std::string>& impls, const std::string& interval,
                              int seconds, bool load) {
  std::vector<std::unique_ptr<Run>> runs;
  for (const auto& impl : impls) runs.push_back(std::make_unique<Run>(impl, interval));
  for (auto& run : runs) run->pair->start();
  for (auto& run : runs) {
    if (!run->pair->settled(120s)) {  // a loaded machine may take long
      throw std::runtime_error(run->impl + " at " + interval + " did not settle");
    }
  }
  std::this_thread::sleep_for(2s);
  for (auto& run : runs) run->begin();

  if (load) {
    const std::string secs = std::to_string(seconds);
    const auto& scratch = runs.front()->dir.path();
    const pid_t stress = fb::spawn_in(
        "",
        {"/usr/bin/stress-ng", "--cpu", "6", "--vm", "2", "--vm-bytes", "25%", "--hdd", "1",
         "--temp-path", scratch.string(), "--timeout", secs + "s"},
        {"PATH=/usr/bin:/bin"}, (scratch / "stress-ng.log").string());
    const int status = fb::reap(stress, std::chrono::seconds(seconds + 60));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::cerr << "  stress-ng ended with status " << status << "\n";
    }
  } else {
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
  }
  std::this_thread::sleep_for(1s);  // the last transitions reach the logs
  std::vector<Row> rows;
  for (auto& run : runs) rows.push_back(run->row(seconds));
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 600;
  std::string intervals = "10ms,100ms,1s";
  std::string impls = "failoverd,keepalived,keepalived-tuned";
  std::string load = "stress";
  std::string out_path;
  bool apart = false;
  if (!fb::parse_options(
          argc, argv,
          {{"--seconds", [&](const std::string& v) { seconds = std::stoi(v); }},
           {"--intervals", [&](const std::string& v) { intervals = v; }},
           {"--impls", [&](const std::string& v) { impls = v; }},
           {"--load",
            [&](const std::string& v) {
              if (v != "stress" && v != "none") throw std::invalid_argument(v);
              load = v;
            }},
           {"--out", [&](const std::string& v) { out_path = v; }},
           {"--apart",
            [&](const std::string& v) {
              if (v != "yes" && v != "no") throw std::invalid_argument(v);
              apart = v == "yes";
            }}},
          "load_bench [--seconds N] [--intervals LIST] [--impls LIST] [--load stress|none] "
          "[--apart yes|no] [--out FILE]") ||
      !fb::running_as_root("load_bench")) {
    return 2;
  }
  if (load == "stress" && !std::filesystem::exists("/usr/bin/stress-ng")) {
    std::cerr << "load_bench: /usr/bin/stress-ng not found (apt-get install stress-ng)\n";
    return 2;
  }
  std::vector<Row> rows;
  const std::vector<std::string> impl_list = split_commas(impls);
  for (const auto& interval : split_commas(intervals)) {
    // Side by side by default; --apart gives each implementation the load alone.
    std::vector<std::vector<std::string>> groups;
    if (apart) {
      for (const auto& impl : impl_list) groups.push_back({impl});
    } else {
      groups.push_back(impl_list);
    }
    for (const auto& group : groups) {
      std::cerr << "at " << interval << ", " << seconds << " s, load " << load << ":";
      for (const auto& impl : group) std::cerr << " " << impl;
      std::cerr << "\n";
      try {
        for (const Row& r : run_together(group, interval, seconds, load == "stress")) {
          std::cerr << "  " << r.impl << ": backup took over " << r.takeovers << " times ("
                    << r.wire_takeovers << " on the wire); gap max " << r.max << " ms\n";
          rows.push_back(r);
        }
      } catch (const std::exception& e) {
        std::cerr << "load_bench: " << e.what() << "\n";
        return 1;
      }
    }
  }
  std::ostringstream md;
  md << "| implementation | advert_interval | seconds | load | backup became MASTER | "
        "takeovers on the wire | transitions (both nodes) | adverts seen | gap p50 ms | "
        "gap p99 ms | gap max ms | frames the capture lost |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    md << "| " << r.impl << " | " << r.interval << " | " << r.seconds << " | " << load << " | "
       << r.takeovers << " | " << r.wire_takeovers << " | " << r.transitions << " | "
       << r.adverts << " | "
       << fb::fixed(r.p50, 2) << " | " << fb::fixed(r.p99, 2) << " | " << fb::fixed(r.max, 2)
       << " | " << r.capture_drops << " |\n";
  }
  md << "\n" << fb::machine_line() << "\n";
  return fb::emit_report(md.str(), out_path, "load_bench") ? 0 : 1;
}
