// A MASTER survives any byte sequence on its control socket and its metrics port:
// a hostile set is sent to both while a BACKUP listens to its adverts, then the MASTER must
// still answer status and metrics, still be MASTER, and neither node may have logged a
// transition (a stalled or restarted MASTER would have let the BACKUP take over). Every
// hostile connection must end with an error answer or a close by the daemon, never a success
// and never left hanging.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "harness/harness.h"

namespace failoverd::e2e {
namespace {

using namespace std::literals;  // "..."s and "..."sv keep embedded NUL bytes

constexpr int kMetricsPort = 9798;

// How a hostile connection ended, as the client saw it.
struct Exchange {
  std::string received;
  bool closed = false;    // EOF or reset from the daemon before our read deadline
  bool sent_all = false;  // every byte was sent (false: the daemon closed first)
};

void set_timeouts(int fd, Ms timeout) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

int connect_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket(AF_UNIX) failed");
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::strncpy(sa.sun_path, path.c_str(), sizeof sa.sun_path - 1);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
  }
  return fd;
}

// A TCP connection to 127.0.0.1:port inside `netns`: made on a thread that has entered the
// namespace (setns is per thread); the socket stays in that namespace for its whole life.
int connect_tcp_in(const std::string& netns, int port) {
  int fd = -1;
  std::string error;
  std::thread t([&] {
    const int nsfd = ::open(("/var/run/netns/" + netns).c_str(), O_RDONLY | O_CLOEXEC);
    if (nsfd < 0 || ::setns(nsfd, CLONE_NEWNET) != 0) {
      error = "setns " + netns + ": " + std::strerror(errno);
      if (nsfd >= 0) ::close(nsfd);
      return;
    }
    ::close(nsfd);
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
      error = std::string("connect 127.0.0.1:") + std::to_string(port) + ": " + std::strerror(errno);
      if (fd >= 0) ::close(fd);
      fd = -1;
    }
  });
  t.join();
  if (fd < 0) throw std::runtime_error(error);
  return fd;
}

// Sends `pieces` (with `gap` between them), then optionally shuts the write side, then reads
// until the daemon closes or `deadline` passes. A send the daemon refuses (it closed already)
// ends the sending; that is an allowed answer to hostile input.
Exchange exchange(int fd, const std::vector<std::string>& pieces, bool shut_write,
                  Ms gap = 0ms, Ms deadline = 15s) {
  Exchange ex;
  set_timeouts(fd, deadline);
  ex.sent_all = true;
  for (std::size_t i = 0; i < pieces.size() && ex.sent_all; ++i) {
    if (i > 0 && gap > 0ms) std::this_thread::sleep_for(gap);
    std::string_view rest = pieces[i];
    while (!rest.empty()) {
      const ssize_t n = ::send(fd, rest.data(), rest.size(), MSG_NOSIGNAL);
      if (n <= 0) {
        ex.sent_all = false;
        break;
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  if (shut_write) ::shutdown(fd, SHUT_WR);
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      ex.received.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    // 0: EOF. EAGAIN: our deadline passed with the connection still open.
    ex.closed = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
    break;
  }
  ::close(fd);
  return ex;
}

std::string printable(const std::string& s) {
  std::string out;
  for (char c : s.substr(0, 300)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    }
  }
  return s.size() > 300 ? out + "..." : out;
}

// The control socket's answer to hostile input: nothing, or error lines only.
void expect_control_rejected(const std::string& what, const Exchange& ex) {
  EXPECT_TRUE(ex.closed) << what << ": the daemon left the connection open";
  std::size_t start = 0;
  while (start < ex.received.size()) {
    auto end = ex.received.find('\n', start);
    if (end == std::string::npos) end = ex.received.size();
    const auto line = ex.received.substr(start, end - start);
    start = end + 1;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(j.is_object()) << what << ": the answer is not a JSON object: " << printable(line);
    EXPECT_EQ(j.value("ok", true), false) << what << ": " << printable(line);
    EXPECT_TRUE(j.contains("error") && j["error"].is_string()) << what << ": " << printable(line);
  }
}

// The metrics port's answer to hostile input: nothing, or one 4xx/5xx response.
void expect_metrics_rejected(const std::string& what, const Exchange& ex) {
  EXPECT_TRUE(ex.closed) << what << ": the daemon left the connection open";
  if (ex.received.empty()) return;
  ASSERT_TRUE(ex.received.starts_with("HTTP/1.1 ")) << what << ": " << printable(ex.received);
  const char status = ex.received.size() > 9 ? ex.received[9] : '?';
  EXPECT_TRUE(status == '4' || status == '5') << what << ": " << printable(ex.received);
}

// Random bytes from a fixed seed (reproducible), with some bytes the parsers care about
// mixed in more often than chance would.
std::string random_bytes(std::mt19937& rng, std::size_t max_len) {
  static constexpr std::string_view kSpecial = "\n\r\0 {}[]\":,\\/?%\xff\xc0"sv;
  std::uniform_int_distribution<std::size_t> len(1, max_len);
  std::uniform_int_distribution<int> byte(0, 255);
  std::string out(len(rng), '\0');
  for (auto& c : out) {
    const int b = byte(rng);
    c = b < 32 ? kSpecial[static_cast<std::size_t>(b) % kSpecial.size()] : static_cast<char>(byte(rng));
  }
  return out;
}

class HostileInput : public TwoHostTest {
 protected:
  // node-a (150) MASTER with metrics on 127.0.0.1:9798 in its namespace, node-b (100) BACKUP
  // hearing it. 1 s adverts: a MASTER stalled for more than ~3.6 s (Master_Down_Interval)
  // lets node-b take over, which the end of the test sees.
  void SetUp() override {
    TwoHostTest::SetUp();
    if (IsSkipped()) return;
    NodeConfig ca = node_config(0, "node-a", 150);
    NodeConfig cb = node_config(1, "node-b", 100);
    ca.advert_interval = cb.advert_interval = "1s";
    ca.extra = "[metrics]\nlisten = 127.0.0.1:" + std::to_string(kMetricsPort) + "\n";
    a_ = &start_node(ca);
    ASSERT_TRUE(a_->wait_state("MASTER", 10s));
    b_ = &start_node(cb);
    ASSERT_TRUE(wait_until(
        [&] {
          const auto s = b_->status();
          return s && (*s)["state"] == "BACKUP" && json_int(*s, "adverts_received") > 0;
        },
        10s));
    ASSERT_TRUE(wait_until([&] { return metrics_body().find("failoverd_state") != std::string::npos; },
                           5s));
  }

  Exchange control(const std::vector<std::string>& pieces, bool shut_write = true, Ms gap = 0ms) {
    return exchange(connect_unix(a_->config().socket), pieces, shut_write, gap);
  }
  Exchange metrics(const std::vector<std::string>& pieces, bool shut_write = true, Ms gap = 0ms) {
    return exchange(connect_tcp_in(net().ns(0), kMetricsPort), pieces, shut_write, gap);
  }

  std::string metrics_body() {
    return run_command({"ip", "netns", "exec", net().ns(0), "curl", "-s", "-m", "5",
                        "http://127.0.0.1:" + std::to_string(kMetricsPort) + "/metrics"})
        .output;
  }

  Node* a_ = nullptr;
  Node* b_ = nullptr;
};

TEST_F(HostileInput, MasterSurvivesAnyBytesOnItsControlSocketAndMetricsPort) {
  // The raw helpers do see answers: a valid request gets its success (so an error or a close
  // below is the daemon's doing, not a blind reader's).
  {
    const Exchange ok = control({"{\"version\":1,\"command\":\"status\"}\n"});
    EXPECT_TRUE(ok.closed);
    const auto j = nlohmann::json::parse(ok.received.substr(0, ok.received.find('\n')), nullptr, false);
    ASSERT_TRUE(j.is_object()) << printable(ok.received);
    EXPECT_EQ(j.value("ok", false), true) << printable(ok.received);
    const Exchange okm = metrics({"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"});
    EXPECT_TRUE(okm.received.starts_with("HTTP/1.1 200 ")) << printable(okm.received);
  }

  const std::string deep(200'000, '[');
  // Deeper than the depth bound but within the control line limit (64 KiB): the depth check
  // answers, not the size limit.
  const std::string deep_in_limit(30'000, '[');

  // Slowloris on both, in the background while the rest goes on: one byte every 300 ms of an
  // otherwise valid request (about 10 s), far slower than the daemon's 2 s request timeout.
  Exchange slow_control, slow_metrics;
  std::string slow_error;  // an exception on a helper thread, reported on this one
  const auto slowloris = [&](Exchange& out, const std::function<int()>& connect,
                             const std::string& request) {
    try {
      std::vector<std::string> bytes;
      for (char c : request) bytes.emplace_back(1, c);
      out = exchange(connect(), bytes, false, 300ms);
    } catch (const std::exception& e) {
      slow_error = e.what();
    }
  };
  std::thread slow_c(slowloris, std::ref(slow_control),
                     [&] { return connect_unix(a_->config().socket); },
                     "{\"version\":1,\"command\":\"status\"}\n");
  std::thread slow_m(slowloris, std::ref(slow_metrics),
                     [&] { return connect_tcp_in(net().ns(0), kMetricsPort); },
                     "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");

  // ---- control socket ----
  const std::vector<std::pair<std::string, std::string>> control_lines = {
      {"overlong line (1 MiB, no newline)", std::string(1 << 20, 'x')},
      {"overlong line (1 MiB, then newline)", std::string(1 << 20, 'x') + "\n"},
      {"NUL bytes", "\0\0\0\n"s},
      {"NUL inside a request", "{\"version\":1,\"command\":\"sta\0tus\"}\n"s},
      {"invalid UTF-8", "{\"version\":1,\"command\":\"\xff\xfe\xc0\xaf\"}\n"},
      {"invalid UTF-8, bare", "\xc3\x28\xa0\xa1\n"},
      {"1e400", "1e400\n"},
      {"1e400 as the version", "{\"version\":1e400,\"command\":\"status\"}\n"},
      {"1e400 as failover's hold", "{\"version\":1,\"command\":\"failover\",\"args\":{\"hold_ms\":1e400}}\n"},
      {"200,000-deep JSON", deep + "\n"},
      {"30,000-deep JSON", deep_in_limit + "\n"},
      {"30,000-deep JSON in args",
       "{\"version\":1,\"command\":\"status\",\"args\":" + deep_in_limit + "\n"},
      {"two requests on one line", "{\"version\":1,\"command\":\"status\"}{\"version\":1}\n"},
      {"empty line", "\n"},
  };
  for (const auto& [what, bytes] : control_lines) {
    SCOPED_TRACE("control: " + what);
    expect_control_rejected(what, control({bytes}));
  }
  // Half-open: a partial request, then our write side shut; a reset in the middle of one.
  expect_control_rejected("half-open", control({"{\"version\":1,\"comm"}, true));
  {
    const int fd = connect_unix(a_->config().socket);
    ::send(fd, "{\"vers", 6, MSG_NOSIGNAL);
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
  }
  // Silent connections until the daemon's timeout: left open (shut_write false), nothing sent.
  expect_control_rejected("silent", control({}, false));

  // ---- metrics port ----
  const std::vector<std::pair<std::string, std::string>> metrics_requests = {
      {"overlong request line (1 MiB)", "GET /" + std::string(1 << 20, 'a')},
      {"overlong header (1 MiB)", "GET /metrics HTTP/1.1\r\nX: " + std::string(1 << 20, 'a') + "\r\n\r\n"},
      {"NUL bytes", "\0\0\0\0\r\n\r\n"s},
      {"NUL in the target", "GET /metrics\0 HTTP/1.1\r\n\r\n"s},
      {"invalid UTF-8 in the target", "GET /\xff\xfe\xc0 HTTP/1.1\r\n\r\n"},
      {"invalid UTF-8 as the method", "\xc3\x28 /metrics HTTP/1.1\r\n\r\n"},
      {"1e400", "1e400\r\n\r\n"},
      {"200,000-deep JSON body",
       "POST /metrics HTTP/1.1\r\nContent-Length: 200000\r\n\r\n" + deep},
      {"200,000-deep JSON as the head", deep + "\r\n\r\n"},
      {"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"},
      {"TLS client hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"s},
  };
  for (const auto& [what, bytes] : metrics_requests) {
    SCOPED_TRACE("metrics: " + what);
    expect_metrics_rejected(what, metrics({bytes}));
  }
  expect_metrics_rejected("half-open", metrics({"GET /metr"}, true));
  {
    const int fd = connect_tcp_in(net().ns(0), kMetricsPort);
    ::send(fd, "GET /me", 7, MSG_NOSIGNAL);
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);  // a TCP reset
  }
  expect_metrics_rejected("silent", metrics({}, false));

  // ---- many connections at once, on both: far more than either limit (32 and 16) ----
  {
    std::vector<int> fds;
    for (int i = 0; i < 100; ++i) fds.push_back(connect_unix(a_->config().socket));
    for (int i = 0; i < 100; ++i) fds.push_back(connect_tcp_in(net().ns(0), kMetricsPort));
    // Each is either refused as busy at once or timed out by the daemon: all end closed.
    std::vector<Exchange> ends(fds.size());
    std::vector<std::thread> readers;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      readers.emplace_back([&, i] { ends[i] = exchange(fds[i], {}, false); });
    }
    for (auto& t : readers) t.join();
    for (std::size_t i = 0; i < ends.size(); ++i) {
      if (i < 100) {
        expect_control_rejected("connection " + std::to_string(i) + " of many", ends[i]);
      } else {
        expect_metrics_rejected("connection " + std::to_string(i - 100) + " of many", ends[i]);
      }
    }
  }

  // ---- random bytes, fixed seed ----
  std::mt19937 rng(14);
  for (int i = 0; i < 100; ++i) {
    const std::string bytes = random_bytes(rng, 4096);
    SCOPED_TRACE("control: random #" + std::to_string(i) + ": " + printable(bytes));
    expect_control_rejected("random", control({bytes + (i % 2 ? "\n" : "")}));
  }
  for (int i = 0; i < 100; ++i) {
    const std::string bytes = random_bytes(rng, 4096);
    SCOPED_TRACE("metrics: random #" + std::to_string(i) + ": " + printable(bytes));
    expect_metrics_rejected("random", metrics({bytes + (i % 2 ? "\r\n\r\n" : "")}));
  }

  slow_c.join();
  slow_m.join();
  EXPECT_EQ(slow_error, "");
  // The daemon gave up on them (its 2 s request timeout) long before their last byte.
  expect_control_rejected("slowloris", slow_control);
  EXPECT_FALSE(slow_control.sent_all) << "the daemon waited for the whole slowloris request";
  expect_metrics_rejected("slowloris", slow_metrics);
  EXPECT_FALSE(slow_metrics.sent_all) << "the daemon waited for the whole slowloris request";

  // ---- afterwards: alive, still MASTER, no transition anywhere, both endpoints answer ----
  EXPECT_TRUE(a_->running()) << "node-a exited";
  const auto s = a_->status();
  ASSERT_TRUE(s) << "node-a does not answer status";
  EXPECT_EQ((*s)["state"], "MASTER") << *s;
  EXPECT_EQ(a_->transitions_from("MASTER"), 0u) << tail_lines(a_->log(), 30);
  EXPECT_EQ(b_->transitions_to("MASTER"), 0u) << "node-b took over: node-a stalled";
  EXPECT_EQ(b_->state(), "BACKUP");
  const std::string body = metrics_body();
  EXPECT_NE(body.find("failoverd_state{instance_name=\"node-a\",state=\"MASTER\"} 1"),
            std::string::npos)
      << body;
}

}  // namespace
}  // namespace failoverd::e2e
