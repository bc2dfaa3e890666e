// failoverctl restart on the MASTER, N times in a row: what a restart in place
// moves. Two namespaces joined by a veth pair (tests/harness NetnsPair), failoverd on both
// (master priority 150 with a virtual IP and the reserved IP at the fake DigitalOcean API in
// host 0's namespace, backup priority 100), 100 ms adverts by default. Every restart execs the
// same binary, as an upgrade would exec the new one.
//
// Prints: transitions on the peer (and on the master), assignments at the API during the run
// (POST .../actions), samples of the master's interface without the VIP (an `ip addr` about
// every 10 ms), the largest gap between the master's adverts as seen on the peer's side of the
// link (kernel timestamps, AF_PACKET), and the time of `failoverctl restart` from the call to
// the new process answering status (p50, max).
//
// Usage (root): restart_bench [--restarts N] [--interval 100ms|1s] [--out FILE]
#include <atomic>
#include <iostream>
#include <sstream>
#include <thread>

#include "bench_pair.h"

namespace fe = failoverd::e2e;
namespace fb = failoverd::bench;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kReservedIp = "203.0.113.10";

std::string api_url() { return "http://" + fe::NetnsPair::address(0) + ":8099"; }

// Assignments the fake has recorded (its state's "assignments"), -1 when it does not answer.
long long assignments(const fe::NetnsPair& net) {
  const auto r = fe::run_command(
      {"ip", "netns", "exec", net.ns(0), "curl", "-s", "-m", "2", api_url() + "/_fake/state"}, 5s);
  const auto j = nlohmann::json::parse(r.output, nullptr, false);
  if (r.exit_code != 0 || !j.is_object() || !j.contains("assignments")) return -1;
  return static_cast<long long>(j["assignments"].size());
}

long long transitions(const fe::Node& n) {
  const auto s = n.status();
  return s ? fe::json_int(*s, "transitions") : -1;
}

}  // namespace

int main(int argc, char** argv) {
  int restarts = 100;
  std::string interval = "100ms";
  std::string out_path;
  if (!fb::parse_options(argc, argv,
                         {{"--restarts", [&](const std::string& v) { restarts = std::stoi(v); }},
                          {"--interval",
                           [&](const std::string& v) {
                             if (v != "100ms" && v != "1s") throw std::invalid_argument(v);
                             interval = v;
                           }},
                          {"--out", [&](const std::string& v) { out_path = v; }}},
                         "restart_bench [--restarts N] [--interval 100ms|1s] [--out FILE]") ||
      !fb::running_as_root("restart_bench")) {
    return 2;
  }
  try {
    fe::NetnsPair net("rsb");
    fe::TempDir dir("restart-bench");
    fe::write_file(dir / "do.token", "dop_v1_benchtoken0123456789\n", fs::perms(0600));
    auto api = fe::start_fake_do_api(net.ns(0), fe::NetnsPair::address(0), kReservedIp,
                                     dir / "do.token", dir / "fake_do_api.log", /*delay_ms=*/20);
    if (!fe::wait_until([&] { return assignments(net) >= 0; }, 5s)) {
      throw std::runtime_error("the fake API did not come up");
    }
    std::vector<std::unique_ptr<fe::Node>> nodes;
    for (int host = 0; host < 2; ++host) {
      fe::NodeConfig c = fb::pair_node_config(net, dir.path(), host, "rsb", interval);
      c.extra = "[reserved_ip]\nprovider = digitalocean\naddress = " + std::string(kReservedIp) +
                "\ntoken_file = " + (dir / "do.token").string() + "\ndroplet_id = " +
                std::to_string(host + 1) + "\napi_url = " + api_url() +
                "\nreconcile_interval = 30s\n";
      nodes.push_back(std::make_unique<fe::Node>(c, dir.path()));
    }
    fe::Node& master = *nodes[0];
    fe::Node& backup = *nodes[1];
    master.start();
    if (!master.wait_state("MASTER", 10s)) throw std::runtime_error("no MASTER");
    backup.start();
    if (!backup.wait_state("BACKUP", 5s)) throw std::runtime_error("no BACKUP");
    // The first claim has reported: a restart waits for that.
    if (!fe::wait_until(
            [&] {
              const auto s = master.status();
              return s && (*s)["reserved_ip"]["holder"] == "this node";
            },
            10s)) {
      throw std::runtime_error("the master did not claim the reserved IP");
    }
    const std::string vip = fb::kVip.substr(0, fb::kVip.find('/'));
    const long long assignments0 = assignments(net);
    const long long peer0 = transitions(backup);
    const long long master0 = transitions(master);
    const pid_t pid = master.pid();

    fb::Sniffer sniffer(net.ns(1), fe::NetnsPair::iface());
    std::atomic<bool> sampling{true};
    std::atomic<long long> samples{0}, absent{0};
    std::thread sampler([&] {
      while (sampling) {
        ++samples;
        if (!net.has_address(0, vip)) ++absent;
        std::this_thread::sleep_for(10ms);
      }
    });
    std::this_thread::sleep_for(500ms);  // adverts before the first restart
    std::vector<double> took;
    int failed = 0;
    for (int i = 0; i < restarts; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = master.ctl({"restart"}, 20s);
      took.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                         .count());
      if (r.exit_code != 0) {
        ++failed;
        std::cerr << "restart " << i << ": " << r.output;
      }
      std::this_thread::sleep_for(200ms);
    }
    std::this_thread::sleep_for(500ms);
    sampling = false;
    sampler.join();

    double max_gap = 0;
    std::optional<fb::WallClock::time_point> prev;
    long long adverts = 0;
    for (const auto& p : sniffer.packets()) {
      if (p.kind != fb::Packet::Kind::kAdvert || p.outgoing ||
          p.source != fe::NetnsPair::address(0)) {
        continue;
      }
      ++adverts;
      if (prev) max_gap = std::max(max_gap, fb::ms_between(*prev, p.at));
      prev = p.at;
    }
    const auto st = fb::stats(took);
    const double down = fb::backup_master_down_ms(fb::advert_interval(interval));
    std::ostringstream md;
    md << "| restarts | advert_interval | failed | same PID | transitions on the peer | "
          "transitions on the master | API assignments | VIP absent samples | adverts seen | "
          "largest advert gap ms (Master_Down_Interval) | restart ms p50 | restart ms max |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    md << "| " << restarts << " | " << interval << " | " << failed << " | "
       << (master.pid() == pid && master.running() ? "yes" : "no") << " | "
       << transitions(backup) - peer0 << " | " << transitions(master) - master0 << " | "
       << assignments(net) - assignments0 << " | " << absent.load() << " of " << samples.load()
       << " | " << adverts << " | " << fb::fixed(max_gap, 1) << " (" << fb::fixed(down, 1)
       << ") | " << fb::fixed(st.median, 1) << " | " << fb::fixed(st.max, 1) << " |\n";
    md << "\n" << fb::machine_line() << "\n";
    master.terminate();
    backup.terminate();
    (void)master.wait_exit(10s);
    (void)backup.wait_exit(10s);
    return fb::emit_report(md.str(), out_path, "restart_bench") ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "restart_bench: " << e.what() << "\n";
    return 1;
  }
}
