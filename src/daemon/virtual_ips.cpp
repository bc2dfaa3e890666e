#include "failoverd/daemon/virtual_ips.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace failoverd::daemon {

VirtualIps::VirtualIps(net::AddressManager& manager, std::string ifname,
                       std::vector<net::InterfaceAddress> addresses, std::string ledger_path)
    : manager_(manager),
      ifname_(std::move(ifname)),
      addresses_(std::move(addresses)),
      ledger_path_(std::move(ledger_path)) {}

std::vector<net::InterfaceAddress> VirtualIps::read_ledger(std::vector<VipEvent>& out) const {
  std::vector<net::InterfaceAddress> found;
  if (ledger_path_.empty()) return found;
  std::ifstream in(ledger_path_);
  if (!in) return found;  // no previous run, or it added nothing
  std::string line;
  while (std::getline(in, line)) {
    const auto slash = line.find('/');
    const auto ip = util::Ipv4::parse(line.substr(0, slash));
    int len = 32;
    if (slash != std::string::npos) {
      std::istringstream(line.substr(slash + 1)) >> len;
    }
    if (!ip || len < 0 || len > 32) {
      out.push_back({false, "ignoring malformed line in " + ledger_path_ + ": " + line});
      continue;
    }
    found.push_back({*ip, static_cast<std::uint8_t>(len)});
  }
  return found;
}

std::vector<VipEvent> VirtualIps::clean_up_previous_run() {
  std::vector<VipEvent> out;
  for (const auto& a : read_ledger(out)) {
    if (auto r = manager_.remove(ifname_, a); !r) {
      out.push_back({false, r.error()});
      added_.push_back(a);  // still ours; release() tries again
    } else {
      out.push_back({true, "removed " + a.to_string() + " from " + ifname_ +
                               ", left by a previous run that did not shut down"});
    }
  }
  auto saved = save_ledger();
  out.insert(out.end(), saved.begin(), saved.end());
  return out;
}

std::vector<VipEvent> VirtualIps::adopt_previous_run() {
  std::vector<VipEvent> out;
  added_ = read_ledger(out);
  for (const auto& a : added_) {
    out.push_back({true, "kept " + a.to_string() + " on " + ifname_ + " across the restart"});
  }
  return out;
}

std::vector<VipEvent> VirtualIps::resume_previous_run() {
  std::vector<VipEvent> out;
  added_ = read_ledger(out);
  for (const auto& a : added_) {
    auto r = manager_.add(ifname_, a);
    if (!r) {
      out.push_back({false, r.error()});
    } else if (*r == net::AddOutcome::kAdded) {
      out.push_back({true, "added " + a.to_string() + " to " + ifname_ + " again: it was gone"});
    } else {
      out.push_back({true, "kept " + a.to_string() + " on " + ifname_ + " across the crash"});
    }
  }
  return out;
}

std::vector<VipEvent> VirtualIps::save_ledger() const {
  if (ledger_path_.empty()) return {};
  if (added_.empty()) {
    std::remove(ledger_path_.c_str());
    return {};
  }
  // Write then rename, so a crash never leaves half a ledger.
  const std::string tmp = ledger_path_ + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    for (const auto& a : added_) f << a.to_string() << '\n';
    if (!f.flush()) return {{false, "cannot write " + tmp}};
  }
  if (std::rename(tmp.c_str(), ledger_path_.c_str()) != 0) {
    return {{false, "cannot rename " + tmp + " to " + ledger_path_}};
  }
  return {};
}

std::vector<VipEvent> VirtualIps::take() {
  std::vector<VipEvent> out;
  for (const auto& a : addresses_) {
    const bool held = std::find(added_.begin(), added_.end(), a) != added_.end();
    if (held) continue;
    auto r = manager_.add(ifname_, a);
    if (!r) {
      out.push_back({false, r.error()});
      continue;
    }
    if (*r == net::AddOutcome::kAdded) {
      added_.push_back(a);
      out.push_back({true, "added " + a.to_string() + " to " + ifname_});
      auto saved = save_ledger();
      out.insert(out.end(), saved.begin(), saved.end());
    } else {
      out.push_back({true, a.to_string() + " was already on " + ifname_ +
                               "; using it, and leaving it there when no longer MASTER"});
    }
  }
  auto garp = announce();
  out.insert(out.end(), garp.begin(), garp.end());
  return out;
}

std::vector<VipEvent> VirtualIps::announce() {
  std::vector<VipEvent> out;
  for (const auto& a : addresses_) {
    if (auto r = manager_.announce(ifname_, a.address); !r) out.push_back({false, r.error()});
  }
  return out;
}

std::vector<VipEvent> VirtualIps::release() {
  std::vector<VipEvent> out;
  std::vector<net::InterfaceAddress> kept;
  for (const auto& a : added_) {
    if (auto r = manager_.remove(ifname_, a); !r) {
      out.push_back({false, r.error()});
      kept.push_back(a);  // still ours: try again next time
    } else {
      out.push_back({true, "removed " + a.to_string() + " from " + ifname_});
    }
  }
  added_ = std::move(kept);
  auto saved = save_ledger();
  out.insert(out.end(), saved.begin(), saved.end());
  return out;
}

}  // namespace failoverd::daemon
