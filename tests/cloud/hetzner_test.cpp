#include "failoverd/cloud/hetzner.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "fake_hetzner.h"
#include "provider_test_support.h"

namespace failoverd::cloud {
namespace {

using testing::FakeClock;
using testing::FakeHetzner;
using namespace std::chrono_literals;

constexpr const char* kIp = "203.0.113.20";
constexpr std::uint64_t kMe = 42;
constexpr std::uint64_t kOther = 41;
const std::string kToken = "hcloud_0123456789abcdefTOPSECRET";

// A spec excerpt from tests/data/api (see its README).
std::string spec_file(const std::string& name) {
  std::ifstream in(std::string(FAILOVERD_TESTDATA_DIR) + "/api/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- parsing, from the documented shapes ----

// The spec's own assign answer: already "success", with a non-null "error" object even so.
TEST(ParseHetznerAction, SpecAssignExampleIsASuccess) {
  for (const char* name : {"hetzner.POST_v1_floating_ips_id_actions_assign.201.openapi.json",
                           "hetzner.POST_v1_floating_ips_id_actions_assign.201.json"}) {
    const std::string body = spec_file(name);
    ASSERT_FALSE(body.empty()) << name;
    auto a = parse_hetzner_action(body);
    ASSERT_TRUE(a) << a.error();
    EXPECT_EQ(a->id, 13u);
    EXPECT_EQ(a->status, "success");
    EXPECT_EQ(a->command, "assign_floating_ip");
  }
}

// The error-codes table: which answers are passing and which are not.
TEST(HetznerErrors, TransientAndAlreadyAssignedFollowTheTable) {
  auto e = [](long status, const std::string& code) {
    HttpError h;
    h.kind = HttpErrorKind::kHttpStatus;
    h.status = status;
    h.api_id = code;
    return h;
  };
  EXPECT_TRUE(is_hetzner_transient(e(403, "maintenance")));
  EXPECT_TRUE(is_hetzner_transient(e(412, "resource_unavailable")));
  EXPECT_TRUE(is_hetzner_transient(e(422, "service_error")));
  EXPECT_FALSE(is_hetzner_transient(e(403, "forbidden")));
  EXPECT_FALSE(is_hetzner_transient(e(422, "invalid_input")));
  EXPECT_TRUE(is_hetzner_already_assigned(e(422, "floating_ip_assigned")));
  EXPECT_FALSE(is_hetzner_already_assigned(e(422, "invalid_input")));
  // The table's text, so the test breaks if the copied excerpt stops saying so.
  const std::string table = spec_file("hetzner.error-codes.openapi.md");
  EXPECT_NE(table.find("| `403` | `maintenance` | Cannot perform operation due to maintenance."),
            std::string::npos);
  EXPECT_NE(spec_file("hetzner.POST_v1_floating_ips_id_actions_assign.operation-errors.openapi.md")
                .find("`floating_ip_assigned`"),
            std::string::npos);
}

TEST(ParseFloatingIpPage, DocumentedShapeAndPagination) {
  auto page = parse_floating_ip_page(R"({"floating_ips":[{"id":42,"name":"my-resource",
      "description":"This describes my resource","ip":"131.232.99.1","type":"ipv4","server":42,
      "dns_ptr":[{"ip":"2001:db8::1","dns_ptr":"server.example.com"}],
      "home_location":{"id":42,"name":"fsn1","network_zone":"eu-central"},"blocked":false,
      "protection":{"delete":false},"labels":{},"created":"2016-01-30T23:55:00+00:00"},
      {"id":43,"ip":"2001:db8::/64","type":"ipv6","server":null,"blocked":true}],
      "meta":{"pagination":{"page":3,"per_page":25,"previous_page":2,"next_page":4,
      "last_page":4,"total_entries":100}}})");
  ASSERT_TRUE(page) << page.error();
  ASSERT_EQ(page->floating_ips.size(), 2u);
  EXPECT_EQ(page->floating_ips[0].id, 42u);
  EXPECT_EQ(page->floating_ips[0].ip, "131.232.99.1");
  EXPECT_EQ(page->floating_ips[0].server, 42u);
  EXPECT_FALSE(page->floating_ips[1].server.has_value());
  EXPECT_TRUE(page->floating_ips[1].blocked);
  EXPECT_EQ(page->floating_ips[1].type, "ipv6");
  EXPECT_EQ(page->next_page, 4);

  auto last = parse_floating_ip_page(
      R"({"floating_ips":[],"meta":{"pagination":{"page":1,"next_page":null}}})");
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->next_page.has_value());

  EXPECT_EQ(parse_floating_ip_page("<html>").error(), "body is not JSON");
  EXPECT_EQ(parse_floating_ip_page(R"({"servers":[]})").error(), "no \"floating_ips\" array");
  EXPECT_EQ(parse_floating_ip_page(R"({"floating_ips":[{"ip":"1.2.3.4","server":null}]})").error(),
            "floating_ips[0].id is not a positive integer");
  EXPECT_EQ(parse_floating_ip_page(R"({"floating_ips":[{"id":1,"ip":"1.2.3.4"}]})").error(),
            "floating_ips[0] has no \"server\"");
  EXPECT_EQ(
      parse_floating_ip_page(R"({"floating_ips":[{"id":1,"ip":"1.2.3.4","server":"x"}]})").error(),
      "floating_ips[0].server is not a positive integer or null");
  EXPECT_EQ(
      parse_floating_ip_page(R"({"floating_ips":[],"meta":{"pagination":{"next_page":"two"}}})")
          .error(),
      "meta.pagination.next_page is not a page number");
}

TEST(ParseFloatingIp, SingleObject) {
  auto f = parse_floating_ip(
      R"({"floating_ip":{"id":4711,"ip":"131.232.99.1","type":"ipv4","server":null}})");
  ASSERT_TRUE(f) << f.error();
  EXPECT_EQ(f->id, 4711u);
  EXPECT_FALSE(f->server.has_value());
  EXPECT_EQ(parse_floating_ip(R"({"floating_ips":[]})").error(), "no \"floating_ip\" object");
}

TEST(ParseHetznerAction, RunningSuccessAndError) {
  auto running = parse_hetzner_action(R"({"action":{"id":13,"command":"assign_floating_ip",
      "status":"running","progress":0,"started":"2016-01-30T23:50:00+00:00","finished":null,
      "resources":[{"id":42,"type":"server"},{"id":4711,"type":"floating_ip"}],"error":null}})");
  ASSERT_TRUE(running) << running.error();
  EXPECT_EQ(running->id, 13u);
  EXPECT_EQ(running->status, "running");
  EXPECT_EQ(running->command, "assign_floating_ip");
  EXPECT_TRUE(running->error_code.empty());

  auto failed =
      parse_hetzner_action(R"({"action":{"id":14,"status":"error","error":{"code":"action_failed",)"
                           R"("message":"Action failed"}}})");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->error_code, "action_failed");
  EXPECT_EQ(failed->error_message, "Action failed");

  EXPECT_EQ(parse_hetzner_action(R"({"action":{"status":"running"}})").error(),
            "action.id is not a positive integer");
  EXPECT_EQ(parse_hetzner_action(R"({"action":{"id":1}})").error(),
            "action.status is not a string");
  EXPECT_EQ(parse_hetzner_action("[]").error(), "no \"action\" object");
}

TEST(ParseInstanceId, PlainTextNumber) {
  EXPECT_EQ(parse_instance_id("42").value(), 42u);
  EXPECT_EQ(parse_instance_id("42\n").value(), 42u);
  EXPECT_EQ(parse_instance_id("").error(), "empty server id");
  EXPECT_EQ(parse_instance_id("0").error(), "server id is 0");
  EXPECT_EQ(parse_instance_id("instance-id: 42").error(), "server id is not a number");
  EXPECT_EQ(parse_instance_id("123456789012345678901").error(), "server id is too long");
}

TEST(IsHetznerLocked, LockedAndConflictButNotProtected) {
  HttpError e;
  e.kind = HttpErrorKind::kHttpStatus;
  e.status = 423;
  e.api_id = "locked";
  EXPECT_TRUE(is_hetzner_locked(e));
  e.api_id = "protected";
  EXPECT_FALSE(is_hetzner_locked(e));
  e.status = 409;
  e.api_id = "conflict";
  EXPECT_TRUE(is_hetzner_locked(e));
  e.status = 422;
  e.api_id = "invalid_input";
  EXPECT_FALSE(is_hetzner_locked(e));
  e.kind = HttpErrorKind::kTimeout;
  e.status = 423;
  e.api_id = "locked";
  EXPECT_FALSE(is_hetzner_locked(e));
}

TEST(ParseApiError, HetznerShape) {
  HttpError e;
  parse_api_error(R"({"error":{"code":"locked","message":"The item you are trying to access is )"
                  R"(locked","details":{}}})",
                  e);
  EXPECT_EQ(e.api_id, "locked");
  EXPECT_EQ(e.api_message, "The item you are trying to access is locked");
  EXPECT_TRUE(e.request_id.empty());
  e.kind = HttpErrorKind::kHttpStatus;
  e.status = 423;
  EXPECT_EQ(e.to_string(),
            "HTTP 423 locked: The item you are trying to access is locked "
            "(after 0 attempts)");
}

// ---- the provider against the fake API ----

class HetznerTest : public testing::ProviderTest {
 protected:
  HetznerTest() : fake(make_fake_options()) {
    // The bucket refills as the claim's (virtual) waits pass.
    fake.use_clock([this] { return clock.wall_now(); });
    fake.add_floating_ip("198.51.100.7", 7);
    fip = fake.add_floating_ip(kIp, kOther);
  }

  static FakeHetzner::Options make_fake_options() {
    FakeHetzner::Options o;
    o.token = kToken;
    o.metadata_server_id = kMe;
    return o;
  }

  Hetzner make(std::optional<std::uint64_t> server = kMe,
               HttpClientOptions http = HttpClientOptions{}, const std::string& ip = kIp) {
    HetznerOptions o;
    o.api_url = fake.url() + "/";  // a trailing slash must not double up
    o.metadata_url = fake.url();
    o.address = *util::Ipv4::parse(ip);
    o.server_id = server;
    o.token = kToken;
    o.claim_deadline = 60s;
    o.log = logs.sink();
    return Hetzner(std::move(o), http_client(hetzner_http_options(std::move(http))), clock);
  }

  void expect_no_secret(const std::string& extra = {}) { expect_no_token(kToken, extra); }

  FakeHetzner fake;
  std::uint64_t fip = 0;
};

TEST_F(HetznerTest, AlreadyOursSendsNoAssign) {
  fake.set_server(fip, kMe);
  auto provider = make();
  const ClaimReport r = provider.claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kAlreadyHeld) << r.detail;
  EXPECT_EQ(r.attempts, 0);
  EXPECT_FALSE(r.error.has_value());
  EXPECT_EQ(r.detail, "floating IP 203.0.113.20: already on server 42");
  EXPECT_EQ(fake.count("POST", "/"), 0u);
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, "/v1/floating_ips?page=1&per_page=50");
  EXPECT_EQ(reqs[1].path, "/v1/floating_ips/" + std::to_string(fip));
  EXPECT_EQ(reqs[1].authorization, "Bearer " + kToken);
}

TEST_F(HetznerTest, AssignsAndPollsUntilSuccess) {
  fake.set_action_polls(3);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(fake.holder(fip), kMe);
  ASSERT_EQ(fake.assignments().size(), 1u);
  EXPECT_EQ(fake.assignments()[0].server, kMe);

  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 7u);  // list, GET ip, POST assign, 4 polls (3 running, 1 success)
  EXPECT_EQ(reqs[2].method, "POST");
  EXPECT_EQ(reqs[2].path, "/v1/floating_ips/" + std::to_string(fip) + "/actions/assign");
  EXPECT_EQ(nlohmann::json::parse(reqs[2].body), nlohmann::json({{"server", kMe}}));
  EXPECT_EQ(fake.count("GET", "/v1/actions/"), 4u);
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{250ms, 500ms, 1000ms, 2000ms}));
  EXPECT_NE(r.detail.find("assigned to server 42 (was server 41) by action"), std::string::npos)
      << r.detail;
  expect_no_secret(r.detail);
}

TEST_F(HetznerTest, UnassignedIpIsClaimed) {
  fake.set_server(fip, std::nullopt);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_NE(r.detail.find("(was nobody)"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.holder(fip), kMe);
}

TEST_F(HetznerTest, ErroredActionIsRetried) {
  fake.error_next_actions(1);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(fake.count("POST", "/v1/floating_ips/"), 2u);
  EXPECT_EQ(fake.holder(fip), kMe);
  EXPECT_NE(logs.joined().find("ended in error action_failed (Action failed) (1/3)"),
            std::string::npos)
      << logs.joined();
}

TEST_F(HetznerTest, ActionsErroringEveryTimeGiveUpBounded) {
  fake.error_next_actions(100);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->kind, CloudErrorKind::kActionErrored);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(fake.count("POST", "/"), 3u);
  EXPECT_EQ(fake.holder(fip), kOther);
}

TEST_F(HetznerTest, LockedIsWaitedOut) {
  fake.lock_next_assigns(2);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(fake.holder(fip), kMe);
  // Two lock waits, then the first poll.
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{1000ms, 1000ms, 250ms}));
  EXPECT_NE(logs.joined().find("HTTP 423 locked"), std::string::npos) << logs.joined();
}

TEST_F(HetznerTest, AnotherNodesRunningActionLocksUntilItEnds) {
  // Another node's assign is running: ours answers 423 until that action is polled to its end.
  fake.set_action_polls(1000);
  ASSERT_TRUE(send_as_other_node(
      "POST", fake.url() + "/v1/floating_ips/" + std::to_string(fip) + "/actions/assign", kToken,
      R"({"server":11})"));
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed) << r.detail;
  EXPECT_EQ(r.error->kind, CloudErrorKind::kDeadline);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_LE(r.latency, 60s);
  EXPECT_EQ(clock.sleeps.size(), 60u);  // 60 s deadline / 1 s lock wait
  EXPECT_NE(r.detail.find("still locked by a running action"), std::string::npos) << r.detail;
}

TEST_F(HetznerTest, ServerErrorsAndRateLimitsAreRecovered) {
  fake.fail_next(2, 503);
  auto provider = make();
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.holder(fip), kMe);
  EXPECT_NE(logs.joined().find("HTTP 503 unavailable"), std::string::npos) << logs.joined();

  // The real API sends no Retry-After, and its RateLimit-Reset is when the bucket is *full*
  // (here an hour away): one request is back after 1 s (3600/h), so that is the wait.
  fake.set_server(fip, kOther);
  fake.rate_limit_next(2, std::nullopt, FakeClock::kWallEpoch + 3600);
  clock.sleeps.clear();
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  ASSERT_GE(clock.sleeps.size(), 2u);
  EXPECT_EQ(clock.sleeps[0], 1000ms);
  EXPECT_EQ(clock.sleeps[1], 1000ms);
  EXPECT_EQ(fake.holder(fip), kMe);
  EXPECT_NE(logs.joined().find("HTTP 429 rate_limit_exceeded"), std::string::npos);

  fake.set_server(fip, kOther);
  fake.rate_limit_next(1, 2);  // and Retry-After, when sent, is honoured
  clock.sleeps.clear();
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(clock.sleeps[0], 2000ms);
  expect_no_secret();
}

// The bucket of docs.hetzner.cloud "Rate Limiting", exhausted: every answer says
// RateLimit-Remaining 0 and a RateLimit-Reset an hour away, yet one request per second goes
// through. The claim must land by waiting ~1 s per 429, with a bounded number of requests
// (waiting for RateLimit-Reset would pass every deadline, and not waiting would hammer it).
TEST_F(HetznerTest, ExhaustedBucketClaimLandsAsItRefills) {
  fake.set_rate_limit(3600, 0);
  auto provider = make();
  fake.clear_requests();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail << "\n" << logs.joined();
  EXPECT_EQ(fake.holder(fip), kMe);
  // list, get, assign, poll: 4 answered requests, each after one 429 and a 1 s wait.
  EXPECT_LE(fake.requests().size(), 10u);
  ASSERT_FALSE(clock.sleeps.empty());
  for (const auto& s : clock.sleeps) EXPECT_LE(s, 1000ms);
  EXPECT_LE(r.latency, 10s);
  EXPECT_NE(logs.joined().find("HTTP 429 rate_limit_exceeded"), std::string::npos);
}

// A smaller project limit refills more slowly: 360/h is one request per 10 s.
TEST_F(HetznerTest, RateLimitWaitFollowsTheLimitHeader) {
  fake.set_rate_limit(360, 0);
  HttpClientOptions http;
  http.retry.deadline = 60s;
  auto provider = make(kMe, http);
  ASSERT_TRUE(provider.floating_ip_id()) << logs.joined();
  ASSERT_FALSE(clock.sleeps.empty());
  EXPECT_EQ(clock.sleeps[0], 10000ms);
}

TEST(HetznerFakeBucket, HeadersFollowTheDocumentedBucket) {
  FakeClock clock;
  FakeHetzner fake;
  fake.use_clock([&clock] { return clock.wall_now(); });
  fake.set_rate_limit(3600, 2);
  HttpRequest req;
  req.url = fake.url() + "/v1/floating_ips";
  req.bearer_token = "fake-hetzner-token";
  HttpClientOptions o;
  o.retry.max_attempts = 1;
  CurlHttpClient http(o, clock);
  auto first = http.request(req);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->header("ratelimit-limit"), "3600");
  EXPECT_EQ(first->header("ratelimit-remaining"), "1");
  // Full again 3599 s from now (3599 missing, 1 per second).
  EXPECT_EQ(first->header("ratelimit-reset"), std::to_string(FakeClock::kWallEpoch + 3599));
  ASSERT_TRUE(http.request(req));
  auto limited = http.request(req);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().status, 429);
  EXPECT_EQ(limited.error().api_id, "rate_limit_exceeded");
  clock.advance(1000ms);
  EXPECT_TRUE(http.request(req)) << "one request back after a second";
}

// An assign answered as the spec's example: "success" at once (no poll), "error" not null.
TEST_F(HetznerTest, AssignThatSucceedsAtOnceIsClaimedWithoutPolling) {
  fake.set_assign_at_once(true);
  auto provider = make();
  fake.clear_requests();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.holder(fip), kMe);
  EXPECT_EQ(fake.count("GET", "/v1/actions"), 0u);
  EXPECT_NE(r.detail.find("0 polls"), std::string::npos) << r.detail;
}

// 422 floating_ip_assigned: it is on that server already (here: another request of ours got
// there between our read and our assign). Ours, not a permanent error, and no second assign.
TEST_F(HetznerTest, AlreadyAssignedAnswerIsAlreadyHeld) {
  auto provider = make();
  fake.move_before_next_assign(kMe);
  fake.clear_requests();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kAlreadyHeld) << r.detail << "\n" << logs.joined();
  EXPECT_EQ(fake.holder(fip), kMe);
  EXPECT_EQ(fake.count("POST", "/v1/floating_ips"), 1u);
  EXPECT_NE(r.detail.find("floating_ip_assigned"), std::string::npos) << r.detail;
}

TEST_F(HetznerTest, FakeAnswersAnAssignToTheHolderAsTheSpecSays) {
  // What the real API answers when an assign names the server that holds it.
  auto provider = make();
  HttpRequest req;
  req.method = "POST";
  req.url = fake.url() + "/v1/floating_ips/" + std::to_string(fip) + "/actions/assign";
  req.bearer_token = kToken;
  req.body = R"({"server":41})";
  CurlHttpClient raw(HttpClientOptions{}, clock);
  auto res = raw.request(req);
  ASSERT_FALSE(res);
  EXPECT_EQ(res.error().status, 422);
  EXPECT_EQ(res.error().api_id, "floating_ip_assigned");
}

// 403 maintenance, 412 resource_unavailable, 422 service_error pass: waited out, not FAULT.
TEST_F(HetznerTest, TransientAssignErrorsAreRetried) {
  fake.error_next_assigns(1, 403, "maintenance", "Cannot perform operation due to maintenance.");
  fake.error_next_assigns(1, 412, "resource_unavailable", "The requested resource is unavailable");
  fake.error_next_assigns(1, 422, "service_error", "Error within a service.");
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail << "\n" << logs.joined();
  EXPECT_EQ(fake.holder(fip), kMe);
  EXPECT_EQ(r.attempts, 4);
  EXPECT_EQ(clock.sleeps.size(), 3u + 1u) << "three waits and one poll";
}

TEST_F(HetznerTest, MaintenanceUntilTheDeadlineIsUnavailableNotAuth) {
  fake.error_next_assigns(1000, 403, "maintenance", "Cannot perform operation due to maintenance.");
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kUnavailable) << r.detail;
  EXPECT_FALSE(r.permanent_failure()) << "the node must not go FAULT for maintenance";
  EXPECT_NE(r.detail.find("maintenance"), std::string::npos) << r.detail;
}

TEST_F(HetznerTest, ForbiddenIsStillAuth) {
  fake.error_next_assigns(1, 403, "forbidden", "Insufficient permissions for this request.");
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kAuth);
  EXPECT_TRUE(r.permanent_failure());
}

TEST_F(HetznerTest, DroppedConnectionsAreRecovered) {
  fake.drop_next(3);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.holder(fip), kMe);
}

TEST_F(HetznerTest, SlowAnswersHitTheTimeout) {
  fake.set_delay(500ms);
  HttpClientOptions http;
  http.request_timeout = 100ms;
  http.retry.max_attempts = 2;
  auto provider = make(kMe, http);
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kUnavailable);
  ASSERT_TRUE(r.error->http.has_value());
  EXPECT_EQ(r.error->http->kind, HttpErrorKind::kTimeout);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_EQ(fake.count("POST", "/"), 0u);
}

TEST_F(HetznerTest, CorruptBodiesAreBadResponsesNotPermanent) {
  auto provider = make();
  fake.corrupt_next(1);  // the list answers 200 with HTML
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kBadResponse);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_NE(r.detail.find("body is not JSON"), std::string::npos) << r.detail;

  // The same after the POST: the assign's answer is garbage; the next claim finds it done.
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
}

TEST_F(HetznerTest, UnauthorizedIsPermanentAndTyped) {
  fake.set_token("another-token");
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->kind, CloudErrorKind::kAuth);
  EXPECT_TRUE(r.permanent_failure());
  ASSERT_TRUE(r.error->http.has_value());
  EXPECT_EQ(r.error->http->status, 401);
  EXPECT_EQ(r.error->http->api_id, "unauthorized");
  EXPECT_EQ(fake.requests().size(), 1u) << "401 is not retried";
  EXPECT_NE(r.detail.find("HTTP 401 unauthorized: unable to authenticate"), std::string::npos)
      << r.detail;
  expect_no_secret(r.detail + r.error->message);
}

TEST_F(HetznerTest, ForbiddenAndReadOnlyTokensArePermanent) {
  auto provider = make();
  fake.fail_next(1, 403);
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kAuth);
  EXPECT_EQ(r.error->http->api_id, "forbidden");
  EXPECT_TRUE(r.permanent_failure());
}

TEST_F(HetznerTest, ServerIdFromMetadataWithoutTheToken) {
  auto provider = make(std::nullopt);
  auto id = provider.server_id();
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, kMe);
  ASSERT_EQ(fake.requests().size(), 1u);
  EXPECT_EQ(fake.requests()[0].path, "/hetzner/v1/metadata/instance-id");
  EXPECT_EQ(fake.requests()[0].authorization, "") << "the API token never goes to metadata";

  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.holder(fip), kMe);
  EXPECT_EQ(fake.count("GET", "/hetzner/"), 1u) << "cached";
}

TEST_F(HetznerTest, MetadataFailureFailsTheClaim) {
  fake.set_metadata_server_id(0);  // 404
  auto provider = make(std::nullopt);
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_NE(r.detail.find("server id from the metadata service"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.count("POST", "/"), 0u);

  fake.set_metadata_server_id(kMe);
  fake.corrupt_next(1);  // HTML instead of a number
  const ClaimReport bad = provider.claim();
  ASSERT_EQ(bad.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(bad.error->kind, CloudErrorKind::kBadResponse);
  EXPECT_NE(bad.detail.find("server id is not a number"), std::string::npos) << bad.detail;
}

TEST_F(HetznerTest, PaginationIsFollowedAndTheIdCached) {
  fake.set_max_per_page(2);
  for (int i = 1; i <= 4; ++i) fake.add_floating_ip("192.0.2." + std::to_string(i), 9);
  const std::uint64_t last = fake.add_floating_ip("192.0.2.200", kOther);  // the 7th: page 4
  auto provider = make(kMe, HttpClientOptions{}, "192.0.2.200");
  auto id = provider.floating_ip_id();
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, last);
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 4u);
  for (std::size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(reqs[i].target, "/v1/floating_ips?page=" + std::to_string(i + 1) + "&per_page=50");
  }
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.holder(last), kMe);
  EXPECT_EQ(fake.count("GET", "/v1/floating_ips") - fake.count("GET", "/v1/floating_ips/"), 4u)
      << "the list is read once";
}

TEST_F(HetznerTest, UnknownAddressIsPermanentNotFound) {
  fake.set_max_per_page(1);
  auto provider = make(kMe, HttpClientOptions{}, "198.51.100.99");
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kNotFound);
  EXPECT_TRUE(r.permanent_failure());
  EXPECT_NE(r.detail.find("not in this project (2 floating IPs on 2 pages"), std::string::npos)
      << r.detail;
}

TEST_F(HetznerTest, StatusReportsTheHolder) {
  auto provider = make();
  auto s = provider.status();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->holder, "41");
  EXPECT_FALSE(s->ours);
  fake.set_server(fip, kMe);
  s = provider.status();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->ours);
  fake.set_server(fip, std::nullopt);
  s = provider.status();
  ASSERT_TRUE(s);
  EXPECT_FALSE(s->holder.has_value());
  EXPECT_FALSE(s->ours);
}

TEST_F(HetznerTest, TokenNeverInAnyLogLineOrError) {
  auto provider = make();
  fake.fail_next(1, 500);
  EXPECT_TRUE(provider.claim().ok());
  fake.set_server(fip, kOther);
  fake.lock_next_assigns(1);
  fake.error_next_actions(1);
  EXPECT_TRUE(provider.claim().ok());
  fake.set_token("rotated");
  const ClaimReport bad = provider.claim();
  ASSERT_FALSE(bad.ok());
  EXPECT_GE(logs.lines().size(), 10u);
  expect_no_secret(bad.detail + bad.error->message + bad.error->http->to_string() +
                   bad.error->http->api_message);
}

// ---- options from the config ----

class HetznerTokenFile : public testing::TokenFileTest {
 protected:
  config::ReservedIpConfig cfg(const std::string& token_file) {
    config::ReservedIpConfig c;
    c.provider = config::Provider::kHetzner;
    c.address = util::Ipv4::parse(kIp);
    c.token_file = token_file;
    c.api_url = "http://127.0.0.1:9";
    c.server_id = 42;
    return c;
  }
};

TEST_F(HetznerTokenFile, ReadsTheTokenFromAPrivateFile) {
  auto o = hetzner_options(cfg(write(kToken + "\n", 0600)));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->token, kToken);
  EXPECT_EQ(o->server_id, 42u);
  EXPECT_EQ(o->api_url, "http://127.0.0.1:9");
  EXPECT_EQ(o->metadata_url, "http://169.254.169.254");
  EXPECT_EQ(o->address.to_string(), kIp);
}

TEST_F(HetznerTokenFile, RefusesAWorldReadableFileWithoutShowingIt) {
  auto o = hetzner_options(cfg(write(kToken, 0644)));
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().kind, CloudErrorKind::kConfig);
  EXPECT_TRUE(o.error().permanent());
  EXPECT_NE(o.error().message.find("readable by group or others"), std::string::npos)
      << o.error().message;
  EXPECT_EQ(o.error().message.find("TOPSECRET"), std::string::npos);
}

TEST_F(HetznerTokenFile, RefusesAnotherProviderAndAMissingAddress) {
  auto c = cfg(write(kToken, 0600));
  c.provider = config::Provider::kDigitalOcean;
  EXPECT_EQ(hetzner_options(c).error().message, "[reserved_ip] provider is not hetzner");
  c = cfg(write(kToken, 0600));
  c.address.reset();
  EXPECT_EQ(hetzner_options(c).error().message, "[reserved_ip] address is not set");
  c = cfg(dir + "/missing.token");
  auto o = hetzner_options(c);
  ASSERT_FALSE(o);
  EXPECT_NE(o.error().message.find("missing.token"), std::string::npos) << o.error().message;
}

}  // namespace
}  // namespace failoverd::cloud
