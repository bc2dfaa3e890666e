// RFC 5798 §6.1 timers, in the RFC's own names. Advertisement intervals travel in
// centiseconds; everything here is in microseconds so Skew_Time keeps its fraction.
#pragma once

#include <chrono>
#include <cstdint>

namespace failoverd::core {

using Duration = std::chrono::microseconds;
using Time = std::chrono::microseconds;  // a monotonic clock reading, from any epoch

inline constexpr std::uint16_t kMaxAdverIntervalCs = 4095;  // 12 bits on the wire

// Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256
constexpr Duration skew_time(std::uint8_t priority, Duration master_adver_interval) {
  return Duration{(256 - priority) * master_adver_interval.count() / 256};
}

// Master_Down_Interval = (3 * Master_Adver_Interval) + Skew_Time
constexpr Duration master_down_interval(std::uint8_t priority, Duration master_adver_interval) {
  return 3 * master_adver_interval + skew_time(priority, master_adver_interval);
}

constexpr Duration from_centiseconds(std::uint16_t cs) { return Duration{std::int64_t{cs} * 10'000}; }
constexpr std::uint16_t to_centiseconds(Duration d) {
  return static_cast<std::uint16_t>(d.count() / 10'000);
}

}  // namespace failoverd::core
