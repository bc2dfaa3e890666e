// failoverctl restart end to end: a real pair in network namespaces. The MASTER replaces
// itself with the binary on disk in place; nothing may move: the same PID, no transition on
// either node, no hook, the VIP on the interface at every sample, no assignment at the fake
// DigitalOcean API. A broken config on disk is refused with the new binary's own error.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

constexpr const char* kReservedIp = "203.0.113.10";
constexpr const char* kVip = "10.99.0.100";

class RestartInPlace : public TwoHostTest {
 protected:
  // Every hook appends a line: none may run during a restart in place.
  std::string hook_section() {
    const auto hook = dir() / "hook.sh";
    write_file(hook, "#!/bin/sh\necho \"$2 $1\" >> " + (dir() / "hooks.log").string() + "\n",
               std::filesystem::perms(0755));
    return "[notify]\nmaster = " + hook.string() + "\nbackup = " + hook.string() +
           "\nfault = " + hook.string() + "\nstop = " + hook.string() + "\ntimeout = 5s\n";
  }
  std::string hooks_log() { return read_file(dir() / "hooks.log"); }

  // Restarts `n` in place and checks each outcome; the caller checks what moved.
  void restart(Node& n) {
    const pid_t before = n.pid();
    const CommandResult r = n.ctl({"restart"}, 20s);
    ASSERT_EQ(r.exit_code, 0) << r.output << tail_lines(n.log(), 30);
    EXPECT_NE(r.output.find("restarted in place: pid " + std::to_string(before)),
              std::string::npos)
        << r.output;
    EXPECT_TRUE(n.running());
    EXPECT_EQ(n.pid(), before);
  }
};

TEST_F(RestartInPlace, TheMasterWithAVipRestartsFiveTimesAndNothingMoves) {
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.virtual_ips = {std::string(kVip) + "/24"};
  ca.extra = hook_section();
  Node& a = start_node(ca);
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  Node& b = start_node(node_config(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  ASSERT_TRUE(wait_until([&] { return net().has_address(0, kVip); }, 5s));
  const std::string hooks_before = hooks_log();
  const auto sb = b.status();
  ASSERT_TRUE(sb);
  const long long b_transitions = json_int(*sb, "transitions");
  const auto sa = a.status();
  ASSERT_TRUE(sa);
  const long long a_transitions = json_int(*sa, "transitions");

  // The VIP, sampled about every 10 ms (each sample is an `ip addr` in the namespace).
  std::atomic<bool> sampling{true};
  std::atomic<int> samples{0};
  std::atomic<int> absent{0};
  std::thread sampler([&] {
    while (sampling) {
      ++samples;
      if (!net().has_address(0, kVip)) ++absent;
      std::this_thread::sleep_for(10ms);
    }
  });
  for (int i = 0; i < 5; ++i) {
    restart(a);
    if (HasFatalFailure()) break;
    std::this_thread::sleep_for(300ms);  // a few adverts between restarts
  }
  sampling = false;
  sampler.join();

  EXPECT_GT(samples.load(), 20);
  EXPECT_EQ(absent.load(), 0) << "the VIP left the interface";
  EXPECT_EQ(a.state(), "MASTER");
  EXPECT_EQ(b.state(), "BACKUP");
  const auto sb2 = b.status();
  ASSERT_TRUE(sb2);
  EXPECT_EQ(json_int(*sb2, "transitions"), b_transitions) << "the peer transitioned";
  const auto sa2 = a.status();
  ASSERT_TRUE(sa2);
  // History and counters came across: the same transitions, nothing new.
  EXPECT_EQ(json_int(*sa2, "transitions"), a_transitions);
  EXPECT_EQ(count_occurrences(a.log(), "restarted in place: resuming as MASTER"), 5U)
      << tail_lines(a.log(), 40);
  EXPECT_EQ(hooks_log(), hooks_before) << "a hook ran";
  const CommandResult h = a.ctl({"history", "--json"});
  const auto hj = nlohmann::json::parse(h.output, nullptr, false);
  ASSERT_FALSE(hj.is_discarded()) << h.output;
  EXPECT_EQ(static_cast<long long>(hj["history"].size()), a_transitions) << h.output;

  // The restarted daemon still stops as before: its VIP goes with it.
  a.terminate();
  EXPECT_EQ(a.wait_exit(10s), 0);
  EXPECT_FALSE(net().has_address(0, kVip));
  EXPECT_TRUE(b.wait_state("MASTER", 5s));
}

TEST_F(RestartInPlace, TheBackupRestartsAndStaysBackup) {
  Node& a = start_node(node_config(0, "node-a", 150));
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  Node& b = start_node(node_config(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  const auto sa = a.status();
  ASSERT_TRUE(sa);
  for (int i = 0; i < 2; ++i) {
    restart(b);
    if (HasFatalFailure()) return;
  }
  std::this_thread::sleep_for(1s);  // longer than Master_Down_Interval (~340 ms)
  EXPECT_EQ(b.state(), "BACKUP");
  const auto s = b.status();
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)["master"], NetnsPair::address(0)) << *s;
  const auto sa2 = a.status();
  ASSERT_TRUE(sa2);
  EXPECT_EQ(json_int(*sa2, "transitions"), json_int(*sa, "transitions"));
}

TEST_F(RestartInPlace, HealthChecksStartAfreshWhileTheNodeKeepsItsVerdict) {
  // rise 3 at 300 ms: a fresh tracker needs about 600 ms to rise, longer than
  // Master_Down_Interval; the restored node must not sit in FAULT (or INIT) meanwhile.
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.extra = "[check.service]\ntype = exec\ncommand = /bin/true\ninterval = 300ms\n"
             "timeout = 250ms\nrise = 3\nfall = 2\nweight = 0\n";
  Node& a = start_node(ca);
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  Node& b = start_node(node_config(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  const auto sb = b.status();
  ASSERT_TRUE(sb);
  restart(a);
  if (HasFatalFailure()) return;
  std::vector<std::string> seen;
  for (int i = 0; i < 15; ++i) {  // 1.5 s: until the checks have risen again, and beyond
    seen.push_back(a.state());
    std::this_thread::sleep_for(100ms);
  }
  for (const auto& st : seen) EXPECT_EQ(st, "MASTER") << tail_lines(a.log(), 30);
  EXPECT_EQ(a.transitions_to("FAULT"), 0U);
  const auto sb2 = b.status();
  ASSERT_TRUE(sb2);
  EXPECT_EQ(json_int(*sb2, "transitions"), json_int(*sb, "transitions"));
}

TEST_F(RestartInPlace, ABrokenConfigOnDiskIsRefusedWithTheNewBinarysErrorAndTheDaemonStays) {
  Node& a = start_node(node_config(0, "node-a", 150));
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  const pid_t pid = a.pid();
  // A typo on disk, as an upgrade's admin might leave it.
  write_file(a.config_path(), read_file(a.config_path()) + "\n[vrrp]\npriorty = 3\n",
             std::filesystem::perms(0600));
  const CommandResult r = a.ctl({"restart"}, 20s);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("restart refused"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("priorty"), std::string::npos) << "the new binary's error" << r.output;
  EXPECT_EQ(a.pid(), pid);
  EXPECT_TRUE(a.running());
  EXPECT_EQ(a.state(), "MASTER");
  EXPECT_EQ(count_occurrences(a.log(), "restarted in place"), 0U);

  // A change a reload cannot apply (another VRID) is refused too, by the running node's rules.
  NodeConfig other = a.config();
  other.virtual_router_id = 52;
  write_file(a.config_path(), render_config(other), std::filesystem::perms(0600));
  const CommandResult r2 = a.ctl({"restart"}, 20s);
  EXPECT_EQ(r2.exit_code, 1) << r2.output;
  EXPECT_NE(r2.output.find("virtual_router_id"), std::string::npos) << r2.output;
  EXPECT_EQ(a.pid(), pid);
  EXPECT_EQ(a.state(), "MASTER");
}

class RestartWithReservedIp : public RestartInPlace {
 protected:
  void SetUp() override {
    RestartInPlace::SetUp();
    if (IsSkipped()) return;
    write_file(dir() / "do.token", "dop_v1_e2etesttoken0123456789\n", std::filesystem::perms(0600));
    api_ = start_fake_do_api(net().ns(0), NetnsPair::address(0), kReservedIp,
                             dir() / "do.token", dir() / "fake_do_api.log", /*delay_ms=*/20);
    ASSERT_TRUE(wait_until([&] { return !api_get("/_fake/state").empty(); }, 5s))
        << read_file(dir() / "fake_do_api.log");
  }
  void TearDown() override {
    RestartInPlace::TearDown();
    api_.reset();
  }
  std::string api_get(const std::string& path) {
    const auto r = run_command({"ip", "netns", "exec", net().ns(0), "curl", "-s", "-m", "2",
                                "http://" + NetnsPair::address(0) + ":8099" + path},
                               5s);
    return r.exit_code == 0 ? r.output : std::string();
  }
  // Assignments (POST .../actions) the fake has seen.
  long long assignments() {
    const auto j = nlohmann::json::parse(api_get("/_fake/requests"), nullptr, false);
    if (j.is_discarded()) return -1;
    const auto& list = j.is_array() ? j : j.value("requests", nlohmann::json::array());
    long long n = 0;
    for (const auto& r : list) {
      if (r.value("method", "") == "POST" &&
          r.value("path", "").find("/actions") != std::string::npos) {
        ++n;
      }
    }
    return n;
  }
  NodeConfig node(int host, const std::string& name, int priority, int droplet) {
    NodeConfig c = node_config(host, name, priority);
    c.extra = "[reserved_ip]\nprovider = digitalocean\naddress = " + std::string(kReservedIp) +
              "\ntoken_file = " + (dir() / "do.token").string() + "\ndroplet_id = " +
              std::to_string(droplet) + "\napi_url = http://" + NetnsPair::address(0) +
              ":8099\nreconcile_interval = 2s\n";
    return c;
  }
  std::unique_ptr<Process> api_;
};

TEST_F(RestartWithReservedIp, TheMasterRestartsAndTheReservedIpIsNotClaimedAgain) {
  Node& a = start_node(node(0, "node-a", 150, 1));
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  Node& b = start_node(node(1, "node-b", 100, 2));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  // The first claim has reported (a restart waits for that).
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = a.status();
        return s && (*s)["reserved_ip"]["holder"] == "this node";
      },
      10s));
  const long long before = assignments();
  ASSERT_GE(before, 1);
  const auto sb = b.status();
  ASSERT_TRUE(sb);
  for (int i = 0; i < 3; ++i) {
    // A restart during a claim is refused (try again); none is running here.
    restart(a);
    if (HasFatalFailure()) return;
    std::this_thread::sleep_for(300ms);
  }
  EXPECT_EQ(assignments(), before) << api_get("/_fake/requests");
  EXPECT_EQ(a.state(), "MASTER");
  const auto s = a.status();
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)["reserved_ip"]["holder"], "this node") << *s;
  EXPECT_TRUE((*s)["reserved_ip"]["last_claim"].is_string()) << *s;
  const auto sb2 = b.status();
  ASSERT_TRUE(sb2);
  EXPECT_EQ(json_int(*sb2, "transitions"), json_int(*sb, "transitions"));
}

}  // namespace
}  // namespace failoverd::e2e
