#include "failoverd/daemon/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace failoverd::daemon {

namespace {
spdlog::level::level_enum g_level = spdlog::level::info;
}

std::shared_ptr<spdlog::logger> make_logger(const std::string& instance_name) {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(instance_name, sink);
  // Wall-clock time with milliseconds: the demo and the benchmarks read transition times
  // from these lines.
  logger->set_pattern("%Y-%m-%d %H:%M:%S.%f [%n] %l: %v");
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

bool set_log_level(const std::string& level) {
  const auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;
  g_level = parsed;
  return true;
}

}  // namespace failoverd::daemon
