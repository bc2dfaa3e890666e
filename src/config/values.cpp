#include "failoverd/config/values.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <system_error>

namespace failoverd::config {

namespace {

// A value quoted for a message; long ones are cut, so one bad line cannot flood the log.
std::string quoted(std::string_view s) {
  constexpr std::size_t kMax = 60;
  if (s.size() > kMax) return "\"" + std::string(s.substr(0, kMax)) + "...\"";
  return "\"" + std::string(s) + "\"";
}

// The same without quotes, for a value shown as a number or an example.
std::string shown(std::string_view s) {
  constexpr std::size_t kMax = 60;
  if (s.size() > kMax) return std::string(s.substr(0, kMax)) + "...";
  return std::string(s);
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool has_space(std::string_view s) {
  return s.find_first_of(" \t\r\n") != std::string_view::npos;
}

}  // namespace

std::string HostPort::to_string() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

std::string Cidr::to_string() const {
  return address.to_string() + "/" + std::to_string(prefix_len);
}

util::Expected<bool, std::string> parse_bool(std::string_view text) {
  for (const char* t : {"true", "yes", "on", "1"}) {
    if (iequals(text, t)) return true;
  }
  for (const char* f : {"false", "no", "off", "0"}) {
    if (iequals(text, f)) return false;
  }
  return util::unexpected(quoted(text) + " is not a boolean (use true or false)");
}

util::Expected<std::int64_t, std::string> parse_int(std::string_view text, std::int64_t min,
                                                    std::int64_t max, std::string_view range_text) {
  const std::string range = range_text.empty()
                                ? std::to_string(min) + ".." + std::to_string(max)
                                : std::string(range_text);
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  const bool negative = !digits.empty() && digits.front() == '-';
  std::string_view magnitude = negative ? digits.substr(1) : digits;
  if (magnitude.empty() || magnitude.find_first_not_of("0123456789") != std::string_view::npos) {
    return util::unexpected(quoted(text) + " is not a whole number");
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && (value < min || value > max))) {
    return util::unexpected(shown(text) + " is out of range " + range);
  }
  if (ec != std::errc() || end != digits.data() + digits.size()) {
    return util::unexpected(quoted(text) + " is not a whole number");
  }
  return value;
}

util::Expected<HostPort, std::string> parse_host_port(std::string_view text) {
  const std::string bad = quoted(text) + " is not host:port (e.g. 127.0.0.1:9798)";
  HostPort out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return util::unexpected(bad);
    }
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return util::unexpected(bad);
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    // An unbracketed IPv6 literal would make the port ambiguous.
    if (out.host.find(':') != std::string::npos) return util::unexpected(bad);
  }
  if (out.host.empty() || has_space(out.host) ||
      out.host.find_first_of("[]/") != std::string::npos) {
    return util::unexpected(bad);
  }
  if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string_view::npos) {
    return util::unexpected(bad);
  }
  auto port = parse_int(port_text, 1, 65535);
  if (!port) return util::unexpected(quoted(text) + ": port " + port.error());
  out.port = static_cast<std::uint16_t>(*port);
  return out;
}

util::Expected<HostPort, std::string> parse_listen_address(std::string_view text) {
  const std::string q = quoted(text);
  std::string_view host;
  std::string_view port;
  const bool bracketed = !text.empty() && text.front() == '[';
  if (bracketed) {
    const auto close = text.find(']');
    if (close == std::string_view::npos)
      return util::unexpected(q + ": missing ']' after the IPv6 address");
    host = text.substr(1, close - 1);
    const auto rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':')
      return util::unexpected(q + ": expected \":PORT\" after ']'");
    port = rest.substr(1);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return util::unexpected(q + ": expected HOST:PORT, e.g. 127.0.0.1:9798 or [::1]:9798");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos)
      return util::unexpected(q + ": put an IPv6 address in brackets, e.g. [::1]:9798");
  }
  const std::string h(host);
  if (bracketed && h.find('%') != std::string::npos)
    return util::unexpected(q + ": IPv6 zone ids are not supported");
  in_addr v4{};
  in6_addr v6{};
  const bool is_v4 = ::inet_pton(AF_INET, h.c_str(), &v4) == 1;
  const bool is_v6 = !is_v4 && ::inet_pton(AF_INET6, h.c_str(), &v6) == 1;
  if (!is_v4 && !is_v6)
    return util::unexpected(q + ": " + quoted(host) + " is not a numeric IPv4 or IPv6 address");
  if (bracketed && !is_v6) return util::unexpected(q + ": brackets are for IPv6 addresses only");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
      std::stoul(std::string(port)) > 65535)
    return util::unexpected(q + ": port " + quoted(port) + " is not a number from 0 to 65535");
  return HostPort{h, static_cast<std::uint16_t>(std::stoul(std::string(port)))};
}

util::Expected<Cidr, std::string> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return util::unexpected(quoted(text) + " has no prefix length (e.g. " + shown(text) +
                            "/24)");
  }
  const auto address = util::Ipv4::parse(text.substr(0, slash));
  if (!address) return util::unexpected(quoted(text) + " is not an IPv4 address/length");
  const std::string_view len_text = text.substr(slash + 1);
  if (len_text.empty() || len_text.size() > 2 ||
      len_text.find_first_not_of("0123456789") != std::string_view::npos) {
    return util::unexpected(quoted(text) + " is not an IPv4 address/length");
  }
  const int len = std::stoi(std::string(len_text));
  if (len < 1 || len > 32) {
    return util::unexpected(quoted(text) + ": prefix length " + std::to_string(len) +
                            " is out of range 1..32");
  }
  return Cidr{*address, static_cast<std::uint8_t>(len)};
}

util::Expected<std::vector<std::string>, std::string> split_command(std::string_view text) {
  std::vector<std::string> argv;
  std::string current;
  bool in_word = false;
  bool in_quotes = false;
  for (const char c : text) {
    if (in_quotes) {
      if (c == '"') {
        in_quotes = false;
      } else {
        current += c;
      }
    } else if (c == '"') {
      in_quotes = true;
      in_word = true;  // "" is an empty argument
    } else if (c == ' ' || c == '\t') {
      if (in_word) argv.push_back(std::move(current));
      current.clear();
      in_word = false;
    } else {
      current += c;
      in_word = true;
    }
  }
  if (in_quotes) return util::unexpected(quoted(text) + " has an unterminated double quote");
  if (in_word) argv.push_back(std::move(current));
  if (argv.empty()) return util::unexpected(std::string("is an empty command"));
  return argv;
}

bool is_unicast(util::Ipv4 address) {
  const std::uint32_t top = address.value >> 24;
  return top != 0 && !address.is_multicast() && (address.value >> 28) != 0xF;
}

}  // namespace failoverd::config
