// The docker check's reading of the Engine API (src/health/docker_check.cpp): the
// GET /containers/json listing, the Api-Version header of GET /_ping, and error bodies.
// Whoever answers on the configured socket (Docker, podman, anything bound there) writes them.
//
// Input: a first line of label filters ("k=v,k2", may be empty), then the body. The whole
// input is also tried as an Api-Version header value and as an error body.
//
// Contract: never throws. A count is 0..(number of '{' in the body), and adding label filters
// never raises it; an error is a non-empty sentence. parse_api_version accepts exactly
// MAJOR.MINOR (1..3 digits each) and returns the input unchanged, so the request target built from it
// has no "..", "/" or "%" smuggled into its path. docker_error_detail is one line of at most
// 300 bytes and judge_container_count's detail as well.
#include <algorithm>
#include <string>

#include "failoverd/health/docker_check.h"
#include "fuzz_support.h"

namespace health = failoverd::health;
namespace config = failoverd::config;

namespace {

bool one_line(const std::string& s) { return s.find_first_of("\r\n") == std::string::npos; }

bool plain_version(std::string_view v) {
  const auto dot = v.find('.');
  // 1..3 digits each side: what Docker and podman send (1.41, 1.47, 4.0 for podman's own API).
  if (dot == std::string_view::npos || dot == 0 || dot > 3 || dot + 1 == v.size() ||
      v.size() - dot - 1 > 3)
    return false;
  const auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  return digits(v.substr(0, dot)) && digits(v.substr(dot + 1));
}

void run(std::string_view in) {
  const auto [filters, body] = fuzz::split_at(in, '\n');
  config::DockerCheckSpec all;
  config::DockerCheckSpec labelled;
  std::string_view rest = filters;
  while (!rest.empty() && labelled.labels.size() < 8) {
    const auto [label, tail] = fuzz::split_at(rest, ',');
    if (!label.empty()) labelled.labels.emplace_back(label);
    rest = tail;
    if (tail.empty()) break;
  }

  const auto braces = static_cast<int>(std::count(body.begin(), body.end(), '{'));
  const auto n_all = health::count_running_containers(body, all);
  const auto n_labelled = health::count_running_containers(body, labelled);
  FUZZ_CHECK(n_all.has_value() == n_labelled.has_value() || !labelled.labels.empty(),
             std::string(body));
  if (n_all) {
    FUZZ_CHECK(*n_all >= 0 && *n_all <= braces, std::to_string(*n_all));
    const auto verdict = health::judge_container_count(*n_all, all);
    FUZZ_CHECK(one_line(verdict.detail) && verdict.detail.size() <= 303, verdict.detail);
  } else {
    FUZZ_CHECK(!n_all.error().empty(), std::string(body));
  }
  if (n_labelled) {
    FUZZ_CHECK(*n_labelled >= 0, std::to_string(*n_labelled));
    if (n_all) FUZZ_CHECK(*n_labelled <= *n_all, std::to_string(*n_labelled) + " > " +
                                                     std::to_string(*n_all));
    const auto verdict = health::judge_container_count(*n_labelled, labelled);
    FUZZ_CHECK(one_line(verdict.detail) && verdict.detail.size() <= 303, verdict.detail);
  } else {
    FUZZ_CHECK(!n_labelled.error().empty(), std::string(body));
  }

  const auto version = health::parse_api_version(in);
  FUZZ_CHECK(version.has_value() == plain_version(in), std::string(in));
  if (version) {
    FUZZ_CHECK(*version == in, *version);
    const auto target = health::docker_containers_target(*version, labelled);
    const auto path = target.substr(0, target.find('?'));
    FUZZ_CHECK(path == "/v" + *version + "/containers/json", target);
  }

  const auto detail = health::docker_error_detail(500, in);
  FUZZ_CHECK(one_line(detail) && detail.size() <= 303, detail);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FUZZ_GUARD(run(fuzz::as_text(data, size)));
  return 0;
}
