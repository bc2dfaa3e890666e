// The pair the failover benchmarks measure (failover_bench, switchover_bench, reserved_ip_bench):
// two hosts of a tests/harness NetnsPair, master priority 150 on host 0, backup priority 100 on
// host 1, unicast, one virtual IP; and the protocol floors of the backup. Apart from
// bench_common.h because it needs tests/harness (gtest, nlohmann_json), which check_bench does
// not link.
#pragma once

#include <chrono>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "bench_common.h"
#include "failoverd/core/timing.h"
#include "harness/harness.h"

namespace failoverd::bench {

constexpr int kMasterPriority = 150;
constexpr int kBackupPriority = 100;
inline const std::string kVip = "10.99.0.100/24";

// The advert interval a benchmark takes on its command line: "1s" or "100ms".
inline std::chrono::milliseconds advert_interval(const std::string& interval) {
  return interval == "1s" ? std::chrono::milliseconds(1000) : std::chrono::milliseconds(100);
}

// The backup's Master_Down_Interval (the floor of crash detection) and Skew_Time (of a
// priority-0 takeover) at `interval`, in ms.
inline double backup_master_down_ms(std::chrono::milliseconds interval) {
  return static_cast<double>(
             core::master_down_interval(
                 kBackupPriority, std::chrono::duration_cast<core::Duration>(interval))
                 .count()) /
         1000.0;
}
inline double backup_skew_ms(std::chrono::milliseconds interval) {
  return static_cast<double>(
             core::skew_time(kBackupPriority, std::chrono::duration_cast<core::Duration>(interval))
                 .count()) /
         1000.0;
}

// The failoverd config of host `host` (0: the master, 1: the backup) of the pair: PREFIX-master
// or PREFIX-backup, unicast to the other host, its control socket in `dir`.
inline e2e::NodeConfig pair_node_config(const e2e::NetnsPair& net, const std::filesystem::path& dir,
                                        int host, const std::string& prefix,
                                        const std::string& interval) {
  e2e::NodeConfig c;
  c.name = prefix + (host == 0 ? "-master" : "-backup");
  c.netns = net.ns(host);
  c.priority = host == 0 ? kMasterPriority : kBackupPriority;
  c.advert_interval = interval;
  c.peers = {e2e::NetnsPair::address(1 - host)};
  c.source = e2e::NetnsPair::address(host);
  c.virtual_ips = {kVip};
  c.socket = (dir / (c.name + ".sock")).string();
  return c;
}

// The keepalived config of host `host` of the same pair: ka-master or ka-backup, unicast to the
// other host, advert_int in keepalived's seconds ("1s" -> "1", "100ms" -> "0.1", "10ms" ->
// "0.01").
inline e2e::KeepalivedConfig pair_keepalived_config(const e2e::NetnsPair& net, int host,
                                                    const std::string& interval) {
  e2e::KeepalivedConfig c;
  c.name = host == 0 ? "ka-master" : "ka-backup";
  c.netns = net.ns(host);
  c.priority = host == 0 ? kMasterPriority : kBackupPriority;
  if (interval == "1s") {
    c.advert_int = "1";
  } else if (interval == "100ms") {
    c.advert_int = "0.1";
  } else if (interval == "10ms") {
    c.advert_int = "0.01";
  } else {
    throw std::invalid_argument("advert interval " + interval);
  }
  c.unicast_src_ip = e2e::NetnsPair::address(host);
  c.unicast_peers = {e2e::NetnsPair::address(1 - host)};
  c.virtual_ips = {kVip};
  return c;
}

}  // namespace failoverd::bench
