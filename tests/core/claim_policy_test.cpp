// core::ClaimPolicy: the decisions of docs/split-brain.md, driven with literal times.
#include "failoverd/core/claim_policy.h"

#include <gtest/gtest.h>

namespace failoverd::core {
namespace {

using std::chrono::seconds;
using A = ClaimAction;

constexpr Duration kR = seconds(10);  // check interval; H = 30s, max = 120s

Time at(int s) {
  return Time{seconds(s)};
}

HolderView us() {
  return {HolderView::Kind::kUs, "", false};
}
HolderView nobody(bool locked = false) {
  return {HolderView::Kind::kNobody, "", locked};
}
HolderView other(const std::string& id, bool locked = false) {
  return {HolderView::Kind::kOther, id, locked};
}

ClaimPolicy fresh(Time now = at(0)) {
  return ClaimPolicy(ClaimPolicyParams::for_check_interval(kR), now);
}

TEST(ClaimPolicy, DefaultsDeriveFromTheCheckInterval) {
  const auto p = ClaimPolicyParams::for_check_interval(seconds(30));
  EXPECT_EQ(p.check_interval, seconds(30));
  EXPECT_EQ(p.hold_off, seconds(90));
  EXPECT_EQ(p.max_hold_off, seconds(360));
  const ClaimPolicy c = fresh();
  EXPECT_EQ(c.hold_off_for(0), seconds(30));
  EXPECT_EQ(c.hold_off_for(1), seconds(30));
  EXPECT_EQ(c.hold_off_for(2), seconds(60));
  EXPECT_EQ(c.hold_off_for(3), seconds(120));
  EXPECT_EQ(c.hold_off_for(4), seconds(120));
  EXPECT_EQ(c.hold_off_for(9), seconds(120));
}

TEST(ClaimPolicy, MaxTakeoversFollowsTheLadder) {
  const ClaimPolicy c = fresh();
  EXPECT_EQ(c.max_takeovers(seconds(29)), 0);
  EXPECT_EQ(c.max_takeovers(seconds(30)), 1);
  EXPECT_EQ(c.max_takeovers(seconds(59)), 1);
  EXPECT_EQ(c.max_takeovers(seconds(60)), 2);    // 30 + 30
  EXPECT_EQ(c.max_takeovers(seconds(120)), 3);   // + 60
  EXPECT_EQ(c.max_takeovers(seconds(240)), 4);   // + 120 (capped from here on)
  EXPECT_EQ(c.max_takeovers(seconds(359)), 4);
  EXPECT_EQ(c.max_takeovers(seconds(360)), 5);
  EXPECT_EQ(c.max_takeovers(seconds(600)), 7);
}

TEST(ClaimPolicy, BackupChecksEveryIntervalAndNeverClaims) {
  ClaimPolicy c = fresh();
  EXPECT_EQ(c.next_check(), at(0));
  EXPECT_EQ(c.on_timer(at(0)).action, A::kCheck);
  EXPECT_EQ(c.on_timer(at(0)).action, A::kNothing) << "one check per interval";
  EXPECT_EQ(c.next_check(), at(10));
  EXPECT_EQ(c.on_check(at(0), nobody()).action, A::kNothing);
  EXPECT_EQ(c.on_timer(at(5)).action, A::kNothing);
  EXPECT_EQ(c.on_timer(at(10)).action, A::kCheck);
  for (int t = 10; t < 500; t += 10) {
    EXPECT_EQ(c.on_check(at(t), other("2")).action, A::kNothing) << t;
  }
  EXPECT_EQ(c.heard_lower_priority(at(500)).action, A::kNothing);
}

TEST(ClaimPolicy, BecomingMasterClaimsAndNobodyHoldingIsClaimed) {
  ClaimPolicy c = fresh();
  const auto d = c.became_master(at(1));
  EXPECT_EQ(d.action, A::kClaim);
  EXPECT_EQ(d.reason, "became MASTER");
  EXPECT_EQ(c.next_check(), at(11));
  EXPECT_EQ(c.on_claim(at(2), true, false).action, A::kNothing);
  EXPECT_EQ(c.on_check(at(11), us()).action, A::kNothing);
  EXPECT_EQ(c.on_check(at(21), nobody(true)).action, A::kNothing) << "locked: wait";
  EXPECT_EQ(c.on_check(at(31), nobody()).action, A::kClaim);
}

TEST(ClaimPolicy, AFailedClaimIsRetriedUnlessPermanentOrNoLongerMaster) {
  ClaimPolicy c = fresh();
  c.became_master(at(0));
  EXPECT_EQ(c.on_claim(at(1), false, false).action, A::kClaim);
  EXPECT_EQ(c.on_claim(at(2), false, true).action, A::kNothing);
  c.left_master(at(3));
  EXPECT_EQ(c.on_claim(at(4), false, false).action, A::kNothing);
}

// The split: we held it, the other side became MASTER and took it. We wait H, then take it
// back; the next loss doubles the wait.
TEST(ClaimPolicy, ALiveSplitMovesTheAddressAtGrowingIntervals) {
  ClaimPolicy c = fresh();
  c.became_master(at(0));
  c.on_claim(at(0), true, false);
  // The peer took it at ~5s; our check at 10s sees it: loss 1, hold-off 30s from 10s.
  auto d = c.on_check(at(10), other("2"));
  EXPECT_EQ(d.action, A::kReport);
  EXPECT_NE(d.reason.find("held by 2"), std::string::npos) << d.reason;
  EXPECT_EQ(c.losses(), 1);
  EXPECT_EQ(c.takeover_at(), at(40));
  EXPECT_EQ(c.next_check(), at(20));
  EXPECT_EQ(c.on_check(at(20), other("2")).action, A::kReport);
  EXPECT_EQ(c.on_check(at(30), other("2")).action, A::kReport);
  EXPECT_EQ(c.next_check(), at(40)) << "the check lands on the take-over time";
  EXPECT_EQ(c.on_check(at(39), other("2")).action, A::kReport);
  d = c.on_check(at(40), other("2"));
  EXPECT_EQ(d.action, A::kClaim);
  EXPECT_NE(d.reason.find("taking it over"), std::string::npos) << d.reason;
  c.on_claim(at(41), true, false);
  // Taken again: loss 2, hold-off 60s.
  EXPECT_EQ(c.on_check(at(70), other("2")).action, A::kReport);
  EXPECT_EQ(c.losses(), 2);
  EXPECT_EQ(c.takeover_at(), at(130));
  EXPECT_EQ(c.on_check(at(129), other("2")).action, A::kReport);
  EXPECT_EQ(c.on_check(at(130), other("2")).action, A::kClaim);
}

TEST(ClaimPolicy, ANewHolderRestartsTheWait) {
  ClaimPolicy c = fresh();
  c.became_master(at(0));
  EXPECT_EQ(c.on_check(at(10), other("2")).action, A::kReport);
  EXPECT_EQ(c.takeover_at(), at(40));
  EXPECT_EQ(c.on_check(at(30), other("3")).action, A::kReport);
  EXPECT_EQ(c.takeover_at(), at(60));
  EXPECT_EQ(c.on_check(at(59), other("3")).action, A::kReport);
  EXPECT_EQ(c.on_check(at(60), other("3")).action, A::kClaim);
}

TEST(ClaimPolicy, APendingActionIsNotRaced) {
  ClaimPolicy c = fresh();
  c.became_master(at(0));
  c.on_check(at(10), other("2"));
  EXPECT_EQ(c.on_check(at(45), other("2", true)).action, A::kReport);
  EXPECT_EQ(c.on_check(at(46), other("2")).action, A::kClaim);
}

TEST(ClaimPolicy, ACheckThatFailedIsReportedAndChangesNothing) {
  ClaimPolicy c = fresh();
  c.became_master(at(0));
  c.on_check(at(10), other("2"));
  const auto d = c.on_check(at(20), HolderView{HolderView::Kind::kFailed, "timeout", false});
  EXPECT_EQ(d.action, A::kReport);
  EXPECT_NE(d.reason.find("timeout"), std::string::npos);
  EXPECT_EQ(c.takeover_at(), at(40));
  EXPECT_EQ(c.on_check(at(40), other("2")).action, A::kClaim);
}

TEST(ClaimPolicy, LowerPriorityAdvertsClaimOncePerIntervalAndEndTheEpisode) {
  ClaimPolicy c = fresh();
  c.became_master(at(0));
  c.on_claim(at(0), true, false);
  c.on_check(at(10), other("2"));
  ASSERT_EQ(c.losses(), 1);
  EXPECT_EQ(c.heard_lower_priority(at(12)).action, A::kClaim);
  EXPECT_EQ(c.losses(), 0);
  EXPECT_EQ(c.episode_start(), at(12));
  EXPECT_FALSE(c.takeover_at());
  EXPECT_EQ(c.heard_lower_priority(at(13)).action, A::kNothing);
  EXPECT_EQ(c.heard_lower_priority(at(21)).action, A::kNothing);
  EXPECT_EQ(c.heard_lower_priority(at(22)).action, A::kClaim);
}

TEST(ClaimPolicy, LeavingMasterForgetsTheWait) {
  ClaimPolicy c = fresh();
  c.became_master(at(0));
  c.on_claim(at(0), true, false);
  c.on_check(at(10), other("2"));
  c.left_master(at(15));
  EXPECT_FALSE(c.master());
  EXPECT_FALSE(c.takeover_at());
  EXPECT_EQ(c.on_check(at(100), other("2")).action, A::kNothing);
  EXPECT_EQ(c.became_master(at(101)).action, A::kClaim);
  EXPECT_EQ(c.losses(), 0);
}

TEST(ClaimPolicy, ALongQuietHoldResetsTheLadder) {
  ClaimPolicy c = fresh();
  c.became_master(at(0));
  c.on_claim(at(0), true, false);
  c.on_check(at(10), other("2"));   // loss 1
  c.on_check(at(40), other("2"));   // take over
  c.on_claim(at(41), true, false);
  c.on_check(at(50), other("2"));   // loss 2
  ASSERT_EQ(c.losses(), 2);
  c.on_check(at(110), other("2"));  // take over
  c.on_claim(at(111), true, false);
  c.on_check(at(120), us());
  EXPECT_EQ(c.losses(), 2) << "too soon";
  c.on_check(at(50 + 240), us());
  EXPECT_EQ(c.losses(), 0);
  c.on_check(at(540), other("2"));
  EXPECT_EQ(c.losses(), 1);
  EXPECT_EQ(c.takeover_at(), at(570));
}

// The gap of the first policy: split, the peer (which claimed when it became MASTER) dies
// right after. Wherever its claim falls between our checks, we take the address back within
// one check interval + H of it.
TEST(ClaimPolicy, TheSurvivorOfASplitTakesOverFromADeadHolderWithinTheBound) {
  for (int taken = 1; taken < 25; ++taken) {
    ClaimPolicy c = fresh();
    c.became_master(at(0));
    c.on_claim(at(0), true, false);
    std::optional<Time> claimed;
    for (Time t = at(1); t < at(200) && !claimed; t += seconds(1)) {
      if (c.on_timer(t).action != A::kCheck) continue;
      const HolderView v = t < at(taken) ? us() : other("2");
      if (c.on_check(t, v).action == A::kClaim) claimed = t;
    }
    ASSERT_TRUE(claimed) << taken;
    EXPECT_GE(*claimed, at(taken) + c.hold_off_for(1)) << taken;
    EXPECT_LE(*claimed, at(taken) + kR + c.hold_off_for(1)) << taken;
  }
}

}  // namespace
}  // namespace failoverd::core
