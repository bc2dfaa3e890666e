#include "failoverd/daemon/daemon.h"

#include <fcntl.h>
#include <net/if.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <stdexcept>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "failoverd/control/control_server.h"
#include "failoverd/cloud/provider_factory.h"
#include "failoverd/daemon/logging.h"
#include "failoverd/daemon/realtime.h"
#include "failoverd/daemon/restart.h"
#include "failoverd/daemon/sd_notify.h"
#include "failoverd/daemon/runtime_problems.h"
#include "failoverd/util/duration.h"
#include "failoverd/util/subprocess.h"
#include "failoverd/util/time_format.h"

namespace failoverd::daemon {

namespace asio = boost::asio;

namespace {

constexpr int kMaxDatagramsPerWakeup = 64;  // then yield to timers and signals

// asio descriptors own and close what they watch, while the sockets belong to the transport
// and the link monitor: let asio watch a duplicate.
int dup_for_asio(int fd) {
  const int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) throw std::runtime_error(std::string("dup of a socket failed: ") + std::strerror(errno));
  return dup;
}

// The heartbeat source: the configured one, else the interface's first IPv4 address; the
// reason when the interface does not exist or has no address (yet).
util::Expected<util::Ipv4, std::string> find_source(const config::Config& cfg) {
  if (cfg.vrrp.source) return *cfg.vrrp.source;
  auto addr = net::first_ipv4_address(cfg.instance.interface);
  if (!addr) return util::unexpected("[vrrp] source is not set and " + addr.error());
  return *addr;
}

bool interface_exists(const std::string& name) { return ::if_nametoindex(name.c_str()) != 0; }

}  // namespace

Daemon::Daemon(asio::io_context& io, Options options, config::Config initial)
    : io_(io),
      options_(std::move(options)),
      node_(std::move(initial)),
      log_(make_logger(cfg().instance.name)),
      readable_(io),
      timer_(io),
      signals_(io, SIGTERM, SIGINT, SIGHUP),
      link_readable_(io),
      link_retry_timer_(io),
      watchdog_timer_(io),
      started_at_(std::chrono::steady_clock::now()) {
  if (options_.restore) {
    // The new binary's check accepted this state already; this is the second wall.
    if (auto ok = node_.can_restore(*options_.restore); !ok) {
      log_->error("cannot resume the state of the previous process: {}; starting afresh",
                  ok.error());
      options_.restore.reset();
    }
  }
  bring_up_transport();
  setup_crash_record();
  setup_virtual_ips();
  setup_link_monitor();
  setup_checks();
  setup_reserved_ip();
  const auto& n = cfg().notify;
  if (!n.master.empty() || !n.backup.empty() || !n.fault.empty() || !n.stop.empty()) {
    hooks_ = std::make_unique<HookRunner>(io_, n, cfg().instance.name, log_);
  }
  if (cfg().metrics.listen) {
    metrics_server_ = std::make_unique<metrics::MetricsServer>(
        io_, *cfg().metrics.listen, [this] { return metrics::format_metrics(metrics()); });
  }
  control_ = std::make_unique<control::ControlServer>(
      io_, cfg().control.socket,
      [this](const control::Request& r) { return handle_control(r); });
}

Daemon::~Daemon() = default;

void Daemon::setup_crash_record() {
  boot_id_ = boot_id();
  owner_ = snapshot_owner(::getpid());
  const std::string path = crash_record_path(cfg().control.socket);
  if (!options_.restore) {
    const auto record = read_crash_record(path);
    node::CrashResumeFacts facts;
    facts.now = boottime_now();
    facts.boot_id = boot_id_;
    if (record && *record) {
      const auto& r = **record;
      facts.writer_running = !r.owner.empty() && snapshot_owner(r.pid) == r.owner;
    }
    auto resume = node::decide_crash_resume(record, cfg(), source_, facts);
    if (resume && waiting_for_interface_) {
      resume = util::unexpected("the interface is not ready: " + *waiting_for_interface_);
    }
    if (resume) {
      crash_resume_ = std::move(*resume);
    } else if (record) {
      log_->info("crash record {} not used, starting as usual: {}", path, resume.error());
    }
  }
  auto file = CrashRecordFile::create(path);
  if (!file) {
    log_->warn("no crash record: {}; should this daemon crash as MASTER, its peer takes over",
               file.error());
    return;
  }
  crash_file_ = std::move(*file);
  write_crash_record();
}

void Daemon::write_crash_record() {
  node::CrashRecord r = node_.crash_record();
  r.last_advert = last_advert_boottime_;
  r.boot_id = boot_id_;
  r.pid = static_cast<int>(::getpid());
  r.owner = owner_;
  if (!crash_file_->writer().write(r)) {
    log_->warn("no crash record: this instance's identity does not fit in {} bytes; should this "
               "daemon crash as MASTER, its peer takes over",
               node::kCrashRecordSize);
    crash_file_.reset();  // the page says not MASTER
    return;
  }
  recorded_ = {r.master, r.reserved_ip_ours, r.priority_delta};
}

void Daemon::keep_crash_record() {
  if (!crash_file_) return;
  const bool master = node_.instance().state() == core::State::Master && !stopping_;
  if (!master) {
    if (recorded_.master) {
      crash_file_->writer().set_master(false);
      recorded_.master = false;
    }
    return;
  }
  const bool ours = node_.reserved_ip() && node_.reserved_ip()->holds_address();
  const int delta = node_.instance().priority_delta();
  if (recorded_.master && recorded_.reserved_ip_ours == ours && recorded_.priority_delta == delta) {
    return;
  }
  write_crash_record();
}

void Daemon::setup_virtual_ips() {
  if (cfg().virtual_ip.addresses.empty()) return;
  address_manager_ = net::make_netlink_address_manager();
  std::vector<net::InterfaceAddress> vips;
  for (const auto& c : cfg().virtual_ip.addresses) vips.push_back({c.address, c.prefix_len});
  // The ledger sits beside the control socket, in the runtime directory: it lives as long
  // as the boot does, like the addresses it records.
  vips_.emplace(*address_manager_, cfg().instance.interface, std::move(vips),
                cfg().control.socket + ".vips");
  // Restarted in place or resuming after a crash, the addresses in the ledger are this node's
  // and stay where they are.
  if (options_.restore) {
    log_vip_events(vips_->adopt_previous_run());
  } else if (crash_resume_) {
    log_vip_events(vips_->resume_previous_run());
  } else {
    log_vip_events(vips_->clean_up_previous_run());
  }
}

void Daemon::setup_link_monitor() {
  // The heartbeat interface first: its losing every IPv4 address is a fault too.
  std::vector<std::string> watched{cfg().instance.interface};
  for (const auto& t : cfg().instance.track_interfaces) watched.push_back(t);
  links_ = std::make_unique<net::LinkMonitor>(watched);
  link_readable_.assign(dup_for_asio(links_->fd()));
}

void Daemon::setup_checks() {
  if (cfg().checks.empty()) return;
  checks_ = std::make_unique<CheckRunner>(
      io_, cfg().checks, log_,
      [this](const health::Verdict& v) { run(node_.on_verdict(now(), v)); });
}

void Daemon::setup_reserved_ip() {
  if (cfg().reserved_ip.provider == config::Provider::kNone) return;
  // Read the token now, on the loop thread: a bad token file is a start-up error.
  auto log = log_;
  auto make = cloud::provider_maker(cfg().reserved_ip, cfg().instance.name,
                                    [log](const std::string& line) { log->debug("{}", line); });
  if (!make) throw std::runtime_error(make.error().message);
  provider_worker_ = std::make_unique<ProviderWorker>(io_, std::move(*make));
}

namespace {

node::ClaimReport to_node(const cloud::ClaimReport& report) {
  node::ClaimReport r;
  using Outcome = node::ClaimReport::Outcome;
  switch (report.outcome) {
    case cloud::ClaimOutcome::kAlreadyHeld: r.outcome = Outcome::kAlreadyHeld; break;
    case cloud::ClaimOutcome::kClaimed: r.outcome = Outcome::kClaimed; break;
    case cloud::ClaimOutcome::kFailed: r.outcome = Outcome::kFailed; break;
  }
  r.attempts = report.attempts;
  r.latency = report.latency;
  r.detail = report.detail;
  r.permanent = report.permanent_failure();
  return r;
}

node::HolderReport to_node(const cloud::CloudResult<cloud::HolderStatus>& status) {
  node::HolderReport r;
  if (!status) {
    r.error = status.error().message;
    return r;
  }
  r.holder = status->holder;
  r.ours = status->ours;
  r.locked = status->locked;
  return r;
}

}  // namespace

node::Now Daemon::now() const {
  return {std::chrono::duration_cast<core::Time>(
              std::chrono::steady_clock::now().time_since_epoch()),
          std::chrono::system_clock::now()};
}

void Daemon::run(const node::Effects& effects) {
  for (const node::Effect& effect : effects) {
    if (const auto* send = std::get_if<node::SendAdvert>(&effect)) {
      send_advert(send->advert);
    } else if (std::holds_alternative<node::TakeVips>(effect)) {
      if (vips_) log_vip_events(vips_->take());
    } else if (std::holds_alternative<node::AnnounceVips>(effect)) {
      if (vips_) log_vip_events(vips_->announce());
    } else if (std::holds_alternative<node::ReleaseVips>(effect)) {
      if (vips_) log_vip_events(vips_->release());
    } else if (std::holds_alternative<node::StartClaim>(effect)) {
      // The report is posted back to the loop: the Node gets it as an event of its own.
      if (!provider_worker_) continue;
      provider_worker_->claim([this](const cloud::ClaimReport& report) {
        if (!stopping_) run(node_.on_claim_report(now(), to_node(report)));
      });
    } else if (std::holds_alternative<node::StartCheck>(effect)) {
      if (!provider_worker_) continue;
      provider_worker_->check([this](const cloud::CloudResult<cloud::HolderStatus>& status) {
        if (!stopping_) run(node_.on_check_report(now(), to_node(status)));
      });
    } else if (const auto* hook = std::get_if<node::RunHook>(&effect)) {
      run_hook(*hook);
    } else if (const auto* notify = std::get_if<node::NotifySystemd>(&effect)) {
      sd_notify(notify->text);
    } else if (const auto* line = std::get_if<node::Log>(&effect)) {
      switch (line->level) {
        case node::LogLevel::kDebug: log_->debug("{}", line->line); break;
        case node::LogLevel::kInfo: log_->info("{}", line->line); break;
        case node::LogLevel::kWarn: log_->warn("{}", line->line); break;
        case node::LogLevel::kError: log_->error("{}", line->line); break;
      }
    } else if (const auto* arm = std::get_if<node::ArmTimer>(&effect)) {
      arm_timer(arm->at);
    }
  }
  keep_crash_record();
}

void Daemon::run_hook(const node::RunHook& hook) {
  if (!hooks_) return;
  HookEvent event = HookEvent::kMaster;
  switch (hook.hook) {
    case node::Hook::kMaster: event = HookEvent::kMaster; break;
    case node::Hook::kBackup: event = HookEvent::kBackup; break;
    case node::Hook::kFault: event = HookEvent::kFault; break;
    case node::Hook::kStop: event = HookEvent::kStop; break;
  }
  hooks_->notify(event, hook.priority, hook.env);
}

std::unique_ptr<net::Transport> Daemon::make_transport(const config::Config& cfg) const {
  net::TransportConfig tc;
  tc.interface = cfg.instance.interface;
  tc.source = source_;
  tc.peers = cfg.vrrp.peers;
  tc.virtual_router_id = cfg.vrrp.virtual_router_id;
  tc.checksum_mode = cfg.vrrp.checksum_pseudo_header ? proto::ChecksumMode::kPseudoHeader
                                                     : proto::ChecksumMode::kNoPseudoHeader;
  tc.port = cfg.vrrp.port;
  if (cfg.vrrp.transport == config::Transport::kUdp) {
    auto key = config::read_key_file(cfg.vrrp.auth_key_file);
    if (!key) throw std::runtime_error("[vrrp] auth_key_file: " + key.error());
    tc.auth_key = std::move(*key);
    return net::make_udp_transport(tc);
  }
  return net::make_vrrp_transport(tc);
}

// After a reboot the heartbeat interface may come late (a VPC or DHCP interface): then there is
// no source address and no socket to bind to it yet. The node waits in FAULT, which the link
// monitor reports on its own ("does not exist", "no IPv4 address"), and tries again on every
// link event. Any other failure (a bad key file, a port in use) is an error at start as before.
bool Daemon::bring_up_transport() {
  auto source = find_source(cfg());
  std::string why;
  if (source) {
    source_ = *source;
    try {
      install_transport(make_transport(cfg()));
    } catch (const std::exception& e) {
      if (interface_exists(cfg().instance.interface)) throw;
      why = e.what();  // it vanished between the two steps
    }
  } else {
    why = source.error();
  }
  if (!why.empty()) {
    if (!waiting_for_interface_) {
      log_->warn("waiting for interface {}: {}; in FAULT until it is there",
                 cfg().instance.interface, why);
    }
    waiting_for_interface_ = why;
    return false;
  }
  run(node_.on_source(now(), source_));
  if (waiting_for_interface_) {
    log_->info("interface {} is there: heartbeats from {}", cfg().instance.interface,
               source_.to_string());
    waiting_for_interface_.reset();
    wait_readable();
  }
  return true;
}

void Daemon::retire_transport() {
  if (!transport_) return;
  // Drop counters belong to a transport; keep the totals across a reload.
  for (std::size_t i = 0; i < proto::kDropReasonCount; ++i) {
    retired_drops_[i] += transport_->drops()[i];
  }
  if (readable_.is_open()) readable_.close();
  transport_.reset();
}

void Daemon::install_transport(std::unique_ptr<net::Transport> transport) {
  retire_transport();
  const int dup = dup_for_asio(transport->fd());
  if (readable_.is_open()) readable_.close();  // cancels the wait on the old socket
  readable_.assign(dup);
  transport_ = std::move(transport);
  ++transport_generation_;
}

void Daemon::start() {
  const auto& c = cfg();
  log_->info("starting: VRID {}, priority {}, advert_interval {}, transport {} on {} from {}, "
             "{}{}",
             c.vrrp.virtual_router_id, c.vrrp.priority,
             util::format_duration(c.vrrp.advert_interval),
             c.vrrp.transport == config::Transport::kUdp ? "udp" : "vrrp", c.instance.interface,
             waiting_for_interface_ ? std::string("(no address yet)") : source_.to_string(),
             c.vrrp.peers.empty() ? std::string("multicast 224.0.0.18")
                                  : std::to_string(c.vrrp.peers.size()) + " unicast peer(s)",
             node_.instance().instant_handover_peer() ? ", instant handover" : "");
  wait_signal();
  if (transport_) wait_readable();
  wait_link_events();
  if (checks_) {
    if (options_.restore || crash_resume_) checks_->hold_verdicts_until_settled();
    checks_->start();
  }
  run(node_.on_links(now(), links_->problem()));  // not started yet: only noted
  if (options_.restore) {
    run(node_.restore(now(), *options_.restore));
    options_.restore.reset();
    // A link that changed during the exec counts now.
    run(node_.on_links(now(), links_->problem()));
  } else if (crash_resume_) {
    run(node_.resume_after_crash(now(), *crash_resume_));
    crash_resume_.reset();
    run(node_.on_links(now(), links_->problem()));
  } else {
    run(node_.start(now()));
  }
  if (const auto interval = watchdog_interval()) {
    // Half the interval, as sd_watchdog_enabled(3) advises: one late wake-up is not a kill.
    log_->info("systemd watchdog: {} ms, pinging every {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(*interval).count(),
               std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 2).count());
    ping_watchdog(*interval / 2);
  }
}

void Daemon::ping_watchdog(std::chrono::microseconds every) {
  sd_notify("WATCHDOG=1");
  watchdog_timer_.expires_after(every);
  watchdog_timer_.async_wait([this, every](const boost::system::error_code& ec) {
    if (ec || stopping_) return;
    ping_watchdog(every);
  });
}

void Daemon::wait_readable() {
  readable_.async_wait(asio::posix::stream_descriptor::wait_read,
                       [this](const boost::system::error_code& ec) {
                         if (ec || stopping_) return;
                         on_readable();
                       });
}

// Reads until the socket is empty: asio's epoll reactor is edge-triggered, so a datagram left
// behind would wait for the next one to arrive. After a batch, the rest is read from a posted
// handler, so timers and signals are not starved by a flood.
void Daemon::on_readable() {
  if (!transport_) return;
  for (int i = 0; i < kMaxDatagramsPerWakeup; ++i) {
    auto got = transport_->receive();
    if (!got) {
      wait_readable();
      return;
    }
    if (!*got) {
      const auto& err = got->error();
      if (auto suppressed = drop_log_.should_log(err.reason, std::chrono::steady_clock::now())) {
        log_->warn("dropped packet ({}): {}{}", proto::to_string(err.reason), err.detail,
                   *suppressed ? fmt::format(" ({} more since the last such line)", *suppressed)
                               : std::string());
      }
      continue;
    }
    const net::Received& r = got->value();
    log_->trace("advert from {}: priority {}, interval {}cs", r.source.to_string(),
                r.advert.priority, r.advert.max_adver_interval_cs);
    run(node_.on_advert(now(), core::Advert{r.source, r.advert.priority,
                                            r.advert.max_adver_interval_cs}));
  }
  asio::post(io_, [this, generation = transport_generation_] {
    // A reload may have replaced the transport meanwhile; its own wait is already armed.
    if (!stopping_ && generation == transport_generation_) on_readable();
  });
}

void Daemon::send_advert(const proto::Advertisement& ad) {
  if (!transport_) {
    ++send_errors_;
    log_->error("advert not sent: no heartbeat transport");
    return;
  }
  auto sent = transport_->send(ad);
  if (!sent) {
    ++send_errors_;
    log_->warn("sending advert failed: {}", sent.error());
    return;
  }
  ++adverts_sent_;
  last_advert_boottime_ = boottime_now();
  if (crash_file_) crash_file_->writer().set_last_advert(last_advert_boottime_);
  log_->trace("advert sent: priority {}", ad.priority);
}

void Daemon::log_vip_events(const std::vector<VipEvent>& events) {
  for (const auto& e : events) {
    if (e.ok) {
      log_->info("{}", e.message);
    } else {
      log_->error("{}", e.message);
    }
  }
}

void Daemon::wait_link_events() {
  link_readable_.async_wait(asio::posix::stream_descriptor::wait_read,
                            [this](const boost::system::error_code& ec) {
                              if (ec || stopping_) return;
                              on_link_events();
                              wait_link_events();
                            });
}

void Daemon::on_link_events() {
  for (const auto& l : links_->process_events()) {
    log_->info("link {}: {}", l.ifname,
               !l.exists ? "does not exist"
                         : std::string(l.up ? "up" : "down") +
                               (l.has_ipv4 ? ", has IPv4" : ", no IPv4 address"));
  }
  if (auto err = links_->take_error()) log_->warn("link monitor: {}", *err);
  if (waiting_for_interface_) {
    try {
      bring_up_transport();
    } catch (const std::exception& e) {
      // The interface is there but the socket cannot be made: no event may come to retry.
      log_->critical("cannot open the heartbeat transport on {}: {}; exiting",
                     cfg().instance.interface, e.what());
      failed_ = true;
      shutdown();
      return;
    }
  }
  if (links_->resync_pending()) {
    // The kernel dropped events and re-reading failed: no event may come to retry, so poll.
    link_retry_timer_.expires_after(std::chrono::seconds(1));
    link_retry_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec && !stopping_) on_link_events();
    });
  }
  run(node_.on_links(now(), links_->problem()));
}

void Daemon::arm_timer(std::optional<core::Time> deadline) {
  if (!deadline) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(*deadline)));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;  // cancelled or re-armed
    run(node_.on_timer(now()));
  });
}

void Daemon::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signo) {
    if (ec) return;
    on_signal(signo);
    if (!stopping_) wait_signal();
  });
}

void Daemon::on_signal(int signo) {
  if (signo == SIGHUP) {
    (void)reload();  // logs its outcome
    return;
  }
  log_->info("{}: shutting down", signo == SIGTERM ? "SIGTERM" : "SIGINT");
  shutdown();
}

void Daemon::shutdown() {
  if (stopping_) return;
  run(node_.shutdown(now()));  // the stop hook is queued last
  if (crash_file_) {
    crash_file_->remove();
    crash_file_.reset();
  }
  if (hooks_) {
    if (!hooks_->drain(std::chrono::duration_cast<std::chrono::milliseconds>(cfg().notify.timeout) +
                       std::chrono::seconds(1))) {
      log_->warn("hooks still running at exit; killed");
    }
  }
  stopping_ = true;
  timer_.cancel();
  link_retry_timer_.cancel();
  watchdog_timer_.cancel();
  link_readable_.cancel();
  if (provider_worker_) provider_worker_->stop();
  if (checks_) checks_->stop();
  readable_.cancel();
  signals_.cancel();
  control_.reset();
  metrics_server_.reset();
  io_.stop();
}

util::Expected<std::string, std::string> Daemon::reload() {
  log_->info("SIGHUP: reloading {}", options_.config_path);
  auto loaded = config::load_config(options_.config_path, options_.overrides);
  if (!loaded) {
    std::string all;
    for (const auto& p : loaded.error()) {
      log_->error("reload refused: {}", p.to_string());
      all += (all.empty() ? "" : "; ") + p.to_string();
    }
    log_->error("reload refused: keeping the running configuration");
    return util::unexpected("reload refused, the running configuration is kept: " + all);
  }
  if (auto missing = runtime_problems(*loaded); !missing.empty()) {
    std::string all;
    for (const auto& p : missing) all += (all.empty() ? "" : "; ") + p.to_string();
    log_->error("reload refused: {}", all);
    return util::unexpected("reload refused, the running configuration is kept: " + all);
  }
  config::Config next = std::move(*loaded);
  const auto plan = node_.plan_reload(next);
  if (!plan) {
    log_->error("reload refused: {}; keeping the running configuration", plan.error());
    return util::unexpected("reload refused, the running configuration is kept: " + plan.error());
  }
  if (plan->transport_changed && transport_) {
    // (While waiting for the interface there is none: it is made from the new config later.)
    // Build the new transport before giving up the old one, so that when it cannot be made
    // the node keeps running exactly as before. A udp transport on the same port cannot bind
    // while the old socket is open: then close the old one first, and rebuild it on failure.
    std::unique_ptr<net::Transport> fresh;
    try {
      fresh = make_transport(next);
    } catch (const std::exception&) {
      retire_transport();
      try {
        fresh = make_transport(next);
      } catch (const std::exception& e) {
        log_->error("reload refused: {}; keeping the running configuration", e.what());
        const std::string why = e.what();
        try {
          install_transport(make_transport(cfg()));
          wait_readable();
        } catch (const std::exception& again) {
          // Neither works: stop rather than run deaf and mute while looking healthy.
          log_->critical("cannot restore the heartbeat transport: {}; exiting", again.what());
          failed_ = true;
          shutdown();
        }
        return util::unexpected("reload refused, the running configuration is kept: " + why);
      }
    }
    install_transport(std::move(fresh));
    wait_readable();
  }
  auto reloaded = node_.reload(now(), std::move(next));
  recorded_.master = false;  // peers or the interval may have changed: the record is rewritten
  run(reloaded.effects);
  log_->info("{}", reloaded.message);
  return reloaded.message;
}

control::Outcome Daemon::handle_control(const control::Request& request) {
  if (request.command == "status") return control::to_json(status());
  if (auto reply = node_.on_control(now(), request)) {
    run(reply->effects);
    return std::move(reply->outcome);
  }
  if (request.command == "checks") return nlohmann::json{{"checks", control::to_json(status())["checks"]}};
  if (request.command == "reload") {
    auto r = reload();
    if (!r) return util::unexpected(r.error());
    return nlohmann::json{{"message", *r}};
  }
  if (request.command == "restart") return restart_in_place();
  return util::unexpected("\"" + request.command + "\" is not implemented yet in this version");
}

control::Outcome Daemon::restart_in_place() {
  const auto refused = [this](const std::string& why) -> control::Outcome {
    log_->warn("restart in place refused: {}", why);
    return util::unexpected("restart refused, this daemon keeps running: " + why);
  };
  if (exec_pending_) return refused("a restart is already under way");
  if (options_.binary.empty()) return refused("the daemon's own binary is unknown");
  if (auto why = node_.restart_blocker()) return refused(*why);
  if (hooks_ && hooks_->pending() > 0) {
    return refused("a hook is running or queued; try again when it has finished");
  }
  const std::string id = snapshot_owner(::getpid());
  if (id.empty()) return refused("cannot read /proc/self/stat");
  const std::string path = snapshot_path(cfg().control.socket);
  if (auto w = write_private_file(path, node::format_snapshot({node_.snapshot(), id})); !w) {
    return refused(w.error());
  }
  // The binary now on disk checks the config and the state it is to resume. Synchronous: it
  // takes a few milliseconds, far below any Master_Down_Interval (docs/benchmarks.md).
  util::SubprocessOptions check;
  check.argv = {options_.binary, "--check-config", options_.config_path};
  for (const auto& o : options_.overrides) {
    check.argv.push_back("--set");
    check.argv.push_back(o);
  }
  check.argv.push_back("--check-restore");
  check.argv.push_back(path);
  check.timeout = std::chrono::seconds(10);
  check.max_output = 16 * 1024;
  const auto r = util::run_subprocess(check);
  if (!r.succeeded()) {
    ::unlink(path.c_str());
    std::string out = r.output.text;
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return refused("the new binary " + options_.binary + " refused (" + util::describe(r) +
                   ")" + (out.empty() ? std::string() : ":\n" + out));
  }
  // What a reload could not apply is refused by the running node's own rules, when this
  // (older) binary can read the new config at all; the new binary checked the rest.
  if (auto next = config::load_config(options_.config_path, options_.overrides)) {
    if (auto plan = node_.plan_reload(*next); !plan) {
      ::unlink(path.c_str());
      return refused(plan.error());
    }
  }
  exec_pending_ = true;
  asio::post(io_, [this] { exec_in_place(); });
  return nlohmann::json{{"message", "restarting in place: " + options_.binary},
                        {"pid", static_cast<int>(::getpid())},
                        {"binary", options_.binary}};
}

void Daemon::exec_in_place() {
  // Handlers may have run since the answer: take the state again, now, right before exec.
  const std::string path = snapshot_path(cfg().control.socket);
  std::string why;
  if (auto blocked = node_.restart_blocker()) {
    why = *blocked;
  } else if (hooks_ && hooks_->pending() > 0) {
    why = "a hook was started since the answer";  // a transition came first
  } else if (auto w = write_private_file(path, node::format_snapshot({node_.snapshot(), snapshot_owner(::getpid())}));
             !w) {
    why = w.error();
  } else {
    log_->info("restarting in place: exec {} (pid {}, {})", options_.binary, ::getpid(),
               core::to_string(node_.instance().state()));
    sd_notify("RELOADING=1");
    // The snapshot carries the state now: should the new process die, systemd's restart is a
    // fresh start (docs: failoverd(8)), not a resume.
    if (crash_file_) crash_file_->writer().set_master(false);
    recorded_.master = false;
    drain_logs();
    why = exec_binary(options_.binary, restore_argv(options_.argv, path));
    // Still here: nothing was given up, carry on as before.
    sd_notify("READY=1");
    keep_crash_record();
  }
  ::unlink(path.c_str());
  exec_pending_ = false;
  log_->error("restart in place failed, this daemon keeps running: {}", why);
}

metrics::Metrics Daemon::metrics() const {
  const control::Status s = status();
  metrics::Metrics m;
  m.instance = s.name;
  m.state = s.state;
  m.priority = s.priority;
  m.effective_priority = s.effective_priority;
  m.maintenance = s.maintenance;
  m.transitions = node_.transitions();
  m.transitions_to = node_.transitions_to();
  m.adverts_sent = adverts_sent_;
  m.adverts_received = node_.adverts_received();
  m.advert_send_errors = send_errors_;
  m.drops = s.drops;
  if (checks_) m.checks = checks_->metrics();
  if (const auto* r = node_.reserved_ip()) {
    const auto& c = r->counters();
    m.claim_attempts = c.claims;
    m.claim_successes = c.successes;
    m.claim_failures = c.failures;
    m.last_claim_latency_seconds = std::chrono::duration<double>(c.last_latency).count();
  }
  if (hooks_) {
    const auto c = hooks_->counters();
    m.hook_runs = c.runs;
    m.hook_failures = c.failures;
    m.hook_timeouts = c.timeouts;
  }
  m.log_lines_dropped = log_lines_dropped();
  m.realtime_demotions = realtime_demotions();
  m.uptime_seconds = s.uptime_s;
  return m;
}

control::Status Daemon::status() const {
  control::Status s;
  s.name = cfg().instance.name;
  s.state = core::to_string(node_.instance().state());
  s.priority = cfg().vrrp.priority;
  s.effective_priority = node_.instance().effective_priority();
  s.virtual_router_id = cfg().vrrp.virtual_router_id;
  if (auto m = node_.instance().master()) s.master = m->to_string();
  s.maintenance = node_.instance().maintenance();
  if (const auto* r = node_.reserved_ip()) s.reserved_ip = r->status(now().steady);
  if (checks_) s.checks = checks_->statuses();
  s.transport = cfg().vrrp.transport == config::Transport::kUdp ? "udp" : "vrrp";
  s.interface = cfg().instance.interface;
  s.instant_handover = node_.instance().instant_handover_peer().has_value();
  s.advert_interval = util::format_duration(cfg().vrrp.advert_interval);
  s.master_down_interval_ms =
      static_cast<double>(node_.instance().master_down_interval().count()) / 1000.0;
  s.skew_time_ms = static_cast<double>(node_.instance().skew_time().count()) / 1000.0;
  s.adverts_sent = adverts_sent_;
  s.adverts_received = node_.adverts_received();
  for (std::size_t i = 0; i < proto::kDropReasonCount; ++i) {
    const auto live = transport_ ? transport_->drops()[i] : 0;
    s.drops[proto::to_string(static_cast<proto::DropReason>(i))] = retired_drops_[i] + live;
  }
  const auto& history = node_.history();
  if (!history.empty()) s.since = util::iso8601(history.back().at, /*millis=*/true);
  s.transitions = node_.transitions();
  s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  s.pid = static_cast<int>(::getpid());
  return s;
}

}  // namespace failoverd::daemon
