// An interface that comes after failoverd (a VPC or DHCP interface late at boot): the daemon
// starts in FAULT, says what it waits for, and joins the election once the interface is there
// with an address, instead of exiting and being given up on by systemd.
#include <gtest/gtest.h>

#include <thread>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

class LateInterface : public TwoHostTest {
 protected:
  // late0 in host 0, one end of a veth pair whose other end stays in the same namespace.
  void add_late_interface(bool with_address) {
    net().ip(0, {"link", "add", "late0", "type", "veth", "peer", "name", "late0p"});
    if (with_address) add_address();
    net().ip(0, {"link", "set", "late0p", "up"});
    net().ip(0, {"link", "set", "late0", "up"});
  }
  void add_address() { net().ip(0, {"addr", "add", "10.77.0.1/24", "dev", "late0"}); }

  NodeConfig late_node(const std::string& source) {
    NodeConfig c = node_config(0, "node-a", 150);
    c.interface = "late0";
    c.peers = {};  // multicast on late0: nothing else is reachable from there
    c.source = source;
    return c;
  }

  void expect_waits_then_leads(Node& a, const std::string& waiting_for) {
    ASSERT_TRUE(a.wait_state("FAULT", 5s)) << a.state() << tail_lines(a.log(), 20);
    std::this_thread::sleep_for(1s);  // well past Master_Down_Interval (about 361 ms)
    EXPECT_TRUE(a.running()) << tail_lines(a.log(), 20);
    EXPECT_EQ(a.state(), "FAULT");
    EXPECT_TRUE(a.wait_log("waiting for interface late0: " + waiting_for))
        << tail_lines(a.log(), 20);
  }
};

TEST_F(LateInterface, AMissingInterfaceIsWaitedForInFault) {
  Node& a = start_node(late_node(""));
  expect_waits_then_leads(a, "[vrrp] source is not set and interface late0 does not exist");
  add_late_interface(/*with_address=*/true);
  EXPECT_TRUE(a.wait_state("MASTER", 5s)) << a.state() << tail_lines(a.log(), 20);
  EXPECT_TRUE(a.wait_log("interface late0 is there: heartbeats from 10.77.0.1"))
      << tail_lines(a.log(), 20);
  const auto s = a.status();
  ASSERT_TRUE(s.has_value());
  EXPECT_GT(json_int(*s, "adverts_sent"), 0);
  EXPECT_EQ(a.transitions_to("MASTER"), 1u);
}

// With source set, the socket's SO_BINDTODEVICE is what failed before.
TEST_F(LateInterface, AMissingInterfaceWithASourceIsWaitedForToo) {
  Node& a = start_node(late_node("10.77.0.1"));
  expect_waits_then_leads(a, "");
  add_late_interface(/*with_address=*/true);
  EXPECT_TRUE(a.wait_state("MASTER", 5s)) << a.state() << tail_lines(a.log(), 20);
}

// DHCP late: the interface is there but has no address yet.
TEST_F(LateInterface, AnInterfaceWithoutAnAddressIsWaitedFor) {
  add_late_interface(/*with_address=*/false);
  Node& a = start_node(late_node(""));
  expect_waits_then_leads(a, "[vrrp] source is not set and interface late0 has no IPv4 address");
  add_address();
  EXPECT_TRUE(a.wait_state("MASTER", 5s)) << a.state() << tail_lines(a.log(), 20);
  EXPECT_TRUE(a.wait_log("interface late0 is there: heartbeats from 10.77.0.1"))
      << tail_lines(a.log(), 20);
}

}  // namespace
}  // namespace failoverd::e2e
