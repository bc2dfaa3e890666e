#include "failoverd/cloud/cloudflare.h"
#include "failoverd/util/text.h"
#include "failoverd/util/untrusted_json.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>

#include "provider_util.h"

namespace failoverd::cloud {

namespace {

using detail::ms_text;
using detail::plural;
using nlohmann::json;

// RFC 3986 unreserved characters stay, everything else is %XX: names and ids go into paths and
// queries as data, never as syntax.
std::string url_encode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

// The envelope's "result" after checking "success"; the error is a reason.
util::Expected<const json*, std::string> envelope_result(const json& j) {
  if (!j.is_object()) return util::unexpected(std::string("body is not a JSON object"));
  if (!j.contains("success") || !j["success"].is_boolean()) {
    return util::unexpected(std::string("no boolean \"success\""));
  }
  if (!j["success"].get<bool>()) return util::unexpected(std::string("\"success\" is false"));
  if (!j.contains("result")) return util::unexpected(std::string("no \"result\""));
  return &j["result"];
}

util::Expected<CloudflareRecord, std::string> record_from(const json& r, const std::string& where) {
  if (!r.is_object()) return util::unexpected(where + " is not an object");
  CloudflareRecord out;
  for (auto [key, field] : {std::pair{"id", &out.id}, std::pair{"type", &out.type},
                            std::pair{"name", &out.name}, std::pair{"content", &out.content}}) {
    if (!r.contains(key) || !r[key].is_string()) {
      return util::unexpected(where + "." + key + " is not a string");
    }
    *field = r[key].get<std::string>();
  }
  if (out.id.empty()) return util::unexpected(where + ".id is empty");
  if (r.contains("proxied") && r["proxied"].is_boolean()) out.proxied = r["proxied"].get<bool>();
  if (r.contains("ttl") && r["ttl"].is_number_integer()) {
    out.ttl = static_cast<int>(std::clamp<std::int64_t>(r["ttl"].get<std::int64_t>(), 0, 1 << 30));
  }
  return out;
}

std::string ttl_text(int ttl) {
  return ttl == 1 ? std::string("automatic") : std::to_string(ttl) + "s";
}

}  // namespace

// ---- parsing ----

util::Expected<CloudflareRecordList, std::string> parse_dns_record_list(std::string_view body) {
  const auto parsed = util::parse_untrusted_json(body);
  if (!parsed) return util::unexpected(parsed.error());
  const json& j = *parsed;
  auto result = envelope_result(j);
  if (!result) return util::unexpected(result.error());
  if (!(*result)->is_array()) return util::unexpected(std::string("\"result\" is not an array"));
  CloudflareRecordList list;
  std::size_t i = 0;
  for (const json& r : **result) {
    auto rec = record_from(r, "result[" + std::to_string(i++) + "]");
    if (!rec) return util::unexpected(rec.error());
    list.records.push_back(std::move(*rec));
  }
  if (j.contains("result_info") && j["result_info"].is_object()) {
    const json& info = j["result_info"];
    if (info.contains("total_count") && info["total_count"].is_number_integer()) {
      list.total_count = info["total_count"].get<std::int64_t>();
    }
  }
  return list;
}

util::Expected<CloudflareRecord, std::string> parse_dns_record(std::string_view body) {
  const auto parsed = util::parse_untrusted_json(body);
  if (!parsed) return util::unexpected(parsed.error());
  const json& j = *parsed;
  auto result = envelope_result(j);
  if (!result) return util::unexpected(result.error());
  return record_from(**result, "result");
}

bool is_cloudflare_auth_error(const HttpError& e) {
  if (e.kind != HttpErrorKind::kHttpStatus) return false;
  if (e.status == 401 || e.status == 403) return true;
  // 9109 invalid or under-privileged token, 10000 authentication error, 6003/6111 a malformed
  // Authorization header: none of them goes away by retrying.
  static constexpr std::array<std::string_view, 4> kAuthCodes = {"9109", "10000", "6003", "6111"};
  return std::find(kAuthCodes.begin(), kAuthCodes.end(), e.api_id) != kAuthCodes.end();
}

std::string normalize_dns_name(std::string_view name) {
  while (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return util::lower(name);
}

// ---- options ----

CloudResult<CloudflareOptions> cloudflare_options(const config::ReservedIpConfig& cfg) {
  auto o = detail::api_options<CloudflareOptions>(
      cfg, config::Provider::kCloudflare, "cloudflare",
      [](const config::ReservedIpConfig& c) -> std::optional<std::string> {
        if (c.zone_id.empty()) return "[reserved_ip] zone_id is not set";
        if (normalize_dns_name(c.record).empty()) return "[reserved_ip] record is not set";
        // The API wants names "in Punycode" (dns-records_name). No IDNA conversion is built
        // in (it needs Unicode normalisation and mapping, not only RFC 3492): refuse rather
        // than send a name that can never match.
        for (unsigned char ch : c.record) {
          if (ch >= 0x80) {
            return "[reserved_ip] record has non-ASCII characters: give it in its ASCII "
                   "(Punycode, xn--...) form, as the Cloudflare API requires (e.g. idn2 NAME)";
          }
        }
        return std::nullopt;
      });
  if (!o) return o;
  o->zone_id = cfg.zone_id;
  o->record = cfg.record;
  return o;
}

// ---- the provider ----

Cloudflare::Cloudflare(CloudflareOptions options, std::unique_ptr<HttpClient> http, Clock& clock)
    : options_(std::move(options)), http_(std::move(http)), clock_(clock) {
  options_.api_url = detail::strip_trailing_slashes(options_.api_url);
  options_.max_patch_attempts = std::max(options_.max_patch_attempts, 1);
  ip_ = options_.address.to_string();
  name_ = normalize_dns_name(options_.record);
}

void Cloudflare::log(const std::string& line) const {
  if (options_.log) options_.log(scrub(line, options_.token));
}

std::string Cloudflare::records_path() const {
  return "/zones/" + url_encode(options_.zone_id) + "/dns_records";
}

HttpRequest Cloudflare::api_request(std::string method, std::string path, std::string body) const {
  return detail::json_api_request(options_.api_url, options_.token, std::move(method), path,
                                  std::move(body));
}

CloudError Cloudflare::from_http(const std::string& what, const HttpError& e) const {
  const CloudErrorKind kind =
      is_cloudflare_auth_error(e) ? CloudErrorKind::kAuth : detail::kind_of(e);
  return detail::http_failure(kind, what, e, options_.token);
}

std::optional<CloudError> Cloudflare::envelope_failure(const std::string& what,
                                                       const HttpResponse& res) const {
  const auto parsed = util::parse_untrusted_json(res.body);
  if (!parsed) return std::nullopt;  // the parser of the body reports it
  const json& j = *parsed;
  if (!j.is_object() || !j.contains("success") || !j["success"].is_boolean() ||
      j["success"].get<bool>()) {
    return std::nullopt;  // fine, or a shape problem the parser reports
  }
  HttpError e;
  e.kind = HttpErrorKind::kHttpStatus;
  e.status = res.status;
  e.attempts = res.attempts;
  e.elapsed = res.elapsed;
  parse_api_error(res.body, e);
  e.api_message = scrub(e.api_message, options_.token);
  const CloudErrorKind kind =
      is_cloudflare_auth_error(e) ? CloudErrorKind::kAuth : CloudErrorKind::kRejected;
  return CloudError{kind,
                    scrub(what + ": HTTP " + std::to_string(res.status) + " with \"success\": " +
                              "false: " + (e.api_id.empty() ? "" : e.api_id + " ") + e.api_message,
                          options_.token),
                    e};
}

CloudError Cloudflare::bad_response(const std::string& what, const std::string& reason) const {
  return detail::bad_response(what, reason, options_.token);
}

CloudResult<CloudflareRecord> Cloudflare::check_record(const std::string& what,
                                                       CloudflareRecord r) const {
  if (r.type != "A") {
    return util::unexpected(
        CloudError{CloudErrorKind::kRejected,
                   what + ": record " + r.id + " is of type " + r.type.substr(0, 16) + ", not A",
                   std::nullopt});
  }
  return r;
}

CloudResult<std::string> Cloudflare::record_id() {
  if (record_id_) return *record_id_;
  const std::string what = "look up A record " + name_ + " in zone " + options_.zone_id;
  // Matching records are counted in "result" itself, page by page: result_info.total_count
  // is the total "without any search parameters" (the whole zone), not the A records of this
  // name. A page shorter than per_page is the last (the spec's result_info has no page count).
  constexpr int kPerPage = 100;
  constexpr int kMaxPages = 20;
  std::vector<CloudflareRecord> matches;
  for (int page = 1;; ++page) {
    auto res = http_->request(api_request(
        "GET", records_path() + "?type=A&name=" + url_encode(name_) +
                   "&per_page=" + std::to_string(kPerPage) + "&page=" + std::to_string(page)));
    if (!res) return util::unexpected(from_http(what, res.error()));
    if (auto e = envelope_failure(what, *res)) return util::unexpected(std::move(*e));
    auto list = parse_dns_record_list(res->body);
    if (!list) return util::unexpected(bad_response(what, list.error()));
    // Filter again: the answer must be about exactly this name and type, whatever the API's
    // matching rules are.
    for (auto& r : list->records) {
      if (r.type == "A" && normalize_dns_name(r.name) == name_) matches.push_back(std::move(r));
    }
    if (list->records.size() < static_cast<std::size_t>(kPerPage)) break;
    if (page >= kMaxPages) {
      return util::unexpected(bad_response(
          what, "still more pages after " + std::to_string(kMaxPages) + "; giving up"));
    }
  }
  const auto total = static_cast<std::int64_t>(matches.size());
  if (matches.empty()) {
    return util::unexpected(
        CloudError{CloudErrorKind::kRejected,
                   what + ": no A record of that name (create it, or check record and zone_id)",
                   std::nullopt});
  }
  if (total > 1) {
    std::string contents;
    for (const auto& r : matches) contents += (contents.empty() ? "" : ", ") + r.content;
    return util::unexpected(CloudError{CloudErrorKind::kRejected,
                                       what + ": " + std::to_string(total) +
                                           " A records of that name (" + contents +
                                           "); exactly one must exist for a failover by DNS",
                                       std::nullopt});
  }
  record_id_ = matches.front().id;
  log("DNS record " + name_ + " (A) has id " + *record_id_);
  return *record_id_;
}

CloudResult<CloudflareRecord> Cloudflare::record() {
  const bool was_cached = record_id_.has_value();
  auto id = record_id();
  if (!id) return util::unexpected(id.error());
  const std::string what = "get DNS record " + name_ + " (id " + *id + ")";
  auto res = http_->request(api_request("GET", records_path() + "/" + url_encode(*id)));
  if (!res) {
    if (was_cached && res.error().kind == HttpErrorKind::kHttpStatus && res.error().status == 404) {
      // Deleted and perhaps re-created since we cached its id: look it up again.
      log("DNS record id " + *id + " is gone; looking " + name_ + " up again");
      record_id_.reset();
      return record();
    }
    return util::unexpected(from_http(what, res.error()));
  }
  if (auto e = envelope_failure(what, *res)) return util::unexpected(std::move(*e));
  auto rec = parse_dns_record(res->body);
  if (!rec) return util::unexpected(bad_response(what, rec.error()));
  return check_record(what, std::move(*rec));
}

CloudResult<HolderStatus> Cloudflare::status() {
  auto rec = record();
  if (!rec) return util::unexpected(rec.error());
  HolderStatus s;
  if (!rec->content.empty()) s.holder = rec->content;
  s.ours = rec->content == ip_;
  s.locked = false;  // DNS records have no pending changes: a PATCH is synchronous
  return s;
}

ClaimReport Cloudflare::claim() {
  detail::ClaimRun claim_run(clock_, "DNS record " + name_, options_.token,
                             [this](const std::string& line) { log(line); });
  ClaimReport& report = claim_run.report;

  std::string last_seen;
  for (;;) {
    auto rec = record();
    if (!rec) return claim_run.fail(rec.error());
    if (rec->content == ip_) {
      if (report.attempts == 0)
        return claim_run.finish(ClaimOutcome::kAlreadyHeld, "already points at " + ip_);
      return claim_run.finish(
          ClaimOutcome::kClaimed,
          "points at " + ip_ + " after " + plural(report.attempts, "update request"));
    }
    if (report.attempts >= options_.max_patch_attempts) {
      return claim_run.fail({CloudErrorKind::kActionErrored,
                             "answered success to " + plural(report.attempts, "update request") +
                                 " but still points at " + rec->content.substr(0, 64),
                             std::nullopt});
    }
    const std::string from = rec->content.empty() ? std::string("nothing") : rec->content;
    ++report.attempts;
    log("DNS record " + name_ + " (id " + rec->id + ", TTL " + ttl_text(rec->ttl) +
        (rec->proxied ? ", proxied" : "") + ") points at " + from + "; pointing it at " + ip_ +
        " (attempt " + std::to_string(report.attempts) + ")");
    const std::string what = "update DNS record " + name_ + " (id " + rec->id + ")";
    const json body = {{"content", ip_}};
    auto res = http_->request(
        api_request("PATCH", records_path() + "/" + url_encode(rec->id), body.dump()));
    if (!res) {
      if (res.error().kind == HttpErrorKind::kHttpStatus && res.error().status == 404) {
        log("DNS record id " + rec->id + " is gone; looking " + name_ + " up again");
        record_id_.reset();  // deleted meanwhile: find it again, bounded by the attempts
        continue;
      }
      return claim_run.fail(from_http(what, res.error()));
    }
    if (auto e = envelope_failure(what, *res)) return claim_run.fail(std::move(*e));
    auto updated = parse_dns_record(res->body);
    if (!updated) return claim_run.fail(bad_response(what, updated.error()));
    if (updated->content == ip_) {
      return claim_run.finish(ClaimOutcome::kClaimed,
                              "now points at " + ip_ + " (was " + from + "), TTL " +
                                  ttl_text(updated->ttl) + (updated->proxied ? ", proxied" : "") +
                                  ", after " + plural(report.attempts, "update request"));
    }
    log("update answered success but the record points at " + updated->content.substr(0, 64) +
        " (" + std::to_string(report.attempts) + "/" + std::to_string(options_.max_patch_attempts) +
        ")");
  }
}

}  // namespace failoverd::cloud
