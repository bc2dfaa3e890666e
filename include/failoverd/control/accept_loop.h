// The connection handling that the control socket (ControlServer, unix stream) and the metrics
// endpoint (metrics::MetricsServer, TCP) share: an accept loop that does not spin on accept
// errors and refuses connections beyond a limit, and a per-connection base with a socket, a
// re-armable deadline and registration in the server's set of open connections. What a
// connection reads and answers stays in each server.
//
// Threads: everything runs on the thread that runs the io_context.
#pragma once

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <unordered_set>
#include <utility>
#include <vector>

namespace failoverd::control {

template <typename Session, typename State>
class Connection;

// The part of a server's state that outlives the server object while handlers are still
// queued: every handler holds a shared_ptr to it and checks `stopped` first.
//
// CRTP: `State` derives from AcceptLoop<State, Protocol, Session> and has
//   - `options.max_connections`: connections beyond it are refused,
//   - `options.timeout`: the deadline Connection::arm_deadline() sets,
//   - `stats.accepted` and `stats.accept_errors`: counters,
//   - `void reject_busy(typename Protocol::socket&)`: counts and answers a refused connection
//     and closes it (without blocking),
// and `Session` derives from Connection<Session, State> with a constructor
// (socket, shared_ptr<State>) and `void start()`.
template <typename State, typename ProtocolT, typename Session>
class AcceptLoop : public std::enable_shared_from_this<State> {
 public:
  using Protocol = ProtocolT;
  using Socket = typename Protocol::socket;

  explicit AcceptLoop(boost::asio::io_context& io) : acceptor(io), retry_timer_(io) {}

  // Accepts one connection, then the next, until stop(). After an accept error (EMFILE...)
  // it waits 100 ms instead of spinning.
  void accept() {
    acceptor.async_accept([self = this->shared_from_this()](const boost::system::error_code& ec,
                                                            Socket socket) {
      if (self->stopped || ec == boost::asio::error::operation_aborted) return;
      if (ec) {
        ++self->stats.accept_errors;
        self->retry_timer_.expires_after(std::chrono::milliseconds(100));
        self->retry_timer_.async_wait([self](const boost::system::error_code& wait_ec) {
          if (!wait_ec && !self->stopped) self->accept();
        });
        return;
      }
      ++self->stats.accepted;
      if (self->sessions.size() >= self->options.max_connections) {
        self->reject_busy(socket);
      } else {
        std::make_shared<Session>(std::move(socket), self)->start();
      }
      self->accept();
    });
  }

  // Stops accepting and closes the open connections; queued handlers become no-ops.
  void stop() {
    stopped = true;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    retry_timer_.cancel();
    // close() may drop a session's last reference, which erases it from the set: copy first.
    const std::vector<Connection<Session, State>*> open(sessions.begin(), sessions.end());
    for (auto* s : open) s->close();
  }

  typename Protocol::acceptor acceptor;
  // Not owned: a connection adds itself when created and removes itself when destroyed.
  std::unordered_set<Connection<Session, State>*> sessions;
  bool stopped = false;

 private:
  boost::asio::steady_timer retry_timer_;  // after an accept error: do not spin
};

// One accepted connection: its socket, a deadline, and its entry in the server's `sessions`.
// CRTP: `Session` derives from it and has `void on_deadline()` (accessible to this class).
template <typename Session, typename State>
class Connection : public std::enable_shared_from_this<Session> {
 public:
  using Socket = typename State::Socket;

  // Idempotent: closes the socket (pending operations end with an error) and the deadline.
  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
    deadline_.cancel();
  }

 protected:
  Connection(Socket socket, std::shared_ptr<State> state)
      : socket_(std::move(socket)), deadline_(socket_.get_executor()), state_(std::move(state)) {
    state_->sessions.insert(this);
  }
  ~Connection() { state_->sessions.erase(this); }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // (Re)starts the deadline: Session::on_deadline() runs the server's options.timeout from now
  // unless the deadline is re-armed or the connection is closed first.
  void arm_deadline() {
    const unsigned generation = ++deadline_generation_;
    deadline_.expires_after(state_->options.timeout);
    deadline_.async_wait(
        [self = this->shared_from_this(), generation](const boost::system::error_code& ec) {
          // A wait that was already queued when the deadline was re-armed is stale.
          if (!ec && generation == self->deadline_generation_) self->on_deadline();
        });
  }

  Socket socket_;
  boost::asio::steady_timer deadline_;
  std::shared_ptr<State> state_;
  bool closed_ = false;

 private:
  unsigned deadline_generation_ = 0;
};

}  // namespace failoverd::control
