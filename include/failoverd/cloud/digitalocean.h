// DigitalOcean reserved IP: traffic reaches a droplet only after the API assigns the IP to it,
// so the API call is the failover.
//
//   droplet id  configured, or GET {metadata_url}/metadata/v1/id (plain text; no token sent)
//   holder      GET  {api_url}/v2/reserved_ips/{ip}          -> reserved_ip.droplet.id or null
//   assign      POST {api_url}/v2/reserved_ips/{ip}/actions   {"type":"assign","droplet_id":N}
//               -> 201 {"action":{"id":A,"status":"in-progress",...}}
//   poll        GET  {api_url}/v2/reserved_ips/{ip}/actions/{A} until "completed" or "errored"
//
// claim() is idempotent (already ours: no POST), retries an "errored" action (bounded), waits
// out a lock (422 unprocessable_entity "...pending event..." or "locked": true), and stops at
// 401/403 with a permanent, typed error so the daemon can go FAULT.
//
// Fast path: every GET of the reserved IP (status(), claim()) is remembered with its time. A
// claim() that finds a remembered holder younger than holder_cache_max_age which is another
// droplet or nobody, and not locked, POSTs the assign at once: a failover costs one round trip,
// not two. When that POST is refused in a way that says the memory was wrong (a 4xx other than
// 401/403/404/408/429 and the pending-event lock), the claim forgets it and decides from a GET
// as before. An action the POST already answers "completed" is not polled.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "failoverd/cloud/http_client.h"
#include "failoverd/cloud/provider.h"
#include "failoverd/config/config.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::cloud {

struct DigitalOceanOptions {
  std::string api_url = "https://api.digitalocean.com";
  std::string metadata_url = "http://169.254.169.254";
  util::Ipv4 address;
  std::optional<std::uint64_t> droplet_id;  // nullopt: ask the metadata service (once)
  std::string token;                        // the API token; never logged
  Millis poll_initial{100};                 // first action poll after this, doubling ...
  Millis poll_max{2000};                    // ... up to this
  Millis locked_wait{1000};                 // between tries while a pending event locks the IP
  int max_assign_attempts = 3;              // assign actions ending "errored" before giving up
  Millis claim_deadline{120000};            // a whole claim, waits included
  // How long a holder seen by a GET may be trusted to skip the GET of the next claim; 0
  // turns the fast path off. The daemon sets 1.5 x reconcile_interval: its keeper checks the
  // holder that often in every state, so a BACKUP always has a fresh one.
  Millis holder_cache_max_age{45000};
  // One line per claim step ("assign posted, action 7 in-progress"); token-free.
  std::function<void(const std::string&)> log;
};

// The options of [reserved_ip] (provider = digitalocean), with the token read from token_file
// by config::read_secret_file (mode and size checked there), and holder_cache_max_age set to
// 1.5 x reconcile_interval. Errors are kConfig and name the file, never its content.
CloudResult<DigitalOceanOptions> digitalocean_options(const config::ReservedIpConfig& cfg);

// ---- parsed API shapes (pure, exposed for tests) ----

struct ReservedIpInfo {
  std::string ip;
  std::optional<std::uint64_t> droplet_id;  // nullopt: not assigned
  bool locked = false;
  std::string region;  // slug, may be empty
};

struct ActionInfo {
  std::uint64_t id = 0;
  std::string status;  // "in-progress", "completed", "errored"
  std::string type;    // "assign_ip" on the real API
};

// Body of GET /v2/reserved_ips/{ip}. The error is a reason ("reserved_ip.droplet.id missing").
// "droplet": null is unassigned; no "droplet" key at all is kDropletScopeMissing: the field
// "Requires `droplet:read` scope" (reserved_ip model), so its absence says nothing about the
// holder, and reading it as unassigned would assign over a live holder.
util::Expected<ReservedIpInfo, std::string> parse_reserved_ip(std::string_view body);
inline constexpr const char* kDropletScopeMissing =
    "reserved_ip has no \"droplet\" field: the API token lacks the droplet:read scope (it "
    "needs droplet:read besides reserved_ip:read and reserved_ip:update)";
// Body of POST .../actions and GET .../actions/{id}.
util::Expected<ActionInfo, std::string> parse_action(std::string_view body);
// Body of /metadata/v1/id: a positive decimal number, surrounding whitespace allowed.
util::Expected<std::uint64_t, std::string> parse_droplet_id(std::string_view body);
// A 422 that means "wait, an action is pending on this IP" (retry later), not "never".
bool is_pending_event(const HttpError& e);

class DigitalOcean final : public ReservedAddressProvider {
 public:
  // `http` makes every request (API with the token, metadata without); `clock` drives the
  // poll and lock waits and must outlive the provider.
  DigitalOcean(DigitalOceanOptions options, std::unique_ptr<HttpClient> http,
               Clock& clock = system_clock());

  const char* name() const override { return "digitalocean"; }

  // This node's droplet: configured, or read from the metadata service and then cached.
  CloudResult<std::uint64_t> droplet_id();
  // The reserved IP as the API sees it now.
  CloudResult<ReservedIpInfo> reserved_ip();
  // The droplet holding the IP, or nullopt when it is unassigned.
  CloudResult<std::optional<std::uint64_t>> holder();

  CloudResult<HolderStatus> status() override;
  ClaimReport claim() override;

  // What the last GET of the reserved IP saw, and when (this provider's clock).
  struct SeenHolder {
    std::optional<std::uint64_t> droplet;  // nullopt: nobody
    bool locked = false;
    std::chrono::steady_clock::time_point at;
  };
  const std::optional<SeenHolder>& last_seen_holder() const { return seen_; }

  const DigitalOceanOptions& options() const { return options_; }

 private:
  HttpRequest api_request(std::string method, std::string path, std::string body = {}) const;
  CloudError from_http(const std::string& what, const HttpError& e) const;
  CloudError bad_response(const std::string& what, const std::string& reason) const;
  CloudResult<ActionInfo> post_assign(std::uint64_t droplet);
  CloudResult<ActionInfo> get_action(std::uint64_t action_id);
  void log(const std::string& line) const;

  DigitalOceanOptions options_;
  std::unique_ptr<HttpClient> http_;
  Clock& clock_;
  std::string ip_;  // options_.address as text
  std::optional<std::uint64_t> droplet_id_;
  std::optional<SeenHolder> seen_;  // the holder cache of the fast path
};

}  // namespace failoverd::cloud
