// Reading a descriptor to its end with a bound: the one read loop of the config's secret and
// key files, the restart snapshot, the crash record and failoverctl's import.
#pragma once

#include <cstddef>
#include <string>

#include "failoverd/util/expected.h"

namespace failoverd::util {

// Reads `fd` until end of file, but never more than max_bytes + 1 bytes: a result longer than
// max_bytes means the input is too large, without reading the rest. EINTR is retried; any other
// error is its errno. With `wipe`, every buffer it gives up on the way (a read error, a larger
// buffer) is zeroed first, for secrets.
Expected<std::string, int> read_up_to(int fd, std::size_t max_bytes, bool wipe = false);

}  // namespace failoverd::util
