// The restart-in-place snapshot (node::NodeSnapshot) as a versioned JSON document: what the old
// process writes before it execs the new binary, and what the new one (and `failoverd
// --check-restore`) reads. Pure: text in, values out.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "failoverd/node/node.h"
#include "failoverd/util/expected.h"

namespace failoverd::node {

// Bumped when a field changes meaning; a binary reads only its own version (a restart in
// place across versions that cannot agree is refused by the new binary's check, and the old
// process keeps running).
inline constexpr int kSnapshotVersion = 1;
// A snapshot is a few KiB (the history is the bulk, 100 entries at most).
inline constexpr std::size_t kMaxSnapshotBytes = 1024 * 1024;

struct SnapshotDocument {
  NodeSnapshot node;
  // The boot and the process that wrote it (daemon/restart.h snapshot_owner): the steady times
  // belong to that boot, and only that process (after its exec) resumes it.
  std::string boot_id;
};

std::string format_snapshot(const SnapshotDocument& doc);

// The document, or one sentence saying what is wrong ("not JSON", "version 2, this failoverd
// reads 1", "taken in another boot or by another process", "field \"instance.state\": ...").
// `boot_id` is what the reader expects (this boot and the writing process): a snapshot with
// another one is refused (its steady times may mean nothing here).
util::Expected<SnapshotDocument, std::string> parse_snapshot(std::string_view text,
                                                             std::string_view boot_id);

}  // namespace failoverd::node
