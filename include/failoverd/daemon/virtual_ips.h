// The [virtual_ip] addresses: added on becoming MASTER, removed on leaving it and at shutdown.
// failoverd never removes an address it did not add: one that was already on the interface
// (put there by an operator) is noted and left alone.
//
// What we added is also written to a ledger file in the runtime directory, so that after a
// crash and restart the new process knows which leftover addresses are its own and removes
// them before it joins as BACKUP (otherwise the dead master's address would stay up beside
// the new master's).
#pragma once

#include <string>
#include <vector>

#include "failoverd/net/address_manager.h"

namespace failoverd::daemon {

struct VipEvent {
  bool ok;
  std::string message;  // one log line
};

class VirtualIps {
 public:
  // `ledger_path` empty: no ledger (tests).
  VirtualIps(net::AddressManager& manager, std::string ifname,
             std::vector<net::InterfaceAddress> addresses, std::string ledger_path = {});

  // At start-up: removes the addresses a previous run recorded in the ledger.
  std::vector<VipEvent> clean_up_previous_run();
  // After a restart in place (the same PID, failoverctl restart): the addresses in the ledger
  // are ours and still on the interface; nothing is added or removed.
  std::vector<VipEvent> adopt_previous_run();
  // Before resuming MASTER after a crash: as adopt_previous_run(), but an address of the
  // ledger that is gone from the interface meanwhile is added again.
  std::vector<VipEvent> resume_previous_run();
  // Adds every address and announces it with a gratuitous ARP.
  std::vector<VipEvent> take();
  // A repeated gratuitous ARP for every address we hold (switches forget; one may be lost).
  std::vector<VipEvent> announce();
  // Removes the addresses that take() added.
  std::vector<VipEvent> release();

  const std::vector<net::InterfaceAddress>& addresses() const { return addresses_; }
  const std::vector<net::InterfaceAddress>& added() const { return added_; }

 private:
  net::AddressManager& manager_;
  std::string ifname_;
  std::vector<net::InterfaceAddress> addresses_;
  std::vector<net::InterfaceAddress> added_;
  std::string ledger_path_;

  std::vector<VipEvent> save_ledger() const;
  std::vector<net::InterfaceAddress> read_ledger(std::vector<VipEvent>& out) const;
};

}  // namespace failoverd::daemon
