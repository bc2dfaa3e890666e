// The systemd notification protocol (sd_notify(3)) without libsystemd: one datagram to the
// unix socket named by $NOTIFY_SOCKET. Outside systemd it does nothing.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace failoverd::daemon {

// Sends e.g. "READY=1\nSTATUS=BACKUP". Returns false only when a socket is configured and the
// send failed.
bool sd_notify(const std::string& message);

// The watchdog systemd asks for (WatchdogSec=): WATCHDOG_USEC, meant for us when WATCHDOG_PID
// is unset or names `self` (sd_watchdog_enabled(3)). nullopt when there is none, or when the
// values are not a positive number / a pid: a malformed variable must not make us ping.
std::optional<std::chrono::microseconds> watchdog_interval(const char* usec, const char* pid,
                                                           pid_t self);
// The same from this process's environment.
std::optional<std::chrono::microseconds> watchdog_interval();

}  // namespace failoverd::daemon
