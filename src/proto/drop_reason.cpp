#include "failoverd/proto/drop_reason.h"

namespace failoverd::proto {

const char* to_string(DropReason r) {
  switch (r) {
    case DropReason::kTruncated: return "truncated";
    case DropReason::kBadIpHeader: return "bad_ip_header";
    case DropReason::kNotVrrp: return "not_vrrp";
    case DropReason::kBadVersion: return "bad_version";
    case DropReason::kBadType: return "bad_type";
    case DropReason::kBadLength: return "bad_length";
    case DropReason::kNoAddresses: return "no_addresses";
    case DropReason::kBadChecksum: return "bad_checksum";
    case DropReason::kBadTtl: return "bad_ttl";
    case DropReason::kWrongVrid: return "wrong_vrid";
    case DropReason::kUnknownPeer: return "unknown_peer";
    case DropReason::kOwnPacket: return "own_packet";
    case DropReason::kBadAuth: return "bad_auth";
    case DropReason::kReplay: return "replay";
    case DropReason::kCount_: break;
  }
  return "unknown";
}

}  // namespace failoverd::proto
