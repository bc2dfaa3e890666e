#include "fake_cloudflare.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <nlohmann/json.hpp>

namespace failoverd::cloud::testing {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

constexpr std::string_view kPrefix = "/client/v4";

}  // namespace

struct FakeCloudflare::Impl {
  struct Record {
    std::string id;
    std::string type;
    std::string name;
    std::string content;
    bool proxied = false;
    int ttl = 60;
    std::string comment;
    std::string created_on;
    std::string modified_on;
  };
  struct Zone {
    std::string name;
    std::map<std::string, Record> records;  // by id
  };

  Options options;
  std::map<std::string, Zone> zones;
  std::uint64_t next_record = 0x372e67954025e0baULL;
  std::vector<FakeDnsChange> history;
  int ratelimit_remaining = 1200;
  int ignore_patches_n = 0;
  int envelope_fail_n = 0;
  int envelope_fail_code = 0;
  std::string envelope_fail_message;

  static FakeResponse envelope(int status, json result, json result_info = nullptr) {
    json body = {{"success", true},
                 {"errors", json::array()},
                 {"messages", json::array()},
                 {"result", std::move(result)}};
    if (!result_info.is_null()) body["result_info"] = std::move(result_info);
    return FakeResponse::json(status, body);
  }

  static FakeResponse error(int status, int code, const std::string& message) {
    return FakeResponse::json(status,
                              {{"success", false},
                               {"errors", json::array({{{"code", code}, {"message", message}}})},
                               {"messages", json::array()},
                               {"result", nullptr}});
  }

  void ratelimit_headers(FakeResponse& r, bool exhausted) {
    if (ratelimit_remaining > 0) --ratelimit_remaining;
    r.header("Ratelimit",
             "\"default\";r=" + std::to_string(exhausted ? 0 : ratelimit_remaining) + ";t=300");
    r.header("Ratelimit-Policy", "\"default\";q=1200;w=300");
  }

  std::string new_id() {
    static constexpr char kHex[] = "0123456789abcdef";
    next_record = next_record * 6364136223846793005ULL + 1442695040888963407ULL;
    std::uint64_t a = next_record;
    std::uint64_t b = next_record * 0x9e3779b97f4a7c15ULL;
    std::string id;
    for (int i = 0; i < 16; ++i, a >>= 4) id += kHex[a & 0xf];
    for (int i = 0; i < 16; ++i, b >>= 4) id += kHex[b & 0xf];
    return id;
  }

  static json record_json(const std::string& zone_id, const Zone& z, const Record& r) {
    return {{"id", r.id},
            {"zone_id", zone_id},
            {"zone_name", z.name},
            {"name", r.name},
            {"type", r.type},
            {"content", r.content},
            {"proxiable", r.type == "A" || r.type == "AAAA" || r.type == "CNAME"},
            {"proxied", r.proxied},
            {"ttl", r.ttl},
            {"settings", json::object()},
            {"meta", json::object()},
            {"comment", r.comment.empty() ? json(nullptr) : json(r.comment)},
            {"tags", json::array()},
            {"created_on", r.created_on},
            {"modified_on", r.modified_on}};
  }

  FakeResponse list(const std::string& zone_id, const Zone& z, const FakeRequest& req) {
    auto param = [&](const char* key) -> std::optional<std::string> {
      auto it = req.query.find(key);
      if (it == req.query.end()) return std::nullopt;
      return it->second;
    };
    long page = 1;
    long per_page = 100;
    try {
      if (auto p = param("page")) page = std::stol(*p);
      if (auto p = param("per_page")) per_page = std::stol(*p);
    } catch (const std::exception&) {
      return error(400, 1004, "DNS Validation Error");
    }
    if (page < 1 || per_page < 1 || per_page > 5000) {
      return error(400, 1004, "DNS Validation Error");
    }
    auto name = param("name");
    if (!name) name = param("name.exact");
    const auto type = param("type");
    std::vector<const Record*> match;
    for (const auto& [id, r] : z.records) {
      if (type && r.type != *type) continue;
      if (name && lower(r.name) != lower(*name)) continue;
      match.push_back(&r);
    }
    json result = json::array();
    const long total = static_cast<long>(match.size());
    for (long i = (page - 1) * per_page; i < std::min(total, page * per_page); ++i) {
      result.push_back(record_json(zone_id, z, *match[static_cast<std::size_t>(i)]));
    }
    const long count = static_cast<long>(result.size());
    // result_info as the schema has it: total_count is the total "without any search
    // parameters", i.e. every record of the zone, however few match type and name.
    json info = {{"page", page},
                 {"per_page", per_page},
                 {"count", count},
                 {"total_count", static_cast<long>(z.records.size())}};
    return envelope(200, std::move(result), std::move(info));
  }

  FakeResponse patch(const std::string& zone_id, Zone& z, Record& r, const FakeRequest& req) {
    const json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return error(400, 9207, "Request body is invalid.");
    }
    Record next = r;
    if (body.contains("content")) {
      if (!body["content"].is_string()) return error(400, 9005, "Content is invalid.");
      next.content = body["content"].get<std::string>();
      if (next.type == "A" && ip_number(next.content) == 0 && next.content != "0.0.0.0") {
        return error(400, 9005, "Content for A record must be a valid IPv4 address.");
      }
    }
    if (body.contains("ttl")) {
      const int ttl = body["ttl"].is_number_integer() ? body["ttl"].get<int>() : -1;
      if (ttl != 1 && (ttl < 60 || ttl > 86400)) {
        return error(400, 9021,
                     "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.");
      }
      next.ttl = ttl;
    }
    if (body.contains("proxied")) {
      if (!body["proxied"].is_boolean()) return error(400, 9003, "Invalid 'proxied' value.");
      next.proxied = body["proxied"].get<bool>();
    }
    if (body.contains("comment") && body["comment"].is_string()) {
      next.comment = body["comment"].get<std::string>();
    }
    if (ignore_patches_n > 0) {  // answers success, changes nothing
      --ignore_patches_n;
      return envelope(200, record_json(zone_id, z, r));
    }
    next.modified_on = iso8601_now();
    if (next.content != r.content)
      history.push_back({zone_id, r.id, r.name, r.content, next.content});
    r = next;
    return envelope(200, record_json(zone_id, z, r));
  }

  FakeResponse route(const FakeRequest& req) {
    static constexpr std::string_view kZones = "/zones/";
    const std::string path = req.path.substr(kPrefix.size());
    if (!path.starts_with(kZones)) return error(400, 7000, "No route for that URI");
    std::string rest = path.substr(kZones.size());
    const std::string zone_id = rest.substr(0, rest.find('/'));
    rest = rest.substr(zone_id.size());
    auto zit = zones.find(zone_id);
    if (zit == zones.end()) {
      return error(
          400, 7003,
          "Could not route to " + req.path + ", perhaps your object identifier is invalid?");
    }
    Zone& z = zit->second;
    static constexpr std::string_view kRecords = "/dns_records";
    if (rest == kRecords && req.method == "GET") return list(zone_id, z, req);
    if (rest.starts_with(std::string(kRecords) + "/")) {
      const std::string id = rest.substr(kRecords.size() + 1);
      auto rit = z.records.find(id);
      if (rit == z.records.end()) return error(404, 81044, "Record does not exist.");
      if (req.method == "GET") return envelope(200, record_json(zone_id, z, rit->second));
      if (req.method == "PATCH") return patch(zone_id, z, rit->second, req);
      return error(405, 10405, "Method not allowed");
    }
    return error(400, 7000, "No route for that URI");
  }

  FakeResponse handle(const FakeRequest& req) {
    if (!req.path.starts_with(std::string(kPrefix) + "/")) {
      return error(400, 7000, "No route for that URI");
    }
    FakeResponse r;
    if (req.authorization != "Bearer " + options.token) {
      r = error(403, 9109, "Invalid access token");
    } else if (envelope_fail_n > 0) {
      --envelope_fail_n;
      r = error(200, envelope_fail_code, envelope_fail_message);
    } else {
      r = route(req);
    }
    ratelimit_headers(r, false);
    return r;
  }

  FakeResponse failure(const FakeRequest&, int status) {
    FakeResponse r = status == 401   ? error(401, 10000, "Authentication error")
                     : status == 403 ? error(403, 9109, "Unauthorized to access requested resource")
                     : status >= 500 ? error(status, 10002, "Internal server error")
                                     : error(status, 1004, "DNS Validation Error");
    ratelimit_headers(r, false);
    return r;
  }

  FakeResponse rate_limited(const FakeRequest&, const RateLimitFault&) {
    FakeResponse r = error(429, 971, "Please wait and consider throttling your request speed");
    ratelimit_headers(r, true);
    return r;
  }

  void faults(const json& f) {
    read_fault(f, "ignore_next_patches", ignore_patches_n);
  }

  json state() const {
    json s = {{"zones", json::array()}, {"changes", json::array()}};
    for (const auto& [zone_id, z] : zones) {
      json records = json::array();
      for (const auto& [id, r] : z.records) records.push_back(record_json(zone_id, z, r));
      s["zones"].push_back({{"id", zone_id}, {"name", z.name}, {"records", records}});
    }
    for (const auto& c : history) {
      s["changes"].push_back({{"zone_id", c.zone_id},
                              {"record_id", c.record_id},
                              {"name", c.name},
                              {"from", c.from},
                              {"to", c.to}});
    }
    return s;
  }
};

FakeCloudflare::FakeCloudflare() : FakeCloudflare(Options{}) {}

FakeCloudflare::FakeCloudflare(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  serve("fake-cloudflare", impl_->options.listen_address, impl_->options.port, impl_.get());
}

FakeCloudflare::~FakeCloudflare() {
  stop();  // before the state its thread uses goes away
}

std::string FakeCloudflare::api_url() const {
  return url() + std::string(kPrefix);
}

void FakeCloudflare::add_zone(const std::string& zone_id, const std::string& zone_name) {
  std::lock_guard lock(mutex());
  impl_->zones[zone_id].name = zone_name;
}

std::string FakeCloudflare::add_record(const std::string& zone_id, const std::string& type,
                                       const std::string& name, const std::string& content,
                                       bool proxied, int ttl) {
  std::lock_guard lock(mutex());
  Impl::Zone& z = impl_->zones[zone_id];
  if (z.name.empty()) {
    const std::size_t dot = name.find('.');
    z.name = dot == std::string::npos ? name : name.substr(dot + 1);
  }
  Impl::Record r;
  r.id = impl_->new_id();
  r.type = type;
  r.name = name;
  r.content = content;
  r.proxied = proxied;
  r.ttl = ttl;
  r.created_on = r.modified_on = iso8601_now();
  z.records[r.id] = r;
  return r.id;
}

void FakeCloudflare::set_content(const std::string& zone_id, const std::string& record_id,
                                 const std::string& content) {
  std::lock_guard lock(mutex());
  auto z = impl_->zones.find(zone_id);
  if (z == impl_->zones.end()) return;
  auto r = z->second.records.find(record_id);
  if (r != z->second.records.end()) r->second.content = content;
}

void FakeCloudflare::remove_record(const std::string& zone_id, const std::string& record_id) {
  std::lock_guard lock(mutex());
  auto z = impl_->zones.find(zone_id);
  if (z != impl_->zones.end()) z->second.records.erase(record_id);
}

std::optional<std::string> FakeCloudflare::content(const std::string& zone_id,
                                                   const std::string& record_id) const {
  std::lock_guard lock(mutex());
  auto z = impl_->zones.find(zone_id);
  if (z == impl_->zones.end()) return std::nullopt;
  auto r = z->second.records.find(record_id);
  if (r == z->second.records.end()) return std::nullopt;
  return r->second.content;
}

std::vector<FakeDnsChange> FakeCloudflare::changes() const {
  std::lock_guard lock(mutex());
  return impl_->history;
}

void FakeCloudflare::set_token(const std::string& token) {
  std::lock_guard lock(mutex());
  impl_->options.token = token;
}

void FakeCloudflare::ignore_next_patches(int n) {
  std::lock_guard lock(mutex());
  impl_->ignore_patches_n = n;
}

void FakeCloudflare::envelope_fail_next(int n, int code, const std::string& message) {
  std::lock_guard lock(mutex());
  impl_->envelope_fail_n = n;
  impl_->envelope_fail_code = code;
  impl_->envelope_fail_message = message;
}

}  // namespace failoverd::cloud::testing
