// The schema of failoverd.conf: which sections exist and which keys each one takes. The
// config parser reads through it, and the keepalived importer writes through it, so neither
// can know a key the other does not.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "failoverd/util/expected.h"

namespace failoverd::config {

enum class SectionKind {
  kInstance,
  kVrrp,
  kCheck,
  kReservedIp,
  kVirtualIp,
  kNotify,
  kControl,
  kMetrics
};

struct KeySpec {
  std::string_view key;
  bool repeatable = false;  // may be given more than once; each value adds one
};

// "check.": the prefix of a [check.NAME] section.
inline constexpr std::string_view kCheckPrefix = "check.";

// The keys a kind of section takes, in the order of failoverd.conf(5).
std::span<const KeySpec> keys_of(SectionKind kind);

// The key's spec, or nullptr when the section takes no such key.
const KeySpec* find_key(SectionKind kind, std::string_view key);

// The kind of a section as written between brackets ("vrrp", "check.web"), or the reason the
// name is wrong (unknown, or a check name that is not 1..32 of A-Z a-z 0-9 _ -).
util::Expected<SectionKind, std::string> section_kind(std::string_view section);

// 1..32 characters of A-Z a-z 0-9 _ - (and '.' when `allow_dot`), not "." or "..": an
// instance name (allow_dot) or a check name.
bool valid_name(std::string_view s, bool allow_dot);

}  // namespace failoverd::config
