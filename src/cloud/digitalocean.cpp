#include "failoverd/cloud/digitalocean.h"
#include "failoverd/util/text.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "provider_util.h"

namespace failoverd::cloud {

namespace {

using detail::ms_text;
using detail::positive_id;
using nlohmann::json;

}  // namespace

// ---- parsing ----

util::Expected<ReservedIpInfo, std::string> parse_reserved_ip(std::string_view body) {
  const auto object = detail::json_member_object(body, "reserved_ip");
  if (!object) return util::unexpected(object.error());
  const json& r = *object;
  ReservedIpInfo info;
  if (r.contains("ip") && r["ip"].is_string()) info.ip = r["ip"].get<std::string>();
  if (!r.contains("droplet")) return util::unexpected(std::string(kDropletScopeMissing));
  if (!r["droplet"].is_null()) {
    const json& d = r["droplet"];
    if (!d.is_object() || !d.contains("id")) {
      return util::unexpected(std::string("reserved_ip.droplet has no \"id\""));
    }
    info.droplet_id = positive_id(d["id"]);
    if (!info.droplet_id) {
      return util::unexpected(std::string("reserved_ip.droplet.id is not a positive integer"));
    }
  }
  if (r.contains("locked")) {
    if (!r["locked"].is_boolean()) {
      return util::unexpected(std::string("reserved_ip.locked is not a boolean"));
    }
    info.locked = r["locked"].get<bool>();
  }
  if (r.contains("region") && r["region"].is_object() && r["region"].contains("slug") &&
      r["region"]["slug"].is_string()) {
    info.region = r["region"]["slug"].get<std::string>();
  }
  return info;
}

util::Expected<ActionInfo, std::string> parse_action(std::string_view body) {
  auto head = detail::parse_action_head(body);
  if (!head) return util::unexpected(head.error());
  const json& a = head->object;
  ActionInfo info;
  info.id = head->id;
  info.status = std::move(head->status);
  if (a.contains("type") && a["type"].is_string()) info.type = a["type"].get<std::string>();
  return info;
}

util::Expected<std::uint64_t, std::string> parse_droplet_id(std::string_view body) {
  return detail::parse_decimal_id(body, "droplet id");
}

bool is_pending_event(const HttpError& e) {
  if (e.kind != HttpErrorKind::kHttpStatus || e.status != 422) return false;
  if (!e.api_id.empty() && e.api_id != "unprocessable_entity") return false;
  const std::string m = util::lower(e.api_message);
  return m.find("pending event") != std::string::npos || m.find("locked") != std::string::npos;
}

// ---- options ----

CloudResult<DigitalOceanOptions> digitalocean_options(const config::ReservedIpConfig& cfg) {
  auto o = detail::api_options<DigitalOceanOptions>(cfg, config::Provider::kDigitalOcean,
                                                    "digitalocean");
  if (!o) return o;
  if (!cfg.metadata_url.empty()) o->metadata_url = cfg.metadata_url;
  o->droplet_id = cfg.droplet_id;
  // The keeper reads the holder every reconcile_interval; half an interval more leaves room
  // for a check that ran late or slow.
  o->holder_cache_max_age = std::chrono::duration_cast<Millis>(cfg.reconcile_interval) * 3 / 2;
  return o;
}

// ---- the provider ----

DigitalOcean::DigitalOcean(DigitalOceanOptions options, std::unique_ptr<HttpClient> http,
                           Clock& clock)
    : options_(std::move(options)), http_(std::move(http)), clock_(clock) {
  options_.api_url = detail::strip_trailing_slashes(options_.api_url);
  options_.metadata_url = detail::strip_trailing_slashes(options_.metadata_url);
  if (options_.max_assign_attempts < 1) options_.max_assign_attempts = 1;
  ip_ = options_.address.to_string();
  if (options_.droplet_id) droplet_id_ = options_.droplet_id;
}

void DigitalOcean::log(const std::string& line) const {
  if (options_.log) options_.log(scrub(line, options_.token));
}

HttpRequest DigitalOcean::api_request(std::string method, std::string path,
                                      std::string body) const {
  return detail::json_api_request(options_.api_url, options_.token, std::move(method), path,
                                  std::move(body));
}

CloudError DigitalOcean::from_http(const std::string& what, const HttpError& e) const {
  return detail::http_failure(what, e, options_.token);
}

CloudError DigitalOcean::bad_response(const std::string& what, const std::string& reason) const {
  return detail::bad_response(what, reason, options_.token);
}

CloudResult<std::uint64_t> DigitalOcean::droplet_id() {
  if (droplet_id_) return *droplet_id_;
  auto id = detail::metadata_id(*http_, options_.metadata_url + "/metadata/v1/id", "droplet id",
                                options_.token);
  if (!id) return id;
  droplet_id_ = *id;
  log("droplet id " + std::to_string(*id) + " from the metadata service");
  return *id;
}

CloudResult<ReservedIpInfo> DigitalOcean::reserved_ip() {
  auto res = http_->request(api_request("GET", "/v2/reserved_ips/" + ip_));
  if (!res) return util::unexpected(from_http("get reserved IP " + ip_, res.error()));
  auto info = parse_reserved_ip(res->body);
  if (!info && info.error() == kDropletScopeMissing) {
    // A token without the scope: the operator must fix it; retrying cannot.
    return util::unexpected(CloudError{
        CloudErrorKind::kAuth,
        scrub("get reserved IP " + ip_ + ": " + info.error(), options_.token), std::nullopt});
  }
  if (!info) return util::unexpected(bad_response("get reserved IP " + ip_, info.error()));
  seen_ = SeenHolder{info->droplet_id, info->locked, clock_.now()};
  return std::move(*info);
}

CloudResult<std::optional<std::uint64_t>> DigitalOcean::holder() {
  auto info = reserved_ip();
  if (!info) return util::unexpected(info.error());
  return info->droplet_id;
}

CloudResult<HolderStatus> DigitalOcean::status() {
  auto me = droplet_id();
  if (!me) return util::unexpected(me.error());
  auto info = reserved_ip();
  if (!info) return util::unexpected(info.error());
  HolderStatus s;
  if (info->droplet_id) s.holder = std::to_string(*info->droplet_id);
  s.ours = info->droplet_id == *me;
  s.locked = info->locked;
  return s;
}

CloudResult<ActionInfo> DigitalOcean::post_assign(std::uint64_t droplet) {
  const json body = {{"type", "assign"}, {"droplet_id", droplet}};
  auto res =
      http_->request(api_request("POST", "/v2/reserved_ips/" + ip_ + "/actions", body.dump()));
  if (!res) {
    return util::unexpected(
        from_http("assign " + ip_ + " to droplet " + std::to_string(droplet), res.error()));
  }
  auto action = parse_action(res->body);
  if (!action) return util::unexpected(bad_response("assign " + ip_, action.error()));
  return std::move(*action);
}

CloudResult<ActionInfo> DigitalOcean::get_action(std::uint64_t action_id) {
  const std::string id = std::to_string(action_id);
  auto res = http_->request(api_request("GET", "/v2/reserved_ips/" + ip_ + "/actions/" + id));
  if (!res) return util::unexpected(from_http("poll action " + id, res.error()));
  auto action = parse_action(res->body);
  if (!action) return util::unexpected(bad_response("poll action " + id, action.error()));
  return std::move(*action);
}

ClaimReport DigitalOcean::claim() {
  detail::ClaimRun claim_run(clock_, options_.claim_deadline, "reserved IP " + ip_, options_.token,
                             [this](const std::string& line) { log(line); });
  ClaimReport& report = claim_run.report;
  auto fail = [&](CloudError e) {
    // After a failure the holder may be anything (a POST that timed out may have landed).
    seen_.reset();
    return claim_run.fail(std::move(e));
  };

  auto me = droplet_id();
  if (!me) return fail(me.error());
  const std::string mine = "droplet " + std::to_string(*me);

  auto describe = [](const std::optional<std::uint64_t>& droplet) {
    return droplet ? "droplet " + std::to_string(*droplet) : std::string("nobody");
  };

  // The fast path: a fresh memory that someone else (or nobody) holds it, and no lock, means
  // the GET would only say the same; POST at once.
  bool fast = false;
  if (seen_ && options_.holder_cache_max_age > Millis(0) && !seen_->locked &&
      seen_->droplet != *me && clock_.now() - seen_->at <= options_.holder_cache_max_age) {
    fast = true;
  }

  int errored = 0;
  int locked_waits = 0;
  int accepted = 0;  // assign requests the API took (answered with an action)
  bool refused_fast = false;
  for (;;) {
    std::string from;
    if (fast) {
      from = describe(seen_->droplet) + " (seen " +
             ms_text(std::chrono::duration_cast<Millis>(clock_.now() - seen_->at)) + " ago)";
    } else {
      auto info = reserved_ip();
      if (!info) return fail(info.error());
      if (info->droplet_id == *me) {
        if (accepted == 0) {
          return claim_run.finish(
              ClaimOutcome::kAlreadyHeld,
              "already on " + mine +
                  (refused_fast ? " (the assign sent on a stale memory was refused)" : ""));
        }
        return claim_run.finish(ClaimOutcome::kClaimed,
                                "on " + mine + " after " + std::to_string(report.attempts) +
                                    " assign request" + (report.attempts == 1 ? "" : "s"));
      }
      from = describe(info->droplet_id);
      if (info->locked) {
        ++locked_waits;
        log("reserved IP " + ip_ + " is locked by a pending action (held by " + from +
            "); waiting " + ms_text(options_.locked_wait));
        if (!claim_run.wait_or_deadline(options_.locked_wait)) {
          return fail({CloudErrorKind::kDeadline,
                       "still locked by a pending action after " + std::to_string(locked_waits) +
                           " waits (claim deadline " + ms_text(options_.claim_deadline) + ")",
                       std::nullopt});
        }
        continue;
      }
    }
    if (errored >= options_.max_assign_attempts) {
      return fail({CloudErrorKind::kActionErrored,
                   "assign action errored " + std::to_string(errored) + " times; giving up",
                   std::nullopt});
    }

    ++report.attempts;
    log("reserved IP " + ip_ + " held by " + from + "; assigning to " + mine + " (attempt " +
        std::to_string(report.attempts) + (fast ? ", without reading the holder first" : "") + ")");
    const bool was_fast = fast;
    fast = false;  // one try per claim: every later decision reads the holder
    auto action = post_assign(*me);
    if (!action) {
      if (action.error().http && is_pending_event(*action.error().http)) {
        ++locked_waits;
        log("assign refused, a pending event locks the IP: " + action.error().http->api_message +
            "; waiting " + ms_text(options_.locked_wait));
        if (!claim_run.wait_or_deadline(options_.locked_wait)) {
          return fail({CloudErrorKind::kDeadline,
                       "still locked by a pending event after " + std::to_string(locked_waits) +
                           " waits (claim deadline " + ms_text(options_.claim_deadline) + ")",
                       action.error().http});
        }
        continue;
      }
      if (was_fast && action.error().kind == CloudErrorKind::kRejected) {
        // The API refuses what the memory suggested (e.g. it is ours already): read it.
        refused_fast = true;
        seen_.reset();
        log("assign refused (" + action.error().message + "); reading the holder");
        continue;
      }
      return fail(action.error());
    }
    ++accepted;

    ActionInfo a = std::move(*action);
    log("assign action " + std::to_string(a.id) + " " + a.status);
    Millis poll = options_.poll_initial;
    int polls = 0;
    while (a.status == "in-progress") {
      if (!claim_run.wait_or_deadline(poll)) {
        return fail({CloudErrorKind::kDeadline,
                     "assign action " + std::to_string(a.id) + " still in-progress after " +
                         std::to_string(polls) + " polls (claim deadline " +
                         ms_text(options_.claim_deadline) + ")",
                     std::nullopt});
      }
      poll = std::min(poll * 2, std::max(options_.poll_max, options_.poll_initial));
      auto next = get_action(a.id);
      ++polls;
      if (!next) return fail(next.error());
      a = std::move(*next);
    }
    if (a.status == "completed") {
      seen_ = SeenHolder{*me, false, clock_.now()};
      return claim_run.finish(
          ClaimOutcome::kClaimed,
          "assigned to " + mine + " (was " + from + ") by action " + std::to_string(a.id) +
              " after " + std::to_string(report.attempts) + " assign request" +
              (report.attempts == 1 ? "" : "s") + " and " + std::to_string(polls) + " polls");
    }
    if (a.status == "errored") {
      ++errored;
      seen_.reset();
      log("assign action " + std::to_string(a.id) + " errored (" + std::to_string(errored) + "/" +
          std::to_string(options_.max_assign_attempts) + ")");
      continue;  // look again: someone else's action may have moved it meanwhile
    }
    return fail({CloudErrorKind::kBadResponse,
                 "assign action " + std::to_string(a.id) + " has unknown status \"" +
                     a.status.substr(0, 40) + "\"",
                 std::nullopt});
  }
}

}  // namespace failoverd::cloud
