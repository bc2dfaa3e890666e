// ReservedIpKeeper's retry of a failed claim: backed off whatever the provider, and shown in
// status. The waits are real (asio timers), so the tests only assert what cannot depend on the
// machine's speed: nothing is claimed again *before* the backoff has passed.
#include "failoverd/daemon/reserved_ip.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>

namespace failoverd::daemon {
namespace {

using namespace std::chrono_literals;

TEST(ClaimBackoff, DoublesFromOneSecondToThirtyAndResetsOnSuccess) {
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

// A provider whose claims fail as a rate-limited API's do (transient), or succeed when told.
class FlakyProvider final : public cloud::ReservedAddressProvider {
 public:
  explicit FlakyProvider(std::shared_ptr<std::atomic<int>> claims,
                         std::shared_ptr<std::atomic<bool>> succeed)
      : claims_(std::move(claims)), succeed_(std::move(succeed)) {}
  const char* name() const override { return "flaky"; }
  cloud::CloudResult<cloud::HolderStatus> status() override { return cloud::HolderStatus{}; }
  cloud::ClaimReport claim() override {
    ++*claims_;
    cloud::ClaimReport r;
    r.attempts = 1;
    if (*succeed_) {
      r.outcome = cloud::ClaimOutcome::kClaimed;
      r.detail = "claimed";
      return r;
    }
    r.outcome = cloud::ClaimOutcome::kFailed;
    r.detail = "HTTP 429 rate_limit_exceeded";
    r.error = cloud::CloudError{cloud::CloudErrorKind::kUnavailable, r.detail, std::nullopt};
    return r;
  }

 private:
  std::shared_ptr<std::atomic<int>> claims_;
  std::shared_ptr<std::atomic<bool>> succeed_;
};

class ReservedIpKeeperTest : public ::testing::Test {
 protected:
  std::unique_ptr<ReservedIpKeeper> make(ClaimBackoff backoff) {
    auto c = claims;
    auto s = succeed;
    return std::make_unique<ReservedIpKeeper>(
        io, "203.0.113.20", "flaky", 1h,
        [c, s] { return std::make_unique<FlakyProvider>(c, s); },
        std::make_shared<spdlog::logger>("test", std::make_shared<spdlog::sinks::null_sink_mt>()),
        [](const std::string&) {}, [this](const cloud::ClaimReport&) { ++reports; }, backoff);
  }

  // Runs the loop until `n` claim reports arrived (or a generous bound passed).
  void run_until_reports(int n) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (reports < n && std::chrono::steady_clock::now() < give_up) io.run_one_for(50ms);
  }

  boost::asio::io_context io;
  std::shared_ptr<std::atomic<int>> claims = std::make_shared<std::atomic<int>>(0);
  std::shared_ptr<std::atomic<bool>> succeed = std::make_shared<std::atomic<bool>>(false);
  int reports = 0;
};

// Before the fix a failed claim was retried at once, in a loop (~40 requests/s against a
// rate-limited API): here that would be thousands of claims in the half second.
TEST_F(ReservedIpKeeperTest, FailedClaimIsRetriedOnlyAfterTheBackoff) {
  auto keeper = make(ClaimBackoff(5s, 30s));
  keeper->became_master();
  run_until_reports(1);
  ASSERT_EQ(reports, 1);
  io.run_for(500ms);
  EXPECT_EQ(claims->load(), 1) << "claimed again before the 5 s backoff";
  const auto s = keeper->status();
  ASSERT_TRUE(s.last_claim.has_value());
  EXPECT_EQ(*s.last_claim, "failed: HTTP 429 rate_limit_exceeded; next attempt in 5s");
  EXPECT_EQ(s.address, "203.0.113.20");
  EXPECT_EQ(s.provider, "flaky");
}

TEST_F(ReservedIpKeeperTest, RetryComesAfterTheBackoffAndSuccessClearsTheFailure) {
  auto keeper = make(ClaimBackoff(200ms, 30s));
  keeper->became_master();
  run_until_reports(1);
  ASSERT_EQ(reports, 1);
  *succeed = true;
  run_until_reports(2);  // the retry, after 200 ms
  ASSERT_EQ(reports, 2);
  EXPECT_EQ(claims->load(), 2);
  const auto s = keeper->status();
  ASSERT_TRUE(s.last_claim.has_value());
  EXPECT_EQ(s.last_claim->find("failed"), std::string::npos) << *s.last_claim;
  EXPECT_EQ(s.holder, "this node");
}

// Leaving MASTER drops the pending retry: a BACKUP does not claim.
TEST_F(ReservedIpKeeperTest, LeavingMasterCancelsTheRetry) {
  auto keeper = make(ClaimBackoff(200ms, 30s));
  keeper->became_master();
  run_until_reports(1);
  ASSERT_EQ(reports, 1);
  keeper->left_master();
  io.run_for(600ms);
  EXPECT_EQ(claims->load(), 1);
  const auto s = keeper->status();
  ASSERT_TRUE(s.last_claim.has_value());
  EXPECT_EQ(*s.last_claim, "failed: HTTP 429 rate_limit_exceeded") << "no attempt is due";
}

}  // namespace
}  // namespace failoverd::daemon
