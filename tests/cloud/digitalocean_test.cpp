#include "failoverd/cloud/digitalocean.h"

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "fake_digitalocean.h"
#include "provider_test_support.h"

namespace failoverd::cloud {
namespace {

using testing::FakeClock;
using testing::FakeDigitalOcean;
using namespace std::chrono_literals;

constexpr const char* kIp = "203.0.113.10";
constexpr std::uint64_t kMe = 2;
constexpr std::uint64_t kOther = 1;
const std::string kToken = "dop_v1_0123456789abcdefTOPSECRET";

std::string spec_file(const std::string& name) {
  std::ifstream in(std::string(FAILOVERD_TESTDATA_DIR) + "/api/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ---- parsing, from literal bodies of the documented shapes ----

TEST(ParseReservedIp, SpecExamples) {
  auto assigned = parse_reserved_ip(
      spec_file("digitalocean.GET_v2_reserved_ips_ip.200.reserved_ip_assigned.json"));
  ASSERT_TRUE(assigned) << assigned.error();
  EXPECT_EQ(assigned->droplet_id, 3164444u);
  auto reserved = parse_reserved_ip(
      spec_file("digitalocean.GET_v2_reserved_ips_ip.200.reserved_ip_reserved.json"));
  ASSERT_TRUE(reserved) << reserved.error();
  EXPECT_FALSE(reserved->droplet_id.has_value()) << "\"droplet\": null is unassigned";
  // The model says why a field may be missing altogether.
  EXPECT_NE(spec_file("digitalocean.reserved_ip.model.verbatim.yml")
                .find("Requires `droplet:read` scope"),
            std::string::npos);
}

// Without droplet:read the object has no "droplet" key: not "unassigned" (we would assign
// over a live holder), an error naming the missing scope.
TEST(ParseReservedIp, NoDropletKeyIsTheMissingScope) {
  auto nokey = parse_reserved_ip(
      R"({"reserved_ip":{"ip":"45.55.96.47","region":{"slug":"nyc3"},"locked":false}})");
  ASSERT_FALSE(nokey);
  EXPECT_NE(nokey.error().find("droplet:read"), std::string::npos) << nokey.error();
}

TEST(ParseReservedIp, AssignedUnassignedAndBroken) {
  auto assigned = parse_reserved_ip(R"({"reserved_ip":{"ip":"45.55.96.47","droplet":{"id":3164444,
      "name":"example.com","status":"active"},"region":{"name":"New York 3","slug":"nyc3"},
      "locked":false,"project_id":"746c6152-2fa2-11ed-92d3-27aaa54e4988"}})");
  ASSERT_TRUE(assigned) << assigned.error();
  EXPECT_EQ(assigned->ip, "45.55.96.47");
  EXPECT_EQ(assigned->droplet_id, 3164444u);
  EXPECT_FALSE(assigned->locked);
  EXPECT_EQ(assigned->region, "nyc3");

  auto free_ip = parse_reserved_ip(
      R"({"reserved_ip":{"ip":"45.55.96.47","droplet":null,"region":{"slug":"nyc3"},)"
      R"("locked":true}})");
  ASSERT_TRUE(free_ip);
  EXPECT_FALSE(free_ip->droplet_id.has_value());
  EXPECT_TRUE(free_ip->locked);

  EXPECT_EQ(parse_reserved_ip("").error(), "body is not JSON");
  EXPECT_EQ(parse_reserved_ip(R"({"floating_ip":{}})").error(), "no \"reserved_ip\" object");
  EXPECT_EQ(parse_reserved_ip(R"({"reserved_ip":{"droplet":{"name":"x"}}})").error(),
            "reserved_ip.droplet has no \"id\"");
  EXPECT_EQ(parse_reserved_ip(R"({"reserved_ip":{"droplet":{"id":-4}}})").error(),
            "reserved_ip.droplet.id is not a positive integer");
  EXPECT_EQ(parse_reserved_ip(R"({"reserved_ip":{"droplet":null,"locked":"no"}})").error(),
            "reserved_ip.locked is not a boolean");
}

TEST(ParseAction, DocumentedShape) {
  auto a = parse_action(R"({"action":{"id":72531856,"status":"completed","type":"assign_ip",
      "started_at":"2015-11-12T17:51:03Z","completed_at":"2015-11-12T17:51:14Z",
      "resource_id":758604968,"resource_type":"reserved_ip","region_slug":"nyc3"}})");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->id, 72531856u);
  EXPECT_EQ(a->status, "completed");
  EXPECT_EQ(a->type, "assign_ip");
  EXPECT_EQ(parse_action(R"({"action":{"status":"completed"}})").error(),
            "action.id is not a positive integer");
  EXPECT_EQ(parse_action(R"({"action":{"id":1,"status":7}})").error(),
            "action.status is not a string");
  EXPECT_EQ(parse_action("[1,2]").error(), "no \"action\" object");
}

TEST(ParseDropletId, PlainTextNumber) {
  EXPECT_EQ(parse_droplet_id("3164444").value(), 3164444u);
  EXPECT_EQ(parse_droplet_id("  3164444\n").value(), 3164444u);
  EXPECT_EQ(parse_droplet_id("").error(), "empty droplet id");
  EXPECT_EQ(parse_droplet_id("0").error(), "droplet id is 0");
  EXPECT_EQ(parse_droplet_id("12a").error(), "droplet id is not a number");
  EXPECT_EQ(parse_droplet_id("<html>").error(), "droplet id is not a number");
  EXPECT_EQ(parse_droplet_id("123456789012345678901").error(), "droplet id is too long");
}

TEST(IsPendingEvent, OnlyA422AboutAPendingEventOrLock) {
  HttpError e;
  e.kind = HttpErrorKind::kHttpStatus;
  e.status = 422;
  e.api_id = "unprocessable_entity";
  e.api_message = "The reserved IP already has a pending event.";
  EXPECT_TRUE(is_pending_event(e));
  e.api_message = "Reserved IP is locked";
  EXPECT_TRUE(is_pending_event(e));
  e.api_message = "Droplet not found";
  EXPECT_FALSE(is_pending_event(e));
  e.api_message = "The reserved IP already has a pending event.";
  e.status = 400;
  EXPECT_FALSE(is_pending_event(e));
}

// ---- the provider against the fake API ----

class DigitalOceanTest : public testing::ProviderTest {
 protected:
  DigitalOceanTest() : fake(make_fake_options()) { fake.add_reserved_ip(kIp, kOther); }

  static FakeDigitalOcean::Options make_fake_options() {
    FakeDigitalOcean::Options o;
    o.token = kToken;
    o.metadata_droplet_id = kMe;
    return o;
  }

  DigitalOcean make(std::optional<std::uint64_t> droplet = kMe,
                    HttpClientOptions http = HttpClientOptions{}) {
    DigitalOceanOptions o;
    o.api_url = fake.url() + "/";  // a trailing slash must not double up
    o.metadata_url = fake.url();
    o.address = *util::Ipv4::parse(kIp);
    o.droplet_id = droplet;
    o.token = kToken;
    o.locked_wait = 1000ms;
    o.claim_deadline = 60s;
    o.log = logs.sink();
    return DigitalOcean(std::move(o), http_client(std::move(http)), clock);
  }

  void expect_no_secret() { expect_no_token(kToken); }

  // Droplet 11's assign of the IP, sent past the provider: the IP is locked while it runs.
  bool another_droplet_assigns() {
    return send_as_other_node("POST", fake.url() + "/v2/reserved_ips/203.0.113.10/actions", kToken,
                              R"({"type":"assign","droplet_id":11})");
  }

  FakeDigitalOcean fake;
};

TEST_F(DigitalOceanTest, AlreadyOursSendsNoAssign) {
  fake.add_reserved_ip(kIp, kMe);
  auto provider = make();
  const ClaimReport r = provider.claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kAlreadyHeld) << r.detail;
  EXPECT_EQ(r.attempts, 0);
  EXPECT_FALSE(r.error.has_value());
  EXPECT_EQ(r.detail, "reserved IP 203.0.113.10: already on droplet 2");
  EXPECT_EQ(fake.count("POST", "/"), 0u);
  ASSERT_EQ(fake.requests().size(), 1u);
  EXPECT_EQ(fake.requests()[0].path, "/v2/reserved_ips/203.0.113.10");
}

TEST_F(DigitalOceanTest, AssignsAndPollsUntilCompleted) {
  fake.set_action_polls(3);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(fake.holder(kIp), kMe);
  ASSERT_EQ(fake.assignments().size(), 1u);
  EXPECT_EQ(fake.assignments()[0].droplet, kMe);

  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 6u);  // GET ip, POST assign, 4 polls (3 in-progress, 1 completed)
  EXPECT_EQ(reqs[1].method, "POST");
  EXPECT_EQ(reqs[1].path, "/v2/reserved_ips/203.0.113.10/actions");
  EXPECT_EQ(nlohmann::json::parse(reqs[1].body),
            nlohmann::json({{"type", "assign"}, {"droplet_id", kMe}}));
  EXPECT_EQ(fake.count("GET", "/v2/reserved_ips/203.0.113.10/actions/"), 4u);
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{100ms, 200ms, 400ms, 800ms}));
  EXPECT_NE(r.detail.find("assigned to droplet 2 (was droplet 1)"), std::string::npos) << r.detail;
  expect_no_secret();
}

TEST_F(DigitalOceanTest, ErroredActionIsRetried) {
  fake.error_next_actions(1);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 2);
  EXPECT_EQ(fake.count("POST", "/v2/reserved_ips/203.0.113.10/actions"), 2u);
  EXPECT_EQ(fake.holder(kIp), kMe);
  EXPECT_NE(logs.joined().find("errored (1/3)"), std::string::npos) << logs.joined();
}

TEST_F(DigitalOceanTest, ActionsErroringEveryTimeGiveUpBounded) {
  fake.error_next_actions(100);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  ASSERT_TRUE(r.error.has_value());
  EXPECT_EQ(r.error->kind, CloudErrorKind::kActionErrored);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(fake.count("POST", "/"), 3u);
  EXPECT_EQ(fake.holder(kIp), kOther);
}

TEST_F(DigitalOceanTest, PendingEventIsWaitedOut) {
  fake.lock_next_assigns(2);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(fake.holder(kIp), kMe);
  // Two lock waits, then the first poll.
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{1000ms, 1000ms, 100ms}));
  EXPECT_NE(logs.joined().find("The reserved IP already has a pending event."), std::string::npos);
}

TEST_F(DigitalOceanTest, LockedIpIsNeverPostedOverAndEndsAtTheDeadline) {
  // Another node's action is in flight: the IP reads "locked": true and a POST would be refused.
  fake.set_action_polls(2);
  ASSERT_TRUE(another_droplet_assigns());
  fake.set_action_polls(0);
  auto provider = make();
  // Nobody polls the other action here, so it stays locked: the claim must end at its deadline
  // without ever POSTing, and the error must not be permanent.
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed) << r.detail;
  EXPECT_EQ(r.error->kind, CloudErrorKind::kDeadline);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_EQ(fake.count("POST", "/"), 1u) << "only the other node's assign";
  EXPECT_EQ(clock.sleeps.size(), 60u);  // 60 s deadline / 1 s lock wait
}

TEST_F(DigitalOceanTest, LockedForeverEndsAtTheDeadline) {
  fake.lock_next_assigns(1000);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kDeadline);
  EXPECT_LE(r.latency, 60s);
  EXPECT_NE(r.detail.find("pending event"), std::string::npos) << r.detail;
}

TEST_F(DigitalOceanTest, ServerErrorsAndRateLimitsAreRecovered) {
  fake.fail_next(2, 503);
  auto provider = make();
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.holder(kIp), kMe);

  fake.add_reserved_ip(kIp, kOther);
  fake.rate_limit_next(2, 2);
  clock.sleeps.clear();
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(clock.sleeps[0], 2000ms);
  EXPECT_EQ(clock.sleeps[1], 2000ms);
  EXPECT_EQ(fake.holder(kIp), kMe);
  expect_no_secret();
}

TEST_F(DigitalOceanTest, TokenWithoutDropletReadIsAPermanentAuthErrorAndAssignsNothing) {
  fake.set_token_without_droplet_read(true);
  auto provider = make();
  auto st = provider.status();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().kind, CloudErrorKind::kAuth);
  EXPECT_NE(st.error().message.find("droplet:read"), std::string::npos) << st.error().message;
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_TRUE(r.permanent_failure());
  EXPECT_NE(r.detail.find("droplet:read"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.count("POST", "/v2/reserved_ips"), 0u) << "never assign over an unseen holder";
  EXPECT_EQ(fake.holder(kIp), kOther);
}

// spec, specification/shared/headers: ratelimit-reset is "the time when the oldest request will expire", which
// may be most of an hour away; without Retry-After the claim still retries within its deadline.
TEST_F(DigitalOceanTest, RateLimitWithOnlyRatelimitResetIsRetriedWithinTheDeadline) {
  fake.rate_limit_next(2, std::nullopt, FakeClock::kWallEpoch + 2400);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail << "\n" << logs.joined();
  EXPECT_EQ(fake.holder(kIp), kMe);
  ASSERT_GE(clock.sleeps.size(), 2u);
  EXPECT_LT(clock.sleeps[0], 30s);
  EXPECT_NE(logs.joined().find("HTTP 429"), std::string::npos);
  EXPECT_NE(spec_file("digitalocean.shared.headers.verbatim.yml")
                .find("The time when the oldest request will expire"),
            std::string::npos);
}

TEST_F(DigitalOceanTest, DroppedConnectionsAreRecovered) {
  fake.drop_next(2);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.holder(kIp), kMe);
}

TEST_F(DigitalOceanTest, UnauthorizedIsPermanentAndTyped) {
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
  EXPECT_EQ(fake.count("POST", "/"), 0u);
  EXPECT_NE(r.detail.find("HTTP 401 unauthorized: Unable to authenticate you"), std::string::npos)
      << r.detail;
  EXPECT_EQ(r.detail.find("TOPSECRET"), std::string::npos);
  EXPECT_EQ(r.error->message.find("TOPSECRET"), std::string::npos);
  expect_no_secret();
}

TEST_F(DigitalOceanTest, UnknownIpIsPermanentNotFound) {
  auto provider = make();
  HttpClientOptions http;
  http.log = logs.sink();
  DigitalOceanOptions other = provider.options();
  other.address = *util::Ipv4::parse("198.51.100.99");
  DigitalOcean missing(other, std::make_unique<CurlHttpClient>(std::move(http), clock), clock);
  const ClaimReport r = missing.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kNotFound);
  EXPECT_TRUE(r.permanent_failure());
}

TEST_F(DigitalOceanTest, SlowAnswersHitTheTimeout) {
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
  EXPECT_EQ(r.error->http->attempts, 2);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_EQ(fake.count("POST", "/"), 0u);
}

TEST_F(DigitalOceanTest, DropletIdFromMetadataWithoutTheToken) {
  auto provider = make(std::nullopt);
  auto id = provider.droplet_id();
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, kMe);
  ASSERT_EQ(fake.requests().size(), 1u);
  EXPECT_EQ(fake.requests()[0].path, "/metadata/v1/id");
  EXPECT_EQ(fake.requests()[0].authorization, "") << "the API token never goes to metadata";

  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.holder(kIp), kMe);
  EXPECT_EQ(fake.count("GET", "/metadata/"), 1u) << "cached";
}

TEST_F(DigitalOceanTest, MetadataFailureFailsTheClaim) {
  fake.set_metadata_droplet_id(0);  // 404
  auto provider = make(std::nullopt);
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_NE(r.detail.find("droplet id from the metadata service"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.count("POST", "/"), 0u);
}

TEST_F(DigitalOceanTest, StatusAndHolder) {
  auto provider = make();
  auto h = provider.holder();
  ASSERT_TRUE(h);
  EXPECT_EQ(*h, kOther);
  auto s = provider.status();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->holder, "1");
  EXPECT_FALSE(s->ours);
  EXPECT_FALSE(s->locked);

  fake.add_reserved_ip(kIp, std::nullopt);
  h = provider.holder();
  ASSERT_TRUE(h);
  EXPECT_FALSE(h->has_value());
}

TEST_F(DigitalOceanTest, TokenNeverInAnyLogLineOrError) {
  // A sweep over every kind of outcome, all logged into one capture.
  auto provider = make();
  fake.fail_next(1, 500);
  fake.rate_limit_next(0);
  EXPECT_TRUE(provider.claim().ok());
  fake.add_reserved_ip(kIp, kOther);
  fake.lock_next_assigns(1);
  fake.error_next_actions(1);
  EXPECT_TRUE(provider.claim().ok());
  fake.set_token("rotated");
  const ClaimReport bad = provider.claim();
  EXPECT_FALSE(bad.ok());
  const std::string all = logs.joined() + bad.detail + bad.error->message +
                          bad.error->http->to_string() + bad.error->http->api_message;
  EXPECT_GE(logs.lines().size(), 10u);
  EXPECT_EQ(all.find(kToken), std::string::npos) << all;
  EXPECT_EQ(all.find("TOPSECRET"), std::string::npos) << all;
  EXPECT_EQ(all.find("Bearer"), std::string::npos) << all;
}

// ---- the fast path: a fresh holder memory skips the GET ----

// The requests the fake saw, as "METHOD path" lines, for exact comparisons.
std::vector<std::string> request_lines(const FakeDigitalOcean& fake) {
  std::vector<std::string> out;
  for (const auto& r : fake.requests()) out.push_back(r.method + " " + r.path);
  return out;
}

const std::string kGetIp = "GET /v2/reserved_ips/203.0.113.10";
const std::string kPostAssign = "POST /v2/reserved_ips/203.0.113.10/actions";
const std::string kPollFirst = "GET /v2/reserved_ips/203.0.113.10/actions/1000001";

TEST_F(DigitalOceanTest, FreshHolderFromStatusSkipsTheGet) {
  auto provider = make();
  ASSERT_TRUE(provider.status());
  ASSERT_TRUE(provider.last_seen_holder().has_value());
  EXPECT_EQ(provider.last_seen_holder()->droplet, kOther);
  fake.clear_requests();
  clock.advance(40s);  // within the default 45 s
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(fake.holder(kIp), kMe);
  EXPECT_EQ(request_lines(fake), (std::vector<std::string>{kPostAssign, kPollFirst}));
  EXPECT_NE(r.detail.find("(was droplet 1 (seen 40000ms ago))"), std::string::npos) << r.detail;
  EXPECT_NE(logs.joined().find("without reading the holder first"), std::string::npos);
  // The claim remembers its own result: the next claim reads (ours is never trusted blindly).
  EXPECT_EQ(provider.last_seen_holder()->droplet, kMe);
  fake.clear_requests();
  EXPECT_EQ(provider.claim().outcome, ClaimOutcome::kAlreadyHeld);
  EXPECT_EQ(request_lines(fake), (std::vector<std::string>{kGetIp}));
}

TEST_F(DigitalOceanTest, FreshHolderNobodySkipsTheGet) {
  fake.add_reserved_ip(kIp, std::nullopt);
  auto provider = make();
  auto h = provider.holder();
  ASSERT_TRUE(h);
  ASSERT_FALSE(h->has_value());
  fake.clear_requests();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(request_lines(fake), (std::vector<std::string>{kPostAssign, kPollFirst}));
}

TEST_F(DigitalOceanTest, StaleOrLockedOrDisabledMemoryIsNotTrusted) {
  {
    auto provider = make();
    ASSERT_TRUE(provider.status());
    clock.advance(45s + 1ms);  // just past the default max age
    fake.clear_requests();
    ASSERT_EQ(provider.claim().outcome, ClaimOutcome::kClaimed);
    EXPECT_EQ(request_lines(fake), (std::vector<std::string>{kGetIp, kPostAssign, kPollFirst}));
  }
  {
    // Seen locked: the GET decides (here: still locked, so wait, then assign).
    fake.add_reserved_ip(kIp, kOther);
    fake.set_action_polls(1);
    ASSERT_TRUE(another_droplet_assigns());
    fake.set_action_polls(0);
    auto provider = make();
    ASSERT_TRUE(provider.status());
    EXPECT_TRUE(provider.last_seen_holder()->locked);
    fake.clear_requests();
    clock.sleeps.clear();
    const ClaimReport r = provider.claim();  // nobody ends the other action: deadline
    EXPECT_EQ(r.outcome, ClaimOutcome::kFailed);
    EXPECT_EQ(fake.count("POST", "/"), 0u);
    EXPECT_EQ(request_lines(fake).at(0), kGetIp);
    EXPECT_FALSE(provider.last_seen_holder().has_value()) << "a failed claim forgets";
  }
  {
    fake.add_reserved_ip(kIp, kOther);
    auto http = HttpClientOptions{};
    http.connect_timeout = 1000ms;
    http.request_timeout = 2000ms;
    DigitalOceanOptions o = make().options();
    o.holder_cache_max_age = 0ms;  // off
    DigitalOcean provider(o, std::make_unique<CurlHttpClient>(std::move(http), clock), clock);
    ASSERT_TRUE(provider.status());
    fake.clear_requests();
    ASSERT_EQ(provider.claim().outcome, ClaimOutcome::kClaimed);
    EXPECT_EQ(request_lines(fake).at(0), kGetIp);
  }
}

TEST_F(DigitalOceanTest, WrongMemoryRefusedFallsBackToTheGet) {
  auto provider = make();
  ASSERT_TRUE(provider.status());  // droplet 1 holds it ...
  fake.add_reserved_ip(kIp, kMe);  // ... until someone moves it to us behind our back
  fake.fail_next(1, 422);          // and the API refuses the assign (not a pending event)
  fake.clear_requests();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kAlreadyHeld) << r.detail;
  EXPECT_FALSE(r.error.has_value());
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(request_lines(fake), (std::vector<std::string>{kPostAssign, kGetIp}));
  EXPECT_TRUE(fake.assignments().empty());
  EXPECT_NE(r.detail.find("stale memory was refused"), std::string::npos) << r.detail;
  EXPECT_NE(logs.joined().find("reading the holder"), std::string::npos) << logs.joined();

  // Refused while the IP is still someone else's: the GET decides, and the assign is sent again.
  fake.add_reserved_ip(kIp, kOther);
  ASSERT_TRUE(provider.status());
  fake.fail_next(1, 422);
  fake.clear_requests();
  const ClaimReport again = provider.claim();
  ASSERT_EQ(again.outcome, ClaimOutcome::kClaimed) << again.detail;
  EXPECT_EQ(again.attempts, 2);
  EXPECT_EQ(request_lines(fake), (std::vector<std::string>{kPostAssign, kGetIp, kPostAssign,
                                                           "GET /v2/reserved_ips/203.0.113.10/"
                                                           "actions/1000001"}));
}

TEST_F(DigitalOceanTest, FastPathKeepsTheLockWaitAndStopsAtAuth) {
  auto provider = make();
  ASSERT_TRUE(provider.status());
  fake.lock_next_assigns(1);  // a pending event the memory could not know about
  fake.clear_requests();
  clock.sleeps.clear();
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(request_lines(fake),
            (std::vector<std::string>{kPostAssign, kGetIp, kPostAssign,
                                      "GET /v2/reserved_ips/203.0.113.10/actions/1000001"}));
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{1000ms, 100ms}));

  // 401 at the fast POST is permanent at once, as it is after a GET.
  fake.add_reserved_ip(kIp, kOther);
  ASSERT_TRUE(provider.status());
  fake.set_token("rotated");
  fake.clear_requests();
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kAuth);
  EXPECT_EQ(request_lines(fake), (std::vector<std::string>{kPostAssign}));
  expect_no_secret();
}

TEST_F(DigitalOceanTest, ActionCompletedAtThePostIsNotPolled) {
  fake.set_instant_actions(true);
  auto provider = make();
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(request_lines(fake), (std::vector<std::string>{kGetIp, kPostAssign}));
  EXPECT_TRUE(clock.sleeps.empty());
  EXPECT_NE(r.detail.find("and 0 polls"), std::string::npos) << r.detail;

  // With a fresh memory too: a failover is one request, one round trip.
  fake.add_reserved_ip(kIp, kOther);
  ASSERT_TRUE(provider.status());
  fake.clear_requests();
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(request_lines(fake), (std::vector<std::string>{kPostAssign}));
  EXPECT_EQ(fake.holder(kIp), kMe);
}

// ---- options from the config ----

class TokenFile : public testing::TokenFileTest {
 protected:
  config::ReservedIpConfig cfg(const std::string& token_file) {
    config::ReservedIpConfig c;
    c.provider = config::Provider::kDigitalOcean;
    c.address = util::Ipv4::parse(kIp);
    c.token_file = token_file;
    c.api_url = "http://127.0.0.1:9";
    c.droplet_id = 42;
    return c;
  }
};

TEST_F(TokenFile, ReadsTheTokenFromAPrivateFile) {
  auto o = digitalocean_options(cfg(write(kToken + "\n", 0600)));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->token, kToken);
  EXPECT_EQ(o->droplet_id, 42u);
  EXPECT_EQ(o->api_url, "http://127.0.0.1:9");
  EXPECT_EQ(o->address.to_string(), kIp);
  EXPECT_EQ(o->holder_cache_max_age, 45000ms) << "1.5 x the default reconcile_interval";
}

TEST_F(TokenFile, HolderMemoryOutlivesOneReconcileInterval) {
  auto c = cfg(write(kToken, 0600));
  c.reconcile_interval = std::chrono::seconds(2);
  auto o = digitalocean_options(c);
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->holder_cache_max_age, 3000ms);
}

TEST_F(TokenFile, RefusesAWorldReadableFileWithoutShowingIt) {
  auto o = digitalocean_options(cfg(write(kToken, 0644)));
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().kind, CloudErrorKind::kConfig);
  EXPECT_TRUE(o.error().permanent());
  EXPECT_NE(o.error().message.find("readable by group or others"), std::string::npos)
      << o.error().message;
  EXPECT_EQ(o.error().message.find("TOPSECRET"), std::string::npos);
}

TEST_F(TokenFile, RefusesAConfigWithoutAddress) {
  auto c = cfg(write(kToken, 0600));
  c.address.reset();
  auto o = digitalocean_options(c);
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message, "[reserved_ip] address is not set");
}

}  // namespace
}  // namespace failoverd::cloud
