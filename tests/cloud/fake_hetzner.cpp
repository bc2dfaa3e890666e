#include "fake_hetzner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace failoverd::cloud::testing {

using nlohmann::json;

namespace {

json location_json() {
  return {{"id", 1},
          {"name", "fsn1"},
          {"description", "Falkenstein DC Park 1"},
          {"country", "DE"},
          {"city", "Falkenstein"},
          {"latitude", 50.47612},
          {"longitude", 12.370071},
          {"network_zone", "eu-central"}};
}

}  // namespace

struct FakeHetzner::Impl {
  struct FloatingIp {
    std::uint64_t id = 0;
    std::string ip;
    std::string type = "ipv4";
    std::optional<std::uint64_t> server;
    std::optional<std::uint64_t> running_action;  // locked while set
    std::string created;
  };
  struct Action {
    std::uint64_t id = 0;
    std::string command;  // "assign_floating_ip" / "unassign_floating_ip"
    std::uint64_t floating_ip = 0;
    std::optional<std::uint64_t> server;
    std::string status = "running";
    int polls_left = 0;
    bool will_error = false;
    std::string started;
    std::string finished;
  };

  Options options;
  std::map<std::uint64_t, FloatingIp> ips;  // by id, so listing is sorted like the API's
  std::uint64_t next_ip_id = 4711;
  std::set<std::uint64_t> servers;
  std::map<std::uint64_t, Action> actions;
  std::uint64_t next_action_id = 13;
  std::vector<FakeHetznerAssignment> history;
  // The project's request bucket as docs.hetzner.cloud "Rate Limiting" describes it: `limit`
  // requests per hour, refilled gradually (1 per 3600/limit s), RateLimit-Reset the time it is
  // *full* again. Read against `clock` when set (tests whose waits are virtual), else real time.
  int limit = 3600;
  double tokens = 3600;
  std::optional<double> bucket_time;  // wall seconds of the last refill
  WallNow wall_now;
  int lock_n = 0;
  struct AssignError {
    int status;
    std::string code;
    std::string message;
  };
  std::vector<AssignError> assign_errors;  // the next assigns' answers, in order
  bool assign_at_once = false;
  std::optional<std::uint64_t> move_before_assign;
  int action_polls = 0;
  int error_actions_n = 0;

  static FakeResponse error(int status, const std::string& code, const std::string& message,
                            json details = nullptr) {
    json e = {{"code", code}, {"message", message}};
    if (!details.is_null()) e["details"] = std::move(details);
    return FakeResponse::json(status, {{"error", e}});
  }

  double wall_seconds() const {
    const auto t = wall_now ? wall_now() : std::chrono::system_clock::now();
    return std::chrono::duration<double>(t.time_since_epoch()).count();
  }

  void refill() {
    const double now = wall_seconds();
    if (bucket_time && now > *bucket_time) {
      tokens = std::min<double>(limit, tokens + (now - *bucket_time) * limit / 3600.0);
    }
    bucket_time = now;
  }

  // Takes one request from the bucket; false (nothing taken) when it is empty.
  bool take() {
    refill();
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }

  // The three headers every /v1 answer carries; `reset_epoch` overrides the bucket's full time
  // (the generic rate_limit_next fault may name one).
  void ratelimit_headers(FakeResponse& r, std::optional<std::int64_t> reset_epoch = std::nullopt) {
    refill();
    const double missing = limit - tokens;
    const auto full_at = static_cast<std::int64_t>(
        std::ceil(*bucket_time + (missing > 0 ? missing * 3600.0 / limit : 0)));
    r.header("RateLimit-Limit", std::to_string(limit));
    r.header("RateLimit-Remaining",
             std::to_string(r.status == 429 ? 0 : static_cast<long long>(std::floor(tokens))));
    r.header("RateLimit-Reset", std::to_string(reset_epoch ? *reset_epoch : full_at));
  }

  json floating_ip_json(const FloatingIp& f) const {
    return {{"id", f.id},
            {"name", "fip-" + std::to_string(f.id)},
            {"description", nullptr},
            {"ip", f.ip},
            {"type", f.type},
            {"server", f.server ? json(*f.server) : json(nullptr)},
            {"dns_ptr", json::array({{{"ip", f.ip}, {"dns_ptr", "static.example.com"}}})},
            {"home_location", location_json()},
            {"blocked", false},
            {"protection", {{"delete", false}}},
            {"labels", json::object()},
            {"created", f.created}};
  }

  static json action_json(const Action& a) {
    json resources = json::array();
    if (a.server) resources.push_back({{"id", *a.server}, {"type", "server"}});
    resources.push_back({{"id", a.floating_ip}, {"type", "floating_ip"}});
    json error = nullptr;
    if (a.status == "error") error = {{"code", "action_failed"}, {"message", "Action failed"}};
    return {{"action",
             {{"id", a.id},
              {"command", a.command},
              {"status", a.status},
              {"progress", a.status == "running" ? 0 : 100},
              {"started", a.started},
              {"finished", a.finished.empty() ? json(nullptr) : json(a.finished)},
              {"resources", resources},
              {"error", error}}}};
  }

  // Ends an action: the assignment changes (unless it errors) and the lock goes.
  void finish(Action& a) {
    a.status = a.will_error ? "error" : "success";
    a.finished = iso8601_now();
    auto it = ips.find(a.floating_ip);
    if (it == ips.end()) return;
    it->second.running_action.reset();
    if (a.will_error) return;
    it->second.server = a.server;
    history.push_back({a.floating_ip, a.server, a.id});
  }

  FakeResponse list(const FakeRequest& req) {
    long page = 1;
    long per_page = 25;
    try {
      if (auto it = req.query.find("page"); it != req.query.end()) page = std::stol(it->second);
      if (auto it = req.query.find("per_page"); it != req.query.end()) {
        per_page = std::stol(it->second);
      }
    } catch (const std::exception&) {
      return error(400, "invalid_input", "invalid input in field 'page'");
    }
    if (page < 1 || per_page < 1) {
      return error(400, "invalid_input", "invalid input in field 'page'");
    }
    per_page = std::min<long>(per_page, std::max(1, options.max_per_page));
    const long total = static_cast<long>(ips.size());
    const long last = std::max<long>(1, (total + per_page - 1) / per_page);
    json items = json::array();
    long index = 0;
    for (const auto& [id, f] : ips) {
      if (index >= (page - 1) * per_page && index < page * per_page) {
        items.push_back(floating_ip_json(f));
      }
      ++index;
    }
    json pagination = {{"page", page},
                       {"per_page", per_page},
                       {"previous_page", page > 1 ? json(page - 1) : json(nullptr)},
                       {"next_page", page < last ? json(page + 1) : json(nullptr)},
                       {"last_page", last},
                       {"total_entries", total}};
    return FakeResponse::json(200,
                              {{"floating_ips", items}, {"meta", {{"pagination", pagination}}}});
  }

  FakeResponse assign(FloatingIp& f, const FakeRequest& req, bool unassign) {
    const json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return error(400, "json_error", "Invalid JSON input in your request");
    }
    Action a;
    if (!unassign) {
      if (!body.contains("server") || !body["server"].is_number_unsigned() ||
          body["server"].get<std::uint64_t>() == 0) {
        return error(
            422, "invalid_input", "invalid input in field 'server'",
            {{"fields",
              json::array({{{"name", "server"}, {"messages", json::array({"is required"})}}})}});
      }
      a.server = body["server"].get<std::uint64_t>();
      if (!servers.empty() && servers.count(*a.server) == 0) {
        return error(404, "not_found",
                     "server with ID " + std::to_string(*a.server) + " not found");
      }
    }
    if (lock_n > 0 || f.running_action) {
      if (lock_n > 0) --lock_n;
      return error(423, "locked",
                   "floating IP " + std::to_string(f.id) + " is locked: another action is running");
    }
    if (!assign_errors.empty()) {
      const AssignError e = assign_errors.front();
      assign_errors.erase(assign_errors.begin());
      return error(e.status, e.code, e.message);
    }
    if (!unassign && move_before_assign) {
      f.server = *move_before_assign;
      history.push_back({f.id, f.server, 0});
      move_before_assign.reset();
    }
    if (!unassign && f.server == a.server) {
      // The assign operation's own error (operation-specific errors table).
      return error(422, "floating_ip_assigned", "The Floating IP is already assigned");
    }
    a.id = next_action_id++;
    a.command = unassign ? "unassign_floating_ip" : "assign_floating_ip";
    a.floating_ip = f.id;
    a.polls_left = action_polls;
    a.will_error = error_actions_n > 0;
    if (error_actions_n > 0) --error_actions_n;
    a.started = iso8601_now();
    f.running_action = a.id;
    if (assign_at_once) {
      // As the spec's example answers: done already, "success", and an "error" object anyway.
      finish(a);
      actions[a.id] = a;
      json answer = action_json(a);
      answer["action"]["error"] = {{"code", "action_failed"}, {"message", "Action failed"}};
      return FakeResponse::json(201, answer);
    }
    actions[a.id] = a;
    return FakeResponse::json(201, action_json(a));  // "running" at first
  }

  FakeResponse route(const FakeRequest& req) {
    static constexpr std::string_view kIps = "/v1/floating_ips";
    static constexpr std::string_view kActions = "/v1/actions/";
    const std::string& path = req.path;
    if (path == kIps && req.method == "GET") return list(req);
    if (path.starts_with(std::string(kIps) + "/")) {
      std::string rest = path.substr(kIps.size() + 1);
      const std::string id_text = rest.substr(0, rest.find('/'));
      rest = rest.substr(id_text.size());
      const auto id = parse_id(id_text);
      auto it = id ? ips.find(*id) : ips.end();
      if (it == ips.end()) return error(404, "not_found", "Floating IP not found");
      if (rest.empty() && req.method == "GET") {
        return FakeResponse::json(200, {{"floating_ip", floating_ip_json(it->second)}});
      }
      if (rest == "/actions/assign" && req.method == "POST") return assign(it->second, req, false);
      if (rest == "/actions/unassign" && req.method == "POST") {
        return assign(it->second, req, true);
      }
    }
    if (path.starts_with(kActions) && req.method == "GET") {
      const auto id = parse_id(std::string_view(path).substr(kActions.size()));
      auto at = id ? actions.find(*id) : actions.end();
      if (at == actions.end()) return error(404, "not_found", "action not found");
      Action& a = at->second;
      if (a.status == "running") {
        if (a.polls_left > 0) {
          --a.polls_left;
        } else {
          finish(a);
        }
      }
      return FakeResponse::json(200, action_json(a));
    }
    return error(404, "not_found", "not found");
  }

  FakeResponse handle(const FakeRequest& req) {
    static constexpr std::string_view kMetadata = "/hetzner/v1/metadata";
    if (req.path.starts_with(kMetadata) && req.method == "GET") {
      if (options.metadata_server_id == 0) return FakeResponse::text(404, "Not Found\n");
      const std::string id = std::to_string(options.metadata_server_id);
      if (req.path == "/hetzner/v1/metadata/instance-id") return FakeResponse::text(200, id);
      if (req.path == kMetadata) {
        return FakeResponse::text(200,
                                  "availability-zone: fsn1-dc14\nhostname: node\n"
                                  "instance-id: " +
                                      id + "\nregion: eu-central\n");
      }
      return FakeResponse::text(404, "Not Found\n");
    }
    if (!req.path.starts_with("/v1/")) return error(404, "not_found", "not found");
    // "All requests, whether they are authenticated or not, are subject to rate limiting."
    FakeResponse r = !take() ? error(429, "rate_limit_exceeded", "limit of requests reached")
                     : req.authorization != "Bearer " + options.token
                         ? error(401, "unauthorized", "unable to authenticate")
                         : route(req);
    ratelimit_headers(r);
    return r;
  }

  FakeResponse failure(const FakeRequest& req, int status) {
    std::string code = "invalid_input";
    std::string message = "invalid input";
    if (status == 401) {
      code = "unauthorized", message = "unable to authenticate";
    } else if (status == 403) {
      code = "forbidden", message = "insufficient permissions for this request";
    } else if (status == 412) {
      code = "resource_unavailable", message = "the requested resource is currently unavailable";
    } else if (status == 503) {
      code = "unavailable", message = "service currently not available";
    } else if (status == 504) {
      code = "timeout", message = "the request could not be answered in time, please retry";
    } else if (status >= 500) {
      code = "server_error", message = "error within the API backend";
    }
    FakeResponse r = error(status, code, message);
    if (req.path.starts_with("/v1/")) ratelimit_headers(r);
    return r;
  }

  FakeResponse rate_limited(const FakeRequest&, const RateLimitFault& f) {
    FakeResponse r = error(429, "rate_limit_exceeded", "limit of requests reached");
    r.status = 429;
    ratelimit_headers(r, f.reset_epoch);
    return r;
  }

  void faults(const json& f) {
    read_fault(f, "lock_next_assigns", lock_n);
    read_fault(f, "action_polls", action_polls);
    read_fault(f, "error_next_actions", error_actions_n);
  }

  json state() const {
    json s = {{"floating_ips", json::array()}, {"assignments", json::array()}};
    for (const auto& [id, f] : ips) {
      s["floating_ips"].push_back({{"id", id},
                                   {"ip", f.ip},
                                   {"server", f.server ? json(*f.server) : json(nullptr)},
                                   {"locked", f.running_action.has_value()}});
    }
    for (const auto& h : history) {
      s["assignments"].push_back({{"floating_ip", h.floating_ip},
                                  {"server", h.server ? json(*h.server) : json(nullptr)},
                                  {"action_id", h.action_id}});
    }
    return s;
  }
};

FakeHetzner::FakeHetzner() : FakeHetzner(Options{}) {}

FakeHetzner::FakeHetzner(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  serve("fake-hetzner", impl_->options.listen_address, impl_->options.port, impl_.get());
}

FakeHetzner::~FakeHetzner() {
  stop();  // before the state its thread uses goes away
}

std::uint64_t FakeHetzner::add_floating_ip(const std::string& ip,
                                           std::optional<std::uint64_t> server,
                                           const std::string& type) {
  std::lock_guard lock(mutex());
  for (auto& [id, f] : impl_->ips) {
    if (f.ip == ip) {
      f.server = server;
      f.type = type;
      f.running_action.reset();
      return id;
    }
  }
  Impl::FloatingIp f;
  f.id = impl_->next_ip_id++;
  f.ip = ip;
  f.type = type;
  f.server = server;
  f.created = iso8601_now();
  impl_->ips[f.id] = f;
  return f.id;
}

void FakeHetzner::set_server(std::uint64_t floating_ip_id, std::optional<std::uint64_t> server) {
  std::lock_guard lock(mutex());
  auto it = impl_->ips.find(floating_ip_id);
  if (it != impl_->ips.end()) it->second.server = server;
}

void FakeHetzner::add_server(std::uint64_t id) {
  std::lock_guard lock(mutex());
  impl_->servers.insert(id);
}

std::optional<std::uint64_t> FakeHetzner::holder(std::uint64_t floating_ip_id) const {
  std::lock_guard lock(mutex());
  auto it = impl_->ips.find(floating_ip_id);
  return it == impl_->ips.end() ? std::nullopt : it->second.server;
}

std::vector<FakeHetznerAssignment> FakeHetzner::assignments() const {
  std::lock_guard lock(mutex());
  return impl_->history;
}

void FakeHetzner::set_metadata_server_id(std::uint64_t id) {
  std::lock_guard lock(mutex());
  impl_->options.metadata_server_id = id;
}

void FakeHetzner::set_token(const std::string& token) {
  std::lock_guard lock(mutex());
  impl_->options.token = token;
}

void FakeHetzner::set_max_per_page(int n) {
  std::lock_guard lock(mutex());
  impl_->options.max_per_page = n;
}

void FakeHetzner::set_rate_limit(int limit_per_hour, double remaining) {
  std::lock_guard lock(mutex());
  impl_->refill();
  impl_->limit = std::max(limit_per_hour, 1);
  impl_->tokens = std::clamp<double>(remaining, 0, impl_->limit);
}

void FakeHetzner::use_clock(WallNow wall_now) {
  std::lock_guard lock(mutex());
  impl_->wall_now = std::move(wall_now);
  impl_->bucket_time.reset();
}

int FakeHetzner::rate_limit_remaining() const {
  std::lock_guard lock(mutex());
  impl_->refill();
  return static_cast<int>(impl_->tokens);
}

void FakeHetzner::error_next_assigns(int n, int status, const std::string& code,
                                     const std::string& message) {
  std::lock_guard lock(mutex());
  for (int i = 0; i < n; ++i) impl_->assign_errors.push_back({status, code, message});
}

void FakeHetzner::move_before_next_assign(std::uint64_t server) {
  std::lock_guard lock(mutex());
  impl_->move_before_assign = server;
}

void FakeHetzner::set_assign_at_once(bool on) {
  std::lock_guard lock(mutex());
  impl_->assign_at_once = on;
}

void FakeHetzner::lock_next_assigns(int n) {
  std::lock_guard lock(mutex());
  impl_->lock_n = n;
}

void FakeHetzner::set_action_polls(int k) {
  std::lock_guard lock(mutex());
  impl_->action_polls = k;
}

void FakeHetzner::error_next_actions(int n) {
  std::lock_guard lock(mutex());
  impl_->error_actions_n = n;
}

}  // namespace failoverd::cloud::testing
