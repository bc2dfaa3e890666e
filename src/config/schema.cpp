#include "failoverd/config/schema.h"

#include <algorithm>
#include <utility>

namespace failoverd::config {

namespace {

constexpr KeySpec kInstanceKeys[] = {{"name"},
                                     {"interface"},
                                     {"track_interface", true},
                                     {"realtime_priority"},
                                     {"lock_memory"}};
constexpr KeySpec kVrrpKeys[] = {
    {"virtual_router_id"}, {"priority"}, {"advert_interval"}, {"preempt"},
    {"preempt_delay"},     {"transport"}, {"peer", true},     {"source"},
    {"port"},              {"auth_key_file"}, {"checksum_pseudo_header"},
    {"instant_handover"}};
constexpr KeySpec kCheckKeys[] = {
    {"type"},     {"interval"},    {"timeout"},       {"rise"},        {"fall"},
    {"weight"},   {"socket"},      {"min_running"},   {"label", true}, {"name"},
    {"url"},      {"expect_status"}, {"expect_body"}, {"tls_verify"},  {"address"},
    {"command"},  {"user"}};
constexpr KeySpec kReservedIpKeys[] = {
    {"provider"}, {"address"}, {"token_file"}, {"droplet_id"},  {"server_id"},
    {"zone_id"},  {"record"},  {"command"},    {"api_url"},     {"metadata_url"},
    {"reconcile_interval"}};
constexpr KeySpec kVirtualIpKeys[] = {{"address", true}, {"garp_count"}, {"garp_interval"}};
constexpr KeySpec kNotifyKeys[] = {{"master"}, {"backup"}, {"fault"}, {"stop"}, {"timeout"}};
constexpr KeySpec kControlKeys[] = {{"socket"}};
constexpr KeySpec kMetricsKeys[] = {{"listen"}};

bool is_name_char(char c, bool allow_dot) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || (allow_dot && c == '.');
}

}  // namespace

std::span<const KeySpec> keys_of(SectionKind kind) {
  switch (kind) {
    case SectionKind::kInstance: return kInstanceKeys;
    case SectionKind::kVrrp: return kVrrpKeys;
    case SectionKind::kCheck: return kCheckKeys;
    case SectionKind::kReservedIp: return kReservedIpKeys;
    case SectionKind::kVirtualIp: return kVirtualIpKeys;
    case SectionKind::kNotify: return kNotifyKeys;
    case SectionKind::kControl: return kControlKeys;
    case SectionKind::kMetrics: return kMetricsKeys;
  }
  return {};
}

const KeySpec* find_key(SectionKind kind, std::string_view key) {
  for (const auto& s : keys_of(kind)) {
    if (s.key == key) return &s;
  }
  return nullptr;
}

bool valid_name(std::string_view s, bool allow_dot) {
  if (s.empty() || s.size() > 32 || s == "." || s == "..") return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return is_name_char(c, allow_dot); });
}

util::Expected<SectionKind, std::string> section_kind(std::string_view section) {
  using Kind = SectionKind;
  static const std::pair<std::string_view, Kind> kFixed[] = {
      {"instance", Kind::kInstance},      {"vrrp", Kind::kVrrp},
      {"reserved_ip", Kind::kReservedIp}, {"virtual_ip", Kind::kVirtualIp},
      {"notify", Kind::kNotify},          {"control", Kind::kControl},
      {"metrics", Kind::kMetrics}};
  for (const auto& [name, kind] : kFixed) {
    if (section == name) return kind;
  }
  if (section == "check" || section == "check.") {
    return util::unexpected(std::string("a check needs a name: [check.NAME]"));
  }
  if (section.substr(0, kCheckPrefix.size()) == kCheckPrefix) {
    const std::string_view name = section.substr(kCheckPrefix.size());
    if (!valid_name(name, /*allow_dot=*/false)) {
      const bool cut = name.size() > 40;  // the section is echoed in full elsewhere already
      return util::unexpected("check name \"" + std::string(name.substr(0, 40)) +
                              (cut ? "..." : "") +
                              "\" must be 1..32 characters of A-Z a-z 0-9 _ -");
    }
    return Kind::kCheck;
  }
  return util::unexpected(std::string(
      "unknown section (expected instance, vrrp, check.NAME, reserved_ip, virtual_ip, notify, "
      "control or metrics)"));
}

}  // namespace failoverd::config
