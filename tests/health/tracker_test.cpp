#include "failoverd/health/tracker.h"

#include <gtest/gtest.h>

namespace failoverd::health {
namespace {

using std::chrono::seconds;
using TimePoint = Tracker::TimePoint;

config::CheckConfig check(std::string name, int rise, int fall, int weight) {
  config::CheckConfig c;
  c.name = std::move(name);
  c.rise = rise;
  c.fall = fall;
  c.weight = weight;
  return c;
}

CheckResult pass(std::string detail = "fine") { return {true, std::move(detail), {}}; }
CheckResult fail(std::string detail = "broken") { return {false, std::move(detail), {}}; }

// A fake clock: each record happens one interval after the previous one.
struct Clock {
  TimePoint now{seconds(1000)};
  TimePoint tick() { return now += seconds(2); }
};

TEST(Tracker, FreshTrackerIsUnhealthyUntilRisePasses) {
  const auto cfg = check("web", 2, 3, 0);
  Tracker t(cfg);
  Clock clock;
  EXPECT_FALSE(t.healthy());
  EXPECT_FALSE(t.last().has_value());
  EXPECT_FALSE(t.last_run().has_value());

  EXPECT_FALSE(t.record(pass(), clock.tick()));
  EXPECT_FALSE(t.healthy());
  EXPECT_EQ(t.consecutive_passes(), 1);
  EXPECT_TRUE(t.record(pass("ok 2"), clock.tick()));
  EXPECT_TRUE(t.healthy());
  EXPECT_EQ(t.consecutive_passes(), 2);
  EXPECT_EQ(t.consecutive_failures(), 0);
  ASSERT_TRUE(t.last().has_value());
  EXPECT_EQ(t.last()->detail, "ok 2");
  EXPECT_EQ(t.last_run(), clock.now);
}

TEST(Tracker, FailingFromTheStartNeverChangesTheVerdict) {
  const auto cfg = check("web", 2, 3, 0);
  Tracker t(cfg);
  Clock clock;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(t.record(fail(), clock.tick()));
  EXPECT_FALSE(t.healthy());
  EXPECT_EQ(t.consecutive_failures(), 5);
  EXPECT_EQ(t.consecutive_passes(), 0);
}

TEST(Tracker, FallNeedsConsecutiveFailures) {
  const auto cfg = check("web", 2, 3, 0);
  Tracker t(cfg);
  Clock clock;
  t.record(pass(), clock.tick());
  t.record(pass(), clock.tick());
  ASSERT_TRUE(t.healthy());

  // Two failures, then a pass: the failure count starts over.
  EXPECT_FALSE(t.record(fail(), clock.tick()));
  EXPECT_FALSE(t.record(fail(), clock.tick()));
  EXPECT_EQ(t.consecutive_failures(), 2);
  EXPECT_FALSE(t.record(pass(), clock.tick()));
  EXPECT_TRUE(t.healthy());
  EXPECT_EQ(t.consecutive_failures(), 0);

  EXPECT_FALSE(t.record(fail(), clock.tick()));
  EXPECT_FALSE(t.record(fail(), clock.tick()));
  EXPECT_TRUE(t.record(fail("gone"), clock.tick()));
  EXPECT_FALSE(t.healthy());
  EXPECT_EQ(t.last()->detail, "gone");

  // Back up: a single pass is not enough, rise applies again.
  EXPECT_FALSE(t.record(pass(), clock.tick()));
  EXPECT_FALSE(t.healthy());
  EXPECT_TRUE(t.record(pass(), clock.tick()));
  EXPECT_TRUE(t.healthy());
}

TEST(Tracker, RiseAndFallOfOneReactImmediately) {
  const auto cfg = check("x", 1, 1, 0);
  Tracker t(cfg);
  Clock clock;
  EXPECT_TRUE(t.record(pass(), clock.tick()));
  EXPECT_TRUE(t.record(fail(), clock.tick()));
  EXPECT_TRUE(t.record(pass(), clock.tick()));
  EXPECT_FALSE(t.record(pass(), clock.tick()));
}

TEST(Tracker, NonsenseRiseAndFallAreTreatedAsOne) {
  const auto cfg = check("x", 0, -4, 0);
  Tracker t(cfg);
  EXPECT_EQ(t.rise(), 1);
  EXPECT_EQ(t.fall(), 1);
  EXPECT_TRUE(t.record(pass(), TimePoint{}));
}

// ---- evaluate ----

struct Fixture {
  std::vector<config::CheckConfig> configs;
  std::vector<Tracker> trackers;

  void add(std::string name, int weight, bool healthy, const char* last = nullptr) {
    configs.push_back(check(std::move(name), 1, 1, weight));
    trackers.emplace_back(configs.back());
    if (healthy) trackers.back().record(pass(), TimePoint{});
    else if (last != nullptr) trackers.back().record(fail(last), TimePoint{});
  }
  Verdict verdict() const {
    std::vector<std::pair<const config::CheckConfig*, const Tracker*>> v;
    for (std::size_t i = 0; i < configs.size(); ++i) v.emplace_back(&configs[i], &trackers[i]);
    return evaluate(v);
  }
};

TEST(Evaluate, NoChecksMeansNoFaultAndNoDelta) {
  EXPECT_EQ(evaluate({}), (Verdict{false, "", 0}));
}

TEST(Evaluate, UnhealthyWeightZeroCheckIsAFaultNamingItsDetail) {
  Fixture f;
  f.configs.reserve(4);
  f.add("containers", 0, false, "3 of 10 required containers running (label a=b)");
  f.add("api", 0, true);
  const Verdict v = f.verdict();
  EXPECT_TRUE(v.fault);
  EXPECT_EQ(v.fault_reason, "check containers: 3 of 10 required containers running (label a=b)");
  EXPECT_EQ(v.priority_delta, 0);
}

TEST(Evaluate, EveryFaultingCheckIsNamed) {
  Fixture f;
  f.configs.reserve(4);
  f.add("a", 0, false, "down");
  f.add("b", 0, false);  // never ran
  const Verdict v = f.verdict();
  EXPECT_TRUE(v.fault);
  EXPECT_EQ(v.fault_reason, "check a: down; check b: not run yet");
}

TEST(Evaluate, RisingCheckSaysHowFarItIs) {
  config::CheckConfig cfg = check("web", 3, 2, 0);
  Tracker t(cfg);
  t.record(pass("HTTP 200"), TimePoint{});
  const Verdict v = evaluate({{&cfg, &t}});
  EXPECT_TRUE(v.fault);
  EXPECT_EQ(v.fault_reason, "check web: 1 of 3 passes needed to become healthy (HTTP 200)");
}

// A fresh node waits for this before it joins the election: "not run yet" and "rising" are not
// faults yet; a failed run, or having risen, settles a check.
TEST(Tracker, SettlesOnceHealthyOrOnceFailed) {
  const auto cfg = check("web", 2, 3, 0);
  Tracker rising(cfg);
  Clock clock;
  EXPECT_FALSE(rising.settled());
  rising.record(pass(), clock.tick());
  EXPECT_FALSE(rising.settled());  // 1 of 2 passes
  rising.record(pass(), clock.tick());
  EXPECT_TRUE(rising.settled());
  rising.record(fail(), clock.tick());
  rising.record(pass(), clock.tick());
  EXPECT_TRUE(rising.settled());  // never unsettled again

  Tracker failing(cfg);
  failing.record(pass(), clock.tick());
  failing.record(fail(), clock.tick());
  EXPECT_TRUE(failing.settled());
  EXPECT_FALSE(failing.healthy());
}

TEST(Evaluate, SettlingIsOnlyAboutWeightZeroChecksWithoutAVerdict) {
  config::CheckConfig gate = check("gate", 2, 1, 0);
  config::CheckConfig bonus = check("bonus", 2, 1, 10);
  Tracker g(gate);
  Tracker b(bonus);
  Verdict v = evaluate({{&gate, &g}, {&bonus, &b}});
  EXPECT_TRUE(v.fault);
  EXPECT_TRUE(v.settling);
  g.record(pass(), TimePoint{});
  EXPECT_TRUE(evaluate({{&gate, &g}, {&bonus, &b}}).settling);  // rising
  g.record(pass(), TimePoint{});
  v = evaluate({{&gate, &g}, {&bonus, &b}});
  EXPECT_FALSE(v.fault);
  EXPECT_FALSE(v.settling);  // the weighted check does not hold the start back
  Tracker broken(gate);
  broken.record(fail(), TimePoint{});
  v = evaluate({{&gate, &broken}});
  EXPECT_TRUE(v.fault);
  EXPECT_FALSE(v.settling);  // a real fault
}

TEST(Evaluate, WeightsFollowKeepalived) {
  Fixture f;
  f.configs.reserve(8);
  f.add("plus_ok", 10, true);      // +10 while passing
  f.add("plus_bad", 20, false);    // 0 while failing
  f.add("minus_ok", -30, true);    // 0 while passing
  f.add("minus_bad", -5, false);   // -5 while failing
  f.add("minus_bad2", -7, false);  // -7
  const Verdict v = f.verdict();
  EXPECT_FALSE(v.fault);
  EXPECT_EQ(v.fault_reason, "");
  EXPECT_EQ(v.priority_delta, 10 - 5 - 7);
}

TEST(Evaluate, AFreshPositiveWeightCheckAddsNothing) {
  config::CheckConfig cfg = check("web", 2, 2, 50);
  Tracker t(cfg);
  EXPECT_EQ(evaluate({{&cfg, &t}}).priority_delta, 0);
  t.record(pass(), TimePoint{});
  EXPECT_EQ(evaluate({{&cfg, &t}}).priority_delta, 0);
  t.record(pass(), TimePoint{});
  EXPECT_EQ(evaluate({{&cfg, &t}}).priority_delta, 50);
}

TEST(Evaluate, AFreshNegativeWeightCheckSubtracts) {
  config::CheckConfig cfg = check("web", 2, 2, -20);
  Tracker t(cfg);
  EXPECT_EQ(evaluate({{&cfg, &t}}).priority_delta, -20);
}

TEST(Evaluate, FaultAndWeightsTogether) {
  Fixture f;
  f.configs.reserve(4);
  f.add("must", 0, false, "exit status 1");
  f.add("bonus", 15, true);
  const Verdict v = f.verdict();
  EXPECT_TRUE(v.fault);
  EXPECT_EQ(v.priority_delta, 15);
}

TEST(Evaluate, NullEntriesAreIgnored) {
  config::CheckConfig cfg = check("web", 1, 1, 0);
  EXPECT_FALSE(evaluate({{&cfg, nullptr}, {nullptr, nullptr}}).fault);
}

}  // namespace
}  // namespace failoverd::health
