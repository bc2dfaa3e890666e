// ProviderWorker: the provider's blocking calls run on its worker thread and their results come
// back on the loop thread; after stop() they are dropped.
#include "failoverd/daemon/provider_worker.h"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>

namespace failoverd::daemon {
namespace {

using namespace std::chrono_literals;

// Records the thread each call ran on.
class ThreadProvider final : public cloud::ReservedAddressProvider {
 public:
  explicit ThreadProvider(std::shared_ptr<std::atomic<std::thread::id>> ran_on)
      : ran_on_(std::move(ran_on)) {}
  const char* name() const override { return "thread"; }
  cloud::CloudResult<cloud::HolderStatus> status() override {
    *ran_on_ = std::this_thread::get_id();
    cloud::HolderStatus s;
    s.holder = "droplet 7";
    return s;
  }
  cloud::ClaimReport claim() override {
    *ran_on_ = std::this_thread::get_id();
    cloud::ClaimReport r;
    r.outcome = cloud::ClaimOutcome::kClaimed;
    r.attempts = 1;
    r.detail = "assigned";
    return r;
  }

 private:
  std::shared_ptr<std::atomic<std::thread::id>> ran_on_;
};

class ProviderWorkerTest : public ::testing::Test {
 protected:
  // Runs the loop until `done` (or a generous bound passed).
  void run_until(const bool& done) {
    const auto give_up = std::chrono::steady_clock::now() + 20s;
    while (!done && std::chrono::steady_clock::now() < give_up) io.run_one_for(50ms);
  }

  boost::asio::io_context io;
  // The daemon's loop always has work (its signals); without it run_one_for would return at
  // once and stop the loop before the worker's result is posted.
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> busy =
      boost::asio::make_work_guard(io);
  std::shared_ptr<std::atomic<std::thread::id>> ran_on =
      std::make_shared<std::atomic<std::thread::id>>();
};

TEST_F(ProviderWorkerTest, ACallRunsOnTheWorkerAndReportsOnTheLoop) {
  ProviderWorker worker(io, [r = ran_on] { return std::make_unique<ThreadProvider>(r); });
  bool claimed = false;
  std::thread::id reported_on;
  worker.claim([&](const cloud::ClaimReport& report) {
    EXPECT_EQ(report.outcome, cloud::ClaimOutcome::kClaimed);
    EXPECT_EQ(report.detail, "assigned");
    reported_on = std::this_thread::get_id();
    claimed = true;
  });
  run_until(claimed);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(reported_on, std::this_thread::get_id()) << "the report came on the loop thread";
  EXPECT_NE(ran_on->load(), std::this_thread::get_id()) << "the claim blocked the loop thread";

  bool checked = false;
  worker.check([&](const cloud::CloudResult<cloud::HolderStatus>& status) {
    ASSERT_TRUE(status.has_value());
    EXPECT_EQ(status->holder, std::optional<std::string>("droplet 7"));
    checked = true;
  });
  run_until(checked);
  EXPECT_TRUE(checked);
}

TEST_F(ProviderWorkerTest, AResultAfterStopIsDropped) {
  bool reported = false;
  {
    ProviderWorker worker(io, [r = ran_on] { return std::make_unique<ThreadProvider>(r); });
    worker.claim([&](const cloud::ClaimReport&) { reported = true; });
    worker.stop();
  }  // joins the worker: the claim has run and posted its result
  io.run_for(100ms);
  EXPECT_FALSE(reported);
  EXPECT_NE(ran_on->load(), std::thread::id()) << "the claim itself still ran";
}

}  // namespace
}  // namespace failoverd::daemon
