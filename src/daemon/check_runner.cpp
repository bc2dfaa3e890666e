#include "failoverd/daemon/check_runner.h"

#include <algorithm>

#include <boost/asio/post.hpp>

#include "failoverd/util/duration.h"
#include "failoverd/util/time_format.h"

namespace failoverd::daemon {

namespace asio = boost::asio;

namespace {
// Enough workers that one slow check does not hold up the others; checks are few.
std::size_t pool_size(std::size_t checks) { return std::clamp<std::size_t>(checks, 1, 4); }
}  // namespace

CheckRunner::CheckRunner(asio::io_context& io, const std::vector<config::CheckConfig>& checks,
                         std::shared_ptr<spdlog::logger> log, OnVerdict on_verdict)
    : io_(io),
      log_(std::move(log)),
      on_verdict_(std::move(on_verdict)),
      pool_(pool_size(checks.size())),
      alive_(std::make_shared<bool>(true)) {
  for (const auto& c : checks) {
    auto e = std::make_unique<Entry>(Entry{c, health::make_check(c), health::Tracker(c),
                                           std::make_unique<asio::steady_timer>(io_)});
    entries_.push_back(std::move(e));
  }
}

CheckRunner::~CheckRunner() {
  stop();
  pool_.join();
}

void CheckRunner::start() {
  const auto now = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < entries_.size(); ++i) schedule(i, now);
}

void CheckRunner::stop() {
  *alive_ = false;
  for (auto& e : entries_) e->timer->cancel();
}

void CheckRunner::schedule(std::size_t i, std::chrono::steady_clock::time_point at) {
  Entry& e = *entries_[i];
  e.timer->expires_at(at);
  e.timer->async_wait([this, i, alive = alive_](const boost::system::error_code& ec) {
    if (ec || !*alive) return;
    run(i);
  });
}

void CheckRunner::run(std::size_t i) {
  Entry& e = *entries_[i];
  const auto started = std::chrono::steady_clock::now();
  // The next run is due one interval after this one started, whatever this one takes
  // (a run is bounded by its timeout, which is shorter than the interval).
  schedule(i, started + e.config.interval);
  if (e.running) return;  // still running: skip a beat rather than pile up
  e.running = true;
  asio::post(pool_, [this, i, alive = alive_, check = e.check.get()] {
    health::CheckResult result = check->run();
    asio::post(io_, [this, i, alive, result = std::move(result)] {
      if (*alive) on_result(i, result);
    });
  });
}

void CheckRunner::on_result(std::size_t i, const health::CheckResult& result) {
  Entry& e = *entries_[i];
  e.running = false;
  ++e.runs;
  if (!result.ok) ++e.failures;
  e.last_duration = result.duration;
  const health::Verdict before = verdict();
  const bool changed = e.tracker.record(result, std::chrono::system_clock::now());
  log_->debug("check {}: {} ({}) in {}", e.config.name, result.ok ? "pass" : "FAIL",
              result.detail, util::format_duration(result.duration));
  if (e.tracker.healthy()) e.ever_healthy = true;
  if (!result.ok && !e.ever_healthy && !e.start_failure_logged) {
    e.start_failure_logged = true;
    log_->warn("check {} is failing from its first run: {}", e.config.name, result.detail);
  }
  if (changed) {
    if (e.tracker.healthy()) {
      log_->info("check {} is healthy after {} passes: {}", e.config.name, e.config.rise,
                 result.detail);
    } else {
      log_->warn("check {} is failing after {} failures: {}", e.config.name, e.config.fall,
                 result.detail);
    }
  }
  const health::Verdict after = verdict();
  if (hold_verdicts_) {
    for (const auto& entry : entries_) {
      if (!entry->tracker.settled()) return;
    }
    hold_verdicts_ = false;
    on_verdict_(after);
    return;
  }
  if (after != before) {
    on_verdict_(after);
  }
}

health::Verdict CheckRunner::verdict() const {
  std::vector<std::pair<const config::CheckConfig*, const health::Tracker*>> all;
  for (const auto& e : entries_) all.emplace_back(&e->config, &e->tracker);
  return health::evaluate(all);
}

std::vector<control::CheckStatus> CheckRunner::statuses() const {
  std::vector<control::CheckStatus> out;
  for (const auto& e : entries_) {
    control::CheckStatus s;
    s.name = e->config.name;
    s.type = config::to_string(e->config.type());
    s.ok = e->tracker.healthy();
    const auto& last = e->tracker.last();
    if (!last) {
      s.detail = "not run yet";
    } else {
      s.detail = last->detail;
      if (!s.ok && last->ok) {
        s.detail += " (rising: " + std::to_string(e->tracker.consecutive_passes()) + " of " +
                    std::to_string(e->config.rise) + " passes)";
      }
    }
    if (auto at = e->tracker.last_run()) s.last_run = util::iso8601(*at);
    s.consecutive_passes = e->tracker.consecutive_passes();
    s.consecutive_failures = e->tracker.consecutive_failures();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<metrics::CheckMetrics> CheckRunner::metrics() const {
  std::vector<metrics::CheckMetrics> out;
  for (const auto& e : entries_) {
    out.push_back({e->config.name, config::to_string(e->config.type()), e->tracker.healthy(),
                   std::chrono::duration<double>(e->last_duration).count(), e->runs,
                   e->failures});
  }
  return out;
}

}  // namespace failoverd::daemon
