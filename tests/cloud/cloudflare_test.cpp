#include "failoverd/cloud/cloudflare.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "fake_cloudflare.h"
#include "provider_test_support.h"

namespace failoverd::cloud {
namespace {

using testing::FakeCloudflare;
using namespace std::chrono_literals;

constexpr const char* kZone = "023e105f4ecef8ad9ca31a8372d0c353";
constexpr const char* kName = "www.example.com";
constexpr const char* kMe = "203.0.113.2";
constexpr const char* kOther = "203.0.113.1";
const std::string kToken = "cf_0123456789abcdefTOPSECRET";

// ---- parsing, from the documented shapes ----

TEST(ParseDnsRecordList, DocumentedEnvelope) {
  auto list = parse_dns_record_list(R"({"success":true,"errors":[],"messages":[],
      "result":[{"id":"023e105f4ecef8ad9ca31a8372d0c353","zone_id":"z","zone_name":"example.com",
      "name":"www.example.com","type":"A","content":"198.51.100.4","proxiable":true,
      "proxied":true,"ttl":1,"settings":{},"meta":{},"comment":null,"tags":[],
      "created_on":"2014-01-01T05:20:00.12345Z","modified_on":"2014-01-01T05:20:00.12345Z"}],
      "result_info":{"page":1,"per_page":100,"count":1,"total_count":1,"total_pages":1}})");
  ASSERT_TRUE(list) << list.error();
  ASSERT_EQ(list->records.size(), 1u);
  EXPECT_EQ(list->records[0].id, "023e105f4ecef8ad9ca31a8372d0c353");
  EXPECT_EQ(list->records[0].content, "198.51.100.4");
  EXPECT_TRUE(list->records[0].proxied);
  EXPECT_EQ(list->records[0].ttl, 1);
  EXPECT_EQ(list->total_count, 1);

  EXPECT_EQ(parse_dns_record_list("oops").error(), "body is not JSON");
  EXPECT_EQ(parse_dns_record_list(R"({"result":[]})").error(), "no boolean \"success\"");
  EXPECT_EQ(parse_dns_record_list(R"({"success":false,"errors":[],"result":null})").error(),
            "\"success\" is false");
  EXPECT_EQ(parse_dns_record_list(R"({"success":true,"result":{}})").error(),
            "\"result\" is not an array");
  EXPECT_EQ(parse_dns_record_list(R"({"success":true,"result":[{"id":"x","type":"A"}]})").error(),
            "result[0].name is not a string");
}

TEST(ParseDnsRecord, SingleRecord) {
  auto r = parse_dns_record(R"({"success":true,"errors":[],"messages":[],"result":
      {"id":"abc","name":"www.example.com","type":"A","content":"203.0.113.2","ttl":60,
       "proxied":false}})");
  ASSERT_TRUE(r) << r.error();
  EXPECT_EQ(r->content, "203.0.113.2");
  EXPECT_EQ(r->ttl, 60);
  EXPECT_EQ(parse_dns_record(R"({"success":true})").error(), "no \"result\"");
  EXPECT_EQ(parse_dns_record(R"({"success":true,"result":{"id":"","name":"a","type":"A",)"
                             R"("content":"x"}})")
                .error(),
            "result.id is empty");
}

TEST(ParseApiError, CloudflareShape) {
  HttpError e;
  parse_api_error(R"({"success":false,"errors":[{"code":9109,"message":"Invalid access token"},)"
                  R"({"code":6111,"message":"second"}],"messages":[],"result":null})",
                  e);
  EXPECT_EQ(e.api_id, "9109");
  EXPECT_EQ(e.api_message, "Invalid access token; second");
  e.kind = HttpErrorKind::kHttpStatus;
  e.status = 403;
  EXPECT_TRUE(is_cloudflare_auth_error(e));
}

TEST(IsCloudflareAuthError, StatusesAndCodes) {
  HttpError e;
  e.kind = HttpErrorKind::kHttpStatus;
  e.status = 400;
  e.api_id = "6003";  // malformed Authorization header
  EXPECT_TRUE(is_cloudflare_auth_error(e));
  e.api_id = "10000";
  EXPECT_TRUE(is_cloudflare_auth_error(e));
  e.api_id = "9005";  // bad content: the request, not the token
  EXPECT_FALSE(is_cloudflare_auth_error(e));
  e.status = 401;
  EXPECT_TRUE(is_cloudflare_auth_error(e));
  e.kind = HttpErrorKind::kTransport;
  EXPECT_FALSE(is_cloudflare_auth_error(e));
}

TEST(NormalizeDnsName, CaseAndFinalDot) {
  EXPECT_EQ(normalize_dns_name("WWW.Example.COM."), "www.example.com");
  EXPECT_EQ(normalize_dns_name("a.b"), "a.b");
  EXPECT_EQ(normalize_dns_name("."), "");
}

// ---- the provider against the fake API ----

class CloudflareTest : public testing::ProviderTest {
 protected:
  CloudflareTest() : fake(make_fake_options()) {
    fake.add_zone(kZone, "example.com");
    fake.add_record(kZone, "AAAA", kName, "2001:db8::1");
    fake.add_record(kZone, "A", "api.example.com", "198.51.100.9");
    id = fake.add_record(kZone, "A", kName, kOther, /*proxied=*/false, /*ttl=*/60);
  }

  static FakeCloudflare::Options make_fake_options() {
    FakeCloudflare::Options o;
    o.token = kToken;
    return o;
  }

  Cloudflare make(HttpClientOptions http = HttpClientOptions{}, const std::string& name = kName) {
    CloudflareOptions o;
    o.api_url = fake.api_url() + "/";
    o.address = *util::Ipv4::parse(kMe);
    o.zone_id = kZone;
    o.record = name;
    o.token = kToken;
    o.log = logs.sink();
    return Cloudflare(std::move(o), http_client(std::move(http)), clock);
  }

  void expect_no_secret(const std::string& extra = {}) { expect_no_token(kToken, extra); }

  std::string records_path() const {
    return std::string("/client/v4/zones/") + kZone + "/dns_records";
  }

  FakeCloudflare fake;
  std::string id;
};

TEST_F(CloudflareTest, AlreadyOursSendsNoPatch) {
  fake.set_content(kZone, id, kMe);
  auto provider = make();
  const ClaimReport r = provider.claim();
  EXPECT_EQ(r.outcome, ClaimOutcome::kAlreadyHeld) << r.detail;
  EXPECT_EQ(r.attempts, 0);
  EXPECT_EQ(r.detail, "DNS record www.example.com: already points at 203.0.113.2");
  EXPECT_EQ(fake.count("PATCH", "/"), 0u);
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, records_path() + "?type=A&name=www.example.com&per_page=100&page=1");
  EXPECT_EQ(reqs[1].path, records_path() + "/" + id);
  EXPECT_EQ(reqs[1].authorization, "Bearer " + kToken);
}

TEST_F(CloudflareTest, PatchesTheContentSynchronously) {
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 1);
  EXPECT_EQ(fake.content(kZone, id), kMe);
  ASSERT_EQ(fake.changes().size(), 1u);
  EXPECT_EQ(fake.changes()[0].from, kOther);
  const auto reqs = fake.requests();
  ASSERT_EQ(reqs.size(), 3u);  // look up, GET, PATCH: nothing to poll
  EXPECT_EQ(reqs[2].method, "PATCH");
  EXPECT_EQ(reqs[2].path, records_path() + "/" + id);
  EXPECT_EQ(nlohmann::json::parse(reqs[2].body), nlohmann::json({{"content", kMe}}));
  EXPECT_TRUE(clock.sleeps.empty());
  EXPECT_EQ(r.detail,
            "DNS record www.example.com: now points at 203.0.113.2 (was 203.0.113.1), "
            "TTL 60s, after 1 update request");
  expect_no_secret(r.detail);

  auto again = provider.claim();
  EXPECT_EQ(again.outcome, ClaimOutcome::kAlreadyHeld);
  EXPECT_EQ(fake.count("GET", records_path()) - fake.count("GET", records_path() + "/"), 1u)
      << "the record id is cached";
}

TEST_F(CloudflareTest, NameIsMatchedWithoutCaseOrFinalDot) {
  auto provider = make(HttpClientOptions{}, "WWW.Example.com.");
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.content(kZone, id), kMe);
}

TEST_F(CloudflareTest, ProxiedRecordIsReported) {
  fake.remove_record(kZone, id);
  id = fake.add_record(kZone, "A", kName, kOther, /*proxied=*/true, /*ttl=*/1);
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_NE(r.detail.find("TTL automatic, proxied"), std::string::npos) << r.detail;
}

TEST_F(CloudflareTest, AmbiguousRecordIsPermanentlyRejected) {
  fake.add_record(kZone, "A", kName, "203.0.113.3");
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kRejected);
  EXPECT_TRUE(r.permanent_failure());
  EXPECT_NE(r.detail.find("2 A records of that name"), std::string::npos) << r.detail;
  EXPECT_NE(r.detail.find("exactly one must exist"), std::string::npos) << r.detail;
  EXPECT_EQ(fake.count("PATCH", "/"), 0u);
}

// result_info.total_count is the zone's total "without any search parameters": a zone with
// other records must not read as several A records of this name.
TEST_F(CloudflareTest, OtherRecordsOfTheZoneDoNotMakeTheNameAmbiguous) {
  fake.add_record(kZone, "A", "other.example.com", "203.0.113.50");
  fake.add_record(kZone, "TXT", kName, "v=spf1 -all");
  fake.add_record(kZone, "AAAA", kName, "2001:db8::1");
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_TRUE(r.ok()) << r.detail;
}

// The matching records are counted over every page of the answer.
TEST_F(CloudflareTest, MatchesOnLaterPagesAreCounted) {
  for (int i = 0; i < 100; ++i) fake.add_record(kZone, "A", kName, "203.0.113." + std::to_string(i % 250));
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_NE(r.detail.find("101 A records of that name"), std::string::npos) << r.detail.substr(0, 200);
  EXPECT_EQ(fake.count("GET", "/"), 2u) << "both pages of the list, and nothing else";
  EXPECT_EQ(fake.count("PATCH", "/"), 0u);
}

TEST(ParseDnsRecordList, SpecExampleTotalCountIsTheZone) {
  std::ifstream in(std::string(FAILOVERD_TESTDATA_DIR) +
                   "/api/cloudflare.GET_zones_zone_id_dns_records.200.assembled-from-field-examples.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto list = parse_dns_record_list(ss.str());
  ASSERT_TRUE(list) << list.error();
  ASSERT_EQ(list->records.size(), 1u);
  EXPECT_EQ(list->records[0].name, "example.com");
  EXPECT_EQ(list->total_count, 2000) << "the zone's total, not a match count";
}

TEST_F(CloudflareTest, MissingRecordIsPermanentlyRejected) {
  auto provider = make(HttpClientOptions{}, "mail.example.com");
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kRejected);
  EXPECT_TRUE(r.permanent_failure());
  EXPECT_NE(r.detail.find("no A record of that name"), std::string::npos) << r.detail;
}

TEST_F(CloudflareTest, UnknownZoneIsPermanent) {
  CloudflareOptions o;
  o.api_url = fake.api_url();
  o.address = *util::Ipv4::parse(kMe);
  o.zone_id = "ffffffffffffffffffffffffffffffff";
  o.record = kName;
  o.token = kToken;
  Cloudflare provider(o, std::make_unique<CurlHttpClient>(HttpClientOptions{}, clock), clock);
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_TRUE(r.permanent_failure());
  EXPECT_EQ(r.error->http->api_id, "7003");
}

TEST_F(CloudflareTest, DeletedRecordIsLookedUpAgain) {
  auto provider = make();
  ASSERT_TRUE(provider.record_id());
  fake.remove_record(kZone, id);
  id = fake.add_record(kZone, "A", kName, kOther);
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.content(kZone, id), kMe);
  EXPECT_NE(logs.joined().find("is gone; looking www.example.com up again"), std::string::npos);
}

TEST_F(CloudflareTest, PatchThatDoesNotTakeIsRetriedBounded) {
  fake.ignore_next_patches(1);
  auto provider = make();
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(r.attempts, 2);

  fake.set_content(kZone, id, kOther);
  fake.ignore_next_patches(100);
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kActionErrored);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_EQ(r.attempts, 3);
  EXPECT_EQ(fake.content(kZone, id), kOther);
}

TEST_F(CloudflareTest, ServerErrorsRateLimitsAndDropsAreRecovered) {
  fake.fail_next(2, 502);
  auto provider = make();
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;

  fake.set_content(kZone, id, kOther);
  fake.rate_limit_next(2, 4);
  clock.sleeps.clear();
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(clock.sleeps, (std::vector<Millis>{4000ms, 4000ms}));
  EXPECT_NE(logs.joined().find("HTTP 429 971"), std::string::npos) << logs.joined();

  fake.set_content(kZone, id, kOther);
  fake.drop_next(2);
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
  EXPECT_EQ(fake.content(kZone, id), kMe);
  expect_no_secret();
}

TEST_F(CloudflareTest, SlowAnswersHitTheTimeout) {
  fake.set_delay(500ms);
  HttpClientOptions http;
  http.request_timeout = 100ms;
  http.retry.max_attempts = 2;
  auto provider = make(http);
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kUnavailable);
  EXPECT_EQ(r.error->http->kind, HttpErrorKind::kTimeout);
  EXPECT_FALSE(r.permanent_failure());
}

TEST_F(CloudflareTest, BadTokenIsPermanentAuth) {
  fake.set_token("rotated");
  auto provider = make();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kAuth);
  EXPECT_TRUE(r.permanent_failure());
  EXPECT_EQ(r.error->http->status, 403);
  EXPECT_EQ(r.error->http->api_id, "9109");
  EXPECT_EQ(fake.requests().size(), 1u) << "not retried";
  EXPECT_NE(r.detail.find("HTTP 403 9109: Invalid access token"), std::string::npos) << r.detail;
  expect_no_secret(r.detail + r.error->message);
}

TEST_F(CloudflareTest, Unauthorized401IsPermanentAuth) {
  auto provider = make();
  ASSERT_TRUE(provider.record_id());
  fake.fail_next(1, 401);  // the PATCH
  fake.clear_requests();
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kAuth);
  EXPECT_EQ(r.error->http->api_id, "10000");
  EXPECT_EQ(fake.count("PATCH", "/"), 0u);
}

TEST_F(CloudflareTest, SuccessFalseInA200IsAnError) {
  auto provider = make();
  fake.envelope_fail_next(1, 10000, "Authentication error");
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kAuth);
  EXPECT_NE(r.detail.find("HTTP 200 with \"success\": false: 10000 Authentication error"),
            std::string::npos)
      << r.detail;

  fake.envelope_fail_next(1, 1004, "DNS Validation Error");
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kRejected);
  EXPECT_EQ(r.error->http->api_id, "1004");
  EXPECT_EQ(fake.count("PATCH", "/"), 0u);
}

TEST_F(CloudflareTest, CorruptBodiesAreBadResponses) {
  auto provider = make();
  fake.corrupt_next(1);
  ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kBadResponse);
  EXPECT_FALSE(r.permanent_failure());
  EXPECT_NE(r.detail.find("body is not JSON"), std::string::npos) << r.detail;
  r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kClaimed) << r.detail;
}

TEST_F(CloudflareTest, NonARecordIsRejected) {
  auto provider = make();
  ASSERT_TRUE(provider.record_id());
  // The cached id now names a CNAME (someone changed the record's type).
  fake.remove_record(kZone, id);
  fake.add_record(kZone, "CNAME", kName, "other.example.com");
  const ClaimReport r = provider.claim();
  ASSERT_EQ(r.outcome, ClaimOutcome::kFailed);
  EXPECT_EQ(r.error->kind, CloudErrorKind::kRejected);
  EXPECT_EQ(fake.count("PATCH", "/"), 0u);
}

TEST_F(CloudflareTest, StatusReportsTheContent) {
  auto provider = make();
  auto s = provider.status();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->holder, kOther);
  EXPECT_FALSE(s->ours);
  EXPECT_FALSE(s->locked);
  fake.set_content(kZone, id, kMe);
  s = provider.status();
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->ours);
}

TEST_F(CloudflareTest, TokenNeverInAnyLogLineOrError) {
  auto provider = make();
  fake.fail_next(1, 500);
  EXPECT_TRUE(provider.claim().ok());
  fake.set_content(kZone, id, kOther);
  fake.ignore_next_patches(1);
  fake.rate_limit_next(1, 1);
  EXPECT_TRUE(provider.claim().ok());
  fake.set_token("rotated");
  fake.set_content(kZone, id, kOther);
  const ClaimReport bad = provider.claim();
  ASSERT_FALSE(bad.ok());
  EXPECT_GE(logs.lines().size(), 8u);
  expect_no_secret(bad.detail + bad.error->message + bad.error->http->to_string());
}

// ---- options from the config ----

class CloudflareTokenFile : public testing::TokenFileTest {
 protected:
  config::ReservedIpConfig cfg(const std::string& token_file) {
    config::ReservedIpConfig c;
    c.provider = config::Provider::kCloudflare;
    c.address = util::Ipv4::parse(kMe);
    c.token_file = token_file;
    c.zone_id = kZone;
    c.record = kName;
    c.api_url = "https://api.cloudflare.com/client/v4";
    return c;
  }
};

TEST_F(CloudflareTokenFile, ReadsTheTokenFromAPrivateFile) {
  auto o = cloudflare_options(cfg(write(kToken + "\n", 0600)));
  ASSERT_TRUE(o) << o.error().message;
  EXPECT_EQ(o->token, kToken);
  EXPECT_EQ(o->zone_id, kZone);
  EXPECT_EQ(o->record, kName);
  EXPECT_EQ(o->address.to_string(), kMe);
}

TEST_F(CloudflareTokenFile, RefusesAWorldReadableFileWithoutShowingIt) {
  auto o = cloudflare_options(cfg(write(kToken, 0640)));
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().kind, CloudErrorKind::kConfig);
  EXPECT_EQ(o.error().message.find("TOPSECRET"), std::string::npos);
}

TEST_F(CloudflareTokenFile, RefusesMissingZoneOrRecord) {
  auto c = cfg(write(kToken, 0600));
  c.zone_id.clear();
  EXPECT_EQ(cloudflare_options(c).error().message, "[reserved_ip] zone_id is not set");
  c = cfg(write(kToken, 0600));
  c.record = ".";
  EXPECT_EQ(cloudflare_options(c).error().message, "[reserved_ip] record is not set");
  c = cfg(write(kToken, 0600));
  c.record = "b\xc3\xbc" "cher.example.com";  // bücher: the API wants xn--bcher-kva
  auto idn = cloudflare_options(c);
  ASSERT_FALSE(idn);
  EXPECT_EQ(idn.error().kind, CloudErrorKind::kConfig);
  EXPECT_NE(idn.error().message.find("Punycode"), std::string::npos) << idn.error().message;
  c.record = "xn--bcher-kva.example.com";
  EXPECT_TRUE(cloudflare_options(c)) << "the ASCII form is accepted";
  c = cfg(write(kToken, 0600));
  c.provider = config::Provider::kHetzner;
  EXPECT_EQ(cloudflare_options(c).error().message, "[reserved_ip] provider is not cloudflare");
}

}  // namespace
}  // namespace failoverd::cloud
