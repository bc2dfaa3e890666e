// The config's limits with literal hostile inputs: a 10 MB line, a 10 MB file,
// a 10 MB value, section name and `--set` (100,000 sections: config_test.cpp). Each is a clear, short problem, and fast: the work is linear in the input
// (no timing asserts here; the ctest timeout would catch a quadratic path, the benchmarks
// measure).
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "failoverd/config/config.h"
#include "test_util.h"

namespace failoverd::config {
namespace {

using testing::kMinimal;
using testing::minimal_plus;
using testing::problems;
using ::testing::HasSubstr;

constexpr std::size_t k10MB = 10 * 1000 * 1000;

// Every problem is one line of bounded length: a 10 MB value is never echoed in full.
void expect_short(const std::vector<std::string>& ps) {
  for (const auto& p : ps) {
    EXPECT_LT(p.size(), 400u) << p.substr(0, 400);
    EXPECT_EQ(p.find('\n'), std::string::npos);
  }
}

TEST(ConfigLimits, TenMegabyteLineIsOneShortProblem) {
  const auto ps = problems(minimal_plus(std::string(k10MB, 'x')));
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0], "[vrrp] line 8: \"" + std::string(60, 'x') +
                       "...\" is neither a [section] nor a key = value line");
}

TEST(ConfigLimits, TenMegabyteValueIsOneShortProblem) {
  const auto ps = problems(minimal_plus("priority = " + std::string(k10MB, '9') + "\n"));
  ASSERT_EQ(ps.size(), 1u);
  expect_short(ps);
  EXPECT_THAT(ps[0], HasSubstr("[vrrp] priority: " + std::string(60, '9') + "... is out of range 1..254"));
}

TEST(ConfigLimits, TenMegabyteSectionNameIsOneShortProblem) {
  const auto ps =
      problems(std::string(kMinimal) + "[check." + std::string(k10MB, 'n') + "]\ntype = tcp\n");
  ASSERT_EQ(ps.size(), 1u);
  expect_short(ps);
}

TEST(ConfigLimits, TenMegabyteSetOverrideIsOneShortProblem) {
  for (const std::string& set : {"vrrp.priority=" + std::string(k10MB, '9'),
                                 "vrrp." + std::string(k10MB, 'k') + "=1",
                                 std::string(k10MB, 's') + ".priority=1",
                                 std::string(k10MB, '=')}) {
    const auto ps = problems(kMinimal, {set});
    ASSERT_EQ(ps.size(), 1u) << set.substr(0, 40);
    expect_short(ps);
    // Either the override's own problem or the value's, always one short line.
    EXPECT_THAT(ps[0], ::testing::AnyOf(HasSubstr("[command line]"), HasSubstr("[vrrp]")))
        << ps[0];
  }
}

TEST(ConfigLimits, TenMegabyteFileIsRefusedBeforeParsing) {
  char path[] = "/tmp/failoverd-limits-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    std::ofstream out(path, std::ios::binary);
    out << kMinimal;
    out << std::string(k10MB, '#');
  }
  const auto r = load_config(path);
  std::remove(path);
  ASSERT_FALSE(r);
  ASSERT_EQ(r.error().size(), 1u);
  EXPECT_THAT(r.error()[0].to_string(), HasSubstr("1 MiB")) << r.error()[0].to_string();
}

}  // namespace
}  // namespace failoverd::config
