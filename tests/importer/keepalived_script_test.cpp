#include "failoverd/importer/keepalived_script.h"

#include <gtest/gtest.h>

namespace failoverd::importer {
namespace {

using Kind = ScriptMapping::Kind;

TEST(KeepalivedScript, WordsAreExecedAsTheyAre) {
  const auto m = map_keepalived_script({"killall", "-0", "sshd"});
  EXPECT_EQ(m.kind, Kind::kExec);
  EXPECT_EQ(m.argv, (std::vector<std::string>{"killall", "-0", "sshd"}));
  EXPECT_FALSE(m.depends_on_sh);
  const auto sh = map_keepalived_script({"/bin/bash", "-c", "a | b"});
  EXPECT_EQ(sh.kind, Kind::kExec);
  EXPECT_EQ(sh.argv, (std::vector<std::string>{"/bin/bash", "-c", "a | b"}));
}

TEST(KeepalivedScript, ShellSyntaxIsRefused) {
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"pidof", "x", "||", "exit", "1"},
        {"a", ">/dev/null"},
        {"echo", "$X"},
        {"ls", "*.conf"},
        {"a;b"}}) {
    const auto m = map_keepalived_script(argv);
    EXPECT_EQ(m.kind, Kind::kRefused) << argv[0];
    EXPECT_NE(m.why.find("keepalived 1.x ran the line with /bin/sh -c"), std::string::npos);
  }
}

TEST(KeepalivedScript, DevTcpIsATcpCheckThatDependsOnSh) {
  for (const char* s :
       {"</dev/tcp/127.0.0.1/80", "< /dev/tcp/127.0.0.1/80", "<\t/dev/tcp/127.0.0.1/80"}) {
    const auto m = map_keepalived_script({s});
    EXPECT_EQ(m.kind, Kind::kTcp) << s;
    EXPECT_EQ(m.address, (config::HostPort{"127.0.0.1", 80}));
    EXPECT_TRUE(m.depends_on_sh);
    EXPECT_NE(m.why.find("dash"), std::string::npos);
  }
  const auto v6 = map_keepalived_script({"</dev/tcp/fe80::1/22"});
  EXPECT_EQ(v6.kind, Kind::kTcp);
  EXPECT_EQ(v6.address, (config::HostPort{"fe80::1", 22}));
  EXPECT_EQ(v6.address.to_string(), "[fe80::1]:22");
}

TEST(KeepalivedScript, OtherRedirectionsAreExactOrRefused) {
  const auto file = map_keepalived_script({"</run/app/ready"});
  EXPECT_EQ(file.kind, Kind::kExec);
  EXPECT_EQ(file.argv, (std::vector<std::string>{"/bin/sh", "-c", "</run/app/ready"}));
  EXPECT_FALSE(file.depends_on_sh);
  for (const std::vector<std::string>& argv : {std::vector<std::string>{"</dev/tcp/h/http"},
                                               {"</dev/tcp/h"},
                                               {"</dev/tcp/"},
                                               {"</dev/tcp/h/0"},
                                               {"</dev/tcp/h/70000"},
                                               {"</dev/udp/h/53"},
                                               {"</dev/tcp"},
                                               {"</dev/tcp/h/80", "x"},
                                               {"</etc/a b"},
                                               {"</etc/$X"},
                                               {"<x"},
                                               {"<"}}) {
    const auto m = map_keepalived_script(argv);
    EXPECT_EQ(m.kind, Kind::kRefused) << argv[0];
    EXPECT_FALSE(m.why.empty());
    EXPECT_EQ(m.why.find('#'), std::string::npos);
  }
}

}  // namespace
}  // namespace failoverd::importer
