#include "failoverd/util/ipv4.h"

#include <arpa/inet.h>

namespace failoverd::util {

std::optional<Ipv4> Ipv4::parse(std::string_view text) {
  std::uint32_t out = 0;
  int parts = 0;
  std::size_t i = 0;
  while (parts < 4) {
    if (i >= text.size() || text[i] < '0' || text[i] > '9') return std::nullopt;
    std::uint32_t octet = 0;
    std::size_t digits = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      if (digits == 1 && octet == 0) return std::nullopt;  // no leading zeros: "010" is ambiguous
      octet = octet * 10 + static_cast<std::uint32_t>(text[i] - '0');
      if (octet > 255 || ++digits > 3) return std::nullopt;
      ++i;
    }
    out = (out << 8) | octet;
    ++parts;
    if (parts < 4) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != text.size()) return std::nullopt;
  return Ipv4{out};
}

std::string Ipv4::to_string() const {
  return std::to_string(value >> 24) + '.' + std::to_string((value >> 16) & 0xFF) + '.' +
         std::to_string((value >> 8) & 0xFF) + '.' + std::to_string(value & 0xFF);
}

std::uint32_t Ipv4::network_order() const { return htonl(value); }
Ipv4 Ipv4::from_network_order(std::uint32_t n) { return Ipv4{ntohl(n)}; }

}  // namespace failoverd::util
