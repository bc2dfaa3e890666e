#include "failoverd/health/docker_check.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "failoverd/http/easy.h"
#include "failoverd/util/duration.h"
#include "failoverd/util/untrusted_json.h"

namespace failoverd::health {

using nlohmann::json;

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~';
    if (unreserved) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

std::string docker_name_regex(std::string_view name) {
  // The engine matches the name filter as an unanchored regular expression against the
  // container's name, which carries a leading "/" ("/db"): "db" alone would also match
  // "/db-backup" and "/mydb". Anchor it and escape what a regexp would read as syntax.
  std::string out = "^/?";
  for (char c : name) {
    if (std::string_view(".+*?()|[]{}^$\\").find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  out += '$';
  return out;
}

std::string docker_filters_json(const config::DockerCheckSpec& spec) {
  json filters = json::object();
  filters["status"] = json::array({"running"});
  if (!spec.labels.empty()) filters["label"] = spec.labels;
  if (spec.name) filters["name"] = json::array({docker_name_regex(*spec.name)});
  // Replace: a config value is not guaranteed to be valid UTF-8, and dump() would throw.
  return filters.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string docker_containers_target(std::string_view api_version,
                                     const config::DockerCheckSpec& spec) {
  return "/v" + std::string(api_version) +
         "/containers/json?filters=" + percent_encode(docker_filters_json(spec));
}

namespace {

bool is_api_version(const std::string& v) {
  const auto dot = v.find('.');
  if (dot == std::string::npos || dot == 0 || dot > 3 || v.size() - dot - 1 == 0 ||
      v.size() - dot - 1 > 3) {
    return false;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != dot && (v[i] < '0' || v[i] > '9')) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> parse_api_version(std::string_view header_value) {
  std::string v(header_value);
  if (!is_api_version(v)) return std::nullopt;
  return v;
}

namespace {

// Counts while parsing (nlohmann's SAX interface): no document is built, which makes a
// 100-container listing several times cheaper than parsing it into a json value first.
// Depth 0 is outside everything, 1 inside the root array, 2 inside a container object, 3 inside
// its Labels object.
class Counter final : public json::json_sax_t {
 public:
  explicit Counter(const config::DockerCheckSpec& spec) : name_(spec.name) {
    for (const auto& f : spec.labels) {
      const auto eq = f.find('=');
      filters_.push_back({f.substr(0, eq), eq == std::string::npos
                                                ? std::nullopt
                                                : std::optional<std::string>(f.substr(eq + 1))});
    }
    matched_.resize(filters_.size());
  }

  int running() const { return running_; }
  const std::string& error() const { return error_; }

  bool null() override { return scalar("null", nullptr); }
  bool boolean(bool) override { return scalar("a boolean", nullptr); }
  bool number_integer(number_integer_t) override { return scalar("a number", nullptr); }
  bool number_unsigned(number_unsigned_t) override { return scalar("a number", nullptr); }
  bool number_float(number_float_t, const string_t&) override {
    return scalar("a number", nullptr);
  }
  bool string(string_t& val) override { return scalar("a string", &val); }
  bool binary(binary_t&) override { return scalar("binary", nullptr); }

  bool start_object(std::size_t) override {
    if (depth_ == 0) return fail_root("an object");
    if (depth_ == 1) {
      in_entry_ = true;
      state_running_ = true;
      name_matched_ = !name_;
      std::fill(matched_.begin(), matched_.end(), false);
    } else if (depth_ == 2 && take_key() == Key::kLabels) {
      in_labels_ = true;
    }
    pending_ = Key::kNone;
    ++depth_;
    return true;
  }
  bool end_object() override {
    --depth_;
    if (depth_ == 2) in_labels_ = false;
    if (depth_ == 1 && in_entry_) {
      in_entry_ = false;
      ++entries_;
      if (state_running_ && name_matched_ &&
          std::all_of(matched_.begin(), matched_.end(), [](bool m) { return m; })) {
        ++running_;
      }
    }
    return true;
  }
  bool start_array(std::size_t) override {
    if (depth_ == 1) return fail_entry("an array");
    if (depth_ == 2 && take_key() == Key::kNames) in_names_ = true;
    pending_ = Key::kNone;
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    if (depth_ == 2) in_names_ = false;
    return true;
  }
  bool key(string_t& val) override {
    if (depth_ == 2) {
      pending_ = val == "State"    ? Key::kState
                 : val == "Labels" ? Key::kLabels
                 : val == "Names"  ? Key::kNames
                                   : Key::kNone;
    } else if (depth_ == 3 && in_labels_) {
      label_key_ = val;
      pending_ = Key::kLabel;
    }
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    if (error_.empty()) error_ = "not JSON";
    return false;
  }

 private:
  enum class Key { kNone, kState, kLabels, kLabel, kNames };
  struct Filter {
    std::string key;
    std::optional<std::string> value;  // nullopt: the key alone must be present
  };

  Key take_key() { return std::exchange(pending_, Key::kNone); }

  bool scalar(const char* kind, const std::string* text) {
    if (depth_ == 0) return fail_root(kind);
    if (depth_ == 1) return fail_entry(kind);
    // The name filter is checked again on "Names" (["/db"]): exactly the configured name, with
    // or without the leading "/" the engine gives it. A container without Names does not count.
    if (depth_ == 3 && in_names_ && name_ && text != nullptr &&
        (*text == *name_ || *text == "/" + *name_)) {
      name_matched_ = true;
    }
    const Key k = take_key();
    // The engine was asked for running containers only; a State saying otherwise is trusted.
    if (depth_ == 2 && k == Key::kState && text != nullptr && *text != "running") {
      state_running_ = false;
    }
    if (depth_ == 3 && k == Key::kLabel) {
      for (std::size_t i = 0; i < filters_.size(); ++i) {
        if (filters_[i].key == label_key_ &&
            (!filters_[i].value || (text != nullptr && *text == *filters_[i].value))) {
          matched_[i] = true;
        }
      }
    }
    return true;
  }
  bool fail_root(const char* kind) {
    error_ = std::string("response is ") + kind + ", not an array of containers";
    return false;
  }
  bool fail_entry(const char* kind) {
    error_ = "container entry " + std::to_string(entries_) + " is " + kind + ", not an object";
    return false;
  }

  std::optional<std::string> name_;
  std::vector<Filter> filters_;
  std::vector<bool> matched_;
  bool in_names_ = false;
  bool name_matched_ = true;
  int depth_ = 0;
  bool in_entry_ = false;
  bool in_labels_ = false;
  bool state_running_ = true;
  Key pending_ = Key::kNone;
  std::string label_key_;
  int running_ = 0;
  int entries_ = 0;
  std::string error_;
};

}  // namespace

util::Expected<int, std::string> count_running_containers(std::string_view body,
                                                          const config::DockerCheckSpec& spec) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return util::unexpected(std::string("response body is empty"));
  }
  Counter counter(spec);
  if (json::sax_parse(body, &counter)) return counter.running();
  if (counter.error() == "not JSON") {
    return util::unexpected("response is not JSON: \"" + one_line(body.substr(0, 60), 40) + "\"");
  }
  return util::unexpected(counter.error());
}

std::string describe_docker_filters(const config::DockerCheckSpec& spec) {
  std::string out;
  for (const auto& label : spec.labels) {
    if (!out.empty()) out += ", ";
    out += "label " + label;
  }
  if (spec.name) {
    if (!out.empty()) out += ", ";
    out += "name " + *spec.name;
  }
  return out.empty() ? "all containers" : out;
}

CheckResult judge_container_count(int running, const config::DockerCheckSpec& spec) {
  CheckResult r;
  r.ok = running >= spec.min_running;
  const std::string filters = " (" + describe_docker_filters(spec) + ")";
  if (r.ok) {
    r.detail = std::to_string(running) + (running == 1 ? " container" : " containers") +
               " running, " + std::to_string(spec.min_running) + " required" + filters;
  } else {
    r.detail = std::to_string(running) + " of " + std::to_string(spec.min_running) +
               " required containers running" + filters;
  }
  r.detail = one_line(r.detail, 300);
  return r;
}

std::string docker_error_detail(long status, std::string_view body) {
  std::string out = "HTTP " + std::to_string(status);
  const auto parsed = util::parse_untrusted_json(body);
  if (parsed && parsed->is_object()) {
    const json& j = *parsed;
    const auto it = j.find("message");
    if (it != j.end() && it->is_string()) {
      return one_line(out + ": " + it->get_ref<const std::string&>(), 300);
    }
  }
  if (!body.empty()) out += ": " + one_line(body.substr(0, 400), 200);
  return out;
}

// ---- DockerCheck ----

struct DockerCheck::Curl {
  http::Easy easy;
};

DockerCheck::DockerCheck(config::DockerCheckSpec spec, std::chrono::microseconds timeout)
    : spec_(std::move(spec)), timeout_(timeout) {}

DockerCheck::~DockerCheck() = default;

namespace {

using Clock = std::chrono::steady_clock;

std::string describe_error(const http::Error& e, const std::string& socket,
                           std::chrono::microseconds timeout) {
  switch (e.kind) {
    case http::ErrorKind::kConnect:
      if (e.os_errno != 0) return "docker socket " + socket + ": " + std::strerror(e.os_errno);
      return "docker socket " + socket + ": cannot connect";
    case http::ErrorKind::kTimeout:
      return "docker API on " + socket + " did not answer within " +
             util::format_duration(timeout);
    case http::ErrorKind::kClosed:
      return "docker API closed the connection mid-response (" + e.message + ")";
    default:
      return "docker API: " + e.message;
  }
}

}  // namespace

CheckResult DockerCheck::run() {
  const auto start = Clock::now();
  const auto deadline = start + timeout_;
  auto finish = [&](CheckResult r) {
    r.detail = one_line(r.detail, 400);
    r.duration = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start);
    return r;
  };
  auto fail = [&](std::string detail) { return finish(CheckResult{false, std::move(detail), {}}); };
  auto remaining = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  };

  // curl says only "Couldn't connect" for a missing socket; stat() says why.
  struct stat st {};
  if (::stat(spec_.socket.c_str(), &st) != 0) {
    return fail("docker socket " + spec_.socket + ": " + std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) return fail("docker socket " + spec_.socket + ": not a socket");

  // The handle (and libcurl itself, loaded on first use) is made on the first run, on the
  // check's worker thread: loading libcurl takes tens of milliseconds that must not delay the
  // daemon's start-up or its event loop.
  if (!curl_) {
    auto easy = http::Easy::open();
    if (!easy) return fail("cannot use libcurl: " + easy.error().message);
    curl_ = std::make_unique<Curl>(Curl{std::move(*easy)});
  }
  http::Request req;
  req.unix_socket = spec_.socket;
  req.max_body = kDockerMaxBody;
  req.proxy_from_environment = false;  // a local socket
  req.user_agent = "failoverd-health";

  if (!api_version_) {
    req.url = "http://localhost/_ping";
    req.timeout = remaining();
    auto ping = curl_->easy.perform(req);
    if (!ping) return fail(describe_error(ping.error(), spec_.socket, timeout_));
    const std::string version = ping->header("api-version").value_or("").substr(0, 64);
    api_version_ = parse_api_version(version).value_or(std::string(kFallbackDockerApiVersion));
  }

  req.url = "http://localhost" + docker_containers_target(*api_version_, spec_);
  req.timeout = remaining();
  if (req.timeout.count() <= 0) {
    return fail("docker API on " + spec_.socket + " did not answer within " +
                util::format_duration(timeout_));
  }
  auto listing = curl_->easy.perform(req);
  if (!listing && listing.error().kind == http::ErrorKind::kBodyTooLarge) {
    return fail("docker API answer is larger than " + std::to_string(kDockerMaxBody >> 20) +
                " MiB; refused");
  }
  if (!listing) return fail(describe_error(listing.error(), spec_.socket, timeout_));
  if (listing->status != 200) {
    api_version_.reset();  // maybe "client version too old/new": negotiate again next time
    return fail("docker API: " + docker_error_detail(listing->status, listing->body));
  }
  const auto count = count_running_containers(listing->body, spec_);
  if (!count) return fail("docker API: " + count.error());
  return finish(judge_container_count(*count, spec_));
}

}  // namespace failoverd::health
