// Cloudflare DNS record: the failover of a hot standby by DNS. The A record `record` in zone
// `zone_id` points at the master; claiming writes this node's own address into it. Clients
// follow once their resolvers' cached answer expires (the record's TTL), unless the record is
// proxied, where Cloudflare's edge follows at once.
//
//   record id  GET   {api_url}/zones/{zone}/dns_records?type=A&name={record}
//              -> exactly one A record of that name, else a permanent kRejected error; cached
//   holder     GET   {api_url}/zones/{zone}/dns_records/{id} -> result.content ("ours" when it
//              is this node's address)
//   claim      PATCH {api_url}/zones/{zone}/dns_records/{id} {"content":"<our address>"}
//              -> success when "success": true and result.content is our address (synchronous)
//
// Verified against the Cloudflare API documentation (developers.cloudflare.com, read through
// the search tool):
//  - Base https://api.cloudflare.com/client/v4; "Authorization: Bearer <API token>"; the edit
//    call (PATCH /zones/{zone_id}/dns_records/{dns_record_id}, "Update DNS Record") needs the
//    "DNS Write" permission; listing needs "DNS Read".
//  - Every answer is {"success":bool,"errors":[{"code":N,"message":"..."}],"messages":[...],
//    "result":...}; lists add "result_info":{"page","per_page","count","total_count"}, where
//    total_count counts the zone "without any search parameters" (so it is not used: the
//    matching records are counted in "result", page by page). Records carry id, name, type,
//    content, proxied, proxiable, ttl (1 means automatic, else 60..86400), created_on,
//    modified_on. Names are "in Punycode": a non-ASCII record name is refused (kConfig).
//  - The list takes type and name filters and page/per_page.
//  - Auth failures answer 401/403; code 9109 ("Invalid access token", "Unauthorized to access
//    requested resource") and 10000 ("Authentication error") are auth errors; a malformed
//    header answers 400 with 6003 "Invalid request headers" (error_chain 6111 for the
//    Authorization header). All of them are treated as permanent auth errors here.
//  - Rate limit: 1200 requests per 5 minutes per user (and 200/s per IP); over it, HTTP 429
//    for the rest of the window, with a Retry-After header (seconds); answers carry Ratelimit
//    and Ratelimit-Policy headers.
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

struct CloudflareOptions {
  std::string api_url = "https://api.cloudflare.com/client/v4";
  util::Ipv4 address;   // this node's own address: what the record points at when it is ours
  std::string zone_id;  // the zone's id (32 hex digits on the real API)
  std::string record;   // the DNS name of the A record ("www.example.com"; a final dot is fine)
  std::string token;    // API token with DNS Read and DNS Write on the zone; never logged
  int max_patch_attempts = 3;  // PATCHes answered "success" that did not change the record
  // One line per claim step; token-free.
  std::function<void(const std::string&)> log;
};

// The options of [reserved_ip] (provider = cloudflare), with the token read from token_file by
// config::read_secret_file (mode and size checked there). Errors are kConfig and name the file,
// never its content.
CloudResult<CloudflareOptions> cloudflare_options(const config::ReservedIpConfig& cfg);

// ---- parsed API shapes (pure, exposed for tests) ----

struct CloudflareRecord {
  std::string id;
  std::string type;  // "A"
  std::string name;
  std::string content;
  bool proxied = false;
  int ttl = 0;  // 1: automatic
};

struct CloudflareRecordList {
  std::vector<CloudflareRecord> records;
  std::optional<std::int64_t> total_count;  // result_info.total_count, when given
};

// Body of GET .../dns_records (a successful envelope with a "result" array).
util::Expected<CloudflareRecordList, std::string> parse_dns_record_list(std::string_view body);
// Body of GET and PATCH .../dns_records/{id}.
util::Expected<CloudflareRecord, std::string> parse_dns_record(std::string_view body);
// 401/403, or an error code Cloudflare uses for a bad or under-privileged token.
bool is_cloudflare_auth_error(const HttpError& e);
// "www.Example.com." -> "www.example.com": how names are compared.
std::string normalize_dns_name(std::string_view name);

class Cloudflare final : public ReservedAddressProvider {
 public:
  // `http` makes every request; `clock` times the claim and must outlive the provider.
  Cloudflare(CloudflareOptions options, std::unique_ptr<HttpClient> http,
             Clock& clock = system_clock());

  const char* name() const override { return "cloudflare"; }

  // The record's id: looked up by type and name once, then cached.
  CloudResult<std::string> record_id();
  // The record as the API sees it now.
  CloudResult<CloudflareRecord> record();

  CloudResult<HolderStatus> status() override;
  ClaimReport claim() override;

  const CloudflareOptions& options() const { return options_; }

 private:
  HttpRequest api_request(std::string method, std::string path, std::string body = {}) const;
  CloudError from_http(const std::string& what, const HttpError& e) const;
  // A 2xx answer whose envelope says "success": false, as an error; nullopt when it is fine.
  std::optional<CloudError> envelope_failure(const std::string& what,
                                             const HttpResponse& res) const;
  CloudError bad_response(const std::string& what, const std::string& reason) const;
  CloudResult<CloudflareRecord> check_record(const std::string& what, CloudflareRecord r) const;
  std::string records_path() const;
  void log(const std::string& line) const;

  CloudflareOptions options_;
  std::unique_ptr<HttpClient> http_;
  Clock& clock_;
  std::string ip_;    // options_.address as text
  std::string name_;  // normalized options_.record
  std::optional<std::string> record_id_;
};

}  // namespace failoverd::cloud
