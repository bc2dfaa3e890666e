// Hetzner Cloud floating IP: traffic reaches a server only after the API assigns the floating IP
// to it, so the API call is the failover (the address must also be configured on the host).
//
//   server id   configured, or GET {metadata_url}/hetzner/v1/metadata/instance-id (plain text,
//               no token)
//   floating IP GET /v1/floating_ips?page=P&per_page=50, following meta.pagination.next_page,
//               for the entry whose "ip" is our address; its id is cached. Then
//               GET /v1/floating_ips/{id} -> floating_ip.server (a server id, or null)
//   assign      POST /v1/floating_ips/{id}/actions/assign {"server":N}
//               -> 201 {"action":{"id":A,"command":"assign_floating_ip","status":"running"}}
//   poll        GET /v1/actions/{A} until "success" or "error"
//
// Verified against the Hetzner Cloud API reference (docs.hetzner.cloud, read through the search
// tool, 2025 text):
//  - Authentication: "Authorization: Bearer <token>"; tokens are per Project, read-only or
//    read & write. 401 unauthorized (bad token), 401 token_readonly (a read-only token tried a
//    write), 403 forbidden.
//  - Errors: {"error":{"code":"...","message":"...","details":{...}}}. Codes used here:
//    423 locked "The item you are trying to access is locked (there is already an Action
//    running)", 423 protected, 409 conflict "The resource has changed during the request, please
//    retry", 404 not_found, 422 invalid_input, 429 rate_limit_exceeded, 500 server_error,
//    503 unavailable, 504 timeout.
//  - Actions: a change returns a "running" action to wait on until "success" or "error"; a failed
//    action carries error {"code","message"}. Poll gently (the rate limit counts polls).
//  - Pagination: page (from 1) and per_page (default 25, max 50); the body's
//    meta.pagination has page, per_page, previous_page, next_page (null on the last page),
//    last_page, total_entries. GET /floating_ips filters by name and label only, not by ip.
//  - Rate limit: 3600 requests per hour per Project, refilled one per second; headers
//    RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (UNIX timestamp); 429 when exhausted.
//  - Metadata: GET http://169.254.169.254/hetzner/v1/metadata/instance-id answers the server id
//    as plain text ("42").
//  - Floating IP object: id, name, description, ip, type (ipv4|ipv6), server (id or null),
//    dns_ptr, home_location, blocked, protection, labels, created. Assign answers 201 with
//    {"action":{...}}; GET /floating_ips/{id}/actions/{action_id} is deprecated, so actions are
//    read at GET /actions/{id}.
//
// claim() is idempotent (already ours: no POST), retries an action ending "error" (bounded),
// waits out 423 locked and 409 conflict, and stops at 401/403 with a permanent, typed error.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "failoverd/cloud/http_client.h"
#include "failoverd/cloud/provider.h"
#include "failoverd/config/config.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::cloud {

struct HetznerOptions {
  std::string api_url = "https://api.hetzner.cloud";
  std::string metadata_url = "http://169.254.169.254";
  util::Ipv4 address;                      // the floating IP
  std::optional<std::uint64_t> server_id;  // nullopt: ask the metadata service (once)
  std::string token;                       // read & write API token; never logged
  int page_size = 50;                      // per_page when looking the floating IP up
  int max_pages = 100;                     // a bound on following next_page
  Millis poll_initial{250};                // first action poll after this, doubling ...
  Millis poll_max{2000};                   // ... up to this
  Millis locked_wait{1000};                // between tries while the floating IP is locked
  int max_assign_attempts = 3;             // assign actions ending "error" before giving up
  Millis claim_deadline{120000};           // a whole claim, waits included
  // One line per claim step; token-free.
  std::function<void(const std::string&)> log;
};

// The options of [reserved_ip] (provider = hetzner), with the token read from token_file by
// config::read_secret_file (mode and size checked there). Errors are kConfig and name the file,
// never its content.
CloudResult<HetznerOptions> hetzner_options(const config::ReservedIpConfig& cfg);

// The HTTP client options a Hetzner provider needs on top of `base`: a 429 waits one refill of
// the request bucket (RateLimitReset::kFullRefill), not until RateLimit-Reset, which is when
// the bucket is full again (up to an hour away).
HttpClientOptions hetzner_http_options(HttpClientOptions base = {});

// ---- parsed API shapes (pure, exposed for tests) ----

struct HetznerFloatingIp {
  std::uint64_t id = 0;
  std::string ip;
  std::string type;                     // "ipv4", "ipv6"
  std::optional<std::uint64_t> server;  // nullopt: not assigned
  bool blocked = false;
};

struct HetznerFloatingIpPage {
  std::vector<HetznerFloatingIp> floating_ips;
  std::optional<int> next_page;  // nullopt on the last page
};

struct HetznerAction {
  std::uint64_t id = 0;
  std::string status;   // "running", "success", "error"
  std::string command;  // "assign_floating_ip"
  std::string error_code;
  std::string error_message;
};

// Body of GET /v1/floating_ips. The error is a reason ("no \"floating_ips\" array").
util::Expected<HetznerFloatingIpPage, std::string> parse_floating_ip_page(std::string_view body);
// Body of GET /v1/floating_ips/{id}.
util::Expected<HetznerFloatingIp, std::string> parse_floating_ip(std::string_view body);
// Body of POST .../actions/assign and GET /v1/actions/{id}.
util::Expected<HetznerAction, std::string> parse_hetzner_action(std::string_view body);
// Body of /hetzner/v1/metadata/instance-id: a positive decimal number, whitespace allowed.
util::Expected<std::uint64_t, std::string> parse_instance_id(std::string_view body);
// An answer that means "an action is running on it, try again later": 423 locked, 409 conflict.
bool is_hetzner_locked(const HttpError& e);
// Answers the error-codes table calls passing, to retry rather than give up on: 403
// maintenance (not a permission problem), 412 resource_unavailable, 422 service_error.
bool is_hetzner_transient(const HttpError& e);
// The assign's own error 422 floating_ip_assigned: it is already assigned (to that server).
bool is_hetzner_already_assigned(const HttpError& e);

class Hetzner final : public ReservedAddressProvider {
 public:
  // `http` makes every request (API with the token, metadata without); `clock` drives the
  // poll and lock waits and must outlive the provider.
  Hetzner(HetznerOptions options, std::unique_ptr<HttpClient> http, Clock& clock = system_clock());

  const char* name() const override { return "hetzner"; }

  // This node's server: configured, or read from the metadata service and then cached.
  CloudResult<std::uint64_t> server_id();
  // The floating IP's id: found by address through the paginated list once, then cached.
  CloudResult<std::uint64_t> floating_ip_id();
  // The floating IP as the API sees it now.
  CloudResult<HetznerFloatingIp> floating_ip();

  CloudResult<HolderStatus> status() override;
  ClaimReport claim() override;

  const HetznerOptions& options() const { return options_; }

 private:
  HttpRequest api_request(std::string method, std::string path, std::string body = {}) const;
  CloudError from_http(const std::string& what, const HttpError& e) const;
  CloudError bad_response(const std::string& what, const std::string& reason) const;
  CloudResult<HetznerAction> post_assign(std::uint64_t fip, std::uint64_t server);
  CloudResult<HetznerAction> get_action(std::uint64_t action_id);
  void log(const std::string& line) const;

  HetznerOptions options_;
  std::unique_ptr<HttpClient> http_;
  Clock& clock_;
  std::string ip_;  // options_.address as text
  std::optional<std::uint64_t> server_id_;
  std::optional<std::uint64_t> floating_ip_id_;
};

}  // namespace failoverd::cloud
