#include "failoverd/control/control_server.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "control/status_sample.h"
#include "control/test_support.h"
#include "failoverd/control/control_client.h"

namespace failoverd::control {
namespace {

using nlohmann::json;
using testing::LoopServer;
using testing::RawConn;
using namespace std::chrono_literals;

// Answers status, says "not implemented yet" to the rest, and records what it was asked.
struct RecordingHandler {
  std::mutex mu;
  std::vector<std::string> commands;

  Handler handler() {
    return [this](const Request& r) -> Outcome {
      {
        std::lock_guard lock(mu);
        commands.push_back(r.command);
      }
      if (r.command == "status") return to_json(testing::sample_status());
      return util::unexpected(std::string("not implemented yet"));
    };
  }
  std::vector<std::string> seen() {
    std::lock_guard lock(mu);
    return commands;
  }
};

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir();
    path_ = dir_ / "run" / "web.sock";  // "run" does not exist yet: the server creates it
    server_ = std::make_unique<LoopServer>(path_);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response raw_exchange(std::string_view request) {
    const std::string answer = testing::exchange_until_close(path_, request);
    EXPECT_EQ(answer.find('\n'), answer.size() - 1) << "one line: " << answer;
    auto r = parse_response(answer);
    EXPECT_TRUE(r.has_value()) << answer;
    return r ? *r : Response{};
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
  RecordingHandler recorder_;
  std::unique_ptr<LoopServer> server_;
};

TEST_F(ControlServerTest, StatusRoundTripThroughTheClient) {
  server_->start(recorder_.handler());
  ControlClient client(path_);
  auto result = client.call("status");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  auto status = status_from_json(*result);
  ASSERT_TRUE(status.has_value()) << status.error();
  EXPECT_EQ(status->name, "web");
  EXPECT_EQ(status->state, "MASTER");
  EXPECT_EQ(status->checks.at(0).detail, "10/10 running");
  EXPECT_EQ(*result, to_json(testing::sample_status()));
  EXPECT_EQ(recorder_.seen(), std::vector<std::string>{"status"});
  EXPECT_EQ(server_->stats().answered, 1u);
}

TEST_F(ControlServerTest, SocketIsCreatedWithMode0660AndRemovedOnDestruction) {
  server_->start(recorder_.handler());
  struct stat st {};
  ASSERT_EQ(::lstat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  server_->stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
}

// In a child running as uid 65534 with primary group `gid` and no others: connect to `path`.
// Returns 0 when connected, else the errno. Only async-signal-safe calls after fork().
int connect_as_nobody(const std::filesystem::path& path, gid_t gid) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(65534) != 0) ::_exit(250);
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) ::_exit(251);
    ::_exit(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)) == 0 ? 0
                                                                                     : errno);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

// The socket is 0660: its owner and group may connect, anyone else is refused by the kernel
// before the daemon sees a byte.
TEST_F(ControlServerTest, OnlyTheSocketsUserAndGroupMayConnect) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as other users";
  server_->start(recorder_.handler());
  // Let other users reach the socket file: the test's temp dirs are private.
  std::filesystem::permissions(dir_, std::filesystem::perms(0755));
  std::filesystem::permissions(path_.parent_path(), std::filesystem::perms(0755));
  constexpr gid_t kDaemonGroup = 4242;
  ASSERT_EQ(::chown(path_.c_str(), 0, kDaemonGroup), 0);
  EXPECT_EQ(connect_as_nobody(path_, kDaemonGroup), 0) << "a member of the socket's group";
  EXPECT_EQ(connect_as_nobody(path_, 65534), EACCES) << "someone else";
  EXPECT_EQ(server_->stats().answered, 0u);
}

TEST_F(ControlServerTest, HandlerErrorBecomesDaemonError) {
  server_->start(recorder_.handler());
  auto result = ControlClient(path_).call("failover");
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ClientError::Kind::kDaemonError);
  EXPECT_EQ(result.error().message, "not implemented yet");
}

TEST_F(ControlServerTest, HandlerExceptionBecomesInternalError) {
  server_->start([](const Request&) -> Outcome { throw std::runtime_error("boom"); });
  const Response r = raw_exchange("{\"version\":1,\"command\":\"status\"}\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "internal error: boom");
  auto via_client = ControlClient(path_).call("status");
  ASSERT_FALSE(via_client.has_value());
  EXPECT_EQ(via_client.error().message, "internal error: boom");
}

TEST_F(ControlServerTest, MalformedJsonIsAnsweredAndTheServerKeepsServing) {
  server_->start(recorder_.handler());
  const Response r = raw_exchange("{not json\n");
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error.rfind("malformed JSON: parse error at line 1, column 3", 0), 0u) << r.error;
  const Response v = raw_exchange("{\"version\":9,\"command\":\"status\"}\n");
  EXPECT_EQ(v.error, "unsupported protocol version 9 (this failoverd speaks 1)");
  const Response c = raw_exchange("{\"version\":1,\"command\":\"reboot\"}\n");
  EXPECT_EQ(c.error.rfind("unknown command \"reboot\"", 0), 0u) << c.error;
  EXPECT_TRUE(recorder_.seen().empty()) << "bad requests never reach the handler";
  EXPECT_TRUE(ControlClient(path_).call("status").has_value());
  EXPECT_EQ(server_->stats().bad_request, 3u);
}

TEST_F(ControlServerTest, OversizedRequestIsRefused) {
  server_->start(recorder_.handler());
  RawConn c(path_);
  ASSERT_TRUE(c.connected());
  c.send(std::string(100 * 1024, ' '));  // may fail half-way once the server closes: fine
  bool eof = false;
  auto r = parse_response(c.read_all(&eof));
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->ok);
  EXPECT_EQ(r->error, "request is longer than 65536 bytes");
  EXPECT_TRUE(eof);
  EXPECT_EQ(server_->stats().oversized, 1u);
  EXPECT_TRUE(ControlClient(path_).call("status").has_value());
}

TEST_F(ControlServerTest, RequestOfExactlyTheLimitIsServed) {
  server_->start(recorder_.handler());
  std::string request = R"({"version":1,"command":"status"})";
  request += std::string(kMaxRequestBytes - request.size(), ' ');
  ASSERT_EQ(request.size(), kMaxRequestBytes);
  const Response r = raw_exchange(request + "\n");
  EXPECT_TRUE(r.ok) << r.error;
}

TEST_F(ControlServerTest, SilentClientIsClosedAfterTheTimeoutWhileOthersAreServed) {
  ServerOptions options;
  options.timeout = 1000ms;
  server_->start(recorder_.handler(), options);
  const auto start = std::chrono::steady_clock::now();
  RawConn silent(path_);
  ASSERT_TRUE(silent.connected());

  // The silent client does not hold up anyone else: served while it is still connected.
  auto result = ControlClient(path_, 900ms).call("status");
  ASSERT_TRUE(result.has_value()) << result.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
  for (int i = 0; i < 50 && server_->open_connections() != 1; ++i) std::this_thread::sleep_for(2ms);
  EXPECT_EQ(server_->open_connections(), 1u) << "the silent client is still open";

  bool eof = false;
  const std::string answer = silent.read_all(&eof);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(eof);
  EXPECT_GE(elapsed, 990ms);
  EXPECT_LT(elapsed, 4s);
  auto r = parse_response(answer);
  ASSERT_TRUE(r.has_value()) << answer;
  EXPECT_EQ(r->error, "no request within 1s");
  EXPECT_EQ(server_->stats().timed_out, 1u);
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(ControlServerTest, DefaultTimeoutIsTwoSeconds) {
  EXPECT_EQ(ServerOptions{}.timeout, 2s);
  server_->start(recorder_.handler());
  const auto start = std::chrono::steady_clock::now();
  RawConn partial(path_);
  partial.send("{\"version\":1,");  // a line that never ends counts as silence
  auto r = parse_response(partial.read_all());
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->error, "no request within 2s");
  EXPECT_GE(elapsed, 1900ms);
  EXPECT_LT(elapsed, 4s);
}

TEST_F(ControlServerTest, HalfClosedRequestWithoutNewlineIsServed) {
  server_->start(recorder_.handler());
  RawConn c(path_);
  c.send(R"({"version":1,"command":"status"})");
  c.shutdown_write();
  auto r = parse_response(c.read_all());
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok);
}

TEST_F(ControlServerTest, ClientThatLeavesWithoutARequestIsForgotten) {
  server_->start(recorder_.handler());
  {
    RawConn c(path_);
    ASSERT_TRUE(c.connected());
  }
  // The next exchange is served on the same loop after the close was seen.
  ASSERT_TRUE(ControlClient(path_).call("status").has_value());
  EXPECT_TRUE(server_->wait_for_connections(0));
  EXPECT_EQ(server_->stats().disconnected, 1u);
}

TEST_F(ControlServerTest, ConnectionsBeyondTheLimitAreToldBusy) {
  ServerOptions options;
  options.max_connections = 2;
  server_->start(recorder_.handler(), options);
  RawConn a(path_);
  RawConn b(path_);
  ASSERT_TRUE(server_->wait_for_connections(2));
  auto busy = ControlClient(path_).call("status");
  ASSERT_FALSE(busy.has_value());
  EXPECT_EQ(busy.error().message, "failoverd is busy: too many control connections");
  a.close();
  b.close();
  EXPECT_TRUE(server_->wait_for_connections(0));
  EXPECT_TRUE(ControlClient(path_).call("status").has_value());
}

TEST_F(ControlServerTest, ShutdownWithAnOpenConnectionClosesIt) {
  server_->start(recorder_.handler());
  RawConn c(path_);
  ASSERT_TRUE(c.connected());
  EXPECT_TRUE(server_->wait_for_connections(1));
  server_->stop();  // must not hang on the connection's timer
  bool eof = false;
  EXPECT_EQ(c.read_all(&eof), "");
  EXPECT_TRUE(eof);
}

TEST_F(ControlServerTest, ReplacesAStaleSocket) {
  std::filesystem::create_directories(path_.parent_path());
  {
    // Bound, never listening, closed: what a crashed daemon leaves behind.
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);
  }
  auto stale = ControlClient(path_).call("status");
  ASSERT_FALSE(stale.has_value());
  EXPECT_EQ(stale.error().kind, ClientError::Kind::kNotRunning);
  EXPECT_EQ(stale.error().message,
            "failoverd is not running (nothing listens on " + path_.string() + ")");
  server_->start(recorder_.handler());
  EXPECT_TRUE(ControlClient(path_).call("status").has_value());
}

TEST_F(ControlServerTest, RefusesToReplaceARegularFile) {
  std::filesystem::create_directories(path_.parent_path());
  std::ofstream(path_) << "precious";
  try {
    server_->start(recorder_.handler());
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "control socket " + path_.string() +
                                         " exists and is not a socket; refusing to replace it");
  }
  std::ifstream in(path_);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(ControlServerTest, RefusesASecondDaemonOnTheSameSocket) {
  server_->start(recorder_.handler());
  LoopServer second(path_);
  try {
    second.start(recorder_.handler());
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "another failoverd is already listening on " + path_.string());
  }
  EXPECT_TRUE(ControlClient(path_).call("status").has_value()) << "the first one is unharmed";
}

TEST_F(ControlServerTest, RefusesAPathTooLongForAUnixSocket) {
  const std::filesystem::path long_path = dir_ / (std::string(120, 'x') + ".sock");
  LoopServer s(long_path);
  EXPECT_THROW(s.start(recorder_.handler()), std::runtime_error);
}

TEST_F(ControlServerTest, ManyClientsInParallelAreAllServed) {
  server_->start(recorder_.handler());
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 25; ++i)
        if (ControlClient(path_).call("status").has_value()) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 100);
  EXPECT_EQ(server_->stats().answered, 100u);
}

// ---- the client against servers that misbehave ----

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::make_temp_dir(); }
  void TearDown() override {
    if (peer_.joinable()) peer_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    std::filesystem::remove_all(dir_);
  }

  // A one-shot server: accepts one connection, reads one line, answers `answer` (or, without
  // one, waits for the client to give up), closes.
  void serve_once(std::optional<std::string> answer) {
    path_ = dir_ / "fake.sock";
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof(addr.sun_path) - 1);
    ASSERT_EQ(::bind(listen_fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    ASSERT_EQ(::listen(listen_fd_, 4), 0);
    peer_ = std::thread([this, answer] {
      const int fd = ::accept(listen_fd_, nullptr, nullptr);
      char buf[1024];
      std::string got;
      while (got.find('\n') == std::string::npos) {
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
      }
      received_ = got;
      if (answer) {
        ::send(fd, answer->data(), answer->size(), MSG_NOSIGNAL);
      } else {
        while (::recv(fd, buf, sizeof(buf), 0) > 0) {
        }  // until the client gives up and closes
      }
      ::close(fd);
    });
  }

  std::filesystem::path dir_;
  std::filesystem::path path_;
  int listen_fd_ = -1;
  std::thread peer_;
  std::string received_;
};

TEST_F(ClientTest, MissingSocketSaysNotRunning) {
  const auto path = dir_ / "web.sock";
  auto r = ControlClient(path).call("status");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ClientError::Kind::kNotRunning);
  EXPECT_EQ(r.error().message, "failoverd is not running (no socket at " + path.string() + ")");
}

TEST_F(ClientTest, SendsOneVersionedLine) {
  serve_once("{\"version\":1,\"ok\":true,\"result\":{}}\n");
  auto r = ControlClient(path_).call("maintenance", {{"enabled", true}});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  peer_.join();
  EXPECT_EQ(received_, "{\"args\":{\"enabled\":true},\"command\":\"maintenance\",\"version\":1}\n");
}

TEST_F(ClientTest, SilentDaemonTimesOut) {
  serve_once(std::nullopt);
  const auto start = std::chrono::steady_clock::now();
  auto r = ControlClient(path_, 200ms).call("status");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ClientError::Kind::kTimeout);
  EXPECT_EQ(r.error().message, "no answer from failoverd within 200ms");
  EXPECT_GE(elapsed, 190ms);
  EXPECT_LT(elapsed, 2s);
}

TEST_F(ClientTest, GarbageAnswerIsMalformed) {
  serve_once("hello\n");
  auto r = ControlClient(path_).call("status");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ClientError::Kind::kMalformedAnswer);
  EXPECT_EQ(r.error().message.rfind("malformed answer from failoverd: malformed JSON: ", 0), 0u)
      << r.error().message;
}

TEST_F(ClientTest, NewerProtocolAnswerIsMalformed) {
  serve_once("{\"version\":2,\"ok\":true,\"result\":{}}\n");
  auto r = ControlClient(path_).call("status");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message,
            "malformed answer from failoverd: answer has protocol version 2, failoverctl speaks 1");
}

TEST_F(ClientTest, CloseWithoutAnswerIsAnIoError) {
  serve_once("");
  auto r = ControlClient(path_).call("status");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().kind, ClientError::Kind::kIo);
  EXPECT_EQ(r.error().message, "failoverd closed the connection without answering");
}

TEST_F(ClientTest, AnswerWithoutNewlineBeforeCloseIsStillRead) {
  serve_once("{\"version\":1,\"ok\":true,\"result\":{\"a\":1}}");
  auto r = ControlClient(path_).call("status");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, (json{{"a", 1}}));
}

}  // namespace
}  // namespace failoverd::control
