// core::Instance against RFC 5798 §6.4 (with the RFC 9568 amendments), driven with a fake
// clock: a Time we advance, firing on_timer() at each next_deadline() on the way, as the
// driving contract in instance.h asks.
#include "failoverd/core/instance.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <vector>

namespace failoverd::core {

void PrintTo(State s, std::ostream* os) {
  *os << to_string(s);
}

namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using util::Ipv4;

constexpr Ipv4 kLowAddr = Ipv4::from_octets(10, 0, 0, 1);
constexpr Ipv4 kMyAddr = Ipv4::from_octets(10, 0, 0, 2);
constexpr Ipv4 kHighAddr = Ipv4::from_octets(10, 0, 0, 3);

Params make_params(std::uint8_t priority = 100, Duration interval = seconds(1)) {
  Params p;
  p.priority = priority;
  p.advert_interval = interval;
  p.primary_address = kMyAddr;
  return p;
}

template <typename T>
std::vector<T> only(const Actions& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (const T* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

Advert advert_from(Ipv4 source, std::uint8_t priority, std::uint16_t interval_cs = 100) {
  return Advert{source, priority, interval_cs};
}

// An Instance with a fake clock. Every action it returns is kept, so a test can look at what
// happened since it last cleared the log.
class Clocked {
 public:
  explicit Clocked(Params p) : inst_(std::move(p)) {}

  Instance& inst() { return inst_; }
  Time now() const { return now_; }
  const Actions& log() const { return log_; }
  void clear() { log_.clear(); }

  Actions keep(Actions a) {
    log_.insert(log_.end(), a.begin(), a.end());
    return a;
  }

  // Moves the clock to `t`, firing every deadline on the way at its exact time.
  void advance_to(Time t) {
    for (int guard = 0; guard < 1'000'000; ++guard) {
      const auto d = inst_.next_deadline();
      if (!d || *d > t) break;
      ASSERT_GE(*d, now_) << "deadline in the past";
      now_ = *d;
      keep(inst_.on_timer(now_));
      const auto after = inst_.next_deadline();
      ASSERT_TRUE(!after || *after > now_) << "deadline did not move after on_timer";
    }
    now_ = t;
  }
  void advance(Duration d) { advance_to(now_ + d); }

  Actions start(bool faulted = false) { return keep(inst_.start(now_, faulted, "link down")); }
  Actions advert(const Advert& a) { return keep(inst_.on_advert(now_, a)); }
  Actions shutdown() { return keep(inst_.shutdown(now_)); }
  Actions fault(bool f) { return keep(inst_.set_fault(now_, f, f ? "check failed" : "")); }
  Actions delta(int d) { return keep(inst_.set_priority_delta(now_, d)); }

 private:
  Instance inst_;
  Time now_{0};
  Actions log_;
};

// A backup that has just become master through its Master_Down_Timer.
Clocked make_master(Params p = make_params()) {
  Clocked c(std::move(p));
  c.start();
  c.advance(c.inst().master_down_interval());
  c.clear();
  return c;
}

// ---- timers (RFC 5798 §6.1) ----

TEST(Timing, SkewAndMasterDownIntervalInMicroseconds) {
  EXPECT_EQ(skew_time(100, seconds(1)), Duration{609'375});
  EXPECT_EQ(master_down_interval(100, seconds(1)), Duration{3'609'375});
  EXPECT_EQ(skew_time(100, milliseconds(100)), Duration{60'937});  // 60937.5 truncated
  EXPECT_EQ(master_down_interval(100, milliseconds(100)), Duration{360'937});
  EXPECT_EQ(skew_time(255, seconds(1)), Duration{3'906});
  EXPECT_EQ(skew_time(1, seconds(1)), Duration{996'093});
  EXPECT_EQ(master_down_interval(254, milliseconds(30)), Duration{90'234});
  EXPECT_EQ(from_centiseconds(4095), Duration{40'950'000});
  EXPECT_EQ(to_centiseconds(milliseconds(30)), 3);
}

TEST(Timing, InstanceUsesItsPriorityAndInterval) {
  Instance i(make_params(100, milliseconds(100)));
  EXPECT_EQ(i.master_adver_interval(), milliseconds(100));
  EXPECT_EQ(i.skew_time(), Duration{60'937});
  EXPECT_EQ(i.master_down_interval(), Duration{360'937});
}

TEST(StateNames, MatchTheStatusContract) {
  EXPECT_STREQ(to_string(State::Initialize), "INIT");
  EXPECT_STREQ(to_string(State::Backup), "BACKUP");
  EXPECT_STREQ(to_string(State::Master), "MASTER");
  EXPECT_STREQ(to_string(State::Fault), "FAULT");
}

// ---- Initialize (§6.4.1) ----

TEST(Initialize, OwnerBecomesMasterAndAdvertisesAtOnce) {
  Clocked c(make_params(kPriorityOwner));
  const Actions a = c.start();
  ASSERT_EQ(a.size(), 2u);
  const auto* send = std::get_if<SendAdvert>(&a[0]);
  ASSERT_NE(send, nullptr) << "the advert goes out before the transition is reported";
  EXPECT_EQ(send->priority, 255);
  EXPECT_EQ(send->max_adver_interval_cs, 100);
  const auto* t = std::get_if<Transition>(&a[1]);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->from, State::Initialize);
  EXPECT_EQ(t->to, State::Master);
  EXPECT_FALSE(t->reason.empty());
  EXPECT_EQ(c.inst().state(), State::Master);
  EXPECT_EQ(c.inst().next_deadline(), Time{seconds(1)});
  EXPECT_EQ(c.inst().master(), kMyAddr);
}

TEST(Initialize, OtherPrioritiesBecomeBackupWithMasterDownTimer) {
  Clocked c(make_params(100));
  c.advance_to(Time{seconds(7)});
  const Actions a = c.start();
  EXPECT_TRUE(only<SendAdvert>(a).empty());
  const auto t = only<Transition>(a);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::Initialize);
  EXPECT_EQ(t[0].to, State::Backup);
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().master_adver_interval(), seconds(1));
  EXPECT_EQ(c.inst().next_deadline(), Time{seconds(7)} + Duration{3'609'375});
  EXPECT_FALSE(c.inst().master().has_value());
}

TEST(Initialize, NoDeadlineAndNoAdvertHandlingBeforeStart) {
  Instance i(make_params());
  EXPECT_EQ(i.state(), State::Initialize);
  EXPECT_FALSE(i.next_deadline().has_value());
  EXPECT_TRUE(i.on_advert(Time{0}, advert_from(kHighAddr, 200)).empty());
  EXPECT_TRUE(i.on_timer(Time{seconds(100)}).empty());
  EXPECT_EQ(i.state(), State::Initialize);
}

// ---- Backup (§6.4.2) ----

TEST(Backup, MasterDownTimerExpiryMakesMasterWithAdvert) {
  Clocked c(make_params(100));
  c.start();
  c.clear();
  c.advance_to(Time{3'609'374});
  EXPECT_EQ(c.inst().state(), State::Backup) << "one microsecond early";
  EXPECT_TRUE(c.log().empty());
  c.advance_to(Time{3'609'375});
  EXPECT_EQ(c.inst().state(), State::Master);
  ASSERT_EQ(c.log().size(), 2u);
  const auto* send = std::get_if<SendAdvert>(&c.log()[0]);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->priority, 100);
  EXPECT_EQ(send->max_adver_interval_cs, 100);
  const auto* t = std::get_if<Transition>(&c.log()[1]);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->from, State::Backup);
  EXPECT_EQ(t->to, State::Master);
  EXPECT_NE(t->reason.find("Master_Down_Interval"), std::string::npos) << t->reason;
  EXPECT_EQ(c.inst().next_deadline(), Time{3'609'375} + seconds(1));
}

TEST(Backup, LateTimerCallActsOnceAndEarlyCallIsHarmless) {
  Instance i(make_params(100));
  (void)i.start(Time{0}, false);
  EXPECT_TRUE(i.on_timer(Time{1'000'000}).empty());
  EXPECT_EQ(i.state(), State::Backup);
  // 2.4s after the deadline (less than a Master_Down_Interval: a slow loop, not a stalled
  // one, see the Stall tests).
  const Actions late = i.on_timer(Time{seconds(6)});
  EXPECT_EQ(only<Transition>(late).size(), 1u);
  EXPECT_EQ(only<SendAdvert>(late).size(), 1u);
  EXPECT_EQ(i.state(), State::Master);
  // The Adver_Timer is measured from when we acted, not from the missed deadline.
  EXPECT_EQ(i.next_deadline(), Time{seconds(7)});
}

TEST(Backup, HigherPriorityAdvertResetsMasterDownTimer) {
  Clocked c(make_params(100));
  c.start();
  c.advance_to(Time{seconds(3)});
  const Actions a = c.advert(advert_from(kHighAddr, 150));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(c.inst().next_deadline(), Time{seconds(3)} + Duration{3'609'375});
  EXPECT_EQ(c.inst().master(), kHighAddr);
  // Adverts every second keep it BACKUP for a long time.
  for (int s = 4; s < 60; ++s) {
    c.advance_to(Time{seconds(s)});
    c.advert(advert_from(kHighAddr, 150));
  }
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_TRUE(only<Transition>(c.log()).size() == 1u);  // only Initialize -> Backup
}

TEST(Backup, EqualPriorityAdvertIsAcceptedWhateverTheAddress) {
  Clocked c(make_params(100));
  c.start();
  c.advance_to(Time{seconds(2)});
  c.advert(advert_from(kLowAddr, 100));
  EXPECT_EQ(c.inst().next_deadline(), Time{seconds(2)} + Duration{3'609'375});
  EXPECT_EQ(c.inst().master(), kLowAddr);
}

TEST(Backup, AdoptsMasterAdverIntervalFromTheAdvert) {
  Clocked c(make_params(100, seconds(1)));
  c.start();
  c.advance_to(Time{seconds(1)});
  c.advert(advert_from(kHighAddr, 200, 200));  // the master advertises every 2 s
  EXPECT_EQ(c.inst().master_adver_interval(), seconds(2));
  EXPECT_EQ(c.inst().skew_time(), Duration{1'218'750});
  EXPECT_EQ(c.inst().master_down_interval(), Duration{7'218'750});
  EXPECT_EQ(c.inst().next_deadline(), Time{seconds(1)} + Duration{7'218'750});
  // With our own 1 s interval we would have taken over at 4.6 s; with the learned 2 s we wait.
  c.advance_to(Time{seconds(5)});
  EXPECT_EQ(c.inst().state(), State::Backup);
  c.advance_to(Time{seconds(1)} + Duration{7'218'750});
  EXPECT_EQ(c.inst().state(), State::Master);
  // As MASTER we advertise our own configured interval, not the learned one.
  EXPECT_EQ(only<SendAdvert>(c.log()).back().max_adver_interval_cs, 100);
}

TEST(Backup, PriorityZeroSetsTimerToSkewTime) {
  Clocked c(make_params(100));
  c.start();
  c.advance_to(Time{seconds(1)});
  c.advert(advert_from(kHighAddr, 200));
  c.advance_to(Time{seconds(2)});
  c.clear();
  EXPECT_TRUE(c.advert(advert_from(kHighAddr, kPriorityResign)).empty());
  EXPECT_EQ(c.inst().next_deadline(), Time{seconds(2)} + Duration{609'375});
  c.advance_to(Time{seconds(2)} + Duration{609'375});
  EXPECT_EQ(c.inst().state(), State::Master);
  const auto sends = only<SendAdvert>(c.log());
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].priority, 100);
  const auto t = only<Transition>(c.log());
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].to, State::Master);
  EXPECT_NE(t[0].reason.find("Skew_Time"), std::string::npos) << t[0].reason;
}

TEST(Backup, PriorityZeroSkewUsesTheLearnedInterval) {
  Clocked c(make_params(100, milliseconds(100)));
  c.start();
  c.advert(advert_from(kHighAddr, 200, 100));  // master at 1 s
  c.advance_to(Time{milliseconds(500)});
  c.advert(advert_from(kHighAddr, kPriorityResign, 100));
  EXPECT_EQ(c.inst().next_deadline(), Time{milliseconds(500)} + Duration{609'375});
}

TEST(Backup, WithPreemptLowerPriorityIsDiscardedAndWeTakeOver) {
  Clocked c(make_params(100));
  c.start();
  for (int s = 1; s <= 3; ++s) {
    c.advance_to(Time{seconds(s)});
    EXPECT_TRUE(c.advert(advert_from(kHighAddr, 50)).empty());
    EXPECT_EQ(c.inst().next_deadline(), Time{3'609'375}) << "a discarded advert moved the timer";
  }
  EXPECT_FALSE(c.inst().master().has_value());
  c.advance_to(Time{3'609'375});
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(Backup, WithoutPreemptLowerPriorityIsAccepted) {
  Params p = make_params(100);
  p.preempt = false;
  Clocked c(p);
  c.start();
  for (int s = 1; s <= 30; ++s) {
    c.advance_to(Time{seconds(s)});
    c.advert(advert_from(kLowAddr, 50));
  }
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().master(), kLowAddr);
  EXPECT_EQ(c.inst().next_deadline(), Time{seconds(30)} + Duration{3'609'375});
}

TEST(Backup, PreemptDelayAcceptsLowerPriorityUntilItEnds) {
  Params p = make_params(100);
  p.preempt_delay = seconds(5);
  Clocked c(p);
  c.advance_to(Time{seconds(10)});
  c.start();  // preemption allowed from 15 s
  for (int s = 11; s <= 30; ++s) {
    c.advance_to(Time{seconds(s)});
    if (c.inst().state() != State::Backup) break;
    c.advert(advert_from(kLowAddr, 50));
    if (s < 15) {
      EXPECT_EQ(c.inst().next_deadline(), Time{seconds(s)} + Duration{3'609'375});
    }
  }
  // The last accepted advert came at 14 s; the ones from 15 s on are discarded.
  EXPECT_EQ(c.inst().state(), State::Master);
  const auto t = only<Transition>(c.log());
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1].to, State::Master);
  // It became master exactly at 14 s + Master_Down_Interval.
  Clocked again(p);
  again.advance_to(Time{seconds(10)});
  again.start();
  for (int s = 11; s <= 17; ++s) {
    again.advance_to(Time{seconds(s)});
    again.advert(advert_from(kLowAddr, 50));
  }
  EXPECT_EQ(again.inst().next_deadline(), Time{seconds(14)} + Duration{3'609'375});
}

TEST(Backup, ShutdownGoesToInitializeWithoutDeadlineOrAdvert) {
  Clocked c(make_params(100));
  c.start();
  c.advance_to(Time{seconds(1)});
  c.clear();
  const Actions a = c.shutdown();
  EXPECT_TRUE(only<SendAdvert>(a).empty());
  const auto t = only<Transition>(a);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::Backup);
  EXPECT_EQ(t[0].to, State::Initialize);
  EXPECT_FALSE(c.inst().next_deadline().has_value());
  EXPECT_TRUE(c.advert(advert_from(kLowAddr, 50)).empty());
  c.advance_to(Time{seconds(100)});
  EXPECT_EQ(c.inst().state(), State::Initialize);
}

// ---- Master (§6.4.3) ----

TEST(Master, AdverTimerSendsPeriodicAdvertsWithEffectivePriorityAndConfiguredInterval) {
  Clocked c = make_master(make_params(100, milliseconds(100)));
  const Time became = c.now();
  c.advance(milliseconds(1000));
  const auto sends = only<SendAdvert>(c.log());
  EXPECT_EQ(sends.size(), 10u);
  for (const auto& s : sends) {
    EXPECT_EQ(s.priority, 100);
    EXPECT_EQ(s.max_adver_interval_cs, 10);
  }
  EXPECT_EQ(c.inst().next_deadline(), became + milliseconds(1100));
  c.clear();
  c.delta(20);
  c.advance(milliseconds(100));
  const auto after = only<SendAdvert>(c.log());
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].priority, 120);
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(Master, HigherPriorityMakesBackup) {
  Clocked c = make_master();
  c.advance(milliseconds(300));
  const Actions a = c.advert(advert_from(kLowAddr, 101, 200));
  EXPECT_TRUE(only<SendAdvert>(a).empty());
  const auto t = only<Transition>(a);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::Master);
  EXPECT_EQ(t[0].to, State::Backup);
  EXPECT_NE(t[0].reason.find("higher priority"), std::string::npos) << t[0].reason;
  EXPECT_EQ(c.inst().master(), kLowAddr);
  // RFC 9568: Master_Adver_Interval is taken from the advert that made us step down.
  EXPECT_EQ(c.inst().master_adver_interval(), seconds(2));
  EXPECT_EQ(c.inst().next_deadline(), c.now() + Duration{7'218'750});
}

TEST(Master, EqualPriorityAndHigherAddressMakesBackup) {
  Clocked c = make_master();
  const auto t = only<Transition>(c.advert(advert_from(kHighAddr, 100)));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].to, State::Backup);
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), c.now() + Duration{3'609'375});
}

TEST(Master, EqualPriorityAndLowerAddressStaysMasterAndAsserts) {
  Clocked c = make_master();
  c.advance(milliseconds(400));
  const Actions a = c.advert(advert_from(kLowAddr, 100));
  EXPECT_EQ(c.inst().state(), State::Master);
  EXPECT_TRUE(only<Transition>(a).empty());
  const auto sends = only<SendAdvert>(a);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].priority, 100);
  const auto lower = only<LowerPriorityAdvert>(a);
  ASSERT_EQ(lower.size(), 1u);
  EXPECT_EQ(lower[0].source, kLowAddr);
  EXPECT_EQ(lower[0].priority, 100);
  EXPECT_EQ(c.inst().next_deadline(), c.now() + seconds(1));
}

TEST(Master, LowerPriorityStaysMasterSendsAdvertAtOnce) {
  Clocked c = make_master();
  c.advance(milliseconds(250));
  const Actions a = c.advert(advert_from(kHighAddr, 99));
  EXPECT_EQ(c.inst().state(), State::Master);
  ASSERT_EQ(only<SendAdvert>(a).size(), 1u);
  EXPECT_EQ(only<SendAdvert>(a)[0].priority, 100);
  ASSERT_EQ(only<LowerPriorityAdvert>(a).size(), 1u);
  EXPECT_EQ(only<LowerPriorityAdvert>(a)[0].source, kHighAddr);
  EXPECT_EQ(only<LowerPriorityAdvert>(a)[0].priority, 99);
  EXPECT_EQ(c.inst().master(), kMyAddr);
}

TEST(Master, PriorityZeroReceivedSendsAdvertAtOnce) {
  Clocked c = make_master();
  c.advance(milliseconds(700));
  const Actions a = c.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(c.inst().state(), State::Master);
  ASSERT_EQ(only<SendAdvert>(a).size(), 1u);
  EXPECT_EQ(only<SendAdvert>(a)[0].priority, 100);
  EXPECT_TRUE(only<LowerPriorityAdvert>(a).empty());
  EXPECT_EQ(c.inst().next_deadline(), c.now() + seconds(1));
}

TEST(Master, ShutdownSendsPriorityZeroAndGoesToInitialize) {
  Clocked c = make_master(make_params(100, milliseconds(30)));
  const Actions a = c.shutdown();
  ASSERT_EQ(a.size(), 2u);
  const auto* send = std::get_if<SendAdvert>(&a[0]);
  ASSERT_NE(send, nullptr);
  EXPECT_EQ(send->priority, kPriorityResign);
  EXPECT_EQ(send->max_adver_interval_cs, 3);
  const auto* t = std::get_if<Transition>(&a[1]);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->from, State::Master);
  EXPECT_EQ(t->to, State::Initialize);
  EXPECT_FALSE(c.inst().next_deadline().has_value());
  c.clear();
  c.advance(seconds(10));
  EXPECT_TRUE(c.log().empty()) << "no adverts after shutdown";
  // Shutdown is idempotent.
  EXPECT_TRUE(c.shutdown().empty());
}

TEST(Master, OwnerIsNeverDisplacedByLowerAdverts) {
  Clocked c(make_params(kPriorityOwner));
  c.start();
  c.advert(advert_from(kHighAddr, 254));
  EXPECT_EQ(c.inst().state(), State::Master);
}

// ---- Fault ----

TEST(Fault, StartFaultedNeverBecomesMaster) {
  for (std::uint8_t prio : {std::uint8_t{100}, kPriorityOwner}) {
    Clocked c(make_params(prio));
    const Actions a = c.start(true);
    EXPECT_TRUE(only<SendAdvert>(a).empty());
    const auto t = only<Transition>(a);
    ASSERT_EQ(t.size(), 1u);
    EXPECT_EQ(t[0].to, State::Fault);
    EXPECT_NE(t[0].reason.find("link down"), std::string::npos) << t[0].reason;
    EXPECT_FALSE(c.inst().next_deadline().has_value());
    c.advert(advert_from(kHighAddr, kPriorityResign));
    c.advert(advert_from(kLowAddr, 1));
    c.advance(seconds(60));
    EXPECT_EQ(c.inst().state(), State::Fault);
    EXPECT_TRUE(only<SendAdvert>(c.log()).empty());
  }
}

TEST(Fault, MasterResignsWithPriorityZeroThenFaults) {
  Clocked c = make_master();
  const Actions a = c.fault(true);
  ASSERT_EQ(a.size(), 2u);
  const auto* send = std::get_if<SendAdvert>(&a[0]);
  ASSERT_NE(send, nullptr) << "priority 0 must go out before FAULT";
  EXPECT_EQ(send->priority, kPriorityResign);
  const auto* t = std::get_if<Transition>(&a[1]);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->from, State::Master);
  EXPECT_EQ(t->to, State::Fault);
  EXPECT_FALSE(c.inst().next_deadline().has_value());
}

TEST(Fault, BackupFaultsSilently) {
  Clocked c(make_params());
  c.start();
  const Actions a = c.fault(true);
  EXPECT_TRUE(only<SendAdvert>(a).empty());
  EXPECT_EQ(c.inst().state(), State::Fault);
  EXPECT_FALSE(c.inst().next_deadline().has_value());
  EXPECT_TRUE(c.fault(true).empty()) << "a second fault report changes nothing";
}

TEST(Fault, ClearedGoesToBackupWithFreshMasterDownTimer) {
  Clocked c(make_params());
  c.start(true);
  c.advance_to(Time{seconds(20)});
  const Actions a = c.fault(false);
  const auto t = only<Transition>(a);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].from, State::Fault);
  EXPECT_EQ(t[0].to, State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), Time{seconds(20)} + Duration{3'609'375});
  c.advance_to(Time{seconds(20)} + Duration{3'609'375});
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(Fault, ClearingWhenNotFaultedChangesNothing) {
  Clocked c(make_params());
  c.start();
  EXPECT_TRUE(c.fault(false).empty());
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), Time{3'609'375});
}

// ---- priority adjustments ----

TEST(Priority, DeltaIsClampedToOneThrough254) {
  Instance i(make_params(100));
  (void)i.set_priority_delta(Time{0}, 30);
  EXPECT_EQ(i.effective_priority(), 130);
  (void)i.set_priority_delta(Time{0}, 500);
  EXPECT_EQ(i.effective_priority(), 254);
  (void)i.set_priority_delta(Time{0}, -99);
  EXPECT_EQ(i.effective_priority(), 1);
  (void)i.set_priority_delta(Time{0}, -1000);
  EXPECT_EQ(i.effective_priority(), 1);
  EXPECT_EQ(i.params().priority, 100) << "the configured priority is kept";
}

TEST(Priority, OwnerIsNeverAdjusted) {
  Instance i(make_params(kPriorityOwner));
  (void)i.set_priority_delta(Time{0}, -50);
  EXPECT_EQ(i.effective_priority(), 255);
  (void)i.set_priority_delta(Time{0}, 50);
  EXPECT_EQ(i.effective_priority(), 255);
}

TEST(Priority, SkewAndComparisonsUseTheEffectivePriority) {
  Clocked c(make_params(100));
  c.delta(20);  // 120
  c.start();
  EXPECT_EQ(c.inst().skew_time(), Duration{(256 - 120) * 1'000'000 / 256});
  c.advance_to(Time{seconds(1)});
  c.advert(advert_from(kHighAddr, 110));  // lower than 120: discarded (preempt)
  EXPECT_FALSE(c.inst().master().has_value());
  c.delta(0);  // the delta is the current sum, not an increment: back to 100
  c.advert(advert_from(kHighAddr, 110));
  EXPECT_EQ(c.inst().master(), kHighAddr);
  EXPECT_EQ(c.inst().next_deadline(), Time{seconds(1)} + Duration{3'609'375});
}

TEST(Priority, MasterComparesAgainstEffectivePriority) {
  Clocked c = make_master(make_params(100));
  c.delta(-10);  // the current sum of weights: 90
  c.advert(advert_from(kLowAddr, 95));
  EXPECT_EQ(c.inst().state(), State::Backup);
}


// ---- our own adverts, reconfiguration ----

TEST(OwnAdvert, AMasterIgnoresItsOwnLoopedBackAdvert) {
  Clocked c = make_master();
  c.advance(milliseconds(300));
  const Actions a = c.advert(advert_from(kMyAddr, 100));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(Reconfigure, MasterAnnouncesTheNewPriorityAtOnce) {
  Clocked c = make_master();
  c.advance(milliseconds(300));
  Params p = make_params(120, milliseconds(500));
  const Actions a = c.keep(c.inst().reconfigure(c.now(), p));
  const auto sends = only<SendAdvert>(a);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].priority, 120);
  EXPECT_EQ(sends[0].max_adver_interval_cs, 50);
  EXPECT_EQ(c.inst().state(), State::Master);
  EXPECT_EQ(c.inst().next_deadline(), c.now() + milliseconds(500));
}

TEST(Reconfigure, BackupKeepsItsStateAndUsesTheNewPriorityForPreemption) {
  Clocked c(make_params(100));
  c.start();
  c.advert(advert_from(kHighAddr, 110));
  const Actions a = c.keep(c.inst().reconfigure(c.now(), make_params(200)));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(c.inst().state(), State::Backup);
  // The 110 master now ranks below us: its adverts are discarded and we take over.
  c.advance(milliseconds(900));
  c.advert(advert_from(kHighAddr, 110));
  c.advance(c.inst().master_down_interval());
  EXPECT_EQ(c.inst().state(), State::Master);
}


// ---- operator controls: failover (resign) and maintenance ----

TEST(Resign, MasterSendsPriorityZeroAndBecomesBackup) {
  Clocked c = make_master();
  auto a = c.inst().resign(c.now(), seconds(60));
  ASSERT_TRUE(a);
  c.keep(*a);
  const auto sends = only<SendAdvert>(*a);
  ASSERT_EQ(sends.size(), 1u);
  EXPECT_EQ(sends[0].priority, kPriorityResign);
  EXPECT_EQ(c.inst().state(), State::Backup);
  ASSERT_EQ(only<Transition>(*a).size(), 1u);
  EXPECT_EQ(only<Transition>(*a)[0].reason, "resigned by the operator (failover)");
}

TEST(Resign, RefusedWhenNotMaster) {
  Clocked c(make_params());
  c.start();
  EXPECT_FALSE(c.inst().resign(c.now(), seconds(60)));
  EXPECT_EQ(c.inst().state(), State::Backup);
}

TEST(Resign, DoesNotPreemptTheLowerPriorityPeerDuringTheHold) {
  Clocked c = make_master(make_params(150));
  c.keep(*c.inst().resign(c.now(), seconds(60)));
  // The lower-priority peer takes over and advertises; we stay BACKUP for the hold.
  for (int i = 0; i < 50; ++i) {
    c.advance(seconds(1));
    c.advert(advert_from(kLowAddr, 100));
  }
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().master(), kLowAddr);
  // After the hold, preemption applies again.
  c.advance(seconds(11));
  c.advert(advert_from(kLowAddr, 100));
  c.advance(c.inst().master_down_interval());
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(Resign, TakesTheAddressBackOneWindowAfterWhenNobodyTakesOver) {
  Clocked c = make_master();  // advert interval 1s
  EXPECT_EQ(c.inst().failover_window(), milliseconds(1250));
  c.keep(*c.inst().resign(c.now(), seconds(60)));
  c.clear();
  c.advance(milliseconds(1249));
  EXPECT_EQ(c.inst().state(), State::Backup);
  c.advance(milliseconds(1));
  EXPECT_EQ(c.inst().state(), State::Master);
  const auto t = only<Transition>(c.log());
  ASSERT_FALSE(t.empty());
  EXPECT_EQ(t.back().reason, "failover: no peer took over within 1.250s; took the address back");
}

TEST(Resign, APeerThatTakesOverWithinTheWindowKeepsIt) {
  Clocked c = make_master(make_params(150));
  c.keep(*c.inst().resign(c.now(), seconds(60)));
  // The peer (priority 100) waited its Skew_Time, 609 ms, and advertises as MASTER.
  c.advance(milliseconds(610));
  for (int i = 0; i < 55; ++i) {  // it keeps advertising, through the window and the hold
    c.advert(advert_from(kLowAddr, 100));
    c.advance(seconds(1));
  }
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().master(), kLowAddr);
}

TEST(Resign, TheWindowHasAFloorForShortIntervals) {
  auto p = make_params();
  p.advert_interval = milliseconds(50);
  Clocked c = make_master(p);
  EXPECT_EQ(c.inst().failover_window(), milliseconds(70));
}

TEST(Maintenance, MasterResignsAndNeverComesBack) {
  Clocked c = make_master();
  const Actions a = c.keep(c.inst().set_maintenance(c.now(), true));
  ASSERT_EQ(only<SendAdvert>(a).size(), 1u);
  EXPECT_EQ(only<SendAdvert>(a)[0].priority, kPriorityResign);
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), std::nullopt);
  c.advance(seconds(60));  // no master anywhere: still BACKUP
  EXPECT_EQ(c.inst().state(), State::Backup);
  c.advert(advert_from(kLowAddr, 1));
  c.advance(seconds(60));
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().master(), kLowAddr);
}

TEST(Maintenance, OffRejoinsAsAFreshBackup) {
  Clocked c(make_params());
  c.keep(c.inst().set_maintenance(c.now(), true));
  c.start();
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), std::nullopt);
  c.keep(c.inst().set_maintenance(c.now(), false));
  EXPECT_EQ(c.inst().next_deadline(), c.now() + c.inst().master_down_interval());
  c.advance(c.inst().master_down_interval());
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(Maintenance, AnOwnerInMaintenanceStartsAsBackup) {
  Clocked c(make_params(kPriorityOwner));
  c.keep(c.inst().set_maintenance(c.now(), true));
  c.start();
  EXPECT_EQ(c.inst().state(), State::Backup);
}


// ---- instant handover with one peer (a deliberate deviation from §6.4.2) ----

Params one_peer_params(std::uint8_t priority = 100, Duration interval = seconds(1)) {
  Params p = make_params(priority, interval);
  p.peers = {kHighAddr};
  return p;
}

// A BACKUP that follows kHighAddr (priority 200) as its master, one second after start.
Clocked following_high(Params p) {
  Clocked c(std::move(p));
  c.start();
  c.advance_to(Time{seconds(1)});
  c.advert(advert_from(kHighAddr, 200));
  c.clear();
  return c;
}

TEST(InstantHandover, OnePeerResigningMakesUsMasterAtOnce) {
  Clocked c = following_high(one_peer_params());
  ASSERT_EQ(c.inst().instant_handover_peer(), kHighAddr);
  const Actions a = c.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(c.inst().state(), State::Master);
  const auto sends = only<SendAdvert>(a);
  ASSERT_EQ(sends.size(), 1u) << "a new MASTER advertises at once";
  EXPECT_EQ(sends[0].priority, 100);
  ASSERT_EQ(only<Transition>(a).size(), 1u);
  EXPECT_EQ(only<Transition>(a)[0].reason,
            "master 10.0.0.3 resigned (priority 0); took over at once (one peer: no other "
            "backup to wait for)");
  EXPECT_EQ(c.inst().next_deadline(), c.now() + seconds(1)) << "the next advert, as MASTER";
}

TEST(InstantHandover, OurOwnAddressInTheSharedPeerListIsNotCounted) {
  Params p = one_peer_params();
  p.peers = {kMyAddr, kHighAddr};  // both hosts carry the same list
  Clocked c = following_high(p);
  EXPECT_EQ(c.inst().instant_handover_peer(), kHighAddr);
  c.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(c.inst().state(), State::Master);
}

// The cases where Skew_Time orders several possible backups, or the operator asked for the
// RFC behaviour: the timer is set to Skew_Time exactly as in Backup.PriorityZeroSetsTimerToSkewTime.
void expect_skew_time_wait(Params p) {
  Clocked c = following_high(std::move(p));
  EXPECT_TRUE(c.advert(advert_from(kHighAddr, kPriorityResign)).empty());
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), c.now() + Duration{609'375});
  c.advance(Duration{609'374});
  EXPECT_EQ(c.inst().state(), State::Backup);
  c.advance(Duration{1});
  EXPECT_EQ(c.inst().state(), State::Master);
  const auto t = only<Transition>(c.log());
  ASSERT_EQ(t.size(), 1u);
  EXPECT_NE(t[0].reason.find("took over after Skew_Time"), std::string::npos) << t[0].reason;
}

TEST(InstantHandover, MulticastWaitsSkewTime) {
  Params p = make_params();  // no peers: multicast
  EXPECT_EQ(Instance(p).instant_handover_peer(), std::nullopt);
  expect_skew_time_wait(p);
}

TEST(InstantHandover, SeveralPeersWaitSkewTime) {
  Params p = one_peer_params();
  p.peers = {kLowAddr, kMyAddr, kHighAddr};  // two others besides us
  EXPECT_EQ(Instance(p).instant_handover_peer(), std::nullopt);
  expect_skew_time_wait(p);
}

TEST(InstantHandover, TurnedOffWaitsSkewTime) {
  Params p = one_peer_params();
  p.instant_handover = false;
  EXPECT_EQ(Instance(p).instant_handover_peer(), std::nullopt);
  expect_skew_time_wait(p);
}

TEST(InstantHandover, PriorityZeroFromAnotherSourceWaitsSkewTime) {
  // §6.4.2 sets Skew_Time on priority 0 from any accepted source; the instant path is for our
  // one peer only (its transport drops other sources already; core does not rely on it).
  Clocked c = following_high(one_peer_params());
  EXPECT_TRUE(c.advert(advert_from(kLowAddr, kPriorityResign)).empty());
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), c.now() + Duration{609'375});
}

TEST(InstantHandover, PeerResigningBeforeWeHeardItAsMasterStillHandsOver) {
  // Just started, no master heard yet: the one peer is the only node that can have been
  // MASTER, and nobody else can take over.
  Clocked c(one_peer_params());
  c.start();
  c.advance(milliseconds(300));
  ASSERT_EQ(c.inst().master(), std::nullopt);
  c.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(InstantHandover, WithoutPreemptAResignationStillHandsOverAtOnce) {
  // §6.4.2's priority-0 branch does not look at Preempt_Mode; neither does the instant path.
  Params p = one_peer_params();
  p.preempt = false;
  Clocked c = following_high(p);
  c.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(InstantHandover, PreemptRulesForLowerPriorityAdvertsAreUnchanged) {
  // A lower-priority master is still discarded (we take over after Master_Down_Interval),
  // not taken over from at once.
  Clocked c(one_peer_params(100));
  c.start();
  c.advance_to(Time{seconds(1)});
  EXPECT_TRUE(c.advert(advert_from(kHighAddr, 50)).empty());
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), Time{3'609'375});
  // And without preempt it is followed as master, as before.
  Params p = one_peer_params(100);
  p.preempt = false;
  Clocked d(p);
  d.start();
  d.advance_to(Time{seconds(1)});
  d.advert(advert_from(kHighAddr, 50));
  EXPECT_EQ(d.inst().master(), kHighAddr);
  EXPECT_EQ(d.inst().next_deadline(), Time{seconds(1)} + Duration{3'609'375});
}

TEST(InstantHandover, MaintenanceAndFaultStayOutOfTheElection) {
  Clocked c = following_high(one_peer_params());
  c.keep(c.inst().set_maintenance(c.now(), true));
  c.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), std::nullopt);

  Clocked f = following_high(one_peer_params());
  f.fault(true);
  f.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(f.inst().state(), State::Fault);
}

TEST(InstantHandover, AMasterHearingPriorityZeroAssertsItselfAsBefore) {
  // §6.4.3 unchanged: send an advert at once, stay MASTER.
  Clocked c = make_master(one_peer_params());
  const Actions a = c.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(c.inst().state(), State::Master);
  ASSERT_EQ(only<SendAdvert>(a).size(), 1u);
  EXPECT_EQ(only<SendAdvert>(a)[0].priority, 100);
  EXPECT_TRUE(only<Transition>(a).empty());
}

TEST(InstantHandover, ReconfigureTurnsItOffAndOn) {
  Clocked c = following_high(one_peer_params());
  Params off = one_peer_params();
  off.instant_handover = false;
  c.keep(c.inst().reconfigure(c.now(), off));
  c.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), c.now() + Duration{609'375});

  Clocked d = following_high(off);
  d.keep(d.inst().reconfigure(d.now(), one_peer_params()));
  d.advert(advert_from(kHighAddr, kPriorityResign));
  EXPECT_EQ(d.inst().state(), State::Master);
}

TEST(InstantHandover, AResignedNodeKeepsThePeerThatTookOverAtOnce) {
  // The other side of `failoverctl failover`: our resignation, the peer's advert about one
  // round trip later; the hold keeps us BACKUP and the window does not take the address back.
  Clocked c = make_master(one_peer_params(150));
  c.keep(*c.inst().resign(c.now(), seconds(60)));
  c.advance(milliseconds(1));
  for (int i = 0; i < 5; ++i) {
    c.advert(advert_from(kHighAddr, 100));
    c.advance(seconds(1));
  }
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().master(), kHighAddr);
}

TEST(Master, AdvertCadenceDoesNotDriftWhenTheTimerFiresLate) {
  Clocked c = make_master();
  const Time first = *c.inst().next_deadline();
  // The loop wakes 3ms late: the next advert is still due one interval after the deadline.
  c.keep(c.inst().on_timer(first + milliseconds(3)));
  EXPECT_EQ(c.inst().next_deadline(), first + seconds(1));
  // After a stall longer than an interval, the cadence restarts from now.
  const Time late = first + milliseconds(2500);
  c.keep(c.inst().on_timer(late));
  EXPECT_EQ(c.inst().next_deadline(), late + seconds(1));
}

// ---- a stalled loop (a paused VM or SIGSTOP must not cause a second failover) ----

TEST(Stall, AMasterReplacedWhileAsleepRejoinsAsBackupInsteadOfPreempting) {
  Params p = make_params(150);
  p.preempt_delay = seconds(30);
  Clocked c = make_master(p);
  const Time due = *c.inst().next_deadline();
  // Asleep from just after its last advert until well past the peer's Master_Down_Interval:
  // the peer has taken over. Waking, the timer fires first: the MASTER must not preempt it
  // back with an advert before it has read what waits in its socket.
  const Time wake = due + seconds(4);
  const Actions woke = c.keep(c.inst().on_timer(wake));
  EXPECT_TRUE(woke.empty()) << "no advert at once after a stall";
  ASSERT_TRUE(c.inst().next_deadline());
  EXPECT_LE(*c.inst().next_deadline() - wake, milliseconds(20)) << "only a short grace";
  // The new master's advert, waiting in the socket.
  const Actions a = c.keep(c.inst().on_advert(wake + milliseconds(1), advert_from(kLowAddr, 100)));
  ASSERT_EQ(only<Transition>(a).size(), 1u);
  EXPECT_EQ(only<Transition>(a)[0].from, State::Master);
  EXPECT_EQ(only<Transition>(a)[0].to, State::Backup);
  EXPECT_NE(only<Transition>(a)[0].reason.find("stalled"), std::string::npos)
      << only<Transition>(a)[0].reason;
  EXPECT_TRUE(only<SendAdvert>(a).empty()) << "neither an advert nor a resignation";
  EXPECT_EQ(c.inst().master(), kLowAddr);
  // It follows the new master at a lower priority: preempt_delay holds it back, as after a
  // restart.
  c.advance_to(wake + milliseconds(100));
  for (int i = 0; i < 20; ++i) {
    c.advert(advert_from(kLowAddr, 100));
    c.advance(seconds(1));
  }
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().master(), kLowAddr);
  // Once preempt_delay has passed it preempts, as a restarted node would.
  c.advance(seconds(15));
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(Stall, AMasterWhosePeerSleptTooCarriesOnAfterTheGrace) {
  // The whole host (or both VMs) paused: nobody took over, nothing waits in the socket.
  Clocked c = make_master(make_params(150));
  const Time due = *c.inst().next_deadline();
  const Time wake = due + seconds(4);
  c.keep(c.inst().on_timer(wake));
  c.advance_to(wake + milliseconds(25));
  EXPECT_EQ(c.inst().state(), State::Master);
  EXPECT_TRUE(only<Transition>(c.log()).empty());
  EXPECT_EQ(only<SendAdvert>(c.log()).size(), 1u) << "advertises once the grace is over";
  // And from then on, a lower-priority advert is answered as usual (RFC 5798 §6.4.3).
  const Actions a = c.advert(advert_from(kLowAddr, 100));
  EXPECT_TRUE(only<Transition>(a).empty());
  EXPECT_EQ(only<LowerPriorityAdvert>(a).size(), 1u);
}

TEST(Stall, AMasterWokenByAnAdvertRejoinsBeforeAnsweringIt) {
  Params p = make_params(150);
  p.preempt_delay = seconds(30);
  Clocked c = make_master(p);
  const Time due = *c.inst().next_deadline();
  // The socket is read before the timer on waking: the new master's advert comes first.
  const Actions a = c.keep(c.inst().on_advert(due + seconds(5), advert_from(kLowAddr, 100)));
  EXPECT_TRUE(only<SendAdvert>(a).empty()) << "no advert asserting ourselves over the new master";
  ASSERT_EQ(only<Transition>(a).size(), 1u);
  EXPECT_EQ(only<Transition>(a)[0].to, State::Backup);
  EXPECT_TRUE(only<LowerPriorityAdvert>(a).empty());
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().master(), kLowAddr);
}

TEST(Stall, AMasterLateByLessThanMasterDownIntervalStaysMaster) {
  Clocked c = make_master(make_params(150));
  const Time due = *c.inst().next_deadline();
  // Silent for a millisecond less than its Master_Down_Interval: the peer has not given up on
  // it yet.
  const Duration down = c.inst().master_down_interval();
  const Actions a = c.keep(c.inst().on_timer(due + down - seconds(1) - milliseconds(1)));
  EXPECT_TRUE(only<Transition>(a).empty());
  EXPECT_EQ(only<SendAdvert>(a).size(), 1u);
  EXPECT_EQ(c.inst().state(), State::Master);
}

TEST(Stall, ABackupWhoseTimerRanOutWhileAsleepWaitsForTheAdvertsInItsSocket) {
  Clocked c(make_params(100));
  c.start();
  c.advert(advert_from(kHighAddr, 200));
  const Time due = *c.inst().next_deadline();
  const Duration down = c.inst().master_down_interval();
  // Asleep through its Master_Down_Timer and another Master_Down_Interval: the timer fires
  // first on waking, while the live master's adverts wait in the socket.
  const Time wake = due + down + milliseconds(1);
  const Actions a = c.keep(c.inst().on_timer(wake));
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().next_deadline(), wake + down) << "waits one Master_Down_Interval anew";
  c.keep(c.inst().on_advert(wake + milliseconds(1), advert_from(kHighAddr, 200)));
  EXPECT_EQ(c.inst().state(), State::Backup);
  EXPECT_EQ(c.inst().master(), kHighAddr);
}

TEST(Stall, ABackupWhoseTimerRanOutALittleLateTakesOver) {
  // The master died; the loop was merely slow to fire the timer: the ordinary takeover.
  Clocked c(make_params(100));
  c.start();
  c.advert(advert_from(kHighAddr, 200));
  const Time due = *c.inst().next_deadline();
  const Actions a = c.keep(c.inst().on_timer(due + milliseconds(500)));
  ASSERT_EQ(only<Transition>(a).size(), 1u);
  EXPECT_EQ(only<Transition>(a)[0].to, State::Master);
}

// ---- restart in place: snapshot and restore ----

TEST(InstanceRestore, ASnapshotRestoredIntoAFreshInstanceResumesWithoutATransition) {
  Clocked a = make_master();
  a.advance(milliseconds(400));
  a.advert(advert_from(kLowAddr, 50));  // something to carry: a lower-priority master heard
  a.clear();
  const InstanceSnapshot s = a.inst().snapshot();
  Instance b(make_params());
  const Actions actions = b.restore(a.now(), s);
  ASSERT_EQ(actions.size(), 1U);
  ASSERT_TRUE(std::holds_alternative<SendAdvert>(actions[0]));
  EXPECT_EQ(std::get<SendAdvert>(actions[0]).priority, 100);
  EXPECT_EQ(b.state(), State::Master);
  EXPECT_EQ(b.next_deadline(), std::optional<Time>(a.now() + seconds(1)));
  InstanceSnapshot again = b.snapshot();
  again.adver_timer = s.adver_timer;
  EXPECT_EQ(again, s);

  // A BACKUP's timer runs on unchanged, and it stays silent.
  Clocked c(make_params());
  c.start();
  c.advance(milliseconds(500));
  c.advert(advert_from(kHighAddr, 200));
  const InstanceSnapshot sb = c.inst().snapshot();
  Instance d(make_params());
  EXPECT_TRUE(d.restore(c.now(), sb).empty());
  EXPECT_EQ(d.state(), State::Backup);
  EXPECT_EQ(d.next_deadline(), c.inst().next_deadline());
  EXPECT_EQ(d.master(), std::optional<Ipv4>(kHighAddr));
}

TEST(InstanceRestore, ABackupRestoredLongAfterItsDeadlineWaitsAfreshInsteadOfTakingOver) {
  Clocked c(make_params());
  c.start();
  c.advert(advert_from(kHighAddr, 200));
  const InstanceSnapshot s = c.inst().snapshot();
  Instance d(make_params());
  const Time late = c.now() + seconds(60);
  EXPECT_TRUE(d.restore(late, s).empty());
  EXPECT_EQ(d.state(), State::Backup);
  ASSERT_TRUE(d.next_deadline());
  EXPECT_EQ(*d.next_deadline(), late + d.master_down_interval());
}

}  // namespace
}  // namespace failoverd::core
