#include "harness/harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace failoverd::e2e {

namespace fs = std::filesystem;

namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s += ' ';
    s += a;
  }
  return s;
}

// In a forked child: exec argv, never return. Dies with the test binary (PDEATHSIG), so a
// crashed test leaves no daemon running.
[[noreturn]] void exec_child(const std::vector<std::string>& argv, pid_t parent) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(126);  // the parent died before prctl
  // Signal dispositions and mask are inherited across exec: reset the ones tests rely on.
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  signal(SIGPIPE, SIG_DFL);
  close_range(3, ~0U, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  dprintf(2, "exec %s: %s\n", args[0], std::strerror(errno));
  _exit(127);
}

void redirect_stdin_null() {
  int fd = open("/dev/null", O_RDONLY);
  if (fd >= 0) {
    dup2(fd, 0);
    if (fd > 0) close(fd);
  }
}

}  // namespace

// ---- commands and files ----

CommandResult run_command(const std::vector<std::string>& argv, Ms timeout) {
  CommandResult result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + std::string(strerror(errno)));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    redirect_stdin_null();
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    exec_child(argv, parent);
  }
  close(fds[1]);
  const auto deadline = Clock::now() + timeout;
  char buf[4096];
  for (;;) {
    const auto left = std::chrono::duration_cast<Ms>(deadline - Clock::now()).count();
    if (left <= 0) {
      result.timed_out = true;
      kill(pid, SIGKILL);
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    result.output.append(buf, static_cast<std::size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = result.timed_out ? -1 : decode_status(status);
  return result;
}

std::string run_checked(const std::vector<std::string>& argv, Ms timeout) {
  CommandResult r = run_command(argv, timeout);
  if (r.exit_code != 0) {
    throw std::runtime_error("`" + join(argv) + "` failed (exit " + std::to_string(r.exit_code) +
                             (r.timed_out ? ", timed out" : "") + "): " + r.output);
  }
  return r.output;
}

std::string binary_path(const std::string& name) {
  const char* dir = std::getenv("FAILOVERD_BINARY_DIR");
  return (fs::path(dir != nullptr && *dir != '\0' ? dir : FAILOVERD_BINARY_DIR) / name).string();
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& content, fs::perms mode) {
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out) throw std::runtime_error("cannot write " + p.string());
  }
  fs::permissions(p, mode, fs::perm_options::replace);
}

std::size_t count_occurrences(const std::string& haystack, const std::string& needle) {
  if (needle.empty()) return 0;
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

std::string tail_lines(const std::string& text, std::size_t n) {
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  while (n > 0 && pos > 0) {
    const auto nl = text.rfind('\n', pos - 1);
    if (nl == std::string::npos) {
      pos = 0;
      break;
    }
    pos = nl;
    --n;
  }
  return text.substr(pos == 0 ? 0 : pos + 1);
}

TempDir::TempDir(const std::string& tag, const std::filesystem::path& base) {
  std::string tmpl = (base / ("fodh-" + tag + "-XXXXXX")).string();
  if (mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp: " + std::string(strerror(errno)));
  }
  path_ = tmpl;
  fs::permissions(path_, fs::perms::owner_all, fs::perm_options::replace);
}

TempDir::~TempDir() {
  std::error_code ec;
  if (std::getenv("FAILOVERD_KEEP_TMP") == nullptr) fs::remove_all(path_, ec);
}

std::optional<Clock::duration> wait_until(const std::function<bool()>& predicate, Ms timeout,
                                          Ms poll) {
  const auto start = Clock::now();
  const auto deadline = start + timeout;
  for (;;) {
    if (predicate()) return Clock::now() - start;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::min<Clock::duration>(poll, deadline - Clock::now()));
  }
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// ---- network namespaces ----

namespace {

constexpr const char* kNetnsPrefix = "fodh-";

// Deletes namespaces named fodh-TAG-PID-N[ab] whose PID no longer runs: left behind by a test
// binary that crashed. Namespaces of live processes (other tests running now) are left alone.
void sweep_stale_namespaces() {
  const CommandResult r = run_command({"ip", "netns", "list"});
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    const std::string name = line.substr(0, line.find(' '));
    if (name.rfind(kNetnsPrefix, 0) != 0) continue;
    std::vector<std::string> parts;
    std::stringstream ss(name);
    for (std::string part; std::getline(ss, part, '-');) parts.push_back(part);
    if (parts.size() != 4) continue;
    char* end = nullptr;
    const long pid = std::strtol(parts[2].c_str(), &end, 10);
    if (end == parts[2].c_str() || *end != '\0' || pid <= 0) continue;
    if (kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
      run_command({"ip", "netns", "del", name});
    }
  }
}

}  // namespace

NetnsPair::NetnsPair(const std::string& tag) {
  static std::atomic<int> counter{0};
  static std::once_flag swept;
  std::call_once(swept, sweep_stale_namespaces);
  const std::string base = std::string(kNetnsPrefix) + tag + "-" + std::to_string(getpid()) +
                           "-" + std::to_string(counter++);
  try {
    for (const char* side : {"a", "b"}) {
      const std::string name = base + side;
      run_checked({"ip", "netns", "add", name});
      ns_.push_back(name);
    }
    // Both ends are created inside the namespaces, so the names never clash with other tests.
    run_checked({"ip", "-n", ns_[0], "link", "add", iface(), "type", "veth", "peer", "name",
                 iface(), "netns", ns_[1]});
    for (int i = 0; i < 2; ++i) {
      run_checked({"ip", "-n", ns_[i], "link", "set", "lo", "up"});
      run_checked({"ip", "-n", ns_[i], "addr", "add", address(i) + "/" + prefix_len(), "dev",
                   iface()});
      run_checked({"ip", "-n", ns_[i], "link", "set", iface(), "up"});
    }
    // keepalived (and a careful daemon) go to FAULT when started before the link is up.
    const auto ok = wait_until(
        [&] {
          return run_command({"ip", "netns", "exec", ns_[0], "ping", "-c1", "-W1", address(1)})
                     .exit_code == 0;
        },
        10s, 50ms);
    if (!ok) throw std::runtime_error("veth between " + ns_[0] + " and " + ns_[1] + " never came up");
    // Ping can work before a netlink dump reports the far end running (up to about a second
    // later): a daemon started then begins in FAULT ("veth0 is down"). Wait for the dump's
    // operstate UP (the daemon's IFF_RUNNING) on both ends.
    const auto running = wait_until(
        [&] {
          for (const auto& n : ns_) {
            const auto r = run_command({"ip", "-n", n, "-o", "link", "show", "dev", iface()});
            if (r.exit_code != 0 || r.output.find(" state UP ") == std::string::npos) return false;
          }
          return true;
        },
        10s, 20ms);
    if (!running) throw std::runtime_error("veth " + iface() + " never read as running");
  } catch (...) {
    for (const auto& n : ns_) run_command({"ip", "netns", "del", n});
    throw;
  }
}

NetnsPair::~NetnsPair() {
  for (const auto& n : ns_) {
    const CommandResult r = run_command({"ip", "netns", "del", n});
    if (r.exit_code != 0) std::cerr << "warning: ip netns del " << n << ": " << r.output;
  }
}

std::string NetnsPair::ip(int i, const std::vector<std::string>& args) const {
  std::vector<std::string> argv{"ip", "-n", ns(i)};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_checked(argv);
}

bool NetnsPair::has_address(int i, const std::string& address) const {
  const std::string out = ip(i, {"-4", "-o", "addr", "show", "dev", iface()});
  return out.find(" " + address + "/") != std::string::npos;
}

void NetnsPair::set_link(int i, bool up) const {
  ip(i, {"link", "set", iface(), up ? "up" : "down"});
}

// ---- processes ----

Process::Process(const std::vector<std::string>& argv, const Options& options) {
  std::vector<std::string> full;
  if (!options.netns.empty()) full = {"ip", "netns", "exec", options.netns};
  full.insert(full.end(), argv.begin(), argv.end());
  int out = -1;
  if (!options.output.empty()) {
    out = open(options.output.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out < 0) throw std::runtime_error("open " + options.output.string() + ": " + strerror(errno));
  }
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0) {
    if (out >= 0) close(out);
    throw std::runtime_error("fork: " + std::string(strerror(errno)));
  }
  if (pid_ == 0) {
    redirect_stdin_null();
    if (out < 0) out = open("/dev/null", O_WRONLY);
    dup2(out, 1);
    dup2(out, 2);
    exec_child(full, parent);
  }
  if (out >= 0) close(out);
}

Process::~Process() { kill_and_reap(); }

bool Process::running() {
  if (status_ || pid_ <= 0) return false;
  int status = 0;
  const pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = decode_status(status);
    return false;
  }
  return true;
}

void Process::signal(int sig) const {
  if (!status_ && pid_ > 0) ::kill(pid_, sig);
}

std::optional<int> Process::wait(Ms timeout) {
  wait_until([&] { return !running(); }, timeout, 5ms);
  return status_;
}

void Process::kill_and_reap() {
  if (pid_ <= 0 || status_) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  status_ = decode_status(status);
}


std::unique_ptr<Process> start_fake_do_api(const std::string& netns, const std::string& address,
                                           const std::string& reserved_ip,
                                           const std::filesystem::path& token_file,
                                           const std::filesystem::path& log, int delay_ms) {
  Process::Options o;
  o.netns = netns;
  o.output = log;
  return std::make_unique<Process>(
      std::vector<std::string>{binary_path("tests/fake_do_api"), "--listen", address, "--port",
                               "8099", "--token-file", token_file.string(), "--reserved-ip",
                               reserved_ip, "--droplet", "1", "--droplet", "2", "--delay-ms",
                               std::to_string(delay_ms)},
      o);
}

// ---- failoverd nodes ----

std::string render_config(const NodeConfig& cfg) {
  std::ostringstream s;
  s << "[instance]\n"
    << "name = " << cfg.name << "\n"
    << "interface = " << cfg.interface << "\n";
  for (const auto& t : cfg.track_interfaces) s << "track_interface = " << t << "\n";
  s << "\n[vrrp]\n"
    << "virtual_router_id = " << cfg.virtual_router_id << "\n"
    << "priority = " << cfg.priority << "\n"
    << "advert_interval = " << cfg.advert_interval << "\n"
    << "preempt = " << (cfg.preempt ? "true" : "false") << "\n"
    << "preempt_delay = " << cfg.preempt_delay << "\n"
    << "transport = " << cfg.transport << "\n";
  for (const auto& p : cfg.peers) s << "peer = " << p << "\n";
  if (!cfg.source.empty()) s << "source = " << cfg.source << "\n";
  if (cfg.transport == "udp") {
    s << "port = " << cfg.port << "\n";
    if (!cfg.auth_key_file.empty()) s << "auth_key_file = " << cfg.auth_key_file << "\n";
  }
  if (cfg.checksum_pseudo_header) {
    s << "checksum_pseudo_header = " << (*cfg.checksum_pseudo_header ? "true" : "false") << "\n";
  }
  if (!cfg.virtual_ips.empty()) {
    s << "\n[virtual_ip]\n";
    for (const auto& a : cfg.virtual_ips) s << "address = " << a << "\n";
  }
  s << "\n[control]\n"
    << "socket = " << cfg.socket << "\n";
  if (!cfg.extra.empty()) s << "\n" << cfg.extra << "\n";
  return s.str();
}

void write_key_file(const fs::path& path, std::size_t bytes, fs::perms mode) {
  std::random_device rd;
  std::string key;
  static const char kAlphabet[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (std::size_t i = 0; i < bytes; ++i) key += kAlphabet[rd() % (sizeof kAlphabet - 1)];
  write_file(path, key, mode);
}

Node::Node(NodeConfig cfg, const fs::path& dir)
    : cfg_(std::move(cfg)),
      config_path_(dir / (cfg_.name + ".conf")),
      log_path_(dir / (cfg_.name + ".log")) {}

Node::~Node() {
  if (process_) process_->kill_and_reap();
}

void Node::start() {
  if (process_ && process_->running()) throw std::logic_error(cfg_.name + " is already running");
  write_config();
  // Separates the runs of one node in its log (restarts).
  std::ofstream(log_path_, std::ios::app) << "===== harness: starting " << cfg_.name << " =====\n";
  std::vector<std::string> argv;
  if (!cfg_.env.empty()) {
    // env(1) execs the daemon: the pid stays the one the harness signals.
    argv.push_back("env");
    argv.insert(argv.end(), cfg_.env.begin(), cfg_.env.end());
  }
  for (std::string a : {binary_path("failoverd"), std::string("--config"), config_path_.string(),
                        std::string("--log-level"), std::string("debug")}) {
    argv.push_back(std::move(a));
  }
  process_ = std::make_unique<Process>(argv, Process::Options{cfg_.netns, log_path_});
}

void Node::write_config() const {
  write_file(config_path_, render_config(cfg_), fs::perms(0600));
}

bool Node::running() { return process_ && process_->running(); }

void Node::kill9() {
  if (process_) process_->signal(SIGKILL);
}

void Node::terminate() {
  if (process_) process_->signal(SIGTERM);
}

void Node::hangup() {
  if (process_) process_->signal(SIGHUP);
}

std::optional<int> Node::wait_exit(Ms timeout) {
  if (!process_) return std::nullopt;
  return process_->wait(timeout);
}

pid_t Node::pid() const { return process_ ? process_->pid() : -1; }

CommandResult Node::ctl(const std::vector<std::string>& args, Ms timeout) const {
  std::vector<std::string> argv{binary_path("failoverctl"), "--socket", cfg_.socket};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, timeout);
}

std::optional<nlohmann::json> Node::status() const {
  const CommandResult r = ctl({"status", "--json"}, 5s);
  if (r.exit_code != 0) return std::nullopt;
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  if (!j.is_discarded() && j.is_object()) return j;
  // Tolerate a stray stderr line next to the JSON one.
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.is_object()) return j;
  }
  return std::nullopt;
}

std::string Node::state() const {
  const auto s = status();
  if (!s || !s->contains("state") || !(*s)["state"].is_string()) return "";
  return (*s)["state"].get<std::string>();
}

std::optional<Clock::duration> Node::wait_state(const std::string& state, Ms timeout) const {
  return wait_until([&] { return this->state() == state; }, timeout, 20ms);
}

std::string Node::log() const { return read_file(log_path_); }

bool Node::wait_log(const std::string& text, Ms timeout) const {
  return wait_until([&] { return log().find(text) != std::string::npos; }, timeout, 20ms)
      .has_value();
}

std::size_t Node::transitions_to(const std::string& state) const {
  return count_occurrences(log(), "-> " + state);
}

long long json_int(const nlohmann::json& status, const std::string& key) {
  if (!status.is_object() || !status.contains(key) || !status[key].is_number_integer()) return -1;
  return status[key].get<long long>();
}

long long drop_count(const nlohmann::json& status, const std::string& reason) {
  if (!status.is_object() || !status.contains("drops") || !status["drops"].is_object()) return -1;
  const auto& drops = status["drops"];
  if (!drops.contains(reason)) return 0;
  return drops[reason].is_number_integer() ? drops[reason].get<long long>() : -1;
}

std::size_t Node::transitions_from(const std::string& state) const {
  return count_occurrences(log(), state + " -> ");
}

// ---- keepalived ----

Keepalived::Keepalived(KeepalivedConfig cfg, const fs::path& dir)
    : cfg_(std::move(cfg)),
      dir_(dir),
      conf_(dir / (cfg_.name + ".keepalived.conf")),
      log_(dir / (cfg_.name + ".log")),
      pid_(dir / (cfg_.name + ".pid")),
      vrrp_pid_(dir / (cfg_.name + ".vrrp.pid")),
      check_pid_(dir / (cfg_.name + ".check.pid")),
      notify_(dir / (cfg_.name + ".notify.sh")),
      state_file_(dir / (cfg_.name + ".state")),
      history_file_(dir / (cfg_.name + ".history")) {}

Keepalived::~Keepalived() { stop_all(); }

std::string Keepalived::render_config() const {
  std::ostringstream s;
  s << "global_defs {\n"
    << "  router_id " << cfg_.name << "\n"
    << "  vrrp_version 3\n"
    << "  script_user root\n"
    << "  enable_script_security\n";
  for (const auto& line : cfg_.global_defs) s << "  " << line << "\n";
  s << "}\n\n"
    << "vrrp_instance VI_" << cfg_.virtual_router_id << " {\n"
    << "  state BACKUP\n"
    << "  interface " << cfg_.interface << "\n"
    << "  virtual_router_id " << cfg_.virtual_router_id << "\n"
    << "  priority " << cfg_.priority << "\n"
    << "  advert_int " << cfg_.advert_int << "\n";
  if (cfg_.nopreempt) s << "  nopreempt\n";
  if (cfg_.v3_checksum_as_v2) s << "  v3_checksum_as_v2\n";
  if (!cfg_.unicast_src_ip.empty()) s << "  unicast_src_ip " << cfg_.unicast_src_ip << "\n";
  if (!cfg_.unicast_peers.empty()) {
    s << "  unicast_peer {\n";
    for (const auto& p : cfg_.unicast_peers) s << "    " << p << "\n";
    s << "  }\n";
  }
  s << "  virtual_ipaddress {\n";
  for (const auto& a : cfg_.virtual_ips) s << "    " << a << "\n";
  s << "  }\n"
    << "  notify " << notify_.string() << "\n";
  for (const auto& line : cfg_.instance_lines) s << "  " << line << "\n";
  s << "}\n";
  return s.str();
}

namespace {

void write_keepalived_files(const fs::path& conf, const std::string& text, const fs::path& notify,
                            const fs::path& state, const fs::path& history) {
  write_file(conf, text, fs::perms(0644));
  // Arguments: TYPE NAME STATE PRIORITY. The rename makes the state file change atomically.
  write_file(notify,
             "#!/bin/sh\n"
             "echo \"$3\" >> '" + history.string() + "'\n"
             "echo \"$3\" > '" + state.string() + ".tmp' && mv '" + state.string() + ".tmp' '" +
                 state.string() + "'\n",
             fs::perms(0755));
}

}  // namespace

CommandResult Keepalived::check_config() {
  write_keepalived_files(conf_, render_config(), notify_, state_file_, history_file_);
  return run_command({"ip", "netns", "exec", cfg_.netns, "keepalived", "-t", "-f", conf_.string()},
                     10s);
}

void Keepalived::start() {
  if (process_ && process_->running()) throw std::logic_error(cfg_.name + " is already running");
  stop_all();
  write_keepalived_files(conf_, render_config(), notify_, state_file_, history_file_);
  std::error_code ec;
  fs::remove(state_file_, ec);
  std::ofstream(log_, std::ios::app) << "===== harness: starting " << cfg_.name << " =====\n";
  process_ = std::make_unique<Process>(
      std::vector<std::string>{"keepalived", "-n", "-l", "-D", "-P", "-f", conf_.string(), "-p",
                               pid_.string(), "-r", vrrp_pid_.string(), "-c",
                               check_pid_.string()},
      Process::Options{cfg_.netns, log_});
}

bool Keepalived::running() { return process_ && process_->running(); }

void Keepalived::terminate() {
  if (process_) process_->signal(SIGTERM);
}

std::optional<pid_t> Keepalived::vrrp_child_pid() const {
  // keepalived writes its pid files a moment after it starts.
  std::string text;
  wait_until([&] { return !(text = read_file(vrrp_pid_)).empty(); }, 5s, 10ms);
  char* end = nullptr;
  const long pid = std::strtol(text.c_str(), &end, 10);
  if (end == text.c_str() || pid <= 0) return std::nullopt;
  // Only a keepalived process: never signal a pid that was reused by something else.
  const std::string comm = read_file("/proc/" + std::to_string(pid) + "/comm");
  if (comm.rfind("keepalived", 0) != 0) return std::nullopt;
  return static_cast<pid_t>(pid);
}

void Keepalived::crash() {
  if (!process_) return;
  const auto child = vrrp_child_pid();
  process_->signal(SIGSTOP);  // the parent must not notice the child's death and restart it
  if (child) ::kill(*child, SIGKILL);
  process_->kill_and_reap();
}

std::optional<int> Keepalived::wait_exit(Ms timeout) {
  if (!process_) return std::nullopt;
  return process_->wait(timeout);
}

void Keepalived::stop_all() {
  if (!process_) return;
  // The VRRP child can outlive its parent (a test may kill only the parent): stop both.
  const auto child = fs::exists(vrrp_pid_) ? vrrp_child_pid() : std::nullopt;
  process_->signal(SIGSTOP);
  if (child) ::kill(*child, SIGKILL);
  process_->kill_and_reap();
  std::error_code ec;
  for (const auto& p : {pid_, vrrp_pid_, check_pid_}) fs::remove(p, ec);
}

std::string Keepalived::state() const {
  std::string s = read_file(state_file_);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::optional<Clock::duration> Keepalived::wait_state(const std::string& state, Ms timeout) const {
  return wait_until([&] { return this->state() == state; }, timeout, 10ms);
}

std::vector<std::string> Keepalived::state_history() const {
  std::vector<std::string> out;
  std::istringstream lines(read_file(history_file_));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

std::string Keepalived::log() const { return read_file(log_); }

// ---- fixture ----

void TwoHostTest::SetUp() {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces)";
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string suite = info != nullptr ? info->test_suite_name() : "test";
  net_ = std::make_unique<NetnsPair>(suite.find("Keepalived") != std::string::npos ? "ka" : "e2e");
  dir_ = std::make_unique<TempDir>("e2e");
}

void TwoHostTest::TearDown() {
  if (HasFailure()) {
    for (const auto& n : nodes_) {
      std::cerr << "----- " << n->config().name << " (" << n->log_path().string()
                << "), last 60 lines -----\n"
                << tail_lines(n->log(), 60) << "\n";
    }
    for (const auto& k : keepaliveds_) {
      std::cerr << "----- keepalived " << k->config().name << ", last 60 lines -----\n"
                << tail_lines(k->log(), 60) << "\n";
    }
  }
  keepaliveds_.clear();
  nodes_.clear();
  dir_.reset();
  net_.reset();
}

NodeConfig TwoHostTest::node_config(int host, const std::string& name, int priority) {
  NodeConfig c;
  c.name = name;
  c.netns = net_->ns(host);
  c.priority = priority;
  c.peers = {NetnsPair::address(1 - host)};
  c.source = NetnsPair::address(host);
  c.socket = (dir() / (name + ".sock")).string();
  return c;
}

Node& TwoHostTest::add_node(const NodeConfig& cfg) {
  nodes_.push_back(std::make_unique<Node>(cfg, dir()));
  return *nodes_.back();
}

Node& TwoHostTest::start_node(const NodeConfig& cfg) {
  Node& n = add_node(cfg);
  n.start();
  return n;
}

KeepalivedConfig TwoHostTest::keepalived_config(int host, const std::string& name, int priority) {
  KeepalivedConfig c;
  c.name = name;
  c.netns = net_->ns(host);
  c.priority = priority;
  c.unicast_src_ip = NetnsPair::address(host);
  c.unicast_peers = {NetnsPair::address(1 - host)};
  return c;
}

Keepalived& TwoHostTest::add_keepalived(const KeepalivedConfig& cfg) {
  keepaliveds_.push_back(std::make_unique<Keepalived>(cfg, dir()));
  return *keepaliveds_.back();
}

}  // namespace failoverd::e2e
