#include "failoverd/node/crash_record.h"

#include <atomic>
#include <cstring>
#include <nlohmann/json.hpp>

#include "failoverd/util/untrusted_json.h"

namespace failoverd::node {

namespace {

constexpr char kMagic[8] = {'F', 'O', 'V', 'D', 'C', 'R', 'E', 'C'};
constexpr std::size_t kBodyMax = kCrashRecordSize - sizeof(CrashRecordHeader);

std::uint64_t fnv1a(std::span<const std::byte> bytes) {
  std::uint64_t h = 14695981039346656037ULL;
  for (const std::byte b : bytes) {
    h ^= static_cast<std::uint64_t>(b);
    h *= 1099511628211ULL;
  }
  return h;
}

nlohmann::json to_json(const CrashRecord& r) {
  const auto& id = r.identity;
  return {{"name", id.name},
          {"interface", id.interface},
          {"family", id.family},
          {"virtual_router_id", id.virtual_router_id},
          {"transport", id.transport},
          {"source", id.source},
          {"peers", id.peers},
          {"virtual_ips", id.virtual_ips},
          {"reserved_ip", id.reserved_ip},
          {"adver_interval_cs", r.adver_interval_cs},
          {"priority_delta", r.priority_delta},
          {"reserved_ip_ours", r.reserved_ip_ours},
          {"boot_id", r.boot_id},
          {"pid", r.pid},
          {"owner", r.owner}};
}

// Reads one field of the body, or says which is wrong.
class Fields {
 public:
  explicit Fields(const nlohmann::json& j) : j_(j) {}
  const std::string& error() const { return error_; }

  void text(const char* key, std::string& out) {
    const auto* v = find(key);
    if (!v) return;
    if (!v->is_string()) return fail(key, "not a string");
    out = v->get<std::string>();
  }
  void texts(const char* key, std::vector<std::string>& out) {
    const auto* v = find(key);
    if (!v) return;
    if (!v->is_array()) return fail(key, "not an array");
    for (const auto& e : *v) {
      if (!e.is_string()) return fail(key, "not an array of strings");
      out.push_back(e.get<std::string>());
    }
  }
  void flag(const char* key, bool& out) {
    const auto* v = find(key);
    if (!v) return;
    if (!v->is_boolean()) return fail(key, "not true or false");
    out = v->get<bool>();
  }
  template <typename Int>
  void integer(const char* key, Int& out, long long lo, long long hi) {
    const auto* v = find(key);
    if (!v) return;
    if (!v->is_number_integer()) return fail(key, "not an integer");
    const auto n = v->get<long long>();
    if (n < lo || n > hi) {
      return fail(key, std::to_string(n) + " is out of range " + std::to_string(lo) + ".." +
                           std::to_string(hi));
    }
    out = static_cast<Int>(n);
  }

 private:
  const nlohmann::json* find(const char* key) {
    if (!error_.empty()) return nullptr;
    const auto it = j_.find(key);
    if (it == j_.end()) {
      fail(key, "missing");
      return nullptr;
    }
    return &*it;
  }
  void fail(const char* key, const std::string& why) {
    if (error_.empty()) error_ = std::string("field \"") + key + "\": " + why;
  }

  const nlohmann::json& j_;
  std::string error_;
};

}  // namespace

CrashIdentity crash_identity(const config::Config& cfg, util::Ipv4 source) {
  CrashIdentity id;
  id.name = cfg.instance.name;
  id.interface = cfg.instance.interface;
  id.virtual_router_id = cfg.vrrp.virtual_router_id;
  id.transport = cfg.vrrp.transport == config::Transport::kUdp ? "udp" : "vrrp";
  id.source = source.to_string();
  for (const auto& p : cfg.vrrp.peers) id.peers.push_back(p.to_string());
  for (const auto& v : cfg.virtual_ip.addresses) {
    id.virtual_ips.push_back(v.address.to_string() + "/" + std::to_string(v.prefix_len));
  }
  if (cfg.reserved_ip.provider != config::Provider::kNone && cfg.reserved_ip.address) {
    id.reserved_ip = cfg.reserved_ip.address->to_string();
  }
  return id;
}

CrashRecordWriter::CrashRecordWriter(std::span<std::byte> page) : page_(page) {}

CrashRecordHeader* CrashRecordWriter::header() const {
  return reinterpret_cast<CrashRecordHeader*>(page_.data());
}

bool CrashRecordWriter::write(const CrashRecord& r) {
  const std::string body = to_json(r).dump();
  CrashRecordHeader* h = header();
  std::atomic_ref<std::uint64_t> seq(h->sequence);
  // Odd first, even last, with the compiler kept from moving stores across either: a writer
  // killed in between leaves an odd counter.
  const std::uint64_t start = (seq.load(std::memory_order_relaxed) | 1U) + 2U;
  seq.store(start, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  std::memcpy(h->magic, kMagic, sizeof kMagic);
  h->version = kCrashRecordVersion;
  const bool fits = body.size() <= kBodyMax;
  h->master = fits && r.master ? 1U : 0U;
  std::atomic_ref<std::int64_t>(h->last_advert_us)
      .store(r.last_advert.count(), std::memory_order_relaxed);
  if (fits) {
    std::memcpy(page_.data() + sizeof(CrashRecordHeader), body.data(), body.size());
    h->body_size = static_cast<std::uint32_t>(body.size());
    h->body_hash = fnv1a(page_.subspan(sizeof(CrashRecordHeader), body.size()));
  } else {
    h->body_size = 0;
    h->body_hash = fnv1a({});
  }
  std::atomic_thread_fence(std::memory_order_release);
  seq.store(start + 1, std::memory_order_relaxed);
  return fits;
}

void CrashRecordWriter::set_last_advert(core::Time t) {
  std::atomic_ref<std::int64_t>(header()->last_advert_us)
      .store(t.count(), std::memory_order_relaxed);
}

void CrashRecordWriter::set_master(bool master) {
  std::atomic_ref<std::uint32_t>(header()->master)
      .store(master ? 1U : 0U, std::memory_order_relaxed);
}

util::Expected<CrashRecord, std::string> parse_crash_record(std::span<const std::byte> bytes) {
  if (bytes.size() < sizeof(CrashRecordHeader)) {
    return util::unexpected("too short (" + std::to_string(bytes.size()) + " bytes)");
  }
  CrashRecordHeader h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) {
    return util::unexpected(std::string("not a crash record"));
  }
  if (h.version != kCrashRecordVersion) {
    return util::unexpected("version " + std::to_string(h.version) + ", this failoverd reads " +
                            std::to_string(kCrashRecordVersion));
  }
  if (h.sequence % 2 != 0) {
    return util::unexpected(std::string("torn: its writer died while rewriting it"));
  }
  if (h.body_size > kBodyMax || sizeof h + h.body_size > bytes.size()) {
    return util::unexpected("corrupt: a body of " + std::to_string(h.body_size) + " bytes");
  }
  const auto body = bytes.subspan(sizeof h, h.body_size);
  if (fnv1a(body) != h.body_hash) {
    return util::unexpected(std::string("corrupt: the body does not match its hash"));
  }
  if (h.master > 1) return util::unexpected("corrupt: master flag " + std::to_string(h.master));
  CrashRecord r;
  r.master = h.master == 1;
  r.last_advert = core::Time{h.last_advert_us};
  if (h.body_size == 0) {
    // A record whose identity did not fit: the writer never marks it MASTER.
    if (r.master) return util::unexpected(std::string("corrupt: MASTER without a body"));
    return r;
  }
  auto j = util::parse_untrusted_json(
      std::string_view(reinterpret_cast<const char*>(body.data()), body.size()));
  if (!j) return util::unexpected(j.error());
  if (!j->is_object()) return util::unexpected(std::string("body is not a JSON object"));
  Fields f(*j);
  auto& id = r.identity;
  f.text("name", id.name);
  f.text("interface", id.interface);
  f.text("family", id.family);
  f.integer("virtual_router_id", id.virtual_router_id, 1, 255);
  f.text("transport", id.transport);
  f.text("source", id.source);
  f.texts("peers", id.peers);
  f.texts("virtual_ips", id.virtual_ips);
  f.text("reserved_ip", id.reserved_ip);
  f.integer("adver_interval_cs", r.adver_interval_cs, 1, core::kMaxAdverIntervalCs);
  f.integer("priority_delta", r.priority_delta, -254, 254);
  f.flag("reserved_ip_ours", r.reserved_ip_ours);
  f.text("boot_id", r.boot_id);
  f.integer("pid", r.pid, 1, 0x3fffffff);
  f.text("owner", r.owner);
  if (!f.error().empty()) return util::unexpected(f.error());
  return r;
}

}  // namespace failoverd::node
