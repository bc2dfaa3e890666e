// Link tracking end to end: a tracked interface going down puts the MASTER in FAULT (it
// resigns with priority 0, so its one peer takes over at once: instant handover); coming back
// up, it rejoins as BACKUP and, having the higher priority, preempts.
#include <gtest/gtest.h>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

class LinkTracking : public TwoHostTest {
 protected:
  // An uplink in host 0 that node-a tracks: one end of a veth pair whose other end stays in
  // the same namespace, so taking it down touches nothing else.
  void add_uplink() {
    net().ip(0, {"link", "add", "uplink0", "type", "veth", "peer", "name", "uplink0p"});
    net().ip(0, {"link", "set", "uplink0p", "up"});
    net().ip(0, {"link", "set", "uplink0", "up"});
  }
};

TEST_F(LinkTracking, TrackedLinkDownMovesTheMasterAndBackUpRestoresIt) {
  add_uplink();
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.track_interfaces = {"uplink0"};
  Node& a = start_node(ca);
  ASSERT_TRUE(a.wait_state("MASTER", 8s)) << a.state();
  Node& b = start_node(node_config(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s)) << b.state();

  net().ip(0, {"link", "set", "uplink0", "down"});
  EXPECT_TRUE(a.wait_state("FAULT", 3s)) << a.state();
  // Priority 0 from the faulting master: well before Master_Down_Interval (about 361 ms).
  EXPECT_TRUE(b.wait_state("MASTER", 3s)) << b.state();
  EXPECT_TRUE(a.wait_log("uplink0 is down")) << tail_lines(a.log(), 20);

  net().ip(0, {"link", "set", "uplink0", "up"});
  EXPECT_TRUE(a.wait_state("MASTER", 5s)) << a.state();
  EXPECT_TRUE(b.wait_state("BACKUP", 3s)) << b.state();
}

TEST_F(LinkTracking, ANodeWhoseTrackedLinkIsDownStartsInFaultAndNeverBecomesMaster) {
  add_uplink();
  net().ip(0, {"link", "set", "uplink0", "down"});
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.track_interfaces = {"uplink0"};
  Node& a = start_node(ca);
  Node& b = start_node(node_config(1, "node-b", 100));
  EXPECT_TRUE(b.wait_state("MASTER", 5s)) << b.state();
  EXPECT_EQ(a.state(), "FAULT");
  EXPECT_EQ(a.transitions_to("MASTER"), 0u) << tail_lines(a.log(), 20);
}

TEST_F(LinkTracking, AMissingTrackedInterfaceIsAFault) {
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.track_interfaces = {"nosuch0"};
  Node& a = start_node(ca);
  EXPECT_TRUE(a.wait_state("FAULT", 5s)) << a.state();
  EXPECT_TRUE(a.wait_log("nosuch0 does not exist")) << tail_lines(a.log(), 20);
}

}  // namespace
}  // namespace failoverd::e2e
