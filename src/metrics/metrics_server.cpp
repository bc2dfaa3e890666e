#include "failoverd/metrics/metrics_server.h"

#include "failoverd/config/values.h"

// Only the asio headers needed: <boost/asio.hpp> drags in awaitable.hpp, which does not
// compile under C++20 with Boost 1.74 unless <utility> comes first.
#include <algorithm>
#include <array>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "failoverd/control/accept_loop.h"
#include "failoverd/metrics/http_request.h"
#include "failoverd/metrics/metrics.h"

namespace failoverd::metrics {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

util::Expected<tcp::endpoint, std::string> parse_listen_address(std::string_view listen) {
  // The config's rule, so that what --check-config accepts is what binds here.
  auto parsed = config::parse_listen_address(listen);
  if (!parsed) return util::unexpected("metrics listen " + parsed.error());
  error_code ec;
  const auto address = asio::ip::make_address(parsed->host, ec);
  if (ec) return util::unexpected("metrics listen \"" + parsed->host + "\": " + ec.message());
  return tcp::endpoint(address, parsed->port);
}

namespace {

constexpr std::string_view kMetricsPath = "/metrics";
// After the answer, unread request bytes are read and dropped (at most this many) until the
// client closes: closing with unread data would send a RST that can destroy the answer
// before the client reads it.
constexpr std::size_t kMaxDrainBytes = 64 * 1024;

std::string http_response(std::string_view status, std::string_view content_type,
                          std::string_view body, bool with_body, std::string_view extra = {}) {
  std::string out;
  out.reserve(160 + (with_body ? body.size() : 0));
  out.append("HTTP/1.1 ").append(status).append("\r\n");
  out.append("Content-Type: ").append(content_type).append("\r\n");
  out.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
  out.append(extra);
  out.append("Connection: close\r\n\r\n");
  if (with_body) out.append(body);
  return out;
}

std::string plain_response(std::string_view status, std::string_view text,
                           std::string_view extra = {}) {
  return http_response(status, "text/plain; charset=utf-8", std::string(text) + "\n", true, extra);
}

class Session;

// What outlives the MetricsServer object while handlers are still queued (see
// control::AcceptLoop).
struct State : control::AcceptLoop<State, tcp, Session> {
  State(asio::io_context& io, MetricsServer::Render r, MetricsServerOptions o)
      : AcceptLoop(io), render(std::move(r)), options(o) {}

  void reject_busy(tcp::socket& socket);

  MetricsServer::Render render;
  MetricsServerOptions options;
  MetricsServerStats stats;
};

// One connection: read the request head (deadline armed), answer, drain, close.
class Session : public control::Connection<Session, State> {
 public:
  Session(tcp::socket socket, std::shared_ptr<State> state)
      : Connection(std::move(socket), std::move(state)) {}

  void start() {
    arm_deadline();
    read_more();
  }

 private:
  friend Connection;

  enum class Phase { kReading, kWriting, kDraining };

  void on_deadline() {
    if (closed_) return;
    if (phase_ != Phase::kReading) return close();  // the client does not read or close
    ++state_->stats.timed_out;
    // Whatever the client still sends is not drained: it had its time.
    answer(plain_response("408 Request Timeout", "no complete request within the timeout"),
           /*drain=*/false);
  }

  void read_more() {
    const std::size_t limit = state_->options.max_request_bytes;
    const std::size_t want = std::min(chunk_.size(), limit + 1 - buffer_.size());
    socket_.async_read_some(
        asio::buffer(chunk_.data(), want),
        [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(const error_code& ec, std::size_t n) {
    if (closed_ || state_->stopped) return close();
    if (phase_ != Phase::kReading) return;  // the deadline answered already
    MetricsServerStats& stats = state_->stats;
    if (ec) {
      ++stats.disconnected;  // EOF or reset before a complete request
      return close();
    }
    buffer_.append(chunk_.data(), n);
    const auto end = end_of_http_head(buffer_);
    if (end == std::string::npos) {
      if (buffer_.size() > state_->options.max_request_bytes) {
        ++stats.oversized;
        return answer(
            plain_response("431 Request Header Fields Too Large",
                           "request is longer than " +
                               std::to_string(state_->options.max_request_bytes) + " bytes"),
            /*drain=*/true);
      }
      return read_more();
    }
    respond(std::string_view(buffer_).substr(0, end));
  }

  void respond(std::string_view head) {
    MetricsServerStats& stats = state_->stats;
    const auto request = parse_http_request_line(head);
    if (!request) {
      ++stats.bad_request;
      return answer(plain_response("400 Bad Request", "not an HTTP/1.x request"), true);
    }
    const bool head_only = request->method == "HEAD";
    if (request->method != "GET" && !head_only) {
      ++stats.bad_method;
      return answer(plain_response("405 Method Not Allowed", "only GET and HEAD are supported",
                                   "Allow: GET, HEAD\r\n"),
                    true);
    }
    if (request->path != kMetricsPath) {
      ++stats.not_found;
      return answer(plain_response("404 Not Found", "metrics are at /metrics"), true);
    }
    std::string body;
    try {
      body = state_->render();
    } catch (const std::exception& e) {
      ++stats.render_errors;
      return answer(plain_response("500 Internal Server Error",
                                   std::string("cannot render metrics: ") + e.what()),
                    true);
    } catch (...) {
      ++stats.render_errors;
      return answer(plain_response("500 Internal Server Error", "cannot render metrics"), true);
    }
    ++stats.served;
    answer(http_response("200 OK", kMetricsContentType, body, !head_only), true);
  }

  void answer(std::string response, bool drain) {
    phase_ = Phase::kWriting;
    drain_ = drain;
    answer_ = std::move(response);
    error_code ignored;
    socket_.cancel(ignored);  // a read still pending (after a timeout) must not race the answer
    arm_deadline();
    asio::async_write(
        socket_, asio::buffer(answer_),
        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_written(ec); });
  }

  void on_written(const error_code& ec) {
    if (closed_ || state_->stopped || ec || !drain_) return close();
    phase_ = Phase::kDraining;
    error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);  // the client sees EOF after the answer
    drain();
  }

  void drain() {
    socket_.async_read_some(asio::buffer(chunk_),
                            [self = shared_from_this()](const error_code& ec, std::size_t n) {
                              if (self->closed_) return;
                              self->drained_ += n;
                              if (ec || self->state_->stopped || self->drained_ > kMaxDrainBytes)
                                return self->close();
                              self->drain();
                            });
  }

  std::array<char, 4096> chunk_{};
  std::string buffer_;
  std::string answer_;
  std::size_t drained_ = 0;
  Phase phase_ = Phase::kReading;
  bool drain_ = false;
};

void State::reject_busy(tcp::socket& socket) {
  ++stats.busy;
  // A short answer into an empty socket buffer: a non-blocking write completes or is dropped.
  error_code ignored;
  socket.non_blocking(true, ignored);
  const std::string response =
      plain_response("503 Service Unavailable", "too many metrics connections");
  asio::write(socket, asio::buffer(response), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

}  // namespace

struct MetricsServer::Impl {
  std::shared_ptr<State> state;
  tcp::endpoint local;
};

MetricsServer::MetricsServer(asio::io_context& io, std::string_view listen, Render render,
                             MetricsServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  auto endpoint = parse_listen_address(listen);
  if (!endpoint) throw std::runtime_error(endpoint.error());
  impl_->state = std::make_shared<State>(io, std::move(render), options);
  auto& acceptor = impl_->state->acceptor;
  const auto fail = [&](std::string_view what, const error_code& ec) {
    throw std::runtime_error("metrics listen \"" + std::string(listen) + "\": cannot " +
                             std::string(what) + ": " + ec.message());
  };
  error_code ec;
  acceptor.open(endpoint->protocol(), ec);
  if (ec) fail("open a socket", ec);
  // A restarted daemon must not wait for the old connections' TIME_WAIT to end.
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) fail("set SO_REUSEADDR", ec);
  acceptor.bind(*endpoint, ec);
  if (ec) fail("bind", ec);
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) fail("listen", ec);
  impl_->local = acceptor.local_endpoint(ec);
  if (ec) fail("read the bound address", ec);
  impl_->state->accept();
}

MetricsServer::~MetricsServer() {
  impl_->state->stop();
}

tcp::endpoint MetricsServer::local_endpoint() const {
  return impl_->local;
}

std::uint16_t MetricsServer::port() const {
  return impl_->local.port();
}

std::size_t MetricsServer::open_connections() const {
  return impl_->state->sessions.size();
}

const MetricsServerStats& MetricsServer::stats() const {
  return impl_->state->stats;
}

}  // namespace failoverd::metrics
