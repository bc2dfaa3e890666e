// Split brain end to end: two failoverd nodes in namespaces with a reserved IP at the fake
// DigitalOcean API, the heartbeats cut both ways with nftables while the API stays reachable.
// The fake's record of assign requests and completed assignments is the proof.
//
// reconcile_interval = 1s, so the claim policy (docs/split-brain.md) waits H = 3s before taking
// the address from another holder, doubling per loss up to 12s.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "failoverd/core/claim_policy.h"
#include "harness/split.h"

namespace failoverd::e2e {
namespace {

const core::ClaimPolicy kPolicy(core::ClaimPolicyParams::for_check_interval(std::chrono::seconds(1)),
                                core::Time{0});

class SplitBrain : public CloudTwoHostTest {
 protected:
  // node-a (150, droplet 1) MASTER and holding the address, node-b (100, droplet 2) BACKUP.
  void start_pair() {
    a_ = &start_node(cloud_node(0, "node-a", 150));
    ASSERT_TRUE(a_->wait_state("MASTER", 8s));
    b_ = &start_node(cloud_node(1, "node-b", 100));
    ASSERT_TRUE(b_->wait_state("BACKUP", 5s));
    ASSERT_TRUE(wait_until([&] { return holder() == 1; }, 10s)) << "holder " << holder();
    // node-b checks as BACKUP too: its status shows who holds the address.
    std::optional<nlohmann::json> s;
    EXPECT_TRUE(wait_until(
        [&] {
          s = b_->status();
          return s && (*s)["reserved_ip"]["holder"] == "1";
        },
        5s))
        << (s ? s->dump() : "no status");
  }
  Node* a_ = nullptr;
  Node* b_ = nullptr;
};

TEST_F(SplitBrain, ALiveSplitDoesNotPingPongAndHealsOnTheWinner) {
  start_pair();
  if (HasFatalFailure()) return;
  const std::size_t before = assign_requests();
  const std::size_t moves_before = assignments().size();
  auto cut = std::make_unique<HeartbeatCut>(net());
  const auto split_at = Clock::now();
  ASSERT_TRUE(b_->wait_state("MASTER", 5s));
  // Both MASTER for 10 s: the witness decides, at growing intervals.
  std::this_thread::sleep_for(10s);
  const double split_s = seconds(Clock::now() - split_at);
  EXPECT_EQ(a_->state(), "MASTER");
  EXPECT_EQ(b_->state(), "MASTER");
  const std::size_t posts = assign_requests() - before;
  const auto moves = assignments();
  const int bound =
      1 + 2 * kPolicy.max_takeovers(std::chrono::duration_cast<core::Duration>(
                  std::chrono::duration<double>(split_s)));
  std::fprintf(stderr, "split of %.1fs: %zu assign requests, %zu moves (bound %d)\n", split_s,
               posts, moves.size() - moves_before, bound);
  EXPECT_GE(posts, 1u) << "node-b claims when it becomes MASTER";
  EXPECT_LE(posts, static_cast<std::size_t>(bound));
  // No two moves within a hold-off of each other (node-b's first claim aside).
  for (std::size_t i = moves_before + 1; i < moves.size(); ++i) {
    EXPECT_GE(moves[i].at_unix_ms - moves[i - 1].at_unix_ms, 2800)
        << "moves " << i - 1 << " and " << i << " too close";
  }

  cut->heal();
  const auto healed_at = Clock::now();
  ASSERT_TRUE(b_->wait_state("BACKUP", 5s));
  EXPECT_EQ(a_->state(), "MASTER");
  // At once when node-a heard node-b's advert, else after node-a's hold-off (at most 12 s).
  const auto took = wait_until([&] { return holder() == 1; }, 20s, 100ms);
  ASSERT_TRUE(took) << "holder " << holder();
  std::fprintf(stderr, "healed: the address on node-a after %.1fs\n",
               seconds(Clock::now() - healed_at));
  const std::size_t settled = assign_requests();
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(assign_requests(), settled) << "the address keeps moving after the heal";
  EXPECT_EQ(holder(), 1);
  EXPECT_EQ(a_->transitions_from("MASTER"), 0u);
}

// The gap of the first policy: split, node-b becomes MASTER and takes the address, then dies.
// node-a, MASTER all along, takes it back within reconcile_interval + H (+ API time).
TEST_F(SplitBrain, SplitThenTheHolderDiesTheSurvivorTakesItOverWithinTheBound) {
  start_pair();
  if (HasFatalFailure()) return;
  HeartbeatCut cut(net());
  ASSERT_TRUE(b_->wait_state("MASTER", 5s));
  ASSERT_TRUE(wait_until([&] { return holder() == 2; }, 5s, 50ms)) << "holder " << holder();
  b_->kill9();
  const auto took = wait_until([&] { return holder() == 1; }, 15s, 100ms);
  ASSERT_TRUE(took) << "node-a never took the address from the dead holder";
  // R + H = 4 s, plus API calls and the claim; a generous margin for a loaded machine.
  EXPECT_LE(seconds(*took), 8.0);
  std::fprintf(stderr, "the survivor took the address %.1fs after the holder died\n",
               seconds(*took));
  EXPECT_EQ(a_->state(), "MASTER");
  EXPECT_TRUE(a_->wait_log("taking it over")) << tail_lines(a_->log(), 20);
  std::optional<nlohmann::json> s;
  EXPECT_TRUE(wait_until(
      [&] {
        s = a_->status();
        return s && (*s)["reserved_ip"]["holder"] == "this node";
      },
      5s));
}

}  // namespace
}  // namespace failoverd::e2e
