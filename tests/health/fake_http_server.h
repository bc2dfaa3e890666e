// A tiny HTTP server for the health tests, on a unix socket (a fake Docker Engine API) or on
// 127.0.0.1 (an http check's target). One thread; one connection at a time; every answer
// closes its connection. It records each request line, and the test's handler decides what
// goes back: a proper answer, nothing for a while, half a body, an endless body.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace failoverd::health::testing {

class FakeHttpServer {
 public:
  // Called with the connection and the request line ("GET /version HTTP/1.1").
  using Handler = std::function<void(FakeHttpServer&, int fd, const std::string& request_line)>;

  // Listens on a unix socket at `path` (replacing a stale file).
  FakeHttpServer(const std::string& path, Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path.size() >= sizeof addr.sun_path) throw std::runtime_error("socket path too long");
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    ::unlink(path.c_str());
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("bind " + path + ": " + std::strerror(errno));
    }
    start();
  }

  // Listens on 127.0.0.1 on a free port; see port().
  explicit FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
    }
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    start();
  }

  ~FakeHttpServer() {
    [[maybe_unused]] auto n = ::write(stop_w_, "x", 1);
    thread_.join();
    ::close(listen_fd_);
    ::close(stop_r_);
    ::close(stop_w_);
  }

  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  int port() const { return port_; }

  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

  // For handlers that stall: sleeps up to `d`, returns true early when the server stops.
  bool wait_for_stop(std::chrono::milliseconds d) const {
    pollfd p{stop_r_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(d.count())) == 1;
  }

  // Writes everything unless the peer goes away (no SIGPIPE); false then.
  static bool send_all(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // `extra_headers`: complete lines, each ending in "\r\n".
  static std::string response(int status, std::string_view body,
                              std::string_view content_type = "application/json",
                              std::string_view extra_headers = "") {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + std::string(extra_headers) +
           "Content-Type: " + std::string(content_type) + "\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\nConnection: close\r\n\r\n" + std::string(body);
  }

 private:
  void start() {
    ::listen(listen_fd_, 16);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
    stop_r_ = p[0];
    stop_w_ = p[1];
    thread_ = std::thread([this] { serve(); });
  }

  void serve() {
    for (;;) {
      pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_r_, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) continue;
      if (fds[1].revents != 0) return;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      std::string head;
      if (read_head(fd, head)) {
        const std::string line = head.substr(0, head.find("\r\n"));
        {
          std::lock_guard lock(mu_);
          requests_.push_back(line);
        }
        handler_(*this, fd, line);
      }
      ::close(fd);
    }
  }

  bool read_head(int fd, std::string& head) const {
    char buf[4096];
    while (head.find("\r\n\r\n") == std::string::npos && head.size() < 65536) {
      pollfd fds[2] = {{fd, POLLIN, 0}, {stop_r_, POLLIN, 0}};
      if (::poll(fds, 2, 5000) <= 0 || fds[1].revents != 0) return false;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return false;
      head.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }

  Handler handler_;
  int listen_fd_ = -1;
  int stop_r_ = -1;
  int stop_w_ = -1;
  int port_ = 0;
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

}  // namespace failoverd::health::testing
