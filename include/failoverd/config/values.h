// Parsers for single configuration values. Each takes the value as written (already trimmed)
// and returns the typed value or the reason it is wrong, in words that fit after
// "[section] key: " (see Problem::to_string). Pure functions, shared by the config parser and
// anyone else who reads the same kinds of values (the daemon's command line, tests).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::config {

// "host:port" or "[v6addr]:port". The host is not resolved here.
struct HostPort {
  std::string host;  // without the brackets of an IPv6 literal
  std::uint16_t port = 0;

  std::string to_string() const;  // brackets restored for IPv6 literals
  bool operator==(const HostPort&) const = default;
};

// An address with its prefix length, as "10.0.0.100/24".
struct Cidr {
  util::Ipv4 address;
  std::uint8_t prefix_len = 32;

  std::string to_string() const;
  bool operator==(const Cidr&) const = default;
};

// true/false, yes/no, on/off, 1/0 (case-insensitive).
util::Expected<bool, std::string> parse_bool(std::string_view text);

// A decimal integer within [min, max]; "N is out of range MIN..MAX" otherwise, or with
// `range_text` in place of "MIN..MAX" when the documented range differs from the accepted one.
util::Expected<std::int64_t, std::string> parse_int(std::string_view text, std::int64_t min,
                                                    std::int64_t max,
                                                    std::string_view range_text = {});

util::Expected<HostPort, std::string> parse_host_port(std::string_view text);

// An address to listen on: "127.0.0.1:9798", "0.0.0.0:9798", "[::1]:9798", "[::]:0". The host
// must be numeric (nothing is resolved), IPv6 in brackets and without a zone id; port 0..65535
// (0: the kernel picks one). The one rule for [metrics] listen: --check-config and the server
// that binds it both use it, so a value that passes the check can be bound.
util::Expected<HostPort, std::string> parse_listen_address(std::string_view text);

// Prefix length 1..32 is required: a bare address is refused, so "/32" is never a surprise.
util::Expected<Cidr, std::string> parse_cidr(std::string_view text);

// Splits a command line into argv on spaces and tabs. A double-quoted part keeps its spaces
// ("a b" -> one argument); there are no escapes. An unterminated quote or an empty command is
// an error. No shell is involved, ever.
util::Expected<std::vector<std::string>, std::string> split_command(std::string_view text);

// A unicast address a host can have or talk to: not 0.0.0.0/8, multicast or 240.0.0.0/4
// (which includes the broadcast address).
bool is_unicast(util::Ipv4 address);

}  // namespace failoverd::config
