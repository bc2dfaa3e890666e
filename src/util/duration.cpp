#include "failoverd/util/duration.h"

#include <cstdint>
#include <limits>
#include <numeric>

namespace failoverd::util {

Expected<Duration, std::string> parse_duration(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  auto digits_at = [&](std::size_t from) {
    std::size_t to = from;
    while (to < text.size() && text[to] >= '0' && text[to] <= '9') ++to;
    return text.substr(from, to - from);
  };
  const std::string_view whole_digits = digits_at(0);
  std::size_t i = whole_digits.size();
  std::string_view frac_digits;
  if (i < text.size() && text[i] == '.') {
    frac_digits = digits_at(i + 1);
    i += 1 + frac_digits.size();
  }
  if (whole_digits.empty() && frac_digits.empty()) {
    return unexpected(quoted + " is not a duration (expected e.g. 100ms, 1s, 2m)");
  }
  const std::string_view unit = text.substr(i);
  std::int64_t us_per_unit = 0;
  if (unit == "us") us_per_unit = 1;
  else if (unit == "ms") us_per_unit = 1'000;
  else if (unit == "s") us_per_unit = 1'000'000;
  else if (unit == "m") us_per_unit = 60'000'000;
  else if (unit == "h") us_per_unit = 3'600'000'000LL;
  else if (unit.empty()) return unexpected(quoted + " has no unit (use us, ms, s, m or h)");
  else return unexpected(quoted + " has an unknown unit \"" + std::string(unit) +
                         "\" (use us, ms, s, m or h)");

  // The fraction, exactly: trailing zeros do not change it, and with more than 10 significant
  // digits even an hour's fraction is not a whole number of microseconds.
  while (!frac_digits.empty() && frac_digits.back() == '0') frac_digits.remove_suffix(1);
  if (frac_digits.size() > 10) return unexpected(quoted + " is finer than a microsecond");
  std::int64_t frac = 0;
  std::int64_t frac_scale = 1;
  for (char c : frac_digits) {
    frac = frac * 10 + (c - '0');
    frac_scale *= 10;
  }
  // frac / frac_scale * us_per_unit, reduced first so that nothing overflows.
  const std::int64_t g = std::gcd(us_per_unit, frac_scale);
  if (frac % (frac_scale / g) != 0) return unexpected(quoted + " is finer than a microsecond");
  const std::int64_t frac_us = frac / (frac_scale / g) * (us_per_unit / g);

  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t whole = 0;
  for (char c : whole_digits) {
    const int digit = c - '0';
    if (whole > (kMax - digit) / 10) return unexpected(quoted + " is too large");
    whole = whole * 10 + digit;
  }
  if (whole > (kMax - frac_us) / us_per_unit) return unexpected(quoted + " is too large");
  return Duration{whole * us_per_unit + frac_us};
}

std::string format_duration(Duration d) {
  const std::int64_t us = d.count();
  if (us != 0 && us % 3'600'000'000LL == 0) return std::to_string(us / 3'600'000'000LL) + "h";
  if (us != 0 && us % 60'000'000 == 0) return std::to_string(us / 60'000'000) + "m";
  if (us % 1'000'000 == 0) return std::to_string(us / 1'000'000) + "s";
  if (us % 1'000 == 0) return std::to_string(us / 1'000) + "ms";
  return std::to_string(us) + "us";
}

}  // namespace failoverd::util
