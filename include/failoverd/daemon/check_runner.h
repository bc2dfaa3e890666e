// Runs the [check.NAME] health checks on a schedule. Each check's blocking run() happens on
// a small worker pool, never on the loop thread, so a slow check cannot delay an advert; the
// result is posted back to the loop, where the rise/fall trackers and the verdict live.
// Everything but the workers runs on the loop thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <spdlog/logger.h>

#include "failoverd/config/config.h"
#include "failoverd/control/control_protocol.h"
#include "failoverd/health/check.h"
#include "failoverd/health/tracker.h"
#include "failoverd/metrics/metrics.h"

namespace failoverd::daemon {

class CheckRunner {
 public:
  using OnVerdict = std::function<void(const health::Verdict&)>;

  // Makes every check (throws std::runtime_error on a setup problem, e.g. an unknown exec
  // user). `on_verdict` is called on the loop thread whenever the verdict changes.
  CheckRunner(boost::asio::io_context& io, const std::vector<config::CheckConfig>& checks,
              std::shared_ptr<spdlog::logger> log, OnVerdict on_verdict);
  // Waits for checks still running (each is bounded by its timeout).
  ~CheckRunner();
  CheckRunner(const CheckRunner&) = delete;
  CheckRunner& operator=(const CheckRunner&) = delete;

  // Runs every check at once, then every interval.
  void start();
  void stop();
  // After a restart in place the trackers start afresh while the Node keeps the verdict it
  // had: hold every verdict back until each check has its first verdict (risen or failed),
  // then report the verdict once, changed or not.
  void hold_verdicts_until_settled() { hold_verdicts_ = true; }

  // The verdict now; before any check has risen, weight-0 checks count as failing.
  health::Verdict verdict() const;
  bool empty() const { return entries_.empty(); }
  std::vector<control::CheckStatus> statuses() const;
  std::vector<metrics::CheckMetrics> metrics() const;

 private:
  struct Entry {
    config::CheckConfig config;
    std::unique_ptr<health::Check> check;
    health::Tracker tracker;
    std::unique_ptr<boost::asio::steady_timer> timer;
    bool running = false;
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
    std::chrono::microseconds last_duration{0};
    // A check failing from its first run never changes state (a fresh tracker is unhealthy),
    // so its cause is logged once here rather than by the healthy -> failing line.
    bool ever_healthy = false;
    bool start_failure_logged = false;
  };
  void schedule(std::size_t i, std::chrono::steady_clock::time_point at);
  void run(std::size_t i);
  void on_result(std::size_t i, const health::CheckResult& result);

  boost::asio::io_context& io_;
  std::shared_ptr<spdlog::logger> log_;
  OnVerdict on_verdict_;
  std::vector<std::unique_ptr<Entry>> entries_;
  boost::asio::thread_pool pool_;
  // Shared with posted completions, so one that arrives after stop() does nothing.
  std::shared_ptr<bool> alive_;
  bool hold_verdicts_ = false;
};

}  // namespace failoverd::daemon
