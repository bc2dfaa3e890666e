// Two failoverd daemons in two network namespaces: election, crash failover, planned
// switchover and preemption, over both transports. Time bounds are end-to-end (process
// start-up, polling through failoverctl) with generous slack, not benchmarks.
#include <gtest/gtest.h>

#include <csignal>
#include <thread>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

constexpr int kVrid = 51;

// RFC 5798 §6.1, in milliseconds.
double skew_ms(int priority, double advert_ms) { return (256 - priority) * advert_ms / 256; }
double master_down_ms(int priority, double advert_ms) {
  return 3 * advert_ms + skew_ms(priority, advert_ms);
}

class FailoverdPair : public TwoHostTest, public ::testing::WithParamInterface<std::string> {
 protected:
  // node-a on host 0, node-b on host 1, on the transport under test.
  NodeConfig config(int host, const std::string& name, int priority,
                    const std::string& advert = "100ms") {
    NodeConfig c = node_config(host, name, priority);
    c.virtual_router_id = kVrid;
    c.advert_interval = advert;
    c.transport = GetParam();
    if (c.transport == "udp") {
      const auto key = dir() / "shared.key";
      if (!std::filesystem::exists(key)) write_key_file(key);
      c.auth_key_file = key.string();
    }
    return c;
  }

  // Waits until `backup` has accepted adverts from the master, so a failover is measured from
  // a steady state rather than from start-up.
  static void wait_backup_hears_master(const Node& backup) {
    ASSERT_TRUE(wait_until(
        [&] {
          const auto s = backup.status();
          return s && json_int(*s, "adverts_received") > 0 && (*s)["state"] == "BACKUP";
        },
        5s))
        << backup.config().name << " never received an advert as BACKUP";
  }
};

TEST_P(FailoverdPair, ElectsExactlyOneMasterTheHigherPriority) {
  Node& a = add_node(config(0, "node-a", 150));
  Node& b = add_node(config(1, "node-b", 100));
  a.start();
  b.start();

  ASSERT_TRUE(a.wait_state("MASTER", 5s)) << "node-a: " << a.state();
  ASSERT_TRUE(b.wait_state("BACKUP", 5s)) << "node-b: " << b.state();

  // Stable for ten advert intervals and more: no flapping, B never takes over.
  const auto b_masters = b.transitions_to("MASTER");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(a.state(), "MASTER");
  EXPECT_EQ(b.state(), "BACKUP");
  EXPECT_EQ(b.transitions_to("MASTER"), b_masters) << "node-b flapped to MASTER";
  EXPECT_EQ(a.transitions_from("MASTER"), 0u) << "node-a left MASTER";

  // The status contract, from both sides.
  const auto sa = a.status();
  const auto sb = b.status();
  ASSERT_TRUE(sa && sb);
  EXPECT_EQ((*sa)["name"], "node-a");
  EXPECT_EQ((*sa)["state"], "MASTER");
  EXPECT_EQ(json_int(*sa, "priority"), 150);
  EXPECT_EQ(json_int(*sa, "effective_priority"), 150);
  EXPECT_EQ(json_int(*sa, "virtual_router_id"), kVrid);
  EXPECT_EQ((*sa)["master"], NetnsPair::address(0));
  EXPECT_TRUE((*sa)["checks"].is_array()) << *sa;
  EXPECT_TRUE(sa->contains("reserved_ip") && (*sa)["reserved_ip"].is_null()) << *sa;
  EXPECT_EQ((*sa)["maintenance"], false);
  // 1.5 s at 100 ms is about 15 adverts; allow for scheduling.
  EXPECT_GE(json_int(*sa, "adverts_sent"), 10) << *sa;
  EXPECT_TRUE((*sa)["drops"].is_object()) << *sa;

  EXPECT_EQ((*sb)["name"], "node-b");
  EXPECT_EQ(json_int(*sb, "priority"), 100);
  EXPECT_EQ((*sb)["master"], NetnsPair::address(0)) << "the backup must know who the master is";
  EXPECT_GE(json_int(*sb, "adverts_received"), 10) << *sb;
  // A backup only listens (RFC 5798 §6.4.2).
  const auto b_sent = json_int(*sb, "adverts_sent");
  std::this_thread::sleep_for(500ms);
  const auto sb2 = b.status();
  ASSERT_TRUE(sb2);
  EXPECT_EQ(json_int(*sb2, "adverts_sent"), b_sent) << "a BACKUP sent adverts";
  for (const char* reason : {"bad_checksum", "bad_auth", "bad_ttl", "truncated", "replay"}) {
    EXPECT_EQ(drop_count(*sb2, reason), 0) << reason << " drops in " << *sb2;
  }
}

TEST_P(FailoverdPair, CrashOfTheMasterFailsOverWithinMasterDownInterval) {
  Node& a = start_node(config(0, "node-a", 150, "200ms"));
  ASSERT_TRUE(a.wait_state("MASTER", 5s));
  Node& b = start_node(config(1, "node-b", 100, "200ms"));
  wait_backup_hears_master(b);
  if (HasFatalFailure()) return;
  ASSERT_EQ(a.state(), "MASTER");

  const auto t0 = Clock::now();
  a.kill9();
  const double down_ms = master_down_ms(100, 200);  // 721.9 ms
  const auto took = b.wait_state("MASTER", Ms(static_cast<int>(down_ms) + 4000));
  ASSERT_TRUE(took) << "node-b never became MASTER after the master crashed";
  const double ms = seconds(Clock::now() - t0) * 1000;
  EXPECT_LT(ms, down_ms + 1500) << "Master_Down_Interval is " << down_ms << " ms";
  // No priority-0 advert on a crash: the backup must wait out Master_Down_Interval since the
  // last advert it heard (so at least Master_Down_Interval - Advertisement_Interval).
  // Two intervals of margin for a master descheduled before the kill; still far above the
  // Skew_Time (122 ms) a priority-0 advert would give.
  EXPECT_GT(ms, down_ms - 2 * 200) << "took over faster than the protocol allows";
  EXPECT_EQ(a.wait_exit(1s), 128 + SIGKILL);

  // The crashed node comes back with the higher priority and preempts.
  a.start();
  ASSERT_TRUE(a.wait_state("MASTER", 5s)) << "restarted node-a did not preempt";
  EXPECT_TRUE(b.wait_state("BACKUP", 2s)) << "node-b: " << b.state();
}

// Instant handover (failoverd(8), STANDARDS): the harness gives each node the other as its
// one peer, so a priority-0 advert hands over at once instead of after the backup's Skew_Time.
// 1 s adverts make Skew_Time (609 ms at priority 100) far larger than a round trip plus the
// test's polling; the bounds sit between the two, and the figures are in docs/benchmarks.md.
constexpr double kInstantBoundMs = 400;  // < Skew_Time 609 ms: fails if the RFC wait is kept
constexpr double kSkewFloorMs = 550;     // Skew_Time 609 ms less float and clock slack

TEST_P(FailoverdPair, SigtermOfTheMasterHandsOverAtOnceToItsOnePeer) {
  Node& a = start_node(config(0, "node-a", 150, "1s"));
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  Node& b = start_node(config(1, "node-b", 100, "1s"));
  wait_backup_hears_master(b);
  if (HasFatalFailure()) return;

  const auto t0 = Clock::now();
  a.terminate();
  const auto took = b.wait_state("MASTER", 8s);
  ASSERT_TRUE(took) << "node-b never became MASTER after SIGTERM of the master";
  const double ms = seconds(Clock::now() - t0) * 1000;
  EXPECT_LT(ms, kInstantBoundMs) << "one peer resigned: no Skew_Time (" << skew_ms(100, 1000)
                                 << " ms) to wait";
  EXPECT_TRUE(b.wait_log("resigned (priority 0); took over at once"))
      << b.log();
  EXPECT_EQ(a.wait_exit(5s), 0) << "failoverd must exit 0 on SIGTERM";
}

TEST_P(FailoverdPair, WithInstantHandoverNoSigtermWaitsSkewTime) {
  Node& a = start_node(config(0, "node-a", 150, "1s"));
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  NodeConfig cb = config(1, "node-b", 100, "1s");
  cb.extra = "[vrrp]\ninstant_handover = no";
  Node& b = start_node(cb);
  wait_backup_hears_master(b);
  if (HasFatalFailure()) return;

  const auto t0 = Clock::now();
  a.terminate();
  ASSERT_TRUE(b.wait_state("MASTER", 8s)) << "node-b never became MASTER after SIGTERM";
  const double ms = seconds(Clock::now() - t0) * 1000;
  // The RFC 5798 §6.4.2 wait: Skew_Time after the priority-0 advert, and far less than
  // Master_Down_Interval (3609 ms).
  EXPECT_GT(ms, kSkewFloorMs) << "took over before Skew_Time (" << skew_ms(100, 1000) << " ms)";
  EXPECT_LT(ms, 2000) << "a priority-0 advert should hand over after Skew_Time, not "
                         "Master_Down_Interval ("
                      << master_down_ms(100, 1000) << " ms)";
  EXPECT_TRUE(b.wait_log("took over after Skew_Time")) << b.log();
  EXPECT_EQ(a.wait_exit(5s), 0);
}

// A reload that turns instant handover on applies to the next handover; `failoverctl
// failover` takes the same path as SIGTERM.
TEST_P(FailoverdPair, ReloadTurnsInstantHandoverOnForFailoverctlFailover) {
  Node& a = start_node(config(0, "node-a", 150, "1s"));
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  NodeConfig cb = config(1, "node-b", 100, "1s");
  cb.extra = "[vrrp]\ninstant_handover = no";
  Node& b = start_node(cb);
  wait_backup_hears_master(b);
  if (HasFatalFailure()) return;
  const auto before = b.status();
  ASSERT_TRUE(before);
  EXPECT_EQ((*before)["instant_handover"], false);

  b.config().extra = "[vrrp]\ninstant_handover = auto";
  b.write_config();
  const CommandResult reload = b.ctl({"reload"});
  ASSERT_EQ(reload.exit_code, 0) << reload.output;
  ASSERT_EQ(b.state(), "BACKUP");
  const auto after = b.status();
  ASSERT_TRUE(after);
  EXPECT_EQ((*after)["instant_handover"], true) << "status must show the reloaded key";
  EXPECT_TRUE(a.wait_log(", instant handover"))
      << "the start line must say instant handover is on:\n" << a.log();

  const auto t0 = Clock::now();
  const CommandResult r = a.ctl({"failover"});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  ASSERT_TRUE(b.wait_state("MASTER", 5s)) << "node-b did not take over";
  const double ms = seconds(Clock::now() - t0) * 1000;
  EXPECT_LT(ms, kInstantBoundMs) << "the reloaded instant_handover = auto was not applied";
  EXPECT_TRUE(b.wait_log("resigned (priority 0); took over at once"))
      << b.log();
  EXPECT_TRUE(a.running()) << "failover must not stop the daemon";
}

TEST_P(FailoverdPair, HigherPriorityNodeStartingLaterPreempts) {
  Node& b = start_node(config(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("MASTER", 5s));
  Node& a = start_node(config(0, "node-a", 150));
  EXPECT_TRUE(a.wait_state("MASTER", 5s)) << "node-a: " << a.state();
  EXPECT_TRUE(b.wait_state("BACKUP", 2s)) << "node-b: " << b.state();
  // And it stays that way.
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(a.state(), "MASTER");
  EXPECT_EQ(b.state(), "BACKUP");
}

TEST_P(FailoverdPair, HigherPriorityNodeWithoutPreemptStaysBackup) {
  Node& b = start_node(config(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("MASTER", 5s));
  NodeConfig ca = config(0, "node-a", 150);
  ca.preempt = false;
  Node& a = start_node(ca);
  ASSERT_TRUE(a.wait_state("BACKUP", 5s)) << "node-a: " << a.state();
  // Many times Master_Down_Interval (341 ms for node-a): it must never take over.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(a.state(), "BACKUP");
  EXPECT_EQ(b.state(), "MASTER");
  EXPECT_EQ(a.transitions_to("MASTER"), 0u) << "node-a preempted with preempt = false";
  const auto sa = a.status();
  ASSERT_TRUE(sa);
  EXPECT_EQ((*sa)["master"], NetnsPair::address(1));
}

INSTANTIATE_TEST_SUITE_P(Transports, FailoverdPair, ::testing::Values("vrrp", "udp"),
                         [](const auto& p) { return p.param; });

// Multicast (no peer; transport vrrp only): any number of backups may listen, so the RFC wait
// orders them and instant handover stays off, whatever instant_handover says (auto).
class MulticastPair : public TwoHostTest {};

TEST_F(MulticastPair, SigtermOfTheMasterHandsOverAfterSkewTime) {
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.advert_interval = "1s";
  ca.peers.clear();
  Node& a = start_node(ca);
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  NodeConfig cb = node_config(1, "node-b", 100);
  cb.advert_interval = "1s";
  cb.peers.clear();
  Node& b = start_node(cb);
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = b.status();
        return s && json_int(*s, "adverts_received") > 0 && (*s)["state"] == "BACKUP";
      },
      5s))
      << "node-b never received a multicast advert as BACKUP";

  const auto t0 = Clock::now();
  a.terminate();
  ASSERT_TRUE(b.wait_state("MASTER", 8s)) << "node-b never became MASTER after SIGTERM";
  const double ms = seconds(Clock::now() - t0) * 1000;
  EXPECT_GT(ms, kSkewFloorMs) << "multicast must keep the Skew_Time wait";
  EXPECT_LT(ms, 2000);
  EXPECT_TRUE(b.wait_log("took over after Skew_Time")) << b.log();
}

}  // namespace
}  // namespace failoverd::e2e
