// Helpers for the control tests (and the metrics server's, tests/daemon): a server served by an
// io_context on its own thread (a ControlServer on a temporary socket), and a raw blocking
// client for speaking bytes the real client never would.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include "failoverd/control/control_server.h"

namespace failoverd::control::testing {

// A fresh directory under /tmp (short: socket paths are limited to 107 bytes).
inline std::filesystem::path make_temp_dir() {
  std::string tmpl = "/tmp/fod-control-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
  return tmpl;
}

// An io_context on its own thread serving one `Server` (ControlServer, metrics::MetricsServer):
// the server is created by start() and destroyed on the loop thread by stop(). A derived class
// whose members the server's callbacks use must call stop() in its own destructor.
template <typename Server>
class ServerThread {
 public:
  ServerThread() = default;
  ~ServerThread() { stop(); }
  ServerThread(const ServerThread&) = delete;
  ServerThread& operator=(const ServerThread&) = delete;

  // Constructs Server(io, args...) and starts the loop; throws what that constructor throws.
  template <typename... Args>
  void start(Args&&... args) {
    server_ = std::make_unique<Server>(io_, std::forward<Args>(args)...);
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

  auto stats() {
    return on_loop([this] { return server_->stats(); });
  }
  std::size_t open_connections() {
    return on_loop([this] { return server_->open_connections(); });
  }
  // Polls until the server has `n` open connections (accepts are asynchronous); false if it
  // still has not after about 2 s.
  bool wait_for_connections(std::size_t n) {
    for (int i = 0; i < 200; ++i) {
      if (open_connections() == n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::thread::id loop_thread() const { return thread_.get_id(); }

 protected:
  // Before start() returns, or on the loop thread.
  Server& server() { return *server_; }

 private:
  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(io_);
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

// A ControlServer on `socket_path`.
class LoopServer : public ServerThread<ControlServer> {
 public:
  explicit LoopServer(std::filesystem::path socket_path) : path_(std::move(socket_path)) {}

  // Throws what ControlServer's constructor throws.
  void start(Handler handler, ServerOptions options = {}) {
    ServerThread::start(path_, std::move(handler), options);
  }

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A blocking stream connection with a receive timeout, for speaking raw bytes to a server.
class RawConn {
 public:
  // To the unix socket at `path`.
  explicit RawConn(const std::filesystem::path& path, int recv_timeout_ms = 5000) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
    connect(AF_UNIX, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr), recv_timeout_ms);
  }
  // To 127.0.0.1:`port` over TCP.
  explicit RawConn(std::uint16_t port, int recv_timeout_ms = 5000) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connect(AF_INET, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr), recv_timeout_ms);
  }
  ~RawConn() { close(); }
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;

  bool connected() const { return connected_; }

  // Sends all it can; false once the peer has gone (EPIPE/ECONNRESET), which some tests expect.
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }

  // Everything until EOF, a reset, or the receive timeout; `eof` says whether the server
  // closed (EOF or reset) rather than the timeout ending the read.
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
  void connect(int domain, const sockaddr* addr, socklen_t len, int recv_timeout_ms) {
    fd_ = ::socket(domain, SOCK_STREAM | SOCK_CLOEXEC, 0);
    connected_ = ::connect(fd_, addr, len) == 0;
    timeval tv{recv_timeout_ms / 1000, (recv_timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  int fd_ = -1;
  bool connected_ = false;
};

// Connects to `to` (a unix socket path or a loopback TCP port), sends `request` and returns
// everything the server answers; failing to connect, or a server that does not close after
// answering, fails the test.
template <typename Address>
std::string exchange_until_close(const Address& to, std::string_view request) {
  RawConn c(to);
  EXPECT_TRUE(c.connected());
  c.send(request);
  bool eof = false;
  std::string answer = c.read_all(&eof);
  EXPECT_TRUE(eof) << "the server must close after answering";
  return answer;
}

}  // namespace failoverd::control::testing
