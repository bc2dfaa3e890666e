#include "failoverd/node/crash_resume.h"

#include <algorithm>

namespace failoverd::node {

namespace {

std::string ms(core::Duration d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(d).count()) + " ms";
}

std::string join(const std::vector<std::string>& v) {
  if (v.empty()) return "none";
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

// The first field in which the record's instance differs from ours, said for the log.
std::optional<std::string> identity_mismatch(const CrashIdentity& was, const CrashIdentity& is) {
  const auto differs = [](const char* what, const std::string& a, const std::string& b) {
    return std::string(what) + " \"" + a + "\", the config's is \"" + b + "\"";
  };
  if (was.name != is.name) return differs("name", was.name, is.name);
  if (was.interface != is.interface) return differs("interface", was.interface, is.interface);
  if (was.family != is.family) return differs("address family", was.family, is.family);
  if (was.virtual_router_id != is.virtual_router_id) {
    return differs("virtual_router_id", std::to_string(was.virtual_router_id),
                   std::to_string(is.virtual_router_id));
  }
  if (was.transport != is.transport) return differs("transport", was.transport, is.transport);
  if (was.source != is.source) return differs("source", was.source, is.source);
  if (was.peers != is.peers) return differs("peers", join(was.peers), join(is.peers));
  if (was.virtual_ips != is.virtual_ips) {
    return differs("virtual_ip", join(was.virtual_ips), join(is.virtual_ips));
  }
  if (was.reserved_ip != is.reserved_ip) {
    return differs("reserved_ip", was.reserved_ip, is.reserved_ip);
  }
  return std::nullopt;
}

}  // namespace

core::Duration crash_resume_bound(const config::Config& cfg, std::uint16_t recorded_cs) {
  const core::Duration interval =
      std::min(core::Duration(cfg.vrrp.advert_interval), core::from_centiseconds(recorded_cs));
  return core::master_down_interval(254, interval);
}

util::Expected<CrashResume, std::string> decide_crash_resume(
    const std::optional<util::Expected<CrashRecord, std::string>>& record,
    const config::Config& cfg, util::Ipv4 source, const CrashResumeFacts& facts) {
  if (!record) return util::unexpected(std::string("no crash record"));
  if (!*record) return util::unexpected("unreadable: " + record->error());
  const CrashRecord& r = **record;
  if (!r.master) return util::unexpected(std::string("it was not MASTER"));
  if (!r.boot_id.empty() && !facts.boot_id.empty() && r.boot_id != facts.boot_id) {
    return util::unexpected(std::string("it was written in another boot"));
  }
  if (facts.writer_running) {
    return util::unexpected("its writer, pid " + std::to_string(r.pid) + ", is still running");
  }
  if (auto why = identity_mismatch(r.identity, crash_identity(cfg, source))) {
    return util::unexpected("another instance: " + *why);
  }
  if (!r.identity.reserved_ip.empty() && !r.reserved_ip_ours) {
    return util::unexpected("the reserved IP " + r.identity.reserved_ip +
                            " was not known to be this node's (a claim had not reported)");
  }
  if (r.last_advert > facts.now) {
    return util::unexpected(std::string("its last advert is in the future (another boot?)"));
  }
  CrashResume resume{r, facts.now - r.last_advert, crash_resume_bound(cfg, r.adver_interval_cs)};
  // At the bound a peer's Master_Down_Timer may fire: only strictly younger is safe.
  if (resume.age >= resume.bound) {
    return util::unexpected("too old: the last advert was " + ms(resume.age) +
                            " ago, a peer may take over after " + ms(resume.bound));
  }
  return resume;
}

}  // namespace failoverd::node
