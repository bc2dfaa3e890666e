// The exec provider in running daemons: a claim program of the operator's (here a script that
// records the holder in a file, standing in for a provider CLI) moves the address on failover,
// and a program others could rewrite is refused at start.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

class ExecProviderE2e : public TwoHostTest {
 protected:
  void SetUp() override {
    TwoHostTest::SetUp();
    if (IsSkipped()) return;
    // `claim` records this instance as the holder; `status` answers ours / none / other.
    write_file(script(),
               "#!/bin/sh\n"
               "state=" + holder_file().string() + "\n"
               "case \"$1\" in\n"
               "  claim) echo \"$FAILOVERD_INSTANCE\" > \"$state.tmp\" && mv \"$state.tmp\" \"$state\" ;;\n"
               "  status) h=$(cat \"$state\" 2>/dev/null)\n"
               "    if [ -z \"$h\" ]; then echo none\n"
               "    elif [ \"$h\" = \"$FAILOVERD_INSTANCE\" ]; then echo ours\n"
               "    else echo \"other $h\"; fi ;;\n"
               "  *) exit 64 ;;\n"
               "esac\n",
               std::filesystem::perms(0755));
  }

  std::filesystem::path script() const { return dir() / "claim-ip"; }
  std::filesystem::path holder_file() const { return dir() / "holder"; }
  std::string holder() const {
    std::string h = std::filesystem::exists(holder_file()) ? read_file(holder_file()) : "";
    while (!h.empty() && h.back() == '\n') h.pop_back();
    return h;
  }

  NodeConfig node(int host, const std::string& name, int priority) {
    NodeConfig c = node_config(host, name, priority);
    c.extra = "[reserved_ip]\nprovider = exec\naddress = 203.0.113.10\ncommand = " +
              script().string() + "\nreconcile_interval = 1s\n";
    return c;
  }
};

TEST_F(ExecProviderE2e, TheMastersProgramClaimsAndACrashMovesTheAddress) {
  Node& a = start_node(node(0, "node-a", 150));
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  Node& b = start_node(node(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  EXPECT_TRUE(wait_until([&] { return holder() == "node-a"; }, 10s)) << holder() << a.log();
  const auto s = a.status();
  ASSERT_TRUE(s);
  EXPECT_EQ((*s)["reserved_ip"]["provider"], "exec") << *s;

  a.kill9();
  ASSERT_TRUE(b.wait_state("MASTER", 5s));
  EXPECT_TRUE(wait_until([&] { return holder() == "node-b"; }, 10s)) << holder() << b.log();
}

TEST_F(ExecProviderE2e, AProgramOthersCanWriteIsRefusedAtStart) {
  std::filesystem::permissions(script(), std::filesystem::perms(0777));
  Node& a = start_node(node(0, "node-a", 150));
  const auto code = a.wait_exit(10s);
  ASSERT_TRUE(code) << "the daemon must refuse to start";
  EXPECT_NE(*code, 0);
  EXPECT_TRUE(a.wait_log("[reserved_ip] command: " + script().string() +
                         " is writable by group or others"))
      << a.log();
  EXPECT_EQ(holder(), "");
}

}  // namespace
}  // namespace failoverd::e2e
