// ControlServer: the daemon's end of the control socket. Accepts connections on a unix stream
// socket, reads one request line per connection, answers it with the handler's outcome and
// closes. Everything runs as asynchronous operations on the daemon's io_context, so a slow,
// silent or hostile client never blocks the event loop.
//
// Threads: construct, use and destroy on the thread that runs the io_context (or while it is
// not running). The handler is called on that thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "failoverd/control/control_protocol.h"

namespace failoverd::control {

// Answers one valid request. An exception thrown here becomes an "internal error" answer.
using Handler = std::function<Outcome(const Request&)>;

struct ServerOptions {
  // A client must send its whole request within this, and read the answer within this again.
  std::chrono::milliseconds timeout{2000};
  std::size_t max_request_bytes = kMaxRequestBytes;
  // Connections beyond this are answered "busy" and closed at once.
  std::size_t max_connections = 32;
};

// Counters for metrics and tests; every connection ends up in exactly one of the last five.
struct ServerStats {
  std::uint64_t accepted = 0;
  std::uint64_t answered = 0;       // the handler ran (its answer may still be an error)
  std::uint64_t bad_request = 0;    // malformed, unknown version or command, bad args
  std::uint64_t oversized = 0;      // no '\n' within max_request_bytes
  std::uint64_t timed_out = 0;      // nothing (or no full line) within the timeout
  std::uint64_t disconnected = 0;   // closed or failed before sending a request, or busy
  std::uint64_t accept_errors = 0;  // accept() failed (e.g. out of file descriptors)
};

class ControlServer {
 public:
  // Creates the parent directory if missing, removes a stale socket file at `socket_path`,
  // binds, sets mode 0660 and starts accepting. Throws std::runtime_error with a clear message
  // when the path is taken by something that is not a socket, another daemon is listening on
  // it, or binding fails.
  ControlServer(boost::asio::io_context& io, std::filesystem::path socket_path, Handler handler,
                ServerOptions options = {});
  // Stops accepting, closes open connections and removes the socket file (if it is still ours).
  ~ControlServer();

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  const std::filesystem::path& socket_path() const;
  std::size_t open_connections() const;
  const ServerStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace failoverd::control
