// A fake DigitalOcean API for tests and demos: an HTTP/1.1 server on its own thread speaking
// the real paths and JSON shapes of reserved IPs, their actions and the metadata service, with
// switches for faults. It records every request so tests assert what was called.
//
//   GET  /v2/reserved_ips/{ip}                    {"reserved_ip":{"ip","droplet":{..}|null,
//                                                  "region":{..},"locked","project_id"}}
//   POST /v2/reserved_ips/{ip}/actions            {"type":"assign","droplet_id":N} or
//                                                 {"type":"unassign"} -> 201 {"action":{..}}
//   GET  /v2/reserved_ips/{ip}/actions/{id}       {"action":{"id","status",...}}
//   GET  /metadata/v1/id                          the droplet id, text/plain, no token needed
//
// API errors are {"id","message","request_id"}; every API answer carries ratelimit-limit,
// ratelimit-remaining and ratelimit-reset. A missing or wrong bearer token answers 401
// {"id":"unauthorized","message":"Unable to authenticate you"}.
//
// Actions behave like the real ones: the POST answers "in-progress"; the IP is "locked" until
// the action ends; the assignment changes when it completes. By default an action completes at
// once (the first poll sees "completed"); set_action_polls(k) keeps it in-progress for k polls.
// set_instant_actions(true) answers the POST with the action already "completed" (the
// assignment changes at the POST), for benchmarks that measure everything but the cloud.
//
// The HTTP server, recording and generic faults are FakeApiServer's (fake_api_server.h).
// Admin paths for the standalone executable (not recorded, never faulted): GET /_fake/state,
// GET /_fake/requests, POST /_fake/faults (JSON with the names of the fault switches below:
// fail_next, fail_status, rate_limit_next, retry_after, lock_next_assigns, drop_next, delay_ms,
// corrupt_next, action_polls, error_next_actions, instant_actions).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_api_server.h"

namespace failoverd::cloud::testing {

struct FakeAssignment {
  std::string ip;
  std::optional<std::uint64_t> droplet;  // nullopt: unassigned
  std::uint64_t action_id = 0;
  std::chrono::steady_clock::time_point at;
  std::chrono::system_clock::time_point wall_at;  // for other processes ("at_unix_ms")
};

class FakeDigitalOcean : public FakeApi {
 public:
  struct Options {
    std::string token = "fake-do-token";
    std::string listen_address = "127.0.0.1";
    std::uint16_t port = 0;                 // 0: any free port
    std::uint64_t metadata_droplet_id = 0;  // 0: /metadata/v1/id answers 404
  };

  FakeDigitalOcean();
  // Starts serving; throws std::runtime_error when it cannot listen.
  explicit FakeDigitalOcean(Options options);
  ~FakeDigitalOcean();  // stops the server thread

  // url() serves the API and the metadata service alike.

  // ---- state ----
  void add_reserved_ip(const std::string& ip, std::optional<std::uint64_t> droplet = std::nullopt,
                       const std::string& region = "nyc3");
  // Known droplets. While none are added, any droplet id may be assigned; once some are, an
  // unknown one answers 422 like the real API.
  void add_droplet(std::uint64_t id);
  std::optional<std::uint64_t> holder(const std::string& ip) const;
  std::vector<FakeAssignment> assignments() const;  // completed changes, oldest first
  void set_metadata_droplet_id(std::uint64_t id);
  void set_token(const std::string& token);

  // ---- faults: each "next n" counter is consumed by the next answers it applies to ----
  // The generic ones are FakeApi's: fail_next answers {"id","message","request_id"},
  // rate_limit_next 429 {"id":"too_many_requests"} with ratelimit-remaining 0 and
  // ratelimit-reset (the given epoch, else now + 60s).
  // POST actions: 422 unprocessable_entity "The reserved IP already has a pending event."
  void lock_next_assigns(int n);
  void set_action_polls(int k);    // new actions stay in-progress for k polls
  void error_next_actions(int n);  // the next n actions end "errored"
  // On: POST .../actions answers the action already "completed" and the assignment changes at
  // the POST (no polls needed).
  void set_instant_actions(bool on);
  // The token has no droplet:read scope: reserved IP objects come without a "droplet" field
  // (the model: "Requires `droplet:read` scope").
  void set_token_without_droplet_read(bool on);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace failoverd::cloud::testing
