#include "failoverd/control/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "failoverd/control/accept_loop.h"
#include "failoverd/util/duration.h"

namespace failoverd::control {

namespace asio = boost::asio;
using StreamProtocol = asio::local::stream_protocol;
using boost::system::error_code;

namespace {

class Session;

// What outlives the ControlServer object while handlers are still queued (see AcceptLoop).
struct State : AcceptLoop<State, StreamProtocol, Session> {
  State(asio::io_context& io, Handler h, ServerOptions o)
      : AcceptLoop(io), handler(std::move(h)), options(o) {}

  void reject_busy(StreamProtocol::socket& socket);

  Handler handler;
  ServerOptions options;
  ServerStats stats;
};

// One connection: read one line (deadline armed), answer, close.
class Session : public Connection<Session, State> {
 public:
  Session(StreamProtocol::socket socket, std::shared_ptr<State> state)
      : Connection(std::move(socket), std::move(state)) {}

  void start() {
    arm_deadline();
    asio::async_read_until(
        socket_, asio::dynamic_buffer(buffer_, state_->options.max_request_bytes + 1), '\n',
        [self = shared_from_this()](const error_code& ec, std::size_t n) { self->on_read(ec, n); });
  }

 private:
  friend Connection;

  void on_deadline() {
    if (closed_) return;
    if (writing_) {
      close();  // the client does not read its answer
      return;
    }
    timed_out_ = true;
    error_code ignored;
    socket_.cancel(ignored);  // on_read answers the timeout
  }

  void on_read(const error_code& ec, std::size_t n) {
    if (closed_ || state_->stopped) return close();
    ServerStats& stats = state_->stats;
    if (ec == asio::error::operation_aborted && timed_out_) {
      ++stats.timed_out;
      return answer(format_error_response("no request within " +
                                          util::format_duration(state_->options.timeout)));
    }
    if (ec == asio::error::not_found) {  // the buffer limit was reached before a '\n'
      ++stats.oversized;
      return answer(format_error_response("request is longer than " +
                                          std::to_string(state_->options.max_request_bytes) +
                                          " bytes"));
    }
    std::string_view line;
    if (!ec) {
      line = std::string_view(buffer_).substr(0, n);
    } else if (ec == asio::error::eof && !buffer_.empty()) {
      line = buffer_;  // the client half-closed after a request without '\n': be lenient
    } else {
      ++stats.disconnected;
      return close();
    }
    auto request = parse_client_line(line);
    if (!request) {
      ++stats.bad_request;
      return answer(format_error_response(request.error()));
    }
    ++stats.answered;
    answer(format_response(run_handler(*request)));
  }

  // parse_request returns its errors as values; this is the second wall, so that no client's
  // bytes can ever unwind the event loop and stop the daemon (as MASTER, with its VIP up).
  static util::Expected<Request, std::string> parse_client_line(std::string_view line) {
    try {
      return parse_request(line);
    } catch (const std::exception& e) {
      return util::unexpected(std::string("bad request: ") + e.what());
    } catch (...) {
      return util::unexpected(std::string("bad request"));
    }
  }

  Outcome run_handler(const Request& request) {
    try {
      return state_->handler(request);
    } catch (const std::exception& e) {
      return util::unexpected(std::string("internal error: ") + e.what());
    } catch (...) {
      return util::unexpected(std::string("internal error"));
    }
  }

  void answer(std::string line) {
    writing_ = true;
    answer_ = std::move(line);
    arm_deadline();
    asio::async_write(
        socket_, asio::buffer(answer_),
        [self = shared_from_this()](const error_code&, std::size_t) { self->close(); });
  }

  std::string buffer_;
  std::string answer_;
  bool writing_ = false;
  bool timed_out_ = false;
};

void State::reject_busy(StreamProtocol::socket& socket) {
  ++stats.disconnected;
  // A short line into an empty socket buffer: a non-blocking write completes or is dropped.
  error_code ignored;
  socket.non_blocking(true, ignored);
  const std::string line = format_error_response("failoverd is busy: too many control connections");
  asio::write(socket, asio::buffer(line), ignored);
  socket.close(ignored);
}

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

// Refuses to replace anything but a dead socket: a regular file at the path is a
// configuration mistake, a live socket is another daemon with the same instance name.
void remove_stale_socket(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return;
    throw std::runtime_error("control socket " + path.string() + ": " + errno_text(errno));
  }
  if (!S_ISSOCK(st.st_mode))
    throw std::runtime_error("control socket " + path.string() +
                             " exists and is not a socket; refusing to replace it");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) throw std::runtime_error("socket(): " + errno_text(errno));
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
  const int err = errno;
  ::close(fd);
  if (rc == 0 || err == EAGAIN)
    throw std::runtime_error("another failoverd is already listening on " + path.string());
  if (err != ECONNREFUSED)
    throw std::runtime_error("control socket " + path.string() + ": " + errno_text(err));
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    throw std::runtime_error("cannot remove stale control socket " + path.string() + ": " +
                             errno_text(errno));
}

}  // namespace

struct ControlServer::Impl {
  std::filesystem::path path;
  std::shared_ptr<State> state;
  dev_t dev = 0;
  ino_t ino = 0;
};

ControlServer::ControlServer(asio::io_context& io, std::filesystem::path socket_path,
                             Handler handler, ServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(socket_path);
  const auto& path = impl_->path;
  if (path.empty()) throw std::runtime_error("control socket path is empty");
  if (path.string().size() >= sizeof(sockaddr_un::sun_path))
    throw std::runtime_error("control socket path " + path.string() + " is longer than " +
                             std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes");
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec)
      throw std::runtime_error("cannot create directory " + path.parent_path().string() + ": " +
                               ec.message());
  }
  remove_stale_socket(path);

  impl_->state = std::make_shared<State>(io, std::move(handler), options);
  auto& acceptor = impl_->state->acceptor;
  error_code ec;
  acceptor.open(StreamProtocol(), ec);
  if (!ec) acceptor.bind(StreamProtocol::endpoint(path.string()), ec);
  if (ec)
    throw std::runtime_error("cannot bind control socket " + path.string() + ": " + ec.message());
  // Before listen(): nobody can connect while the mode is still the umask's.
  if (::chmod(path.c_str(), 0660) != 0) {
    const int err = errno;
    ::unlink(path.c_str());
    throw std::runtime_error("cannot chmod control socket " + path.string() + ": " +
                             errno_text(err));
  }
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    impl_->dev = st.st_dev;
    impl_->ino = st.st_ino;
  }
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ::unlink(path.c_str());
    throw std::runtime_error("cannot listen on control socket " + path.string() + ": " +
                             ec.message());
  }
  impl_->state->accept();
}

ControlServer::~ControlServer() {
  impl_->state->stop();
  // Only our own socket: a newer daemon may already have replaced the file.
  struct stat st {};
  if (::lstat(impl_->path.c_str(), &st) == 0 && st.st_dev == impl_->dev && st.st_ino == impl_->ino)
    ::unlink(impl_->path.c_str());
}

const std::filesystem::path& ControlServer::socket_path() const {
  return impl_->path;
}

std::size_t ControlServer::open_connections() const {
  return impl_->state->sessions.size();
}

const ServerStats& ControlServer::stats() const {
  return impl_->state->stats;
}

}  // namespace failoverd::control
