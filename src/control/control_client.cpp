#include "failoverd/control/control_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>

#include "failoverd/util/duration.h"
#include "failoverd/util/unique_fd.h"

namespace failoverd::control {

namespace {

using Clock = std::chrono::steady_clock;

using Fd = util::UniqueFd;

ClientError error(ClientError::Kind kind, std::string message) {
  return ClientError{kind, std::move(message)};
}

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

// Milliseconds left until `deadline`, for poll(); 0 once it has passed.
int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// Waits until `fd` is ready for `events`; false on timeout.
bool wait_for(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    const int rc = ::poll(&p, 1, remaining_ms(deadline));
    if (rc > 0) return true;
    if (rc == 0) return false;
    if (errno != EINTR) return true;  // let the following call report the error
  }
}

}  // namespace

ControlClient::ControlClient(std::filesystem::path socket_path, std::chrono::milliseconds timeout)
    : path_(std::move(socket_path)), timeout_(timeout) {}

util::Expected<std::string, ClientError> ControlClient::exchange(std::string_view line) const {
  using Kind = ClientError::Kind;
  const std::string path = path_.string();
  const std::string no_answer =
      "no answer from failoverd within " +
      util::format_duration(std::chrono::duration_cast<util::Duration>(timeout_));
  const auto deadline = Clock::now() + timeout_;

  sockaddr_un addr{};
  if (path.size() >= sizeof(addr.sun_path))
    return util::unexpected(error(Kind::kIo, "socket path " + path + " is too long"));
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());

  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (fd.get() < 0) return util::unexpected(error(Kind::kIo, "socket(): " + errno_text(errno)));

  // A unix-socket connect never is "in progress": it succeeds, fails, or (backlog full,
  // non-blocking) says EAGAIN, which is worth retrying until the deadline.
  for (;;) {
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0) break;
    const int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN) {
      if (remaining_ms(deadline) == 0) return util::unexpected(error(Kind::kTimeout, no_answer));
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    if (err == ENOENT)
      return util::unexpected(
          error(Kind::kNotRunning, "failoverd is not running (no socket at " + path + ")"));
    if (err == ECONNREFUSED)
      return util::unexpected(
          error(Kind::kNotRunning, "failoverd is not running (nothing listens on " + path + ")"));
    if (err == EACCES || err == EPERM)
      return util::unexpected(
          error(Kind::kPermissionDenied,
                "permission denied on " + path + " (run as root or in the socket's group)"));
    return util::unexpected(error(Kind::kIo, "cannot connect to " + path + ": " + errno_text(err)));
  }

  // Send. If the daemon closes early (it refused an oversized request) the write fails with
  // EPIPE, but its error answer is already waiting to be read: go on to read it.
  std::size_t sent = 0;
  while (sent < line.size()) {
    const ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n >= 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (!wait_for(fd.get(), POLLOUT, deadline))
        return util::unexpected(error(Kind::kTimeout, no_answer));
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) break;
    return util::unexpected(error(Kind::kIo, "cannot send to " + path + ": " + errno_text(errno)));
  }

  std::string answer;
  char buf[4096];
  for (;;) {
    const auto newline = answer.find('\n');
    if (newline != std::string::npos) {
      answer.resize(newline);
      return answer;
    }
    if (answer.size() > kMaxAnswerBytes)
      return util::unexpected(
          error(Kind::kMalformedAnswer, "malformed answer from failoverd: longer than " +
                                            std::to_string(kMaxAnswerBytes) + " bytes"));
    const ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
    if (n > 0) {
      answer.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      if (!wait_for(fd.get(), POLLIN, deadline))
        return util::unexpected(error(Kind::kTimeout, no_answer));
      continue;
    }
    if (errno == ECONNRESET && !answer.empty()) break;
    return util::unexpected(
        error(Kind::kIo, "cannot read from " + path + ": " + errno_text(errno)));
  }
  if (answer.empty())
    return util::unexpected(error(Kind::kIo, "failoverd closed the connection without answering"));
  return answer;  // a complete JSON line whose '\n' was lost is still worth parsing
}

util::Expected<nlohmann::json, ClientError> ControlClient::call(std::string_view command,
                                                                const nlohmann::json& args) const {
  Request request;
  request.command = std::string(command);
  request.args = args;
  auto line = exchange(format_request(request));
  if (!line) return util::unexpected(line.error());
  auto response = parse_response(*line);
  if (!response)
    return util::unexpected(ClientError{ClientError::Kind::kMalformedAnswer,
                                        "malformed answer from failoverd: " + response.error()});
  if (!response->ok)
    return util::unexpected(ClientError{ClientError::Kind::kDaemonError, response->error});
  return std::move(response->result);
}

}  // namespace failoverd::control
