// An IPv4 address as a value type, in host byte order so that comparisons order addresses
// the way RFC 5798 compares primary addresses (as unsigned integers).
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace failoverd::util {

struct Ipv4 {
  std::uint32_t value = 0;  // host byte order

  static constexpr Ipv4 from_octets(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return Ipv4{(std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) | d};
  }
  // Dotted quad only ("10.0.0.1"); nullopt for anything else.
  static std::optional<Ipv4> parse(std::string_view text);
  std::string to_string() const;
  std::uint32_t network_order() const;
  static Ipv4 from_network_order(std::uint32_t n);
  bool is_multicast() const { return (value >> 28) == 0xE; }

  auto operator<=>(const Ipv4&) const = default;
};

inline constexpr Ipv4 kVrrpMulticast = Ipv4::from_octets(224, 0, 0, 18);

}  // namespace failoverd::util
