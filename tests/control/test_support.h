// Helpers for the control tests: a ControlServer on a temporary socket served by an
// io_context on its own thread, and a raw blocking client for speaking bytes the real
// client never would.
#pragma once

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "failoverd/control/control_server.h"

namespace failoverd::control::testing {

// A fresh directory under /tmp (short: socket paths are limited to 107 bytes).
inline std::filesystem::path make_temp_dir() {
  std::string tmpl = "/tmp/fod-control-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

class LoopServer {
 public:
  explicit LoopServer(std::filesystem::path socket_path) : path_(std::move(socket_path)) {}
  ~LoopServer() { stop(); }

  // Throws what ControlServer's constructor throws.
  void start(Handler handler, ServerOptions options = {}) {
    server_ = std::make_unique<ControlServer>(io_, path_, std::move(handler), options);
    thread_ = std::thread([this] { io_.run(); });
  }

  // Destroys the server on the loop thread, then lets the loop run dry: a hang here means a
  // handler or timer outlived the server.
  void stop() {
    if (!thread_.joinable()) return;
    boost::asio::post(io_, [this] { server_.reset(); });
    work_.reset();
    thread_.join();
  }

  // Runs `f` on the loop thread and returns its result (for reading the server's stats).
  template <typename F>
  auto on_loop(F f) {
    std::packaged_task<decltype(f())()> task(std::move(f));
    auto result = task.get_future();
    boost::asio::post(io_, [&task] { task(); });
    return result.get();
  }

  ServerStats stats() {
    return on_loop([this] { return server_->stats(); });
  }
  std::size_t open_connections() {
    return on_loop([this] { return server_->open_connections(); });
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
};

// A blocking unix-socket connection with a receive timeout.
class RawConn {
 public:
  explicit RawConn(const std::filesystem::path& path, int recv_timeout_ms = 5000) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0;
    timeval tv{recv_timeout_ms / 1000, (recv_timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawConn() { close(); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool connected() const { return connected_; }

  // Sends all it can; false once the peer has gone (EPIPE), which some tests expect.
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Everything until EOF, a reset, or the receive timeout; `eof` says which.
  std::string read_all(bool* eof = nullptr) {
    std::string out;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (eof) *eof = (n == 0 || errno == ECONNRESET);
      return out;
    }
  }

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

}  // namespace failoverd::control::testing
