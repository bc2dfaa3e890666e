// A fake Cloudflare API (v4) for tests: the DNS records of zones, with the real paths, envelope
// and error shapes (developers.cloudflare.com/api), over the shared FakeApiServer (recording,
// generic faults: 5xx, 429, drop, delay, corrupt body). Paths live under /client/v4 as on
// api.cloudflare.com, so api_url() is what a provider's api_url should be.
//
//   GET   /client/v4/zones/{zone}/dns_records?type=A&name=N[&page&per_page]
//           {"success":true,"errors":[],"messages":[],"result":[{record}],
//            "result_info":{"page","per_page","count","total_count","total_pages"}}
//   GET   /client/v4/zones/{zone}/dns_records/{id}         {"success":true,...,"result":{record}}
//   PATCH /client/v4/zones/{zone}/dns_records/{id}  {"content":"192.0.2.1"} (and ttl, proxied,
//           comment) -> 200 {"success":true,...,"result":{record, updated}}
//   record: {"id","zone_id","zone_name","name","type","content","proxiable","proxied","ttl",
//            "settings","meta","comment","tags","created_on","modified_on"}
//
// Errors are {"success":false,"errors":[{"code":N,"message":"..."}],"messages":[],"result":null}:
// 403 9109 "Invalid access token" (wrong or missing token), 400 7003 (no such zone),
// 404 81044 "Record does not exist.", 400 9005 (A content not an IPv4 address), 400 9021 (bad
// TTL), 429 971 with Retry-After, 5xx. Answers carry Ratelimit and Ratelimit-Policy headers.
// Changes are synchronous: the PATCH answer is the record as it now is.
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

struct FakeDnsChange {
  std::string zone_id;
  std::string record_id;
  std::string name;
  std::string from;  // content before
  std::string to;    // content after
};

class FakeCloudflare : public FakeApi {
 public:
  struct Options {
    std::string token = "fake-cloudflare-token";
    std::string listen_address = "127.0.0.1";
    std::uint16_t port = 0;  // 0: any free port
  };

  FakeCloudflare();
  explicit FakeCloudflare(Options options);  // throws std::runtime_error when it cannot listen
  ~FakeCloudflare();

  // url() is where the admin paths live.
  std::string api_url() const;  // url() + "/client/v4"

  // ---- state ----
  void add_zone(const std::string& zone_id, const std::string& zone_name);
  // Adds a record to a zone (added on the fly when unknown); returns its 32-hex-digit id.
  std::string add_record(const std::string& zone_id, const std::string& type,
                         const std::string& name, const std::string& content, bool proxied = false,
                         int ttl = 60);
  void set_content(const std::string& zone_id, const std::string& record_id,
                   const std::string& content);
  void remove_record(const std::string& zone_id, const std::string& record_id);
  std::optional<std::string> content(const std::string& zone_id,
                                     const std::string& record_id) const;
  std::vector<FakeDnsChange> changes() const;  // applied PATCHes that changed content
  void set_token(const std::string& token);

  // ---- faults ("next n" counters are consumed by the requests they apply to) ----
  // The generic ones are FakeApi's: fail_next(n, 401) answers 10000 "Authentication error";
  // rate_limit_next's reset_epoch is unused (the Ratelimit header counts in a 300 s window).
  // PATCH answers success with the record unchanged (a write that did not take).
  void ignore_next_patches(int n);
  // The next n API answers are HTTP 200 with "success": false and this error (not something
  // the real API does; a proxy or a future API might).
  void envelope_fail_next(int n, int code, const std::string& message);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace failoverd::cloud::testing
