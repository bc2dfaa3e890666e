// run_import_keepalived(), failoverctl's import-keepalived command in-process: the config on
// `out`, the warnings after it on `err`, one error line and exit 1 for a file that cannot be
// translated.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

#include "failoverd/control/ctl.h"
#include "importer/keepalived_samples.h"

namespace failoverd::control {
namespace {

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string instance_with(const std::string& body) {
  return "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 9\n  priority 100\n"
         "  version 3\n" +
         body + "}\n";
}

class ImportCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("fod-import-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const auto p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  int run(const std::string& path, std::optional<std::string> instance = std::nullopt,
          const std::string& stdin_text = "") {
    std::istringstream in(stdin_text);
    out_.str("");
    err_.str("");
    return run_import_keepalived(path, instance, std::nullopt, in, out_, err_);
  }
  std::filesystem::path dir_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(ImportCommand, PrintsTheConfigAndWarningsSeparately) {
  const std::string path = write("keepalived.conf", importer::samples::kLab);
  EXPECT_EQ(run(path), kExitOk);
  EXPECT_TRUE(has(out_.str(), "# From: " + path + ", vrrp_instance VI_51."));
  EXPECT_TRUE(has(out_.str(), "virtual_router_id = 51\n"));
  EXPECT_EQ(err_.str(),
            "failoverctl: warning: line 21: FIXME: the generic notify script would "
            "not run: set [notify] master, backup, fault and stop (to a wrapper "
            "that passes keepalived's arguments)\n");
}

TEST_F(ImportCommand, ReadsStdinForDash) {
  EXPECT_EQ(run("-", std::nullopt, importer::samples::kTypical), kExitOk);
  EXPECT_TRUE(has(out_.str(), "# From: stdin, vrrp_instance VI_1."));
  EXPECT_TRUE(has(err_.str(), "line 28: authentication"));
}

TEST_F(ImportCommand, ChoosesTheInstance) {
  const std::string path =
      write("two.conf", instance_with("") + "vrrp_instance VI_2 {\n interface eth2\n}\n");
  EXPECT_EQ(run(path, "VI_2"), kExitOk);
  EXPECT_TRUE(has(out_.str(), "name = VI_2\ninterface = eth2\n"));
}

TEST_F(ImportCommand, ParseErrorsExitOneWithTheLine) {
  const std::string path = write("bad.conf", "vrrp_instance A {\n  interface eth0\n");
  EXPECT_EQ(run(path), kExitDaemonError);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "failoverctl: " + path +
                            ": line 1: the block of \"vrrp_instance A\" is not closed (missing "
                            "'}')\n");
  EXPECT_EQ(run((dir_ / "missing.conf").string()), kExitDaemonError);
  EXPECT_TRUE(has(err_.str(), "missing.conf: No such file or directory"));
}

}  // namespace
}  // namespace failoverd::control
