// End-to-end check of `failoverctl import-keepalived`: its translation of realistic
// keepalived.conf files is accepted by the real config parser (parse_config, check_files and
// the hook file check that `failoverd --check-config` runs) and means what keepalived meant.
// Here because it needs both fod_control and fod_config; tests/control links only the former.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>

#include <gtest/gtest.h>

#include "importer/keepalived_samples.h"
#include "failoverd/config/config.h"
#include "failoverd/config/hook_files.h"
#include "failoverd/importer/keepalived_import.h"

namespace failoverd {
namespace {

using namespace std::chrono_literals;

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto pos = text.find(from); pos != std::string::npos;
       pos = text.find(from, pos + to.size())) {
    text.replace(pos, from.size(), to);
  }
  return text;
}

std::string problems_text(const config::Problems& problems) {
  std::string out;
  for (const auto& p : problems) out += p.to_string() + "\n";
  return out;
}

class KeepalivedImportConfig : public ::testing::Test {
 protected:
  // The hooks the samples name, as real executable files in a private directory, so the
  // translation is checked with the same file checks as `failoverd --check-config`.
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "fod-ka-import-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
    for (const char* name : {"master.sh", "backup.sh", "fault.sh", "stop.sh"}) {
      const std::string path = dir_ + "/" + name;
      std::ofstream(path) << "#!/bin/sh\nexit 0\n";
      ASSERT_EQ(::chmod(path.c_str(), 0755), 0);
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Translates `keepalived_conf` (with /etc/keepalived/ pointing at the temporary hooks) and
  // parses the result as failoverd would.
  config::Config translate_and_load(const std::string& keepalived_conf) {
    const std::string text = replace_all(keepalived_conf, "/etc/keepalived/", dir_ + "/");
    auto imported = importer::import_keepalived(text);
    EXPECT_TRUE(imported.has_value()) << (imported ? "" : imported.error().to_string());
    if (!imported) return {};
    auto cfg = config::parse_config(imported->config);
    EXPECT_TRUE(cfg.has_value()) << (cfg ? "" : problems_text(cfg.error())) << "in:\n"
                                 << imported->config;
    if (!cfg) return {};
    config::Problems file_problems = config::check_files(*cfg);
    const config::Problems hook_problems = config::check_hook_files(cfg->notify, ::getuid());
    file_problems.insert(file_problems.end(), hook_problems.begin(), hook_problems.end());
    EXPECT_TRUE(file_problems.empty()) << problems_text(file_problems);
    return *cfg;
  }

  std::string dir_;
};

TEST_F(KeepalivedImportConfig, TypicalPairMeansTheSameToFailoverd) {
  const config::Config cfg = translate_and_load(importer::samples::kTypical);
  EXPECT_EQ(cfg.instance.name, "VI_1");
  EXPECT_EQ(cfg.instance.interface, "eth1");
  EXPECT_EQ(cfg.vrrp.virtual_router_id, 51);
  EXPECT_EQ(cfg.vrrp.priority, 150);
  EXPECT_EQ(cfg.vrrp.advert_interval, 1s);
  EXPECT_TRUE(cfg.vrrp.preempt);
  EXPECT_EQ(cfg.vrrp.transport, config::Transport::kVrrp);
  ASSERT_TRUE(cfg.vrrp.source.has_value());
  EXPECT_EQ(cfg.vrrp.source->to_string(), "10.114.0.4");
  ASSERT_EQ(cfg.vrrp.peers.size(), 1u);
  EXPECT_EQ(cfg.vrrp.peers[0].to_string(), "10.114.0.5");
  EXPECT_TRUE(cfg.vrrp.checksum_pseudo_header);  // keepalived 2.2's default checksum

  ASSERT_EQ(cfg.checks.size(), 1u);
  const config::CheckConfig& check = cfg.checks[0];
  EXPECT_EQ(check.name, "chk_docker");
  ASSERT_EQ(check.type(), config::CheckType::kExec);
  const auto& exec = std::get<config::ExecCheckSpec>(check.spec);
  EXPECT_EQ(exec.command,
            (std::vector<std::string>{
                "/bin/sh", "-c",
                "[ $(docker ps -q --filter label=com.docker.compose.project=minitwit | wc -l) "
                "-ge 10 ]"}));
  EXPECT_EQ(exec.user, "root");
  EXPECT_EQ(check.interval, 2s);
  EXPECT_EQ(check.timeout, 1s);
  EXPECT_EQ(check.rise, 2);
  EXPECT_EQ(check.fall, 3);
  EXPECT_EQ(check.weight, -20);

  ASSERT_EQ(cfg.virtual_ip.addresses.size(), 1u);
  EXPECT_EQ(cfg.virtual_ip.addresses[0].to_string(), "10.114.0.100/24");
  EXPECT_EQ(cfg.notify.master, dir_ + "/master.sh");
  EXPECT_EQ(cfg.notify.backup, "");
}

TEST_F(KeepalivedImportConfig, LabPeerConfigParses) {
  // Without its generic notify line, which is a FIXME (a hook that would not run): what a
  // user has after deciding to drop it.
  const config::Config cfg = translate_and_load(
      replace_all(importer::samples::kLab, "  notify /tmp/ka1/notify.sh\n", ""));
  EXPECT_EQ(cfg.instance.name, "VI_51");
  EXPECT_EQ(cfg.vrrp.source->to_string(), "10.200.0.1");
  EXPECT_EQ(cfg.virtual_ip.addresses.size(), 1u);
  EXPECT_EQ(cfg.notify.master, "");
}

TEST_F(KeepalivedImportConfig, MulticastFractionalConfigParses) {
  const config::Config cfg = translate_and_load(importer::samples::kMulticastFast);
  EXPECT_EQ(cfg.vrrp.advert_interval, 250ms);
  EXPECT_FALSE(cfg.vrrp.preempt);
  EXPECT_EQ(cfg.vrrp.preempt_delay, 4500ms);
  EXPECT_TRUE(cfg.vrrp.peers.empty());
  EXPECT_EQ(cfg.instance.track_interfaces, (std::vector<std::string>{"ens4"}));
  ASSERT_EQ(cfg.checks.size(), 1u);
  EXPECT_EQ(cfg.checks[0].interval, 1s);
  EXPECT_EQ(cfg.checks[0].timeout, 990ms);
  EXPECT_EQ(cfg.checks[0].weight, 10);
  ASSERT_EQ(cfg.virtual_ip.addresses.size(), 2u);
  EXPECT_EQ(cfg.virtual_ip.addresses[1].to_string(), "192.168.7.11/32");
  EXPECT_EQ(cfg.notify.stop, dir_ + "/stop.sh");
}

}  // namespace
}  // namespace failoverd
