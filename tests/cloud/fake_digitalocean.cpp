#include "fake_digitalocean.h"

// Boost 1.74 awaitable.hpp uses std::exchange without including <utility> (fixed upstream):
// include it first.
// clang-format off
#include <utility>
// clang-format on
#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <stdexcept>
#include <thread>

namespace failoverd::cloud::testing {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;
using Millis = std::chrono::milliseconds;

namespace {

std::string iso8601_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::int64_t epoch_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json region_json(const std::string& slug) {
  return {{"name", slug == "nyc3" ? "New York 3" : slug},
          {"slug", slug},
          {"features", {"backups", "ipv6", "metadata", "install_agent", "storage"}},
          {"available", true},
          {"sizes", {"s-1vcpu-1gb", "s-1vcpu-2gb", "s-2vcpu-4gb"}}};
}

// The numeric form of a dotted quad, as the action's resource_id (0 when not an address).
std::uint64_t ip_number(const std::string& ip) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (std::sscanf(ip.c_str(), "%u.%u.%u.%u", &a, &b, &c, &d) != 4) return 0;
  return (std::uint64_t{a} << 24) | (b << 16) | (c << 8) | d;
}

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
  struct Answer {
    bool drop = false;
    Millis delay{0};
    http::response<http::string_body> response;
  };

  Options options;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::uint16_t port = 0;

  mutable std::mutex mu;
  std::map<std::string, ReservedIp> ips;
  std::set<std::uint64_t> droplets;
  std::map<std::uint64_t, Action> actions;
  std::uint64_t next_action_id = 1000001;
  std::vector<FakeAssignment> history;
  std::vector<RecordedRequest> recorded;
  int ratelimit_remaining = 5000;
  std::mt19937_64 rng{42};
  // fault switches
  int fail_n = 0;
  int fail_status = 500;
  int rate_limit_n = 0;
  std::optional<int> retry_after_s;
  std::optional<std::int64_t> reset_epoch;
  int lock_n = 0;
  int drop_n = 0;
  Millis delay_all{0};
  int delay_n = 0;
  Millis delay_next_d{0};
  int action_polls = 0;
  int error_actions_n = 0;

  std::string request_id() {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 32; ++i) {
      if (i == 8 || i == 12 || i == 16 || i == 20) id += '-';
      id += kHex[rng() % 16];
    }
    return id;
  }

  void set_json(http::response<http::string_body>& res, int status, const json& body) {
    res.result(static_cast<unsigned>(status));
    res.set(http::field::content_type, "application/json; charset=utf-8");
    res.body() = body.dump();
  }

  void error(http::response<http::string_body>& res, int status, const std::string& id,
             const std::string& message) {
    set_json(res, status, {{"id", id}, {"message", message}, {"request_id", request_id()}});
  }

  void ratelimit_headers(http::response<http::string_body>& res, bool exhausted) {
    if (ratelimit_remaining > 0) --ratelimit_remaining;
    res.set("ratelimit-limit", "5000");
    res.set("ratelimit-remaining", std::to_string(exhausted ? 0 : ratelimit_remaining));
    res.set("ratelimit-reset",
            std::to_string(exhausted && reset_epoch ? *reset_epoch : epoch_now() + 60));
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
    return {{"reserved_ip",
             {{"ip", ip},
              {"droplet", droplet},
              {"region", region_json(r.region)},
              {"locked", r.pending_action.has_value()},
              {"project_id", "746c6152-2fa2-11ed-92d3-27aaa54e4988"}}}};
  }

  // The API proper, after faults and the token check.
  void route(const http::request<http::string_body>& req, const std::string& path,
             http::response<http::string_body>& res) {
    static constexpr std::string_view kIps = "/v2/reserved_ips/";
    if (!path.starts_with(kIps)) {
      error(res, 404, "not_found", "The resource you were accessing could not be found.");
      return;
    }
    std::string rest = path.substr(kIps.size());
    std::string ip = rest.substr(0, rest.find('/'));
    rest = rest.substr(ip.size());
    auto it = ips.find(ip);
    if (it == ips.end()) {
      error(res, 404, "not_found", "The resource you were accessing could not be found.");
      return;
    }
    ReservedIp& rip = it->second;
    if (rest.empty() && req.method() == http::verb::get) {
      set_json(res, 200, reserved_ip_json(ip, rip));
      return;
    }
    if (rest == "/actions" && req.method() == http::verb::post) {
      const json body = json::parse(req.body(), nullptr, false);
      if (!body.is_object() || !body.contains("type") || !body["type"].is_string()) {
        error(res, 422, "unprocessable_entity", "type is required");
        return;
      }
      const std::string type = body["type"].get<std::string>();
      Action a;
      if (type == "assign") {
        if (!body.contains("droplet_id") || !body["droplet_id"].is_number_unsigned() ||
            body["droplet_id"].get<std::uint64_t>() == 0) {
          error(res, 422, "unprocessable_entity", "droplet_id is required");
          return;
        }
        a.droplet = body["droplet_id"].get<std::uint64_t>();
        if (!droplets.empty() && droplets.count(*a.droplet) == 0) {
          error(res, 422, "unprocessable_entity", "Droplet not found");
          return;
        }
        a.type = "assign_ip";
      } else if (type == "unassign") {
        a.type = "unassign_ip";
      } else {
        error(res, 422, "unprocessable_entity", "type must be one of assign, unassign");
        return;
      }
      if (lock_n > 0 || rip.pending_action) {
        if (lock_n > 0) --lock_n;
        error(res, 422, "unprocessable_entity", "The reserved IP already has a pending event.");
        return;
      }
      a.id = next_action_id++;
      a.ip = ip;
      a.polls_left = action_polls;
      a.will_error = error_actions_n > 0;
      if (error_actions_n > 0) --error_actions_n;
      a.started_at = iso8601_now();
      rip.pending_action = a.id;
      const json answer = action_json(a);  // the POST always answers "in-progress"
      if (a.polls_left == 0) complete(a);
      actions[a.id] = a;
      set_json(res, 201, answer);
      return;
    }
    static constexpr std::string_view kActions = "/actions/";
    if (rest.starts_with(kActions) && req.method() == http::verb::get) {
      std::uint64_t id = 0;
      try {
        id = std::stoull(rest.substr(kActions.size()));
      } catch (const std::exception&) {
      }
      auto at = actions.find(id);
      if (at == actions.end() || at->second.ip != ip) {
        error(res, 404, "not_found", "The resource you were accessing could not be found.");
        return;
      }
      Action& a = at->second;
      if (a.status == "in-progress") {
        if (a.polls_left > 0) {
          --a.polls_left;
        } else {
          complete(a);
        }
      }
      set_json(res, 200, action_json(a));
      return;
    }
    error(res, 404, "not_found", "The resource you were accessing could not be found.");
  }

  void admin(const http::request<http::string_body>& req, const std::string& path,
             http::response<http::string_body>& res) {
    if (path == "/_fake/state") {
      json state = {{"reserved_ips", json::array()}, {"assignments", json::array()}};
      for (const auto& [ip, r] : ips) {
        state["reserved_ips"].push_back({{"ip", ip},
                                         {"droplet", r.droplet ? json(*r.droplet) : json(nullptr)},
                                         {"locked", r.pending_action.has_value()}});
      }
      for (const auto& h : history) {
        state["assignments"].push_back(
            {{"ip", h.ip},
             {"droplet", h.droplet ? json(*h.droplet) : json(nullptr)},
             {"action_id", h.action_id},
             {"at_unix_ms",
              std::chrono::duration_cast<Millis>(h.wall_at.time_since_epoch()).count()}});
      }
      set_json(res, 200, state);
    } else if (path == "/_fake/requests") {
      json list = json::array();
      for (const auto& r : recorded) {
        list.push_back({{"method", r.method}, {"path", r.path}, {"body", r.body}});
      }
      set_json(res, 200, list);
    } else if (path == "/_fake/faults" && req.method() == http::verb::post) {
      const json f = json::parse(req.body(), nullptr, false);
      if (!f.is_object()) {
        error(res, 400, "bad_request", "body must be a JSON object");
        return;
      }
      auto num = [&](const char* key, auto& out) {
        if (f.contains(key) && f[key].is_number_integer()) {
          out = static_cast<std::remove_reference_t<decltype(out)>>(f[key].get<std::int64_t>());
        }
      };
      num("fail_next", fail_n);
      num("fail_status", fail_status);
      num("rate_limit_next", rate_limit_n);
      if (f.contains("retry_after")) {
        if (f["retry_after"].is_number_integer()) {
          retry_after_s = f["retry_after"].get<int>();
        } else {
          retry_after_s.reset();
        }
      }
      num("lock_next_assigns", lock_n);
      num("drop_next", drop_n);
      if (f.contains("delay_ms") && f["delay_ms"].is_number_integer()) {
        delay_all = Millis(f["delay_ms"].get<std::int64_t>());
      }
      num("action_polls", action_polls);
      num("error_next_actions", error_actions_n);
      set_json(res, 200, {{"ok", true}});
    } else {
      error(res, 404, "not_found", "no such admin path");
    }
  }

  Answer handle(const http::request<http::string_body>& req) {
    std::lock_guard lock(mu);
    Answer a;
    a.response.version(11);
    a.response.set(http::field::server, "fake-digitalocean");
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    if (path.starts_with("/_fake/")) {
      admin(req, path, a.response);
      return a;
    }
    recorded.push_back({std::string(req.method_string()), target, path, req.body(),
                        std::string(req[http::field::authorization])});
    a.delay = delay_all;
    if (delay_n > 0) {
      --delay_n;
      a.delay = std::max(a.delay, delay_next_d);
    }
    if (drop_n > 0) {
      --drop_n;
      a.drop = true;
      return a;
    }
    auto& res = a.response;
    const bool is_api = path.starts_with("/v2/");
    if (fail_n > 0) {
      --fail_n;
      error(res, fail_status, fail_status >= 500 ? "server_error" : "bad_request",
            fail_status >= 500 ? "Server was unable to give you a response." : "Bad request.");
      if (is_api) ratelimit_headers(res, false);
      return a;
    }
    if (rate_limit_n > 0) {
      --rate_limit_n;
      error(res, 429, "too_many_requests", "API Rate limit exceeded.");
      ratelimit_headers(res, true);
      if (retry_after_s) res.set(http::field::retry_after, std::to_string(*retry_after_s));
      return a;
    }
    if (path == "/metadata/v1/id" && req.method() == http::verb::get) {
      if (options.metadata_droplet_id == 0) {
        res.result(http::status::not_found);
        res.set(http::field::content_type, "text/plain");
        res.body() = "404 page not found\n";
      } else {
        res.result(http::status::ok);
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = std::to_string(options.metadata_droplet_id);
      }
      return a;
    }
    if (!is_api) {
      error(res, 404, "not_found", "The resource you were accessing could not be found.");
      return a;
    }
    ratelimit_headers(res, false);
    if (std::string(req[http::field::authorization]) != "Bearer " + options.token) {
      error(res, 401, "unauthorized", "Unable to authenticate you");
      return a;
    }
    route(req, path, res);
    return a;
  }

  net::awaitable<void> session(tcp::socket socket) {
    boost::beast::flat_buffer buffer;
    try {
      for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(1024 * 1024);
        co_await http::async_read(socket, buffer, parser, net::use_awaitable);
        http::request<http::string_body> req = parser.release();
        Answer a = handle(req);
        if (a.delay.count() > 0) {
          net::steady_timer timer(socket.get_executor(), a.delay);
          co_await timer.async_wait(net::use_awaitable);
        }
        if (a.drop) break;
        a.response.keep_alive(req.keep_alive());
        a.response.prepare_payload();
        co_await http::async_write(socket, a.response, net::use_awaitable);
        if (!req.keep_alive()) break;
      }
    } catch (const std::exception&) {
      // The peer went away, sent garbage, or the server is stopping: end this connection.
    }
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_both, ec);
    socket.close(ec);
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
        continue;  // EMFILE and friends: keep serving the connections we have
      }
      socket.set_option(tcp::no_delay(true), ec);
      net::co_spawn(io, session(std::move(socket)), net::detached);
    }
  }
};

FakeDigitalOcean::FakeDigitalOcean() : FakeDigitalOcean(Options{}) {}

FakeDigitalOcean::FakeDigitalOcean(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  boost::system::error_code ec;
  const auto address = net::ip::make_address(impl_->options.listen_address, ec);
  if (ec) throw std::runtime_error("fake DigitalOcean: bad listen address");
  const tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("fake DigitalOcean: cannot listen: " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  net::co_spawn(impl_->io, impl_->accept_loop(), net::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

FakeDigitalOcean::~FakeDigitalOcean() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t FakeDigitalOcean::port() const {
  return impl_->port;
}

std::string FakeDigitalOcean::url() const {
  return "http://" + impl_->options.listen_address + ":" + std::to_string(impl_->port);
}

void FakeDigitalOcean::add_reserved_ip(const std::string& ip, std::optional<std::uint64_t> droplet,
                                       const std::string& region) {
  std::lock_guard lock(impl_->mu);
  impl_->ips[ip] = Impl::ReservedIp{droplet, region, std::nullopt};
}

void FakeDigitalOcean::add_droplet(std::uint64_t id) {
  std::lock_guard lock(impl_->mu);
  impl_->droplets.insert(id);
}

std::optional<std::uint64_t> FakeDigitalOcean::holder(const std::string& ip) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->ips.find(ip);
  return it == impl_->ips.end() ? std::nullopt : it->second.droplet;
}

std::vector<FakeAssignment> FakeDigitalOcean::assignments() const {
  std::lock_guard lock(impl_->mu);
  return impl_->history;
}

void FakeDigitalOcean::set_metadata_droplet_id(std::uint64_t id) {
  std::lock_guard lock(impl_->mu);
  impl_->options.metadata_droplet_id = id;
}

void FakeDigitalOcean::set_token(const std::string& token) {
  std::lock_guard lock(impl_->mu);
  impl_->options.token = token;
}

void FakeDigitalOcean::fail_next(int n, int status) {
  std::lock_guard lock(impl_->mu);
  impl_->fail_n = n;
  impl_->fail_status = status;
}

void FakeDigitalOcean::rate_limit_next(int n, std::optional<int> retry_after_s,
                                       std::optional<std::int64_t> reset_epoch) {
  std::lock_guard lock(impl_->mu);
  impl_->rate_limit_n = n;
  impl_->retry_after_s = retry_after_s;
  impl_->reset_epoch = reset_epoch;
}

void FakeDigitalOcean::lock_next_assigns(int n) {
  std::lock_guard lock(impl_->mu);
  impl_->lock_n = n;
}

void FakeDigitalOcean::drop_next(int n) {
  std::lock_guard lock(impl_->mu);
  impl_->drop_n = n;
}

void FakeDigitalOcean::set_delay(std::chrono::milliseconds d) {
  std::lock_guard lock(impl_->mu);
  impl_->delay_all = d;
}

void FakeDigitalOcean::delay_next(int n, std::chrono::milliseconds d) {
  std::lock_guard lock(impl_->mu);
  impl_->delay_n = n;
  impl_->delay_next_d = d;
}

void FakeDigitalOcean::set_action_polls(int k) {
  std::lock_guard lock(impl_->mu);
  impl_->action_polls = k;
}

void FakeDigitalOcean::error_next_actions(int n) {
  std::lock_guard lock(impl_->mu);
  impl_->error_actions_n = n;
}

std::vector<RecordedRequest> FakeDigitalOcean::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

std::size_t FakeDigitalOcean::count(std::string_view method, std::string_view path_prefix) const {
  std::lock_guard lock(impl_->mu);
  return static_cast<std::size_t>(
      std::count_if(impl_->recorded.begin(), impl_->recorded.end(), [&](const RecordedRequest& r) {
        return r.method == method && std::string_view(r.path).starts_with(path_prefix);
      }));
}

void FakeDigitalOcean::clear_requests() {
  std::lock_guard lock(impl_->mu);
  impl_->recorded.clear();
}

}  // namespace failoverd::cloud::testing
