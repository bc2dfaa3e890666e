// One Status with every field set (MASTER with a master known, two checks of which one fails,
// some drops), shared by the control tests that print or serialise a status.
#pragma once

#include <optional>

#include "failoverd/control/control_protocol.h"

namespace failoverd::control::testing {

inline Status sample_status() {
  Status s;
  s.name = "web";
  s.state = "MASTER";
  s.priority = 150;
  s.effective_priority = 140;
  s.virtual_router_id = 51;
  s.master = "10.114.0.4";
  s.checks = {{"containers", "docker", true, "10/10 running", "2026-11-22T19:00:00Z", 5, 0},
              {"site", "http", false, "HTTP 503", std::nullopt, 0, 3}};
  s.transport = "vrrp";
  s.interface = "eth1";
  s.advert_interval = "1s";
  s.master_down_interval_ms = 3414.0625;
  s.skew_time_ms = 414.0625;
  s.adverts_sent = 1200;
  s.adverts_received = 7;
  s.drops = {{"bad_checksum", 2}, {"wrong_vrid", 0}};
  s.since = "2024-05-01T12:00:00Z";
  s.transitions = 3;
  s.uptime_s = 93784.9;
  s.pid = 4242;
  return s;
}

}  // namespace failoverd::control::testing
