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
