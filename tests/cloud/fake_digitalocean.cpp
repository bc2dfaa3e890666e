#include "fake_digitalocean.h"

#include <algorithm>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

namespace failoverd::cloud::testing {

using nlohmann::json;
using Millis = std::chrono::milliseconds;

namespace {

json region_json(const std::string& slug) {
  return {{"name", slug == "nyc3" ? "New York 3" : slug},
          {"slug", slug},
          {"features", {"backups", "ipv6", "metadata", "install_agent", "storage"}},
          {"available", true},
          {"sizes", {"s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-4gb"}}};
}

constexpr const char* kNotFound = "The resource you were accessing could not be found.";

}  // namespace

struct FakeDigitalOcean::Impl {
  struct ReservedIp {
    std::optional<std::uint64_t> droplet;
    std::string region;
    std::optional<std::uint64_t> pending_action;  // locked while set
  };
  struct Action {
    std::uint64_t id = 0;
    std::string ip;
    std::string type;  // "assign_ip" / "unassign_ip"
    std::optional<std::uint64_t> droplet;
    std::string status = "in-progress";
    int polls_left = 0;
    bool will_error = false;
    std::string started_at;
    std::string completed_at;
  };

  Options options;
  std::map<std::string, ReservedIp> ips;
  std::set<std::uint64_t> droplets;
  std::map<std::uint64_t, Action> actions;
  std::uint64_t next_action_id = 1000001;
  std::vector<FakeAssignment> history;
  std::deque<std::int64_t> window;  // epoch seconds of the requests of the last hour
  std::mt19937_64 rng{42};
  // DigitalOcean's own fault switches (the generic ones are the server's)
  int lock_n = 0;
  int action_polls = 0;
  int error_actions_n = 0;
  bool instant_actions = false;
  bool without_droplet_read = false;

  std::string request_id() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) id += '-';
      id += kHex[rng() % 16];
    }
    return id;
  }

  FakeResponse error(int status, const std::string& id, const std::string& message) {
    FakeResponse r = FakeResponse::json(
        status, {{"id", id}, {"message", message}, {"request_id", request_id()}});
    r.content_type = "application/json; charset=utf-8";
    return r;
  }

  FakeResponse ok(int status, const json& body) {
    FakeResponse r = FakeResponse::json(status, body);
    r.content_type = "application/json; charset=utf-8";
    return r;
  }

  // The documented window (description "Rate Limit"): each request counts for one hour after
  // it was made; ratelimit-reset is when the *oldest* counted one expires.
  void ratelimit_headers(FakeResponse& res, bool exhausted,
                         std::optional<std::int64_t> reset_epoch = std::nullopt) {
    const std::int64_t now = epoch_now();
    while (!window.empty() && window.front() + 3600 <= now) window.pop_front();
    window.push_back(now);
    const auto remaining =
        std::max<std::int64_t>(5000 - static_cast<std::int64_t>(window.size()), 0);
    res.header("ratelimit-limit", "5000");
    res.header("ratelimit-remaining", std::to_string(exhausted ? 0 : remaining));
    res.header("ratelimit-reset",
               std::to_string(exhausted && reset_epoch ? *reset_epoch : window.front() + 3600));
  }

  // Ends an action: the assignment changes (or not, when it errors) and the lock goes.
  void complete(Action& a) {
    a.status = a.will_error ? "errored" : "completed";
    a.completed_at = iso8601_now();
    auto it = ips.find(a.ip);
    if (it == ips.end()) return;
    it->second.pending_action.reset();
    if (a.will_error) return;
    it->second.droplet = a.droplet;
    history.push_back({a.ip, a.droplet, a.id, std::chrono::steady_clock::now(),
                       std::chrono::system_clock::now()});
  }

  json action_json(const Action& a) const {
    const auto it = ips.find(a.ip);
    const std::string region = it == ips.end() ? "nyc3" : it->second.region;
    return {{"action",
             {{"id", a.id},
              {"status", a.status},
              {"type", a.type},
              {"started_at", a.started_at},
              {"completed_at", a.completed_at.empty() ? json(nullptr) : json(a.completed_at)},
              {"resource_id", ip_number(a.ip)},
              {"resource_type", "reserved_ip"},
              {"region", region_json(region)},
              {"region_slug", region}}}};
  }

  json reserved_ip_json(const std::string& ip, const ReservedIp& r) const {
    json droplet = nullptr;
    if (r.droplet) {
      droplet = {{"id", *r.droplet},   {"name", "droplet-" + std::to_string(*r.droplet)},
                 {"memory", 1024},     {"vcpus", 1},
                 {"disk", 25},         {"locked", false},
                 {"status", "active"}, {"region", region_json(r.region)}};
    }
    json out = {{"reserved_ip",
                 {{"ip", ip},
                  {"droplet", droplet},
                  {"region", region_json(r.region)},
                  {"locked", r.pending_action.has_value()},
                  {"project_id", "746c6152-2fa2-11ed-92d3-27aaa54e4988"}}}};
    // "droplet ... Requires `droplet:read` scope": a token without it gets no such field.
    if (without_droplet_read) out["reserved_ip"].erase("droplet");
    return out;
  }

  // The API proper, after faults and the token check.
  FakeResponse route(const FakeRequest& req) {
    static constexpr std::string_view kIps = "/v2/reserved_ips/";
    if (!req.path.starts_with(kIps)) return error(404, "not_found", kNotFound);
    std::string rest = req.path.substr(kIps.size());
    std::string ip = rest.substr(0, rest.find('/'));
    rest = rest.substr(ip.size());
    auto it = ips.find(ip);
    if (it == ips.end()) return error(404, "not_found", kNotFound);
    ReservedIp& rip = it->second;
    if (rest.empty() && req.method == "GET") return ok(200, reserved_ip_json(ip, rip));
    if (rest == "/actions" && req.method == "POST") {
      const json body = json::parse(req.body, nullptr, false);
      if (!body.is_object() || !body.contains("type") || !body["type"].is_string()) {
        return error(422, "unprocessable_entity", "type is required");
      }
      const std::string type = body["type"].get<std::string>();
      Action a;
      if (type == "assign") {
        if (!body.contains("droplet_id") || !body["droplet_id"].is_number_unsigned() ||
            body["droplet_id"].get<std::uint64_t>() == 0) {
          return error(422, "unprocessable_entity", "droplet_id is required");
        }
        a.droplet = body["droplet_id"].get<std::uint64_t>();
        if (!droplets.empty() && droplets.count(*a.droplet) == 0) {
          return error(422, "unprocessable_entity", "Droplet not found");
        }
        a.type = "assign_ip";
      } else if (type == "unassign") {
        a.type = "unassign_ip";
      } else {
        return error(422, "unprocessable_entity", "type must be one of assign, unassign");
      }
      if (lock_n > 0 || rip.pending_action) {
        if (lock_n > 0) --lock_n;
        return error(422, "unprocessable_entity", "The reserved IP already has a pending event.");
      }
      a.id = next_action_id++;
      a.ip = ip;
      a.polls_left = instant_actions ? 0 : action_polls;
      a.will_error = error_actions_n > 0;
      if (error_actions_n > 0) --error_actions_n;
      a.started_at = iso8601_now();
      rip.pending_action = a.id;
      // The real POST answers "in-progress"; instant actions answer the finished action.
      const json in_progress = action_json(a);
      if (a.polls_left == 0) complete(a);
      actions[a.id] = a;
      return ok(201, instant_actions ? action_json(a) : in_progress);
    }
    static constexpr std::string_view kActions = "/actions/";
    if (rest.starts_with(kActions) && req.method == "GET") {
      const auto id = parse_id(std::string_view(rest).substr(kActions.size()));
      auto at = id ? actions.find(*id) : actions.end();
      if (at == actions.end() || at->second.ip != ip) return error(404, "not_found", kNotFound);
      Action& a = at->second;
      if (a.status == "in-progress") {
        if (a.polls_left > 0) {
          --a.polls_left;
        } else {
          complete(a);
        }
      }
      return ok(200, action_json(a));
    }
    return error(404, "not_found", kNotFound);
  }

  FakeResponse handle(const FakeRequest& req) {
    if (req.path == "/metadata/v1/id" && req.method == "GET") {
      if (options.metadata_droplet_id == 0) {
        FakeResponse r = FakeResponse::text(404, "404 page not found\n");
        r.content_type = "text/plain";
        return r;
      }
      return FakeResponse::text(200, std::to_string(options.metadata_droplet_id));
    }
    if (!req.path.starts_with("/v2/")) return error(404, "not_found", kNotFound);
    FakeResponse r = req.authorization != "Bearer " + options.token
                         ? error(401, "unauthorized", "Unable to authenticate you")
                         : route(req);
    ratelimit_headers(r, false);
    return r;
  }

  FakeResponse failure(const FakeRequest& req, int status) {
    FakeResponse r =
        error(status, status >= 500 ? "server_error" : "bad_request",
              status >= 500 ? "Server was unable to give you a response." : "Bad request.");
    if (req.path.starts_with("/v2/")) ratelimit_headers(r, false);
    return r;
  }

  FakeResponse rate_limited(const FakeRequest&, const RateLimitFault& f) {
    FakeResponse r = error(429, "too_many_requests", "API Rate limit exceeded.");
    ratelimit_headers(r, true, f.reset_epoch);
    return r;
  }

  void faults(const json& f) {
    read_fault(f, "lock_next_assigns", lock_n);
    read_fault(f, "action_polls", action_polls);
    read_fault(f, "error_next_actions", error_actions_n);
    if (f.contains("instant_actions") && f["instant_actions"].is_boolean()) {
      instant_actions = f["instant_actions"].get<bool>();
    }
  }

  json state() const {
    json s = {{"reserved_ips", json::array()}, {"assignments", json::array()}};
    for (const auto& [ip, r] : ips) {
      s["reserved_ips"].push_back({{"ip", ip},
                                   {"droplet", r.droplet ? json(*r.droplet) : json(nullptr)},
                                   {"locked", r.pending_action.has_value()}});
    }
    for (const auto& h : history) {
      s["assignments"].push_back(
          {{"ip", h.ip},
           {"droplet", h.droplet ? json(*h.droplet) : json(nullptr)},
           {"action_id", h.action_id},
           {"at_unix_ms",
            std::chrono::duration_cast<Millis>(h.wall_at.time_since_epoch()).count()}});
    }
    s["instant_actions"] = instant_actions;
    return s;
  }
};

FakeDigitalOcean::FakeDigitalOcean() : FakeDigitalOcean(Options{}) {}

void FakeDigitalOcean::set_token_without_droplet_read(bool on) {
  std::lock_guard lock(mutex());
  impl_->without_droplet_read = on;
}

FakeDigitalOcean::FakeDigitalOcean(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  serve("fake-digitalocean", impl_->options.listen_address, impl_->options.port, impl_.get());
}

FakeDigitalOcean::~FakeDigitalOcean() {
  stop();  // before the state its thread uses goes away
}

void FakeDigitalOcean::add_reserved_ip(const std::string& ip, std::optional<std::uint64_t> droplet,
                                       const std::string& region) {
  std::lock_guard lock(mutex());
  impl_->ips[ip] = Impl::ReservedIp{droplet, region, std::nullopt};
}

void FakeDigitalOcean::add_droplet(std::uint64_t id) {
  std::lock_guard lock(mutex());
  impl_->droplets.insert(id);
}

std::optional<std::uint64_t> FakeDigitalOcean::holder(const std::string& ip) const {
  std::lock_guard lock(mutex());
  auto it = impl_->ips.find(ip);
  return it == impl_->ips.end() ? std::nullopt : it->second.droplet;
}

std::vector<FakeAssignment> FakeDigitalOcean::assignments() const {
  std::lock_guard lock(mutex());
  return impl_->history;
}

void FakeDigitalOcean::set_metadata_droplet_id(std::uint64_t id) {
  std::lock_guard lock(mutex());
  impl_->options.metadata_droplet_id = id;
}

void FakeDigitalOcean::set_token(const std::string& token) {
  std::lock_guard lock(mutex());
  impl_->options.token = token;
}

void FakeDigitalOcean::lock_next_assigns(int n) {
  std::lock_guard lock(mutex());
  impl_->lock_n = n;
}

void FakeDigitalOcean::set_action_polls(int k) {
  std::lock_guard lock(mutex());
  impl_->action_polls = k;
}

void FakeDigitalOcean::error_next_actions(int n) {
  std::lock_guard lock(mutex());
  impl_->error_actions_n = n;
}

void FakeDigitalOcean::set_instant_actions(bool on) {
  std::lock_guard lock(mutex());
  impl_->instant_actions = on;
}

}  // namespace failoverd::cloud::testing
