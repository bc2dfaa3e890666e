// Reserved-IP failover end to end: `kill -9` of the master until the DigitalOcean API
// has the reserved IP on the backup, for a failoverd backup and for the setup it replaces
// (keepalived with a notify_master shell script that calls the API with curl), same run.
//
// Two namespaces joined by a veth pair (tests/harness NetnsPair). The fake DigitalOcean API
// (tests/cloud/fake_do_api) runs in host 0's namespace with --delay-ms 50 (every answer 50 ms
// late, like a distant API) and --instant-actions (the POST answers the action "completed" and
// the assignment changes at the POST, so the cloud's own work is not measured). The master is
// failoverd (priority 150, droplet 1) in both variants: it is the same process killed the same
// way; only the backup (priority 100, droplet 2) differs.
//
// A sniffer on the backup's side of the link timestamps (kernel time) every VRRP advert and
// every HTTP request and answer between the backup and the API, so both backups are measured
// the same way:
//   detection     = first advert of the backup - last advert of the master
//                   (floor: the backup's Master_Down_Interval)
//   MASTER        = the backup's first advert (a new master sends one at once)
//   POST          = the backup's assign request leaves; answer = its answer arrives
//   excess        = answer - MASTER - API delay: what the backup adds to one API round trip
//   moved at API  = the fake's record of the assignment (wall clock, 1 ms resolution)
//
// Usage (root): reserved_ip_bench [--trials N] [--advert-interval 1s|100ms] [--delay-ms 50]
//                                 [--out FILE]
#include <signal.h>

#include <iostream>
#include <random>
#include <sstream>

#include "bench_pair.h"

namespace fe = failoverd::e2e;
namespace fb = failoverd::bench;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using fb::Packet;
using fb::WallClock;

namespace {

constexpr const char* kReservedIp = "203.0.113.10";
constexpr std::uint16_t kApiPort = 8099;
// The backup's failoverd re-reads the holder this often (in every state), so its memory of
// the holder is fresh when it becomes MASTER.
constexpr const char* kReconcile = "1s";

std::string api_url() { return "http://" + fe::NetnsPair::address(0) + ":" + std::to_string(kApiPort); }

// GET on the fake's admin paths, from inside host 0.
nlohmann::json api_state(const fe::NetnsPair& net) {
  const auto r = fe::run_command(
      {"ip", "netns", "exec", net.ns(0), "curl", "-s", "-m", "2", api_url() + "/_fake/state"}, 5s);
  if (r.exit_code != 0) return nullptr;
  return nlohmann::json::parse(r.output, nullptr, false);
}

long long holder(const nlohmann::json& state) {
  if (!state.is_object() || !state.contains("reserved_ips")) return -1;
  for (const auto& r : state["reserved_ips"]) {
    if (r["ip"] == kReservedIp && r["droplet"].is_number()) return r["droplet"].get<long long>();
  }
  return -1;
}

// The fake's first record of the IP moving to `droplet` at or after `since_ms` (unix ms).
std::optional<long long> assignment_ms(const nlohmann::json& state, long long droplet,
                                       long long since_ms) {
  if (!state.is_object() || !state.contains("assignments")) return std::nullopt;
  for (const auto& a : state["assignments"]) {
    if (a["droplet"].is_number() && a["droplet"].get<long long>() == droplet &&
        a["at_unix_ms"].get<long long>() >= since_ms) {
      return a["at_unix_ms"].get<long long>();
    }
  }
  return std::nullopt;
}

long long unix_ms(WallClock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// ---- the two backups ----

struct Backup {
  virtual ~Backup() = default;
  virtual void start() = 0;
  virtual bool is_backup(fe::Ms timeout) = 0;  // settled in BACKUP
  virtual void forget_state() {}               // before the master comes back
  virtual std::string log() const = 0;
};

std::string reserved_ip_section(const fs::path& dir, int droplet) {
  return "[reserved_ip]\nprovider = digitalocean\naddress = " + std::string(kReservedIp) +
         "\ntoken_file = " + (dir / "do.token").string() + "\ndroplet_id = " +
         std::to_string(droplet) + "\napi_url = " + api_url() + "\nreconcile_interval = " +
         kReconcile + "\n";
}

fe::NodeConfig failoverd_config(const fe::NetnsPair& net, const fs::path& dir, int host,
                                const std::string& interval) {
  fe::NodeConfig c = fb::pair_node_config(net, dir, host, "rip", interval);
  c.extra = reserved_ip_section(dir, host == 0 ? 1 : 2);
  return c;
}

struct FailoverdBackup : Backup {
  FailoverdBackup(const fe::NetnsPair& net, const fs::path& dir, const std::string& interval)
      : node(failoverd_config(net, dir, 1, interval), dir) {}
  void start() override { node.start(); }
  bool is_backup(fe::Ms t) override { return node.wait_state("BACKUP", t).has_value(); }
  std::string log() const override { return node.log(); }
  fe::Node node;
};

// keepalived as people run it on DigitalOcean today: a notify_master script that assigns the
// reserved IP with curl. A notify_backup script records BACKUP (nothing extra runs on MASTER).
struct KeepalivedBackup : Backup {
  KeepalivedBackup(const fe::NetnsPair& net, const fs::path& top, const std::string& interval)
      : netns(net.ns(1)), home(top / "ka-backup") {
    fs::create_directories(home);
    const fs::path assign = home / "assign-reserved-ip.sh";
    fe::write_file(assign,
                   "#!/bin/sh\n"
                   "# keepalived notify_master: move the DigitalOcean reserved IP to this "
                   "droplet.\n"
                   "TOKEN=$(cat " + (top / "do.token").string() + ")\n"
                   "IP=" + kReservedIp + "\n"
                   "DROPLET_ID=2\n"
                   "curl -s -X POST \\\n"
                   "  -H \"Content-Type: application/json\" \\\n"
                   "  -H \"Authorization: Bearer $TOKEN\" \\\n"
                   "  -d \"{\\\"type\\\":\\\"assign\\\",\\\"droplet_id\\\":$DROPLET_ID}\" \\\n"
                   "  \"" + api_url() + "/v2/reserved_ips/$IP/actions\" > /dev/null\n",
                   fs::perms(0755));
    state_file = home / "state";
    const fs::path record = home / "record-backup.sh";
    fe::write_file(record,
                   "#!/bin/sh\necho BACKUP > '" + state_file.string() + ".tmp' && mv '" +
                       state_file.string() + ".tmp' '" + state_file.string() + "'\n",
                   fs::perms(0755));
    conf = home / "keepalived.conf";
    std::ostringstream s;
    s << "global_defs {\n  router_id ka-backup\n  vrrp_version 3\n  script_user root\n"
      << "  enable_script_security\n}\n\n"
      << "vrrp_instance VI_51 {\n  state BACKUP\n  interface " << fe::NetnsPair::iface()
      << "\n  virtual_router_id 51\n  priority " << fb::kBackupPriority << "\n  advert_int "
      << (interval == "1s" ? "1" : "0.1") << "\n  unicast_src_ip " << fe::NetnsPair::address(1)
      << "\n  unicast_peer {\n    " << fe::NetnsPair::address(0) << "\n  }\n"
      << "  virtual_ipaddress {\n    " << fb::kVip << "\n  }\n"
      << "  notify_master " << assign.string() << "\n"
      << "  notify_backup " << record.string() << "\n}\n";
    fe::write_file(conf, s.str());
  }
  ~KeepalivedBackup() override { stop(); }

  void start() override {
    log_path = home / "keepalived.log";
    process = std::make_unique<fe::Process>(
        std::vector<std::string>{"keepalived", "-n", "-l", "-D", "-P", "-f", conf.string(), "-p",
                                 (home / "k.pid").string(), "-r", (home / "vrrp.pid").string(),
                                 "-c", (home / "check.pid").string()},
        fe::Process::Options{netns, log_path});
  }
  bool is_backup(fe::Ms t) override {
    return fe::wait_until([&] { return fe::read_file(state_file).rfind("BACKUP", 0) == 0; }, t,
                          10ms)
        .has_value();
  }
  void forget_state() override {
    std::error_code ec;
    fs::remove(state_file, ec);
  }
  std::string log() const override { return fe::read_file(log_path); }
  void stop() {
    if (!process) return;
    // SIGTERM: the parent stops its VRRP child, then exits.
    process->signal(SIGTERM);
    if (!process->wait(5s)) process->kill_and_reap();
    process.reset();
  }

  std::string netns;
  fs::path home, conf, state_file, log_path;
  std::unique_ptr<fe::Process> process;
};

// ---- one trial ----

struct Trial {
  double detection = 0;       // last advert of the master -> first advert of the backup
  double kill_to_master = 0;  // kill -> first advert of the backup
  double master_to_post = 0;  // first advert of the backup -> its assign request leaves
  double post_rtt = 0;        // assign request -> its answer, at the backup
  double kill_to_moved = -1;  // kill -> the fake's record (ms resolution); -1 unknown
  double kill_to_answer = 0;  // kill -> the answer arrives at the backup
  double excess = 0;          // answer - MASTER - API delay
  int gets_before_post = 0;   // GETs the backup sent between MASTER and the POST
};

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::optional<Trial> measure(const std::vector<Packet>& ps, WallClock::time_point t_kill,
                             const std::optional<long long>& moved_ms, double delay_ms,
                             std::string& why) {
  const std::string master_ip = fe::NetnsPair::address(0);
  const std::string backup_ip = fe::NetnsPair::address(1);
  const auto last_a = fb::last_advert(ps, master_ip, t_kill);
  const auto first_b = fb::first_advert(ps, backup_ip, t_kill);
  if (!last_a || !first_b) {
    why = !last_a ? "master's last advert not captured" : "no advert from the backup";
    return std::nullopt;
  }
  const Packet* post = nullptr;
  const Packet* answer = nullptr;
  int gets = 0;
  for (const auto& p : ps) {
    if (p.kind != Packet::Kind::kHttp || p.at < t_kill) continue;
    if (!post && p.outgoing && starts_with(p.payload, "GET ") && p.at >= *first_b - 2ms) ++gets;
    if (!post && p.outgoing && starts_with(p.payload, "POST ") &&
        p.payload.find("/actions") != std::string::npos) {
      post = &p;
    } else if (post && !answer && !p.outgoing && p.dport == post->sport &&
               starts_with(p.payload, "HTTP/1.1 ")) {
      answer = &p;
    }
  }
  if (!post || !answer) {
    why = !post ? "no assign request from the backup" : "no answer to the assign request";
    return std::nullopt;
  }
  Trial t;
  t.detection = fb::ms_between(*last_a, *first_b);
  t.kill_to_master = fb::ms_between(t_kill, *first_b);
  t.master_to_post = fb::ms_between(*first_b, post->at);
  t.post_rtt = fb::ms_between(post->at, answer->at);
  t.kill_to_answer = fb::ms_between(t_kill, answer->at);
  t.excess = fb::ms_between(*first_b, answer->at) - delay_ms;
  t.gets_before_post = gets;
  if (moved_ms) t.kill_to_moved = static_cast<double>(*moved_ms) - fb::ms_between(
      WallClock::time_point{}, t_kill);
  return t;
}

std::vector<Trial> run_variant(const std::string& variant, const std::string& interval,
                               int trials, double delay_ms, std::mt19937& rng) {
  std::cerr << variant << " (advert_interval " << interval << ")\n";
  fe::NetnsPair net("ripb");
  fe::TempDir dir("ripbench");
  fe::write_file(dir / "do.token", "dop_v1_benchtoken0123456789\n", fs::perms(0600));
  fe::Process api(
      {fe::binary_path("tests/fake_do_api"), "--listen", fe::NetnsPair::address(0), "--port",
       std::to_string(kApiPort), "--token-file", (dir / "do.token").string(), "--reserved-ip",
       std::string(kReservedIp), "--droplet", "1", "--droplet", "2", "--delay-ms",
       std::to_string(static_cast<long>(delay_ms)), "--instant-actions"},
      fe::Process::Options{net.ns(0), dir / "fake_do_api.log"});
  if (!fe::wait_until([&] { return api_state(net).is_object(); }, 5s)) {
    throw std::runtime_error("fake_do_api did not start: " + fe::read_file(dir / "fake_do_api.log"));
  }
  fb::Sniffer sniffer(net.ns(1), fe::NetnsPair::iface(), kApiPort);
  fe::Node master(failoverd_config(net, dir.path(), 0, interval), dir.path());
  std::unique_ptr<Backup> backup;
  if (variant == "failoverd") {
    backup = std::make_unique<FailoverdBackup>(net, dir.path(), interval);
  } else {
    backup = std::make_unique<KeepalivedBackup>(net, dir.path(), interval);
  }
  backup->start();
  master.start();

  const auto ival = fb::advert_interval(interval);
  std::vector<Trial> out;
  for (int i = 0; i < trials; ++i) {
    if (!master.wait_state("MASTER", 30s) || !backup->is_backup(30s) ||
        !fe::wait_until([&] { return holder(api_state(net)) == 1; }, 10s)) {
      std::cerr << "  trial " << i << ": did not settle (master " << master.state()
                << ", holder " << holder(api_state(net)) << "); skipped\n";
      if (!master.running()) master.start();
      continue;
    }
    // Two reconcile intervals: the backup has read the holder since the master's claim.
    std::this_thread::sleep_for(2s);
    sniffer.clear();
    fb::sleep_to_random_phase(ival, rng);
    const auto t_kill = WallClock::now();
    master.kill9();
    master.wait_exit(5s);
    const bool answered = sniffer.wait_for(
        [&](const std::vector<Packet>& ps) {
          bool post = false;
          for (const auto& p : ps) {
            if (p.kind != Packet::Kind::kHttp || p.at < t_kill) continue;
            if (p.outgoing && starts_with(p.payload, "POST ")) post = true;
            if (post && !p.outgoing && starts_with(p.payload, "HTTP/1.1 ")) return true;
          }
          return false;
        },
        15s);
    std::this_thread::sleep_for(20ms);
    const auto state = api_state(net);
    std::string why = answered ? "" : "no assign answered within 15 s";
    auto t = measure(sniffer.packets(), t_kill, assignment_ms(state, 2, unix_ms(t_kill)),
                     delay_ms, why);
    if (t) {
      out.push_back(*t);
      std::cerr << "  trial " << i << ": detection " << fb::fixed(t->detection) << " ms, excess "
                << fb::fixed(t->excess) << " ms, GETs before POST " << t->gets_before_post
                << "\n";
    } else {
      std::cerr << "  trial " << i << ": " << why << "\n" << fe::tail_lines(backup->log(), 15);
    }
    backup->forget_state();
    master.start();
  }
  return out;
}

std::string per_trial_table(const std::vector<Trial>& ts) {
  std::ostringstream md;
  md << "| trial | detection ms | kill -> backup MASTER ms | MASTER -> POST sent ms | "
        "POST -> answer ms | kill -> moved at API ms | kill -> answer at backup ms | "
        "excess over detection + delay ms | GETs before the POST |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const auto& t = ts[i];
    md << "| " << i + 1 << " | " << fb::fixed(t.detection) << " | " << fb::fixed(t.kill_to_master)
       << " | " << fb::fixed(t.master_to_post, 2) << " | " << fb::fixed(t.post_rtt, 2) << " | "
       << (t.kill_to_moved < 0 ? std::string("?") : fb::fixed(t.kill_to_moved, 0)) << " | "
       << fb::fixed(t.kill_to_answer) << " | " << fb::fixed(t.excess, 2) << " | "
       << t.gets_before_post << " |\n";
  }
  return md.str();
}

}  // namespace

int main(int argc, char** argv) {
  int trials = 10;
  std::string interval = "1s";
  double delay_ms = 50;
  std::string out_path;
  if (!fb::parse_options(argc, argv,
                         {{"--trials", [&](const std::string& v) { trials = std::stoi(v); }},
                          {"--advert-interval", [&](const std::string& v) { interval = v; }},
                          {"--delay-ms", [&](const std::string& v) { delay_ms = std::stod(v); }},
                          {"--out", [&](const std::string& v) { out_path = v; }}},
                         "reserved_ip_bench [--trials N] [--advert-interval 1s|100ms] "
                         "[--delay-ms MS] [--out FILE]")) {
    return 2;
  }
  if (interval != "1s" && interval != "100ms") {
    std::cerr << "reserved_ip_bench: --advert-interval is 1s or 100ms\n";
    return 2;
  }
  if (!fb::running_as_root("reserved_ip_bench")) return 2;
  std::mt19937 rng(4242);
  const double mdi = fb::backup_master_down_ms(fb::advert_interval(interval));

  std::vector<std::pair<std::string, std::vector<Trial>>> results;
  for (const std::string variant : {"failoverd", "keepalived"}) {
    results.emplace_back(variant, run_variant(variant, interval, trials, delay_ms, rng));
  }

  std::ostringstream md;
  md << "| backup | trials | detection median ms | MASTER -> POST sent median / max ms | "
        "excess median ms | excess max ms | kill -> answer median ms | trials with a GET "
        "before the POST |\n|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& [variant, ts] : results) {
    std::vector<double> det, m2p, excess, k2a;
    int with_get = 0;
    for (const auto& t : ts) {
      det.push_back(t.detection);
      m2p.push_back(t.master_to_post);
      excess.push_back(t.excess);
      k2a.push_back(t.kill_to_answer);
      with_get += t.gets_before_post > 0;
    }
    const auto d = fb::stats(det), m = fb::stats(m2p), e = fb::stats(excess),
               k = fb::stats(k2a);
    md << "| " << (variant == "failoverd" ? "failoverd" : "keepalived + notify_master curl")
       << " | " << ts.size() << " | " << fb::fixed(d.median) << " | " << fb::fixed(m.median, 2)
       << " / " << fb::fixed(m.max, 2) << " | " << fb::fixed(e.median, 2) << " | "
       << fb::fixed(e.max, 2) << " | " << fb::fixed(k.median) << " | " << with_get << " |\n";
  }
  md << "\nProtocol floor of detection: " << fb::fixed(mdi)
     << " ms (Master_Down_Interval of the backup, priority " << fb::kBackupPriority
     << ", advert_interval " << interval << "). API delay: " << fb::fixed(delay_ms, 0)
     << " ms on every answer.\n\n";
  const auto& fo = results.front().second;
  if (!fo.empty()) {
    std::vector<double> excess;
    for (const auto& t : fo) excess.push_back(t.excess);
    const auto e = fb::stats(excess);
    md << "Target: failoverd's time is detection + one API round trip + under 10 ms: "
       << (e.max < 10 ? "met" : "NOT met") << " (excess median " << fb::fixed(e.median, 2)
       << " ms, max " << fb::fixed(e.max, 2) << " ms over " << e.n << " trials).\n\n";
  }
  for (const auto& [variant, ts] : results) {
    md << "Per trial, " << (variant == "failoverd" ? "failoverd" : "keepalived + notify_master curl")
       << " backup:\n\n"
       << per_trial_table(ts) << "\n";
  }
  md << "Measured on " << fb::machine_line() << ".\n";
  return fb::emit_report(md.str(), out_path, "reserved_ip_bench") ? 0 : 1;
}
