// `failoverd --check-config FILE` refuses what the daemon refuses at start (runtime_problems):
// a config that validates but names an exec check program that is missing or not executable
// must fail the check, as it would fail the start. Runs the built failoverd.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace failoverd::daemon {
namespace {

namespace fs = std::filesystem;

struct Checked {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

class CheckConfig : public ::testing::Test {
 protected:
  // Root-owned (tests run as root) and 0755, so the directory itself passes the file checks.
  void SetUp() override {
    std::string tmpl = "/tmp/fod-check-config-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string script(const std::string& name, mode_t mode) {
    const std::string p = (dir_ / name).string();
    std::ofstream(p) << "#!/bin/sh\nexit 0\n";
    EXPECT_EQ(::chmod(p.c_str(), mode), 0);
    return p;
  }

  // --check-config on a config with one exec check running `command`.
  Checked check_with_exec(const std::string& command) {
    const fs::path conf = dir_ / "web.conf";
    std::ofstream(conf) << "[instance]\nname = web\ninterface = lo\n"
                           "[vrrp]\nvirtual_router_id = 51\npriority = 100\n"
                           "[check.app]\ntype = exec\ncommand = "
                        << command << "\n";
    const fs::path out = dir_ / "out";
    const std::string cmd = std::string(FAILOVERD_BINARY_DIR) + "/failoverd --check-config " +
                            conf.string() + " >" + out.string() + " 2>&1";
    const int status = std::system(cmd.c_str());
    Checked c;
    c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(out);
    c.output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return c;
  }

  fs::path dir_;
};

TEST_F(CheckConfig, AnExecutableCheckProgramPasses) {
  const std::string p = script("check.sh", 0755);
  const Checked c = check_with_exec(p + " --quick");
  EXPECT_EQ(c.exit_code, 0) << c.output;
  EXPECT_EQ(c.output, (dir_ / "web.conf").string() + ": OK\n");
}

TEST_F(CheckConfig, AMissingCheckProgramIsRefused) {
  const std::string p = (dir_ / "missing.sh").string();
  const Checked c = check_with_exec(p);
  EXPECT_EQ(c.exit_code, 1) << c.output;
  EXPECT_EQ(c.output, (dir_ / "web.conf").string() + ": [check.app] command: " + p +
                          ": No such file or directory\n");
}

TEST_F(CheckConfig, ANonExecutableCheckProgramIsRefused) {
  const std::string p = script("check.sh", 0644);
  const Checked c = check_with_exec(p);
  EXPECT_EQ(c.exit_code, 1) << c.output;
  EXPECT_EQ(c.output, (dir_ / "web.conf").string() + ": [check.app] command: " + p +
                          " is not executable (mode 0644); chmod +x it\n");
}

}  // namespace
}  // namespace failoverd::daemon
