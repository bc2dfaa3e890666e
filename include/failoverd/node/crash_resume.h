// Whether a starting daemon resumes MASTER from the crash record (node/crash_record.h) its
// crashed predecessor left: only for the same instance, in this boot, from a process that is
// gone, which was MASTER holding the reserved IP (when there is one), and whose last advert is
// so recent that no peer can have taken over yet. Pure: the record, the config and the time in;
// the resume or the reason not out.
#pragma once

#include <optional>
#include <string>

#include "failoverd/config/config.h"
#include "failoverd/core/timing.h"
#include "failoverd/node/crash_record.h"
#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::node {

struct CrashResume {
  CrashRecord record;
  core::Duration age;    // since the last advert of the crashed process
  core::Duration bound;  // crash_resume_bound
};

// The earliest a peer can take over after our last advert: its Master_Down_Interval, which
// it computes from the interval it learned from our adverts and from its own priority, which
// this node does not know. The shortest is that of priority 254 (an owner, 255, is never a
// BACKUP to us); the interval is the smaller of the configured one and the recorded one (a
// config edited since the crash must not lengthen the bound).
core::Duration crash_resume_bound(const config::Config& cfg, std::uint16_t recorded_cs);

// What the daemon knows beside the record.
struct CrashResumeFacts {
  core::Time now{0};            // CLOCK_BOOTTIME, as the record's last_advert
  std::string boot_id;          // "" when unknown
  bool writer_running = false;  // the record's writer (its pid and start time) still runs
};

// `record`: nullopt when there is no record file, else what parse_crash_record made of it.
// The resume, or one sentence why not ("no crash record", "unreadable: ...", "it was not
// MASTER", "another instance: virtual_router_id 51, the config's is 52", "too old: ...").
util::Expected<CrashResume, std::string> decide_crash_resume(
    const std::optional<util::Expected<CrashRecord, std::string>>& record,
    const config::Config& cfg, util::Ipv4 source, const CrashResumeFacts& facts);

}  // namespace failoverd::node
