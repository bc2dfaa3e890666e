// Crash resume end to end: a real pair in network namespaces, with the fake DigitalOcean API
// and a hook log. A MASTER's daemon killed with SIGKILL and started again at once (as systemd
// does after RestartSec) resumes MASTER from its crash record: the peer never transitions, no
// assignment reaches the API, no hook runs, the VIP stays. Started again after longer than
// Master_Down_Interval, it starts as before the feature: the peer has taken over.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <thread>

#include "harness/harness.h"
#include "harness/split.h"

namespace failoverd::e2e {
namespace {

constexpr const char* kVip = "10.99.0.100";

class CrashResume : public CloudTwoHostTest {
 protected:
  long long assignments() { return static_cast<long long>(assign_requests()); }
  std::string hooks_log() { return read_file(dir() / "hooks.log"); }
  // 1 s adverts, as shipped: Master_Down_Interval is about 3 s, room for a restart.
  NodeConfig node(int host, const std::string& name, int priority) {
    NodeConfig c = cloud_node(host, name, priority, "2s");
    c.advert_interval = "1s";
    const auto hook = dir() / "hook.sh";
    write_file(hook, "#!/bin/sh\necho \"$2 $1\" >> " + (dir() / "hooks.log").string() + "\n",
               std::filesystem::perms(0755));
    c.extra += "[notify]\nmaster = " + hook.string() + "\nbackup = " + hook.string() +
               "\nfault = " + hook.string() + "\nstop = " + hook.string() + "\ntimeout = 5s\n";
    return c;
  }
  // A MASTER (with the VIP, holding the reserved IP) and its BACKUP.
  void start_pair() {
    NodeConfig ca = node(0, "node-a", 150);
    ca.virtual_ips = {std::string(kVip) + "/24"};
    a_ = &start_node(ca);
    ASSERT_TRUE(a_->wait_state("MASTER", 10s));
    b_ = &start_node(node(1, "node-b", 100));
    ASSERT_TRUE(b_->wait_state("BACKUP", 10s));
    ASSERT_TRUE(wait_until(
        [&] {
          const auto s = a_->status();
          return s && (*s)["reserved_ip"]["holder"] == "this node";
        },
        10s));
    ASSERT_TRUE(wait_until([&] { return net().has_address(0, kVip); }, 5s));
    ASSERT_TRUE(wait_until([&] { return hooks_log().find("MASTER") != std::string::npos; }, 5s));
  }
  void crash_a() {
    a_->kill9();
    ASSERT_TRUE(a_->wait_exit(5s));
  }
  std::filesystem::path record_path() const { return a_->config().socket + ".crash"; }

  Node* a_ = nullptr;
  Node* b_ = nullptr;
};

TEST_F(CrashResume, AMasterKilledAndStartedAgainAtOnceResumesWithoutAFailover) {
  start_pair();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(std::filesystem::exists(record_path()));
  const long long before = assignments();
  ASSERT_GE(before, 1);
  const std::string hooks_before = hooks_log();
  const auto sb = b_->status();
  ASSERT_TRUE(sb);
  const long long b_transitions = json_int(*sb, "transitions");

  crash_a();
  if (HasFatalFailure()) return;
  EXPECT_TRUE(net().has_address(0, kVip)) << "a SIGKILL leaves the VIP behind";
  a_->start();
  ASSERT_TRUE(a_->wait_state("MASTER", 5s)) << tail_lines(a_->log(), 30);
  EXPECT_TRUE(a_->wait_log("resumed MASTER from the crash record")) << tail_lines(a_->log(), 30);

  // Longer than any Master_Down_Interval of the pair (3.6 s at priority 100), sampling the VIP.
  int absent = 0;
  for (int i = 0; i < 50; ++i) {
    if (!net().has_address(0, kVip)) ++absent;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(absent, 0) << "the VIP left the interface";
  EXPECT_EQ(a_->state(), "MASTER");
  EXPECT_EQ(b_->state(), "BACKUP");
  const auto sb2 = b_->status();
  ASSERT_TRUE(sb2);
  EXPECT_EQ(json_int(*sb2, "transitions"), b_transitions) << "the peer transitioned";
  EXPECT_EQ(assignments(), before) << api_get("/_fake/requests");
  EXPECT_EQ(hooks_log(), hooks_before) << "a hook ran";
  const auto sa = a_->status();
  ASSERT_TRUE(sa);
  EXPECT_EQ((*sa)["reserved_ip"]["holder"], "this node") << *sa;
  EXPECT_EQ(json_int(*sa, "transitions"), 0) << *sa;
  const CommandResult h = a_->ctl({"history", "--json"});
  const auto hj = nlohmann::json::parse(h.output, nullptr, false);
  ASSERT_FALSE(hj.is_discarded()) << h.output;
  ASSERT_EQ(hj["history"].size(), 1U) << h.output;
  EXPECT_NE(hj["history"][0]["reason"].get<std::string>().find("resumed after a crash"),
            std::string::npos)
      << h.output;

  // Twice in a row works too (the resumed process keeps its own record), and a VIP removed
  // while the daemon was down is added again.
  crash_a();
  if (HasFatalFailure()) return;
  net().ip(0, {"addr", "del", std::string(kVip) + "/24", "dev", NetnsPair::iface()});
  ASSERT_FALSE(net().has_address(0, kVip));
  a_->start();
  ASSERT_TRUE(a_->wait_state("MASTER", 5s));
  std::this_thread::sleep_for(4s);
  EXPECT_EQ(count_occurrences(a_->log(), "resumed MASTER from the crash record"), 2U);
  EXPECT_TRUE(net().has_address(0, kVip));
  EXPECT_EQ(count_occurrences(a_->log(), "again: it was gone"), 1U) << tail_lines(a_->log(), 30);
  const auto sb3 = b_->status();
  ASSERT_TRUE(sb3);
  EXPECT_EQ(json_int(*sb3, "transitions"), b_transitions);
  EXPECT_EQ(assignments(), before);

  // A clean stop removes the record: the peer takes over, nothing to resume.
  a_->terminate();
  EXPECT_EQ(a_->wait_exit(10s), 0);
  EXPECT_FALSE(std::filesystem::exists(record_path()));
  EXPECT_TRUE(b_->wait_state("MASTER", 5s));
}

TEST_F(CrashResume, StartedAfterMasterDownIntervalItStartsAsBefore) {
  start_pair();
  if (HasFatalFailure()) return;
  const long long before = assignments();
  crash_a();
  if (HasFatalFailure()) return;
  ASSERT_TRUE(b_->wait_state("MASTER", 10s)) << "the peer takes over";
  std::this_thread::sleep_for(500ms);
  a_->start();
  EXPECT_TRUE(a_->wait_log("not used, starting as usual: too old")) << tail_lines(a_->log(), 30);
  EXPECT_EQ(count_occurrences(a_->log(), "resumed MASTER"), 0U);
  // As before the crash record: it joins as BACKUP, then preempts the lower-priority peer with a
  // transition, its master hook and a claim.
  ASSERT_TRUE(a_->wait_state("MASTER", 10s));
  EXPECT_TRUE(wait_until([&] { return b_->state() == "BACKUP"; }, 5s));
  EXPECT_TRUE(wait_until([&] { return assignments() > before + 1; }, 10s))
      << "the peer's claim and ours: " << api_get("/_fake/requests");
  const auto sa = a_->status();
  ASSERT_TRUE(sa);
  EXPECT_GE(json_int(*sa, "transitions"), 2);  // INIT -> BACKUP -> MASTER
}

TEST_F(CrashResume, ABackupKilledAndStartedAgainStartsAsBefore) {
  start_pair();
  if (HasFatalFailure()) return;
  b_->kill9();
  ASSERT_TRUE(b_->wait_exit(5s));
  b_->start();
  EXPECT_TRUE(b_->wait_log("not used, starting as usual: it was not MASTER"))
      << tail_lines(b_->log(), 30);
  ASSERT_TRUE(b_->wait_state("BACKUP", 10s));
  EXPECT_EQ(a_->state(), "MASTER");
}

}  // namespace
}  // namespace failoverd::e2e
