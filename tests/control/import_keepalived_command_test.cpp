// `failoverctl import-keepalived` as users run it: the built failoverctl binary, its exit code,
// and stdout and stderr apart (the config must be the only thing on stdout, so that
// `> /etc/failoverd/NAME.conf` is safe, and an error must leave stdout empty).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "failoverd/control/ctl.h"
#include "failoverd/importer/keepalived_parser.h"

namespace failoverd::control {
namespace {

namespace fs = std::filesystem;

struct CtlRun {
  int exit_code = -1;  // 128 + N when killed by signal N
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A private directory for the inputs and the captured output; removed afterwards.
class ImportKeepalivedCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = "/tmp/fod-import-cmd-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }

  // Runs failoverctl ARGS with stdin from /dev/null and stdout into `stdout_path` (a file of
  // ours by default, or e.g. /dev/full); killed after 60 s, so a hang fails the test (as exit
  // 128 + 9) instead of blocking the suite.
  CtlRun failoverctl(const std::vector<std::string>& args, const std::string& stdout_path = "") {
    const fs::path out = stdout_path.empty() ? dir_ / "stdout" : fs::path(stdout_path);
    const fs::path err = dir_ / "stderr";
    std::vector<std::string> argv = {std::string(FAILOVERD_BINARY_DIR) + "/failoverctl"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<char*> c_argv;
    for (auto& a : argv) c_argv.push_back(a.data());
    c_argv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int in_fd = ::open("/dev/null", O_RDONLY);
      const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      if (in_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(120);
      if (::dup2(in_fd, 0) < 0 || ::dup2(out_fd, 1) < 0 || ::dup2(err_fd, 2) < 0) ::_exit(121);
      ::execv(c_argv[0], c_argv.data());
      ::_exit(122);
    }
    CtlRun r;
    if (pid < 0) return r;
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (stdout_path.empty()) r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  // Exit 1, stdout empty, and stderr exactly one line: "failoverctl: PATH: ..." holding `why`.
  void expect_io_error(const std::vector<std::string>& args, const std::string& path,
                       const std::string& why) {
    const CtlRun r = failoverctl(args);
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err.rfind("failoverctl: " + path + ": ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(why), std::string::npos) << r.err;
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "not one line: " << r.err;
  }

  fs::path dir_;
};

// A common keepalived idiom: one file for both hosts, each picking its own priority.
constexpr const char* kPerHostPriority =
    "vrrp_instance VI_1 {\n"
    "  interface eth0\n"
    "  virtual_router_id 51\n"
    "  version 3\n"
    "  @a priority 101\n"
    "  @b priority 100\n"
    "  virtual_ipaddress {\n"
    "    10.0.0.100/24\n"
    "  }\n"
    "}\n";

TEST_F(ImportKeepalivedCommand, HostPicksTheConditionalLinesAsKeepalivedDoes) {
  const std::string conf = write("keepalived.conf", kPerHostPriority);
  CtlRun a = failoverctl({"import-keepalived", "--host", "a", conf});
  EXPECT_EQ(a.exit_code, 0) << a.err;
  EXPECT_NE(a.out.find("\npriority = 101\n"), std::string::npos) << a.out;
  EXPECT_EQ(a.out.find("priority = 100"), std::string::npos) << a.out;

  CtlRun b = failoverctl({"import-keepalived", "--host=b", conf});
  EXPECT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.out.find("\npriority = 100\n"), std::string::npos) << b.out;
  EXPECT_EQ(b.out.find("priority = 101"), std::string::npos) << b.out;

  // A host in neither: keepalived drops both lines and uses its default priority, 100.
  CtlRun c = failoverctl({"import-keepalived", "--host", "c", conf});
  EXPECT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("\npriority = 100\n"), std::string::npos) << c.out;
  EXPECT_EQ(c.out.find("priority = 101"), std::string::npos) << c.out;
  // "@a" is the whole id, not a prefix: host "ab" is in neither either.
  CtlRun ab = failoverctl({"import-keepalived", "--host", "ab", conf});
  EXPECT_EQ(ab.exit_code, 0) << ab.err;
  EXPECT_EQ(ab.out.find("priority = 101"), std::string::npos) << ab.out;
}

TEST_F(ImportKeepalivedCommand, HostDefaultsToThisHostsNameUpToTheFirstDot) {
  const std::optional<std::string> id = local_config_id();
  ASSERT_TRUE(id.has_value());
  ASSERT_EQ(id->find('.'), std::string::npos);
  const std::string conf = write("keepalived.conf",
                                 "vrrp_instance VI_1 {\n  interface eth0\n"
                                 "  virtual_router_id 51\n  version 3\n  @" +
                                     *id + " priority 142\n  @^" + *id + " priority 42\n}\n");
  CtlRun r = failoverctl({"import-keepalived", conf});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("\npriority = 142\n"), std::string::npos) << r.out;
  CtlRun other = failoverctl({"import-keepalived", "--host", *id + "x", conf});
  EXPECT_NE(other.out.find("\npriority = 42\n"), std::string::npos) << other.out;
}

TEST_F(ImportKeepalivedCommand, AnEmptyHostIsAUsageError) {
  const std::string conf = write("keepalived.conf", kPerHostPriority);
  const CtlRun r = failoverctl({"import-keepalived", "--host=", conf});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("--host"), std::string::npos) << r.err;
}

// Every I/O error is one line naming the path, exit 1, nothing on stdout.
TEST_F(ImportKeepalivedCommand, ADirectoryIsOneLineNotAnAbort) {
  const std::string d = (dir_ / "keepalived").string();
  fs::create_directory(d);
  expect_io_error({"import-keepalived", d}, d, "is a directory");
  expect_io_error({"import-keepalived", d + "/"}, d + "/", "is a directory");
}

TEST_F(ImportKeepalivedCommand, AMissingFileIsOneLine) {
  const std::string p = (dir_ / "missing.conf").string();
  expect_io_error({"import-keepalived", p}, p, "No such file or directory");
}

TEST_F(ImportKeepalivedCommand, AReadErrorIsOneLine) {
  // Root may open anything, but reading a process's memory at offset 0 (unmapped) fails
  // with EIO: a file that opens and then cannot be read.
  expect_io_error({"import-keepalived", "/proc/self/mem"}, "/proc/self/mem",
                  "read error: Input/output error");
}

TEST_F(ImportKeepalivedCommand, AFifoWithoutAWriterDoesNotHang) {
  const std::string p = (dir_ / "fifo").string();
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  // Nobody writes: it reads as empty, which has no vrrp_instance to translate.
  expect_io_error({"import-keepalived", p}, p, "no vrrp_instance");
}

TEST_F(ImportKeepalivedCommand, AFileOverTheLimitIsOneLine) {
  const std::string p = write("huge.conf", "");
  // Sparse: the size is what is refused, before any reading.
  ASSERT_EQ(::truncate(p.c_str(), static_cast<off_t>(importer::kMaxKeepalivedBytes + 1)), 0);
  expect_io_error({"import-keepalived", p}, p, "larger than 16 MiB");
  // Exactly at the limit it is read (and then is no keepalived.conf: all NUL bytes).
  ASSERT_EQ(::truncate(p.c_str(), static_cast<off_t>(importer::kMaxKeepalivedBytes)), 0);
  const CtlRun r = failoverctl({"import-keepalived", p});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.find("larger than"), std::string::npos) << r.err;
}

TEST_F(ImportKeepalivedCommand, AnOutputThatCannotBeWrittenIsExitOne) {
  const std::string conf = write("keepalived.conf", kPerHostPriority);
  const CtlRun r = failoverctl({"import-keepalived", "--host", "a", conf}, "/dev/full");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(r.err,
            "failoverctl: cannot write the output (standard output): the config is "
            "incomplete\n");
}

}  // namespace
}  // namespace failoverd::control
