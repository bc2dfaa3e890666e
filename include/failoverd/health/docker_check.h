// The docker check: how many containers matching the filters run, asked of the Docker Engine
// API over its unix socket (Docker, or podman's compatible service).
//
// The pure half (request target, body parsing, counting, details) is separate from the I/O so
// it is tested from canned bodies; DockerCheck does one bounded libcurl exchange per run.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "failoverd/config/config.h"
#include "failoverd/health/check.h"
#include "failoverd/util/expected.h"

namespace failoverd::health {

// Used when the engine's /_ping sends no Api-Version, as Docker's own client does
// (client.go fallbackAPIVersion: "the most recent version before negotiation was introduced";
// an engine that does not send the header predates it). The status, label and name filters
// of /containers/json all exist at 1.24.
inline constexpr std::string_view kFallbackDockerApiVersion = "1.24";
// A larger answer is refused as a failing check rather than buffered.
inline constexpr std::size_t kDockerMaxBody = 8 * 1024 * 1024;

// RFC 3986 percent-encoding of everything but the unreserved characters.
std::string percent_encode(std::string_view text);

// {"label":[...],"name":[...],"status":["running"]}, keys omitted when not configured.
std::string docker_filters_json(const config::DockerCheckSpec& spec);

// The name filter sent for `name`: the engine matches it as an unanchored regular expression
// against names that start with "/", so "db" becomes "^/?db$" (metacharacters escaped).
std::string docker_name_regex(std::string_view name);

// "/v1.41/containers/json?filters=%7B...%7D"
std::string docker_containers_target(std::string_view api_version,
                                     const config::DockerCheckSpec& spec);

// The engine's API version as its Api-Version response header gives it, when that is a plain
// "MAJOR.MINOR"; anything else ("", "1.41/../x", "v1") is nullopt so it never reaches a URL.
std::optional<std::string> parse_api_version(std::string_view header_value);

// Counts the containers of a GET /containers/json body that are running and carry every
// configured label and, when a name is configured, whose Names hold exactly it ("/db" or
// "db"). The engine filters already; labels, State and Names are checked again so an engine
// that ignores a filter, or matches the name loosely (it is a regular expression there), cannot
// inflate the count. Tolerates podman's extra and null fields.
// An error says what is wrong with the body: "response is not JSON", "... not an array", ...
util::Expected<int, std::string> count_running_containers(std::string_view body,
                                                          const config::DockerCheckSpec& spec);

// "label com.docker.compose.project=web, name db", or "all containers" with no filter.
std::string describe_docker_filters(const config::DockerCheckSpec& spec);

// The verdict for `running` matching containers:
// ok:   "10 containers running, 10 required (label com.docker.compose.project=web)"
// fail: "3 of 10 required containers running (label com.docker.compose.project=web)"
CheckResult judge_container_count(int running, const config::DockerCheckSpec& spec);

// An HTTP error answer of the engine: "HTTP 500: <the body's "message">", or a short excerpt
// of the body when it has no message.
std::string docker_error_detail(long status, std::string_view body);

class DockerCheck final : public Check {
 public:
  DockerCheck(config::DockerCheckSpec spec, std::chrono::microseconds timeout);
  ~DockerCheck() override;
  DockerCheck(const DockerCheck&) = delete;
  DockerCheck& operator=(const DockerCheck&) = delete;

  // GET /_ping once and use its Api-Version header (as Docker's own client negotiates), else
  // kFallbackDockerApiVersion; the version is cached, and an HTTP error from the listing
  // forgets it so the next run negotiates again. Then the listing. Both share the one timeout.
  // Not /version: podman computes it slowly (it asks dpkg about conmon: seconds under load).
  CheckResult run() override;

  // The negotiated version, once known.
  const std::optional<std::string>& api_version() const { return api_version_; }

 private:
  struct Curl;
  config::DockerCheckSpec spec_;
  std::chrono::microseconds timeout_;
  std::optional<std::string> api_version_;
  std::unique_ptr<Curl> curl_;  // one handle, reused: keeps its connection to the socket
};

}  // namespace failoverd::health
