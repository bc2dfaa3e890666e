// Portable random draws for the scenario generators (private to the sim module). Our own
// arithmetic on mt19937_64 instead of std::uniform_*_distribution, whose output differs between
// standard libraries (see simulator.cpp): a seed must give the same scenario everywhere.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "failoverd/core/timing.h"

namespace failoverd::sim::detail {

class Draw {
 public:
  // Each generator mixes its seed its own way, so that its stream differs from the
  // simulator's (which is seeded with the seed itself).
  explicit Draw(std::uint64_t engine_seed) : rng_(engine_seed) {}

  std::int64_t between(std::int64_t lo, std::int64_t hi) {  // inclusive
    return lo + static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool chance(int percent) { return between(0, 99) < percent; }
  core::Duration duration(core::Duration lo, core::Duration hi) {
    return core::Duration{between(lo.count(), hi.count())};
  }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(between(0, static_cast<std::int64_t>(v.size()) - 1))];
  }
  // `n` different numbers in lo..hi, in the order drawn (the priorities of a scenario's nodes:
  // equal ones would make the tie-break, not the scenario, decide). REQUIRES: n <= hi - lo + 1.
  std::vector<int> distinct(int n, int lo, int hi) {
    std::vector<int> out;
    while (static_cast<int>(out.size()) < n) {
      const int x = static_cast<int>(between(lo, hi));
      if (std::find(out.begin(), out.end(), x) == out.end()) out.push_back(x);
    }
    return out;
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      std::swap(v[i - 1],
                v[static_cast<std::size_t>(between(0, static_cast<std::int64_t>(i) - 1))]);
    }
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace failoverd::sim::detail
