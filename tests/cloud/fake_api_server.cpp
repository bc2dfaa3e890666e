#include "fake_api_server.h"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <ctime>
#include <stdexcept>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

namespace failoverd::cloud::testing {

namespace net = boost::asio;
namespace http = boost::beast::http;
using tcp = net::ip::tcp;
using nlohmann::json;
using Millis = std::chrono::milliseconds;

// ---- helpers ----

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

std::string percent_decode(std::string_view s) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex(s[i + 1]);
      const int lo = hex(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::uint64_t ip_number(const std::string& ip) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  char tail = 0;
  if (std::sscanf(ip.c_str(), "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) != 4) return 0;
  if (a > 255 || b > 255 || c > 255 || d > 255) return 0;
  return (std::uint64_t{a} << 24) | (b << 16) | (c << 8) | d;
}

std::optional<std::uint64_t> parse_id(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (v == 0) return std::nullopt;
  return v;
}

void read_fault(const json& f, const char* key, int& out) {
  if (f.contains(key) && f[key].is_number_integer()) out = f[key].get<int>();
}

FakeResponse FakeResponse::json(int status, const nlohmann::json& body) {
  FakeResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = body.dump();
  return r;
}

FakeResponse FakeResponse::text(int status, std::string body) {
  FakeResponse r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

FakeResponse& FakeResponse::header(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

// ---- the server ----

struct FakeApiServer::Impl {
  struct Answer {
    bool drop = false;
    Millis delay{0};
    http::response<http::string_body> response;
  };

  Options options;
  FakeApiHooks hooks;
  net::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::uint16_t port = 0;

  mutable std::recursive_mutex mu;
  std::vector<RecordedRequest> recorded;
  int fail_n = 0;
  int fail_status = 500;
  int rate_limit_n = 0;
  RateLimitFault rate_limit;
  int drop_n = 0;
  Millis delay_all{0};
  int delay_n = 0;
  Millis delay_next_d{0};
  int corrupt_n = 0;

  static FakeRequest to_fake(const http::request<http::string_body>& req) {
    FakeRequest r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    const std::size_t q = r.target.find('?');
    r.path = percent_decode(r.target.substr(0, q));
    if (q != std::string::npos) {
      std::string_view rest = std::string_view(r.target).substr(q + 1);
      while (!rest.empty()) {
        const std::size_t amp = rest.find('&');
        const std::string_view pair = rest.substr(0, amp);
        const std::size_t eq = pair.find('=');
        if (!pair.empty()) {
          r.query[percent_decode(pair.substr(0, eq))] =
              eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
      }
    }
    r.body = req.body();
    r.authorization = std::string(req[http::field::authorization]);
    r.content_type = std::string(req[http::field::content_type]);
    return r;
  }

  void write(const FakeResponse& in, http::response<http::string_body>& out) const {
    out.result(static_cast<unsigned>(in.status));
    if (!in.content_type.empty()) out.set(http::field::content_type, in.content_type);
    for (const auto& [name, value] : in.headers) out.set(name, value);
    out.body() = in.body;
  }

  FakeResponse admin(const FakeRequest& req) {
    if (req.path == "/_fake/requests" && req.method == "GET") {
      json list = json::array();
      for (const auto& r : recorded) {
        list.push_back({{"method", r.method}, {"path", r.path}, {"body", r.body}});
      }
      return FakeResponse::json(200, list);
    }
    if (req.path == "/_fake/state" && req.method == "GET" && hooks.state) {
      return FakeResponse::json(200, hooks.state());
    }
    if (req.path == "/_fake/faults" && req.method == "POST") {
      const json f = json::parse(req.body, nullptr, false);
      if (!f.is_object()) {
        return FakeResponse::json(400, {{"error", "body must be a JSON object"}});
      }
      read_fault(f, "fail_next", fail_n);
      read_fault(f, "fail_status", fail_status);
      read_fault(f, "rate_limit_next", rate_limit_n);
      if (f.contains("retry_after")) {
        if (f["retry_after"].is_number_integer()) {
          rate_limit.retry_after_s = f["retry_after"].get<int>();
        } else {
          rate_limit.retry_after_s.reset();
        }
      }
      read_fault(f, "drop_next", drop_n);
      read_fault(f, "corrupt_next", corrupt_n);
      if (f.contains("delay_ms") && f["delay_ms"].is_number_integer()) {
        delay_all = Millis(f["delay_ms"].get<std::int64_t>());
      }
      if (hooks.faults) hooks.faults(f);
      return FakeResponse::json(200, {{"ok", true}});
    }
    return FakeResponse::json(404, {{"error", "no such admin path"}});
  }

  Answer handle(const http::request<http::string_body>& req) {
    std::lock_guard lock(mu);
    Answer a;
    a.response.version(11);
    a.response.set(http::field::server, options.name);
    const FakeRequest fr = to_fake(req);
    if (fr.path.starts_with("/_fake/")) {
      write(admin(fr), a.response);
      return a;
    }
    recorded.push_back({fr.method, fr.target, fr.path, fr.body, fr.authorization});
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
    FakeResponse r;
    if (fail_n > 0) {
      --fail_n;
      r = hooks.failure ? hooks.failure(fr, fail_status)
                        : FakeResponse::text(fail_status, "injected failure\n");
    } else if (rate_limit_n > 0) {
      --rate_limit_n;
      r = hooks.rate_limited ? hooks.rate_limited(fr, rate_limit)
                             : FakeResponse::text(429, "too many requests\n");
      r.status = 429;
      if (rate_limit.retry_after_s) {
        r.header("Retry-After", std::to_string(*rate_limit.retry_after_s));
      }
    } else if (corrupt_n > 0) {
      --corrupt_n;
      r.status = 200;
      r.content_type = "text/html";
      r.body = "<html><body>502 Bad Gateway</body></html>";  // what a broken proxy answers
    } else {
      r = hooks.handle(fr);
    }
    write(r, a.response);
    return a;
  }

  // One connection: read a request, answer it (after the injected delay, or not at all for a
  // drop), repeat while the client keeps the connection alive. Completion handlers rather than
  // coroutines: Boost 1.74's asio only enables co_await with GCC or with libc++, so clang with
  // libstdc++ (Debian's clang 14) would not build this file. A Session lives as long as a
  // handler holds it; io.stop() and the io_context's destruction end them all.
  class Session : public std::enable_shared_from_this<Session> {
   public:
    Session(Impl& server, tcp::socket socket)
        : server_(server), socket_(std::move(socket)), timer_(socket_.get_executor()) {}

    void read() {
      parser_.emplace();
      parser_->body_limit(1024 * 1024);
      http::async_read(socket_, buffer_, *parser_,
                       [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                         self->on_read(ec);
                       });
    }

   private:
    void on_read(boost::system::error_code ec) {
      // The peer went away, sent garbage, or the server is stopping: end this connection.
      if (ec) return close();
      request_ = parser_->release();
      try {
        answer_ = server_.handle(request_);
      } catch (const std::exception&) {
        return close();  // a hook refused the request (bad JSON and the like): as before, drop it
      }
      if (answer_.delay.count() <= 0) return respond();
      timer_.expires_after(answer_.delay);
      timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
        if (wait_ec) return self->close();
        self->respond();
      });
    }

    void respond() {
      if (answer_.drop) return close();
      answer_.response.keep_alive(request_.keep_alive());
      answer_.response.prepare_payload();
      http::async_write(socket_, answer_.response,
                        [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          if (ec || !self->request_.keep_alive()) return self->close();
                          self->read();
                        });
    }

    void close() {
      boost::system::error_code ec;
      socket_.shutdown(tcp::socket::shutdown_both, ec);
      socket_.close(ec);
    }

    Impl& server_;
    tcp::socket socket_;
    net::steady_timer timer_;
    boost::beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::string_body>> parser_;
    http::request<http::string_body> request_;
    Answer answer_;
  };

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) {
        if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
        return accept();  // EMFILE and friends: keep serving the connections we have
      }
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(*this, std::move(socket))->read();
      accept();
    });
  }
};

FakeApiServer::FakeApiServer(Options options, FakeApiHooks hooks)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->hooks = std::move(hooks);
  if (!impl_->hooks.handle) throw std::invalid_argument("fake API: no handle hook");
  const std::string& name = impl_->options.name;
  boost::system::error_code ec;
  const auto address = net::ip::make_address(impl_->options.listen_address, ec);
  if (ec) throw std::runtime_error(name + ": bad listen address");
  const tcp::endpoint endpoint(address, impl_->options.port);
  impl_->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(endpoint, ec);
  if (!ec) impl_->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error(name + ": cannot listen: " + ec.message());
  impl_->port = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

FakeApiServer::~FakeApiServer() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t FakeApiServer::port() const {
  return impl_->port;
}

std::string FakeApiServer::url() const {
  return "http://" + impl_->options.listen_address + ":" + std::to_string(impl_->port);
}

std::recursive_mutex& FakeApiServer::mutex() const {
  return impl_->mu;
}

void FakeApiServer::fail_next(int n, int status) {
  std::lock_guard lock(impl_->mu);
  impl_->fail_n = n;
  impl_->fail_status = status;
}

void FakeApiServer::rate_limit_next(int n, std::optional<int> retry_after_s,
                                    std::optional<std::int64_t> reset_epoch) {
  std::lock_guard lock(impl_->mu);
  impl_->rate_limit_n = n;
  impl_->rate_limit = RateLimitFault{retry_after_s, reset_epoch};
}

void FakeApiServer::drop_next(int n) {
  std::lock_guard lock(impl_->mu);
  impl_->drop_n = n;
}

void FakeApiServer::set_delay(std::chrono::milliseconds d) {
  std::lock_guard lock(impl_->mu);
  impl_->delay_all = d;
}

void FakeApiServer::delay_next(int n, std::chrono::milliseconds d) {
  std::lock_guard lock(impl_->mu);
  impl_->delay_n = n;
  impl_->delay_next_d = d;
}

void FakeApiServer::corrupt_next(int n) {
  std::lock_guard lock(impl_->mu);
  impl_->corrupt_n = n;
}

std::vector<RecordedRequest> FakeApiServer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recorded;
}

std::size_t FakeApiServer::count(std::string_view method, std::string_view path_prefix) const {
  std::lock_guard lock(impl_->mu);
  return static_cast<std::size_t>(
      std::count_if(impl_->recorded.begin(), impl_->recorded.end(), [&](const RecordedRequest& r) {
        return r.method == method && std::string_view(r.path).starts_with(path_prefix);
      }));
}

void FakeApiServer::clear_requests() {
  std::lock_guard lock(impl_->mu);
  impl_->recorded.clear();
}

// ---- FakeApi ----

FakeApi::~FakeApi() {
  stop();
}

void FakeApi::start(FakeApiServer::Options options, FakeApiHooks hooks) {
  server_ = std::make_unique<FakeApiServer>(std::move(options), std::move(hooks));
}

void FakeApi::stop() {
  server_.reset();
}

std::recursive_mutex& FakeApi::mutex() const {
  return server_->mutex();
}

std::uint16_t FakeApi::port() const {
  return server_->port();
}

std::string FakeApi::url() const {
  return server_->url();
}

void FakeApi::fail_next(int n, int status) {
  server_->fail_next(n, status);
}

void FakeApi::rate_limit_next(int n, std::optional<int> retry_after_s,
                              std::optional<std::int64_t> reset_epoch) {
  server_->rate_limit_next(n, retry_after_s, reset_epoch);
}

void FakeApi::drop_next(int n) {
  server_->drop_next(n);
}

void FakeApi::set_delay(std::chrono::milliseconds d) {
  server_->set_delay(d);
}

void FakeApi::delay_next(int n, std::chrono::milliseconds d) {
  server_->delay_next(n, d);
}

void FakeApi::corrupt_next(int n) {
  server_->corrupt_next(n);
}

std::vector<RecordedRequest> FakeApi::requests() const {
  return server_->requests();
}

std::size_t FakeApi::count(std::string_view method, std::string_view path_prefix) const {
  return server_->count(method, path_prefix);
}

void FakeApi::clear_requests() {
  server_->clear_requests();
}

}  // namespace failoverd::cloud::testing
