// spdlog set-up: every line carries the instance name, as FRR prefixes "[VRID n]".
#pragma once

#include <memory>
#include <string>

#include <spdlog/logger.h>

namespace failoverd::daemon {

// Logs to stderr (the journal under systemd). The level comes from set_log_level.
std::shared_ptr<spdlog::logger> make_logger(const std::string& instance_name);

// "trace", "debug", "info", "warn", "error"; false for anything else.
bool set_log_level(const std::string& level);

}  // namespace failoverd::daemon
