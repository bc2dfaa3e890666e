// The operator's side of configuration: `failoverd --check-config`, SIGHUP reloads, and the
// virtual IP that follows the master.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

// The line naming `section` and `key`, or "" when there is none.
std::string problem_line(const std::string& output, const std::string& section,
                         const std::string& key) {
  for (const auto& line : lines_of(output)) {
    if (line.find(section) != std::string::npos && line.find(key) != std::string::npos) {
      return line;
    }
  }
  return "";
}

TEST(CheckConfigCommand, BadFilePrintsOneLinePerProblemAndFails) {
  TempDir dir("cfg");
  const auto path = dir / "bad.conf";
  write_file(path,
             "[instance]\n"
             "name = bad\n"
             "interface = veth0\n"
             "[vrrp]\n"
             "virtual_router_id = 0\n"
             "priority = 300\n"
             "advert_interval = soon\n"
             "transport = carrier-pigeon\n"
             "[control]\n"
             "socket = " + (dir / "bad.sock").string() + "\n");
  const CommandResult r =
      run_command({binary_path("failoverd"), "--check-config", path.string()}, 10s);
  ASSERT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0) << r.output;
  // Every problem is reported, each on its own line naming section and key.
  const std::string prio = problem_line(r.output, "[vrrp]", "priority");
  EXPECT_NE(prio, "") << r.output;
  EXPECT_NE(prio.find("300"), std::string::npos) << "say which value is wrong: " << prio;
  EXPECT_NE(problem_line(r.output, "[vrrp]", "virtual_router_id"), "") << r.output;
  EXPECT_NE(problem_line(r.output, "[vrrp]", "advert_interval"), "") << r.output;
  EXPECT_NE(problem_line(r.output, "[vrrp]", "transport"), "") << r.output;
  EXPECT_NE(problem_line(r.output, "[vrrp]", "priority"),
            problem_line(r.output, "[vrrp]", "transport"))
      << "one line per problem";
}

TEST(CheckConfigCommand, MissingFileFailsNamingIt) {
  TempDir dir("cfg");
  const auto path = dir / "absent.conf";
  const CommandResult r =
      run_command({binary_path("failoverd"), "--check-config", path.string()}, 10s);
  ASSERT_FALSE(r.timed_out);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("absent.conf"), std::string::npos) << r.output;
}

class ConfigOnHosts : public TwoHostTest {};

TEST_F(ConfigOnHosts, ValidFilePasses) {
  NodeConfig c = node_config(0, "node-a", 150);
  Node& a = add_node(c);
  a.write_config();
  // Inside the namespace, where the interface exists.
  const CommandResult r = run_command({"ip", "netns", "exec", c.netns, binary_path("failoverd"),
                                       "--check-config", a.config_path().string()},
                                      10s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(ConfigOnHosts, SighupWithHigherPriorityPreempts) {
  Node& a = start_node(node_config(0, "node-a", 150));
  ASSERT_TRUE(a.wait_state("MASTER", 5s));
  Node& b = start_node(node_config(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));

  b.config().priority = 200;
  b.write_config();
  b.hangup();
  EXPECT_TRUE(b.wait_state("MASTER", 5s)) << "node-b: " << b.state();
  EXPECT_TRUE(a.wait_state("BACKUP", 2s)) << "node-a: " << a.state();
  const auto s = b.status();
  ASSERT_TRUE(s);
  EXPECT_EQ(json_int(*s, "priority"), 200) << *s;
  EXPECT_TRUE(b.running()) << "a reload must not restart or stop the daemon";
}

TEST_F(ConfigOnHosts, SighupWithInvalidConfigKeepsTheOldOne) {
  Node& a = start_node(node_config(0, "node-a", 150));
  ASSERT_TRUE(a.wait_state("MASTER", 5s));
  Node& b = start_node(node_config(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  const pid_t pid = b.pid();

  b.config().priority = 300;
  b.write_config();
  b.hangup();
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(b.running()) << "an invalid reload stopped the daemon";
  EXPECT_EQ(b.pid(), pid);
  const auto s = b.status();
  ASSERT_TRUE(s);
  EXPECT_EQ(json_int(*s, "priority"), 100) << "the old config must keep running: " << *s;
  EXPECT_EQ((*s)["state"], "BACKUP");
  EXPECT_EQ(a.state(), "MASTER");
  EXPECT_TRUE(b.wait_log("300")) << "the rejected value must be logged";
}

TEST_F(ConfigOnHosts, VirtualIpFollowsTheMaster) {
  const std::string vip = "10.99.0.100";
  NodeConfig ca = node_config(0, "node-a", 150);
  NodeConfig cb = node_config(1, "node-b", 100);
  ca.virtual_ips = cb.virtual_ips = {vip + "/24"};
  Node& a = start_node(ca);
  ASSERT_TRUE(a.wait_state("MASTER", 5s));
  Node& b = start_node(cb);
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));

  EXPECT_TRUE(wait_until([&] { return net().has_address(0, vip); }, 3s))
      << "MASTER node-a does not hold " << vip;
  EXPECT_FALSE(net().has_address(1, vip)) << "BACKUP node-b holds " << vip;

  a.terminate();
  ASSERT_TRUE(b.wait_state("MASTER", 5s));
  EXPECT_TRUE(wait_until([&] { return net().has_address(1, vip); }, 3s))
      << "new MASTER node-b does not hold " << vip;
  EXPECT_EQ(a.wait_exit(5s), 0);
  EXPECT_FALSE(net().has_address(0, vip)) << "a stopped node must give the address back";
}

}  // namespace
}  // namespace failoverd::e2e
