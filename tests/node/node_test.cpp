// node::Node driven with a fake clock, as instance_test.cpp drives core::Instance: events in
// with a Time we advance (firing on_timer() at each deadline on the way), and every effect
// recorded, so a test reads what the daemon would have done, in order.
#include "failoverd/node/node.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

namespace failoverd::core {
void PrintTo(State s, std::ostream* os) { *os << to_string(s); }
}  // namespace failoverd::core

namespace failoverd::node {
namespace {

using core::State;
using std::chrono::milliseconds;
using std::chrono::seconds;
using util::Ipv4;

constexpr Ipv4 kMyAddr = Ipv4::from_octets(10, 0, 0, 2);
constexpr Ipv4 kHighAddr = Ipv4::from_octets(10, 0, 0, 3);
constexpr Ipv4 kReserved = Ipv4::from_octets(203, 0, 113, 10);

config::Config base_config() {
  config::Config c;
  c.instance.name = "node-a";
  c.instance.interface = "eth0";
  c.vrrp.virtual_router_id = 51;
  c.vrrp.priority = 100;
  c.control.socket = "/run/failoverd/node-a.sock";
  return c;
}

config::Config with_hooks(config::Config c) {
  c.notify.master = "/etc/failoverd/hook";
  c.notify.backup = "/etc/failoverd/hook";
  c.notify.fault = "/etc/failoverd/hook";
  c.notify.stop = "/etc/failoverd/hook";
  return c;
}

config::Config with_reserved_ip(config::Config c) {
  c.reserved_ip.provider = config::Provider::kDigitalOcean;
  c.reserved_ip.address = kReserved;
  return c;
}

config::CheckConfig fault_check(std::string name) {
  config::CheckConfig check;
  check.name = std::move(name);
  check.weight = 0;
  check.spec = config::TcpCheckSpec{};
  return check;
}

health::Verdict healthy() { return {}; }
health::Verdict failing(std::string why) {
  health::Verdict v;
  v.fault = true;
  v.fault_reason = std::move(why);
  return v;
}

template <typename T>
std::vector<T> only(const Effects& effects) {
  std::vector<T> out;
  for (const auto& e : effects) {
    if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}

// The "A -> B: reason" lines, which the Node logs once per transition.
std::vector<std::string> transitions(const Effects& effects) {
  std::vector<std::string> out;
  for (const auto& l : only<Log>(effects)) {
    if (l.line.find(" -> ") != std::string::npos) out.push_back(l.line.substr(0, l.line.find(':')));
  }
  return out;
}

// Hooks as "MASTER claim=ok", "BACKUP", ... in the order they were asked for.
std::vector<std::string> hooks(const Effects& effects) {
  std::vector<std::string> out;
  for (const auto& h : only<RunHook>(effects)) {
    std::string s;
    switch (h.hook) {
      case Hook::kMaster: s = "MASTER"; break;
      case Hook::kBackup: s = "BACKUP"; break;
      case Hook::kFault: s = "FAULT"; break;
      case Hook::kStop: s = "STOP"; break;
    }
    if (auto it = h.env.find("FAILOVERD_CLAIM"); it != h.env.end()) s += " claim=" + it->second;
    out.push_back(s);
  }
  return out;
}

// The claims asked for, by their reason.
std::vector<std::string> claims(const Effects& effects) {
  std::vector<std::string> out;
  for (const auto& c : only<StartClaim>(effects)) out.push_back(c.why);
  return out;
}

// The index of the first effect of type T whose predicate holds, or -1.
template <typename T, typename Pred>
int index_of(const Effects& effects, Pred pred) {
  for (std::size_t i = 0; i < effects.size(); ++i) {
    if (const T* t = std::get_if<T>(&effects[i]); t && pred(*t)) return static_cast<int>(i);
  }
  return -1;
}

// A Node with a fake clock; every effect it returns is kept. The provider is faked the way
// the daemon's worker runs it, one call at a time: a holder check is answered at once with
// `holder`, a claim waits for the test's claim_report().
class Driven {
 public:
  explicit Driven(config::Config cfg, bool with_source = true) : node_(std::move(cfg)) {
    if (with_source) keep(node_.on_source(now(), kMyAddr));
  }

  HolderReport holder;  // what a check finds: nobody, by default
  int checks = 0;
  bool claim_out = false;

  Node& node() { return node_; }
  State state() const { return node_.instance().state(); }
  Now now() const { return {now_, std::chrono::system_clock::time_point(now_)}; }
  const Effects& log() const { return log_; }
  void clear() { log_.clear(); }

  Effects keep(Effects e) {
    log_.insert(log_.end(), e.begin(), e.end());
    bool check = false;
    for (const auto& effect : e) {
      if (std::holds_alternative<StartClaim>(effect)) {
        EXPECT_FALSE(claim_out || check) << "two provider calls at once";
        claim_out = true;
      }
      if (std::holds_alternative<StartCheck>(effect)) {
        EXPECT_FALSE(claim_out || check) << "two provider calls at once";
        check = true;
      }
    }
    if (check) {
      ++checks;
      keep(node_.on_check_report(now(), holder));
    }
    return e;
  }

  // Moves the clock to `t`, firing every deadline on the way at its exact time.
  void advance(core::Duration d) {
    const core::Time t = now_ + d;
    for (int guard = 0; guard < 100'000; ++guard) {
      const auto deadline = node_.next_deadline();
      if (!deadline || *deadline > t) break;
      now_ = *deadline;
      keep(node_.on_timer(now()));
    }
    now_ = t;
  }

  void start() { keep(node_.start(now())); }
  // Sets the clock (a Node restored from another's snapshot lives at that one's time).
  void set_now(core::Time t) { now_ = t; }
  core::Time time() const { return now_; }
  // Starts and waits out the Master_Down_Interval: nobody else is there.
  void become_master() {
    start();
    advance(seconds(5));
    ASSERT_EQ(state(), State::Master);
  }
  void advert_from(Ipv4 source, std::uint8_t priority) {
    keep(node_.on_advert(now(), core::Advert{source, priority, 100}));
  }
  // Lets `d` pass while a MASTER at `source` advertises every second.
  void advance_hearing(core::Duration d, Ipv4 source, std::uint8_t priority) {
    for (core::Duration passed{0}; passed < d; passed += seconds(1)) {
      advance(seconds(1));
      advert_from(source, priority);
    }
  }
  void claim_report(ClaimReport::Outcome outcome, std::string detail, bool permanent = false) {
    ASSERT_TRUE(claim_out) << "no claim was started";
    claim_out = false;
    ClaimReport r;
    r.outcome = outcome;
    r.latency = milliseconds(80);
    r.detail = std::move(detail);
    r.permanent = permanent;
    keep(node_.on_claim_report(now(), r));
  }

 private:
  Node node_;
  core::Time now_{seconds(1000)};
  Effects log_;
};

TEST(Node, TheMasterHookWaitsForTheClaimReportAndLearnsItsOutcome) {
  Driven d(with_hooks(with_reserved_ip(base_config())));
  d.become_master();
  EXPECT_EQ(claims(d.log()), std::vector<std::string>{"became MASTER"});
  EXPECT_EQ(hooks(d.log()), std::vector<std::string>{"BACKUP"})
      << "no master hook before the claim";
  ASSERT_EQ(d.node().history().back().claim, std::optional<std::string>("pending"));

  d.clear();
  d.claim_report(ClaimReport::Outcome::kClaimed, "assigned");
  EXPECT_EQ(hooks(d.log()), std::vector<std::string>{"MASTER claim=ok"});
  const auto run = only<RunHook>(d.log()).at(0);
  EXPECT_EQ(run.env.at("FAILOVERD_CLAIM_DETAIL"), "assigned");
  EXPECT_EQ(run.priority, 100);
  EXPECT_EQ(d.node().history().back().claim, std::optional<std::string>("claimed in 80 ms"));

  // A later claim (a re-claim while MASTER) runs no second master hook.
  d.clear();
  d.advert_from(Ipv4::from_octets(10, 0, 0, 1), 50);  // rule 2: a lower-priority master claims
  d.claim_report(ClaimReport::Outcome::kAlreadyHeld, "already ours");
  EXPECT_TRUE(hooks(d.log()).empty());
  EXPECT_EQ(d.node().history().back().claim, std::optional<std::string>("claimed in 80 ms"));
}

TEST(Node, WithoutAReservedIpTheMasterHookRunsAtOnceWithClaimNone) {
  Driven d(with_hooks(base_config()));
  d.become_master();
  EXPECT_EQ(hooks(d.log()), (std::vector<std::string>{"BACKUP", "MASTER claim=none"}));
  EXPECT_TRUE(claims(d.log()).empty());
  EXPECT_EQ(d.node().history().back().claim, std::nullopt);
}

TEST(Node, OneHookPerTransitionInTheirOrder) {
  Driven d(with_hooks(base_config()));
  d.become_master();                   // INIT -> BACKUP -> MASTER
  d.advert_from(kHighAddr, 200);       // MASTER -> BACKUP
  d.keep(d.node().on_links(d.now(), "link eth0: down"));  // BACKUP -> FAULT
  d.keep(d.node().on_links(d.now(), "link eth0: down"));  // the same problem: nothing new
  d.keep(d.node().on_links(d.now(), std::nullopt));       // FAULT -> BACKUP
  d.keep(d.node().shutdown(d.now()));                     // BACKUP -> INIT, then the stop hook
  d.keep(d.node().shutdown(d.now()));                     // once only

  EXPECT_EQ(transitions(d.log()),
            (std::vector<std::string>{"INIT -> BACKUP", "BACKUP -> MASTER", "MASTER -> BACKUP",
                                      "BACKUP -> FAULT", "FAULT -> BACKUP", "BACKUP -> INIT"}));
  EXPECT_EQ(hooks(d.log()),
            (std::vector<std::string>{"BACKUP", "MASTER claim=none", "BACKUP", "FAULT", "BACKUP",
                                      "STOP"}));
  EXPECT_EQ(d.node().transitions(), 6U);
  EXPECT_EQ(d.node().transitions_to().at("BACKUP"), 3U);
  // The stop hook comes after the STOPPING notification and the last transition.
  const auto& log = d.log();
  const int stopping = index_of<NotifySystemd>(log, [](auto& n) { return n.text == "STOPPING=1"; });
  const int stop = index_of<RunHook>(log, [](auto& h) { return h.hook == Hook::kStop; });
  ASSERT_GE(stopping, 0);
  EXPECT_GT(stop, stopping);
}

TEST(Node, LeavingMasterBeforeTheClaimReportsRunsTheMasterHookFirst) {
  Driven d(with_hooks(with_reserved_ip(base_config())));
  d.become_master();
  d.clear();
  d.advert_from(kHighAddr, 200);
  EXPECT_EQ(hooks(d.log()), (std::vector<std::string>{"MASTER claim=pending", "BACKUP"}));
  // The late report finds no hook waiting.
  d.clear();
  d.claim_report(ClaimReport::Outcome::kClaimed, "assigned");
  EXPECT_TRUE(hooks(d.log()).empty());
}

// Found by the Node simulator (seed 481): a claim still out when the node left MASTER and came
// back reported into the new MASTER period, and its outcome went to that period's master hook
// and history, although the claim of this period was still queued behind it.
TEST(Node, AClaimFromAnEarlierMasterPeriodDoesNotReleaseTheMasterHook) {
  Driven d(with_hooks(with_reserved_ip(base_config())));
  d.become_master();             // claim 1 out
  d.advert_from(kHighAddr, 200);  // MASTER -> BACKUP: master hook "pending", backup hook
  d.advance(seconds(5));          // the master is gone: BACKUP -> MASTER again
  ASSERT_EQ(d.state(), State::Master);
  d.clear();
  d.claim_report(ClaimReport::Outcome::kClaimed, "assigned");  // claim 1, of the first period
  EXPECT_TRUE(hooks(d.log()).empty()) << "the master hook waits for this period's claim";
  EXPECT_EQ(claims(d.log()), std::vector<std::string>{"became MASTER"}) << "the queued claim";
  EXPECT_EQ(d.node().history().back().claim, std::optional<std::string>("pending"));
  d.clear();
  d.claim_report(ClaimReport::Outcome::kAlreadyHeld, "already ours");
  EXPECT_EQ(hooks(d.log()), std::vector<std::string>{"MASTER claim=ok"});
  EXPECT_EQ(d.node().history().back().claim, std::optional<std::string>("already held"));
}

// The re-entry the daemon had: a permanent failure in the keeper's report handler set the fault,
// and the transition called the keeper's left_master() while that handler was still running.
// Now the report is an event and leaving MASTER an effect in the list it returns.
TEST(Node, APermanentClaimFailureGivesFaultOnceAndNoClaimAfterLeavingMaster) {
  Driven d(with_hooks(with_reserved_ip(base_config())));
  d.become_master();
  d.clear();
  d.claim_report(ClaimReport::Outcome::kFailed, "401 Unauthorized", /*permanent=*/true);

  EXPECT_EQ(d.state(), State::Fault);
  EXPECT_EQ(transitions(d.log()), std::vector<std::string>{"MASTER -> FAULT"});
  // The master hook first, told the claim failed; then the fault hook.
  EXPECT_EQ(hooks(d.log()), (std::vector<std::string>{"MASTER claim=failed", "FAULT"}));
  EXPECT_TRUE(claims(d.log()).empty());
  EXPECT_EQ(d.node().fault_reason(),
            std::optional<std::string>("reserved IP 203.0.113.10: 401 Unauthorized"));
  EXPECT_EQ(d.node().history().back().to, State::Fault);
  EXPECT_EQ(d.node().history()[d.node().history().size() - 2].claim,
            std::optional<std::string>("failed: 401 Unauthorized"));

  // A long wait, well past any retry and several holder checks, changes nothing.
  d.clear();
  d.advance(seconds(120));
  d.keep(d.node().on_links(d.now(), std::nullopt));
  d.keep(d.node().on_verdict(d.now(), healthy()));
  EXPECT_EQ(d.state(), State::Fault);
  EXPECT_TRUE(transitions(d.log()).empty());
  EXPECT_TRUE(claims(d.log()).empty()) << "a claim was started after leaving MASTER";
  EXPECT_GE(d.checks, 3) << "the holder is still checked as FAULT";
  EXPECT_TRUE(only<SendAdvert>(d.log()).empty());
  EXPECT_EQ(d.node().transitions_to().at("FAULT"), 1U);
}

TEST(Node, ATransientClaimFailureKeepsMaster) {
  Driven d(with_hooks(with_reserved_ip(base_config())));
  d.become_master();
  d.clear();
  d.claim_report(ClaimReport::Outcome::kFailed, "503 Service Unavailable");
  EXPECT_EQ(d.state(), State::Master);
  EXPECT_EQ(hooks(d.log()), std::vector<std::string>{"MASTER claim=failed"});
  EXPECT_EQ(d.node().fault_reason(), std::nullopt);
}

TEST(Node, ReloadKeepsStateHistoryAndCounters) {
  Driven d(base_config());
  d.become_master();
  d.advert_from(Ipv4::from_octets(10, 0, 0, 1), 50);  // a lower one: counted, ignored
  const auto history = d.node().history().size();
  const auto count = d.node().transitions();
  const auto received = d.node().adverts_received();

  config::Config next = base_config();
  next.vrrp.priority = 150;
  next.vrrp.advert_interval = milliseconds(500);
  const auto plan = d.node().plan_reload(next);
  ASSERT_TRUE(plan.has_value()) << plan.error();
  EXPECT_FALSE(plan->transport_changed);
  d.clear();
  const auto reloaded = d.node().reload(d.now(), next);
  EXPECT_EQ(reloaded.message, "reloaded: priority 150, advert_interval 500ms, preempt true");
  EXPECT_EQ(d.state(), State::Master);
  EXPECT_EQ(d.node().history().size(), history);
  EXPECT_EQ(d.node().transitions(), count);
  EXPECT_EQ(d.node().adverts_received(), received);
  EXPECT_EQ(d.node().instance().effective_priority(), 150);
  EXPECT_TRUE(transitions(reloaded.effects).empty());
  // The next adverts carry the new priority, every 500 ms.
  d.keep(reloaded.effects);
  d.advance(seconds(2));
  const auto sent = only<SendAdvert>(d.log());
  ASSERT_GE(sent.size(), 3U);
  EXPECT_EQ(sent.back().advert.priority, 150);
  EXPECT_EQ(sent.back().advert.max_adver_interval_cs, 50);
}

TEST(Node, ReloadRefusesWhatNeedsARestartAndSaysWhenTheTransportChanges) {
  Driven d(base_config());
  config::Config moved = base_config();
  moved.instance.interface = "eth1";
  const auto refused = d.node().plan_reload(moved);
  ASSERT_FALSE(refused.has_value());
  EXPECT_NE(refused.error().find("cannot change without a restart"), std::string::npos);

  config::Config unicast = base_config();
  unicast.vrrp.peers = {kHighAddr};
  const auto plan = d.node().plan_reload(unicast);
  ASSERT_TRUE(plan.has_value());
  EXPECT_TRUE(plan->transport_changed);
}

TEST(Node, AControlCommandInTheWrongStateIsRefusedWithoutEffect) {
  Driven d(base_config());
  d.start();
  d.advert_from(kHighAddr, 200);
  ASSERT_EQ(d.state(), State::Backup);
  control::Request failover;
  failover.command = "failover";
  auto reply = d.node().on_control(d.now(), failover);
  ASSERT_TRUE(reply.has_value());
  ASSERT_FALSE(reply->outcome.has_value());
  EXPECT_EQ(reply->outcome.error(),
            "this node is BACKUP, not MASTER: run failover on the master (10.0.0.3)");
  EXPECT_TRUE(reply->effects.empty());
  EXPECT_EQ(d.state(), State::Backup);

  // On the MASTER it resigns: priority 0 out, then BACKUP.
  Driven m(base_config());
  m.become_master();
  m.clear();
  reply = m.node().on_control(m.now(), failover);
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(reply->outcome.has_value());
  EXPECT_TRUE(reply->outcome->contains("window_ms"));
  const auto sent = only<SendAdvert>(reply->effects);
  ASSERT_EQ(sent.size(), 1U);
  EXPECT_EQ(sent[0].advert.priority, 0);
  EXPECT_EQ(transitions(reply->effects), std::vector<std::string>{"MASTER -> BACKUP"});

  // The commands that need the adapters' data are not the Node's.
  control::Request status;
  status.command = "status";
  EXPECT_FALSE(m.node().on_control(m.now(), status).has_value());
}

TEST(Node, FailoverHoldsForTheRequestedTimeOrAMinute) {
  for (const auto& [args, said] : std::vector<std::pair<nlohmann::json, std::string>>{
           {nlohmann::json::object(), "not preempt back for 1m"},
           {{{"hold_ms", 3000}}, "not preempt back for 3s"}}) {
    Driven m(base_config());
    m.become_master();
    control::Request failover;
    failover.command = "failover";
    failover.args = args;
    const auto reply = m.node().on_control(m.now(), failover);
    ASSERT_TRUE(reply.has_value() && reply->outcome.has_value());
    const std::string message = (*reply->outcome)["message"].get<std::string>();
    EXPECT_NE(message.find(said), std::string::npos) << message;
  }
}

TEST(Node, MaintenanceKeepsAMasterOutOfTheElection) {
  Driven d(base_config());
  d.become_master();
  control::Request on;
  on.command = "maintenance";
  on.args = {{"enabled", true}};
  auto reply = d.node().on_control(d.now(), on);
  ASSERT_TRUE(reply && reply->outcome.has_value());
  EXPECT_EQ((*reply->outcome)["state"], "BACKUP");
  d.keep(reply->effects);
  d.advance(seconds(30));
  EXPECT_EQ(d.state(), State::Backup);
}

TEST(Node, TheFaultComesFromLinksAndChecksTogether) {
  config::Config c = base_config();
  c.checks.push_back(fault_check("web"));
  Driven d(c);
  d.keep(d.node().on_verdict(d.now(), healthy()));  // before start: only noted
  d.start();
  ASSERT_EQ(d.state(), State::Backup);

  d.keep(d.node().on_links(d.now(), "link eth0: down"));
  EXPECT_EQ(d.state(), State::Fault);
  d.keep(d.node().on_verdict(d.now(), failing("check web: refused")));
  EXPECT_EQ(d.node().fault_reason(), std::optional<std::string>("link eth0: down"))
      << "links come first";
  d.keep(d.node().on_links(d.now(), std::nullopt));
  EXPECT_EQ(d.state(), State::Fault) << "the check still fails";
  EXPECT_EQ(d.node().fault_reason(), std::optional<std::string>("check web: refused"));
  d.keep(d.node().on_verdict(d.now(), healthy()));
  EXPECT_EQ(d.state(), State::Backup);
  EXPECT_EQ(transitions(d.log()),
            (std::vector<std::string>{"INIT -> BACKUP", "BACKUP -> FAULT", "FAULT -> BACKUP"}));
  EXPECT_EQ(d.node().history().back().reason, "fault cleared: no fault left");
}

TEST(Node, ANodeWithChecksStaysInInitUntilTheirFirstVerdicts) {
  config::Config c = base_config();
  c.checks.push_back(fault_check("web"));
  Driven d(c);
  d.start();
  EXPECT_EQ(d.state(), State::Initialize);
  EXPECT_TRUE(d.node().fault_reason().has_value()) << "a check not run yet counts as failing";
  const auto ready = only<NotifySystemd>(d.log());
  ASSERT_EQ(ready.size(), 1U);
  EXPECT_EQ(ready[0].text, "READY=1\nSTATUS=INIT: waiting for the first health check results");

  health::Verdict rising = failing("check web: 1 of 2 passes needed");
  rising.settling = true;
  d.keep(d.node().on_verdict(d.now(), rising));
  d.advance(seconds(30));
  EXPECT_EQ(d.state(), State::Initialize);
  EXPECT_TRUE(only<SendAdvert>(d.log()).empty());

  d.clear();
  d.keep(d.node().on_verdict(d.now(), healthy()));
  EXPECT_EQ(d.state(), State::Backup);
  EXPECT_EQ(transitions(d.log()), std::vector<std::string>{"INIT -> BACKUP"});
  EXPECT_EQ(only<NotifySystemd>(d.log()).back().text, "STATUS=BACKUP");
}

TEST(Node, AFirstVerdictThatFailsOrALinkFaultWhileWaitingIsFaultAtOnce) {
  config::Config c = base_config();
  c.checks.push_back(fault_check("web"));
  Driven failed(c);
  failed.start();
  failed.keep(failed.node().on_verdict(failed.now(), failing("check web: refused")));
  EXPECT_EQ(failed.state(), State::Fault);

  Driven link(c);
  link.start();
  link.keep(link.node().on_links(link.now(), "link eth0: no IPv4 address"));
  EXPECT_EQ(link.state(), State::Fault);
  EXPECT_EQ(link.node().history().back().reason,
            "started with a fault: link eth0: no IPv4 address");
}

TEST(Node, AMissingInterfaceIsFaultAndTheNodeWaitsForIt) {
  Driven d(base_config(), /*with_source=*/false);
  d.keep(d.node().on_links(d.now(), "link eth0: does not exist"));
  d.start();
  EXPECT_EQ(d.state(), State::Fault);
  d.advance(seconds(30));
  EXPECT_EQ(d.state(), State::Fault);
  EXPECT_TRUE(only<SendAdvert>(d.log()).empty());

  // The interface comes with its address: the source is known, then the link is fine.
  d.keep(d.node().on_source(d.now(), kMyAddr));
  d.keep(d.node().on_links(d.now(), std::nullopt));
  EXPECT_EQ(d.state(), State::Backup);
  d.advance(seconds(5));
  ASSERT_EQ(d.state(), State::Master);
  const auto sent = only<SendAdvert>(d.log());
  ASSERT_FALSE(sent.empty());
  EXPECT_EQ(sent.back().advert.addresses, std::vector<Ipv4>{kMyAddr})
      << "without VIPs or a reserved IP the advert carries our own address";
  EXPECT_EQ(sent.back().advert.virtual_router_id, 51);
}

TEST(Node, VirtualIpsAreTakenWithTheirGarpRepeatsAndReleasedOnLeavingMaster) {
  config::Config c = base_config();
  c.virtual_ip.addresses = {config::Cidr{Ipv4::from_octets(10, 0, 0, 100), 24}};
  c.virtual_ip.garp_count = 3;
  Driven d(c);
  d.become_master();
  ASSERT_EQ(only<TakeVips>(d.log()).size(), 1U);
  EXPECT_EQ(only<SendAdvert>(d.log()).back().advert.addresses,
            std::vector<Ipv4>{Ipv4::from_octets(10, 0, 0, 100)});
  // garp_count 3: two more announcements, then no more.
  d.advance(seconds(10));
  EXPECT_EQ(only<AnnounceVips>(d.log()).size(), 2U);
  const int take = index_of<TakeVips>(d.log(), [](auto&) { return true; });
  const int first = index_of<AnnounceVips>(d.log(), [](auto&) { return true; });
  EXPECT_GT(first, take);
  d.clear();
  d.advert_from(kHighAddr, 200);
  EXPECT_EQ(only<ReleaseVips>(d.log()).size(), 1U);
  EXPECT_TRUE(only<TakeVips>(d.log()).empty());

  // Leaving MASTER before a repeat is due cancels it.
  c.virtual_ip.garp_interval = seconds(10);
  Driven quit(c);
  quit.become_master();
  ASSERT_TRUE(only<AnnounceVips>(quit.log()).empty());
  quit.advert_from(kHighAddr, 200);
  quit.clear();
  quit.advance_hearing(seconds(30), kHighAddr, 200);
  ASSERT_EQ(quit.state(), State::Backup);
  EXPECT_TRUE(only<AnnounceVips>(quit.log()).empty());
}

TEST(Node, EveryCallEndsByArmingTheTimerForTheNextDeadline) {
  Driven d(with_reserved_ip(base_config()));
  d.start();
  ASSERT_FALSE(d.log().empty());
  const auto* arm = std::get_if<ArmTimer>(&d.log().back());
  ASSERT_NE(arm, nullptr);
  EXPECT_EQ(arm->at, d.node().next_deadline());
  ASSERT_TRUE(arm->at.has_value());
  EXPECT_LE(*arm->at, *d.node().instance().next_deadline());
  const auto advert = d.node().on_advert(d.now(), core::Advert{kHighAddr, 200, 100});
  ASSERT_FALSE(advert.empty());
  ASSERT_TRUE(std::holds_alternative<ArmTimer>(advert.back()));
  EXPECT_EQ(std::get<ArmTimer>(advert.back()).at, d.node().next_deadline());
}

// A claim waiting behind the one in flight (a lower-priority advert asked for it) is dropped
// by a permanent failure: it could only fail the same way, and the node is leaving MASTER.
TEST(Node, APermanentFailureDropsTheClaimWaitingBehindIt) {
  Driven d(with_reserved_ip(base_config()));
  d.become_master();
  d.advert_from(Ipv4::from_octets(10, 0, 0, 1), 50);  // rule 2: claim again (queued)
  d.clear();
  d.claim_report(ClaimReport::Outcome::kFailed, "401 Unauthorized", /*permanent=*/true);
  EXPECT_EQ(d.state(), State::Fault);
  EXPECT_TRUE(claims(d.log()).empty());
  EXPECT_FALSE(d.claim_out);
}

// The retry of a failed claim (ported from the keeper's asio tests, now on the fake clock):
// backed off whatever the provider, and shown in status.
TEST(ClaimBackoff, DoublesFromOneSecondToThirtyAndResetsOnSuccess) {
  using namespace std::chrono_literals;
  ClaimBackoff b;
  EXPECT_EQ(b.on_failure(), 1000ms);
  EXPECT_EQ(b.on_failure(), 2000ms);
  EXPECT_EQ(b.on_failure(), 4000ms);
  EXPECT_EQ(b.on_failure(), 8000ms);
  EXPECT_EQ(b.on_failure(), 16000ms);
  EXPECT_EQ(b.on_failure(), 30000ms);
  EXPECT_EQ(b.on_failure(), 30000ms) << "capped";
  EXPECT_EQ(b.failures(), 7);
  b.on_success();
  EXPECT_EQ(b.failures(), 0);
  EXPECT_EQ(b.on_failure(), 1000ms) << "a success starts over";
}

// Before the backoff a failed claim was retried at once, in a loop (~40 requests/s against a
// rate-limited API).
TEST(Node, AFailedClaimIsRetriedOnlyAfterTheBackoff) {
  Driven d(with_reserved_ip(base_config()));
  d.become_master();
  d.clear();
  d.claim_report(ClaimReport::Outcome::kFailed, "HTTP 429 rate_limit_exceeded");
  d.advance(milliseconds(500));
  EXPECT_TRUE(claims(d.log()).empty()) << "claimed again before the 1 s backoff";
  const auto s = d.node().reserved_ip()->status(d.now().steady);
  ASSERT_TRUE(s.last_claim.has_value());
  EXPECT_EQ(*s.last_claim, "failed: HTTP 429 rate_limit_exceeded; next attempt in 1s");
  EXPECT_EQ(s.address, "203.0.113.10");
  EXPECT_EQ(s.provider, "digitalocean");
  EXPECT_EQ(d.node().reserved_ip()->counters().failures, 1U);
}

TEST(Node, TheRetryComesAfterTheBackoffAndASuccessClearsTheFailure) {
  Driven d(with_reserved_ip(base_config()));
  d.become_master();
  d.claim_report(ClaimReport::Outcome::kFailed, "HTTP 429 rate_limit_exceeded");
  d.clear();
  d.advance(milliseconds(1000));
  EXPECT_EQ(claims(d.log()),
            std::vector<std::string>{"retrying after a failed claim (1 in a row)"});
  d.claim_report(ClaimReport::Outcome::kClaimed, "claimed");
  const auto s = d.node().reserved_ip()->status(d.now().steady);
  ASSERT_TRUE(s.last_claim.has_value());
  EXPECT_EQ(s.last_claim->find("failed"), std::string::npos) << *s.last_claim;
  EXPECT_EQ(s.holder, "this node");
  EXPECT_EQ(d.node().reserved_ip()->counters().claims, 2U);
}

// Leaving MASTER drops the pending retry: a BACKUP does not claim.
TEST(Node, LeavingMasterCancelsTheRetry) {
  Driven d(with_reserved_ip(base_config()));
  d.become_master();
  d.claim_report(ClaimReport::Outcome::kFailed, "HTTP 429 rate_limit_exceeded");
  d.advert_from(kHighAddr, 200);
  ASSERT_EQ(d.state(), State::Backup);
  d.clear();
  d.advance_hearing(seconds(5), kHighAddr, 200);
  ASSERT_EQ(d.state(), State::Backup);
  EXPECT_TRUE(claims(d.log()).empty());
  const auto s = d.node().reserved_ip()->status(d.now().steady);
  ASSERT_TRUE(s.last_claim.has_value());
  EXPECT_EQ(*s.last_claim, "failed: HTTP 429 rate_limit_exceeded") << "no attempt is due";
}

// As BACKUP the holder is checked every reconcile_interval (status shows it), never claimed.
TEST(Node, ABackupChecksTheHolderAndNeverClaims) {
  config::Config c = with_reserved_ip(base_config());
  c.reserved_ip.reconcile_interval = seconds(10);
  Driven d(c);
  d.holder.holder = "droplet 42";
  d.start();
  d.advert_from(kHighAddr, 200);
  d.advance_hearing(seconds(35), kHighAddr, 200);
  ASSERT_EQ(d.state(), State::Backup);
  EXPECT_EQ(d.checks, 4) << "at start, then every 10 s";
  EXPECT_TRUE(claims(d.log()).empty());
  EXPECT_EQ(d.node().reserved_ip()->status(d.now().steady).holder,
            std::optional<std::string>("droplet 42"));
}

// ---- restart in place: snapshot and restore ----

config::Config with_vip(config::Config c) {
  c.virtual_ip.addresses = {config::Cidr{Ipv4::from_octets(10, 0, 0, 100), 24}};
  c.virtual_ip.garp_count = 3;
  return c;
}

// A Node restored from `from`'s snapshot at `from`'s time, with `cfg`.
std::unique_ptr<Driven> restored(const Driven& from, const NodeSnapshot& s, config::Config cfg) {
  auto d = std::make_unique<Driven>(std::move(cfg));
  d->set_now(from.time());
  d->clear();
  EXPECT_TRUE(d->node().can_restore(s));
  d->keep(d->node().restore(d->now(), s));
  return d;
}

TEST(NodeRestore, ARestoredMasterAdvertisesFirstAndRunsNoHookNorTakesItsVipsAgain) {
  const auto cfg = with_hooks(with_vip(base_config()));
  Driven a(cfg);
  a.become_master();
  a.advance(milliseconds(1500));
  const NodeSnapshot s = a.node().snapshot();
  ASSERT_EQ(s.instance.state, State::Master);

  auto b = restored(a, s, cfg);
  ASSERT_FALSE(b->log().empty());
  EXPECT_TRUE(std::holds_alternative<SendAdvert>(b->log().front())) << "the first effect";
  EXPECT_EQ(only<SendAdvert>(b->log()).at(0).advert.priority, 100);
  EXPECT_TRUE(hooks(b->log()).empty());
  EXPECT_TRUE(only<TakeVips>(b->log()).empty());
  EXPECT_TRUE(only<StartClaim>(b->log()).empty());
  EXPECT_TRUE(transitions(b->log()).empty());
  const auto notes = only<NotifySystemd>(b->log());
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_EQ(notes[0].text, "READY=1\nSTATUS=MASTER");

  // The same observable state: history, counters, the master; only the advert cadence
  // restarted from the restore.
  EXPECT_EQ(b->state(), State::Master);
  EXPECT_EQ(b->node().history(), a.node().history());
  EXPECT_EQ(b->node().transitions(), a.node().transitions());
  EXPECT_EQ(b->node().transitions_to(), a.node().transitions_to());
  EXPECT_EQ(b->node().adverts_received(), a.node().adverts_received());
  EXPECT_EQ(b->node().instance().master(), a.node().instance().master());
  NodeSnapshot again = b->node().snapshot();
  again.instance.adver_timer = s.instance.adver_timer;
  EXPECT_EQ(again, s);

  // It carries on as MASTER: adverts every second, nothing else.
  b->clear();
  b->advance(seconds(10));
  EXPECT_EQ(only<SendAdvert>(b->log()).size(), 10U);
  EXPECT_TRUE(transitions(b->log()).empty());
  EXPECT_TRUE(hooks(b->log()).empty());
}

TEST(NodeRestore, ARestoredBackupKeepsItsMasterDownTimer) {
  const auto cfg = with_hooks(base_config());
  Driven a(cfg);
  a.start();
  a.advance_hearing(seconds(5), kHighAddr, 200);
  ASSERT_EQ(a.state(), State::Backup);
  const NodeSnapshot s = a.node().snapshot();
  auto b = restored(a, s, cfg);
  EXPECT_TRUE(only<SendAdvert>(b->log()).empty()) << "a BACKUP is silent";
  EXPECT_TRUE(hooks(b->log()).empty());
  EXPECT_EQ(b->state(), State::Backup);
  EXPECT_EQ(b->node().instance().master(), std::optional<Ipv4>(kHighAddr));
  EXPECT_EQ(b->node().next_deadline(), a.node().next_deadline());
  // Still hearing the master: it stays BACKUP; silence: it takes over as the old one would.
  b->advance_hearing(seconds(3), kHighAddr, 200);
  EXPECT_EQ(b->state(), State::Backup);
  b->advance(seconds(4));
  EXPECT_EQ(b->state(), State::Master);
}

TEST(NodeRestore, AMasterRestoredAfterLongerThanMasterDownIntervalHoldsItsAdvert) {
  Driven a(base_config());
  a.become_master();
  const NodeSnapshot s = a.node().snapshot();
  Driven b(base_config());
  b.set_now(a.time() + seconds(10));  // the peer has taken over meanwhile, perhaps
  b.clear();
  b.keep(b.node().restore(b.now(), s));
  EXPECT_TRUE(only<SendAdvert>(b.log()).empty()) << "first read what waits in the socket";
  EXPECT_EQ(b.state(), State::Master);
  // A lower-priority master advertising now took over: step down as a restarted node would.
  b.advert_from(kHighAddr, 50);
  EXPECT_EQ(b.state(), State::Backup);
}

TEST(NodeRestore, TheReservedIpIsNotClaimedAgainAndAClaimInProgressBlocksTheRestart) {
  const auto cfg = with_hooks(with_reserved_ip(base_config()));
  Driven a(cfg);
  a.become_master();
  ASSERT_TRUE(a.claim_out);
  ASSERT_TRUE(a.node().restart_blocker().has_value());
  EXPECT_NE(a.node().restart_blocker()->find("claim"), std::string::npos);
  a.claim_report(ClaimReport::Outcome::kClaimed, "assigned");
  EXPECT_FALSE(a.node().restart_blocker().has_value());
  a.advance(milliseconds(500));
  const NodeSnapshot s = a.node().snapshot();

  auto b = restored(a, s, cfg);
  EXPECT_TRUE(only<StartClaim>(b->log()).empty());
  EXPECT_TRUE(hooks(b->log()).empty());
  ASSERT_NE(b->node().reserved_ip(), nullptr);
  EXPECT_EQ(b->node().reserved_ip()->status(b->time()).holder, std::optional<std::string>("this node"));
  EXPECT_EQ(b->node().reserved_ip()->counters(), a.node().reserved_ip()->counters());
  EXPECT_EQ(b->node().history().back().claim, std::optional<std::string>("claimed in 80 ms"));
  // Reconcile goes on as before: checks, and no claim while the address is ours.
  b->holder.ours = true;
  b->holder.holder = "1";
  b->clear();
  b->advance(seconds(100));
  EXPECT_GT(b->checks, 0);
  EXPECT_TRUE(only<StartClaim>(b->log()).empty());
}

TEST(NodeRestore, AConfigThatNeedsAFullRestartIsRefusedAndAReloadableOneResumes) {
  Driven a(base_config());
  a.become_master();
  const NodeSnapshot s = a.node().snapshot();

  config::Config vrid = base_config();
  vrid.vrrp.virtual_router_id = 52;
  auto refused = Node(vrid).can_restore(s);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("virtual_router_id"), std::string::npos) << refused.error();
  config::Config iface = base_config();
  iface.instance.interface = "eth1";
  EXPECT_FALSE(Node(iface).can_restore(s));
  EXPECT_FALSE(Node(with_vip(base_config())).can_restore(s));
  EXPECT_FALSE(Node(with_reserved_ip(base_config())).can_restore(s));

  // A new priority is what a reload applies too: it resumes, advertising the new one.
  config::Config prio = base_config();
  prio.vrrp.priority = 120;
  auto b = restored(a, s, prio);
  ASSERT_FALSE(only<SendAdvert>(b->log()).empty());
  EXPECT_EQ(only<SendAdvert>(b->log()).at(0).advert.priority, 120);
  EXPECT_EQ(b->state(), State::Master);
}

// ---- crash resume (node/crash_resume.h) ----

CrashResume resume_of(const Node& crashed, core::Duration age, core::Duration bound) {
  CrashRecord r = crashed.crash_record();
  r.pid = 4242;
  return CrashResume{r, age, bound};
}

TEST(NodeCrashResume, TheRecordFollowsTheStateAndTheHolder) {
  Driven a(with_reserved_ip(with_vip(base_config())));
  EXPECT_FALSE(a.node().crash_record().master);
  a.become_master();
  CrashRecord r = a.node().crash_record();
  EXPECT_TRUE(r.master);
  EXPECT_FALSE(r.reserved_ip_ours) << "the claim has not reported";
  EXPECT_EQ(r.identity, crash_identity(a.node().config(), kMyAddr));
  EXPECT_EQ(r.adver_interval_cs, 100);
  a.claim_report(ClaimReport::Outcome::kClaimed, "assigned");
  EXPECT_TRUE(a.node().crash_record().reserved_ip_ours);
  a.advert_from(kHighAddr, 200);
  EXPECT_EQ(a.state(), State::Backup);
  EXPECT_FALSE(a.node().crash_record().master);
}

TEST(NodeCrashResume, AResumedMasterAdvertisesFirstWithoutHookClaimOrTransition) {
  const auto cfg = with_hooks(with_reserved_ip(with_vip(base_config())));
  Driven a(cfg);
  a.become_master();
  a.claim_report(ClaimReport::Outcome::kClaimed, "assigned");
  const CrashResume res = resume_of(a.node(), milliseconds(2100), milliseconds(3007));

  Driven b(cfg);  // the new process, after the crash
  b.set_now(a.time() + milliseconds(2100));
  b.holder.ours = true;
  b.holder.holder = "1";
  b.clear();
  b.keep(b.node().resume_after_crash(b.now(), res));
  ASSERT_FALSE(b.log().empty());
  EXPECT_TRUE(std::holds_alternative<SendAdvert>(b.log().front())) << "the first effect";
  EXPECT_EQ(b.state(), State::Master);
  EXPECT_TRUE(hooks(b.log()).empty());
  EXPECT_TRUE(claims(b.log()).empty());
  EXPECT_TRUE(transitions(b.log()).empty());
  EXPECT_EQ(only<TakeVips>(b.log()).size(), 1U) << "adds a VIP that went missing";
  EXPECT_EQ(b.checks, 1) << "the holder is checked at once";
  EXPECT_EQ(b.node().transitions(), 0U);
  ASSERT_EQ(b.node().history().size(), 1U);
  EXPECT_EQ(b.node().history()[0].to, State::Master);
  EXPECT_NE(b.node().history()[0].reason.find("resumed after a crash"), std::string::npos);
  EXPECT_EQ(b.node().history()[0].claim, std::optional<std::string>("already held"));
  const auto notes = only<NotifySystemd>(b.log());
  ASSERT_EQ(notes.size(), 1U);
  EXPECT_EQ(notes[0].text, "READY=1\nSTATUS=MASTER");
  const auto logs = only<Log>(b.log());
  EXPECT_EQ(std::count_if(logs.begin(), logs.end(),
                          [](const Log& l) {
                            return l.line.rfind("resumed MASTER from the crash record", 0) == 0 &&
                                   l.line.find("2100 ms ago") != std::string::npos;
                          }),
            1);
  EXPECT_EQ(b.node().reserved_ip()->status(b.time()).holder,
            std::optional<std::string>("this node"));
  EXPECT_TRUE(b.node().crash_record().master);
  EXPECT_TRUE(b.node().crash_record().reserved_ip_ours);

  // It carries on as MASTER: adverts every second, reconcile checks, never a claim.
  b.clear();
  b.advance(seconds(100));
  EXPECT_EQ(only<SendAdvert>(b.log()).size(), 100U);
  EXPECT_TRUE(claims(b.log()).empty());
  EXPECT_GT(b.checks, 1);
  EXPECT_TRUE(hooks(b.log()).empty());
}

TEST(NodeCrashResume, TheNormalRulesFollow) {
  const auto cfg = with_hooks(with_reserved_ip(base_config()));
  Driven a(cfg);
  a.become_master();
  a.claim_report(ClaimReport::Outcome::kClaimed, "assigned");
  const CrashResume res = resume_of(a.node(), milliseconds(500), milliseconds(3007));

  // Nobody holds the address after all: the MASTER claims it, as any MASTER would.
  Driven b(cfg);
  b.clear();
  b.keep(b.node().resume_after_crash(b.now(), res));
  EXPECT_EQ(claims(b.log()), std::vector<std::string>{"nobody holds it"});
  b.claim_report(ClaimReport::Outcome::kClaimed, "assigned");

  // A higher-priority master heard: BACKUP, with the backup hook (the master hook never ran
  // in this process, so none is owed first).
  b.clear();
  b.advert_from(kHighAddr, 200);
  EXPECT_EQ(b.state(), State::Backup);
  EXPECT_EQ(hooks(b.log()), std::vector<std::string>{"BACKUP"});
  EXPECT_FALSE(b.node().crash_record().master);

  // The checks' priority delta comes from the record until the runner reports.
  Driven c(base_config());
  CrashResume low = resume_of(a.node(), milliseconds(500), milliseconds(3007));
  low.record.priority_delta = -30;
  c.keep(c.node().resume_after_crash(c.now(), low));
  EXPECT_EQ(c.node().instance().effective_priority(), 70);
  EXPECT_EQ(only<SendAdvert>(c.log()).at(0).advert.priority, 70);
}

}  // namespace
}  // namespace failoverd::node
