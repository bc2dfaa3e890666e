#include "harness/split.h"

#include <unistd.h>

#include <stdexcept>

namespace failoverd::e2e {

namespace {

constexpr const char* kTable = "fod_split";

}  // namespace

bool nft_available() {
  if (geteuid() != 0) return false;
  return run_command({"nft", "--version"}, 5s).exit_code == 0;
}

HeartbeatCut::HeartbeatCut(const NetnsPair& net, int udp_port) : net_(net) {
  for (int i = 0; i < 2; ++i) {
    const std::vector<std::string> pre = {"ip", "netns", "exec", net_.ns(i), "nft"};
    auto nft = [&](std::vector<std::string> args) {
      std::vector<std::string> argv = pre;
      argv.insert(argv.end(), args.begin(), args.end());
      run_checked(argv, 5s);
    };
    nft({"add", "table", "inet", kTable});
    nft({"add", "chain", "inet", kTable, "in",
         "{ type filter hook input priority 0 ; policy accept ; }"});
    nft({"add", "rule", "inet", kTable, "in", "meta", "l4proto", "112", "counter", "drop"});
    nft({"add", "rule", "inet", kTable, "in", "udp", "dport", std::to_string(udp_port), "counter",
         "drop"});
  }
  active_ = true;
}

HeartbeatCut::~HeartbeatCut() {
  try {
    heal();
  } catch (const std::exception&) {
    // The namespaces are removed with the test anyway.
  }
}

void HeartbeatCut::heal() {
  if (!active_) return;
  active_ = false;
  for (int i = 0; i < 2; ++i) {
    run_command({"ip", "netns", "exec", net_.ns(i), "nft", "delete", "table", "inet", kTable}, 5s);
  }
}

void CloudTwoHostTest::SetUp() {
  TwoHostTest::SetUp();
  if (IsSkipped()) return;
  if (!nft_available()) GTEST_SKIP() << "needs nft";
  write_file(dir() / "do.token", "dop_v1_e2etesttoken0123456789\n", std::filesystem::perms(0600));
  api_ = start_fake_do_api(net().ns(0), NetnsPair::address(0), kReservedIp, dir() / "do.token",
                           dir() / "fake_do_api.log", /*delay_ms=*/10);
  ASSERT_TRUE(wait_until([&] { return !api_get("/_fake/state").empty(); }, 5s))
      << read_file(dir() / "fake_do_api.log");
}

void CloudTwoHostTest::TearDown() {
  if (HasFailure() && api_) {
    std::cerr << "----- fake API -----\n"
              << tail_lines(read_file(dir() / "fake_do_api.log"), 30) << "\n----- assignments: "
              << api_get("/_fake/state") << "\n";
  }
  TwoHostTest::TearDown();
  api_.reset();
}

NodeConfig CloudTwoHostTest::cloud_node(int host, const std::string& name, int priority,
                                        const std::string& reconcile_interval) {
  NodeConfig c = node_config(host, name, priority);
  c.extra = "[reserved_ip]\nprovider = digitalocean\naddress = " + std::string(kReservedIp) +
            "\ntoken_file = " + (dir() / "do.token").string() +
            "\ndroplet_id = " + std::to_string(host + 1) + "\napi_url = " + api_url() +
            "\nreconcile_interval = " + reconcile_interval + "\n";
  return c;
}

std::string CloudTwoHostTest::api_url() const {
  return "http://" + NetnsPair::address(0) + ":8099";
}

std::string CloudTwoHostTest::api_get(const std::string& path) {
  const auto r =
      run_command({"ip", "netns", "exec", net().ns(0), "curl", "-s", "-f", "-m", "3",
                   api_url() + path},
                  5s);
  return r.exit_code == 0 ? r.output : std::string();
}

std::string CloudTwoHostTest::api_post(const std::string& path, const std::string& json_body) {
  const auto r = run_command({"ip", "netns", "exec", net().ns(0), "curl", "-s", "-f", "-m", "3",
                              "-H", "Content-Type: application/json", "-d", json_body,
                              api_url() + path},
                             5s);
  return r.exit_code == 0 ? r.output : std::string();
}

bool CloudTwoHostTest::set_faults(const nlohmann::json& faults) {
  return api_post("/_fake/faults", faults.dump()).find("true") != std::string::npos;
}

long long CloudTwoHostTest::holder() {
  const auto j = nlohmann::json::parse(api_get("/_fake/state"), nullptr, false);
  if (j.is_discarded() || !j.contains("reserved_ips")) return -1;
  for (const auto& r : j["reserved_ips"]) {
    if (r["ip"] == kReservedIp && r["droplet"].is_number()) return r["droplet"].get<long long>();
  }
  return -1;
}

std::vector<FakeAssignmentRecord> CloudTwoHostTest::assignments() {
  std::vector<FakeAssignmentRecord> out;
  const auto j = nlohmann::json::parse(api_get("/_fake/state"), nullptr, false);
  if (j.is_discarded() || !j.contains("assignments")) return out;
  for (const auto& a : j["assignments"]) {
    if (a["ip"] != kReservedIp) continue;
    FakeAssignmentRecord r;
    if (a["droplet"].is_number()) r.droplet = a["droplet"].get<long long>();
    r.at_unix_ms = a.value("at_unix_ms", 0LL);
    out.push_back(r);
  }
  return out;
}

std::size_t CloudTwoHostTest::assign_requests() {
  const auto j = nlohmann::json::parse(api_get("/_fake/requests"), nullptr, false);
  std::size_t n = 0;
  if (!j.is_array()) return n;
  const std::string path = std::string("/v2/reserved_ips/") + kReservedIp + "/actions";
  for (const auto& r : j) {
    if (r.value("method", "") == "POST" && r.value("path", "") == path &&
        r.value("body", "").find("\"assign\"") != std::string::npos) {
      ++n;
    }
  }
  return n;
}

}  // namespace failoverd::e2e
