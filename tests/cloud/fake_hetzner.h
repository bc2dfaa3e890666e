// A fake Hetzner Cloud API for tests: floating IPs, their assign action, the actions endpoint and
// the metadata service, with the real paths and JSON shapes (docs.hetzner.cloud), over the
// shared FakeApiServer (recording, generic faults: 5xx, 429, drop, delay, corrupt body).
//
//   GET  /v1/floating_ips?page=P&per_page=N   {"floating_ips":[{"id","ip","type","server",...}],
//                                              "meta":{"pagination":{page,per_page,previous_page,
//                                              next_page,last_page,total_entries}}}
//   GET  /v1/floating_ips/{id}                {"floating_ip":{...}}
//   POST /v1/floating_ips/{id}/actions/assign {"server":N} -> 201 {"action":{"id","command":
//                                              "assign_floating_ip","status":"running",...}}
//   POST /v1/floating_ips/{id}/actions/unassign             -> 201 {"action":{...}}
//   GET  /v1/actions/{id}                      {"action":{...,"status":"running|success|error",
//                                              "error":null|{"code","message"}}}
//   GET  /hetzner/v1/metadata/instance-id      the server id, text/plain, no token needed
//
// Errors are {"error":{"code","message","details"}}: 401 unauthorized (wrong or missing token),
// 404 not_found, 423 locked (an action is running on the floating IP), 400 json_error,
// 422 invalid_input, 429 rate_limit_exceeded, 5xx server_error/unavailable/timeout.
//
// Rate limiting is the real bucket (docs "Rate Limiting"): 3600 requests per hour by default,
// refilled by one every 3600/limit seconds; every /v1 request (authenticated or not) takes
// one, and an empty bucket answers 429 rate_limit_exceeded. Every /v1 answer carries
// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset, the UNIX time at which the bucket
// is *full* again (an hour away after exhaustion, although a request succeeds 1 s later).
//
// An assign to the server that already holds it answers 422 floating_ip_assigned (the assign
// operation's own error).
//
// Actions behave like the real ones: the POST answers "running"; the floating IP is locked (423
// on another assign) until the action ends; the assignment changes when it succeeds. By
// default an action succeeds on the first poll; set_action_polls(k) keeps it running for k polls.
// per_page is capped at max_per_page (50 like the real API; lower it to exercise pagination).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_api_server.h"

namespace failoverd::cloud::testing {

struct FakeHetznerAssignment {
  std::uint64_t floating_ip = 0;
  std::optional<std::uint64_t> server;  // nullopt: unassigned
  std::uint64_t action_id = 0;
};

class FakeHetzner : public FakeApi {
 public:
  struct Options {
    std::string token = "fake-hetzner-token";
    std::string listen_address = "127.0.0.1";
    std::uint16_t port = 0;                // 0: any free port
    std::uint64_t metadata_server_id = 0;  // 0: instance-id answers 404
    int max_per_page = 50;
  };

  FakeHetzner();
  explicit FakeHetzner(Options options);  // throws std::runtime_error when it cannot listen
  ~FakeHetzner();

  // url() is api_url (paths start with /v1) and metadata_url alike.

  // ---- state ----
  // Adds (or replaces) a floating IP; returns its id. Ids grow from 4711 in insertion order.
  std::uint64_t add_floating_ip(const std::string& ip,
                                std::optional<std::uint64_t> server = std::nullopt,
                                const std::string& type = "ipv4");
  void set_server(std::uint64_t floating_ip_id, std::optional<std::uint64_t> server);
  // Known servers. While none are added any id may be assigned; once some are, an unknown one
  // answers 404 not_found.
  void add_server(std::uint64_t id);
  std::optional<std::uint64_t> holder(std::uint64_t floating_ip_id) const;
  std::vector<FakeHetznerAssignment> assignments() const;  // completed changes, oldest first
  void set_metadata_server_id(std::uint64_t id);
  void set_token(const std::string& token);
  void set_max_per_page(int n);

  // ---- faults ("next n" counters are consumed by the requests they apply to) ----
  // The generic ones are FakeApi's: rate_limit_next answers 429 rate_limit_exceeded with
  // RateLimit-Remaining 0 and RateLimit-Reset (the given epoch, else the bucket's full time), and
  // Retry-After only when set (the real API sends only RateLimit-Reset).
  // The bucket: `limit_per_hour` (RateLimit-Limit) with `remaining` requests left now.
  void set_rate_limit(int limit_per_hour, double remaining);
  // The bucket refills against this wall time (a test's FakeClock, whose sleeps are virtual);
  // unset: real time. It is read on the server thread while the client waits for the answer,
  // so the two never run at once.
  using WallNow = std::function<std::chrono::system_clock::time_point()>;
  void use_clock(WallNow wall_now);
  int rate_limit_remaining() const;
  void lock_next_assigns(int n);   // assign: 423 locked, as when another action runs
  // The next n assigns answer this error ({"error":{"code","message"}}), e.g. 403 maintenance,
  // 412 resource_unavailable, 422 service_error (error-codes table).
  void error_next_assigns(int n, int status, const std::string& code,
                          const std::string& message);
  // Assigns answer as the spec's example does: the action already "success" (progress 100,
  // finished set) and, as in that example, a non-null "error" object all the same.
  void set_assign_at_once(bool on);
  // Just before the next assign is handled the floating IP moves to `server`, as by a
  // concurrent request (assignments() records it with action id 0).
  void move_before_next_assign(std::uint64_t server);
  void set_action_polls(int k);    // new actions stay "running" for k polls
  void error_next_actions(int n);  // the next n actions end "error" (action_failed)

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace failoverd::cloud::testing
