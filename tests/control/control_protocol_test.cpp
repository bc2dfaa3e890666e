#include "failoverd/control/control_protocol.h"

#include <gtest/gtest.h>

#include <string>

#include "control/status_sample.h"

namespace failoverd::control {
namespace {

using nlohmann::json;

std::string parse_error(std::string_view line) {
  auto r = parse_request(line);
  EXPECT_FALSE(r.has_value()) << line;
  return r ? std::string() : r.error();
}

TEST(ParseRequest, RestartTakesNoArguments) {
  auto r = parse_request(R"({"version":1,"command":"restart"})");
  ASSERT_TRUE(r.has_value()) << r.error();
  EXPECT_EQ(r->command, "restart");
  auto bad = parse_request(R"({"version":1,"command":"restart","args":{"binary":"/tmp/x"}})");
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("restart takes no arguments"), std::string::npos) << bad.error();
}

TEST(ParseRequest, AcceptsStatusWithOrWithoutLineEnd) {
  for (const char* line :
       {R"({"version":1,"command":"status"})", "{\"version\":1,\"command\":\"status\"}\n",
        "{\"version\":1,\"command\":\"status\"}\r\n",
        R"( {"command":"status","version":1,"args":null} )"}) {
    auto r = parse_request(line);
    ASSERT_TRUE(r.has_value()) << line << ": " << r.error();
    EXPECT_EQ(r->version, 1);
    EXPECT_EQ(r->command, "status");
    EXPECT_EQ(r->args, json::object());
  }
}

TEST(ParseRequest, IgnoresUnknownTopLevelKeys) {
  auto r = parse_request(R"({"version":1,"command":"checks","id":7})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->command, "checks");
}

TEST(ParseRequest, MaintenanceTakesEnabled) {
  auto r = parse_request(R"({"version":1,"command":"maintenance","args":{"enabled":true}})");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->args, (json{{"enabled", true}}));
}

TEST(ParseRequest, ErrorTexts) {
  EXPECT_EQ(parse_error("[1,2]"), "request must be a JSON object");
  EXPECT_EQ(parse_error(R"({"command":"status"})"), "request has no \"version\"");
  EXPECT_EQ(parse_error(R"({"version":"1","command":"status"})"), "\"version\" must be an integer");
  EXPECT_EQ(parse_error(R"({"version":1.0,"command":"status"})"), "\"version\" must be an integer");
  EXPECT_EQ(parse_error(R"({"version":2,"command":"status"})"),
            "unsupported protocol version 2 (this failoverd speaks 1)");
  EXPECT_EQ(parse_error(R"({"version":1})"), "request has no \"command\"");
  EXPECT_EQ(parse_error(R"({"version":1,"command":5})"), "\"command\" must be a string");
  EXPECT_EQ(parse_error(R"({"version":1,"command":"frobnicate"})"),
            "unknown command \"frobnicate\" (known: status, failover, maintenance, reload, "
            "checks, history, restart)");
  EXPECT_EQ(parse_error(R"({"version":1,"command":"wait-healthy"})").substr(0, 30),
            "unknown command \"wait-healthy\"");
  EXPECT_EQ(parse_error(R"({"version":1,"command":"status","args":[1]})"),
            "\"args\" must be an object");
  EXPECT_EQ(parse_error(R"({"version":1,"command":"status","args":{"verbose":true}})"),
            "status takes no arguments (got \"verbose\")");
  EXPECT_EQ(parse_error(R"({"version":1,"command":"maintenance"})"),
            "maintenance needs args {\"enabled\": true|false}");
  EXPECT_EQ(parse_error(R"({"version":1,"command":"maintenance","args":{"enabled":"on"}})"),
            "maintenance needs args {\"enabled\": true|false}");
  EXPECT_EQ(parse_error(R"({"version":1,"command":"maintenance","args":{"enabled":true,"x":1}})"),
            "maintenance: unknown argument \"x\"");
  // failover's optional hold.
  EXPECT_EQ(parse_error(R"({"version":1,"command":"failover","args":{"hold":5}})"),
            "failover: unknown argument \"hold\"");
  for (const char* bad : {"-1", "1.5", "\"5s\"", "86400001", "true", "null"}) {
    EXPECT_EQ(parse_error(R"({"version":1,"command":"failover","args":{"hold_ms":)" +
                          std::string(bad) + "}}"),
              "failover: \"hold_ms\" must be an integer of milliseconds, 0..86400000")
        << bad;
  }
}

TEST(ParseRequest, FailoverTakesAnOptionalHold) {
  for (const char* ok : {"0", "1500", "86400000"}) {
    auto r = parse_request(R"({"version":1,"command":"failover","args":{"hold_ms":)" +
                           std::string(ok) + "}}");
    ASSERT_TRUE(r.has_value()) << ok;
    EXPECT_EQ(r->args["hold_ms"].get<std::int64_t>(), std::stoll(ok));
  }
  auto none = parse_request(R"({"version":1,"command":"failover"})");
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->args.empty());
}

TEST(ParseRequest, MalformedJsonSaysWhere) {
  const std::string e = parse_error("{\"version\":1,");
  EXPECT_EQ(e.rfind("malformed JSON: parse error at line 1, column 14", 0), 0u) << e;
  EXPECT_EQ(parse_error("").rfind("malformed JSON: ", 0), 0u);
  EXPECT_EQ(parse_error("\xff\xfe").rfind("malformed JSON: ", 0), 0u);
}

TEST(ParseRequest, EchoedInputIsShortened) {
  const std::string long_name(10'000, 'x');
  const std::string e = parse_error(R"({"version":1,"command":")" + long_name + "\"}");
  EXPECT_LT(e.size(), 200u);
  EXPECT_NE(e.find("...\""), std::string::npos) << e;
  const std::string bad_json = "{\"version\":1,\"command\":\"" + long_name;  // unterminated
  EXPECT_LT(parse_error(bad_json).size(), 300u);
}

TEST(ParseRequest, DeepNestingIsRefusedBeforeParsing) {
  const std::string too_deep = "malformed JSON: nested deeper than 64 levels";
  EXPECT_EQ(parse_error(std::string(60'000, '[')), too_deep);
  EXPECT_EQ(parse_error(std::string(30'000, '[') + std::string(30'000, ']')), too_deep);
  // The request that used to be copied recursively (args) and so needed megabytes of stack.
  const std::string nested_args = R"({"version":1,"command":"status","args":{"a":)" +
                                  std::string(200'000, '[') + std::string(200'000, ']') + "}}";
  EXPECT_EQ(parse_error(nested_args), too_deep);
  // Brackets inside strings are text, not nesting.
  EXPECT_EQ(parse_error(R"({"version":1,"command":")" + std::string(100, '[') + "\"}").rfind(
                "unknown command", 0),
            0u);
}

// Every exception nlohmann can throw while parsing becomes an error value: 1e400 (six bytes
// any group member could send) once stopped the daemon with out_of_range.406.
TEST(ParseRequest, NumberOverflowIsAnErrorNotAnException) {
  EXPECT_EQ(parse_error("1e400\n"), "malformed JSON: number overflow parsing '1e400'");
  EXPECT_EQ(parse_error(R"({"version":1e400,"command":"status"})").rfind("malformed JSON: ", 0),
            0u);
  EXPECT_FALSE(parse_response("-1e999\n").has_value());
}

TEST(FormatRequest, RoundTripsEveryCommand) {
  for (const auto command : kCommands) {
    Request request;
    request.command = std::string(command);
    if (command == "maintenance") request.args = {{"enabled", false}};
    const std::string line = format_request(request);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    auto parsed = parse_request(line);
    ASSERT_TRUE(parsed.has_value()) << line << ": " << parsed.error();
    EXPECT_EQ(parsed->command, request.command);
    EXPECT_EQ(parsed->args, request.args);
  }
  EXPECT_EQ(format_request(Request{1, "status", json::object()}),
            "{\"command\":\"status\",\"version\":1}\n");
}

TEST(FormatResponse, OkAndErrorLinesRoundTrip) {
  const std::string ok = format_response(Outcome(json{{"state", "MASTER"}}));
  EXPECT_EQ(ok, "{\"ok\":true,\"result\":{\"state\":\"MASTER\"},\"version\":1}\n");
  auto r = parse_response(ok);
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->result, (json{{"state", "MASTER"}}));

  const std::string err =
      format_response(Outcome(util::unexpected(std::string("not implemented yet"))));
  EXPECT_EQ(err, "{\"error\":\"not implemented yet\",\"ok\":false,\"version\":1}\n");
  auto e = parse_response(err);
  ASSERT_TRUE(e.has_value());
  EXPECT_FALSE(e->ok);
  EXPECT_EQ(e->error, "not implemented yet");
  EXPECT_EQ(format_error_response("x"), "{\"error\":\"x\",\"ok\":false,\"version\":1}\n");
}

TEST(FormatResponse, InvalidUtf8IsReplacedNotThrown) {
  const std::string line = format_response(Outcome(json{{"detail", "bad \xff byte"}}));
  auto r = parse_response(line);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->result["detail"], "bad \xEF\xBF\xBD byte");
  EXPECT_NO_THROW(format_error_response("\xc3"));
}

TEST(ParseResponse, ErrorTexts) {
  const auto error = [](std::string_view line) {
    auto r = parse_response(line);
    return r ? std::string("<ok>") : r.error();
  };
  EXPECT_EQ(error("hello").rfind("malformed JSON: ", 0), 0u);
  EXPECT_EQ(error("[]"), "answer is not a JSON object");
  EXPECT_EQ(error(R"({"ok":true,"result":{}})"), "answer has no integer \"version\"");
  EXPECT_EQ(error(R"({"version":2,"ok":true,"result":{}})"),
            "answer has protocol version 2, failoverctl speaks 1");
  EXPECT_EQ(error(R"({"version":1,"result":{}})"), "answer has no boolean \"ok\"");
  EXPECT_EQ(error(R"({"version":1,"ok":true})"), "answer has no \"result\"");
  EXPECT_EQ(error(R"({"version":1,"ok":false})"), "error answer has no string \"error\"");
}

// The shared sample with a non-default maintenance and transport, so the round trips below
// would notice a field that is lost.
Status sample_status() {
  Status s = testing::sample_status();
  s.maintenance = true;
  s.transport = "udp";
  s.uptime_s = 3725.5;
  return s;
}

void expect_equal(const Status& a, const Status& b) {
  EXPECT_EQ(to_json(a), to_json(b));  // every field, compared through its JSON form
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.master, b.master);
  ASSERT_EQ(a.checks.size(), b.checks.size());
  EXPECT_EQ(a.checks[1].ok, b.checks[1].ok);
  EXPECT_EQ(a.drops, b.drops);
  EXPECT_EQ(a.uptime_s, b.uptime_s);
  EXPECT_EQ(a.instant_handover, b.instant_handover);
}

TEST(StatusJson, HasEveryDesignKeyWithNulls) {
  Status s;
  s.name = "web";
  s.state = "BACKUP";
  const json j = to_json(s);
  for (const char* key : {"name", "state", "priority", "effective_priority", "virtual_router_id",
                          "master", "checks", "reserved_ip", "maintenance"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_TRUE(j["master"].is_null());
  EXPECT_TRUE(j["reserved_ip"].is_null());
  EXPECT_TRUE(j["checks"].is_array());
  EXPECT_EQ(j["maintenance"], false);
  EXPECT_EQ(j["state"], "BACKUP");
  for (const char* key :
       {"transport", "interface", "instant_handover", "advert_interval", "master_down_interval_ms",
        "skew_time_ms",
        "adverts_sent", "adverts_received", "drops", "since", "transitions", "uptime_s", "pid"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_TRUE(j["drops"].is_object());
}

TEST(StatusJson, ChecksAndReservedIpShapes) {
  Status s = sample_status();
  s.reserved_ip =
      ReservedIpStatus{"203.0.113.10", "digitalocean", std::nullopt, "2024-05-01T12:00:01Z"};
  const json j = to_json(s);
  EXPECT_EQ(
      j["checks"][0],
      (json{{"name", "containers"},
            {"type", "docker"},
            {"ok", true},
            {"detail", "10/10 running"},
            {"last_run", "2026-11-22T19:00:00Z"},
            {"consecutive_passes", 5},
            {"consecutive_failures", 0}}));
  EXPECT_TRUE(j["checks"][1]["last_run"].is_null());
  EXPECT_EQ(j["master"], "10.114.0.4");
  EXPECT_EQ(j["reserved_ip"]["address"], "203.0.113.10");
  EXPECT_TRUE(j["reserved_ip"]["holder"].is_null());
  EXPECT_EQ(j["reserved_ip"]["last_claim"], "2024-05-01T12:00:01Z");
  EXPECT_EQ(j["drops"]["bad_checksum"], 2);
}

TEST(StatusJson, RoundTripsThroughText) {
  for (bool with_ip : {false, true}) {
    Status s = sample_status();
    s.instant_handover = with_ip;
    if (with_ip)
      s.reserved_ip = ReservedIpStatus{"203.0.113.10", "digitalocean", "me", std::nullopt};
    auto back = status_from_json(json::parse(to_json(s).dump()));
    ASSERT_TRUE(back.has_value()) << back.error();
    expect_equal(s, *back);
  }
  Status none = sample_status();
  none.master.reset();
  auto back = status_from_json(to_json(none));
  ASSERT_TRUE(back.has_value());
  EXPECT_FALSE(back->master.has_value());
}

TEST(StatusJson, FromJsonNamesTheBadKey) {
  const auto error = [](json j) {
    auto r = status_from_json(j);
    return r ? std::string("<ok>") : r.error();
  };
  json j = to_json(sample_status());
  EXPECT_EQ(error(json::array()), "status is not a JSON object");
  EXPECT_EQ(error(j), "<ok>");
  json missing = j;
  missing.erase("state");
  EXPECT_EQ(error(missing), "status: \"state\" is missing");
  json bad = j;
  bad["priority"] = "high";
  EXPECT_EQ(error(bad), "status: \"priority\" must be an integer");
  bad = j;
  bad["master"] = 5;
  EXPECT_EQ(error(bad), "status: \"master\" must be a string or null");
  bad = j;
  bad["checks"][0].erase("ok");
  EXPECT_EQ(error(bad), "status: \"checks\" entry: \"ok\" is missing");
  bad = j;
  bad["adverts_sent"] = -1;
  EXPECT_EQ(error(bad), "status: \"adverts_sent\" must be a non-negative integer");
  bad = j;
  bad["drops"] = {{"bad_ttl", "many"}};
  EXPECT_EQ(error(bad), "status: \"drops\" counts must be non-negative integers");
}

TEST(StatusJson, ExtrasAreOptionalForOlderDaemons) {
  const json minimal = {{"name", "web"},           {"state", "BACKUP"},
                        {"priority", 100},         {"effective_priority", 100},
                        {"virtual_router_id", 51}, {"master", nullptr},
                        {"checks", json::array()}, {"reserved_ip", nullptr},
                        {"maintenance", false},    {"future_key", 1}};
  auto s = status_from_json(minimal);
  ASSERT_TRUE(s.has_value()) << s.error();
  EXPECT_EQ(s->state, "BACKUP");
  EXPECT_EQ(s->adverts_sent, 0u);
  EXPECT_TRUE(s->transport.empty());
  EXPECT_FALSE(s->instant_handover);
}

}  // namespace
}  // namespace failoverd::control
