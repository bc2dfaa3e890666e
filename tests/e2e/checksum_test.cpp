// Both IPv4 checksum conventions between two failoverd nodes: RFC 9568 (no pseudo-header)
// works end to end, and a node set differently from its peer refuses its adverts visibly.
#include <gtest/gtest.h>

#include <thread>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

class ChecksumModes : public TwoHostTest {
 protected:
  NodeConfig config(int host, const std::string& name, int priority, bool pseudo_header) {
    NodeConfig c = node_config(host, name, priority);
    c.checksum_pseudo_header = pseudo_header;
    return c;
  }
};

TEST_F(ChecksumModes, Rfc9568ModeElectsOneMaster) {
  Node& a = start_node(config(0, "node-a", 150, false));
  Node& b = start_node(config(1, "node-b", 100, false));
  ASSERT_TRUE(a.wait_state("MASTER", 5s));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  const auto s = b.status();
  ASSERT_TRUE(s);
  EXPECT_GT(json_int(*s, "adverts_received"), 0) << *s;
  EXPECT_EQ(drop_count(*s, "bad_checksum"), 0) << *s;
}

TEST_F(ChecksumModes, MismatchedModesDropAsBadChecksum) {
  Node& a = start_node(config(0, "node-a", 150, true));
  Node& b = start_node(config(1, "node-b", 100, false));
  // Neither accepts the other's adverts: both MASTER, every advert counted as a drop.
  ASSERT_TRUE(a.wait_state("MASTER", 5s));
  ASSERT_TRUE(b.wait_state("MASTER", 5s)) << "node-b accepted adverts with the other checksum";
  std::this_thread::sleep_for(500ms);
  for (const Node* n : {&a, &b}) {
    const auto s = n->status();
    ASSERT_TRUE(s);
    EXPECT_EQ(json_int(*s, "adverts_received"), 0) << *s;
    EXPECT_GT(drop_count(*s, "bad_checksum"), 0) << *s;
  }
}

}  // namespace
}  // namespace failoverd::e2e
