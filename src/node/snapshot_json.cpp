#include "failoverd/node/snapshot_json.h"

#include <nlohmann/json.hpp>

#include "failoverd/util/untrusted_json.h"

namespace failoverd::node {

using nlohmann::json;

namespace {

json opt_time(const std::optional<core::Time>& t) { return t ? json(t->count()) : json(); }
json opt_str(const std::optional<std::string>& s) { return s ? json(*s) : json(); }

// Reading: every field is required and typed; a wrong one names itself in the error.
struct Reader {
  const json& j;
  std::string path;

  const json& at(const char* key) const {
    const auto it = j.find(key);
    if (it == j.end()) throw std::runtime_error("field \"" + path + key + "\" is missing");
    return *it;
  }
  Reader sub(const char* key) const {
    const json& v = at(key);
    if (!v.is_object()) throw std::runtime_error("field \"" + path + key + "\" is not an object");
    return Reader{v, path + key + "."};
  }
  [[noreturn]] void bad(const char* key, const char* what) const {
    throw std::runtime_error("field \"" + path + key + "\" is not " + what);
  }
  bool boolean(const char* key) const {
    const json& v = at(key);
    if (!v.is_boolean()) bad(key, "a boolean");
    return v.get<bool>();
  }
  std::int64_t integer(const char* key) const {
    const json& v = at(key);
    if (!v.is_number_integer()) bad(key, "an integer");
    return v.get<std::int64_t>();
  }
  std::uint64_t count(const char* key) const {
    const json& v = at(key);
    if (!v.is_number_unsigned()) bad(key, "a count");
    return v.get<std::uint64_t>();
  }
  int small(const char* key, int lo, int hi) const {
    const auto v = integer(key);
    if (v < lo || v > hi) bad(key, ("within " + std::to_string(lo) + ".." + std::to_string(hi)).c_str());
    return static_cast<int>(v);
  }
  std::string str(const char* key) const {
    const json& v = at(key);
    if (!v.is_string()) bad(key, "a string");
    return v.get<std::string>();
  }
  std::optional<std::string> opt_str(const char* key) const {
    if (at(key).is_null()) return std::nullopt;
    return str(key);
  }
  core::Duration micros(const char* key) const { return core::Duration{integer(key)}; }
  std::optional<core::Time> opt_time(const char* key) const {
    if (at(key).is_null()) return std::nullopt;
    return micros(key);
  }
  util::Ipv4 ip(const char* key) const {
    auto a = util::Ipv4::parse(str(key));
    if (!a) bad(key, "an IPv4 address");
    return *a;
  }
  const json& array(const char* key) const {
    const json& v = at(key);
    if (!v.is_array()) bad(key, "an array");
    return v;
  }
};

core::State state_from(const Reader& r, const char* key) {
  const std::string s = r.str(key);
  for (auto st : {core::State::Initialize, core::State::Backup, core::State::Master,
                  core::State::Fault}) {
    if (s == core::to_string(st)) return st;
  }
  r.bad(key, "a state (INIT, BACKUP, MASTER, FAULT)");
}

json instance_json(const core::InstanceSnapshot& s) {
  return {{"state", core::to_string(s.state)},
          {"priority_delta", s.priority_delta},
          {"master_adver_interval_us", s.master_adver_interval.count()},
          {"master_down_timer_us", opt_time(s.master_down_timer)},
          {"adver_timer_us", opt_time(s.adver_timer)},
          {"master_down_from_resign", s.master_down_from_resign},
          {"woke_from_stall", s.woke_from_stall},
          {"stall_silence_us", s.stall_silence.count()},
          {"master_down_from_failover", s.master_down_from_failover},
          {"preempt_allowed_at_us", s.preempt_allowed_at.count()},
          {"master", s.master ? json(s.master->to_string()) : json()},
          {"started", s.started},
          {"maintenance", s.maintenance},
          {"faulted", s.faulted},
          {"fault_reason", s.fault_reason}};
}

core::InstanceSnapshot instance_from(const Reader& r) {
  core::InstanceSnapshot s;
  s.state = state_from(r, "state");
  s.priority_delta = r.small("priority_delta", -100000, 100000);
  s.master_adver_interval = r.micros("master_adver_interval_us");
  s.master_down_timer = r.opt_time("master_down_timer_us");
  s.adver_timer = r.opt_time("adver_timer_us");
  s.master_down_from_resign = r.boolean("master_down_from_resign");
  s.woke_from_stall = r.boolean("woke_from_stall");
  s.stall_silence = r.micros("stall_silence_us");
  s.master_down_from_failover = r.boolean("master_down_from_failover");
  s.preempt_allowed_at = r.micros("preempt_allowed_at_us");
  if (!r.at("master").is_null()) s.master = r.ip("master");
  s.started = r.boolean("started");
  s.maintenance = r.boolean("maintenance");
  s.faulted = r.boolean("faulted");
  s.fault_reason = r.str("fault_reason");
  // A zero interval would make the timers spin.
  if (s.master_adver_interval.count() <= 0) r.bad("master_adver_interval_us", "positive");
  return s;
}

json reserved_json(const ReservedIpSnapshot& s) {
  const auto& p = s.policy;
  return {{"policy",
           {{"master", p.master},
            {"next_check_us", p.next_check.count()},
            {"episode_start_us", p.episode_start.count()},
            {"losses", p.losses},
            {"last_loss_us", opt_time(p.last_loss)},
            {"had_it", p.had_it},
            {"foreign", opt_str(p.foreign)},
            {"foreign_since_us", opt_time(p.foreign_since)},
            {"last_advert_claim_us", opt_time(p.last_advert_claim)}}},
          {"backoff_failures", s.backoff_failures},
          {"backoff_last_ms", s.backoff_last.count()},
          {"started", s.started},
          {"master", s.master},
          {"check_pending", s.check_pending},
          {"retry_at_us", opt_time(s.retry_at)},
          {"holder", opt_str(s.holder)},
          {"last_claim", opt_str(s.last_claim)},
          {"last_failure", opt_str(s.last_failure)},
          {"counters",
           {{"claims", s.counters.claims},
            {"successes", s.counters.successes},
            {"failures", s.counters.failures},
            {"last_latency_ms", s.counters.last_latency.count()}}}};
}

ReservedIpSnapshot reserved_from(const Reader& r) {
  ReservedIpSnapshot s;
  const Reader p = r.sub("policy");
  s.policy.master = p.boolean("master");
  s.policy.next_check = p.micros("next_check_us");
  s.policy.episode_start = p.micros("episode_start_us");
  s.policy.losses = p.small("losses", 0, 1000000);
  s.policy.last_loss = p.opt_time("last_loss_us");
  s.policy.had_it = p.boolean("had_it");
  s.policy.foreign = p.opt_str("foreign");
  s.policy.foreign_since = p.opt_time("foreign_since_us");
  s.policy.last_advert_claim = p.opt_time("last_advert_claim_us");
  s.backoff_failures = r.small("backoff_failures", 0, 1000000);
  s.backoff_last = std::chrono::milliseconds(r.integer("backoff_last_ms"));
  s.started = r.boolean("started");
  s.master = r.boolean("master");
  s.check_pending = r.boolean("check_pending");
  s.retry_at = r.opt_time("retry_at_us");
  s.holder = r.opt_str("holder");
  s.last_claim = r.opt_str("last_claim");
  s.last_failure = r.opt_str("last_failure");
  const Reader c = r.sub("counters");
  s.counters.claims = c.count("claims");
  s.counters.successes = c.count("successes");
  s.counters.failures = c.count("failures");
  s.counters.last_latency = std::chrono::milliseconds(c.integer("last_latency_ms"));
  return s;
}

}  // namespace

std::string format_snapshot(const SnapshotDocument& doc) {
  const NodeSnapshot& s = doc.node;
  json history = json::array();
  for (const auto& h : s.history) {
    history.push_back(
        {{"at_us", std::chrono::duration_cast<std::chrono::microseconds>(h.at.time_since_epoch())
                       .count()},
         {"from", core::to_string(h.from)},
         {"to", core::to_string(h.to)},
         {"reason", h.reason},
         {"claim", opt_str(h.claim)}});
  }
  json transitions_to = json::object();
  for (const auto& [k, v] : s.transitions_to) transitions_to[k] = v;
  const json j = {
      {"failoverd_snapshot", kSnapshotVersion},
      {"boot_id", doc.boot_id},
      {"identity",
       {{"name", s.identity.name},
        {"interface", s.identity.interface},
        {"virtual_router_id", s.identity.virtual_router_id},
        {"virtual_ips", s.identity.virtual_ips},
        {"reserved_ip", s.identity.reserved_ip}}},
      {"instance", instance_json(s.instance)},
      {"source", s.source.to_string()},
      {"garp_at_us", opt_time(s.garp_at)},
      {"garp_left", s.garp_left},
      {"verdict",
       {{"fault", s.verdict.fault},
        {"fault_reason", s.verdict.fault_reason},
        {"priority_delta", s.verdict.priority_delta},
        {"settling", s.verdict.settling}}},
      {"link_problem", opt_str(s.link_problem)},
      {"claim_fault", opt_str(s.claim_fault)},
      {"faulted", s.faulted},
      {"joined", s.joined},
      {"master_hook_pending", s.master_hook_pending ? json(*s.master_hook_pending) : json()},
      {"transitions", s.transitions},
      {"transitions_to", transitions_to},
      {"adverts_received", s.adverts_received},
      {"history", history},
      {"reserved_ip", s.reserved_ip ? reserved_json(*s.reserved_ip) : json()}};
  // Invalid UTF-8 (a reason quoting a peer's bytes) is replaced rather than thrown.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

util::Expected<SnapshotDocument, std::string> parse_snapshot(std::string_view text,
                                                             std::string_view boot_id) {
  if (text.size() > kMaxSnapshotBytes) {
    return util::unexpected("snapshot is larger than " + std::to_string(kMaxSnapshotBytes) +
                            " bytes");
  }
  auto parsed = util::parse_untrusted_json(text);
  if (!parsed) return util::unexpected("snapshot: " + parsed.error());
  const json& j = *parsed;
  if (!j.is_object()) return util::unexpected(std::string("snapshot is not a JSON object"));
  const auto version = j.find("failoverd_snapshot");
  if (version == j.end() || !version->is_number_integer()) {
    return util::unexpected(std::string("not a failoverd snapshot (no \"failoverd_snapshot\" version)"));
  }
  if (version->get<std::int64_t>() != kSnapshotVersion) {
    return util::unexpected("snapshot version " + std::to_string(version->get<std::int64_t>()) +
                            ", this failoverd reads version " + std::to_string(kSnapshotVersion));
  }
  SnapshotDocument doc;
  try {
    const Reader r{j, ""};
    doc.boot_id = r.str("boot_id");
    if (doc.boot_id != boot_id) {
      return util::unexpected("snapshot was taken in another boot or by another process (" +
                              doc.boot_id + "; expected " + std::string(boot_id) +
                              "): only the process that wrote it resumes it");
    }
    NodeSnapshot& s = doc.node;
    const Reader id = r.sub("identity");
    s.identity.name = id.str("name");
    s.identity.interface = id.str("interface");
    s.identity.virtual_router_id = id.small("virtual_router_id", 1, 255);
    for (const auto& v : id.array("virtual_ips")) {
      if (!v.is_string()) id.bad("virtual_ips", "an array of strings");
      s.identity.virtual_ips.push_back(v.get<std::string>());
    }
    s.identity.reserved_ip = id.str("reserved_ip");
    s.instance = instance_from(r.sub("instance"));
    s.source = r.ip("source");
    s.garp_at = r.opt_time("garp_at_us");
    s.garp_left = r.small("garp_left", 0, 1000);
    const Reader v = r.sub("verdict");
    s.verdict.fault = v.boolean("fault");
    s.verdict.fault_reason = v.str("fault_reason");
    s.verdict.priority_delta = v.small("priority_delta", -100000, 100000);
    s.verdict.settling = v.boolean("settling");
    s.link_problem = r.opt_str("link_problem");
    s.claim_fault = r.opt_str("claim_fault");
    s.faulted = r.boolean("faulted");
    s.joined = r.boolean("joined");
    if (!r.at("master_hook_pending").is_null()) {
      s.master_hook_pending = r.small("master_hook_pending", 0, 255);
    }
    s.transitions = r.count("transitions");
    const json& to = r.at("transitions_to");
    if (!to.is_object()) r.bad("transitions_to", "an object");
    for (const auto& [k, n] : to.items()) {
      if (!n.is_number_unsigned()) r.bad("transitions_to", "an object of counts");
      s.transitions_to[k] = n.get<std::uint64_t>();
    }
    s.adverts_received = r.count("adverts_received");
    const json& history = r.array("history");
    if (history.size() > kHistorySize) r.bad("history", "at most 100 entries");
    for (const auto& h : history) {
      if (!h.is_object()) r.bad("history", "an array of objects");
      const Reader e{h, "history[]."};
      HistoryEntry entry;
      entry.at = std::chrono::system_clock::time_point(
          std::chrono::duration_cast<std::chrono::system_clock::duration>(
              std::chrono::microseconds(e.integer("at_us"))));
      entry.from = state_from(e, "from");
      entry.to = state_from(e, "to");
      entry.reason = e.str("reason");
      entry.claim = e.opt_str("claim");
      s.history.push_back(std::move(entry));
    }
    if (!r.at("reserved_ip").is_null()) s.reserved_ip = reserved_from(r.sub("reserved_ip"));
  } catch (const std::exception& e) {
    return util::unexpected(std::string("snapshot: ") + e.what());
  }
  return doc;
}

}  // namespace failoverd::node
