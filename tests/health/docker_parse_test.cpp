// The pure half of the docker check: request target, body parsing and counting, details.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "failoverd/health/docker_check.h"
#include "health/test_support.h"

namespace failoverd::health {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::string podman_body() {
  return read_file(std::string(FAILOVERD_TESTDATA_DIR) + "/podman-containers-running.json");
}

namespace {

config::DockerCheckSpec spec(std::vector<std::string> labels = {}, int min_running = 1) {
  config::DockerCheckSpec s;
  s.labels = std::move(labels);
  s.min_running = min_running;
  return s;
}

TEST(DockerTarget, FiltersAreJsonAndPercentEncoded) {
  auto s = spec({"com.docker.compose.project=web"});
  EXPECT_EQ(docker_filters_json(s),
            R"({"label":["com.docker.compose.project=web"],"status":["running"]})");
  EXPECT_EQ(docker_containers_target("1.41", s),
            "/v1.41/containers/json?filters=%7B%22label%22%3A%5B%22com.docker.compose.project"
            "%3Dweb%22%5D%2C%22status%22%3A%5B%22running%22%5D%7D");
  s.name = "db";
  EXPECT_EQ(docker_filters_json(s),
            R"({"label":["com.docker.compose.project=web"],"name":["^/?db$"],"status":["running"]})");
  EXPECT_EQ(docker_filters_json(spec()), R"({"status":["running"]})");
}

// The engine's name filter is an unanchored regexp over names with a leading "/": "db" alone
// matches "/db-backup" and "/mydb". Sent anchored, with regexp syntax escaped.
TEST(DockerTarget, NameFilterIsAnchoredAndEscaped) {
  EXPECT_EQ(docker_name_regex("db"), "^/?db$");
  EXPECT_EQ(docker_name_regex("my.app-1"), "^/?my\\.app-1$");
  EXPECT_EQ(docker_name_regex("a+b(c)"), "^/?a\\+b\\(c\\)$");
}

// The count, or -1 for an error, so a wrong body cannot pass as a count.
int count_or_error(std::string_view body, const config::DockerCheckSpec& s) {
  auto n = count_running_containers(body, s);
  return n ? *n : -1;
}

std::string spec_body(const std::string& name) {
  return read_file(std::string(FAILOVERD_TESTDATA_DIR) + "/api/" + name);
}

// Names are checked again: whatever the engine's regexp let through, only the exact name counts.
TEST(CountRunningContainers, NamesAreMatchedExactly) {
  const std::string body = R"([
    {"Id":"1","Names":["/db"],"State":"running","Labels":{}},
    {"Id":"2","Names":["/db-backup"],"State":"running","Labels":{}},
    {"Id":"3","Names":["/mydb"],"State":"running","Labels":{}},
    {"Id":"4","State":"running","Labels":{}},
    {"Id":"5","Names":["db"],"State":"running","Labels":{}}])";
  auto s = spec();
  EXPECT_EQ(count_or_error(body, s), 5);
  s.name = "db";
  EXPECT_EQ(count_or_error(body, s), 2) << "/db, and db without the slash";
  s.name = "mydb";
  EXPECT_EQ(count_or_error(body, s), 1);
  s.name = "d";
  EXPECT_EQ(count_or_error(body, s), 0);
}

// The spec's ContainerSummary field examples (assembled: one running container).
TEST(CountRunningContainers, SpecSummaryExample) {
  const std::string body =
      spec_body("docker.GET_containers_json.200.assembled-from-ContainerSummary-field-examples.json");
  ASSERT_FALSE(body.empty());
  auto s = spec({"com.example.vendor=Acme"});
  EXPECT_EQ(count_or_error(body, s), 1);
  s.name = "funny_chatelet";
  EXPECT_EQ(count_or_error(body, s), 1);
  s.name = "funny";
  EXPECT_EQ(count_or_error(body, s), 0);
  // The older list example: four containers, all "State": "Exited" (capitalised there): none
  // counts, even by a name the list holds.
  const std::string old = spec_body("docker.GET_containers_json.200.example-pre-2025.json");
  ASSERT_FALSE(old.empty());
  auto t = spec();
  t.name = "running_cat";
  EXPECT_EQ(count_or_error(old, t), 0);
}

TEST(DockerTarget, PercentEncodeKeepsOnlyUnreserved) {
  EXPECT_EQ(percent_encode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(percent_encode("a b&c=d/é"), "a%20b%26c%3Dd%2F%C3%A9");
  EXPECT_EQ(percent_encode(""), "");
}

TEST(DockerApiVersion, TakenFromThePingHeaderOnlyWhenPlain) {
  EXPECT_EQ(parse_api_version("1.41"), "1.41");
  EXPECT_EQ(parse_api_version("1.45"), "1.45");
  EXPECT_EQ(parse_api_version("1.41/../../x"), std::nullopt);
  EXPECT_EQ(parse_api_version("1."), std::nullopt);
  EXPECT_EQ(parse_api_version(".41"), std::nullopt);
  EXPECT_EQ(parse_api_version("v1.41"), std::nullopt);
  EXPECT_EQ(parse_api_version("1.41 "), std::nullopt);
  EXPECT_EQ(parse_api_version("1.4.1"), std::nullopt);
  EXPECT_EQ(parse_api_version("1234.1"), std::nullopt);
  EXPECT_EQ(parse_api_version(""), std::nullopt);
}

TEST(DockerCount, PodmanBodyCountsAllRunning) {
  const auto n = count_running_containers(podman_body(), spec());
  ASSERT_TRUE(n.has_value()) << n.error();
  EXPECT_EQ(*n, 4);
}

TEST(DockerCount, PodmanBodyWithLabelFilterCountsOnlyLabelled) {
  // c5 has no labels: an engine that ignored the filter does not inflate the count.
  auto n = count_running_containers(podman_body(), spec({"com.docker.compose.project=labproj"}));
  ASSERT_TRUE(n.has_value());
  EXPECT_EQ(*n, 3);
  n = count_running_containers(podman_body(), spec({"com.docker.compose.project"}));
  EXPECT_EQ(*n, 3);
  n = count_running_containers(podman_body(), spec({"com.docker.compose.project=labproj",
                                                    "com.docker.compose.service=svc2"}));
  EXPECT_EQ(*n, 1);
  n = count_running_containers(podman_body(), spec({"com.docker.compose.project=other"}));
  EXPECT_EQ(*n, 0);
  n = count_running_containers(podman_body(), spec({"com.docker.compose.project=labpro"}));
  EXPECT_EQ(*n, 0);
}

TEST(DockerCount, DockerStyleBodyAndNonRunningStates) {
  const std::string body = R"J([
    {"Id":"a","Names":["/web1"],"State":"running","Status":"Up 2 hours (healthy)",
     "Labels":{"app":"web"},"HostConfig":{"NetworkMode":"default"},
     "NetworkSettings":{"Networks":{"bridge":{"IPAddress":"172.17.0.2"}}}},
    {"Id":"b","State":"exited","Labels":{"app":"web"}},
    {"Id":"c","State":"restarting","Labels":{"app":"web"}},
    {"Id":"d","Labels":{"app":"web"}},
    {"Id":"e","State":"running","Labels":null},
    {"Id":"f","State":"running","Labels":{"app":7}}
  ])J";
  EXPECT_EQ(*count_running_containers(body, spec()), 4);  // a, d (no State: trusted), e, f
  EXPECT_EQ(*count_running_containers(body, spec({"app=web"})), 2);
  EXPECT_EQ(*count_running_containers(body, spec({"app"})), 3);
  EXPECT_EQ(*count_running_containers("[]", spec()), 0);
  EXPECT_EQ(*count_running_containers(" [ ] \n", spec({"x"})), 0);
}

TEST(DockerCount, BadBodiesSayWhatIsWrong) {
  struct Case {
    std::string body;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"", "response body is empty"},
      {"  \n", "response body is empty"},
      {"<html>502 Bad Gateway</html>", "response is not JSON: \"<html>502 Bad Gateway</html>\""},
      {R"([{"Id":"a"},)", "response is not JSON: \"[{\"Id\":\"a\"},\""},
      {R"({"message":"page not found"})", "response is an object, not an array of containers"},
      {"null", "response is null, not an array of containers"},
      {"42", "response is a number, not an array of containers"},
      {R"("running")", "response is a string, not an array of containers"},
      {R"([{"Id":"a"}, 3])", "container entry 1 is a number, not an object"},
      {R"([[]])", "container entry 0 is an array, not an object"},
      {std::string("[\x01\xff]"), "response is not JSON: \"[ ?]\""},
  };
  for (const auto& c : cases) {
    const auto n = count_running_containers(c.body, spec());
    ASSERT_FALSE(n.has_value()) << c.body;
    EXPECT_EQ(n.error(), c.error) << c.body;
  }
}

TEST(DockerCount, DeeplyNestedBodyIsAnErrorNotACrash) {
  const std::string deep = std::string(200000, '[') + std::string(200000, ']');
  const auto n = count_running_containers(deep, spec());
  ASSERT_FALSE(n.has_value());
  EXPECT_EQ(n.error(), "container entry 0 is an array, not an object");
  const std::string unclosed(100000, '{');
  EXPECT_FALSE(count_running_containers(unclosed, spec()).has_value());
}

TEST(DockerJudge, DetailsNameTheFilter) {
  auto s = spec({"com.docker.compose.project=web"}, 10);
  auto r = judge_container_count(3, s);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.detail, "3 of 10 required containers running (label com.docker.compose.project=web)");
  r = judge_container_count(10, s);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail, "10 containers running, 10 required (label com.docker.compose.project=web)");
  s.labels.push_back("tier");
  s.name = "db";
  s.min_running = 1;
  r = judge_container_count(1, s);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.detail,
            "1 container running, 1 required (label com.docker.compose.project=web, label tier, "
            "name db)");
  r = judge_container_count(0, spec());
  EXPECT_EQ(r.detail, "0 of 1 required containers running (all containers)");
}

TEST(DockerErrorDetail, ShowsTheEnginesMessage) {
  EXPECT_EQ(docker_error_detail(500, R"({"cause":"invalid filter","message":"invalid filter )"
                                     R"(\"bogus\"","response":500})"),
            "HTTP 500: invalid filter \"bogus\"");
  EXPECT_EQ(docker_error_detail(404, "page not found\n"), "HTTP 404: page not found");
  EXPECT_EQ(docker_error_detail(502, ""), "HTTP 502");
  EXPECT_EQ(docker_error_detail(400, R"({"message":42})"), R"(HTTP 400: {"message":42})");
  const auto long_detail = docker_error_detail(500, std::string(100000, 'x'));
  EXPECT_LE(long_detail.size(), 220u);
}

TEST(OneLine, ControlsBecomeSpacesAndInvalidUtf8BecomesQuestionMarks) {
  EXPECT_EQ(one_line("  a\n\nb\tc \r\n", 100), "a b c");
  EXPECT_EQ(one_line("caf\xc3\xa9", 100), "caf\xc3\xa9");
  EXPECT_EQ(one_line("a\xff\xfe" "b", 100), "a??b");
  EXPECT_EQ(one_line("\xed\xa0\x80", 100), "???");  // a UTF-16 surrogate is not UTF-8
  EXPECT_EQ(one_line("abcdef", 4), "abcd...");
  // A multi-byte character is never cut in half.
  EXPECT_EQ(one_line("abc\xc3\xa9", 4), "abc...");
  EXPECT_EQ(nlohmann::json(one_line(std::string("\xc3\x28\x80\xf8", 4), 10)).dump(), "\"?(??\"");
}

// ---- cost of parsing and counting (reported, not asserted) ----

}  // namespace

// Shared with docker_check_test.cpp: a listing of `containers` running, labelled containers.
std::string body_with(int containers) {
  const auto sample = nlohmann::json::parse(podman_body());
  nlohmann::json out = nlohmann::json::array();
  for (int i = 0; i < containers; ++i) {
    auto c = sample[static_cast<std::size_t>(i) % 4];
    c["Id"] = std::to_string(i) + c["Id"].get<std::string>().substr(std::to_string(i).size());
    c["Names"] = {"/c" + std::to_string(i)};
    c["Labels"] = {{"com.docker.compose.project", "web"},
                   {"com.docker.compose.service", "svc" + std::to_string(i)}};
    out.push_back(std::move(c));
  }
  return out.dump();
}

namespace {

TEST(DockerCount, CostAt10And100And1000Containers) {
  for (const int n : {10, 100, 1000}) {
    const std::string body = body_with(n);
    const auto s = spec({"com.docker.compose.project=web"}, n);
    const int rounds = n >= 1000 ? 50 : 500;
    int counted = 0;
    const double t0 = testing::thread_cpu_us();
    for (int i = 0; i < rounds; ++i) counted = *count_running_containers(body, s);
    const double per = (testing::thread_cpu_us() - t0) / rounds;
    EXPECT_EQ(counted, n);
    std::cout << "[ cost     ] parse+count " << n << " containers (" << body.size()
              << " bytes): " << per << " us CPU\n";
  }
}

}  // namespace
}  // namespace failoverd::health
