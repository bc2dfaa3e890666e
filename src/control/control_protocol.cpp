#include "failoverd/control/control_protocol.h"

#include <algorithm>
#include <limits>

#include "failoverd/util/json_depth.h"

namespace failoverd::control {

using nlohmann::json;

namespace {

// Error texts echo client input; keep them one short line whatever the client sent.
std::string quote_short(std::string_view s, std::size_t max = 64) {
  std::string out =
      json(std::string(s.substr(0, max))).dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > max) out.insert(out.size() - 1, "...");
  return out;
}

std::string_view strip_line_end(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the rest is useful.
std::string parse_error_text(const json::exception& e) {
  std::string_view what = e.what();
  if (const auto pos = what.find("] "); what.starts_with("[json.exception") && pos != what.npos)
    what.remove_prefix(pos + 2);
  constexpr std::size_t kMax = 200;
  std::string out(what.substr(0, kMax));
  if (what.size() > kMax) out += "...";
  return out;
}

// Both ends read lines from the other side through this: whatever the bytes, the result is a
// value or a reason, never an exception (a number such as 1e400 throws out_of_range, not
// parse_error) and never a document deep enough to exhaust the stack when copied or dumped.
util::Expected<json, std::string> parse_json(std::string_view text) {
  if (util::json_nesting_exceeds(text))
    return util::unexpected("malformed JSON: nested deeper than " +
                            std::to_string(util::kMaxJsonDepth) + " levels");
  try {
    return json::parse(text);
  } catch (const json::exception& e) {
    return util::unexpected("malformed JSON: " + parse_error_text(e));
  }
}

std::string dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool is_known_command(std::string_view command) {
  return std::find(kCommands.begin(), kCommands.end(), command) != kCommands.end();
}

std::string known_commands_text() {
  std::string out;
  for (const auto c : kCommands) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

bool is_hold_ms(const json& v) {
  return (v.is_number_unsigned() || v.is_number_integer()) && v >= 0 && v <= kMaxFailoverHoldMs;
}

// Each command's arguments; an unknown argument is an error so that a newer client talking
// to an older daemon hears about it instead of being silently ignored.
std::optional<std::string> check_args(const std::string& command, const json& args) {
  if (command == "maintenance") {
    const auto it = args.find("enabled");
    if (it == args.end() || !it->is_boolean())
      return "maintenance needs args {\"enabled\": true|false}";
    for (const auto& [key, value] : args.items())
      if (key != "enabled") return "maintenance: unknown argument " + quote_short(key);
    return std::nullopt;
  }
  if (command == "failover") {
    // Optional: how long the resigned node does not preempt back (the daemon's default: 60 s).
    for (const auto& [key, value] : args.items()) {
      if (key != "hold_ms") return "failover: unknown argument " + quote_short(key);
      if (!is_hold_ms(value)) {
        return "failover: \"hold_ms\" must be an integer of milliseconds, 0.." +
               std::to_string(kMaxFailoverHoldMs);
      }
    }
    return std::nullopt;
  }
  if (!args.empty())
    return command + " takes no arguments (got " + quote_short(args.begin().key()) + ")";
  return std::nullopt;
}

bool is_counter(const json& v) {
  return v.is_number_unsigned() || (v.is_number_integer() && v >= 0);
}

// Typed field access for status_from_json: the first problem wins and names the key.
class Reader {
 public:
  explicit Reader(const json& j) : j_(j) {}

  const std::optional<std::string>& error() const { return error_; }

  const json* find(const char* key, bool required) {
    const auto it = j_.find(key);
    if (it == j_.end()) {
      if (required) fail(key, "is missing");
      return nullptr;
    }
    return &*it;
  }

  void str(const char* key, std::string& out, bool required = false) {
    if (const json* v = find(key, required)) {
      if (v->is_string())
        out = v->get<std::string>();
      else
        fail(key, "must be a string");
    }
  }
  void opt_str(const char* key, std::optional<std::string>& out, bool required = false) {
    if (const json* v = find(key, required)) {
      if (v->is_null())
        out.reset();
      else if (v->is_string())
        out = v->get<std::string>();
      else
        fail(key, "must be a string or null");
    }
  }
  void integer(const char* key, int& out, bool required = false) {
    if (const json* v = find(key, required)) {
      if (v->is_number_integer() && *v >= std::numeric_limits<int>::min() &&
          *v <= std::numeric_limits<int>::max())
        out = v->get<int>();
      else
        fail(key, "must be an integer");
    }
  }
  void counter(const char* key, std::uint64_t& out, bool required = false) {
    if (const json* v = find(key, required)) {
      if (is_counter(*v))
        out = v->get<std::uint64_t>();
      else
        fail(key, "must be a non-negative integer");
    }
  }
  void number(const char* key, double& out, bool required = false) {
    if (const json* v = find(key, required)) {
      if (v->is_number())
        out = v->get<double>();
      else
        fail(key, "must be a number");
    }
  }
  void boolean(const char* key, bool& out, bool required = false) {
    if (const json* v = find(key, required)) {
      if (v->is_boolean())
        out = v->get<bool>();
      else
        fail(key, "must be true or false");
    }
  }
  void fail(const std::string& key, const std::string& why) {
    if (!error_) error_ = "\"" + key + "\" " + why;
  }

 private:
  const json& j_;
  std::optional<std::string> error_;
};

}  // namespace

util::Expected<Request, std::string> parse_request(std::string_view line) {
  auto parsed = parse_json(strip_line_end(line));
  if (!parsed) return util::unexpected(parsed.error());
  const json& j = *parsed;
  if (!j.is_object()) return util::unexpected(std::string("request must be a JSON object"));

  const auto version = j.find("version");
  if (version == j.end()) return util::unexpected(std::string("request has no \"version\""));
  if (!version->is_number_integer())
    return util::unexpected(std::string("\"version\" must be an integer"));
  if (*version != kProtocolVersion)
    return util::unexpected("unsupported protocol version " + dump(*version) +
                            " (this failoverd speaks " + std::to_string(kProtocolVersion) + ")");

  const auto command = j.find("command");
  if (command == j.end()) return util::unexpected(std::string("request has no \"command\""));
  if (!command->is_string()) return util::unexpected(std::string("\"command\" must be a string"));
  Request request;
  request.command = command->get<std::string>();
  if (!is_known_command(request.command))
    return util::unexpected("unknown command " + quote_short(request.command) +
                            " (known: " + known_commands_text() + ")");

  if (const auto args = j.find("args"); args != j.end() && !args->is_null()) {
    if (!args->is_object()) return util::unexpected(std::string("\"args\" must be an object"));
    request.args = *args;
  }
  if (auto problem = check_args(request.command, request.args))
    return util::unexpected(std::move(*problem));
  return request;
}

std::string format_request(const Request& request) {
  json j = {{"version", request.version}, {"command", request.command}};
  if (!request.args.is_null() && !request.args.empty()) j["args"] = request.args;
  return dump(j) + "\n";
}

std::string format_response(const Outcome& outcome) {
  if (!outcome) return format_error_response(outcome.error());
  return dump(json{{"version", kProtocolVersion}, {"ok", true}, {"result", *outcome}}) + "\n";
}

std::string format_error_response(std::string_view error) {
  return dump(json{{"version", kProtocolVersion}, {"ok", false}, {"error", error}}) + "\n";
}

util::Expected<Response, std::string> parse_response(std::string_view line) {
  auto parsed = parse_json(strip_line_end(line));
  if (!parsed) return util::unexpected(parsed.error());
  const json& j = *parsed;
  if (!j.is_object()) return util::unexpected(std::string("answer is not a JSON object"));
  const auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer())
    return util::unexpected(std::string("answer has no integer \"version\""));
  if (*version != kProtocolVersion)
    return util::unexpected("answer has protocol version " + dump(*version) +
                            ", failoverctl speaks " + std::to_string(kProtocolVersion));
  const auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean())
    return util::unexpected(std::string("answer has no boolean \"ok\""));
  Response response;
  response.ok = ok->get<bool>();
  if (response.ok) {
    const auto result = j.find("result");
    if (result == j.end()) return util::unexpected(std::string("answer has no \"result\""));
    response.result = *result;
  } else {
    const auto error = j.find("error");
    if (error == j.end() || !error->is_string())
      return util::unexpected(std::string("error answer has no string \"error\""));
    response.error = error->get<std::string>();
  }
  return response;
}

json to_json(const Status& s) {
  json checks = json::array();
  for (const auto& c : s.checks)
    checks.push_back({{"name", c.name},
                      {"type", c.type},
                      {"ok", c.ok},
                      {"detail", c.detail},
                      {"last_run", c.last_run ? json(*c.last_run) : json(nullptr)},
                      {"consecutive_passes", c.consecutive_passes},
                      {"consecutive_failures", c.consecutive_failures}});
  json reserved_ip = nullptr;
  if (s.reserved_ip) {
    const auto& r = *s.reserved_ip;
    reserved_ip = {{"address", r.address},
                   {"provider", r.provider},
                   {"holder", r.holder ? json(*r.holder) : json(nullptr)},
                   {"last_claim", r.last_claim ? json(*r.last_claim) : json(nullptr)}};
  }
  json drops = json::object();
  for (const auto& [reason, count] : s.drops) drops[reason] = count;
  return {
      // the stable keys (docs/control-protocol.md)
      {"name", s.name},
      {"state", s.state},
      {"priority", s.priority},
      {"effective_priority", s.effective_priority},
      {"virtual_router_id", s.virtual_router_id},
      {"master", s.master ? json(*s.master) : json(nullptr)},
      {"checks", std::move(checks)},
      {"reserved_ip", std::move(reserved_ip)},
      {"maintenance", s.maintenance},
      // extras
      {"transport", s.transport},
      {"interface", s.interface},
      {"instant_handover", s.instant_handover},
      {"advert_interval", s.advert_interval},
      {"master_down_interval_ms", s.master_down_interval_ms},
      {"skew_time_ms", s.skew_time_ms},
      {"adverts_sent", s.adverts_sent},
      {"adverts_received", s.adverts_received},
      {"drops", std::move(drops)},
      {"since", s.since},
      {"transitions", s.transitions},
      {"uptime_s", s.uptime_s},
      {"pid", s.pid},
  };
}

util::Expected<Status, std::string> status_from_json(const json& j) {
  if (!j.is_object()) return util::unexpected(std::string("status is not a JSON object"));
  Status s;
  Reader r(j);
  constexpr bool kRequired = true;
  r.str("name", s.name, kRequired);
  r.str("state", s.state, kRequired);
  r.integer("priority", s.priority, kRequired);
  r.integer("effective_priority", s.effective_priority, kRequired);
  r.integer("virtual_router_id", s.virtual_router_id, kRequired);
  r.opt_str("master", s.master, kRequired);
  r.boolean("maintenance", s.maintenance, kRequired);
  if (const json* checks = r.find("checks", kRequired)) {
    if (!checks->is_array()) {
      r.fail("checks", "must be an array");
    } else {
      for (const auto& c : *checks) {
        if (!c.is_object()) {
          r.fail("checks", "must hold objects");
          break;
        }
        Reader cr(c);
        CheckStatus check;
        cr.str("name", check.name, kRequired);
        cr.str("type", check.type, kRequired);
        cr.boolean("ok", check.ok, kRequired);
        cr.str("detail", check.detail);
        cr.opt_str("last_run", check.last_run);
        cr.integer("consecutive_passes", check.consecutive_passes);
        cr.integer("consecutive_failures", check.consecutive_failures);
        if (cr.error()) {
          r.fail("checks", "entry: " + *cr.error());
          break;
        }
        s.checks.push_back(std::move(check));
      }
    }
  }
  if (const json* rip = r.find("reserved_ip", kRequired); rip && !rip->is_null()) {
    if (!rip->is_object()) {
      r.fail("reserved_ip", "must be an object or null");
    } else {
      Reader rr(*rip);
      ReservedIpStatus out;
      rr.str("address", out.address, kRequired);
      rr.str("provider", out.provider);
      rr.opt_str("holder", out.holder);
      rr.opt_str("last_claim", out.last_claim);
      if (rr.error())
        r.fail("reserved_ip", "entry: " + *rr.error());
      else
        s.reserved_ip = std::move(out);
    }
  }
  r.str("transport", s.transport);
  r.str("interface", s.interface);
  r.boolean("instant_handover", s.instant_handover);
  r.str("advert_interval", s.advert_interval);
  r.number("master_down_interval_ms", s.master_down_interval_ms);
  r.number("skew_time_ms", s.skew_time_ms);
  r.counter("adverts_sent", s.adverts_sent);
  r.counter("adverts_received", s.adverts_received);
  if (const json* drops = r.find("drops", false)) {
    if (!drops->is_object())
      r.fail("drops", "must be an object");
    else
      for (const auto& [reason, count] : drops->items()) {
        if (!is_counter(count)) {
          r.fail("drops", "counts must be non-negative integers");
          break;
        }
        s.drops[reason] = count.get<std::uint64_t>();
      }
  }
  r.str("since", s.since);
  r.counter("transitions", s.transitions);
  r.number("uptime_s", s.uptime_s);
  r.integer("pid", s.pid);
  if (r.error()) return util::unexpected("status: " + *r.error());
  return s;
}

}  // namespace failoverd::control
