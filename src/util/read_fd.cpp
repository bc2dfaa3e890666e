#include "failoverd/util/read_fd.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

namespace failoverd::util {

namespace {

void zero(std::string& s) { explicit_bzero(s.data(), s.size()); }

}  // namespace

Expected<std::string, int> read_up_to(int fd, std::size_t max_bytes, bool wipe) {
  const std::size_t limit = max_bytes < SIZE_MAX ? max_bytes + 1 : max_bytes;
  std::string out;
  std::size_t used = 0;
  // Read straight into the result, growing it by doubling: no buffer on the stack to clean.
  out.resize(std::min<std::size_t>(limit, 4096));
  for (;;) {
    if (used == out.size()) {
      if (out.size() == limit) break;
      std::string bigger(std::min(limit, out.size() * 2), '\0');
      std::memcpy(bigger.data(), out.data(), used);
      if (wipe) zero(out);
      out.swap(bigger);
    }
    const ssize_t n = ::read(fd, out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      if (wipe) zero(out);
      return unexpected(err);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  return out;
}

}  // namespace failoverd::util
