#include "failoverd/cloud/http_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "fake_digitalocean.h"
#include "test_support.h"

namespace failoverd::cloud {
namespace {

using testing::FakeClock;
using testing::FakeDigitalOcean;
using testing::LogCapture;
using namespace std::chrono_literals;

// ---- pure helpers ----

TEST(RedactUrl, DropsQueryFragmentAndUserInfo) {
  EXPECT_EQ(redact_url("https://api.digitalocean.com/v2/reserved_ips/1.2.3.4?token=abc"),
            "https://api.digitalocean.com/v2/reserved_ips/1.2.3.4");
  EXPECT_EQ(redact_url("https://user:pw@host:8443/a/b#frag"), "https://host:8443/a/b");
  EXPECT_EQ(redact_url("http://h?x=1"), "http://h");
  EXPECT_EQ(redact_url("http://127.0.0.1:80/metadata/v1/id"), "http://127.0.0.1:80/metadata/v1/id");
  EXPECT_EQ(redact_url("not a url?secret"), "not a url");
}

TEST(Scrub, ReplacesEveryOccurrence) {
  EXPECT_EQ(scrub("a tok b tok", "tok"), "a [REDACTED] b [REDACTED]");
  EXPECT_EQ(scrub("nothing here", ""), "nothing here");
  EXPECT_EQ(scrub("xx", "x"), "[REDACTED][REDACTED]");
}

TEST(Backoff, FullJitterDoublesUpToTheCap) {
  RetryPolicy p;
  p.base_delay = 200ms;
  p.max_delay = 1000ms;
  EXPECT_EQ(backoff_delay(2, p, 1.0), 200ms);
  EXPECT_EQ(backoff_delay(3, p, 1.0), 400ms);
  EXPECT_EQ(backoff_delay(4, p, 1.0), 800ms);
  EXPECT_EQ(backoff_delay(5, p, 1.0), 1000ms);
  EXPECT_EQ(backoff_delay(40, p, 1.0), 1000ms);
  EXPECT_EQ(backoff_delay(3, p, 0.5), 200ms);
  EXPECT_EQ(backoff_delay(3, p, 0.0), 0ms);
}

TEST(ServerRetryDelay, RetryAfterSecondsDateAndRatelimitReset) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1704067200));
  HttpResponse r;
  EXPECT_FALSE(server_retry_delay(r, now, 30s).has_value());

  r.headers = {{"retry-after", "7"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s), Millis(7000));
  r.headers = {{"retry-after", "3600"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s), Millis(30000)) << "capped";
  // 2024-01-01T00:00:12Z as an HTTP date.
  r.headers = {{"retry-after", "Mon, 01 Jan 2024 00:00:12 GMT"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s), Millis(12000));
  // DigitalOcean: ratelimit-reset is an epoch.
  r.headers = {{"ratelimit-reset", "1704067209"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s), Millis(9000));
  r.headers = {{"ratelimit-reset", "1704060000"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s), Millis(0)) << "in the past";
  // Retry-After wins over ratelimit-reset.
  r.headers = {{"ratelimit-reset", "1704067209"}, {"retry-after", "2"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s), Millis(2000));
  r.headers = {{"retry-after", "soon"}};
  EXPECT_FALSE(server_retry_delay(r, now, 30s).has_value());
}

// Hetzner: RateLimit-Reset is when the bucket is full again; one request is back after
// 3600 s / RateLimit-Limit, and that is the wait.
TEST(ServerRetryDelay, FullRefillResetWaitsOneRefill) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1704067200));
  const auto full = RateLimitReset::kFullRefill;
  HttpResponse r;
  r.headers = {{"ratelimit-limit", "3600"},
               {"ratelimit-remaining", "0"},
               {"ratelimit-reset", "1704070800"}};  // an hour away
  EXPECT_EQ(server_retry_delay(r, now, 30s, full), Millis(1000));
  EXPECT_EQ(server_retry_delay(r, now, 30s), Millis(30000)) << "DigitalOcean's meaning";
  r.headers = {{"ratelimit-limit", "360"}, {"ratelimit-remaining", "0"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s, full), Millis(10000));
  r.headers = {{"ratelimit-limit", "1"}, {"ratelimit-remaining", "0"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s, full), Millis(30000)) << "capped";
  r.headers = {};
  EXPECT_EQ(server_retry_delay(r, now, 30s, full), Millis(1000)) << "the default 3600/h";
  r.headers = {{"ratelimit-limit", "3600"}, {"ratelimit-remaining", "12"}};
  EXPECT_FALSE(server_retry_delay(r, now, 30s, full).has_value()) << "requests remain: backoff";
  r.headers = {{"retry-after", "4"}, {"ratelimit-remaining", "0"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s, full), Millis(4000)) << "Retry-After still wins";
}

// Found by fuzzing: these once overflowed `seconds * 1000` (undefined behaviour). Far-future
// values wait the cap, never a wrapped-around negative or huge delay.
TEST(ServerRetryDelay, HugeHeaderValuesAreClampedToTheCap) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1704067200));
  HttpResponse r;
  r.headers = {{"ratelimit-reset", "999999999999999999"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s), Millis(30000));
  r.headers = {{"retry-after", "999999999999999999"}};
  EXPECT_EQ(server_retry_delay(r, now, 30s), Millis(30000));
  r.headers = {{"retry-after", "31 Dec 1000000000 GMT"}};
  const auto far_date = server_retry_delay(r, now, 30s);
  if (far_date) {
    EXPECT_EQ(*far_date, Millis(30000));
  }
  r.headers = {{"ratelimit-reset", "9999999999999999999999"}};
  EXPECT_FALSE(server_retry_delay(r, now, 30s).has_value()) << "more digits than fit: ignored";
}

TEST(ParseApiError, ReadsIdMessageRequestId) {
  HttpError e;
  parse_api_error(R"({"id":"unauthorized","message":"Unable to authenticate you",)"
                  R"("request_id":"4d9d8375-3c56-4925-a3e7-eb137fed17e9"})",
                  e);
  EXPECT_EQ(e.api_id, "unauthorized");
  EXPECT_EQ(e.api_message, "Unable to authenticate you");
  EXPECT_EQ(e.request_id, "4d9d8375-3c56-4925-a3e7-eb137fed17e9");

  HttpError junk;
  parse_api_error("<html>502 Bad Gateway</html>", junk);
  EXPECT_TRUE(junk.api_id.empty());
  EXPECT_TRUE(junk.api_message.empty());

  HttpError multiline;
  parse_api_error(R"({"id":"x","message":"line one\nline two"})", multiline);
  EXPECT_EQ(multiline.api_message, "line one line two");
}

// ---- against the fake API ----

class HttpClientTest : public ::testing::Test {
 protected:
  HttpClientTest() { fake.add_reserved_ip("203.0.113.10", 1); }

  CurlHttpClient make_client(RetryPolicy retry = {}) {
    HttpClientOptions o;
    o.connect_timeout = 1000ms;
    o.request_timeout = 2000ms;
    o.retry = retry;
    o.log = logs.sink();
    o.random = [] { return 1.0; };  // the top of the jitter range: deterministic waits
    return CurlHttpClient(std::move(o), clock);
  }

  HttpRequest get_ip() {
    HttpRequest r;
    r.url = fake.url() + "/v2/reserved_ips/203.0.113.10";
    r.bearer_token = "fake-do-token";
    return r;
  }

  FakeDigitalOcean fake;
  FakeClock clock;
  LogCapture logs;
};

TEST_F(HttpClientTest, SuccessIsOneAttemptWithHeadersAndOneLogLine) {
  auto client = make_client();
  auto res = client.request(get_ip());
  ASSERT_TRUE(res) << res.error().to_string();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->attempts, 1);
  EXPECT_NE(res->body.find("\"reserved_ip\""), std::string::npos);
  EXPECT_EQ(res->header("RateLimit-Limit"), "5000");
  EXPECT_TRUE(res->header("ratelimit-remaining").has_value());
  ASSERT_EQ(logs.lines().size(), 1u);
  EXPECT_NE(
      logs.lines()[0].find("GET " + fake.url() + "/v2/reserved_ips/203.0.113.10 attempt 1/5: 200"),
      std::string::npos)
      << logs.lines()[0];
  ASSERT_EQ(fake.requests().size(), 1u);
  EXPECT_EQ(fake.requests()[0].authorization, "Bearer fake-do-token");
}

TEST_F(HttpClientTest, ServerErrorsAreRetriedWithExponentialBackoff) {
  fake.fail_next(2, 503);
  auto client = make_client();
  auto res = client.request(get_ip());
  ASSERT_TRUE(res) << res.error().to_string();
  EXPECT_EQ(res->attempts, 3);
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{200ms, 400ms}));
  const auto lines = logs.lines();
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_NE(lines[0].find("attempt 1/5: HTTP 503 server_error"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("retry in 200ms"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("retry in 400ms"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("attempt 3/5: 200"), std::string::npos) << lines[2];
  EXPECT_EQ(fake.count("GET", "/v2/reserved_ips/"), 3u);
}

TEST_F(HttpClientTest, AttemptsAreBounded) {
  fake.fail_next(10, 500);
  RetryPolicy p;
  p.max_attempts = 3;
  auto client = make_client(p);
  auto res = client.request(get_ip());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, HttpErrorKind::kHttpStatus);
  EXPECT_EQ(res.error().status, 500);
  EXPECT_EQ(res.error().api_id, "server_error");
  EXPECT_EQ(res.error().attempts, 3);
  EXPECT_EQ(fake.requests().size(), 3u);
  EXPECT_NE(logs.lines().back().find("no attempts left"), std::string::npos);
}

TEST_F(HttpClientTest, OtherClientErrorsAreNotRetried) {
  auto client = make_client();
  HttpRequest r = get_ip();
  r.url = fake.url() + "/v2/reserved_ips/198.51.100.1";  // unknown
  auto res = client.request(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, HttpErrorKind::kHttpStatus);
  EXPECT_EQ(res.error().status, 404);
  EXPECT_EQ(res.error().api_id, "not_found");
  EXPECT_EQ(res.error().attempts, 1);
  EXPECT_FALSE(res.error().request_id.empty());
  EXPECT_TRUE(clock.sleeps.empty());
  EXPECT_EQ(fake.requests().size(), 1u);

  r = get_ip();
  r.bearer_token = "wrong";
  auto unauth = client.request(r);
  ASSERT_FALSE(unauth);
  EXPECT_EQ(unauth.error().status, 401);
  EXPECT_EQ(unauth.error().api_id, "unauthorized");
  EXPECT_EQ(unauth.error().api_message, "Unable to authenticate you");
  EXPECT_EQ(unauth.error().attempts, 1);
  EXPECT_EQ(fake.requests().size(), 2u);
}

TEST_F(HttpClientTest, RedirectsAreAnErrorThatSaysRedirect) {
  auto client = make_client();
  for (const int status : {301, 302, 307, 308}) {
    fake.fail_next(1, status);
    auto res = client.request(get_ip());
    ASSERT_FALSE(res) << status;
    EXPECT_EQ(res.error().kind, HttpErrorKind::kHttpStatus);
    EXPECT_EQ(res.error().status, status);
    EXPECT_EQ(res.error().attempts, 1) << "a redirect is not retried";
    EXPECT_NE(res.error().to_string().find("HTTP " + std::to_string(status) + " redirect"),
              std::string::npos)
        << res.error().to_string();
  }
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST_F(HttpClientTest, RateLimitHonoursRetryAfter) {
  fake.rate_limit_next(1, 3);
  auto client = make_client();
  auto res = client.request(get_ip());
  ASSERT_TRUE(res) << res.error().to_string();
  EXPECT_EQ(res->attempts, 2);
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{3000ms}));
  EXPECT_NE(logs.lines()[0].find("HTTP 429 too_many_requests"), std::string::npos);
}

TEST_F(HttpClientTest, RateLimitHonoursRatelimitResetEpoch) {
  fake.rate_limit_next(1, std::nullopt, FakeClock::kWallEpoch + 7);
  auto client = make_client();
  auto res = client.request(get_ip());
  ASSERT_TRUE(res) << res.error().to_string();
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{7000ms}));
}

TEST_F(HttpClientTest, ServerAskedWaitIsCapped) {
  fake.rate_limit_next(1, 3600);
  RetryPolicy p;
  p.max_server_delay = 10s;
  p.deadline = 60s;
  auto client = make_client(p);
  auto res = client.request(get_ip());
  ASSERT_TRUE(res) << res.error().to_string();
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{10000ms}));
}

TEST_F(HttpClientTest, DeadlineBoundsAllAttemptsAndWaits) {
  fake.fail_next(100, 502);
  RetryPolicy p;
  p.max_attempts = 50;
  p.base_delay = 1000ms;
  p.max_delay = 4000ms;
  p.deadline = 10s;
  auto client = make_client(p);
  auto res = client.request(get_ip());
  ASSERT_FALSE(res);
  // Waits 1s, 2s, 4s (t = 7s); the next 4s wait would end past 10s: give up after 4 attempts.
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{1000ms, 2000ms, 4000ms}));
  EXPECT_EQ(res.error().attempts, 4);
  EXPECT_EQ(res.error().status, 502);
  EXPECT_NE(logs.lines().back().find("would pass the deadline"), std::string::npos)
      << logs.lines().back();
}

TEST_F(HttpClientTest, RetryAfterBeyondTheDeadlineGivesUpAtOnce) {
  fake.rate_limit_next(1, 20);
  RetryPolicy p;
  p.deadline = 5s;
  auto client = make_client(p);
  auto res = client.request(get_ip());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().status, 429);
  EXPECT_TRUE(clock.sleeps.empty());
}

// DigitalOcean's ratelimit-reset is when the *oldest* counted request expires (and a 429 of
// the per-minute burst limit clears within the minute): a reset beyond the deadline, without
// Retry-After, is still retried within the deadline on the ordinary backoff, not given up.
TEST_F(HttpClientTest, RatelimitResetBeyondTheDeadlineIsStillRetried) {
  fake.rate_limit_next(1, std::nullopt, FakeClock::kWallEpoch + 3000);
  RetryPolicy p;
  p.deadline = 5s;
  auto client = make_client(p);
  auto res = client.request(get_ip());
  ASSERT_TRUE(res) << res.error().to_string();
  EXPECT_EQ(res->attempts, 2);
  ASSERT_EQ(clock.sleeps.size(), 1u);
  EXPECT_LT(clock.sleeps[0], 5s);
  EXPECT_NE(logs.joined().find("past the deadline"), std::string::npos) << logs.joined();
}

TEST_F(HttpClientTest, SlowAnswersTimeOutAndAreRetried) {
  fake.set_delay(400ms);
  HttpClientOptions o;
  o.request_timeout = 100ms;
  o.retry.max_attempts = 2;
  o.log = logs.sink();
  o.random = [] { return 0.0; };
  CurlHttpClient client(std::move(o), clock);
  const auto t0 = std::chrono::steady_clock::now();
  auto res = client.request(get_ip());
  const auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, HttpErrorKind::kTimeout);
  EXPECT_EQ(res.error().attempts, 2);
  EXPECT_LT(took, 1000ms);
  EXPECT_NE(logs.lines()[0].find("timeout"), std::string::npos) << logs.lines()[0];
}

TEST_F(HttpClientTest, DroppedConnectionIsATransportErrorAndRetried) {
  fake.drop_next(1);
  auto client = make_client();
  auto res = client.request(get_ip());
  ASSERT_TRUE(res) << res.error().to_string();
  EXPECT_EQ(res->attempts, 2);
  EXPECT_NE(logs.lines()[0].find("transport error"), std::string::npos) << logs.lines()[0];
  EXPECT_EQ(fake.requests().size(), 2u);
}

TEST_F(HttpClientTest, ConnectionRefusedIsATransportError) {
  std::string dead_url;
  {
    FakeDigitalOcean gone;
    dead_url = gone.url();
  }
  RetryPolicy p;
  p.max_attempts = 2;
  auto client = make_client(p);
  HttpRequest r;
  r.url = dead_url + "/metadata/v1/id";
  auto res = client.request(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, HttpErrorKind::kTransport);
  EXPECT_EQ(res.error().attempts, 2);
}

TEST_F(HttpClientTest, OversizedBodyIsRefusedAndNotRetried) {
  HttpClientOptions o;
  o.max_body_bytes = 64;
  o.log = logs.sink();
  CurlHttpClient client(std::move(o), clock);
  auto res = client.request(get_ip());
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, HttpErrorKind::kTransport);
  EXPECT_NE(res.error().detail.find("larger than 64 bytes"), std::string::npos);
  EXPECT_EQ(res.error().attempts, 1);
}

TEST_F(HttpClientTest, MalformedUrlIsNotRetried) {
  auto client = make_client();
  HttpRequest r;
  r.url = "ftp://example.invalid/x";
  auto res = client.request(r);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().kind, HttpErrorKind::kTransport);
  EXPECT_EQ(res.error().attempts, 1);
  EXPECT_TRUE(clock.sleeps.empty());
}

TEST_F(HttpClientTest, TokenAndQueryNeverAppearInLogsOrErrors) {
  const std::string token = "dop_v1_SECRETSECRETSECRET";
  fake.set_token(token);
  fake.fail_next(1, 500);
  auto client = make_client();
  HttpRequest r = get_ip();
  r.url += "?access_token=QUERYSECRET";
  r.bearer_token = token;
  auto ok = client.request(r);
  ASSERT_TRUE(ok) << ok.error().to_string();
  EXPECT_EQ(fake.requests().back().authorization, "Bearer " + token) << "the token was sent";

  r.bearer_token = token + "-wrong";
  auto bad = client.request(r);
  ASSERT_FALSE(bad);
  const std::string text = bad.error().to_string() + bad.error().api_message + bad.error().detail;
  const std::string all = logs.joined() + text;
  EXPECT_EQ(all.find("SECRET"), std::string::npos) << all;
  EXPECT_EQ(all.find("Bearer"), std::string::npos) << all;
  EXPECT_EQ(all.find("uthorization"), std::string::npos) << all;
  EXPECT_NE(text.find("GET " + fake.url() + "/v2/reserved_ips/203.0.113.10: HTTP 401"),
            std::string::npos)
      << text;
  EXPECT_EQ(logs.lines().size(), 3u);
}

}  // namespace
}  // namespace failoverd::cloud
