// End-to-end test harness: real failoverd processes (and keepalived peers) in network
// namespaces made for one test and removed after it.
//
// Everything here is RAII: a NetnsPair deletes its namespaces, a Process kills its child (by
// pid) and a TempDir removes its files, also when an assertion ends the test early. Names are
// unique per process (pid + counter), so `ctest -j2` can run these tests side by side.
// Children get PR_SET_PDEATHSIG, so a crashed test binary leaves no daemon behind; namespaces
// left by a crashed test binary are swept by the next run (only ours: prefix + dead pid).
//
// Setup failures throw std::runtime_error (gtest reports them as a failed test).
//
// Environment: FAILOVERD_BINARY_DIR overrides where failoverd and failoverctl are taken from;
// FAILOVERD_KEEP_TMP=1 keeps each test's directory (configs, logs) for a post-mortem.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace failoverd::e2e {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;
using namespace std::chrono_literals;

// ---- commands and files ----

struct CommandResult {
  int exit_code = -1;  // -1: killed by a signal or timed out
  bool timed_out = false;
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv (PATH is searched) and collects its output; kills it after `timeout`.
CommandResult run_command(const std::vector<std::string>& argv, Ms timeout = 10s);

// Like run_command but throws std::runtime_error unless the command exits 0.
std::string run_checked(const std::vector<std::string>& argv, Ms timeout = 10s);

// Path of a program built by this project: $FAILOVERD_BINARY_DIR/NAME when that variable is
// set in the environment, else the build tree this test was compiled for.
std::string binary_path(const std::string& name);

std::string read_file(const std::filesystem::path& p);
// Writes `content` (replacing the file) and sets its mode.
void write_file(const std::filesystem::path& p, const std::string& content,
                std::filesystem::perms mode = std::filesystem::perms(0644));

// Number of non-overlapping occurrences of `needle` in `haystack`.
std::size_t count_occurrences(const std::string& haystack, const std::string& needle);

// The last `n` lines of `text`, for failure messages.
std::string tail_lines(const std::string& text, std::size_t n);

// A fresh directory under /tmp (mode 0700), removed with its contents on destruction.
class TempDir {
 public:
  // A new directory BASE/fodh-TAG-XXXXXX, removed with everything in it.
  explicit TempDir(const std::string& tag, const std::filesystem::path& base = "/tmp");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Polls `predicate` every `poll` until it is true or `timeout` passes. Returns the time it
// took, or nullopt on timeout. The predicate is evaluated one last time at the deadline.
std::optional<Clock::duration> wait_until(const std::function<bool()>& predicate, Ms timeout,
                                          Ms poll = 20ms);

double seconds(Clock::duration d);

// ---- network namespaces ----

// Two network namespaces joined by a veth pair. In namespace i (0 or 1) the link is called
// iface() and has address(i)/24 (10.99.0.1 and 10.99.0.2); both namespaces' loopbacks are up.
// The constructor returns once the two sides can ping each other.
class NetnsPair {
 public:
  explicit NetnsPair(const std::string& tag = "e2e");
  ~NetnsPair();
  NetnsPair(const NetnsPair&) = delete;
  NetnsPair& operator=(const NetnsPair&) = delete;

  const std::string& ns(int i) const { return ns_.at(i); }
  static std::string iface() { return "veth0"; }
  static std::string address(int i) { return i == 0 ? "10.99.0.1" : "10.99.0.2"; }
  static std::string prefix_len() { return "24"; }

  // Runs `ip -n NS ARGS...` and returns its output (throws on failure).
  std::string ip(int i, const std::vector<std::string>& args) const;
  // Whether namespace i has `address` (e.g. "10.99.0.100") on iface().
  bool has_address(int i, const std::string& address) const;
  // Takes the link down or up on side i (a cut cable as seen from that host).
  void set_link(int i, bool up) const;

 private:
  std::vector<std::string> ns_;
};

// ---- processes ----

// One child process, killed (SIGKILL, by pid) and reaped on destruction if still running.
class Process {
 public:
  struct Options {
    std::string netns;             // run as `ip netns exec NETNS ARGV...` (ip execs: same pid)
    std::filesystem::path output;  // stdout+stderr appended here; empty: /dev/null
  };
  Process(const std::vector<std::string>& argv, const Options& options);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  void signal(int sig) const;
  // Waits for the child to exit; returns its exit status (128+N for signal N) or nullopt.
  std::optional<int> wait(Ms timeout);
  // SIGKILL and reap; harmless when already gone.
  void kill_and_reap();

 private:
  pid_t pid_ = -1;
  std::optional<int> status_;
};

// The fake DigitalOcean API (tests/fake_do_api) in `netns`, listening on address:8099, where
// droplets 1 and 2 exist and nobody holds `reserved_ip` at first. It accepts the token in
// `token_file`, answers after `delay_ms`, and logs to `log`.
std::unique_ptr<Process> start_fake_do_api(const std::string& netns, const std::string& address,
                                           const std::string& reserved_ip,
                                           const std::filesystem::path& token_file,
                                           const std::filesystem::path& log, int delay_ms);

// ---- failoverd nodes ----

struct NodeConfig {
  std::string name = "node";
  std::string netns;
  std::string interface = NetnsPair::iface();
  std::vector<std::string> track_interfaces;
  int virtual_router_id = 51;
  int priority = 100;
  std::string advert_interval = "100ms";
  bool preempt = true;
  std::string preempt_delay = "0s";
  std::string transport = "vrrp";  // vrrp | udp
  std::vector<std::string> peers;
  std::string source;              // empty: let the daemon pick
  int port = 5798;
  std::string auth_key_file;       // udp
  std::optional<bool> checksum_pseudo_header;
  std::vector<std::string> virtual_ips;  // "10.99.0.100/24"
  std::string socket;              // control socket path
  std::string extra;               // raw INI text appended as is
  std::vector<std::string> env;    // "NAME=value" set for the daemon (run through env(1))
};

// The INI text for `cfg`, in the documented syntax.
std::string render_config(const NodeConfig& cfg);

// Writes a random key of `bytes` bytes to `path` with `mode`.
void write_key_file(const std::filesystem::path& path, std::size_t bytes = 32,
                    std::filesystem::perms mode = std::filesystem::perms(0600));

// One failoverd process: `ip netns exec NS failoverd --config FILE --log-level debug`, its
// output in DIR/NAME.log.
class Node {
 public:
  Node(NodeConfig cfg, const std::filesystem::path& dir);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Writes the config (again) and starts the daemon. REQUIRES: not running.
  void start();
  // Writes config() to the config file (e.g. before hangup()).
  void write_config() const;
  bool running();
  void kill9();        // crash: no goodbye
  void terminate();    // SIGTERM: a priority-0 advert, then exit 0
  void hangup();       // SIGHUP: reload
  std::optional<int> wait_exit(Ms timeout);

  // `failoverctl --socket S status --json`; nullopt when unreachable or not JSON.
  std::optional<nlohmann::json> status() const;
  // status()["state"], or "" when the daemon cannot be reached.
  std::string state() const;
  // Polls state() until it equals `state`; returns the time it took.
  std::optional<Clock::duration> wait_state(const std::string& state, Ms timeout) const;

  // Runs failoverctl with these arguments after `--socket S`.
  CommandResult ctl(const std::vector<std::string>& args, Ms timeout = 10s) const;

  std::string log() const;
  // Whether the log holds `text` within `timeout`: the daemon writes its log from a queue, so
  // a line may land a little after the state change a test saw in the status.
  bool wait_log(const std::string& text, Ms timeout = 3s) const;
  // Number of logged transitions into `state` ("X -> MASTER" lines).
  std::size_t transitions_to(const std::string& state) const;
  // Number of logged transitions out of `state` ("MASTER -> X" lines).
  std::size_t transitions_from(const std::string& state) const;

  NodeConfig& config() { return cfg_; }
  const NodeConfig& config() const { return cfg_; }
  const std::filesystem::path& config_path() const { return config_path_; }
  const std::filesystem::path& log_path() const { return log_path_; }
  pid_t pid() const;

 private:
  NodeConfig cfg_;
  std::filesystem::path config_path_;
  std::filesystem::path log_path_;
  std::unique_ptr<Process> process_;
};

// status["key"] as an integer, or -1 when missing or not a number.
long long json_int(const nlohmann::json& status, const std::string& key);
// status["drops"]["reason"], or 0 when the reason is absent (nothing dropped), -1 when
// "drops" itself is missing.
long long drop_count(const nlohmann::json& status, const std::string& reason);

// ---- keepalived peers (interop) ----

struct KeepalivedConfig {
  std::string name = "keepalived";
  std::string netns;
  std::string interface = NetnsPair::iface();
  int virtual_router_id = 51;
  int priority = 100;
  std::string advert_int = "0.1";  // seconds; sub-second needs vrrp_version 3
  bool nopreempt = false;
  std::string unicast_src_ip;
  std::vector<std::string> unicast_peers;
  std::vector<std::string> virtual_ips;  // "10.99.0.100/24"
  bool v3_checksum_as_v2 = false;        // keepalived >= 2.2.8 only
  std::vector<std::string> global_defs;  // more global_defs lines, e.g. "vrrp_no_swap"
  std::vector<std::string> instance_lines;  // more vrrp_instance lines, e.g. "notify_master X"
};

// keepalived run as the lab notes say: foreground, console log, VRRP only, its own pid files,
// a notify script (script_user root + enable_script_security) that records every state.
class Keepalived {
 public:
  Keepalived(KeepalivedConfig cfg, const std::filesystem::path& dir);
  ~Keepalived();
  Keepalived(const Keepalived&) = delete;
  Keepalived& operator=(const Keepalived&) = delete;

  // `keepalived -t` inside the namespace: exit code and output.
  CommandResult check_config();
  void start();
  bool running();
  // SIGTERM to the parent: the VRRP child sends priority 0 and both exit.
  void terminate();
  // The lab's crash trick: SIGSTOP the parent, SIGKILL the VRRP child, then SIGKILL the
  // parent. No priority-0 advert is sent.
  void crash();
  std::optional<int> wait_exit(Ms timeout);

  // The last state the notify script recorded: "MASTER", "BACKUP", "FAULT", or "" if none.
  std::string state() const;
  std::optional<Clock::duration> wait_state(const std::string& state, Ms timeout) const;
  // Every state the notify script recorded, in order.
  std::vector<std::string> state_history() const;
  std::string log() const;

  std::string render_config() const;
  KeepalivedConfig& config() { return cfg_; }

 private:
  std::optional<pid_t> vrrp_child_pid() const;
  void stop_all();

  KeepalivedConfig cfg_;
  std::filesystem::path dir_;
  std::filesystem::path conf_, log_, pid_, vrrp_pid_, check_pid_, notify_, state_file_,
      history_file_;
  std::unique_ptr<Process> process_;
};

// ---- gtest fixture ----

// Two hosts (namespaces), a scratch directory, and helpers to start failoverd nodes on them.
// Skips when not root. On failure, the logs of every node are printed.
class TwoHostTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A config for a failoverd node on host `host` (0 or 1) peering with the other host.
  NodeConfig node_config(int host, const std::string& name, int priority);
  // Makes (does not start) a node; the fixture owns it.
  Node& add_node(const NodeConfig& cfg);
  Node& start_node(const NodeConfig& cfg);

  Keepalived& add_keepalived(const KeepalivedConfig& cfg);
  KeepalivedConfig keepalived_config(int host, const std::string& name, int priority);

  const std::filesystem::path& dir() const { return dir_->path(); }
  NetnsPair& net() { return *net_; }

  std::unique_ptr<NetnsPair> net_;
  std::unique_ptr<TempDir> dir_;
  // Declared after net_: destroyed (killed) before the namespaces are deleted.
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Keepalived>> keepaliveds_;
};

}  // namespace failoverd::e2e
