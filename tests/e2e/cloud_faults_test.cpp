// Cloud faults end to end: two failoverd nodes and the fake DigitalOcean API; the master is
// killed (-9) while the API misbehaves in one way, and the new master must still end up
// holding the reserved IP. (A wrong token, which must end in FAULT, is in reserved_ip_test.)
#include <gtest/gtest.h>

#include <cstdio>

#include "harness/split.h"

namespace failoverd::e2e {
namespace {

struct Fault {
  const char* name;
  const char* faults;       // POST /_fake/faults body
  std::size_t min_assigns;  // assign requests node-b must have sent
};

void PrintTo(const Fault& f, std::ostream* os) {
  *os << f.name;
}

class CloudFaults : public CloudTwoHostTest, public ::testing::WithParamInterface<Fault> {};

TEST_P(CloudFaults, TheNewMasterStillGetsTheAddress) {
  const Fault& f = GetParam();
  Node& a = start_node(cloud_node(0, "node-a", 150));
  ASSERT_TRUE(a.wait_state("MASTER", 8s));
  Node& b = start_node(cloud_node(1, "node-b", 100));
  ASSERT_TRUE(b.wait_state("BACKUP", 5s));
  ASSERT_TRUE(wait_until([&] { return holder() == 1; }, 10s)) << "holder " << holder();
  const std::size_t before = assign_requests();

  ASSERT_TRUE(set_faults(nlohmann::json::parse(f.faults))) << f.faults;
  a.kill9();
  const auto start = Clock::now();
  ASSERT_TRUE(b.wait_state("MASTER", 5s));
  const auto took = wait_until([&] { return holder() == 2; }, 40s, 100ms);
  ASSERT_TRUE(took) << f.name << ": holder " << holder();
  std::fprintf(stderr, "%s: the address on node-b %.1fs after the kill\n", f.name,
               seconds(Clock::now() - start));
  EXPECT_EQ(b.state(), "MASTER") << "a fault that retrying fixes must not put node-b in FAULT";
  EXPECT_GE(assign_requests() - before, f.min_assigns);
  std::optional<nlohmann::json> s;
  EXPECT_TRUE(wait_until(
      [&] {
        s = b.status();
        return s && (*s)["reserved_ip"]["holder"] == "this node";
      },
      20s))
      << (s ? s->dump() : "no status");
}

INSTANTIATE_TEST_SUITE_P(
    Matrix, CloudFaults,
    ::testing::Values(
        Fault{"ServerErrors", R"({"fail_next": 4, "fail_status": 503})", 1},
        Fault{"RateLimitedWithRetryAfter", R"({"rate_limit_next": 3, "retry_after": 1})", 1},
        Fault{"LockedIp", R"({"lock_next_assigns": 3})", 4},
        Fault{"SlowAnswers", R"({"delay_ms": 1200})", 1},
        Fault{"DroppedConnections", R"({"drop_next": 4})", 1},
        Fault{"ActionInProgressForAWhile", R"({"action_polls": 6})", 1},
        Fault{"ActionErroredOnce", R"({"error_next_actions": 1})", 2}),
    [](const ::testing::TestParamInfo<Fault>& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace failoverd::e2e
