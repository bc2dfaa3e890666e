// The udp transport authenticates every advert with a shared key: a peer with another key is
// not a peer at all, and key files must be private.
#include <gtest/gtest.h>

#include <thread>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

class UdpAuth : public TwoHostTest {
 protected:
  NodeConfig udp_config(int host, const std::string& name, int priority,
                        const std::filesystem::path& key) {
    NodeConfig c = node_config(host, name, priority);
    c.transport = "udp";
    c.auth_key_file = key.string();
    return c;
  }
};

TEST_F(UdpAuth, WrongKeyNeverSeesThePeer) {
  write_key_file(dir() / "a.key");
  write_key_file(dir() / "b.key");
  Node& a = start_node(udp_config(0, "node-a", 150, dir() / "a.key"));
  Node& b = start_node(udp_config(1, "node-b", 100, dir() / "b.key"));

  // Neither hears the other, so both end up MASTER (a split brain, by construction).
  ASSERT_TRUE(a.wait_state("MASTER", 5s)) << "node-a: " << a.state();
  ASSERT_TRUE(b.wait_state("MASTER", 5s)) << "node-b: " << b.state();
  std::this_thread::sleep_for(1s);

  for (const Node* n : {&a, &b}) {
    const auto s = n->status();
    ASSERT_TRUE(s) << n->config().name;
    EXPECT_EQ((*s)["state"], "MASTER") << *s;
    EXPECT_EQ(json_int(*s, "adverts_received"), 0) << "accepted a forged advert: " << *s;
    EXPECT_GT(drop_count(*s, "bad_auth"), 0) << "wrong-key adverts must count as bad_auth: " << *s;
    EXPECT_EQ((*s)["master"], n->config().source) << *s;
  }
  // Keys are secrets: never in the logs, not even at debug level.
  for (const char* key : {"a.key", "b.key"}) {
    const std::string secret = read_file(dir() / key);
    EXPECT_EQ(a.log().find(secret), std::string::npos) << "node-a logged " << key;
    EXPECT_EQ(b.log().find(secret), std::string::npos) << "node-b logged " << key;
  }
}

TEST_F(UdpAuth, SameKeyElectsOneMaster) {
  write_key_file(dir() / "shared.key");
  Node& a = start_node(udp_config(0, "node-a", 150, dir() / "shared.key"));
  Node& b = start_node(udp_config(1, "node-b", 100, dir() / "shared.key"));
  ASSERT_TRUE(a.wait_state("MASTER", 5s));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  const auto s = b.status();
  ASSERT_TRUE(s);
  EXPECT_GT(json_int(*s, "adverts_received"), 0) << *s;
  EXPECT_EQ(drop_count(*s, "bad_auth"), 0) << *s;
}

TEST_F(UdpAuth, KeyFileReadableByOthersIsRefused) {
  write_key_file(dir() / "open.key", 32, std::filesystem::perms(0644));
  Node& a = start_node(udp_config(0, "node-a", 150, dir() / "open.key"));
  const auto status = a.wait_exit(5s);
  ASSERT_TRUE(status) << "failoverd kept running with a world-readable key file";
  EXPECT_NE(*status, 0);
  EXPECT_TRUE(a.wait_log("open.key")) << "the error must name the key file";
  EXPECT_EQ(a.log().find(read_file(dir() / "open.key")), std::string::npos) << "key logged";
}

TEST_F(UdpAuth, ShortKeyIsRefused) {
  write_key_file(dir() / "short.key", 8);
  Node& a = start_node(udp_config(0, "node-a", 150, dir() / "short.key"));
  const auto status = a.wait_exit(5s);
  ASSERT_TRUE(status) << "failoverd kept running with an 8-byte key";
  EXPECT_NE(*status, 0);
  EXPECT_TRUE(a.wait_log("short.key")) << "the error must name the key file";
}

}  // namespace
}  // namespace failoverd::e2e
