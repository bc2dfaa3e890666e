// failoverd's command line: run one instance, or validate a config file.
#include <sys/prctl.h>
#include <unistd.h>

#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/program_options.hpp>

#include "failoverd/config/config.h"
#include "failoverd/daemon/daemon.h"
#include "failoverd/daemon/logging.h"
#include "failoverd/daemon/realtime.h"
#include "failoverd/daemon/restart.h"
#include "failoverd/daemon/runtime_problems.h"
#include "failoverd/node/node.h"


namespace failoverd::daemon {

namespace po = boost::program_options;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitConfig = 1;
constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 3;

// Start-up failures reach the journal as errors ("<3>"), so that `journalctl -p warning` shows
// why an instance did not start; on a terminal or in a pipe the lines are plain.
std::string_view error_prefix(const std::ostream& out) {
  const int fd = &out == &std::cout ? STDOUT_FILENO : STDERR_FILENO;
  return fd_is_the_journal(fd) ? syslog_prefix(spdlog::level::err) : std::string_view{};
}

void print_problems(std::ostream& out, const std::string& path,
                    const std::vector<config::Problem>& problems) {
  const auto prefix = error_prefix(out);
  for (const auto& p : problems) out << prefix << path << ": " << p.to_string() << '\n';
}

void print_fatal(std::string_view what) {
  drain_logs();  // the loop's last lines come before the reason it stopped
  std::cerr << error_prefix(std::cerr) << "failoverd: " << what << '\n';
}

}  // namespace

int main(int argc, char** argv) {
  po::options_description desc(
      "Usage: failoverd --config FILE [options]\n"
      "       failoverd --check-config FILE [--check-restore SNAPSHOT]\n\n"
      "Keeps a service address alive across hosts with VRRPv3 heartbeats.\n\nOptions");
  std::string config_path;
  std::string check_path;
  std::string check_restore_path;
  std::string restore_path;
  std::string log_level = "info";
  std::vector<std::string> overrides;
  desc.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("config,c", po::value(&config_path), "run the instance configured in FILE")
      ("check-config", po::value(&check_path),
       "validate FILE: print one line per problem and exit non-zero when there is any")
      ("check-restore", po::value(&check_restore_path),
       "with --check-config: also check that this binary can resume the state in SNAPSHOT "
       "(written by failoverctl restart) under that config")
      ("restore", po::value(&restore_path),
       "resume the state in SNAPSHOT instead of starting afresh (failoverctl restart passes "
       "it; the file is removed once read)")
      ("set,o", po::value(&overrides)->composing(),
       "override a config key, e.g. --set vrrp.priority=200 (repeatable)")
      ("log-level", po::value(&log_level), "trace, debug, info (default), warn or error");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "failoverd: " << e.what() << "\nTry 'failoverd --help'.\n";
    return kExitUsage;
  }
  if (vm.count("help")) {
    std::cout << desc << '\n';
    return kExitOk;
  }
  if (vm.count("version")) {
    std::cout << "failoverd " << FAILOVERD_VERSION << '\n';
    return kExitOk;
  }
  if (!check_path.empty()) {
    auto loaded = config::load_config(check_path, overrides);
    if (!loaded) {
      print_problems(std::cout, check_path, loaded.error());
      return kExitConfig;
    }
    // What the daemon refuses at start, also on this host: hooks, the exec provider's program
    // and exec checks' programs (missing, not executable, writable by others), and a check's
    // `user` this process could not switch to.
    if (auto problems = runtime_problems(*loaded); !problems.empty()) {
      print_problems(std::cout, check_path, problems);
      return kExitConfig;
    }
    if (!check_restore_path.empty()) {
      // Run by the daemon that wrote it, just before it execs: its parent.
      auto doc = read_snapshot_file(check_restore_path, ::getppid());
      if (!doc) {
        std::cout << error_prefix(std::cout) << doc.error() << '\n';
        return kExitConfig;
      }
      const node::Node fresh(*loaded);
      if (auto ok = fresh.can_restore(doc->node); !ok) {
        std::cout << error_prefix(std::cout) << check_restore_path << ": " << ok.error() << '\n';
        return kExitConfig;
      }
      std::cout << check_restore_path << ": OK (resumes as "
                << core::to_string(doc->node.instance.state) << ")\n";
    }
    std::cout << check_path << ": OK\n";
    return kExitOk;
  }
  if (!check_restore_path.empty()) {
    std::cerr << "failoverd: --check-restore needs --check-config\nTry 'failoverd --help'.\n";
    return kExitUsage;
  }
  if (config_path.empty()) {
    std::cerr << "failoverd: --config FILE is required\nTry 'failoverd --help'.\n";
    return kExitUsage;
  }
  Options options{config_path, overrides, std::vector<std::string>(argv, argv + argc), {}, {}};
  try {
    options.binary = own_binary();
  } catch (const std::exception& e) {
    std::cerr << "failoverd: " << e.what() << "; failoverctl restart will be refused\n";
  }
  if (!restore_path.empty()) {
    // Read once and removed: a later crash-restart by systemd starts afresh, never from an
    // old state. A snapshot that cannot be read is no reason not to run: start afresh.
    auto doc = read_snapshot_file(restore_path, ::getpid());
    ::unlink(restore_path.c_str());
    if (doc) {
      options.restore = std::move(doc->node);
    } else {
      std::cerr << error_prefix(std::cerr) << "failoverd: cannot restore: " << doc.error()
                << "; starting afresh\n";
    }
  }
  if (!set_log_level(log_level)) {
    std::cerr << "failoverd: --log-level: \"" << log_level << "\" is not one of trace, debug, "
              << "info, warn, error\n";
    return kExitUsage;
  }
  auto loaded = config::load_config(config_path, overrides);
  if (!loaded) {
    print_problems(std::cerr, config_path, loaded.error());
    return kExitConfig;
  }
  if (auto problems = runtime_problems(*loaded); !problems.empty()) {
    print_problems(std::cerr, config_path, problems);
    return kExitConfig;
  }
  // Timers fire on time: a backup takes over Skew_Time after a priority-0 advert, and the
  // kernel's default 50 us of timer slack would only be added to that. (Inherited by hooks and
  // checks, where it is harmless.)
  ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
  // Before the daemon makes any thread or child: with SCHED_RESET_ON_FORK they all start at
  // normal priority, and only this thread, the event loop, runs realtime.
  const RealtimeOutcome rt = apply_realtime(
      {loaded->instance.realtime_priority, loaded->instance.lock_memory});
  make_logger(loaded->instance.name)->info("event loop: {}", rt.summary);
  int status = kExitOk;
  try {
    boost::asio::io_context io;
    Daemon daemon(io, std::move(options), std::move(*loaded));
    daemon.start();
    io.run();
    if (daemon.failed()) status = kExitRuntime;
  } catch (const std::exception& e) {
    print_fatal(e.what());
    status = kExitRuntime;
  }
  drain_logs();  // the last lines, "stopped" among them, before the process ends
  return status;
}

}  // namespace failoverd::daemon
