// Helpers for the cloud tests: a clock whose sleeps only move time forward, and a thread-safe
// log capture.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "failoverd/cloud/http_client.h"

namespace failoverd::cloud::testing {

// Steady time starts at an arbitrary point; sleep_for() records the wait and advances both
// steady and wall time by it, instantly.
class FakeClock final : public Clock {
 public:
  // Wall time: 2024-01-01T00:00:00Z.
  static constexpr std::int64_t kWallEpoch = 1704067200;

  std::chrono::steady_clock::time_point now() override { return steady_; }
  std::chrono::system_clock::time_point wall_now() override {
    return std::chrono::system_clock::time_point(std::chrono::seconds(kWallEpoch)) +
           (steady_ - kStart);
  }
  void sleep_for(Millis d) override {
    sleeps.push_back(d);
    steady_ += d;
  }
  void advance(Millis d) { steady_ += d; }

  std::vector<Millis> sleeps;

 private:
  static constexpr std::chrono::steady_clock::time_point kStart{std::chrono::hours(1000)};
  std::chrono::steady_clock::time_point steady_{kStart};
};

class LogCapture {
 public:
  std::function<void(const std::string&)> sink() {
    return [this](const std::string& line) {
      std::lock_guard lock(mu_);
      lines_.push_back(line);
    };
  }
  std::vector<std::string> lines() const {
    std::lock_guard lock(mu_);
    return lines_;
  }
  std::string joined() const {
    std::string all;
    for (const auto& l : lines()) all += l + "\n";
    return all;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> lines_;
};

}  // namespace failoverd::cloud::testing
