// The daemon: one Boost.Asio event loop that owns core::Instance and wires it to the
// heartbeat transport, the timer, signals and the control socket. Everything here runs on
// the loop's thread; nothing else touches the Instance.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
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
#include "failoverd/core/instance.h"
#include "failoverd/daemon/check_runner.h"
#include "failoverd/daemon/drop_log.h"
#include "failoverd/daemon/hook_runner.h"
#include "failoverd/daemon/metrics_server.h"
#include "failoverd/daemon/reserved_ip.h"
#include "failoverd/daemon/virtual_ips.h"
#include "failoverd/net/address_manager.h"
#include "failoverd/net/link_monitor.h"
#include "failoverd/net/transport.h"

namespace failoverd::control {
class ControlServer;
}

namespace failoverd::daemon {

struct Options {
  std::string config_path;
  std::vector<std::string> overrides;  // "section.key=value", re-applied on every reload
};

// One entry of the transition history (failoverctl history, status "since").
struct HistoryEntry {
  std::chrono::system_clock::time_point at;
  core::State from;
  core::State to;
  std::string reason;
  // Into MASTER with a [reserved_ip]: "pending" until the claim reports, then its outcome
  // ("claimed in 80 ms", "already held", "failed: ..."). nullopt otherwise.
  std::optional<std::string> claim;
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
  control::Metrics metrics() const;
  // True when the loop stopped because of an error rather than a signal.
  bool failed() const { return failed_; }

 private:
  core::Time now() const;
  void setup_virtual_ips();
  void setup_link_monitor();
  void setup_checks();
  void setup_reserved_ip();
  void run_hooks_for(const core::Transition& t);
  void record_claim_in_history(const cloud::ClaimReport& report);
  void run_pending_master_hook(const std::string& claim, const std::string& detail);
  // Throws std::runtime_error with a clear message when the transport cannot be made.
  std::unique_ptr<net::Transport> make_transport(const config::Config& cfg) const;
  // Finds the source address and opens the transport; false (and waiting_for_interface_ set)
  // while the interface is missing or has no address. Throws for any other failure.
  bool bring_up_transport();
  void install_transport(std::unique_ptr<net::Transport> transport);
  void retire_transport();
  void wait_readable();
  void on_readable();
  void apply(const core::Actions& actions);
  void send_advert(const core::SendAdvert& send);
  void rearm_timer();
  void wait_signal();
  void on_signal(int signo);
  void shutdown();
  // Re-reads the config file; returns what changed, or why nothing did.
  util::Expected<std::string, std::string> reload();
  void on_transition(const core::Transition& t);
  void log_vip_events(const std::vector<VipEvent>& events);
  void repeat_garp(int remaining);
  // Pings systemd's watchdog from the loop, so a loop that stops turning gets restarted.
  void ping_watchdog(std::chrono::microseconds every);
  void wait_link_events();
  void on_link_events();
  // Recomputes the fault from its sources (links; health checks) and tells core.
  void update_fault();
  void on_verdict(const health::Verdict& v);
  std::optional<std::string> fault_reason() const;
  bool waiting_for_first_verdicts() const;
  // Starts core's election (once): INIT -> BACKUP, MASTER (owner) or FAULT.
  void join_election();
  control::Outcome handle_control(const control::Request& request);

  boost::asio::io_context& io_;
  Options options_;
  config::Config cfg_;
  std::shared_ptr<spdlog::logger> log_;
  util::Ipv4 source_;  // 0.0.0.0 while waiting_for_interface_
  std::optional<std::string> waiting_for_interface_;  // why there is no transport yet
  std::vector<util::Ipv4> advert_addresses_;
  std::unique_ptr<net::Transport> transport_;
  std::uint64_t transport_generation_ = 0;
  proto::DropCounters retired_drops_{};  // drops counted by transports replaced on reload
  boost::asio::posix::stream_descriptor readable_;
  boost::asio::steady_timer timer_;
  boost::asio::signal_set signals_;
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<net::AddressManager> address_manager_;  // only with [virtual_ip]
  std::optional<VirtualIps> vips_;
  boost::asio::steady_timer garp_timer_;
  std::unique_ptr<net::LinkMonitor> links_;
  boost::asio::posix::stream_descriptor link_readable_;
  boost::asio::steady_timer link_retry_timer_;
  boost::asio::steady_timer watchdog_timer_;
  std::unique_ptr<ReservedIpKeeper> reserved_ip_;  // only with [reserved_ip]
  std::unique_ptr<CheckRunner> checks_;             // only with [check.NAME] sections
  health::Verdict verdict_;                         // of the checks, as last reported
  std::unique_ptr<HookRunner> hooks_;               // only with [notify] hooks
  std::unique_ptr<MetricsServer> metrics_server_;   // only with [metrics] listen
  std::map<std::string, std::uint64_t> transitions_to_;  // by state entered
  // The master hook waits for the claim of the reserved IP, so it can tell the hook whether
  // the address is ours; this is the priority it will be run with.
  std::optional<int> master_hook_pending_;
  std::optional<std::string> claim_fault_;          // a claim failed for good (e.g. bad token)
  bool faulted_ = false;
  bool joined_ = false;  // core::Instance::start has run
  core::Instance instance_;
  DropLog drop_log_;

  std::uint64_t adverts_sent_ = 0;
  std::uint64_t adverts_received_ = 0;
  std::uint64_t send_errors_ = 0;
  std::uint64_t transitions_ = 0;
  std::deque<HistoryEntry> history_;
  std::chrono::steady_clock::time_point started_at_;
  bool stopping_ = false;
  bool failed_ = false;  // stopped because of an error: exit non-zero
};

// Parses the command line, loads the config and runs the loop; returns the exit code.
int main(int argc, char** argv);

}  // namespace failoverd::daemon
