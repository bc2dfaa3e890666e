// The systemd notification protocol (sd_notify(3)) without libsystemd: one datagram to the
// unix socket named by $NOTIFY_SOCKET. Outside systemd it does nothing.
#pragma once

#include <string>

namespace failoverd::daemon {

// Sends e.g. "READY=1\nSTATUS=BACKUP". Returns false only when a socket is configured and the
// send failed.
bool sd_notify(const std::string& message);

}  // namespace failoverd::daemon
