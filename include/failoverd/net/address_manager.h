// Adding and removing IPv4 addresses on an interface (the [virtual_ip] addresses), through
// libnl's route netlink API, behind an interface so the daemon's logic is tested with a fake.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "failoverd/util/expected.h"
#include "failoverd/util/ipv4.h"

namespace failoverd::net {

struct InterfaceAddress {
  util::Ipv4 address;
  std::uint8_t prefix_len = 32;
  std::string to_string() const;  // "10.0.0.100/24"
  bool operator==(const InterfaceAddress&) const = default;
};

enum class AddOutcome : std::uint8_t { kAdded, kAlreadyPresent };

class AddressManager {
 public:
  virtual ~AddressManager();
  // kAlreadyPresent is not an error: the address is there, but somebody else put it there.
  virtual util::Expected<AddOutcome, std::string> add(const std::string& ifname,
                                                      const InterfaceAddress& a) = 0;
  // Removing an address that is not there succeeds.
  virtual util::Expected<util::Ok, std::string> remove(const std::string& ifname,
                                                       const InterfaceAddress& a) = 0;
  // Tells the link that `address` now lives at this interface's MAC (gratuitous ARP).
  virtual util::Expected<util::Ok, std::string> announce(const std::string& ifname,
                                                         util::Ipv4 address) = 0;
};

// The real one: libnl (NETLINK_ROUTE) and an AF_PACKET socket for ARP. Needs CAP_NET_ADMIN
// and CAP_NET_RAW.
std::unique_ptr<AddressManager> make_netlink_address_manager();

}  // namespace failoverd::net
