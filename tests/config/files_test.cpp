// check_files(), read_key_file() and load_config() against real files in a temporary directory.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "failoverd/config/config.h"
#include "test_util.h"

namespace failoverd::config {
namespace {

using ::testing::ElementsAre;
using testing::kMinimal;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ =
        (std::filesystem::temp_directory_path() / "failoverd-config-XXXXXX").string();
    ASSERT_NE(::mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `content` to dir/name with `mode` (set explicitly: the umask does not matter).
  std::string write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  std::vector<std::string> file_problems(const Config& cfg) {
    std::vector<std::string> out;
    for (const auto& p : check_files(cfg)) out.push_back(p.to_string());
    return out;
  }

  std::string dir_;
};

constexpr const char* kKey = "0123456789abcdef0123456789abcdef";

TEST_F(FilesTest, Mode0600IsAccepted) {
  Config cfg;
  cfg.vrrp.auth_key_file = write("web.key", kKey, 0600);
  cfg.reserved_ip.token_file = write("do.token", "dop_v1_secret\n", 0400);
  EXPECT_TRUE(check_files(cfg).empty());
}

// A systemd credential (LoadCredential=do.token:...): read from $CREDENTIALS_DIRECTORY.
TEST_F(FilesTest, SecretFromASystemdCredential) {
  write("do.token", "dop_v1_from_credential\n", 0400);
  ::setenv("CREDENTIALS_DIRECTORY", dir_.c_str(), 1);
  auto token = read_secret_file("credential:do.token");
  ASSERT_TRUE(token) << token.error();
  EXPECT_EQ(*token, "dop_v1_from_credential");
  auto missing = read_secret_file("credential:other.token");
  ASSERT_FALSE(missing);
  EXPECT_THAT(missing.error(), ::testing::HasSubstr("credential:other.token: "));
  ::unsetenv("CREDENTIALS_DIRECTORY");
  auto unset = read_secret_file("credential:do.token");
  ASSERT_FALSE(unset);
  EXPECT_EQ(unset.error(),
            "credential:do.token: no systemd credentials are passed to this process "
            "($CREDENTIALS_DIRECTORY is not set; the unit needs "
            "LoadCredential=do.token:/path/to/file)");
  EXPECT_EQ(unset.error().find("dop_v1"), std::string::npos);
}

TEST_F(FilesTest, GroupOrOtherAccessIsRefused) {
  Config cfg;
  cfg.vrrp.auth_key_file = write("web.key", kKey, 0644);
  cfg.reserved_ip.token_file = write("do.token", "dop_v1_secret", 0640);
  EXPECT_THAT(file_problems(cfg),
              ElementsAre("[vrrp] auth_key_file: " + dir_ +
                              "/web.key: mode 0644 is readable by group or others; chmod 600 it",
                          "[reserved_ip] token_file: " + dir_ +
                              "/do.token: mode 0640 is readable by group or others; chmod 600 "
                              "it"));
  cfg.vrrp.auth_key_file = write("web.key", kKey, 0620);
  cfg.reserved_ip.token_file = write("do.token", "dop_v1_secret", 0601);
  EXPECT_THAT(file_problems(cfg),
              ElementsAre("[vrrp] auth_key_file: " + dir_ +
                              "/web.key: mode 0620 is writable by group or others; chmod 600 it",
                          "[reserved_ip] token_file: " + dir_ +
                              "/do.token: mode 0601 is accessible by group or others; chmod 600 "
                              "it"));
}

TEST_F(FilesTest, MissingDirectoryFifoEmptyAndShort) {
  Config cfg;
  cfg.vrrp.auth_key_file = dir_ + "/missing.key";
  cfg.reserved_ip.token_file = dir_;
  EXPECT_THAT(file_problems(cfg),
              ElementsAre("[vrrp] auth_key_file: " + dir_ +
                              "/missing.key: No such file or directory",
                          "[reserved_ip] token_file: " + dir_ + ": is not a regular file"));

  // A FIFO must be refused, not block the reader.
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  cfg.vrrp.auth_key_file = fifo;
  cfg.reserved_ip.token_file = write("empty.token", " \n\n", 0600);
  EXPECT_THAT(file_problems(cfg),
              ElementsAre("[vrrp] auth_key_file: " + fifo + ": is not a regular file",
                          "[reserved_ip] token_file: " + dir_ + "/empty.token: is empty"));

  cfg.vrrp.auth_key_file = write("short.key", "0123456789abcde\n", 0600);
  cfg.reserved_ip.token_file.clear();
  EXPECT_THAT(file_problems(cfg),
              ElementsAre("[vrrp] auth_key_file: " + dir_ +
                          "/short.key: holds 15 bytes; a key needs at least 16 (e.g. openssl "
                          "rand -base64 32)"));
}

TEST_F(FilesTest, ReadKeyFileTrimsTrailingWhitespaceOnly) {
  const std::string path = write("k", "  0123456789abcdef \t\r\n\n", 0600);
  auto key = read_key_file(path);
  ASSERT_TRUE(key) << key.error();
  EXPECT_EQ(std::string(key->begin(), key->end()), "  0123456789abcdef");

  // Binary keys are fine; only the trailing whitespace goes.
  std::string binary(20, '\0');
  binary[5] = '\xff';
  auto bin = read_key_file(write("b", binary + "\n", 0600));
  ASSERT_TRUE(bin) << bin.error();
  EXPECT_EQ(bin->size(), 20u);
  EXPECT_EQ((*bin)[5], 0xff);
}

TEST_F(FilesTest, SecretFileSizeLimit) {
  const std::string path = write("big", std::string(64 * 1024 + 1, 'x'), 0600);
  EXPECT_EQ(read_secret_file(path).error(), path + ": is larger than 64 KiB");
}

TEST_F(FilesTest, LoadConfigReadsParsesAndChecksFiles) {
  const std::string key = write("web.key", kKey, 0600);
  const std::string conf = write("web.conf",
                                 std::string(kMinimal) + "transport = udp\npeer = 10.0.0.2\n"
                                                         "auth_key_file = " + key + "\n",
                                 0644);
  auto cfg = load_config(conf, {"vrrp.priority=120"});
  ASSERT_TRUE(cfg);
  EXPECT_EQ(cfg->vrrp.auth_key_file, key);
  EXPECT_EQ(cfg->vrrp.priority, 120);
}

TEST_F(FilesTest, LoadConfigReportsParseAndFileProblemsTogether) {
  const std::string key = write("web.key", kKey, 0644);
  const std::string conf = write("web.conf",
                                 std::string(kMinimal) + "priority = 300\ntransport = udp\n"
                                                         "peer = 10.0.0.2\nauth_key_file = " +
                                     key + "\n",
                                 0600);
  auto cfg = load_config(conf);
  ASSERT_FALSE(cfg);
  std::vector<std::string> lines;
  for (const auto& p : cfg.error()) lines.push_back(p.to_string());
  EXPECT_THAT(lines,
              ElementsAre("[vrrp] priority: 300 is out of range 1..254",
                          "[vrrp] auth_key_file: " + key +
                              ": mode 0644 is readable by group or others; chmod 600 it"));
}

TEST_F(FilesTest, LoadConfigOfAMissingOrBadFile) {
  auto missing = load_config(dir_ + "/nope.conf");
  ASSERT_FALSE(missing);
  ASSERT_EQ(missing.error().size(), 1u);
  EXPECT_EQ(missing.error()[0].to_string(), dir_ + "/nope.conf: No such file or directory");

  auto directory = load_config(dir_);
  ASSERT_FALSE(directory);
  EXPECT_EQ(directory.error()[0].to_string(), dir_ + ": is not a regular file");

  auto big = load_config(write("big.conf", std::string(1024 * 1024 + 1, '#'), 0644));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error()[0].to_string(), dir_ + "/big.conf: is larger than 1 MiB");
}

}  // namespace
}  // namespace failoverd::config
