#include "failoverd/cloud/hetzner.h"
#include "failoverd/util/untrusted_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "provider_util.h"

namespace failoverd::cloud {

namespace {

using detail::ms_text;
using detail::plural;
using detail::positive_id;
using nlohmann::json;

// One floating IP object; `where` prefixes the reasons ("floating_ips[3]").
util::Expected<HetznerFloatingIp, std::string> floating_ip_from(const json& f,
                                                                const std::string& where) {
  if (!f.is_object()) return util::unexpected(where + " is not an object");
  HetznerFloatingIp out;
  const auto id = f.contains("id") ? positive_id(f["id"]) : std::nullopt;
  if (!id) return util::unexpected(where + ".id is not a positive integer");
  out.id = *id;
  if (!f.contains("ip") || !f["ip"].is_string()) {
    return util::unexpected(where + ".ip is not a string");
  }
  out.ip = f["ip"].get<std::string>();
  if (f.contains("type") && f["type"].is_string()) out.type = f["type"].get<std::string>();
  if (!f.contains("server")) return util::unexpected(where + " has no \"server\"");
  if (!f["server"].is_null()) {
    out.server = positive_id(f["server"]);
    if (!out.server) return util::unexpected(where + ".server is not a positive integer or null");
  }
  if (f.contains("blocked") && f["blocked"].is_boolean()) out.blocked = f["blocked"].get<bool>();
  return out;
}

}  // namespace

// ---- parsing ----

util::Expected<HetznerFloatingIpPage, std::string> parse_floating_ip_page(std::string_view body) {
  const auto parsed = util::parse_untrusted_json(body);
  if (!parsed) return util::unexpected(parsed.error());
  const json& j = *parsed;
  if (!j.is_object() || !j.contains("floating_ips") || !j["floating_ips"].is_array()) {
    return util::unexpected(std::string("no \"floating_ips\" array"));
  }
  HetznerFloatingIpPage page;
  std::size_t i = 0;
  for (const json& f : j["floating_ips"]) {
    auto ip = floating_ip_from(f, "floating_ips[" + std::to_string(i++) + "]");
    if (!ip) return util::unexpected(ip.error());
    page.floating_ips.push_back(std::move(*ip));
  }
  // meta.pagination.next_page: a page number, or null (or absent) on the last page.
  if (j.contains("meta") && j["meta"].is_object() && j["meta"].contains("pagination")) {
    const json& p = j["meta"]["pagination"];
    if (!p.is_object()) return util::unexpected(std::string("meta.pagination is not an object"));
    if (p.contains("next_page") && !p["next_page"].is_null()) {
      const auto next = positive_id(p["next_page"]);
      if (!next || *next > 1000000) {
        return util::unexpected(std::string("meta.pagination.next_page is not a page number"));
      }
      page.next_page = static_cast<int>(*next);
    }
  }
  return page;
}

util::Expected<HetznerFloatingIp, std::string> parse_floating_ip(std::string_view body) {
  const auto parsed = util::parse_untrusted_json(body);
  if (!parsed) return util::unexpected(parsed.error());
  const json& j = *parsed;
  if (!j.is_object() || !j.contains("floating_ip")) {
    return util::unexpected(std::string("no \"floating_ip\" object"));
  }
  return floating_ip_from(j["floating_ip"], "floating_ip");
}

util::Expected<HetznerAction, std::string> parse_hetzner_action(std::string_view body) {
  auto head = detail::parse_action_head(body);
  if (!head) return util::unexpected(head.error());
  const json& a = head->object;
  HetznerAction out;
  out.id = head->id;
  out.status = std::move(head->status);
  if (a.contains("command") && a["command"].is_string()) {
    out.command = a["command"].get<std::string>();
  }
  if (a.contains("error") && a["error"].is_object()) {
    const json& e = a["error"];
    if (e.contains("code") && e["code"].is_string()) out.error_code = e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string()) {
      out.error_message = e["message"].get<std::string>().substr(0, 200);
    }
  }
  return out;
}

util::Expected<std::uint64_t, std::string> parse_instance_id(std::string_view body) {
  return detail::parse_decimal_id(body, "server id");
}

bool is_hetzner_locked(const HttpError& e) {
  if (e.kind != HttpErrorKind::kHttpStatus) return false;
  if (e.status == 423) return e.api_id.empty() || e.api_id == "locked";  // not "protected"
  if (e.status == 409) return e.api_id.empty() || e.api_id == "conflict";
  return false;
}

bool is_hetzner_transient(const HttpError& e) {
  if (e.kind != HttpErrorKind::kHttpStatus) return false;
  return (e.status == 403 && e.api_id == "maintenance") ||
         (e.status == 412 && e.api_id == "resource_unavailable") ||
         (e.status == 422 && e.api_id == "service_error");
}

bool is_hetzner_already_assigned(const HttpError& e) {
  return e.kind == HttpErrorKind::kHttpStatus && e.status == 422 &&
         e.api_id == "floating_ip_assigned";
}

// ---- options ----

CloudResult<HetznerOptions> hetzner_options(const config::ReservedIpConfig& cfg) {
  auto o = detail::api_options<HetznerOptions>(cfg, config::Provider::kHetzner, "hetzner");
  if (!o) return o;
  if (!cfg.metadata_url.empty()) o->metadata_url = cfg.metadata_url;
  o->server_id = cfg.server_id;
  return o;
}

HttpClientOptions hetzner_http_options(HttpClientOptions base) {
  base.retry.rate_limit_reset = RateLimitReset::kFullRefill;
  return base;
}

// ---- the provider ----

Hetzner::Hetzner(HetznerOptions options, std::unique_ptr<HttpClient> http, Clock& clock)
    : options_(std::move(options)), http_(std::move(http)), clock_(clock) {
  options_.api_url = detail::strip_trailing_slashes(options_.api_url);
  options_.metadata_url = detail::strip_trailing_slashes(options_.metadata_url);
  options_.max_assign_attempts = std::max(options_.max_assign_attempts, 1);
  options_.page_size = std::clamp(options_.page_size, 1, 50);
  options_.max_pages = std::max(options_.max_pages, 1);
  ip_ = options_.address.to_string();
  if (options_.server_id) server_id_ = options_.server_id;
}

void Hetzner::log(const std::string& line) const {
  if (options_.log) options_.log(scrub(line, options_.token));
}

HttpRequest Hetzner::api_request(std::string method, std::string path, std::string body) const {
  return detail::json_api_request(options_.api_url, options_.token, std::move(method), path,
                                  std::move(body));
}

CloudError Hetzner::from_http(const std::string& what, const HttpError& e) const {
  // 403 maintenance is not a token without permission: the node must not go FAULT for it.
  if (is_hetzner_transient(e)) {
    return detail::http_failure(CloudErrorKind::kUnavailable, what, e, options_.token);
  }
  return detail::http_failure(what, e, options_.token);
}

CloudError Hetzner::bad_response(const std::string& what, const std::string& reason) const {
  return detail::bad_response(what, reason, options_.token);
}

CloudResult<std::uint64_t> Hetzner::server_id() {
  if (server_id_) return *server_id_;
  auto id = detail::metadata_id(*http_, options_.metadata_url + "/hetzner/v1/metadata/instance-id",
                                "server id", options_.token);
  if (!id) return id;
  server_id_ = *id;
  log("server id " + std::to_string(*id) + " from the metadata service");
  return *id;
}

CloudResult<std::uint64_t> Hetzner::floating_ip_id() {
  if (floating_ip_id_) return *floating_ip_id_;
  int page = 1;
  int pages = 0;
  std::size_t seen = 0;
  for (;;) {
    const std::string what = "list floating IPs (page " + std::to_string(page) + ")";
    auto res =
        http_->request(api_request("GET", "/v1/floating_ips?page=" + std::to_string(page) +
                                              "&per_page=" + std::to_string(options_.page_size)));
    if (!res) return util::unexpected(from_http(what, res.error()));
    ++pages;
    auto list = parse_floating_ip_page(res->body);
    if (!list) return util::unexpected(bad_response(what, list.error()));
    for (const auto& f : list->floating_ips) {
      if (f.ip != ip_) continue;
      floating_ip_id_ = f.id;
      log("floating IP " + ip_ + " has id " + std::to_string(f.id) + " (found on page " +
          std::to_string(page) + ")");
      return f.id;
    }
    seen += list->floating_ips.size();
    if (!list->next_page) break;
    if (*list->next_page <= page) {
      return util::unexpected(bad_response(what, "meta.pagination.next_page " +
                                                     std::to_string(*list->next_page) +
                                                     " does not move forward"));
    }
    if (pages >= options_.max_pages) {
      return util::unexpected(
          bad_response(what, "still more pages after " + std::to_string(pages) + "; giving up"));
    }
    page = *list->next_page;
  }
  return util::unexpected(CloudError{CloudErrorKind::kNotFound,
                                     "floating IP " + ip_ + " is not in this project (" +
                                         plural(static_cast<int>(seen), "floating IP") + " on " +
                                         plural(pages, "page") +
                                         "; the token's project must own it)",
                                     std::nullopt});
}

CloudResult<HetznerFloatingIp> Hetzner::floating_ip() {
  const bool was_cached = floating_ip_id_.has_value();
  auto id = floating_ip_id();
  if (!id) return util::unexpected(id.error());
  const std::string what = "get floating IP " + ip_ + " (id " + std::to_string(*id) + ")";
  auto res = http_->request(api_request("GET", "/v1/floating_ips/" + std::to_string(*id)));
  if (!res) {
    if (was_cached && res.error().kind == HttpErrorKind::kHttpStatus && res.error().status == 404) {
      // Deleted and perhaps re-created under a new id since we cached it: look it up again.
      log("floating IP id " + std::to_string(*id) + " is gone; looking " + ip_ + " up again");
      floating_ip_id_.reset();
      return floating_ip();
    }
    return util::unexpected(from_http(what, res.error()));
  }
  auto fip = parse_floating_ip(res->body);
  if (!fip) return util::unexpected(bad_response(what, fip.error()));
  if (fip->ip != ip_) {
    floating_ip_id_.reset();
    return util::unexpected(
        bad_response(what, "the API answered address " + fip->ip.substr(0, 64)));
  }
  return std::move(*fip);
}

CloudResult<HolderStatus> Hetzner::status() {
  auto me = server_id();
  if (!me) return util::unexpected(me.error());
  auto fip = floating_ip();
  if (!fip) return util::unexpected(fip.error());
  HolderStatus s;
  if (fip->server) s.holder = std::to_string(*fip->server);
  s.ours = fip->server == *me;
  s.locked = false;  // the floating IP object does not say; an assign would answer 423
  return s;
}

CloudResult<HetznerAction> Hetzner::post_assign(std::uint64_t fip, std::uint64_t server) {
  const json body = {{"server", server}};
  const std::string what = "assign " + ip_ + " to server " + std::to_string(server);
  auto res = http_->request(api_request(
      "POST", "/v1/floating_ips/" + std::to_string(fip) + "/actions/assign", body.dump()));
  if (!res) return util::unexpected(from_http(what, res.error()));
  auto action = parse_hetzner_action(res->body);
  if (!action) return util::unexpected(bad_response(what, action.error()));
  return std::move(*action);
}

CloudResult<HetznerAction> Hetzner::get_action(std::uint64_t action_id) {
  const std::string id = std::to_string(action_id);
  auto res = http_->request(api_request("GET", "/v1/actions/" + id));
  if (!res) return util::unexpected(from_http("poll action " + id, res.error()));
  auto action = parse_hetzner_action(res->body);
  if (!action) return util::unexpected(bad_response("poll action " + id, action.error()));
  return std::move(*action);
}

ClaimReport Hetzner::claim() {
  detail::ClaimRun claim_run(clock_, options_.claim_deadline, "floating IP " + ip_, options_.token,
                             [this](const std::string& line) { log(line); });
  ClaimReport& report = claim_run.report;

  auto me = server_id();
  if (!me) return claim_run.fail(me.error());
  const std::string mine = "server " + std::to_string(*me);

  int errored = 0;
  int waits = 0;  // after locked or transient answers to an assign
  for (;;) {
    auto fip = floating_ip();
    if (!fip) return claim_run.fail(fip.error());
    if (fip->server == *me) {
      if (report.attempts == 0)
        return claim_run.finish(ClaimOutcome::kAlreadyHeld, "already on " + mine);
      return claim_run.finish(ClaimOutcome::kClaimed,
                              "on " + mine + " after " + plural(report.attempts, "assign request"));
    }
    const std::string from =
        fip->server ? "server " + std::to_string(*fip->server) : std::string("nobody");
    if (errored >= options_.max_assign_attempts) {
      return claim_run.fail(
          {CloudErrorKind::kActionErrored,
           "assign action ended in error " + std::to_string(errored) + " times; giving up",
           std::nullopt});
    }

    ++report.attempts;
    log("floating IP " + ip_ + " (id " + std::to_string(fip->id) + ") held by " + from +
        "; assigning to " + mine + " (attempt " + std::to_string(report.attempts) + ")");
    auto action = post_assign(fip->id, *me);
    if (!action) {
      const auto& http = action.error().http;
      if (http && is_hetzner_already_assigned(*http)) {
        // 422 floating_ip_assigned: the assign asks for what already is (it is on this server).
        // Confirm by reading it: ours, we are done; not (yet) ours, wait and look again.
        auto again = floating_ip();
        if (again && again->server == *me) {
          return claim_run.finish(ClaimOutcome::kAlreadyHeld,
                                  "already on " + mine + " (the assign answered 422 "
                                  "floating_ip_assigned)");
        }
      }
      const bool locked = http && is_hetzner_locked(*http);
      if (http && (locked || is_hetzner_transient(*http) || is_hetzner_already_assigned(*http))) {
        ++waits;
        log("assign refused (HTTP " + std::to_string(http->status) + " " + http->api_id + ": " +
            http->api_message + "); waiting " + ms_text(options_.locked_wait));
        if (!claim_run.wait_or_deadline(options_.locked_wait)) {
          return claim_run.fail({locked ? CloudErrorKind::kDeadline : CloudErrorKind::kUnavailable,
                                 std::string(locked ? "still locked by a running action"
                                                    : "the API still answers " + http->api_id) +
                                     " after " + plural(waits, "wait") + " (claim deadline " +
                                     ms_text(options_.claim_deadline) + ")",
                                 http});
        }
        continue;
      }
      return claim_run.fail(action.error());
    }

    HetznerAction a = std::move(*action);
    log("assign action " + std::to_string(a.id) + " " + a.status);
    Millis poll = options_.poll_initial;
    int polls = 0;
    while (a.status == "running") {
      if (!claim_run.wait_or_deadline(poll)) {
        return claim_run.fail({CloudErrorKind::kDeadline,
                               "assign action " + std::to_string(a.id) + " still running after " +
                                   plural(polls, "poll") + " (claim deadline " +
                                   ms_text(options_.claim_deadline) + ")",
                               std::nullopt});
      }
      poll = std::min(poll * 2, std::max(options_.poll_max, options_.poll_initial));
      auto next = get_action(a.id);
      ++polls;
      if (!next) return claim_run.fail(next.error());
      a = std::move(*next);
    }
    if (a.status == "success") {
      return claim_run.finish(ClaimOutcome::kClaimed,
                              "assigned to " + mine + " (was " + from + ") by action " +
                                  std::to_string(a.id) + " after " +
                                  plural(report.attempts, "assign request") + " and " +
                                  plural(polls, "poll"));
    }
    if (a.status == "error") {
      ++errored;
      log("assign action " + std::to_string(a.id) + " ended in error " + a.error_code + " (" +
          a.error_message + ") (" + std::to_string(errored) + "/" +
          std::to_string(options_.max_assign_attempts) + ")");
      continue;  // look again: someone else's action may have moved it meanwhile
    }
    return claim_run.fail(bad_response("assign action " + std::to_string(a.id),
                                       "unknown status \"" + a.status.substr(0, 40) + "\""));
  }
}

}  // namespace failoverd::cloud
