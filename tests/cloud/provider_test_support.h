// Fixtures the provider tests share: a private directory for token files, and the clock, log
// capture and HTTP client a provider under test runs with.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "failoverd/cloud/http_client.h"
#include "test_support.h"

namespace failoverd::cloud::testing {

// A fresh directory under /tmp per test, removed after it.
class TokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/fod-cloud-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir); }

  // Writes the token file with `content` and `mode`; returns its path.
  std::string write(const std::string& content, mode_t mode) {
    const std::string path = dir + "/api.token";
    std::ofstream(path) << content;
    ::chmod(path.c_str(), mode);
    return path;
  }

  std::string dir;
};

// A provider's test against its fake API: `clock` drives its waits, `logs` captures what the
// provider and its HTTP client log.
class ProviderTest : public ::testing::Test {
 protected:
  // The HTTP client of the provider under test: short timeouts (a request timeout the test did
  // not set becomes 2 s), the longest backoff, and its log lines in `logs`.
  std::unique_ptr<HttpClient> http_client(HttpClientOptions http) {
    using namespace std::chrono_literals;
    http.connect_timeout = 1000ms;
    if (http.request_timeout == HttpClientOptions{}.request_timeout) http.request_timeout = 2000ms;
    http.log = logs.sink();
    http.random = [] { return 1.0; };
    return std::make_unique<CurlHttpClient>(std::move(http), clock);
  }

  // Neither `token` nor its marker nor a bearer header is in the logs or in `extra`.
  void expect_no_token(const std::string& token, const std::string& extra = {}) {
    const std::string all = logs.joined() + extra;
    EXPECT_EQ(all.find(token), std::string::npos) << all;
    EXPECT_EQ(all.find("TOPSECRET"), std::string::npos) << all;
    EXPECT_EQ(all.find("Bearer"), std::string::npos) << all;
  }

  // Another node's JSON request, sent past the provider (e.g. its assign, to lock the address).
  bool send_as_other_node(const std::string& method, const std::string& url,
                          const std::string& token, const std::string& body) {
    HttpRequest r;
    r.method = method;
    r.url = url;
    r.bearer_token = token;
    r.body = body;
    CurlHttpClient raw(HttpClientOptions{}, clock);
    return raw.request(r).has_value();
  }

  FakeClock clock;
  LogCapture logs;
};

}  // namespace failoverd::cloud::testing
