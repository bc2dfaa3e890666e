// The reserved IP end to end: two failoverd nodes in namespaces and the fake DigitalOcean
// API (tests/cloud/fake_do_api) running in the first host's namespace, reachable from both.
// The API's record of who holds the IP is the proof that the address moved.
#include <gtest/gtest.h>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

constexpr const char* kReservedIp = "203.0.113.10";

class ReservedIp : public TwoHostTest {
 protected:
  void SetUp() override {
    TwoHostTest::SetUp();
    if (IsSkipped()) return;
    write_file(dir() / "do.token", "dop_v1_e2etesttoken0123456789\n", std::filesystem::perms(0600));
    write_file(dir() / "wrong.token", "dop_v1_wrong0123456789\n", std::filesystem::perms(0600));
    // Droplet 1 is node-a, droplet 2 node-b.
    api_ = start_fake_do_api(net().ns(0), NetnsPair::address(0), kReservedIp,
                             dir() / "do.token", dir() / "fake_do_api.log", /*delay_ms=*/20);
    ASSERT_TRUE(wait_until([&] { return !api_get(0, "/_fake/state").empty(); }, 5s))
        << read_file(dir() / "fake_do_api.log");
  }
  void TearDown() override {
    if (HasFailure() && api_) {
      std::cerr << "----- fake API -----\n" << tail_lines(read_file(dir() / "fake_do_api.log"), 30);
    }
    TwoHostTest::TearDown();
    api_.reset();
  }

  // GET from the fake, from inside host `host`'s namespace.
  std::string api_get(int host, const std::string& path) {
    const auto r = run_command({"ip", "netns", "exec", net().ns(host), "curl", "-s", "-m", "2",
                                "http://" + NetnsPair::address(0) + ":8099" + path},
                               5s);
    return r.exit_code == 0 ? r.output : std::string();
  }
  // The droplet the fake says holds the IP, or -1.
  long long holder() {
    const auto body = api_get(0, "/_fake/state");
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded()) return -1;
    for (const auto& r : j["reserved_ips"]) {
      if (r["ip"] == kReservedIp && r["droplet"].is_number()) return r["droplet"].get<long long>();
    }
    return -1;
  }

  NodeConfig node(int host, const std::string& name, int priority, int droplet,
                  const std::string& token = "do.token") {
    NodeConfig c = node_config(host, name, priority);
    c.extra = "[reserved_ip]\nprovider = digitalocean\naddress = " + std::string(kReservedIp) +
              "\ntoken_file = " + (dir() / token).string() + "\ndroplet_id = " +
              std::to_string(droplet) + "\napi_url = http://" + NetnsPair::address(0) +
              ":8099\nreconcile_interval = 2s\n";
    return c;
  }

  std::unique_ptr<Process> api_;
};

TEST_F(ReservedIp, TheMasterClaimsItAndACrashMovesItToTheBackup) {
  Node& a = start_node(node(0, "node-a", 150, 1));
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  Node& b = start_node(node(1, "node-b", 100, 2));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  EXPECT_TRUE(wait_until([&] { return holder() == 1; }, 10s)) << "holder " << holder();
  // The API moves the IP at the POST; node-a reports it once its poll sees the action done.
  std::optional<nlohmann::json> s;
  EXPECT_TRUE(wait_until(
      [&] {
        s = a.status();
        return s && (*s)["reserved_ip"]["holder"] == "this node";
      },
      10s))
      << (s ? s->dump() : std::string("no status"));
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)["reserved_ip"]["address"], kReservedIp) << *s;
  EXPECT_TRUE((*s)["reserved_ip"]["last_claim"].is_string()) << *s;

  a.kill9();
  ASSERT_TRUE(b.wait_state("MASTER", 5s));
  EXPECT_TRUE(wait_until([&] { return holder() == 2; }, 10s)) << "holder " << holder();

  // failoverctl history: the transition into MASTER carries the claim's outcome.
  std::string claim;
  EXPECT_TRUE(wait_until(
      [&] {
        const CommandResult r = b.ctl({"history", "--json"});
        const auto h = nlohmann::json::parse(r.output, nullptr, false);
        if (h.is_discarded() || !h.contains("history") || h["history"].empty()) return false;
        const auto& last = h["history"].back();
        if (last["to"] != "MASTER" || !last["claim"].is_string()) return false;
        claim = last["claim"].get<std::string>();
        return claim != "pending";
      },
      10s))
      << claim;
  EXPECT_EQ(claim.rfind("claimed in ", 0), 0U) << claim;
}

TEST_F(ReservedIp, AWrongTokenIsAClearErrorAndPutsTheNodeInFault) {
  Node& a = start_node(node(0, "node-a", 150, 1, "wrong.token"));
  EXPECT_TRUE(a.wait_state("FAULT", 10s)) << a.state();
  EXPECT_TRUE(a.wait_log("reserved IP 203.0.113.10")) << tail_lines(a.log(), 20);
  EXPECT_EQ(a.log().find("dop_v1_wrong"), std::string::npos) << "the token leaked into the log";
  EXPECT_EQ(holder(), -1);
}

TEST_F(ReservedIp, ATokenFileReadableByOthersIsRefusedAtStart) {
  write_file(dir() / "open.token", "dop_v1_e2etesttoken0123456789\n", std::filesystem::perms(0644));
  const auto r = run_command({binary_path("failoverd"), "--check-config",
                              (dir() / "a.conf").string()});
  (void)r;
  NodeConfig c = node(0, "node-a", 150, 1, "open.token");
  write_file(dir() / "a.conf", render_config(c), std::filesystem::perms(0600));
  const auto check = run_command({binary_path("failoverd"), "--check-config",
                                  (dir() / "a.conf").string()});
  EXPECT_NE(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("readable by group or others"), std::string::npos) << check.output;
}

}  // namespace
}  // namespace failoverd::e2e
