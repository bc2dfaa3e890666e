#include "failoverd/daemon/runtime_problems.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace failoverd::daemon {
namespace {

namespace fs = std::filesystem;

// A root-owned 0755 directory with one script in it (tests run as root); removed afterwards.
class ScriptDir {
 public:
  ScriptDir() {
    std::string tmpl = (fs::temp_directory_path() / "fod-runtime-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
    ::chmod(path_.c_str(), 0755);
  }
  ~ScriptDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string script(mode_t mode) const {
    const std::string p = (path_ / "check.sh").string();
    std::ofstream(p) << "#!/bin/sh\nexit 0\n";
    ::chmod(p.c_str(), mode);
    return p;
  }

 private:
  fs::path path_;
};

config::Config with_exec_check(std::vector<std::string> command,
                               std::optional<std::string> user = std::nullopt) {
  config::Config cfg;
  config::CheckConfig check;
  check.name = "app";
  check.spec = config::ExecCheckSpec{std::move(command), std::move(user)};
  cfg.checks.push_back(check);
  return cfg;
}

TEST(RuntimeProblems, SafeProgramsPass) {
  ScriptDir dir;
  EXPECT_TRUE(runtime_problems(with_exec_check({dir.script(0755), "--quick"})).empty());
  EXPECT_TRUE(runtime_problems(with_exec_check({"/usr/bin/test", "-e", "/"})).empty());
}

TEST(RuntimeProblems, ExecCheckOthersCanRewriteIsRefused) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (file ownership)";
  ScriptDir dir;
  const auto problems = runtime_problems(with_exec_check({dir.script(0777)}));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].section, "check.app");
  EXPECT_EQ(problems[0].key, "command");
  EXPECT_NE(problems[0].message.find("check.sh"), std::string::npos) << problems[0].message;
}

TEST(RuntimeProblems, MissingExecCheckProgramIsReported) {
  ScriptDir dir;
  const auto problems = runtime_problems(with_exec_check({"/nonexistent/fod-check"}));
  ASSERT_FALSE(problems.empty());  // the program, and the directory it should be in
  for (const auto& p : problems) EXPECT_EQ(p.section, "check.app") << p.to_string();
}

// Run as another user, the program gives whoever can rewrite it nothing the user lacks; a bare
// name is looked up in PATH, which belongs to the system.
TEST(RuntimeProblems, ExecCheckWithUserOrBareNameIsNotChecked) {
  ScriptDir dir;
  EXPECT_TRUE(runtime_problems(with_exec_check({dir.script(0777)}, "nobody")).empty());
  EXPECT_TRUE(runtime_problems(with_exec_check({"true"})).empty());
}

// The shipped unit gives failoverd neither CAP_SETUID nor CAP_SETGID: a check with `user`
// would die of SIGSYS at every run, so it is refused at start with the reason.
TEST(RuntimeProblems, ExecCheckUserWithoutTheCapabilitiesIsRefused) {
  const auto cfg = with_exec_check({"/usr/bin/test", "-e", "/"}, "nobody");
  const auto problems = runtime_problems(cfg, Privileges{998, /*can_switch_user=*/false});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].to_string(),
            "[check.app] user: running the check as nobody needs CAP_SETUID and CAP_SETGID, "
            "which failoverd does not have here (the shipped unit runs it as user failoverd "
            "without them); leave user unset to run the check as failoverd's own user");
  EXPECT_TRUE(runtime_problems(cfg, Privileges{0, /*can_switch_user=*/true}).empty());
}

TEST(RuntimeProblems, CapabilitiesAreReadFromTheStatusText) {
  // Lines as the kernel writes them: root (all), the unit (NET_ADMIN and NET_RAW: 0x3000),
  // SETGID and SETUID only (bits 6 and 7: 0xc0), SETUID alone.
  EXPECT_TRUE(status_can_switch_user("Name:\tx\nCapEff:\t000001ffffffffff\n"));
  EXPECT_FALSE(status_can_switch_user("Name:\tx\nCapEff:\t0000000000003000\n"));
  EXPECT_TRUE(status_can_switch_user("\nCapEff:\t00000000000000c0\n"));
  EXPECT_FALSE(status_can_switch_user("\nCapEff:\t0000000000000080\n"));
  EXPECT_FALSE(status_can_switch_user("\nCapPrm:\t000001ffffffffff\n"));
  EXPECT_FALSE(status_can_switch_user("\nCapEff:\tzz\n"));
  EXPECT_EQ(current_privileges().euid, ::geteuid());
  if (::geteuid() == 0) {
    EXPECT_TRUE(current_privileges().can_switch_user);
  }
}

TEST(RuntimeProblems, ExecProviderProgramIsChecked) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (file ownership)";
  ScriptDir dir;
  config::Config cfg;
  cfg.reserved_ip.provider = config::Provider::kExec;
  cfg.reserved_ip.command = {dir.script(0777)};
  const auto problems = runtime_problems(cfg);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].section, "reserved_ip");
  EXPECT_EQ(problems[0].key, "command");
}

}  // namespace
}  // namespace failoverd::daemon
