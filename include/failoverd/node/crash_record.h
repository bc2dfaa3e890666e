// The crash record: what a MASTER keeps in its runtime directory so that, when its daemon
// crashes and systemd starts it again before a peer can have taken over, the new process
// resumes MASTER instead of failing over (node/crash_resume.h decides).
//
// It is one page of memory that the daemon maps from a file (MAP_SHARED: a store is in the
// file at once, and stays there when the process dies). The advert time, written on every
// advert, is one aligned 8-byte store that cannot tear; the rest (identity, holder) changes
// only at a transition or a claim report, inside a sequence counter that is odd while it is
// rewritten, with a hash over the body. A record whose writer died mid-rewrite, or garbage,
// reads as an error, never as a record. Pure: memory in, values out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "failoverd/config/config.h"
#include "failoverd/core/timing.h"
#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::node {

inline constexpr std::size_t kCrashRecordSize = 4096;
inline constexpr std::uint32_t kCrashRecordVersion = 1;

// The instance a record belongs to: a record of another one is not resumed.
struct CrashIdentity {
  std::string name;
  std::string interface;
  std::string family = "ipv4";
  int virtual_router_id = 0;
  std::string transport;                 // "vrrp" or "udp"
  std::string source;                    // the heartbeat source the peers know this node by
  std::vector<std::string> peers;        // as configured; empty = multicast
  std::vector<std::string> virtual_ips;  // "a.b.c.d/len"
  std::string reserved_ip;               // "" without [reserved_ip]
  bool operator==(const CrashIdentity&) const = default;
};

// The identity of `cfg`'s instance heartbeating from `source`.
CrashIdentity crash_identity(const config::Config& cfg, util::Ipv4 source);

struct CrashRecord {
  CrashIdentity identity;
  bool master = false;
  core::Time last_advert{0};              // CLOCK_BOOTTIME of the last advert sent
  std::uint16_t adver_interval_cs = 100;  // the interval the peers learned from our adverts
  int priority_delta = 0;                 // the checks' weights, as last applied
  bool reserved_ip_ours = false;          // the last claim or check said this node holds it
  std::string boot_id;                    // "" when /proc/sys is hidden (the unit's ProcSubset=pid)
  int pid = 0;
  std::string owner;  // the writer's pid and start time (daemon::snapshot_owner)
  bool operator==(const CrashRecord&) const = default;
};

// The fixed start of the page; the body (JSON) follows it.
struct CrashRecordHeader {
  char magic[8];
  std::uint32_t version;
  std::uint32_t body_size;
  std::uint64_t sequence;       // odd while the record is being rewritten
  std::int64_t last_advert_us;  // the hot field: one aligned store per advert
  std::uint32_t master;         // 1 while MASTER: one store when leaving it
  std::uint32_t unused;
  std::uint64_t body_hash;  // FNV-1a 64 of the body
};
static_assert(sizeof(CrashRecordHeader) == 48);

// Writes records into a page (REQUIRES: kCrashRecordSize bytes, 8-byte aligned, alive as long
// as the writer). One writer; the reader is the next process, after this one has died.
class CrashRecordWriter {
 public:
  explicit CrashRecordWriter(std::span<std::byte> page);
  // Rewrites the whole record; false (and the page marked not MASTER) when its body does not
  // fit in the page.
  bool write(const CrashRecord& r);
  // Hot path: plain stores, no system call.
  void set_last_advert(core::Time t);
  void set_master(bool master);

 private:
  CrashRecordHeader* header() const;
  std::span<std::byte> page_;
};

// The record in `bytes` (a whole file), or one sentence saying why it is not one ("too short",
// "not a crash record", "version 2, this failoverd reads 1", "torn: ...", "corrupt: ...",
// "field \"pid\": ...").
util::Expected<CrashRecord, std::string> parse_crash_record(std::span<const std::byte> bytes);

}  // namespace failoverd::node
