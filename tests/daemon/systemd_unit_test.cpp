// The shipped unit, checked by systemd's own tools: `systemd-analyze verify` accepts it and
// `systemd-analyze security --offline=true` rates its exposure at 2.0 or better. The unit is
// copied with its binary paths pointed at this build, since nothing is installed here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace {

namespace fs = std::filesystem;

std::pair<int, std::string> run(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, ""};
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class SystemdUnit : public ::testing::Test {
 protected:
  void SetUp() override {
    if (run("command -v systemd-analyze").first != 0) GTEST_SKIP() << "no systemd-analyze";
    dir_ = fs::temp_directory_path() / ("fo-unit-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ifstream in(std::string(FAILOVERD_SOURCE_DIR) + "/systemd/failoverd@.service");
    std::stringstream unit;
    unit << in.rdbuf();
    // The installed paths of both programs (ExecStart, ExecReload) become the build's.
    std::string text = std::regex_replace(unit.str(), std::regex("/usr/sbin/failoverd"),
                                          std::string(FAILOVERD_BINARY_DIR) + "/failoverd");
    text = std::regex_replace(text, std::regex("/usr/bin/failoverctl"),
                              std::string(FAILOVERD_BINARY_DIR) + "/failoverctl");
    ASSERT_NE(text.find("ExecReload=" + std::string(FAILOVERD_BINARY_DIR) + "/failoverctl"),
              std::string::npos);
    ASSERT_NE(text.find("ExecStart="), std::string::npos);
    std::ofstream(dir_ / "failoverd@.service") << text;
    instance_ = (dir_ / "failoverd@web.service").string();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  std::string instance_;
};

TEST_F(SystemdUnit, VerifiesCleanly) {
  const auto [code, out] = run("systemd-analyze verify " + instance_);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "") << "systemd-analyze verify has remarks";
}

TEST_F(SystemdUnit, ExposureIsAtMost2) {
  const auto [code, out] = run("systemd-analyze security --offline=true " + instance_);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(out, m, std::regex("Overall exposure level for [^:]+: ([0-9.]+)")))
      << out;
  EXPECT_LE(std::stod(m[1].str()), 2.0) << out;
}

}  // namespace
