// failoverd and keepalived 2.x (Debian 12: 2.2.7) as the two routers of one virtual router:
// failoverd on host 0 (10.99.0.1), keepalived on host 1 (10.99.0.2), unicast VRRPv3. They
// must elect one MASTER by priority and fail over both ways, on a crash and on a clean stop.
//
// The checksum: keepalived includes the IPv4 pseudo-header unless `v3_checksum_as_v2` is set
// in the vrrp_instance (keepalived >= 2.2.8; 2.2.7 rejects the keyword). The suite runs in
// both modes; the RFC 9568 mode is skipped when the installed keepalived cannot do it, and a
// mismatched pair is tested to fail loudly (counted drops) rather than silently.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

constexpr int kVrid = 51;
const std::string kVip = "10.99.0.100";

constexpr int kFod = 0;  // host of failoverd
constexpr int kKa = 1;   // host of keepalived

double master_down_ms(int priority, double advert_ms) {
  return 3 * advert_ms + (256 - priority) * advert_ms / 256;
}

// Whether the installed keepalived accepts `v3_checksum_as_v2` (checked once per process).
bool keepalived_has_v3_checksum_as_v2(const std::string& netns) {
  static std::optional<bool> known;
  if (!known) {
    TempDir dir("ka-probe");
    KeepalivedConfig c;
    c.name = "probe";
    c.netns = netns;
    c.unicast_src_ip = NetnsPair::address(kKa);
    c.unicast_peers = {NetnsPair::address(kFod)};
    c.virtual_ips = {kVip + "/24"};
    c.v3_checksum_as_v2 = true;
    Keepalived probe(c, dir.path());
    known = probe.check_config().exit_code == 0;
  }
  return *known;
}

class KeepalivedInterop : public TwoHostTest, public ::testing::WithParamInterface<bool> {
 protected:
  void SetUp() override {
    TwoHostTest::SetUp();
    if (IsSkipped()) return;
    if (!pseudo_header() && !keepalived_has_v3_checksum_as_v2(net().ns(kKa))) {
      GTEST_SKIP() << "this keepalived has no v3_checksum_as_v2 (added in 2.2.8): it always "
                      "includes the pseudo-header; see ChecksumModeMismatchIsDetected";
    }
  }

  bool pseudo_header() const { return GetParam(); }

  NodeConfig fod_config(int priority, const std::string& advert = "100ms") {
    NodeConfig c = node_config(kFod, "failoverd", priority);
    c.virtual_router_id = kVrid;
    c.advert_interval = advert;
    c.transport = "vrrp";
    c.checksum_pseudo_header = pseudo_header();
    // The same address list as keepalived's, so each side's adverts match the other's.
    c.virtual_ips = {kVip + "/24"};
    return c;
  }

  KeepalivedConfig ka_config(int priority, const std::string& advert_int = "0.1") {
    KeepalivedConfig c = keepalived_config(kKa, "keepalived", priority);
    c.virtual_router_id = kVrid;
    c.advert_int = advert_int;
    c.virtual_ips = {kVip + "/24"};
    c.v3_checksum_as_v2 = !pseudo_header();
    return c;
  }

  // Neither side may have refused the other's packets.
  void expect_no_checksum_drops(const Node& fod, const Keepalived& ka) {
    const auto s = fod.status();
    ASSERT_TRUE(s);
    EXPECT_EQ(drop_count(*s, "bad_checksum"), 0) << *s;
    EXPECT_EQ(ka.log().find("Invalid VRRPv3 checksum"), std::string::npos)
        << "keepalived rejected failoverd's checksum";
  }
};

TEST_P(KeepalivedInterop, KeepalivedWithHigherPriorityIsMaster) {
  Keepalived& ka = add_keepalived(ka_config(150));
  Node& fod = add_node(fod_config(100));
  ka.start();
  fod.start();
  ASSERT_TRUE(ka.wait_state("MASTER", 5s)) << "keepalived: " << ka.state();
  ASSERT_TRUE(fod.wait_state("BACKUP", 5s)) << "failoverd: " << fod.state();

  const auto fod_masters = fod.transitions_to("MASTER");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(ka.state(), "MASTER");
  EXPECT_EQ(fod.state(), "BACKUP");
  EXPECT_EQ(fod.transitions_to("MASTER"), fod_masters) << "failoverd flapped to MASTER";
  const auto s = fod.status();
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)["master"], NetnsPair::address(kKa)) << *s;
  EXPECT_GE(json_int(*s, "adverts_received"), 10) << *s;
  expect_no_checksum_drops(fod, ka);
  EXPECT_TRUE(net().has_address(kKa, kVip));
  EXPECT_FALSE(net().has_address(kFod, kVip)) << "BACKUP failoverd holds the VIP";
}

TEST_P(KeepalivedInterop, FailoverdWithHigherPriorityIsMaster) {
  Node& fod = add_node(fod_config(150));
  Keepalived& ka = add_keepalived(ka_config(100));
  fod.start();
  ka.start();
  ASSERT_TRUE(fod.wait_state("MASTER", 5s)) << "failoverd: " << fod.state();
  ASSERT_TRUE(ka.wait_state("BACKUP", 5s)) << "keepalived: " << ka.state();

  const auto ka_states = ka.state_history().size();
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(fod.state(), "MASTER");
  EXPECT_EQ(ka.state(), "BACKUP");
  EXPECT_EQ(ka.state_history().size(), ka_states) << "keepalived changed state";
  expect_no_checksum_drops(fod, ka);
  EXPECT_EQ(ka.log().find("not present in MASTER advert"), std::string::npos)
      << "keepalived saw a different address list in failoverd's adverts";
  EXPECT_TRUE(net().has_address(kFod, kVip)) << "MASTER failoverd does not hold the VIP";
  EXPECT_FALSE(net().has_address(kKa, kVip));
}

TEST_P(KeepalivedInterop, FailoverdSigtermHandsOverToKeepalived) {
  Node& fod = start_node(fod_config(150, "1s"));
  ASSERT_TRUE(fod.wait_state("MASTER", 8s));
  Keepalived& ka = add_keepalived(ka_config(100, "1"));
  ka.start();
  ASSERT_TRUE(ka.wait_state("BACKUP", 5s));
  std::this_thread::sleep_for(1500ms);  // keepalived has heard at least one advert
  ASSERT_EQ(ka.state(), "BACKUP");

  const auto t0 = Clock::now();
  fod.terminate();
  ASSERT_TRUE(ka.wait_state("MASTER", 8s)) << "keepalived never took over";
  const double ms = seconds(Clock::now() - t0) * 1000;
  EXPECT_LT(ms, 2000) << "expected about Skew_Time (609 ms), Master_Down_Interval is "
                      << master_down_ms(100, 1000) << " ms";
  // keepalived follows RFC 5798 §6.4.2 (no instant handover): it still waits its Skew_Time.
  EXPECT_GT(ms, 550) << "keepalived took over before its Skew_Time (609 ms)";
  EXPECT_NE(ka.log().find("Backup received priority 0 advertisement"), std::string::npos)
      << "keepalived did not see failoverd's priority-0 advert";
  EXPECT_EQ(fod.wait_exit(5s), 0);
}

TEST_P(KeepalivedInterop, FailoverdCrashFailsOverToKeepalived) {
  Node& fod = start_node(fod_config(150));
  ASSERT_TRUE(fod.wait_state("MASTER", 5s));
  Keepalived& ka = add_keepalived(ka_config(100));
  ka.start();
  ASSERT_TRUE(ka.wait_state("BACKUP", 5s));
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(ka.state(), "BACKUP");

  const auto t0 = Clock::now();
  fod.kill9();
  ASSERT_TRUE(ka.wait_state("MASTER", 5s)) << "keepalived never took over";
  const double ms = seconds(Clock::now() - t0) * 1000;
  EXPECT_LT(ms, master_down_ms(100, 100) + 1500);
  EXPECT_EQ(ka.log().find("priority 0"), std::string::npos) << "a crash sends no priority 0";

  // failoverd comes back with the higher priority and preempts keepalived.
  fod.start();
  EXPECT_TRUE(fod.wait_state("MASTER", 5s)) << "failoverd: " << fod.state();
  EXPECT_TRUE(ka.wait_state("BACKUP", 3s)) << "keepalived: " << ka.state();
}

TEST_P(KeepalivedInterop, KeepalivedSigtermHandsOverToFailoverd) {
  Keepalived& ka = add_keepalived(ka_config(150, "1"));
  ka.start();
  ASSERT_TRUE(ka.wait_state("MASTER", 8s));
  Node& fod = start_node(fod_config(100, "1s"));
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = fod.status();
        return s && (*s)["state"] == "BACKUP" && json_int(*s, "adverts_received") > 0;
      },
      5s))
      << "failoverd never heard keepalived as BACKUP";

  const auto t0 = Clock::now();
  ka.terminate();
  ASSERT_TRUE(fod.wait_state("MASTER", 8s)) << "failoverd never took over";
  const double ms = seconds(Clock::now() - t0) * 1000;
  // keepalived sends priority 0 on stop; keepalived is failoverd's one peer, so instant
  // handover applies: well before Skew_Time (609 ms), let alone Master_Down_Interval.
  EXPECT_LT(ms, 400) << "expected at once (one peer resigned), Skew_Time is 609 ms, "
                        "Master_Down_Interval "
                     << master_down_ms(100, 1000) << " ms";
  EXPECT_NE(fod.log().find("resigned (priority 0); took over at once"), std::string::npos)
      << fod.log();
  EXPECT_EQ(ka.wait_exit(5s), 0);
}

TEST_P(KeepalivedInterop, KeepalivedCrashFailsOverToFailoverd) {
  Keepalived& ka = add_keepalived(ka_config(150));
  ka.start();
  ASSERT_TRUE(ka.wait_state("MASTER", 5s));
  Node& fod = start_node(fod_config(100));
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = fod.status();
        return s && (*s)["state"] == "BACKUP" && json_int(*s, "adverts_received") > 0;
      },
      5s))
      << "failoverd never heard keepalived as BACKUP";

  const auto t0 = Clock::now();
  ka.crash();
  ASSERT_TRUE(fod.wait_state("MASTER", 5s)) << "failoverd never took over";
  const double ms = seconds(Clock::now() - t0) * 1000;
  const double down = master_down_ms(100, 100);  // 361 ms
  EXPECT_LT(ms, down + 1500);
  // Margin of two intervals; a priority-0 path would take over at once (or Skew_Time, 61 ms).
  EXPECT_GT(ms, down - 2 * 100) << "took over faster than Master_Down_Interval allows";
  EXPECT_TRUE(wait_until([&] { return net().has_address(kFod, kVip); }, 3s))
      << "new MASTER failoverd does not hold the VIP";

  // keepalived restarts with the higher priority and preempts failoverd.
  ka.start();
  EXPECT_TRUE(ka.wait_state("MASTER", 5s)) << "keepalived: " << ka.state();
  EXPECT_TRUE(fod.wait_state("BACKUP", 3s)) << "failoverd: " << fod.state();
  EXPECT_TRUE(wait_until([&] { return !net().has_address(kFod, kVip); }, 3s))
      << "failoverd kept the VIP as BACKUP";
}

INSTANTIATE_TEST_SUITE_P(Checksum, KeepalivedInterop, ::testing::Bool(), [](const auto& p) {
  return std::string(p.param ? "PseudoHeader" : "Rfc9568NoPseudoHeader");
});

// failoverd in RFC 9568 mode against a keepalived that includes the pseudo-header: each side
// must refuse the other's adverts visibly (a counted drop, a log line), so the operator sees
// the misconfiguration instead of a silent split brain.
class KeepalivedChecksum : public TwoHostTest {};

TEST_F(KeepalivedChecksum, ChecksumModeMismatchIsDetected) {
  NodeConfig c = node_config(kFod, "failoverd", 100);
  c.virtual_router_id = kVrid;
  c.checksum_pseudo_header = false;
  c.virtual_ips = {kVip + "/24"};
  KeepalivedConfig k = keepalived_config(kKa, "keepalived", 150);
  k.virtual_router_id = kVrid;
  k.virtual_ips = {kVip + "/24"};
  Keepalived& ka = add_keepalived(k);
  Node& fod = add_node(c);
  ka.start();
  fod.start();

  ASSERT_TRUE(ka.wait_state("MASTER", 5s));
  // failoverd has the lower priority, but never accepts keepalived's adverts.
  ASSERT_TRUE(fod.wait_state("MASTER", 5s)) << "failoverd: " << fod.state();
  std::this_thread::sleep_for(500ms);
  const auto s = fod.status();
  ASSERT_TRUE(s);
  EXPECT_EQ(json_int(*s, "adverts_received"), 0) << *s;
  EXPECT_GT(drop_count(*s, "bad_checksum"), 0) << *s;
  EXPECT_EQ(ka.state(), "MASTER");
  EXPECT_NE(ka.log().find("Invalid VRRPv3 checksum"), std::string::npos)
      << "keepalived accepted failoverd's RFC 9568 checksum";
}

}  // namespace
}  // namespace failoverd::e2e
