// Steady under load: two nodes of one implementation in the two-namespace setup while stress-ng
// loads the machine, counting the transitions nobody asked for and the gaps between the
// master's adverts as the backup's side of the link sees them (kernel timestamps).
//
// Implementations: failoverd as installed (default settings: realtime event loop, memory
// locked), keepalived with its defaults, and keepalived tuned with `vrrp_rt_priority 10` (the
// priority failoverd uses) and `vrrp_no_swap`.
//
// Usage (root): load_bench [--seconds N] [--intervals 10ms,100ms,1s]
//               [--impls failoverd,keepalived,keepalived-tuned] [--load stress|none] [--out FILE]
// The load is `stress-ng --cpu 6 --vm 2 --vm-bytes 25% --hdd 1` for N seconds (default 600).
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
  FailoverdPair(fe::NetnsPair& net, const std::filesystem::path& dir, const std::string& interval) {
    for (int host = 0; host < 2; ++host) {
      d[host] = std::make_unique<fe::Node>(fb::pair_node_config(net, dir, host, "fo", interval),
                                           dir);
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
  double p50 = 0, p99 = 0, max = 0;
};

Row run_one(const std::string& impl, const std::string& interval, int seconds, bool load) {
  fe::NetnsPair net("load");
  fe::TempDir dir("load");
  fb::Sniffer sniffer(net.ns(1), fe::NetnsPair::iface());
  std::unique_ptr<Pair> pair;
  if (impl == "failoverd") {
    pair = std::make_unique<FailoverdPair>(net, dir.path(), interval);
  } else {
    pair = std::make_unique<KeepalivedPair>(net, dir.path(), interval, impl == "keepalived-tuned");
  }
  pair->start();
  if (!pair->settled(30s)) throw std::runtime_error(impl + " at " + interval + " did not settle");
  std::this_thread::sleep_for(2s);
  const std::size_t takeovers0 = pair->backup_takeovers();
  const std::size_t transitions0 = pair->transitions();
  sniffer.clear();

  if (load) {
    const std::string secs = std::to_string(seconds);
    const pid_t stress = fb::spawn_in(
        "",
        {"/usr/bin/stress-ng", "--cpu", "6", "--vm", "2", "--vm-bytes", "25%", "--hdd", "1",
         "--temp-path", dir.path().string(), "--timeout", secs + "s"},
        {"PATH=/usr/bin:/bin"}, (dir.path() / "stress-ng.log").string());
    const int status = fb::reap(stress, std::chrono::seconds(seconds + 60));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::cerr << "  stress-ng ended with status " << status << "\n";
    }
  } else {
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
  }
  std::this_thread::sleep_for(1s);  // the last transitions reach the logs

  Row r;
  r.impl = impl;
  r.interval = interval;
  r.seconds = seconds;
  r.takeovers = pair->backup_takeovers() - takeovers0;
  r.transitions = pair->transitions() - transitions0;
  if (r.transitions > 0) std::cerr << pair->transition_lines();
  std::vector<double> gaps;
  std::optional<fb::WallClock::time_point> prev;
  for (const auto& p : sniffer.packets()) {
    if (p.kind != fb::Packet::Kind::kAdvert || p.outgoing ||
        p.source != fe::NetnsPair::address(0)) {
      continue;
    }
    ++r.adverts;
    if (prev) gaps.push_back(fb::ms_between(*prev, p.at));
    prev = p.at;
  }
  r.p50 = percentile(gaps, 0.50);
  r.p99 = percentile(gaps, 0.99);
  r.max = gaps.empty() ? 0 : *std::max_element(gaps.begin(), gaps.end());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds = 600;
  std::string intervals = "10ms,100ms,1s";
  std::string impls = "failoverd,keepalived,keepalived-tuned";
  std::string load = "stress";
  std::string out_path;
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
           {"--out", [&](const std::string& v) { out_path = v; }}},
          "load_bench [--seconds N] [--intervals LIST] [--impls LIST] [--load stress|none] "
          "[--out FILE]") ||
      !fb::running_as_root("load_bench")) {
    return 2;
  }
  if (load == "stress" && !std::filesystem::exists("/usr/bin/stress-ng")) {
    std::cerr << "load_bench: /usr/bin/stress-ng not found (apt-get install stress-ng)\n";
    return 2;
  }
  std::vector<Row> rows;
  for (const auto& interval : split_commas(intervals)) {
    for (const auto& impl : split_commas(impls)) {
      std::cerr << impl << " at " << interval << ", " << seconds << " s, load " << load << "\n";
      try {
        rows.push_back(run_one(impl, interval, seconds, load == "stress"));
        const Row& r = rows.back();
        std::cerr << "  backup took over " << r.takeovers << " times; gap max " << r.max
                  << " ms\n";
      } catch (const std::exception& e) {
        std::cerr << "load_bench: " << e.what() << "\n";
        return 1;
      }
    }
  }
  std::ostringstream md;
  md << "| implementation | advert_interval | seconds | load | backup became MASTER | "
        "transitions (both nodes) | adverts seen | gap p50 ms | gap p99 ms | gap max ms |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& r : rows) {
    md << "| " << r.impl << " | " << r.interval << " | " << r.seconds << " | " << load << " | "
       << r.takeovers << " | " << r.transitions << " | " << r.adverts << " | "
       << fb::fixed(r.p50, 2) << " | " << fb::fixed(r.p99, 2) << " | " << fb::fixed(r.max, 2)
       << " |\n";
  }
  md << "\n" << fb::machine_line() << "\n";
  return fb::emit_report(md.str(), out_path, "load_bench") ? 0 : 1;
}
