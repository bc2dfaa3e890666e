// The daemon: the adapters around node::Node on one Boost.Asio event loop. It turns sockets,
// timers, signals, link events, check verdicts, claim reports and control requests into the
// Node's events, and carries out the effects the Node returns (adverts, VIPs and GARP, the
// reserved-address provider's calls, hooks, sd_notify, log lines, the timer). Everything here runs on the
// loop's thread; nothing else touches the Node.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/logger.h>

#include "failoverd/config/config.h"
#include "failoverd/control/control_protocol.h"
#include "failoverd/daemon/check_runner.h"
#include "failoverd/daemon/crash_record_file.h"
#include "failoverd/daemon/drop_log.h"
#include "failoverd/daemon/hook_runner.h"
#include "failoverd/daemon/provider_worker.h"
#include "failoverd/daemon/virtual_ips.h"
#include "failoverd/metrics/metrics.h"
#include "failoverd/metrics/metrics_server.h"
#include "failoverd/net/address_manager.h"
#include "failoverd/net/link_monitor.h"
#include "failoverd/net/transport.h"
#include "failoverd/node/node.h"

namespace failoverd::control {
class ControlServer;
}  // namespace failoverd::control

namespace failoverd::daemon {

struct Options {
  std::string config_path;
  std::vector<std::string> overrides;  // "section.key=value", re-applied on every reload
  // For a restart in place (failoverctl restart): the command line as started and the binary
  // it ran, resolved at start (empty: restart is refused).
  std::vector<std::string> argv;
  std::string binary;
  // --restore: the state to resume instead of starting afresh.
  std::optional<node::NodeSnapshot> restore;
};

class Daemon {
 public:
  // Opens the transport and the control socket; throws std::runtime_error with a clear
  // message when it cannot (the caller prints it and exits non-zero).
  Daemon(boost::asio::io_context& io, Options options, config::Config cfg);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Starts the election. The loop runs until SIGTERM/SIGINT has been handled.
  void start();

  control::Status status() const;
  metrics::Metrics metrics() const;
  // True when the loop stopped because of an error rather than a signal.
  bool failed() const { return failed_; }

 private:
  node::Now now() const;
  const config::Config& cfg() const { return node_.config(); }
  // Carries out the Node's effects, in order.
  void run(const node::Effects& effects);
  void run_hook(const node::RunHook& hook);
  // Reads the crash record a crashed predecessor left (unless restoring), decides whether to
  // resume from it, and starts this process's own record.
  void setup_crash_record();
  // After every call into the Node: the record follows the state (MASTER or not, the
  // reserved IP's holder, the checks' priority delta).
  void keep_crash_record();
  void write_crash_record();
  void setup_virtual_ips();
  void setup_link_monitor();
  void setup_checks();
  void setup_reserved_ip();
  // Throws std::runtime_error with a clear message when the transport cannot be made.
  std::unique_ptr<net::Transport> make_transport(const config::Config& cfg) const;
  // Finds the source address and opens the transport; false (and waiting_for_interface_ set)
  // while the interface is missing or has no address. Throws for any other failure.
  bool bring_up_transport();
  void install_transport(std::unique_ptr<net::Transport> transport);
  void retire_transport();
  void wait_readable();
  void on_readable();
  void send_advert(const proto::Advertisement& advert);
  void arm_timer(std::optional<core::Time> deadline);
  void wait_signal();
  void on_signal(int signo);
  void shutdown();
  // Re-reads the config file; returns what changed, or why nothing did.
  util::Expected<std::string, std::string> reload();
  void log_vip_events(const std::vector<VipEvent>& events);
  // Pings systemd's watchdog from the loop, so a loop that stops turning gets restarted.
  void ping_watchdog(std::chrono::microseconds every);
  void wait_link_events();
  void on_link_events();
  control::Outcome handle_control(const control::Request& request);
  // failoverctl restart: checks, snapshot, the new binary's check; on success the exec is
  // posted (exec_in_place) so the answer reaches the client first.
  control::Outcome restart_in_place();
  void exec_in_place();

  boost::asio::io_context& io_;
  Options options_;
  node::Node node_;  // holds the running config
  std::shared_ptr<spdlog::logger> log_;
  util::Ipv4 source_;  // 0.0.0.0 while waiting_for_interface_
  std::optional<std::string> waiting_for_interface_;  // why there is no transport yet
  std::unique_ptr<net::Transport> transport_;
  std::uint64_t transport_generation_ = 0;
  proto::DropCounters retired_drops_{};  // drops counted by transports replaced on reload
  boost::asio::posix::stream_descriptor readable_;
  boost::asio::steady_timer timer_;
  boost::asio::signal_set signals_;
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<net::AddressManager> address_manager_;  // only with [virtual_ip]
  std::optional<VirtualIps> vips_;
  std::unique_ptr<net::LinkMonitor> links_;
  boost::asio::posix::stream_descriptor link_readable_;
  boost::asio::steady_timer link_retry_timer_;
  boost::asio::steady_timer watchdog_timer_;
  std::unique_ptr<ProviderWorker> provider_worker_;  // only with [reserved_ip]
  std::unique_ptr<CheckRunner> checks_;             // only with [check.NAME] sections
  std::unique_ptr<HookRunner> hooks_;               // only with [notify] hooks
  std::unique_ptr<metrics::MetricsServer> metrics_server_;  // only with [metrics] listen
  DropLog drop_log_;
  std::unique_ptr<CrashRecordFile> crash_file_;  // null when it cannot be made
  std::optional<node::CrashResume> crash_resume_;  // decided at construction, used by start()
  core::Time last_advert_boottime_{0};
  struct Recorded {
    bool master = false;
    bool reserved_ip_ours = false;
    int priority_delta = 0;
  } recorded_;  // what the record says now
  std::string boot_id_;
  std::string owner_;  // snapshot_owner(getpid()): the same after a restart in place

  std::uint64_t adverts_sent_ = 0;
  std::uint64_t send_errors_ = 0;
  std::chrono::steady_clock::time_point started_at_;
  bool stopping_ = false;
  bool failed_ = false;  // stopped because of an error: exit non-zero
  bool exec_pending_ = false;  // a restart in place has been answered and is about to exec
};

// Parses the command line, loads the config and runs the loop; returns the exit code.
int main(int argc, char** argv);

}  // namespace failoverd::daemon
