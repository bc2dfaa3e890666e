// The fakes themselves: the shared server's parsing and admin paths, and the switches other
// programs drive over HTTP (fake_do_api's POST /_fake/faults).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "failoverd/cloud/http_client.h"
#include "fake_api_server.h"
#include "fake_digitalocean.h"

namespace failoverd::cloud::testing {
namespace {

using nlohmann::json;

HttpResult send(const std::string& method, const std::string& url, const std::string& body = {},
                const std::string& token = {}) {
  HttpRequest r;
  r.method = method;
  r.url = url;
  r.body = body;
  r.bearer_token = token;
  HttpClientOptions o;
  o.retry.max_attempts = 1;
  CurlHttpClient client(o);
  return client.request(r);
}

TEST(FakeApiServer, ParsesTheQueryRecordsAndServesAdminPaths) {
  FakeRequest seen;
  FakeApiHooks hooks;
  hooks.handle = [&](const FakeRequest& r) {
    seen = r;
    return FakeResponse::json(200, {{"ok", true}}).header("X-Test", "1");
  };
  hooks.state = [] { return json{{"state", 1}}; };
  FakeApiServer server({}, hooks);
  auto res = send("GET", server.url() + "/a%20b/c?name=www.example.com&x=%2A&flag", "", "t0k");
  ASSERT_TRUE(res) << res.error().to_string();
  EXPECT_EQ(res->header("x-test"), "1");
  EXPECT_EQ(seen.path, "/a b/c");
  EXPECT_EQ(seen.query.at("name"), "www.example.com");
  EXPECT_EQ(seen.query.at("x"), "*");
  EXPECT_EQ(seen.query.at("flag"), "");
  EXPECT_EQ(seen.authorization, "Bearer t0k");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].target, "/a%20b/c?name=www.example.com&x=%2A&flag");

  auto state = send("GET", server.url() + "/_fake/state");
  ASSERT_TRUE(state);
  EXPECT_EQ(json::parse(state->body), json({{"state", 1}}));
  auto faults =
      send("POST", server.url() + "/_fake/faults", R"({"fail_next":1,"fail_status":502})");
  ASSERT_TRUE(faults);
  EXPECT_EQ(server.requests().size(), 1u) << "admin paths are not recorded";
  auto failed = send("GET", server.url() + "/x");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().status, 502);
  auto bad = send("POST", server.url() + "/_fake/faults", "not json");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().status, 400);
}

TEST(FakeApiServer, CorruptAndRateLimitFaults) {
  FakeApiHooks hooks;
  hooks.handle = [](const FakeRequest&) { return FakeResponse::json(200, {{"ok", true}}); };
  FakeApiServer server({}, hooks);
  server.corrupt_next(1);
  auto res = send("GET", server.url() + "/x");
  ASSERT_TRUE(res);
  EXPECT_TRUE(json::parse(res->body, nullptr, false).is_discarded());
  server.rate_limit_next(1, 7);
  auto limited = send("GET", server.url() + "/x");
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().status, 429);
  res = send("GET", server.url() + "/x");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body), json({{"ok", true}}));
}

TEST(FakeDigitalOceanSwitches, InstantActionsAnswerCompletedAndMoveAtThePost) {
  FakeDigitalOcean fake;
  fake.add_reserved_ip("203.0.113.10", 1);
  fake.set_action_polls(5);  // would keep it in-progress; instant overrides
  fake.set_instant_actions(true);
  auto res = send("POST", fake.url() + "/v2/reserved_ips/203.0.113.10/actions",
                  R"({"type":"assign","droplet_id":2})", "fake-do-token");
  ASSERT_TRUE(res) << res.error().to_string();
  EXPECT_EQ(res->status, 201);
  EXPECT_EQ(json::parse(res->body)["action"]["status"], "completed");
  EXPECT_EQ(fake.holder("203.0.113.10"), 2u);
  ASSERT_EQ(fake.assignments().size(), 1u);

  // Off again over HTTP, as a benchmark driving fake_do_api would.
  auto off = send("POST", fake.url() + "/_fake/faults", R"({"instant_actions":false})");
  ASSERT_TRUE(off);
  res = send("POST", fake.url() + "/v2/reserved_ips/203.0.113.10/actions",
             R"({"type":"assign","droplet_id":3})", "fake-do-token");
  ASSERT_TRUE(res);
  EXPECT_EQ(json::parse(res->body)["action"]["status"], "in-progress");
  EXPECT_EQ(fake.holder("203.0.113.10"), 2u) << "moves only when the action completes";
  auto state = send("GET", fake.url() + "/_fake/state");
  ASSERT_TRUE(state);
  EXPECT_EQ(json::parse(state->body)["instant_actions"], false);
  auto on = send("POST", fake.url() + "/_fake/faults", R"({"instant_actions":true})");
  ASSERT_TRUE(on);
  state = send("GET", fake.url() + "/_fake/state");
  EXPECT_EQ(json::parse(state->body)["instant_actions"], true);
}

}  // namespace
}  // namespace failoverd::cloud::testing
