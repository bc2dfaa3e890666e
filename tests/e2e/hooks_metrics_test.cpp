// Notify hooks and the metrics endpoint on running daemons.
#include <gtest/gtest.h>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

class Operate : public TwoHostTest {};

TEST_F(Operate, HooksRunInTransitionOrderWithTheirArguments) {
  const auto log = dir() / "hooks.log";
  const auto hook = dir() / "hook.sh";
  // argv: INSTANCE STATE PRIORITY; FAILOVERD_CLAIM tells the master hook about the claim.
  write_file(hook,
             "#!/bin/sh\necho \"$2 $1 $3 ${FAILOVERD_CLAIM:-}\" >> " + log.string() + "\n",
             std::filesystem::perms(0755));
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.extra = "[notify]\nmaster = " + hook.string() + "\nbackup = " + hook.string() +
             "\nstop = " + hook.string() + "\ntimeout = 5s\n";
  Node& a = start_node(ca);
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  Node& b = start_node(node_config(1, "node-b", 200));  // outranks node-a: it preempts
  ASSERT_TRUE(b.wait_state("MASTER", 5s));
  ASSERT_TRUE(a.wait_state("BACKUP", 3s));
  a.terminate();
  ASSERT_EQ(a.wait_exit(10s), 0);
  EXPECT_EQ(read_file(log),
            "BACKUP node-a 150 \n"  // INIT -> BACKUP at start
            "MASTER node-a 150 none\n"
            "BACKUP node-a 150 \n"
            "STOP node-a 150 \n");
}

TEST_F(Operate, AHookScriptOthersCanWriteIsRefusedAtStart) {
  const auto hook = dir() / "open.sh";
  write_file(hook, "#!/bin/sh\nexit 0\n", std::filesystem::perms(0777));
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.extra = "[notify]\nmaster = " + hook.string() + "\n";
  write_file(dir() / "a.conf", render_config(ca), std::filesystem::perms(0600));
  const auto r = run_command({binary_path("failoverd"), "--check-config",
                              (dir() / "a.conf").string()});
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("[notify] master:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("writable by group or others"), std::string::npos) << r.output;
}

TEST_F(Operate, MetricsServePrometheusText) {
  NodeConfig ca = node_config(0, "node-a", 150);
  ca.extra = "[metrics]\nlisten = 127.0.0.1:9798\n";
  Node& a = start_node(ca);
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  std::string body;
  ASSERT_TRUE(wait_until(
      [&] {
        body = run_command({"ip", "netns", "exec", net().ns(0), "curl", "-s", "-m", "2",
                            "http://127.0.0.1:9798/metrics"})
                   .output;
        return body.find("failoverd_adverts_sent_total") != std::string::npos;
      },
      5s))
      << body;
  EXPECT_NE(body.find("failoverd_state{instance_name=\"node-a\",state=\"MASTER\"} 1"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("failoverd_effective_priority{instance_name=\"node-a\"} 150"), std::string::npos)
      << body;
  EXPECT_NE(body.find("# TYPE failoverd_transitions_total counter"), std::string::npos) << body;
}

}  // namespace
}  // namespace failoverd::e2e
