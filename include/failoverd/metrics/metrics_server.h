// MetricsServer: the `[metrics] listen` endpoint. A deliberately small HTTP/1.1 server on the
// daemon's io_context: GET (or HEAD) /metrics answers 200 with the body from `render`, other
// paths 404, other methods 405, a malformed request 400, one larger than the limit 431, a
// client that has not sent its request within the timeout 408. One request per connection
// (Connection: close), a bounded number of connections, so a scraper that misbehaves, or
// anyone else who can reach the port, cannot stall the event loop or exhaust memory.
//
// Threads: construct, use and destroy on the thread that runs the io_context (or while it is
// not running). `render` is called on that thread, once per GET or HEAD /metrics.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "failoverd/util/expected.h"

namespace failoverd::metrics {

// "127.0.0.1:9798", "0.0.0.0:9798", "[::1]:9798", "[::]:0" -> endpoint. Addresses must be
// numeric (no host names); port 0..65535 (0: the kernel picks one). The error is a sentence.
util::Expected<boost::asio::ip::tcp::endpoint, std::string> parse_listen_address(
    std::string_view listen);

struct MetricsServerOptions {
  // The whole request (line and headers) must arrive within this; the answer must be read
  // within this again.
  std::chrono::milliseconds timeout{2000};
  std::size_t max_request_bytes = 8192;
  // Connections beyond this are answered 503 and closed at once.
  std::size_t max_connections = 16;
};

// Counters for logs and tests; every accepted connection ends in exactly one of the
// per-outcome counters (served .. disconnected).
struct MetricsServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t served = 0;         // 200
  std::uint64_t not_found = 0;      // 404
  std::uint64_t bad_method = 0;     // 405
  std::uint64_t bad_request = 0;    // 400: not an HTTP/1.x request line
  std::uint64_t oversized = 0;      // 431: no end of headers within max_request_bytes
  std::uint64_t timed_out = 0;      // 408: no complete request within the timeout
  std::uint64_t render_errors = 0;  // 500: render threw
  std::uint64_t busy = 0;           // 503: max_connections reached
  std::uint64_t disconnected = 0;   // closed or failed before a complete request
  std::uint64_t accept_errors = 0;  // accept() failed (e.g. out of file descriptors)
};

class MetricsServer {
 public:
  using Render = std::function<std::string()>;

  // Binds and starts accepting. Throws std::runtime_error with a clear message when `listen`
  // is not a valid address or binding/listening fails (e.g. the port is in use).
  MetricsServer(boost::asio::io_context& io, std::string_view listen, Render render,
                MetricsServerOptions options = {});
  // Stops accepting and closes open connections; queued handlers become no-ops.
  ~MetricsServer();

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // The bound address, with the real port when `listen` asked for port 0.
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  std::uint16_t port() const;
  std::size_t open_connections() const;
  const MetricsServerStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace failoverd::metrics
