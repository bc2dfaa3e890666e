// The HTTP half shared by the fake cloud APIs (DigitalOcean, Hetzner, Cloudflare): an HTTP/1.1
// server on its own thread that parses requests, records them, applies the generic fault
// switches (5xx, 429, dropped connection, delay, a corrupt body) and hands everything else to
// the fake's own handler, which speaks the API's paths and JSON shapes.
//
// Order of a request: "/_fake/..." admin paths (never recorded, never faulted) -> record ->
// delay -> drop -> fail -> rate limit -> corrupt -> the API handler.
//
// Admin paths: GET /_fake/requests (recorded requests), GET /_fake/state (the fake's state hook),
// POST /_fake/faults with a JSON object of switches: the generic ones ("fail_next",
// "fail_status", "rate_limit_next", "retry_after", "drop_next", "delay_ms", "corrupt_next") and
// whatever the fake's faults hook reads.
//
// Locking: one recursive mutex guards the server and the fake's state; hooks run under it, and
// a fake's public methods take it (mutex()) before touching their state.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace failoverd::cloud::testing {

struct RecordedRequest {
  std::string method;
  std::string target;  // as sent, query included
  std::string path;    // without the query
  std::string body;
  std::string authorization;  // the Authorization header, "" when absent
};

// A request as the fakes see it.
struct FakeRequest {
  std::string method;  // "GET", "POST", "PATCH", ...
  std::string target;
  std::string path;
  std::map<std::string, std::string> query;  // percent-decoded; the last value of a key wins
  std::string body;
  std::string authorization;
  std::string content_type;
};

struct FakeResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static FakeResponse json(int status, const nlohmann::json& body);
  static FakeResponse text(int status, std::string body);
  FakeResponse& header(std::string name, std::string value);
};

// The generic 429 fault, for the fake to shape its answer.
struct RateLimitFault {
  std::optional<int> retry_after_s;         // the server sets Retry-After from it
  std::optional<std::int64_t> reset_epoch;  // for RateLimit-Reset style headers; else now + 60
};

struct FakeApiHooks {
  // The API proper, once no generic fault applied.
  std::function<FakeResponse(const FakeRequest&)> handle;
  // The answer of fail_next(n, status), in the API's error shape.
  std::function<FakeResponse(const FakeRequest&, int status)> failure;
  // The answer of rate_limit_next(); the server adds Retry-After when the fault has one.
  std::function<FakeResponse(const FakeRequest&, const RateLimitFault&)> rate_limited;
  // Reads the fake's own switches of POST /_fake/faults (may be empty).
  std::function<void(const nlohmann::json&)> faults;
  // GET /_fake/state (may be empty: 404).
  std::function<nlohmann::json()> state;
};

class FakeApiServer {
 public:
  struct Options {
    std::string listen_address = "127.0.0.1";
    std::uint16_t port = 0;         // 0: any free port
    std::string name = "fake-api";  // the Server header and error texts
  };

  // Starts serving; throws std::runtime_error when it cannot listen. The hooks run on the
  // server thread, under mutex().
  FakeApiServer(Options options, FakeApiHooks hooks);
  ~FakeApiServer();  // stops the server thread
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  std::uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:PORT"
  std::recursive_mutex& mutex() const;

  // ---- generic faults: each "next n" counter is consumed by the next requests ----
  void fail_next(int n, int status = 500);
  void rate_limit_next(int n, std::optional<int> retry_after_s = 1,
                       std::optional<std::int64_t> reset_epoch = std::nullopt);
  void drop_next(int n);  // read the request, close without an answer
  void set_delay(std::chrono::milliseconds d);
  void delay_next(int n, std::chrono::milliseconds d);
  void corrupt_next(int n);  // 200 with a body that is not JSON

  // ---- records ----
  std::vector<RecordedRequest> requests() const;
  std::size_t count(std::string_view method, std::string_view path_prefix) const;
  void clear_requests();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The public face every fake API shares: where it listens, the generic faults and the request
// records, all its FakeApiServer's. A fake derives from it, keeps its API's state in an object
// with the hook members (handle, failure, rate_limited, faults, state) and serves it.
class FakeApi {
 public:
  FakeApi(const FakeApi&) = delete;
  FakeApi& operator=(const FakeApi&) = delete;

  std::uint16_t port() const;
  std::string url() const;  // "http://127.0.0.1:PORT"

  // ---- generic faults ("next n" counters are consumed by the requests they apply to) ----
  void fail_next(int n, int status = 500);  // any request: `status` in the API's error shape
  // 429 in the API's shape, with Retry-After when set; reset_epoch (else now + 60s) for the
  // fakes whose API sends a reset time.
  void rate_limit_next(int n, std::optional<int> retry_after_s = 1,
                       std::optional<std::int64_t> reset_epoch = std::nullopt);
  void drop_next(int n);                                // read the request, close without an answer
  void set_delay(std::chrono::milliseconds d);          // before every answer
  void delay_next(int n, std::chrono::milliseconds d);  // before the next n answers
  void corrupt_next(int n);                             // 200 with a body that is not JSON

  // ---- records ----
  std::vector<RecordedRequest> requests() const;
  // Requests whose method matches and whose path starts with `path_prefix`.
  std::size_t count(std::string_view method, std::string_view path_prefix) const;
  void clear_requests();

 protected:
  FakeApi() = default;
  ~FakeApi();

  // Starts serving `state`'s API on its own thread (throws std::runtime_error when it cannot
  // listen); `name` is the Server header. The fake's constructor calls it once `state` exists.
  template <typename State>
  void serve(std::string name, std::string listen_address, std::uint16_t port, State* state) {
    FakeApiHooks hooks;
    hooks.handle = [state](const FakeRequest& r) { return state->handle(r); };
    hooks.failure = [state](const FakeRequest& r, int status) { return state->failure(r, status); };
    hooks.rate_limited = [state](const FakeRequest& r, const RateLimitFault& f) {
      return state->rate_limited(r, f);
    };
    hooks.faults = [state](const nlohmann::json& f) { state->faults(f); };
    hooks.state = [state] { return state->state(); };
    start(FakeApiServer::Options{std::move(listen_address), port, std::move(name)},
          std::move(hooks));
  }
  // Stops the server thread. The fake's destructor calls it first: the hooks use its state.
  void stop();
  // Guards the fake's state against the server thread.
  std::recursive_mutex& mutex() const;

 private:
  void start(FakeApiServer::Options options, FakeApiHooks hooks);

  std::unique_ptr<FakeApiServer> server_;
};

// ---- helpers shared by the fakes ----

// An integer switch of POST /_fake/faults: `out` takes f[key] when that is an integer.
void read_fault(const nlohmann::json& f, const char* key, int& out);

std::string iso8601_now();
std::int64_t epoch_now();
// "a%20b" -> "a b"; invalid escapes are kept as they are.
std::string percent_decode(std::string_view s);
// The numeric form of a dotted quad (0 when not an address).
std::uint64_t ip_number(const std::string& ip);
// A positive integer path segment ("42"), else nullopt.
std::optional<std::uint64_t> parse_id(std::string_view s);

}  // namespace failoverd::cloud::testing
