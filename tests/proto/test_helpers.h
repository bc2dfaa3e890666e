// Helpers shared by the proto tests: hex strings and the keepalived capture in tests/data.
#pragma once

#include <cstdint>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace failoverd::proto::testing {

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd hex length");
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const auto byte = std::stoul(std::string(hex.substr(i, 2)), nullptr, 16);
    out.push_back(static_cast<std::uint8_t>(byte));
  }
  return out;
}

// The hex records of a capture file, in order: each "ipv4:" or "vrrp:" line, per kind.
struct Capture {
  std::vector<std::vector<std::uint8_t>> ipv4;
  std::vector<std::vector<std::uint8_t>> vrrp;
};

inline Capture load_capture(const std::string& name) {
  const std::string path = std::string(FAILOVERD_TESTDATA_DIR) + "/" + name;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path);
  Capture c;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind;
    std::string hex;
    if (!(words >> kind >> hex)) continue;
    if (kind == "ipv4:") c.ipv4.push_back(from_hex(hex));
    if (kind == "vrrp:") c.vrrp.push_back(from_hex(hex));
  }
  return c;
}

}  // namespace failoverd::proto::testing
