// Every provider's body parsers against the same hostile bodies: each gets a reason back, never
// an exception, a crash or a value that looks valid.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "failoverd/cloud/cloudflare.h"
#include "failoverd/cloud/digitalocean.h"
#include "failoverd/cloud/hetzner.h"
#include "failoverd/cloud/http_client.h"

namespace failoverd::cloud {
namespace {

struct Parser {
  const char* name;
  std::function<std::optional<std::string>(std::string_view)> error_of;
};

template <typename F>
Parser parser(const char* name, F f) {
  return {name, [f](std::string_view body) -> std::optional<std::string> {
            auto r = f(body);
            if (r) return std::nullopt;
            return r.error();
          }};
}

std::vector<Parser> parsers() {
  return {
      parser("parse_reserved_ip", parse_reserved_ip),
      parser("parse_action", parse_action),
      parser("parse_floating_ip_page", parse_floating_ip_page),
      parser("parse_floating_ip", parse_floating_ip),
      parser("parse_hetzner_action", parse_hetzner_action),
      parser("parse_dns_record_list", parse_dns_record_list),
      parser("parse_dns_record", parse_dns_record),
  };
}

TEST(HostileBody, DeepNestingIsRefusedBeforeParsing) {
  // The issue's literal case: 200,000 levels, as an API body (balanced, so a parser would take
  // it), at the top and inside the member every parser looks at.
  const std::string deep = std::string(200'000, '[') + std::string(200'000, ']');
  const std::string deep_objects = [] {
    std::string s;
    for (int i = 0; i < 200'000; ++i) s += "{\"a\":";
    s += "1";
    s += std::string(200'000, '}');
    return s;
  }();
  for (const auto& p : parsers()) {
    for (const std::string& body : {deep, R"({"reserved_ip":)" + deep + "}", deep_objects}) {
      const auto e = p.error_of(body);
      ASSERT_TRUE(e.has_value()) << p.name;
      EXPECT_EQ(*e, "body nests deeper than 64 levels") << p.name;
    }
  }
}

TEST(HostileBody, NumbersOutOfRangeAreNotJson) {
  for (const auto& p : parsers()) {
    for (const char* body : {"1e400", R"({"reserved_ip":{"droplet":{"id":1e400}}})",
                             R"({"floating_ip":{"id":-1e999}})"}) {
      const auto e = p.error_of(body);
      ASSERT_TRUE(e.has_value()) << p.name << " " << body;
      EXPECT_EQ(*e, "body is not JSON") << p.name << " " << body;
    }
  }
}

TEST(HostileBody, ApiErrorOfADeepOrOverflowingBodyIsLeftEmpty) {
  for (const std::string& body : {std::string(100'000, '{'), std::string(R"({"error":1e400})")}) {
    HttpError e;
    parse_api_error(body, e);
    EXPECT_TRUE(e.api_id.empty());
    EXPECT_TRUE(e.api_message.empty());
  }
  HttpError shallow;
  parse_api_error(R"({"error":{"code":"locked","message":"locked"}})", shallow);
  EXPECT_EQ(shallow.api_id, "locked");  // the guard does not hide ordinary bodies
}

}  // namespace
}  // namespace failoverd::cloud
