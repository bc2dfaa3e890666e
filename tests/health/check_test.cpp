// make_check loads libcurl only for the checks that speak HTTP: a daemon with tcp and exec
// checks stays as small as one without checks (ARCHITECTURE.md, "libcurl"). ctest runs each
// test in a process of its own, so "not mapped yet" is meaningful here.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "failoverd/health/check.h"

namespace failoverd::health {
namespace {

bool libcurl_mapped() {
  std::ifstream maps("/proc/self/maps");
  std::stringstream all;
  all << maps.rdbuf();
  return all.str().find("libcurl") != std::string::npos;
}

TEST(MakeCheck, OnlyHttpChecksLoadLibcurl) {
  if (::testing::UnitTest::GetInstance()->test_to_run_count() > 1 && libcurl_mapped()) {
    GTEST_SKIP() << "another test in this process loaded libcurl already";
  }
  config::CheckConfig cfg;
  cfg.timeout = std::chrono::milliseconds(200);
  cfg.spec = config::TcpCheckSpec{{"127.0.0.1", 1}};
  auto tcp = make_check(cfg);
  cfg.spec = config::ExecCheckSpec{{"true"}, std::nullopt};
  auto exec = make_check(cfg);
  EXPECT_FALSE(libcurl_mapped());
  cfg.spec = config::HttpCheckSpec{"http://127.0.0.1:1/", 200, std::nullopt, true};
  auto http = make_check(cfg);
  EXPECT_TRUE(libcurl_mapped());
}

}  // namespace
}  // namespace failoverd::health
