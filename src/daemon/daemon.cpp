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
#include "failoverd/daemon/sd_notify.h"
#include "failoverd/daemon/runtime_problems.h"
#include "failoverd/util/duration.h"
#include "failoverd/util/time_format.h"

namespace failoverd::daemon {

namespace asio = boost::asio;

namespace {

constexpr std::size_t kHistorySize = 100;
// After `failoverctl failover`, the node does not preempt back for this long, so a planned
// switchover to a lower-priority peer holds long enough to be tested. For longer, use
// maintenance.
constexpr core::Duration kFailoverHold = std::chrono::seconds(60);
constexpr int kMaxDatagramsPerWakeup = 64;  // then yield to timers and signals

std::vector<util::Ipv4> advert_addresses(const config::Config& cfg, util::Ipv4 source) {
  // keepalived compares the address list of an advert with its own virtual addresses, so
  // carry the same list it is configured with: the virtual IPs, else the reserved IP, else
  // our own address (the count must not be 0).
  std::vector<util::Ipv4> out;
  for (const auto& vip : cfg.virtual_ip.addresses) out.push_back(vip.address);
  if (out.empty() && cfg.reserved_ip.address) out.push_back(*cfg.reserved_ip.address);
  if (out.empty()) out.push_back(source);
  return out;
}

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

Daemon::Daemon(asio::io_context& io, Options options, config::Config cfg)
    : io_(io),
      options_(std::move(options)),
      cfg_(std::move(cfg)),
      log_(make_logger(cfg_.instance.name)),
      advert_addresses_(advert_addresses(cfg_, source_)),
      readable_(io),
      timer_(io),
      signals_(io, SIGTERM, SIGINT, SIGHUP),
      garp_timer_(io),
      link_readable_(io),
      link_retry_timer_(io),
      watchdog_timer_(io),
      instance_(config::to_core_params(cfg_, source_)),
      started_at_(std::chrono::steady_clock::now()) {
  bring_up_transport();
  setup_virtual_ips();
  setup_link_monitor();
  setup_checks();
  setup_reserved_ip();
  const auto& n = cfg_.notify;
  if (!n.master.empty() || !n.backup.empty() || !n.fault.empty() || !n.stop.empty()) {
    hooks_ = std::make_unique<HookRunner>(io_, cfg_.notify, cfg_.instance.name, log_);
  }
  if (cfg_.metrics.listen) {
    metrics_server_ = std::make_unique<MetricsServer>(
        io_, *cfg_.metrics.listen, [this] { return control::format_metrics(metrics()); });
  }
  control_ = std::make_unique<control::ControlServer>(
      io_, cfg_.control.socket,
      [this](const control::Request& r) { return handle_control(r); });
}

Daemon::~Daemon() = default;

void Daemon::setup_virtual_ips() {
  if (cfg_.virtual_ip.addresses.empty()) return;
  address_manager_ = net::make_netlink_address_manager();
  std::vector<net::InterfaceAddress> vips;
  for (const auto& c : cfg_.virtual_ip.addresses) vips.push_back({c.address, c.prefix_len});
  // The ledger sits beside the control socket, in the runtime directory: it lives as long
  // as the boot does, like the addresses it records.
  vips_.emplace(*address_manager_, cfg_.instance.interface, std::move(vips),
                cfg_.control.socket + ".vips");
  log_vip_events(vips_->clean_up_previous_run());
}

void Daemon::setup_link_monitor() {
  // The heartbeat interface first: its losing every IPv4 address is a fault too.
  std::vector<std::string> watched{cfg_.instance.interface};
  for (const auto& t : cfg_.instance.track_interfaces) watched.push_back(t);
  links_ = std::make_unique<net::LinkMonitor>(watched);
  link_readable_.assign(dup_for_asio(links_->fd()));
}

void Daemon::setup_checks() {
  if (cfg_.checks.empty()) return;
  checks_ = std::make_unique<CheckRunner>(io_, cfg_.checks, log_,
                                          [this](const health::Verdict& v) { on_verdict(v); });
  // Until a check has risen it counts as failing: a fresh node with a broken service must
  // never become MASTER.
  verdict_ = checks_->verdict();
}

void Daemon::setup_reserved_ip() {
  if (cfg_.reserved_ip.provider == config::Provider::kNone) return;
  // Read the token now, on the loop thread: a bad token file is a start-up error.
  auto log = log_;
  auto make = cloud::provider_maker(cfg_.reserved_ip, cfg_.instance.name,
                                    [log](const std::string& line) { log->debug("{}", line); });
  if (!make) throw std::runtime_error(make.error().message);
  reserved_ip_ = std::make_unique<ReservedIpKeeper>(
      io_, cfg_.reserved_ip.address->to_string(), config::to_string(cfg_.reserved_ip.provider),
      std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.reserved_ip.reconcile_interval),
      std::move(*make), log_,
      [this](const std::string& why) {
        claim_fault_ = why;
        update_fault();
      },
      [this](const cloud::ClaimReport& report) {
        record_claim_in_history(report);
        run_pending_master_hook(report.ok() ? "ok" : "failed", report.detail);
      });
}

// The newest transition into MASTER still waiting for its claim gets the outcome; a claim
// made later (a re-claim while MASTER) finds none pending and is in status and the log only.
void Daemon::record_claim_in_history(const cloud::ClaimReport& report) {
  for (auto it = history_.rbegin(); it != history_.rend(); ++it) {
    if (it->to != core::State::Master) continue;
    if (it->claim && *it->claim == "pending") {
      switch (report.outcome) {
        case cloud::ClaimOutcome::kAlreadyHeld: it->claim = "already held"; break;
        case cloud::ClaimOutcome::kClaimed:
          it->claim = "claimed in " + std::to_string(report.latency.count()) + " ms";
          break;
        case cloud::ClaimOutcome::kFailed: it->claim = "failed: " + report.detail; break;
      }
    }
    return;
  }
}

void Daemon::run_pending_master_hook(const std::string& claim, const std::string& detail) {
  if (!master_hook_pending_ || !hooks_) return;
  hooks_->notify(HookEvent::kMaster, *master_hook_pending_,
                 {{"FAILOVERD_CLAIM", claim}, {"FAILOVERD_CLAIM_DETAIL", detail}});
  master_hook_pending_.reset();
}

// Hooks run in the order of the transitions. The master hook runs once the address is ours
// (the VIPs are added before this; the reserved IP is claimed on a worker, so its hook waits
// for the report), and learns the outcome from FAILOVERD_CLAIM: ok, failed, or none.
void Daemon::run_hooks_for(const core::Transition& t) {
  if (!hooks_) return;
  if (t.to == core::State::Master) {
    if (reserved_ip_) {
      master_hook_pending_ = instance_.effective_priority();
    } else {
      hooks_->notify(HookEvent::kMaster, instance_.effective_priority(),
                     {{"FAILOVERD_CLAIM", "none"}});
    }
    return;
  }
  // Leaving MASTER before the claim reported: its hook still runs first, to keep the order.
  run_pending_master_hook("pending", "left MASTER before the claim finished");
  if (auto event = hook_event(t.to)) hooks_->notify(*event, instance_.effective_priority());
}

core::Time Daemon::now() const {
  return std::chrono::duration_cast<core::Time>(
      std::chrono::steady_clock::now().time_since_epoch());
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
  auto source = find_source(cfg_);
  std::string why;
  if (source) {
    source_ = *source;
    try {
      install_transport(make_transport(cfg_));
    } catch (const std::exception& e) {
      if (interface_exists(cfg_.instance.interface)) throw;
      why = e.what();  // it vanished between the two steps
    }
  } else {
    why = source.error();
  }
  if (!why.empty()) {
    if (!waiting_for_interface_) {
      log_->warn("waiting for interface {}: {}; in FAULT until it is there",
                 cfg_.instance.interface, why);
    }
    waiting_for_interface_ = why;
    return false;
  }
  // The source is our tie-break and, without VIPs or a reserved IP, the advertised address.
  advert_addresses_ = advert_addresses(cfg_, source_);
  apply(instance_.reconfigure(now(), config::to_core_params(cfg_, source_)));
  if (waiting_for_interface_) {
    log_->info("interface {} is there: heartbeats from {}", cfg_.instance.interface,
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
  log_->info("starting: VRID {}, priority {}, advert_interval {}, transport {} on {} from {}, "
             "{}",
             cfg_.vrrp.virtual_router_id, cfg_.vrrp.priority,
             util::format_duration(cfg_.vrrp.advert_interval),
             cfg_.vrrp.transport == config::Transport::kUdp ? "udp" : "vrrp",
             cfg_.instance.interface,
             waiting_for_interface_ ? std::string("(no address yet)") : source_.to_string(),
             cfg_.vrrp.peers.empty() ? std::string("multicast 224.0.0.18")
                                     : std::to_string(cfg_.vrrp.peers.size()) + " unicast peer(s)");
  wait_signal();
  if (transport_) wait_readable();
  wait_link_events();
  if (checks_) checks_->start();
  if (waiting_for_first_verdicts()) {
    log_->info("waiting for the first results of the health checks before joining the "
               "election ({})", verdict_.fault_reason);
    sd_notify("READY=1\nSTATUS=INIT: waiting for the first health check results");
  } else {
    join_election();
    sd_notify(std::string("READY=1\nSTATUS=") + core::to_string(instance_.state()));
  }
  if (const auto interval = watchdog_interval()) {
    // Half the interval, as sd_watchdog_enabled(3) advises: one late wake-up is not a kill.
    log_->info("systemd watchdog: {} ms, pinging every {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(*interval).count(),
               std::chrono::duration_cast<std::chrono::milliseconds>(*interval / 2).count());
    ping_watchdog(*interval / 2);
  }
}

// "Check not run yet" is no fault: a node with checks stays in INIT (silent, never MASTER)
// until each of them has risen or failed, so a normal start does not pass through FAULT and
// trip an alert on transitions into it. A link fault or a failed claim is one at once.
bool Daemon::waiting_for_first_verdicts() const {
  return !joined_ && verdict_.settling && !links_->problem() && !claim_fault_;
}

void Daemon::join_election() {
  joined_ = true;
  const auto reason = fault_reason();
  faulted_ = reason.has_value();
  apply(instance_.set_priority_delta(now(), verdict_.priority_delta));
  apply(instance_.start(now(), faulted_, reason.value_or("")));
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
    ++adverts_received_;
    const net::Received& r = got->value();
    log_->trace("advert from {}: priority {}, interval {}cs", r.source.to_string(),
                r.advert.priority, r.advert.max_adver_interval_cs);
    apply(instance_.on_advert(now(), core::Advert{r.source, r.advert.priority,
                                                  r.advert.max_adver_interval_cs}));
  }
  asio::post(io_, [this, generation = transport_generation_] {
    // A reload may have replaced the transport meanwhile; its own wait is already armed.
    if (!stopping_ && generation == transport_generation_) on_readable();
  });
}

void Daemon::send_advert(const core::SendAdvert& send) {
  proto::Advertisement ad;
  ad.virtual_router_id = cfg_.vrrp.virtual_router_id;
  ad.priority = send.priority;
  ad.max_adver_interval_cs = send.max_adver_interval_cs;
  ad.addresses = advert_addresses_;
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
  log_->trace("advert sent: priority {}", send.priority);
}

void Daemon::apply(const core::Actions& actions) {
  for (const core::Action& action : actions) {
    if (const auto* send = std::get_if<core::SendAdvert>(&action)) {
      send_advert(*send);
    } else if (const auto* t = std::get_if<core::Transition>(&action)) {
      on_transition(*t);
    } else if (const auto* low = std::get_if<core::LowerPriorityAdvert>(&action)) {
      log_->warn("MASTER heard a lower-priority advert from {} (priority {}): another node "
                 "believed it was master; re-asserted",
                 low->source.to_string(), low->priority);
      if (reserved_ip_) reserved_ip_->heard_lower_priority_master();
    }
  }
  rearm_timer();
}

void Daemon::on_transition(const core::Transition& t) {
  ++transitions_;
  ++transitions_to_[core::to_string(t.to)];
  std::optional<std::string> claim;
  if (reserved_ip_ && t.to == core::State::Master) claim = "pending";
  history_.push_back({std::chrono::system_clock::now(), t.from, t.to, t.reason, claim});
  if (history_.size() > kHistorySize) history_.pop_front();
  log_->info("{} -> {}: {}", core::to_string(t.from), core::to_string(t.to), t.reason);
  sd_notify(std::string("STATUS=") + core::to_string(t.to));
  if (reserved_ip_) {
    if (t.to == core::State::Master) reserved_ip_->became_master();
    if (t.from == core::State::Master) reserved_ip_->left_master();
  }
  if (vips_) {
    if (t.to == core::State::Master) {
      log_vip_events(vips_->take());
      repeat_garp(cfg_.virtual_ip.garp_count - 1);
    } else if (t.from == core::State::Master) {
      garp_timer_.cancel();
      log_vip_events(vips_->release());
    }
  }
  run_hooks_for(t);
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

void Daemon::repeat_garp(int remaining) {
  if (remaining <= 0) return;
  garp_timer_.expires_after(cfg_.virtual_ip.garp_interval);
  garp_timer_.async_wait([this, remaining](const boost::system::error_code& ec) {
    if (ec || stopping_ || instance_.state() != core::State::Master) return;
    log_vip_events(vips_->announce());
    repeat_garp(remaining - 1);
  });
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
                     cfg_.instance.interface, e.what());
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
  update_fault();
}

void Daemon::on_verdict(const health::Verdict& v) {
  if (v.priority_delta != verdict_.priority_delta) {
    log_->info("checks: priority {} -> {} (delta {:+d})",
               instance_.effective_priority(),
               std::clamp(int{cfg_.vrrp.priority} + v.priority_delta, 1, 254), v.priority_delta);
  }
  verdict_ = v;
  if (!joined_ && !stopping_) {
    if (waiting_for_first_verdicts()) return;
    join_election();
    sd_notify(std::string("STATUS=") + core::to_string(instance_.state()));
    return;
  }
  apply(instance_.set_priority_delta(now(), v.priority_delta));
  update_fault();
}

std::optional<std::string> Daemon::fault_reason() const {
  if (auto p = links_->problem()) return *p;
  if (verdict_.fault) return verdict_.fault_reason;
  if (claim_fault_) return *claim_fault_;
  return std::nullopt;
}

void Daemon::update_fault() {
  if (!joined_) {
    // A link fault while waiting for the checks' first results is a fault now.
    if (!stopping_ && !waiting_for_first_verdicts()) {
      join_election();
      sd_notify(std::string("STATUS=") + core::to_string(instance_.state()));
    }
    return;
  }
  const auto reason = fault_reason();
  const bool faulted = reason.has_value();
  if (faulted == faulted_) return;
  faulted_ = faulted;
  apply(instance_.set_fault(now(), faulted, faulted ? *reason : std::string("no fault left")));
}

void Daemon::rearm_timer() {
  const auto deadline = instance_.next_deadline();
  if (!deadline) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(std::chrono::steady_clock::time_point(
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(*deadline)));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopping_) return;  // cancelled or re-armed
    apply(instance_.on_timer(now()));
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
  sd_notify("STOPPING=1");
  apply(instance_.shutdown(now()));
  if (hooks_) {
    // The stop hook runs after the priority-0 advert is out: the peer is already taking over.
    hooks_->notify(HookEvent::kStop, instance_.effective_priority());
    if (!hooks_->drain(std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.notify.timeout) +
                       std::chrono::seconds(1))) {
      log_->warn("hooks still running at exit; killed");
    }
  }
  stopping_ = true;
  timer_.cancel();
  garp_timer_.cancel();
  link_retry_timer_.cancel();
  watchdog_timer_.cancel();
  link_readable_.cancel();
  if (reserved_ip_) reserved_ip_->stop();
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
  if (next.instance.name != cfg_.instance.name || next.instance.interface != cfg_.instance.interface ||
      next.vrrp.virtual_router_id != cfg_.vrrp.virtual_router_id ||
      next.control.socket != cfg_.control.socket || next.vrrp.source != cfg_.vrrp.source ||
      next.virtual_ip.addresses != cfg_.virtual_ip.addresses ||
      next.instance.track_interfaces != cfg_.instance.track_interfaces ||
      !(next.reserved_ip == cfg_.reserved_ip) || !(next.checks == cfg_.checks) ||
      !(next.notify == cfg_.notify) || next.metrics.listen != cfg_.metrics.listen) {
    const std::string why =
        "name, interface, track_interface, source, virtual_router_id, virtual_ip, reserved_ip, "
        "checks, notify, metrics and control socket cannot change without a restart";
    log_->error("reload refused: {}; keeping the running configuration", why);
    return util::unexpected("reload refused, the running configuration is kept: " + why);
  }
  // The key file is compared by name only: to roll a key, change the file name (or restart).
  const bool transport_changed =
      next.vrrp.transport != cfg_.vrrp.transport || next.vrrp.peers != cfg_.vrrp.peers ||
      next.vrrp.port != cfg_.vrrp.port || next.vrrp.auth_key_file != cfg_.vrrp.auth_key_file ||
      next.vrrp.checksum_pseudo_header != cfg_.vrrp.checksum_pseudo_header;
  if (transport_changed && transport_) {
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
          install_transport(make_transport(cfg_));
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
  cfg_ = std::move(next);
  if (!waiting_for_interface_) advert_addresses_ = advert_addresses(cfg_, source_);
  apply(instance_.reconfigure(now(), config::to_core_params(cfg_, source_)));
  const std::string done = fmt::format("reloaded: priority {}, advert_interval {}, preempt {}",
                                       cfg_.vrrp.priority,
                                       util::format_duration(cfg_.vrrp.advert_interval),
                                       cfg_.vrrp.preempt);
  log_->info("{}", done);
  return done;
}

control::Outcome Daemon::handle_control(const control::Request& request) {
  if (request.command == "status") return control::to_json(status());
  if (request.command == "failover") {
    if (instance_.state() != core::State::Master) {
      const auto m = instance_.master();
      return util::unexpected(std::string("this node is ") + core::to_string(instance_.state()) +
                              ", not MASTER: run failover on the master" +
                              (m ? " (" + m->to_string() + ")" : std::string()));
    }
    // failoverctl failover --hold: the protocol checked hold_ms (0..kMaxFailoverHoldMs).
    const core::Duration hold =
        request.args.contains("hold_ms")
            ? core::Duration(std::chrono::milliseconds(request.args["hold_ms"].get<std::int64_t>()))
            : kFailoverHold;
    apply(*instance_.resign(now(), hold));
    const auto window = std::chrono::duration_cast<std::chrono::milliseconds>(
        instance_.failover_window());
    return nlohmann::json{
        {"message", std::string("resigned: priority 0 sent, ") +
                        (instance_.instant_handover_peer()
                             ? "the peer takes over at once"
                             : "a backup takes over after its Skew_Time") +
                        "; if none has within " + std::to_string(window.count()) +
                        " ms, this node takes the address back. It will not preempt back for " +
                        util::format_duration(hold)},
        {"window_ms", window.count()}};
  }
  if (request.command == "maintenance") {
    const bool on = request.args.at("enabled").get<bool>();
    apply(instance_.set_maintenance(now(), on));
    log_->info("maintenance {}", on ? "on: staying BACKUP" : "off: rejoining the election");
    return nlohmann::json{{"maintenance", on},
                          {"state", core::to_string(instance_.state())}};
  }
  if (request.command == "history") {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& h : history_) {
      entries.push_back({{"at", util::iso8601(h.at, /*millis=*/true)},
                         {"from", core::to_string(h.from)},
                         {"to", core::to_string(h.to)},
                         {"reason", h.reason},
                         {"claim", h.claim ? nlohmann::json(*h.claim) : nlohmann::json()}});
    }
    return nlohmann::json{{"history", entries}};
  }
  if (request.command == "checks") return nlohmann::json{{"checks", control::to_json(status())["checks"]}};
  if (request.command == "reload") {
    auto r = reload();
    if (!r) return util::unexpected(r.error());
    return nlohmann::json{{"message", *r}};
  }
  return util::unexpected("\"" + request.command + "\" is not implemented yet in this version");
}

control::Metrics Daemon::metrics() const {
  const control::Status s = status();
  control::Metrics m;
  m.instance = s.name;
  m.state = s.state;
  m.priority = s.priority;
  m.effective_priority = s.effective_priority;
  m.maintenance = s.maintenance;
  m.transitions = transitions_;
  m.transitions_to = transitions_to_;
  m.adverts_sent = adverts_sent_;
  m.adverts_received = adverts_received_;
  m.advert_send_errors = send_errors_;
  m.drops = s.drops;
  if (checks_) m.checks = checks_->metrics();
  if (reserved_ip_) {
    const auto& c = reserved_ip_->counters();
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
  m.uptime_seconds = s.uptime_s;
  return m;
}

control::Status Daemon::status() const {
  control::Status s;
  s.name = cfg_.instance.name;
  s.state = core::to_string(instance_.state());
  s.priority = cfg_.vrrp.priority;
  s.effective_priority = instance_.effective_priority();
  s.virtual_router_id = cfg_.vrrp.virtual_router_id;
  if (auto m = instance_.master()) s.master = m->to_string();
  s.maintenance = instance_.maintenance();
  if (reserved_ip_) s.reserved_ip = reserved_ip_->status();
  if (checks_) s.checks = checks_->statuses();
  s.transport = cfg_.vrrp.transport == config::Transport::kUdp ? "udp" : "vrrp";
  s.interface = cfg_.instance.interface;
  s.advert_interval = util::format_duration(cfg_.vrrp.advert_interval);
  s.master_down_interval_ms =
      static_cast<double>(instance_.master_down_interval().count()) / 1000.0;
  s.skew_time_ms = static_cast<double>(instance_.skew_time().count()) / 1000.0;
  s.adverts_sent = adverts_sent_;
  s.adverts_received = adverts_received_;
  for (std::size_t i = 0; i < proto::kDropReasonCount; ++i) {
    const auto live = transport_ ? transport_->drops()[i] : 0;
    s.drops[proto::to_string(static_cast<proto::DropReason>(i))] = retired_drops_[i] + live;
  }
  if (!history_.empty()) s.since = util::iso8601(history_.back().at, /*millis=*/true);
  s.transitions = transitions_;
  s.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_at_).count();
  s.pid = static_cast<int>(::getpid());
  return s;
}

}  // namespace failoverd::daemon
