// A MASTER whose loop stalls (SIGSTOP stands in for a paused VM) for longer than
// Master_Down_Interval is replaced by its backup. When it wakes, it must rejoin as a restarted
// node would (BACKUP, preempt_delay applying), not preempt the new master back at once: that
// would be a second failover, and a second move of the address, for one pause.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

class StalledMaster : public TwoHostTest {};

TEST_F(StalledMaster, RejoinsAsBackupInsteadOfPreemptingTheNewMaster) {
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.advert_interval = "100ms";  // Master_Down_Interval 341 ms
  ca.preempt_delay = "60s";
  NodeConfig cb = node_config(1, "node-b", 100);
  cb.advert_interval = "100ms";
  Node& a = start_node(ca);
  ASSERT_TRUE(a.wait_state("MASTER", 5s)) << a.log();
  Node& b = start_node(cb);
  ASSERT_TRUE(b.wait_state("BACKUP", 5s)) << b.log();
  ASSERT_TRUE(wait_until(
      [&] {
        const auto s = b.status();
        return s && json_int(*s, "adverts_received") > 0;
      },
      5s));

  ASSERT_EQ(::kill(a.pid(), SIGSTOP), 0);
  const bool b_took_over = b.wait_state("MASTER", 5s).has_value();
  // Asleep well past Master_Down_Interval, as a paused VM would be.
  std::this_thread::sleep_for(500ms);
  ASSERT_EQ(::kill(a.pid(), SIGCONT), 0);
  ASSERT_TRUE(b_took_over) << "node-b did not take over from a stopped master: " << b.log();

  // Many of node-a's Master_Down_Intervals later, node-b is still MASTER and node-a follows it.
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(b.state(), "MASTER") << b.log();
  EXPECT_EQ(b.transitions_from("MASTER"), 0u) << "node-a preempted node-b back: " << b.log();
  EXPECT_EQ(a.state(), "BACKUP") << a.log();
  EXPECT_TRUE(a.wait_log("MASTER -> BACKUP: the event loop stalled"))
      << a.log();
  const auto sa = a.status();
  ASSERT_TRUE(sa);
  EXPECT_EQ((*sa)["master"], NetnsPair::address(1)) << *sa;
}

}  // namespace
}  // namespace failoverd::e2e
